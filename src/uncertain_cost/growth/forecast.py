"""Posterior predictive forecast of the most expensive frontier training run of a year.

What is forecast, precisely: for calendar year ``Y`` and cost method ``m``, the cost of the
most expensive of ``k`` new frontier models published in ``Y``, where ``k`` is the number of
frontier models published per year in the data (median over the observed calendar years)
and each model is drawn from the fitted trend plus its scatter: publication time uniform in
``[Y, Y + 1)``, ``log10 cost = intercept_m + slope_m * (t - year_ref) + loading_m * v + e``,
``v ~ StudentT(nu, 0, scatter_model)``, ``e ~ Normal(0, scatter_method)``; one such maximum
per posterior draw. It is the true cost (no measurement error). The "regression mean" is the trend line
itself at mid-year, ``10**(intercept_m + slope_m * (Y + 0.5 - year_ref))``: the typical
(geometric-mean) model of that year, which the paper reports as ≈ $83 M for 2027.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from uncertain_cost.errors import ConfigError
from uncertain_cost.growth.bayes import BayesResult, child_seeds
from uncertain_cost.growth.data import DIM_COST_METHOD

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
]

DIM_YEAR = "year"
DEFAULT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
DEFAULT_THRESHOLDS = (1e9, 1e10)
LAST_FORECAST_YEAR = 2030


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
    y = np.asarray(years, dtype=np.float64)
    y = y[np.isfinite(y)]
    if y.size == 0:
        return 1
    first, last = math.ceil(y.min()), math.floor(y.max())
    if last < first:  # all within one calendar year
        return max(1, int(y.size))
    counts = [int(np.sum(np.floor(y) == year)) for year in range(first, last + 1)]
    return max(1, round(float(np.median(counts))))


@dataclass(frozen=True, eq=False)
class Forecast:
    """Forecast table and posterior predictive draws.

    Attributes
    ----------
    rows : list of dict
        One row per (method, year), keys `Forecast.columns`: ``method``, ``year``,
        ``models_per_year``, quantiles of the maximum cost in USD (``p5`` ... ``p95``),
        ``prob_gt_1e9``, ``prob_gt_1e10``, and the regression mean (``regression_mean_usd``
        with ``regression_mean_lo``/``_hi`` at ``level``).
    predictive : xarray.Dataset
        ``max_log10_cost`` and ``trend_log10_cost`` (chain, draw, cost_method, year), log10 USD.
    columns : tuple of str
    models_per_year : int
    level : float
    """

    rows: list
    predictive: object
    columns: tuple
    models_per_year: int
    level: float


def _years(years, last_observed: float) -> np.ndarray:
    if years is None:
        start = math.floor(last_observed) + 1
        return np.arange(start, max(start, LAST_FORECAST_YEAR) + 1)
    out = np.atleast_1d(np.asarray(years))
    if out.size == 0 or out.ndim != 1 or not np.all(np.isfinite(out)) or np.any(out != np.round(out)):
        raise ConfigError("forecast.years", f"expected a list of calendar years, got {years!r}")
    return out.astype(np.int64)


def forecast_costs(
    result: BayesResult,
    years: Sequence[int] | None = None,
    *,
    methods: Sequence[str] | None = None,
    models_per_year: int | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    level: float | None = None,
    seed: int | None = None,
    nu: float | None = None,
) -> Forecast:
    """Posterior predictive of the cost of the most expensive frontier run of each year.

    Parameters
    ----------
    result : BayesResult
    years : sequence of int, optional
        Calendar years; default from the year after the last publication to 2030.
    methods : sequence of str, optional
        Default: every fitted method.
    models_per_year : int, optional
        ``k``, the number of frontier models per year; default
        `frontier_models_per_year` of the fitted data.
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

    Returns
    -------
    Forecast
    """
    import xarray as xr

    methods = tuple(result.methods if methods is None else methods)
    for m in methods:
        if m not in result.methods:
            raise ConfigError("forecast.methods", f"method {m!r} was not fitted; have {list(result.methods)}")
    for q in quantiles:
        if not 0.0 <= q <= 1.0:
            raise ConfigError("forecast.quantiles", f"expected numbers in [0, 1], got {q!r}")
    for t in thresholds:
        if not t > 0:
            raise ConfigError("forecast.thresholds", f"expected positive USD amounts, got {t!r}")
    if models_per_year is None:
        k = frontier_models_per_year(result.frontier_years)
    elif isinstance(models_per_year, bool) or not isinstance(models_per_year, int | np.integer) \
            or models_per_year < 1:
        raise ConfigError("forecast.models_per_year", f"expected an integer >= 1, got {models_per_year!r}")
    else:
        k = int(models_per_year)
    level = result.level if level is None else float(level)
    yrs = _years(years, float(np.max(result.frontier_years)))
    rng = np.random.default_rng(child_seeds(result.seed)[2] if seed is None else seed)

    post = result.idata.posterior
    n_chain, n_draw = int(post.sizes["chain"]), int(post.sizes["draw"])
    s = n_chain * n_draw
    idx = [result.methods.index(m) for m in methods]

    def per_method(name):
        return np.asarray(post[name].values).reshape(s, -1)[:, idx]  # (S, M)

    intercept, slope = per_method("intercept"), per_method("slope")
    scale = np.asarray(post["scatter_model"].values).reshape(s, 1)
    if "log_loading" in post:
        scale = scale * np.exp(per_method("log_loading"))
    if nu is None:
        nu = np.asarray(post["nu"].values).reshape(s)
    elif isinstance(nu, bool) or not isinstance(nu, int | float) or not nu > 0:
        raise ConfigError("forecast.nu", f"expected a positive number, got {nu!r}")
    else:
        nu = np.full(s, float(nu))
    sd_method = (np.asarray(post["scatter_method"].values).reshape(s) if "scatter_method" in post
                 else np.zeros(s))
    shape = (s, len(methods), yrs.size, k)
    t = yrs[None, None, :, None] + rng.random(shape)
    u = rng.standard_t(nu[:, None, None, None], size=shape)
    e = rng.standard_normal(shape) * sd_method[:, None, None, None]
    log_cost = (intercept[:, :, None, None] + slope[:, :, None, None] * (t - result.year_ref)
                + scale[:, :, None, None] * u + e)
    max_log = log_cost.max(axis=-1)  # (S, M, Y)
    trend = intercept[:, :, None] + slope[:, :, None] * (yrs[None, None, :] + 0.5 - result.year_ref)

    q_names = [quantile_name(q) for q in quantiles]
    t_names = [threshold_name(t) for t in thresholds]
    columns = ("method", "year", "models_per_year", *q_names, *t_names,
               "regression_mean_usd", "regression_mean_lo", "regression_mean_hi", "level")
    lo_q, hi_q = 0.5 - level / 2.0, 0.5 + level / 2.0
    rows = []
    for j, m in enumerate(methods):
        for y, year in enumerate(yrs):
            draws = max_log[:, j, y]
            row = {"method": m, "year": int(year), "models_per_year": k}
            for name, value in zip(q_names, np.quantile(draws, quantiles), strict=True):
                row[name] = float(10.0**value)
            for name, usd in zip(t_names, thresholds, strict=True):
                row[name] = float(np.mean(draws > math.log10(usd)))
            lo, mid, hi = np.quantile(trend[:, j, y], [lo_q, 0.5, hi_q])
            row.update(regression_mean_usd=float(10.0**mid), regression_mean_lo=float(10.0**lo),
                       regression_mean_hi=float(10.0**hi), level=level)
            rows.append(row)

    dims = ("chain", "draw", DIM_COST_METHOD, DIM_YEAR)
    coords = {"chain": post["chain"].values, "draw": post["draw"].values,
              DIM_COST_METHOD: list(methods), DIM_YEAR: yrs}
    out_shape = (n_chain, n_draw, len(methods), yrs.size)
    predictive = xr.Dataset(
        {
            "max_log10_cost": (dims, max_log.reshape(out_shape), {
                "units": "log10 USD",
                "long_name": f"most expensive of {k} frontier runs published in the year",
            }),
            "trend_log10_cost": (dims, trend.reshape(out_shape), {
                "units": "log10 USD", "long_name": "regression mean at mid-year",
            }),
        },
        coords=coords,
        attrs={"models_per_year": k, "year_ref": result.year_ref},
    )
    return Forecast(rows=rows, predictive=predictive, columns=columns, models_per_year=k, level=level)


#: Runs per year and Student-t degrees of freedom of `forecast_sensitivity` (None: posterior).
SENSITIVITY_MODELS_PER_YEAR = (4, 7, 12)
SENSITIVITY_NU = (3.0, 30.0, None)

#: The year of `forecast_sensitivity` in a run: the paper's forecast year when forecast.
SENSITIVITY_YEAR = 2027

#: Columns of ``forecast_sensitivity.csv``.
SENSITIVITY_COLUMNS = ("fit", "method", "year", "models_per_year", "nu", "prob_gt_1e9", "p50", "p95")


def forecast_sensitivity(fits: Sequence[tuple[str, BayesResult]], year: int, years: Sequence[int] | None = None, *,
                         models_per_year: Sequence[int] = SENSITIVITY_MODELS_PER_YEAR,
                         nus: Sequence[float | None] = SENSITIVITY_NU) -> list[dict]:
    """P(max cost > $1B) in one year over the forecast's assumptions, from existing posterior draws.

    Every combination of runs per year ``k`` and Student-t ``nu`` (fixed, or None for the
    posterior's own) is forecast with `forecast_costs` on the same posterior draws and the
    same random numbers (the fit's forecast seed): no refit, and differences between rows
    come from the assumption only.

    Parameters
    ----------
    fits : sequence of (str, BayesResult)
        Named fits, e.g. ``[("joint", joint), ("single", amortized_alone)]``.
    year : int
        Calendar year reported.
    years : sequence of int, optional
        The years forecast together (default ``[year]``): pass the years of ``forecast.csv``
        so that the row with the default runs per year and the posterior ``nu`` reproduces it.
    models_per_year : sequence of int, default (4, 7, 12)
    nus : sequence of float or None, default (3, 30, None)

    Returns
    -------
    list of dict
        Keys `SENSITIVITY_COLUMNS`; ``nu`` is ``"posterior"`` for the posterior's own;
        ``p50``, ``p95`` in USD.
    """
    rows = []
    for name, fit in fits:
        for k in models_per_year:
            for nu in nus:
                fc = forecast_costs(fit, [int(year)] if years is None else list(years), models_per_year=int(k),
                                    quantiles=(0.5, 0.95), thresholds=(1e9,), nu=nu)
                for r in (r for r in fc.rows if r["year"] == int(year)):
                    rows.append({"fit": name, "method": r["method"], "year": r["year"], "models_per_year": k,
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
