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

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from uncertain_cost.distributions import Distribution, from_spec
from uncertain_cost.errors import ConfigError

__all__ = ["SCOPES", "CHIP_KEYS", "INPUT_DEFINITIONS", "InputDefinition", "InputSpec", "InputSet", "parse_inputs"]

SCOPES = ("shared", "per_chip", "per_model")
CHIP_KEYS = ("price_record", "chip")


@dataclass(frozen=True)
class InputDefinition:
    """What an input means to the cost equations.

    Attributes
    ----------
    name : str
        Key in ``[inputs]``.
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
    kind: str
    applies_to: str
    unit: str
    group: str
    description: str


def _defs(*rows: tuple[str, str, str, str, str, str]) -> Mapping[str, InputDefinition]:
    return MappingProxyType({row[0]: InputDefinition(*row) for row in rows})


INPUT_DEFINITIONS: Mapping[str, InputDefinition] = _defs(
    ("depreciation_rate", "absolute", "all", "OOM/year", "hardware",
     "price-performance improvement rate r that depreciates hardware"),
    ("server_overhead", "multiplier", "all", "x", "hardware",
     "multiplier on each chip's server/bare-chip price ratio (A100 1.66, default 1.64)"),
    ("interconnect_overhead", "multiplier", "all", "x", "hardware",
     "multiplier on the cluster/server cost ratio 1/(1-f), f = 0.19"),
    ("gpu_price", "multiplier", "gpu", "x", "hardware", "multiplier on GPU purchase prices"),
    ("tpu_price", "multiplier", "tpu", "x", "hardware",
     "multiplier on TPU production-cost-equivalent prices"),
    ("cloud_price", "multiplier", "all", "x", "hardware",
     "multiplier on 3-year committed cloud prices per chip-hour"),
    ("acquisition_offset_days", "absolute", "all", "days", "hardware",
     "days added to the acquisition-to-training-start gap"),
    ("electricity_price", "multiplier", "all", "x", "energy",
     "multiplier on the US industrial electricity price of the publication year"),
    ("power_fraction_gpu", "absolute", "gpu", "fraction of TDP", "energy",
     "average power draw / TDP for GPUs"),
    ("power_fraction_tpu", "absolute", "tpu", "fraction of TDP", "energy",
     "average power draw / TDP for TPUs"),
    ("pue_hyperscaler", "absolute", "hyperscaler", "ratio", "energy",
     "power usage effectiveness of hyperscaler data centres"),
    ("pue_other", "absolute", "other", "ratio", "energy",
     "power usage effectiveness of other data centres"),
    ("hardware_quantity", "multiplier", "all", "x", "usage",
     "multiplier on the reported number of chips"),
    ("training_time", "multiplier", "all", "x", "usage",
     "multiplier on the reported training time"),
    ("training_compute", "multiplier", "imputed", "x", "usage",
     "multiplier on training compute (FLOP) when chip-hours are imputed"),
    ("peak_flops", "multiplier", "imputed", "x", "usage",
     "multiplier on peak FLOP/s when chip-hours are imputed"),
    ("utilization", "absolute", "imputed", "fraction", "usage",
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

    Returns
    -------
    InputSet

    Raises
    ------
    ConfigError
        Unknown input names (listing the valid ones), bad scopes, bad distributions.
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
        table, where = dict(defaults[name]), defaults_source
        note = str(table.get("source", ""))
        user = overrides.get(name, {})
        if set(user) - _SPEC_META_KEYS:
            table = {k: v for k, v in table.items() if k in _SPEC_META_KEYS}
            where, note = source, str(user.get("source", "config"))
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
        dist = from_spec(table, f"inputs.{name}", where)
        _check_support(name, definition, dist, where)
        specs.append(InputSpec(name, dist, scope, definition, note, chip_key))
    return InputSet(tuple(specs))


def _check_support(name: str, definition: InputDefinition, dist: Distribution, source: str | None) -> None:
    """Reject distributions that can produce impossible values for this input."""
    if name == "acquisition_offset_days":
        return
    lowest = float(dist.quantile(0.0))
    if lowest < 0:
        raise ConfigError(
            f"inputs.{name}",
            f"{definition.unit} values cannot be negative but this distribution reaches {lowest:g};"
            " use a positive family or truncate it (low = ...)",
            source,
        )
