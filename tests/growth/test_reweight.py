"""Reweighting a growth posterior to a new measurement: densities, weights, Jacobians, PSIS against refits."""

import math
import warnings

import numpy as np
import pytest

from uncertain_cost.growth import GrowthData
from uncertain_cost.growth.bayes import build_model
from uncertain_cost.growth.reweight import (
    PARETO_K_MAX,
    affine_effects,
    common_log_density,
    measurement_log_weights,
    reweight_posterior,
    weighted_mean,
    weighted_mean_mcse,
    weighted_sd,
    weighted_sd_mcse,
)


def _data(n_models=6, *, shared=0.3, own=0.25, shift=0.0, tilt=0.0, seed=0, n_draws=2000):
    """Synthetic costs: a trend of 0.5 OOM/yr (+ ``tilt``), scatter, a shared and a per-model measurement error."""
    rng = np.random.default_rng(seed)
    year = 2015.0 + np.arange(n_models) * 8.0 / n_models
    truth = 6.0 + 0.5 * (year - 2015.0) + np.random.default_rng(99).normal(0.0, 0.3, n_models)
    draws = (truth + shift + tilt * (year - 2019.0))[None, :] + shared * rng.standard_normal((n_draws, 1)) \
        + own * rng.standard_normal((n_draws, n_models))
    return GrowthData(year, {"amortized": draws}, model=tuple(f"m{i}" for i in range(n_models)))


@pytest.fixture(scope="module")
def pair():
    old, new = build_model(_data()), build_model(_data(shared=0.1, own=0.15, shift=0.05, seed=1))
    assert not np.allclose(old.centring, new.centring)  # the raw coordinates differ: the test has teeth
    return old, new


def _points(gm, n=5, seed=3):
    rng = np.random.default_rng(seed)
    scale = np.exp(rng.normal(math.log(0.3), 0.3, n))
    nu = np.exp(rng.normal(math.log(10.0), 0.5, n))
    effect = rng.normal(0.0, 0.3, (n, len(gm.measurement.model)))
    return scale, nu, effect


def _kernel(gm, scale, nu, effect):
    """The sampler's kernel over its own coordinates theta = (log s, log nu, v / s**a)."""
    out = []
    for s, n, v in zip(scale, nu, effect, strict=True):
        theta = np.concatenate([[math.log(s), math.log(n)], v / s ** gm.centring])
        out.append(gm.logp_and_grad(theta)[0])
    return np.array(out)


def test_common_density_is_the_kernel_without_its_jacobian(pair):
    for gm in pair:
        scale, nu, effect = _points(gm)
        direct = _kernel(gm, scale, nu, effect) - np.sum(gm.centring) * np.log(scale)
        np.testing.assert_allclose(common_log_density(gm, scale, nu, effect), direct, rtol=1e-10, atol=1e-9)


def test_log_weights_are_the_density_ratio_in_one_parametrisation(pair):
    old, new = pair
    scale, nu, effect = _points(old)
    truth = (_kernel(new, scale, nu, effect) - np.sum(new.centring) * np.log(scale)) \
        - (_kernel(old, scale, nu, effect) - np.sum(old.centring) * np.log(scale))
    np.testing.assert_allclose(measurement_log_weights(old, new, effect), truth, rtol=1e-9, atol=1e-8)
    # comparing the kernels at the same raw coordinates is not the ratio (the Jacobians differ)
    raw = effect / scale[:, None] ** old.centring
    naive = [new.logp_and_grad(np.concatenate([[math.log(s), math.log(n)], r]))[0]
             - old.logp_and_grad(np.concatenate([[math.log(s), math.log(n)], r]))[0]
             for s, n, r in zip(scale, nu, raw, strict=True)]
    assert np.max(np.abs(np.array(naive) - truth)) > 0.1


def test_other_models_are_refused(pair):
    old, _ = pair
    other = build_model(_data(n_models=7))
    with pytest.raises(ValueError, match="other models"):
        measurement_log_weights(old, other, np.zeros((2, 6)))


def test_affine_map_jacobian_and_identity(pair):
    old, new = pair
    scale, _, effect = _points(old, n=2)
    moved, log_jac = affine_effects(old, new, scale, effect)
    h = 1e-6
    for d in range(2):
        jac = np.empty((effect.shape[1], effect.shape[1]))
        for j in range(effect.shape[1]):
            step = np.zeros_like(effect[d:d + 1])
            step[0, j] = h
            plus = affine_effects(old, new, scale[d:d + 1], effect[d:d + 1] + step)[0]
            minus = affine_effects(old, new, scale[d:d + 1], effect[d:d + 1] - step)[0]
            jac[:, j] = (plus - minus)[0] / (2 * h)
        assert np.linalg.slogdet(jac)[1] == pytest.approx(log_jac[d], abs=1e-6)
    assert np.all(np.abs(log_jac) > 0.1)  # the new measurement is tighter: the map is not volume preserving
    same, zero = affine_effects(old, old, scale, effect)
    np.testing.assert_allclose(same, effect, atol=1e-10)
    np.testing.assert_allclose(zero, 0.0, atol=1e-10)


def test_weighted_summaries():
    x = np.random.default_rng(5).normal(size=400)
    flat = np.zeros(400)
    assert weighted_sd(x, flat) == pytest.approx(np.std(x, ddof=1), rel=1e-12)
    assert weighted_mean(x, flat) == pytest.approx(np.mean(x), rel=1e-12)
    assert weighted_mean_mcse(x, flat) == pytest.approx(np.std(x) / 20.0, rel=1e-12)
    assert weighted_sd_mcse(x, flat) == pytest.approx(1.0 / math.sqrt(2 * 400), rel=0.15)  # normal: sd/sqrt(2n)
    lw = np.where(x > 0, 0.0, -np.inf)  # weight only on the positive half
    assert weighted_mean(x, lw) == pytest.approx(np.mean(x[x > 0]), rel=1e-12)


def _fit(data, seed=11):
    from uncertain_cost.growth import fit_bayes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_bayes(data, seed=seed, draws=2000, tune=500, chains=2, cores=2, log_likelihood=False)


def _ess_ratio(x):
    import arviz as az

    return min(1.0, float(az.ess(x.reshape(2, -1))) / x.size)


@pytest.mark.slow
def test_psis_agrees_with_a_refit_and_a_large_change_has_high_k():
    """Synthetic 14 models: a tighter, shifted and tilted measurement is reweighted as well as refitted.

    Tolerance: 3.5 combined Monte Carlo standard errors (importance-weighted delta method for
    the reweighted posterior with the weights' relative ESS; ESS-based for the refit), so a
    correct estimate fails with probability about 5e-4 per comparison.
    """
    data = _data(14, seed=2)
    held = _data(14, shared=0.1, own=0.2, shift=0.03, tilt=0.03, seed=3)
    old, new = build_model(data), build_model(held)
    fit, refit = _fit(data), _fit(held)
    rw = reweight_posterior(fit, old, new)
    assert rw.proposal == "affine" and rw.pareto_k <= PARETO_K_MAX
    slope, lw = rw.fit.draws("slope", "amortized"), rw.log_weights
    exact = refit.draws("slope", "amortized")
    flat = np.zeros(exact.size)
    before = fit.draws("slope", "amortized")
    for stat, mcse in ((weighted_sd, weighted_sd_mcse), (weighted_mean, weighted_mean_mcse)):
        tol = 3.5 * math.hypot(mcse(slope, lw, rw.reff), mcse(exact, flat, _ess_ratio(exact)))
        assert abs(stat(slope, lw) - stat(exact, flat)) < tol
    # the slope's posterior moved by five times the tolerance: the comparison is not trivial
    assert abs(np.mean(exact) - np.mean(before)) > 5 * tol

    # two models a full order of magnitude off the trend: the scatter's posterior leaves the old one
    far = held.log10_cost_draws["amortized"].copy()
    far[:, [3, 9]] += np.array([1.5, -1.5])
    moved = GrowthData(held.year, {"amortized": far}, model=held.model)
    bad = reweight_posterior(fit, old, build_model(moved))
    assert bad.pareto_k > PARETO_K_MAX and not bad.reliable
