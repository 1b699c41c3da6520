"""Lay out input draws as the kernels' design: a value matrix plus a column map.

Each input owns a block of columns: one for ``shared``, one per chip (or per chip price
record, ``chip_key``) for ``per_chip``, one per model for ``per_model``. :func:`column_map`
tells, for each kernel parameter and model, which column to read (the GPU-or-TPU price,
the hyperscaler-or-other PUE, ...).

Random draws come from :func:`draw_block`: the stream of every column is seeded by
``SeedSequence(seed, spawn_key=(input, column name, block))`` with stable integer keys
(CRC-32 of names), so a model's draws depend neither on the chunking, nor on the thread
count, nor on which other models are in the run.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from uncertain_cost.costs import N_PARAMS, P
from uncertain_cost.data.facts import PUE_HYPERSCALER, ModelFacts
from uncertain_cost.inputs import InputSet
from uncertain_cost.sampling.copula import apply_correlations

__all__ = ["BLOCK_DRAWS", "Layout", "layout", "draw_block", "constant_rows", "stable_key"]

#: draws per random block; fixed so that results never depend on chunking
BLOCK_DRAWS = 16384


def stable_key(text: str) -> int:
    """Stable 32-bit integer for a name (used as a SeedSequence spawn key)."""
    return zlib.crc32(text.encode("utf-8"))


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
    model = np.arange(n_models)

    def cols(name: str) -> np.ndarray:
        scope = inputs[name].scope
        if scope == "per_chip":
            index = chip_of[inputs[name].chip_key][chip]
        else:
            index = np.zeros(n_models, np.int64) if scope == "shared" else model
        return offsets[name] + index

    column = np.empty((N_PARAMS, n_models), dtype=np.int64)
    column[P["rate"]] = cols("depreciation_rate")
    column[P["overhead"]] = cols("server_overhead")
    column[P["interconnect"]] = cols("interconnect_overhead")
    column[P["electricity"]] = cols("electricity_price")
    column[P["power_fraction"]] = np.where(is_tpu, cols("power_fraction_tpu"), cols("power_fraction_gpu"))
    hyperscaler = np.asarray(facts.pue_class) == PUE_HYPERSCALER
    column[P["pue"]] = np.where(hyperscaler, cols("pue_hyperscaler"), cols("pue_other"))
    column[P["price"]] = np.where(is_tpu, cols("tpu_price"), cols("gpu_price"))
    column[P["cloud"]] = cols("cloud_price")
    column[P["peak"]] = cols("peak_flops")
    column[P["quantity"]] = cols("hardware_quantity")
    column[P["time"]] = cols("training_time")
    column[P["compute"]] = cols("training_compute")
    column[P["utilization"]] = cols("utilization")
    column[P["offset_days"]] = cols("acquisition_offset_days")
    return Layout(inputs, offsets, tuple(names), start, column)


def draw_block(lay: Layout, seed: int, block: int, n_rows: int | None = None,
               out: np.ndarray | None = None) -> np.ndarray:
    """Draw the value matrix of random block number ``block``.

    Parameters
    ----------
    lay : Layout
    seed : int
        The run's seed.
    block : int
        Block number; block ``b`` holds draws ``b * BLOCK_DRAWS`` onwards.
    n_rows : int, optional
        Keep only the first ``n_rows`` draws (the last, partial block). The full block is
        always generated so the kept draws do not depend on ``n_rows``.

    out : ndarray, optional
        Array of shape (n_rows, n_columns) to fill instead of allocating one.

    Returns
    -------
    ndarray, shape (n_rows, n_columns)
    """
    n_rows = BLOCK_DRAWS if n_rows is None else n_rows
    values = np.empty((n_rows, lay.n_columns)) if out is None else out
    for spec, names in zip(lay.inputs, lay.column_names, strict=True):
        start = lay.offsets[spec.name]
        dist = spec.distribution
        for j, col_name in enumerate(names):
            if dist.is_constant:
                values[:, start + j] = dist.mean()
                continue
            seq = np.random.SeedSequence(seed, spawn_key=(stable_key(spec.name), stable_key(col_name), block))
            rng = np.random.Generator(np.random.PCG64(seq))
            values[:, start + j] = dist.sample(rng, BLOCK_DRAWS)[:n_rows]
    apply_correlations(values, lay)  # [correlations]: a Gaussian copula (no-op without)
    return values


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
