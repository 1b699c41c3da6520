"""The keyed streams and marginal transforms of :mod:`uncertain_cost.sampling.streams` in NumPy, bit for bit.

For a process that costs one hypothetical run (``estimate``), loading any compiled kernel
costs more than the whole answer (numba's CPU target and a cached kernel take about as long
as importing numpy and numba). This module computes the same values without numba: the
integer hashing and the ziggurat in vectorized ``uint64`` arithmetic, the rare rejections
and every transcendental function (``exp``, ``log``, ``log1p``, ``erfc``, ``pow``) through
Python's :mod:`math`, which calls the same C library functions the compiled kernels call
(NumPy's own SIMD ``exp`` and ``power`` differ from them in the last bit on some inputs).
Additions, multiplications, divisions, ``sqrt`` and ``floor`` are IEEE-exact in both.
``tests/engine/test_lean.py`` checks every value against the kernels.
"""

from __future__ import annotations

import math

import numpy as np

from uncertain_cost.sampling.scheme import (
    _A,
    _B,
    _C,
    _D,
    _EXP_C,
    _EXP_LIMIT,
    _FI,
    _GAMMA_INT,
    _KI,
    _LN2_HI,
    _LN2_LO,
    _LOG2E,
    _LOW8,
    _LOW52,
    _M1,
    _M2,
    _MASK64,
    _R,
    _S1,
    _S8,
    _S27,
    _S30,
    _S31,
    _SQRT1_2,
    _SQRT_2PI,
    _TO_UNIT,
    _WI,
    GAMMA,
    KIND_CONSTANT,
    KIND_LOGNORMAL,
    KIND_NORMAL,
    KIND_TRUNCNORMAL,
    _mix_int,
)

__all__ = ["normal_column", "exp_values", "ndtr_values", "ndtri_values", "column_values", "apply"]

_FI_LIST = [float(v) for v in _FI]
_WI_LIST = [float(v) for v in _WI]
_KI_LIST = [int(v) for v in _KI]


def apply(function, values: np.ndarray) -> np.ndarray:
    """Apply ``function`` (a :mod:`math` function of one float) to every element; return float64."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    return np.fromiter(map(function, flat.tolist()), dtype=np.float64, count=flat.size).reshape(np.shape(values))


def _exp(y: float) -> float:
    """C ``exp`` as the compiled kernels call it: inf on overflow (where :func:`math.exp` raises)."""
    try:
        return math.exp(y)
    except OverflowError:
        return math.inf


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def _unit(w: int) -> float:
    return float(w >> 11) * _TO_UNIT


def _normal_slow(w: int, idx: int, sign: bool, x: float) -> float:
    """Run the ziggurat's rejection branch of ``streams._normal_slow`` on Python ints and floats."""
    while True:
        if idx == 0:  # tail beyond r
            while True:
                w = _mix_int(w + _GAMMA_INT)
                xx = -math.log1p(-_unit(w)) / _R
                w = _mix_int(w + _GAMMA_INT)
                yy = -math.log1p(-_unit(w))
                if yy + yy > xx * xx:
                    return -(_R + xx) if sign else _R + xx
        w = _mix_int(w + _GAMMA_INT)
        if (_FI_LIST[idx - 1] - _FI_LIST[idx]) * _unit(w) + _FI_LIST[idx] < math.exp(-0.5 * x * x):
            return x
        w = _mix_int(w + _GAMMA_INT)
        idx = w & 0xFF
        h = w >> 8
        sign = (h & 1) != 0
        rabs = (h >> 1) & ((1 << 52) - 1)
        x = float(rabs) * _WI_LIST[idx]
        if sign:
            x = -x
        if rabs < _KI_LIST[idx]:
            return x


def normal_column(key: np.uint64, start: int, n: int) -> np.ndarray:
    """Return standard normal numbers ``start..start+n-1`` of the stream ``key`` (``streams.normal_at``).

    Parameters
    ----------
    key : numpy.uint64
    start, n : int

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    counter = np.arange(start + 1, start + n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        w = _mix(np.uint64(key) + counter * GAMMA)
    idx = (w & _LOW8).astype(np.intp)
    h = w >> _S8
    sign = (h & np.uint64(1)) != 0
    rabs = (h >> _S1) & _LOW52
    x = rabs.astype(np.float64) * _WI[idx]
    x = np.where(sign, -x, x)
    for j in np.flatnonzero(rabs >= _KI[idx]).tolist():
        x[j] = _normal_slow(int(w[j]) & _MASK64, int(idx[j]), bool(sign[j]), float(x[j]))
    return x


def exp_values(y: np.ndarray) -> np.ndarray:
    """``streams.exp_into``: Cody-Waite reduction and a degree-13 polynomial, ``math.exp`` beyond +-700."""
    y = np.asarray(y, dtype=np.float64)
    inside = np.abs(y) <= _EXP_LIMIT
    x = np.where(inside, y, 0.0)
    k = np.floor(x * _LOG2E + 0.5)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    p = np.full_like(r, _EXP_C[13])
    for c in (_EXP_C[12], _EXP_C[11], _EXP_C[10], _EXP_C[9], _EXP_C[8], _EXP_C[7], _EXP_C[6], _EXP_C[5],
              _EXP_C[4], _EXP_C[3], _EXP_C[2], 1.0, 1.0):
        p = p * r + c
    bits = (k.astype(np.int64) + 1023) << 52
    out = p * bits.view(np.float64)
    if not inside.all():
        out[~inside] = apply(_exp, y[~inside])
    return out


def ndtr_values(z: np.ndarray) -> np.ndarray:
    """``streams.ndtr``: ``0.5 * erfc(-z / sqrt(2))``."""
    return 0.5 * apply(math.erfc, -np.asarray(z, dtype=np.float64) * _SQRT1_2)


def _tail(q: np.ndarray) -> np.ndarray:
    return ((((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5])
            / ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0))


def ndtri_values(p: np.ndarray) -> np.ndarray:
    """``streams.ndtri``: Acklam's approximation refined by one Halley step, element by element."""
    p = np.asarray(p, dtype=np.float64)
    low, high = (p > 0.0) & (p < 0.02425), (p < 1.0) & (p > 1.0 - 0.02425)  # p <= 0 or >= 1: set below
    x = np.empty_like(p)
    if low.any():
        x[low] = _tail(np.sqrt(-2.0 * apply(math.log, p[low])))
    if high.any():
        x[high] = -_tail(np.sqrt(-2.0 * apply(math.log1p, -p[high])))
    middle = ~(low | high)
    q = p[middle] - 0.5
    r = q * q
    x[middle] = (((((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q)
                 / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0))
    e = ndtr_values(x) - p
    u = e * _SQRT_2PI * apply(_exp, 0.5 * x * x)
    out = x - u / (1.0 + 0.5 * x * u)
    out[p <= 0.0] = -np.inf
    out[p >= 1.0] = np.inf
    return out


def column_values(kind: int, params: np.ndarray, key: np.uint64, start: int, n: int) -> np.ndarray:
    """Values of draws ``start..start+n-1`` of one column of a :class:`~uncertain_cost.sampling.design.ColumnPlan`.

    The same numbers as the compiled fused kernel for the constant, lognormal, normal and
    truncated-normal kinds (``KIND_GENERIC`` columns are not handled here).

    Parameters
    ----------
    kind : int
        ``KIND_*`` code.
    params : ndarray, shape (6,)
    key : numpy.uint64
    start, n : int

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    if kind == KIND_CONSTANT:
        return np.full(n, params[0])
    z = normal_column(key, start, n)
    if kind == KIND_LOGNORMAL:
        return exp_values(params[0] + params[1] * z)
    if kind == KIND_NORMAL:
        return params[0] + params[1] * z
    if kind == KIND_TRUNCNORMAL:
        x = params[0] + params[1] * ndtri_values(params[2] + ndtr_values(z) * (params[3] - params[2]))
        x = np.where(x < params[4], params[4], x)
        return np.where(x > params[5], params[5], x)
    raise ValueError(f"no NumPy transform for column kind {kind}")
