"""Read everything the report shows from a run, once, into plain rows (:class:`ReportContent`).

Every renderer (Markdown, HTML) takes a :class:`ReportContent` only, so the way a run stores
its results can change without touching them: only :func:`collect` reads the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

METHODS = ("amortized", "cloud", "acquisition")

__all__ = ["ReportContent", "collect", "METHODS"]


@dataclass(frozen=True)
class ReportContent:
    """What a report shows, as plain Python rows (dicts of str / int / float).

    Attributes
    ----------
    reference_month : str
        Dollars of this month ("2023-12"), for every cost.
    level : float
        Level of the per-model intervals (0.9 = central 90 %).
    provenance : dict
        ``seed``, ``n_draws``, ``data_snapshot``, ``config_path``, ``config_sha256``,
        ``package_version``.
    selection : dict
        The ``[selection]`` rule (method, top_n, start, end...) and ``finetunes``.
    counts : dict
        Method -> number of models costed.
    models : tuple of dict
        One row per (model, method): ``model``, ``method``, ``year`` (decimal), ``chip``,
        ``point``, ``median``, ``lo``, ``hi`` (USD), ``scenario`` when the run has scenarios and
        ``organization`` when the run records it.
    headline_models : tuple of str
        Models named in the headline table (sensitivity models, else the 6 costliest).
    growth, forecast, tornado, sobol, value_of_information, devcost : tuple of dict
        The rows of ``growth.csv``, ``forecast.csv``, ``tornado.csv``,
        ``sobol.csv``, ``value_of_information.csv``, ``devcost.csv`` (empty when not computed).
    growth_text, forecast_text : str
        Explanations written by the growth stage ("" when absent).
    forecast_sensitivity, growth_backtest : tuple of dict
        The rows of ``forecast_sensitivity.csv`` and ``growth_backtest.csv`` (empty when absent).
    growth_decomposition : tuple of dict
        The rows of ``growth_decomposition.csv`` (``[data] impute = "all"``; empty when absent).
    assumptions_text, backtest_text : str
        How much the forecast's assumptions (runs per year, tails) move P(> $1B), and what the
        leave-future-out backtest found ("" when absent).
    headline_fit : str
        ``"single"``: the fit of the amortized headline (the forecast's fit).
    voi_settings : dict
        Attributes of the value-of-information table (``draws``, ``chains``, ``mc_draws``, ``year``).
    growth_vs_paper, growth_robustness : tuple of dict
        The rows of ``growth_vs_paper.csv`` (why the headline differs from the paper's OLS) and
        ``growth_robustness.csv`` (leave-one-model-out and start-year checks); empty when absent.
    realised : tuple of dict
        The most expensive observed model of each year and method: ``method``, ``year``,
        ``model``, ``point``, ``median``.
    thresholds : tuple of float
        Dollar thresholds of the forecast (``prob_gt_*`` columns).
    notes : tuple of str
    figures : dict
        PNG file name -> PNG bytes of every static figure of the run (inlined by the HTML).
    png_written : bool
        Whether the PNG files are written beside the report (``[report] png``).
    """

    reference_month: str
    level: float
    provenance: dict
    selection: dict
    counts: dict
    models: tuple
    headline_models: tuple
    growth: tuple = ()
    growth_text: str = ""
    forecast: tuple = ()
    forecast_text: str = ""
    realised: tuple = ()
    thresholds: tuple = ()
    tornado: tuple = ()
    sobol: tuple = ()
    value_of_information: tuple = ()
    devcost: tuple = ()
    notes: tuple = ()
    figures: dict = field(default_factory=dict)
    png_written: bool = True
    forecast_sensitivity: tuple = ()
    growth_backtest: tuple = ()
    growth_decomposition: tuple = ()
    assumptions_text: str = ""
    backtest_text: str = ""
    headline_fit: str = "single"
    voi_settings: dict = field(default_factory=dict)
    growth_vs_paper: tuple = ()
    growth_robustness: tuple = ()

    def methods(self) -> tuple:
        """Cost methods with at least one model, in the paper's order."""
        present = {r["method"] for r in self.models}
        return tuple(m for m in METHODS if m in present)

    def scenarios(self) -> tuple:
        """Scenario names of the models' rows, in order of appearance (empty without scenarios)."""
        return tuple(dict.fromkeys(r["scenario"] for r in self.models if r.get("scenario") not in (None, "")))


def _rows(result, name: str) -> tuple:
    if not result.has_table(name):
        return ()
    return tuple(dict(r) for r in result.records(name)[0])


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _realised(models: tuple) -> tuple:
    best: dict = {}
    for r in models:
        if r.get("scenario") not in (None, "") or not math.isfinite(r["point"]):
            continue
        key = (r["method"], int(math.floor(r["year"])))
        if key not in best or r["point"] > best[key]["point"]:
            best[key] = {"method": key[0], "year": key[1], "model": r["model"], "point": r["point"],
                         "median": r["median"]}
    return tuple(best[k] for k in sorted(best, key=lambda k: (METHODS.index(k[0]) if k[0] in METHODS else 9, k[1])))


def _growth_text(rows: tuple) -> str:
    """Say in words what the growth table says: the headline Bayesian fit beside the paper's OLS."""
    amortized = [r for r in rows if r["method"] == "amortized"]
    fit = next((r for r in amortized if r.get("headline") is True), None)
    fit = fit or next((r for r in amortized if r["estimator"] == "bayes"), None)
    paper = next((r for r in amortized if r["estimator"] == "ols"), None)
    if fit is None or paper is None:
        return ""
    kind = "single-method"
    text = (
        f"Amortized cost of frontier runs grows {fit['growth_per_year']:.2f}x per year "
        f"({fit['lo']:.2f}-{fit['hi']:.2f}, {fit['level']:.0%} posterior interval) in the headline {kind} "
        f"hierarchical Bayesian fit, which sees each model's Monte Carlo uncertainty (inputs shared by all models "
        f"move the level of every cost together, not the slope) and a robust Student-t scatter; the paper's OLS on "
        f"point estimates gives {paper['growth_per_year']:.2f}x ({paper['lo']:.2f}-{paper['hi']:.2f}). "
        f"Diagnostics: R-hat max {fit['r_hat_max']}, bulk ESS min {fit['ess_bulk_min']}, "
        f"{fit['divergences']} divergences.")
    others = [r for r in rows if r["estimator"].startswith("bayes") and r is not fit and r["method"] == "amortized"]
    if others:
        text += (" The other fit: " if len(others) == 1 else " The other fits: ") + ", ".join(
            f"{r['estimator']} {r['growth_per_year']:.2f}x ({r['lo']:.2f}-{r['hi']:.2f})" for r in others) + "."
    return text


def _forecast_text(result) -> str:
    """Say in words how the forecast table was made: runs per year, which fit, what is drawn."""
    if not result.has_table("forecast"):
        return ""
    attrs = result.tree["tables/forecast"].attrs
    runs = attrs.get("models_per_year")
    if runs == "poisson":
        growth = float(attrs.get("runs_rate_growth_per_year", float("nan")))
        counted = (f"a Poisson number of frontier runs, its rate a log-linear trend fitted to the observed "
                   f"frontier models per calendar year ({attrs.get('runs_observed', '')}; the rate grows "
                   f"{growth:.2f}x per year; expected runs {attrs.get('runs_expected', '')}), one rate and one "
                   "count per posterior draw (a year with no run has no maximum and exceeds no threshold)")
    elif runs is not None:
        counted = f"{runs} frontier runs (fixed by the configuration)"
    else:
        counted = "k frontier runs"
    fits = attrs.get("forecast_fits", "")
    return (
        f"For each year, the cost of the most expensive of {counted}, each drawn from the fitted trend plus "
        "the model-to-model Student-t scatter, over the posterior: a posterior predictive distribution of the "
        "year's maximum, not of the trend line. "
        + (f"Each method is forecast from its headline fit ({fits}). " if fits else "")
        + (f"The leave-future-out backtest chose the forecast model of each method ({attrs['forecast_models']}; "
           "constant: the headline fit; constant_normal: the same line with normal scatter; hinge, scatter_trend: "
           "a bend in the trend, a scatter changing with time). " if attrs.get("forecast_models") else "")
        + (f"Tails: the Student-t degrees of freedom nu of the amortized fit have prior {attrs['nu_prior']} and "
           f"posterior {attrs['nu_posterior']}. " if attrs.get("nu_prior") else "")
        + "A run is the same run in every method (shared publication time and scatter quantile). "
        "P(> $X) is the posterior probability that at least one run that year costs more than $X (in dollars "
        "of the reference month). The trend line is the median (geometric mean) cost of a model of the year.")


def _headline_fit(growth: tuple) -> str:
    row = next((r for r in growth if r["method"] == "amortized" and r.get("headline") is True), None)
    return "single" if row is None or row["estimator"] in ("bayes", "bayes_single") else "joint"


def _assumptions_text(sensitivity: tuple, fit: str) -> str:
    """Say how much the runs-per-year and tail assumptions move P(> $1B) (amortized, headline fit)."""
    rows = [r for r in sensitivity if r["method"] == "amortized" and r["fit"] == fit]
    if not rows:
        return ""
    cell = {(str(r["models_per_year"]), str(r["nu"])): float(r["prob_gt_1e9"]) for r in rows}
    year = int(rows[0]["year"])
    runs = [k for k in dict.fromkeys(str(r["models_per_year"]) for r in rows)]
    main = "poisson" if ("poisson", "posterior") in cell else runs[-1]
    fixed = [k for k in runs if k != "poisson"]
    by_runs = [cell[(k, "posterior")] for k in runs if (k, "posterior") in cell]
    tails = [cell[(main, nu)] for nu in ("3.0", "30.0") if (main, nu) in cell]
    text = (f"Forecast assumptions ({fit} fit, amortized, {year}): P(most expensive run > $1B) is "
            f"{cell.get((main, 'posterior'), float('nan')):.2f} with "
            + ("the Poisson runs-per-year model" if main == "poisson" else f"{main} runs a year")
            + " and the posterior's Student-t tails; with the runs per year fixed at "
            + ", ".join(f"{k}: {cell[(k, 'posterior')]:.2f}" for k in fixed if (k, "posterior") in cell))
    if len(tails) == 2:
        text += f"; with the tails fixed at nu = 3: {tails[0]:.2f}, at nu = 30: {tails[1]:.2f}"
    text += (f". The runs-per-year assumption moves it over {max(by_runs) - min(by_runs):.2f}"
             + (f", the tails over {abs(tails[0] - tails[1]):.2f}" if len(tails) == 2 else "")
             + " (forecast_sensitivity.csv).")
    return text


def _backtest_text(backtest: tuple) -> str:
    """Say what the leave-future-out backtest found: the chosen forecast model against OLS-normal."""
    from uncertain_cost.growth.backtest import beats_baseline, choose_forecast_model

    if not backtest:
        return ""
    methods = list(dict.fromkeys(str(r["method"]) for r in backtest))
    origins = sorted({int(r["origin"]) for r in backtest})
    parts = []
    for m in methods:
        chosen = choose_forecast_model(backtest, m)
        cmp = beats_baseline(backtest, m, chosen)
        verdict = "beats" if cmp["beats"] else "does not beat"
        parts.append(f"{m}: {chosen} ({verdict} OLS-normal at horizons >= 2 over {cmp['n']} origin-horizon pairs: "
                     f"log score {cmp['log_score_diff']:+.2f}, CRPS {cmp['crps_diff']:+.2f} dex)")
    pit = [float(r["pit"]) for r in backtest if r["model"] != "ols_normal"]
    inside = sum(0.05 <= p <= 0.95 for p in pit)
    return (f"Leave-future-out backtest: each forecast model fitted on the models published up to an origin year "
            f"({origins[0]}-{origins[-1]}) predicts the most expensive observed cost 1-4 years later (as many runs as "
            f"were observed), scored by log score and CRPS against the paper's OLS with normal errors. Forecast "
            f"model per method (the headline fit unless a candidate's mean log score is more than 2 SE higher): "
            f"{'; '.join(parts)}. {inside} of {len(pit)} "
            "realised maxima fall inside the candidates' 90% predictive intervals. Origins overlap and the "
            "horizons share their realised years, so the scores are not independent (growth_backtest.csv).")


def _organizations(result) -> dict:
    """Model -> developer organisation, from the run's ``figure_data/models`` (empty when absent)."""
    ds = result.group("figure_data/models")
    if ds is None or "organization" not in ds or "model" not in ds["organization"].dims:
        return {}
    names = [str(m) for m in ds["model"].values]
    # with scenarios the array has a scenario dimension too: a model's first non-empty entry
    rows = ds["organization"].transpose("model", ...).values.reshape(len(names), -1)
    return {m: next((str(v) for v in row if str(v) not in ("", "nan", "None")), "")
            for m, row in zip(names, rows, strict=True)}


def _table_attrs(result, name: str) -> dict:
    if not result.has_table(name):
        return {}
    return dict(result.tree[f"tables/{name}"].attrs)


def collect(result) -> ReportContent:
    """Read a run's result into a :class:`ReportContent` (the only place the report reads the run).

    Parameters
    ----------
    result : uncertain_cost.result.RunResult
        The run: its tree (tables, provenance), notes, figures and config.

    Returns
    -------
    ReportContent
    """
    from uncertain_cost.results import method_counts

    config = result.config
    prov = result.provenance
    summary = result.records("summary")[0]
    organizations = _organizations(result)
    models = []
    for r in summary:
        row = {"model": r["model"], "method": r["method"], "year": _number(r["publication_year"]),
               "chip": str(r.get("chip") or ""), "point": _number(r["point_usd"]),
               "median": _number(r["median_usd"]), "lo": _number(r.get("p5_usd", r.get("lo_usd"))),
               "hi": _number(r.get("p95_usd", r.get("hi_usd")))}
        if "scenario" in r:
            row["scenario"] = r["scenario"]
        if r["model"] in organizations:
            row["organization"] = organizations[r["model"]]
        models.append(row)
    models = tuple(models)
    level = _number(summary[0].get("level", config.run.credible_level)) if summary else config.run.credible_level
    wanted = tuple(config.stages.sensitivity.models)
    headline = tuple(m for m in dict.fromkeys(r["model"] for r in models) if m in wanted)
    if not headline:
        costliest = sorted((r for r in models if r["method"] == "amortized" and math.isfinite(r["point"])),
                           key=lambda r: -r["point"])
        headline = tuple(dict.fromkeys(r["model"] for r in costliest))[:6]
    thresholds = tuple(config.stages.growth.thresholds_usd or ())
    flags = config.section("report")
    selection = {**config.section("selection"), "finetunes": config.run.finetunes}
    growth = _rows(result, "growth")
    sensitivity, backtest = _rows(result, "forecast_sensitivity"), _rows(result, "growth_backtest")
    fit = _headline_fit(growth)
    return ReportContent(
        reference_month=prov["reference_month"], level=float(level),
        provenance={key: prov[key] for key in ("seed", "n_draws", "data_snapshot", "config_path", "config_sha256",
                                               "package_version")},
        selection=selection, counts=method_counts(summary), models=models, headline_models=headline,
        growth=growth,
        growth_text=_growth_text(growth), forecast=_rows(result, "forecast"),
        forecast_text=_forecast_text(result), realised=_realised(models),
        thresholds=thresholds, tornado=_rows(result, "tornado"), sobol=_rows(result, "sobol"),
        value_of_information=_rows(result, "value_of_information"), devcost=_rows(result, "devcost"),
        notes=tuple(result.notes), figures={name: result.png(name) for name in result.figures},
        png_written=bool(flags.get("png", True)), forecast_sensitivity=sensitivity, growth_backtest=backtest,
        growth_decomposition=_rows(result, "growth_decomposition"),
        assumptions_text=_assumptions_text(sensitivity, fit), backtest_text=_backtest_text(backtest),
        headline_fit=fit, voi_settings=_table_attrs(result, "value_of_information"),
        growth_vs_paper=_rows(result, "growth_vs_paper"), growth_robustness=_rows(result, "growth_robustness"))
