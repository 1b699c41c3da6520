"""``[growth]`` and ``[forecast]`` config sections, validated before any work starts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from uncertain_cost.config.schema import (
    Invalid,
    Key,
    Section,
    boolean,
    choice,
    integer,
    number,
    positive,
    register_stage,
    show,
)
from uncertain_cost.errors import ConfigError

__all__ = ["GrowthSettings", "GROWTH", "FORECAST"]


@dataclass(frozen=True)
class GrowthSettings:
    """How the growth of frontier costs is fitted and forecast.

    Attributes
    ----------
    enabled : bool
        Run the growth stage at all.
    bayes : bool
        Fit the Bayesian model of each cost method (OLS is always reported).
    level : float
        Central level of every growth interval (paper v2: 0.9; v1: 0.95).
    draws, tune, chains : int
        NUTS draws kept per chain, tuning steps, chains. ``tune`` None (default): the
        sampler's own (`uncertain_cost.growth.bayes.DEFAULT_TUNE`: 300 for nutpie).
    target_accept : float
    center : {"median", "mean", "point"}
        Which summary of each model's Monte Carlo draws is the observation.
    fail_on_bad_diagnostics : bool
        Raise instead of warning when R-hat, ESS or divergences fail the thresholds.
    r_hat_max, ess_min : float
        Diagnostic thresholds.
    forecast : bool
        Forecast the most expensive run of each future year.
    forecast_end_year : int
        Last forecast year (from the year after the last publication).
    thresholds_usd : tuple of float
        Costs whose exceedance probability is reported per year.
    models_per_year : int or None
        Frontier models per year in the forecast (default: as observed).
    sampler : {"nutpie"}
        NUTS implementation of the Bayesian fits (`uncertain_cost.growth.bayes.fit_bayes`):
        nutpie's Rust NUTS calls the model's numba kernel as a C callback, chains in parallel
        threads, no Python in the loop (docs/growth.md, Speed).
    backtest : bool
        Run the leave-future-out backtest (`uncertain_cost.growth.backtest.backtest`: every
        method, origin and horizon 1-4, the candidate trend models and the OLS baseline; table
        ``growth_backtest``) and forecast each method from the candidate it scores best. On by
        default (docs/growth.md, section 4b).
    validation : {"psis", "full"}
        How the backtest fits the constant-slope model through each origin: ``"psis"``
        (default) by Pareto-smoothed importance sampling from the full-data posterior,
        refitting where Pareto k > 0.7; ``"full"`` by an exact refit at every origin.
    prior_sensitivity : bool
        Refit the amortized headline with each prior scale halved and doubled
        (`uncertain_cost.growth.priors.prior_sensitivity`, nine short refits; table
        ``growth_prior_sensitivity``). Off by default: it costs more than the stage's fits.
    """

    enabled: bool = True
    bayes: bool = True
    level: float = 0.9
    draws: int = 1000
    tune: int | None = None
    chains: int = 4
    target_accept: float = 0.9
    center: str = "median"
    fail_on_bad_diagnostics: bool = False
    r_hat_max: float = 1.01
    ess_min: float = 400.0
    forecast: bool = True
    forecast_end_year: int = 2030
    thresholds_usd: tuple[float, ...] = (1e9, 1e10)
    models_per_year: int | None = None
    sampler: str = "nutpie"
    backtest: bool = True
    validation: str = "psis"
    prior_sensitivity: bool = False

    @classmethod
    def from_config(cls, growth: Mapping[str, Any], forecast: Mapping[str, Any],
                    source: str | None = None) -> GrowthSettings:
        """Build from the ``[growth]`` and ``[forecast]`` tables (checked by :data:`GROWTH`, :data:`FORECAST`).

        ``[forecast]`` takes ``enabled``, ``end_year``, ``thresholds_usd`` and
        ``models_per_year``; every other key belongs to ``[growth]``.
        """
        return cls(**GROWTH.check(growth, source), **FORECAST.check(forecast, source))


def _dollars(value: Any) -> tuple[float, ...]:
    if not isinstance(value, list | tuple) or not value or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and 0 < v < math.inf for v in value):
        raise Invalid(f"expected a list of positive dollar amounts, got {show(value)}")
    return tuple(float(v) for v in value)


#: ``[growth]``: the bounds are those :func:`uncertain_cost.growth.bayes.fit_bayes` enforces
GROWTH = Section("growth", (
    Key("enabled", boolean, True, "run the growth stage"),
    Key("bayes", boolean, True, "fit the hierarchical Bayesian model"),
    Key("level", number(0, 1, low_open=True, high_open=True), 0.9, "central level of every growth interval"),
    Key("draws", integer(100, 1_000_000), 1000, "NUTS draws kept per chain"),
    Key("tune", integer(0, 1_000_000), None, "NUTS tuning steps (default: the sampler's)"),
    Key("chains", integer(1, 64), 4, "NUTS chains"),
    Key("target_accept", number(0.5, 1, high_open=True), 0.9, "NUTS target acceptance"),
    Key("center", choice("median", "mean", "point"), "median", "summary of each model's draws observed"),
    Key("fail_on_bad_diagnostics", boolean, False, "raise instead of warning on bad diagnostics"),
    Key("r_hat_max", positive, 1.01, "largest R-hat accepted"),
    Key("ess_min", positive, 400.0, "smallest effective sample size accepted"),
    Key("sampler", choice("nutpie"), "nutpie", "NUTS implementation (nutpie, the only sampler of the growth model)"),
    Key("backtest", boolean, True, "run the leave-future-out backtest"),
    Key("prior_sensitivity", boolean, False, "refit with each prior scale halved and doubled"),
    Key("validation", choice("psis", "full"), "psis", "backtest fits: importance sampling or exact refits"),
), settings=GrowthSettings)

#: ``[forecast]``: keys fill the ``forecast*`` fields of :class:`GrowthSettings`
FORECAST = Section("forecast", (
    Key("enabled", boolean, True, "forecast the most expensive run of each future year", field="forecast"),
    Key("end_year", integer(1, 9999), 2030, "last forecast year", field="forecast_end_year"),
    Key("thresholds_usd", _dollars, (1e9, 1e10), "costs whose exceedance probability is reported"),
    Key("models_per_year", integer(1, 10_000), None, "frontier models per year in the forecast"),
), settings=GrowthSettings)


#: fewest kept draws per model the growth fits use: the Bayesian fit estimates each model's cost
#: covariance from them; the OLS fits take their medians
MIN_BAYES_DRAWS, MIN_OLS_DRAWS = 100, 2


def _parse(tables: Mapping[str, Mapping], context: Any) -> GrowthSettings:
    settings = GrowthSettings.from_config(tables["growth"], tables["forecast"], context.source)
    run = getattr(context, "run", None)
    kept = min(run.draws, run.keep_draws) if run is not None else MIN_OLS_DRAWS
    if settings.enabled and kept < MIN_OLS_DRAWS:  # no growth fit at all: refused here, before any sampling
        key = "run.draws" if run.draws <= run.keep_draws else "run.keep_draws"
        if settings.bayes:  # (from 2 to 99 kept draws, the run's preflight refuses the Bayesian fit)
            raise ConfigError(key, f"the Bayesian growth fit estimates each model's cost covariance from the kept "
                              f"draws and needs at least {MIN_BAYES_DRAWS}, got {kept} (or set growth.bayes = false)",
                              context.source)
        raise ConfigError(key, f"the growth fit needs at least {MIN_OLS_DRAWS} kept draws per model, got {kept} "
                          "(or set growth.enabled = false)", context.source)
    return settings


register_stage("growth", ("growth", "forecast"), _parse, __name__)
