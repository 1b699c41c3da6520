"""The whole growth stage of a run as one call: data in, tables, posterior, fans and facts out.

`fit_growth` fits the paper's OLS, the joint hierarchical Bayesian model and (optionally) each
method alone, and forecasts the most expensive run of each future year. It returns a
`GrowthOutcome` that holds everything the run writes or reports (rows and columns of
``growth.csv`` and ``forecast.csv``, the InferenceData, the trend fans of the figure, the
diagnostics and the numbers the report quotes) and writes nothing itself; the report's prose
is written by :mod:`uncertain_cost.reporting` from the run's tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from uncertain_cost.growth.data import GrowthData
from uncertain_cost.growth.settings import GrowthSettings

__all__ = ["GrowthFacts", "GrowthOutcome", "fit_growth", "growth_data_from_run", "trend_fans"]


@dataclass(frozen=True)
class GrowthFacts:
    """The numbers the report quotes about the growth fits (data, not prose).

    Attributes
    ----------
    headline : dict or None
        The headline ``growth.csv`` row of the amortized method (``headline`` true: the
        candidate the PSIS-LOO comparison chose); None without a Bayesian fit.
    paper : dict
        The ``growth.csv`` row of the paper's OLS, amortized method.
    single : tuple of dict
        The ``bayes_single`` rows (each method fitted alone), in method order.
    models_per_year : int or None
        The fixed number of frontier runs per forecast year (``forecast.models_per_year``);
        None under the Poisson runs model or without a forecast.
    diagnostics : dict
        ``r_hat_max``, ``ess_bulk_min``, ``ess_tail_min``, ``divergences`` of the joint fit
        (empty without a Bayesian fit).
    joint : dict or None
        The ``bayes`` (joint fit) row of the amortized method.
    comparison : tuple of dict
        The ``growth_comparison`` rows of the amortized method.
    runs : dict
        The forecast's assumptions (`uncertain_cost.growth.forecast.runs_summary`): runs-per-year
        model, expected runs per year, which fit forecast each method; empty without a forecast.
    """

    headline: dict | None
    paper: dict
    single: tuple[dict, ...] = ()
    models_per_year: int | None = None
    diagnostics: dict = field(default_factory=dict)
    joint: dict | None = None
    comparison: tuple[dict, ...] = ()
    runs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class GrowthOutcome:
    """Everything the growth stage produces.

    Attributes
    ----------
    growth_rows : tuple of dict
        Rows of ``growth.csv`` (estimators ``ols``, ``bayes``, ``bayes_single`` and, with
        ``growth.separate`` and chip data, ``bayes_repaired``: the repaired joint model of
        `uncertain_cost.growth.repaired`); ``headline`` is true on one Bayesian row per cost method.
    growth_columns : tuple of str
        Its columns (`uncertain_cost.growth.GROWTH_COLUMNS`).
    forecast_rows : tuple of dict
        Rows of ``forecast.csv`` (empty without a forecast).
    forecast_columns : tuple of str
        Its columns (empty without a forecast).
    idata : arviz.InferenceData or None
        Posterior of the joint fit (with ``posterior_predictive`` of the forecast when it
        ran); None without a Bayesian fit.
    fans : dict of str to dict
        Per method: ``years``, ``lo``, ``mid``, ``hi`` (USD, arrays of 40) and ``label`` of the
        posterior band of the trend line over the observed years, for ``cost_vs_year``.
    facts : GrowthFacts
    notes : tuple of str
        One-line notes for the run log (diagnostics).
    timings : dict of str to float
        Seconds: ``ols``, ``bayes`` (joint fit), ``single`` (all single-method fits),
        ``repaired`` (the repaired fit and its predictive check, when fitted), ``comparison``,
        ``forecast``, ``backtest`` (with ``growth.backtest``), ``prior_sensitivity`` (with
        ``growth.prior_sensitivity``), ``total``.
    comparison_rows : tuple of dict
        Rows of ``growth_comparison.csv`` (`uncertain_cost.growth.loo.compare_fits`).
    comparison_columns : tuple of str
    sensitivity_rows : tuple of dict
        Rows of ``forecast_sensitivity.csv`` (`uncertain_cost.growth.forecast.forecast_sensitivity`
        in 2027, the paper's forecast year, or the first forecast year + 2 when 2027 is not
        forecast; runs per year 4, 7, 12 and the run's own; for the joint fit and each
        single-method fit); empty without a forecast.
    sensitivity_columns : tuple of str
    backtest_rows : tuple of dict
        Rows of ``growth_backtest.csv`` (`uncertain_cost.growth.backtest.backtest`), with
        ``growth.backtest`` only.
    backtest_columns : tuple of str
    forecast_attrs : dict
        Attributes of the ``forecast`` table (`uncertain_cost.growth.forecast.forecast_table_attrs`):
        ``models_per_year`` (``"poisson"`` or the fixed count), expected and observed runs per year,
        the fit of each method.
    prior_sensitivity_rows : tuple of dict
        Rows of ``growth_prior_sensitivity.csv`` (`uncertain_cost.growth.priors.prior_sensitivity`
        of the amortized headline fit), with ``growth.prior_sensitivity`` only.
    prior_sensitivity_columns : tuple of str
    contrast_ppc_rows : tuple of dict
        Rows of ``growth_contrast_ppc.csv`` (`uncertain_cost.growth.repaired.contrast_ppc` of
        the joint and the repaired fit); empty without the repaired fit.
    contrast_ppc_columns : tuple of str
    """

    growth_rows: tuple[dict, ...]
    growth_columns: tuple[str, ...]
    forecast_rows: tuple[dict, ...] = ()
    forecast_columns: tuple[str, ...] = ()
    idata: object = None
    fans: dict = field(default_factory=dict)
    facts: GrowthFacts | None = None
    notes: tuple[str, ...] = ()
    timings: dict = field(default_factory=dict)
    comparison_rows: tuple[dict, ...] = ()
    comparison_columns: tuple[str, ...] = ()
    sensitivity_rows: tuple[dict, ...] = ()
    sensitivity_columns: tuple[str, ...] = ()
    backtest_rows: tuple[dict, ...] = ()
    backtest_columns: tuple[str, ...] = ()
    forecast_attrs: dict = field(default_factory=dict)
    prior_sensitivity_rows: tuple[dict, ...] = ()
    prior_sensitivity_columns: tuple[str, ...] = ()
    contrast_ppc_rows: tuple[dict, ...] = ()
    contrast_ppc_columns: tuple[str, ...] = ()

    def side_tables(self) -> list[tuple[str, tuple[dict, ...], tuple[str, ...]]]:
        """``(table name, rows, columns)`` of each non-empty table beside ``growth`` and ``forecast``.

        Returns
        -------
        list of tuple
            In run order: ``growth_comparison``, ``forecast_sensitivity``, ``growth_backtest``,
            ``growth_prior_sensitivity``, ``growth_contrast_ppc``.
        """
        named = (("growth_comparison", self.comparison_rows, self.comparison_columns),
                 ("forecast_sensitivity", self.sensitivity_rows, self.sensitivity_columns),
                 ("growth_backtest", self.backtest_rows, self.backtest_columns),
                 ("growth_prior_sensitivity", self.prior_sensitivity_rows, self.prior_sensitivity_columns),
                 ("growth_contrast_ppc", self.contrast_ppc_rows, self.contrast_ppc_columns))
        return [(name, rows, columns) for name, rows, columns in named if rows]


def growth_data_from_run(facts, simulation) -> GrowthData:
    """Collect the frontier models' Monte Carlo costs (kept draws) and point estimates, per method.

    Parameters
    ----------
    facts : uncertain_cost.inputs.ModelFacts
        ``names``, ``publication_year`` and ``is_frontier`` of every model of the run; its
        ``chips``, ``chip_index`` and ``depreciation_years`` (years from hardware acquisition
        to training start) become `GrowthData.chip` and `GrowthData.chip_age_years`.
    simulation : uncertain_cost.engine.Simulation
        With ``kept`` and ``point`` cost draws (``total(method)``: (draws, models)).

    Returns
    -------
    GrowthData
    """
    from uncertain_cost.units import METHODS

    frontier = np.flatnonzero(np.asarray(facts.is_frontier))
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = {m: np.log10(simulation.kept.total(m)[:, frontier]) for m in METHODS}
        points = {m: np.log10(simulation.point.total(m)[0, frontier]) for m in METHODS}
    chip_index = np.asarray(facts.chip_index)[frontier]
    chip = tuple(facts.chips[c] if c >= 0 else "" for c in chip_index)
    age = np.where(chip_index >= 0, np.asarray(facts.depreciation_years, dtype=np.float64)[frontier], np.nan)
    return GrowthData(np.asarray(facts.publication_year)[frontier], draws, points,
                      model=tuple(facts.names[i] for i in frontier), chip=chip, chip_age_years=age)


def trend_fans(bayes, data: GrowthData) -> dict:
    """Posterior band of the trend line over the observed years, per method (for the figure).

    Parameters
    ----------
    bayes : BayesResult
    data : GrowthData

    Returns
    -------
    dict of str to dict
        See `GrowthOutcome.fans`. The line is ``10 ** (intercept + slope * x)``: a median
        (geometric mean) cost, not a mean.
    """
    years = np.linspace(float(data.year.min()), float(data.year.max()), 40)
    fans = {}
    lo_q, hi_q = 0.5 - bayes.level / 2, 0.5 + bayes.level / 2
    for method in bayes.methods:
        slope = bayes.draws("slope", method)
        intercept = bayes.draws("intercept", method)
        lines = 10.0 ** (intercept[:, None] + slope[:, None] * (years[None, :] - bayes.year_ref))
        lo, mid, hi = np.quantile(lines, [lo_q, 0.5, hi_q], axis=0)
        fans[method] = {"years": years, "lo": lo, "mid": mid, "hi": hi,
                        "label": f"Bayesian trend: median (geometric mean) cost, {bayes.level:.0%} interval"}
    return fans


def _fit(data: GrowthData, settings: GrowthSettings, seed: int, variant: str = "joint"):
    from uncertain_cost.growth.bayes import fit_bayes

    return fit_bayes(data, seed=seed, draws=settings.draws, tune=settings.tune, chains=settings.chains,
                     target_accept=settings.target_accept, level=settings.level, center=settings.center,
                     fail_on_bad_diagnostics=settings.fail_on_bad_diagnostics,
                     r_hat_threshold=settings.r_hat_max, ess_threshold=settings.ess_min, sampler=settings.sampler,
                     variant=variant)


def _can_repair(data: GrowthData, methods) -> bool:
    """Whether the repaired joint model applies: chips and chip ages given, amortized and another method."""
    from uncertain_cost.growth.repaired import REFERENCE_METHOD

    return (bool(data.chip) and data.chip_age_years is not None and REFERENCE_METHOD in methods
            and len(methods) > 1)


def _contrast_ppc(data: GrowthData, settings: GrowthSettings, seed: int, fits) -> tuple[dict, ...]:
    """`contrast_ppc` rows of each (name, fit), with the same replicate noise for every fit."""
    import warnings

    from uncertain_cost.growth.data import measurement
    from uncertain_cost.growth.repaired import contrast_ppc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fits have warned about dropped models already
        meas = measurement(data, settings.center)
    index = {name: k for k, name in enumerate(data.model)}
    chips = [data.chip[index[name]] for name in meas.model]
    rows = []
    for name, fit in fits:
        rows += contrast_ppc(fit, meas, chips, rng=np.random.default_rng(seed), fit=name)
    return tuple(rows)


def fit_growth(data: GrowthData, settings: GrowthSettings, seed: int,
               progress: Callable[[str], None] | None = None) -> GrowthOutcome:
    """Fit and forecast the growth of frontier training costs, as configured.

    Parameters
    ----------
    data : GrowthData
        Frontier models' log10 costs (e.g. `growth_data_from_run`).
    settings : GrowthSettings
        The ``[growth]`` and ``[forecast]`` sections.
    seed : int
        The run's seed: the joint fit and every single-method fit use it (as before).
    progress : callable, optional
        Called with a one-line message before each Bayesian fit.

    Returns
    -------
    GrowthOutcome
        With only the OLS rows when ``settings.bayes`` is false.
    """
    from threadpoolctl import threadpool_limits

    # One BLAS thread for the whole stage, so that its numbers do not depend on the CPUs: a
    # threaded matrix product sums in an order that depends on its thread count (the contrast
    # check's percentiles differed in the 13th digit between a 1-CPU and a 2-CPU run).
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_growth(data, settings, seed, progress)


def _fit_growth(data: GrowthData, settings: GrowthSettings, seed: int,
                progress: Callable[[str], None] | None) -> GrowthOutcome:
    import time

    from uncertain_cost.growth.backtest import BACKTEST_COLUMNS, backtest
    from uncertain_cost.growth.forecast import (
        SENSITIVITY_COLUMNS,
        SENSITIVITY_YEAR,
        forecast_costs,
        forecast_sensitivity,
        forecast_table_attrs,
        runs_summary,
        with_forecast,
    )
    from uncertain_cost.growth.loo import COMPARISON_COLUMNS, compare_fits
    from uncertain_cost.growth.priors import PRIOR_SENSITIVITY_COLUMNS, prior_sensitivity
    from uncertain_cost.growth.repaired import PPC_COLUMNS
    from uncertain_cost.growth.runs import fit_runs_per_year
    from uncertain_cost.growth.tables import GROWTH_COLUMNS, fit_ols_methods, growth_rows

    say = progress if progress is not None else (lambda message: None)
    t0 = time.perf_counter()
    ols = fit_ols_methods(data, settings.level)
    timings = {"ols": time.perf_counter() - t0}
    paper = next(r for r in growth_rows(ols, None) if r["method"] == "amortized")
    if not settings.bayes:
        rows = growth_rows(ols, None)
        timings["total"] = time.perf_counter() - t0
        return GrowthOutcome(tuple(rows), tuple(GROWTH_COLUMNS), facts=GrowthFacts(headline=None, paper=paper),
                             timings=timings)

    say(f"growth: Bayesian fit ({settings.chains} chains x {settings.draws} draws)")
    t1 = time.perf_counter()
    bayes = _fit(data, settings, seed)
    timings["bayes"] = time.perf_counter() - t1
    d = bayes.diagnostics
    notes = [f"growth fit diagnostics: R-hat max {d.r_hat_max:.4f}, ESS bulk min {d.ess_bulk_min:.0f}, "
             f"ESS tail min {d.ess_tail_min:.0f}, divergences {d.divergences}"]
    rows = growth_rows(ols, bayes)
    t1 = time.perf_counter()
    singles = {}
    repaired, ppc_rows = None, ()
    if settings.separate:
        for method in bayes.methods:
            alone = _fit(data.select([method]), settings, seed)
            singles[method] = alone
            rows += [{**r, "estimator": "bayes_single"} for r in growth_rows(None, alone, include_pooled=False)]
    timings["single"] = time.perf_counter() - t1
    if settings.separate and _can_repair(data, bayes.methods):
        say("growth: repaired joint fit (chip-age and chip-type terms in the method contrasts)")
        t1 = time.perf_counter()
        repaired = _fit(data, settings, seed, variant="repaired")
        rows += [{**r, "estimator": "bayes_repaired"} for r in growth_rows(None, repaired)]
        d_rep = repaired.diagnostics
        notes.append(f"repaired growth fit diagnostics: R-hat max {d_rep.r_hat_max:.4f}, ESS bulk min "
                     f"{d_rep.ess_bulk_min:.0f}, ESS tail min {d_rep.ess_tail_min:.0f}, divergences "
                     f"{d_rep.divergences}")
        ppc_rows = _contrast_ppc(data, settings, seed, [("joint", bayes), ("repaired", repaired)])
        timings["repaired"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    comparison = compare_fits(bayes, singles, repaired)
    chosen = {(r["method"], {"joint": "bayes", "single": "bayes_single", "repaired": "bayes_repaired"}[r["model"]])
              for r in comparison if r["headline"]}
    rows = [{**r, "headline": (r["method"], r["estimator"]) in chosen} for r in rows]
    timings["comparison"] = time.perf_counter() - t1
    joint = next(r for r in rows if r["method"] == "amortized" and r["estimator"] == "bayes")
    headline = next(r for r in rows if r["method"] == "amortized" and r["headline"])
    single = tuple(r for r in rows if r["estimator"] == "bayes_single")
    idata = bayes.idata
    idata.posterior.attrs["fit"] = "bayes"  # which fit's draws results.nc holds (growth table's estimator name)
    forecast_rows, forecast_columns, per_year, sensitivity, runs_facts, forecast_attrs = (), (), None, (), {}, {}
    t1 = time.perf_counter()
    if settings.forecast:
        years = range(int(np.floor(data.year.max())) + 1, settings.forecast_end_year + 1)
        # each method from its headline fit; a run shares its scatter quantile across methods
        estimator_of = {m: e for m, e in chosen}
        by_estimator = {"bayes_single": singles, "bayes_repaired": {m: repaired for m in bayes.methods}}
        headline_fits = {m: by_estimator.get(estimator_of.get(m), {}).get(m) or bayes for m in bayes.methods}
        runs = None if settings.models_per_year is not None else fit_runs_per_year(bayes.frontier_years)
        forecast = forecast_costs(headline_fits, list(years), thresholds=settings.thresholds_usd,
                                  models_per_year=settings.models_per_year, level=settings.level, runs=runs)
        forecast_rows, forecast_columns = tuple(forecast.rows), tuple(forecast.columns)
        per_year = forecast.models_per_year
        runs_facts = runs_summary(forecast, {m: "joint" if f is bayes else "repaired" if f is repaired else "single"
                                            for m, f in headline_fits.items()})
        forecast_attrs = forecast_table_attrs(runs_facts)
        idata = with_forecast(idata, forecast)
        fits = [("joint", bayes), *(("single", fit) for fit in singles.values())]
        target = SENSITIVITY_YEAR if SENSITIVITY_YEAR in years else years[min(2, len(years) - 1)]
        ks = [4, 7, 12] + ([per_year] if per_year is not None and per_year not in (4, 7, 12) else [])
        sensitivity = tuple(forecast_sensitivity(fits, target, models_per_year=[*sorted(ks), None], runs=runs))
    timings["forecast"] = time.perf_counter() - t1
    backtest_rows = ()
    if settings.backtest and "amortized" in data.methods:
        say("growth: leave-future-out backtest")
        t1 = time.perf_counter()
        backtest_rows = tuple(backtest(data, seed=seed, center=settings.center, sampler=settings.sampler,
                                       level=settings.level))
        timings["backtest"] = time.perf_counter() - t1
    prior_rows = ()
    if settings.prior_sensitivity and "amortized" in data.methods:
        say("growth: prior sensitivity (each prior scale halved and doubled)")
        t1 = time.perf_counter()
        fit_name = "single" if headline["estimator"] == "bayes_single" else "joint"
        prior_rows = tuple(prior_sensitivity(data, seed=seed, fit=fit_name, center=settings.center,
                                             sampler=settings.sampler, level=settings.level))
        timings["prior_sensitivity"] = time.perf_counter() - t1
    timings["total"] = time.perf_counter() - t0
    facts = GrowthFacts(headline=headline, paper=paper, single=single, models_per_year=per_year,
                        diagnostics={"r_hat_max": d.r_hat_max, "ess_bulk_min": d.ess_bulk_min,
                                     "ess_tail_min": d.ess_tail_min, "divergences": d.divergences},
                        joint=joint, comparison=tuple(r for r in comparison if r["method"] == "amortized"),
                        runs=runs_facts)
    return GrowthOutcome(tuple(rows), tuple(GROWTH_COLUMNS), forecast_rows, forecast_columns, idata=idata,
                         fans=trend_fans(bayes, data), facts=facts, notes=tuple(notes), timings=timings,
                         comparison_rows=tuple(comparison), comparison_columns=COMPARISON_COLUMNS,
                         sensitivity_rows=sensitivity,
                         sensitivity_columns=SENSITIVITY_COLUMNS if sensitivity else (),
                         backtest_rows=backtest_rows, backtest_columns=BACKTEST_COLUMNS if backtest_rows else (),
                         forecast_attrs=forecast_attrs, prior_sensitivity_rows=prior_rows,
                         prior_sensitivity_columns=PRIOR_SENSITIVITY_COLUMNS if prior_rows else (),
                         contrast_ppc_rows=ppc_rows, contrast_ppc_columns=PPC_COLUMNS if ppc_rows else ())
