"""Bayesian growth fit (PyMC) with measurement error, robust scatter and pooled methods.

The measurement error comes from the Monte Carlo draws; slopes and intercepts of the cost
methods are partially pooled. ``docs/growth.md`` gives the reasoning. Methods ``m``, models
``i``, centred year ``x_i = year_i - year_ref``::

    slope_m      ~ Normal(slope_mean, slope_spread)          slope_mean ~ Normal(0, 1) OOM/yr
    intercept_m  ~ Normal(intercept_mean, intercept_spread)  (log10 USD at year_ref)
    v_i          ~ StudentT(nu, 0, scatter_model)            per-model effect, shared by methods
    true_mi      = intercept_m + slope_m * x_i + loading_m * v_i + e_mi
    e_mi         ~ Normal(0, scatter_method)                 method-specific deviation
    y            ~ MvNormal(true, C)                         C: covariance of the MC draws

``y`` stacks the observed log10 costs of every costed (method, model) pair; ``C`` is their
covariance over the Monte Carlo draws, joint over methods, so inputs shared by all models
(or by one chip's models) are one correlated error, not independent noise per model.

Two exact integrations keep the sampler's job small and well conditioned:

* ``e`` is integrated out: with ``C = V diag(w) V'`` (fixed), ``C + scatter_method**2 I =
  V diag(w + scatter_method**2) V'``, so ``V'y`` has independent normal entries;
* the coefficients (intercepts, slopes, and their means) are Gaussian given everything else,
  so they are integrated out too (Woodbury identity and matrix determinant lemma on a
  ``(2M + 2) x (2M + 2)`` system). NUTS samples only the spreads, scatter scales, ``nu`` and the
  per-model effects; intercepts and slopes are then drawn exactly from their Gaussian
  conditional posterior, one draw per posterior draw.

The sampler works on the unconstrained coordinates of those parameters with a dense mass
matrix (``jitter+adapt_full``): with intercepts and slopes integrated out, the per-model
effects move together along the trend, which a diagonal mass matrix cannot follow. By
default the log density and its gradient are computed in NumPy (`LogDensity`, one PyTensor op,
nothing to compile); ``backend="pytensor"`` builds the same model as a PyMC graph.

The per-model effects are partially non-centred: ``v_i = scatter_model**a_i * r_i`` with
``r_i ~ StudentT(nu, 0, scatter_model**(1 - a_i))`` (Papaspiliopoulos, Roberts, Sköld 2007,
doi:10.1214/088342307000000014). The weight ``a_i = d_i**2 / (d_i**2 + s**2)`` is fixed from
the data before sampling (`centring_weights`): ``d_i`` is how precisely the observations pin
model ``i``'s effect, ``s`` a rough scatter. Well-measured effects are then nearly centred and
poorly measured ones nearly non-centred; either form alone mixes badly on part of the data.
The weights change only the sampler's coordinates, not the model.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np

from uncertain_cost import __version__
from uncertain_cost.errors import ArgumentError, ConfigError
from uncertain_cost.growth.data import CENTERS, DIM_COST_METHOD, GrowthData, Measurement, measurement
from uncertain_cost.growth.density import LogDensity
from uncertain_cost.growth.diagnostics import Diagnostics, check_diagnostics, compute_diagnostics
from uncertain_cost.growth.loo import log_likelihood_dataset
from uncertain_cost.growth.ols import check_level, doubling_months
from uncertain_cost.growth.op import log_density

__all__ = ["GrowthPriors", "GrowthModel", "BayesResult", "build_model", "fit_bayes"]

DIM_MODEL = "model"

#: Models `build_model` can build: the joint model (or the single-method one, with one
#: method) and the repaired joint model (`uncertain_cost.growth.repaired`).
VARIANTS = ("joint", "repaired")

#: Tuning steps per chain when ``tune`` is not given, per sampler.
DEFAULT_TUNE = {"nutpie": 300, "pymc": 1000}

#: NUTS implementations `fit_bayes` can use (``growth.sampler``).
SAMPLERS = ("pymc", "nutpie")
DIM_OBS = "observation"

LOG_2PI = math.log(2.0 * math.pi)

#: The scatter estimate of `centring_weights` is scaled down by this factor: the posterior of
#: the scatter reaches well below its point estimate, where centred effects form a funnel, so
#: the weights lean to non-centring (chosen on simulated data: no divergences, best ESS).
CENTRING_SCATTER_FACTOR = 0.5


@dataclass(frozen=True)
class GrowthPriors:
    """Priors of the Bayesian growth model, in natural units (log10 USD, years).

    Parameters
    ----------
    slope_mean, slope_sd : float
        Normal prior of the mean slope of the methods (orders of magnitude per year).
        Default N(0, 1): growth anywhere between 0.1x and 10x per year at one sd.
    slope_spread_sd : float
        Half-normal scale of the spread of method slopes around their mean (OOM/yr).
        Default 0.1, from the cost equations and outside trends, not from this data:
        acquisition / amortized moves with the growth of training duration (Epoch: 1.2x/yr
        to 1.4x/yr, 0.08-0.15 OOM/yr), cloud / amortized with rental-to-purchase price ratios
        (docs/growth.md section 3c).
    intercept_sd : float
        Normal sd of the mean intercept around the mean observed log10 cost (dex).
    intercept_spread_sd : float
        Half-normal scale of the spread of method intercepts (dex); acquisition costs
        are about ten times amortized costs, hence 1.
    scatter_model_mean : float
        Mean (dex) of the Gamma(2, 2 / mean) prior of the scale of the per-model (Student-t)
        effect. Zero-avoiding on purpose: a running top-10 selection admits models about an
        order of magnitude of compute below the year's largest, so one year's costs spread
        over ~1 OOM (sd 0.3-0.5 dex; docs/growth.md section 3c), and a prior piled up at zero
        would let the sampler into the funnel of vanishing scale. Default 0.4 (90%: 0.07 to
        0.95 dex).
    loading_sd : float
        Sd of the log of each method's loading on the per-model effect (the loadings'
        geometric mean is 1).
    scatter_method_sd : float
        Half-normal scale of the method-specific normal scatter (dex); unused with one method.
        A negative value ``-s`` selects the zero-avoiding Gamma(2, rate 2/s) prior (mean ``s``
        dex) instead: the repaired joint model's (`uncertain_cost.growth.repaired`).
    nu_alpha, nu_beta : float
        Gamma(alpha, rate beta) prior of the Student-t degrees of freedom; the default
        Gamma(2, 0.1) (mean 20) of Juárez and Steel (2010), doi:10.1198/jbes.2009.07145.
    """

    slope_mean: float = 0.0
    slope_sd: float = 1.0
    slope_spread_sd: float = 0.1
    intercept_sd: float = 2.0
    intercept_spread_sd: float = 1.0
    scatter_model_mean: float = 0.4
    loading_sd: float = 0.3
    scatter_method_sd: float = 0.5
    nu_alpha: float = 2.0
    nu_beta: float = 0.1

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ArgumentError(f.name, f"expected a finite number, got {value!r}", "GrowthPriors")
            if f.name == "scatter_method_sd" and value == 0:
                raise ArgumentError(f.name, "expected a non-zero number (negative: Gamma "
                                    "prior of mean |value|), got 0", "GrowthPriors")
            if f.name not in ("slope_mean", "scatter_method_sd") and value <= 0:
                raise ArgumentError(f.name, f"expected a positive number, got {value!r}", "GrowthPriors")

    @classmethod
    def from_mapping(cls, table: Mapping) -> GrowthPriors:
        """Build from a config table, naming unknown keys.

        Parameters
        ----------
        table : mapping
            Keys among the field names.

        Returns
        -------
        GrowthPriors

        Raises
        ------
        ConfigError
            On an unknown key or a bad value.
        """
        known = {f.name for f in fields(cls)}
        for key in table:
            if key not in known:
                raise ArgumentError(key, f"unknown prior; expected one of {sorted(known)}", "GrowthPriors")
        return cls(**dict(table))


@dataclass(frozen=True, eq=False)
class Linear:
    """The Gaussian (integrated-out) part of the model: rotated design and coefficient prior.

    With two or more methods the coefficients are ``c = (intercept_mean, z_a, slope_mean,
    z_b)``, ``intercept_m = intercept_mean + intercept_spread * z_a[m]`` and likewise for
    slopes, ``z ~ N(0, I)``: the same prior as ``intercept_m ~ N(intercept_mean,
    intercept_spread)``, written so that the system stays well conditioned when a spread
    goes to zero. With one method, ``c = (intercept, slope)``.

    Attributes
    ----------
    x_rot : ndarray, shape (n_obs, 2M)
        ``V'`` times the design matrix (method indicators, and indicators times centred year).
    y_rot : ndarray, shape (n_obs,)
        ``V'`` times the observed log10 costs.
    c0 : ndarray, shape (K,)
        Prior mean of ``c`` (``K = 2M + 2``, or 2 with one method).
    p0 : ndarray, shape (K,)
        Prior precision of ``c`` (diagonal).
    n_extra : int
        Extra Gaussian coefficients after the ``2M + 2``: the last ``n_extra`` columns of
        ``x_rot`` and entries of ``c0``, ``p0`` (the repaired model's contrast terms; 0 otherwise).
    """

    x_rot: np.ndarray
    y_rot: np.ndarray
    c0: np.ndarray
    p0: np.ndarray
    n_extra: int = 0

    @property
    def n_methods(self) -> int:
        """Number of methods ``M``."""
        return (self.x_rot.shape[1] - self.n_extra) // 2

    @property
    def prior_logdet(self) -> float:
        """Log-determinant of the prior covariance of ``c``."""
        return float(-np.sum(np.log(self.p0)))

    def design(self, intercept_spread, slope_spread, concatenate):
        """Design matrix of ``c`` (rotated), given the spreads.

        Works on NumPy arrays (spreads of shape (S, 1, 1) give a stack (S, n_obs, K)) and
        on PyTensor scalars (``concatenate=pytensor.tensor.concatenate``).
        """
        m = self.n_methods
        if m == 1:
            return self.x_rot
        xa, xb = self.x_rot[:, :m], self.x_rot[:, m:2 * m]
        parts = [xa.sum(axis=1, keepdims=True), intercept_spread * xa, xb.sum(axis=1, keepdims=True),
                 slope_spread * xb]
        if self.n_extra:
            parts.append(self.x_rot[:, 2 * m:])
        if isinstance(intercept_spread, np.ndarray) and intercept_spread.ndim > 0:  # a NumPy stack
            shape = np.broadcast_shapes(intercept_spread.shape, slope_spread.shape)[:-2]
            parts = [np.broadcast_to(p, (*shape, *p.shape[-2:])) for p in parts]
        return concatenate(parts, axis=-1)


@dataclass(frozen=True, eq=False)
class GrowthModel:
    """A built (not yet sampled) PyMC growth model.

    Attributes
    ----------
    model : pymc.Model
        The PyMC model (property). With the ``"numpy"`` backend it is built on first access
        (one ``theta`` variable whose density is the kernel's, as a PyTensor op): nutpie
        samples the kernel directly and never needs it, so neither ``import pymc`` nor the
        graph is paid for unless PyMC's sampler runs.
    measurement : Measurement
        The stacked observations and measurement covariance.
    linear : Linear
        The integrated-out Gaussian part, for drawing intercepts and slopes afterwards.
    year_ref : float
        Reference year of the intercepts (mean year of the costed models).
    priors : GrowthPriors
    centring : ndarray
        Partial non-centring weight of each per-model effect (`centring_weights`).
    backend : {"numpy", "pytensor"}
        ``"numpy"``: one vector ``theta`` of unconstrained coordinates whose log density and
        gradient `LogDensity` computes; ``"pytensor"``: the model as a PyMC graph, one
        variable per parameter (the reference; slow to compile).
    density : LogDensity or None
        With the ``"numpy"`` backend.
    contrasts : ContrastTerms or None
        The repaired model's extra contrast terms (`uncertain_cost.growth.repaired`); None
        for the joint and single-method models.
    """

    measurement: Measurement
    linear: Linear
    year_ref: float
    priors: GrowthPriors
    centring: np.ndarray = None
    backend: str = "numpy"
    density: LogDensity | None = None
    contrasts: object = None
    pymc_graph: object = None

    @property
    def model(self):
        """The PyMC model (built on first access with the ``"numpy"`` backend)."""
        if self.pymc_graph is None and self.density is not None:
            pm = import_pymc()
            with pm.Model() as model:
                theta = pm.Flat("theta", shape=self.density.size)
                pm.Potential("logp", log_density(self.density, theta))
            object.__setattr__(self, "pymc_graph", model)
        return self.pymc_graph

    @property
    def monitored(self) -> list[str]:
        """Variables whose convergence is checked: every parameter, slopes, intercepts."""
        names = ["intercept_spread", "slope_spread", "log_loading", "scatter_method"] if len(
            self.measurement.methods) > 1 else []
        extra = ["contrast_coef"] if self.contrasts is not None else []
        return names + ["scatter_model", "nu", "model_effect_raw", "slope", "intercept"] + extra


def import_pymc():
    """Import PyMC (lazily: only fits need it) without ArviZ's notice about its 1.0 refactor."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import pymc

    return pymc


def _check_center(center: str) -> str:
    if center not in CENTERS:
        raise ConfigError("growth.center", f"expected one of {list(CENTERS)}, got {center!r}")
    return center


def _linear(meas: Measurement, year_ref: float, priors: GrowthPriors, contrasts=None) -> Linear:
    m = len(meas.methods)
    mi, ii = meas.method_index, meas.model_index
    x = meas.year[ii] - year_ref
    design = np.zeros((meas.n_obs, 2 * m))
    rows = np.arange(meas.n_obs)
    design[rows, mi] = 1.0
    design[rows, m + mi] = x
    vt = meas.eigvecs.T
    level = float(np.mean(meas.center))
    if m > 1:
        zeros = np.zeros(m)
        c0 = np.concatenate([[level], zeros, [priors.slope_mean], zeros])
        p0 = np.concatenate([[priors.intercept_sd**-2], zeros + 1.0, [priors.slope_sd**-2], zeros + 1.0])
    else:
        c0 = np.array([level, priors.slope_mean])
        p0 = np.array([priors.intercept_sd**-2, priors.slope_sd**-2])
    if contrasts is None:
        return Linear(x_rot=vt @ design, y_rot=vt @ meas.center, c0=c0, p0=p0)
    # the repaired model: the contrast terms' columns after the 2M method columns
    design = np.concatenate([design, contrasts.design], axis=1)
    return Linear(x_rot=vt @ design, y_rot=vt @ meas.center, c0=np.concatenate([c0, contrasts.prior_mean]),
                  p0=np.concatenate([p0, contrasts.prior_sd**-2]), n_extra=contrasts.n_terms)


def centring_weights(meas: Measurement, lin: Linear) -> np.ndarray:
    """Partial non-centring weight of each per-model effect, ``d**2 / (d**2 + s**2)``.

    ``d_i`` is the sd of the best linear estimate of model ``i``'s effect from its own
    observations, with their measurement covariance conditional on every other model's
    observations (so errors shared with other models, e.g. a level shift, do not count)
    plus a method-specific scatter; ``s**2`` is the scatter variance left around per-method
    OLS lines after measurement error, times `CENTRING_SCATTER_FACTOR`. Both are rough: the
    weights only choose the sampler's coordinates, not the posterior.

    Parameters
    ----------
    meas : Measurement
    lin : Linear

    Returns
    -------
    ndarray, shape (n_union,)
        In (0, 1): 0 is centred, 1 non-centred.
    """
    m = len(meas.methods)
    precision = (meas.eigvecs / meas.eigvals) @ meas.eigvecs.T
    # residual variance of the observed costs around per-method OLS lines
    coef, *_ = np.linalg.lstsq(lin.x_rot, lin.y_rot, rcond=None)
    resid = lin.y_rot - lin.x_rot @ coef
    resid_var = float(resid @ resid) / max(meas.n_obs - 2 * m, 1)
    cond_var = 1.0 / np.diag(precision)  # measurement variance of each observation given all others
    scatter_var = max(resid_var - float(np.mean(cond_var)), 0.01)
    method_var = scatter_var / 2.0 if m > 1 else 0.0  # split between per-model and method-specific
    model_var = scatter_var - method_var
    d2 = np.empty(len(meas.model))
    for i in range(len(meas.model)):
        rows = np.flatnonzero(meas.model_index == i)
        cov = np.linalg.inv(precision[np.ix_(rows, rows)]) + method_var * np.eye(rows.size)
        d2[i] = 1.0 / float(np.sum(np.linalg.inv(cov)))
    return d2 / (d2 + CENTRING_SCATTER_FACTOR * model_var)


def build_model(
    data: GrowthData, *, priors: GrowthPriors | None = None, center: str = "median", backend: str = "numpy",
    variant: str = "joint", repaired_priors=None,
) -> GrowthModel:
    """Build the hierarchical measurement-error growth model (no sampling).

    Parameters
    ----------
    data : GrowthData
    priors : GrowthPriors, optional
    center : {"median", "mean", "point"}, default "median"
        Observed log10 cost of each model: median or mean of its draws, or point estimate.
    backend : {"numpy", "pytensor"}, default "numpy"
        ``"pytensor"`` builds the model as a PyMC graph with the free variables
        ``slope_spread``, ``intercept_spread``, ``log_loading`` and ``scatter_method`` (two
        or more methods), ``scatter_model``, ``nu``, ``model_effect_raw``, the deterministic
        ``model_effect`` (dex) and the potential ``loglik`` (the exact marginal likelihood,
        intercepts and slopes integrated out). ``"numpy"`` builds the same posterior over
        one vector ``theta`` (see `uncertain_cost.growth.density`): nothing to compile.
    variant : {"joint", "repaired"}, default "joint"
        ``"repaired"``: the repaired joint model of `uncertain_cost.growth.repaired` (chip-age
        and chip-type terms in the method contrasts, integrated out with the coefficients;
        ``scatter_method ~ Gamma(2, 2 / repaired_priors.scatter_method_mean)``, which replaces
        ``priors.scatter_method_sd``). Needs ``data.chip`` and ``data.chip_age_years``.
    repaired_priors : RepairedPriors, optional
        Priors of the repaired model's terms (default `RepairedPriors()`).

    Returns
    -------
    GrowthModel
    """
    if backend not in ("numpy", "pytensor"):
        raise ArgumentError("backend", f"expected 'numpy' or 'pytensor', got {backend!r}", "build_model")
    if variant not in VARIANTS:
        raise ArgumentError("variant", f"expected one of {list(VARIANTS)}, got {variant!r}", "build_model")
    priors = GrowthPriors() if priors is None else priors
    meas = measurement(data, _check_center(center))
    year_ref = float(np.mean(meas.year))
    contrasts = None
    if variant == "repaired":
        from uncertain_cost.growth.repaired import RepairedPriors, contrast_terms

        rp = RepairedPriors() if repaired_priors is None else repaired_priors
        contrasts = contrast_terms(data, meas, rp)
        priors = replace(priors, scatter_method_sd=-rp.scatter_method_mean)
    lin = _linear(meas, year_ref, priors, contrasts)
    a = centring_weights(meas, lin)
    if backend == "numpy":
        return GrowthModel(measurement=meas, linear=lin, year_ref=year_ref, priors=priors, centring=a,
                           backend=backend, density=LogDensity(meas, lin, priors, a), contrasts=contrasts)
    return GrowthModel(measurement=meas, linear=lin, year_ref=year_ref, priors=priors, centring=a,
                       backend=backend, pymc_graph=_native_model(import_pymc(), meas, lin, priors, a),
                       contrasts=contrasts)


def _native_model(pm, meas: Measurement, lin: Linear, priors: GrowthPriors, a: np.ndarray):
    import pytensor.tensor as pt
    from pytensor.tensor.slinalg import cholesky, solve_triangular

    m = len(meas.methods)
    mi, ii = meas.method_index, meas.model_index
    vt = meas.eigvecs.T
    coords = {DIM_COST_METHOD: list(meas.methods), DIM_MODEL: list(meas.model)}
    with pm.Model(coords=coords) as model:
        if m > 1:
            slope_spread = pm.HalfNormal("slope_spread", priors.slope_spread_sd)
            intercept_spread = pm.HalfNormal("intercept_spread", priors.intercept_spread_sd)
            log_loading = pm.ZeroSumNormal("log_loading", sigma=priors.loading_sd, dims=DIM_COST_METHOD)
            loading = pt.exp(log_loading)[mi]
            if priors.scatter_method_sd > 0:
                scatter_method = pm.HalfNormal("scatter_method", priors.scatter_method_sd)
            else:  # zero-avoiding Gamma(2, 2 / |sd|): the repaired model
                scatter_method = pm.Gamma("scatter_method", alpha=2.0, beta=-2.0 / priors.scatter_method_sd)
            var_obs = meas.eigvals + scatter_method**2
            design = lin.design(intercept_spread, slope_spread, pt.concatenate)
        else:
            loading = 1.0
            var_obs = meas.eigvals
            design = lin.x_rot
        scatter_model = pm.Gamma("scatter_model", alpha=2.0, beta=2.0 / priors.scatter_model_mean)
        nu = pm.Gamma("nu", alpha=priors.nu_alpha, beta=priors.nu_beta)
        raw = pm.StudentT("model_effect_raw", nu=nu, mu=0.0, sigma=scatter_model ** (1.0 - a), dims=DIM_MODEL)
        effect = pm.Deterministic("model_effect", raw * scatter_model**a, dims=DIM_MODEL)

        # exact marginal likelihood of V'y ~ N(X c0 + V'k, D + X P0^-1 X'): Woodbury identity
        # and matrix determinant lemma on the K x K system A = P0 + X' D^-1 X
        resid = lin.y_rot - pt.dot(vt, loading * effect[ii]) - pt.dot(design, lin.c0)
        prec_obs = 1.0 / var_obs
        xtd = design.T * prec_obs[None, :]
        chol = cholesky(np.diag(lin.p0) + pt.dot(xtd, design))
        z = solve_triangular(chol, pt.dot(xtd, resid), lower=True)
        quad = pt.sum(prec_obs * resid**2) - pt.sum(z**2)
        logdet = pt.sum(pt.log(var_obs)) + lin.prior_logdet + 2.0 * pt.sum(pt.log(pt.diagonal(chol)))
        pm.Potential("loglik", -0.5 * (quad + logdet + meas.n_obs * LOG_2PI))
    return model


def draw_coefficients(gm: GrowthModel, posterior, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw intercepts and slopes (and their means) from their Gaussian conditional posterior.

    One draw per posterior draw, given that draw's spreads, scatter and per-model effects.

    Parameters
    ----------
    gm : GrowthModel
    posterior : xarray.Dataset
        With the free variables of ``gm.model`` (and ``model_effect``), dims (chain, draw, ...).
    rng : numpy.random.Generator

    Returns
    -------
    dict of str to ndarray
        ``intercept`` and ``slope`` (chain, draw, method); with two or more methods also
        ``intercept_mean`` and ``slope_mean`` (chain, draw); with extra columns (the repaired
        model) also ``contrast_coef`` (chain, draw, n_extra).
    """
    meas, lin = gm.measurement, gm.linear
    m = lin.n_methods
    n_chain, n_draw = int(posterior.sizes["chain"]), int(posterior.sizes["draw"])
    s = n_chain * n_draw
    mi, ii = meas.method_index, meas.model_index

    def flat(name, *shape):
        return np.asarray(posterior[name].values, dtype=np.float64).reshape(s, *shape)

    effect = flat("model_effect", -1)
    if m > 1:
        loading = np.exp(flat("log_loading", m))
        sw2 = flat("scatter_method") ** 2
        ta, tb = flat("intercept_spread", 1), flat("slope_spread", 1)
        spreads = np.ascontiguousarray(np.concatenate([ta, tb], axis=1))
    else:
        loading, sw2, spreads = np.ones((s, 1)), np.zeros(s), np.zeros((s, 2))
    resid = lin.y_rot[None, :] - (loading[:, mi] * effect[:, ii]) @ meas.eigvecs  # V'(y - k)
    noise = rng.standard_normal((s, lin.c0.size))
    from uncertain_cost.growth.kernel import conditional_coefficients

    c = conditional_coefficients(np.ascontiguousarray(lin.x_rot, dtype=np.float64), lin.p0, lin.c0, meas.eigvals,
                                 np.ascontiguousarray(resid), spreads, np.ascontiguousarray(sw2), noise, m)
    if m > 1:
        intercept = c[:, :1] + ta * c[:, 1:m + 1]
        slope = c[:, m + 1:m + 2] + tb * c[:, m + 2:2 * m + 2]
        out = {"intercept_mean": c[:, 0].reshape(n_chain, n_draw),
               "slope_mean": c[:, m + 1].reshape(n_chain, n_draw)}
        if lin.n_extra:
            out["contrast_coef"] = c[:, 2 * m + 2:].reshape(n_chain, n_draw, lin.n_extra)
    else:
        intercept, slope, out = c[:, :1], c[:, 1:], {}
    out["intercept"] = intercept.reshape(n_chain, n_draw, m)
    out["slope"] = slope.reshape(n_chain, n_draw, m)
    return out


def _named_posterior(gm: GrowthModel, post):
    """Turn the posterior over ``theta`` into named, constrained variables with dimensions."""
    import xarray as xr

    values = gm.density.unpack(np.asarray(post["theta"].values))
    dims = {"log_loading": (DIM_COST_METHOD,), "model_effect_raw": (DIM_MODEL,), "model_effect": (DIM_MODEL,)}
    data_vars = {name: (("chain", "draw", *dims.get(name, ())), value) for name, value in values.items()}
    coords = {"chain": post["chain"].values, "draw": post["draw"].values,
              DIM_COST_METHOD: list(gm.measurement.methods), DIM_MODEL: list(gm.measurement.model)}
    return xr.Dataset(data_vars, coords=coords, attrs=dict(post.attrs))


def _add_coefficients(idata, gm: GrowthModel, rng: np.random.Generator) -> None:
    import xarray as xr

    post = idata.posterior
    coefs = draw_coefficients(gm, post, rng)
    dims3 = ("chain", "draw", DIM_COST_METHOD)
    units = {"slope": "OOM (log10 USD) per year", "intercept": f"log10 USD at year {gm.year_ref:.3f}"}
    new = {
        "intercept": (dims3, coefs["intercept"], {"units": units["intercept"]}),
        "slope": (dims3, coefs["slope"], {"units": units["slope"]}),
        "growth": (dims3, 10.0 ** coefs["slope"], {"units": "x per year"}),
    }
    if "slope_mean" in coefs:
        new["intercept_mean"] = (("chain", "draw"), coefs["intercept_mean"], {"units": units["intercept"]})
        new["slope_mean"] = (("chain", "draw"), coefs["slope_mean"], {"units": units["slope"]})
        new["growth_mean"] = (("chain", "draw"), 10.0 ** coefs["slope_mean"], {"units": "x per year"})
    coords = {k: post[k] for k in ("chain", "draw")} | {DIM_COST_METHOD: list(gm.measurement.methods)}
    if gm.contrasts is not None:  # the repaired model's age coefficients and chip effects
        from uncertain_cost.growth.repaired import DIM_CONTRAST, contrast_coordinates

        new["contrast_coef"] = (("chain", "draw", DIM_CONTRAST), coefs["contrast_coef"],
                                {"units": "OOM per year of chip age (age terms); dex (chip terms)"})
        coords |= contrast_coordinates(gm.contrasts)
        post.attrs["repaired_priors"] = str(asdict(gm.contrasts.priors))
    idata.posterior = xr.merge([post, xr.Dataset(new, coords=coords)],
                               combine_attrs="override")


@dataclass(frozen=True, eq=False)
class BayesResult:
    """Posterior of the Bayesian growth fit.

    Attributes
    ----------
    idata : arviz.InferenceData
        Groups ``posterior`` and ``sample_stats`` (``chain``, ``draw``), ``constant_data``
        (year per model; observed log10 cost and measurement sd per (method, model)
        observation) and ``log_likelihood`` (``log10_cost`` per (chain, draw, observation),
        `uncertain_cost.growth.loo.pointwise_loglik`). Method dimension: ``cost_method``. Posterior variables: ``slope``
        (OOM/yr), ``growth`` (x/yr), ``intercept`` (log10 USD at ``year_ref``) per method;
        ``slope_mean``, ``growth_mean``, ``intercept_mean``, ``slope_spread``,
        ``intercept_spread``, ``log_loading``, ``scatter_method`` (two or more methods);
        ``scatter_model``, ``nu``, ``model_effect`` (dex) and ``model_effect_raw``.
    methods : tuple of str
    n_models : dict of str to int
        Costed models per method.
    level : float
        Central level of the intervals reported by `summary`.
    year_ref : float
        Reference year of ``intercept`` (log10 USD at ``year_ref``).
    diagnostics : Diagnostics
    seed : int
    frontier_years : ndarray
        Publication years of all frontier models (costed or not), for the forecast.
    timings : dict of str to float
        Seconds: ``build`` (PyMC import and model), ``setup`` (compilation and
        initialisation), ``sampling``, ``diagnostics``, ``total``.
    priors : GrowthPriors
    center : str
    """

    idata: object
    methods: tuple[str, ...]
    n_models: dict
    level: float
    year_ref: float
    diagnostics: Diagnostics
    seed: int
    frontier_years: np.ndarray
    timings: dict = field(default_factory=dict)
    priors: GrowthPriors = field(default_factory=GrowthPriors)
    center: str = "median"

    def draws(self, name: str, method: str | None = None) -> np.ndarray:
        """Posterior draws of variable ``name`` (for one method), flattened over chain and draw."""
        da = self.idata.posterior[name]
        if method is not None:
            da = da.isel({DIM_COST_METHOD: self.methods.index(method)})
        return np.asarray(da.values).reshape(-1)

    def summary(self, method: str) -> dict:
        """Slope, growth and doubling time of one method: posterior median and interval.

        Parameters
        ----------
        method : str
            A method name, or ``"pooled"`` for the mean slope of the methods
            (``slope_mean``).

        Returns
        -------
        dict
            ``slope``, ``slope_lo``, ``slope_hi`` (OOM/yr), ``growth``, ``growth_lo``,
            ``growth_hi`` (x per year), ``doubling_months``, ``level``, ``n_models``.
        """
        if method == "pooled":
            if "slope_mean" not in self.idata.posterior:
                raise KeyError("a pooled slope needs at least two methods")
            slope = self.draws("slope_mean")
            n = int(self.idata.posterior.sizes[DIM_MODEL])  # models costed by any method
        else:
            if method not in self.methods:
                raise KeyError(f"no method {method!r} in the fit; have {self.methods}")
            slope = self.draws("slope", method)
            n = self.n_models[method]
        q = 0.5 - self.level / 2.0, 0.5, 0.5 + self.level / 2.0
        lo, mid, hi = np.quantile(slope, q)
        return {
            "slope": float(mid),
            "slope_lo": float(lo),
            "slope_hi": float(hi),
            "growth": float(10.0**mid),
            "growth_lo": float(10.0**lo),
            "growth_hi": float(10.0**hi),
            "doubling_months": doubling_months(float(mid)),
            "level": self.level,
            "n_models": n,
        }


def _seed_int(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError("run.seed", f"expected a non-negative integer, got {seed!r}")
    return int(seed)


def _check_int(value, key: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        if "." not in key:  # an argument no config key sets (``cores``)
            raise ArgumentError(key, f"expected an integer >= {minimum}, got {value!r}", "fit_bayes")
        raise ConfigError(key, f"expected an integer >= {minimum}, got {value!r}")
    return int(value)


def child_seeds(seed: int) -> tuple[int, int, int]:
    """Independent seeds for the sampler, the coefficient draws and the forecast."""
    children = np.random.SeedSequence(seed).spawn(3)
    return tuple(int(c.generate_state(1)[0]) for c in children)


def _constant_data(gm: GrowthModel):
    import xarray as xr

    meas = gm.measurement
    obs_method = [meas.methods[j] for j in meas.method_index]
    obs_model = [meas.model[i] for i in meas.model_index]
    ds = xr.Dataset(
        {
            "year": (DIM_MODEL, meas.year, {"units": "decimal year", "long_name": "publication year"}),
            "log10_cost_observed": (DIM_OBS, meas.center, {"units": "log10 USD"}),
            "log10_cost_measurement_sd": (DIM_OBS, meas.sd, {"units": "dex"}),
        },
        coords={
            DIM_MODEL: list(meas.model),
            DIM_OBS: np.arange(meas.n_obs),
            "observation_method": (DIM_OBS, obs_method),
            "observation_model": (DIM_OBS, obs_model),
        },
        attrs={"year_ref": gm.year_ref, "measurement_joint_over_methods": int(meas.joint),
               "measurement_draws": meas.n_draws},
    )
    if gm.contrasts is not None:  # the repaired model's unrotated contrast design
        from uncertain_cost.growth.repaired import DIM_CONTRAST, contrast_coordinates

        ds = ds.assign_coords(contrast_coordinates(gm.contrasts))
        ds["contrast_design"] = ((DIM_OBS, DIM_CONTRAST), gm.contrasts.design)
        ds["chip_age_residual"] = (DIM_MODEL, gm.contrasts.age_residual, {"units": "years"})
    return ds


def fit_bayes(
    data: GrowthData,
    *,
    seed: int,
    draws: int = 1000,
    tune: int | None = None,
    chains: int = 4,
    cores: int = 2,
    target_accept: float = 0.9,
    level: float = 0.9,
    center: str = "median",
    priors: GrowthPriors | None = None,
    fail_on_bad_diagnostics: bool = False,
    r_hat_threshold: float = 1.01,
    ess_threshold: float | None = None,
    progress: bool = False,
    backend: str = "numpy",
    sampler: str = "nutpie",
    variant: str = "joint",
    repaired_priors=None,
    log_likelihood: bool = True,
) -> BayesResult:
    """Fit the hierarchical measurement-error growth model with PyMC's NUTS.

    Parameters
    ----------
    data : GrowthData
    seed : int
        Seed of the sampler, of the coefficient draws and (by default) of the forecast.
    draws, tune, chains : int, default 1000, sampler's (`DEFAULT_TUNE`), 4
        Draws kept per chain, tuning steps per chain, chains. nutpie's adaptation settles in
        300 tuning steps, nutpie's own default (8 seeds each on `config.toml`'s costs and on
        simulated data of 40 and 64 models: the bulk/tail ESS and R-hat of 400 steps, at
        0.87-0.94 of the fit's time; 400 had given those of 1000); PyMC's dense mass matrix
        gets 1000.
    cores : int, default 2
        Parallel processes.
    target_accept : float, default 0.9
    level : float, default 0.9
        Central level of the reported intervals.
    center : {"median", "mean", "point"}, default "median"
        Observed log10 cost of each model.
    priors : GrowthPriors, optional
    fail_on_bad_diagnostics : bool, default False
        Raise `DiagnosticsError` instead of warning when a check fails.
    r_hat_threshold : float, default 1.01
    ess_threshold : float, optional
        Minimum bulk and tail ESS (default 100 per chain).
    progress : bool, default False
        Show PyMC's progress bar and log.
    backend : {"numpy", "pytensor"}, default "numpy"
        How the log density is computed (`build_model`); both give the same posterior.
    sampler : {"nutpie", "pymc"}, default "nutpie"
        ``"nutpie"``: nutpie's Rust NUTS on the model's numba kernel, called as a cached C
        callback (`uncertain_cost.growth.native`; nothing to compile per model, chains in
        ``cores`` threads without the GIL), diagonal mass-matrix adaptation; needs the
        ``"numpy"`` backend. ``"pymc"``: PyMC's own NUTS (``pm.sample``, dense mass matrix).
        Same posterior, different draws.
    variant : {"joint", "repaired"}, default "joint"
        The model (`build_model`).
    repaired_priors : RepairedPriors, optional
        With ``variant="repaired"``.
    log_likelihood : bool, default True
        Store the pointwise log-likelihood group (for PSIS-LOO, `uncertain_cost.growth.loo`);
        fits that are not compared (backtest, value of information, prior sensitivity) skip it.

    Returns
    -------
    BayesResult

    Raises
    ------
    ConfigError
        On a bad option (the key is named).
    DiagnosticsError
        If ``fail_on_bad_diagnostics`` and R-hat, ESS or divergences fail their checks.

    Warns
    -----
    UncertainCostWarning
        If the convergence checks fail (and ``fail_on_bad_diagnostics`` is false).
    """
    level = check_level(level)
    seed = _seed_int(seed)
    draws = _check_int(draws, "growth.draws", 100)
    if sampler not in SAMPLERS:
        raise ConfigError("growth.sampler", f"expected one of {list(SAMPLERS)}, got {sampler!r}")
    tune = _check_int(DEFAULT_TUNE[sampler] if tune is None else tune, "growth.tune", 0)
    chains = _check_int(chains, "growth.chains", 1)
    cores = _check_int(cores, "cores", 1)
    if not 0.5 <= float(target_accept) < 1.0:
        raise ConfigError("growth.target_accept", f"expected a number in [0.5, 1), got {target_accept!r}")
    if sampler == "nutpie" and backend != "numpy":
        raise ArgumentError("backend", "the nutpie sampler needs the numpy backend", "fit_bayes")

    from threadpoolctl import threadpool_limits

    # One BLAS thread: the fit's matrices are small, and a BLAS pool's spinning threads
    # compete with nutpie's sampler threads and the numba kernels' threads for the cores
    # (2026-12-02, 6 warm joint fits of 40 simulated models, 3 interleaved processes each:
    # 6.3-7.1 s with the limit, 7.6-8.5 s without).
    with threadpool_limits(limits=1, user_api="blas"):
        t0 = time.perf_counter()
        gm = build_model(data, priors=priors, center=center, backend=backend, variant=variant,
                         repaired_priors=repaired_priors)
        t1 = time.perf_counter()
        sampler_seed, coef_seed, _ = child_seeds(seed)
        if sampler == "nutpie":
            idata = sample_nutpie(gm, draws=draws, tune=tune, chains=chains, cores=cores, seed=sampler_seed,
                                  target_accept=float(target_accept), progress=progress)
        else:
            idata = _sample_pymc(gm, draws=draws, tune=tune, chains=chains, cores=cores, seed=sampler_seed,
                                 target_accept=float(target_accept), progress=progress)
        t2 = time.perf_counter()
        return _finish(idata, gm, data, t0, t1, t2, seed=seed, coef_seed=coef_seed, level=level, center=center,
                       r_hat_threshold=r_hat_threshold, ess_threshold=ess_threshold,
                       fail_on_bad_diagnostics=fail_on_bad_diagnostics, log_likelihood=log_likelihood)


def sample_nutpie(gm: GrowthModel, *, draws: int, tune: int, chains: int, cores: int, seed: int,
                  target_accept: float = 0.9, progress: bool = False):
    """Sample the posterior of ``gm`` (numpy backend) with nutpie's Rust NUTS.

    nutpie calls the model's numba kernel as a compiled C callback
    (`uncertain_cost.growth.native.sample_native`): no graph to compile, no Python and no GIL
    in the sampling loop, one chain per core.

    Parameters
    ----------
    gm : GrowthModel
        Built with ``backend="numpy"``.
    draws, tune, chains, cores : int
    seed : int
    target_accept : float, default 0.9
    progress : bool, default False

    Returns
    -------
    arviz.InferenceData
        ``posterior`` with ``theta`` (chain, draw, theta_dim_0) and ``sample_stats`` (with
        ``diverging`` and ``n_steps``); ``posterior.attrs["sampling_time"]`` in seconds.
    """
    from uncertain_cost.growth.native import sample_native

    if gm.density is None:
        raise ValueError("sample_nutpie needs a model built with backend='numpy'")
    return sample_native(gm.density, draws=draws, tune=tune, chains=chains, cores=cores, seed=seed,
                         target_accept=target_accept, progress=progress)


def _sample_pymc(gm: GrowthModel, *, draws, tune, chains, cores, seed, target_accept, progress):
    pm = import_pymc()
    from threadpoolctl import threadpool_limits

    sampler_seed = seed
    # One BLAS thread per process: PyMC forks its workers, and a BLAS thread pool inherited
    # across fork oversubscribes (or stalls) the cores.
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", FutureWarning)  # ArviZ's notice of its 1.0 refactor
        warnings.filterwarnings("ignore", message="QuadPotentialFullAdapt is an experimental feature")
        idata = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=sampler_seed,
            target_accept=float(target_accept),
            model=gm.model,
            progressbar=progress,
            quiet=not progress,
            compute_convergence_checks=False,
            # a dense mass matrix: the per-model effects move together along the trend
            init="jitter+adapt_full",
            initvals={"theta": gm.density.initial_point()} if gm.density is not None else None,
        )
    return idata


def _finish(idata, gm: GrowthModel, data: GrowthData, t0, t1, t2, *, seed, coef_seed, level, center,
            r_hat_threshold, ess_threshold, fail_on_bad_diagnostics, log_likelihood=True) -> BayesResult:
    sampling = float(idata.posterior.attrs.get("sampling_time", math.nan))
    if gm.density is not None:
        idata.posterior = _named_posterior(gm, idata.posterior)
    _add_coefficients(idata, gm, np.random.default_rng(coef_seed))
    groups = {"constant_data": _constant_data(gm)}
    if log_likelihood:
        groups["log_likelihood"] = log_likelihood_dataset(gm, idata.posterior)
    idata.add_groups(groups)
    idata.posterior.attrs.update({
        "year_ref": gm.year_ref,
        "level": level,
        "center": center,
        "seed": seed,
        "uncertain_cost_version": __version__,
        "priors": str(asdict(gm.priors)),
    })
    diag = compute_diagnostics(idata, gm.monitored, r_hat_threshold=r_hat_threshold, ess_threshold=ess_threshold)
    t3 = time.perf_counter()
    idata.posterior.attrs.update({f"diagnostics_{k}": (int(v) if isinstance(v, bool) else v)
                                  for k, v in diag.as_dict().items()})
    result = BayesResult(
        idata=idata,
        methods=gm.measurement.methods,
        n_models=dict(gm.measurement.n_models),
        level=level,
        year_ref=gm.year_ref,
        diagnostics=diag,
        seed=seed,
        frontier_years=np.asarray(data.year),
        timings={
            "build": t1 - t0,
            "setup": (t2 - t1) - sampling,
            "sampling": sampling,
            "diagnostics": t3 - t2,
            "total": t3 - t0,
        },
        priors=gm.priors,
        center=center,
    )
    check_diagnostics(diag, fail=fail_on_bad_diagnostics, context="Bayesian growth fit")
    return result
