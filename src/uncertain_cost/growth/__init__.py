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


from uncertain_cost.lazy import lazy_exports

#: public name -> the module that defines it; imported on first use (PEP 562), so that parsing a
#: config (which imports this package's ``settings``) imports none of the numerical modules
_EXPORTS = {
    "BayesResult": "uncertain_cost.growth.bayes",
    "GrowthModel": "uncertain_cost.growth.bayes",
    "GrowthPriors": "uncertain_cost.growth.bayes",
    "build_model": "uncertain_cost.growth.bayes",
    "fit_bayes": "uncertain_cost.growth.bayes",
    "fit_methods": "uncertain_cost.growth.bayes",
    "DIM_COST_METHOD": "uncertain_cost.growth.data",
    "GrowthData": "uncertain_cost.growth.data",
    "Diagnostics": "uncertain_cost.growth.diagnostics",
    "check_diagnostics": "uncertain_cost.growth.diagnostics",
    "compute_diagnostics": "uncertain_cost.growth.diagnostics",
    "DEFAULT_QUANTILES": "uncertain_cost.growth.forecast",
    "DEFAULT_THRESHOLDS": "uncertain_cost.growth.forecast",
    "Forecast": "uncertain_cost.growth.forecast",
    "forecast_costs": "uncertain_cost.growth.forecast",
    "frontier_models_per_year": "uncertain_cost.growth.forecast",
    "with_forecast": "uncertain_cost.growth.forecast",
    "OLSResult": "uncertain_cost.growth.ols",
    "doubling_months": "uncertain_cost.growth.ols",
    "fit_ols": "uncertain_cost.growth.ols",
    "SimulatedTruth": "uncertain_cost.growth.simulate",
    "simulate_growth_data": "uncertain_cost.growth.simulate",
    "GROWTH_COLUMNS": "uncertain_cost.growth.tables",
    "fit_ols_methods": "uncertain_cost.growth.tables",
    "growth_rows": "uncertain_cost.growth.tables",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


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
