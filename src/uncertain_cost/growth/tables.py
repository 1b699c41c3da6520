"""Rows of ``growth.csv``: the paper's OLS and the Bayesian fit, side by side, per method."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from uncertain_cost.growth.bayes import BayesResult
from uncertain_cost.growth.data import GrowthData
from uncertain_cost.growth.ols import OLSResult, fit_ols

__all__ = ["GROWTH_COLUMNS", "growth_rows", "fit_ols_methods"]

GROWTH_COLUMNS = (
    "method", "estimator", "n_models", "growth_per_year", "lo", "hi", "level",
    "slope_oom_per_year", "doubling_months", "r_hat_max", "ess_bulk_min", "divergences", "headline",
)


def fit_ols_methods(data: GrowthData, level: float = 0.9) -> dict[str, OLSResult]:
    """Fit the paper's OLS on the point estimates, for every method that has them.

    Parameters
    ----------
    data : GrowthData
    level : float, default 0.9

    Returns
    -------
    dict of str to OLSResult
        Methods in the order of ``data``; methods with fewer than 3 costed models are left out.
    """
    out = {}
    for method, point in data.log10_cost_point.items():
        if int(np.isfinite(point).sum()) >= 3:
            out[method] = fit_ols(data.year, 10.0**point, level)
    return out


def growth_rows(
    ols: Mapping[str, OLSResult] | None = None,
    bayes: BayesResult | Mapping[str, BayesResult] | None = None,
) -> list[dict]:
    """Rows of ``growth.csv`` (keys `GROWTH_COLUMNS`).

    Parameters
    ----------
    ols : mapping of str to OLSResult, optional
        Per method, e.g. from `fit_ols_methods`.
    bayes : BayesResult or mapping of str to BayesResult, optional
        A single-method fit, or one per method (`uncertain_cost.growth.bayes.fit_methods`).

    Returns
    -------
    list of dict
        OLS rows first (diagnostic columns None), then Bayesian rows (the fit's R-hat max,
        bulk ESS min and divergences). ``growth_per_year``, ``lo`` and ``hi`` in x per year;
        Bayesian values are the posterior median and the central interval at ``level``;
        ``doubling_months`` at the median slope. ``headline`` is true on the Bayesian rows:
        the single-method fit is the headline of its method.
    """
    rows = []
    for method, r in (ols or {}).items():
        rows.append({
            "method": method, "estimator": "ols", "n_models": r.n,
            "growth_per_year": r.growth, "lo": r.growth_lo, "hi": r.growth_hi, "level": r.level,
            "slope_oom_per_year": r.slope, "doubling_months": r.doubling_months,
            "r_hat_max": None, "ess_bulk_min": None, "divergences": None, "headline": False,
        })
    fits = {} if bayes is None else dict(bayes) if isinstance(bayes, Mapping) else {m: bayes for m in bayes.methods}
    for method, fit in fits.items():
        d = fit.diagnostics
        s = fit.summary(method)
        rows.append({
            "method": method, "estimator": "bayes", "n_models": s["n_models"],
            "growth_per_year": s["growth"], "lo": s["growth_lo"], "hi": s["growth_hi"],
            "level": s["level"], "slope_oom_per_year": s["slope"],
            "doubling_months": s["doubling_months"],
            "r_hat_max": None if math.isnan(d.r_hat_max) else round(d.r_hat_max, 4),
            "ess_bulk_min": None if math.isnan(d.ess_bulk_min) else round(d.ess_bulk_min, 1),
            "divergences": d.divergences, "headline": True,
        })
    return rows
