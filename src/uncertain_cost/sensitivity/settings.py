"""``[sensitivity]``: the settings of the sensitivity stage, declared once (:data:`SENSITIVITY`)."""

from __future__ import annotations

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
    register_stage,
    string_list,
)
from uncertain_cost.units import METHODS

__all__ = ["SensitivitySettings", "SENSITIVITY", "TORNADO_METHODS"]

TORNADO_METHODS = ("conditional", "one_at_a_time")


@dataclass(frozen=True)
class SensitivitySettings:
    """``[sensitivity]``.

    Attributes
    ----------
    enabled : bool
    models : tuple of str
        Models whose cost (under each of ``methods``) is a target.
    methods : tuple of str
    low_quantile, high_quantile : float
        Tornado swing quantiles.
    tornado : {"conditional", "one_at_a_time"}
        Bars as conditional medians under the joint distribution (default), or every column
        of a group swung to one quantile (see :mod:`uncertain_cost.sensitivity.tornado`).
    tornado_outer, tornado_inner : int
        Draws of each bar's group and of the shared joint sample (``conditional``).
    sobol : bool
    sobol_base : int
        Base sample size N of the Saltelli design (a power of two).
    bootstrap : int
        Bootstrap resamples for the Sobol confidence intervals.
    growth : bool
        Analyse the amortized growth rate (OLS slope over the frontier set).
    growth_sobol_base : int
    development : bool
        Analyse development-cost totals.
    development_sobol_base : int
        Largest Sobol base sample of the development targets (they use
        ``min(sobol_base, development_sobol_base)``: one factor per contributor and kind,
        thousands of factors, need a smaller design).
    value_of_information : bool
        Compute ``value_of_information.csv`` (one Monte Carlo and one Bayesian fit per input
        analysed; see :mod:`uncertain_cost.sensitivity.voi`). On by default, for the
        ``voi_top`` inputs.
    voi_top : int
        Analyse the ``voi_top`` inputs with the largest Sobol total-order index on the
        amortized growth rate (default 4; a number at least the count of uncertain inputs,
        or no growth-rate Sobol analysis, means every uncertain input).
    voi_draws, voi_tune : int
        NUTS draws kept per chain (>= 100) and tuning steps of each of those fits (2 chains).
    """

    enabled: bool = True
    models: tuple[str, ...] = ("GPT-4", "Gemini 1.0 Ultra")
    methods: tuple[str, ...] = METHODS
    low_quantile: float = 0.05
    high_quantile: float = 0.95
    tornado: str = "conditional"
    tornado_outer: int = 32
    tornado_inner: int = 128
    sobol: bool = True
    sobol_base: int = 1024
    bootstrap: int = 200
    growth: bool = True
    growth_sobol_base: int = 256
    development: bool = True
    development_sobol_base: int = 256
    value_of_information: bool = True
    voi_top: int = 4
    voi_draws: int = 4000
    voi_tune: int = 1000

    @classmethod
    def from_config(cls, section: Mapping[str, Any], source: str | None = None) -> SensitivitySettings:
        """Validate a ``[sensitivity]`` table with :data:`SENSITIVITY`; errors name the key."""
        return cls(**SENSITIVITY.check(section, source))


def _quantile_rules(values: dict) -> None:
    low, high = values.get("low_quantile", 0.05), values.get("high_quantile", 0.95)
    if not low < high:
        raise Invalid(f"must be below high_quantile ({high:g}), got {low:g}", "low_quantile")


_FRACTION = number(0, 1, low_open=True, high_open=True)

#: ``[sensitivity]``, declared once: each key's type and bounds
SENSITIVITY = Section("sensitivity", (
    Key("enabled", boolean, True, "run the sensitivity stage"),
    Key("models", string_list(what="model names"), ("GPT-4", "Gemini 1.0 Ultra"), "models whose cost is a target"),
    Key("methods", string_list(nonempty=True, among=METHODS), METHODS, "cost methods of the targets"),
    Key("low_quantile", _FRACTION, 0.05, "tornado swing, low quantile"),
    Key("high_quantile", _FRACTION, 0.95, "tornado swing, high quantile"),
    Key("tornado", choice(*TORNADO_METHODS), "conditional", "tornado bars: conditional or one at a time"),
    Key("tornado_outer", integer(8, 1_000_000), 32, "draws of each bar's group"),
    Key("tornado_inner", integer(8, 1_000_000), 128, "draws of the shared joint sample"),
    Key("sobol", boolean, True, "compute Sobol indices"),
    Key("sobol_base", integer(1, 2**20, power_of_two=True), 1024, "base sample of the Saltelli design"),
    Key("bootstrap", integer(1, 100_000), 200, "bootstrap resamples of the Sobol intervals"),
    Key("growth", boolean, True, "analyse the amortized growth rate"),
    Key("growth_sobol_base", integer(1, 2**20, power_of_two=True), 256, "Sobol base of the growth rate"),
    Key("development", boolean, True, "analyse development-cost totals"),
    Key("development_sobol_base", integer(1, 2**20, power_of_two=True), 256,
        "largest Sobol base of the development targets"),
    Key("value_of_information", boolean, True, "compute value_of_information.csv"),
    Key("voi_top", integer(1, 1000), 4, "inputs analysed for value of information"),
    Key("voi_draws", integer(100, 1_000_000), 4000, "NUTS draws per chain of each VOI fit"),
    Key("voi_tune", integer(1, 1_000_000), 1000, "NUTS tuning steps of each VOI fit"),
), rules=_quantile_rules, settings=SensitivitySettings)


def _parse(tables: Mapping[str, Mapping], context: Any) -> SensitivitySettings:
    return SensitivitySettings.from_config(tables["sensitivity"], context.source)


register_stage("sensitivity", ("sensitivity",), _parse, __name__)
