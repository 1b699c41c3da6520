"""The repaired joint growth model's contrast terms (chip age, chip type) and their predictive check.

Issue 10 found that the joint model's method contrasts collapse onto an exact line in time
(``scatter_method`` -> 0.003 dex) because the engine's within-chip contrasts follow a
depreciation sawtooth. The cost equations (``uncertain_cost.costs``) say why: the amortized
hardware cost is ``server_price * 10**(-r * age) * r ln10 / 8766 h * chip_hours`` with ``age``
the years from the hardware's acquisition to the start of training and ``r`` the
depreciation rate (0.14 OOM/yr central), while the cloud cost (chip-hours times a rental
price) and the acquisition cost (chips times the server price) carry no ``10**(-r * age)``.
So, for one model, ``log10(cloud / amortized)`` and ``log10(acquisition / amortized)``
contain ``+r * age`` (a little less: the energy part of the amortized cost does not
depreciate), plus terms that depend on the chip (rental / purchase price for cloud; the
energy share for acquisition), which per-chip price draws cannot move because they cancel
within a chip.

The repaired model adds, for every method other than the reference (``amortized``)::

    true_mi += age_coef_m * age_resid_i + chip_effect_{m, chip(i)}
    age_coef_m       ~ Normal(r, age_coef_sd)          (OOM per year of chip age)
    chip_effect_m,c  ~ Normal(0, chip_sd_m)            (dex, fixed sd)
    scatter_method   ~ Gamma(2, 2 / scatter_method_mean)  (replaces the HalfNormal)

``age_resid`` is the chip age minus its least-squares line in publication year (over the
models of the fit): span{1, year, age} = span{1, year, age_resid}, so the model is the same,
but the method slopes keep their meaning (the trend of that method's cost over years, age
effects included, as in the paper's per-method OLS) and their hierarchical prior still pools
comparable quantities. All the new coefficients are Gaussian, so they are integrated out
exactly with the intercepts and slopes (extra columns of the rotated design, see
`uncertain_cost.growth.kernel`) and drawn afterwards from their conditional posterior.
`RepairedPriors` argues each prior. `contrast_ppc` is the posterior predictive check of the
method contrasts' trends that tells the joint and repaired models apart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

import numpy as np

from uncertain_cost.errors import ArgumentError

__all__ = ["RepairedPriors", "ContrastTerms", "contrast_terms", "contrast_ppc", "PPC_COLUMNS",
           "DIM_CONTRAST", "REFERENCE_METHOD"]

#: Dimension of the contrast coefficients in the posterior.
DIM_CONTRAST = "contrast_term"

#: The method the contrasts are taken against (the one that depreciates).
REFERENCE_METHOD = "amortized"

#: Columns of ``growth_contrast_ppc.csv``.
PPC_COLUMNS = ("fit", "contrast", "statistic", "n_pairs", "observed", "replicated_p5", "replicated_p50",
               "replicated_p95", "percentile")


@dataclass(frozen=True)
class RepairedPriors:
    """Priors of the repaired joint model's contrast terms (log10 USD, years).

    Parameters
    ----------
    age_coef_mean : float
        Prior mean of each non-reference method's coefficient on chip age (OOM per year of
        age): the depreciation rate ``r`` of the cost equations, 0.14 OOM/yr (the paper's
        central value; the amortized hardware value falls by ``10**(-r * age)``).
    age_coef_sd : float
        Its sd, 0.1 OOM/yr: wide enough that the data set the coefficient (0 is 1.4 sd
        away, and the energy share of the amortized cost, which does not depreciate, pulls
        the true coefficient below ``r``), narrow enough to exclude a 10x cost ratio change
        per 3 years of chip age.
    chip_sd : mapping of str to float
        Fixed sd (dex) of the chip-type effects per non-reference method. ``cloud``: 0.3 (the
        rental price per chip-hour relative to the purchase price differs by chip and
        provider, about a factor of 2); ``acquisition``: 0.1 (the price multipliers cancel
        in acquisition / amortized; only the energy share of the amortized cost depends on
        the chip). Methods not listed use ``chip_sd_other``.
    chip_sd_other : float
        Default 0.3.
    scatter_method_mean : float
        Mean (dex) of the Gamma(2, 2 / mean) prior of ``scatter_method``, default 0.1 (90%:
        0.018-0.24 dex; mode 0.05). Zero-avoiding on purpose: the density vanishes at 0, so
        the method contrasts cannot be claimed to lie exactly on the fitted terms. Per-model
        causes the contrasts do not model (training duration enters amortized but not
        acquisition cost; the cloud price's date and provider) are several percent at
        least; a tail to 0.3 dex allows the training-duration spread.
    """

    age_coef_mean: float = 0.14
    age_coef_sd: float = 0.1
    chip_sd: Mapping = field(default_factory=lambda: {"cloud": 0.3, "acquisition": 0.1})
    chip_sd_other: float = 0.3
    scatter_method_mean: float = 0.1

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            items = value.items() if f.name == "chip_sd" else [(None, value)]
            for key, v in items:
                name = f.name + (f".{key}" if key is not None else "")
                if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                    raise ArgumentError(name, f"expected a finite number, got {v!r}", "RepairedPriors")
                if f.name != "age_coef_mean" and v <= 0:
                    raise ArgumentError(name, f"expected a positive number, got {v!r}", "RepairedPriors")

    def chip_sd_of(self, method: str) -> float:
        """Sd (dex) of the chip-type effects of ``method``."""
        return float(self.chip_sd.get(method, self.chip_sd_other))


@dataclass(frozen=True, eq=False)
class ContrastTerms:
    """The extra Gaussian columns of the repaired model (one per coefficient), unrotated.

    Attributes
    ----------
    labels : tuple of str
        ``"<method>: chip age"`` or ``"<method>: <chip>"`` per term.
    method, kind, chip : tuple of str
        Per term: its method, ``"age"`` or ``"chip"``, and its chip (``""`` for age terms).
    design : ndarray, shape (n_obs, n_terms)
        In the observation order of the `Measurement`.
    prior_mean, prior_sd : ndarray, shape (n_terms,)
    age_residual : ndarray, shape (n_union,)
        Chip age of each model of the fit minus its least-squares line in publication year
        (0 where the age is unknown).
    age_trend : tuple of float
        ``(intercept at year 0, slope)`` of that line (years, years per year).
    reference : str
    priors : RepairedPriors
    """

    labels: tuple[str, ...]
    method: tuple[str, ...]
    kind: tuple[str, ...]
    chip: tuple[str, ...]
    design: np.ndarray
    prior_mean: np.ndarray
    prior_sd: np.ndarray
    age_residual: np.ndarray
    age_trend: tuple[float, float]
    reference: str
    priors: RepairedPriors

    @property
    def n_terms(self) -> int:
        """Number of extra coefficients."""
        return len(self.labels)


def contrast_terms(data, meas, priors: RepairedPriors | None = None) -> ContrastTerms:
    """Build the repaired model's age and chip-type columns for the observations of ``meas``.

    Parameters
    ----------
    data : GrowthData
        With `GrowthData.chip` and `GrowthData.chip_age_years`.
    meas : Measurement
        The stacked observations (`uncertain_cost.growth.data.measurement` of ``data``).
    priors : RepairedPriors, optional

    Returns
    -------
    ContrastTerms

    Raises
    ------
    ValueError
        Without chip or chip-age data, without the reference method or without another
        method, or when no model of the fit has a known chip age.
    """
    priors = RepairedPriors() if priors is None else priors
    if not data.chip or data.chip_age_years is None:
        raise ValueError("the repaired growth model needs GrowthData.chip and GrowthData.chip_age_years")
    if REFERENCE_METHOD not in meas.methods or len(meas.methods) < 2:
        raise ValueError(f"the repaired growth model needs the {REFERENCE_METHOD!r} method and another one; "
                         f"have {list(meas.methods)}")
    index = {name: k for k, name in enumerate(data.model)}
    rows = np.array([index[name] for name in meas.model])
    age = np.asarray(data.chip_age_years)[rows]
    chip = [data.chip[k] for k in rows]
    known = np.isfinite(age)
    if known.sum() < 2:
        raise ValueError("the repaired growth model needs the chip age of at least two models")
    slope_age, icpt_age = np.polyfit(meas.year[known], age[known], 1)
    resid = np.where(known, age - (icpt_age + slope_age * meas.year), 0.0)
    mi, ii = meas.method_index, meas.model_index
    cols, labels, methods, kinds, chips, means, sds = [], [], [], [], [], [], []
    for j, m in enumerate(meas.methods):
        if m == REFERENCE_METHOD:
            continue
        obs = mi == j
        cols.append(np.where(obs, resid[ii], 0.0))
        labels.append(f"{m}: chip age")
        methods.append(m)
        kinds.append("age")
        chips.append("")
        means.append(priors.age_coef_mean)
        sds.append(priors.age_coef_sd)
        for c in sorted({chip[i] for i in ii[obs]} - {""}):
            cols.append((obs & (np.array([chip[i] for i in ii]) == c)).astype(np.float64))
            labels.append(f"{m}: {c}")
            methods.append(m)
            kinds.append("chip")
            chips.append(c)
            means.append(0.0)
            sds.append(priors.chip_sd_of(m))
    design = np.column_stack(cols)
    for a in (design, resid):
        a.setflags(write=False)
    return ContrastTerms(labels=tuple(labels), method=tuple(methods), kind=tuple(kinds), chip=tuple(chips),
                         design=design, prior_mean=np.array(means), prior_sd=np.array(sds), age_residual=resid,
                         age_trend=(float(icpt_age), float(slope_age)), reference=REFERENCE_METHOD, priors=priors)


def contrast_coordinates(terms: ContrastTerms) -> dict:
    """Coordinates of the ``contrast_term`` dimension (labels, method, kind, chip)."""
    return {DIM_CONTRAST: list(terms.labels), "contrast_method": (DIM_CONTRAST, list(terms.method)),
            "contrast_kind": (DIM_CONTRAST, list(terms.kind)), "contrast_chip": (DIM_CONTRAST, list(terms.chip))}


def _ols_slope(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """OLS slope of ``y`` (..., n) on ``x`` (n,)."""
    xc = x - x.mean()
    return (y - y.mean(axis=-1, keepdims=True)) @ xc / float(xc @ xc)


def _within_slope(x: np.ndarray, y: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Slope of ``y`` (..., n) on ``x`` after removing each group's mean (groups of >= 2 only)."""
    keep = np.zeros(x.size, dtype=bool)
    xd = np.zeros(x.size)
    yd = np.zeros(y.shape)
    for g in np.unique(group):
        sel = group == g
        if sel.sum() < 2 or g == "":
            continue
        keep |= sel
        xd[sel] = x[sel] - x[sel].mean()
        yd[..., sel] = y[..., sel] - y[..., sel].mean(axis=-1, keepdims=True)
    if not keep.any() or float(xd @ xd) == 0.0:
        return np.full(y.shape[:-1], np.nan)
    return yd[..., keep] @ xd[keep] / float(xd[keep] @ xd[keep])


def contrast_ppc(result, meas, chips, *, rng: np.random.Generator, n_replicates: int = 1000,
                 fit: str = "") -> list[dict]:
    """Posterior predictive check of the method contrasts' trends (other method minus reference).

    For each model costed by the reference method and by method ``m``, the contrast is
    ``d_i = y_mi - y_ref,i`` (log10 cost ratio). Two statistics: ``trend`` (OLS slope of
    ``d`` on publication year, OOM/yr) and ``within_chip_trend`` (the same slope after
    removing each chip's mean, over chips with two or more pairs: the depreciation sawtooth).
    Replicated data are drawn from the fit for the same models: for posterior draw ``s``,
    ``y_rep = mu_s + loading_s v_s + e + eps`` with ``e ~ N(0, scatter_method_s**2 I)`` and
    ``eps ~ N(0, C)`` (the fit's measurement covariance), ``mu`` the trend (and, for the
    repaired fit, its contrast terms).

    Parameters
    ----------
    result : BayesResult
        A fit with two or more methods, including the reference method.
    meas : Measurement
        Its observations (`uncertain_cost.growth.data.measurement` of the fit's data and
        ``center``); checked against the fit's ``constant_data``.
    chips : sequence of str
        Chip of each model of ``meas.model`` (``""`` where unknown).
    rng : numpy.random.Generator
    n_replicates : int, default 1000
        Posterior draws used (evenly spaced over all draws).
    fit : str
        Name written in the ``fit`` column.

    Returns
    -------
    list of dict
        Keys `PPC_COLUMNS`, one row per (contrast, statistic). ``percentile``: share of
        replicated statistics at or below the observed one (near 0 or 1: the fit does not
        reproduce that feature of the data).
    """
    post = result.idata.posterior
    observed = np.asarray(result.idata.constant_data["log10_cost_observed"].values)
    if observed.shape != meas.center.shape or not np.allclose(observed, meas.center):
        raise ValueError("contrast_ppc: the measurement does not match the fit's observations")
    if REFERENCE_METHOD not in meas.methods or len(meas.methods) < 2:
        raise ValueError(f"contrast_ppc needs the {REFERENCE_METHOD!r} method and another one")
    n_chain, n_draw = int(post.sizes["chain"]), int(post.sizes["draw"])
    total = n_chain * n_draw
    pick = np.unique(np.linspace(0, total - 1, min(n_replicates, total)).round().astype(int))
    s = pick.size
    m = len(meas.methods)
    mi, ii = meas.method_index, meas.model_index

    def flat(name, *shape):
        return np.asarray(post[name].values, dtype=np.float64).reshape(total, *shape)[pick]

    x = meas.year[ii] - result.year_ref
    loading = np.exp(flat("log_loading", m))
    mu = (flat("intercept", m)[:, mi] + flat("slope", m)[:, mi] * x[None, :]
          + loading[:, mi] * flat("model_effect", -1)[:, ii])
    if "contrast_coef" in post:
        design = np.asarray(result.idata.constant_data["contrast_design"].values)
        mu = mu + flat("contrast_coef", -1) @ design.T
    noise = (flat("scatter_method", 1) * rng.standard_normal((s, meas.n_obs))
             + (rng.standard_normal((s, meas.n_obs)) * np.sqrt(meas.eigvals)) @ meas.eigvecs.T)
    y_rep = mu + noise
    ref = meas.methods.index(REFERENCE_METHOD)
    chips = np.asarray(list(chips), dtype=object)
    rows = []
    for j, name in enumerate(meas.methods):
        if j == ref:
            continue
        obs_ref = {int(i): k for k, i in enumerate(ii) if mi[k] == ref}
        pairs = [(k, obs_ref[int(ii[k])]) for k in np.flatnonzero(mi == j) if int(ii[k]) in obs_ref]
        if len(pairs) < 3:
            continue
        a, b = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
        years = meas.year[ii[a]]
        group = chips[ii[a]].astype(str)
        d_obs = meas.center[a] - meas.center[b]
        d_rep = y_rep[:, a] - y_rep[:, b]
        for stat in ("trend", "within_chip_trend"):
            if stat == "trend":
                t_obs, t_rep = float(_ols_slope(years, d_obs)), _ols_slope(years, d_rep)
            else:
                t_obs, t_rep = float(_within_slope(years, d_obs, group)), _within_slope(years, d_rep, group)
            lo, mid, hi = np.quantile(t_rep, [0.05, 0.5, 0.95])
            rows.append({"fit": fit, "contrast": f"{name}-{REFERENCE_METHOD}", "statistic": stat,
                         "n_pairs": len(pairs), "observed": t_obs, "replicated_p5": float(lo),
                         "replicated_p50": float(mid), "replicated_p95": float(hi),
                         "percentile": float(np.mean(t_rep <= t_obs))})
    return rows
