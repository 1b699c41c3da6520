"""Reweight a single-method growth posterior to a new measurement by Pareto-smoothed importance sampling.

A fit (`uncertain_cost.growth.bayes.fit_bayes`) samples ``log scatter_model``, ``log nu`` and
the per-model effects; the measurement (observed log10 costs ``y`` and their Monte Carlo
covariance ``C``) enters only through the marginal likelihood ``N(y - v | X c0, S)``,
``S = C + X P0^-1 X'`` (the coefficients integrated out). When the measurement changes (e.g.
an input of the Monte Carlo is held at its central value) the posterior over
``phi = (log scatter_model, log nu, v)`` under the new measurement is the old one times

``p_new(phi) / p_old(phi) = N(y_new - v | X c0_new, S_new) / N(y_old - v | X c0_old, S_old)``

(up to a constant): the priors of ``phi`` do not depend on the measurement and cancel. The
density ratio must be taken in one parametrisation: the sampler's coordinates use the raw
effects ``raw_i = v_i / scatter_model**a_i`` with centring weights ``a`` that depend on the
data (`uncertain_cost.growth.bayes.centring_weights`), so the two models' densities over their
own ``theta`` differ by the Jacobian ``prod_i scatter_model**a_i``; in ``phi`` that Jacobian
is gone, and the ratio above is exact (``tests/growth/test_reweight.py`` checks it against
the kernel with the Jacobians). The intercept and slope are then redrawn, per draw, from their
Gaussian conditional under the new measurement (`draw_coefficients`, seeded), which is exact
given ``v``.

The raw log weights are Pareto-smoothed (PSIS, Vehtari et al. 2024,
doi:10.48550/arXiv.1507.02646, `arviz.psislw`); the estimated shape ``k`` of the weights' tail
says whether the reweighted summaries can be trusted: ``k <= 0.7`` (`PARETO_K_MAX`) is
reliable at a few thousand draws, above it the caller should refit.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from uncertain_cost.growth.bayes import BayesResult, GrowthModel, child_seeds, draw_coefficients

__all__ = ["PARETO_K_MAX", "Reweighted", "measurement_log_weights", "reweight_posterior", "weighted_mean",
           "weighted_sd"]

#: Largest Pareto k for which PSIS estimates are reliable (Vehtari et al. 2024, section 3.2.4).
PARETO_K_MAX = 0.7


@dataclass(frozen=True, eq=False)
class Reweighted:
    """A posterior reweighted to a new measurement.

    Attributes
    ----------
    fit : BayesResult
        The old fit with ``intercept``, ``slope`` and ``growth`` redrawn from their conditional
        under the new measurement (scatter, ``nu`` and effects are the old draws): use every
        draw with ``log_weights``.
    log_weights : ndarray, shape (S,)
        Pareto-smoothed log weights, normalised (``logsumexp == 0``), draws flattened chain-major.
    pareto_k : float
        Estimated shape of the raw weights' tail (0 when the weights are all equal).
    reff : float
        Relative efficiency of the draws used by the smoothing (ESS of the raw weights / S).
    """

    fit: BayesResult
    log_weights: np.ndarray
    pareto_k: float
    reff: float

    @property
    def weights(self) -> np.ndarray:
        """Normalised importance weights (sum 1)."""
        w = np.exp(self.log_weights - np.max(self.log_weights))
        return w / w.sum()

    @property
    def ess(self) -> float:
        """Importance-sampling effective sample size ``1 / sum(w**2)`` (before autocorrelation)."""
        w = self.weights
        return float(1.0 / np.sum(w * w))

    @property
    def reliable(self) -> bool:
        """Whether ``pareto_k <= PARETO_K_MAX``."""
        return bool(self.pareto_k <= PARETO_K_MAX)


def _check_compatible(old: GrowthModel, new: GrowthModel) -> None:
    """Raise ValueError unless the two models share models, years, priors and design."""
    mo, mn = old.measurement, new.measurement
    if mo.methods != mn.methods or mo.model != mn.model or not np.array_equal(mo.model_index, mn.model_index):
        raise ValueError("reweight: the new measurement costs other models than the fit's; refit instead")
    if old.priors != new.priors or not np.array_equal(old.design, new.design):
        raise ValueError("reweight: the new model has other priors or years than the fit's; refit instead")


def _marginal_loglik(gm: GrowthModel, effect: np.ndarray) -> np.ndarray:
    """``log N(y - v | X c0, S)`` per draw of the effects ``v`` (S, n)."""
    r = gm.resid0[None, :] - effect
    return gm.const - 0.5 * np.einsum("si,ij,sj->s", r, gm.lam, r, optimize=True)


def measurement_log_weights(old: GrowthModel, new: GrowthModel, effect: np.ndarray) -> np.ndarray:
    """Raw log importance weights ``log p_new(phi) - log p_old(phi)`` at posterior draws of the effects.

    ``phi = (log scatter_model, log nu, v)``: the log posterior densities (unnormalised, no
    constant dropped) of the two models in the common, data-independent parametrisation. Their
    priors and Jacobians are equal and cancel, leaving the ratio of marginal likelihoods.

    Parameters
    ----------
    old, new : GrowthModel
        The fitted model and the model under the new measurement (same models, years, priors).
    effect : ndarray, shape (S, n)
        Posterior draws of the per-model effects ``model_effect`` (dex), in the models' order.

    Returns
    -------
    ndarray, shape (S,)

    Raises
    ------
    ValueError
        If the models differ in anything but the measurement.
    """
    _check_compatible(old, new)
    effect = np.asarray(effect, dtype=np.float64)
    return _marginal_loglik(new, effect) - _marginal_loglik(old, effect)


def _relative_ess(log_w: np.ndarray, n_chain: int) -> float:
    import arviz as az

    w = np.exp(log_w - np.max(log_w)).reshape(n_chain, -1)
    ess = float(az.ess(w, method="mean"))
    return float(min(1.0, ess / w.size)) if np.isfinite(ess) and ess > 0 else 1.0


def reweight_posterior(fit: BayesResult, old: GrowthModel, new: GrowthModel, *,
                       seed: int | None = None) -> Reweighted:
    """Reweight a single-method fit to the measurement of ``new`` (PSIS) and redraw its coefficients.

    Parameters
    ----------
    fit : BayesResult
        A fit of ``old`` (`uncertain_cost.growth.bayes.fit_bayes`).
    old : GrowthModel
        The model ``fit`` sampled (`uncertain_cost.growth.bayes.build_model` of its data,
        priors and center).
    new : GrowthModel
        The same models, years and priors under another measurement.
    seed : int, optional
        Seed of the coefficient redraw; default the fit's own coefficient seed
        (`uncertain_cost.growth.bayes.child_seeds`), so that with ``new`` equal to ``old``
        the redrawn slopes are the fit's own.

    Returns
    -------
    Reweighted

    Raises
    ------
    ValueError
        If ``new`` differs from ``old`` in anything but the measurement, or the fit's
        models are not ``old``'s.
    """
    import arviz as az

    post = fit.idata.posterior
    names = tuple(str(v) for v in post["model"].values)
    if names != old.measurement.model:
        raise ValueError("reweight: the fit's models are not those of the old model")
    n_chain, n_draw = int(post.sizes["chain"]), int(post.sizes["draw"])
    effect = np.asarray(post["model_effect"].values, dtype=np.float64).reshape(n_chain * n_draw, -1)
    raw = measurement_log_weights(old, new, effect)
    if not np.all(np.isfinite(raw)):
        raise ValueError("reweight: non-finite log weights")
    if np.ptp(raw) == 0.0:  # the same measurement: the posterior is unchanged
        log_w, k, reff = np.full(raw.size, -np.log(raw.size)), 0.0, 1.0
    else:
        reff = _relative_ess(raw, n_chain)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # arviz warns about a high k: the caller reads k
            log_w, k = az.psislw(raw.copy(), reff)
        log_w, k = np.asarray(log_w, dtype=np.float64), float(k)
    coef_seed = child_seeds(fit.seed)[1] if seed is None else int(seed)
    c = draw_coefficients(new, effect, np.random.default_rng(coef_seed)).reshape(n_chain, n_draw, 1, 2)
    dims = post["slope"].dims
    posterior = post.assign(intercept=(dims, c[..., 0], post["intercept"].attrs),
                            slope=(dims, c[..., 1], post["slope"].attrs),
                            growth=(dims, 10.0 ** c[..., 1], post["growth"].attrs))
    idata = az.InferenceData(posterior=posterior)
    return Reweighted(fit=replace(fit, idata=idata), log_weights=log_w, pareto_k=k, reff=reff)


def weighted_mean(values: np.ndarray, log_weights: np.ndarray) -> float:
    """Weighted mean of ``values`` under (log) importance weights."""
    w = np.exp(log_weights - np.max(log_weights))
    return float(np.sum(w * values) / np.sum(w))


def weighted_sd(values: np.ndarray, log_weights: np.ndarray) -> float:
    """Weighted standard deviation with the reliability-weights correction (``ddof=1`` for equal weights).

    ``sqrt(sum w (x - m)**2 / (1 - sum w**2))`` with normalised weights ``w``.
    """
    w = np.exp(log_weights - np.max(log_weights))
    w = w / w.sum()
    mean = float(np.sum(w * values))
    return float(np.sqrt(np.sum(w * (values - mean) ** 2) / (1.0 - np.sum(w * w))))
