"""numba kernel of the growth model's log density and gradient (the hot spot of the fit).

Same interface and numbers as `LogDensity._logp_and_grad` (the NumPy reference in
`uncertain_cost.growth.density`); a test checks the two agree. Loops instead of temporary
arrays: one call is a few microseconds where the NumPy version spends ~100 in call overhead.
All temporaries are views of one workspace (one allocation per call); the design is stored
transposed so that every sum over observations runs over contiguous memory, and the compiler
may reorder those sums (``fastmath={"reassoc", "contract"}``: vectorised reductions and fused
multiply-adds, no change to inf/nan handling; the value agrees with the NumPy reference to
~1e-12 relative). The spreads' trace terms use ``A^-1 X'QX = I - A^-1 P0`` instead of the
(K, n_obs) product ``A^-1 X'Q``. ``benchmarks/bench_growth.py --kernel`` times a call
against the NumPy reference (on 2026-12-02, 84 observations: 8.6 us a call, half the time of
the previous version of this kernel, which used BLAS products and one array per temporary).
Compiled on first use and cached on disk (``cache=True``), as the cost kernels. NumPy's
error model: a division by zero or an overflow at an extreme point gives inf/nan, which the
kernel turns into ``-inf`` (a rejected point), instead of a ``ZeroDivisionError`` that ended
a fit (seen once in 600 calibration fits, acquisition replicate 153 of seed 2026).
"""

from __future__ import annotations

import math

import numpy as np
from numba import carray, cfunc, njit, types

LOG_2PI = math.log(2.0 * math.pi)
HALF_LOG_2_OVER_PI = 0.5 * math.log(2.0 / math.pi)


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


@njit(cache=True, error_model="numpy")
def _sum_log(values):
    """``sum(log(values))`` for positive ``values``: one log per block of 8 products.

    A block whose product leaves [1e-290, 1e290] (possible only for extreme values) is
    summed term by term instead.
    """
    total = 0.0
    n = values.size
    i = 0
    while i < n:
        stop = min(i + 8, n)
        prod = 1.0
        for j in range(i, stop):
            prod *= values[j]
        if 1e-290 <= prod <= 1e290:
            total += math.log(prod)
        else:
            for j in range(i, stop):
                total += math.log(values[j])
        i = stop
    return total


@njit(cache=True, error_model="numpy")
def _cholesky_inverse(prec, chol, linv, prec_inv):
    """Lower Cholesky factor ``chol`` of ``prec``, ``linv = chol^-1`` and ``prec_inv``; False unless positive definite.

    Plain loops (no reordering: the matrices are K x K with K about 8, where vectorised
    loops cost more than they save).
    """
    kdim = prec.shape[0]
    for r in range(kdim):
        for c in range(kdim):
            chol[r, c] = 0.0
            linv[r, c] = 0.0
    for r in range(kdim):
        for c in range(r + 1):
            acc = prec[r, c]
            for t in range(c):
                acc -= chol[r, t] * chol[c, t]
            if r == c:
                if acc <= 0.0:
                    return False
                chol[r, r] = math.sqrt(acc)
            else:
                chol[r, c] = acc / chol[c, c]
    # inverse from the Cholesky factor: L^-1 by forward substitution, then L^-T L^-1
    for c in range(kdim):
        linv[c, c] = 1.0 / chol[c, c]
        for r in range(c + 1, kdim):
            acc = 0.0
            for t in range(c, r):
                acc -= chol[r, t] * linv[t, c]
            linv[r, c] = acc / chol[r, r]
    for r in range(kdim):
        for c in range(r + 1):
            acc = 0.0
            for t in range(r, kdim):
                acc += linv[t, r] * linv[t, c]
            prec_inv[r, c] = acc
            prec_inv[c, r] = acc
    return True


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def logp_and_grad(theta, x_rot, y_rot, xc0, p0, prior_logdet, eigvals, vt, mi, ii, centring, basis,
                  intercept_spread_sd, slope_spread_sd, loading_sd, scatter_method_sd, scatter_model_mean,
                  nu_alpha, nu_beta):
    """Log density and gradient over ``theta`` (layout of `LogDensity`); -inf if not finite.

    The number of methods ``M`` is ``basis.shape[0]`` (``basis`` is (1, 0) with one method).
    Extra Gaussian coefficients (the repaired model's contrast terms,
    `uncertain_cost.growth.repaired`) are the columns of ``x_rot`` after its ``2M`` method
    columns, used unscaled; their prior precisions follow the ``2M + 2`` (or 2) of ``p0``
    and their prior means are in ``xc0``. ``n_extra = x_rot.shape[1] - 2M`` (0: the joint
    or single model). ``scatter_method_sd > 0`` is the scale of a HalfNormal prior on
    ``scatter_method``; a negative value ``-s`` selects the zero-avoiding Gamma(2, rate 2/s)
    (mean ``s`` dex) instead.
    """
    n_obs = y_rot.size
    n_u = centring.size
    m = basis.shape[0]
    n_extra = x_rot.shape[1] - 2 * m
    size = theta.size
    grad = np.zeros(size)
    logp = 0.0
    if m > 1:
        i_sm, i_nu, i_raw = m + 2, m + 3, m + 4
    else:
        i_sm, i_nu, i_raw = 0, 1, 2
    k_base = 2 * m + 2 if m > 1 else 2
    kdim = k_base + n_extra

    # one workspace for every temporary (one allocation per call); the design is stored
    # transposed, (K, n_obs), so that the sums over observations run over contiguous memory
    n_ws = (kdim + 9) * n_obs + 5 * kdim * kdim + 2 * kdim + 3 * n_u + 2 * m
    ws = np.empty(n_ws)
    o = 0
    design_t = ws[o:o + kdim * n_obs].reshape((kdim, n_obs))
    o += kdim * n_obs
    var_obs = ws[o:o + n_obs]
    o += n_obs
    qd = ws[o:o + n_obs]
    o += n_obs
    k_vec = ws[o:o + n_obs]
    o += n_obs
    u = ws[o:o + n_obs]
    o += n_obs
    qu = ws[o:o + n_obs]
    o += n_obs
    e = ws[o:o + n_obs]
    o += n_obs
    dk = ws[o:o + n_obs]
    o += n_obs
    row_q = ws[o:o + n_obs]
    o += n_obs
    row_q2 = ws[o:o + n_obs]
    o += n_obs
    prec = ws[o:o + kdim * kdim].reshape((kdim, kdim))
    o += kdim * kdim
    sq = ws[o:o + kdim * kdim].reshape((kdim, kdim))  # X' Q^2 X
    o += kdim * kdim
    chol = ws[o:o + kdim * kdim].reshape((kdim, kdim))
    o += kdim * kdim
    linv = ws[o:o + kdim * kdim].reshape((kdim, kdim))
    o += kdim * kdim
    prec_inv = ws[o:o + kdim * kdim].reshape((kdim, kdim))
    o += kdim * kdim
    b = ws[o:o + kdim]
    o += kdim
    alpha = ws[o:o + kdim]
    o += kdim
    effect = ws[o:o + n_u]
    o += n_u
    s_pow = ws[o:o + n_u]
    o += n_u
    deffect = ws[o:o + n_u]
    o += n_u
    loading = ws[o:o + m]
    o += m
    dload = ws[o:o + m]

    # --- scales, loadings; rotated design X (n_obs x K), stored as its transpose
    ta = tb = sw = 0.0
    for r in range(m):
        loading[r] = 1.0
    if m > 1:
        ta, tb = math.exp(theta[0]), math.exp(theta[1])
        sw = math.exp(theta[m + 1])
        if not (math.isfinite(ta) and math.isfinite(tb) and math.isfinite(sw)):
            return -np.inf, grad
        if scatter_method_sd > 0.0:
            for k, x, sd in ((0, ta, intercept_spread_sd), (1, tb, slope_spread_sd),
                             (m + 1, sw, scatter_method_sd)):
                logp += HALF_LOG_2_OVER_PI - math.log(sd) - 0.5 * (x / sd) ** 2 + theta[k]
                grad[k] += 1.0 - (x / sd) ** 2
        else:
            for k, x, sd in ((0, ta, intercept_spread_sd), (1, tb, slope_spread_sd)):
                logp += HALF_LOG_2_OVER_PI - math.log(sd) - 0.5 * (x / sd) ** 2 + theta[k]
                grad[k] += 1.0 - (x / sd) ** 2
            rate_sm = -2.0 / scatter_method_sd  # Gamma(2, rate), plus the log-Jacobian
            logp += 2.0 * math.log(rate_sm) + 2.0 * theta[m + 1] - rate_sm * sw
            grad[m + 1] += 2.0 - rate_sm * sw
        for j in range(m - 1):
            z = theta[2 + j]
            logp += -0.5 * z * z / loading_sd**2 - math.log(loading_sd) - 0.5 * LOG_2PI
            grad[2 + j] += -z / loading_sd**2
        for r in range(m):
            acc = 0.0
            for j in range(m - 1):
                acc += basis[r, j] * theta[2 + j]
            loading[r] = math.exp(acc)
        for i in range(n_obs):
            sa = 0.0
            sb = 0.0
            for r in range(m):
                sa += x_rot[i, r]
                sb += x_rot[i, m + r]
                design_t[1 + r, i] = ta * x_rot[i, r]
                design_t[m + 2 + r, i] = tb * x_rot[i, m + r]
            design_t[0, i] = sa
            design_t[m + 1, i] = sb
            var_obs[i] = eigvals[i] + sw * sw
    else:
        for i in range(n_obs):
            design_t[0, i] = x_rot[i, 0]
            design_t[1, i] = x_rot[i, 1]
            var_obs[i] = eigvals[i]
    for i in range(n_obs):
        for c in range(n_extra):
            design_t[k_base + c, i] = x_rot[i, 2 * m + c]

    s = math.exp(theta[i_sm])
    nu = math.exp(theta[i_nu])
    if not (math.isfinite(s) and math.isfinite(nu)) or s <= 0.0 or nu <= 0.0:
        return -np.inf, grad
    rate = 2.0 / scatter_model_mean
    logp += 2.0 * math.log(rate) + 2.0 * theta[i_sm] - rate * s
    grad[i_sm] += 2.0 - rate * s
    logp += nu_alpha * math.log(nu_beta) - math.lgamma(nu_alpha) + nu_alpha * theta[i_nu] - nu_beta * nu
    grad[i_nu] += nu_alpha - nu_beta * nu

    # --- per-model effects: raw ~ StudentT(nu, 0, s**(1 - a)), effect = raw * s**a
    const = math.lgamma(0.5 * (nu + 1.0)) - math.lgamma(0.5 * nu) - 0.5 * math.log(nu * math.pi)
    dnu_const = 0.5 * digamma(0.5 * (nu + 1.0)) - 0.5 * digamma(0.5 * nu) - 0.5 / nu
    dnu = 0.0
    s2 = s * s
    for i in range(n_u):
        raw = theta[i_raw + i]
        a = centring[i]
        log_sigma = (1.0 - a) * theta[i_sm]
        s_pow[i] = math.exp(a * theta[i_sm])
        sigma2 = s2 / (s_pow[i] * s_pow[i])  # s**(2 (1 - a))
        t2 = raw * raw / sigma2
        q = 1.0 + t2 / nu
        log_q = math.log(q)
        logp += const - log_sigma - 0.5 * (nu + 1.0) * log_q
        grad[i_raw + i] += -(nu + 1.0) * raw / (nu * sigma2 * q)
        t2q = t2 / q
        grad[i_sm] += (1.0 - a) * (-1.0 + (nu + 1.0) / nu * t2q)
        dnu += dnu_const - 0.5 * log_q + 0.5 * (nu + 1.0) / (nu * nu) * t2q
        effect[i] = raw * s_pow[i]
        deffect[i] = 0.0
    grad[i_nu] += nu * dnu

    # --- exact marginal likelihood of V'y ~ N(X c0 + V'k, D + X P0^-1 X')
    for j in range(n_obs):
        k_vec[j] = loading[mi[j]] * effect[ii[j]]
        qd[j] = 1.0 / var_obs[j]
    for i in range(n_obs):  # u = V'y - V'k - X c0 (rows of vt: contiguous dot products)
        acc = 0.0
        for j in range(n_obs):
            acc += vt[i, j] * k_vec[j]
        u[i] = y_rot[i] - acc - xc0[i]
        qu[i] = qd[i] * u[i]
    # A = X'QX + P0 and X'Q^2X (lower triangles, mirrored)
    for r in range(kdim):
        for i in range(n_obs):
            row_q[i] = design_t[r, i] * qd[i]
            row_q2[i] = row_q[i] * qd[i]
        for c in range(r + 1):
            acc = 0.0
            acc2 = 0.0
            for i in range(n_obs):
                acc += row_q[i] * design_t[c, i]
                acc2 += row_q2[i] * design_t[c, i]
            prec[r, c] = acc
            prec[c, r] = acc
            sq[r, c] = acc2
            sq[c, r] = acc2
        prec[r, r] += p0[r]
    # Cholesky by hand (K is 2M + 2 plus the extra columns): positive definite or reject the point
    if not _cholesky_inverse(prec, chol, linv, prec_inv):
        return -np.inf, grad
    for k in range(kdim):  # b = X'Q u
        acc = 0.0
        for i in range(n_obs):
            acc += design_t[k, i] * qu[i]
        b[k] = acc
    for r in range(kdim):
        acc = 0.0
        for c in range(kdim):
            acc += prec_inv[r, c] * b[c]
        alpha[r] = acc
    quad = 0.0
    for j in range(n_obs):
        quad += qu[j] * u[j]
    logdet = prior_logdet + _sum_log(var_obs)
    for k in range(kdim):
        quad -= b[k] * alpha[k]
        logdet += 2.0 * math.log(chol[k, k])
    logp += -0.5 * (quad + logdet + n_obs * LOG_2PI)

    # e = S^-1 u = Q (u - X alpha); d loglik / d k = V e (rows of vt: contiguous updates)
    for i in range(n_obs):
        e[i] = u[i]
        dk[i] = 0.0
    for k in range(kdim):
        for i in range(n_obs):
            e[i] -= design_t[k, i] * alpha[k]
    for i in range(n_obs):
        e[i] *= qd[i]
    i = 0
    while i + 4 <= n_obs:  # four rows of vt per pass over dk
        e0, e1, e2, e3 = e[i], e[i + 1], e[i + 2], e[i + 3]
        for j in range(n_obs):
            dk[j] += e0 * vt[i, j] + e1 * vt[i + 1, j] + e2 * vt[i + 2, j] + e3 * vt[i + 3, j]
        i += 4
    while i < n_obs:
        ei = e[i]
        for j in range(n_obs):
            dk[j] += ei * vt[i, j]
        i += 1
    for r in range(m):
        dload[r] = 0.0
    for j in range(n_obs):
        deffect[ii[j]] += loading[mi[j]] * dk[j]
        dload[mi[j]] += effect[ii[j]] * dk[j]
    for i in range(n_u):
        grad[i_raw + i] += deffect[i] * s_pow[i]
        grad[i_sm] += deffect[i] * centring[i] * effect[i]
    if m > 1:
        for j in range(m - 1):
            acc = 0.0
            for r in range(m):
                acc += basis[r, j] * dload[r] * loading[r]
            grad[2 + j] += acc
        # tr(S^-1) = tr(Q) - tr(A^-1 X'Q^2X)
        tr_sinv = 0.0
        ee = 0.0
        for j in range(n_obs):
            tr_sinv += qd[j]
            ee += e[j] * e[j]
        for r in range(kdim):
            for c in range(kdim):
                tr_sinv -= prec_inv[r, c] * sq[c, r]
        grad[m + 1] += sw * sw * (ee - tr_sinv)
        # d/d log t of the spread columns: t^2 |X_t' e|^2 - t tr(X_t' S^-1 X_t), where
        # t tr(...) = sum over the block of (1 - (A^-1)_kk P0_kk) since A^-1 X'QX = I - A^-1 P0
        for which in range(2):
            blk0 = 1 if which == 0 else m + 2  # rows of design_t (the t-scaled block)
            xe2 = 0.0
            tr = 0.0
            for r in range(m):
                xe = 0.0
                for i in range(n_obs):
                    xe += e[i] * design_t[blk0 + r, i]
                xe2 += xe * xe
                tr += 1.0 - prec_inv[blk0 + r, blk0 + r] * p0[blk0 + r]
            grad[which] += xe2 - tr
    if not math.isfinite(logp):
        return -np.inf, np.zeros(size)
    return logp, grad


@njit(cache=True, error_model="numpy")
def conditional_coefficients(x_rot, p0, c0, eigvals, resid, spreads, sw2, noise, m):
    """One draw of the Gaussian coefficients ``c`` per posterior draw (rows of ``resid``).

    Given draw ``d``'s spreads ``spreads[d] = (intercept_spread, slope_spread)``, scatter
    ``sw2[d]`` (``scatter_method**2``; 0 with one method) and rotated residual
    ``resid[d] = V'(y - k)``, the conditional posterior of ``c`` is ``N(A^-1 r, A^-1)`` with
    ``A = P0 + X'QX``, ``r = P0 c0 + X'Q resid``, ``Q = (D + sw2)^-1`` and the design ``X`` of
    `uncertain_cost.growth.bayes.Linear.design`; the draw is ``A^-1 r + L^-T noise[d]``
    (``A = L L'``). One thread: 4000 draws take ~20 ms, less than compiling or loading a
    parallel version costs a process; a draw whose ``A`` is not positive definite is nan.
    """
    n_s, k_dim = noise.shape
    n_obs, n_cols = x_rot.shape
    k_base = 2 * m + 2 if m > 1 else 2
    n_extra = n_cols - 2 * m
    out = np.empty((n_s, k_dim))
    for d in range(n_s):
        design = np.empty((n_obs, k_dim))
        qd = np.empty(n_obs)
        ta, tb = spreads[d, 0], spreads[d, 1]
        for i in range(n_obs):
            qd[i] = 1.0 / (eigvals[i] + sw2[d])
            if m > 1:
                sa = 0.0
                sb = 0.0
                for r in range(m):
                    sa += x_rot[i, r]
                    sb += x_rot[i, m + r]
                    design[i, 1 + r] = ta * x_rot[i, r]
                    design[i, m + 2 + r] = tb * x_rot[i, m + r]
                design[i, 0] = sa
                design[i, m + 1] = sb
            else:
                design[i, 0] = x_rot[i, 0]
                design[i, 1] = x_rot[i, 1]
            for e in range(n_extra):
                design[i, k_base + e] = x_rot[i, 2 * m + e]
        prec = np.zeros((k_dim, k_dim))
        rhs = np.empty(k_dim)
        for r in range(k_dim):
            acc = p0[r] * c0[r]
            for i in range(n_obs):
                acc += design[i, r] * qd[i] * resid[d, i]
            rhs[r] = acc
            for c in range(r + 1):
                acc = 0.0
                for i in range(n_obs):
                    acc += design[i, r] * qd[i] * design[i, c]
                prec[r, c] = acc
            prec[r, r] += p0[r]
        chol = np.zeros((k_dim, k_dim))
        ok = True
        for r in range(k_dim):
            for c in range(r + 1):
                acc = prec[r, c]
                for t in range(c):
                    acc -= chol[r, t] * chol[c, t]
                if r == c:
                    if not acc > 0.0:
                        ok = False
                        break
                    chol[r, r] = math.sqrt(acc)
                else:
                    chol[r, c] = acc / chol[c, c]
            if not ok:
                break
        if not ok:
            for r in range(k_dim):
                out[d, r] = np.nan
            continue
        # mean: L y = rhs, L' x = y; noise: L' z = noise[d]; c = x + z (one back substitution)
        y = np.empty(k_dim)
        for r in range(k_dim):
            acc = rhs[r]
            for t in range(r):
                acc -= chol[r, t] * y[t]
            y[r] = acc / chol[r, r]
        for r in range(k_dim - 1, -1, -1):
            acc = y[r] + noise[d, r]
            for t in range(r + 1, k_dim):
                acc -= chol[t, r] * out[d, t]
            out[d, r] = acc / chol[r, r]
    return out


# --------------------------------------------------------------- nutpie's C callbacks
#: n_obs, m, n_u, n_cols, k_dim, prior_logdet, then the seven prior scalars of the kernel
HEADER_SIZE = 13

_LOGP_SIG = types.int64(types.uint64, types.CPointer(types.double), types.CPointer(types.double),
                        types.CPointer(types.double), types.voidptr)
_EXPAND_SIG = types.int64(types.uint64, types.uint64, types.CPointer(types.double),
                          types.CPointer(types.double), types.voidptr)


@njit(cache=True, error_model="numpy")
def unpacked_logp_and_grad(theta, buf):
    """`logp_and_grad` with every data array read from one packed buffer (`growth.native`).

    The arrays are views of the buffer (no copy per call); only the two index vectors are
    converted to integers.
    """
    n_obs, m, n_u = int(buf[0]), int(buf[1]), int(buf[2])
    n_cols, k_dim = int(buf[3]), int(buf[4])
    o = HEADER_SIZE
    x_rot = buf[o:o + n_obs * n_cols].reshape((n_obs, n_cols))
    o += n_obs * n_cols
    y_rot = buf[o:o + n_obs]
    o += n_obs
    xc0 = buf[o:o + n_obs]
    o += n_obs
    p0 = buf[o:o + k_dim]
    o += k_dim
    eigvals = buf[o:o + n_obs]
    o += n_obs
    vt = buf[o:o + n_obs * n_obs].reshape((n_obs, n_obs))
    o += n_obs * n_obs
    mi = buf[o:o + n_obs].astype(np.int64)
    o += n_obs
    ii = buf[o:o + n_obs].astype(np.int64)
    o += n_obs
    centring = buf[o:o + n_u]
    o += n_u
    n_b = m - 1 if m > 1 else 0
    basis = buf[o:o + m * n_b].reshape((m, n_b))
    return logp_and_grad(theta, x_rot, y_rot, xc0, p0, buf[5], eigvals, vt, mi, ii, centring, basis,
                         buf[6], buf[7], buf[8], buf[9], buf[10], buf[11], buf[12])


@njit(cache=True, error_model="numpy")
def _buffer_size(header):
    """Length of the packed buffer its header describes."""
    n_obs, m, n_u = int(header[0]), int(header[1]), int(header[2])
    n_cols, k_dim = int(header[3]), int(header[4])
    n_b = m - 1 if m > 1 else 0
    return HEADER_SIZE + n_obs * n_cols + 5 * n_obs + k_dim + n_obs * n_obs + n_u + m * n_b


@cfunc(_LOGP_SIG, cache=True, error_model="numpy")
def logp_callback(dim, x_, out_, logp_, data_):
    """C log-density callback for nutpie: 0 on success, 3/4 for a non-finite gradient/value."""
    header = carray(data_, (HEADER_SIZE,), dtype=np.float64)
    buf = carray(data_, (_buffer_size(header),), dtype=np.float64)
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
