"""Reference forms of the growth model's log density, for tests and benchmarks only.

The package has one implementation, the numba kernel of `uncertain_cost.growth.kernel`. The
same posterior is written here twice more, independently: with scipy's densities (every
prior term and the marginal likelihood as a multivariate normal, `scipy_logp`) and as a PyMC
graph (`pymc_model`, what ``pymc.sample`` would run with its defaults). The tests check that
the kernel equals both.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def marginal_covariance(gm) -> np.ndarray:
    """``S = C + X P0^-1 X'``: covariance of ``y - v`` with the coefficients integrated out."""
    meas = gm.measurement
    cov = (meas.eigvecs * meas.eigvals) @ meas.eigvecs.T
    return cov + gm.design @ np.diag(1.0 / gm.p0) @ gm.design.T


def scipy_logp(gm, theta: np.ndarray) -> float:
    """Log posterior density over ``theta`` (with log-Jacobians), every term from scipy."""
    pr = gm.priors
    theta = np.asarray(theta, dtype=np.float64)
    s, nu, raw = math.exp(theta[0]), math.exp(theta[1]), theta[2:]
    a = gm.centring
    logp = stats.gamma(2.0, scale=pr.scatter_model_mean / 2.0).logpdf(s) + theta[0]
    logp += stats.gamma(pr.nu_alpha, scale=1.0 / pr.nu_beta).logpdf(nu) + theta[1]
    logp += float(np.sum(stats.t(nu, loc=0.0, scale=s ** (1.0 - a)).logpdf(raw)))
    effect = raw * s**a
    mean = gm.design @ gm.c0 + effect
    logp += stats.multivariate_normal(mean, marginal_covariance(gm)).logpdf(gm.measurement.center)
    return float(logp)


def pymc_model(gm):
    """The model as a PyMC graph: the same free variables, coefficients integrated out.

    Free variables ``scatter_model`` (log-transformed), ``nu`` (log-transformed) and
    ``model_effect_raw``; ``y - X c0 - v ~ MvNormal(0, S)`` as the observed term.
    """
    from uncertain_cost.growth.bayes import import_pymc

    pm = import_pymc()
    pr, meas = gm.priors, gm.measurement
    a = gm.centring
    with pm.Model(coords={"model": list(meas.model)}) as model:
        scatter_model = pm.Gamma("scatter_model", alpha=2.0, beta=2.0 / pr.scatter_model_mean)
        nu = pm.Gamma("nu", alpha=pr.nu_alpha, beta=pr.nu_beta)
        raw = pm.StudentT("model_effect_raw", nu=nu, mu=0.0, sigma=scatter_model ** (1.0 - a), dims="model")
        effect = pm.Deterministic("model_effect", raw * scatter_model**a, dims="model")
        pm.MvNormal("y", mu=gm.design @ gm.c0 + effect, cov=marginal_covariance(gm), observed=meas.center)
    return model


def pymc_point(theta: np.ndarray) -> dict:
    """PyMC value-variable point of ``pymc_model`` at the kernel's coordinates ``theta``."""
    return {"scatter_model_log__": np.asarray(theta[0]), "nu_log__": np.asarray(theta[1]),
            "model_effect_raw": np.asarray(theta[2:])}
