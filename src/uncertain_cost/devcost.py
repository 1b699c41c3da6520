"""Full development cost: R&D staff plus the compute of all experiments (method.md section 7).

Cottier et al. (2024, arXiv:2405.21015) estimate, for a few well-documented models, the
whole cost of developing them rather than only the final training run::

    compute   = amortized components (chips, other server, interconnect, energy)
                * experiment_factor          (all compute / final-run compute)
    staff     = sum over contributors of (salary * overhead + equity) * FTE * project_years
    total     = staff + compute

This module parses the ``[development]`` config section (:func:`parse_development`), draws
the staff cost and the experiment factor, multiplies the main run's per-draw amortized
components by the experiment factor (:func:`development_cost`) and summarizes, labels and
plots the result (:class:`DevCostResult`, :func:`plot_devcost`).

What differs from the paper (each on purpose, see ``docs/devcost.md``):

- every contributor's salary, overhead, equity and FTE are drawn independently for every
  draw and summed exactly (the paper drew equity once per contributor and reused it in
  every sample for GPT-3, OPT-175B and GPT-4, which understated the uncertainty);
- the compute components are the engine's own correlated draws times an experiment-factor
  draw, not a lognormal fitted to three percentiles of each component separately;
- totals and shares are distributions of per-draw sums; the paper's figure (the sum of the
  component medians) is reported next to them for comparison.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from uncertain_cost.distributions import Distribution, from_spec
from uncertain_cost.errors import ConfigError, UncertainCostWarning
from uncertain_cost.units import (
    COMPONENTS,
    DAYS_PER_YEAR,
    DIM_COMPONENT,
    DIM_DRAW,
    DIM_MODEL,
)

__all__ = [
    "DEV_COMPONENTS",
    "DIM_ROLE",
    "DevInput",
    "RoleSpec",
    "ModelDevSpec",
    "DevelopmentSpec",
    "DevCostResult",
    "default_priors_path",
    "load_development_defaults",
    "parse_development",
    "staff_cost_at_central",
    "development_cost",
    "plot_devcost",
]

#: components of the development cost, in output order (``COMPONENTS`` are the compute ones)
DEV_COMPONENTS = ("staff", *COMPONENTS, "total")
#: dimension of the per-role staff cost in :meth:`DevCostResult.to_dataset`
DIM_ROLE = "role"

#: keys of ``[development]`` itself; any other key names a model
GLOBAL_KEYS = ("models", "equity", "salary", "overhead", "fte", "experiment_factor",
               "experiment_factor_scope")
#: keys of a model table
MODEL_KEYS = ("contributors", "roles", "salary", "overhead", "equity", "fte", "project_days",
              "project_months", "project_years", "experiment_factor", "source")
#: keys of a role table
ROLE_KEYS = ("count", "salary", "overhead", "equity", "fte", "source")
#: project duration keys and the factor that turns each into years
DURATION_KEYS = {"project_days": 1.0 / DAYS_PER_YEAR, "project_months": 1.0 / 12.0,
                 "project_years": 1.0}
SCOPES = ("per_model", "shared")
#: name of the single role of a model given as ``contributors = N``
DEFAULT_ROLE = "all"

# Equity switches (``equity = true/false``) are kept apart from equity distributions while
# defaults and user values are merged, under a key no TOML file can produce.
_EQUITY_ON = ("equity", "enabled")
# Contributor draws are made in blocks of about this many values per input (32 MB for the
# four inputs); the block height depends only on the role's head count, so results do not
# depend on memory or chunking.
_BLOCK_VALUES = 1 << 20
# Family keys of a distribution table (a misspelled global setting looks like this).
_DIST_HINT_KEYS = {"dist", "ci90", "ci", "median", "mean", "value", "values", "low", "high"}
_SEED_DOMAIN = "uncertain_cost.devcost"


# --------------------------------------------------------------------------------------------
# spec


@dataclass(frozen=True)
class DevInput:
    """One resolved input distribution with its provenance.

    Attributes
    ----------
    key : str
        Dotted config key the value was resolved from (a role inherits e.g.
        ``development.salary``).
    distribution : Distribution
        In the unit of the key (months for ``project_months``).
    scale : float
        Factor to the model's unit (years for durations, 1 otherwise).
    source_note : str
        The ``source`` note of the table, if any.
    origin : str or None
        File the value came from.
    """

    key: str
    distribution: Distribution
    scale: float = 1.0
    source_note: str = ""
    origin: str | None = None

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        """Draw ``size`` values with ``rng``, in model units."""
        out = np.asarray(self.distribution.sample(rng, size), dtype=np.float64)
        if self.scale != 1.0:
            out = out * self.scale
        return out

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF in model units."""
        return np.asarray(self.distribution.ppf(u), dtype=np.float64) * self.scale

    @property
    def central(self) -> float:
        """Central value (the distribution's ``point`` or median) in model units."""
        return float(self.distribution.central) * self.scale

    def median(self) -> float:
        """Median in model units."""
        return float(self.distribution.median()) * self.scale

    def mean(self) -> float:
        """Mean in model units."""
        return float(self.distribution.mean()) * self.scale


@dataclass(frozen=True)
class RoleSpec:
    """A group of contributors with common distributions (drawn iid per contributor).

    Attributes
    ----------
    name : str
    count : int
        Number of contributors in the role (0 is allowed and contributes nothing).
    salary, overhead, fte : DevInput
        Base salary (USD/yr), multiplier for benefits and taxes, share of a full-time year.
    equity : DevInput or None
        Yearly equity (USD/yr); None when equity is switched off for this role.
    """

    name: str
    count: int
    salary: DevInput
    overhead: DevInput
    fte: DevInput
    equity: DevInput | None


@dataclass(frozen=True)
class ModelDevSpec:
    """The development-cost inputs of one model.

    Attributes
    ----------
    name : str
        Model name as in the frontier table (column ``System``).
    roles : tuple of RoleSpec
    project_years : DevInput
        Project duration in years.
    experiment_factor : DevInput
        All compute / final-run compute.
    source_note : str
    """

    name: str
    roles: tuple[RoleSpec, ...]
    project_years: DevInput
    experiment_factor: DevInput
    source_note: str = ""

    @property
    def contributors(self) -> int:
        """Total head count over roles."""
        return sum(r.count for r in self.roles)

    @property
    def equity_included(self) -> bool:
        """True when any role counts equity."""
        return any(r.equity is not None and r.count > 0 for r in self.roles)


@dataclass(frozen=True)
class DevelopmentSpec:
    """The parsed ``[development]`` section.

    Attributes
    ----------
    models : tuple of ModelDevSpec
        Every defined model (defaults first, then models the config adds).
    selected : tuple of str
        Models to cost: the config's ``models`` list, else all defined models.
    models_explicit : bool
        True when the config listed ``models`` (then a model without compute components is
        an error; otherwise it is skipped with a warning).
    experiment_factor_scope : {"per_model", "shared"}
        ``per_model``: an independent experiment-factor draw per model; ``shared``: one
        quantile per draw for every model (comonotonic when models differ in distribution).
    source : str or None
        Config file name.
    """

    models: tuple[ModelDevSpec, ...]
    selected: tuple[str, ...]
    models_explicit: bool = False
    experiment_factor_scope: str = "per_model"
    source: str | None = None

    def __getitem__(self, name: str) -> ModelDevSpec:
        for model in self.models:
            if model.name == name:
                return model
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """Names of every defined model."""
        return tuple(m.name for m in self.models)

    def describe(self) -> list[dict[str, Any]]:
        """List the resolved inputs, one row per model, role and input (for ``validate``).

        Returns
        -------
        list of dict
            Keys ``model, role, count, input, key, distribution, central, source``.
        """
        rows: list[dict[str, Any]] = []

        def add(model: str, role: str, count: int | None, name: str, inp: DevInput | None):
            rows.append({
                "model": model, "role": role, "count": count, "input": name,
                "key": inp.key if inp else "",
                "distribution": repr(inp.distribution) if inp else "off",
                "central": inp.central if inp else 0.0,
                "source": inp.source_note if inp else "",
            })

        for m in self.models:
            add(m.name, "", None, "project_years", m.project_years)
            add(m.name, "", None, "experiment_factor", m.experiment_factor)
            for r in m.roles:
                for name in ("salary", "overhead", "equity", "fte"):
                    add(m.name, r.name, r.count, name, getattr(r, name))
        return rows


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
    with path.open("rb") as handle:
        try:
            data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("development", f"invalid TOML: {exc}", str(path)) from None
    section = data.get("development", {})
    if not isinstance(section, dict):
        raise ConfigError("development", "expected a table", str(path))
    return section


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
            note = value.pop("source", "")
            if not isinstance(note, str):
                raise ConfigError(f"{key}.source", f"expected a text note, got {note!r}", where)
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(
                key, f"expected a number or a distribution table, got {value!r}", where)
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
        scope = merged.get("experiment_factor_scope", "per_model")
        if scope not in SCOPES:
            raise self.error(("experiment_factor_scope",),
                             f"expected one of {', '.join(SCOPES)}, got {scope!r}")
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
            selected = merged["models"]
            if not isinstance(selected, list) or not all(isinstance(s, str) for s in selected):
                raise self.error(("models",), f"expected a list of model names, got {selected!r}")
            for s in selected:
                if s not in names:
                    close = difflib.get_close_matches(s, names, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    raise self.error(("models",), f"{s!r} has no [development] table{hint};"
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
        note = table.get("source", "")
        if not isinstance(note, str):
            raise self.error((name, "source"), f"expected a text note, got {note!r}")

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
            total = table["contributors"]
            if isinstance(total, bool) or not isinstance(total, int) or total < 0:
                raise self.error((name, "contributors"),
                                 f"expected a whole number >= 0, got {total!r}")
        if not has_roles:
            return (self.role(name, DEFAULT_ROLE, {"count": total}, model_switch, inline=True),)
        roles_table = table["roles"]
        if not isinstance(roles_table, dict) or not roles_table:
            raise self.error((name, "roles"), f"expected a table of roles, got {roles_table!r}")
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
            raise self.error(path, f"expected a role table with count, got {table!r}")
        if not inline:
            self.check_keys(path, table, ROLE_KEYS)
            if "count" not in table:
                raise self.error(path, "missing count (number of contributors in the role)")
        count = table["count"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise self.error((*path, "count"), f"expected a whole number >= 0, got {count!r}")
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
        raise ConfigError("development", f"expected a table, got {section!r}", source)
    if not isinstance(defaults, Mapping):
        raise ConfigError("development", f"expected a table, got {defaults!r}", defaults_source)
    section = dict(section)
    enabled = section.pop("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError("development.enabled", f"expected true or false, got {enabled!r}", source)
    user = _normalize(section)
    merged = _merge(_normalize(defaults), user)
    spec = _Parser(merged, user, source, defaults_source).parse()
    return spec if enabled else replace(spec, selected=())


# --------------------------------------------------------------------------------------------
# sampling


def _root_seed(seed: int | np.random.SeedSequence | None) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None or (isinstance(seed, int | np.integer) and not isinstance(seed, bool)):
        return np.random.SeedSequence(None if seed is None else int(seed))
    raise TypeError(f"seed must be an int, a numpy.random.SeedSequence or None, got {seed!r}")


def _stable_word(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "little")


def _child(root: np.random.SeedSequence, *names: str) -> np.random.Generator:
    """Return a generator keyed by names (independent of the order streams are made in)."""
    key = tuple(_stable_word(n) for n in (_SEED_DOMAIN, *names))
    seq = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, *key),
                                 pool_size=root.pool_size)
    return np.random.default_rng(seq)


def _role_annual_cost(role: RoleSpec, n_draws: int, root: np.random.SeedSequence,
                      model: str) -> np.ndarray:
    """Per-draw yearly cost of a role: sum over its contributors, every value drawn."""
    out = np.zeros(n_draws)
    k = role.count
    if k == 0 or n_draws == 0:
        return out
    rng = {name: _child(root, "staff", model, role.name, name)
           for name in ("salary", "overhead", "equity", "fte")}
    rows = max(1, _BLOCK_VALUES // k)
    for start in range(0, n_draws, rows):
        b = min(rows, n_draws - start)
        pay = role.salary.sample(rng["salary"], (b, k))
        pay *= role.overhead.sample(rng["overhead"], (b, k))
        if role.equity is not None:
            pay += role.equity.sample(rng["equity"], (b, k))
        pay *= role.fte.sample(rng["fte"], (b, k))
        out[start:start + b] = pay.sum(axis=1)
    return out


def staff_cost_at_central(model: ModelDevSpec, deflator: float = 1.0) -> float:
    """Staff cost with every input at its central value (the paper's point formula).

    ``sum_roles count * (salary * overhead + equity) * fte * project_years * deflator``,
    each input at its ``point`` if stated, else its median.

    Parameters
    ----------
    model : ModelDevSpec
    deflator : float, default 1
        Multiplier to reference-month USD.

    Returns
    -------
    float
    """
    per_year = 0.0
    for r in model.roles:
        equity = r.equity.central if r.equity is not None else 0.0
        per_year += r.count * (r.salary.central * r.overhead.central + equity) * r.fte.central
    return per_year * model.project_years.central * deflator


def _check_components(name: str, value: Any) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != len(COMPONENTS):
        raise ValueError(f"components of {name!r} must have shape (n_draws, {len(COMPONENTS)})"
                         f" with columns {COMPONENTS}, got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"components of {name!r} must be finite and non-negative")
    return arr


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr


def development_cost(
    spec: DevelopmentSpec,
    components_by_model: Mapping[str, np.ndarray],
    seed: int | np.random.SeedSequence | None,
    *,
    staff_deflator: Mapping[str, float] | None = None,
) -> DevCostResult:
    """Draw the full development cost of every selected model.

    Parameters
    ----------
    spec : DevelopmentSpec
        From :func:`parse_development`.
    components_by_model : mapping of str to ndarray, shape (n_draws, 4)
        Per-model draws of the amortized final-run cost components in reference-month USD,
        columns ``chips, other_server, interconnect, energy`` (the main run's draws). Models
        not in ``spec.selected`` are ignored. Every array must have the same ``n_draws``.
    seed : int, numpy.random.SeedSequence or None
        Root of every random stream. Streams are keyed by model, role and input name, so a
        model's draws do not depend on which other models are costed or in which order.
    staff_deflator : mapping of str to float, optional
        Per-model multiplier applied to the staff cost (default 1: salary figures taken as
        reference-month USD). The paper applied PPI(ref)/PPI(publication) to staff costs
        too; pass the models' deflators to reproduce that.

    Returns
    -------
    DevCostResult

    Raises
    ------
    ConfigError
        A model listed in ``[development] models`` has no compute components.
    ValueError
        Malformed component arrays.

    Warns
    -----
    UncertainCostWarning
        A model defined (not listed) in ``[development]`` has no compute components; it is
        skipped.
    """
    root = _root_seed(seed)
    available = list(components_by_model)
    chosen: list[str] = []
    for name in spec.selected:
        if name in components_by_model:
            chosen.append(name)
            continue
        close = difflib.get_close_matches(name, available, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        message = f"no compute components for {name!r} (not costed by the amortized method){hint}"
        if spec.models_explicit:
            raise ConfigError("development.models", message, spec.source)
        warnings.warn(f"development cost: {message}; skipped", UncertainCostWarning, stacklevel=2)

    arrays = {name: _check_components(name, components_by_model[name]) for name in chosen}
    sizes = {a.shape[0] for a in arrays.values()}
    if len(sizes) > 1:
        raise ValueError(f"component arrays differ in n_draws: {sorted(sizes)}")
    n_draws = sizes.pop() if sizes else 0

    deflators = dict(staff_deflator or {})
    for name, value in deflators.items():
        if not (isinstance(value, int | float | np.floating) and math.isfinite(value)
                and value > 0):
            raise ValueError(f"staff_deflator[{name!r}] must be a positive number, got {value!r}")

    shared_u = None
    if spec.experiment_factor_scope == "shared":
        shared_u = _child(root, "experiment_factor").random(n_draws)

    costs, factors, years_by_model, by_role, central, equity = {}, {}, {}, {}, {}, {}
    for name in chosen:
        model = spec[name]
        deflator = float(deflators.get(name, 1.0))
        u = shared_u
        if u is None:
            u = _child(root, "experiment_factor", name).random(n_draws)
        factor = model.experiment_factor.ppf(u)
        years = model.project_years.sample(_child(root, "project_duration", name), n_draws)
        roles = {}
        for role in model.roles:
            annual = _role_annual_cost(role, n_draws, root, name)
            roles[role.name] = _frozen(annual * years * deflator)
        staff = np.sum(list(roles.values()), axis=0) if roles else np.zeros(n_draws)
        compute = arrays[name] * factor[:, None]
        per = {"staff": staff}
        for j, comp in enumerate(COMPONENTS):
            per[comp] = compute[:, j].copy()
        per["total"] = staff + compute.sum(axis=1)
        costs[name] = MappingProxyType({k: _frozen(v) for k, v in per.items()})
        factors[name] = _frozen(factor)
        years_by_model[name] = _frozen(years)
        by_role[name] = MappingProxyType(roles)
        central[name] = staff_cost_at_central(model, deflator)
        equity[name] = model.equity_included

    return DevCostResult(
        models=tuple(chosen),
        costs=MappingProxyType(costs),
        experiment_factor=MappingProxyType(factors),
        project_years=MappingProxyType(years_by_model),
        staff_by_role=MappingProxyType(by_role),
        staff_at_central=MappingProxyType(central),
        equity_included=MappingProxyType(equity),
        n_draws=n_draws,
        seed_entropy=str(root.entropy),
        seed_spawn_key=tuple(int(k) for k in root.spawn_key),
        experiment_factor_scope=spec.experiment_factor_scope,
    )


# --------------------------------------------------------------------------------------------
# result


@dataclass(frozen=True)
class DevCostResult:
    """Per-draw development costs of the costed models.

    Attributes
    ----------
    models : tuple of str
    costs : mapping model -> component -> ndarray (n_draws,)
        Components ``staff, chips, other_server, interconnect, energy, total`` in
        reference-month USD (compute components already times the experiment factor);
        ``total`` is the per-draw sum. Arrays are read-only.
    experiment_factor, project_years : mapping model -> ndarray (n_draws,)
    staff_by_role : mapping model -> role -> ndarray (n_draws,)
        Staff cost per role (sums to ``costs[model]["staff"]``).
    staff_at_central : mapping model -> float
        Staff cost with every input at its central value.
    equity_included : mapping model -> bool
    n_draws : int
    seed_entropy : str
    seed_spawn_key : tuple of int
    experiment_factor_scope : str
    """

    models: tuple[str, ...]
    costs: Mapping[str, Mapping[str, np.ndarray]]
    experiment_factor: Mapping[str, np.ndarray]
    project_years: Mapping[str, np.ndarray]
    staff_by_role: Mapping[str, Mapping[str, np.ndarray]]
    staff_at_central: Mapping[str, float]
    equity_included: Mapping[str, bool]
    n_draws: int
    seed_entropy: str = ""
    seed_spawn_key: tuple[int, ...] = ()
    experiment_factor_scope: str = "per_model"
    components: tuple[str, ...] = field(default=DEV_COMPONENTS)

    def array(self, model: str) -> np.ndarray:
        """Draws of one model as an array of shape (n_draws, 6), columns ``components``."""
        return np.column_stack([self.costs[model][c] for c in self.components])

    def shares(self, model: str) -> dict[str, np.ndarray]:
        """Per-draw share of the total of each component (``total`` is 1)."""
        total = self.costs[model]["total"]
        with np.errstate(invalid="ignore", divide="ignore"):
            return {c: self.costs[model][c] / total for c in self.components}

    def paper_style(self, model: str) -> dict[str, float]:
        """Return the paper's summary: component medians, and their sum as ``total``."""
        med = {c: float(np.median(self.costs[model][c])) for c in self.components[:-1]}
        med["total"] = float(sum(med.values()))
        return med

    def table(self) -> list[dict[str, Any]]:
        """Summary rows, one per model and component.

        Returns
        -------
        list of dict
            Keys ``model, component, median_usd, mean_usd, p5_usd, p95_usd, share_median``
            (median of the per-draw share of the total), ``paper_style_usd`` (component
            median; for ``total`` the paper's sum of component medians) and
            ``share_paper_style`` (component median / sum of component medians).
            ``pandas.DataFrame(result.table())`` gives a frame.
        """
        rows = []
        for model in self.models:
            shares = self.shares(model)
            paper = self.paper_style(model)
            for comp in self.components:
                draws = self.costs[model][comp]
                if draws.size:
                    p5, med, p95 = (float(v) for v in np.percentile(draws, [5, 50, 95]))
                    mean, share = float(draws.mean()), float(np.nanmedian(shares[comp]))
                else:
                    p5 = med = p95 = mean = share = math.nan
                rows.append({
                    "model": model,
                    "component": comp,
                    "median_usd": med,
                    "mean_usd": mean,
                    "p5_usd": p5,
                    "p95_usd": p95,
                    "share_median": share,
                    "paper_style_usd": paper[comp],
                    "share_paper_style": (paper[comp] / paper["total"]
                                          if paper["total"] else math.nan),
                })
        return rows

    def to_dataset(self):
        """Labelled draws as an :class:`xarray.Dataset` (for ``results.nc``).

        Returns
        -------
        xarray.Dataset
            ``development_cost`` (draw, model, component), ``experiment_factor`` and
            ``project_years`` (draw, model), ``staff_by_role`` (draw, model, role; NaN where
            a model has no such role), ``paper_style_usd`` (model, component),
            ``staff_at_central_usd`` and ``equity_included`` (model).
        """
        import xarray as xr

        n, models, comps = self.n_draws, list(self.models), list(self.components)
        cost = np.empty((n, len(models), len(comps)))
        for i, m in enumerate(models):
            cost[:, i, :] = self.array(m)
        roles = list(dict.fromkeys(r for m in models for r in self.staff_by_role[m]))
        by_role = np.full((n, len(models), len(roles)), np.nan)
        for i, m in enumerate(models):
            for j, r in enumerate(roles):
                if r in self.staff_by_role[m]:
                    by_role[:, i, j] = self.staff_by_role[m][r]
        usd = "USD (reference month)"
        paper = np.array([[self.paper_style(m)[c] for c in comps] for m in models]).reshape(
            len(models), len(comps))
        return xr.Dataset(
            {
                "development_cost": ((DIM_DRAW, DIM_MODEL, DIM_COMPONENT), cost, {
                    "units": usd,
                    "long_name": "full development cost (staff + experiment compute)"}),
                "experiment_factor": ((DIM_DRAW, DIM_MODEL), self._stack(self.experiment_factor), {
                    "units": "1", "long_name": "all compute / final-run compute"}),
                "project_years": ((DIM_DRAW, DIM_MODEL), self._stack(self.project_years), {
                    "units": "year", "long_name": "project duration"}),
                "staff_by_role": ((DIM_DRAW, DIM_MODEL, DIM_ROLE), by_role, {
                    "units": usd, "long_name": "R&D staff cost by contributor role"}),
                "paper_style_usd": ((DIM_MODEL, DIM_COMPONENT), paper, {
                    "units": usd,
                    "long_name": "component medians; total = sum of medians (paper)"}),
                "staff_at_central_usd": ((DIM_MODEL,), np.array(
                    [self.staff_at_central[m] for m in models], dtype=np.float64), {
                    "units": usd, "long_name": "staff cost with every input at its central value"}),
                "equity_included": ((DIM_MODEL,), np.array(
                    [self.equity_included[m] for m in models], dtype=bool)),
            },
            coords={DIM_DRAW: np.arange(n), DIM_MODEL: models, DIM_COMPONENT: comps,
                    DIM_ROLE: roles},
            attrs={
                "description": "full development cost, method.md section 7",
                "seed_entropy": self.seed_entropy,
                "seed_spawn_key": str(list(self.seed_spawn_key)),
                "experiment_factor_scope": self.experiment_factor_scope,
            },
        )

    def _stack(self, mapping: Mapping[str, np.ndarray]) -> np.ndarray:
        if not self.models:
            return np.empty((self.n_draws, 0))
        return np.column_stack([mapping[m] for m in self.models])


# --------------------------------------------------------------------------------------------
# plot

_COLORS = {"staff": "#4C72B0", "chips": "#DD8452", "other_server": "#55A868",
           "interconnect": "#C44E52", "energy": "#8172B3"}
_LABELS = {"staff": "R&D staff", "chips": "AI accelerator chips",
           "other_server": "other server components", "interconnect": "cluster interconnect",
           "energy": "energy"}


def plot_devcost(result: DevCostResult, *, title: str | None = None):
    """Stacked bars of the development cost by component, in USD and as shares.

    Left: component medians stacked (their top is the paper's sum of medians), with the
    median and 90% interval of the per-draw total as a black marker. Right: mean per-draw
    share of each component (means of shares sum to 100%).

    Parameters
    ----------
    result : DevCostResult
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Built without pyplot (no global state, no display backend needed).
    """
    from matplotlib.figure import Figure

    models = list(result.models)
    parts = DEV_COMPONENTS[:-1]
    fig = Figure(figsize=(max(7.0, 2.2 * len(models) + 3.0), 4.8), layout="constrained")
    ax_usd, ax_share = fig.subplots(1, 2)
    x = np.arange(len(models))
    bottom_usd = np.zeros(len(models))
    bottom_share = np.zeros(len(models))
    for comp in parts:
        med = np.array([np.median(result.costs[m][comp]) for m in models]) / 1e6
        share = np.array([np.nanmean(result.shares(m)[comp]) for m in models]) * 100
        ax_usd.bar(x, med, 0.6, bottom=bottom_usd, color=_COLORS[comp], label=_LABELS[comp])
        ax_share.bar(x, share, 0.6, bottom=bottom_share, color=_COLORS[comp])
        for xi, b, s in zip(x, bottom_share, share, strict=True):
            if s >= 6:
                ax_share.text(xi, b + s / 2, f"{s:.0f}%", ha="center", va="center", fontsize=8,
                              color="white")
        bottom_usd += med
        bottom_share += share
    if models:
        lo, mid, hi = (np.array([np.percentile(result.costs[m]["total"], q) for m in models]) / 1e6
                       for q in (5, 50, 95))
        ax_usd.errorbar(x + 0.38, mid, yerr=[mid - lo, hi - mid], fmt="o", color="black",
                        ms=4, capsize=3, label="total: median, 90% CI")
        for xi, top in zip(x, bottom_usd, strict=True):
            ax_usd.annotate(f"${top:.3g}M", (xi, top), xytext=(0, 2), textcoords="offset points",
                            ha="center", va="bottom", fontsize=8)
    for ax in (ax_usd, ax_share):
        ax.set_xticks(x, models, rotation=20, ha="right")
    ax_usd.set_ylabel("million USD (reference month)")
    ax_usd.set_title("component medians (stacked) and total")
    ax_share.set_ylabel("mean share of the per-draw total (%)")
    ax_share.set_ylim(0, 100)
    ax_share.set_title("share of development cost")
    ax_usd.legend(fontsize=8, loc="upper left")
    fig.suptitle(title or "Full development cost: R&D staff and experiment compute")
    return fig
