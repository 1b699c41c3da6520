"""Parse a config's [development] table, merged over the default priors, into a DevelopmentSpec."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from uncertain_cost.config.schema import Invalid, boolean, choice, integer, register_stage, show, string_list
from uncertain_cost.defaults import read_toml
from uncertain_cost.devcost.spec import (
    _DIST_HINT_KEYS,
    _EQUITY_ON,
    DEFAULT_ROLE,
    DURATION_KEYS,
    GLOBAL_KEYS,
    MODEL_KEYS,
    ROLE_KEYS,
    SCOPES,
    DevelopmentSpec,
    DevInput,
    ModelDevSpec,
    RoleSpec,
)
from uncertain_cost.distributions import from_spec
from uncertain_cost.errors import ConfigError

__all__ = ["default_priors_path", "load_development_defaults", "parse_development"]


def default_priors_path() -> Path:
    """Return the path of ``development.toml`` in the embedded priors folder.

    The folder is :func:`uncertain_cost.data.priors.priors_dir` (``$UNCERTAIN_COST_PRIORS``
    or ``<repo>/priors``).
    """
    from uncertain_cost.data.priors import priors_dir

    return priors_dir() / "development.toml"


def load_development_defaults(path: str | Path | None = None) -> dict[str, Any]:
    """Read the ``[development]`` table of a priors file.

    Parameters
    ----------
    path : str or Path, optional
        Defaults to :func:`default_priors_path`.

    Returns
    -------
    dict
    """
    path = Path(path) if path is not None else default_priors_path()
    if not path.is_file():
        raise ConfigError("development", f"priors file not found: {path}", str(path))
    data = read_toml(path, "development")
    section = data.get("development", {})
    if not isinstance(section, dict):
        raise ConfigError("development", "expected a table", str(path))
    return section


#: checkers of the ``[development]`` values that are not distributions (:mod:`uncertain_cost.config.schema`)
_COUNT = integer(0, 10_000_000)
_MODEL_NAMES = string_list(what="model names")


def _note(value: Any) -> str:
    """Check a ``source`` note: any text."""
    if not isinstance(value, str):
        raise Invalid(f"expected a text note, got {show(value)}")
    return value


def _key(*parts: str) -> str:
    """Dotted key, quoting parts that are not TOML bare keys."""
    return ".".join(p if re.fullmatch(r"[A-Za-z0-9_-]+", p) else f'"{p}"' for p in parts)


def _split_equity(table: Any) -> Any:
    """Copy of a config level with ``equity = <bool>`` moved to the switch key."""
    if not isinstance(table, dict):
        return table
    out = dict(table)
    if isinstance(out.get("equity"), bool):
        out[_EQUITY_ON] = out.pop("equity")
    return out


def _normalize(section: Mapping[str, Any]) -> dict[str, Any]:
    """Split equity switches at every level (global, model, role)."""
    out = _split_equity(dict(section))
    for name, value in list(out.items()):
        if name in GLOBAL_KEYS or name == _EQUITY_ON or not isinstance(value, dict):
            continue
        model = _split_equity(value)
        if isinstance(model.get("roles"), dict):
            model["roles"] = {r: _split_equity(t) for r, t in model["roles"].items()}
        out[name] = model
    return out


def _merge_model(default: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    """Merge a user model table over the default one.

    The team is replaced as a whole when the user gives ``contributors`` (drops default
    roles) or ``roles`` (drops the default ``contributors``; roles merge by name, each key
    of a role replacing the default's); any duration key drops the default duration.
    """
    merged = dict(default)
    if "contributors" in user:
        merged.pop("roles", None)
    if "roles" in user:
        merged.pop("contributors", None)
    if any(k in user for k in DURATION_KEYS):
        for k in DURATION_KEYS:
            merged.pop(k, None)
    for k, v in user.items():
        if k == "roles" and isinstance(v, dict) and isinstance(merged.get("roles"), dict):
            roles = dict(merged["roles"])
            for rname, rtable in v.items():
                base = roles.get(rname)
                roles[rname] = {**base, **rtable} if isinstance(base, dict) and isinstance(
                    rtable, dict) else rtable
            merged["roles"] = roles
        else:
            merged[k] = v
    return merged


def _merge(defaults: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for k, v in user.items():
        base = merged.get(k)
        is_model = k not in GLOBAL_KEYS and k != _EQUITY_ON
        if is_model and isinstance(v, dict) and isinstance(base, dict):
            merged[k] = _merge_model(base, v)
        else:
            merged[k] = v  # global settings and distributions replace whole
    return merged


def _has_path(table: Any, path: Sequence[Any]) -> bool:
    for part in path:
        if not isinstance(table, dict) or part not in table:
            return False
        table = table[part]
    return True


class _Parser:
    """Builds a :class:`DevelopmentSpec` from merged tables, knowing where each key came from."""

    def __init__(self, merged: dict, user: dict, source: str | None, defaults_source: str | None):
        self.merged, self.user = merged, user
        self.source, self.defaults_source = source, defaults_source

    def origin(self, *path: Any) -> str | None:
        return self.source if _has_path(self.user, path) else self.defaults_source

    def checked(self, path: Sequence[Any], check: Any, value: Any) -> Any:
        """Check ``value`` with a schema checker, as the error of ``path``."""
        try:
            return check(value)
        except Invalid as exc:
            raise self.error(path, exc.problem) from None

    def error(self, path: Sequence[Any], message: str) -> ConfigError:
        parts = [p if isinstance(p, str) else "equity" for p in path]
        return ConfigError(_key("development", *parts), message, self.origin(*path))

    # -- values --------------------------------------------------------------------------

    def dist(self, path: tuple, value: Any, scale: float = 1.0, *,
             positive: bool = False) -> DevInput:
        key = _key("development", *path)
        where = self.origin(*path)
        note = ""
        if isinstance(value, dict):
            value = dict(value)
            note = self.checked((*path, "source"), _note, value.pop("source", ""))
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(
                key, f"expected a number or a distribution table, got {show(value)}", where)
        dist = from_spec(value, key, where)
        lowest = float(dist.quantile(0.0))
        if lowest < 0 or math.isnan(lowest):
            raise ConfigError(
                key, f"values cannot be negative but this distribution reaches {lowest:g}; "
                "use a positive family (lognormal) or truncate it (low = ...)", where)
        if positive and float(dist.quantile(1.0)) <= 0:
            raise ConfigError(key, "must be positive", where)
        return DevInput(key, dist, scale, note, where)

    def inherited(self, name: str, levels: Sequence[tuple]) -> DevInput | None:
        """Most specific value of ``name`` among ``levels`` (paths, most specific first)."""
        for level in levels:
            table = self.merged
            for part in level:
                table = table[part]
            if name in table:
                return self.dist((*level, name), table[name])
        return None

    # -- structure -----------------------------------------------------------------------

    def check_keys(self, path: tuple, table: dict, valid: Sequence[str]) -> None:
        for k in table:
            if k == _EQUITY_ON:
                continue
            if k not in valid:
                raise self.error((*path, k), f"unknown key; valid keys: {', '.join(valid)}")

    def parse(self) -> DevelopmentSpec:
        merged = self.merged
        scope = self.checked(("experiment_factor_scope",), choice(*SCOPES),
                             merged.get("experiment_factor_scope", "per_model"))
        global_switch = merged.get(_EQUITY_ON)
        names = []
        for name, value in merged.items():
            if name in GLOBAL_KEYS or name == _EQUITY_ON:
                continue
            if not isinstance(value, dict):
                raise self.error((name,), "unknown setting; valid settings: "
                                 f"{', '.join(GLOBAL_KEYS)},"
                                 " or a model table such as [development.\"GPT-4\"]")
            if set(value) & _DIST_HINT_KEYS:
                raise self.error((name,), "unknown setting (this looks like a distribution, not a"
                                 f" model table); valid settings: {', '.join(GLOBAL_KEYS)}")
            names.append(name)
        models = tuple(self.model(name, global_switch) for name in names)

        explicit = "models" in merged
        if explicit:
            selected = self.checked(("models",), _MODEL_NAMES, merged["models"])
            for s in selected:
                if s not in names:
                    close = difflib.get_close_matches(s, names, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    raise self.error(("models",), f"{show(s)} has no [development] table{hint};"
                                     f" defined models: {', '.join(names)}")
            if len(set(selected)) != len(selected):
                raise self.error(("models",), f"lists a model twice: {selected!r}")
            selected = tuple(selected)
        else:
            selected = tuple(names)
        return DevelopmentSpec(models, selected, explicit, scope, self.source)

    def model(self, name: str, global_switch: bool | None) -> ModelDevSpec:
        table = self.merged[name]
        self.check_keys((name,), table, MODEL_KEYS)
        note = self.checked((name, "source"), _note, table.get("source", ""))

        durations = [k for k in DURATION_KEYS if k in table]
        if len(durations) != 1:
            what = "none" if not durations else ", ".join(durations)
            raise self.error((name,), "give exactly one of project_days, project_months,"
                             f" project_years (got {what})")
        dk = durations[0]
        years = self.dist((name, dk), table[dk], DURATION_KEYS[dk], positive=True)

        levels: list[tuple] = [(name,), ()]
        factor = self.inherited("experiment_factor", levels)
        if factor is None:
            raise self.error((name, "experiment_factor"), "no value here or in [development]")
        if float(factor.distribution.quantile(1.0)) <= 0:
            raise self.error((name, "experiment_factor"), "must be positive")

        model_switch = table.get(_EQUITY_ON, global_switch)
        roles = self.roles(name, table, model_switch)
        return ModelDevSpec(name, roles, years, factor, note)

    def roles(self, name: str, table: dict, model_switch: bool | None) -> tuple[RoleSpec, ...]:
        has_roles, has_count = "roles" in table, "contributors" in table
        if not has_roles and not has_count:
            raise self.error((name,), "give contributors = N or a roles table")
        total = None
        if has_count:
            total = self.checked((name, "contributors"), _COUNT, table["contributors"])
        if not has_roles:
            return (self.role(name, DEFAULT_ROLE, {"count": total}, model_switch, inline=True),)
        roles_table = table["roles"]
        if not isinstance(roles_table, dict) or not roles_table:
            raise self.error((name, "roles"), f"expected a table of roles, got {show(roles_table)}")
        roles = tuple(self.role(name, r, t, model_switch) for r, t in roles_table.items())
        counted = sum(r.count for r in roles)
        if total is not None and total != counted:
            raise self.error((name, "contributors"),
                             f"is {total} but the roles count {counted};"
                             " drop one or make them agree")
        if counted == 0:
            raise self.error((name, "roles"), "every role has count = 0")
        return roles

    def role(self, model: str, name: str, table: Any, model_switch: bool | None,
             *, inline: bool = False) -> RoleSpec:
        path = (model, "roles", name)
        if not isinstance(table, dict):
            raise self.error(path, f"expected a role table with count, got {show(table)}")
        if not inline:
            self.check_keys(path, table, ROLE_KEYS)
            if "count" not in table:
                raise self.error(path, "missing count (number of contributors in the role)")
        count = self.checked((*path, "count"), _COUNT, table["count"])
        levels: list[tuple] = ([] if inline else [path]) + [(model,), ()]
        values = {}
        for input_name in ("salary", "overhead", "fte"):
            value = self.inherited(input_name, levels)
            if value is None:
                raise self.error((*levels[0], input_name),
                                 "no value given here, for the model or in [development]")
            values[input_name] = value
        switch = table.get(_EQUITY_ON, model_switch) if not inline else model_switch
        equity = None
        if switch is None or switch:
            equity = self.inherited("equity", levels)
            if equity is None:
                raise self.error((*levels[0], "equity"), "equity is on but no distribution is given"
                                 " here, for the model or in [development] (or set equity = false)")
        return RoleSpec(name, count, values["salary"], values["overhead"], values["fte"], equity)


def parse_development(
    section: Mapping[str, Any] | None,
    source: str | None = None,
    *,
    defaults: Mapping[str, Any] | str | Path | None = None,
    defaults_source: str | None = None,
) -> DevelopmentSpec:
    """Parse a config's ``[development]`` table, merged over the default priors.

    Parameters
    ----------
    section : mapping or None
        The ``[development]`` table of a config (TOML already parsed).
    source : str, optional
        Config file name, for error messages.
    defaults : mapping, str or Path, optional
        The default ``[development]`` table, or a priors file to read it from. None reads
        ``priors/development.toml``; pass ``{}`` to use no defaults.
    defaults_source : str, optional
        Name of the defaults file for error messages (set automatically when read here).

    Returns
    -------
    DevelopmentSpec

    Raises
    ------
    ConfigError
        With the dotted key (``development."Gemini 1.0 Ultra".roles.core.fte``), what was
        expected and what was given; unknown keys list the valid ones.

    Notes
    -----
    Merging rules: global settings and distribution tables replace the default whole;
    model tables merge key by key; ``contributors`` or ``roles`` replace the default team
    (roles merge by name); any duration key replaces the default duration. Values are
    inherited role -> model -> ``[development]``. ``equity = false`` at any level switches
    equity off for everything below it unless a more specific level sets ``equity = true``;
    an equity table only sets the distribution.
    """
    if defaults is None or isinstance(defaults, str | Path):
        path = Path(defaults) if defaults is not None else default_priors_path()
        defaults = load_development_defaults(path)
        defaults_source = defaults_source or str(path)
    section = {} if section is None else section
    if not isinstance(section, Mapping):
        raise ConfigError("development", f"expected a table, got {show(section)}", source)
    if not isinstance(defaults, Mapping):
        raise ConfigError("development", f"expected a table, got {defaults!r}", defaults_source)
    section = dict(section)
    try:
        enabled = boolean(section.pop("enabled", True))
    except Invalid as exc:
        raise ConfigError("development.enabled", exc.problem, source) from None
    user = _normalize(section)
    merged = _merge(_normalize(defaults), user)
    spec = _Parser(merged, user, source, defaults_source).parse()
    return spec if enabled else replace(spec, selected=())




def _parse_section(tables: Mapping[str, Mapping], context: Any) -> DevelopmentSpec:
    return parse_development(tables["development"], context.source)


register_stage("development", ("development",), _parse_section, __name__)
