"""The random-stream scheme's plain-Python definitions: seed scheme, stream keys, ziggurat tables, constants.

Everything :mod:`uncertain_cost.sampling.streams` compiles into its kernels that needs no
numba lives here, so that the NumPy mirror (:mod:`uncertain_cost.sampling.numpy_streams`)
and the column layout (:mod:`uncertain_cost.sampling.design`) can be imported without
importing numba (``estimate`` and ``validate`` load no compiled kernel). This file is part of
the kernels' cache stamp (:data:`uncertain_cost.kernel_cache.KERNEL_SOURCES`).
"""

from __future__ import annotations

import math
import zlib

import numpy as np

__all__ = ["SEED_SCHEME", "GAMMA", "KIND_CONSTANT", "KIND_LOGNORMAL", "KIND_NORMAL", "KIND_TRUNCNORMAL",
           "KIND_GENERIC", "stable_key", "stream_key"]

#: version of the random-stream scheme; changes whenever the same seed would give other draws
SEED_SCHEME = "splitmix64-ziggurat-v2"

_MASK64 = (1 << 64) - 1
_GAMMA_INT = 0x9E3779B97F4A7C15
GAMMA = np.uint64(_GAMMA_INT)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_S8, _S1, _S11 = np.uint64(8), np.uint64(1), np.uint64(11)
_LOW8 = np.uint64(0xFF)
_LOW52 = np.uint64((1 << 52) - 1)
_ONE = np.uint64(1)
_TO_UNIT = 2.0**-53

#: marginal transform codes, one per random column
KIND_CONSTANT, KIND_LOGNORMAL, KIND_NORMAL, KIND_TRUNCNORMAL, KIND_GENERIC = 0, 1, 2, 3, 4


def stable_key(text: str) -> int:
    """Stable 32-bit integer for a name (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(text.encode("utf-8"))


def _mix_int(z: int) -> int:
    """SplitMix64 finalizer on Python ints (same arithmetic as the compiled one)."""
    z &= _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def stream_key(seed: int, *names: str) -> np.uint64:
    """64-bit key of the stream named ``names`` (e.g. input and column) under ``seed``.

    Parameters
    ----------
    seed : int
        The run's seed (any non-negative integer; folded to 64 bits).
    *names : str
        Stream names, mixed in order.

    Returns
    -------
    numpy.uint64
    """
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    folded = 0
    while True:
        folded ^= seed & _MASK64
        seed >>= 64
        if not seed:
            break
    k = _mix_int(folded ^ 0x5EED5C4E3E000002)
    for name in names:
        k = _mix_int(k ^ stable_key(name))
    return np.uint64(k)


def _ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """256-layer ziggurat tables for 52-bit magnitudes (numpy's constants r and v)."""
    r, v, m1 = 3.6541528853610088, 0.00492867323399, 2.0**52
    ki = np.zeros(256, dtype=np.uint64)
    wi = np.zeros(256)
    fi = np.zeros(256)
    dn = tn = r
    q = v / math.exp(-0.5 * dn * dn)
    ki[0] = np.uint64(int((dn / q) * m1))
    wi[0], wi[255] = q / m1, dn / m1
    fi[0], fi[255] = 1.0, math.exp(-0.5 * dn * dn)
    for i in range(254, 0, -1):
        dn = math.sqrt(-2.0 * math.log(v / dn + math.exp(-0.5 * dn * dn)))
        ki[i + 1] = np.uint64(int((dn / tn) * m1))
        tn = dn
        fi[i] = math.exp(-0.5 * dn * dn)
        wi[i] = dn / m1
    return ki, wi, fi


_KI, _WI, _FI = _ziggurat_tables()
_R = 3.6541528853610088

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
# Acklam's rational approximation to the normal quantile (refined by one Halley step)
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
      -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
      -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
      4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_EXP_C = tuple(1.0 / math.factorial(k) for k in range(14))
_EXP_LIMIT = 700.0
