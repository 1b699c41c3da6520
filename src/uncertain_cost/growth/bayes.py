"""Bayesian growth fit of one cost method: measurement error from the Monte Carlo draws, robust scatter.

Models ``i`` costed by the method, centred year ``x_i = year_i - year_ref``::

    intercept ~ Normal(ybar, intercept_sd)       slope ~ Normal(slope_mean, slope_sd)   OOM/yr
    v_i       ~ StudentT(nu, 0, scatter_model)   per-model effect (robust scatter)
    y         ~ MvNormal(intercept + slope * x + v, C)   C: covariance of the MC draws

``C`` is the covariance of the method's log10 costs over the Monte Carlo draws, so inputs
shared by all models (or by one chip's models) are one correlated error, not independent noise
per model. Each cost method is fitted on its own (`fit_bayes`, `fit_methods`): the joint and
repaired cross-method models were retired (docs/growth.md, "Retired: cross-method models").

The intercept and slope are Gaussian given the effects, so they are integrated out exactly
(the marginal ``y - v ~ N(X c0, C + X P0^-1 X')`` has a fixed covariance); NUTS samples only
``log scatter_model``, ``log nu`` and the per-model effects, through the one numba kernel of
`uncertain_cost.growth.kernel` that nutpie calls as a C callback (`uncertain_cost.growth.native`).
Intercepts and slopes are then drawn exactly from their Gaussian conditional posterior, one
draw per posterior draw.

The per-model effects are partially non-centred: ``v_i = scatter_model**a_i * r_i`` with
``r_i ~ StudentT(nu, 0, scatter_model**(1 - a_i))`` (Papaspiliopoulos, Roberts, Sköld 2007,
doi:10.1214/088342307000000014), ``a_i = d_i**2 / (d_i**2 + s**2)`` fixed from the data
before sampling (`centring_weights`): well-measured effects nearly centred, poorly measured
ones nearly non-centred. The weights change only the sampler's coordinates, not the model.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from uncertain_cost import __version__
from uncertain_cost.errors import ArgumentError, ConfigError
from uncertain_cost.growth.data import CENTERS, DIM_COST_METHOD, GrowthData, Measurement, measurement
from uncertain_cost.growth.diagnostics import Diagnostics, check_diagnostics, compute_diagnostics
from uncertain_cost.growth.loo import log_likelihood_dataset
from uncertain_cost.growth.ols import check_level, doubling_months

__all__ = ["GrowthPriors", "GrowthModel", "BayesResult", "build_model", "fit_bayes", "fit_methods",
           "combined_idata"]

DIM_MODEL = "model"

#: Tuning steps per chain when ``tune`` is not given, per sampler.
DEFAULT_TUNE = {"nutpie": 300}

#: NUTS implementations `fit_bayes` can use (``growth.sampler``).
SAMPLERS = ("nutpie",)
DIM_OBS = "observation"

LOG_2PI = math.log(2.0 * math.pi)

#: The variables a trend-only refit reports and checks (``fit_bayes(..., monitor=TREND_MONITORED)``):
#: the slope and intercept (drawn given all the per-model effects, so they follow the effects'
#: mixing along the trend) and the scatter's scale and degrees of freedom.
TREND_MONITORED = ("slope", "intercept", "scatter_model", "nu")

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
        Normal prior of the slope (orders of magnitude per year). Default N(0, 1): growth
        anywhere between 0.1x and 10x per year at one sd.
    intercept_sd : float
        Normal sd of the intercept around the mean observed log10 cost (dex).
    scatter_model_mean : float
        Mean (dex) of the Gamma(2, 2 / mean) prior of the scale of the per-model (Student-t)
        effect. Zero-avoiding on purpose: a running top-10 selection admits models about an
        order of magnitude of compute below the year's largest, so one year's costs spread
        over ~1 OOM (sd 0.3-0.5 dex; docs/growth.md section 3c), and a prior piled up at zero
        would let the sampler into the funnel of vanishing scale. Default 0.4 (90%: 0.07 to
        0.95 dex).
    nu_alpha, nu_beta : float
        Gamma(alpha, rate beta) prior of the Student-t degrees of freedom; the default
        Gamma(2, 0.1) (mean 20) of Juárez and Steel (2010), doi:10.1198/jbes.2009.07145.
    """

    slope_mean: float = 0.0
    slope_sd: float = 1.0
    intercept_sd: float = 2.0
    scatter_model_mean: float = 0.4
    nu_alpha: float = 2.0
    nu_beta: float = 0.1

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ArgumentError(f.name, f"expected a finite number, got {value!r}", "GrowthPriors")
            if f.name != "slope_mean" and value <= 0:
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
class GrowthModel:
    """A built (not yet sampled) single-method growth model: the data of its log density.

    Attributes
    ----------
    measurement : Measurement
        The observations (one per costed model) and their measurement covariance.
    year_ref : float
        Reference year of the intercept (mean year of the costed models).
    priors : GrowthPriors
    centring : ndarray, shape (n,)
        Partial non-centring weight of each per-model effect (`centring_weights`).
    design : ndarray, shape (n, 2)
        ``X = [1, year - year_ref]``.
    c0, p0 : ndarray, shape (2,)
        Prior mean and (diagonal) precision of ``(intercept, slope)``.
    precision : ndarray, shape (n, n)
        ``Q = C^-1`` (eigenvalues of ``C`` floored).
    coef_precision : ndarray, shape (2, 2)
        ``A = P0 + X' Q X``, the precision of ``(intercept, slope)`` given the effects.
    resid0 : ndarray, shape (n,)
        ``y - X c0``.
    lam : ndarray, shape (n, n)
        ``S^-1``, ``S = C + X P0^-1 X'`` (Woodbury: ``Q - Q X A^-1 X' Q``).
    const : float
        ``-0.5 (log det S + n log 2 pi)``.
    """

    measurement: Measurement
    year_ref: float
    priors: GrowthPriors
    centring: np.ndarray
    design: np.ndarray
    c0: np.ndarray
    p0: np.ndarray
    precision: np.ndarray
    coef_precision: np.ndarray
    resid0: np.ndarray
    lam: np.ndarray
    const: float

    @property
    def method(self) -> str:
        """The cost method."""
        return self.measurement.methods[0]

    @property
    def size(self) -> int:
        """Length of ``theta``: ``log scatter_model``, ``log nu``, one raw effect per model."""
        return 2 + len(self.measurement.model)

    @property
    def monitored(self) -> list[str]:
        """Variables whose convergence is checked: every parameter, slope, intercept."""
        return ["scatter_model", "nu", "model_effect_raw", "slope", "intercept"]

    def initial_point(self) -> np.ndarray:
        """Return a central starting point (the sampler jitters it)."""
        theta = np.zeros(self.size)
        theta[0] = math.log(0.3)
        theta[1] = math.log(self.priors.nu_alpha / self.priors.nu_beta)
        return theta

    def unpack(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """Named, constrained values of ``theta`` (..., size) -> dict of arrays (..., [n])."""
        theta = np.asarray(theta, dtype=np.float64)
        scale = np.exp(theta[..., 0])
        raw = theta[..., 2:]
        return {"scatter_model": scale, "nu": np.exp(theta[..., 1]), "model_effect_raw": raw,
                "model_effect": raw * scale[..., None] ** self.centring}

    def buffer(self) -> np.ndarray:
        """Pack the kernel's arguments for nutpie's C callback (`uncertain_cost.growth.kernel.pack`)."""
        from uncertain_cost.growth.kernel import pack

        pr = self.priors
        return pack(self.resid0, self.lam, self.centring, self.const, pr.scatter_model_mean, pr.nu_alpha,
                    pr.nu_beta)

    def logp_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Log posterior density (priors, log-Jacobians, likelihood; no constant dropped) and gradient.

        The numba kernel (`uncertain_cost.growth.kernel.logp_and_grad`); -inf where not finite.
        """
        from uncertain_cost.growth.kernel import logp_and_grad

        pr = self.priors
        logp, grad = logp_and_grad(np.ascontiguousarray(theta, dtype=np.float64), self.resid0, self.lam,
                                   self.centring, self.const, pr.scatter_model_mean, pr.nu_alpha, pr.nu_beta)
        return float(logp), grad


def import_pymc():
    """Import PyMC (lazily) without ArviZ's notice about its 1.0 refactor."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import pymc

    return pymc


def _check_center(center: str) -> str:
    if center not in CENTERS:
        raise ConfigError("growth.center", f"expected one of {list(CENTERS)}, got {center!r}")
    return center


def centring_weights(meas: Measurement, design: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """Partial non-centring weight of each per-model effect, ``d**2 / (d**2 + s**2)``.

    ``d_i**2 = 1 / Q_ii`` is the measurement variance of model ``i``'s cost given every other
    model's (so errors shared with other models, e.g. a level shift, do not count); ``s**2``
    is the scatter variance left around the GLS line after measurement error, times
    `CENTRING_SCATTER_FACTOR`. Both are rough: the weights only choose the sampler's
    coordinates, not the posterior.

    Parameters
    ----------
    meas : Measurement
    design : ndarray, shape (n, 2)
    precision : ndarray, shape (n, n)

    Returns
    -------
    ndarray, shape (n,)
        In (0, 1): 0 is centred, 1 non-centred.
    """
    vt = meas.eigvecs.T
    coef, *_ = np.linalg.lstsq(vt @ design, vt @ meas.center, rcond=None)
    resid = vt @ (meas.center - design @ coef)
    resid_var = float(resid @ resid) / max(meas.n_obs - 2, 1)
    d2 = 1.0 / np.diag(precision)
    scatter_var = max(resid_var - float(np.mean(d2)), 0.01)
    return d2 / (d2 + CENTRING_SCATTER_FACTOR * scatter_var)


def build_model(data: GrowthData, *, priors: GrowthPriors | None = None, center: str = "median") -> GrowthModel:
    """Build the single-method measurement-error growth model (no sampling).

    Parameters
    ----------
    data : GrowthData
        With exactly one method (`GrowthData.select`).
    priors : GrowthPriors, optional
    center : {"median", "mean", "point"}, default "median"
        Observed log10 cost of each model: median or mean of its draws, or point estimate.

    Returns
    -------
    GrowthModel

    Raises
    ------
    ValueError
        If ``data`` has more than one method (fit each alone: `fit_methods`).
    """
    if len(data.methods) != 1:
        raise ValueError(f"build_model fits one cost method at a time; got {list(data.methods)} "
                         "(use fit_methods, or data.select([method]))")
    priors = GrowthPriors() if priors is None else priors
    meas = measurement(data, _check_center(center))
    year_ref = float(np.mean(meas.year))
    x = meas.year[meas.model_index] - year_ref
    design = np.column_stack([np.ones(meas.n_obs), x])
    c0 = np.array([float(np.mean(meas.center)), priors.slope_mean])
    p0 = np.array([priors.intercept_sd**-2, priors.slope_sd**-2])
    precision = (meas.eigvecs / meas.eigvals) @ meas.eigvecs.T
    precision = 0.5 * (precision + precision.T)
    qx = precision @ design
    coef_precision = np.diag(p0) + design.T @ qx
    lam = precision - qx @ np.linalg.solve(coef_precision, qx.T)
    lam = np.ascontiguousarray(0.5 * (lam + lam.T))
    logdet = float(np.sum(np.log(meas.eigvals))) + float(np.linalg.slogdet(coef_precision)[1]) - float(
        np.sum(np.log(p0)))
    return GrowthModel(measurement=meas, year_ref=year_ref, priors=priors,
                       centring=np.ascontiguousarray(centring_weights(meas, design, precision)), design=design,
                       c0=c0, p0=p0, precision=precision, coef_precision=coef_precision,
                       resid0=np.ascontiguousarray(meas.center - design @ c0), lam=lam,
                       const=-0.5 * (logdet + meas.n_obs * LOG_2PI))


def draw_coefficients(gm: GrowthModel, effect: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw ``(intercept, slope)`` from their Gaussian conditional posterior, one per effect draw.

    Given the effects ``v``, ``c ~ N(A^-1 (P0 c0 + X'Q (y - v)), A^-1)``.

    Parameters
    ----------
    gm : GrowthModel
    effect : ndarray, shape (S, n)
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (S, 2)
    """
    rhs = gm.p0 * gm.c0 + (gm.measurement.center[None, :] - effect) @ (gm.precision @ gm.design)
    chol = np.linalg.cholesky(gm.coef_precision)
    mean = np.linalg.solve(gm.coef_precision, rhs.T).T
    noise = rng.standard_normal((effect.shape[0], 2))
    return mean + np.linalg.solve(chol.T, noise.T).T  # L' z = noise: z ~ N(0, A^-1)


def _named_posterior(gm: GrowthModel, post):
    """Turn the posterior over ``theta`` into named, constrained variables with dimensions."""
    import xarray as xr

    values = gm.unpack(np.asarray(post["theta"].values))
    dims = {"model_effect_raw": (DIM_MODEL,), "model_effect": (DIM_MODEL,)}
    data_vars = {name: (("chain", "draw", *dims.get(name, ())), value) for name, value in values.items()}
    coords = {"chain": post["chain"].values, "draw": post["draw"].values, DIM_MODEL: list(gm.measurement.model)}
    return xr.Dataset(data_vars, coords=coords, attrs=dict(post.attrs))


def _add_coefficients(idata, gm: GrowthModel, rng: np.random.Generator) -> None:
    import xarray as xr

    post = idata.posterior
    n_chain, n_draw = int(post.sizes["chain"]), int(post.sizes["draw"])
    effect = np.asarray(post["model_effect"].values, dtype=np.float64).reshape(n_chain * n_draw, -1)
    c = draw_coefficients(gm, effect, rng).reshape(n_chain, n_draw, 1, 2)
    dims3 = ("chain", "draw", DIM_COST_METHOD)
    units = {"slope": "OOM (log10 USD) per year", "intercept": f"log10 USD at year {gm.year_ref:.3f}"}
    new = {
        "intercept": (dims3, c[..., 0], {"units": units["intercept"]}),
        "slope": (dims3, c[..., 1], {"units": units["slope"]}),
        "growth": (dims3, 10.0 ** c[..., 1], {"units": "x per year"}),
    }
    coords = {k: post[k] for k in ("chain", "draw")} | {DIM_COST_METHOD: [gm.method]}
    idata.posterior = xr.merge([post, xr.Dataset(new, coords=coords)], combine_attrs="override")


@dataclass(frozen=True, eq=False)
class BayesResult:
    """Posterior of the Bayesian growth fit of one cost method.

    Attributes
    ----------
    idata : arviz.InferenceData
        Groups ``posterior`` and ``sample_stats`` (``chain``, ``draw``), ``constant_data``
        (year per model; observed log10 cost and measurement sd per observation) and
        ``log_likelihood`` (``log10_cost`` per (chain, draw, observation),
        `uncertain_cost.growth.loo.pointwise_loglik`). Posterior variables: ``slope`` (OOM/yr),
        ``growth`` (x/yr), ``intercept`` (log10 USD at ``year_ref``) with a ``cost_method``
        dimension of length 1; ``scatter_model``, ``nu``, ``model_effect`` (dex) and
        ``model_effect_raw``.
    methods : tuple of str
        The one method.
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
        Seconds: ``build`` (the model's data), ``setup`` (callback loading and
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
            The fit's method.

        Returns
        -------
        dict
            ``slope``, ``slope_lo``, ``slope_hi`` (OOM/yr), ``growth``, ``growth_lo``,
            ``growth_hi`` (x per year), ``doubling_months``, ``level``, ``n_models``.
        """
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
    return xr.Dataset(
        {
            "year": (DIM_MODEL, meas.year, {"units": "decimal year", "long_name": "publication year"}),
            "log10_cost_observed": (DIM_OBS, meas.center, {"units": "log10 USD"}),
            "log10_cost_measurement_sd": (DIM_OBS, meas.sd, {"units": "dex"}),
        },
        coords={
            DIM_MODEL: list(meas.model),
            DIM_OBS: np.arange(meas.n_obs),
            "observation_method": (DIM_OBS, [meas.methods[j] for j in meas.method_index]),
            "observation_model": (DIM_OBS, [meas.model[i] for i in meas.model_index]),
        },
        attrs={"year_ref": gm.year_ref, "measurement_draws": meas.n_draws},
    )


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
    sampler: str = "nutpie",
    log_likelihood: bool = True,
    monitor: Sequence[str] | None = None,
) -> BayesResult:
    """Fit the single-method measurement-error growth model with nutpie's NUTS.

    Parameters
    ----------
    data : GrowthData
        One method (`GrowthData.select`); `fit_methods` fits each method of a data set.
    seed : int
        Seed of the sampler, of the coefficient draws and (by default) of the forecast.
    draws, tune, chains : int, default 1000, 300, 4
        Draws kept per chain, tuning steps per chain (nutpie's own default), chains.
    cores : int, default 2
        Threads (nutpie runs one chain per thread, without the GIL).
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
        Show nutpie's progress bar.
    sampler : {"nutpie"}, default "nutpie"
        nutpie's Rust NUTS on the model's numba kernel, called as a cached C callback
        (`uncertain_cost.growth.native`), low-rank modified mass matrix.
    log_likelihood : bool, default True
        Store the pointwise log-likelihood group (PSIS-LOO, `uncertain_cost.growth.loo`);
        fits whose LOO nobody reads (backtest, value of information, prior sensitivity) skip it.
    monitor : sequence of str, optional
        Variables whose R-hat and ESS are checked (default `GrowthModel.monitored`; trend-only
        refits: `TREND_MONITORED`).

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

    from threadpoolctl import threadpool_limits

    from uncertain_cost.growth.native import sample_native

    # One BLAS thread: the fit's matrices are small, and a BLAS pool's spinning threads
    # compete with nutpie's sampler threads for the cores.
    with threadpool_limits(limits=1, user_api="blas"):
        t0 = time.perf_counter()
        gm = build_model(data, priors=priors, center=center)
        t1 = time.perf_counter()
        sampler_seed, coef_seed, _ = child_seeds(seed)
        idata = sample_native(gm, draws=draws, tune=tune, chains=chains, cores=cores, seed=sampler_seed,
                              target_accept=float(target_accept), progress=progress)
        t2 = time.perf_counter()
        return _finish(idata, gm, data, t0, t1, t2, seed=seed, coef_seed=coef_seed, level=level, center=center,
                       r_hat_threshold=r_hat_threshold, ess_threshold=ess_threshold,
                       fail_on_bad_diagnostics=fail_on_bad_diagnostics, log_likelihood=log_likelihood,
                       monitor=monitor)


def fit_methods(data: GrowthData, *, methods=None, **kwargs) -> dict[str, BayesResult]:
    """Fit every method of ``data`` on its own (`fit_bayes` with the same arguments).

    Parameters
    ----------
    data : GrowthData
    methods : sequence of str, optional
        Default: the methods of ``data`` that cost at least one model.
    **kwargs
        Passed to `fit_bayes` (``seed`` required).

    Returns
    -------
    dict of str to BayesResult
        In method order.
    """
    if methods is None:
        methods = [m for m in data.methods if data.costed(m).any()]
    return {m: fit_bayes(data.select([m]), **kwargs) for m in methods}


def combined_idata(fits: Mapping[str, BayesResult]):
    """One InferenceData of the single-method fits, for ``results.nc``.

    Posterior and sample statistics gain a ``cost_method`` dimension (per-model variables are
    NaN for a model the method does not cost); the ``log_likelihood`` and ``constant_data``
    observations are stacked (their ``observation_method`` coordinate names the fit), and
    ``constant_data`` gets ``year_ref`` per method. The posterior's ``sampling_time`` is the
    fits' total.

    Parameters
    ----------
    fits : mapping of str to BayesResult
        One fit per method (`fit_methods`).

    Returns
    -------
    arviz.InferenceData
    """
    import arviz as az
    import xarray as xr

    methods = list(fits)
    order = {}
    for fit in fits.values():
        for name in fit.idata.posterior[DIM_MODEL].values:
            order.setdefault(str(name), len(order))
    union = sorted(order, key=order.get)
    posts, stats, cdata, lls = [], [], [], []
    offset = 0
    for m, fit in fits.items():
        idata = fit.idata
        post = idata.posterior.isel({DIM_COST_METHOD: 0}, drop=True).reindex({DIM_MODEL: union})
        posts.append(post.expand_dims({DIM_COST_METHOD: [m]}))
        stats.append(idata.sample_stats.expand_dims({DIM_COST_METHOD: [m]}))
        cd = idata.constant_data
        n_obs = int(cd.sizes[DIM_OBS])
        obs = {DIM_OBS: np.arange(offset, offset + n_obs)}
        cdata.append(cd.assign_coords(obs))
        if "log_likelihood" in idata.groups():
            lls.append(idata.log_likelihood.assign_coords(obs))
        offset += n_obs
    posterior = xr.concat(posts, dim=DIM_COST_METHOD, combine_attrs="drop_conflicts")
    posterior.attrs.update({f"year_ref_{m}": fits[m].year_ref for m in methods})
    times = [fit.idata.posterior.attrs.get("sampling_time") for fit in fits.values()]
    if all(t is not None for t in times):  # wall clock: the writer moves it to timing.json
        posterior.attrs["sampling_time"] = float(sum(times))
    year = {}
    for c in cdata:
        year.update(zip((str(v) for v in c[DIM_MODEL].values), np.asarray(c["year"].values), strict=True))
    constant = xr.concat([c.drop_dims(DIM_MODEL) for c in cdata], dim=DIM_OBS, combine_attrs="drop_conflicts")
    constant = constant.assign({"year": (DIM_MODEL, [year[n] for n in union], cdata[0]["year"].attrs)})
    constant = constant.assign_coords({DIM_MODEL: union})
    constant["year_ref"] = (DIM_COST_METHOD, [fits[m].year_ref for m in methods], {"units": "decimal year"})
    constant = constant.assign_coords({DIM_COST_METHOD: methods})
    groups = {"posterior": posterior, "sample_stats": xr.concat(stats, dim=DIM_COST_METHOD),
              "constant_data": constant}
    if lls:
        groups["log_likelihood"] = xr.concat(lls, dim=DIM_OBS)
    return az.InferenceData(**groups)


def _finish(idata, gm: GrowthModel, data: GrowthData, t0, t1, t2, *, seed, coef_seed, level, center,
            r_hat_threshold, ess_threshold, fail_on_bad_diagnostics, log_likelihood=True,
            monitor=None) -> BayesResult:
    sampling = float(idata.posterior.attrs.get("sampling_time", math.nan))
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
    monitored = gm.monitored if monitor is None else list(monitor)
    diag = compute_diagnostics(idata, monitored, r_hat_threshold=r_hat_threshold, ess_threshold=ess_threshold)
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
    check_diagnostics(diag, fail=fail_on_bad_diagnostics, context=f"Bayesian growth fit ({gm.method})")
    return result
