"""The staff cost of a development-cost target's rows, compiled, with NumPy's rounding.

A development target has one factor per contributor and kind (salary, overhead, equity,
FTE): thousands of columns for a large team. Its model function needs, per row,
``sum over roles of sum over contributors ((salary * overhead + equity) * fte)``. Written
with NumPy that allocated three temporaries of rows x contributors per role and call (about
0.65 s of the default run's sensitivity step, most of it writing fresh memory); here each
row is summed in place.

The sums are NumPy's: :func:`numpy_pairwise_sum` adds in the order of NumPy's pairwise
summation of a contiguous row (blocks of eight partial sums up to 128 values, halves above),
so the results are the bits ``ndarray.sum(axis=1)`` gave (tests/sensitivity/test_staff_sum.py
checks both against NumPy).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["numpy_pairwise_sum", "staff_annual"]

_BLOCK = 128  # NumPy's PW_BLOCKSIZE


@njit(cache=True)
def numpy_pairwise_sum(values, start, n):  # pragma: no cover - compiled
    """``values[start:start + n].sum()`` in NumPy's order (same bits for a contiguous slice).

    NumPy's reduction adds the pairwise sum to the identity, 0.0.

    Parameters
    ----------
    values : numpy.ndarray of float64, 1-d
    start, n : int
        The slice summed.

    Returns
    -------
    float
    """
    return 0.0 + _pairwise(values, start, n)


@njit(cache=True)
def _block(values, start, n):  # pragma: no cover - compiled
    """NumPy's sum of at most 128 values: eight running sums, then the rest one by one."""
    if n < 8:
        total = -0.0  # as NumPy: a sum of only -0.0 stays -0.0
        for i in range(start, start + n):
            total += values[i]
        return total
    r0, r1, r2, r3 = values[start], values[start + 1], values[start + 2], values[start + 3]
    r4, r5, r6, r7 = values[start + 4], values[start + 5], values[start + 6], values[start + 7]
    i = 8
    whole = n - n % 8
    while i < whole:
        j = start + i
        r0 += values[j]
        r1 += values[j + 1]
        r2 += values[j + 2]
        r3 += values[j + 3]
        r4 += values[j + 4]
        r5 += values[j + 5]
        r6 += values[j + 6]
        r7 += values[j + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        total += values[start + i]
        i += 1
    return total


@njit(cache=True)
def _pairwise(values, start, n):  # pragma: no cover - compiled
    """NumPy's pairwise summation (``DOUBLE_pairwise_sum``) of ``values[start:start + n]``.

    NumPy recurses: above 128 values, the sum of the first ``n // 2`` rounded down to a multiple
    of 8 plus the sum of the rest. numba's cache cannot hold a recursive function (loading
    one crashed), so the recursion runs on an explicit stack; the additions are the same.
    """
    if n <= _BLOCK:
        return _block(values, start, n)
    depth_max = 64  # halving from 2**63 values ends within 64 levels
    starts = np.empty(depth_max, dtype=np.int64)
    sizes = np.empty(depth_max, dtype=np.int64)
    left_done = np.zeros(depth_max, dtype=np.bool_)
    left = np.empty(depth_max)
    depth = 0
    starts[0], sizes[0], left_done[0] = start, n, False
    while True:
        s, m = starts[depth], sizes[depth]
        if m > _BLOCK:  # descend into the left half
            half = m // 2
            half -= half % 8
            depth += 1
            starts[depth], sizes[depth], left_done[depth] = s, half, False
            continue
        value = _block(values, s, m)
        while True:  # hand the value up until a node still needs its right half
            depth -= 1
            if depth < 0:
                return value
            if left_done[depth]:
                value = left[depth] + value
                continue
            left[depth], left_done[depth] = value, True
            half = sizes[depth] // 2
            half -= half % 8
            depth += 1
            starts[depth], sizes[depth], left_done[depth] = starts[depth - 1] + half, sizes[depth - 1] - half, False
            break


@njit(cache=True)
def _staff_annual(x, starts, counts):  # pragma: no cover - compiled
    n_rows = x.shape[0]
    out = np.zeros(n_rows)
    pay = np.empty(max(1, counts.max()))
    for r in range(n_rows):
        row = x[r]
        total = 0.0
        for s in range(starts.shape[0]):
            salary, overhead, equity, fte = starts[s, 0], starts[s, 1], starts[s, 2], starts[s, 3]
            m = counts[s]
            for j in range(m):
                p = row[salary + j] * row[overhead + j]
                if equity >= 0:
                    p = p + row[equity + j]
                pay[j] = p * row[fte + j]
            total += numpy_pairwise_sum(pay, 0, m)
        out[r] = total
    return out


def staff_annual(x: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Annual staff cost of every row of ``x``: the roles' sums of ``(salary * overhead + equity) * fte``.

    Parameters
    ----------
    x : numpy.ndarray of float64, shape (n_rows, n_factors)
        Rows of factor values.
    starts : numpy.ndarray of int64, shape (n_roles, 4)
        Per role, the first column of its salary, overhead, equity (-1: none) and FTE factors;
        each kind's ``counts[role]`` columns are contiguous.
    counts : numpy.ndarray of int64, shape (n_roles,)
        Contributors of each role.

    Returns
    -------
    numpy.ndarray of float64, shape (n_rows,)
        Bit for bit what NumPy gives for ``annual += ((x[:, s] * x[:, o] + x[:, e]) * x[:, f]).sum(axis=1)``
        role by role, starting from zeros.
    """
    if starts.shape[0] == 0:
        return np.zeros(x.shape[0])
    return _staff_annual(np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(starts, dtype=np.int64),
                         np.ascontiguousarray(counts, dtype=np.int64))
