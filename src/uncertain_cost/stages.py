"""The stages after the Monte Carlo: growth, development cost, sensitivity, figures, report text.

Each stage reads the config section it owns, computes, and adds tables, datasets and
figures to the run's :class:`~uncertain_cost.pipeline.Artifacts`; nothing is written here.
"""

from __future__ import annotations

import numpy as np

from uncertain_cost.config import Config
from uncertain_cost.pipeline import Artifacts, Progress
from uncertain_cost.units import METHODS

__all__ = ["default_stages", "growth_stage", "development_stage", "sensitivity_stage", "figures_stage",
           "documents_stage"]


def sensitivity_stage(config: Config, art: Artifacts, progress: Progress, dev_spec=None) -> None:
    """Tornado and Sobol analyses of the configured targets (see :mod:`uncertain_cost.sensitivity.step`)."""
    from uncertain_cost.sensitivity.step import run_sensitivity

    settings = art.settings.sensitivity
    if not settings.enabled:
        return
    progress.stage("sensitivity: tornado and Sobol indices")
    out = run_sensitivity(art.facts, config.inputs, settings, interconnect_fraction=config.run.interconnect_fraction,
                          seed=config.run.seed, reference_month=config.run.reference_month, dev_spec=dev_spec)
    art.notes.extend(out.notes)
    art.figures.update(out.figures)
    art.tables["tornado.csv"] = (out.tornado_rows, out.tornado_columns)
    if out.sobol:
        art.tables["sobol.csv"] = (out.sobol_rows, out.sobol_columns)
    art.groups["sensitivity"] = out.dataset()


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
    """Collect the frontier models' Monte Carlo costs (kept draws) and point estimates, per method."""
    from uncertain_cost.growth import GrowthData

    facts, sim = art.facts, art.simulation
    frontier = np.flatnonzero(np.asarray(facts.is_frontier))
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = {m: np.log10(sim.kept.total(m)[:, frontier]) for m in METHODS}
        points = {m: np.log10(sim.point.total(m)[0, frontier]) for m in METHODS}
    return GrowthData(np.asarray(facts.publication_year)[frontier], draws, points,
                      model=tuple(facts.names[i] for i in frontier))


def growth_stage(config: Config, art: Artifacts, progress: Progress) -> None:
    """Fit the paper's OLS beside the hierarchical Bayesian model; forecast the most expensive run."""
    from uncertain_cost.figures import plot_forecast
    from uncertain_cost.growth import GROWTH_COLUMNS, fit_bayes, fit_ols_methods, forecast_costs, growth_rows
    from uncertain_cost.growth import with_forecast as add_forecast

    settings = art.settings.growth
    if not settings.enabled:
        return
    data = growth_data(art)
    ols = fit_ols_methods(data, settings.level)
    bayes = None
    if settings.bayes:
        progress.stage(f"growth: Bayesian fit ({settings.chains} chains x {settings.draws} draws)")
        bayes = fit_bayes(data, seed=config.run.seed, draws=settings.draws, tune=settings.tune,
                          chains=settings.chains, target_accept=settings.target_accept, level=settings.level,
                          center=settings.center, fail_on_bad_diagnostics=settings.fail_on_bad_diagnostics,
                          r_hat_threshold=settings.r_hat_max, ess_threshold=settings.ess_min)
        d = bayes.diagnostics
        art.notes.append(f"growth fit diagnostics: R-hat max {d.r_hat_max:.4f}, ESS bulk min {d.ess_bulk_min:.0f}, "
                         f"ESS tail min {d.ess_tail_min:.0f}, divergences {d.divergences}")
        art.extras["growth_fans"] = _trend_fans(bayes, data)
    rows = growth_rows(ols, bayes)
    if bayes is not None and settings.separate:
        for method in bayes.methods:
            alone = fit_bayes(data.select([method]), seed=config.run.seed, draws=settings.draws, tune=settings.tune,
                              chains=settings.chains, target_accept=settings.target_accept, level=settings.level,
                              center=settings.center, fail_on_bad_diagnostics=settings.fail_on_bad_diagnostics,
                              r_hat_threshold=settings.r_hat_max, ess_threshold=settings.ess_min)
            rows += [{**r, "estimator": "bayes_single"} for r in growth_rows(None, alone, include_pooled=False)]
    art.tables["growth.csv"] = (rows, GROWTH_COLUMNS)
    if bayes is None:
        return
    fit = next(r for r in rows if r["method"] == "amortized" and r["estimator"] == "bayes")
    paper = next(r for r in rows if r["method"] == "amortized" and r["estimator"] == "ols")
    art.extras["growth_text"] = (
        f"Amortized cost of frontier runs grows {fit['growth_per_year']:.2f}x per year "
        f"({fit['lo']:.2f}-{fit['hi']:.2f}, {fit['level']:.0%} posterior interval) in the hierarchical Bayesian fit, "
        f"which sees each model's Monte Carlo uncertainty (inputs shared by all models move the level of every "
        f"cost together, not the slope) and a robust Student-t scatter; the paper's OLS on point estimates gives "
        f"{paper['growth_per_year']:.2f}x ({paper['lo']:.2f}-{paper['hi']:.2f}). Diagnostics: R-hat max "
        f"{fit['r_hat_max']}, bulk ESS min {fit['ess_bulk_min']}, {fit['divergences']} divergences.")
    single = [r for r in rows if r["estimator"] == "bayes_single"]
    if single:
        art.extras["growth_text"] += (
            " Fitted alone, without pooling across methods: " + ", ".join(
                f"{r['method']} {r['growth_per_year']:.2f}x ({r['lo']:.2f}-{r['hi']:.2f})" for r in single)
            + ". Where the joint fit and the single fits differ, the cost ratios between methods trend over "
            "time on the models several methods cost, and the joint fit attributes that trend to the methods' "
            "slopes; see docs/growth.md.")
    idata = bayes.idata
    if settings.forecast:
        years = range(int(np.floor(data.year.max())) + 1, settings.forecast_end_year + 1)
        forecast = forecast_costs(bayes, list(years), thresholds=settings.thresholds_usd,
                                  models_per_year=settings.models_per_year, level=settings.level)
        art.tables["forecast.csv"] = (forecast.rows, forecast.columns)
        idata = add_forecast(idata, forecast)
        month = config.run.reference_month
        art.figures["forecast.png"] = plot_forecast(forecast.rows, "amortized", month, settings.thresholds_usd)
        art.extras["forecast_text"] = (
            f"For each year, the cost of the most expensive of {forecast.models_per_year} frontier runs "
            "(the median number of frontier models per observed year), each drawn from the fitted trend plus "
            "the model-to-model scatter, over the posterior: a posterior predictive distribution of the "
            "year's maximum, not of the trend line. P(> $X) is the posterior probability that at least one "
            "run that year costs more than $X (in dollars of the reference month).")
    for group in idata.groups():
        art.groups[group] = idata[group]


def _trend_fans(bayes, data) -> dict:
    """Posterior band of the trend line over the observed years, per method (for the figure)."""
    years = np.linspace(float(data.year.min()), float(data.year.max()), 40)
    fans = {}
    lo_q, hi_q = 0.5 - bayes.level / 2, 0.5 + bayes.level / 2
    for method in bayes.methods:
        slope = bayes.draws("slope", method)
        intercept = bayes.draws("intercept", method)
        lines = 10.0 ** (intercept[:, None] + slope[:, None] * (years[None, :] - bayes.year_ref))
        lo, mid, hi = np.quantile(lines, [lo_q, 0.5, hi_q], axis=0)
        fans[method] = {"years": years, "lo": lo, "mid": mid, "hi": hi,
                        "label": f"Bayesian trend, {bayes.level:.0%} interval"}
    return fans


def default_stages(config: Config, art: Artifacts, progress: Progress) -> None:
    """Run the growth, development-cost, sensitivity and report stages enabled in ``config``."""
    growth_stage(config, art, progress)
    dev_spec = development_stage(config, art, progress)
    sensitivity_stage(config, art, progress, dev_spec)
    figures_stage(config, art, progress)
    documents_stage(config, art, progress)
