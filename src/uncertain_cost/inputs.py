"""The vocabulary of uncertain inputs: what each one means, its kind and its scope.

The set of inputs is fixed by the cost equations (``costs.py`` reads each by name); the
user chooses each input's distribution and scope. An input is either a *multiplier*
(median 1, applied to a model's data or to a per-chip constant) or an *absolute* value
(a rate, a fraction, a PUE). Its *scope* says how draws are shared:

``shared``
    one draw per sample, used by every model;
``per_chip``
    one draw per accelerator per sample, keyed by ``chip_key``: ``"price_record"`` (the
    default) gives chips priced from the same purchase record one draw (the A100 variants
    priced from one DGX A100 record), ``"chip"`` one draw per chip name;
``per_model``
    an independent draw for every model.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from uncertain_cost.distributions import Distribution, from_spec
from uncertain_cost.errors import ConfigError

__all__ = ["SCOPES", "CHIP_KEYS", "INPUT_DEFINITIONS", "PHYSICAL_BOUNDS", "InputDefinition", "InputSpec",
           "InputSet", "parse_inputs"]

SCOPES = ("shared", "per_chip", "per_model")
CHIP_KEYS = ("price_record", "chip")

#: Physical range of each absolute input: (low, high, low is inclusive, high is inclusive).
#: Multipliers must be > 0. The central value and the 5%-95% interval of a distribution
#: must lie in the range (unbounded tails of the paper's lognormals may cross it; truncate
#: with ``low``/``high`` to keep every draw inside).
PHYSICAL_BOUNDS: Mapping[str, tuple[float, float, bool, bool]] = MappingProxyType({
    "utilization": (0.0, 1.0, False, True),
    "power_fraction_gpu": (0.0, 1.2, False, True),
    "power_fraction_tpu": (0.0, 1.2, False, True),
    "pue_hyperscaler": (1.0, math.inf, True, False),
    "pue_other": (1.0, math.inf, True, False),
    "depreciation_rate": (0.0, math.inf, False, False),
    "acquisition_offset_days": (-math.inf, math.inf, False, False),
})
_MULTIPLIER_BOUNDS = (0.0, math.inf, False, False)


@dataclass(frozen=True)
class InputDefinition:
    """What an input means to the cost equations.

    Attributes
    ----------
    name : str
        Key in ``[inputs]``.
    param : str
        The cost-kernel parameter it feeds (``uncertain_cost.costs.PARAMS``); two inputs
        may feed one parameter for disjoint model classes (``applies_to`` gpu/tpu or
        hyperscaler/other), e.g. ``gpu_price`` and ``tpu_price`` both feed ``price``.
    kind : {"multiplier", "absolute"}
    applies_to : str
        Which models read it: ``all``, ``gpu``, ``tpu``, ``hyperscaler`` or ``other``
        (PUE class), ``imputed`` (models whose chip-hours are imputed from compute).
    unit : str
    group : str
        For grouped sensitivity: ``hardware``, ``energy``, ``usage``.
    description : str
    """

    name: str
    param: str
    kind: str
    applies_to: str
    unit: str
    group: str
    description: str


def _defs(*rows: tuple[str, str, str, str, str, str, str]) -> Mapping[str, InputDefinition]:
    return MappingProxyType({row[0]: InputDefinition(*row) for row in rows})


INPUT_DEFINITIONS: Mapping[str, InputDefinition] = _defs(
    ("depreciation_rate", "rate", "absolute", "all", "OOM/year", "hardware",
     "price-performance improvement rate r that depreciates hardware"),
    ("server_overhead", "overhead", "multiplier", "all", "x", "hardware",
     "multiplier on each chip's server/bare-chip price ratio (A100 1.66, default 1.64)"),
    ("interconnect_overhead", "interconnect", "multiplier", "all", "x", "hardware",
     "multiplier on the cluster/server cost ratio 1/(1-f), f = 0.19"),
    ("gpu_price", "price", "multiplier", "gpu", "x", "hardware", "multiplier on GPU purchase prices"),
    ("tpu_price", "price", "multiplier", "tpu", "x", "hardware",
     "multiplier on TPU production-cost-equivalent prices"),
    ("cloud_price", "cloud", "multiplier", "all", "x", "hardware",
     "multiplier on 3-year committed cloud prices per chip-hour"),
    ("acquisition_offset_days", "offset_days", "absolute", "all", "days", "hardware",
     "days added to the acquisition-to-training-start gap"),
    ("electricity_price", "electricity", "multiplier", "all", "x", "energy",
     "multiplier on the US industrial electricity price of the publication year"),
    ("power_fraction_gpu", "power_fraction", "absolute", "gpu", "fraction of TDP", "energy",
     "average power draw / TDP for GPUs"),
    ("power_fraction_tpu", "power_fraction", "absolute", "tpu", "fraction of TDP", "energy",
     "average power draw / TDP for TPUs"),
    ("pue_hyperscaler", "pue", "absolute", "hyperscaler", "ratio", "energy",
     "power usage effectiveness of hyperscaler data centres"),
    ("pue_other", "pue", "absolute", "other", "ratio", "energy",
     "power usage effectiveness of other data centres"),
    ("hardware_quantity", "quantity", "multiplier", "all", "x", "usage",
     "multiplier on the reported number of chips"),
    ("training_time", "time", "multiplier", "all", "x", "usage",
     "multiplier on the reported training time"),
    ("training_compute", "compute", "multiplier", "imputed", "x", "usage",
     "multiplier on training compute (FLOP) when chip-hours are imputed"),
    ("peak_flops", "peak", "multiplier", "imputed", "x", "usage",
     "multiplier on peak FLOP/s when chip-hours are imputed"),
    ("utilization", "utilization", "absolute", "imputed", "fraction", "usage",
     "hardware utilization when it is not reported and chip-hours are imputed"),
)


@dataclass(frozen=True)
class InputSpec:
    """One uncertain input as the user configured it.

    Attributes
    ----------
    name : str
    distribution : Distribution
    scope : {"shared", "per_chip", "per_model"}
    definition : InputDefinition
    source_note : str
        Where the default came from (or ``"config"``).
    chip_key : {"price_record", "chip"}
        For ``per_chip``: what makes two chips share a draw (see the module docstring).
    """

    name: str
    distribution: Distribution
    scope: str
    definition: InputDefinition
    source_note: str = ""
    chip_key: str = "price_record"

    @property
    def kind(self) -> str:
        """``multiplier`` or ``absolute``."""
        return self.definition.kind

    @property
    def group(self) -> str:
        """Sensitivity group."""
        return self.definition.group

    def ppf(self, u):
        """Inverse CDF of the distribution (so an InputSpec can be a Sobol factor)."""
        return self.distribution.ppf(u)


@dataclass(frozen=True)
class InputSet:
    """An ordered, complete set of input specs (every defined input present once).

    Attributes
    ----------
    specs : tuple of InputSpec
    correlations : uncertain_cost.sampling.copula.Correlations or None
        Rank correlations between inputs (``[correlations]``), applied to the draws.
    """

    specs: tuple[InputSpec, ...]
    correlations: object = None

    def __post_init__(self) -> None:
        names = [s.name for s in self.specs]
        missing = sorted(set(INPUT_DEFINITIONS) - set(names))
        if missing or len(names) != len(set(names)):
            raise ValueError(f"InputSet needs each input once; missing {missing}")

    def __getitem__(self, name: str) -> InputSpec:
        for spec in self.specs:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def __iter__(self) -> Iterator[InputSpec]:
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    @property
    def names(self) -> tuple[str, ...]:
        """Input names in order."""
        return tuple(s.name for s in self.specs)

    def uncertain(self) -> tuple[InputSpec, ...]:
        """Return the inputs whose distribution is not a constant."""
        return tuple(s for s in self.specs if not s.distribution.is_constant)

    def replace(self, name: str, **changes) -> InputSet:
        """Return a copy with input ``name`` changed (e.g. ``distribution=Constant(1)``)."""
        from dataclasses import replace as dc_replace

        specs = tuple(dc_replace(s, **changes) if s.name == name else s for s in self.specs)
        return InputSet(specs, self.correlations)


_SPEC_META_KEYS = {"scope", "source", "chip_key"}


def parse_inputs(
    defaults: Mapping[str, dict],
    overrides: Mapping[str, dict] | None = None,
    *,
    defaults_source: str | None = None,
    source: str | None = None,
    base_dir: Path | None = None,
    defaults_dir: Path | None = None,
) -> InputSet:
    """Merge default input tables with user overrides and build the input set.

    Parameters
    ----------
    defaults : mapping
        ``{name: {"scope": ..., "source": ..., <distribution keys>}}`` from ``priors/inputs.toml``.
    overrides : mapping, optional
        The config's ``[inputs]`` table. A table that sets ``scope`` alone keeps the default
        distribution; one with any distribution key replaces the distribution whole.
    defaults_source, source : str, optional
        File names for error messages.
    base_dir, defaults_dir : pathlib.Path, optional
        Folders against which an empirical ``csv`` of the config, respectively of the
        defaults, is resolved (the config's folder, as for ``data.epoch_dir``).

    Returns
    -------
    InputSet

    Raises
    ------
    ConfigError
        Unknown input names (listing the valid ones), bad scopes, bad distributions,
        values outside :data:`PHYSICAL_BOUNDS`.
    """
    overrides = dict(overrides or {})
    valid = ", ".join(INPUT_DEFINITIONS)
    for name, table in overrides.items():
        if name not in INPUT_DEFINITIONS:
            raise ConfigError(f"inputs.{name}", f"unknown input; valid inputs: {valid}", source)
        if not isinstance(table, dict):
            raise ConfigError(f"inputs.{name}", f"expected a table, got {table!r}", source)
    specs = []
    for name, definition in INPUT_DEFINITIONS.items():
        if name not in defaults:
            raise ConfigError(f"inputs.{name}", "no default given", defaults_source)
        table, where, folder = dict(defaults[name]), defaults_source, defaults_dir
        note = str(table.get("source", ""))
        user = overrides.get(name, {})
        if set(user) - _SPEC_META_KEYS:
            table = {k: v for k, v in table.items() if k in _SPEC_META_KEYS}
            where, note, folder = source, str(user.get("source", "config")), base_dir
        table.update(user)
        if name in overrides:
            where = source
        scope = table.pop("scope", "shared")
        chip_key = table.pop("chip_key", "price_record")
        table.pop("source", None)
        if scope not in SCOPES:
            raise ConfigError(f"inputs.{name}.scope", f"expected one of {', '.join(SCOPES)}, got {scope!r}", where)
        if chip_key not in CHIP_KEYS:
            raise ConfigError(f"inputs.{name}.chip_key", f"expected one of {', '.join(CHIP_KEYS)}, got {chip_key!r}",
                              where)
        dist = from_spec(table, f"inputs.{name}", where, base_dir=folder)
        _check_support(name, definition, dist, where)
        specs.append(InputSpec(name, dist, scope, definition, note, chip_key))
    return InputSet(tuple(specs))


def _check_support(name: str, definition: InputDefinition, dist: Distribution, source: str | None) -> None:
    """Reject distributions that can produce impossible values for this input.

    The central value and the 5% and 95% quantiles must be finite and inside the input's
    physical range (:data:`PHYSICAL_BOUNDS`, multipliers > 0), and no value may be
    negative (except for ``acquisition_offset_days``).
    """
    low, high, low_in, high_in = PHYSICAL_BOUNDS.get(name, _MULTIPLIER_BOUNDS)
    key = f"inputs.{name}"
    probes = {"central value": float(dist.central), "5% quantile": float(dist.quantile(0.05)),
              "95% quantile": float(dist.quantile(0.95))}
    for label, value in probes.items():
        if not math.isfinite(value):
            raise ConfigError(key, f"the {label} is {value}; every value must be a finite number", source)
        below = value < low or (value == low and not low_in)
        above = value > high or (value == high and not high_in)
        if below or above:
            interval = f"{'[' if low_in else '('}{low:g}, {high:g}{']' if high_in else ')'}"
            raise ConfigError(key, f"the {label} is {value:g}, outside the physical range {interval} of a "
                                   f"{definition.unit} ({definition.description})", source)
    if name == "acquisition_offset_days":
        return
    lowest = float(dist.quantile(0.0))
    if lowest < 0:
        raise ConfigError(
            key,
            f"{definition.unit} values cannot be negative but this distribution reaches {lowest:g};"
            " use a positive family or truncate it (low = ...)",
            source,
        )
