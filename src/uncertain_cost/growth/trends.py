"""Candidate trend models of the forecast with normal scatter, exact on a grid, and their predictive draws.

The forecast's constant-slope Student-t model (`uncertain_cost.growth.bayes`, the headline)
is one candidate; this module holds the others, and the paper's OLS as a baseline, all for
one cost method. Each candidate is ``y ~ N(X(phi) beta, C + diag(sigma_i(phi)**2))``: ``y`` the
observed log10 costs, ``C`` their Monte Carlo covariance (`uncertain_cost.growth.data.
measurement`), ``beta`` Gaussian (integrated out exactly, prior ``N(0, diag(BETA_PRIOR_SD**2))``
around the mean cost), ``phi`` the structural parameters on a grid (posterior mass per grid
point, exact up to the grid, no sampler):

``constant_normal``
    ``mu = a + b x``, ``sigma_i = s``: the headline's line with normal tails (``nu = inf``).
``hinge``
    ``mu = a + b x + d max(0, t - tau)``: the slope changes by ``d`` at ``tau``, uniform over
    the years between the second and the second-to-last calendar year of the data.
``scatter_trend``
    ``mu = a + b x``, ``sigma_i = s exp(g x_i)``: the scatter grows or shrinks by ``exp(g)``
    a year, ``g ~ N(0, SCATTER_TREND_SD)``.

``x = t - YEAR_REF``; ``s ~ Gamma(2, rate 2 / 0.4)`` (the headline's scatter prior). Draws
of ``(phi, beta)`` give the scatter and the mean of a new run at any time, from which
`max_predictive` draws the maximum of ``k`` runs. ``ols_normal`` is the paper's OLS with
normal errors (flat prior: ``beta`` normal around the OLS estimate, ``s**2`` scaled
inverse chi-square), a baseline, not a candidate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["CANDIDATES", "TrendDraws", "fit_trend", "ols_normal_draws", "bayes_draws", "max_predictive"]

#: Grid candidates, by name.
CANDIDATES = ("constant_normal", "hinge", "scatter_trend")

YEAR_REF = 2020.0
BETA_PRIOR_SD = (3.0, 1.0, 0.5)  # intercept (dex around the mean cost), slope and slope change (OOM/yr)
SCATTER_PRIOR_MEAN = 0.4
SCATTER_TREND_SD = 0.15
SCATTER_GRID = np.exp(np.linspace(math.log(0.05), math.log(2.0), 48))


@dataclass(frozen=True, eq=False)
class TrendDraws:
    """Posterior draws of a trend model, enough to simulate a new run at time ``t``.

    Attributes
    ----------
    name : str
    beta : ndarray, shape (S, 2) or (S, 3)
        Intercept at `YEAR_REF`, slope and (hinge) slope change.
    scale : ndarray, shape (S,)
        Scatter at `YEAR_REF` (dex).
    scale_trend : ndarray, shape (S,)
        ``g``: the scatter at ``t`` is ``scale * exp(g (t - YEAR_REF))``.
    tau : ndarray, shape (S,)
        Hinge year (``inf``: no hinge).
    nu : ndarray, shape (S,)
        Student-t degrees of freedom of the scatter (``inf``: normal).
    year_ref : float
    """

    name: str
    beta: np.ndarray
    scale: np.ndarray
    scale_trend: np.ndarray
    tau: np.ndarray
    nu: np.ndarray
    year_ref: float = YEAR_REF

    def mean(self, t: np.ndarray) -> np.ndarray:
        """Mean log10 cost of a run at times ``t`` (S, K)."""
        x = t - self.year_ref
        out = self.beta[:, :1] + self.beta[:, 1:2] * x
        if self.beta.shape[1] > 2:
            out = out + self.beta[:, 2:3] * np.maximum(0.0, t - self.tau[:, None])
        return out

    def sd(self, t: np.ndarray) -> np.ndarray:
        """Scatter scale at times ``t`` (S, K)."""
        return self.scale[:, None] * np.exp(self.scale_trend[:, None] * (t - self.year_ref))

    def take(self, index: np.ndarray) -> TrendDraws:
        """Select the draws at ``index`` (e.g. an importance resample)."""
        return TrendDraws(self.name, self.beta[index], self.scale[index], self.scale_trend[index], self.tau[index],
                          self.nu[index], self.year_ref)


def _design(year: np.ndarray, tau: float | None) -> np.ndarray:
    x = year - YEAR_REF
    cols = [np.ones_like(x), x] + ([np.maximum(0.0, year - tau)] if tau is not None else [])
    return np.column_stack(cols)


def _structure(name: str, year: np.ndarray) -> tuple[np.ndarray, list]:
    """Grid values of the scatter trend ``g`` and of the hinge year ``tau`` of a candidate."""
    if name == "constant_normal":
        return np.zeros(1), [None]
    if name == "hinge":
        first, last = math.floor(year.min()) + 1, math.floor(year.max())
        return np.zeros(1), [float(t) for t in np.linspace(first, max(first, last), max(2, 4 * (last - first) + 1))]
    if name == "scatter_trend":
        return np.linspace(-0.45, 0.45, 31), [None]
    raise ValueError(f"unknown trend candidate {name!r}; expected one of {CANDIDATES}")


def _grid_posterior(name: str, year: np.ndarray, y: np.ndarray, cov: np.ndarray):
    """Log posterior mass of every grid point and the Gaussian conditional of ``beta`` there.

    For a scatter trend ``g``, ``C + s**2 E**2 = E U (G + s**2) U' E`` with ``E = diag(exp(g x))``
    and ``E^-1 C E^-1 = U G U'``: one eigendecomposition per ``g`` serves every ``s`` and ``tau``.
    """
    x = year - YEAR_REF
    s2 = SCATTER_GRID**2
    log_s = 2.0 * np.log(SCATTER_GRID) - 2.0 * SCATTER_GRID / SCATTER_PRIOR_MEAN  # Gamma(2) on a log grid
    gs, taus = _structure(name, year)
    points, logp, means, chols = [], [], [], []
    for g in gs:
        inv_e = np.exp(-g * x)
        gam, u = np.linalg.eigh(cov * inv_e[:, None] * inv_e[None, :])
        gam = np.maximum(gam, 0.0)
        zy = u.T @ (inv_e * y)
        w = 1.0 / (gam[None, :] + s2[:, None])  # (S, n)
        base = log_s - 0.5 * (np.sum(np.log(gam[None, :] + s2[:, None]), axis=1) + 2.0 * g * np.sum(x))
        base = base - 0.5 * (g / SCATTER_TREND_SD) ** 2 if name == "scatter_trend" else base
        for tau in taus:
            xd = _design(year, tau)
            k = xd.shape[1]
            m0 = np.zeros(k)
            m0[0] = y.mean()
            p0 = np.asarray(BETA_PRIOR_SD[:k]) ** -2.0
            zx = u.T @ (inv_e[:, None] * xd)
            r = zy - zx @ m0
            prec = np.diag(p0)[None] + (zx.T[None] * w[:, None, :]) @ zx
            cp = np.linalg.cholesky(prec)
            b = np.linalg.solve(cp, ((w * r) @ zx)[..., None])[..., 0]
            quad = np.sum(w * r * r, axis=1) - np.sum(b * b, axis=1)
            logdet = 2.0 * np.sum(np.log(np.diagonal(cp, axis1=1, axis2=2)), axis=1) - np.sum(np.log(p0))
            logp.append(base - 0.5 * (quad + logdet))
            means.append(m0 + np.linalg.solve(np.swapaxes(cp, 1, 2), b[..., None])[..., 0])
            chols.append(cp)
            points += [(float(s), float(g), tau) for s in SCATTER_GRID]
    return points, np.concatenate(logp), means, chols


def fit_trend(name: str, year, y, cov, *, n_draws: int = 4000, rng: np.random.Generator) -> TrendDraws:
    """Posterior draws of a grid candidate, exact up to the grid.

    Parameters
    ----------
    name : str
        One of `CANDIDATES`.
    year, y : array_like, shape (n,)
        Publication years and observed log10 costs of the costed models.
    cov : array_like, shape (n, n)
        Their measurement covariance.
    n_draws : int, default 4000
    rng : numpy.random.Generator

    Returns
    -------
    TrendDraws

    Raises
    ------
    ValueError
        For an unknown candidate or fewer than 4 models.
    """
    year, y, cov = np.asarray(year, float), np.asarray(y, float), np.asarray(cov, float)
    if y.size < 4:
        raise ValueError(f"trend candidate {name!r}: need at least 4 models, got {y.size}")
    points, logp, means, chols = _grid_posterior(name, year, y, cov)
    w = np.exp(logp - logp.max())
    idx = rng.choice(len(points), size=int(n_draws), p=w / w.sum())
    means, chols = np.concatenate(means), np.concatenate(chols)
    z = rng.standard_normal((int(n_draws), means.shape[1]))
    beta = means[idx] + np.linalg.solve(np.swapaxes(chols[idx], 1, 2), z[..., None])[..., 0]
    s = np.array([points[j][0] for j in idx]) * np.exp(rng.uniform(-0.5, 0.5, idx.size) * _grid_step())
    return TrendDraws(name, beta, s, np.array([points[j][1] for j in idx]),
                      np.array([math.inf if points[j][2] is None else points[j][2] for j in idx]),
                      np.full(idx.size, math.inf))


def _grid_step() -> float:
    return float(np.log(SCATTER_GRID[1] / SCATTER_GRID[0]))


def ols_normal_draws(year, y, *, n_draws: int = 4000, rng: np.random.Generator) -> TrendDraws:
    """Predictive parameters of the paper's OLS with normal errors (flat prior, exact).

    Parameters
    ----------
    year, y : array_like, shape (n,)
        Publication years and log10 costs (n >= 3).
    n_draws : int, default 4000
    rng : numpy.random.Generator

    Returns
    -------
    TrendDraws
        ``s**2 ~ (n - 2) s_hat**2 / chi2(n - 2)``, ``beta ~ N(beta_hat, s**2 (X'X)^-1)``.
    """
    year, y = np.asarray(year, float), np.asarray(y, float)
    xd = _design(year, None)
    xtx = xd.T @ xd
    beta_hat = np.linalg.solve(xtx, xd.T @ y)
    dof = y.size - 2
    s2_hat = float(np.sum((y - xd @ beta_hat) ** 2) / dof)
    s2 = dof * s2_hat / rng.chisquare(dof, int(n_draws))
    chol = np.linalg.cholesky(np.linalg.inv(xtx))
    beta = beta_hat + np.sqrt(s2)[:, None] * (rng.standard_normal((int(n_draws), 2)) @ chol.T)
    n = int(n_draws)
    return TrendDraws("ols_normal", beta, np.sqrt(s2), np.zeros(n), np.full(n, math.inf), np.full(n, math.inf))


def bayes_draws(fit, method: str) -> TrendDraws:
    """Collect the constant-slope Student-t model's draws (`uncertain_cost.growth.bayes.BayesResult`).

    Parameters
    ----------
    fit : BayesResult
    method : str

    Returns
    -------
    TrendDraws
        Named ``"constant"``; intercept re-referenced to `YEAR_REF`.
    """
    a, b = fit.draws("intercept", method), fit.draws("slope", method)
    scale = fit.draws("scatter_model")
    a = a + b * (YEAR_REF - fit.year_ref)
    n = a.size
    return TrendDraws("constant", np.column_stack([a, b]), scale, np.zeros(n), np.full(n, math.inf),
                      fit.draws("nu"))


def max_predictive(draws: TrendDraws, year: int, k: int, meas_sd, rng: np.random.Generator) -> np.ndarray:
    """Draws of the observed maximum log10 cost of ``k`` runs published in ``year``.

    Parameters
    ----------
    draws : TrendDraws
    year : int
        Calendar year; publication times uniform within it.
    k : int
        Number of runs (>= 1).
    meas_sd : array_like, shape (k,)
        Measurement sd (dex) of each run's observed cost: the observed maximum is of the
        true costs plus their measurement errors.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (S,)
    """
    s = draws.scale.size
    t = year + rng.random((s, int(k)))
    nu = draws.nu[:, None]
    z = np.where(np.isfinite(nu), rng.standard_t(np.where(np.isfinite(nu), nu, 1.0), (s, int(k))),
                 rng.standard_normal((s, int(k))))
    noise = rng.standard_normal((s, int(k))) * np.asarray(meas_sd, float)[None, :]
    return np.max(draws.mean(t) + draws.sd(t) * z + noise, axis=1)
