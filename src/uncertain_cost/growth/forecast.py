"""Posterior predictive forecast of the most expensive frontier training run of a year.

What is forecast, precisely: for calendar year ``Y`` and cost method ``m``, the cost of the
most expensive of the ``k`` new frontier models published in ``Y``. By default ``k`` is
uncertain: ``k ~ Poisson(rate_Y)`` with ``log rate_Y`` linear in the year, the trend fitted
to the observed per-calendar-year counts of frontier models (`uncertain_cost.growth.runs`);
one rate and one ``k`` per posterior draw. ``models_per_year`` fixes ``k`` instead. Each run
is drawn from the fitted trend plus its scatter: publication time uniform in ``[Y, Y + 1)``,
``log10 cost = intercept_m + slope_m * (t - year_ref) + loading_m * v + e``,
``v ~ StudentT(nu, 0, scatter_model)``, ``e ~ Normal(0, scatter_method)``; one maximum per
posterior draw. It is the true cost (no measurement error). A draw with ``k = 0`` has no
run: its maximum is "none" (``-inf`` in log10, $0 in the quantiles), it never exceeds a
threshold, so ``P(> T)`` is the probability that at least one run of the year costs more
than ``T``.

Common random numbers: a run is the same run in every method. Its publication time and the
quantile of its Student-t effect are shared by all methods (and, with several fits, by every
fit at the same draw index), only ``e`` is method-specific. The random numbers of each year
come from their own stream, the runs of a year column by column, so a year forecast alone,
a method forecast alone and ``k = 4`` against ``k = 7`` all reuse the same numbers.

The "regression mean" columns are the trend line itself at mid-year,
``10**(intercept_m + slope_m * (Y + 0.5 - year_ref))``: the **median (geometric mean)** cost
of a model of that year, not its mean (the paper reports it as ≈ $83 M for 2027).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from uncertain_cost.errors import ArgumentError, ConfigError
from uncertain_cost.growth.bayes import BayesResult, child_seeds
from uncertain_cost.growth.data import DIM_COST_METHOD
from uncertain_cost.growth.runs import RunsPosterior, calendar_counts, fit_runs_per_year
from uncertain_cost.threads import elementwise

__all__ = [
    "Forecast",
    "forecast_costs",
    "frontier_models_per_year",
    "with_forecast",
    "forecast_sensitivity",
    "SENSITIVITY_COLUMNS",
    "DEFAULT_QUANTILES",
    "DEFAULT_THRESHOLDS",
    "LAST_FORECAST_YEAR",
    "POISSON",
    "runs_summary",
    "forecast_table_attrs",
    "forecast_trend",
    "nu_summary",
]

DIM_YEAR = "year"
DEFAULT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
DEFAULT_THRESHOLDS = (1e9, 1e10)
LAST_FORECAST_YEAR = 2030

#: The ``models_per_year`` label of the Poisson runs-per-year model (sensitivity table, attributes).
POISSON = "poisson"

# stream keys of the forecast's random numbers (numpy SeedSequence spawn keys)
_RATE, _COUNT, _RUN, _METHOD = 1, 2, 3, 4
_NONE = -1e300  # stands for "no run" (log10 cost -inf) inside quantiles: 10**_NONE == 0


def quantile_name(q: float) -> str:
    """Column name of quantile ``q``: 0.05 -> ``"p5"``."""
    return f"p{q * 100:g}"


def threshold_name(usd: float) -> str:
    """Column name of a threshold: 1e9 -> ``"prob_gt_1e9"``."""
    exponent = math.log10(usd)
    if abs(exponent - round(exponent)) < 1e-12:
        return f"prob_gt_1e{round(exponent)}"
    return f"prob_gt_{usd:g}"


def frontier_models_per_year(years) -> int:
    """Frontier models published per calendar year: the median over the observed years.

    Parameters
    ----------
    years : array_like
        Decimal publication years of all frontier models.

    Returns
    -------
    int
        Median count over the calendar years from the first complete one (the year after
        the first publication unless that falls on 1 January) to the last, rounded, at
        least 1.
    """
    _, counts = calendar_counts(years)  # one entry, all models, when they share one calendar year
    if counts.size == 0:
        return 1
    return max(1, round(float(np.median(counts))))


@dataclass(frozen=True, eq=False)
class Forecast:
    """Forecast table and posterior predictive draws.

    Attributes
    ----------
    rows : list of dict
        One row per (method, year), keys `Forecast.columns`: ``method``, ``year``,
        ``models_per_year`` (the fixed ``k``, or under the Poisson model the expected number
        of runs of the year, a float), quantiles of the maximum cost in USD (``p5`` ...
        ``p95``; $0 where the quantile falls on draws with no run), ``prob_gt_1e9``,
        ``prob_gt_1e10``, and the trend line at mid-year, a median (geometric mean) cost
        (``regression_mean_usd`` with ``regression_mean_lo``/``_hi`` at ``level``).
    predictive : xarray.Dataset
        ``max_log10_cost`` (-inf for a draw with no run) and ``trend_log10_cost`` (chain, draw,
        cost_method, year), log10 USD; ``runs_per_year`` (chain, draw, year) under the Poisson
        model.
    columns : tuple of str
    models_per_year : int or None
        The fixed ``k``; None under the Poisson model.
    level : float
    runs : RunsPosterior or None
        The fitted runs-per-year model (None with a fixed ``k``).
    expected_runs : dict of int to float
        Expected number of runs per forecast year (``k`` itself when fixed).
    prob_no_run : dict of int to float
        Fraction of draws with ``k = 0`` per forecast year.
    """

    rows: list
    predictive: object
    columns: tuple
    models_per_year: int | None
    level: float
    runs: RunsPosterior | None = None
    expected_runs: dict | None = None
    prob_no_run: dict | None = None


def _years(years, last_observed: float) -> np.ndarray:
    if years is None:
        start = math.floor(last_observed) + 1
        return np.arange(start, max(start, LAST_FORECAST_YEAR) + 1)
    out = np.atleast_1d(np.asarray(years))
    if out.size == 0 or out.ndim != 1 or not np.all(np.isfinite(out)) or np.any(out != np.round(out)):
        raise ArgumentError("years", f"expected a list of calendar years, got {years!r}", "forecast_costs")
    return out.astype(np.int64)


def _stream(root: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(int(root), spawn_key=tuple(int(k) for k in key)))


def _method_key(method: str) -> int:
    return zlib.crc32(method.encode("utf-8"))


def _pairs(result, methods) -> list[tuple[str, BayesResult]]:
    """Pair each forecast method with its fit: every method of one fit, or each from its own."""
    if isinstance(result, Mapping):
        if methods is not None:
            raise ValueError("forecast_costs: give methods through the mapping, not both")
        pairs = [(str(m), fit) for m, fit in result.items()]
        if not pairs:
            raise ValueError("forecast_costs: empty mapping of fits")
    else:
        pairs = [(m, result) for m in (result.methods if methods is None else methods)]
    for m, fit in pairs:
        if not isinstance(fit, BayesResult):
            raise TypeError(f"forecast_costs: expected a BayesResult for {m!r}, got {type(fit).__name__}")
        if m not in fit.methods:
            raise ArgumentError("methods", f"method {m!r} was not fitted; have {list(fit.methods)}",
                                "forecast_costs")
    return pairs


def forecast_costs(
    result: BayesResult | Mapping[str, BayesResult],
    years: Sequence[int] | None = None,
    *,
    methods: Sequence[str] | None = None,
    models_per_year: int | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    level: float | None = None,
    seed: int | None = None,
    nu: float | None = None,
    runs: RunsPosterior | None = None,
    cache: dict | None = None,
) -> Forecast:
    """Posterior predictive of the cost of the most expensive frontier run of each year.

    Parameters
    ----------
    result : BayesResult or mapping of str to BayesResult
        One fit (every method of it, or ``methods``), or per method the fit to forecast it
        from (e.g. the headline fit of each method); all fits need the same number of
        posterior draws, and the first one's seed, level and frontier years are used.
    years : sequence of int, optional
        Calendar years; default from the year after the last publication to 2030.
    methods : sequence of str, optional
        With a single fit; default every fitted method.
    models_per_year : int, optional
        Fix ``k``, the number of frontier runs per year. Default: ``k`` uncertain, drawn per
        posterior draw from the Poisson runs-per-year model (``runs``).
    quantiles : sequence of float
        Quantiles of the maximum cost reported (default P5, P25, P50, P75, P95).
    thresholds : sequence of float
        USD thresholds ``T`` for the columns ``P(max cost > T)``.
    level : float, optional
        Central level of the regression-mean interval (default: the fit's).
    seed : int, optional
        Default: spawned from the fit's seed (reproducible).
    nu : float, optional
        Student-t degrees of freedom of the per-model scatter, fixed for every draw; default
        each posterior draw's own ``nu`` (a sensitivity check, `forecast_sensitivity`).
    runs : RunsPosterior, optional
        The runs-per-year model; default `uncertain_cost.growth.runs.fit_runs_per_year` of the
        first fit's frontier publication years. Ignored with ``models_per_year``.
    cache : dict, optional
        Shared by calls on the same fits (`forecast_sensitivity`, the run's forecast): the
        Student-t quantiles of each run's effect (``stdtrit``, the costly step) are computed once
        per fit, ``nu``, year and run and looked up after; the same values, element for element.

    Returns
    -------
    Forecast

    Raises
    ------
    ConfigError
        For an unfitted method, a bad quantile, threshold, ``models_per_year`` or ``nu``.
    ValueError
        If the fits have different numbers of posterior draws.
    """
    pairs = _pairs(result, methods)
    first = pairs[0][1]
    _check_options(quantiles, thresholds, models_per_year, nu)
    level = first.level if level is None else float(level)
    yrs = _years(years, float(np.max(first.frontier_years)))
    root = child_seeds(first.seed)[2] if seed is None else int(seed)

    post0 = first.idata.posterior
    n_chain, n_draw = int(post0.sizes["chain"]), int(post0.sizes["draw"])
    s = n_chain * n_draw
    params = _draw_params(pairs, s, nu)
    runs, k, expected = _runs_per_draw(first, yrs, s, root, models_per_year, runs)
    max_log = _max_log_cost(pairs, params, yrs, k, s, root, nu, cache)
    trend = np.stack([p["intercept"][:, None] + p["slope"][:, None] * (yrs[None, :] + 0.5 - p["year_ref"])
                      for p in params], axis=1)  # (S, M, Y)

    columns, rows = _summary_rows(pairs, yrs, max_log, trend, quantiles, thresholds, level,
                                  models_per_year, runs, expected)
    predictive = _predictive(pairs, post0, yrs, max_log, trend, k, models_per_year, runs, first.year_ref)
    return Forecast(rows=rows, predictive=predictive, columns=columns,
                    models_per_year=None if runs is not None else int(models_per_year), level=level, runs=runs,
                    expected_runs=expected,
                    prob_no_run={int(y): float(np.mean(k[:, i] == 0)) for i, y in enumerate(yrs)})


def _check_options(quantiles, thresholds, models_per_year, nu) -> None:
    """Raise a `ConfigError` for a bad quantile, threshold, ``models_per_year`` or ``nu``."""
    for q in quantiles:
        if not 0.0 <= q <= 1.0:
            raise ArgumentError("quantiles", f"expected numbers in [0, 1], got {q!r}", "forecast_costs")
    for t in thresholds:
        if not t > 0:
            raise ArgumentError("thresholds", f"expected positive USD amounts, got {t!r}", "forecast_costs")
    if models_per_year is not None and (isinstance(models_per_year, bool)
                                        or not isinstance(models_per_year, int | np.integer) or models_per_year < 1):
        raise ConfigError("forecast.models_per_year", f"expected an integer >= 1, got {models_per_year!r}")
    if nu is not None and (isinstance(nu, bool) or not isinstance(nu, int | float) or not nu > 0):
        raise ArgumentError("nu", f"expected a positive number, got {nu!r}", "forecast_costs")


def _draw_params(pairs, s, nu) -> list[dict]:
    """Per (method, fit) pair the flattened posterior draws the forecast needs (``s`` each)."""
    params = []
    for m, fit in pairs:
        post = fit.idata.posterior
        if int(post.sizes["chain"]) * int(post.sizes["draw"]) != s:
            raise ValueError("forecast_costs: every fit needs the same number of posterior draws "
                             f"({s}); {m!r} has {int(post.sizes['chain']) * int(post.sizes['draw'])}")
        j = fit.methods.index(m)

        def one(name, post=post, j=j):
            return np.asarray(post[name].values).reshape(s, -1)[:, j]

        scale = np.asarray(post["scatter_model"].values).reshape(s)
        if "log_loading" in post:
            scale = scale * np.exp(one("log_loading"))
        sd_method = np.asarray(post["scatter_method"].values).reshape(s) if "scatter_method" in post else None
        params.append({"intercept": one("intercept"), "slope": one("slope"), "scale": scale,
                       "sd_method": sd_method, "year_ref": fit.year_ref, "fit": id(fit),
                       "nu": np.asarray(post["nu"].values).reshape(s) if nu is None else None})
    return params


def _runs_per_draw(first, yrs, s, root, models_per_year, runs):
    """Return the runs model (None when fixed), runs per draw and year ``(S, Y)`` and expected runs per year."""
    if models_per_year is None:
        runs = fit_runs_per_year(first.frontier_years) if runs is None else runs
        a, b = runs.sample(s, _stream(root, _RATE))
        rate = runs.rate(yrs, a, b)
        k = np.stack([_stream(root, _COUNT, int(y)).poisson(rate[:, i]) for i, y in enumerate(yrs)], axis=1)
        expected = {int(y): float(rate[:, i].mean()) for i, y in enumerate(yrs)}
    else:
        runs = None
        k = np.full((s, yrs.size), int(models_per_year), dtype=np.int64)
        expected = {int(y): float(models_per_year) for y in yrs}
    return runs, k, expected


def _run_effects(cache, key, dof, quant, present) -> np.ndarray:
    """Student-t quantiles ``stdtrit(dof, quant)`` of the runs that exist, through ``cache`` when given.

    ``key`` names the draws of ``quant`` (root, year, draws) and the degrees of freedom (fit or
    fixed ``nu``); the cache holds every element computed so far under ``key`` (columns of
    ``quant`` do not depend on how many are drawn), and only the missing ones are computed.
    Entries of absent runs are 0 or a value the caller masks.
    """
    from scipy import special

    if cache is None:
        effect = np.zeros_like(quant)  # only the runs that exist (stdtrit is the costly step)
        effect[present] = elementwise(special.stdtrit, np.broadcast_to(dof[:, None], quant.shape)[present],
                                      quant[present])
        return effect
    s, width = quant.shape
    effect, done = cache.get(key, (np.zeros((s, 0)), np.zeros((s, 0), dtype=bool)))
    if effect.shape[1] < width:
        pad = width - effect.shape[1]
        effect = np.concatenate([effect, np.zeros((s, pad))], axis=1)
        done = np.concatenate([done, np.zeros((s, pad), dtype=bool)], axis=1)
    need = np.zeros_like(done)
    need[:, :width] = present & ~done[:, :width]
    if need.any():
        effect[need] = elementwise(special.stdtrit, np.broadcast_to(dof[:, None], quant.shape)[need[:, :width]],
                                   quant[need[:, :width]])
        done = done | need
    cache[key] = (effect, done)
    return effect[:, :width]


def _max_log_cost(pairs, params, yrs, k, s, root, nu, cache=None) -> np.ndarray:
    """log10 cost of the most expensive run per draw, method and year ``(S, M, Y)`` (-inf: no run)."""
    max_log = np.full((s, len(pairs), yrs.size), -np.inf)
    for i, year in enumerate(yrs):
        k_max = int(k[:, i].max())
        if k_max == 0:
            continue
        rng = _stream(root, _RUN, int(year))
        cols = [(rng.random(s), rng.random(s)) for _ in range(k_max)]  # column by column: k-independent
        t = np.stack([c[0] for c in cols], axis=1) + year  # (S, K) publication time
        quant = np.stack([c[1] for c in cols], axis=1)  # (S, K) quantile of the run's t effect
        present = np.arange(k_max)[None, :] < k[:, i][:, None]
        shared_t = {}
        for j, (m, _) in enumerate(pairs):
            p = params[j]
            key = (p["fit"],) if nu is None else ("fixed",)
            if key not in shared_t:
                dof = p["nu"] if nu is None else np.full(s, float(nu))
                shared_t[key] = _run_effects(cache, (int(root), int(year), s, *key, nu), dof, quant, present)
            log_cost = (p["intercept"][:, None] + p["slope"][:, None] * (t - p["year_ref"])
                        + p["scale"][:, None] * shared_t[key])
            if p["sd_method"] is not None:
                rng_m = _stream(root, _METHOD, int(year), _method_key(m))
                e = np.stack([rng_m.standard_normal(s) for _ in range(k_max)], axis=1)
                log_cost = log_cost + p["sd_method"][:, None] * e
            max_log[:, j, i] = np.where(present, log_cost, -np.inf).max(axis=1)
    return max_log


def _summary_rows(pairs, yrs, max_log, trend, quantiles, thresholds, level, models_per_year, runs, expected):
    """Return the forecast table's columns and one row per method and year."""
    q_names = [quantile_name(q) for q in quantiles]
    t_names = [threshold_name(t) for t in thresholds]
    columns = ("method", "year", "models_per_year", *q_names, *t_names,
               "regression_mean_usd", "regression_mean_lo", "regression_mean_hi", "level")
    lo_q, hi_q = 0.5 - level / 2.0, 0.5 + level / 2.0
    rows = []
    for j, (m, _) in enumerate(pairs):
        for y, year in enumerate(yrs):
            draws = max_log[:, j, y]
            row = {"method": m, "year": int(year),
                   "models_per_year": int(models_per_year) if runs is None else expected[int(year)]}
            finite = np.where(np.isfinite(draws), draws, _NONE)
            for name, value in zip(q_names, np.quantile(finite, quantiles), strict=True):
                row[name] = float(10.0**value) if value > _NONE / 2 else 0.0
            for name, usd in zip(t_names, thresholds, strict=True):
                row[name] = float(np.mean(draws > math.log10(usd)))
            lo, mid, hi = np.quantile(trend[:, j, y], [lo_q, 0.5, hi_q])
            row.update(regression_mean_usd=float(10.0**mid), regression_mean_lo=float(10.0**lo),
                       regression_mean_hi=float(10.0**hi), level=level)
            rows.append(row)
    return columns, rows


def _predictive(pairs, post0, yrs, max_log, trend, k, models_per_year, runs, year_ref):
    """Return the forecast draws as an xarray Dataset over (chain, draw, method, year)."""
    import xarray as xr

    n_chain, n_draw = int(post0.sizes["chain"]), int(post0.sizes["draw"])
    dims = ("chain", "draw", DIM_COST_METHOD, DIM_YEAR)
    coords = {"chain": post0["chain"].values, "draw": post0["draw"].values,
              DIM_COST_METHOD: [m for m, _ in pairs], DIM_YEAR: yrs}
    out_shape = (n_chain, n_draw, len(pairs), yrs.size)
    label = f"{models_per_year}" if runs is None else "a Poisson number of"
    data_vars = {
        "max_log10_cost": (dims, max_log.reshape(out_shape), {
            "units": "log10 USD",
            "long_name": f"most expensive of {label} frontier runs published in the year (-inf: no run)",
        }),
        "trend_log10_cost": (dims, trend.reshape(out_shape), {
            "units": "log10 USD", "long_name": "trend line at mid-year: median (geometric mean) cost",
        }),
    }
    if runs is not None:
        data_vars["runs_per_year"] = (("chain", "draw", DIM_YEAR), k.reshape(n_chain, n_draw, yrs.size), {
            "long_name": "frontier runs published in the year (Poisson, log-linear rate)"})
    return xr.Dataset(data_vars, coords=coords, attrs={
        "models_per_year": POISSON if runs is not None else int(models_per_year),
        "year_ref": year_ref})


def runs_summary(forecast: Forecast, fits: Mapping[str, str] | None = None) -> dict:
    """Describe the forecast's assumptions as data: the runs-per-year model, the fit of each method.

    Parameters
    ----------
    forecast : Forecast
    fits : mapping of str to str, optional
        Method -> name of the fit it was forecast from (e.g. ``"single"``, ``"joint"``).

    Returns
    -------
    dict
        ``model`` (``"poisson"`` or ``"fixed"``), ``k`` (the fixed count or None),
        ``expected_runs`` and ``prob_no_run`` (year -> float), and under the Poisson model
        ``observed_years``, ``observed_counts``, ``rate_growth_per_year`` (posterior mean of
        ``exp(b)``, the factor by which the rate changes per year) with ``rate_growth_sd``;
        ``fits`` (method -> fit name).
    """
    out = {"model": "fixed" if forecast.runs is None else POISSON, "k": forecast.models_per_year,
           "expected_runs": dict(forecast.expected_runs or {}), "prob_no_run": dict(forecast.prob_no_run or {}),
           "fits": dict(fits or {})}
    if forecast.runs is not None:
        r = forecast.runs
        growth = np.exp(r.grid_b)
        mean = float(r.weights @ growth)
        out.update(observed_years=[int(y) for y in r.calendar_years], observed_counts=[int(c) for c in r.counts],
                   rate_growth_per_year=mean, rate_growth_sd=float(np.sqrt(r.weights @ (growth - mean) ** 2)))
    return out


def forecast_table_attrs(summary: Mapping) -> dict:
    """Attributes of the ``forecast`` table (netCDF-safe scalars and strings) from `runs_summary`.

    Parameters
    ----------
    summary : mapping
        A `runs_summary` dict.

    Returns
    -------
    dict
        ``models_per_year`` (the fixed ``k`` or ``"poisson"``), ``runs_expected`` ("2024: 9.8,
        ..."), and under the Poisson model ``runs_observed`` ("2016: 5, ...") and
        ``runs_rate_growth_per_year``; ``forecast_fits`` ("amortized: single, ...").
    """
    attrs = {"models_per_year": POISSON if summary["model"] == POISSON else int(summary["k"]),
             "runs_expected": ", ".join(f"{y}: {v:.2f}" for y, v in summary["expected_runs"].items()),
             "forecast_fits": ", ".join(f"{m}: {f}" for m, f in summary.get("fits", {}).items())}
    if summary["model"] == POISSON:
        attrs["runs_observed"] = ", ".join(f"{y}: {c}" for y, c in zip(summary["observed_years"],
                                                                      summary["observed_counts"], strict=True))
        attrs["runs_rate_growth_per_year"] = float(summary["rate_growth_per_year"])
    return attrs


#: Runs per year and Student-t degrees of freedom of `forecast_sensitivity` (None: the Poisson
#: runs model, resp. the posterior's own nu).
SENSITIVITY_MODELS_PER_YEAR = (4, 7, 12, None)
SENSITIVITY_NU = (3.0, 30.0, None)

#: The year of `forecast_sensitivity` in a run: the paper's forecast year when forecast.
SENSITIVITY_YEAR = 2027

#: Columns of ``forecast_sensitivity.csv``.
SENSITIVITY_COLUMNS = ("fit", "method", "year", "models_per_year", "nu", "prob_gt_1e9", "p50", "p95")


def forecast_sensitivity(fits: Sequence[tuple[str, BayesResult]], year: int, *,
                         models_per_year: Sequence[int | None] = SENSITIVITY_MODELS_PER_YEAR,
                         nus: Sequence[float | None] = SENSITIVITY_NU,
                         runs: RunsPosterior | None = None, cache: dict | None = None) -> list[dict]:
    """P(max cost > $1B) in one year over the forecast's assumptions, from existing posterior draws.

    Every combination of runs per year (a fixed ``k``, or None for the Poisson runs model)
    and Student-t ``nu`` (fixed, or None for the posterior's own) is forecast with
    `forecast_costs` on the same posterior draws and the same random numbers (the fit's
    forecast seed; each year and each method has its own stream): no refit, differences
    between rows come from the assumption only, and the Poisson, posterior-``nu`` row of a
    fit equals that fit's row of ``forecast.csv`` for the year.

    Parameters
    ----------
    fits : sequence of (str, BayesResult)
        Named fits, e.g. ``[("joint", joint), ("single", amortized_alone)]``.
    year : int
        Calendar year reported.
    models_per_year : sequence of int or None, default (4, 7, 12, None)
    nus : sequence of float or None, default (3, 30, None)
    runs : RunsPosterior, optional
        Passed to `forecast_costs`.
    cache : dict, optional
        Passed to `forecast_costs` (default: one of its own): the combinations share the
        Student-t quantiles of their runs (a fixed ``k`` of 4, 7 and 12 reads the first columns
        of the same draws; the Poisson, posterior-``nu`` row is the run's own forecast).

    Returns
    -------
    list of dict
        Keys `SENSITIVITY_COLUMNS`; ``models_per_year`` is ``"poisson"`` for the Poisson
        model, ``nu`` is ``"posterior"`` for the posterior's own; ``p50``, ``p95`` in USD.
    """
    rows = []
    cache = {} if cache is None else cache
    for name, fit in fits:
        for k in models_per_year:
            for nu in nus:
                fc = forecast_costs(fit, [int(year)], models_per_year=None if k is None else int(k),
                                    quantiles=(0.5, 0.95), thresholds=(1e9,), nu=nu, runs=runs, cache=cache)
                for r in fc.rows:
                    rows.append({"fit": name, "method": r["method"], "year": r["year"],
                                 "models_per_year": POISSON if k is None else int(k),
                                 "nu": "posterior" if nu is None else nu, "prob_gt_1e9": r["prob_gt_1e9"],
                                 "p50": r["p50"], "p95": r["p95"]})
    return rows


def with_forecast(idata, forecast: Forecast):
    """Return a copy of ``idata`` with the forecast as its ``posterior_predictive`` group.

    Parameters
    ----------
    idata : arviz.InferenceData
    forecast : Forecast

    Returns
    -------
    arviz.InferenceData
    """
    out = idata.copy()
    if "posterior_predictive" in out.groups():
        del out.posterior_predictive
    out.add_groups({"posterior_predictive": forecast.predictive})
    return out


def forecast_trend(draws, method: str, years: Sequence[int], *, runs: RunsPosterior,
                   quantiles: Sequence[float] = DEFAULT_QUANTILES, thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                   level: float = 0.9, seed: int = 0) -> list[dict]:
    """Forecast rows of one method from a candidate trend model's draws (`uncertain_cost.growth.trends`).

    The same forecast as `forecast_costs` (``k ~ Poisson`` from ``runs`` per draw, publication
    uniform in the year, the maximum of the true costs), with the candidate's trend and
    scatter at each run's time.

    Parameters
    ----------
    draws : uncertain_cost.growth.trends.TrendDraws
    method : str
    years : sequence of int
    runs : RunsPosterior
    quantiles, thresholds : sequence of float
    level : float, default 0.9
    seed : int, default 0

    Returns
    -------
    list of dict
        Rows with the columns of `forecast_costs` (``models_per_year`` the expected runs).
    """
    s = draws.scale.size
    a, b = runs.sample(s, _stream(seed, _RATE))
    yrs = np.asarray(list(years), dtype=np.int64)
    rate = runs.rate(yrs, a, b)
    lo_q, hi_q = 0.5 - level / 2.0, 0.5 + level / 2.0
    rows = []
    for i, year in enumerate(yrs):
        k = _stream(seed, _COUNT, int(year)).poisson(rate[:, i])
        rng = _stream(seed, _RUN, int(year), _method_key(method))
        k_max = max(int(k.max()), 1)
        t = year + rng.random((s, k_max))
        nu = draws.nu[:, None]
        z = np.where(np.isfinite(nu), rng.standard_t(np.where(np.isfinite(nu), nu, 1.0), (s, k_max)),
                     rng.standard_normal((s, k_max)))
        cost = np.where(np.arange(k_max)[None, :] < k[:, None], draws.mean(t) + draws.sd(t) * z, -np.inf)
        best = cost.max(axis=1)
        finite = np.where(np.isfinite(best), best, _NONE)
        row = {"method": method, "year": int(year), "models_per_year": float(rate[:, i].mean())}
        for q, value in zip(quantiles, np.quantile(finite, quantiles), strict=True):
            row[quantile_name(q)] = float(10.0**value) if value > _NONE / 2 else 0.0
        for usd in thresholds:
            row[threshold_name(usd)] = float(np.mean(best > math.log10(usd)))
        line = draws.mean(np.full((s, 1), year + 0.5))[:, 0]
        lo, mid, hi = np.quantile(line, [lo_q, 0.5, hi_q])
        row.update(regression_mean_usd=float(10.0**mid), regression_mean_lo=float(10.0**lo),
                   regression_mean_hi=float(10.0**hi), level=level)
        rows.append(row)
    return rows


def nu_summary(fit: BayesResult) -> dict:
    """Prior and posterior P5 / P50 / P95 of the Student-t degrees of freedom ``nu`` of a fit.

    Parameters
    ----------
    fit : BayesResult
        Its ``priors.nu_alpha``, ``priors.nu_beta`` (Gamma, rate) and its ``nu`` draws.

    Returns
    -------
    dict
        ``nu_prior`` and ``nu_posterior``: strings ``"P5 3.6, P50 16.8, P95 47.4"`` (table
        attributes), and the numbers as ``nu_prior_q`` and ``nu_posterior_q`` (tuples).
    """
    from scipy import stats

    qs = (0.05, 0.5, 0.95)
    prior = tuple(float(x) for x in stats.gamma.ppf(qs, fit.priors.nu_alpha, scale=1.0 / fit.priors.nu_beta))
    post = tuple(float(x) for x in np.quantile(fit.draws("nu"), qs))

    def text(v):
        return f"P5 {v[0]:.1f}, P50 {v[1]:.1f}, P95 {v[2]:.1f}"

    return {"nu_prior": text(prior), "nu_posterior": text(post), "nu_prior_q": prior, "nu_posterior_q": post}
