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


def _rows(art, name: str) -> tuple:
    table = art.tables.get(name)
    return tuple(dict(r) for r in table[0]) if table else ()


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


def collect(art, config) -> ReportContent:
    """Read a run's results into a :class:`ReportContent`.

    Parameters
    ----------
    art : uncertain_cost.pipeline.Artifacts
        The run (tables keyed by file name, figures, extras, provenance).
    config : uncertain_cost.config.Config

    Returns
    -------
    ReportContent
    """
    prov = art.provenance
    summary = art.tables["summary.csv"][0]
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
    wanted = tuple(art.settings.sensitivity.models) if art.settings is not None else ()
    headline = tuple(m for m in dict.fromkeys(r["model"] for r in models) if m in wanted)
    if not headline:
        costliest = sorted((r for r in models if r["method"] == "amortized" and math.isfinite(r["point"])),
                           key=lambda r: -r["point"])
        headline = tuple(dict.fromkeys(r["model"] for r in costliest))[:6]
    growth_settings = getattr(art.settings, "growth", None)
    thresholds = tuple(getattr(growth_settings, "thresholds_usd", ()) or ())
    flags = config.section("report")
    selection = {**config.section("selection"), "finetunes": config.run.finetunes}
    return ReportContent(
        reference_month=prov.reference_month, level=float(level),
        provenance={"seed": prov.seed, "n_draws": prov.n_draws, "data_snapshot": prov.data_snapshot,
                    "config_path": prov.config_path, "config_sha256": prov.config_sha256,
                    "package_version": prov.package_version},
        selection=selection, counts=dict(art.extras.get("counts", {})), models=models, headline_models=headline,
        growth=_rows(art, "growth.csv"), growth_comparison=_rows(art, "growth_comparison.csv"),
        growth_text=str(art.extras.get("growth_text", "")), forecast=_rows(art, "forecast.csv"),
        forecast_text=str(art.extras.get("forecast_text", "")), realised=_realised(models),
        thresholds=thresholds, tornado=_rows(art, "tornado.csv"), sobol=_rows(art, "sobol.csv"),
        value_of_information=_rows(art, "value_of_information.csv"), devcost=_rows(art, "devcost.csv"),
        notes=tuple(art.notes), figures={name: _png(fig) for name, fig in art.figures.items()},
        png_written=bool(flags.get("png", True)))
