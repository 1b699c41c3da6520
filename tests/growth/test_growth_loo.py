"""Pointwise log-likelihood of the growth fits and the PSIS-LOO choice of the headline model."""

import math

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
    return GrowthModel(measurement=meas, linear=_linear(meas, ref, priors), year_ref=ref,
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
    ll = pointwise_loglik(gm, post, integrate_effect=False)
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


def _fake_fit(methods, models, values):
    """A fit-like object carrying only a ``log_likelihood`` group (chain, draw, observation)."""
    from types import SimpleNamespace

    import arviz as az

    obs_method = [m for m in methods for _ in models]
    obs_model = [name for _ in methods for name in models]
    ds = xr.Dataset({"log10_cost": (("chain", "draw", "observation"), values)},
                    coords={"observation": np.arange(len(obs_model)),
                            "observation_method": ("observation", obs_method),
                            "observation_model": ("observation", obs_model)})
    return SimpleNamespace(methods=tuple(methods), idata=az.InferenceData(log_likelihood=ds))


def _terms(rng, n_obs, shift, n_chain=2, n_draw=400):
    """Log densities of n_obs observations whose mean log density is -1 - shift (noise per draw)."""
    base = rng.normal(-1.0, 0.3, n_obs) - shift
    return base + rng.normal(0.0, 0.05, (n_chain, n_draw, n_obs))


@pytest.mark.parametrize(("joint_shift", "expect"), [(0.0, "single"), (-0.03, "single"), (-2.0, "joint"),
                                                     (1.0, "single")])
def test_one_headline_per_method_and_the_tie_rule(joint_shift, expect):
    """Joint ahead by far more than 2 SE leads; a tie or a worse joint leaves the simpler single fit."""
    from uncertain_cost.growth.loo import COMPARISON_COLUMNS, compare_fits

    rng = np.random.default_rng(4)
    methods, models = ("amortized", "cloud"), [f"m{i}" for i in range(20)]
    single_terms = {m: _terms(np.random.default_rng(7), len(models), 0.0) for m in methods}
    # the joint fit stores its observations in another model order: compare_fits aligns by name
    order = rng.permutation(len(models))
    # per-observation differences of 0.5 nats sd: the SE of the elpd difference is about 2.2
    joint_values = np.concatenate([single_terms[m][..., order] - joint_shift + rng.normal(0, 0.5, len(models))
                                   for m in methods], axis=-1)
    joint = _fake_fit(methods, [models[i] for i in order], joint_values)
    singles = {m: _fake_fit((m,), models, single_terms[m]) for m in methods}
    rows = compare_fits(joint, singles)
    assert all(tuple(r) == COMPARISON_COLUMNS for r in rows)
    for m in methods:
        mine = [r for r in rows if r["method"] == m]
        assert len(mine) == 2 and {r["model"] for r in mine} == {"joint", "single"}
        assert [r["rank"] for r in mine] == [1, 2]
        assert mine[0]["elpd_loo"] >= mine[1]["elpd_loo"]
        assert sum(r["headline"] for r in mine) == 1
        assert next(r for r in mine if r["headline"])["model"] == expect
        total = float(single_terms[m].mean(axis=(0, 1)).sum())
        single = next(r for r in mine if r["model"] == "single")
        assert single["elpd_loo"] == pytest.approx(total, abs=0.5)  # near the in-sample log density


def test_joint_only_is_its_own_headline():
    from uncertain_cost.growth.loo import compare_fits

    rng = np.random.default_rng(1)
    joint = _fake_fit(("amortized", "cloud"), ["a", "b", "c"], _terms(rng, 6, 0.0))
    rows = compare_fits(joint, {})
    assert [(r["method"], r["model"], r["rank"], r["headline"]) for r in rows] == [
        ("amortized", "joint", 1, True), ("cloud", "joint", 1, True)]


def test_mismatched_models_raise():
    from uncertain_cost.growth.loo import compare_fits

    rng = np.random.default_rng(1)
    joint = _fake_fit(("amortized",), ["a", "b", "c"], _terms(rng, 3, 0.0))
    single = _fake_fit(("amortized",), ["a", "b", "d"], _terms(rng, 3, 0.0))
    with pytest.raises(ValueError, match="same models"):
        compare_fits(joint, {"amortized": single})


def _conditional(gm, p, obs):
    """Mean (without the observation's own effect), sd and loading of y_obs given its method's others."""
    meas = gm.measurement
    cov = (meas.eigvecs * meas.eigvals) @ meas.eigvecs.T
    mi, ii = meas.method_index, meas.model_index
    x = meas.year[ii] - gm.year_ref
    load = np.exp(p["log_loading"].values)
    mu = p["intercept"].values[mi] + p["slope"].values[mi] * x + load[mi] * p["model_effect"].values[ii]
    rows = np.flatnonzero(mi == mi[obs])
    sigma = cov[np.ix_(rows, rows)] + float(p["scatter_method"]) ** 2 * np.eye(rows.size)
    t = int(np.flatnonzero(rows == obs)[0])
    rest = np.delete(np.arange(rows.size), t)
    gain = np.linalg.solve(sigma[np.ix_(rest, rest)], sigma[rest, t])
    mean = mu[obs] + gain @ (meas.center[rows[rest]] - mu[rows[rest]])
    lv = load[mi[obs]]
    return mean - lv * p["model_effect"].values[ii[obs]], np.sqrt(sigma[t, t] - sigma[t, rest] @ gain), lv


def test_integrated_terms_match_numerical_integration():
    """The model's own effect integrated out: the quadrature equals scipy's adaptive integral."""
    from scipy import integrate

    gm = _model(("amortized", "cloud", "acquisition"))
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
