"""Why the Bayesian headline differs from the paper's OLS: the ``growth_vs_paper`` table.

Each row changes one thing on the way from the paper's estimator to the headline fit, so the
reader sees which step moves the growth rate (issue 21, item 2):

1. ``ols_points``: OLS on the point estimates (the paper, Cottier et al. 2024);
2. ``ols_mc_median``: OLS on the medians of the Monte Carlo draws (what the Bayesian fit observes);
3. ``gls_diagonal``: generalised least squares with covariance ``diag(C) + tau**2 I``: each
   model weighted by its own Monte Carlo variance (``C``: covariance of log10 cost over the
   draws; ``tau``, the scatter around the line, by restricted maximum likelihood);
4. ``gls_within_chip``: ``C`` kept only between models on the same chip type (one price error
   per chip, e.g. the eleven TPU v3 models), ``+ tau**2 I``;
5. ``gls_full``: the full ``C + tau**2 I`` (shared inputs too: they move the level, not the slope);
6. ``bayes``: the headline, the single-method Bayesian fit (full ``C``, Student-t scatter).

``gls_*`` rows are computed here in closed form; ``bayes`` comes from the fit. `gls_growth` is
also the estimator behind the start-year and leave-one-out GLS columns of ``growth_robustness``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize_scalar

from uncertain_cost.growth.data import GrowthData, measurement
from uncertain_cost.growth.ols import doubling_months

__all__ = ["VS_PAPER_COLUMNS", "gls_growth", "vs_paper_rows"]

#: Columns of ``growth_vs_paper.csv``.
VS_PAPER_COLUMNS = ("method", "step", "estimator", "description", "n_models", "slope_oom_per_year",
                    "growth_per_year", "doubling_months", "scatter_dex", "change_vs_previous")

DESCRIPTIONS = {
    "ols_points": "OLS on the point estimates (the paper)",
    "ols_mc_median": "OLS on the medians of the Monte Carlo draws",
    "gls_diagonal": "GLS, each model's own Monte Carlo variance (diagonal of C) plus scatter",
    "gls_within_chip": "GLS, Monte Carlo covariance within chip types only, plus scatter",
    "gls_full": "GLS, full Monte Carlo covariance C plus scatter",
    "bayes": "Bayesian headline: full C, Student-t scatter (single-method fit)",
}


def gls_growth(y: np.ndarray, year: np.ndarray, cov: np.ndarray) -> tuple[float, float]:
    """Slope of log10 cost on year by GLS with covariance ``cov + tau**2 I``, ``tau`` by REML.

    Parameters
    ----------
    y : ndarray, shape (n,)
        Observed log10 costs.
    year : ndarray, shape (n,)
    cov : ndarray, shape (n, n)
        Measurement covariance (dex^2).

    Returns
    -------
    (float, float)
        Slope (OOM per year) and ``tau`` (dex).
    """
    x = np.column_stack([np.ones_like(year), year - year.mean()])
    eye = np.eye(y.size)

    def solve(log_tau2):
        s = cov + math.exp(log_tau2) * eye
        chol = np.linalg.cholesky(s)
        xw, yw = np.linalg.solve(chol, x), np.linalg.solve(chol, y)
        a = xw.T @ xw
        coef = np.linalg.solve(a, xw.T @ yw)
        r = yw - xw @ coef
        reml = 0.5 * (r @ r + 2.0 * np.sum(np.log(np.diag(chol))) + np.linalg.slogdet(a)[1])
        return reml, coef

    best = minimize_scalar(lambda t: solve(t)[0], bounds=(-12.0, 2.0), method="bounded",
                           options={"xatol": 1e-6})
    return float(solve(best.x)[1][1]), math.sqrt(math.exp(best.x))


def _ols_slope(y: np.ndarray, year: np.ndarray) -> float:
    return float(np.polyfit(year, y, 1)[0])


def vs_paper_rows(data: GrowthData, headline: dict[str, dict], center: str = "median") -> list[dict]:
    """Rows of ``growth_vs_paper.csv``: the steps from the paper's OLS to the headline, per method.

    Parameters
    ----------
    data : GrowthData
        With ``chip`` for the within-chip row (left out without chips).
    headline : dict of str to dict
        Per method, the headline ``growth.csv`` row (``slope_oom_per_year``, ``n_models``).
    center : str, default "median"
        The observation of the fit (`uncertain_cost.growth.bayes.fit_bayes`).

    Returns
    -------
    list of dict
        Keys `VS_PAPER_COLUMNS`; ``change_vs_previous`` is the ratio of the row's growth per
        year to the previous row's (None on the first row of a method).
    """
    import warnings

    rows = []
    for method, row in headline.items():
        one = data.select([method])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the fit has warned about dropped models already
            meas = measurement(one, center)
        costed = np.flatnonzero(one.costed(method))
        point = data.log10_cost_point.get(method)
        steps = []
        if point is not None and np.all(np.isfinite(point[costed])):
            steps.append(("ols_points", _ols_slope(point[costed], meas.year), None))
        steps.append(("ols_mc_median", _ols_slope(meas.center, meas.year), None))
        cov = meas.cov
        slope, tau = gls_growth(meas.center, meas.year, np.diag(np.diag(cov)))
        steps.append(("gls_diagonal", slope, tau))
        if data.chip:
            chip = np.array([data.chip[i] for i in costed])
            same = (chip[:, None] == chip[None, :]) & (chip[:, None] != "")
            slope, tau = gls_growth(meas.center, meas.year, np.where(same | np.eye(chip.size, dtype=bool), cov, 0.0))
            steps.append(("gls_within_chip", slope, tau))
        slope, tau = gls_growth(meas.center, meas.year, cov)
        steps.append(("gls_full", slope, tau))
        steps.append(("bayes", float(row["slope_oom_per_year"]), None))
        previous = None
        for k, (name, slope, tau) in enumerate(steps, start=1):
            growth = 10.0**slope
            rows.append({"method": method, "step": k, "estimator": name, "description": DESCRIPTIONS[name],
                         "n_models": int(meas.n_obs), "slope_oom_per_year": slope, "growth_per_year": growth,
                         "doubling_months": doubling_months(slope), "scatter_dex": tau,
                         "change_vs_previous": None if previous is None else growth / previous})
            previous = growth
    return rows
