"""The steps of a run after its Monte Carlo, each a typed function that returns what it adds to the result.

Every step takes the settings its package parsed and what earlier steps computed, calls its
package to compute, and returns a :class:`~uncertain_cost.result.StepOutput` (datasets,
tables, figures and notes, in order); :mod:`uncertain_cost.pipeline` calls them in its order
and collects their outputs. Nothing is written here.

- :func:`cost_step`: the ``costs`` dataset, the summary and skipped tables (:mod:`uncertain_cost.results`);
- :func:`growth_step`: growth tables and ArviZ groups (:func:`uncertain_cost.growth.step.fit_growth`);
- :func:`development_step`: the devcost table (:func:`uncertain_cost.devcost.development_cost`);
- :func:`sensitivity_step`: tornado, Sobol, value of information (:mod:`uncertain_cost.sensitivity`);
- :func:`figures_step`: the cost figures (:mod:`uncertain_cost.reporting.figures`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from uncertain_cost.data.facts import ModelFacts
from uncertain_cost.data.load import Resolved
from uncertain_cost.engine import Simulation
from uncertain_cost.inputs import InputSet
from uncertain_cost.progress import Progress
from uncertain_cost.result import FIGURE_DATA, StepOutput

if TYPE_CHECKING:  # the settings types; their packages are imported where a step runs
    from uncertain_cost.config import Config, RunSettings
    from uncertain_cost.devcost import DevelopmentSpec
    from uncertain_cost.growth.settings import GrowthSettings
    from uncertain_cost.results import Provenance
    from uncertain_cost.sensitivity.targets import SensitivitySettings

__all__ = ["cost_step", "growth_step", "development_step", "sensitivity_step", "figures_step", "trend_of",
           "SKIPPED_COLUMNS",
           "DEVCOST_COLUMNS", "GROWTH_TREND"]

SKIPPED_COLUMNS = ("file", "row", "model", "reason")
DEVCOST_COLUMNS = ("model", "component", "median_usd", "mean_usd", "p5_usd", "p95_usd", "share_median",
                   "paper_style_usd", "share_paper_style")
#: figure data of the posterior trend bands (drawn on the cost-vs-year figures)
GROWTH_TREND = "growth_trend"


def cost_step(sim: Simulation, resolved: Resolved, provenance: Provenance, level: float, seed: int) -> StepOutput:
    """Label the Monte Carlo as the ``costs`` dataset and the summary and skipped tables.

    Parameters
    ----------
    sim : Simulation
    resolved : Resolved
        The models costed and the rows or models left out.
    provenance : Provenance
    level : float
        ``run.credible_level``.
    seed : int
        ``run.seed`` (the bootstrap of ``growth_decomposition.csv`` under ``[data] impute = "all"``).

    Returns
    -------
    StepOutput
    """
    from uncertain_cost.results import SUMMARY_COLUMNS, cost_dataset, method_counts, summary_records

    facts = resolved.facts
    out = StepOutput()
    costs = cost_dataset(sim, facts, provenance, level)
    out.groups["costs"] = costs
    rows = summary_records(costs, facts, sim.n_draws)
    out.add_table("summary", rows, SUMMARY_COLUMNS + (("imputed",) if "imputed" in facts.extra else ()))
    if "imputed" in facts.extra:  # [data] impute = "all"
        from uncertain_cost.growth.compute_price import DECOMPOSITION_COLUMNS, growth_decomposition

        out.add_table("growth_decomposition", growth_decomposition(sim.totals, facts, level=level, seed=seed),
                      DECOMPOSITION_COLUMNS)
    from uncertain_cost.data.coverage import unreported_losses
    from uncertain_cost.units import METHODS

    lost = unreported_losses(facts, ((r["model"], r["method"]) for r in rows), resolved.skipped, METHODS)
    skip_rows = [_skip_record(s) for s in (*resolved.skipped, *lost)]
    out.add_table("skipped", skip_rows, SKIPPED_COLUMNS)
    if skip_rows:
        out.notes.append(f"{len(skip_rows)} rows or models skipped (see skipped.csv)")
    counts = method_counts(rows)
    out.notes.append("models costed: " + ", ".join(f"{m} {n}" for m, n in counts.items()))
    n_imputed = len(set(facts.alternative_of[facts.alternative_of >= 0].tolist()))
    if n_imputed:
        out.notes.append(f"{n_imputed} of them with hardware imputed as a distribution over candidate chips")
    return out


def growth_step(settings: GrowthSettings, facts: ModelFacts, sim: Simulation, inputs: InputSet, run: RunSettings,
                progress: Progress) -> StepOutput:
    """Fit the paper's OLS beside each method's Bayesian fit, check the headline (TPU price re-runs), forecast.

    Parameters
    ----------
    settings : GrowthSettings
        ``[growth]`` and ``[forecast]``.
    facts : ModelFacts
    sim : Simulation
    inputs : InputSet
        The run's inputs (the headline check re-simulates the kept draws under other TPU prices).
    run : RunSettings
        ``[run]``: seed, reference month, interconnect fraction.
    progress : Progress

    Returns
    -------
    StepOutput
        Empty when ``growth.enabled`` is false.
    """
    from uncertain_cost.growth.priors import plot_prior_predictive
    from uncertain_cost.growth.step import fit_growth, growth_data_from_run
    from uncertain_cost.reporting.figures import plot_forecast

    out = StepOutput()
    if not settings.enabled:
        return out
    seed, reference_month = run.seed, run.reference_month
    if not settings.bayes:
        progress.stage("growth: the paper's OLS and a forecast from its line")
    data = growth_data_from_run(facts, sim)
    variants = _tpu_price_variants(data, facts, inputs, seed, run.interconnect_fraction) if settings.bayes else {}
    outcome = fit_growth(data, settings, seed, progress=progress.stage, variants=variants)
    out.add_table("growth", list(outcome.growth_rows), tuple(outcome.growth_columns))
    for name, rows, columns in outcome.side_tables():
        out.add_table(name, list(rows), tuple(columns))
    if outcome.forecast_rows:
        out.add_table("forecast", list(outcome.forecast_rows), tuple(outcome.forecast_columns),
                      attrs=dict(outcome.forecast_attrs))
    out.notes.extend(outcome.notes)
    if outcome.forecast_rows:
        out.figures["forecast.png"] = plot_forecast(list(outcome.forecast_rows), "amortized", reference_month,
                                                    settings.thresholds_usd)
    if outcome.idata is None:
        return out
    out.add_figure_data(GROWTH_TREND, _fans_dataset(outcome.fans))
    out.figures["growth_prior_predictive.png"] = plot_prior_predictive(data, seed=seed)
    fit = {"fit": str(outcome.idata.posterior.attrs.get("fit", "")),  # every group names the fit it belongs to
           "headline_fit": str(outcome.facts.headline["estimator"]) if outcome.facts is not None else ""}
    for group in outcome.idata.groups():
        out.groups[group] = outcome.idata[group].assign_attrs(fit)
    return out


def _tpu_price_variants(data, facts: ModelFacts, inputs: InputSet, seed: int, interconnect_fraction: float) -> dict:
    """Return the headline check's re-runs: name -> (label, growth data under another TPU price input).

    The TPU price's 90% interval halved and doubled in log-width (same geometric centre), and
    its other scope; the other inputs keep the run's own kept draws (one random stream per
    input). Empty when no frontier model is on a TPU.
    """
    spec = inputs["tpu_price"]
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
        changed = InputSet(tuple(new if s.name == "tpu_price" else s for s in inputs), inputs.correlations)
        keep = next(iter(data.log10_cost_draws.values())).shape[0]  # the run's kept draws
        sim = simulate(facts, changed, keep, seed, keep_draws=keep, interconnect_fraction=interconnect_fraction)
        return growth_data_from_run(facts, sim)

    if not any("tpu" in chip.lower() for chip in data.chip):  # no frontier model on a TPU: nothing to check
        return {}
    other = "per_chip" if spec.scope == "shared" else "shared"
    return {"tpu_price_narrower": ("TPU price 90% x{:.3g}-{:.3g}".format(*ci90(0.5)), lambda: tpu_price(0.5)),
            "tpu_price_wider": ("TPU price 90% x{:.3g}-{:.3g}".format(*ci90(2.0)), lambda: tpu_price(2.0)),
            f"tpu_price_{other}": (f"TPU price scope {other} (run: {spec.scope})", lambda: tpu_price(1.0, other))}


def development_step(spec: DevelopmentSpec, facts: ModelFacts, sim: Simulation, seed: int,
                     progress: Progress) -> StepOutput:
    """Full development cost (staff + experiments + final run) of the configured models.

    Parameters
    ----------
    spec : DevelopmentSpec
        ``[development]``.
    facts : ModelFacts
    sim : Simulation
        Its kept amortized draws are the final runs' costs.
    seed : int
    progress : Progress

    Returns
    -------
    StepOutput
        Empty when no configured model was costed.
    """
    from uncertain_cost.devcost import development_cost, plot_devcost

    out = StepOutput()
    if not spec.selected:
        return out
    progress.stage("development cost: staff, experiments and final run")
    components = {}
    for name in spec.selected:
        if name in facts.names:
            draws = sim.kept.amortized[:, facts.names.index(name), :]
            if np.all(np.isfinite(draws)):
                components[name] = draws
    result = development_cost(spec, components, seed)
    if not result.models:
        return out
    out.add_table("devcost", result.table(), DEVCOST_COLUMNS)
    out.groups["development"] = result.to_dataset()
    out.figures["devcost.png"] = plot_devcost(result)
    return out


def sensitivity_step(settings: SensitivitySettings, development: DevelopmentSpec, config: Config,
                     facts: ModelFacts) -> StepOutput:
    """Tornado and Sobol analyses of the configured targets (independent of the growth fit).

    Parameters
    ----------
    settings : SensitivitySettings
        ``[sensitivity]``.
    development : DevelopmentSpec
        Development-cost targets.
    config : Config
        Inputs and ``[run]`` options the analyses re-evaluate.
    facts : ModelFacts

    Returns
    -------
    StepOutput
        Empty but for a note when ``sensitivity.enabled`` is false.
    """
    from uncertain_cost.sensitivity.step import run_sensitivity

    out = StepOutput()
    if not settings.enabled:
        out.notes.append("sensitivity skipped (sensitivity.enabled = false, or run --quick): no tornado, Sobol "
                         "indices or value of information")
        return out
    run = config.run
    sens = run_sensitivity(facts, config.inputs, settings, interconnect_fraction=run.interconnect_fraction,
                           seed=run.seed, reference_month=run.reference_month, dev_spec=development)
    out.notes.extend(sens.notes)
    out.figures.update(sens.figures)
    out.add_table("tornado", list(sens.tornado_rows), tuple(sens.tornado_columns))
    if sens.sobol:
        out.add_table("sobol", list(sens.sobol_rows), tuple(sens.sobol_columns))
    out.groups["sensitivity"] = sens.dataset()
    return out


def value_of_information_step(settings: SensitivitySettings, growth: GrowthSettings, config: Config,
                              facts: ModelFacts, sensitivity: StepOutput, progress: Progress) -> StepOutput:
    """Value of information of the inputs for the Bayesian growth fit (after `sensitivity_step`).

    Parameters
    ----------
    settings : SensitivitySettings
        ``[sensitivity]``.
    growth : GrowthSettings
        The value of information applies to a Bayesian growth fit only.
    config : Config
    facts : ModelFacts
    sensitivity : StepOutput
        Of `sensitivity_step`: its Sobol indices choose the inputs (``sensitivity.voi_top``).
    progress : Progress

    Returns
    -------
    StepOutput
        Empty unless sensitivity, its value of information and the Bayesian growth fit are on.
    """
    out = StepOutput()
    if not (settings.enabled and settings.value_of_information and growth.enabled and growth.bayes):
        return out
    from uncertain_cost.sensitivity.voi import plot_value_of_information, run_value_of_information, top_inputs

    only = top_inputs(sensitivity.records("sobol"), settings.voi_top)
    what = f"the {len(only)} inputs that matter most to the growth rate" if only else "every input"
    progress.stage(f"sensitivity: value of information ({what}, one Bayesian fit each)")
    voi = run_value_of_information(facts, config, settings, growth, only=only)
    out.add_table("value_of_information", list(voi.rows), tuple(voi.columns), attrs=dict(voi.settings))
    out.figures["value_of_information.png"] = plot_value_of_information(voi)
    return out


def figures_step(summary: Sequence[dict], trend: xr.Dataset | None, facts: ModelFacts, sim: Simulation,
                 reference_month: str, progress: Progress) -> StepOutput:
    """Cost-vs-year, per-model interval and component figures (drawn for the report; PNG files with ``[report] png``).

    Parameters
    ----------
    summary : sequence of dict
        Rows of the summary table.
    trend : xarray.Dataset or None
        The growth fit's posterior trend bands (figure data :data:`GROWTH_TREND`).
    facts : ModelFacts
    sim : Simulation
    reference_month : str
    progress : Progress

    Returns
    -------
    StepOutput
    """
    from uncertain_cost.growth.ols import fit_ols
    from uncertain_cost.reporting.figures import plot_components, plot_cost_vs_year, plot_model_intervals

    progress.stage("figures")
    out = StepOutput()
    rows = list(summary)
    for method in ("amortized", "cloud", "acquisition"):
        chosen = [r for r in rows if r["method"] == method]
        if len(chosen) < 3:
            continue
        fit = fit_ols([r["publication_year"] for r in chosen], [r["point_usd"] for r in chosen])
        years = np.linspace(min(r["publication_year"] for r in chosen), max(r["publication_year"] for r in chosen))
        line = (years, fit.predict_log10(years),
                f"OLS on point estimates, median (geometric mean): {fit.growth:.2f}x per year")
        out.figures[f"cost_vs_year_{method}.png"] = plot_cost_vs_year(rows, method, reference_month, trend=line,
                                                                      fan=_fan(trend, method))
    out.figures["model_intervals_amortized.png"] = plot_model_intervals(rows, "amortized", reference_month)
    out.add_figure_data("models", xr.Dataset(  # the report's hover text names each model's developer
        {"organization": ("model", [str(o) for o in facts.organization])}, coords={"model": list(facts.names)}))
    keep = np.flatnonzero(np.asarray(facts.is_frontier))
    out.figures["components_amortized.png"] = plot_components(
        [facts.names[i] for i in keep], sim.kept.amortized[:, keep, :], reference_month)
    return out


def trend_of(output: StepOutput) -> xr.Dataset | None:
    """Return the growth step's posterior trend bands (None when it drew none)."""
    return output.groups.get(f"{FIGURE_DATA}/{GROWTH_TREND}")


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


def _skip_record(entry) -> dict:
    return {
        "file": getattr(entry, "file", ""),
        "row": getattr(entry, "row", ""),
        "model": getattr(entry, "model", ""),
        "reason": getattr(entry, "reason", str(entry)),
    }
