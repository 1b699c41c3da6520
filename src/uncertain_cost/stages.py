"""The steps after the Monte Carlo: growth, development cost, sensitivity and figures.

Each step reads the settings it owns from the run state, calls its package to compute, and
adds that package's datasets, tables and figures to the :class:`~uncertain_cost.runner.RunState`;
the order of the steps is :func:`uncertain_cost.runner.run_config`'s. Nothing is written here.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from uncertain_cost.pipeline import Progress

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
    growth = art.settings.growth
    if settings.value_of_information and growth.enabled and growth.bayes:  # VOI is about the Bayesian fit
        from uncertain_cost.sensitivity.voi import plot_value_of_information, run_value_of_information, top_inputs

        only = top_inputs(out.sobol_rows if out.sobol else (), settings.voi_top)
        what = f"the {len(only)} inputs that matter most to the growth rate" if only else "every input"
        progress.stage(f"sensitivity: value of information ({what}, one Bayesian fit each)")
        voi = run_value_of_information(art.facts, config, settings, growth, only=only)
        art.add_table("value_of_information", list(voi.rows), tuple(voi.columns), attrs=dict(voi.settings))
        art.figures["value_of_information.png"] = plot_value_of_information(voi)


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
        trend = (years, fit.predict_log10(years),
                 f"OLS on point estimates, median (geometric mean): {fit.growth:.2f}x per year")
        fan = _fan(art.groups.get("figure_data/growth_trend"), method)
        art.figures[f"cost_vs_year_{method}.png"] = plot_cost_vs_year(rows, method, month, trend=trend, fan=fan)
    art.figures["model_intervals_amortized.png"] = plot_model_intervals(rows, "amortized", month)
    facts, sim = art.facts, art.simulation
    art.add_figure_data("models", xr.Dataset(  # the report's hover text names each model's developer
        {"organization": ("model", [str(o) for o in facts.organization])}, coords={"model": list(facts.names)}))
    keep = np.flatnonzero(np.asarray(facts.is_frontier))
    art.figures["components_amortized.png"] = plot_components(
        [facts.names[i] for i in keep], sim.kept.amortized[:, keep, :], month)


def growth_data(art):
    """Collect the frontier models' Monte Carlo costs and point estimates (`growth.step.growth_data_from_run`)."""
    from uncertain_cost.growth.step import growth_data_from_run

    return growth_data_from_run(art.facts, art.simulation)


def growth_stage(art, progress: Progress) -> None:
    """Fit the paper's OLS beside each method's Bayesian fit, check the headline (TPU price re-runs), forecast."""
    from uncertain_cost.figures import plot_forecast
    from uncertain_cost.growth.step import fit_growth

    config, settings = art.config, art.settings.growth
    if not settings.enabled:
        return
    data = growth_data(art)

    spec = config.inputs["tpu_price"]
    lo, hi = float(spec.distribution.ppf(0.05)), float(spec.distribution.ppf(0.95))

    def ci90(scale: float) -> tuple[float, float]:
        """Return the TPU price's 90% interval with its log-width times ``scale`` (same geometric centre)."""
        mid, half = (lo * hi) ** 0.5, (hi / lo) ** (0.5 * scale)
        return mid / half, mid * half

    def tpu_price(scale: float = 1.0, scope: str | None = None):
        """Re-simulate the frontier costs (the kept draws only) under another TPU price input."""
        from dataclasses import replace

        from uncertain_cost.distributions import from_spec
        from uncertain_cost.engine import simulate
        from uncertain_cost.growth.step import growth_data_from_run
        from uncertain_cost.inputs import InputSet

        new = replace(spec, distribution=from_spec({"ci90": list(ci90(scale))}, "inputs.tpu_price"),
                      scope=scope or spec.scope)
        inputs = InputSet(tuple(new if s.name == "tpu_price" else s for s in config.inputs), config.inputs.correlations)
        keep = next(iter(data.log10_cost_draws.values())).shape[0]  # the run's kept draws
        sim = simulate(art.facts, inputs, keep, config.run.seed, keep_draws=keep,
                       interconnect_fraction=config.run.interconnect_fraction)
        return growth_data_from_run(art.facts, sim)

    # the other inputs keep the run's own kept draws (one random stream per input)
    other = "per_chip" if spec.scope == "shared" else "shared"
    variants = {"tpu_price_narrower": ("TPU price 90% x{:.3g}-{:.3g}".format(*ci90(0.5)), lambda: tpu_price(0.5)),
                "tpu_price_wider": ("TPU price 90% x{:.3g}-{:.3g}".format(*ci90(2.0)), lambda: tpu_price(2.0)),
                f"tpu_price_{other}": (f"TPU price scope {other} (run: {spec.scope})", lambda: tpu_price(1.0, other))}
    if not any("tpu" in chip.lower() for chip in data.chip):  # no frontier model on a TPU: nothing to check
        variants = {}
    outcome = fit_growth(data, settings, config.run.seed, progress=progress.stage, variants=variants)
    art.add_table("growth", list(outcome.growth_rows), tuple(outcome.growth_columns))
    for name, rows, columns in outcome.side_tables():
        art.add_table(name, list(rows), tuple(columns))
    if outcome.forecast_rows:
        art.add_table("forecast", list(outcome.forecast_rows), tuple(outcome.forecast_columns),
                      attrs=dict(outcome.forecast_attrs))
    art.notes.extend(outcome.notes)
    if outcome.idata is None:
        return
    art.add_figure_data("growth_trend", _fans_dataset(outcome.fans))
    if outcome.forecast_rows:
        art.figures["forecast.png"] = plot_forecast(list(outcome.forecast_rows), "amortized",
                                                    config.run.reference_month, settings.thresholds_usd)
    from uncertain_cost.growth.priors import plot_prior_predictive

    art.figures["growth_prior_predictive.png"] = plot_prior_predictive(data, seed=config.run.seed)
    fit = {"fit": str(outcome.idata.posterior.attrs.get("fit", "")),  # every group names the fit it belongs to
           "headline_fit": str(outcome.facts.headline["estimator"]) if outcome.facts is not None else ""}
    for group in outcome.idata.groups():
        art.groups[group] = outcome.idata[group].assign_attrs(fit)


def _fans_dataset(fans: dict) -> xr.Dataset:
    """Stack the posterior trend bands per method (``growth.step.trend_fans``) into one Dataset."""
    methods = list(fans)
    first = fans[methods[0]]
    return xr.Dataset(
        {name: (("cost_method", "trend_year"), np.stack([fans[m][name] for m in methods]))
         for name in ("lo", "mid", "hi")},
        coords={"cost_method": methods, "trend_year": np.asarray(first["years"])},
        attrs={"label": first["label"]},
    )


def _fan(ds: xr.Dataset | None, method: str) -> dict | None:
    """One method's trend band in the form the cost-vs-year figure takes."""
    if ds is None or method not in ds["cost_method"].values:
        return None
    one = ds.sel(cost_method=method)
    return {"years": ds["trend_year"].values, "lo": one["lo"].values, "mid": one["mid"].values,
            "hi": one["hi"].values, "label": ds.attrs["label"]}
