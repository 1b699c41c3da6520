"""Saltelli sampling design for first- and total-order Sobol indices.

The design is the one of Saltelli et al. (2010), built as SALib builds it: a scrambled
Sobol' sequence of dimension ``2k`` gives two independent unit-cube matrices ``A``
(first ``k`` columns) and ``B`` (last ``k`` columns), each of ``n_base`` rows; for every
input (or group of inputs) ``j``, ``AB_j`` is ``A`` with the column(s) of ``j`` taken from
``B``. Rows are laid out in blocks, unlike SALib's row-interleaved layout::

    rows [0, N)               A
    rows [N, 2N)              B
    rows [(2+j)N, (3+j)N)     AB_j,  j = 0 .. n_blocks-1

so the design has ``n_base * (n_blocks + 2)`` rows. :func:`from_salib_layout` reorders a
SALib ``calc_second_order=False`` design (or its model output) into this layout.

References
----------
Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M., Tarantola, S. (2010).
Variance based sensitivity analysis of model output. Design and estimator for the total
sensitivity index. Computer Physics Communications 181(2), 259-270.
doi:10.1016/j.cpc.2009.09.018
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

__all__ = ["sobol_design", "sobol_halves", "saltelli_layout", "design_blocks", "from_salib_layout"]

_SOBOL_BITS = 30


def _check_n_base(n_base) -> int:
    if isinstance(n_base, bool) or not isinstance(n_base, int | np.integer):
        raise ValueError(f"n_base: expected an int power of two >= 2, got {n_base!r}")
    n = int(n_base)
    if n < 2 or n & (n - 1):
        lower = 1 << max(n.bit_length() - 1, 1)
        raise ValueError(
            f"n_base: expected a power of two >= 2 (Sobol' points are balanced only then), "
            f"got {n}; try {lower} or {lower * 2}"
        )
    return n


def _check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k: expected a positive int (number of inputs), got {k!r}")
    return int(k)


def design_blocks(k: int, groups: Sequence[Hashable] | None = None) -> tuple[list, np.ndarray]:
    """Map ``k`` input columns to the blocks ``AB_j`` of the design.

    Parameters
    ----------
    k : int
        Number of inputs (columns).
    groups : sequence of hashable, optional
        One label per input. Inputs with the same label are swapped from ``B`` together
        (one block per distinct label, in order of first appearance). Default: every
        input is its own block.

    Returns
    -------
    labels : list
        Block labels (the group labels, or ``0 .. k-1``).
    block_of_column : numpy.ndarray of int, shape (k,)
        Index of the block each column belongs to.
    """
    k = _check_k(k)
    if groups is None:
        return list(range(k)), np.arange(k)
    groups = list(groups)
    if len(groups) != k:
        raise ValueError(f"groups: expected one label per input ({k}), got {len(groups)}")
    labels: list = []
    index: dict = {}
    for g in groups:
        if g not in index:
            index[g] = len(labels)
            labels.append(g)
    return labels, np.array([index[g] for g in groups], dtype=np.int64)


def sobol_design(
    n_base: int,
    k: int,
    seed: int | np.random.SeedSequence | np.random.Generator,
    *,
    groups: Sequence[Hashable] | None = None,
) -> np.ndarray:
    """Saltelli design on the unit cube from a scrambled Sobol' sequence.

    Parameters
    ----------
    n_base : int
        Number of base samples ``N`` (rows of ``A`` and ``B``); a power of two.
    k : int
        Number of inputs.
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Seeds the scrambling (through :func:`numpy.random.default_rng`). Required: the same
        seed gives the same design.
    groups : sequence of hashable, optional
        One label per input; inputs with the same label form one block ``AB_j`` (grouped
        Sobol indices). Default: one block per input.

    Returns
    -------
    numpy.ndarray of float64, shape (n_base * (n_blocks + 2), k)
        Points strictly inside (0, 1), in block layout ``[A; B; AB_0; ...]`` (see module
        docstring). Transform column ``i`` through the ``ppf`` of input ``i``.

    Notes
    -----
    Scrambled Sobol' points lie on a grid of step ``2**-30``; they are moved to the middle
    of their grid cell (a shift of ``2**-31``) so that no point is exactly 0, where an
    unbounded inverse CDF would be infinite.

    References
    ----------
    Saltelli et al. (2010), doi:10.1016/j.cpc.2009.09.018.
    """
    a, b = sobol_halves(n_base, k, seed)
    return saltelli_layout(a, b, design_blocks(k, groups)[1])


def sobol_halves(n_base: int, k: int, seed: int | np.random.SeedSequence | np.random.Generator,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Return the two unit-cube matrices ``A`` and ``B`` of :func:`sobol_design` (same arguments and checks).

    Every row of the design is a row of ``A`` with some columns from ``B``; a caller that
    maps the points through elementwise inverse CDFs can map ``A`` and ``B`` only and lay
    the results out with :func:`saltelli_layout` (:func:`~uncertain_cost.sensitivity.sobol`
    does: ``n_blocks + 2`` times fewer inverse CDF values, the same design values).

    Returns
    -------
    a, b : numpy.ndarray of float64, shape (n_base, k)
    """
    n = _check_n_base(n_base)
    k = _check_k(k)
    if seed is None:
        raise ValueError("seed: expected an int, SeedSequence or Generator, got None")
    from scipy.stats import qmc  # here, not at import: scipy.stats takes ~1 s to import

    engine = qmc.Sobol(2 * k, scramble=True, bits=_SOBOL_BITS, rng=np.random.default_rng(seed))
    base = engine.random_base2(n.bit_length() - 1) + 2.0 ** -(_SOBOL_BITS + 1)
    return base[:, :k], base[:, k:]


def saltelli_layout(a: np.ndarray, b: np.ndarray, block_of: np.ndarray) -> np.ndarray:
    """Rows ``[A; B; AB_0; ...]`` of ``a`` and ``b`` (the block layout of the module docstring).

    Parameters
    ----------
    a, b : numpy.ndarray, shape (n_base, k)
    block_of : numpy.ndarray of int, shape (k,)
        Block of each column, ``0 .. n_blocks-1`` (:func:`design_blocks`).

    Returns
    -------
    numpy.ndarray, shape (n_base * (n_blocks + 2), k)
    """
    n, k = a.shape
    n_blocks = int(block_of.max()) + 1
    out = np.empty(((n_blocks + 2) * n, k), dtype=np.result_type(a, b))
    out[:n] = a
    out[n : 2 * n] = b
    for j in range(n_blocks):
        rows = out[(2 + j) * n : (3 + j) * n]
        swap = block_of == j
        rows[:] = a
        rows[:, swap] = b[:, swap]
    return out


def from_salib_layout(values, n_base: int, n_blocks: int) -> np.ndarray:
    """Reorder a SALib Sobol design or output into the block layout used here.

    SALib (``SALib.sample.sobol.sample(..., calc_second_order=False)``) interleaves rows:
    for each base sample ``i`` it stores ``A_i, AB_0i, ..., AB_(n_blocks-1)i, B_i``.

    Parameters
    ----------
    values : array_like, shape (n_base * (n_blocks + 2),) or (n_base * (n_blocks + 2), m)
        SALib design matrix or model output.
    n_base : int
        Number of base samples ``N``.
    n_blocks : int
        Number of inputs (or groups) ``D``.

    Returns
    -------
    numpy.ndarray
        Same values with rows in the order ``[A; B; AB_0; ...; AB_(n_blocks-1)]``.
    """
    values = np.asarray(values)
    m = n_blocks + 2
    if values.shape[0] != n_base * m:
        raise ValueError(
            f"values: expected {n_base} * ({n_blocks} + 2) = {n_base * m} rows, "
            f"got {values.shape[0]}"
        )
    per_sample = values.reshape((n_base, m) + values.shape[1:])
    order = [0, m - 1] + list(range(1, m - 1))
    return np.concatenate([per_sample[:, j] for j in order], axis=0)
