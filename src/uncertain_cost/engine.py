"""Carry input distributions through the cost equations for every model.

:func:`simulate` walks the draws block by block (bounded memory), keeps the first
``keep_draws`` joint draws with their components, and the per-method totals of all draws
for exact summary statistics. :func:`point_costs` and :func:`scenario_costs` evaluate
deterministic rows through the same compiled kernel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from uncertain_cost.costs import DEFAULT_INTERCONNECT_FRACTION, costs_into, costs_numba, fact_arrays
from uncertain_cost.data.facts import ModelFacts, alternative_groups
from uncertain_cost.inputs import InputSet
from uncertain_cost.sampling.design import BLOCK_DRAWS, constant_rows, draw_block, layout, stable_key

__all__ = ["CostArrays", "Simulation", "simulate", "point_costs", "scenario_costs", "column_costs"]

#: memory budget (bytes) for the per-method totals of all draws, above which they are float32
TOTALS_FLOAT64_BUDGET = 600 * 2**20


@dataclass(frozen=True)
class CostArrays:
    """Costs of some rows (draws or scenarios) in reference-month USD.

    Attributes
    ----------
    amortized : ndarray, shape (n_rows, n_models, 4)
        Components chips, other_server, interconnect, energy.
    cloud, acquisition : ndarray, shape (n_rows, n_models)
    """

    amortized: np.ndarray
    cloud: np.ndarray
    acquisition: np.ndarray

    def total(self, method: str) -> np.ndarray:
        """Total cost per row and model for ``method``."""
        if method == "amortized":
            return self.amortized.sum(axis=-1)
        return getattr(self, method)


@dataclass(frozen=True)
class Simulation:
    """Result of :func:`simulate`.

    Attributes
    ----------
    kept : CostArrays
        The first ``n_kept`` joint draws (all models in the same draw share shared inputs).
    totals : dict of str to ndarray, shape (n_draws, n_models)
        Per-method totals of all draws (float32 when they would exceed the memory budget).
    point : CostArrays
        One row: every input at its central value.
    n_draws, seed : int
    """

    kept: CostArrays
    totals: Mapping[str, np.ndarray]
    point: CostArrays
    n_draws: int
    seed: int


def _add_base(costs: tuple[np.ndarray, ...], base_index: np.ndarray, deflator: np.ndarray) -> None:
    """Add each fine-tune's base-model cost (same row) in place (paper v1 rule).

    As the paper did, the base model's nominal cost is added to the fine-tune's and the sum
    is deflated by the fine-tune's publication month.
    """
    pairs = [(i, b, deflator[i] / deflator[b]) for i, b in enumerate(base_index) if b >= 0]
    for array in costs:
        for i, b, ratio in pairs:
            array[:, i] += array[:, b] * ratio


def _take_alternatives(costs: tuple[np.ndarray, ...], choices: list[tuple[int, np.ndarray]]) -> None:
    """Give each model with candidate hardware the cost of its chosen candidate, row by row."""
    for model, chosen in choices:
        for array in costs:
            n = array.shape[0]
            array[:, model] = array[np.arange(n), chosen[:n]]


def _modal_choices(facts: ModelFacts, n_rows: int) -> list[tuple[int, np.ndarray]]:
    """Deterministic evaluations use each model's most likely candidate hardware."""
    out = []
    for model, rows, cumulative in alternative_groups(facts):
        weights = np.diff(cumulative, prepend=0.0)
        out.append((model, np.full(n_rows, rows[int(np.argmax(weights))])))
    return out


def _drawn_choices(facts: ModelFacts, seed: int, block: int, n_rows: int) -> list[tuple[int, np.ndarray]]:
    """Candidate hardware drawn per draw, from a stream keyed by model name and block."""
    out = []
    for model, rows, cumulative in alternative_groups(facts):
        key = (stable_key("hardware_choice"), stable_key(facts.names[model]), block)
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))
        u = rng.random(BLOCK_DRAWS)[:n_rows]
        out.append((model, rows[np.minimum(np.searchsorted(cumulative, u, side="right"), len(rows) - 1)]))
    return out


def _evaluate(values, lay, arrays, facts, interconnect_fraction) -> CostArrays:
    amortized, cloud, acquisition = costs_numba(values, lay.column, arrays, interconnect_fraction)
    _add_base((amortized, cloud, acquisition), np.asarray(facts.base_index), np.asarray(facts.deflator))
    _take_alternatives((amortized, cloud, acquisition), _modal_choices(facts, values.shape[0]))
    return CostArrays(amortized, cloud, acquisition)


def point_costs(facts: ModelFacts, inputs: InputSet, *, interconnect_fraction: float = DEFAULT_INTERCONNECT_FRACTION,
                default: str = "central") -> CostArrays:
    """Costs with every input at its central value (the paper's point estimates).

    Parameters
    ----------
    facts : ModelFacts
    inputs : InputSet
    interconnect_fraction : float
    default : {"central", "median"}
        Central value: the stated point (paper) or the distribution median.

    Returns
    -------
    CostArrays
        One row.
    """
    lay = layout(inputs, facts)
    return _evaluate(constant_rows(lay, default=default), lay, fact_arrays(facts), facts, interconnect_fraction)


def scenario_costs(facts: ModelFacts, inputs: InputSet, rows: Mapping[str, np.ndarray], *,
                   interconnect_fraction: float = DEFAULT_INTERCONNECT_FRACTION,
                   default: str = "median") -> CostArrays:
    """Costs of deterministic scenarios, one per row of ``rows``.

    Parameters
    ----------
    facts : ModelFacts
    inputs : InputSet
    rows : mapping of str to ndarray of shape (n_rows,)
        Values of some inputs in each scenario (applied to every chip and model); the
        others are held at ``default``.
    interconnect_fraction : float
    default : {"median", "central"}

    Returns
    -------
    CostArrays
    """
    lay = layout(inputs, facts)
    values = constant_rows(lay, rows, default=default)
    return _evaluate(values, lay, fact_arrays(facts), facts, interconnect_fraction)


def column_costs(facts: ModelFacts, inputs: InputSet, values: np.ndarray, *,
                 interconnect_fraction: float = DEFAULT_INTERCONNECT_FRACTION) -> CostArrays:
    """Costs of rows given column by column in the scoped layout of ``inputs``.

    Unlike :func:`scenario_costs`, each per-chip or per-model column can take its own
    value (this is what a Sobol design over scoped draws needs).

    Parameters
    ----------
    facts : ModelFacts
    inputs : InputSet
    values : ndarray, shape (n_rows, layout(inputs, facts).n_columns)
    interconnect_fraction : float

    Returns
    -------
    CostArrays
    """
    lay = layout(inputs, facts)
    if values.shape[1] != lay.n_columns:
        raise ValueError(f"values has {values.shape[1]} columns, the layout {lay.n_columns}")
    return _evaluate(values, lay, fact_arrays(facts), facts, interconnect_fraction)


def simulate(
    facts: ModelFacts,
    inputs: InputSet,
    n_draws: int,
    seed: int,
    *,
    keep_draws: int = 10_000,
    chunk_blocks: int = 4,
    interconnect_fraction: float = DEFAULT_INTERCONNECT_FRACTION,
    progress: Callable[[int, int], None] | None = None,
) -> Simulation:
    """Monte Carlo of every model's cost under every method.

    Parameters
    ----------
    facts : ModelFacts
    inputs : InputSet
    n_draws : int
        Number of joint draws (>= 1).
    seed : int
        Root of all randomness (see :mod:`uncertain_cost.sampling.design`).
    keep_draws : int
        How many leading draws to keep with their components.
    chunk_blocks : int
        Random blocks of ``BLOCK_DRAWS`` evaluated per kernel call; changes memory and
        speed, never results.
    interconnect_fraction : float
    progress : callable, optional
        Called as ``progress(done_draws, n_draws)`` after each chunk.

    Returns
    -------
    Simulation
    """
    if n_draws < 1:
        raise ValueError("n_draws must be >= 1")
    lay = layout(inputs, facts)
    arrays = fact_arrays(facts)
    n_models = facts.n_models
    n_kept = min(keep_draws, n_draws)
    total_bytes = 3 * n_draws * n_models * 8
    dtype = np.float64 if total_bytes <= TOTALS_FLOAT64_BUDGET else np.float32
    totals = {m: np.empty((n_draws, n_models), dtype=dtype) for m in ("amortized", "cloud", "acquisition")}
    components = np.empty((n_kept, n_models, 4))
    base_index = np.asarray(facts.base_index)
    deflator = np.asarray(facts.deflator, dtype=np.float64)
    has_alternatives = bool(np.any(np.asarray(facts.alternative_of) >= 0))

    chunk_blocks = max(1, chunk_blocks)
    buffer = np.empty((min(n_draws, chunk_blocks * BLOCK_DRAWS), lay.n_columns))
    n_blocks = -(-n_draws // BLOCK_DRAWS)
    for first in range(0, n_blocks, chunk_blocks):
        start = first * BLOCK_DRAWS
        stop = min(n_draws, (first + chunk_blocks) * BLOCK_DRAWS)
        for b in range(first, min(first + chunk_blocks, n_blocks)):
            lo = b * BLOCK_DRAWS - start
            rows = min(BLOCK_DRAWS, n_draws - b * BLOCK_DRAWS)
            draw_block(lay, seed, b, rows, out=buffer[lo:lo + rows])
        keep = max(0, min(n_kept, stop) - start)
        outs = (components[start:start + keep], totals["amortized"][start:stop],
                totals["cloud"][start:stop], totals["acquisition"][start:stop])
        costs_into(buffer[:stop - start], lay.column, arrays, interconnect_fraction, *outs)
        _add_base(outs, base_index, deflator)
        if has_alternatives:
            choices = [_drawn_choices(facts, seed, b, min(BLOCK_DRAWS, n_draws - b * BLOCK_DRAWS))
                       for b in range(first, min(first + chunk_blocks, n_blocks))]
            merged = [(model, np.concatenate([c[k][1] for c in choices])) for k, (model, _) in enumerate(choices[0])]
            _take_alternatives(outs, merged)
        if progress is not None:
            progress(stop, n_draws)
    kept = CostArrays(components, totals["cloud"][:n_kept].astype(np.float64),
                      totals["acquisition"][:n_kept].astype(np.float64))
    point = point_costs(facts, inputs, interconnect_fraction=interconnect_fraction)
    return Simulation(kept, totals, point, n_draws, seed)


def simulate_blocks(
    facts: ModelFacts,
    inputs: InputSet,
    n_draws: int,
    seed: int,
    first_block: int,
    stop_block: int,
    *,
    keep_draws: int = 10_000,
    chunk_blocks: int = 4,
    interconnect_fraction: float = DEFAULT_INTERCONNECT_FRACTION,
) -> dict:
    """Evaluate the random blocks ``first_block <= b < stop_block`` of a :func:`simulate` run.

    The draws of block ``b`` are rows ``b * BLOCK_DRAWS`` to ``min(n_draws, (b + 1) * BLOCK_DRAWS)``
    of the full run. Each block's random numbers depend only on (seed, input, column, block), so
    concatenating the pieces of consecutive ranges in block order gives exactly the arrays
    :func:`simulate` computes, for any split (this is what a distributed run merges).

    Parameters
    ----------
    facts : ModelFacts
    inputs : InputSet
    n_draws : int
        Draws of the whole run (decides the block count, the kept draws and the totals' dtype).
    seed : int
    first_block, stop_block : int
        Half-open range of blocks, ``0 <= first_block < stop_block <= ceil(n_draws / BLOCK_DRAWS)``.
    keep_draws : int
        Leading draws of the whole run kept with their components.
    chunk_blocks : int
        Blocks per kernel call inside the range (memory and speed only).
    interconnect_fraction : float

    Returns
    -------
    dict
        ``start``, ``stop`` (draw rows covered), ``totals`` (method -> ndarray of shape
        (stop - start, n_models), float32 exactly when :func:`simulate` would use float32) and
        ``components`` (ndarray (n, n_models, 4) of the kept draws within the range; n may be 0).
    """
    if n_draws < 1:
        raise ValueError("n_draws must be >= 1")
    n_blocks = -(-n_draws // BLOCK_DRAWS)
    if not 0 <= first_block < stop_block <= n_blocks:
        raise ValueError(f"block range [{first_block}, {stop_block}) outside [0, {n_blocks})")
    lay = layout(inputs, facts)
    arrays = fact_arrays(facts)
    n_models = facts.n_models
    n_kept = min(keep_draws, n_draws)
    dtype = np.float64 if 3 * n_draws * n_models * 8 <= TOTALS_FLOAT64_BUDGET else np.float32
    range_start = first_block * BLOCK_DRAWS
    range_stop = min(n_draws, stop_block * BLOCK_DRAWS)
    totals = {m: np.empty((range_stop - range_start, n_models), dtype=dtype) for m in ("amortized", "cloud",
                                                                                         "acquisition")}
    components = np.empty((max(0, min(n_kept, range_stop) - range_start), n_models, 4))
    base_index = np.asarray(facts.base_index)
    deflator = np.asarray(facts.deflator, dtype=np.float64)
    has_alternatives = bool(np.any(np.asarray(facts.alternative_of) >= 0))
    chunk_blocks = max(1, chunk_blocks)
    buffer = np.empty((min(range_stop - range_start, chunk_blocks * BLOCK_DRAWS), lay.n_columns))
    for first in range(first_block, stop_block, chunk_blocks):
        last = min(first + chunk_blocks, stop_block)
        start = first * BLOCK_DRAWS
        stop = min(n_draws, last * BLOCK_DRAWS)
        for b in range(first, last):
            lo = b * BLOCK_DRAWS - start
            rows = min(BLOCK_DRAWS, n_draws - b * BLOCK_DRAWS)
            draw_block(lay, seed, b, rows, out=buffer[lo:lo + rows])
        keep = max(0, min(n_kept, stop) - start)
        at = start - range_start
        outs = (components[at:at + keep], totals["amortized"][at:at + stop - start],
                totals["cloud"][at:at + stop - start], totals["acquisition"][at:at + stop - start])
        costs_into(buffer[:stop - start], lay.column, arrays, interconnect_fraction, *outs)
        _add_base(outs, base_index, deflator)
        if has_alternatives:
            choices = [_drawn_choices(facts, seed, b, min(BLOCK_DRAWS, n_draws - b * BLOCK_DRAWS))
                       for b in range(first, last)]
            merged = [(model, np.concatenate([c[k][1] for c in choices])) for k, (model, _) in enumerate(choices[0])]
            _take_alternatives(outs, merged)
    return {"start": range_start, "stop": range_stop, "totals": totals, "components": components}
