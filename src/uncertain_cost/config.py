"""TOML configuration -> frozen dataclasses, validated by one table per section.

Every error names the file and the dotted key, says what was expected and what was given.
Sections owned by later stages (``selection``, ``growth``, ``forecast``, ``sensitivity``,
``development``, ``report``) are checked for being tables here and parsed in depth by
their own modules, which raise the same kind of error.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from uncertain_cost.defaults import load_input_defaults, priors_dir
from uncertain_cost.errors import ConfigError
from uncertain_cost.inputs import InputSet, parse_inputs
from uncertain_cost.sampling.copula import attach_correlations

__all__ = ["Config", "RunSettings", "DataSettings", "StageSettings", "default_config", "load_config",
           "parse_config", "parse_stage_settings", "SECTIONS"]

SECTIONS = (
    "run",
    "data",
    "selection",
    "inputs",
    "correlations",
    "growth",
    "forecast",
    "sensitivity",
    "development",
    "report",
    "scenarios",
    "execution",
)

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _int(minimum: int, maximum: int | None = None) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"expected an integer, got {value!r}"
        if value < minimum:
            return f"must be >= {minimum}, got {value}"
        if maximum is not None and value > maximum:
            return f"must be <= {maximum}, got {value}"
        return None

    return check


def _choice(*options: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value not in options:
            return f"expected one of {', '.join(repr(o) for o in options)}, got {value!r}"
        return None

    return check


def _month(value: Any) -> str | None:
    if not isinstance(value, str) or not _MONTH.match(value):
        return f"expected a month as \"YYYY-MM\", got {value!r}"
    return None


def _fraction(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        return f"expected a number strictly between 0 and 1, got {value!r}"
    return None


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) and value else f"expected a non-empty string, got {value!r}"


def _positive(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        return f"expected a finite positive number, got {value!r}"
    return None


def _impute_mode(value: Any) -> str | None:
    if isinstance(value, bool) or value in ("off", "frontier_window", "most_common_of_year"):
        return None
    return f"expected true, false, \"off\", \"frontier_window\" or \"most_common_of_year\", got {value!r}"


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"expected true or false, got {value!r}"


#: section -> key -> validator (defaults live in the settings dataclasses below)
VALIDATION: Mapping[str, Mapping[str, Callable[[Any], str | None]]] = MappingProxyType({
    "run": {
        "draws": _int(1),
        "seed": _int(0, 2**63 - 1),
        "keep_draws": _int(1),
        "chunk_blocks": _int(1),
        "reference_month": _month,
        "finetunes": _choice("drop", "add_base"),
        "credible_level": _fraction,
        "interconnect_fraction": _fraction,
    },
    "data": {
        "epoch_dir": _string,
        "tables_dir": _string,
        "snapshot": _string,
        "impute_hardware": _impute_mode,
        "impute_window_years": _positive,
        "impute_multi_hardware": _bool,
        "impute": _choice("paper", "all"),
        "tpu_prices": _choice("snapshot", "paper"),
        "rules": _choice("paper", "epoch_2025"),
    },
    "report": {
        "html": _bool,
        "png": _bool,
        "markdown": _bool,
    },
    "execution": {  # where the work runs (uncertain_cost.execution); results never depend on it
        "backend": _choice("local", "dask"),
        "scheduler": _string,
        "workers": _int(1),
        "blocks_per_task": _int(1),
    },
})


@dataclass(frozen=True)
class RunSettings:
    """``[run]``: how many draws, which seed, which dollars.

    Attributes
    ----------
    draws, seed, keep_draws, chunk_blocks : int
    reference_month : str
        ``"YYYY-MM"``; costs are in dollars of this month.
    finetunes : {"drop", "add_base"}
        Paper v2 (drop fine-tunes) or v1 (add the base model's cost).
    credible_level : float
        Level of reported intervals (summary columns are always P5/P95 as well).
    interconnect_fraction : float
        Share f of cluster cost spent on interconnect (paper: 0.19).
    """

    draws: int = 100_000
    seed: int = 20240531
    keep_draws: int = 10_000
    chunk_blocks: int = 4
    reference_month: str = "2023-12"
    finetunes: str = "drop"
    credible_level: float = 0.9
    interconnect_fraction: float = 0.19


@dataclass(frozen=True)
class DataSettings:
    """``[data]``: where the model/chip/price tables come from.

    Attributes
    ----------
    epoch_dir : pathlib.Path or None
        An Epoch AI export folder (resolved against the config file), or None for the
        embedded priors.
    tables_dir : pathlib.Path or None
        A table folder written by ``import-epoch`` (resolved against the config file);
        exclusive with ``epoch_dir``.
    snapshot : str or None
        Label recorded in outputs; defaults to the folder name or ``embedded``.
    impute_hardware : bool or str
        Give models with unknown or ambiguous hardware a distribution over candidate chips
        instead of dropping them: ``true``/``"frontier_window"``, ``"most_common_of_year"``
        (Epoch's rule) or ``false``/``"off"`` (see :mod:`uncertain_cost.data.impute`).
    impute_multi_hardware : bool
        Also impute models listing several hardware types (default true).
    tpu_prices : {"snapshot", "paper"}
        TPU-equivalent prices from the snapshot's table where it has them (default) or
        only the paper's constants (see :func:`uncertain_cost.data.epoch.select_tpu_prices`).
    impute_window_years : float
        Donor window for that distribution (models published within this many years).
    impute : {"paper", "all"}
        ``"paper"`` (default) costs what the paper costs; ``"all"`` costs every frontier
        model whose compute is known: unknown hardware from the organisation's accelerators
        (else frontier-scale peers'), several types as a mixture, chip-hours from compute /
        (peak x the utilization fitted on disclosed runs, ``priors/utilization.toml``),
        quantity from chip-hours / training time (see :mod:`uncertain_cost.data.impute`).
    rules : {"paper", "epoch_2025"}
        The paper's choices (default) or those of Epoch AI's mid-2025 pipeline for
        same-date price ties, cloud chip-hours and year-mode hardware counting (see
        :mod:`uncertain_cost.data.rules`).
    """

    epoch_dir: Path | None = None
    tables_dir: Path | None = None
    snapshot: str | None = None
    impute_hardware: bool | str = False
    impute_window_years: float = 1.0
    impute_multi_hardware: bool = True
    tpu_prices: str = "snapshot"
    impute: str = "paper"
    rules: str = "paper"


@dataclass(frozen=True)
class Config:
    """A validated configuration.

    Attributes
    ----------
    path : pathlib.Path or None
        The file read (None for an in-memory config).
    sha256 : str
        SHA-256 of the file's bytes (or of the canonical text of an in-memory table).
    run : RunSettings
    data : DataSettings
    inputs : InputSet
    sections : mapping
        Raw tables of the stage-owned sections (selection, growth, forecast,
        sensitivity, development, report, scenarios, execution).
    stages : StageSettings
        Those sections parsed and checked by their packages' settings classes (so every
        mistake in any section surfaces when the config is read, before any work).
    raw : mapping
        The document as given, before ``overrides`` (scenarios are merged over it).
    overrides : mapping
        Dotted keys set from the command line or the API.
    """

    path: Path | None
    sha256: str
    run: RunSettings
    data: DataSettings
    inputs: InputSet
    sections: Mapping[str, dict] = field(default_factory=dict)
    stages: Any = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    overrides: Mapping[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """File name for messages."""
        return str(self.path) if self.path else "<config>"

    def section(self, name: str) -> dict:
        """Raw table of a stage-owned section ({} when absent)."""
        return dict(self.sections.get(name, {}))


def _validated(table: Any, section: str, source: str) -> dict:
    """Check a section's keys and values against :data:`VALIDATION`; return the given keys."""
    if not isinstance(table, dict):
        raise ConfigError(section, f"expected a table [{section}], got {table!r}", source)
    rules = VALIDATION[section]
    unknown = sorted(set(table) - set(rules))
    if unknown:
        raise ConfigError(f"{section}.{unknown[0]}", f"unknown key; valid keys: {', '.join(rules)}", source)
    for key, value in table.items():
        problem = rules[key](value)
        if problem:
            raise ConfigError(f"{section}.{key}", problem, source)
    return dict(table)


def parse_config(raw: Mapping[str, Any], *, path: Path | None = None, sha256: str | None = None,
                 overrides: Mapping[str, Any] | None = None) -> Config:
    """Validate a parsed TOML document.

    Parameters
    ----------
    raw : mapping
        The TOML document.
    path : pathlib.Path, optional
        Its file (relative paths in ``[data]`` resolve against its folder).
    sha256 : str, optional
        Hash of the file bytes; computed from the table text when not given.
    overrides : mapping, optional
        ``{"run.draws": 1000, "data.epoch_dir": "..."}`` from the command line.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
    """
    source = str(path) if path else "<config>"
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise ConfigError(unknown[0], f"unknown section; valid sections: {', '.join(SECTIONS)}", source)
    given = MappingProxyType(dict(raw))
    raw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    for dotted, value in (overrides or {}).items():
        section, key = dotted.split(".", 1)
        raw.setdefault(section, {})[key] = value
    run = RunSettings(**_validated(raw.get("run", {}), "run", source))
    data_raw = _validated(raw.get("data", {}), "data", source)
    folders = {}
    for key in ("epoch_dir", "tables_dir"):
        value = data_raw.get(key)
        if value is None:
            continue
        folder = Path(value).expanduser()
        if not folder.is_absolute() and path is not None and f"data.{key}" not in (overrides or {}):
            folder = path.parent / folder
        if not folder.is_dir():
            raise ConfigError(f"data.{key}", f"folder not found: {folder}", source)
        folders[key] = folder.resolve()
    if len(folders) == 2:
        raise ConfigError("data.tables_dir", "give either data.epoch_dir or data.tables_dir, not both", source)
    data = DataSettings(**{**data_raw, **folders})
    inputs_raw = raw.get("inputs", {})
    if not isinstance(inputs_raw, dict):
        raise ConfigError("inputs", f"expected a table [inputs], got {inputs_raw!r}", source)
    inputs = parse_inputs(
        load_input_defaults(), inputs_raw,
        defaults_source=str(priors_dir() / "inputs.toml"), source=source,
        base_dir=path.parent if path is not None else None, defaults_dir=priors_dir(),
    )
    inputs = attach_correlations(inputs, raw.get("correlations", {}), source)
    if data.impute == "all" and not set(inputs_raw.get("utilization", {})) - {"scope", "source", "chip_key"}:
        from uncertain_cost.data.utilization import predictive_beta

        inputs = inputs.replace("utilization", distribution=predictive_beta(), source_note=(
            "[data] impute = \"all\": predictive of the utilization model fitted on the 2024-06 snapshot's "
            "disclosed runs (priors/utilization.toml)"))
    sections = {}
    for name in ("selection", "growth", "forecast", "sensitivity", "development", "report", "scenarios",
                 "execution"):
        table = raw.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(name, f"expected a table [{name}], got {table!r}", source)
        sections[name] = table
    _validated(sections["report"], "report", source)
    _validated(sections["execution"], "execution", source)
    if sha256 is None:
        hashed = {k: v for k, v in raw.items() if k != "execution"}  # where it runs never changes results
        sha256 = hashlib.sha256(repr(sorted(hashed.items(), key=lambda kv: kv[0])).encode()).hexdigest()
    stages = parse_stage_settings(sections, source)
    _check_frontier_list(stages.selection, data, source)
    return Config(path, sha256, run, data, inputs, MappingProxyType(sections),
                  stages=stages, raw=given,
                  overrides=MappingProxyType(dict(overrides or {})))


def _check_frontier_list(selection: Any, data: DataSettings, source: str) -> None:
    """Check that ``[selection] frontier_list`` has a snapshot folder holding that frozen list."""
    rule = getattr(selection, "frontier_list", "")
    if not rule:
        return
    if data.epoch_dir is None:
        raise ConfigError("selection.frontier_list", "needs data.epoch_dir, a snapshot folder with frontier-lists/",
                          source)
    path = data.epoch_dir / "frontier-lists" / f"{rule}.json"
    if not path.is_file():
        raise ConfigError("selection.frontier_list", f"no frozen list {path}", source)


@dataclass(frozen=True)
class StageSettings:
    """Every stage-owned config section, parsed by the settings class of the package that owns it.

    Attributes
    ----------
    selection : uncertain_cost.data.selection.SelectionRules
    sensitivity : uncertain_cost.sensitivity.targets.SensitivitySettings
    development : uncertain_cost.devcost.DevelopmentSpec
    growth : uncertain_cost.growth.settings.GrowthSettings
        ``[growth]`` and ``[forecast]``.
    """

    selection: Any
    sensitivity: Any
    development: Any
    growth: Any


def parse_stage_settings(sections: Mapping[str, dict], source: str) -> StageSettings:
    """Parse the ``selection``, ``growth``/``forecast``, ``sensitivity`` and ``development`` tables.

    Parameters
    ----------
    sections : mapping
        Raw tables by section name ({} for an absent section).
    source : str
        Config file name for messages.

    Returns
    -------
    StageSettings

    Raises
    ------
    ConfigError
        Naming the file and dotted key of the first mistake.
    """
    # Imported here: each package's settings module imports this module's errors and types.
    from uncertain_cost.data.selection import SelectionRules
    from uncertain_cost.devcost import parse_development
    from uncertain_cost.growth.settings import GrowthSettings
    from uncertain_cost.sensitivity.targets import SensitivitySettings

    return StageSettings(
        selection=SelectionRules.from_config(dict(sections.get("selection", {})), source),
        sensitivity=SensitivitySettings.from_config(dict(sections.get("sensitivity", {})), source),
        development=parse_development(dict(sections.get("development", {})), source),
        growth=GrowthSettings.from_config(dict(sections.get("growth", {})), dict(sections.get("forecast", {})),
                                          source),
    )


def default_config(overrides: Mapping[str, Any] | None = None) -> Config:
    """Return the embedded default job: every setting at its default (what the repository's ``config.toml`` says).

    Parameters
    ----------
    overrides : mapping, optional
        Dotted keys set from the command line.

    Returns
    -------
    Config
    """
    return parse_config({}, overrides=overrides)


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Config:
    """Read and validate a TOML config file.

    Parameters
    ----------
    path : str or pathlib.Path
    overrides : mapping, optional
        Dotted keys set from the command line (e.g. ``{"run.draws": 1000}``).

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        Missing file, invalid TOML, unknown or invalid keys.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError("config", "is a folder, not a TOML config file", str(path))
    if not path.is_file():
        raise ConfigError("config", f"file not found: {path}", str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError("config", f"cannot read it: {exc.strerror or exc}", str(path)) from None
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(b"\xef\xbb\xbf"):
        raise ConfigError("config", "starts with a byte-order mark (BOM); save it as UTF-8 without BOM", str(path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError("config", f"line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); TOML files "
                                    "must be UTF-8", str(path)) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", f"invalid TOML: {exc}", str(path)) from None
    return parse_config(raw, path=path.resolve(), sha256=digest, overrides=overrides)
