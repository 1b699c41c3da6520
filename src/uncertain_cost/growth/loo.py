"""Pointwise log-likelihood of a single-method growth fit, for PSIS-LOO.

The likelihood couples a fit's observations through the Monte Carlo covariance ``C``, so it
does not factor into one term per observation. The term stored for observation ``j`` (one
model's log10 cost) is the density of ``y_j`` given the parameters and the other observations:
for ``y ~ N(mu, C)`` with precision ``L = C^-1`` and ``g = L (y - mu)`` that conditional is
``N(y_j - g_j / L_jj, 1 / L_jj)`` (Bürkner, Gabry and Vehtari 2021,
doi:10.1007/s00180-020-01045-4), ``mu = intercept + slope * x + v``.

The observation's own per-model effect ``v_i`` is integrated out over its prior
``StudentT(nu, 0, scatter_model)`` (exactly given the Gamma mixing variable, then by
quadrature): with one effect per observation, a term conditioned on ``v_i`` is dominated by
that one parameter and PSIS fails (Pareto k > 0.7 on most observations). The integrated term
is the predictive density of a new model's cost at that year, which is what a growth trend is
for; its PSIS weights give each model's influence on the slope (`uncertain_cost.growth.robustness`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from uncertain_cost.forking import prefer_fork_safe_threading
from uncertain_cost.threads import elementwise

prefer_fork_safe_threading()  # before this module's parallel kernels run (forked children may run them)

__all__ = ["log_likelihood_dataset", "pointwise_loglik", "relative_ess"]

LOG_2PI = math.log(2.0 * math.pi)
DIM_OBS = "observation"


def pointwise_loglik(gm, posterior, *, integrate_effect: bool = True) -> np.ndarray:
    """Log density of each observation given the parameters and the fit's other observations.

    Parameters
    ----------
    gm : uncertain_cost.growth.bayes.GrowthModel
    posterior : xarray.Dataset
        With ``intercept``, ``slope`` (chain, draw, cost_method), ``model_effect`` (chain,
        draw, model), ``scatter_model`` and ``nu``.
    integrate_effect : bool, default True
        Integrate the observation's own per-model effect ``v_i`` out over its prior
        ``StudentT(nu, 0, scatter_model)`` (`EFFECT_NODES` quadrature nodes): the density of a
        new model's cost at that year, given the trend, the scatter and the other
        observations. False conditions on the posterior draw of ``v_i`` (a term that one
        parameter per observation dominates: PSIS-LOO is unreliable on it).

    Returns
    -------
    ndarray, shape (chain, draw, n_obs)
        In the observation order of ``gm.measurement`` (natural log).
    """
    meas = gm.measurement
    n_chain, n_draw = int(posterior.sizes["chain"]), int(posterior.sizes["draw"])
    s = n_chain * n_draw
    ii = meas.model_index

    def flat(name, *shape):
        return np.asarray(posterior[name].values, dtype=np.float64).reshape(s, *shape)

    intercept, slope, effect = flat("intercept", 1), flat("slope", 1), flat("model_effect", -1)
    x = meas.year[ii] - gm.year_ref
    own = effect[:, ii]
    resid = meas.center[None, :] - (intercept + slope * x[None, :] + own)
    u, inv = meas.eigvecs, 1.0 / meas.eigvals  # the fit's measurement covariance (eigenvalues floored)
    g = ((resid @ u) * inv) @ u.T  # L (y - mu)
    ljj = (u * u) @ inv  # diagonal of L
    if not integrate_effect:
        return (-0.5 * LOG_2PI + 0.5 * np.log(ljj) - 0.5 * g * g / ljj).reshape(n_chain, n_draw, meas.n_obs)
    # y_j | y_-j, v_i ~ N(b + v_i, tau**2): b is the conditional mean without v_i
    d = g / ljj + own  # y_j - b
    tau = np.broadcast_to(1.0 / np.sqrt(ljj), d.shape)
    out = _integrated_sum(np.ascontiguousarray(d), np.ascontiguousarray(tau),
                          np.ascontiguousarray(flat("scatter_model")), *_effect_nodes(flat("nu", 1)))
    return out.reshape(n_chain, n_draw, meas.n_obs)


#: Gauss-Legendre nodes of the integral over a model's own effect.
EFFECT_NODES = 48


def _effect_nodes(nu):
    """Quadrature nodes ``lam`` (S, K) and log weights (K) of `_integrated` for draws ``nu`` (S, 1)."""
    from scipy.special import gammaincinv

    z, w = np.polynomial.legendre.leggauss(EFFECT_NODES)
    z, w = 0.5 * (z + 1.0), 0.5 * w  # on (0, 1)
    u, w = z * z, w * 2.0 * z  # u = z**2, du = 2 z dz
    half_nu = 0.5 * np.asarray(nu, dtype=np.float64).reshape(-1, 1)
    # the inverse Gamma CDF is the costly part (~1 us a node): on every core, same values
    lam = elementwise(gammaincinv, half_nu, u[None, :]) / half_nu
    return lam, np.log(w)


def _integrated(d, tau, load, scale, nu):
    """Log of the integral over ``v`` of N(d | load * v, tau**2) * StudentT(v | nu, 0, scale).

    The Student-t is a Gamma scale mixture of normals, ``v | lam ~ N(0, scale**2 / lam)``,
    ``lam ~ Gamma(nu / 2, rate nu / 2)``, so the integral over ``v`` is exact given ``lam``:
    ``N(d | 0, tau**2 + load**2 scale**2 / lam)``; the integral over ``lam`` is Gauss-Legendre
    quadrature (`EFFECT_NODES` nodes) in the Gamma CDF ``u``, ``lam = F^-1(u)``, with
    ``u = z**2`` so the nodes crowd the heavy tail (small ``lam``). ``d`` and ``tau`` are
    (S, n), ``load``, ``scale`` and ``nu`` (S, 1); returns (S, n). The nodes depend on the
    draw only (`_effect_nodes`); the sum over nodes is `_integrated_sum`.
    """
    d, tau = np.broadcast_arrays(np.asarray(d, dtype=np.float64), np.asarray(tau, dtype=np.float64))
    load_scale = (np.asarray(load, dtype=np.float64) * np.asarray(scale, dtype=np.float64)).reshape(-1)
    return _integrated_sum(np.ascontiguousarray(d), np.ascontiguousarray(tau),
                           np.ascontiguousarray(np.broadcast_to(load_scale, (d.shape[0],))), *_effect_nodes(nu))


#: Below this value of the direct sum of `_integrated_sum`, the sum is redone in log space.
_TINY_SUM = 1e-280


@njit(cache=True)
def _integrated_sum(d, tau, load_scale, lam, log_w):
    """``log sum_k w_k N(d | 0, tau**2 + load_scale**2 / lam_k)`` per (draw, observation).

    Summed directly (one ``exp`` per node); where that sum underflows (an observation far in
    the tails of every node), summed again in log space with the largest term factored out.
    Each output element is computed alone. Serial: ``parallel=True`` took 1.5 s to compile on
    a first run against 0.76 s, and only halved the wall time of a ~45 ms call (the same CPU
    time) in runs whose other process already holds the second core (the cold default run
    was 0.35 s faster serial, the warm one unchanged; the same bytes either way).
    """
    n_s, n = d.shape
    n_k = log_w.size
    w = np.exp(log_w)
    out = np.empty((n_s, n))
    for i in range(n_s):
        ls2 = load_scale[i] * load_scale[i]
        inv_lam = np.empty(n_k)
        for k in range(n_k):
            inv_lam[k] = ls2 / lam[i, k]
        for j in range(n):
            t2 = tau[i, j] * tau[i, j]
            half_d2 = 0.5 * d[i, j] * d[i, j]
            acc = 0.0
            for k in range(n_k):
                var = t2 + inv_lam[k]
                acc += w[k] * math.exp(-half_d2 / var) / math.sqrt(var)
            if acc > _TINY_SUM:
                out[i, j] = math.log(acc) - 0.5 * LOG_2PI
                continue
            top = -np.inf
            for k in range(n_k):
                var = t2 + inv_lam[k]
                top = max(top, log_w[k] - 0.5 * math.log(var) - half_d2 / var)
            acc = 0.0
            for k in range(n_k):
                var = t2 + inv_lam[k]
                acc += math.exp(log_w[k] - 0.5 * math.log(var) - half_d2 / var - top)
            out[i, j] = top + math.log(acc) - 0.5 * LOG_2PI
    return out


def log_likelihood_dataset(gm, posterior):
    """Build the ``log_likelihood`` group of a fit: `pointwise_loglik` as variable ``log10_cost``.

    Parameters
    ----------
    gm : uncertain_cost.growth.bayes.GrowthModel
    posterior : xarray.Dataset

    Returns
    -------
    xarray.Dataset
        ``log10_cost`` (chain, draw, observation) with coordinates ``observation_method`` and
        ``observation_model``.
    """
    import xarray as xr

    meas = gm.measurement
    values = pointwise_loglik(gm, posterior)
    return xr.Dataset(
        {"log10_cost": (("chain", "draw", DIM_OBS), values,
                        {"long_name": "log density of the observation given the parameters and the "
                                      "other observations"})},
        coords={"chain": posterior["chain"].values, "draw": posterior["draw"].values,
                DIM_OBS: np.arange(meas.n_obs),
                "observation_method": (DIM_OBS, [meas.methods[j] for j in meas.method_index]),
                "observation_model": (DIM_OBS, [meas.model[i] for i in meas.model_index])})


def relative_ess(loglik) -> float:
    """Relative efficiency of the draws for PSIS-LOO: mean over observations of ESS(exp(loglik)) / draws.

    As R's ``loo::relative_eff`` (computed from the likelihood, so no posterior group is needed).

    Parameters
    ----------
    loglik : xarray.DataArray
        (chain, draw, observation).

    Returns
    -------
    float
        In (0, 1] for well-mixed chains (capped at 1).
    """
    import arviz as az

    lik = np.exp(loglik - loglik.max(dim=("chain", "draw")))
    ess = az.ess(lik.to_dataset(name="lik"), method="mean")["lik"].values
    n = int(loglik.sizes["chain"]) * int(loglik.sizes["draw"])
    return float(min(1.0, np.nanmean(ess) / n))
