"""The report's tables as (title, header, rows of str) from a ReportContent, shared by both renderers."""

from __future__ import annotations

import math

from uncertain_cost.money import format_usd
from uncertain_cost.reporting.answers import pct
from uncertain_cost.reporting.content import ReportContent

__all__ = ["headline_table", "growth_table", "comparison_table", "forecast_table", "assumptions_table",
           "backtest_table", "decomposition_table", "DECOMPOSITION_TEXT", "tornado_lines", "sobol_table",
           "voi_table", "voi_hint", "devcost_table",
           "scenario_table", "provenance_items", "GLOSSARY", "usd"]

GLOSSARY = (
    ("amortized", "The paper's headline: the share of the hardware's purchase price used up during the run "
     "(depreciated over its useful life), plus energy and cluster-level interconnect, for the chip-hours of "
     "the final run."),
    ("cloud", "What renting the same chip-hours from a cloud provider would have cost at list prices."),
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
        rows.append(row + ((str(g.get("headline", "")),) if flag else ()))
    return header, rows


def comparison_table(content: ReportContent):
    """``growth_comparison.csv`` as it is (its columns are its own)."""
    if not content.growth_comparison:
        return (), []
    header = tuple(content.growth_comparison[0])
    return header, [tuple(_cell(r.get(c)) for c in header) for r in content.growth_comparison]


def _cell(value) -> str:
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
    """``growth_backtest.csv``: realised maximum of each year against its leave-future-out predictive."""
    if not content.growth_backtest:
        return (), []
    header = ("year", "fitted through", "models fitted", "runs in year", "realised max",
              "predictive P5 / P50 / P95", "percentile")
    rows = [(str(r["year"]), str(r["fit_through"]), str(r["n_fitted"]), str(r["models_in_year"]),
             usd(r["realised_max_usd"]),
             f"{usd(r['predictive_p5_usd'])} / {usd(r['predictive_p50_usd'])} / {usd(r['predictive_p95_usd'])}",
             f"{float(r['predictive_percentile']):.2f}") for r in content.growth_backtest]
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


def voi_table(content: ReportContent):
    """``value_of_information.csv`` as it is."""
    if not content.value_of_information:
        return (), []
    header = tuple(content.value_of_information[0])
    return header, [tuple(_cell(r.get(c)) for c in header) for r in content.value_of_information]


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
