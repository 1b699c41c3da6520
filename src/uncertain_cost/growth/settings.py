"""``[growth]`` and ``[forecast]`` config sections, validated before any work starts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from uncertain_cost.errors import ConfigError

__all__ = ["GrowthSettings"]


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
        """Build from the ``[growth]`` and ``[forecast]`` tables; errors name the key.

        ``[forecast]`` takes ``enabled``, ``end_year``, ``thresholds_usd`` and
        ``models_per_year``; every other key belongs to ``[growth]``.
        """
        growth_keys = {f.name for f in fields(cls)} - {"forecast", "forecast_end_year", "thresholds_usd",
                                                        "models_per_year"}
        forecast_map = {"enabled": "forecast", "end_year": "forecast_end_year", "thresholds_usd": "thresholds_usd",
                        "models_per_year": "models_per_year"}
        kw: dict[str, Any] = {}
        for section, table, allowed in (("growth", growth, {k: k for k in growth_keys}),
                                        ("forecast", forecast, forecast_map)):
            unknown = sorted(set(table) - set(allowed))
            if unknown:
                raise ConfigError(f"{section}.{unknown[0]}", f"unknown key; valid keys: {', '.join(sorted(allowed))}",
                                  source)
            for key, value in table.items():
                kw[allowed[key]] = _check(f"{section}.{key}", allowed[key], value, source)
        return cls(**kw)


def _check(key: str, name: str, value: Any, source: str | None) -> Any:
    default = getattr(GrowthSettings, name)
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(key, f"expected true or false, got {value!r}", source)
        return value
    if name == "level":
        if not is_number or not 0 < value < 1:
            raise ConfigError(key, f"expected a number strictly between 0 and 1, got {value!r}", source)
        return float(value)
    if name == "target_accept":  # the bounds fit_bayes enforces
        if not is_number or not 0.5 <= value < 1:
            raise ConfigError(key, f"expected a number in [0.5, 1), got {value!r}", source)
        return float(value)
    if name in ("draws", "tune", "chains", "forecast_end_year", "models_per_year"):
        least = {"draws": 100, "tune": 0}.get(name, 1)  # the bounds fit_bayes enforces
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ConfigError(key, f"expected an integer >= {least}, got {value!r}", source)
        return value
    if name in ("r_hat_max", "ess_min"):
        if not is_number or value <= 0:
            raise ConfigError(key, f"expected a positive number, got {value!r}", source)
        return float(value)
    if name == "center":
        if value not in ("median", "mean", "point"):
            raise ConfigError(key, f"expected 'median', 'mean' or 'point', got {value!r}", source)
        return value
    if name == "validation":
        if value not in ("psis", "full"):
            raise ConfigError(key, f"expected 'psis' or 'full', got {value!r}", source)
        return value
    if name == "sampler":
        if value != "nutpie":
            raise ConfigError(key, f"expected 'nutpie' (the only sampler of the growth model), got {value!r}",
                              source)
        return value
    if name == "thresholds_usd":
        if not isinstance(value, list) or not value or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in value):
            raise ConfigError(key, f"expected a list of positive dollar amounts, got {value!r}", source)
        return tuple(float(v) for v in value)
    raise ConfigError(key, "unsupported key", source)  # pragma: no cover - table and checks agree
