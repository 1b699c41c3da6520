"""Bayesian growth fit (PyMC) with measurement error, robust scatter and pooled methods.

The measurement error comes from the Monte Carlo draws; slopes and intercepts of the cost
methods are partially pooled.

The model (``docs/growth.md`` gives the reasoning). Methods ``m``, models ``i``, centred year
``x_i = year_i - year_ref``::

    slope_m      = slope_mean + slope_spread * slope_offset_m     slope_offset ~ ZeroSumNormal(1)
    intercept_m  ~ Normal(intercept_mean, intercept_spread)       (log10 USD at year_ref)
    u_i          ~ StudentT(nu, 0, 1)                              per-model effect, all methods
    true_mi      = intercept_m + slope_m * x_i + scatter_model_m * u_i + e_mi
    e_mi         ~ Normal(0, scatter_method)                       method-specific deviation
    y            ~ MvNormal(true, C)                               C: covariance of the draws

``y`` stacks the observed log10 costs of every costed (method, model) pair and ``C`` is their
covariance over the Monte Carlo draws, joint over methods. ``e`` is integrated out exactly:
with ``C = V diag(w) V'`` (fixed), ``C + scatter_method**2 I = V diag(w + scatter_method**2) V'``,
so ``V'y`` has independent normal entries. The free latent variables are then only the
per-model effects ``u``: the posterior is compact (about n_models + 12 dimensions).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from uncertain_cost import __version__
from uncertain_cost.errors import ConfigError
from uncertain_cost.growth.data import CENTERS, DIM_COST_METHOD, GrowthData, Measurement, measurement
from uncertain_cost.growth.diagnostics import Diagnostics, check_diagnostics, compute_diagnostics
from uncertain_cost.growth.ols import check_level, doubling_months

__all__ = ["GrowthPriors", "GrowthModel", "BayesResult", "build_model", "fit_bayes"]

DIM_MODEL = "model"
DIM_OBS = "observation"
DIM_EIG = "eigen_observation"


@dataclass(frozen=True)
class GrowthPriors:
    """Priors of the Bayesian growth model, in natural units (log10 USD, years).

    Parameters
    ----------
    slope_mean, slope_sd : float
        Normal prior of the mean slope over methods (orders of magnitude per year).
        Default N(0, 1): growth anywhere between 0.1x and 10x per year at one sd.
    slope_spread_sd : float
        Half-normal scale of the spread of method slopes around the mean (OOM/yr).
        Default 0.1: methods share most of their growth (the paper: 2.4x, 2.5x, 2.6x).
    intercept_sd : float
        Normal sd of the mean intercept around the mean observed log10 cost (dex).
    intercept_spread_sd : float
        Half-normal scale of the spread of method intercepts (dex); acquisition costs
        are about ten times amortized costs, hence 1.
    scatter_model_sd : float
        Half-normal scale of each method's scatter of the per-model (Student-t) effect (dex).
    scatter_method_sd : float
        Half-normal scale of the method-specific normal scatter (dex); unused with one method.
    nu_alpha, nu_beta : float
        Gamma(alpha, rate beta) prior of the Student-t degrees of freedom; the default
        Gamma(2, 0.1) (mean 20) of Juárez and Steel (2010), doi:10.1198/jbes.2009.07145.
    """

    slope_mean: float = 0.0
    slope_sd: float = 1.0
    slope_spread_sd: float = 0.1
    intercept_sd: float = 2.0
    intercept_spread_sd: float = 1.0
    scatter_model_sd: float = 1.0
    scatter_method_sd: float = 0.5
    nu_alpha: float = 2.0
    nu_beta: float = 0.1

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ConfigError(f"growth.priors.{f.name}", f"expected a finite number, got {value!r}")
            if f.name != "slope_mean" and value <= 0:
                raise ConfigError(f"growth.priors.{f.name}", f"expected a positive number, got {value!r}")

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
                raise ConfigError(f"growth.priors.{key}", f"unknown prior; expected one of {sorted(known)}")
        return cls(**dict(table))


@dataclass(frozen=True, eq=False)
class GrowthModel:
    """A built (not yet sampled) PyMC growth model.

    Attributes
    ----------
    model : pymc.Model
    measurement : Measurement
        The stacked observations and measurement covariance.
    year_ref : float
        Reference year of the intercepts (mean year of the costed models).
    priors : GrowthPriors
    """

    model: object
    measurement: Measurement
    year_ref: float
    priors: GrowthPriors

    @property
    def monitored(self) -> list[str]:
        """Variables whose convergence is checked: every free variable, slopes and growth."""
        names = [rv.name for rv in self.model.free_RVs]
        return names + [n for n in ("slope", "growth") if n not in names]


def _check_center(center: str) -> str:
    if center not in CENTERS:
        raise ConfigError("growth.center", f"expected one of {list(CENTERS)}, got {center!r}")
    return center


def build_model(data: GrowthData, *, priors: GrowthPriors | None = None, center: str = "median") -> GrowthModel:
    """Build the hierarchical measurement-error growth model (no sampling).

    Parameters
    ----------
    data : GrowthData
    priors : GrowthPriors, optional
    center : {"median", "mean", "point"}, default "median"
        Observed log10 cost of each model: median or mean of its draws, or point estimate.

    Returns
    -------
    GrowthModel
    """
    import pymc as pm
    import pytensor.tensor as pt

    priors = GrowthPriors() if priors is None else priors
    meas = measurement(data, _check_center(center))
    year_ref = float(np.mean(meas.year))
    x = meas.year - year_ref
    n_methods = len(meas.methods)
    mi, ii = meas.method_index, meas.model_index
    vt = meas.eigvecs.T
    observed = vt @ meas.center
    coords = {
        DIM_COST_METHOD: list(meas.methods),
        DIM_MODEL: list(meas.model),
        DIM_EIG: np.arange(meas.n_obs),
    }
    level0 = float(np.mean(meas.center))
    with pm.Model(coords=coords) as model:
        if n_methods > 1:
            slope_mean = pm.Normal("slope_mean", priors.slope_mean, priors.slope_sd)
            slope_spread = pm.HalfNormal("slope_spread", priors.slope_spread_sd)
            # zero-sum offsets: slope_mean is the mean of the method slopes, which decouples
            # it from slope_spread (no funnel in (slope_mean, slope_spread) with 3 methods)
            import os
            if os.environ.get("UC_CENTRED") == "1":
                offset = pm.ZeroSumNormal("slope_offset", sigma=slope_spread, dims=DIM_COST_METHOD)
                slope = pm.Deterministic("slope", slope_mean + offset, dims=DIM_COST_METHOD)
            else:
                offset = pm.ZeroSumNormal("slope_offset", sigma=1.0, dims=DIM_COST_METHOD)
                slope = pm.Deterministic("slope", slope_mean + slope_spread * offset, dims=DIM_COST_METHOD)
            pm.Deterministic("growth_mean", 10.0**slope_mean)
            intercept_mean = pm.Normal("intercept_mean", level0, priors.intercept_sd)
            intercept_spread = pm.HalfNormal("intercept_spread", priors.intercept_spread_sd)
            # centred: each method's level is pinned by its data far more tightly than the
            # spread between methods
            intercept = pm.Normal("intercept", intercept_mean, intercept_spread, dims=DIM_COST_METHOD)
            scatter_method = pm.HalfNormal("scatter_method", priors.scatter_method_sd)
            sd_obs = pt.sqrt(meas.eigvals + scatter_method**2)
        else:
            slope = pm.Normal("slope", priors.slope_mean, priors.slope_sd, dims=DIM_COST_METHOD)
            intercept = pm.Normal("intercept", level0, priors.intercept_sd, dims=DIM_COST_METHOD)
            sd_obs = np.sqrt(meas.eigvals)
        pm.Deterministic("growth", 10.0**slope, dims=DIM_COST_METHOD)
        import os
        nu = pm.Gamma("nu", alpha=priors.nu_alpha, beta=priors.nu_beta)
        variant = os.environ.get("UC_VARIANT", "0")
        if variant == "0":
            scatter_model = pm.HalfNormal("scatter_model", priors.scatter_model_sd, dims=DIM_COST_METHOD)
            effect = pm.StudentT("model_effect", nu=nu, mu=0.0, sigma=1.0, dims=DIM_MODEL)
            trend = intercept[mi] + slope[mi] * x[ii] + scatter_model[mi] * effect[ii]
        elif variant == "1":
            scatter_model = pm.HalfNormal("scatter_model", priors.scatter_model_sd)
            effect = pm.StudentT("model_effect", nu=nu, mu=0.0, sigma=scatter_model, dims=DIM_MODEL)
            trend = intercept[mi] + slope[mi] * x[ii] + effect[ii]
        else:
            scatter_model = pm.HalfNormal("scatter_model", priors.scatter_model_sd)
            if n_methods > 1:
                loading = pt.exp(pm.ZeroSumNormal("log_loading", sigma=0.3, dims=DIM_COST_METHOD))
            else:
                loading = pt.ones(1)
            effect = pm.StudentT("model_effect", nu=nu, mu=0.0, sigma=scatter_model, dims=DIM_MODEL)
            trend = intercept[mi] + slope[mi] * x[ii] + loading[mi] * effect[ii]
        pm.Normal("log10_cost_rotated", mu=pt.dot(vt, trend), sigma=sd_obs, observed=observed, dims=DIM_EIG)
    return GrowthModel(model=model, measurement=meas, year_ref=year_ref, priors=priors)


@dataclass(frozen=True, eq=False)
class BayesResult:
    """Posterior of the Bayesian growth fit.

    Attributes
    ----------
    idata : arviz.InferenceData
        Groups ``posterior`` and ``sample_stats`` (``chain``, ``draw``), ``observed_data``
        and ``constant_data`` (year per model; observed log10 cost and measurement sd per
        (method, model) observation). Method dimension: ``cost_method``.
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
        Seconds: ``build``, ``setup`` (compile + initialisation), ``sampling``, ``total``.
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
            A method name, or ``"pooled"`` for the mean slope over methods.

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
        raise ConfigError(key, f"expected an integer >= {minimum}, got {value!r}")
    return int(value)


def child_seeds(seed: int) -> tuple[int, int]:
    """Independent seeds for the sampler and the forecast, spawned from ``seed``."""
    sampler, forecast = np.random.SeedSequence(seed).spawn(2)
    return int(sampler.generate_state(1)[0]), int(forecast.generate_state(1)[0])


def _constant_data(gm: GrowthModel):
    import xarray as xr

    meas = gm.measurement
    obs_method = [meas.methods[j] for j in meas.method_index]
    obs_model = [meas.model[i] for i in meas.model_index]
    return xr.Dataset(
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


def fit_bayes(
    data: GrowthData,
    *,
    seed: int,
    draws: int = 1000,
    tune: int = 1000,
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
) -> BayesResult:
    """Fit the hierarchical measurement-error growth model with PyMC's NUTS.

    Parameters
    ----------
    data : GrowthData
    seed : int
        Seed of the sampler (and, spawned from it, of the forecast).
    draws, tune, chains : int, default 1000, 1000, 4
        Draws per chain kept, tuning steps per chain, chains.
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
    import warnings

    level = check_level(level)
    seed = _seed_int(seed)
    draws = _check_int(draws, "growth.draws", 100)
    tune = _check_int(tune, "growth.tune", 0)
    chains = _check_int(chains, "growth.chains", 1)
    cores = _check_int(cores, "growth.cores", 1)
    if not 0.5 <= float(target_accept) < 1.0:
        raise ConfigError("growth.target_accept", f"expected a number in [0.5, 1), got {target_accept!r}")

    t0 = time.perf_counter()
    gm = build_model(data, priors=priors, center=center)
    t1 = time.perf_counter()
    import pymc as pm

    sampler_seed, _ = child_seeds(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # ArviZ's notice of its 1.0 refactor
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
        )
    t2 = time.perf_counter()
    sampling = float(idata.posterior.attrs.get("sampling_time", math.nan))
    idata.add_groups({"constant_data": _constant_data(gm)})
    attrs = {
        "year_ref": gm.year_ref,
        "level": level,
        "center": center,
        "seed": seed,
        "uncertain_cost_version": __version__,
        "priors": str(asdict(gm.priors)),
        "slope_units": "orders of magnitude (log10 USD) per year",
        "intercept_units": "log10 USD at year_ref",
    }
    idata.posterior.attrs.update(attrs)
    diag = compute_diagnostics(
        idata, gm.monitored, r_hat_threshold=r_hat_threshold, ess_threshold=ess_threshold
    )
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
