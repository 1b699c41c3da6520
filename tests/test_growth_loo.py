"""Pointwise log-likelihood of the growth fits and the PSIS-LOO choice of the headline model."""

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from uncertain_cost.growth import GrowthPriors, simulate_growth_data
from uncertain_cost.growth.bayes import GrowthModel, _linear
from uncertain_cost.growth.data import DIM_COST_METHOD, measurement
from uncertain_cost.growth.loo import pointwise_loglik


def _model(methods=("amortized", "cloud", "acquisition")):
    data, _ = simulate_growth_data(seed=5, n_models=12, n_draws=300)
    data = data.select(list(methods))
    priors = GrowthPriors()
    meas = measurement(data)
    ref = float(meas.year.mean())
    return GrowthModel(model=None, measurement=meas, linear=_linear(meas, ref, priors), year_ref=ref,
                       priors=priors)


def _posterior(gm, n_draw=3, seed=0):
    rng = np.random.default_rng(seed)
    m, k = len(gm.measurement.methods), len(gm.measurement.model)
    shape = (2, n_draw)
    post = {
        "intercept": (("chain", "draw", DIM_COST_METHOD), rng.normal(7.0, 0.5, (*shape, m))),
        "slope": (("chain", "draw", DIM_COST_METHOD), rng.normal(0.4, 0.05, (*shape, m))),
        "model_effect": (("chain", "draw", "model"), rng.normal(0.0, 0.3, (*shape, k))),
    }
    if m > 1:
        post["log_loading"] = (("chain", "draw", DIM_COST_METHOD), rng.normal(0.0, 0.2, (*shape, m)))
        post["scatter_method"] = (("chain", "draw"), rng.uniform(0.05, 0.4, shape))
    return xr.Dataset(post, coords={"chain": [0, 1], "draw": np.arange(n_draw)})


@pytest.mark.parametrize("methods", [("amortized",), ("amortized", "cloud", "acquisition")])
def test_pointwise_terms_are_the_conditional_normal_densities(methods):
    """Each term is log N(y_j | E[y_j | y_-j], Var[y_j | y_-j]) within its method's block."""
    gm = _model(methods)
    meas = gm.measurement
    post = _posterior(gm)
    ll = pointwise_loglik(gm, post)
    assert ll.shape == (2, 3, meas.n_obs) and np.isfinite(ll).all()
    cov = (meas.eigvecs * meas.eigvals) @ meas.eigvecs.T
    mi, ii = meas.method_index, meas.model_index
    x = meas.year[ii] - gm.year_ref
    for c, d in [(0, 0), (1, 2)]:
        p = post.isel(chain=c, draw=d)
        load = np.exp(p["log_loading"].values) if len(methods) > 1 else np.ones(1)
        sw2 = float(p["scatter_method"]) ** 2 if len(methods) > 1 else 0.0
        mu = p["intercept"].values[mi] + p["slope"].values[mi] * x + load[mi] * p["model_effect"].values[ii]
        for j in range(len(methods)):
            rows = np.flatnonzero(mi == j)
            sigma = cov[np.ix_(rows, rows)] + sw2 * np.eye(rows.size)
            for t in (0, rows.size - 1):
                rest = np.delete(np.arange(rows.size), t)
                gain = np.linalg.solve(sigma[np.ix_(rest, rest)], sigma[rest, t])
                mean = mu[rows[t]] + gain @ (meas.center[rows[rest]] - mu[rows[rest]])
                var = sigma[t, t] - sigma[t, rest] @ gain
                expect = stats.norm.logpdf(meas.center[rows[t]], mean, np.sqrt(var))
                assert ll[c, d, rows[t]] == pytest.approx(expect, rel=1e-8, abs=1e-8)
