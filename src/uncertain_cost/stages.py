"""The steps after the Monte Carlo: growth, development cost, sensitivity and figures.

Each step reads the settings it owns from the run state, calls its package to compute, and
adds that package's datasets, tables and figures to the :class:`~uncertain_cost.runner.RunState`;
the order of the steps is :func:`uncertain_cost.runner.run_config`'s. Nothing is written here.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from uncertain_cost.pipeline import Progress
from uncertain_cost.units import METHODS

__all__ = ["growth_stage", "development_stage", "sensitivity_stage", "figures_stage"]


def sensitivity_stage(art, progress: Progress, dev_spec=None) -> None:
    """Tornado and Sobol analyses of the configured targets (see :mod:`uncertain_cost.sensitivity.step`)."""
    from uncertain_cost.sensitivity.step import run_sensitivity

    config, settings = art.config, art.settings.sensitivity
    if not settings.enabled:
        return
    progress.stage("sensitivity: tornado and Sobol indices")
    out = run_sensitivity(art.facts, config.inputs, settings, interconnect_fraction=config.run.interconnect_fraction,
                          seed=config.run.seed, reference_month=config.run.reference_month, dev_spec=dev_spec)
    art.notes.extend(out.notes)
    art.figures.update(out.figures)
    art.add_table("tornado", list(out.tornado_rows), tuple(out.tornado_columns))
    if out.sobol:
        art.add_table("sobol", list(out.sobol_rows), tuple(out.sobol_columns))
    art.groups["sensitivity"] = out.dataset()


def development_stage(art, progress: Progress):
    """Full development cost (staff + experiments + final run) of the configured models."""
    from uncertain_cost.devcost import development_cost, plot_devcost

    config, spec = art.config, art.settings.development
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
    art.add_table("devcost", result.table(), columns)
    art.groups["development"] = result.to_dataset()
    art.figures["devcost.png"] = plot_devcost(result)
    return spec


def figures_stage(art, progress: Progress) -> None:
    """Cost-vs-year, per-model interval and component figures."""
    from uncertain_cost.figures import plot_components, plot_cost_vs_year, plot_model_intervals
    from uncertain_cost.growth.ols import fit_ols

    progress.stage("figures")
    config = art.config
    rows = art.records("summary")
    month = config.run.reference_month
    for method in ("amortized", "cloud", "acquisition"):
        chosen = [r for r in rows if r["method"] == method]
        if len(chosen) < 3:
            continue
        fit = fit_ols([r["publication_year"] for r in chosen], [r["point_usd"] for r in chosen])
        years = np.linspace(min(r["publication_year"] for r in chosen), max(r["publication_year"] for r in chosen))
        trend = (years, fit.predict_log10(years), f"OLS on point estimates: {fit.growth:.2f}x per year")
        fan = _fan(art.groups.get("figure_data/growth_trend"), method)
        art.figures[f"cost_vs_year_{method}.png"] = plot_cost_vs_year(rows, method, month, trend=trend, fan=fan)
    art.figures["model_intervals_amortized.png"] = plot_model_intervals(rows, "amortized", month)
    facts, sim = art.facts, art.simulation
    keep = np.flatnonzero(np.asarray(facts.is_frontier))
    art.figures["components_amortized.png"] = plot_components(
        [facts.names[i] for i in keep], sim.kept.amortized[:, keep, :], month)


def growth_data(art):
    """Collect the frontier models' Monte Carlo costs (kept draws) and point estimates, per method."""
    from uncertain_cost.growth import GrowthData

    facts, sim = art.facts, art.simulation
    frontier = np.flatnonzero(np.asarray(facts.is_frontier))
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = {m: np.log10(sim.kept.total(m)[:, frontier]) for m in METHODS}
        points = {m: np.log10(sim.point.total(m)[0, frontier]) for m in METHODS}
    return GrowthData(np.asarray(facts.publication_year)[frontier], draws, points,
                      model=tuple(facts.names[i] for i in frontier))


def growth_stage(art, progress: Progress) -> None:
    """Fit the paper's OLS beside the hierarchical Bayesian model; forecast the most expensive run."""
    from uncertain_cost.figures import plot_forecast
    from uncertain_cost.growth import GROWTH_COLUMNS, fit_bayes, fit_ols_methods, forecast_costs, growth_rows
    from uncertain_cost.growth import with_forecast as add_forecast

    config, settings = art.config, art.settings.growth
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
        art.add_figure_data("growth_trend", _trend_fans(bayes, data))
    rows = growth_rows(ols, bayes)
    n_fits = 1 + (len(bayes.methods) if bayes is not None and settings.separate else 0)
    if bayes is not None:
        progress.update("growth fits", 1, n_fits)
    if bayes is not None and settings.separate:
        for fit_number, method in enumerate(bayes.methods, start=2):
            alone = fit_bayes(data.select([method]), seed=config.run.seed, draws=settings.draws, tune=settings.tune,
                              chains=settings.chains, target_accept=settings.target_accept, level=settings.level,
                              center=settings.center, fail_on_bad_diagnostics=settings.fail_on_bad_diagnostics,
                              r_hat_threshold=settings.r_hat_max, ess_threshold=settings.ess_min)
            rows += [{**r, "estimator": "bayes_single"} for r in growth_rows(None, alone, include_pooled=False)]
            progress.update("growth fits", fit_number, n_fits)
    art.add_table("growth", rows, GROWTH_COLUMNS)
    if bayes is None:
        return
    idata = bayes.idata
    if settings.forecast:
        years = range(int(np.floor(data.year.max())) + 1, settings.forecast_end_year + 1)
        forecast = forecast_costs(bayes, list(years), thresholds=settings.thresholds_usd,
                                  models_per_year=settings.models_per_year, level=settings.level)
        art.add_table("forecast", forecast.rows, forecast.columns,
                      attrs={"models_per_year": int(forecast.models_per_year)})
        idata = add_forecast(idata, forecast)
        month = config.run.reference_month
        art.figures["forecast.png"] = plot_forecast(forecast.rows, "amortized", month, settings.thresholds_usd)
    for group in idata.groups():
        art.groups[group] = idata[group]


def _trend_fans(bayes, data) -> xr.Dataset:
    """Posterior band of the trend line over the observed years, per method (for the figure)."""
    years = np.linspace(float(data.year.min()), float(data.year.max()), 40)
    lo_q, hi_q = 0.5 - bayes.level / 2, 0.5 + bayes.level / 2
    bands = []
    for method in bayes.methods:
        slope = bayes.draws("slope", method)
        intercept = bayes.draws("intercept", method)
        lines = 10.0 ** (intercept[:, None] + slope[:, None] * (years[None, :] - bayes.year_ref))
        bands.append(np.quantile(lines, [lo_q, 0.5, hi_q], axis=0))
    band = np.stack(bands)  # method, quantile, year
    return xr.Dataset(
        {name: (("cost_method", "trend_year"), band[:, q, :]) for q, name in enumerate(("lo", "mid", "hi"))},
        coords={"cost_method": list(bayes.methods), "trend_year": years},
        attrs={"label": f"Bayesian trend, {bayes.level:.0%} interval"},
    )


def _fan(ds: xr.Dataset | None, method: str) -> dict | None:
    """One method's trend band in the form the cost-vs-year figure takes."""
    if ds is None or method not in ds["cost_method"].values:
        return None
    one = ds.sel(cost_method=method)
    return {"years": ds["trend_year"].values, "lo": one["lo"].values, "mid": one["mid"].values,
            "hi": one["hi"].values, "label": ds.attrs["label"]}
