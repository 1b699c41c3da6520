"""nutpie on the packed-buffer C callback: same density as the kernel, draws independent of cores."""

import numpy as np
import pytest

from uncertain_cost.growth import build_model, simulate_growth_data
from uncertain_cost.growth.kernel import HEADER_SIZE
from uncertain_cost.growth.native import native_logp, sample_native


@pytest.fixture(scope="module")
def densities():
    data, _ = simulate_growth_data(seed=0, n_models=25, n_draws=800)
    return build_model(data.select(["amortized"])), build_model(data.select(["cloud"]))


def test_packed_buffer_gives_the_kernels_value_and_gradient(densities):
    rng = np.random.default_rng(4)
    for density in densities:
        buf = density.buffer()
        n = density.measurement.n_obs
        assert buf.dtype == np.float64 and buf.flags.c_contiguous and int(buf[0]) == n
        assert buf.size == HEADER_SIZE + 2 * n + n * n
        for _ in range(5):
            theta = density.initial_point() + rng.normal(0.0, 0.4, density.size)
            ref_value, ref_grad = density.logp_and_grad(theta)
            value, grad = native_logp(density, theta)
            assert value == ref_value
            np.testing.assert_array_equal(grad, ref_grad)


def test_native_sampler_draws_do_not_depend_on_cores(densities):
    density = densities[0]
    one = sample_native(density, draws=100, tune=100, chains=3, cores=1, seed=9)
    two = sample_native(density, draws=100, tune=100, chains=3, cores=2, seed=9)
    np.testing.assert_array_equal(one.posterior["theta"].values, two.posterior["theta"].values)
    assert one.posterior["theta"].shape == (3, 100, density.size)
    assert "diverging" in one.sample_stats and one.posterior.attrs["sampling_time"] > 0
    other = sample_native(density, draws=100, tune=100, chains=3, cores=2, seed=10)
    assert not np.array_equal(one.posterior["theta"].values, other.posterior["theta"].values)


def test_extreme_points_are_rejected_not_raised(densities):
    """An underflowing scale (a ZeroDivisionError under Python's error model) raises nothing."""
    for density in densities:
        theta = density.initial_point()
        # scatter_model = exp(-400) > 0, but the effects' scales exp(-800 (1 - a)) underflow to 0
        theta[0] = -400.0  # log scatter_model
        value, _ = density.logp_and_grad(theta)  # raised ZeroDivisionError before
        assert value == -np.inf or np.isfinite(value)
        assert native_logp(density, theta)[0] == value


def test_lean_trace_conversion_equals_nutpies_own(densities, monkeypatch):
    """`trace_to_inference_data` keeps nutpie's post-tuning draws and statistics, value for value."""
    import nutpie

    import uncertain_cost.growth.native as native

    density = densities[0]
    lean = sample_native(density, draws=120, tune=80, chains=3, cores=2, seed=4)
    sample = nutpie.sample
    monkeypatch.setattr(nutpie, "sample", lambda *a, **k: sample(*a, **{**k, "return_raw_trace": False}))
    monkeypatch.setattr(native, "trace_to_inference_data", lambda idata, n: idata)
    full = sample_native(density, draws=120, tune=80, chains=3, cores=2, seed=4)
    np.testing.assert_array_equal(lean.posterior["theta"].values, full.posterior["theta"].values)
    assert set(native.SAMPLE_STATS) <= set(full.sample_stats.data_vars)
    for name in native.SAMPLE_STATS:
        assert lean.sample_stats[name].dtype == full.sample_stats[name].dtype
        np.testing.assert_array_equal(lean.sample_stats[name].values, full.sample_stats[name].values)
    assert "warmup_posterior" not in lean.groups()
