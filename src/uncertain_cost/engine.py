"""Carry input distributions through the cost equations for every model.

:func:`simulate` walks the draws chunk by chunk (bounded memory), keeps the first
``keep_draws`` joint draws with their components, and the per-method totals of all draws
for exact summary statistics. Its hot path is one compiled kernel that, for cache-sized
tiles of draws in parallel, generates every column's keyed counter-based stream
(:mod:`uncertain_cost.sampling.streams`), applies the marginal transforms and evaluates
the cost equations, without materialising the value matrix. :func:`point_costs` and
:func:`scenario_costs` evaluate deterministic rows through the same cost code.

The fused kernel inlines the one per-row cost loop, ``costs.row_into`` (which the reference
path :func:`uncertain_cost.costs.costs_into` inlines too), and the ``sampling.streams``
generators. numba's on-disk cache of these kernels is keyed on the content of every file
compiled into them (:mod:`uncertain_cost.kernel_cache`), so an edit to ``costs.py`` or
``streams.py`` recompiles them: nothing needs clearing by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from uncertain_cost import kernel_cache  # noqa: F401  (before any kernel: keys numba's cache on its sources)
from uncertain_cost.costs import (
    DEFAULT_INTERCONNECT_FRACTION,
    costs_into,
    costs_numba,
    fact_arrays,
    params_read,
    row_into,
)
from uncertain_cost.data.facts import ModelFacts, alternative_groups
from uncertain_cost.inputs import InputSet
from uncertain_cost.memory import (  # noqa: F401  (defined without numba; re-exported)
    TOTALS_FLOAT64_BUDGET,
    available_memory_bytes,
    estimate_memory_bytes,
    format_bytes,
)
from uncertain_cost.sampling.copula import apply_correlations
from uncertain_cost.sampling.design import BLOCK_DRAWS, column_plan, constant_rows, draw_values, generic_values, layout
from uncertain_cost.sampling.streams import (
    _FI,
    _KI,
    _WI,
    KIND_CONSTANT,
    KIND_GENERIC,
    KIND_LOGNORMAL,
    lognormal_column,
    normal_at,
    stream_key,
    transform_one,
    uniforms,
)

__all__ = ["CostArrays", "Simulation", "simulate", "point_costs", "scenario_costs", "column_costs",
           "estimate_memory_bytes", "available_memory_bytes", "format_bytes"]

#: draws per tile of the fused kernel (tile x columns values stay in the L2 cache)
TILE_DRAWS = 128


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


def _modal_choices(facts: ModelFacts, n_rows: int, method: str = "amortized") -> list[tuple[int, np.ndarray]]:
    """Deterministic evaluations use each model's most likely candidate hardware."""
    out = []
    for model, rows, cumulative in alternative_groups(facts, method):
        weights = np.diff(cumulative, prepend=0.0)
        out.append((model, np.full(n_rows, rows[int(np.argmax(weights))])))
    return out


def _drawn_choices(facts: ModelFacts, seed: int, start: int, stop: int,
                   method: str = "amortized") -> list[tuple[int, np.ndarray]]:
    """Candidate hardware drawn per draw, from a counter-based stream keyed by model name.

    The cloud method uses the same uniform draws with its own weights (candidates without
    a cloud price dropped), so it picks the same candidate whenever the weights agree.
    """
    out = []
    for model, rows, cumulative in alternative_groups(facts, method):
        u = uniforms(stream_key(seed, "hardware_choice", facts.names[model]), start, stop)
        out.append((model, rows[np.minimum(np.searchsorted(cumulative, u, side="right"), len(rows) - 1)]))
    return out


@njit(parallel=True, cache=True, fastmath=False)
def _fused_kernel(start, n_rows, kinds, params, keys, generic_slot, generic, ki, wi, fi,
                  column, path, reported, quantity, time_h, compute, util, peak, price, bare,
                  overhead0, dep_years, tdp_kw, power_ratio, elec, cloud_price, deflator,
                  interconnect_fraction, tile, out_components, out_amortized, out_cloud, out_acquisition):
    """Draw, transform and cost rows ``start..start+n_rows-1`` tile by tile, in parallel."""
    n_cols = kinds.shape[0]
    n_tiles = (n_rows + tile - 1) // tile
    for t in prange(n_tiles):
        r0 = t * tile
        nt = min(tile, n_rows - r0)
        buf = np.empty((nt, n_cols))
        tmp = np.empty(nt)
        col = np.empty(nt)
        bits = np.empty(nt, dtype=np.int64)
        for c in range(n_cols):
            kind = kinds[c]
            if kind == KIND_CONSTANT:
                value = params[c, 0]
                for r in range(nt):
                    buf[r, c] = value
            elif kind == KIND_GENERIC:
                slot = generic_slot[c]
                for r in range(nt):
                    buf[r, c] = generic[slot, r0 + r]
            elif kind == KIND_LOGNORMAL:
                lognormal_column(keys[c], params[c, 0], params[c, 1], start + r0, nt, tmp, col, bits, ki, wi, fi)
                for r in range(nt):
                    buf[r, c] = col[r]
            else:
                key = keys[c]
                p = params[c]
                for r in range(nt):
                    buf[r, c] = transform_one(kind, p, normal_at(key, start + r0 + r, ki, wi, fi))
        for r in range(nt):
            row_into(r0 + r, buf[r], column, path, reported, quantity, time_h, compute, util, peak, price, bare,
                     overhead0, dep_years, tdp_kw, power_ratio, elec, cloud_price, deflator, interconnect_fraction,
                     out_components, out_amortized, out_cloud, out_acquisition)


def _evaluate(values, lay, arrays, facts, interconnect_fraction) -> CostArrays:
    amortized, cloud, acquisition = costs_numba(values, lay.column, arrays, interconnect_fraction)
    _add_base((amortized, cloud, acquisition), np.asarray(facts.base_index), np.asarray(facts.deflator))
    _take_alternatives((amortized, acquisition), _modal_choices(facts, values.shape[0]))
    _take_alternatives((cloud,), _modal_choices(facts, values.shape[0], "cloud"))
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


def _check_memory(n_draws: int, n_models: int, keep_draws: int, chunk_blocks: int, n_columns: int) -> None:
    from uncertain_cost.errors import ResourceError

    need = estimate_memory_bytes(n_draws, n_models, keep_draws=keep_draws, chunk_blocks=chunk_blocks,
                                 n_columns=n_columns)
    have = available_memory_bytes()
    if have is not None and need > have:
        raise ResourceError(f"run.draws: {n_draws:,} draws of {n_models} models need about {format_bytes(need)} "
                            f"of memory; {format_bytes(have)} is available; lower run.draws (or --draws)")


def _range_evaluator(facts: ModelFacts, inputs: InputSet, seed: int, interconnect_fraction: float, lay, arrays):
    """Return ``evaluate(start, stop, outs)``: draws ``start..stop-1`` costed into ``outs``.

    ``outs`` are (components of the kept rows, amortized, cloud, acquisition totals), each
    starting at draw ``start``. Every draw depends only on (seed, input, column, draw index), so
    any split of the draws into ranges gives the same arrays (:func:`simulate`, :func:`simulate_blocks`).
    """
    base_index = np.asarray(facts.base_index)
    deflator = np.asarray(facts.deflator, dtype=np.float64)
    has_alternatives = bool(np.any(np.asarray(facts.alternative_of) >= 0))
    plan = column_plan(lay, seed, read=lay.column[params_read(arrays)])
    correlated = getattr(inputs, "correlations", None) is not None
    generic_slot = np.full(lay.n_columns, -1, dtype=np.int64)
    generic_slot[list(plan.generic)] = np.arange(len(plan.generic))

    def evaluate(start: int, stop: int, outs: tuple[np.ndarray, ...]) -> None:
        if correlated:  # the copula mixes whole columns: draw the value matrix, then cost it
            values = draw_values(lay, seed, start, stop)
            apply_correlations(values, lay)
            costs_into(values, lay.column, arrays, interconnect_fraction, *outs)
        else:
            _fused_kernel(np.int64(start), np.int64(stop - start), plan.kinds, plan.params, plan.keys, generic_slot,
                          generic_values(lay, plan, start, stop), _KI, _WI, _FI, lay.column, *arrays,
                          float(interconnect_fraction), np.int64(TILE_DRAWS), *outs)
        _add_base(outs, base_index, deflator)
        if has_alternatives:
            for method, arrays_of_method in (("amortized", (outs[0], outs[1], outs[3])), ("cloud", (outs[2],))):
                _take_alternatives(arrays_of_method, _drawn_choices(facts, seed, start, stop, method))

    return evaluate


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
        Root of all randomness (see :mod:`uncertain_cost.sampling.streams`, scheme
        ``SEED_SCHEME``).
    keep_draws : int
        How many leading draws to keep with their components.
    chunk_blocks : int
        Draws per kernel call, in units of ``BLOCK_DRAWS``; changes memory and speed and
        progress granularity, never results.
    interconnect_fraction : float
    progress : callable, optional
        Called as ``progress(done_draws, n_draws)`` after each chunk.

    Returns
    -------
    Simulation

    Raises
    ------
    uncertain_cost.errors.ResourceError
        When :func:`estimate_memory_bytes` exceeds the available memory (before any
        allocation).
    """
    if n_draws < 1:
        raise ValueError("n_draws must be >= 1")
    lay = layout(inputs, facts)
    arrays = fact_arrays(facts)
    n_models = facts.n_models
    _check_memory(n_draws, n_models, keep_draws, chunk_blocks, lay.n_columns)
    n_kept = min(keep_draws, n_draws)
    total_bytes = 3 * n_draws * n_models * 8
    dtype = np.float64 if total_bytes <= TOTALS_FLOAT64_BUDGET else np.float32
    totals = {m: np.empty((n_draws, n_models), dtype=dtype) for m in ("amortized", "cloud", "acquisition")}
    components = np.empty((n_kept, n_models, 4))
    evaluate = _range_evaluator(facts, inputs, seed, interconnect_fraction, lay, arrays)
    chunk = max(1, chunk_blocks) * BLOCK_DRAWS
    for start in range(0, n_draws, chunk):
        stop = min(n_draws, start + chunk)
        keep = max(0, min(n_kept, stop) - start)
        evaluate(start, stop, (components[start:start + keep], totals["amortized"][start:stop],
                               totals["cloud"][start:stop], totals["acquisition"][start:stop]))
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
    evaluate = _range_evaluator(facts, inputs, seed, interconnect_fraction, lay, arrays)
    chunk = max(1, chunk_blocks) * BLOCK_DRAWS
    for start in range(range_start, range_stop, chunk):
        stop = min(range_stop, start + chunk)
        keep = max(0, min(n_kept, stop) - start)
        at = start - range_start
        evaluate(start, stop, (components[at:at + keep], totals["amortized"][at:at + stop - start],
                               totals["cloud"][at:at + stop - start], totals["acquisition"][at:at + stop - start]))
    return {"start": range_start, "stop": range_stop, "totals": totals, "components": components}
