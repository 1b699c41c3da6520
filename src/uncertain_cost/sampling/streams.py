"""Counter-based keyed random streams, standard-normal scores and marginal transforms in numba.

Seed scheme :data:`SEED_SCHEME` (recorded in every output's provenance). Each random
column (an input and one of its column names: ``"*"``, a chip or a model) owns a 64-bit
stream key ``k = mix(mix(mix(seed) ^ crc32(input)) ^ crc32(column))`` where ``mix`` is the
SplitMix64 finalizer. Draw ``i`` of that column is a pure function of ``(k, i)``: the word
``mix(k + (i + 1) * GAMMA)`` feeds a 256-layer ziggurat (Marsaglia & Tsang 2000, numpy's
layout); the rare rejections continue the chain ``w <- mix(w + GAMMA)``. So any draw can be
generated on its own, in any order, on any thread and in any block size: results depend
neither on the thread count, nor on the chunking, nor on which other models are present.

The standard-normal *score* ``z`` of every draw is produced by one function,
:func:`normal_scores` (scores of some columns over a range of draws); an input's value is
its marginal's inverse CDF of ``Phi(z)``, computed by :func:`transform_scores`, which is
exact identity algebra for the lognormal (``exp(mu + sigma z)``) and normal families. A
Gaussian copula can be applied to the scores between those two steps.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from uncertain_cost import kernel_cache  # noqa: F401  (before any kernel: keys numba's cache on its sources)
from uncertain_cost.sampling.scheme import (  # noqa: F401  (the scheme's constants, defined without numba)
    _A,
    _B,
    _C,
    _D,
    _EXP_C,
    _EXP_LIMIT,
    _FI,
    _KI,
    _LN2_HI,
    _LN2_LO,
    _LOG2E,
    _LOW8,
    _LOW52,
    _M1,
    _M2,
    _ONE,
    _R,
    _S1,
    _S8,
    _S11,
    _S27,
    _S30,
    _S31,
    _SQRT1_2,
    _SQRT_2PI,
    _TO_UNIT,
    _WI,
    GAMMA,
    KIND_CONSTANT,
    KIND_GENERIC,
    KIND_LOGNORMAL,
    KIND_NORMAL,
    KIND_TRUNCNORMAL,
    SEED_SCHEME,
    stable_key,
    stream_key,
)

__all__ = [
    "SEED_SCHEME",
    "KIND_CONSTANT",
    "KIND_LOGNORMAL",
    "KIND_NORMAL",
    "KIND_TRUNCNORMAL",
    "KIND_GENERIC",
    "stable_key",
    "stream_key",
    "normal_scores",
    "uniforms",
    "transform_scores",
    "exp_into",
    "ndtr",
    "ndtri",
]



@njit(inline="always", cache=True)
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(inline="always", cache=True)
def _unit(w):
    """Map a 64-bit word to a uniform double in [0, 1)."""
    return np.float64(w >> _S11) * _TO_UNIT


@njit(cache=True)
def _normal_slow(w, idx, sign, x, ki, wi, fi):
    """Ziggurat rejection branch (under 1 % of draws): continue the word chain."""
    while True:
        if idx == 0:  # tail beyond r
            while True:
                w = _mix(w + GAMMA)
                xx = -math.log1p(-_unit(w)) / _R
                w = _mix(w + GAMMA)
                yy = -math.log1p(-_unit(w))
                if yy + yy > xx * xx:
                    return -(_R + xx) if sign else _R + xx
        w = _mix(w + GAMMA)
        if (fi[idx - 1] - fi[idx]) * _unit(w) + fi[idx] < math.exp(-0.5 * x * x):
            return x
        w = _mix(w + GAMMA)
        idx = np.int64(w & _LOW8)
        h = w >> _S8
        sign = (h & _ONE) != 0
        rabs = (h >> _S1) & _LOW52
        x = np.float64(rabs) * wi[idx]
        if sign:
            x = -x
        if rabs < ki[idx]:
            return x


@njit(inline="always", cache=True)
def normal_at(key, i, ki, wi, fi):
    """Return standard normal number ``i`` of the stream ``key`` (pure function of both)."""
    w = _mix(key + np.uint64(i + 1) * GAMMA)
    idx = np.int64(w & _LOW8)
    h = w >> _S8
    sign = (h & _ONE) != 0
    rabs = (h >> _S1) & _LOW52
    x = np.float64(rabs) * wi[idx]
    if sign:
        x = -x
    if rabs < ki[idx]:
        return x
    return _normal_slow(w, idx, sign, x, ki, wi, fi)


@njit(parallel=True, cache=True)
def _scores(keys, start, out, ki, wi, fi):
    n_cols, n = out.shape
    for c in prange(n_cols):
        key = keys[c]
        for r in range(n):
            out[c, r] = normal_at(key, start + r, ki, wi, fi)


def normal_scores(keys: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Standard-normal scores of draws ``start..stop-1`` of each stream in ``keys``.

    This is the one place scores are produced; a copula acts on its output.

    Parameters
    ----------
    keys : ndarray of uint64, shape (n_columns,)
        Stream keys from :func:`stream_key`.
    start, stop : int
        Global draw range.

    Returns
    -------
    ndarray, shape (n_columns, stop - start)
    """
    if not 0 <= start <= stop:
        raise ValueError(f"bad draw range {start}..{stop}")
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    out = np.empty((keys.shape[0], stop - start))
    _scores(keys, np.int64(start), out, _KI, _WI, _FI)
    return out


@njit(parallel=True, cache=True)
def _uniforms(key, start, out):
    for r in prange(out.shape[0]):
        out[r] = _unit(_mix(key + np.uint64(start + r + 1) * GAMMA))


def uniforms(key: np.uint64, start: int, stop: int) -> np.ndarray:
    """Uniform numbers in [0, 1) of draws ``start..stop-1`` of the stream ``key``.

    Parameters
    ----------
    key : numpy.uint64
    start, stop : int

    Returns
    -------
    ndarray, shape (stop - start,)
    """
    if not 0 <= start <= stop:
        raise ValueError(f"bad draw range {start}..{stop}")
    out = np.empty(stop - start)
    _uniforms(np.uint64(key), np.int64(start), out)
    return out




@njit(inline="always", cache=True)
def ndtr(z):
    """Evaluate the standard normal CDF."""
    return 0.5 * math.erfc(-z * _SQRT1_2)


@njit(cache=True)
def ndtri(p):
    """Evaluate the standard normal quantile (Acklam + one Halley step, ~1e-15 relative)."""
    if p <= 0.0:
        return -np.inf
    if p >= 1.0:
        return np.inf
    if p < 0.02425:
        q = math.sqrt(-2.0 * math.log(p))
        x = ((((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5])
             / ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0))
    elif p > 1.0 - 0.02425:
        q = math.sqrt(-2.0 * math.log1p(-p))
        x = -((((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5])
              / ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0))
    else:
        q = p - 0.5
        r = q * q
        x = ((((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q
             / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0))
    e = ndtr(x) - p
    u = e * _SQRT_2PI * math.exp(0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)




@njit(cache=True)
def exp_into(y, out, bits):
    """Write ``exp(y)`` into ``out`` (a loop the compiler vectorizes; within 1 ulp of libm).

    Cody-Waite reduction ``y = k ln2 + r``, a degree-13 Taylor polynomial on
    ``|r| <= ln2 / 2`` and ``2**k`` built from its exponent bits in ``bits`` (int64
    scratch of the same length). Arguments beyond +-700 or NaN use ``math.exp``.
    """
    n = y.shape[0]
    for i in range(n):
        x = y[i]
        if not abs(x) <= _EXP_LIMIT:
            x = 0.0
        k = np.floor(x * _LOG2E + 0.5)
        r = (x - k * _LN2_HI) - k * _LN2_LO
        p = _EXP_C[13]
        p = p * r + _EXP_C[12]
        p = p * r + _EXP_C[11]
        p = p * r + _EXP_C[10]
        p = p * r + _EXP_C[9]
        p = p * r + _EXP_C[8]
        p = p * r + _EXP_C[7]
        p = p * r + _EXP_C[6]
        p = p * r + _EXP_C[5]
        p = p * r + _EXP_C[4]
        p = p * r + _EXP_C[3]
        p = p * r + _EXP_C[2]
        p = p * r + 1.0
        p = p * r + 1.0
        out[i] = p
        bits[i] = (np.int64(k) + 1023) << 52
    scale = bits.view(np.float64)
    for i in range(n):
        out[i] *= scale[i]
    for i in range(n):
        if not abs(y[i]) <= _EXP_LIMIT:
            out[i] = math.exp(y[i])


@njit(inline="always", cache=True)
def lognormal_column(key, mu, sigma, start, n, tmp, out, bits, ki, wi, fi):
    """Lognormal draws ``start..start+n-1`` of stream ``key`` into ``out[:n]``."""
    for r in range(n):
        tmp[r] = mu + sigma * normal_at(key, start + r, ki, wi, fi)
    exp_into(tmp[:n], out[:n], bits[:n])


@njit(inline="always", cache=True)
def transform_one(kind, params, z):
    """Marginal value of score ``z`` for a column of transform ``kind`` (not lognormal).

    ``params``: constant ``(value,)``; normal ``(loc, scale)``; truncated normal
    ``(loc, scale, a, b, low, high)`` with ``a, b`` the CDF at the bounds. Lognormal
    columns (``(mu, sigma)``) go through the vectorized :func:`exp_into` instead.
    """
    if kind == KIND_NORMAL:
        return params[0] + params[1] * z
    if kind == KIND_TRUNCNORMAL:
        x = params[0] + params[1] * ndtri(params[2] + ndtr(z) * (params[3] - params[2]))
        if x < params[4]:
            x = params[4]
        if x > params[5]:
            x = params[5]
        return x
    return params[0]


@njit(parallel=True, cache=True)
def _transform(kinds, params, z, out):
    n_cols, n = z.shape
    for c in prange(n_cols):
        if kinds[c] == KIND_LOGNORMAL:
            tmp = np.empty(n)
            for r in range(n):
                tmp[r] = params[c, 0] + params[c, 1] * z[c, r]
            exp_into(tmp, out[c], np.empty(n, dtype=np.int64))
        else:
            for r in range(n):
                out[c, r] = transform_one(kinds[c], params[c], z[c, r])


def transform_scores(kinds: np.ndarray, params: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Apply compiled marginal transforms to scores, column by column.

    Parameters
    ----------
    kinds : ndarray of int64, shape (n_columns,)
        ``KIND_*`` codes (``KIND_GENERIC`` columns are returned as ``Phi(z)``'s caller's job:
        they come back unchanged and must be transformed with the distribution's ``ppf``).
    params : ndarray, shape (n_columns, 6)
    z : ndarray, shape (n_columns, n)

    Returns
    -------
    ndarray, shape (n_columns, n)
    """
    if z.shape[0] != kinds.shape[0] or params.shape[0] != kinds.shape[0]:
        raise ValueError("kinds, params and z disagree on the number of columns")
    out = np.empty_like(z)
    _transform(np.ascontiguousarray(kinds, dtype=np.int64), np.ascontiguousarray(params, dtype=np.float64),
               np.ascontiguousarray(z, dtype=np.float64), out)
    generic = kinds == KIND_GENERIC
    out[generic] = z[generic]
    return out
