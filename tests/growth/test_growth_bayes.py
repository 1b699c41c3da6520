"""Bayesian growth fit: data and measurement model, exact marginal likelihood, forecasts,
diagnostics; slow: PyMC recovery of a known slope, shared errors moving the level only."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from uncertain_cost.errors import ArgumentError, ConfigError, DataError, DiagnosticsError, UncertainCostWarning
from uncertain_cost.growth import (
    DIM_COST_METHOD,
    GROWTH_COLUMNS,
    BayesResult,
    Diagnostics,
    GrowthData,
    GrowthModel,
    GrowthPriors,
    build_model,
    check_diagnostics,
    compute_diagnostics,
    fit_bayes,
    forecast_costs,
    frontier_models_per_year,
    growth_rows,
    simulate_growth_data,
    with_forecast,
)
from uncertain_cost.growth.bayes import _linear, draw_coefficients
from uncertain_cost.growth.data import measurement

METHODS = ("amortized", "cloud", "acquisition")


def import_arviz():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz

    return arviz


# --------------------------------------------------------------------------- data


def test_import_does_not_import_pymc():
    code = ("import sys, uncertain_cost.growth; "
            "print(sorted(m for m in ('pymc', 'pytensor', 'arviz') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_growth_data_validation():
    year = [2016.0, 2017.0, 2018.0]
    good = np.zeros((10, 3))
    with pytest.raises(DataError, match="shape"):
        GrowthData(year, {"amortized": np.zeros((10, 2))})
    with pytest.raises(DataError, match="no cost method"):
        GrowthData(year, {})
    with pytest.raises(DataError, match="unique"):
        GrowthData(year, {"amortized": good}, model=("a", "a", "b"))
    with pytest.raises(DataError, match="finite publication year"):
        GrowthData([2016.0, np.nan, 2018.0], {"amortized": good})
    with pytest.raises(DataError, match="unknown method"):
        GrowthData(year, {"amortized": good}, {"cloud": np.zeros(3)})
    with pytest.raises(DataError, match="<= 0"):
        GrowthData.from_costs(year, {"amortized": np.ones((10, 3)) * [1.0, 0.0, 2.0]})
    data = GrowthData.from_costs(year, {"amortized": np.ones((10, 3)) * [1e6, np.nan, 1e7]})
    assert data.model == ("model_0", "model_1", "model_2")
    assert data.costed("amortized").tolist() == [True, False, True]
    assert not data.log10_cost_draws["amortized"].flags.writeable


def test_select_methods():
    data, _ = simulate_growth_data(seed=1, n_models=10, n_draws=50)
    one = data.select("cloud")
    assert one.methods == ("cloud",) and one.model == data.model
    np.testing.assert_array_equal(one.log10_cost_draws["cloud"], data.log10_cost_draws["cloud"])
    assert data.select(["acquisition", "amortized"]).methods == ("acquisition", "amortized")
    with pytest.raises(DataError, match="no method"):
        data.select("rental")


def test_from_cost_dataset():
    rng = np.random.default_rng(0)
    cost = 10 ** rng.normal(7, 0.1, (20, 3, 3))
    cost[:, 1, 2] = np.nan
    ds = xr.Dataset(
        {"cost": (("draw", "model", "method"), cost), "point": (("model", "method"), cost[0])},
        coords={"draw": np.arange(20), "model": ["a", "b", "c"], "method": list(METHODS),
                "publication_year": ("model", [2016.5, 2019.0, 2022.25])},
    )
    data = GrowthData.from_cost_dataset(ds)
    assert data.methods == METHODS
    assert data.model == ("a", "b", "c")
    np.testing.assert_allclose(data.year, [2016.5, 2019.0, 2022.25])
    np.testing.assert_allclose(data.log10_cost_draws["cloud"], np.log10(cost[:, :, 1]))
    assert data.costed("acquisition").tolist() == [True, False, True]


def test_partially_costed_model_is_dropped_with_a_warning():
    draws = np.random.default_rng(1).normal(7, 0.1, (50, 4))
    draws[3, 2] = np.nan
    data = GrowthData([2016.0, 2017.0, 2018.0, 2019.0], {"amortized": draws}, model=("a", "b", "c", "d"))
    with pytest.warns(UncertainCostWarning, match="non-finite cost in some draws: c"):
        meas = measurement(data)
    assert meas.model == ("a", "b", "d")


def test_measurement_covariance_keeps_shared_errors_shared():
    data, _ = simulate_growth_data(seed=5, n_models=30, n_draws=4000, shared_sd=0.5, group_sd=0.0,
                                   model_sd=0.05, method_sd=0.05)
    meas = measurement(data)
    n = meas.n_obs
    assert n == sum(meas.n_models.values()) == sum(int(data.costed(m).sum()) for m in METHODS)
    # method-major stacking
    assert np.all(np.diff(meas.method_index) >= 0)
    off = meas.cov[~np.eye(n, dtype=bool)]
    assert np.median(off) == pytest.approx(0.25, rel=0.1)  # shared_sd**2, across methods too
    top = meas.eigvecs[:, -1]
    np.testing.assert_allclose(np.abs(top), 1 / np.sqrt(n), rtol=0.1)  # the level direction
    assert meas.eigvals[-1] == pytest.approx(n * 0.25, rel=0.1)
    assert meas.joint
    # observed values
    method, column = meas.methods[meas.method_index[0]], list(data.model).index(meas.model[meas.model_index[0]])
    assert meas.center[0] == pytest.approx(np.median(data.log10_cost_draws[method][:, column]))
    point = measurement(data, "point")
    assert point.center[0] == pytest.approx(data.log10_cost_point[method][column])


def test_unaligned_draws_give_block_diagonal_covariance():
    data, _ = simulate_growth_data(seed=5, n_models=12, n_draws=500)
    unaligned = GrowthData(data.year, data.log10_cost_draws, data.log10_cost_point, data.model, draws_aligned=False)
    meas = measurement(unaligned)
    assert not meas.joint
    cross = meas.method_index[:, None] != meas.method_index[None, :]
    assert np.all(meas.cov[cross] == 0)


def test_few_draws_warn():
    data, _ = simulate_growth_data(seed=5, n_models=20, n_draws=30)
    with pytest.warns(UncertainCostWarning, match="covariance"):
        measurement(data)


# ------------------------------------------------------------- model mathematics


def prior_mean(lin):
    """Prior mean of (intercepts, slopes): the mean intercept and mean slope for every method."""
    m = lin.n_methods
    return np.concatenate([np.full(m, lin.c0[0]), np.full(m, lin.c0[m + 1])])


def _original_space(meas, lin, priors, values):
    """Mean and covariance of the observed log10 costs, built directly (no rotation)."""
    m = len(meas.methods)
    mi, ii = meas.method_index, meas.model_index
    design = np.zeros((meas.n_obs, 2 * m))
    design[np.arange(meas.n_obs), mi] = 1.0
    design[np.arange(meas.n_obs), m + mi] = meas.year[ii] - meas.year.mean()
    loading = np.exp(values["log_loading"])
    offset = loading[mi] * values["model_effect"][ii]
    ta, tb = values["intercept_spread"], values["slope_spread"]
    one = np.ones((m, m))
    prior_cov = np.zeros((2 * m, 2 * m))
    prior_cov[:m, :m] = ta**2 * np.eye(m) + priors.intercept_sd**2 * one
    prior_cov[m:, m:] = tb**2 * np.eye(m) + priors.slope_sd**2 * one
    noise = meas.eigvecs @ np.diag(meas.eigvals) @ meas.eigvecs.T + values["scatter_method"] ** 2 * np.eye(meas.n_obs)
    return design, offset, prior_cov, noise


@pytest.mark.slow  # compiles the PyTensor graph of the model
def test_marginal_likelihood_is_the_multivariate_normal_density():
    data, _ = simulate_growth_data(seed=2, n_models=15, n_draws=400)
    gm = build_model(data, backend="pytensor")
    model = gm.model
    assert isinstance(gm, GrowthModel)
    assert {rv.name for rv in model.free_RVs} == {
        "slope_spread", "intercept_spread", "log_loading", "scatter_method", "scatter_model", "nu",
        "model_effect_raw"}
    assert gm.monitored[-2:] == ["slope", "intercept"]
    meas, lin = gm.measurement, gm.linear
    rng = np.random.default_rng(0)
    raw = rng.normal(0, 1, len(meas.model))
    zs = np.array([0.2, -0.1])  # ZeroSumNormal value: M - 1 free coordinates
    point = {"slope_spread_log__": np.log(0.07), "intercept_spread_log__": np.log(0.6),
             "log_loading_zerosum__": zs, "scatter_method_log__": np.log(0.2),
             "scatter_model_log__": np.log(0.4), "nu_log__": np.log(6.0), "model_effect_raw": raw}
    loglik = model.compile_logp(vars=[model["loglik"]], jacobian=False)(point)
    # the untransformed values of that point
    as_values = model.replace_rvs_by_values([model["log_loading"], model["model_effect"]])
    log_loading, effect = model.compile_fn(as_values, inputs=model.value_vars, on_unused_input="ignore")(point)
    values = {"log_loading": np.asarray(log_loading), "intercept_spread": 0.6, "slope_spread": 0.07,
              "scatter_method": 0.2, "model_effect": np.asarray(effect)}
    # partial non-centring: effect = scatter_model**a * raw, a in (0, 1) per model
    a = np.log(values["model_effect"] / raw) / np.log(0.4)
    assert np.all((a > 0) & (a < 1))
    assert np.sum(values["log_loading"]) == pytest.approx(0.0, abs=1e-12)
    design, offset, prior_cov, noise = _original_space(meas, lin, gm.priors, values)
    expected = stats.multivariate_normal(design @ prior_mean(lin) + offset,
                                         noise + design @ prior_cov @ design.T).logpdf(meas.center)
    assert loglik == pytest.approx(expected, rel=1e-9)
    assert np.isfinite(model.compile_logp()(model.initial_point()))


def _value_point(ref, density, theta):
    """The PyMC value-variable point of the reference model at the NumPy coordinates theta."""
    offsets = density._offsets()
    point = {}
    for v in ref.model.value_vars:
        key = v.name.removesuffix("_log__").removesuffix("_zerosum__").replace("model_effect_raw", "raw")
        point[v.name] = np.atleast_1d(theta[offsets[key]])
    return point


@pytest.mark.slow  # compiles the PyTensor graph of the model
@pytest.mark.parametrize("methods", [METHODS, ("amortized",)])
def test_numpy_density_equals_the_pymc_graph(methods):
    from pymc.blocking import DictToArrayBijection

    data, _ = simulate_growth_data(seed=2, n_models=15, n_draws=400, methods=methods, slope=0.4, intercept=6.5)
    fast, ref = build_model(data), build_model(data, backend="pytensor")
    assert fast.backend == "numpy" and [rv.name for rv in fast.model.free_RVs] == ["theta"]
    np.testing.assert_array_equal(fast.centring, ref.centring)
    density = fast.density
    f = ref.model.logp_dlogp_function(ravel_inputs=True)
    f.set_extra_values({})
    fast_f = fast.model.compile_logp()
    rng = np.random.default_rng(0)
    for _ in range(4):
        theta = density.initial_point() + rng.normal(0, 0.6, density.size)
        logp, grad = density.logp_and_grad(theta)
        point = _value_point(ref, density, theta)
        ref_logp, ref_grad = f(DictToArrayBijection.map(point).data)
        assert logp == pytest.approx(float(ref_logp), abs=1e-6)
        order = density._offsets()
        mapped = np.concatenate([np.atleast_1d(grad[order[k.removesuffix("_log__").removesuffix("_zerosum__")
                                                        .replace("model_effect_raw", "raw")]])
                                 for k in point])
        np.testing.assert_allclose(mapped, ref_grad, rtol=1e-6, atol=1e-8)
        assert fast_f({"theta": theta}) == pytest.approx(logp, rel=1e-12)  # the op inside PyMC


@pytest.mark.parametrize("methods", [METHODS, ("amortized",)])
def test_numba_kernel_equals_the_numpy_reference(methods):
    from scipy.special import psi

    from uncertain_cost.growth.kernel import digamma

    for x in (1e-3, 0.3, 1.0, 2.5, 5.99, 6.0, 17.0, 250.0):
        assert digamma(x) == pytest.approx(psi(x), rel=1e-12, abs=1e-12)
    data, _ = simulate_growth_data(seed=6, n_models=20, n_draws=400, methods=methods, slope=0.4, intercept=6.5)
    density = build_model(data).density
    rng = np.random.default_rng(3)
    for scale in (0.3, 1.0, 2.0):
        theta = density.initial_point() + rng.normal(0, scale, density.size)
        logp, grad = density.logp_and_grad(theta)
        ref_logp, ref_grad = density.logp_and_grad_reference(theta)
        assert logp == pytest.approx(ref_logp, rel=1e-12, abs=1e-9)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-10)


def test_numpy_gradient_matches_finite_differences():
    data, _ = simulate_growth_data(seed=4, n_models=12, n_draws=400)
    density = build_model(data).density
    theta = density.initial_point() + np.random.default_rng(1).normal(0, 0.5, density.size)
    _, grad = density.logp_and_grad(theta)
    h = 1e-6
    numeric = np.array([(density.logp_and_grad(theta + h * e)[0] - density.logp_and_grad(theta - h * e)[0]) / (2 * h)
                        for e in np.eye(density.size)])
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)
    values = density.unpack(theta[None, :])
    assert values["log_loading"].shape == (1, 3) and abs(values["log_loading"].sum()) < 1e-12
    bad = theta.copy()
    bad[density._offsets()["nu"]] = 1e4  # exp overflows: rejected, not an exception
    assert density.logp_and_grad(bad)[0] == -np.inf


def test_coefficient_draws_follow_the_gaussian_conditional():
    data, _ = simulate_growth_data(seed=3, n_models=15, n_draws=400)
    priors = GrowthPriors()
    meas = measurement(data)
    lin = _linear(meas, float(meas.year.mean()), priors)
    gm = GrowthModel(measurement=meas, linear=lin, year_ref=float(meas.year.mean()), priors=priors)
    rng = np.random.default_rng(1)
    values = {"log_loading": np.array([0.1, -0.3, 0.2]), "intercept_spread": 0.8, "slope_spread": 0.05,
              "scatter_method": 0.25, "model_effect": rng.normal(0, 0.4, len(meas.model))}
    n = 40_000
    post = xr.Dataset({
        "log_loading": (("chain", "draw", DIM_COST_METHOD), np.broadcast_to(values["log_loading"], (1, n, 3))),
        "model_effect": (("chain", "draw", "model"), np.broadcast_to(values["model_effect"], (1, n, len(meas.model)))),
        **{k: (("chain", "draw"), np.full((1, n), values[k])) for k in ("intercept_spread", "slope_spread",
                                                                      "scatter_method")},
    })
    out = draw_coefficients(gm, post, np.random.default_rng(2))
    beta = np.concatenate([out["intercept"][0], out["slope"][0]], axis=1)
    design, offset, prior_cov, noise = _original_space(meas, lin, priors, values)
    noise_inv = np.linalg.inv(noise)
    prec = np.linalg.inv(prior_cov) + design.T @ noise_inv @ design
    cov = np.linalg.inv(prec)
    mean = cov @ (np.linalg.solve(prior_cov, prior_mean(lin)) + design.T @ noise_inv @ (meas.center - offset))
    sd = np.sqrt(np.diag(cov))
    np.testing.assert_array_less(np.abs(beta.mean(axis=0) - mean), 5 * sd / np.sqrt(n))
    np.testing.assert_allclose(np.cov(beta, rowvar=False), cov, rtol=0.05, atol=0.02 * sd.max() ** 2)
    # the mean slope given the slopes: normal-normal conjugate
    slope = out["slope"][0]
    prec_mu = priors.slope_sd**-2 + 3 / 0.05**2
    expect_mu = (slope.sum(axis=1) / 0.05**2) / prec_mu
    resid = out["slope_mean"][0] - expect_mu
    assert resid.mean() == pytest.approx(0.0, abs=5 / np.sqrt(prec_mu * n))
    assert resid.std() == pytest.approx(1 / np.sqrt(prec_mu), rel=0.03)


def _numpy_coefficient_draws(gm, post, rng):
    """The batched-NumPy draw of the coefficients that `conditional_coefficients` replaced."""
    meas, lin = gm.measurement, gm.linear
    m = lin.n_methods
    s = post.sizes["chain"] * post.sizes["draw"]
    mi, ii = meas.method_index, meas.model_index

    def flat(name, *shape):
        return np.asarray(post[name].values, dtype=np.float64).reshape(s, *shape)

    effect = flat("model_effect", -1)
    if m > 1:
        loading = np.exp(flat("log_loading", m))
        var_obs = meas.eigvals[None, :] + flat("scatter_method", 1) ** 2
        design = lin.design(flat("intercept_spread", 1, 1), flat("slope_spread", 1, 1), np.concatenate)
    else:
        loading = np.ones((s, 1))
        var_obs = np.broadcast_to(meas.eigvals, (s, meas.n_obs))
        design = np.broadcast_to(lin.x_rot, (s, *lin.x_rot.shape))
    resid = lin.y_rot[None, :] - (loading[:, mi] * effect[:, ii]) @ meas.eigvecs
    xtd = np.swapaxes(design, -1, -2) / var_obs[:, None, :]
    prec = np.diag(lin.p0) + xtd @ design
    rhs = lin.p0 * lin.c0 + np.einsum("skn,sn->sk", xtd, resid)
    chol = np.linalg.cholesky(prec)
    mean = np.linalg.solve(prec, rhs[..., None])[..., 0]
    noise = rng.standard_normal(mean.shape)
    return mean + np.linalg.solve(np.swapaxes(chol, -1, -2), noise[..., None])[..., 0]


@pytest.mark.parametrize("methods", [METHODS, ("amortized",)])
def test_conditional_coefficients_equal_the_numpy_reference(methods):
    """The compiled per-draw Cholesky solve gives the batched-NumPy draws (same noise, to rounding)."""
    data, _ = simulate_growth_data(seed=8, n_models=18, n_draws=400, methods=methods, slope=0.4, intercept=6.5)
    gm = build_model(data)
    rng = np.random.default_rng(5)
    thetas = gm.density.initial_point() + rng.normal(0.0, 0.3, (2, 50, gm.density.size))
    values = gm.density.unpack(thetas)
    dims = {"log_loading": ("cost_method",), "model_effect_raw": ("model",), "model_effect": ("model",)}
    post = xr.Dataset({k: (("chain", "draw", *dims.get(k, ())), v) for k, v in values.items()})
    out = draw_coefficients(gm, post, np.random.default_rng(11))
    ref = _numpy_coefficient_draws(gm, post, np.random.default_rng(11))
    m = len(methods)
    if m > 1:
        ta = post["intercept_spread"].values.reshape(-1, 1)
        tb = post["slope_spread"].values.reshape(-1, 1)
        ref_intercept = ref[:, :1] + ta * ref[:, 1:m + 1]
        ref_slope = ref[:, m + 1:m + 2] + tb * ref[:, m + 2:2 * m + 2]
        np.testing.assert_allclose(out["slope_mean"].reshape(-1), ref[:, m + 1], rtol=1e-9, atol=1e-12)
    else:
        ref_intercept, ref_slope = ref[:, :1], ref[:, 1:]
    np.testing.assert_allclose(out["intercept"].reshape(-1, m), ref_intercept, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out["slope"].reshape(-1, m), ref_slope, rtol=1e-9, atol=1e-12)


def test_priors_are_validated():
    with pytest.raises(ArgumentError) as err:  # an argument: no config key sets the priors
        GrowthPriors(slope_spread_sd=0.0)
    assert err.value.key == "slope_spread_sd" and str(err.value).startswith("GrowthPriors: slope_spread_sd: ")
    with pytest.raises(ArgumentError) as err:
        GrowthPriors.from_mapping({"slope_sd": 1.0, "tau": 2.0})
    assert err.value.key == "tau"
    assert GrowthPriors.from_mapping({"slope_mean": -0.5}).slope_mean == -0.5


def test_bad_options_name_the_key():
    data, _ = simulate_growth_data(seed=1, n_models=10, n_draws=100)
    for kwargs, key in [({"seed": -1}, "run.seed"), ({"seed": 1, "draws": 10}, "growth.draws"),
                        ({"seed": 1, "target_accept": 1.2}, "growth.target_accept"),
                        ({"seed": 1, "center": "mode"}, "growth.center"), ({"seed": 1, "level": 2}, "growth.level")]:
        with pytest.raises(ConfigError) as err:
            fit_bayes(data, **kwargs)
        assert err.value.key == key


# ----------------------------------------------------------------------- forecast


def test_frontier_models_per_year():
    years = [2015.9, 2016.1, 2016.5, 2017.2, 2017.3, 2017.9, 2018.5, 2018.6, 2018.7, 2018.8]
    # complete years 2016..2018: counts 2, 3, 4 -> median 3
    assert frontier_models_per_year(years) == 3
    assert frontier_models_per_year([2020.1, 2020.5]) == 2


def fake_result(values: dict, methods=("amortized",), n_chain=2, n_draw=2000, year_ref=2020.0, years=None):
    """A BayesResult whose posterior is constant at ``values``."""
    post = {}
    for name, value in values.items():
        value = np.asarray(value, dtype=float)
        dims = ("chain", "draw") + ((DIM_COST_METHOD,) if value.ndim else ())
        post[name] = (dims, np.broadcast_to(value, (n_chain, n_draw, *value.shape)).copy())
    ds = xr.Dataset(post, coords={"chain": np.arange(n_chain), "draw": np.arange(n_draw),
                                  DIM_COST_METHOD: list(methods), "model": ["m0"]})
    idata = import_arviz().InferenceData(posterior=ds)
    return BayesResult(idata=idata, methods=tuple(methods), n_models=dict.fromkeys(methods, 30), level=0.9,
                       year_ref=year_ref, diagnostics=Diagnostics(1.0, 1000.0, 1000.0, 0, n_chain, n_draw),
                       seed=7, frontier_years=np.array([2016.5, 2023.5] if years is None else years))


def test_forecast_of_the_maximum_without_scatter():
    r = fake_result({"intercept": [7.0], "slope": [0.4], "scatter_model": 1e-9, "nu": 5.0})
    fc = forecast_costs(r, [2024, 2025, 2030], models_per_year=4)
    assert fc.columns == ("method", "year", "models_per_year", "p5", "p25", "p50", "p75", "p95", "prob_gt_1e9",
                          "prob_gt_1e10", "regression_mean_usd", "regression_mean_lo", "regression_mean_hi", "level")
    rows = {row["year"]: row for row in fc.rows}
    for year, row in rows.items():
        assert tuple(row) == fc.columns
        # the latest of 4 uniform publication times in the year: quantile q at q**(1/4)
        for name, q in (("p5", 0.05), ("p50", 0.5), ("p95", 0.95)):
            expected = 10 ** (7.0 + 0.4 * (year + q**0.25 - 2020.0))
            assert row[name] == pytest.approx(expected, rel=0.02)
        assert row["regression_mean_usd"] == pytest.approx(10 ** (7.0 + 0.4 * (year + 0.5 - 2020.0)))
    assert rows[2024]["prob_gt_1e9"] == 0.0 and rows[2025]["prob_gt_1e9"] == 1.0
    assert rows[2030]["prob_gt_1e10"] == 1.0
    # above $10B after mid-2027: the latest of 4 runs of 2027 is past mid-year with P = 1 - 0.5**4
    assert forecast_costs(r, [2027], models_per_year=4).rows[0]["prob_gt_1e10"] == pytest.approx(0.9375, abs=0.02)
    pp = fc.predictive
    assert pp["max_log10_cost"].dims == ("chain", "draw", DIM_COST_METHOD, "year")
    assert pp["max_log10_cost"].shape == (2, 2000, 1, 3)


def test_forecast_defaults_and_scatter():
    values = {"intercept": [7.0, 7.3], "slope": [0.4, 0.42], "scatter_model": 0.4, "log_loading": [0.1, -0.1],
              "scatter_method": 0.2, "nu": 4.0}
    frontier = 2016.0 + np.arange(64) / 8.0 + 0.01  # 8 per year, 2016 to 2023
    r = fake_result(values, methods=("amortized", "cloud"), years=frontier)
    fc = forecast_costs(r)
    years = sorted({row["year"] for row in fc.rows})
    assert years == list(range(2024, 2031))
    assert [row["method"] for row in fc.rows[:7]] == ["amortized"] * 7
    assert fc.models_per_year is None  # Poisson runs per year, fitted to 8 a year
    assert all(7.0 < row["models_per_year"] < 10.0 for row in fc.rows)
    assert forecast_costs(r, [2027], models_per_year=8).models_per_year == 8
    amortized = [row for row in fc.rows if row["method"] == "amortized"]
    fixed = forecast_costs(r, models_per_year=8)  # with k fixed the probability can only rise with the trend
    p = [row["prob_gt_1e9"] for row in fixed.rows if row["method"] == "amortized"]
    assert p == sorted(p) and 0 < p[0] < p[-1] <= 1
    assert 0 < amortized[0]["prob_gt_1e9"] < max(row["prob_gt_1e9"] for row in amortized) <= 1
    for row in amortized:
        assert row["p5"] < row["p25"] < row["p50"] < row["p75"] < row["p95"]
        # the maximum of several draws around the line lies above the line
        assert row["p50"] > row["regression_mean_usd"]
    again = forecast_costs(r)
    assert again.rows == fc.rows  # reproducible: seeded from the fit
    with pytest.raises(ConfigError) as err:
        forecast_costs(r, methods=["nope"])
    assert err.value.key == "methods"
    with pytest.raises(ConfigError) as err:
        forecast_costs(r, [2025.5])
    assert err.value.key == "years"


def test_growth_rows_and_summary_on_a_posterior():
    rng = np.random.default_rng(0)
    slope = rng.normal([0.38, 0.41], 0.03, (2, 2000, 2))
    ds = xr.Dataset({"slope": (("chain", "draw", DIM_COST_METHOD), slope),
                     "slope_mean": (("chain", "draw"), slope.mean(axis=-1))},
                    coords={DIM_COST_METHOD: ["amortized", "cloud"], "model": np.arange(50)})
    r = BayesResult(idata=import_arviz().InferenceData(posterior=ds), methods=("amortized", "cloud"),
                    n_models={"amortized": 41, "cloud": 45}, level=0.9, year_ref=2020.0,
                    diagnostics=Diagnostics(1.004, 812.3, 700.0, 0, 2, 2000), seed=1,
                    frontier_years=np.array([2016.0, 2023.0]))
    rows = growth_rows(bayes=r)
    assert [row["method"] for row in rows] == ["amortized", "cloud", "pooled"]
    row = rows[0]
    assert tuple(row) == GROWTH_COLUMNS
    assert row["estimator"] == "bayes" and row["n_models"] == 41 and row["level"] == 0.9
    draws = slope[..., 0].ravel()
    assert row["slope_oom_per_year"] == pytest.approx(np.median(draws))
    assert row["lo"] == pytest.approx(10 ** np.quantile(draws, 0.05))
    assert row["hi"] == pytest.approx(10 ** np.quantile(draws, 0.95))
    assert row["r_hat_max"] == 1.004 and row["ess_bulk_min"] == 812.3 and row["divergences"] == 0
    assert rows[2]["n_models"] == 50


# -------------------------------------------------------------------- diagnostics


def test_diagnostics_good_and_bad():
    rng = np.random.default_rng(0)
    az = import_arviz()
    good = az.from_dict(posterior={"slope": rng.normal(0, 1, (4, 1000, 2))},
                        sample_stats={"diverging": np.zeros((4, 1000), dtype=bool)},
                        coords={DIM_COST_METHOD: ["a", "b"]}, dims={"slope": [DIM_COST_METHOD]})
    d = compute_diagnostics(good)
    assert d.ok and d.r_hat_max < 1.01 and d.ess_bulk_min > 3000 and d.ess_threshold == 400
    check_diagnostics(d)  # silent
    stuck = rng.normal(0, 1, (4, 1000, 2))
    stuck[0, :, 1] += 3.0
    diverging = np.zeros((4, 1000), dtype=bool)
    diverging[1, :3] = True
    bad = az.from_dict(posterior={"slope": stuck}, sample_stats={"diverging": diverging},
                       coords={DIM_COST_METHOD: ["a", "b"]}, dims={"slope": [DIM_COST_METHOD]})
    d = compute_diagnostics(bad)
    assert not d.ok and d.divergences == 3 and d.worst_r_hat == "slope[b]"
    with pytest.warns(UncertainCostWarning, match=r"R-hat .*slope\[b\].*3 divergent"):
        check_diagnostics(d)
    with pytest.raises(DiagnosticsError, match="R-hat"):
        check_diagnostics(d, fail=True)


def test_arviz_summary_works_with_the_method_dimension():
    # a dimension called "method" would break it: .sel(method=...) is xarray's lookup keyword
    az = import_arviz()
    idata = az.from_dict(posterior={"slope": np.random.default_rng(0).normal(0, 1, (2, 200, 3))},
                         coords={DIM_COST_METHOD: list(METHODS)}, dims={"slope": [DIM_COST_METHOD]})
    summary = az.summary(idata)
    assert list(summary.index) == [f"slope[{m}]" for m in METHODS]


# --------------------------------------------------------------- PyMC fits (slow)


# short chains: R-hat and ESS estimates are noisier, so the test thresholds are looser
SMALL = {"draws": 500, "tune": 500, "chains": 2, "cores": 2, "r_hat_threshold": 1.05, "ess_threshold": 100}


@pytest.fixture(scope="module")
def recovery():
    data, truth = simulate_growth_data(seed=12, n_models=40, n_draws=1500)
    return data, truth, fit_bayes(data, seed=3, **SMALL)


@pytest.mark.slow
def test_recovers_the_known_slopes(recovery):
    data, truth, r = recovery
    d = r.diagnostics
    assert d.ok, d.problems
    assert d.chains == 2 and d.draws == 500
    for m in METHODS:
        s = r.summary(m)
        assert s["slope_lo"] < truth.slope[m] < s["slope_hi"], (m, s, truth.slope[m])
        assert r.n_models[m] == int(data.costed(m).sum())
    pooled = r.summary("pooled")
    assert pooled["slope_lo"] < np.mean(list(truth.slope.values())) < pooled["slope_hi"]
    az = import_arviz()
    table = az.summary(r.idata, var_names=["slope", "growth", "intercept", "nu"])
    assert "slope[cloud]" in table.index and table["r_hat"].max() <= 1.05
    assert {"posterior", "sample_stats", "constant_data"} <= set(r.idata.groups())
    assert r.idata.posterior.attrs["seed"] == 3
    assert set(r.timings) == {"build", "setup", "sampling", "diagnostics", "total"}


@pytest.mark.slow
def test_forecast_and_rows_from_a_fit(recovery):
    data, truth, r = recovery
    fc = forecast_costs(r, [2025, 2027])
    idata = with_forecast(r.idata, fc)
    summary = import_arviz().summary(idata, group="posterior_predictive")
    # max and trend cost (3 methods x 2 years each), plus the Poisson runs per year (2 years)
    assert len(summary) == 2 * 3 * 2 + 2
    row = next(row for row in fc.rows if row["method"] == "amortized" and row["year"] == 2027)
    truth_line = 10 ** (truth.intercept["amortized"] + truth.slope["amortized"] * (2027.5 - truth.year_ref))
    assert row["regression_mean_lo"] < truth_line < row["regression_mean_hi"]
    rows = growth_rows(None, r)
    assert [x["method"] for x in rows] == [*METHODS, "pooled"]
    assert all(x["r_hat_max"] <= 1.05 and x["divergences"] == 0 for x in rows)


@pytest.mark.slow
def test_shared_errors_move_the_level_not_the_slope():
    """A large error shared by all models within a draw leaves the slope interval alone;
    the same marginal errors treated as independent per model widen it."""
    kwargs = {"seed": 21, "n_models": 40, "n_draws": 1500, "methods": ("amortized",), "slope": 0.4,
              "intercept": 6.5, "group_sd": 0.0, "model_sd": 0.1, "method_sd": 0.05}
    base, _ = simulate_growth_data(shared_sd=0.0, **kwargs)
    shifted, truth = simulate_growth_data(shared_sd=0.6, **kwargs)
    # same truths and point-estimate errors up to the shared shift; permuting each model's
    # draws independently keeps every marginal but makes the errors independent across models
    rng = np.random.default_rng(0)
    draws = shifted.log10_cost_draws["amortized"]
    independent = GrowthData(shifted.year, {"amortized": np.column_stack([rng.permutation(c) for c in draws.T])},
                             shifted.log10_cost_point, shifted.model)
    sd = {}
    for name, data in (("base", base), ("shared", shifted), ("independent", independent)):
        r = fit_bayes(data, seed=4, **SMALL)
        assert r.diagnostics.ok, (name, r.diagnostics.problems)
        sd[name] = float(np.std(r.draws("slope", "amortized")))
        if name == "shared":
            s = r.summary("amortized")
            assert s["slope_lo"] < truth.slope["amortized"] < s["slope_hi"]
    assert sd["shared"] == pytest.approx(sd["base"], rel=0.1)
    assert sd["independent"] > 1.2 * sd["shared"]


@pytest.mark.slow
def test_bad_diagnostics_raise_when_asked():
    data, _ = simulate_growth_data(seed=2, n_models=20, n_draws=500)
    with pytest.raises(DiagnosticsError):
        fit_bayes(data, seed=1, draws=100, tune=5, chains=2, fail_on_bad_diagnostics=True)


@pytest.mark.slow
def test_nutpie_sampler_is_reproducible_and_agrees_with_pymc():
    """nutpie on the model's numba density: same seed, same draws; same posterior as PyMC's NUTS."""
    data, truth = simulate_growth_data(seed=12, n_models=40, n_draws=1500)
    a = fit_bayes(data, seed=5, sampler="nutpie", **SMALL)
    b = fit_bayes(data, seed=5, sampler="nutpie", **SMALL)
    np.testing.assert_array_equal(a.draws("slope", "amortized"), b.draws("slope", "amortized"))
    ref = fit_bayes(data, seed=5, **SMALL)
    for method in a.methods:
        fast, slow = a.draws("slope", method), ref.draws("slope", method)
        # posterior medians agree to a fraction of the posterior sd (Monte Carlo error of ~1000 ESS)
        assert abs(np.median(fast) - np.median(slow)) < 0.2 * np.std(slow)
    assert a.diagnostics.divergences == 0


def test_bad_sampler_names_the_key():
    data, _ = simulate_growth_data(seed=1, n_models=10, n_draws=100)
    with pytest.raises(ConfigError) as info:
        fit_bayes(data, seed=0, sampler="stan")
    assert info.value.key == "growth.sampler"


def test_kernel_sum_of_logs_equals_the_plain_sum_also_for_extreme_values():
    from uncertain_cost.growth.kernel import _sum_log

    rng = np.random.default_rng(2)
    for values in (rng.uniform(0.01, 3.0, 83), np.array([1e-200, 1e-200, 3.0, 1e250, 1e250, 0.5, 2.0]),
                   np.full(17, 1e-45), np.array([2.0])):
        assert _sum_log(values) == pytest.approx(float(np.log(values).sum()), rel=1e-13, abs=1e-12)
