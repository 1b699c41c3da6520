"""The development-cost model as data: inputs, roles, models and the whole [development] spec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from uncertain_cost.distributions import Distribution
from uncertain_cost.units import COMPONENTS, DAYS_PER_YEAR

__all__ = ["DEV_COMPONENTS", "DIM_ROLE", "DevInput", "RoleSpec", "ModelDevSpec", "DevelopmentSpec"]

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
# Family keys of a distribution table (a misspelled global setting looks like this).
_DIST_HINT_KEYS = {"dist", "ci90", "ci", "median", "mean", "value", "values", "low", "high"}


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


