"""Lay out input draws as the kernels' design: a value matrix plus a column map.

Each input owns a block of columns: one for ``shared``, one per chip (or per chip price
record, ``chip_key``) for ``per_chip``,
one per model for ``per_model``. :func:`layout` derives, from each input's definition
(the kernel parameter it feeds and the models it applies to), which column every kernel
parameter reads for every model (the GPU-or-TPU price, the hyperscaler-or-other PUE, ...).

The layout and the column plan need no numba (``estimate`` imports them without loading a
compiled kernel); drawing imports the compiled streams when called. Random values follow the
keyed, counter-based scheme of :mod:`uncertain_cost.sampling.streams`:
every column has its own stream keyed by (seed, input, column name), and draw ``i`` of it is
a pure function of the key and ``i``. :func:`draw_values` is the reference path (scores ->
marginal transform); the engine fuses the same arithmetic into its compiled kernel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from uncertain_cost.cost_params import N_PARAMS, PARAMS, P
from uncertain_cost.data.facts import PUE_HYPERSCALER, ModelFacts
from uncertain_cost.distributions import LogNormal, Normal
from uncertain_cost.inputs import InputSet
from uncertain_cost.sampling.copula import apply_correlations
from uncertain_cost.sampling.scheme import (
    KIND_CONSTANT,
    KIND_GENERIC,
    KIND_LOGNORMAL,
    KIND_NORMAL,
    KIND_TRUNCNORMAL,
    stable_key,
    stream_key,
)

__all__ = ["BLOCK_DRAWS", "Layout", "ColumnPlan", "layout", "column_plan", "column_distributions",
           "generic_values", "draw_values", "draw_block", "constant_rows", "stable_key"]

#: draws per block of :func:`draw_block` and per engine chunk unit (never changes results)
BLOCK_DRAWS = 16384


@dataclass(frozen=True)
class Layout:
    """Where each input's columns sit in the value matrix.

    Attributes
    ----------
    inputs : InputSet
    offsets : dict
        First column of each input.
    column_names : tuple of tuple of str
        Per input, the names of its columns ("*" for shared, chip or model names).
    n_columns : int
    column : ndarray of int64, shape (N_PARAMS, n_models)
    """

    inputs: InputSet
    offsets: Mapping[str, int]
    column_names: tuple[tuple[str, ...], ...]
    n_columns: int
    column: np.ndarray


def layout(inputs: InputSet, facts: ModelFacts) -> Layout:
    """Compute the column layout of ``inputs`` for the models in ``facts``.

    Parameters
    ----------
    inputs : InputSet
    facts : ModelFacts

    Returns
    -------
    Layout
    """
    offsets: dict[str, int] = {}
    names: list[tuple[str, ...]] = []
    start = 0
    chip = np.maximum(np.asarray(facts.chip_index, dtype=np.int64), 0)
    # per-chip columns: one per chip name, or one per price record (chips priced from the
    # same record share a draw); chip_of[key][c] is the column of chip c under that key
    keyed = {"chip": facts.chips or ("(none)",),
             "price_record": tuple(dict.fromkeys(facts.chip_keys())) or ("(none)",)}
    chip_of = {"chip": np.arange(len(keyed["chip"]), dtype=np.int64),
               "price_record": np.array([keyed["price_record"].index(k) for k in facts.chip_keys()] or [0],
                                        dtype=np.int64)}
    for spec in inputs:
        cols = {"shared": ("*",), "per_chip": keyed[spec.chip_key], "per_model": facts.names}[spec.scope]
        offsets[spec.name] = start
        names.append(tuple(cols))
        start += len(cols)

    n_models = facts.n_models
    is_tpu = np.asarray(facts.chip_is_tpu, dtype=bool)[chip] if len(facts.chips) else np.zeros(n_models, bool)
    hyperscaler = np.asarray(facts.pue_class) == PUE_HYPERSCALER
    reads = {"gpu": ~is_tpu, "tpu": is_tpu, "hyperscaler": hyperscaler, "other": ~hyperscaler}
    model = np.arange(n_models)

    column = np.full((N_PARAMS, n_models), -1, dtype=np.int64)
    for spec in inputs:
        definition = spec.definition
        if spec.scope == "per_chip":
            index = chip_of[spec.chip_key][chip]
        else:
            index = np.zeros(n_models, np.int64) if spec.scope == "shared" else model
        mask = reads.get(definition.applies_to, np.ones(n_models, bool))
        row = column[P[definition.param]]
        row[mask] = offsets[spec.name] + index[mask]
    unfed = [PARAMS[p] for p in range(N_PARAMS) if (column[p] < 0).any()]
    if unfed:
        raise ValueError(f"no input feeds kernel parameter(s) {', '.join(unfed)} for some models")
    return Layout(inputs, offsets, tuple(names), start, column)


@dataclass(frozen=True)
class ColumnPlan:
    """How each column of a layout is drawn under one seed (the compiled kernels' view).

    Attributes
    ----------
    kinds : ndarray of int64, shape (n_columns,)
        Marginal transform code (``streams.KIND_*``) of each column.
    params : ndarray, shape (n_columns, 6)
        Transform parameters (see :func:`uncertain_cost.sampling.streams.transform_one`).
    keys : ndarray of uint64, shape (n_columns,)
        Stream key of each column (0 for constants, which draw nothing).
    generic : tuple of int
        Columns whose family has no compiled transform: their values are ``ppf(Phi(z))``
        computed with the distribution's own ``ppf``.
    """

    kinds: np.ndarray
    params: np.ndarray
    keys: np.ndarray
    generic: tuple[int, ...]


def _transform_of(dist) -> tuple[int, tuple[float, ...]]:
    """Compiled transform code and parameters of a distribution."""
    if dist.is_constant:
        return KIND_CONSTANT, (float(dist.mean()),)
    if type(dist) is LogNormal:
        return KIND_LOGNORMAL, (float(dist.mu), float(dist.sigma))
    if type(dist) is Normal:
        if dist.low is None and dist.high is None:
            return KIND_NORMAL, (float(dist.loc), float(dist.scale))
        a, b = dist._bounds
        lo = -np.inf if dist.low is None else float(dist.low)
        hi = np.inf if dist.high is None else float(dist.high)
        return KIND_TRUNCNORMAL, (float(dist.loc), float(dist.scale), a, b, lo, hi)
    return KIND_GENERIC, ()


def column_plan(lay: Layout, seed: int, read: np.ndarray | None = None) -> ColumnPlan:
    """Transform codes, parameters and stream keys of every column of ``lay``.

    Parameters
    ----------
    lay : Layout
    seed : int
    read : ndarray of int, optional
        The columns the cost equations read; the others are planned as NaN constants and
        drawn not at all (every column has its own stream, so this changes no read value).

    Returns
    -------
    ColumnPlan
    """
    kinds = np.zeros(lay.n_columns, dtype=np.int64)
    params = np.zeros((lay.n_columns, 6))
    keys = np.zeros(lay.n_columns, dtype=np.uint64)
    for spec, names in zip(lay.inputs, lay.column_names, strict=True):
        kind, values = _transform_of(spec.distribution)
        for j, col_name in enumerate(names):
            c = lay.offsets[spec.name] + j
            kinds[c] = kind
            params[c, :len(values)] = values
            if kind != KIND_CONSTANT:
                keys[c] = stream_key(seed, spec.name, col_name)
    if read is not None:
        unread = np.ones(lay.n_columns, dtype=bool)
        unread[np.asarray(read).ravel()] = False
        kinds[unread], params[unread], keys[unread] = KIND_CONSTANT, np.nan, 0
    return ColumnPlan(kinds, params, keys, tuple(int(c) for c in np.flatnonzero(kinds == KIND_GENERIC)))


def column_distributions(lay: Layout) -> list:
    """Return the distribution of every column, in column order."""
    out = []
    for spec, names in zip(lay.inputs, lay.column_names, strict=True):
        out.extend([spec.distribution] * len(names))
    return out


def generic_values(lay: Layout, plan: ColumnPlan, start: int, stop: int) -> np.ndarray:
    """Values of the plan's generic columns for draws ``start..stop-1`` (``ppf(Phi(z))``).

    Returns
    -------
    ndarray, shape (len(plan.generic), stop - start)
    """
    if not plan.generic:
        return np.empty((0, stop - start))
    from scipy import special

    from uncertain_cost.sampling.streams import normal_scores

    dists = column_distributions(lay)
    z = normal_scores(plan.keys[list(plan.generic)], start, stop)
    return np.stack([np.asarray(dists[c].ppf(special.ndtr(z[g])), dtype=np.float64)
                     for g, c in enumerate(plan.generic)])


def draw_values(lay: Layout, seed: int, start: int, stop: int) -> np.ndarray:
    """Draw the reference value matrix of draws ``start..stop-1`` (scores, then marginal transforms).

    Parameters
    ----------
    lay : Layout
    seed : int
        The run's seed.
    start, stop : int
        Global draw range; draw ``i`` is the same whatever range it is drawn in.

    Returns
    -------
    ndarray, shape (stop - start, n_columns)
    """
    from uncertain_cost.sampling.streams import normal_scores, transform_scores

    plan = column_plan(lay, seed)
    random = np.flatnonzero(plan.kinds != KIND_CONSTANT)
    values = np.empty((stop - start, lay.n_columns))
    values[:, plan.kinds == KIND_CONSTANT] = plan.params[plan.kinds == KIND_CONSTANT, 0]
    if random.size:
        z = normal_scores(plan.keys[random], start, stop)
        values[:, random] = transform_scores(plan.kinds[random], plan.params[random], z).T
    if plan.generic:
        values[:, list(plan.generic)] = generic_values(lay, plan, start, stop).T
    return values


def draw_block(lay: Layout, seed: int, block: int, n_rows: int | None = None,
               out: np.ndarray | None = None) -> np.ndarray:
    """Value matrix of draws ``block * BLOCK_DRAWS`` onwards (see :func:`draw_values`).

    Parameters
    ----------
    lay : Layout
    seed : int
    block : int
    n_rows : int, optional
        Number of draws (default ``BLOCK_DRAWS``).
    out : ndarray, optional
        Array of shape (n_rows, n_columns) to fill instead of allocating one.

    Returns
    -------
    ndarray, shape (n_rows, n_columns)
    """
    n_rows = BLOCK_DRAWS if n_rows is None else n_rows
    values = draw_values(lay, seed, block * BLOCK_DRAWS, block * BLOCK_DRAWS + n_rows)
    apply_correlations(values, lay)  # [correlations]: a Gaussian copula (no-op without)
    if out is None:
        return values
    out[...] = values
    return out


def constant_rows(lay: Layout, rows: Mapping[str, np.ndarray] | None = None, n_rows: int = 1,
                  default: str = "central") -> np.ndarray:
    """Value matrix of deterministic scenarios (point evaluation, tornado, Sobol).

    Parameters
    ----------
    lay : Layout
    rows : mapping of str to ndarray, optional
        Per input name, its value in each scenario row (broadcast to all of the input's
        columns: every model and chip gets the same value). Inputs not given are held at
        ``default``.
    n_rows : int
        Number of scenarios when ``rows`` is empty.
    default : {"central", "median"}
        ``central`` uses each distribution's stated point (the paper's value), ``median``
        its median.

    Returns
    -------
    ndarray, shape (n_rows, n_columns)
    """
    rows = dict(rows or {})
    if rows:
        n_rows = len(next(iter(rows.values())))
    values = np.empty((n_rows, lay.n_columns))
    for spec, names in zip(lay.inputs, lay.column_names, strict=True):
        start, stop = lay.offsets[spec.name], lay.offsets[spec.name] + len(names)
        if spec.name in rows:
            values[:, start:stop] = np.asarray(rows[spec.name], dtype=np.float64)[:, None]
        else:
            dist = spec.distribution
            values[:, start:stop] = dist.central if default == "central" else dist.median()
    return values
