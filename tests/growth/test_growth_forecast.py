"""Forecast assumptions: fixed Student-t tails and runs per year, from the same posterior draws."""

import numpy as np
import pytest
import xarray as xr

from uncertain_cost.errors import ConfigError
from uncertain_cost.growth import BayesResult
from uncertain_cost.growth.data import DIM_COST_METHOD
from uncertain_cost.growth.diagnostics import Diagnostics
from uncertain_cost.growth.forecast import SENSITIVITY_COLUMNS, forecast_costs, forecast_sensitivity


def _result(n_draw=4000):
    import arviz as az

    rng = np.random.default_rng(0)
    shape = (2, n_draw)
    post = xr.Dataset({
        "intercept": (("chain", "draw", DIM_COST_METHOD), rng.normal(5.6, 0.05, (*shape, 1))),
        "slope": (("chain", "draw", DIM_COST_METHOD), rng.normal(0.4, 0.02, (*shape, 1))),
        "scatter_model": (("chain", "draw"), np.full(shape, 0.4)),
        "nu": (("chain", "draw"), rng.gamma(2.0, 10.0, shape)),
    }, coords={"chain": [0, 1], "draw": np.arange(n_draw), DIM_COST_METHOD: ["amortized"]})
    return BayesResult(idata=az.InferenceData(posterior=post), methods=("amortized",), n_models={"amortized": 30},
                       level=0.9, year_ref=2020.0, diagnostics=Diagnostics(1.0, 1000.0, 1000.0, 0, 2, n_draw),
                       seed=7, frontier_years=np.array([2016.5, 2023.5]))


def test_sensitivity_table_moves_with_runs_and_tails():
    r = _result()
    rows = forecast_sensitivity([("joint", r)], 2027)
    assert len(rows) == 3 * 3 and all(tuple(row) == SENSITIVITY_COLUMNS for row in rows)
    cell = {(row["models_per_year"], row["nu"]): row for row in rows}
    assert set(cell) == {(k, nu) for k in (4, 7, 12) for nu in (3.0, 30.0, "posterior")}
    for nu in (3.0, 30.0, "posterior"):  # more runs: a higher maximum
        p = [cell[(k, nu)]["prob_gt_1e9"] for k in (4, 7, 12)]
        assert p[0] < p[1] < p[2]
    for k in (4, 7, 12):  # heavier tails: a higher P95 of the maximum
        assert cell[(k, 3.0)]["p95"] > cell[(k, 30.0)]["p95"]
    # the posterior-nu row is the forecast itself
    same = forecast_costs(r, [2027], models_per_year=7, quantiles=(0.5, 0.95), thresholds=(1e9,)).rows[0]
    assert cell[(7, "posterior")]["prob_gt_1e9"] == same["prob_gt_1e9"]
    assert forecast_sensitivity([("joint", r)], 2027) == rows  # same random numbers: reproducible


def test_fixed_nu_is_validated():
    with pytest.raises(ConfigError) as err:
        forecast_costs(_result(200), [2027], nu=0.0)
    assert err.value.key == "forecast.nu"
