"""Sensitivity targets of a run: model costs, development-cost totals, the growth rate.

The generic layer (:mod:`.tornado`, :mod:`.sobol`) sees factors with ``name``, ``ppf`` and
``group``. Here each factor is one column of the engine's scoped layout (one per shared
input, one per chip for a per-chip input, one per model for a per-model input), grouped by
input name. Tornado bars and Sobol indices are reported per group, i.e. per input: swinging
``training_time`` moves the training time of every model of the target together, while a
Sobol design draws each model's column independently, as the Monte Carlo does.

With imputed hardware, every target that includes a model with several candidate chips also
has its factor ``hardware_choice[<model>]`` (group ``hardware_choice``, after the layout
columns): the uniform draw with which the engine picks the candidate
(:class:`HardwareChoice`), so the choice is a factor of the same model the engine draws
instead of being fixed at the most likely chip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from uncertain_cost.data.facts import ModelFacts, subset_facts
from uncertain_cost.inputs import InputSet
from uncertain_cost.sensitivity.settings import TORNADO_METHODS, SensitivitySettings

__all__ = ["SensitivitySettings", "Factor", "HardwareChoice", "hardware_choice_factors", "base_values",
           "cost_factors", "cost_target", "growth_target", "development_target", "TORNADO_COLUMNS",
           "TORNADO_METHODS", "SOBOL_COLUMNS"]

TORNADO_COLUMNS = ("target", "input", "group", "low_input", "high_input", "output_low", "output_high", "swing",
                   "base", "units", "method")
SOBOL_COLUMNS = ("target", "input", "s1", "s1_conf", "st", "st_conf")


@dataclass(frozen=True)
class Factor:
    """One column of the scoped layout as a sensitivity factor."""

    name: str
    group: str
    distribution: Any

    def ppf(self, u):
        """Inverse CDF of the input's distribution."""
        return self.distribution.ppf(u)


@dataclass(frozen=True, eq=False)
class HardwareChoice:
    """Which candidate chip a model with imputed hardware ran on, as the engine draws it.

    The factor's value is the uniform number ``u`` in [0, 1) of the engine's
    ``hardware_choice`` stream: the model takes candidate ``searchsorted(cumulative, u,
    side="right")`` (``cumulative``: the candidates' cumulative hardware weights; the cloud
    method uses ``cumulative_cloud``, the same ``u``), exactly as
    :func:`uncertain_cost.engine.simulate` picks it. Conditioning the factor on a range of
    ``u`` is conditioning on the candidates whose weight intervals it covers.

    Attributes
    ----------
    model : int
        Row of the imputed model in the target's facts.
    rows : numpy.ndarray of int
        Its candidate rows.
    cumulative, cumulative_cloud : numpy.ndarray
        Cumulative candidate weights (hardware, cloud), ending at 1.
    """

    model: int
    rows: np.ndarray
    cumulative: np.ndarray
    cumulative_cloud: np.ndarray
    is_constant = False

    def ppf(self, u):
        """Return the uniform draw itself (the model function makes the choice)."""
        return np.asarray(u, dtype=np.float64)

    def median(self) -> float:
        """Median of the uniform draw."""
        return 0.5

    @property
    def base(self) -> float:
        """``u`` at the middle of the most likely candidate's weight interval (the tornado base)."""
        weights = np.diff(self.cumulative, prepend=0.0)
        k = int(np.argmax(weights))
        return float(0.5 * (self.cumulative[k] - weights[k] + self.cumulative[k]))

    def pick(self, u: np.ndarray, method: str = "amortized") -> np.ndarray:
        """Candidate row chosen by each ``u`` for ``method``."""
        cumulative = self.cumulative_cloud if method == "cloud" else self.cumulative
        return self.rows[np.minimum(np.searchsorted(cumulative, u, side="right"), len(self.rows) - 1)]


def hardware_choice_factors(facts: ModelFacts, models: Sequence[int] | None = None) -> list[Factor]:
    """One ``hardware_choice[<model>]`` factor per model with imputed hardware (group ``hardware_choice``).

    Parameters
    ----------
    facts : ModelFacts
        With candidate rows (:func:`uncertain_cost.data.impute.resolve_with_imputation`).
    models : sequence of int, optional
        Only these model rows (default: every model with candidates).

    Returns
    -------
    list of Factor
        Empty when imputation is off; each factor's ``distribution`` is a :class:`HardwareChoice`.
        A model with a single candidate has no choice to make and no factor.
    """
    from uncertain_cost.data.facts import alternative_groups

    cloud = {model: cumulative for model, _, cumulative in alternative_groups(facts, "cloud")}
    wanted = None if models is None else set(int(m) for m in models)
    return [Factor(f"hardware_choice[{facts.names[model]}]", "hardware_choice",
                   HardwareChoice(model, rows, cumulative, cloud[model]))
            for model, rows, cumulative in alternative_groups(facts)
            if len(rows) > 1 and (wanted is None or model in wanted)]


def base_values(factors: Sequence[Factor]) -> list[float] | None:
    """Tornado base of each factor: its median, a hardware choice at its most likely candidate.

    Returns
    -------
    list of float or None
        None when no factor is a hardware choice (every base is then the median, as by default).
    """
    if not any(isinstance(f.distribution, HardwareChoice) for f in factors):
        return None
    return [f.distribution.base if isinstance(f.distribution, HardwareChoice) else float(f.ppf(np.asarray([0.5]))[0])
            for f in factors]


def _choose(costs, choices: Sequence[Factor], u: np.ndarray):
    """Give each imputed model the cost of the candidate its ``u`` picks, row by row (in place).

    The same rule as the engine (``engine._take_alternatives`` on ``_drawn_choices``): the
    amortized components and the acquisition cost follow the hardware weights, the cloud cost
    the cloud weights.
    """
    n = u.shape[0]
    at = np.arange(n)
    for j, factor in enumerate(choices):
        choice = factor.distribution
        chosen = choice.pick(u[:, j])
        costs.amortized[:, choice.model] = costs.amortized[at, chosen]
        costs.acquisition[:, choice.model] = costs.acquisition[at, chosen]
        costs.cloud[:, choice.model] = costs.cloud[at, choice.pick(u[:, j], "cloud")]
    return costs


def cost_factors(inputs: InputSet, facts: ModelFacts) -> tuple[list[Factor], np.ndarray, Any]:
    """Factors for every uncertain column of the layout, and the values of constant columns.

    Returns
    -------
    factors : list of Factor
    columns : ndarray of int
        Layout column of each factor.
    layout : Layout
    """
    from uncertain_cost.sampling.design import layout

    lay = layout(inputs, facts)
    used = set(np.unique(lay.column).tolist())
    factors, columns = [], []
    for spec, names in zip(lay.inputs, lay.column_names, strict=True):
        if spec.distribution.is_constant:
            continue
        for j, col in enumerate(names):
            if lay.offsets[spec.name] + j not in used:
                continue  # e.g. the price column of a chip no model here uses
            label = spec.name if col == "*" else f"{spec.name}[{col}]"
            factors.append(Factor(label, spec.name, spec.distribution))
            columns.append(lay.offsets[spec.name] + j)
    return factors, np.asarray(columns, dtype=np.int64), lay


def _full_values(lay, columns: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Design rows -> full layout rows (constant inputs at their median)."""
    values = np.empty((x.shape[0], lay.n_columns))
    for spec, names in zip(lay.inputs, lay.column_names, strict=True):
        start = lay.offsets[spec.name]
        values[:, start:start + len(names)] = spec.distribution.median()
    values[:, columns] = x
    return values


def cost_target(facts: ModelFacts, inputs: InputSet, models: Sequence[str], methods: Sequence[str],
                interconnect_fraction: float):
    """Factors and model function whose outputs are the costs of ``models`` x ``methods``.

    Returns
    -------
    factors : list of Factor
    f : callable
        ``f(X) -> Y`` of shape (n_rows, len(models) * len(methods)).
    names : list of str
        Target labels ``"<model> <method>"``.
    """
    from uncertain_cost.engine import column_costs, point_costs

    sub = subset_facts(facts, models)
    factors, columns, lay = cost_factors(inputs, sub)
    n_layout = len(factors)
    choices = hardware_choice_factors(sub, [sub.names.index(m) for m in models])
    factors += choices
    point = point_costs(sub, inputs, interconnect_fraction=interconnect_fraction)
    pairs = [(sub.names.index(m), method) for m in models for method in methods
             if np.isfinite(point.total(method)[0, sub.names.index(m)])]

    def f(x: np.ndarray) -> np.ndarray:
        costs = column_costs(sub, inputs, _full_values(lay, columns, x[:, :n_layout]),
                             interconnect_fraction=interconnect_fraction)
        _choose(costs, choices, x[:, n_layout:])
        return np.column_stack([costs.total(method)[:, i] for i, method in pairs])

    return factors, f, [f"{sub.names[i]} {method}" for i, method in pairs]


def growth_target(facts: ModelFacts, inputs: InputSet, interconnect_fraction: float, method: str = "amortized"):
    """Factors and model function whose output is the OLS growth factor (x per year).

    The frontier models costed by ``method`` at the central inputs are regressed,
    log10(cost) on publication year, for every row.
    """
    from uncertain_cost.engine import column_costs, point_costs

    point = point_costs(facts, inputs, interconnect_fraction=interconnect_fraction).total(method)[0]
    chosen = [facts.names[i] for i in np.flatnonzero(np.isfinite(point) & np.asarray(facts.is_frontier))]
    sub = subset_facts(facts, chosen)
    rows = np.array([sub.names.index(n) for n in chosen])
    years = np.asarray(sub.publication_year, dtype=np.float64)[rows]
    centred = years - years.mean()
    factors, columns, lay = cost_factors(inputs, sub)
    n_layout = len(factors)
    choices = hardware_choice_factors(sub, rows)
    factors += choices

    def f(x: np.ndarray) -> np.ndarray:
        costs = column_costs(sub, inputs, _full_values(lay, columns, x[:, :n_layout]),
                             interconnect_fraction=interconnect_fraction)
        _choose(costs, choices, x[:, n_layout:])
        y = np.log10(costs.total(method)[:, rows])
        slope = (y - y.mean(axis=1, keepdims=True)) @ centred / (centred @ centred)
        return 10.0 ** slope

    return factors, f, len(chosen)


@njit(cache=True)
def _staff_pay(x, salary, overhead, equity, fte, out):  # pragma: no cover - compiled
    """``out[r, j] = (x[r, salary+j] * x[r, overhead+j] + x[r, equity+j]) * x[r, fte+j]`` (no equity: ``equity < 0``).

    The development target's pay of one role in one pass over the rows. NumPy's form made three
    temporaries of rows x contributors per role and call, about 0.5 s of the default run's
    sensitivity step spent writing fresh memory; the operations and their rounding are the same
    (IEEE products and sums, no fused multiply-add without fastmath).
    """
    for r in range(out.shape[0]):
        for j in range(out.shape[1]):
            pay = x[r, salary + j] * x[r, overhead + j]
            if equity >= 0:
                pay = pay + x[r, equity + j]
            out[r, j] = pay * x[r, fte + j]


def development_target(facts: ModelFacts, inputs: InputSet, dev_model, interconnect_fraction: float):
    """Factors and model function whose output is one model's development-cost total.

    The same model as :func:`uncertain_cost.devcost.development_cost` draws: compute inputs
    are the engine's layout columns; every contributor's salary, overhead, equity and FTE is
    its own factor (drawn independently, as the engine draws them), grouped by kind across
    roles (``staff_salary`` conditions every contributor's salary), plus
    ``project_duration`` and ``experiment_factor``. Each row evaluates
    ``amortized(x) * experiment_factor + project_years * sum_contributors (salary * overhead
    + equity) * fte``.

    Parameters
    ----------
    facts : ModelFacts
    inputs : InputSet
    dev_model : uncertain_cost.devcost.ModelDevSpec
    interconnect_fraction : float

    Returns
    -------
    factors : list of Factor
    f : callable
    """
    from uncertain_cost.engine import column_costs

    sub = subset_facts(facts, [dev_model.name])
    factors, columns, lay = cost_factors(inputs, sub)
    n_layout = len(factors)
    choices = hardware_choice_factors(sub, [sub.names.index(dev_model.name)])
    factors += choices
    n_compute = len(factors)
    slots: list[tuple[slice, slice, slice | None, slice]] = []  # per role: columns by kind
    for role in dev_model.roles:
        if role.count == 0:
            continue
        cols = {}
        for kind in ("salary", "overhead", "equity", "fte"):
            dev_input = getattr(role, kind)
            if dev_input is None:
                cols[kind] = None
                continue
            cols[kind] = slice(len(factors), len(factors) + role.count)  # contiguous: views, no copies
            factors.extend(Factor(f"{kind}[{role.name}#{i}]", f"staff_{kind}", dev_input) for i in range(role.count))
        slots.append((cols["salary"], cols["overhead"], cols["equity"], cols["fte"]))
    factors.append(Factor("project_duration", "project_duration", dev_model.project_years))
    factors.append(Factor("experiment_factor", "experiment_factor", dev_model.experiment_factor))
    row = sub.names.index(dev_model.name)
    widest = max((role.count for role in dev_model.roles), default=0)
    scratch = [np.empty(0)]  # the pay of one role (rows x contributors), reused across roles and calls

    def f(x: np.ndarray) -> np.ndarray:
        values = _full_values(lay, columns, x[:, :n_layout])
        costs = column_costs(sub, inputs, values, interconnect_fraction=interconnect_fraction)
        compute = _choose(costs, choices, x[:, n_layout:n_compute]).total("amortized")
        x = np.ascontiguousarray(x, dtype=np.float64)
        n = x.shape[0]
        if scratch[0].size < n * widest:
            scratch[0] = np.empty(n * widest)
        annual = np.zeros(n)
        for salary, overhead, equity, fte in slots:
            pay = scratch[0][: n * (salary.stop - salary.start)].reshape(n, -1)
            _staff_pay(x, salary.start, overhead.start, -1 if equity is None else equity.start, fte.start, pay)
            annual += pay.sum(axis=1)  # NumPy's pairwise sum of each row, as before
        return compute[:, row] * x[:, -1] + annual * x[:, -2]

    return factors, f
