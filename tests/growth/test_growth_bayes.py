"""Bayesian growth fit: data and measurement model, the one log density against its scipy and
PyMC references, forecasts, diagnostics; slow: recovery of a known slope, shared errors moving
the level only."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import xarray as xr

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
    fit_methods,
    forecast_costs,
    frontier_models_per_year,
    growth_rows,
    simulate_growth_data,
    with_forecast,
)
from uncertain_cost.growth.bayes import combined_idata, draw_coefficients, import_pymc
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


def _model(seed=2, n_models=15, method="amortized"):
    data, _ = simulate_growth_data(seed=seed, n_models=n_models, n_draws=400, methods=(method,), slope=0.4,
                                   intercept=6.5)
    return build_model(data)


def test_build_model_fits_one_method_only():
    data, _ = simulate_growth_data(seed=2, n_models=10, n_draws=100)
    with pytest.raises(ValueError, match="one cost method at a time"):
        build_model(data)
    gm = build_model(data.select("cloud"))
    assert isinstance(gm, GrowthModel) and gm.method == "cloud" and gm.size == 2 + len(gm.measurement.model)
    assert gm.monitored[-2:] == ["slope", "intercept"]
    assert np.all((gm.centring > 0) & (gm.centring < 1))


def test_kernel_equals_the_scipy_reference():
    """The numba kernel is the written-out density: priors, Jacobians, Student-t effects, marginal normal."""
    from reference_density import scipy_logp
    from scipy.special import psi

    from uncertain_cost.growth.kernel import digamma

    for x in (1e-3, 0.3, 1.0, 2.5, 5.99, 6.0, 17.0, 250.0):
        assert digamma(x) == pytest.approx(psi(x), rel=1e-12, abs=1e-12)
    for method in ("amortized", "acquisition"):
        gm = _model(seed=6, n_models=20, method=method)
        rng = np.random.default_rng(3)
        for scale in (0.3, 1.0, 2.0):
            theta = gm.initial_point() + rng.normal(0, scale, gm.size)
            assert gm.logp_and_grad(theta)[0] == pytest.approx(scipy_logp(gm, theta), rel=1e-9, abs=1e-9)


def test_kernel_gradient_matches_finite_differences():
    gm = _model(seed=4, n_models=12)
    theta = gm.initial_point() + np.random.default_rng(1).normal(0, 0.5, gm.size)
    _, grad = gm.logp_and_grad(theta)
    h = 1e-6
    numeric = np.array([(gm.logp_and_grad(theta + h * e)[0] - gm.logp_and_grad(theta - h * e)[0]) / (2 * h)
                        for e in np.eye(gm.size)])
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)
    values = gm.unpack(theta[None, :])
    np.testing.assert_allclose(values["model_effect"][0], theta[2:] * np.exp(theta[0]) ** gm.centring)
    bad = theta.copy()
    bad[1] = 1e4  # exp(log nu) overflows: rejected, not an exception
    assert gm.logp_and_grad(bad)[0] == -np.inf


@pytest.mark.slow  # compiles the PyTensor graph of the reference model
def test_kernel_equals_the_pymc_graph():
    from pymc.blocking import DictToArrayBijection
    from reference_density import pymc_model, pymc_point

    gm = _model(seed=2, n_models=15)
    model = pymc_model(gm)
    f = model.logp_dlogp_function(ravel_inputs=True)
    f.set_extra_values({})
    rng = np.random.default_rng(0)
    for _ in range(4):
        theta = gm.initial_point() + rng.normal(0, 0.6, gm.size)
        logp, grad = gm.logp_and_grad(theta)
        point = pymc_point(theta)
        ref_logp, ref_grad = f(DictToArrayBijection.map({v.name: point[v.name] for v in model.value_vars}).data)
        assert logp == pytest.approx(float(ref_logp), abs=1e-6)  # PyMC: Cholesky of S; the kernel: Woodbury
        order = {"scatter_model_log__": [0], "nu_log__": [1], "model_effect_raw": list(range(2, gm.size))}
        mapped = np.concatenate([grad[order[v.name]] for v in model.value_vars])
        np.testing.assert_allclose(mapped, ref_grad, rtol=1e-6, atol=1e-8)


def test_coefficient_draws_follow_the_gaussian_conditional():
    gm = _model(seed=3, n_models=15)
    meas = gm.measurement
    rng = np.random.default_rng(1)
    effect = rng.normal(0, 0.4, len(meas.model))
    n = 40_000
    beta = draw_coefficients(gm, np.broadcast_to(effect, (n, effect.size)), np.random.default_rng(2))
    cov_y = (meas.eigvecs * meas.eigvals) @ meas.eigvecs.T
    noise_inv = np.linalg.inv(cov_y)
    prior_cov = np.diag([gm.priors.intercept_sd**2, gm.priors.slope_sd**2])
    prec = np.linalg.inv(prior_cov) + gm.design.T @ noise_inv @ gm.design
    cov = np.linalg.inv(prec)
    mean = cov @ (np.linalg.solve(prior_cov, gm.c0) + gm.design.T @ noise_inv @ (meas.center - effect))
    sd = np.sqrt(np.diag(cov))
    np.testing.assert_array_less(np.abs(beta.mean(axis=0) - mean), 5 * sd / np.sqrt(n))
    np.testing.assert_allclose(np.cov(beta, rowvar=False), cov, rtol=0.05, atol=0.02 * sd.max() ** 2)


def test_priors_are_validated():
    with pytest.raises(ArgumentError) as err:  # an argument: no config key sets the priors
        GrowthPriors(slope_sd=0.0)
    assert err.value.key == "slope_sd" and str(err.value).startswith("GrowthPriors: slope_sd: ")
    with pytest.raises(ArgumentError) as err:
        GrowthPriors.from_mapping({"slope_sd": 1.0, "tau": 2.0})
    assert err.value.key == "tau"
    assert GrowthPriors.from_mapping({"slope_mean": -0.5}).slope_mean == -0.5


def test_bad_options_name_the_key():
    data, _ = simulate_growth_data(seed=1, n_models=10, n_draws=100, methods=("amortized",), slope=0.4, intercept=6.5)
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
    fits = {}
    for j, (method, n) in enumerate((("amortized", 41), ("cloud", 45))):
        ds = xr.Dataset({"slope": (("chain", "draw", DIM_COST_METHOD), slope[..., j:j + 1])},
                        coords={DIM_COST_METHOD: [method], "model": np.arange(50)})
        fits[method] = BayesResult(idata=import_arviz().InferenceData(posterior=ds), methods=(method,),
                                   n_models={method: n}, level=0.9, year_ref=2020.0,
                                   diagnostics=Diagnostics(1.004, 812.3, 700.0, 0, 2, 2000), seed=1,
                                   frontier_years=np.array([2016.0, 2023.0]))
    rows = growth_rows(bayes=fits)
    assert [row["method"] for row in rows] == ["amortized", "cloud"]
    assert growth_rows(bayes=fits["cloud"]) == rows[1:]
    row = rows[0]
    assert tuple(row) == GROWTH_COLUMNS
    assert row["estimator"] == "bayes" and row["n_models"] == 41 and row["level"] == 0.9 and row["headline"]
    draws = slope[..., 0].ravel()
    assert row["slope_oom_per_year"] == pytest.approx(np.median(draws))
    assert row["lo"] == pytest.approx(10 ** np.quantile(draws, 0.05))
    assert row["hi"] == pytest.approx(10 ** np.quantile(draws, 0.95))
    assert row["r_hat_max"] == 1.004 and row["ess_bulk_min"] == 812.3 and row["divergences"] == 0
    assert rows[1]["n_models"] == 45


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


# -------------------------------------------------------------------- fits (slow)


# short chains: R-hat and ESS estimates are noisier, so the test thresholds are looser
SMALL = {"draws": 500, "tune": 500, "chains": 2, "cores": 2, "r_hat_threshold": 1.05, "ess_threshold": 100}


@pytest.fixture(scope="module")
def recovery():
    data, truth = simulate_growth_data(seed=12, n_models=40, n_draws=1500)
    return data, truth, fit_methods(data, seed=3, **SMALL)


@pytest.mark.slow
def test_recovers_the_known_slopes(recovery):
    data, truth, fits = recovery
    assert list(fits) == list(METHODS)
    for m, r in fits.items():
        d = r.diagnostics
        assert d.ok, d.problems
        assert d.chains == 2 and d.draws == 500
        s = r.summary(m)
        assert s["slope_lo"] < truth.slope[m] < s["slope_hi"], (m, s, truth.slope[m])
        assert r.n_models[m] == int(data.costed(m).sum())
        assert {"posterior", "sample_stats", "constant_data", "log_likelihood"} <= set(r.idata.groups())
        assert r.idata.posterior.attrs["seed"] == 3
        assert set(r.timings) == {"build", "setup", "sampling", "diagnostics", "total"}
    idata = combined_idata(fits)
    table = import_arviz().summary(idata, var_names=["slope", "growth", "intercept", "nu"])
    assert "slope[cloud]" in table.index and table["r_hat"].max() <= 1.05
    np.testing.assert_array_equal(idata.posterior["slope"].sel({DIM_COST_METHOD: "cloud"}).values,
                                  fits["cloud"].idata.posterior["slope"].values[..., 0])
    effect = idata.posterior["model_effect"].sel({DIM_COST_METHOD: "acquisition"})
    uncosted = [n for n, ok in zip(data.model, data.costed("acquisition"), strict=True) if not ok]
    assert uncosted and bool(np.isnan(effect.sel(model=uncosted).values).all())
    assert idata.log_likelihood.sizes["observation"] == sum(r.n_models[m] for m, r in fits.items())
    assert list(idata.constant_data["year_ref"].values) == [fits[m].year_ref for m in METHODS]


@pytest.mark.slow
def test_forecast_and_rows_from_a_fit(recovery):
    data, truth, fits = recovery
    fc = forecast_costs(fits, [2025, 2027])
    idata = with_forecast(combined_idata(fits), fc)
    summary = import_arviz().summary(idata, group="posterior_predictive")
    # max and trend cost (3 methods x 2 years each), plus the Poisson runs per year (2 years)
    assert len(summary) == 2 * 3 * 2 + 2
    row = next(row for row in fc.rows if row["method"] == "amortized" and row["year"] == 2027)
    truth_line = 10 ** (truth.intercept["amortized"] + truth.slope["amortized"] * (2027.5 - truth.year_ref))
    assert row["regression_mean_lo"] < truth_line < row["regression_mean_hi"]
    rows = growth_rows(None, fits)
    assert [x["method"] for x in rows] == list(METHODS)
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
    data, _ = simulate_growth_data(seed=2, n_models=20, n_draws=500, methods=("amortized",), slope=0.4, intercept=6.5)
    with pytest.raises(DiagnosticsError):
        fit_bayes(data, seed=1, draws=100, tune=5, chains=2, fail_on_bad_diagnostics=True)


@pytest.mark.slow
def test_nutpie_sampler_is_reproducible_and_agrees_with_pymc():
    """nutpie on the numba kernel: same seed, same draws; same posterior as pymc.sample on the PyMC graph."""
    from reference_density import pymc_model

    data, _ = simulate_growth_data(seed=12, n_models=40, n_draws=1500, methods=("amortized",), slope=0.4, intercept=6.5)
    a = fit_bayes(data, seed=5, **SMALL)
    b = fit_bayes(data, seed=5, **SMALL)
    np.testing.assert_array_equal(a.draws("slope", "amortized"), b.draws("slope", "amortized"))
    assert a.diagnostics.divergences == 0
    gm = build_model(data)
    pm = import_pymc()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pm.sample(draws=1000, tune=1000, chains=2, cores=2, random_seed=5, model=pymc_model(gm),
                        progressbar=False, compute_convergence_checks=False)
    effect = ref.posterior["model_effect"].values.reshape(-1, gm.size - 2)
    slope = draw_coefficients(gm, effect, np.random.default_rng(0))[:, 1]
    fast = a.draws("slope", "amortized")
    # posterior medians agree to a fraction of the posterior sd (Monte Carlo error of ~1000 ESS)
    assert abs(np.median(fast) - np.median(slope)) < 0.2 * np.std(slope)
    assert np.std(fast) == pytest.approx(np.std(slope), rel=0.15)


def test_bad_sampler_names_the_key():
    data, _ = simulate_growth_data(seed=1, n_models=10, n_draws=100, methods=("amortized",), slope=0.4, intercept=6.5)
    with pytest.raises(ConfigError) as info:
        fit_bayes(data, seed=0, sampler="stan")
    assert info.value.key == "growth.sampler"
