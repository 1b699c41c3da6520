"""Growth of frontier training costs: the paper's OLS, a Bayesian fit, forecasts.

PyMC, PyTensor and ArviZ are imported only inside the functions that sample or diagnose,
so ``import uncertain_cost.growth`` stays light.

Data
    `GrowthData`, `simulate_growth_data`, `SimulatedTruth`
OLS (the paper)
    `fit_ols`, `OLSResult`, `fit_ols_methods`, `doubling_months`
Bayesian fit (one cost method at a time)
    `fit_bayes`, `fit_methods`, `build_model`, `BayesResult`, `GrowthModel`, `GrowthPriors`
Diagnostics
    `compute_diagnostics`, `check_diagnostics`, `Diagnostics`
Forecast
    `forecast_costs`, `Forecast`, `frontier_models_per_year`, `with_forecast`
Tables
    `growth_rows`, `GROWTH_COLUMNS`
"""

from uncertain_cost.growth.bayes import BayesResult, GrowthModel, GrowthPriors, build_model, fit_bayes, fit_methods
from uncertain_cost.growth.data import DIM_COST_METHOD, GrowthData
from uncertain_cost.growth.diagnostics import Diagnostics, check_diagnostics, compute_diagnostics
from uncertain_cost.growth.forecast import (
    DEFAULT_QUANTILES,
    DEFAULT_THRESHOLDS,
    Forecast,
    forecast_costs,
    frontier_models_per_year,
    with_forecast,
)
from uncertain_cost.growth.ols import OLSResult, doubling_months, fit_ols
from uncertain_cost.growth.simulate import SimulatedTruth, simulate_growth_data
from uncertain_cost.growth.tables import GROWTH_COLUMNS, fit_ols_methods, growth_rows

__all__ = [
    # data
    "GrowthData",
    "DIM_COST_METHOD",
    "simulate_growth_data",
    "SimulatedTruth",
    # OLS
    "fit_ols",
    "OLSResult",
    "fit_ols_methods",
    "doubling_months",
    # Bayesian fit
    "fit_bayes",
    "fit_methods",
    "build_model",
    "BayesResult",
    "GrowthModel",
    "GrowthPriors",
    # diagnostics
    "compute_diagnostics",
    "check_diagnostics",
    "Diagnostics",
    # forecast
    "forecast_costs",
    "Forecast",
    "frontier_models_per_year",
    "with_forecast",
    "DEFAULT_QUANTILES",
    "DEFAULT_THRESHOLDS",
    # tables
    "growth_rows",
    "GROWTH_COLUMNS",
]
