"""The stages after the Monte Carlo: growth, development cost, sensitivity, figures, report text.

Each stage reads the config section it owns, computes, and adds tables, datasets and
figures to the run's :class:`~uncertain_cost.pipeline.Artifacts`; nothing is written here.
"""

from __future__ import annotations

import re

import numpy as np
import xarray as xr

from uncertain_cost.config import Config
from uncertain_cost.pipeline import Artifacts, Progress

__all__ = ["default_stages", "growth_stage", "development_stage", "sensitivity_stage", "figures_stage",
           "documents_stage"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _tornado_table(result, units: str) -> list[dict]:
    rows = result.table()
    for row in rows:
        row["units"] = units
    return rows


def sensitivity_stage(config: Config, art: Artifacts, progress: Progress, dev_spec=None) -> None:
    """Tornado and Sobol analyses of the configured targets."""
    from uncertain_cost.sensitivity import plot_tornado, tornado
    from uncertain_cost.sensitivity.sobol import sobol
    from uncertain_cost.sensitivity.targets import (
        SOBOL_COLUMNS,
        TORNADO_COLUMNS,
        cost_target,
        development_target,
        growth_target,
    )

    settings = art.settings.sensitivity
    if not settings.enabled:
        return
    progress.stage("sensitivity: tornado and Sobol indices")
    facts, inputs = art.facts, config.inputs
    fraction, seed = config.run.interconnect_fraction, config.run.seed
    units_usd = f"USD of {config.run.reference_month}"
    jobs = []  # (factors, f, target names, units, sobol base)
    models = [m for m in settings.models if m in facts.names]
    missing = sorted(set(settings.models) - set(models))
    if missing:
        art.notes.append(f"sensitivity: models not in this run: {', '.join(missing)}")
    for model in models:  # one model at a time: its factors are only the columns it reads
        factors, f, names = cost_target(facts, inputs, [model], settings.methods, fraction)
        jobs.append((factors, f, names, units_usd, settings.sobol_base))
    if settings.development and dev_spec is not None:
        for model in dev_spec.models:
            if model.name in dev_spec.selected and model.name in facts.names:
                factors, f = development_target(facts, inputs, model, fraction)
                jobs.append((factors, f, [f"{model.name} development total"], units_usd, settings.sobol_base))
    if settings.growth:
        factors, f, n = growth_target(facts, inputs, fraction)
        jobs.append((factors, f, [f"amortized growth factor ({n} models)"], "x per year", settings.growth_sobol_base))

    tornado_rows, sobol_rows = [], []
    for factors, f, names, units, n_base in jobs:
        result = tornado(factors, f, low_q=settings.low_quantile, high_q=settings.high_quantile,
                         target_names=names, by_group=True)
        tornado_rows += _tornado_table(result, units)
        for name in names:
            art.figures[f"tornado_{_slug(name)}.png"] = plot_tornado(result, name, units=units)
        if settings.sobol:
            sob = sobol(factors, f, n_base, seed, n_bootstrap=settings.bootstrap, target_names=names, by_group=True)
            sobol_rows += sob.table()
    art.tables["tornado.csv"] = (tornado_rows, TORNADO_COLUMNS)
    if settings.sobol:
        art.tables["sobol.csv"] = (sobol_rows, SOBOL_COLUMNS)
    art.groups["sensitivity"] = _sensitivity_dataset(tornado_rows, sobol_rows)


def _sensitivity_dataset(tornado_rows: list[dict], sobol_rows: list[dict]) -> xr.Dataset:
    data = {}
    if tornado_rows:
        data.update({
            f"tornado_{key}": ("tornado_bar", np.array([r[key] for r in tornado_rows], dtype=np.float64))
            for key in ("low_input", "high_input", "output_low", "output_high", "swing", "base")
        })
    if sobol_rows:
        data.update({
            f"sobol_{key}": ("sobol_row", np.array([r[key] for r in sobol_rows], dtype=np.float64))
            for key in ("s1", "s1_conf", "st", "st_conf")
        })
    coords = {}
    if tornado_rows:
        coords["tornado_target"] = ("tornado_bar", [r["target"] for r in tornado_rows])
        coords["tornado_input"] = ("tornado_bar", [r["input"] for r in tornado_rows])
    if sobol_rows:
        coords["sobol_target"] = ("sobol_row", [r["target"] for r in sobol_rows])
        coords["sobol_input"] = ("sobol_row", [r["input"] for r in sobol_rows])
    return xr.Dataset(data, coords=coords)


def development_stage(config: Config, art: Artifacts, progress: Progress):
    """Full development cost (staff + experiments + final run) of the configured models."""
    from uncertain_cost.devcost import development_cost, plot_devcost

    spec = art.settings.development
    if not spec.selected:
        return spec
    progress.stage("development cost: staff, experiments and final run")
    facts, sim = art.facts, art.simulation
    components = {}
    for name in spec.selected:
        if name in facts.names:
            i = facts.names.index(name)
            draws = sim.kept.amortized[:, i, :]
            if np.all(np.isfinite(draws)):
                components[name] = draws
    result = development_cost(spec, components, config.run.seed)
    if not result.models:
        return spec
    columns = ("model", "component", "median_usd", "mean_usd", "p5_usd", "p95_usd", "share_median",
               "paper_style_usd", "share_paper_style")
    art.tables["devcost.csv"] = (result.table(), columns)
    art.groups["development"] = result.to_dataset()
    art.figures["devcost.png"] = plot_devcost(result)
    art.extras["devcost"] = result
    return spec


def figures_stage(config: Config, art: Artifacts, progress: Progress) -> None:
    """Cost-vs-year, per-model interval and component figures."""
    from uncertain_cost.figures import plot_components, plot_cost_vs_year, plot_model_intervals
    from uncertain_cost.growth.ols import fit_ols

    progress.stage("figures")
    rows = art.tables["summary.csv"][0]
    month = config.run.reference_month
    for method in ("amortized", "cloud", "acquisition"):
        chosen = [r for r in rows if r["method"] == method]
        if len(chosen) < 3:
            continue
        fit = fit_ols([r["publication_year"] for r in chosen], [r["point_usd"] for r in chosen])
        years = np.linspace(min(r["publication_year"] for r in chosen), max(r["publication_year"] for r in chosen))
        trend = (years, fit.predict_log10(years), f"OLS on point estimates: {fit.growth:.2f}x per year")
        fan = art.extras.get("growth_fans", {}).get(method)
        art.figures[f"cost_vs_year_{method}.png"] = plot_cost_vs_year(rows, method, month, trend=trend, fan=fan)
    art.figures["model_intervals_amortized.png"] = plot_model_intervals(rows, "amortized", month)
    facts, sim = art.facts, art.simulation
    keep = np.flatnonzero(np.asarray(facts.is_frontier))
    art.figures["components_amortized.png"] = plot_components(
        [facts.names[i] for i in keep], sim.kept.amortized[:, keep, :], month)


def documents_stage(config: Config, art: Artifacts, progress: Progress) -> None:
    """``report.md`` and ``report.html`` (as configured in ``[report]``)."""
    from uncertain_cost.narrative import html_report, markdown_report

    flags = config.section("report")
    text = markdown_report(art, config)
    documents = {}
    if flags.get("markdown", True):
        documents["report.md"] = text
    if flags.get("html", True):
        documents["report.html"] = html_report(text)
    art.extras["documents"] = documents
    if not flags.get("png", True):
        art.figures.clear()


def growth_data(art: Artifacts):
    """Collect the frontier models' Monte Carlo costs and point estimates (`growth.step.growth_data_from_run`)."""
    from uncertain_cost.growth.step import growth_data_from_run

    return growth_data_from_run(art.facts, art.simulation)


def growth_stage(config: Config, art: Artifacts, progress: Progress) -> None:
    """Fit the paper's OLS beside the hierarchical Bayesian model; forecast the most expensive run."""
    from uncertain_cost.figures import plot_forecast
    from uncertain_cost.growth.step import fit_growth, forecast_sentence, growth_paragraph, outcome_tables

    settings = art.settings.growth
    if not settings.enabled:
        return
    outcome = fit_growth(growth_data(art), settings, config.run.seed, progress=progress.stage)
    art.tables.update(outcome_tables(outcome))
    art.notes.extend(outcome.notes)
    if outcome.idata is None:
        return
    art.extras["growth_fans"] = outcome.fans
    art.extras["growth_text"] = growth_paragraph(outcome.facts)
    if outcome.forecast_rows:
        art.figures["forecast.png"] = plot_forecast(list(outcome.forecast_rows), "amortized",
                                                    config.run.reference_month, settings.thresholds_usd)
        art.extras["forecast_text"] = forecast_sentence(outcome.facts)
    for group in outcome.idata.groups():
        art.groups[group] = outcome.idata[group]


def default_stages(config: Config, art: Artifacts, progress: Progress) -> None:
    """Run the growth, development-cost, sensitivity and report stages enabled in ``config``."""
    growth_stage(config, art, progress)
    dev_spec = development_stage(config, art, progress)
    sensitivity_stage(config, art, progress, dev_spec)
    figures_stage(config, art, progress)
    documents_stage(config, art, progress)
