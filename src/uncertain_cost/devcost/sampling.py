"""Draw the staff cost and experiment factor and combine them with the engine's compute draws."""

from __future__ import annotations

import difflib
import hashlib
import math
import warnings
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from uncertain_cost.devcost.result import DevCostResult
from uncertain_cost.devcost.spec import DevelopmentSpec, ModelDevSpec, RoleSpec
from uncertain_cost.errors import ConfigError, UncertainCostWarning
from uncertain_cost.units import COMPONENTS

__all__ = ["development_cost", "staff_cost_at_central"]

# Contributor draws are made in blocks of about this many values per input (32 MB for the
# four inputs); the block height depends only on the role's head count, so results do not
# depend on memory or chunking.
_BLOCK_VALUES = 1 << 20
_SEED_DOMAIN = "uncertain_cost.devcost"


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


def _chosen(spec: DevelopmentSpec, components_by_model: Mapping[str, np.ndarray]) -> list[str]:
    """Return the selected models with compute components (a listed one without: error; a defined one: warning)."""
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
        warnings.warn(f"development cost: {message}; skipped", UncertainCostWarning, stacklevel=3)
    return chosen


def _model_draws(model, name: str, components: np.ndarray, n_draws: int, root, deflator: float, shared_u):
    """Draw one model: (cost by part, experiment factor, project years, staff cost by role)."""
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
    compute = components * factor[:, None]
    per = {"staff": staff}
    for j, comp in enumerate(COMPONENTS):
        per[comp] = compute[:, j].copy()
    per["total"] = staff + compute.sum(axis=1)
    return per, factor, years, roles


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
    chosen = _chosen(spec, components_by_model)
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
        per, factor, years, roles = _model_draws(model, name, arrays[name], n_draws, root, deflator, shared_u)
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


