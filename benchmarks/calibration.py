"""Engine-in-the-loop calibration of the headline growth fit: interval coverage of known slopes.

Run from the repository root::

    PYTHONPATH=src:. python -m benchmarks.calibration --scenario all --replicates 40 --seed 11 [--workers 2]
    PYTHONPATH=src:. python -m benchmarks.calibration --sbc 100 --seed 11    # benchmarks/sbc.py

What one replicate does (issue 10, item 3):

1. **The real engine.** Once per study, the default config (`uncertain_cost.config.default_config`,
   the repository's ``config.toml``) is resolved (`uncertain_cost.data.load.resolve`) and its
   frontier models are pushed through `uncertain_cost.engine.simulate` for ``mc_draws + first +
   replicates`` draws of the inputs from their priors (draw ``i`` of the engine depends only on
   its seed and ``i``, so a longer run repeats a shorter one's draws). The first ``mc_draws`` draws are the
   Monte Carlo the fit sees (its measurement covariance ``C``); draw ``mc_draws + r`` is the
   "true" input draw of replicate ``r``. Which methods cost which model is the engine's own
   (the real missingness pattern: the five earliest models have no cloud cost, ...).
2. **Known trend.** Per replicate, true slopes ``b_m = b + d_m`` (``b ~ N(0.40, 0.03)``,
   ``d_m ~ N(0, 0.02)`` OOM/yr), intercepts ``a_m`` = the per-method OLS intercept of the
   engine's median costs at ``year_ref = 2020``, and a per-model scatter shared by the
   methods, ``v_i = s t_nu`` (``s ~ U(0.25, 0.5)`` dex, ``nu`` log-uniform in [3, 30]; the
   ``--method-scatter`` option is gone with issue 21). The observed log10 cost of model
   ``i`` under method ``m`` is ``a_m + b_m (t_i - 2020) + v_i + delta_mi``, where
   ``delta_mi`` is the engine's input-driven deviation of that model (truth draw minus the
   median of the Monte Carlo): correlated across models sharing a chip or a shared input,
   and carrying the engine's depreciation sawtooth between methods. The fit's draws are the
   engine's Monte Carlo draws re-centred on those observed costs (median = observed), so its
   covariance ``C`` is the real engine's.
3. **The headline fit.** The growth stage's headline for every method is today the
   single-method fit (PSIS-LOO, docs/growth.md section 3b), so each method is fitted alone
   with `uncertain_cost.growth.bayes.fit_bayes`, sampler, ``target_accept``, ``center`` and
   ``level`` from `GrowthSettings` defaults. Chains, draws and tuning steps default to the
   stage's own (4 x 1000, the sampler's tuning: 300 for nutpie), one core per fit; every
   fit's R-hat, ESS and divergences are recorded and summarised.
4. **Scores.** Whether the 50% and 90% central intervals of each method's slope cover the
   scenario's target slope (and the paper's OLS intervals, as a baseline); for the first two
   forecast years (horizons 1 and 2), the predicted P(most expensive run > $1B)
   (`uncertain_cost.growth.forecast.forecast_costs` with the Poisson runs model of the
   frontier the fit sees) against the true event, and the predictive percentile (PIT) of the
   true maximum with the coverage of its 50% and 90% predictive intervals. The true runs of a
   forecast year follow the same count process as the forecast (issue 21: a Poisson count
   whose rate is a draw of the runs-per-year posterior; before, a fixed ``k`` of 7).
5. **Scenarios** (``--scenario NAME|all``, `benchmarks.worlds`): ``self`` is the world above;
   ``trend_bias``, ``hinge``, ``top10`` and ``mnar`` each break one assumption of the fit.

Replicate ``r`` draws everything from ``SeedSequence(seed, spawn_key=(1, r))`` and the engine
from ``SeedSequence(seed, spawn_key=(0,))``: results do not depend on ``--workers`` or on the
order in which replicates finish. The output is a human-readable table per scenario, then, as
the LAST lines, one JSON object per scenario: ``scenario``, ``coverage_90`` and ``coverage_50``
(headline amortized slope), ``replicates``, ``forecast_coverage_90_h1`` and
``forecast_coverage_90_h2``, per-method coverages, the forecast calibration, diagnostics,
settings, seed and ``runtime_s``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

import numpy as np

__all__ = [
    "EngineMonteCarlo",
    "engine_monte_carlo",
    "run_replicate",
    "map_replicates",
    "run_calibration",
    "summarize",
    "summarize_details",
    "format_table",
    "main",
    "METHODS",
    "YEAR_REF",
]

#: Cost methods, in the engine's order.
METHODS = ("amortized", "cloud", "acquisition")

#: Reference year of the known trend's intercepts.
YEAR_REF = 2020.0

#: Known-trend hyperparameters (see the module docstring).
SLOPE_MEAN, SLOPE_SD, SLOPE_METHOD_SD = 0.40, 0.03, 0.02
SCATTER_RANGE = (0.25, 0.5)
NU_RANGE = (3.0, 30.0)

#: Threshold of the forecast event, USD.
THRESHOLD_USD = 1e9

#: Central levels whose coverage is reported.
LEVELS = (0.5, 0.9)

#: Forecast horizons scored: years after the last publication (1: the first forecast year).
HORIZONS = (1, 2)


@dataclass(frozen=True, eq=False)
class EngineMonteCarlo:
    """The real engine's Monte Carlo of the default config's frontier models.

    Attributes
    ----------
    year : ndarray, shape (n_models,)
        Decimal publication year of every frontier model.
    model : tuple of str
    draws : dict of str to ndarray, shape (mc_draws, n_models)
        log10 cost (constant USD) per method; NaN where the method cannot cost the model.
    median : dict of str to ndarray, shape (n_models,)
        Median of ``draws`` per model (NaN where not costed).
    deviation : dict of str to ndarray, shape (n_truth, n_models)
        Further draws of the inputs minus ``median``: the engine's input-driven deviation
        of each model's cost from its estimate, one row per replicate.
    intercept : dict of str to float
        OLS intercept (log10 USD at `YEAR_REF`) of ``median`` on year, per method.
    seed : int
        Seed of the engine run.
    """

    year: np.ndarray
    model: tuple
    draws: dict
    median: dict
    deviation: dict
    intercept: dict
    seed: int

    @property
    def n_truth(self) -> int:
        """Number of truth draws (replicates this Monte Carlo serves)."""
        return int(next(iter(self.deviation.values())).shape[0])

    def costed(self, method: str) -> np.ndarray:
        """Boolean mask of the models ``method`` costs."""
        return np.isfinite(self.median[method])


def _int_seed(seed_sequence: np.random.SeedSequence) -> int:
    return int(seed_sequence.generate_state(1, dtype=np.uint32)[0])


def engine_monte_carlo(seed: int, mc_draws: int, n_truth: int) -> EngineMonteCarlo:
    """Run the real engine on the default config's frontier models.

    Parameters
    ----------
    seed : int
        Study seed; the engine's seed is derived from it (``spawn_key=(0,)``).
    mc_draws : int
        Draws that form the fit's Monte Carlo (measurement covariance).
    n_truth : int
        Further draws, one "true" input draw per replicate.

    Returns
    -------
    EngineMonteCarlo

    Raises
    ------
    ValueError
        If ``mc_draws < 2`` or ``n_truth < 1``.
    """
    from uncertain_cost.config import default_config
    from uncertain_cost.data.load import resolve
    from uncertain_cost.engine import simulate
    from uncertain_cost.growth.ols import fit_ols
    from uncertain_cost.growth.step import growth_data_from_run

    if mc_draws < 2 or n_truth < 1:
        raise ValueError(f"need mc_draws >= 2 and n_truth >= 1, got {mc_draws} and {n_truth}")
    engine_seed = _int_seed(np.random.SeedSequence(seed, spawn_key=(0,)))
    config = default_config()
    prepared = resolve(config)
    n = mc_draws + n_truth
    sim = simulate(prepared.facts, config.inputs, n, engine_seed, keep_draws=n,
                   chunk_blocks=config.run.chunk_blocks, interconnect_fraction=config.run.interconnect_fraction)
    data = growth_data_from_run(prepared.facts, sim)
    draws, median, deviation, intercept = {}, {}, {}, {}
    for m in METHODS:
        all_draws = np.asarray(data.log10_cost_draws[m])
        costed = np.all(np.isfinite(all_draws), axis=0)
        mc = np.where(costed[None, :], all_draws[:mc_draws], np.nan)
        med = np.where(costed, np.median(np.where(costed[None, :], mc, 0.0), axis=0), np.nan)
        draws[m] = mc
        median[m] = med
        deviation[m] = all_draws[mc_draws:] - med[None, :]
        ols = fit_ols(data.year[costed], 10.0 ** med[costed])
        intercept[m] = float(ols.predict_log10(YEAR_REF))
    return EngineMonteCarlo(year=np.asarray(data.year), model=tuple(data.model), draws=draws, median=median,
                            deviation=deviation, intercept=intercept, seed=engine_seed)


# --------------------------------------------------------------------------------------------
# one replicate

_ENGINE: EngineMonteCarlo | None = None


def _init_worker(engine: EngineMonteCarlo) -> None:
    global _ENGINE
    _ENGINE = engine
    warnings.simplefilter("ignore")


def _central(draws: np.ndarray, level: float) -> tuple[float, float]:
    lo, hi = np.quantile(draws, [0.5 - level / 2.0, 0.5 + level / 2.0])
    return float(lo), float(hi)


def _truth(rng: np.random.Generator, methods: tuple[str, ...]) -> dict:
    b = rng.normal(SLOPE_MEAN, SLOPE_SD)
    slopes = {m: float(b + rng.normal(0.0, SLOPE_METHOD_SD)) for m in methods}
    scatter = float(rng.uniform(*SCATTER_RANGE))
    nu = float(np.exp(rng.uniform(math.log(NU_RANGE[0]), math.log(NU_RANGE[1]))))
    return {"slope": slopes, "scatter": scatter, "nu": nu}


def _pit(pred: np.ndarray, value: float) -> float:
    """Predictive percentile of ``value`` (ties, e.g. "no run" against "no run", count half)."""
    return float(np.mean(pred < value) + 0.5 * np.mean(pred == value))


def run_replicate(index: int, seed: int, *, scenario: str = "self", methods: tuple[str, ...] = METHODS,
                  chains: int = 2, draws: int = 500, tune: int = 500, engine: EngineMonteCarlo | None = None) -> dict:
    """One calibration replicate: a world of ``scenario``, engine errors, headline fits, scores.

    Parameters
    ----------
    index : int
        Replicate number ``r`` (its truth draw and its seed, ``spawn_key=(1, r)``).
    seed : int
        Study seed.
    scenario : str, default "self"
        How the truth is simulated (`benchmarks.worlds.SCENARIOS`).
    methods : tuple of str
        Methods fitted (each alone, the headline model).
    chains, draws, tune : int
        NUTS settings of every fit.
    engine : EngineMonteCarlo, optional
        Default: the one handed to the worker process.

    Returns
    -------
    dict
        ``index``, ``scenario``, ``truth`` (slopes, scatter, nu, the scenario's parameters),
        ``methods`` (per method: target slope, posterior median, interval bounds and coverage
        at each level, OLS coverage, diagnostics, and per forecast horizon ``h`` the predicted
        P(> $1B), the true event and the PIT of the true maximum), ``forecast_years``,
        ``true_runs`` and ``expected_runs`` per forecast year, ``seconds``.
    """
    from benchmarks.worlds import make_world, scenario_rng
    from uncertain_cost.growth.bayes import fit_bayes
    from uncertain_cost.growth.data import GrowthData
    from uncertain_cost.growth.forecast import forecast_costs
    from uncertain_cost.growth.ols import fit_ols
    from uncertain_cost.growth.runs import fit_runs_per_year
    from uncertain_cost.growth.settings import GrowthSettings

    t0 = time.perf_counter()
    eng = engine if engine is not None else _ENGINE
    if eng is None:
        raise ValueError("run_replicate needs an EngineMonteCarlo (engine=...)")
    if not 0 <= index < eng.n_truth:
        raise ValueError(f"replicate {index} has no truth draw (the engine run has {eng.n_truth})")
    settings = GrowthSettings()
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, index)))
    # every random number is drawn for all METHODS, in a fixed order, whichever are fitted: the
    # amortized result of replicate r is the same in a run of one method and of all three
    truth = _truth(rng, METHODS)
    truth["index"] = int(index)
    v = truth["scatter"] * rng.standard_t(truth["nu"], eng.year.size)
    fit_seeds = {m: int(s) for m, s in zip(METHODS, rng.integers(0, 2**31 - 1, len(METHODS)), strict=True)}
    first_year = int(math.floor(float(eng.year.max()))) + 1
    years = [first_year + h - 1 for h in HORIZONS]
    world = make_world(scenario, eng, truth, v, scenario_rng(seed, index, scenario),
                       fit_runs_per_year(eng.year), years, METHODS)
    runs = fit_runs_per_year(world.year)  # the forecast's runs model, of the frontier the fit sees
    truth = {**truth, "slope": {m: truth["slope"][m] for m in methods}, "scenario": world.info}
    out, expected = {}, {}
    for m in methods:
        observed = world.observed[m]
        costed = np.isfinite(observed)
        src = eng.draws[m][:, world.engine_index]
        mc = src - eng.median[m][world.engine_index][None, :] + observed[None, :]
        data = GrowthData(world.year, {m: mc}, model=tuple(eng.model[i] for i in world.engine_index))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = fit_bayes(data, seed=fit_seeds[m], draws=draws, tune=tune, chains=chains, cores=1,
                            target_accept=settings.target_accept, level=settings.level,
                            center=settings.center, sampler=settings.sampler, r_hat_threshold=settings.r_hat_max,
                            log_likelihood=False)
            fc = forecast_costs(fit, years, thresholds=(THRESHOLD_USD,), runs=runs)
        expected = {int(y): float(fc.expected_runs[y]) for y in years}
        slope = fit.draws("slope", m)
        b = world.target_slope[m]
        row = {"true_slope": b, "slope_median": float(np.median(slope)), "n_models": int(costed.sum())}
        for level in LEVELS:
            tag = f"{round(level * 100)}"
            lo, hi = _central(slope, level)
            ols = fit_ols(world.year[costed], 10.0 ** observed[costed], level=level)
            row[f"lo_{tag}"], row[f"hi_{tag}"] = lo, hi
            row[f"covered_{tag}"] = bool(lo <= b <= hi)
            row[f"ols_covered_{tag}"] = bool(ols.slope_lo <= b <= ols.slope_hi)
        d = fit.diagnostics
        row.update(r_hat_max=float(d.r_hat_max), ess_bulk_min=float(d.ess_bulk_min),
                   ess_tail_min=float(d.ess_tail_min), divergences=int(d.divergences))
        pred = np.asarray(fc.predictive["max_log10_cost"].values)  # (chain, draw, method, year)
        for h, y in zip(HORIZONS, years, strict=True):
            true_max = world.future_max[y][m]
            pred_y = pred[:, :, 0, h - 1].reshape(-1)
            row[f"h{h}"] = {"prob_gt_1e9": float(fc.rows[h - 1]["prob_gt_1e9"]),
                            "event_gt_1e9": bool(true_max > math.log10(THRESHOLD_USD)),
                            "true_max_log10": true_max if math.isfinite(true_max) else None,
                            "pit": _pit(pred_y, true_max)}
        out[m] = row
    return {"index": int(index), "scenario": scenario, "truth": truth, "methods": out, "forecast_years": years,
            "true_runs": {str(y): world.future_runs[y] for y in years},
            "expected_runs": {str(y): expected.get(y) for y in years}, "seconds": time.perf_counter() - t0}


def _scenario_rank(result: dict) -> int:
    from benchmarks.worlds import SCENARIOS

    return SCENARIOS.index(result.get("scenario", "self"))


def _replicate_task(args: tuple) -> dict:
    index, seed, kwargs = args
    return run_replicate(index, seed, **kwargs)


# --------------------------------------------------------------------------------------------
# the study

def map_replicates(func, tasks: list, engine: EngineMonteCarlo, workers: int, on_result=None) -> list:
    """Run ``func(task)`` for every task, in a process pool of ``workers`` (1: in this process).

    The workers are spawned (not forked: the parent's numba threads must not be copied), get
    ``engine`` once through the pool initializer, and use one BLAS/numba thread each.

    Parameters
    ----------
    func : callable
        A module-level function of one task returning a dict with ``"index"``.
    tasks : list
    engine : EngineMonteCarlo
    workers : int
    on_result : callable, optional
        Called as ``on_result(result, n_done)`` as results arrive (in task order).

    Returns
    -------
    list of dict
        Sorted by ``"index"``.
    """
    results = []
    if workers == 1:
        _init_worker(engine)
        for task in tasks:
            results.append(func(task))
            if on_result is not None:
                on_result(results[-1], len(results))
    else:
        env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)  # inherited by the spawned workers: one thread each
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                                     initializer=_init_worker, initargs=(engine,)) as pool:
                for result in pool.map(func, tasks):
                    results.append(result)
                    if on_result is not None:
                        on_result(result, len(results))
        finally:
            for k, value in saved.items():
                if value is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = value
    return sorted(results, key=lambda r: (_scenario_rank(r), r["index"]))


def run_study(replicates: int, seed: int, *, scenarios: tuple[str, ...] = ("self",), workers: int = 2,
              methods: tuple[str, ...] = METHODS, mc_draws: int = 2000, chains: int = 2, draws: int = 500,
              tune: int = 500, first: int = 0, progress=None) -> list[dict]:
    """Run the calibration study of each scenario (one engine run, one process pool) and summarise each.

    Parameters
    ----------
    replicates : int
        Number of replicates per scenario (>= 1).
    seed : int
        Study seed (engine and every replicate derive theirs from it).
    scenarios : tuple of str, default ("self",)
        Among `benchmarks.worlds.SCENARIOS`.
    workers : int, default 2
        Processes of the pool (1: in this process). Results do not depend on it.
    methods : tuple of str
        Methods fitted per replicate.
    mc_draws : int, default 2000
        Engine draws forming the fit's Monte Carlo.
    chains, draws, tune : int, default 2, 500, 500
        NUTS settings of every fit.
    first : int, default 0
        Index of the first replicate: the run does replicates ``first .. first + replicates - 1``
        (a shard of a larger study; shards of one seed combine with ``--summarize``).
    progress : callable, optional
        Called as ``progress(line, result)`` per finished replicate (a one-line message and
        the replicate's dict).

    Returns
    -------
    list of dict
        Per scenario, in the order given: `summarize` of its replicates, plus ``runtime_s``
        (of the whole study), ``workers`` and ``replicate_results`` (in replicate order).
    """
    from benchmarks.worlds import SCENARIOS

    if replicates < 1:
        raise ValueError(f"replicates must be >= 1, got {replicates}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if first < 0:
        raise ValueError(f"first must be >= 0, got {first}")
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(f"methods must be among {METHODS}, got {methods}")
    bad = [s for s in scenarios if s not in SCENARIOS]
    if bad or not scenarios:
        raise ValueError(f"unknown scenario {bad[0] if bad else ''!r}; expected one of {', '.join(SCENARIOS)} or all")
    t0 = time.perf_counter()
    engine = engine_monte_carlo(seed, mc_draws, first + replicates)
    kwargs = {"methods": tuple(methods), "chains": chains, "draws": draws, "tune": tune}
    tasks = [(r, seed, {**kwargs, "scenario": s}) for s in scenarios for r in range(first, first + replicates)]
    say = progress if progress is not None else (lambda line, result=None: None)
    results = map_replicates(_replicate_task, tasks, engine, workers,
                             lambda r, done: say(_progress_line(r, done, len(tasks)), r))
    out = []
    for s in scenarios:
        mine = [r for r in results if r["scenario"] == s]
        summary = summarize(mine, seed=seed, settings={**kwargs, "mc_draws": mc_draws})
        summary["runtime_s"] = round(time.perf_counter() - t0, 1)
        summary["workers"] = workers
        summary["replicate_results"] = mine
        out.append(summary)
    return out


def run_calibration(replicates: int, seed: int, *, scenario: str = "self", **kwargs) -> dict:
    """`run_study` of one scenario.

    Parameters
    ----------
    replicates, seed : int
    scenario : str, default "self"
    **kwargs
        As `run_study` (``workers``, ``methods``, ``mc_draws``, ``chains``, ``draws``,
        ``tune``, ``first``, ``progress``).

    Returns
    -------
    dict
        The scenario's summary.
    """
    return run_study(replicates, seed, scenarios=(scenario,), **kwargs)[0]


def _progress_line(result: dict, done: int, total: int) -> str:
    cells = ", ".join(f"{m} {'in' if r['covered_90'] else 'OUT'}" for m, r in result["methods"].items())
    return (f"{result['scenario']} replicate {result['index']} ({done}/{total}, {result['seconds']:.1f} s): "
            f"90% interval {cells}")


def _wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def summarize(results: list[dict], *, seed: int, settings: dict) -> dict:
    """Coverage, forecast calibration and diagnostics over replicates.

    Parameters
    ----------
    results : list of dict
        `run_replicate` outputs.
    seed : int
    settings : dict
        Recorded as ``settings`` (with the sampler, ``target_accept`` and ``level`` of
        `GrowthSettings`).

    Returns
    -------
    dict
        ``scenario``, ``replicates``, ``seed``, ``coverage_90`` and ``coverage_50`` (headline amortized slope,
        or the first method fitted when amortized is not), ``coverage_90_by_method``,
        ``coverage_50_by_method``, ``coverage_90_all`` and ``coverage_50_all`` (every method's
        interval), ``coverage_90_wilson95`` (95% Wilson interval of ``coverage_90``),
        ``ols_coverage_90_by_method``, ``ols_coverage_50_by_method``,
        ``interval_width_90_by_method`` (mean, OOM/yr), ``forecast`` (per method and horizon
        ``h1``, ``h2``: ``brier``, ``mean_predicted``, ``observed_frequency``, ``pit_coverage_90``,
        ``pit_coverage_50``, ``mean_pit``; plus ``years`` and the mean true and expected runs
        per year), ``forecast_coverage_90_h1``/``_h2`` and ``forecast_coverage_50_h1``/``_h2``
        (the headline method's predictive intervals of the true maximum), ``diagnostics`` (``r_hat_max``,
        ``ess_bulk_min``, ``ess_tail_min``, ``divergences`` over every fit, ``fits``,
        ``fits_r_hat_over_1_01``), ``settings``.
    """
    from uncertain_cost.growth.settings import GrowthSettings

    n = len(results)
    methods = tuple(results[0]["methods"]) if results else ()
    headline = "amortized" if "amortized" in methods else (methods[0] if methods else None)

    def rate(method, key):
        return sum(bool(r["methods"][method][key]) for r in results) / n

    out: dict = {"scenario": results[0].get("scenario", "self") if results else None, "replicates": n,
                 "seed": seed, "headline_method": headline}
    for tag in ("90", "50"):
        out[f"coverage_{tag}"] = rate(headline, f"covered_{tag}") if headline else math.nan
    for tag in ("90", "50"):
        out[f"coverage_{tag}_by_method"] = {m: rate(m, f"covered_{tag}") for m in methods}
    for tag in ("90", "50"):
        cells = [r["methods"][m][f"covered_{tag}"] for r in results for m in methods]
        out[f"coverage_{tag}_all"] = sum(map(bool, cells)) / len(cells) if cells else math.nan
    k90 = sum(bool(r["methods"][headline]["covered_90"]) for r in results) if headline else 0
    out["coverage_90_wilson95"] = [round(x, 4) for x in _wilson(k90, n)]
    for tag in ("90", "50"):
        out[f"ols_coverage_{tag}_by_method"] = {m: rate(m, f"ols_covered_{tag}") for m in methods}
    out["interval_width_90_by_method"] = {
        m: float(np.mean([r["methods"][m]["hi_90"] - r["methods"][m]["lo_90"] for r in results])) for m in methods}
    out["slope_bias_by_method"] = {
        m: float(np.mean([r["methods"][m]["slope_median"] - r["methods"][m]["true_slope"] for r in results]))
        for m in methods}
    forecast = {"years": results[0]["forecast_years"] if results else None,
                "threshold_usd": THRESHOLD_USD,
                "true_runs_mean": {y: float(np.mean([r["true_runs"][y] for r in results]))
                                   for y in (results[0]["true_runs"] if results else {})},
                "expected_runs_mean": {y: float(np.mean([r["expected_runs"][y] for r in results]))
                                       for y in (results[0]["expected_runs"] if results else {})}}
    for m in methods:
        forecast[m] = {}
        for h in HORIZONS:
            cells = [r["methods"][m][f"h{h}"] for r in results]
            p = np.array([c["prob_gt_1e9"] for c in cells])
            y = np.array([c["event_gt_1e9"] for c in cells], dtype=float)
            pit = np.array([c["pit"] for c in cells])
            forecast[m][f"h{h}"] = {
                "brier": float(np.mean((p - y) ** 2)),
                "brier_climatology": float(np.mean((np.mean(y) - y) ** 2)),
                "mean_predicted": float(np.mean(p)),
                "observed_frequency": float(np.mean(y)),
                "events": int(y.sum()),
                "mean_pit": float(np.mean(pit)),
                "pit_coverage_90": float(np.mean((pit >= 0.05) & (pit <= 0.95))),
                "pit_coverage_50": float(np.mean((pit >= 0.25) & (pit <= 0.75))),
            }
    if headline:
        for h in HORIZONS:
            out[f"forecast_coverage_90_h{h}"] = forecast[headline][f"h{h}"]["pit_coverage_90"]
            out[f"forecast_coverage_50_h{h}"] = forecast[headline][f"h{h}"]["pit_coverage_50"]
    out["forecast"] = forecast
    fits = [r["methods"][m] for r in results for m in methods]
    out["diagnostics"] = {
        "fits": len(fits),
        "r_hat_max": max((f["r_hat_max"] for f in fits), default=math.nan),
        "ess_bulk_min": min((f["ess_bulk_min"] for f in fits), default=math.nan),
        "ess_tail_min": min((f["ess_tail_min"] for f in fits), default=math.nan),
        "divergences": sum(f["divergences"] for f in fits),
        "fits_with_divergences": sum(f["divergences"] > 0 for f in fits),
        "fits_r_hat_over_1_01": sum(f["r_hat_max"] > 1.01 for f in fits),
    }
    gs = GrowthSettings()
    out["settings"] = {**settings, "methods": list(settings.get("methods", methods)), "sampler": gs.sampler,
                       "target_accept": gs.target_accept, "center": gs.center, "model": "single-method (headline)"}
    return out


def summarize_details(paths, *, seed: int, settings: dict) -> list[dict]:
    """Summarise the per-replicate JSON lines written by ``--details`` (shards or a partial run).

    Parameters
    ----------
    paths : sequence of str
        Files of one study (same seed and settings). Lines of the same scenario and replicate
        index are merged: the methods of a ``--methods amortized`` file and of a ``--methods
        cloud,acquisition`` file of one seed make the three-method replicate (a method seen
        twice is counted once).
    seed : int
    settings : dict

    Returns
    -------
    list of dict
        Per scenario found (in `benchmarks.worlds.SCENARIOS` order): `summarize` of its
        replicates, in index order, with ``indices`` and ``replicate_results``.

    Raises
    ------
    ValueError
        With no replicate line, or replicates of one scenario with different methods.
    """
    from benchmarks.worlds import SCENARIOS

    seen = {}
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    r = json.loads(line)
                    r.setdefault("scenario", "self")
                    have = seen.setdefault((r["scenario"], r["index"]), r)
                    if have is not r:
                        for m, row in r["methods"].items():
                            have["methods"].setdefault(m, row)
                            have["truth"]["slope"].setdefault(m, r["truth"]["slope"][m])
    if not seen:
        raise ValueError(f"no replicate results in {list(paths)}")
    out = []
    for scenario in [s for s in SCENARIOS if any(k[0] == s for k in seen)]:
        mine = {i: r for (s, i), r in seen.items() if s == scenario}
        methods = {tuple(sorted(r["methods"])) for r in mine.values()}
        if len(methods) != 1:
            raise ValueError(f"replicates of {list(paths)} ({scenario}) do not all have the same methods: "
                             f"{sorted(methods)}")
        order = [m for m in METHODS if m in next(iter(methods))]
        for r in mine.values():
            r["methods"] = {m: r["methods"][m] for m in order}
        results = [mine[i] for i in sorted(mine)]
        summary = summarize(results, seed=seed, settings=settings)
        summary["indices"] = f"{min(mine)}..{max(mine)}" if len(mine) == max(mine) - min(mine) + 1 else sorted(mine)
        summary["replicate_results"] = results
        out.append(summary)
    return out


def format_table(summary: dict) -> str:
    """Human-readable table of a `run_calibration` summary.

    Parameters
    ----------
    summary : dict

    Returns
    -------
    str
    """
    s = summary
    lines = [f"Engine-in-the-loop calibration, scenario {s.get('scenario', 'self')}: {s['replicates']} replicates, "
             f"seed {s['seed']}, "
             f"{s['settings']['chains']} chains x {s['settings']['draws']} draws (+{s['settings']['tune']} tune), "
             f"sampler {s['settings']['sampler']}, engine Monte Carlo {s['settings']['mc_draws']} draws",
             "",
             f"{'method':<12} {'cover 90%':>9} {'cover 50%':>9} {'OLS 90%':>8} {'OLS 50%':>8} "
             f"{'width 90%':>9} {'bias':>8}"]
    for m in s["coverage_90_by_method"]:
        lines.append(f"{m:<12} {s['coverage_90_by_method'][m]:>9.3f} {s['coverage_50_by_method'][m]:>9.3f} "
                     f"{s['ols_coverage_90_by_method'][m]:>8.3f} {s['ols_coverage_50_by_method'][m]:>8.3f} "
                     f"{s['interval_width_90_by_method'][m]:>9.3f} {s['slope_bias_by_method'][m]:>+8.3f}")
    lo, hi = s["coverage_90_wilson95"]
    lines += [f"{'all':<12} {s['coverage_90_all']:>9.3f} {s['coverage_50_all']:>9.3f}",
              f"headline ({s['headline_method']}) 90% coverage {s['coverage_90']:.3f}, 95% Wilson interval "
              f"{lo:.3f}-{hi:.3f}", ""]
    f = s["forecast"]
    lines.append(f"Most expensive frontier run of {', '.join(map(str, f['years']))} (horizons "
                 f"{', '.join(map(str, HORIZONS))}; mean true runs {f['true_runs_mean']}, mean expected "
                 f"{ {y: round(v, 1) for y, v in f['expected_runs_mean'].items()} }):")
    lines.append(f"{'method':<12} {'h':>2} {'Brier':>7} {'clim.':>7} {'mean p':>7} {'freq':>6} {'events':>6} "
                 f"{'PIT 90%':>8} {'PIT 50%':>8} {'mean PIT':>8}")
    for m in s["coverage_90_by_method"]:
        for h in HORIZONS:
            r = f[m][f"h{h}"]
            lines.append(f"{m:<12} {h:>2} {r['brier']:>7.4f} {r['brier_climatology']:>7.4f} "
                         f"{r['mean_predicted']:>7.3f} {r['observed_frequency']:>6.3f} {r['events']:>6d} "
                         f"{r['pit_coverage_90']:>8.3f} {r['pit_coverage_50']:>8.3f} {r['mean_pit']:>8.3f}")
    d = s["diagnostics"]
    lines += ["", f"diagnostics over {d['fits']} fits: R-hat max {d['r_hat_max']:.4f} "
              f"({d['fits_r_hat_over_1_01']} fits > 1.01), bulk/tail ESS min {d['ess_bulk_min']:.0f}/"
              f"{d['ess_tail_min']:.0f}, divergences {d['divergences']} (in {d['fits_with_divergences']} fits)"]
    if "runtime_s" in s:
        lines.append(f"runtime {s['runtime_s']:.1f} s with {s.get('workers')} worker(s)")
    return "\n".join(lines)


def _scenarios(text: str) -> tuple[str, ...]:
    """The scenarios of ``--scenario``: a name, a comma-separated list, or ``all``."""
    from benchmarks.worlds import SCENARIOS

    names = SCENARIOS if text.strip() == "all" else tuple(x.strip() for x in text.split(",") if x.strip())
    bad = [n for n in names if n not in SCENARIOS]
    if bad or not names:
        raise ValueError(f"unknown scenario {bad[0] if bad else text!r}; expected one of {', '.join(SCENARIOS)} or all")
    return names


def _json_ready(summary: dict) -> dict:
    def clean(x):
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        if isinstance(x, float):
            return round(x, 6) if math.isfinite(x) else None
        return x

    return clean({k: v for k, v in summary.items() if k != "replicate_results"})


def study_progress(details_path: str | None, quiet: bool):
    """Progress callback of a study's command line: lines to stderr, results to a JSON-lines file.

    Parameters
    ----------
    details_path : str or None
        ``--details``: each replicate's result is appended here as it finishes.
    quiet : bool
        ``--quiet``: no progress lines.

    Returns
    -------
    progress : callable
        ``progress(line, result=None)``, as `map_replicates` calls it.
    details : file or None
        The open details file, for the caller to close.
    """
    details = open(details_path, "w", encoding="utf-8") if details_path else None  # noqa: SIM115

    def progress(line, result=None):
        if not quiet:
            print(line, file=sys.stderr, flush=True)
        if details is not None and result is not None:
            details.write(json.dumps(result) + "\n")
            details.flush()

    return progress, details


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--replicates N --seed S [--workers W]`` (or ``--sbc N``); prints table and JSON.

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.calibration", description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=40)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated methods to fit")
    parser.add_argument("--mc-draws", type=int, default=2000, help="engine draws forming the fit's Monte Carlo")
    parser.add_argument("--chains", type=int, default=None, help="default: the growth stage's (4)")
    parser.add_argument("--draws", type=int, default=None, help="default: the growth stage's (1000)")
    parser.add_argument("--tune", type=int, default=None,
                        help="default: the growth stage's sampler's (DEFAULT_TUNE: 300 for nutpie)")
    parser.add_argument("--scenario", default="self",
                        help="world the truth is simulated from: self, trend_bias, hinge, top10, mnar, a "
                             "comma-separated list, or all (benchmarks/worlds.py)")
    parser.add_argument("--sbc", type=int, default=0, metavar="N",
                        help="run N simulation-based-calibration replicates instead (python -m benchmarks.sbc)")
    parser.add_argument("--first", type=int, default=0, help="index of the first replicate (a shard of a study)")
    parser.add_argument("--summarize", nargs="+", default=None, metavar="JSONL",
                        help="summarise --details files of one seed (shards or a partial run) instead of running")
    parser.add_argument("--quiet", action="store_true", help="no per-replicate progress lines")
    parser.add_argument("--details", default=None,
                        help="also write each replicate's result to this file as it finishes (JSON lines)")
    args = parser.parse_args(argv)
    if args.sbc and not args.summarize:  # the SBC command, with its own defaults for what is not given
        from benchmarks.sbc import main as sbc_main

        forwarded = ["--replicates", str(args.sbc), "--seed", str(args.seed), "--workers", str(args.workers),
                     "--mc-draws", str(args.mc_draws), "--first", str(args.first)]
        for flag, value in (("--chains", args.chains), ("--draws", args.draws), ("--tune", args.tune),
                            ("--details", args.details)):
            if value is not None:
                forwarded += [flag, str(value)]
        return sbc_main(forwarded + (["--quiet"] if args.quiet else []))
    from uncertain_cost.growth.bayes import DEFAULT_TUNE
    from uncertain_cost.growth.settings import GrowthSettings

    stage = GrowthSettings()
    chains = stage.chains if args.chains is None else args.chains
    draws = stage.draws if args.draws is None else args.draws
    tune = (DEFAULT_TUNE[stage.sampler] if stage.tune is None else stage.tune) if args.tune is None else args.tune
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    progress, details = study_progress(args.details, args.quiet)

    try:
        scenarios = _scenarios(args.scenario)
        if args.summarize:
            results = summarize_details(args.summarize, seed=args.seed, settings={
                "methods": methods, "chains": chains, "draws": draws, "tune": tune, "mc_draws": args.mc_draws})
        else:
            results = run_study(args.replicates, args.seed, scenarios=scenarios, workers=args.workers,
                                methods=methods, mc_draws=args.mc_draws, chains=chains, draws=draws, tune=tune,
                                first=args.first, progress=progress)
        for result in results:
            print(format_table(result) + "\n")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if details is not None:
            details.close()
    for result in results:  # the last lines: one JSON object per scenario
        print(json.dumps(_json_ready(result), sort_keys=False))
    return 0


if __name__ == "__main__":
    # run the importable module, so the pool pickles its functions by their module name
    from benchmarks.calibration import main as _main

    sys.exit(_main())
