"""The growth model's log posterior and its gradient in NumPy: the fast path of the fit.

The same model as the PyMC graph of `uncertain_cost.growth.bayes.build_model` with
``backend="pytensor"`` (tests check both give the same log density and gradient), written by
hand so that PyMC's NUTS sees one small Python op instead of a graph of ~70 C modules: no C
compilation on a cold cache. `LogDensity.logp_and_grad_reference` is the NumPy version; the
sampler calls the numba kernel of `uncertain_cost.growth.kernel` (same numbers, ~10x faster).

The repaired joint model (`uncertain_cost.growth.repaired`) adds Gaussian contrast
coefficients as extra columns of the rotated design (``Linear.n_extra``), integrated out with
the intercepts and slopes; a negative ``scatter_method_sd`` selects its Gamma(2, 2/|sd|)
prior on ``scatter_method``. ``theta`` is the same.

Unconstrained coordinates ``theta`` (the value variables of the PyMC model, in this order)::

    log intercept_spread, log slope_spread, log_loading (M - 1 zero-sum coordinates),
    log scatter_method, log scatter_model, log nu, model_effect_raw (n_models)

(with one method only ``log scatter_model, log nu, model_effect_raw``). The gradient of the
exact marginal likelihood uses ``d log N(u | 0, S) = -S^-1 u du + 1/2 tr[(e e' - S^-1) dS]``
with ``e = S^-1 u``, and ``S^-1 = Q - Q X A^-1 X' Q`` (Woodbury), ``A = P0 + X' Q X``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import psi

from uncertain_cost.growth.data import Measurement

__all__ = ["LogDensity", "zero_sum_basis"]

LOG_2PI = math.log(2.0 * math.pi)
HALF_LOG_2_OVER_PI = 0.5 * math.log(2.0 / math.pi)


def zero_sum_basis(n: int) -> np.ndarray:
    """Orthonormal basis (n, n - 1) of the zero-sum vectors, as PyMC's ``ZeroSumTransform``.

    ``x = B @ y`` maps the ``n - 1`` free coordinates of a ``ZeroSumNormal`` to its value.
    """
    eye = np.eye(n - 1)
    sums = eye.sum(axis=1, keepdims=True)
    norm = sums / (math.sqrt(n) + n)
    fill = norm - sums / math.sqrt(n)
    return (np.concatenate([eye, fill], axis=1) - norm).T


def _half_normal(x: float, sd: float) -> tuple[float, float]:
    """Log density of HalfNormal(sd) at ``x = exp(t)`` plus the log-Jacobian ``t``; d/dt."""
    return HALF_LOG_2_OVER_PI - math.log(sd) - 0.5 * (x / sd) ** 2 + math.log(x), 1.0 - (x / sd) ** 2


@dataclass(frozen=True, eq=False)
class LogDensity:
    """Log posterior density of the growth model over unconstrained coordinates.

    Parameters
    ----------
    measurement : Measurement
    linear : Linear
        From `uncertain_cost.growth.bayes` (rotated design and coefficient prior).
    priors : GrowthPriors
    centring : ndarray, shape (n_models,)
        Partial non-centring weights of the per-model effects.
    """

    measurement: Measurement
    linear: object
    priors: object
    centring: np.ndarray

    def __post_init__(self):
        lin, meas = self.linear, self.measurement
        m = lin.n_methods
        xc0 = (lin.x_rot[:, : m] @ np.full(m, lin.c0[0])
               + lin.x_rot[:, m:2 * m] @ np.full(m, lin.c0[m + 1] if m > 1 else lin.c0[1]))
        if lin.n_extra:  # the extra Gaussian columns' prior means (repaired model)
            xc0 = xc0 + lin.x_rot[:, 2 * m:] @ lin.c0[lin.c0.size - lin.n_extra:]
        object.__setattr__(self, "_xc0", xc0)
        object.__setattr__(self, "_basis", zero_sum_basis(m) if m > 1 else np.zeros((1, 0)))
        object.__setattr__(self, "_vt", np.ascontiguousarray(meas.eigvecs.T))
        object.__setattr__(self, "_v", np.ascontiguousarray(meas.eigvecs))
        object.__setattr__(self, "centring", np.ascontiguousarray(self.centring, dtype=np.float64))

    # ---------------------------------------------------------------- layout

    @property
    def n_methods(self) -> int:
        """Number of methods ``M``."""
        return self.linear.n_methods

    @property
    def n_models(self) -> int:
        """Number of per-model effects."""
        return len(self.measurement.model)

    @property
    def size(self) -> int:
        """Length of ``theta``."""
        m = self.n_methods
        return (m + 4 if m > 1 else 2) + self.n_models

    def _offsets(self) -> dict:
        m = self.n_methods
        if m > 1:
            return {"intercept_spread": 0, "slope_spread": 1, "log_loading": slice(2, m + 1),
                    "scatter_method": m + 1, "scatter_model": m + 2, "nu": m + 3, "raw": slice(m + 4, None)}
        return {"scatter_model": 0, "nu": 1, "raw": slice(2, None)}

    def initial_point(self) -> np.ndarray:
        """Return a central starting point (the sampler jitters it)."""
        theta = np.zeros(self.size)
        o = self._offsets()
        if self.n_methods > 1:
            theta[o["intercept_spread"]] = math.log(0.5 * self.priors.intercept_spread_sd)
            theta[o["slope_spread"]] = math.log(0.5 * self.priors.slope_spread_sd)
            theta[o["scatter_method"]] = math.log(0.3)
        theta[o["scatter_model"]] = math.log(0.3)
        theta[o["nu"]] = math.log(self.priors.nu_alpha / self.priors.nu_beta)
        return theta

    def unpack(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """Named, constrained values of ``theta`` (..., size) -> dict of arrays (..., [dim])."""
        theta = np.asarray(theta, dtype=np.float64)
        o = self._offsets()
        out = {}
        if self.n_methods > 1:
            out["intercept_spread"] = np.exp(theta[..., o["intercept_spread"]])
            out["slope_spread"] = np.exp(theta[..., o["slope_spread"]])
            out["log_loading"] = theta[..., o["log_loading"]] @ self._basis.T
            out["scatter_method"] = np.exp(theta[..., o["scatter_method"]])
        scale = np.exp(theta[..., o["scatter_model"]])
        out["scatter_model"] = scale
        out["nu"] = np.exp(theta[..., o["nu"]])
        raw = theta[..., o["raw"]]
        out["model_effect_raw"] = raw
        out["model_effect"] = raw * scale[..., None] ** self.centring
        return out

    # --------------------------------------------------------------- density

    def logp_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Log posterior density (priors, log-Jacobians, likelihood: no constant dropped) and gradient.

        The numba kernel (`uncertain_cost.growth.kernel`); -inf where the density is not finite.
        """
        from uncertain_cost.growth.kernel import logp_and_grad

        pr, lin, meas = self.priors, self.linear, self.measurement
        logp, grad = logp_and_grad(
            np.ascontiguousarray(theta, dtype=np.float64), lin.x_rot, lin.y_rot, self._xc0, lin.p0,
            lin.prior_logdet, meas.eigvals, self._vt, meas.method_index, meas.model_index, self.centring,
            self._basis, pr.intercept_spread_sd, pr.slope_spread_sd, pr.loading_sd, pr.scatter_method_sd,
            pr.scatter_model_mean, pr.nu_alpha, pr.nu_beta)
        return float(logp), grad

    def logp_and_grad_reference(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """`logp_and_grad` in plain NumPy: the reference the kernel is tested against."""
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                return self._logp_and_grad(np.asarray(theta, dtype=np.float64))
        except (np.linalg.LinAlgError, FloatingPointError, ValueError, OverflowError):
            return -np.inf, np.zeros(self.size)

    def _logp_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        pr, lin, meas = self.priors, self.linear, self.measurement
        m, o = self.n_methods, self._offsets()
        mi, ii, a = meas.method_index, meas.model_index, self.centring
        grad = np.zeros_like(theta)
        logp = 0.0

        # scales, loadings
        if m > 1:
            ta, tb = math.exp(theta[0]), math.exp(theta[1])
            zs = theta[o["log_loading"]]
            loading = np.exp(self._basis @ zs)
            sw = math.exp(theta[o["scatter_method"]])
            for k, (x, sd) in enumerate(((ta, pr.intercept_spread_sd), (tb, pr.slope_spread_sd))):
                lp, g = _half_normal(x, sd)
                logp += lp
                grad[k] += g
            logp += -0.5 * float(zs @ zs) / pr.loading_sd**2 - (m - 1) * (
                math.log(pr.loading_sd) + 0.5 * LOG_2PI)
            grad[o["log_loading"]] += -zs / pr.loading_sd**2
            if pr.scatter_method_sd > 0:
                lp, g = _half_normal(sw, pr.scatter_method_sd)
            else:  # negative: Gamma(2, rate 2 / |sd|), zero-avoiding (the repaired model)
                rate_sm = -2.0 / pr.scatter_method_sd
                lp = 2.0 * math.log(rate_sm) + 2.0 * theta[o["scatter_method"]] - rate_sm * sw
                g = 2.0 - rate_sm * sw
            logp += lp
            grad[o["scatter_method"]] += g
            xa, xb = lin.x_rot[:, :m], lin.x_rot[:, m:2 * m]
            design = np.concatenate([xa.sum(axis=1, keepdims=True), ta * xa, xb.sum(axis=1, keepdims=True),
                                     tb * xb, lin.x_rot[:, 2 * m:]], axis=1)
            var_obs = meas.eigvals + sw * sw
        else:
            loading = np.ones(1)
            design = lin.x_rot
            var_obs = meas.eigvals
        s = math.exp(theta[o["scatter_model"]])
        rate = 2.0 / pr.scatter_model_mean  # Gamma(2, rate), plus the log-Jacobian
        logp += 2.0 * math.log(rate) + 2.0 * theta[o["scatter_model"]] - rate * s
        grad[o["scatter_model"]] += 2.0 - rate * s
        nu = math.exp(theta[o["nu"]])
        logp += (pr.nu_alpha * math.log(pr.nu_beta) - math.lgamma(pr.nu_alpha) + pr.nu_alpha * theta[o["nu"]]
                 - pr.nu_beta * nu)
        grad[o["nu"]] += pr.nu_alpha - pr.nu_beta * nu

        # per-model effects: raw ~ StudentT(nu, 0, s**(1 - a)), effect = raw * s**a
        raw = theta[o["raw"]]
        log_sigma = (1.0 - a) * theta[o["scatter_model"]]
        sigma = np.exp(log_sigma)
        t2 = (raw / sigma) ** 2
        q = 1.0 + t2 / nu
        n_eff = raw.size
        log_q = np.log(q)
        logp += (n_eff * (math.lgamma(0.5 * (nu + 1.0)) - math.lgamma(0.5 * nu) - 0.5 * math.log(nu * math.pi))
                 - float(log_sigma.sum()) - 0.5 * (nu + 1.0) * float(log_q.sum()))
        grad[o["raw"]] += -(nu + 1.0) * raw / (nu * sigma**2 * q)
        t2q = t2 / q
        grad[o["scatter_model"]] += float((1.0 - a) @ (-1.0 + (nu + 1.0) / nu * t2q))
        dnu = (n_eff * (0.5 * float(psi(0.5 * (nu + 1.0))) - 0.5 * float(psi(0.5 * nu)) - 0.5 / nu)
               - 0.5 * float(log_q.sum()) + 0.5 * (nu + 1.0) / (nu * nu) * float(t2q.sum()))
        grad[o["nu"]] += nu * dnu
        effect = raw * s**a

        # exact marginal likelihood of V'y ~ N(X c0 + V'k, D + X P0^-1 X')
        k = loading[mi] * effect[ii]
        u = lin.y_rot - self._vt @ k - self._xc0
        qd = 1.0 / var_obs
        xq = design.T * qd  # (K, n)
        prec = xq @ design
        prec.flat[:: prec.shape[0] + 1] += lin.p0
        chol = np.linalg.cholesky(prec)  # raises LinAlgError unless positive definite
        prec_inv = np.linalg.inv(prec)  # K x K, K = 2M + 2 + extra columns
        b = xq @ u
        alpha = prec_inv @ b
        quad = float((qd * u) @ u - b @ alpha)
        logdet = float(np.log(var_obs).sum()) + lin.prior_logdet + 2.0 * float(np.log(chol.diagonal()).sum())
        logp += -0.5 * (quad + logdet + meas.n_obs * LOG_2PI)

        e = qd * (u - design @ alpha)  # S^-1 u
        dk = self._v @ e  # d loglik / d k
        deffect = np.bincount(ii, weights=loading[mi] * dk, minlength=self.n_models)
        grad[o["raw"]] += deffect * s**a
        grad[o["scatter_model"]] += float(deffect @ (a * effect))
        if m > 1:
            dload = np.bincount(mi, weights=effect[ii] * dk, minlength=m)  # d / d loading
            grad[o["log_loading"]] += self._basis.T @ (dload * loading)
            g_mat = prec_inv @ xq  # A^-1 X'Q, (K, n)
            tr_sinv = float(qd.sum() - qd @ (design.T * g_mat).sum(axis=0))
            grad[o["scatter_method"]] += sw * sw * (float(e @ e) - tr_sinv)
            for k_, (t, x, block) in enumerate(((ta, xa, slice(1, m + 1)), (tb, xb, slice(m + 2, 2 * m + 2)))):
                xe = e @ x
                tr = float((x * g_mat[block].T).sum())  # tr(Da' Q X A^-1)
                grad[k_] += t * (t * float(xe @ xe) - tr)
        return float(logp), grad
