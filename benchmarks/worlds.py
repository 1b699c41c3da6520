"""Simulated worlds of the calibration study: the true costs, what the fit observes, the future maxima.

One replicate of `benchmarks.calibration` draws a world from a *scenario*. The well-specified
one (``"self"``) is the fitted model's own family; the others break one assumption each
(issue 21, item 6):

``self``
    Straight line, iid Student-t scatter ``v_i = s t_nu``, the engine's own covariance, an
    unbiased engine; the runs of a forecast year are ``k ~ Poisson(rate_Y)`` with the rate a
    draw of the runs-per-year posterior of the frontier years
    (`uncertain_cost.growth.runs.fit_runs_per_year`), the same process the forecast uses.
``trend_bias``
    The engine's estimate is biased by ``c (t - 2020)`` dex, ``c ~ U(-BIAS_MAX, BIAS_MAX)``
    OOM/yr (an input assumption, e.g. utilisation or price per FLOP, that drifts with
    time): the observed costs grow at ``b + c``, the true ones at ``b``.
``hinge``
    The true trend bends at ``tau ~ U(HINGE_RANGE)`` by ``db ~ U(-HINGE_MAX, HINGE_MAX)``
    OOM/yr; the target slope is the least-squares slope of the true trend line over the
    costed models' years (the pseudo-true value of a straight-line fit); the future runs
    follow the bent line.
``top10``
    A population of notable models (``TOP10_RATE exp(TOP10_GROWTH (Y - 2015))`` a year,
    Poisson) with log compute ``b (t - 2020) + TOP10_COMPUTE_SD z`` and log cost = log
    compute + ``TOP10_COST_SD`` normal; a model is a frontier model when its compute is in
    the running top 10 at publication. The fit sees the frontier entries within the engine's
    years (matched at random to engine models, whose Monte Carlo errors and costed pattern
    they take), the runs model counts them, and the truth of a forecast year is the most
    expensive of *all* its frontier entries. The target slope is the population's ``b``.
``mnar``
    Missing not at random: among the models the engine costs, a model whose true scatter is
    high is more likely to be dropped (no hardware known), ``P(drop) = MNAR_MAX /
    (1 + exp(-MNAR_STEEPNESS (v_i / s - 1)))``: the costliest runs go missing.

Random numbers: the common truth (slopes, scatter, ``nu``, ``v``) comes from the replicate's
stream (`benchmarks.calibration`); each scenario's own numbers come from
``SeedSequence(seed, spawn_key=(2, r, scenario index))``, so the scenarios of one replicate
share their common truth.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["SCENARIOS", "World", "make_world", "scenario_rng", "trend_slope"]

#: Scenarios, the well-specified one first.
SCENARIOS = ("self", "trend_bias", "hinge", "top10", "mnar")

#: Reference year of the trends (as `benchmarks.calibration.YEAR_REF`).
YEAR_REF = 2020.0

BIAS_MAX = 0.06
HINGE_RANGE = (2019.0, 2022.0)
HINGE_MAX = 0.25
TOP10_N = 10
TOP10_RATE, TOP10_GROWTH = 20.0, 0.2
TOP10_COMPUTE_SD, TOP10_COST_SD = 1.2, 0.35
TOP10_START = 2005
MNAR_MAX, MNAR_STEEPNESS = 0.8, 2.5


@dataclass(frozen=True, eq=False)
class World:
    """One simulated world, as the fit sees it and as it truly is.

    Attributes
    ----------
    year : ndarray, shape (n,)
        Publication years of the frontier models the fit sees (costed or not).
    engine_index : ndarray of int, shape (n,)
        Engine model whose Monte Carlo errors and costed pattern each model takes.
    observed : dict of str to ndarray, shape (n,)
        Observed log10 cost per method (NaN where not costed).
    target_slope : dict of str to float
        The slope the fit's interval should cover, per method.
    future_max : dict of int to dict of str to float
        True log10 maximum cost of the frontier runs of each forecast year, per method
        (``-inf``: no run that year).
    future_runs : dict of int to int
        True number of frontier runs of each forecast year.
    info : dict
        Scenario parameters (JSON-ready).
    """

    year: np.ndarray
    engine_index: np.ndarray
    observed: dict
    target_slope: dict
    future_max: dict
    future_runs: dict
    info: dict


def scenario_rng(seed: int, index: int, scenario: str) -> np.random.Generator:
    """The scenario's own random stream of replicate ``index``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2, int(index), SCENARIOS.index(scenario))))


def trend_slope(years, line) -> float:
    """Least-squares slope of ``line(years)`` on ``years`` (the pseudo-true straight-line slope)."""
    x = np.asarray(years, dtype=np.float64)
    y = line(x)
    xc = x - x.mean()
    return float(np.sum(xc * (y - y.mean())) / np.sum(xc * xc))


def _future_runs(rng, runs, years) -> tuple[dict, dict]:
    """Per forecast year: true run count (Poisson, a rate drawn from ``runs``) and run times."""
    a, b = runs.sample(1, rng)
    rate = runs.rate(years, a, b)[0]
    counts = {int(y): int(rng.poisson(rate[i])) for i, y in enumerate(years)}
    times = {y: y + rng.random(k) for y, k in counts.items()}
    return counts, times


def _line_world(eng, truth, v, rng, runs, years, methods, scenario):
    """Every scenario but ``top10``: the engine's models, a (bent or biased) line plus scatter."""
    year = eng.year
    counts, times = _future_runs(rng, runs, years)
    run_v = {y: truth["scatter"] * rng.standard_t(truth["nu"], k) for y, k in counts.items()}
    info = {}
    bias_c, tau, db = 0.0, None, 0.0
    if scenario == "trend_bias":
        bias_c = float(rng.uniform(-BIAS_MAX, BIAS_MAX))
        info["bias_slope"] = bias_c
    if scenario == "hinge":
        tau, db = float(rng.uniform(*HINGE_RANGE)), float(rng.uniform(-HINGE_MAX, HINGE_MAX))
        info.update(hinge_year=tau, slope_change=db)
    keep = np.ones(year.size, bool)
    if scenario == "mnar":
        z = v / truth["scatter"]
        p_drop = MNAR_MAX / (1.0 + np.exp(-MNAR_STEEPNESS * (z - 1.0)))
        keep = rng.random(year.size) >= p_drop
        info["dropped"] = int((~keep).sum())
    observed, target, future = {}, {}, {y: {} for y in counts}
    for m in methods:
        a, b = eng.intercept[m], truth["slope"][m]

        def line(t, a=a, b=b):
            out = a + b * (t - YEAR_REF)
            return out + db * np.maximum(0.0, t - tau) if tau is not None else out

        costed = eng.costed(m) & keep
        obs = line(year) + v + bias_c * (year - YEAR_REF) + eng.deviation[m][truth["index"]]
        observed[m] = np.where(costed, obs, np.nan)
        target[m] = trend_slope(year[costed], line) if tau is not None else b
        for y in counts:
            run = line(times[y]) + run_v[y]
            future[y][m] = float(run.max()) if run.size else -math.inf
    return World(year=year, engine_index=np.arange(year.size), observed=observed, target_slope=target,
                 future_max=future, future_runs=counts, info=info)


def _top10_population(rng, b, last_year):
    """Notable models up to ``last_year``: times, log compute, log cost; and the frontier flag."""
    times = []
    for y in range(TOP10_START, last_year + 1):
        times.append(y + rng.random(rng.poisson(TOP10_RATE * math.exp(TOP10_GROWTH * (y - 2015)))))
    t = np.sort(np.concatenate(times))
    compute = b * (t - YEAR_REF) + TOP10_COMPUTE_SD * rng.standard_normal(t.size)
    cost = compute + TOP10_COST_SD * rng.standard_normal(t.size)
    heap, frontier = [], np.zeros(t.size, bool)
    for i, c in enumerate(compute):
        if len(heap) < TOP10_N:
            heapq.heappush(heap, c)
            frontier[i] = True
        elif c > heap[0]:
            heapq.heapreplace(heap, c)
            frontier[i] = True
    return t, cost, frontier


def _top10_world(eng, truth, rng, years, methods):
    b = float(np.mean([truth["slope"][m] for m in methods]))
    t, cost, frontier = _top10_population(rng, b, int(max(years)))
    lo, hi = float(eng.year.min()), float(eng.year.max())
    window = np.flatnonzero(frontier & (t >= lo) & (t <= hi))
    n_eng = eng.year.size
    if window.size > n_eng:  # the data record a subset of the entries (as many as the engine has)
        window = np.sort(rng.choice(window, n_eng, replace=False))
    engine_index = np.sort(rng.choice(n_eng, window.size, replace=False))
    year = t[window]
    x = year - YEAR_REF
    shift = float(np.polyfit(x, cost[window], 1)[1])  # the entries' straight line at 2020 -> the engine's intercept
    base = cost[window] - shift
    observed, target = {}, {}
    future = {int(y): {} for y in years}
    counts = {int(y): int(np.sum(frontier & (np.floor(t) == y))) for y in years}
    for m in methods:
        a, dm = eng.intercept[m], truth["slope"][m] - b
        obs = a + base + dm * x + eng.deviation[m][truth["index"]][engine_index]
        observed[m] = np.where(eng.costed(m)[engine_index], obs, np.nan)
        target[m] = truth["slope"][m]
        for y in counts:
            sel = frontier & (np.floor(t) == y)
            run = a + cost[sel] - shift + dm * (t[sel] - YEAR_REF)
            future[y][m] = float(run.max()) if run.size else -math.inf
    info = {"frontier_entries_in_window": int(np.sum(frontier & (t >= lo) & (t <= hi))), "models_seen": int(year.size)}
    return World(year=year, engine_index=engine_index, observed=observed, target_slope=target, future_max=future,
                 future_runs=counts, info=info)


def make_world(scenario: str, eng, truth: dict, v: np.ndarray, rng: np.random.Generator, runs, years,
               methods) -> World:
    """Draw the world of one replicate under ``scenario``.

    Parameters
    ----------
    scenario : str
        One of `SCENARIOS`.
    eng : benchmarks.calibration.EngineMonteCarlo
    truth : dict
        The replicate's common truth: ``slope`` (per method), ``scatter``, ``nu``, ``index``
        (the replicate, i.e. the engine's truth draw).
    v : ndarray
        The per-model true scatter of the engine's models.
    rng : numpy.random.Generator
        The scenario's stream (`scenario_rng`).
    runs : uncertain_cost.growth.runs.RunsPosterior
        Runs-per-year posterior of the engine's frontier years (the truth's run count).
    years : sequence of int
        Forecast years.
    methods : sequence of str

    Returns
    -------
    World

    Raises
    ------
    ValueError
        For an unknown scenario.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; expected one of {', '.join(SCENARIOS)} or all")
    years = [int(y) for y in years]
    if scenario == "top10":
        return _top10_world(eng, truth, rng, years, methods)
    return _line_world(eng, truth, v, rng, runs, years, methods, scenario)
