"""The whole growth stage of a run as one call: data in, tables, posterior, fans and facts out.

`fit_growth` fits the paper's OLS and the Bayesian model of each cost method alone, explains the
gap between them (``growth_vs_paper``), checks the headline's robustness (``growth_robustness``)
and forecasts the most expensive run of each future year, from the model the leave-future-out
backtest (``growth_backtest``) chooses for each method. It returns a
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
        The amortized ``bayes`` row of ``growth.csv`` (the single-method fit); None without
        a Bayesian fit.
    paper : dict
        The ``growth.csv`` row of the paper's OLS, amortized method.
    single : tuple of dict
        The ``bayes`` rows (each method fitted alone), in method order.
    models_per_year : int or None
        The fixed number of frontier runs per forecast year (``forecast.models_per_year``);
        None under the Poisson runs model or without a forecast.
    diagnostics : dict
        ``r_hat_max``, ``ess_bulk_min``, ``ess_tail_min``, ``divergences``: the worst over the
        Bayesian fits (empty without a Bayesian fit).
    runs : dict
        The forecast's assumptions (`uncertain_cost.growth.forecast.runs_summary`): runs-per-year
        model, expected runs per year, which fit forecast each method; empty without a forecast.
    """

    headline: dict | None
    paper: dict
    single: tuple[dict, ...] = ()
    models_per_year: int | None = None
    diagnostics: dict = field(default_factory=dict)
    runs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class GrowthOutcome:
    """Everything the growth stage produces.

    Attributes
    ----------
    growth_rows : tuple of dict
        Rows of ``growth.csv`` (estimators ``ols`` and ``bayes``, the single-method fit);
        ``headline`` is true on the Bayesian row of each cost method.
    growth_columns : tuple of str
        Its columns (`uncertain_cost.growth.GROWTH_COLUMNS`).
    forecast_rows : tuple of dict
        Rows of ``forecast.csv`` (empty without a forecast).
    forecast_columns : tuple of str
        Its columns (empty without a forecast).
    idata : arviz.InferenceData or None
        Posteriors of the single-method fits (`uncertain_cost.growth.bayes.combined_idata`,
        with ``posterior_predictive`` of the forecast when it ran); None without a Bayesian fit.
    fans : dict of str to dict
        Per method: ``years``, ``lo``, ``mid``, ``hi`` (USD, arrays of 40) and ``label`` of the
        posterior band of the trend line over the observed years, for ``cost_vs_year``.
    facts : GrowthFacts
    notes : tuple of str
        One-line notes for the run log (diagnostics).
    timings : dict of str to float
        Seconds: ``ols``, ``bayes`` (the single-method fits), ``vs_paper``, ``robustness``,
        ``forecast``, ``backtest`` (with ``growth.backtest``), ``prior_sensitivity`` (with
        ``growth.prior_sensitivity``), ``total``.
    vs_paper_rows : tuple of dict
        Rows of ``growth_vs_paper.csv`` (`uncertain_cost.growth.decomposition.vs_paper_rows`).
    vs_paper_columns : tuple of str
    robustness_rows : tuple of dict
        Rows of ``growth_robustness.csv`` (`uncertain_cost.growth.robustness.robustness_rows`).
    robustness_columns : tuple of str
    sensitivity_rows : tuple of dict
        Rows of ``forecast_sensitivity.csv`` (`uncertain_cost.growth.forecast.forecast_sensitivity`
        in 2027, the paper's forecast year, or the first forecast year + 2 when 2027 is not
        forecast; runs per year 4, 7, 12 and the run's own; for each single-method fit);
        empty without a forecast.
    sensitivity_columns : tuple of str
    backtest_rows : tuple of dict
        Rows of ``growth_backtest.csv`` (`uncertain_cost.growth.backtest.backtest`), with
        ``growth.backtest`` only.
    backtest_columns : tuple of str
    forecast_attrs : dict
        Attributes of the ``forecast`` table (`uncertain_cost.growth.forecast.forecast_table_attrs`):
        ``models_per_year`` (``"poisson"`` or the fixed count), expected and observed runs per year,
        the fit of each method; ``nu_prior`` and ``nu_posterior`` of the amortized fit;
        ``forecast_models`` (method -> the model the leave-future-out backtest chose) with
        ``growth.backtest``.
    prior_sensitivity_rows : tuple of dict
        Rows of ``growth_prior_sensitivity.csv`` (`uncertain_cost.growth.priors.prior_sensitivity`
        of the amortized headline fit), with ``growth.prior_sensitivity`` only.
    prior_sensitivity_columns : tuple of str
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
    vs_paper_rows: tuple[dict, ...] = ()
    vs_paper_columns: tuple[str, ...] = ()
    robustness_rows: tuple[dict, ...] = ()
    robustness_columns: tuple[str, ...] = ()
    sensitivity_rows: tuple[dict, ...] = ()
    sensitivity_columns: tuple[str, ...] = ()
    backtest_rows: tuple[dict, ...] = ()
    backtest_columns: tuple[str, ...] = ()
    forecast_attrs: dict = field(default_factory=dict)
    prior_sensitivity_rows: tuple[dict, ...] = ()
    prior_sensitivity_columns: tuple[str, ...] = ()

    def side_tables(self) -> list[tuple[str, tuple[dict, ...], tuple[str, ...]]]:
        """``(table name, rows, columns)`` of each non-empty table beside ``growth`` and ``forecast``.

        Returns
        -------
        list of tuple
            In run order: ``growth_vs_paper``, ``growth_robustness``, ``forecast_sensitivity``,
            ``growth_backtest``, ``growth_prior_sensitivity``.
        """
        named = (("growth_vs_paper", self.vs_paper_rows, self.vs_paper_columns),
                 ("growth_robustness", self.robustness_rows, self.robustness_columns),
                 ("forecast_sensitivity", self.sensitivity_rows, self.sensitivity_columns),
                 ("growth_backtest", self.backtest_rows, self.backtest_columns),
                 ("growth_prior_sensitivity", self.prior_sensitivity_rows, self.prior_sensitivity_columns))
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


def trend_fans(fits, data: GrowthData) -> dict:
    """Posterior band of the trend line over the observed years, per method (for the figure).

    Parameters
    ----------
    fits : mapping of str to BayesResult
        One single-method fit per method.
    data : GrowthData

    Returns
    -------
    dict of str to dict
        See `GrowthOutcome.fans`. The line is ``10 ** (intercept + slope * x)``: a median
        (geometric mean) cost, not a mean.
    """
    years = np.linspace(float(data.year.min()), float(data.year.max()), 40)
    fans = {}
    for method, bayes in fits.items():
        lo_q, hi_q = 0.5 - bayes.level / 2, 0.5 + bayes.level / 2
        slope = bayes.draws("slope", method)
        intercept = bayes.draws("intercept", method)
        lines = 10.0 ** (intercept[:, None] + slope[:, None] * (years[None, :] - bayes.year_ref))
        lo, mid, hi = np.quantile(lines, [lo_q, 0.5, hi_q], axis=0)
        fans[method] = {"years": years, "lo": lo, "mid": mid, "hi": hi,
                        "label": f"Bayesian trend: median (geometric mean) cost, {bayes.level:.0%} interval"}
    return fans


def _fit(data: GrowthData, settings: GrowthSettings, seed: int, *, draws: int | None = None,
         log_likelihood: bool = True, chains: int | None = None, monitor=None):
    from uncertain_cost.growth.bayes import fit_bayes

    return fit_bayes(data, seed=seed, draws=settings.draws if draws is None else draws, tune=settings.tune,
                     chains=settings.chains if chains is None else chains, target_accept=settings.target_accept,
                     level=settings.level, center=settings.center,
                     fail_on_bad_diagnostics=settings.fail_on_bad_diagnostics,
                     r_hat_threshold=settings.r_hat_max, ess_threshold=settings.ess_min, sampler=settings.sampler,
                     log_likelihood=log_likelihood, monitor=monitor)


def _refit_kwargs(settings: GrowthSettings) -> dict:
    """`fit_bayes` options of the backtest's exact refits: the stage's, a quarter of the draws.

    Scores of a predictive need fewer draws than the headline's intervals (1,000 by default).
    The refits check the variables they report (`uncertain_cost.growth.bayes.TREND_MONITORED`),
    and their rows carry the result. Not fewer or differently split draws: the amortized
    choice of forecast model sits at 1.7 standard errors of its 2 SE rule, and another draw
    of the refits' Monte Carlo moves it across (2 chains x 500 draws gave 2.2; docs/growth.md).
    """
    from uncertain_cost.growth.bayes import TREND_MONITORED

    return {"draws": max(100, settings.draws // 4), "tune": settings.tune, "chains": settings.chains,
            "target_accept": settings.target_accept, "level": settings.level, "sampler": settings.sampler,
            "monitor": TREND_MONITORED, "r_hat_threshold": settings.r_hat_max, "ess_threshold": settings.ess_min}


def _backtest_and_choose(data: GrowthData, settings: GrowthSettings, seed: int, fits: dict, fc: dict) -> tuple:
    """Run the leave-future-out backtest; forecast each method from the candidate it chooses (issue 21).

    Parameters
    ----------
    data : GrowthData
    settings : GrowthSettings
    seed : int
    fits : dict of str to BayesResult
        The single-method fit of each method (the backtest's importance-sampling proposal).
    fc : dict
        `_forecast`'s tables (empty without a forecast).

    Returns
    -------
    tuple
        ``(backtest_rows, fc)``; ``fc``'s forecast rows gain the ``forecast_model`` column and
        its attributes ``forecast_models`` when the forecast uses the Poisson runs model, and
        ``fc`` is returned unchanged otherwise.
    """
    from uncertain_cost.growth.backtest import backtest, lfo_forecast

    rows = tuple(backtest(data, fits or None, methods=tuple(fits), seed=seed, validation=settings.validation,
                          center=settings.center, fit_kwargs=_refit_kwargs(settings)))
    if fc.get("rows") and fc.get("runs") is not None:
        chosen_rows, chosen = lfo_forecast(data, rows, fc["rows"], runs=fc["runs"],
                                           thresholds=settings.thresholds_usd, level=settings.level, seed=seed,
                                           center=settings.center)
        fc = {**fc, "rows": tuple(chosen_rows), "columns": (*fc["columns"], "forecast_model"),
              "attrs": {**fc["attrs"], "forecast_models": ", ".join(f"{m}: {c}" for m, c in chosen.items())}}
    return rows, fc


def _refit(settings: GrowthSettings, seed: int):
    """``refit(data, draws) -> BayesResult`` for the robustness checks: the stage's fit, no LOO terms.

    `uncertain_cost.growth.robustness.REFIT_CHAINS` chains (at most the stage's), checked on the
    variables the checks report (`uncertain_cost.growth.bayes.TREND_MONITORED`).
    """
    from uncertain_cost.growth.bayes import TREND_MONITORED
    from uncertain_cost.growth.robustness import REFIT_CHAINS

    def refit(data: GrowthData, draws: int):
        return _fit(data, settings, seed, draws=draws, log_likelihood=False,
                    chains=min(settings.chains, REFIT_CHAINS), monitor=TREND_MONITORED)

    return refit


def fit_growth(data: GrowthData, settings: GrowthSettings, seed: int,
               progress: Callable[[str], None] | None = None, variants=None) -> GrowthOutcome:
    """Fit and forecast the growth of frontier training costs, as configured.

    Parameters
    ----------
    data : GrowthData
        Frontier models' log10 costs (e.g. `growth_data_from_run`).
    settings : GrowthSettings
        The ``[growth]`` and ``[forecast]`` sections.
    seed : int
        The run's seed: every single-method fit uses it.
    progress : callable, optional
        Called with a one-line message before each Bayesian step.
    variants : mapping of str to (str, callable), optional
        Re-simulated costs under other input assumptions for ``growth_robustness``
        (`uncertain_cost.growth.robustness.variant_rows`; the run passes the TPU price checks).

    Returns
    -------
    GrowthOutcome
        With only the OLS rows when ``settings.bayes`` is false.
    """
    from threadpoolctl import threadpool_limits

    # One BLAS thread for the whole stage, so that its numbers do not depend on the CPUs: a
    # threaded matrix product sums in an order that depends on its thread count.
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_growth(data, settings, seed, progress, variants or {})


def _diagnostics_note(method: str, d) -> str:
    return (f"growth fit diagnostics ({method}): R-hat max {d.r_hat_max:.4f}, ESS bulk min {d.ess_bulk_min:.0f}, "
            f"ESS tail min {d.ess_tail_min:.0f}, divergences {d.divergences}")


def _backtest_note(rows, settings: GrowthSettings) -> str | None:
    """One line on the convergence of the backtest's exact refits (their rows carry the figures)."""
    refits = {(r["method"], r["origin"]): r for r in rows if r["model"] == "constant" and r["fit"] == "refit"}
    if not refits:
        return None
    cells = list(refits.values())
    bad = sum(1 for r in cells if not (r["r_hat_max"] <= settings.r_hat_max and r["ess_bulk_min"] >= settings.ess_min
                                       and r["ess_tail_min"] >= settings.ess_min and r["divergences"] == 0))
    return (f"growth backtest: {len(cells)} constant-slope refits at their origins, R-hat max "
            f"{max(r['r_hat_max'] for r in cells):.4f}, ESS bulk min {min(r['ess_bulk_min'] for r in cells):.0f}, "
            f"divergences {sum(r['divergences'] for r in cells)}; {bad} outside R-hat <= {settings.r_hat_max} / "
            f"ESS >= {settings.ess_min:.0f} (growth_backtest.csv)")


def _worst_diagnostics(fits) -> dict:
    ds = [f.diagnostics for f in fits.values()]
    return {"r_hat_max": max(d.r_hat_max for d in ds), "ess_bulk_min": min(d.ess_bulk_min for d in ds),
            "ess_tail_min": min(d.ess_tail_min for d in ds), "divergences": sum(d.divergences for d in ds)}


def _forecast(data: GrowthData, settings: GrowthSettings, fits: dict) -> dict:
    """Forecast tables of the single-method fits: rows, columns, attrs (with nu), sensitivity, runs."""
    from uncertain_cost.growth.forecast import (
        SENSITIVITY_COLUMNS,
        SENSITIVITY_YEAR,
        forecast_costs,
        forecast_sensitivity,
        forecast_table_attrs,
        nu_summary,
        runs_summary,
    )
    from uncertain_cost.growth.runs import fit_runs_per_year

    first = next(iter(fits.values()))
    years = range(int(np.floor(data.year.max())) + 1, settings.forecast_end_year + 1)
    runs = None if settings.models_per_year is not None else fit_runs_per_year(first.frontier_years)
    cache = {}  # the Student-t quantiles of the runs, shared by the forecast and its sensitivity
    forecast = forecast_costs(fits, list(years), thresholds=settings.thresholds_usd,
                              models_per_year=settings.models_per_year, level=settings.level, runs=runs, cache=cache)
    per_year = forecast.models_per_year
    runs_facts = runs_summary(forecast, {m: "single" for m in fits})
    target = SENSITIVITY_YEAR if SENSITIVITY_YEAR in years else years[min(2, len(years) - 1)]
    ks = [4, 7, 12] + ([per_year] if per_year is not None and per_year not in (4, 7, 12) else [])
    sensitivity = tuple(forecast_sensitivity([("single", fit) for fit in fits.values()], target,
                                             models_per_year=[*sorted(ks), None], runs=runs, cache=cache))
    attrs = forecast_table_attrs(runs_facts)
    if "amortized" in fits:  # the tails: what the data say about nu (issue 21)
        attrs.update({k: v for k, v in nu_summary(fits["amortized"]).items() if not k.endswith("_q")})
    return {"forecast": forecast, "rows": tuple(forecast.rows), "columns": tuple(forecast.columns),
            "per_year": per_year, "runs_facts": runs_facts, "attrs": attrs, "runs": runs,
            "sensitivity": sensitivity, "sensitivity_columns": SENSITIVITY_COLUMNS if sensitivity else ()}


#: what a run without the Bayesian fits (``growth.bayes = false``, ``run --quick``) leaves out
OLS_ONLY_NOTE = ("growth: the paper's OLS only (growth.bayes = false, or run --quick): the Bayesian fits, their "
                 "robustness checks, the leave-future-out backtest and the value of information are skipped; the "
                 "forecast is the OLS line with normal errors (forecast_model ols_normal)")


def _ols_forecast(data: GrowthData, settings: GrowthSettings, seed: int) -> dict:
    """Forecast rows of every method from the paper's OLS on point estimates with normal errors.

    The same forecast as the Bayesian one (Poisson runs a year from `fit_runs_per_year`,
    the maximum of the year's runs), with `uncertain_cost.growth.trends.ols_normal_draws`
    as the trend: the forecast of a run without the Bayesian fits.

    Returns
    -------
    dict
        ``rows``, ``columns`` and ``attrs`` of ``forecast.csv``; empty with a fixed
        ``models_per_year`` (this forecast draws the run count) or no method with 3 models.
    """
    from uncertain_cost.growth.forecast import DEFAULT_QUANTILES, forecast_trend
    from uncertain_cost.growth.runs import fit_runs_per_year
    from uncertain_cost.growth.trends import ols_normal_draws

    if settings.models_per_year is not None:
        return {}
    years = list(range(int(np.floor(data.year.max())) + 1, settings.forecast_end_year + 1))
    runs = fit_runs_per_year(data.year)
    rows = []
    for method in data.methods:
        ok = data.costed(method) & np.isfinite(data.log10_cost_point.get(method, np.full(data.year.size, np.nan)))
        if ok.sum() < 3:
            continue
        rng = np.random.default_rng([seed, _OLS_FORECAST_KEY, data.methods.index(method)])
        draws = ols_normal_draws(data.year[ok], data.log10_cost_point[method][ok], rng=rng)
        rows += [{**r, "forecast_model": "ols_normal"} for r in forecast_trend(
            draws, method, years, runs=runs, quantiles=DEFAULT_QUANTILES, thresholds=settings.thresholds_usd,
            level=settings.level, seed=int(rng.integers(2**31)))]
    if not rows:
        return {}
    return {"rows": tuple(rows), "columns": tuple(rows[0]),
            "attrs": {"models_per_year": "poisson", "forecast_models": "every method: ols_normal"}}


_OLS_FORECAST_KEY = 0x4F4C53  # "OLS": the OLS forecast's own random stream


def _fit_growth(data: GrowthData, settings: GrowthSettings, seed: int,
                progress: Callable[[str], None] | None, variants) -> GrowthOutcome:
    import time

    from uncertain_cost.growth.backtest import BACKTEST_COLUMNS
    from uncertain_cost.growth.bayes import combined_idata
    from uncertain_cost.growth.decomposition import VS_PAPER_COLUMNS, vs_paper_rows
    from uncertain_cost.growth.forecast import with_forecast
    from uncertain_cost.growth.priors import PRIOR_SENSITIVITY_COLUMNS, prior_sensitivity
    from uncertain_cost.growth.robustness import ROBUSTNESS_COLUMNS, robustness_rows, variant_rows
    from uncertain_cost.growth.tables import GROWTH_COLUMNS, fit_ols_methods, growth_rows

    say = progress if progress is not None else (lambda message: None)
    t0 = time.perf_counter()
    ols = fit_ols_methods(data, settings.level)
    timings = {"ols": time.perf_counter() - t0}
    paper = next(r for r in growth_rows(ols, None) if r["method"] == "amortized")
    if not settings.bayes:
        fc = _ols_forecast(data, settings, seed) if settings.forecast else {}
        timings["total"] = time.perf_counter() - t0
        return GrowthOutcome(tuple(growth_rows(ols, None)), tuple(GROWTH_COLUMNS),
                             forecast_rows=fc.get("rows", ()), forecast_columns=fc.get("columns", ()),
                             forecast_attrs=fc.get("attrs", {}), notes=(OLS_ONLY_NOTE,),
                             facts=GrowthFacts(headline=None, paper=paper), timings=timings)

    t1 = time.perf_counter()
    fits = {}
    for method in (m for m in data.methods if data.costed(m).any()):
        say(f"growth: Bayesian fit of {method} ({settings.chains} chains x {settings.draws} draws)")
        fits[method] = _fit(data.select([method]), settings, seed)
    timings["bayes"] = time.perf_counter() - t1
    notes = [_diagnostics_note(m, f.diagnostics) for m, f in fits.items()]
    rows = growth_rows(ols, fits)
    headline = next((r for r in rows if r["method"] == "amortized" and r["headline"]), None)
    bayes_rows = {r["method"]: r for r in rows if r["estimator"] == "bayes"}
    t1 = time.perf_counter()
    vs_paper = tuple(vs_paper_rows(data, bayes_rows, settings.center))
    timings["vs_paper"] = time.perf_counter() - t1
    robust = ()
    if "amortized" in fits:
        say("growth: robustness of the headline (leave one model out, start year, input variants)")
        t1 = time.perf_counter()
        refit = _refit(settings, seed)
        robust = tuple(robustness_rows(data, fits["amortized"], "amortized", refit)
                       + variant_rows(fits["amortized"], "amortized", variants, refit, data=data))
        timings["robustness"] = time.perf_counter() - t1
    idata = combined_idata(fits)
    idata.posterior.attrs["fit"] = "bayes"  # which fit's draws results.nc holds (growth table's estimator name)
    fc = {}
    t1 = time.perf_counter()
    if settings.forecast:
        fc = _forecast(data, settings, fits)
        idata = with_forecast(idata, fc["forecast"])
    timings["forecast"] = time.perf_counter() - t1
    backtest_rows = ()
    if settings.backtest:
        say(f"growth: leave-future-out backtest ({settings.validation})")
        t1 = time.perf_counter()
        backtest_rows, fc = _backtest_and_choose(data, settings, seed, fits, fc)
        timings["backtest"] = time.perf_counter() - t1
        notes += [n for n in [_backtest_note(backtest_rows, settings)] if n]
    prior_rows = ()
    if settings.prior_sensitivity and "amortized" in data.methods:
        say("growth: prior sensitivity (each prior scale halved and doubled)")
        t1 = time.perf_counter()
        prior_rows = tuple(prior_sensitivity(data, seed=seed, fit="single", center=settings.center,
                                             sampler=settings.sampler, level=settings.level))
        timings["prior_sensitivity"] = time.perf_counter() - t1
    timings["total"] = time.perf_counter() - t0
    facts = GrowthFacts(headline=headline, paper=paper, single=tuple(bayes_rows.values()),
                        models_per_year=fc.get("per_year"), diagnostics=_worst_diagnostics(fits),
                        runs=fc.get("runs_facts", {}))
    return GrowthOutcome(tuple(rows), tuple(GROWTH_COLUMNS), fc.get("rows", ()), fc.get("columns", ()), idata=idata,
                         fans=trend_fans(fits, data), facts=facts, notes=tuple(notes), timings=timings,
                         vs_paper_rows=vs_paper, vs_paper_columns=VS_PAPER_COLUMNS if vs_paper else (),
                         robustness_rows=robust, robustness_columns=ROBUSTNESS_COLUMNS if robust else (),
                         sensitivity_rows=fc.get("sensitivity", ()),
                         sensitivity_columns=fc.get("sensitivity_columns", ()),
                         backtest_rows=backtest_rows, backtest_columns=BACKTEST_COLUMNS if backtest_rows else (),
                         forecast_attrs=fc.get("attrs", {}), prior_sensitivity_rows=prior_rows,
                         prior_sensitivity_columns=PRIOR_SENSITIVITY_COLUMNS if prior_rows else ())
