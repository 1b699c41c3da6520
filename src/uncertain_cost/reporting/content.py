"""Read everything the report shows from a run, once, into plain rows (:class:`ReportContent`).

Every renderer (Markdown, HTML) takes a :class:`ReportContent` only, so the way a run stores
its results can change without touching them: only :func:`collect` reads the run.
"""

from __future__ import annotations

import io
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
        ``point``, ``median``, ``lo``, ``hi`` (USD), and ``scenario`` when the run has scenarios.
    headline_models : tuple of str
        Models named in the headline table (sensitivity models, else the 6 costliest).
    growth, growth_comparison, forecast, tornado, sobol, value_of_information, devcost : tuple of dict
        The rows of ``growth.csv``, ``growth_comparison.csv``, ``forecast.csv``, ``tornado.csv``,
        ``sobol.csv``, ``value_of_information.csv``, ``devcost.csv`` (empty when not computed).
    growth_text, forecast_text : str
        Explanations written by the growth stage ("" when absent).
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
    growth_comparison: tuple = ()
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


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


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


def _growth_text(rows: tuple, comparison: tuple = ()) -> str:
    """Say in words what the growth table says: the headline Bayesian fit, why it leads, beside the paper's OLS."""
    amortized = [r for r in rows if r["method"] == "amortized"]
    fit = next((r for r in amortized if r.get("headline") is True), None)
    fit = fit or next((r for r in amortized if r["estimator"] == "bayes"), None)
    paper = next((r for r in amortized if r["estimator"] == "ols"), None)
    if fit is None or paper is None:
        return ""
    kind = {"bayes_single": "single-method",
            "bayes_repaired": "repaired joint (chip-age and chip-type terms in the method contrasts)"}.get(
        fit["estimator"], "joint (all methods pooled)")
    text = (
        f"Amortized cost of frontier runs grows {fit['growth_per_year']:.2f}x per year "
        f"({fit['lo']:.2f}-{fit['hi']:.2f}, {fit['level']:.0%} posterior interval) in the headline {kind} "
        f"hierarchical Bayesian fit, which sees each model's Monte Carlo uncertainty (inputs shared by all models "
        f"move the level of every cost together, not the slope) and a robust Student-t scatter; the paper's OLS on "
        f"point estimates gives {paper['growth_per_year']:.2f}x ({paper['lo']:.2f}-{paper['hi']:.2f}). "
        f"Diagnostics: R-hat max {fit['r_hat_max']}, bulk ESS min {fit['ess_bulk_min']}, "
        f"{fit['divergences']} divergences.")
    ranked = sorted((c for c in comparison if c.get("method") == "amortized"), key=lambda c: c["rank"])
    if len(ranked) >= 2:
        best = ranked[0]
        chosen = next((c for c in ranked if c.get("headline") is True), best)
        other = ranked[1] if chosen is best else chosen  # the headline beside the best-scoring candidate
        text += (
            f" Why this model: by PSIS-LOO on the amortized costs, {best['model']} scores elpd "
            f"{best['elpd_loo']:.1f} and {other['model']} {other['elpd_loo']:.1f} (difference "
            f"{abs(best['elpd_loo'] - other['elpd_loo']):.2f}, SE {other.get('dse', float('nan')):.2f}); a difference "
            "within 2 SE goes to the simpler single-method fit (growth_comparison.csv, docs/growth.md).")
    others = [r for r in rows if r["estimator"] in ("bayes", "bayes_single", "bayes_repaired") and r is not fit
              and r["method"] == "amortized"]
    if others:
        text += (" The other fit: " if len(others) == 1 else " The other fits: ") + ", ".join(
            f"{r['estimator']} {r['growth_per_year']:.2f}x ({r['lo']:.2f}-{r['hi']:.2f})" for r in others) + "."
    return text


def _forecast_text(result) -> str:
    """Say in words how the forecast table was made."""
    if not result.has_table("forecast"):
        return ""
    runs = result.tree["tables/forecast"].attrs.get("models_per_year")
    return (
        f"For each year, the cost of the most expensive of {runs} frontier runs "
        "(the median number of frontier models per observed year), each drawn from the fitted trend plus "
        "the model-to-model scatter, over the posterior: a posterior predictive distribution of the "
        "year's maximum, not of the trend line. P(> $X) is the posterior probability that at least one "
        "run that year costs more than $X (in dollars of the reference month).")


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
    models = []
    for r in summary:
        row = {"model": r["model"], "method": r["method"], "year": _number(r["publication_year"]),
               "chip": str(r.get("chip") or ""), "point": _number(r["point_usd"]),
               "median": _number(r["median_usd"]), "lo": _number(r.get("p5_usd", r.get("lo_usd"))),
               "hi": _number(r.get("p95_usd", r.get("hi_usd")))}
        if "scenario" in r:
            row["scenario"] = r["scenario"]
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
    return ReportContent(
        reference_month=prov["reference_month"], level=float(level),
        provenance={key: prov[key] for key in ("seed", "n_draws", "data_snapshot", "config_path", "config_sha256",
                                               "package_version")},
        selection=selection, counts=method_counts(summary), models=models, headline_models=headline,
        growth=growth, growth_comparison=_rows(result, "growth_comparison"),
        growth_text=_growth_text(growth, _rows(result, "growth_comparison")), forecast=_rows(result, "forecast"),
        forecast_text=_forecast_text(result), realised=_realised(models),
        thresholds=thresholds, tornado=_rows(result, "tornado"), sobol=_rows(result, "sobol"),
        value_of_information=_rows(result, "value_of_information"), devcost=_rows(result, "devcost"),
        notes=tuple(result.notes), figures={name: _png(fig) for name, fig in result.figures.items()},
        png_written=bool(flags.get("png", True)))
