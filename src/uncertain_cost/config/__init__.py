"""TOML configuration -> a validated, frozen :class:`Config`, every section checked before any work.

Every error is one line naming the file and the dotted key, what was expected and what was
given (``c.toml: run.draws: must be >= 1, got 0``). Each section is declared once
(:mod:`uncertain_cost.config.schema`): ``[run]``, ``[data]``, ``[report]`` and
``[execution]`` here (:mod:`.sections`), ``[inputs]`` by :mod:`uncertain_cost.inputs`, the
stage sections by the packages that own them, which register their parsers with the config
layer (this package imports none of them). Scenario merging: :mod:`.scenarios`.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType, SimpleNamespace
from typing import TYPE_CHECKING, Any

from uncertain_cost.config.schema import MAX_DEPTH, check_depth, clip, show, shown_key, stage_parsers
from uncertain_cost.config.sections import DATA, EXECUTION, REPORT, RUN, DataSettings, RunSettings
from uncertain_cost.defaults import load_input_defaults, priors_dir
from uncertain_cost.errors import ConfigError

if TYPE_CHECKING:  # the inputs (numpy, distributions) are imported when a config is parsed, so that
    # ``import uncertain_cost`` (which declares the section owners here) stays light
    from uncertain_cost.inputs import InputSet

__all__ = ["Config", "RunSettings", "DataSettings", "StageSettings", "default_config", "load_config",
           "parse_config", "parse_stages", "parse_stage_settings", "SECTIONS"]

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
#: largest config file read (a real one is a few kilobytes)
MAX_CONFIG_BYTES = 10 * 2**20


class StageSettings(SimpleNamespace):
    """Every stage-owned section parsed by the package that owns it, by name.

    ``config.stages.selection`` (:class:`uncertain_cost.data.selection.SelectionRules`),
    ``.growth`` (:class:`uncertain_cost.growth.settings.GrowthSettings`, ``[growth]`` and
    ``[forecast]``), ``.sensitivity`` (:class:`uncertain_cost.sensitivity.settings.SensitivitySettings`),
    ``.development`` (:class:`uncertain_cost.devcost.DevelopmentSpec`), ``.correlations``.
    """


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


def _apply_overrides(raw: dict, overrides: Mapping[str, Any], source: str) -> None:
    for dotted, value in overrides.items():
        if not isinstance(dotted, str) or "." not in dotted:
            raise ConfigError(shown_key(dotted), "an override is a dotted key \"section.key\"", source)
        section, key = dotted.split(".", 1)
        if section not in SECTIONS:
            raise ConfigError(shown_key(section), f"unknown section; valid sections: {', '.join(SECTIONS)}", source)
        table = raw.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(section, f"expected a table [{section}], got {show(table)}", source)
        table[key] = value


def _data_settings(table: Mapping[str, Any], path: Path | None, overrides: Mapping[str, Any],
                   source: str) -> DataSettings:
    data_raw = DATA.check(table, source)
    folders = {}
    for key in ("epoch_dir", "tables_dir"):
        value = data_raw.get(key)
        if value is None:
            continue
        folder = Path(value).expanduser()
        if not folder.is_absolute() and path is not None and f"data.{key}" not in overrides:
            folder = path.parent / folder
        try:
            found = folder.is_dir()
        except (OSError, ValueError):  # a name too long for the file system, a NUL byte
            found = False
        if not found:
            raise ConfigError(f"data.{key}", f"folder not found: {clip(str(folder), 300)}", source)
        folders[key] = folder.resolve()
    if len(folders) == 2:
        raise ConfigError("data.tables_dir", "give either data.epoch_dir or data.tables_dir, not both", source)
    return DataSettings(**{**data_raw, **folders})


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
    if not isinstance(raw, Mapping):
        raise ConfigError("config", f"expected a table of sections, got {show(raw)}", source)
    overrides = dict(overrides or {})
    deep = check_depth(raw) or check_depth(overrides)
    if deep:
        raise ConfigError("config", f"tables and arrays nested more than {MAX_DEPTH} levels deep", source)
    unknown = [k for k in raw if k not in SECTIONS]
    if unknown:
        raise ConfigError(shown_key(unknown[0]), f"unknown section; valid sections: {', '.join(SECTIONS)}", source)
    given = MappingProxyType(dict(raw))
    raw = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in raw.items()}
    _apply_overrides(raw, overrides, source)
    run = RunSettings(**RUN.check(raw.get("run", {}), source))
    data = _data_settings(raw.get("data", {}), path, overrides, source)
    inputs_raw = raw.get("inputs", {})
    if not isinstance(inputs_raw, dict):
        raise ConfigError("inputs", f"expected a table [inputs], got {show(inputs_raw)}", source)
    from uncertain_cost.inputs import parse_inputs

    inputs = parse_inputs(
        load_input_defaults(), inputs_raw,
        defaults_source=str(priors_dir() / "inputs.toml"), source=source,
        base_dir=path.parent if path is not None else None, defaults_dir=priors_dir(),
    )
    sections = {"inputs": inputs_raw}  # for the parsers that read it (the utilization of data.impute = "all")
    for name in ("selection", "growth", "forecast", "sensitivity", "development", "report", "scenarios",
                 "execution", "correlations"):
        table = raw.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(name, f"expected a table [{name}], got {show(table)}", source)
        sections[name] = table
    REPORT.check(sections["report"], source)
    EXECUTION.check(sections["execution"], source)
    stages = parse_stages(sections, source, path, inputs, run, data)
    inputs = replace(inputs, correlations=getattr(stages, "correlations", None))
    utilization = getattr(stages, "utilization", None)
    if utilization is not None:  # [data] impute = "all": the utilization fitted on disclosed runs
        inputs = inputs.replace("utilization", distribution=utilization[0], source_note=utilization[1])
    del sections["correlations"], sections["inputs"]
    if sha256 is None:
        hashed = {k: v for k, v in raw.items() if k != "execution"}  # where it runs never changes results
        sha256 = hashlib.sha256(repr(sorted(hashed.items(), key=lambda kv: kv[0])).encode()).hexdigest()
    return Config(path, sha256, run, data, inputs, MappingProxyType(sections), stages=stages, raw=given,
                  overrides=MappingProxyType(overrides))


def parse_stages(sections: Mapping[str, Mapping], source: str, path: Path | None = None,
                 inputs: InputSet | None = None, run: RunSettings | None = None,
                 data: DataSettings | None = None) -> StageSettings:
    """Parse the stage-owned sections with the parsers their packages registered.

    Parameters
    ----------
    sections : mapping
        Raw tables by section name ({} for an absent section).
    source : str
        Config file name for messages.
    path : pathlib.Path, optional
        The config file.
    inputs : InputSet, optional
        The parsed inputs (``[correlations]`` refers to them).
    run, data : RunSettings, DataSettings, optional
        The parsed ``[run]`` and ``[data]`` (rules across sections: the growth fit's draws,
        a frozen frontier list in the snapshot folder).

    Returns
    -------
    StageSettings

    Raises
    ------
    ConfigError
        Naming the file and dotted key of the first mistake.
    """
    context = SimpleNamespace(source=source, path=path, inputs=inputs, run=run, data=data)
    parsed = {}
    for parser in stage_parsers():
        tables = {name: dict(sections.get(name, {})) for name in parser.sections}
        parsed[parser.attr] = parser.parse(tables, context)
    return StageSettings(**parsed)


#: the former name of :func:`parse_stages`
parse_stage_settings = parse_stages


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
    if not isinstance(path, str | Path):
        raise ConfigError("config", f"expected a path to a TOML file, got {show(path)}")
    if isinstance(path, str) and (not path or "\0" in path or len(path) > 4096):
        raise ConfigError("config", f"not a usable file name: {show(path)}")
    path = Path(path)
    name = clip(str(path), 300)
    try:
        if path.is_dir():
            raise ConfigError("config", "is a folder, not a TOML config file", name)
        if not path.is_file():
            what = "not a regular file" if path.exists() else "file not found"
            raise ConfigError("config", f"{what}: {name}", name)
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError("config", f"is {path.stat().st_size:,} bytes; a config file is at most "
                                        f"{MAX_CONFIG_BYTES:,}", name)
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError("config", f"cannot read it: {exc.strerror or exc}", name) from None
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(b"\xef\xbb\xbf"):
        raise ConfigError("config", "starts with a byte-order mark (BOM); save it as UTF-8 without BOM", name)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError("config", f"line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); TOML files "
                                    "must be UTF-8", name) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", f"invalid TOML: {clip(str(exc))}", name) from None
    except RecursionError:
        raise ConfigError("config", f"invalid TOML: tables or arrays nested too deeply (at most {MAX_DEPTH} "
                                    "levels)", name) from None
    return parse_config(raw, path=path.resolve(), sha256=digest, overrides=overrides)
