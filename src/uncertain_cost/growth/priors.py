"""Checks of the growth priors: prior predictive lines and costs, and the headline's sensitivity to each prior scale.

`prior_predictive` simulates trend lines and model costs from the priors alone (the
single-method model, one method), `plot_prior_predictive` draws them against the observed
costs (``growth_prior_predictive.png``), and `prior_sensitivity` refits the headline model
with each prior scale halved and doubled (``growth_prior_sensitivity.csv``, opt-in with
``[growth] prior_sensitivity = true``: one short refit per cell).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from uncertain_cost.growth.bayes import GrowthPriors
from uncertain_cost.growth.data import GrowthData

__all__ = ["prior_predictive", "plot_prior_predictive", "prior_sensitivity", "PRIOR_SENSITIVITY_COLUMNS",
           "SINGLE_PRIOR_SCALES"]

#: Prior scales of the growth model (``nu_beta`` is a rate: its scale is ``1 / nu_beta``).
SINGLE_PRIOR_SCALES = ("slope_sd", "intercept_sd", "scatter_model_mean", "nu_beta")

#: Columns of ``growth_prior_sensitivity.csv``.
PRIOR_SENSITIVITY_COLUMNS = ("fit", "method", "prior", "scale_factor", "value", "slope_median", "growth_median",
                             "growth_lo", "growth_hi", "level", "r_hat_max", "divergences")


def _observed(data: GrowthData, method: str) -> tuple[np.ndarray, np.ndarray]:
    costed = data.costed(method)
    return data.year[costed], np.median(data.log10_cost_draws[method][:, costed], axis=0)


def prior_predictive(data: GrowthData, method: str = "amortized", priors: GrowthPriors | None = None, *,
                     n: int = 500, seed: int = 0, grid: int = 40) -> dict:
    """Trend lines and model costs simulated from the priors of the single-method fit.

    Parameters
    ----------
    data : GrowthData
        Only the years and the mean observed log10 cost (the intercept prior's centre, as in
        the fit) are used.
    method : str, default "amortized"
    priors : GrowthPriors, optional
    n : int, default 500
        Prior draws.
    seed : int, default 0
    grid : int, default 40
        Years on the line grid.

    Returns
    -------
    dict
        ``years`` (grid), ``lines`` (n, grid) log10 USD of the trend line (a median cost),
        ``model_year`` and ``model_cost`` (n, n_models) simulated log10 costs of the costed
        models (trend plus Student-t scatter), ``observed_year``, ``observed`` (log10 medians
        of the Monte Carlo draws), ``slope`` (n,) and ``year_ref``.

    Raises
    ------
    ValueError
        If ``method`` is not in ``data`` or costs fewer than 2 models.
    """
    if method not in data.methods:
        raise ValueError(f"no method {method!r} in the growth data; have {list(data.methods)}")
    priors = GrowthPriors() if priors is None else priors
    year, obs = _observed(data, method)
    if year.size < 2:
        raise ValueError(f"method {method!r} costs fewer than 2 models")
    rng = np.random.default_rng(seed)
    year_ref = float(year.mean())
    intercept = rng.normal(float(obs.mean()), priors.intercept_sd, n)
    slope = rng.normal(priors.slope_mean, priors.slope_sd, n)
    scatter = rng.gamma(2.0, priors.scatter_model_mean / 2.0, n)
    nu = rng.gamma(priors.nu_alpha, 1.0 / priors.nu_beta, n)
    years = np.linspace(float(year.min()), float(year.max()), grid)
    lines = intercept[:, None] + slope[:, None] * (years[None, :] - year_ref)
    effect = scatter[:, None] * rng.standard_t(nu[:, None], size=(n, year.size))
    cost = intercept[:, None] + slope[:, None] * (year[None, :] - year_ref) + effect
    return {"years": years, "lines": lines, "model_year": year, "model_cost": cost, "observed_year": year,
            "observed": obs, "slope": slope, "year_ref": year_ref}


def plot_prior_predictive(data: GrowthData, priors: GrowthPriors | None = None, *, seed: int = 0,
                          methods: Sequence[str] | None = None):
    """Figure ``growth_prior_predictive.png``: prior trend lines and simulated costs against the observed range.

    Parameters
    ----------
    data : GrowthData
    priors : GrowthPriors, optional
    seed : int, default 0
    methods : sequence of str, optional
        Default every method of ``data`` with at least 2 costed models.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    methods = [m for m in (data.methods if methods is None else methods) if int(data.costed(m).sum()) >= 2]
    fig = Figure(figsize=(4.2 * max(1, len(methods)), 4.2), layout="constrained")
    axes = fig.subplots(1, max(1, len(methods)), squeeze=False)[0]
    for ax, method in zip(axes, methods, strict=False):
        pp = prior_predictive(data, method, priors, seed=seed)
        lo, hi = np.quantile(pp["model_cost"], [0.05, 0.95], axis=0)
        order = np.argsort(pp["model_year"])
        ax.fill_between(pp["model_year"][order], 10.0 ** lo[order], 10.0 ** hi[order], color="#DD8452", alpha=0.2,
                        label="prior predictive costs, 90%")
        for line in pp["lines"][:60]:
            ax.plot(pp["years"], 10.0 ** line, color="#4C72B0", alpha=0.15, linewidth=0.7)
        ax.plot([], [], color="#4C72B0", alpha=0.5, label="prior trend lines: median (geometric mean) cost")
        ax.plot(pp["observed_year"], 10.0 ** pp["observed"], "o", color="black", markersize=3,
                label="observed (median of draws)")
        obs_lo, obs_hi = float(pp["observed"].min()), float(pp["observed"].max())
        ax.axhspan(10.0**obs_lo, 10.0**obs_hi, color="#999999", alpha=0.15, label="observed range")
        ax.set_yscale("log")
        ax.set_ylim(10.0 ** (obs_lo - 6), 10.0 ** (obs_hi + 6))
        ax.set_title(f"{method}: priors of the single-method fit", fontsize=9)
        ax.set_xlabel("publication year")
        ax.set_ylabel("cost (USD)")
        ax.legend(fontsize=6, loc="upper left")
    return fig


def prior_sensitivity(data: GrowthData, *, seed: int, method: str = "amortized", fit: str = "single",
                      names: Sequence[str] | None = None, factors: Sequence[float] = (0.5, 2.0),
                      priors: GrowthPriors | None = None, draws: int = 500, tune: int = 500, chains: int = 2,
                      center: str = "median", sampler: str = "nutpie", level: float = 0.9) -> list[dict]:
    """Headline slope when each prior scale is halved and doubled: one short refit per cell.

    Parameters
    ----------
    data : GrowthData
    seed : int
        Seed of every refit (the same in every cell, so differences come from the prior).
    method : str, default "amortized"
    fit : {"single"}, default "single"
        ``method`` fitted alone (the only growth model; kept as the table's ``fit`` column).
    names : sequence of str, optional
        Prior fields to vary; default `SINGLE_PRIOR_SCALES`.
    factors : sequence of float, default (0.5, 2.0)
        Multipliers of each prior *scale* (``nu_beta``, a rate, is divided by the factor).
    priors : GrowthPriors, optional
        The baseline (default `GrowthPriors()`).
    draws, tune, chains : int, default 500, 500, 2
        Short chains: medians and 90% intervals need no more; diagnostics are reported, not enforced.
    center, sampler, level
        As `uncertain_cost.growth.bayes.fit_bayes`.

    Returns
    -------
    list of dict
        Keys `PRIOR_SENSITIVITY_COLUMNS`: a baseline row (``prior = "baseline"``,
        ``scale_factor = 1``) then one row per (prior, factor); ``value`` is the prior field's
        value in the refit.

    Raises
    ------
    ValueError
        For an unknown ``fit``, ``method`` or prior name.
    """
    import warnings

    from uncertain_cost.errors import UncertainCostWarning
    from uncertain_cost.growth.bayes import fit_bayes

    if fit != "single":
        raise ValueError(f"fit: expected 'single', got {fit!r}")
    if method not in data.methods:
        raise ValueError(f"no method {method!r} in the growth data; have {list(data.methods)}")
    base = GrowthPriors() if priors is None else priors
    names = SINGLE_PRIOR_SCALES if names is None else tuple(names)
    for name in names:
        if not hasattr(base, name):
            raise ValueError(f"unknown prior {name!r}")
    subset = data.select([method])
    cells = [("baseline", 1.0, base)]
    for name in names:
        for f in factors:
            value = getattr(base, name) / f if name == "nu_beta" else getattr(base, name) * f
            cells.append((name, float(f), replace(base, **{name: value})))
    rows = []
    for name, factor, pri in cells:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UncertainCostWarning)  # short chains: loose diagnostics
            res = fit_bayes(subset, seed=seed, draws=draws, tune=tune, chains=chains, center=center,
                            sampler=sampler, level=level, priors=pri, log_likelihood=False)
        s = res.summary(method)
        d = res.diagnostics
        rows.append({"fit": fit, "method": method, "prior": name, "scale_factor": factor,
                     "value": None if name == "baseline" else float(getattr(pri, name)),
                     "slope_median": s["slope"], "growth_median": s["growth"], "growth_lo": s["growth_lo"],
                     "growth_hi": s["growth_hi"], "level": level, "r_hat_max": round(float(d.r_hat_max), 4),
                     "divergences": int(d.divergences)})
    return rows
