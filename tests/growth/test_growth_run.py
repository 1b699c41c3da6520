"""The growth stage inside a run: OLS beside the Bayesian fit, forecasts, ArviZ groups."""

import csv
from pathlib import Path

import pytest

from uncertain_cost.cli import main
from uncertain_cost.errors import ConfigError
from uncertain_cost.growth.settings import GrowthSettings

REPO = Path(__file__).resolve().parents[2]


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_settings_validated_with_key_names():
    s = GrowthSettings.from_config({"level": 0.95, "draws": 300}, {"end_year": 2028, "thresholds_usd": [1e9]})
    assert s.level == 0.95 and s.draws == 300 and s.forecast_end_year == 2028 and s.thresholds_usd == (1e9,)
    for growth, forecast, key in (({"levle": 0.9}, {}, "growth.levle"), ({"level": 1.5}, {}, "growth.level"),
                                  ({}, {"end_year": "soon"}, "forecast.end_year"),
                                  ({}, {"thresholds_usd": [-1]}, "forecast.thresholds_usd"),
                                  ({"sampler": "stan"}, {}, "growth.sampler")):
        with pytest.raises(ConfigError) as info:
            GrowthSettings.from_config(growth, forecast, "c.toml")
        assert info.value.key == key


def test_ols_rows_without_pymc(fast_result):
    # fast_result (tests/conftest.py): uc.run of a job without PyMC fit, sensitivity or development, 800 draws
    assert fast_result.config.stages.growth.bayes is False
    rows, columns = fast_result.records("growth")
    assert {"method", "estimator", "n_models", "growth_per_year", "lo", "hi", "level", "slope_oom_per_year",
            "doubling_months", "r_hat_max", "ess_bulk_min", "divergences"} <= set(columns)
    amortized = next(r for r in rows if r["method"] == "amortized")
    assert amortized["n_models"] == 41 and round(amortized["growth_per_year"], 2) == 2.41


def test_from_cost_dataset_reads_a_real_run(fast_config_file, fast_run_folder):
    """``GrowthData.from_cost_dataset`` on a written run's ``results.nc`` equals the stage's data."""
    import numpy as np
    import xarray as xr

    from uncertain_cost.config import load_config
    from uncertain_cost.data.load import resolve
    from uncertain_cost.engine import simulate
    from uncertain_cost.growth import GrowthData
    from uncertain_cost.growth.step import growth_data_from_run

    # fast_run_folder: uc.run(fast_config_file).write(...), once per session; the draws are simulated again
    # here with the config's seed, as the run did
    config = load_config(fast_config_file)
    prepared = resolve(config)
    sim = simulate(prepared.facts, config.inputs, config.run.draws, config.run.seed,
                   keep_draws=config.run.keep_draws)
    ds = xr.open_datatree(fast_run_folder / "results.nc")["costs"].to_dataset()
    assert "cost_method" in ds["cost"].dims
    from_file, from_run = GrowthData.from_cost_dataset(ds), growth_data_from_run(prepared.facts, sim)
    assert from_file.model == from_run.model and from_file.methods == from_run.methods
    np.testing.assert_array_equal(from_file.year, from_run.year)
    for method in from_run.methods:
        np.testing.assert_allclose(from_file.log10_cost_draws[method], from_run.log10_cost_draws[method])
        np.testing.assert_allclose(from_file.log10_cost_point[method], from_run.log10_cost_point[method])
    with pytest.raises(ValueError, match="no method 'rent'"):
        GrowthData.from_cost_dataset(ds, methods=["rent"])


@pytest.mark.slow
def test_default_config_growth_fit(tmp_path):
    """On the default config: diagnostics meet the thresholds, the Bayesian interval holds OLS, the
    decomposition and robustness tables are written."""
    import arviz as az
    import xarray as xr

    out = tmp_path / "run"
    assert main(["run", str(REPO / "config.toml"), "--draws", "10000", "--out", str(out), "--quiet"]) == 0
    growth = {(r["method"], r["estimator"]): r for r in _rows(out / "growth.csv")}
    bayes, ols = growth[("amortized", "bayes")], growth[("amortized", "ols")]
    assert float(bayes["lo"]) <= float(ols["growth_per_year"]) <= float(bayes["hi"])
    assert float(bayes["r_hat_max"]) <= 1.01 and float(bayes["ess_bulk_min"]) >= 400
    assert int(bayes["divergences"]) == 0
    methods = ("amortized", "cloud", "acquisition")
    assert {e for m, e in growth} == {"ols", "bayes"} and {m for m, e in growth} == set(methods)
    for method in methods:  # the single-method fit is the headline, never an OLS row
        assert growth[(method, "bayes")]["headline"] == "True" and growth[(method, "ols")]["headline"] == "False"
        assert float(growth[(method, "bayes")]["r_hat_max"]) <= 1.01
        assert float(growth[(method, "bayes")]["ess_bulk_min"]) >= 400
    assert not (out / "growth_comparison.csv").exists() and not (out / "growth_contrast_ppc.csv").exists()
    steps = [r for r in _rows(out / "growth_vs_paper.csv") if r["method"] == "amortized"]
    assert [r["estimator"] for r in steps] == ["ols_points", "ols_mc_median", "gls_diagonal", "gls_within_chip",
                                              "gls_full", "bayes"]
    assert float(steps[0]["growth_per_year"]) == pytest.approx(float(ols["growth_per_year"]))
    assert float(steps[-1]["growth_per_year"]) == pytest.approx(float(bayes["growth_per_year"]))
    robust = _rows(out / "growth_robustness.csv")
    assert [r["check"] for r in robust] == (["headline"] + ["leave_one_out"] * 5 + ["start_year"] * 3
                                            + ["tpu_price_narrower", "tpu_price_wider", "tpu_price_shared"])
    tpu = {r["check"]: float(r["growth_per_year"]) for r in robust if r["check"].startswith("tpu")}
    # more TPU price uncertainty, less weight on the (early, high-residual) TPU models: a steeper trend
    assert tpu["tpu_price_narrower"] < float(bayes["growth_per_year"]) < tpu["tpu_price_wider"]
    sensitivity = _rows(out / "forecast_sensitivity.csv")
    assert {int(r["year"]) for r in sensitivity} == {2027}
    assert len(sensitivity) == 4 * 3 * 3  # 3 single-method fits x runs x nu
    same = next(r for r in sensitivity if r["fit"] == "single" and r["method"] == "amortized"
                and r["nu"] == "posterior" and r["models_per_year"] == "poisson")
    row_2027 = next(r for r in _rows(out / "forecast.csv") if r["method"] == "amortized" and r["year"] == "2027")
    # the forecast model is the leave-future-out choice (issue 21); the headline's own forecast is the cell
    assert row_2027["forecast_model"] in ("constant", "constant_normal", "hinge", "scatter_trend")
    if row_2027["forecast_model"] == "constant":
        assert float(same["prob_gt_1e9"]) == float(row_2027["prob_gt_1e9"])
    backtest = _rows(out / "growth_backtest.csv")
    assert {r["method"] for r in backtest} == set(methods)
    assert {int(r["horizon"]) for r in backtest} == {1, 2, 3, 4}
    assert {r["model"] for r in backtest} == {"constant", "constant_normal", "hinge", "scatter_trend", "ols_normal"}
    loglik = xr.open_dataset(out / "results.nc", group="log_likelihood", engine="h5netcdf")
    assert loglik["log10_cost"].dims == ("chain", "draw", "observation")
    forecast = _rows(out / "forecast.csv")
    years = [int(r["year"]) for r in forecast if r["method"] == "amortized"]
    assert years[-1] == 2030
    probs = [float(r["prob_gt_1e9"]) for r in forecast if r["method"] == "amortized"]
    assert probs == sorted(probs) and 0 < probs[-1] <= 1
    posterior = xr.open_dataset(out / "results.nc", group="posterior", engine="h5netcdf")
    summary = az.summary(posterior, var_names=["slope"])
    assert len(summary) == 3
    predictive = xr.open_dataset(out / "results.nc", group="posterior_predictive", engine="h5netcdf")
    assert {"chain", "draw", "year"} <= set(predictive.dims)
