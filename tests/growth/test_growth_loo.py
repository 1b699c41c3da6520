"""Pointwise log-likelihood of the single-method growth fit (the terms PSIS-LOO reweights by)."""

import math

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from uncertain_cost.growth import build_model, simulate_growth_data
from uncertain_cost.growth.data import DIM_COST_METHOD
from uncertain_cost.growth.loo import pointwise_loglik


def _model(method="amortized"):
    data, _ = simulate_growth_data(seed=5, n_models=12, n_draws=300)
    return build_model(data.select([method]))


def _posterior(gm, n_draw=3, seed=0):
    rng = np.random.default_rng(seed)
    k = len(gm.measurement.model)
    shape = (2, n_draw)
    post = {
        "intercept": (("chain", "draw", DIM_COST_METHOD), rng.normal(7.0, 0.5, (*shape, 1))),
        "slope": (("chain", "draw", DIM_COST_METHOD), rng.normal(0.4, 0.05, (*shape, 1))),
        "model_effect": (("chain", "draw", "model"), rng.normal(0.0, 0.3, (*shape, k))),
    }
    return xr.Dataset(post, coords={"chain": [0, 1], "draw": np.arange(n_draw)})


@pytest.mark.parametrize("method", ["amortized", "acquisition"])
def test_pointwise_terms_are_the_conditional_normal_densities(method):
    """Each term is log N(y_j | E[y_j | y_-j], Var[y_j | y_-j]) under the measurement covariance."""
    gm = _model(method)
    meas = gm.measurement
    post = _posterior(gm)
    ll = pointwise_loglik(gm, post, integrate_effect=False)
    assert ll.shape == (2, 3, meas.n_obs) and np.isfinite(ll).all()
    sigma = (meas.eigvecs * meas.eigvals) @ meas.eigvecs.T
    ii = meas.model_index
    x = meas.year[ii] - gm.year_ref
    for c, d in [(0, 0), (1, 2)]:
        p = post.isel(chain=c, draw=d)
        mu = p["intercept"].values[0] + p["slope"].values[0] * x + p["model_effect"].values[ii]
        for t in (0, meas.n_obs - 1):
            rest = np.delete(np.arange(meas.n_obs), t)
            gain = np.linalg.solve(sigma[np.ix_(rest, rest)], sigma[rest, t])
            mean = mu[t] + gain @ (meas.center[rest] - mu[rest])
            var = sigma[t, t] - sigma[t, rest] @ gain
            expect = stats.norm.logpdf(meas.center[t], mean, np.sqrt(var))
            assert ll[c, d, t] == pytest.approx(expect, rel=1e-8, abs=1e-8)


def _conditional(gm, p, obs):
    """Mean (without the observation's own effect), sd and loading (1) of y_obs given the others."""
    meas = gm.measurement
    sigma = (meas.eigvecs * meas.eigvals) @ meas.eigvecs.T
    ii = meas.model_index
    x = meas.year[ii] - gm.year_ref
    mu = p["intercept"].values[0] + p["slope"].values[0] * x + p["model_effect"].values[ii]
    rest = np.delete(np.arange(meas.n_obs), obs)
    gain = np.linalg.solve(sigma[np.ix_(rest, rest)], sigma[rest, obs])
    mean = mu[obs] + gain @ (meas.center[rest] - mu[rest])
    return mean - p["model_effect"].values[ii[obs]], np.sqrt(sigma[obs, obs] - sigma[obs, rest] @ gain), 1.0


def test_integrated_terms_match_numerical_integration():
    """The model's own effect integrated out: the quadrature equals scipy's adaptive integral."""
    from scipy import integrate

    gm = _model("cloud")
    meas = gm.measurement
    post = _posterior(gm)
    post["scatter_model"] = (("chain", "draw"), np.array([[0.1, 0.4, 0.8], [0.3, 0.05, 0.5]]))
    post["nu"] = (("chain", "draw"), np.array([[1.5, 4.0, 40.0], [8.0, 3.0, 100.0]]))
    ll = pointwise_loglik(gm, post)
    assert ll.shape == (2, 3, meas.n_obs) and np.isfinite(ll).all()
    assert not np.allclose(ll, pointwise_loglik(gm, post, integrate_effect=False))
    for c in range(2):
        for d in range(3):
            p = post.isel(chain=c, draw=d)
            s, nu = float(p["scatter_model"]), float(p["nu"])
            for obs in (0, meas.n_obs // 2, meas.n_obs - 1):
                base, tau, lv = _conditional(gm, p, obs)
                y = meas.center[obs]

                def integrand(v, base=base, tau=tau, lv=lv, s=s, nu=nu, y=y):
                    return stats.norm.pdf(y, base + lv * v, tau) * stats.t.pdf(v, nu, 0.0, s)

                peak = (y - base) / lv
                cuts = sorted([0.0, peak])
                parts = ((-np.inf, cuts[0] - 1.0), (cuts[0] - 1.0, cuts[1] + 1.0), (cuts[1] + 1.0, np.inf))
                value = sum(integrate.quad(integrand, lo, hi, limit=400, epsabs=0, epsrel=1e-10,
                                           points=None if np.isinf(lo) or np.isinf(hi) else [peak])[0]
                            for lo, hi in parts)
                assert ll[c, d, obs] == pytest.approx(np.log(value), abs=1e-4)


def test_integrated_sum_equals_the_log_space_sum_also_where_the_direct_sum_underflows():
    """The direct sum over quadrature nodes (and its log-space fallback) equals logsumexp of the terms."""
    from scipy.special import logsumexp

    from uncertain_cost.growth.loo import _effect_nodes, _integrated_sum

    rng = np.random.default_rng(7)
    n_s, n = 600, 9
    lam, log_w = _effect_nodes(rng.uniform(1.2, 60.0, (n_s, 1)))
    d = rng.normal(0.0, 1.0, (n_s, n))
    d[:, 0] = 60.0  # every node's density underflows the direct sum: the log-space fallback
    d[:, 1] = 0.0
    tau = rng.uniform(0.05, 0.5, (n_s, n))
    load_scale = rng.uniform(0.01, 1.5, n_s)
    got = _integrated_sum(d, tau, load_scale, lam, log_w)
    var = tau[:, :, None] ** 2 + (load_scale[:, None, None] ** 2) / lam[:, None, :]
    terms = log_w[None, None, :] - 0.5 * np.log(2 * np.pi * var) - 0.5 * d[:, :, None] ** 2 / var
    want = logsumexp(terms, axis=-1)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert (want[:, 0] < math.log(1e-280)).any()  # the fallback was exercised
