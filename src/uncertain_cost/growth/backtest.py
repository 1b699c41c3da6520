"""Leave-future-out backtest of the forecast: fit through year Y, predict the maximum of Y + 1.

For each ``Y``, the single-method Bayesian model of one method is fitted on the frontier
models published up to the end of ``Y`` and forecasts the most expensive of the ``k`` runs
of ``Y + 1`` (`uncertain_cost.growth.forecast.forecast_costs`), ``k`` the number of models
of ``Y + 1`` that the method costs. The realised maximum is the largest observed log10 cost
(median of its Monte Carlo draws) of those models; its predictive percentile is the
fraction of predictive draws below it. Well-calibrated forecasts give percentiles spread
over (0, 1); a percentile near 0 or 1 is a realised maximum in the predictive's tail. The
predictive is of the true cost, the realised value carries its measurement error.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from uncertain_cost.growth.data import GrowthData

__all__ = ["BACKTEST_COLUMNS", "BACKTEST_YEARS", "backtest"]

#: Years ``Y`` fitted through (issue 10).
BACKTEST_YEARS = (2019, 2020, 2021, 2022)

#: Columns of ``growth_backtest.csv``.
BACKTEST_COLUMNS = ("method", "year", "fit_through", "n_fitted", "models_in_year", "realised_max_usd",
                    "predictive_p50_usd", "predictive_p5_usd", "predictive_p95_usd", "predictive_percentile")


def _through(data: GrowthData, last_year: int) -> GrowthData:
    keep = np.flatnonzero(data.year < last_year + 1)
    return GrowthData(data.year[keep], {m: d[:, keep] for m, d in data.log10_cost_draws.items()},
                      {m: p[keep] for m, p in data.log10_cost_point.items()},
                      tuple(data.model[i] for i in keep), data.draws_aligned)


def backtest(data: GrowthData, *, method: str = "amortized", years: Sequence[int] = BACKTEST_YEARS, seed: int = 0,
             draws: int = 500, tune: int = 500, chains: int = 2, center: str = "median", sampler: str = "nutpie",
             level: float = 0.9) -> list[dict]:
    """Leave-future-out backtest of the single-method fit's forecast of next year's maximum.

    Parameters
    ----------
    data : GrowthData
    method : str, default "amortized"
    years : sequence of int, default (2019, 2020, 2021, 2022)
        Each ``Y``: fit on models published before ``Y + 1``, predict ``Y + 1``.
    seed : int, default 0
        Seed of every fit (and so of its forecast).
    draws, tune, chains : int, default 500, 500, 2
        A short fit is enough for percentiles; diagnostics thresholds are not enforced.
    center : str, default "median"
    sampler : {"nutpie"}, default "nutpie"
    level : float, default 0.9

    Returns
    -------
    list of dict
        Keys `BACKTEST_COLUMNS`; years with no costed model in ``Y + 1`` are left out.

    Raises
    ------
    ValueError
        If ``method`` is not in ``data``.
    """
    import warnings

    from uncertain_cost.errors import UncertainCostWarning
    from uncertain_cost.growth.bayes import fit_bayes
    from uncertain_cost.growth.forecast import forecast_costs

    if method not in data.methods:
        raise ValueError(f"no method {method!r} in the growth data; have {list(data.methods)}")
    one = data.select([method])
    costed = one.costed(method)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # models the method cannot cost: all NaN
        observed = np.nanmedian(one.log10_cost_draws[method], axis=0)
    rows = []
    for y in years:
        nxt = costed & (np.floor(one.year) == y + 1)
        if not nxt.any():
            continue
        train = _through(one, int(y))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UncertainCostWarning)  # short chains: loose diagnostics
            fit = fit_bayes(train, seed=seed, draws=draws, tune=tune, chains=chains, center=center,
                            sampler=sampler, level=level, log_likelihood=False)
        k = int(nxt.sum())
        fc = forecast_costs(fit, [int(y) + 1], models_per_year=k, quantiles=(0.05, 0.5, 0.95), thresholds=(1e9,))
        pred = np.asarray(fc.predictive["max_log10_cost"].values).reshape(-1)
        realised = float(np.max(observed[nxt]))
        row = fc.rows[0]
        rows.append({"method": method, "year": int(y) + 1, "fit_through": int(y),
                     "n_fitted": int(train.costed(method).sum()), "models_in_year": k,
                     "realised_max_usd": float(10.0**realised), "predictive_p50_usd": row["p50"],
                     "predictive_p5_usd": row["p5"], "predictive_p95_usd": row["p95"],
                     "predictive_percentile": float(np.mean(pred < realised))})
    return rows
