"""The growth model's log posterior density and gradient: one numba kernel, the only form in src.

The model (one cost method, `uncertain_cost.growth.bayes`): ``y ~ N(X c + v, C)`` with ``C``
the Monte Carlo covariance of the observed log10 costs (eigenvalues floored), the coefficients
``c = (intercept, slope) ~ N(c0, P0^-1)`` integrated out exactly, so that
``y - v ~ N(X c0, S)``, ``S = C + X P0^-1 X'``, and the per-model effects
``v_i = raw_i * s**a_i``, ``raw_i ~ StudentT(nu, 0, s**(1 - a_i))`` (partial non-centring,
weights ``a`` fixed before sampling). ``S^-1`` (``lam``) and ``log det S`` depend on the data
only, so one evaluation is a Student-t sum plus one ``n x n`` matrix-vector product.

Unconstrained coordinates ``theta = (log scatter_model, log nu, model_effect_raw[0..n))``;
priors ``scatter_model ~ Gamma(2, rate 2 / scatter_model_mean)`` and ``nu ~ Gamma(nu_alpha,
rate nu_beta)``, each with its log-Jacobian. The same model written with scipy's densities and
as a PyMC graph are test references only (``tests/growth/reference_density.py``): the kernel
equals the first to 1e-9 (relative) and the second to 1e-6 (value) and 1e-6 (gradient).

`logp_callback` and `expand_callback` are the C callbacks nutpie's Rust NUTS calls
(`uncertain_cost.growth.native`): they read every array from one packed float64 buffer
(`pack`), so they are compiled once and cached on disk for every data set. They live in this
file because numba's disk cache is invalidated by a change of the file a function is defined
in, not of the functions it calls. NumPy's error model: an overflow at an extreme point gives
``-inf`` (a rejected point), never an exception.
"""

from __future__ import annotations

import math

import numpy as np
from numba import carray, cfunc, njit, types

__all__ = ["HEADER_SIZE", "digamma", "logp_and_grad", "pack", "unpacked_logp_and_grad"]

LOG_PI = math.log(math.pi)

#: n, const (``-0.5 (log det S + n log 2 pi)``), scatter_model_mean, nu_alpha, nu_beta
HEADER_SIZE = 5


@njit(cache=True, error_model="numpy")
def digamma(x: float) -> float:
    """Digamma function for x > 0 (recurrence to x >= 10, then the asymptotic series)."""
    result = 0.0
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 / 132))))
    return result + math.log(x) - 0.5 * inv - series


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def logp_and_grad(theta, resid0, lam, centring, const, scatter_model_mean, nu_alpha, nu_beta):
    """Log posterior density (no constant dropped) and its gradient over ``theta``; -inf if not finite.

    Parameters
    ----------
    theta : ndarray, shape (n + 2,)
    resid0 : ndarray, shape (n,)
        ``y - X c0``.
    lam : ndarray, shape (n, n)
        ``S^-1``.
    centring : ndarray, shape (n,)
        Partial non-centring weights ``a``.
    const : float
        ``-0.5 (log det S + n log(2 pi))``.
    scatter_model_mean, nu_alpha, nu_beta : float
        Priors.

    Returns
    -------
    (float, ndarray)
    """
    n = resid0.size
    grad = np.zeros(theta.size)
    t_s, t_nu = theta[0], theta[1]
    s = math.exp(t_s)
    nu = math.exp(t_nu)
    if not (math.isfinite(s) and math.isfinite(nu)) or s <= 0.0 or nu <= 0.0:
        return -np.inf, grad
    rate = 2.0 / scatter_model_mean  # Gamma(2, rate) plus the log-Jacobian (lgamma(2) = 0)
    logp = 2.0 * math.log(rate) + 2.0 * t_s - rate * s
    grad[0] = 2.0 - rate * s
    logp += nu_alpha * math.log(nu_beta) - math.lgamma(nu_alpha) + nu_alpha * t_nu - nu_beta * nu
    grad[1] = nu_alpha - nu_beta * nu

    # per-model effects: raw ~ StudentT(nu, 0, s**(1 - a)), effect = raw * s**a
    c_t = math.lgamma(0.5 * (nu + 1.0)) - math.lgamma(0.5 * nu) - 0.5 * (math.log(nu) + LOG_PI)
    dnu_const = 0.5 * digamma(0.5 * (nu + 1.0)) - 0.5 * digamma(0.5 * nu) - 0.5 / nu
    dnu = 0.0
    s2 = s * s
    ws = np.empty(3 * n)
    r = ws[:n]
    s_pow = ws[n:2 * n]
    effect = ws[2 * n:]
    for i in range(n):
        raw = theta[2 + i]
        a = centring[i]
        s_pow[i] = math.exp(a * t_s)
        sigma2 = s2 / (s_pow[i] * s_pow[i])  # s**(2 (1 - a))
        t2 = raw * raw / sigma2
        q = 1.0 + t2 / nu
        log_q = math.log(q)
        logp += c_t - (1.0 - a) * t_s - 0.5 * (nu + 1.0) * log_q
        grad[2 + i] = -(nu + 1.0) * raw / (nu * sigma2 * q)
        t2q = t2 / q
        grad[0] += (1.0 - a) * (-1.0 + (nu + 1.0) / nu * t2q)
        dnu += dnu_const - 0.5 * log_q + 0.5 * (nu + 1.0) / (nu * nu) * t2q
        effect[i] = raw * s_pow[i]
        r[i] = resid0[i] - effect[i]
    grad[1] += nu * dnu

    # marginal likelihood N(r | 0, S): -0.5 r' lam r + const; d/d effect = lam r
    quad = 0.0
    for i in range(n):
        g = 0.0
        for j in range(n):
            g += lam[i, j] * r[j]
        quad += r[i] * g
        grad[2 + i] += g * s_pow[i]
        grad[0] += g * centring[i] * effect[i]
    logp += const - 0.5 * quad
    if not math.isfinite(logp):
        return -np.inf, np.zeros(theta.size)
    return logp, grad


def pack(resid0, lam, centring, const, scatter_model_mean, nu_alpha, nu_beta) -> np.ndarray:
    """Pack the kernel's arguments into one contiguous float64 buffer (the callbacks' ``user_data``).

    Layout: the header (`HEADER_SIZE` numbers: ``n``, ``const``, ``scatter_model_mean``,
    ``nu_alpha``, ``nu_beta``), then ``resid0`` (n), ``lam`` (n x n, row-major), ``centring`` (n).

    Returns
    -------
    ndarray
    """
    resid0 = np.asarray(resid0, dtype=np.float64).ravel()
    header = np.array([resid0.size, const, scatter_model_mean, nu_alpha, nu_beta], dtype=np.float64)
    parts = [header, resid0, np.asarray(lam, dtype=np.float64).ravel(), np.asarray(centring, dtype=np.float64)]
    return np.ascontiguousarray(np.concatenate(parts))


@njit(cache=True, error_model="numpy")
def unpacked_logp_and_grad(theta, buf):
    """`logp_and_grad` with every argument read from one packed buffer (`pack`); views, no copies."""
    n = int(buf[0])
    o = HEADER_SIZE
    resid0 = buf[o:o + n]
    lam = buf[o + n:o + n + n * n].reshape((n, n))
    centring = buf[o + n + n * n:o + 2 * n + n * n]
    return logp_and_grad(theta, resid0, lam, centring, buf[1], buf[2], buf[3], buf[4])


_LOGP_SIG = types.int64(types.uint64, types.CPointer(types.double), types.CPointer(types.double),
                        types.CPointer(types.double), types.voidptr)
_EXPAND_SIG = types.int64(types.uint64, types.uint64, types.CPointer(types.double),
                          types.CPointer(types.double), types.voidptr)


@cfunc(_LOGP_SIG, cache=True, error_model="numpy")
def logp_callback(dim, x_, out_, logp_, data_):
    """C log-density callback for nutpie: 0 on success, 3/4 for a non-finite gradient/value."""
    header = carray(data_, (HEADER_SIZE,), dtype=np.float64)
    n = int(header[0])
    buf = carray(data_, (HEADER_SIZE + 2 * n + n * n,), dtype=np.float64)
    x = carray(x_, (dim,))
    out = carray(out_, (dim,))
    value, grad = unpacked_logp_and_grad(x.copy(), buf)
    carray(logp_, (1,))[0] = value
    for k in range(dim):
        out[k] = grad[k]
    if not np.isfinite(value):
        return 4
    for k in range(dim):
        if not np.isfinite(grad[k]):
            return 3
    return 0


@cfunc(_EXPAND_SIG, cache=True)
def expand_callback(dim, expanded, x_, out_, data_):
    """C expand callback for nutpie: the draw is ``theta`` itself."""
    if dim != expanded:
        return -1
    x = carray(x_, (dim,))
    out = carray(out_, (expanded,))
    for k in range(dim):
        out[k] = x[k]
    return 0
