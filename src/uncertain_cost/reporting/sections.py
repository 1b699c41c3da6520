"""The report's tables as (title, header, rows of str) from a ReportContent, shared by both renderers."""

from __future__ import annotations

import math

import numpy as np

from uncertain_cost.money import format_usd
from uncertain_cost.reporting.answers import pct
from uncertain_cost.reporting.content import ReportContent

__all__ = ["headline_table", "growth_table", "growth_checks", "forecast_table", "assumptions_table",
           "backtest_table", "decomposition_table", "DECOMPOSITION_TEXT", "tornado_lines", "tornado_split",
           "sobol_table", "voi_table", "voi_note", "voi_hint", "devcost_table", "scenario_table",
           "provenance_items", "GLOSSARY", "usd"]

GLOSSARY = (
    ("amortized", "The paper's headline: the share of the hardware's purchase price used up during the run "
     "(depreciated over its useful life), plus energy and cluster-level interconnect, for the chip-hours of "
     "the final run."),
    ("cloud", "What renting the same chip-hours from a cloud provider would have cost at 3-year committed-use "
     "prices (the list price less the provider's 3-year commitment discount)."),
    ("acquisition", "The up-front price of buying the whole cluster the run used: an upper-bound view of the "
     "capital a developer commits, not a per-run cost."),
)


def usd(value) -> str:
    """Dollars for a table cell ("–" when missing)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    return format_usd(value) if math.isfinite(value) else "–"


def _interval(lo, hi) -> str:
    return f"{usd(lo)} – {usd(hi)}"


def headline_table(content: ReportContent):
    """Headline models, every method: point, median and interval."""
    level = pct(content.level)
    rows = [(r["model"], r["method"], r["chip"], usd(r["point"]), usd(r["median"]), _interval(r["lo"], r["hi"]))
            for r in content.models if r["model"] in content.headline_models and not r.get("scenario")]
    return ("model", "method", "chip", "point", "median", f"{level} interval"), rows


def growth_table(content: ReportContent):
    """Every growth row (the ``headline`` column shown when present)."""
    flag = any("headline" in r for r in content.growth)
    header = ("method", "estimator", "N", "growth / year", "interval", "doubling (months)") + (
        ("headline",) if flag else ())
    rows = []
    for g in content.growth:
        row = (g["method"], g["estimator"], str(g["n_models"]), f"{float(g['growth_per_year']):.2f}x",
               f"{float(g['lo']):.2f}x – {float(g['hi']):.2f}x ({pct(float(g['level']))})",
               f"{float(g['doubling_months']):.1f}")
        rows.append(row + ((_cell(g.get("headline", "")),) if flag else ()))
    return header, rows


def growth_checks(content: ReportContent) -> list[tuple[str, str, tuple]]:
    """Why the headline differs from the paper, and how robust it is: ``(title, text, (header, rows))`` each.

    From ``growth_vs_paper.csv`` and ``growth_robustness.csv`` (amortized); empty without them.
    """
    def ratio(r):
        try:
            value = float(r.get("change_vs_previous"))
        except (TypeError, ValueError):
            return None
        return value if math.isfinite(value) and value > 0 else None

    out = []
    steps = [r for r in content.growth_vs_paper if r["method"] == "amortized"]
    if steps:
        moved = [r for r in steps if ratio(r) is not None]
        big = max(moved, key=lambda r: abs(math.log(ratio(r))), default=None)
        text = (f"From the paper's OLS ({float(steps[0]['growth_per_year']):.2f}x per year) to the headline "
                f"({float(steps[-1]['growth_per_year']):.2f}x), one change at a time (amortized, growth_vs_paper.csv)"
                + (f"; the largest step is {big['estimator']} (x{float(big['change_vs_previous']):.3f}): weighting "
                   "each model by its Monte Carlo uncertainty down-weights the poorly measured (mostly TPU) models"
                   if big is not None else "") + ".")
        rows = [(str(r["step"]), str(r["estimator"]), str(r["description"]), f"{float(r['growth_per_year']):.2f}x",
                 "" if ratio(r) is None else f"x{ratio(r):.3f}")
                for r in steps]
        out.append(("Why the headline differs from the paper", text,
                    (("step", "estimator", "what changes", "growth / year", "vs previous"), rows)))
    checks = [r for r in content.growth_robustness if r["method"] == "amortized"]
    if checks:
        loo = [r for r in checks if r["check"] == "leave_one_out"]
        years = [r for r in checks if r["check"] == "start_year"]
        inputs = [r for r in checks if r["check"] not in ("headline", "leave_one_out", "start_year")]
        parts = ([f"without {r['label']} {float(r['growth_per_year']):.2f}x" for r in loo[:3]]
                 + [f"{r['label']} {float(r['growth_per_year']):.2f}x" for r in years + inputs])
        text = ("How much the amortized headline rests on single models, on the start year and on input "
                "assumptions (growth_robustness.csv): " + "; ".join(parts)
                + ". Leave-one-out and inputs (the Monte Carlo re-run) by Pareto-smoothed importance sampling of "
                "the fit (exact refit where Pareto k > 0.7); start years by refitting.")
        rows = [(str(r["check"]), str(r["label"]), str(r["n_models"]),
                 f"{float(r['growth_per_year']):.2f}x ({float(r['lo']):.2f}-{float(r['hi']):.2f})",
                 f"x{float(r['change_vs_headline']):.3f}", _cell(r.get("pareto_k")),
                 _cell(r.get("gls_growth_per_year"))) for r in checks]
        out.append(("Robustness of the headline", text,
                    (("check", "label", "N", "growth / year", "vs headline", "Pareto k", "GLS growth"), rows)))
    return out


def _cell(value) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if str(value) in ("True", "False"):
        return "yes" if str(value) == "True" else "no"
    if isinstance(value, float):
        return f"{value:.3g}" if math.isfinite(value) else "–"
    return str(value)


def forecast_table(content: ReportContent):
    """Forecast rows with a method column, preceded by the realised (observed) maximum of past years."""
    keys = [k for k in (content.forecast[0] if content.forecast else {}) if k.startswith("prob_gt_")]
    header = ("method", "year", "kind", "median", "90% predictive interval") + tuple(
        f"P(> {usd(float(k[8:]))})" for k in keys)
    rows = []
    methods = list(dict.fromkeys(r["method"] for r in content.forecast))
    for method in methods:
        first = min(int(r["year"]) for r in content.forecast if r["method"] == method)
        for r in content.realised:
            if r["method"] == method and first - 4 <= r["year"] < first:
                rows.append((method, str(r["year"]), f"observed: {r['model']} (point)", usd(r["point"]), "",
                             *("" for _ in keys)))
        for r in content.forecast:
            if r["method"] == method:
                rows.append((method, str(int(r["year"])), "forecast", usd(r.get("p50")),
                             _interval(r.get("p5"), r.get("p95")), *(f"{float(r[k]):.0%}" for k in keys)))
    return header, rows


def assumptions_table(content: ReportContent):
    """P(> $1B) and the P95 of the amortized maximum over runs per year x Student-t tails (the headline fit)."""
    rows = [r for r in content.forecast_sensitivity
            if r["method"] == "amortized" and r["fit"] == content.headline_fit]
    if not rows:
        return (), []
    nus = list(dict.fromkeys(str(r["nu"]) for r in rows))
    cell = {(str(r["models_per_year"]), str(r["nu"])): r for r in rows}
    header = ("runs per year", *(f"nu = {nu}: P(> $1B), P95" for nu in nus))
    out = []
    for k in dict.fromkeys(str(r["models_per_year"]) for r in rows):
        label = "Poisson trend (forecast)" if k == "poisson" else f"{k} (fixed)"
        out.append((label, *(f"{float(cell[(k, nu)]['prob_gt_1e9']):.2f}, {usd(cell[(k, nu)]['p95'])}"
                             if (k, nu) in cell else "–" for nu in nus)))
    return header, out


def backtest_table(content: ReportContent):
    """``growth_backtest.csv`` summarised: mean log score, CRPS and PIT coverage per model and horizon (amortized)."""
    from uncertain_cost.growth.backtest import backtest_summary

    if not content.growth_backtest:
        return (), []
    method = "amortized" if any(r["method"] == "amortized" for r in content.growth_backtest) else \
        content.growth_backtest[0]["method"]
    header = (f"model ({method})", "horizon (years)", "origins", "mean log score", "mean CRPS (dex)", "PIT in 90%")
    rows = [(r["model"], str(r["horizon"]), str(r["n"]), f"{r['log_score']:.2f}", f"{r['crps']:.2f}",
             f"{r['pit_in_90']:.2f}") for r in backtest_summary(content.growth_backtest) if r["method"] == method]
    return header, rows


def decomposition_table(content: ReportContent):
    """``growth_decomposition.csv``: cost growth = compute growth x price-of-compute growth, per method."""
    if not content.growth_decomposition:
        return (), []
    header = ("method", "component", "models", "growth per year", "interval")
    rows = [(str(r["method"]), str(r["component"]).replace("_", " "), str(r["n_models"]),
             f"{float(r['growth_per_year']):.2f}x", f"{float(r['lo']):.2f}-{float(r['hi']):.2f}x")
            for r in content.growth_decomposition]
    return header, rows


DECOMPOSITION_TEXT = ("Cost trend = training-compute trend x price-of-compute trend (dollars per FLOP at the "
                      "utilization achieved), from the same draws: in each draw the models are resampled and "
                      "the three slopes taken on the same resample, so the parts multiply to the cost trend "
                      "(`compute x price`); training compute at its stated value (`growth_decomposition.csv`).")


def tornado_lines(content: ReportContent, top: int = 3) -> list[tuple[str, str]]:
    """Per target: the ``top`` inputs with the largest swing and the outputs at their low and high ends."""
    lines = []
    for target in dict.fromkeys(r["target"] for r in content.tornado):
        chosen = [r for r in content.tornado if r["target"] == target][:top]
        lines.append((target, "; ".join(
            f"{r['input']} ({_value(r['output_low'], r['units'])} to {_value(r['output_high'], r['units'])})"
            for r in chosen)))
    return lines


def _value(value, units: str) -> str:
    return usd(value) if str(units).startswith("USD") else _cell(float(value))


def sobol_table(content: ReportContent, top: int = 5):
    """Largest total-order Sobol indices per target."""
    rows = []
    for target in dict.fromkeys(r["target"] for r in content.sobol):
        chosen = sorted((r for r in content.sobol if r["target"] == target), key=lambda r: -float(r["st"]))[:top]
        rows += [(target, r["input"], f"{float(r['s1']):.2f}", f"{float(r['st']):.2f}") for r in chosen]
    return ("target", "input", "first order S1", "total order ST"), rows


def tornado_split(content: ReportContent, share: float = 0.1) -> list[tuple[str, tuple, list, list]]:
    """Per tornado target: the inputs that matter and the rest (for a collapsed display).

    Parameters
    ----------
    content : ReportContent
    share : float, default 0.1
        An input matters when its swing is at least this share of the target's largest swing.

    Returns
    -------
    list of (str, tuple, list, list)
        ``(target, header, rows that matter, other rows)``; rows are tuples of str (input, output
        at the input's low end, at its high end, swing), largest swing first.
    """
    def swing(r: dict) -> float:
        return abs(float(r["swing"])) if "swing" in r else abs(float(r["output_high"]) - float(r["output_low"]))

    out = []
    for target in dict.fromkeys(r["target"] for r in content.tornado):
        rows = sorted((r for r in content.tornado if r["target"] == target), key=lambda r: -swing(r))
        largest = swing(rows[0]) if rows else 0.0
        units = str(rows[0].get("units", "")) if rows else ""
        cells = [(r["input"], _value(r["output_low"], units), _value(r["output_high"], units),
                  _value(swing(r) if swing(r) > 1e-9 * largest else 0.0, units)) for r in rows]  # rounding: 0
        cut = [largest > 0 and swing(r) >= share * largest for r in rows]
        header = ("input", "output at input's P5", "output at input's P95", f"swing ({units})")
        out.append((target, header, [c for c, keep in zip(cells, cut, strict=True) if keep],
                    [c for c, keep in zip(cells, cut, strict=True) if not keep]))
    return out


def _voi_keys(row: dict) -> tuple[str | None, str | None]:
    prob = next((k for k in row if k.startswith("p_gt_") and not k.endswith("_change")), None)
    change = next((k for k in row if k.startswith("p_gt_") and k.endswith("_change")), None)
    return prob, change


def _voi_noise(content: ReportContent) -> tuple[float, float] | None:
    """Two approximate standard errors of the sd reduction and of the probability change (None unknown)."""
    settings = content.voi_settings
    try:
        n = int(settings["draws"]) * int(settings["chains"])
    except (KeyError, TypeError, ValueError):
        return None
    rows = content.value_of_information
    prob, _ = _voi_keys(rows[0])
    p = float(rows[0][prob]) if prob else 0.5
    # sd estimated from n draws: relative s.e. 1/sqrt(2n); a difference of two such estimates: 1/sqrt(n)
    return 2.0 / math.sqrt(n), 2.0 * math.sqrt(2.0 * p * (1.0 - p) / n)


def voi_table(content: ReportContent):
    """Value of information per input, each figure with its approximate sampling noise (2 s.e.)."""
    rows = content.value_of_information
    if not rows:
        return (), []
    prob, change = _voi_keys(rows[0])
    noise = _voi_noise(content)
    sd_pm = f" ± {100 * noise[0]:.1f}" if noise else ""
    p_pm = f" ± {100 * noise[1]:.1f}" if noise else ""
    year = content.voi_settings.get("year", "")
    header = ("input held at its central value", "slope posterior sd", "sd reduction (%)",
              f"P(> $1B in {year})".replace(" in )", ")"), "change (percentage points)")
    out = []
    for r in rows:
        out.append((str(r["input"]), f"{float(r['slope_sd']):.4f}",
                    f"{_signed(100 * float(r['slope_sd_reduction']))}{sd_pm}" if r is not rows[0] else "–",
                    f"{float(r[prob]):.1%}" if prob else "–",
                    f"{_signed(100 * float(r[change]))}{p_pm}" if change and r is not rows[0] else "–"))
    return header, out


def _signed(value: float) -> str:
    """One decimal with its sign; "0.0" for what rounds to zero (never "-0.0")."""
    return "0.0" if round(value, 1) == 0 else f"{value:+.1f}"


def voi_note(content: ReportContent) -> str:
    """How to read the value-of-information figures: their noise, and what a negative reduction means."""
    if not content.value_of_information:
        return ""
    noise = _voi_noise(content)
    s = content.voi_settings
    floor = -noise[0] if noise else 0.0  # negative beyond the sampling noise
    negative = [r["input"] for r in content.value_of_information[1:] if float(r["slope_sd_reduction"]) < floor]
    rows = content.value_of_information[1:]
    refit = [r["input"] for r in rows if r.get("method", "refit") == "refit"]
    fits = (f"{s.get('chains', '?')} chains x {s.get('draws', '?')} draws per fit, "
            f"{s.get('mc_draws', '?')} Monte Carlo draws")
    if len(refit) == len(rows):
        text = f"Each row refits the growth model with one input held at its central value ({fits}). "
    else:
        text = (f"Each row reweights the full-uncertainty posterior ({fits}) to the costs with one input held at "
                "its central value, by Pareto-smoothed importance sampling"
                + (f"; {', '.join(refit)} refitted (Pareto k above {s.get('pareto_k_max', 0.7)})" if refit else "")
                + ". ")
    if noise:
        text += (f"The ± is about two standard errors of sampling noise (sd reduction ± {100 * noise[0]:.1f} %, "
                 f"probability ± {100 * noise[1]:.1f} points), computed assuming an effective sample size equal "
                 "to chains x draws, so it is a lower bound: a figure inside its ± is indistinguishable from "
                 "zero. ")
    if negative:
        text += (f"A negative reduction beyond the noise ({', '.join(negative)}) means the posterior came out "
                 "wider with the input known: "
                 "holding an input at its centre also moves the costs the fit sees, not only their spread, so "
                 "these figures rank inputs roughly rather than measure exactly what learning an input is worth.")
    return text


#: what the report says when the value-of-information table was not computed
VOI_HINT = ("Value of information (how much the growth rate's posterior and the 2027 forecast narrow if each "
            "input were known exactly) is off by default, as it reruns the Monte Carlo and one Bayesian fit per "
            "input (minutes): set value_of_information = true in [sensitivity] (voi_draws and voi_tune shorten "
            "the fits).")


def voi_hint(content: ReportContent) -> str:
    """How to get ``value_of_information.csv`` when the run has none ("" when it has)."""
    return "" if content.value_of_information else VOI_HINT


def devcost_table(content: ReportContent):
    """Development cost: staff and total per model."""
    rows = [(r["model"], r["component"], usd(r["median_usd"]), _interval(r["p5_usd"], r["p95_usd"]),
             f"{float(r['share_median']):.0%}") for r in content.devcost if r["component"] in ("staff", "total")]
    return ("model", "component", "median", "90% interval", "share of median"), rows


def scenario_table(content: ReportContent):
    """Headline models side by side, one column per scenario (amortized medians and intervals)."""
    scenarios = content.scenarios()
    if not scenarios:
        return (), []
    cells = {(r["model"], r["scenario"]): r for r in content.models if r["method"] == "amortized"}
    models = [m for m in content.headline_models if any((m, s) in cells for s in scenarios)]
    rows = []
    for m in models:
        row = [m]
        for s in scenarios:
            r = cells.get((m, s))
            row.append(f"{usd(r['median'])} ({_interval(r['lo'], r['hi'])})" if r else "–")
        rows.append(tuple(row))
    return ("model", *scenarios), rows


def provenance_items(content: ReportContent) -> list[tuple[str, str]]:
    """List "method and data": snapshot, selection rule, reference month, draws, seed, config hash."""
    p, s = content.provenance, content.selection
    rule = ", ".join(f"{k} = {v}" for k, v in s.items() if k != "finetunes") or "the default (running top 10)"
    return [
        ("data snapshot", str(p["data_snapshot"])),
        ("selection rule", f"{rule}; fine-tunes: {s.get('finetunes')}"),
        ("models costed", ", ".join(f"{m} {n}" for m, n in content.counts.items()) or "–"),
        ("reference month", f"USD of {content.reference_month} (PPI deflator PCU518210518210)"),
        ("Monte Carlo draws", f"{int(p['n_draws']):,}"),
        ("seed", str(p["seed"])),
        ("config", f"{p['config_path']} (SHA-256 {p['config_sha256']})"),
        ("package", f"uncertain_cost {p['package_version']}"),
        ("intervals", f"central {pct(content.level)} of the Monte Carlo draws; inputs shared across models "
                      "move together within a draw; point estimates use every input at its central value"),
    ]
