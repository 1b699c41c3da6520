"""Pointwise log-likelihood of the growth fits and their PSIS-LOO comparison, per cost method.

The likelihood of a fit couples its observations through the Monte Carlo covariance ``C``, so
it does not factor into one term per observation. The term stored for observation ``j`` (one
model's log10 cost under method ``m``) is the density of ``y_j`` given the parameters and the
other observations *of the same method*, under the fit's marginal model of that method's
block: ``y_m ~ N(mu_m, C_mm + scatter_method**2 I)`` (``scatter_method = 0`` with one
method), ``mu = intercept_m + slope_m * x_i + loading_m * v_i``. For a normal model with
precision ``L`` and ``g = L (y - mu)`` that conditional is ``N(y_j - g_j / L_jj, 1 / L_jj)``
(Bürkner, Gabry and Vehtari 2021, doi:10.1007/s00180-020-01045-4). A joint fit and a
single-method fit then give densities of the same data given the same conditioning set, so
their PSIS-LOO estimates are comparable; the joint fit's other methods still inform its
posterior (the parameters), as they should. The terms do not sum to the joint log-likelihood.

The observation's own per-model effect ``v_i`` is integrated out over its prior
``StudentT(nu, 0, scatter_model)`` (exactly given the Gamma mixing variable, then by
quadrature): with one effect per observation, a term conditioned on ``v_i`` is dominated by
that one parameter and PSIS fails (Pareto k > 0.7 on most observations). The integrated term
is the predictive density of a new model's cost at that year, which is what a growth trend is
for. It ignores the other methods' costs of the same model (the joint fit's information about
``v_i``), so it does not credit the joint fit for that.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from numba import njit, prange

from uncertain_cost.threads import elementwise

__all__ = ["COMPARISON_COLUMNS", "MODEL_COMPLEXITY", "compare_fits", "log_likelihood_dataset",
           "pointwise_loglik", "relative_ess"]

LOG_2PI = math.log(2.0 * math.pi)
DIM_OBS = "observation"

#: Columns of ``growth_comparison.csv``.
COMPARISON_COLUMNS = ("method", "model", "elpd_loo", "elpd_se", "p_loo", "rank", "headline", "elpd_diff",
                      "dse", "pareto_k_max", "n_pareto_k_high")

#: Candidate names, simplest first: within the tie margin the simpler one is the headline.
MODEL_COMPLEXITY = ("single", "joint", "repaired")

#: A candidate beats a simpler one only when its elpd is higher by more than this many SE of
#: the difference.
TIE_SE = 2.0


def pointwise_loglik(gm, posterior, *, integrate_effect: bool = True) -> np.ndarray:
    """Log density of each observation given the parameters and its method's other observations.

    Parameters
    ----------
    gm : uncertain_cost.growth.bayes.GrowthModel
    posterior : xarray.Dataset
        With ``intercept``, ``slope`` (chain, draw, cost_method), ``model_effect`` (chain,
        draw, model), ``scatter_model``, ``nu`` and, with two or more methods,
        ``log_loading`` and ``scatter_method``; for the repaired model (``gm.contrasts``)
        also ``contrast_coef`` (chain, draw, contrast_term), whose terms enter ``mu``.
    integrate_effect : bool, default True
        Integrate the observation's own per-model effect ``v_i`` out over its prior
        ``StudentT(nu, 0, scatter_model)`` (Gauss-Hermite quadrature, `EFFECT_NODES` nodes):
        the density of a new model's cost at that year, given the trend, the scatter and
        the method's other observations. False conditions on the posterior draw of ``v_i``
        (a term that one parameter per observation dominates: PSIS-LOO is unreliable on it).

    Returns
    -------
    ndarray, shape (chain, draw, n_obs)
        In the observation order of ``gm.measurement`` (natural log).
    """
    meas = gm.measurement
    n_chain, n_draw = int(posterior.sizes["chain"]), int(posterior.sizes["draw"])
    s, m = n_chain * n_draw, len(meas.methods)
    mi, ii = meas.method_index, meas.model_index

    def flat(name, *shape):
        return np.asarray(posterior[name].values, dtype=np.float64).reshape(s, *shape)

    intercept, slope, effect = flat("intercept", m), flat("slope", m), flat("model_effect", -1)
    if m > 1:
        loading, sw2 = np.exp(flat("log_loading", m)), flat("scatter_method", 1) ** 2
    else:
        loading, sw2 = np.ones((s, 1)), np.zeros((s, 1))
    x = meas.year[ii] - gm.year_ref
    mu = intercept[:, mi] + slope[:, mi] * x[None, :] + loading[:, mi] * effect[:, ii]
    if getattr(gm, "contrasts", None) is not None:  # the repaired model's age and chip terms
        mu = mu + flat("contrast_coef", gm.contrasts.n_terms) @ gm.contrasts.design.T
    resid = meas.center[None, :] - mu
    cov = (meas.eigvecs * meas.eigvals) @ meas.eigvecs.T  # the fit's measurement covariance
    out = np.empty((s, meas.n_obs))
    nodes = None
    for j in range(m):
        rows = np.flatnonzero(mi == j)
        w, u = np.linalg.eigh(cov[np.ix_(rows, rows)])
        inv = 1.0 / (w[None, :] + sw2)  # (S, n_m): eigenvalues of the block's precision
        g = ((resid[:, rows] @ u) * inv) @ u.T  # L (y - mu)
        ljj = inv @ (u * u).T  # diagonal of L
        if not integrate_effect:
            out[:, rows] = -0.5 * LOG_2PI + 0.5 * np.log(ljj) - 0.5 * g * g / ljj
            continue
        # y_j | y_-j, v_i ~ N(b + load * v_i, tau**2): b is the conditional mean without v_i
        own = loading[:, mi[rows]] * effect[:, ii[rows]]
        b = meas.center[None, rows] - g / ljj - own
        d, tau, load = meas.center[None, rows] - b, 1.0 / np.sqrt(ljj), loading[:, [j]]
        if nodes is None:  # the quadrature nodes depend on the draw's nu only: once for all methods
            scale, nodes = flat("scatter_model", 1), _effect_nodes(flat("nu", 1))
        out[:, rows] = _integrated_sum(np.ascontiguousarray(d), np.ascontiguousarray(tau),
                                       np.ascontiguousarray((load * scale).reshape(-1)), *nodes)
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


@njit(cache=True, parallel=True)
def _integrated_sum(d, tau, load_scale, lam, log_w):
    """``log sum_k w_k N(d | 0, tau**2 + load_scale**2 / lam_k)`` per (draw, observation).

    Summed directly (one ``exp`` per node); where that sum underflows (an observation far in
    the tails of every node), summed again in log space with the largest term factored out.
    Draws in parallel (each output element is computed alone: the same result whatever the
    thread count).
    """
    n_s, n = d.shape
    n_k = log_w.size
    w = np.exp(log_w)
    out = np.empty((n_s, n))
    for i in prange(n_s):
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
                                      "other observations of its method"})},
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


def _method_terms(idata, method: str, models: list[str] | None = None):
    """Select one method's ``log_likelihood`` terms, as an InferenceData ordered by model name."""
    import arviz as az

    ll = idata.log_likelihood["log10_cost"]
    keep = np.flatnonzero(np.asarray(ll["observation_method"].values) == method)
    names = [str(v) for v in np.asarray(ll["observation_model"].values)[keep]]
    order = {name: k for k, name in zip(keep, names, strict=True)}
    names = sorted(names) if models is None else models
    if set(names) != set(order):
        raise ValueError(f"the fits do not cost the same models under {method!r}")
    sub = ll.isel({DIM_OBS: [order[n] for n in names]}).drop_vars(["observation_method", "observation_model"])
    return az.InferenceData(log_likelihood=sub.to_dataset()), names


def compare_fits(joint, singles: dict, repaired=None) -> list[dict]:
    """Rank the joint fit against each single-method fit (and the repaired joint fit) by PSIS-LOO, per method.

    Parameters
    ----------
    joint : uncertain_cost.growth.bayes.BayesResult
        With a ``log_likelihood`` group.
    singles : dict of str to BayesResult
        Per method, the fit of that method alone (may be empty: the joint fit is then the
        only candidate).
    repaired : BayesResult, optional
        The repaired joint fit (`uncertain_cost.growth.repaired`), a third candidate for the
        methods it fits.

    Returns
    -------
    list of dict
        Keys `COMPARISON_COLUMNS`, one row per (method, candidate), best first within a
        method. ``elpd_diff`` and ``dse`` are against the rank-1 candidate (arviz.compare).
        ``headline`` is true for one candidate per method: the simplest candidate (order
        `MODEL_COMPLEXITY`) whose elpd is within `TIE_SE` SE of the difference of the best
        one's.
    """
    import arviz as az

    rows = []
    for method in joint.methods:
        fits = {"joint": joint}
        if method in singles:
            fits["single"] = singles[method]
        if repaired is not None and method in repaired.methods:
            fits["repaired"] = repaired
        terms, models = {}, None
        for name in MODEL_COMPLEXITY:
            if name in fits:
                terms[name], models = _method_terms(fits[name].idata, method, models)
        loos = {}
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
            warnings.filterwarnings("ignore", category=UserWarning, module="arviz")
            warnings.filterwarnings("ignore", message=".*inplace keyword")  # arviz.compare under pandas 3
            for name, data in terms.items():
                loos[name] = az.loo(data, pointwise=True, reff=relative_ess(data.log_likelihood["log10_cost"]))
            table = az.compare(loos, ic="loo") if len(loos) > 1 else None
        if table is None:
            ranked = [(name, 0.0, 0.0) for name in loos]
        else:
            ranked = [(str(name), float(r["elpd_diff"]), float(r["dse"])) for name, r in table.iterrows()]
        tied = [name for name, diff, dse in ranked if diff <= TIE_SE * dse]
        headline = min(tied, key=MODEL_COMPLEXITY.index)
        for rank, (name, diff, dse) in enumerate(ranked, start=1):
            lo = loos[name]
            k = np.asarray(lo.pareto_k)
            rows.append({"method": method, "model": name, "elpd_loo": float(lo.elpd_loo),
                         "elpd_se": float(lo.se), "p_loo": float(lo.p_loo), "rank": rank,
                         "headline": name == headline, "elpd_diff": diff, "dse": dse,
                         "pareto_k_max": float(np.max(k)), "n_pareto_k_high": int(np.sum(k > 0.7))})
    return rows
