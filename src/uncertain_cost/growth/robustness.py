"""How much the headline growth rate rests on single models and on the start year: ``growth_robustness``.

Three checks of the headline method's single-method fit, cheap enough for every Bayesian run
(issue 21, item 3):

* **leave one model out.** The posterior without model ``i`` is the fit's posterior reweighted
  by ``1 / p(y_i | theta, y_-i)`` (the pointwise term of `uncertain_cost.growth.loo`), Pareto
  smoothed (PSIS, Vehtari et al. 2024, `arviz.psislw`); the growth rate without ``i`` is the
  weighted posterior median of the slope. Where the Pareto ``k`` exceeds `PARETO_K_MAX` the
  importance weights are unreliable and the model is refitted without ``i`` instead. The
  `N_INFLUENTIAL` models that move the headline most are listed, with the GLS estimate without
  the model beside each (`uncertain_cost.growth.decomposition.gls_growth`). On the default
  config the PSIS estimates agree with exact refits to within 0.03x for the five listed
  models (``tests/growth/test_growth_robustness.py`` checks DeepSpeech2's).
* **start year.** The fit refitted on the models published from 2016, 2018 and 2020 on (and
  the GLS estimate on the same models).

* **input variants** (`variant_rows`): the Monte Carlo re-run under other input assumptions (the
  run passes the TPU price prior narrower and wider, and one shared TPU price draw instead of
  one per chip; `uncertain_cost.stages.growth_stage`): the headline posterior reweighted to the
  variant's costs (PSIS, as for leave-one-out), refitted where the Pareto ``k`` exceeds
  `PARETO_K_MAX`.

Refits use `REFIT_CHAINS` chains of `REFIT_DRAWS` draws (2 x 1500; issue 24): one chain per
core, so the warm-up is paid twice instead of four times and the fit takes about half the wall
time of the former 4 x 1000, for a bulk ESS of the slope ~20% lower (1,500-2,700 against
2,400-3,000 on the default config). The Monte Carlo sd of a reported growth factor, from 4 seeds
on the default config, is 0.1-0.6% either way (largest for the 2018 and 2020 starts, 32 and 26
models: from 2020 3.387-3.433x at 2 x 1500, 3.425-3.439x at 4 x 1000); the default run's rows
moved by -0.3% to +0.5% from the 4 x 1000 values, within that error (the report's 3 significant
figures can change in the last digit: from 2018 2.95x -> 2.97x). 4 x 500 was tried and left the
2020 start-year refit of the default config at R-hat 1.0100. A refit checks the variables it
reports (`uncertain_cost.growth.bayes.TREND_MONITORED`: slope, intercept, scatter, nu; not the 41
per-model effects) against the stage's thresholds, and each row carries its diagnostics (the
headline's for the headline and the importance-sampling rows); a failing refit warns loudly, or
raises with ``[growth] fail_on_bad_diagnostics``.

Leave-one-out refits happen only where the Pareto ``k`` of a model exceeds `PARETO_K_MAX` (any
model, not only the listed ones, since the ranking uses the refitted values); on the default
config no model does (largest k 0.47), so the check costs no fit.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from uncertain_cost.forking import shared_map
from uncertain_cost.growth.data import GrowthData, measurement
from uncertain_cost.growth.decomposition import gls_growth

__all__ = ["ROBUSTNESS_COLUMNS", "START_YEARS", "loo_influence", "robustness_rows", "variant_rows"]

#: Columns of ``growth_robustness.csv``.
ROBUSTNESS_COLUMNS = ("method", "check", "label", "n_models", "growth_per_year", "lo", "hi", "change_vs_headline",
                      "psis_growth_per_year", "pareto_k", "exact_refit", "gls_growth_per_year", "refit_draws",
                      "r_hat_max", "ess_bulk_min", "ess_tail_min", "divergences")

#: Pareto k above which the importance-sampling estimate is replaced by an exact refit.
PARETO_K_MAX = 0.7
#: Models listed by the leave-one-out check.
N_INFLUENTIAL = 5
#: First publication years of the start-year check.
START_YEARS = (2016, 2018, 2020)
#: Draws per chain of every refit, and chains (at most the stage's): 2 x 1500 reaches the bulk
#: ESS of the former 4 x 1000 within ~20% at about half the wall time (see the module docstring).
REFIT_DRAWS = 1500
REFIT_CHAINS = 2


def _weighted_quantiles(values: np.ndarray, log_weights: np.ndarray, qs) -> np.ndarray:
    order = np.argsort(values)
    w = np.exp(log_weights[order] - np.max(log_weights))
    cdf = np.cumsum(w)
    cdf = (cdf - 0.5 * w) / cdf[-1]
    return np.interp(qs, cdf, values[order])


def loo_influence(fit, method: str) -> list[dict]:
    """PSIS estimate of the growth rate with each model left out, from one single-method fit.

    Parameters
    ----------
    fit : uncertain_cost.growth.bayes.BayesResult
        With a ``log_likelihood`` group.
    method : str

    Returns
    -------
    list of dict
        Per model (in the fit's order): ``model``, ``growth`` (weighted median), ``lo``, ``hi``
        (at the fit's level) and ``pareto_k``.
    """
    import arviz as az

    from uncertain_cost.growth.loo import relative_ess

    ll = fit.idata.log_likelihood["log10_cost"]
    names = [str(v) for v in ll["observation_model"].values]
    slope = fit.draws("slope", method)
    values = np.asarray(ll.values, dtype=np.float64).reshape(slope.size, -1)
    reff = relative_ess(ll)
    qs = [0.5 - fit.level / 2, 0.5, 0.5 + fit.level / 2]
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # arviz warns about high k: reported in the table instead
        for j, name in enumerate(names):
            if np.ptp(values[:, j]) == 0.0:  # no information in the observation: the posterior is unchanged
                lw, k = np.zeros(slope.size), 0.0
            else:
                lw, k = az.psislw(-values[:, j], reff)
            lo, mid, hi = _weighted_quantiles(slope, np.asarray(lw), qs)
            out.append({"model": name, "growth": float(10.0**mid), "lo": float(10.0**lo), "hi": float(10.0**hi),
                        "pareto_k": float(k)})
    return out


def _summary(fit, method: str) -> dict:
    s = fit.summary(method)
    d = fit.diagnostics
    return {"growth": s["growth"], "lo": s["growth_lo"], "hi": s["growth_hi"], "n": s["n_models"],
            "diagnostics": (round(float(d.r_hat_max), 4), round(float(d.ess_bulk_min), 1),
                            round(float(d.ess_tail_min), 1), int(d.divergences))}


def robustness_rows(data: GrowthData, fit, method: str, refit) -> list[dict]:
    """Rows of ``growth_robustness.csv`` for the headline fit of ``method``.

    Parameters
    ----------
    data : GrowthData
    fit : BayesResult
        The single-method fit of ``method`` (with ``log_likelihood``).
    method : str
    refit : callable
        ``refit(data, draws) -> BayesResult``: the same fit on other data (one method).

    Returns
    -------
    list of dict
        Keys `ROBUSTNESS_COLUMNS`: a ``headline`` row, `N_INFLUENTIAL` ``leave_one_out`` rows
        (most influential first; ``growth_per_year`` from the exact refit where ``pareto_k``
        exceeds `PARETO_K_MAX`, else the PSIS estimate, which ``psis_growth_per_year`` always
        gives), then one ``start_year`` row per year of `START_YEARS` (refits).
    """
    one = data.select([method])
    head = _summary(fit, method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fit has warned about dropped models already
        meas = measurement(one, fit.center)
    rows = [_row(method, "headline", "all models", head, head["growth"], None, None, False,
                 10.0 ** gls_growth(meas.center, meas.year, meas.cov)[0], None)]
    index = {name: i for i, name in enumerate(one.model)}
    pos = {name: j for j, name in enumerate(meas.model)}
    psis = loo_influence(fit, method)
    # The exact refits (models whose Pareto k exceeds PARETO_K_MAX, then the start years) are
    # independent and seeded alike: this process and a forked child share them (shared_map).
    unreliable = list(dict.fromkeys(p["model"] for p in psis if not p["pareto_k"] <= PARETO_K_MAX))
    years = [year for year in START_YEARS if int((meas.year >= year).sum()) >= 5]
    subsets = [one.subset(np.arange(one.n_models) != index[name]) for name in unreliable]
    subsets += [one.subset(one.year >= year) for year in years]
    summaries = shared_map(lambda subset: _summary(refit(subset, REFIT_DRAWS), method), subsets)
    exact = dict(zip(unreliable, summaries[:len(unreliable)], strict=True))
    by_year = dict(zip(years, summaries[len(unreliable):], strict=True))

    def shift(p):
        g = exact[p["model"]]["growth"] if p["model"] in exact else p["growth"]
        return abs(math.log(g / head["growth"]))

    for p in sorted(psis, key=shift, reverse=True)[:N_INFLUENTIAL]:
        name = p["model"]
        refitted = name in exact
        est = exact[name] if refitted else {**p, "n": head["n"] - 1, "diagnostics": head["diagnostics"]}
        keep = np.arange(meas.n_obs) != pos[name]
        gls = 10.0 ** gls_growth(meas.center[keep], meas.year[keep], meas.cov[np.ix_(keep, keep)])[0]
        rows.append(_row(method, "leave_one_out", name, est, head["growth"], p["growth"], p["pareto_k"], refitted,
                         gls, REFIT_DRAWS if refitted else None))
    for year, sub in by_year.items():
        keep = meas.year >= year
        gls = 10.0 ** gls_growth(meas.center[keep], meas.year[keep], meas.cov[np.ix_(keep, keep)])[0]
        rows.append(_row(method, "start_year", f"from {year}", sub, head["growth"], None, None, True, gls,
                         REFIT_DRAWS))
    return rows


def _row(method, check, label, s, headline, psis, k, exact, gls, draws) -> dict:
    r_hat, ess_bulk, ess_tail, div = s.get("diagnostics", (None,) * 4)
    return {"method": method, "check": check, "label": label, "n_models": int(s["n"]), "growth_per_year": s["growth"],
            "lo": s["lo"], "hi": s["hi"], "change_vs_headline": s["growth"] / headline,
            "psis_growth_per_year": psis, "pareto_k": k, "exact_refit": bool(exact), "gls_growth_per_year": gls,
            "refit_draws": draws, "r_hat_max": r_hat, "ess_bulk_min": ess_bulk, "ess_tail_min": ess_tail,
            "divergences": div}


def _variant_psis(fit, method: str, old: GrowthData, new: GrowthData, check: str) -> dict | None:
    """Reweight the headline posterior to the costs of a variant: growth, interval, Pareto k.

    The priors of the sampled parameters (scatter, nu, per-model effects) do not depend on the
    data (the intercept's, centred on the mean cost, is inside the marginal below), so the posterior under the variant's
    costs ``y'`` (measurement covariance ``C'``) is the fit's reweighted by
    ``N(y' - v; X c0', S') / N(y - v; X c0, S)`` (the marginal likelihood of the per-model
    effects ``v``, intercept and slope integrated out: `uncertain_cost.growth.bayes.GrowthModel`),
    Pareto smoothed (`arviz.psislw`); each draw's slope is drawn anew from its Gaussian
    conditional under ``y'`` (`uncertain_cost.growth.bayes.draw_coefficients`). None when the
    variant costs other models than the fit (then only a refit answers).
    """
    import zlib

    import arviz as az

    from uncertain_cost.growth.bayes import build_model, draw_coefficients

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fit has warned about dropped models already
        before = build_model(old.select([method]), priors=fit.priors, center=fit.center)
        after = build_model(new, priors=fit.priors, center=fit.center)
    effect_da = fit.idata.posterior["model_effect"]
    names = [str(m) for m in effect_da["model"].values]
    if list(before.measurement.model) != names or list(after.measurement.model) != names:
        return None
    effect = np.asarray(effect_da.transpose("chain", "draw", "model").values, dtype=np.float64).reshape(-1, len(names))

    def loglik(gm):
        r = gm.resid0[None, :] - effect
        return gm.const - 0.5 * np.einsum("si,ij,sj->s", r, gm.lam, r)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a high k is reported (and refitted) instead
        lw, k = az.psislw(loglik(after) - loglik(before))
    rng = np.random.default_rng(np.random.SeedSequence(int(fit.seed), spawn_key=(zlib.crc32(check.encode()),)))
    slope = draw_coefficients(after, effect, rng)[:, 1]
    lo, mid, hi = _weighted_quantiles(slope, np.asarray(lw), [0.5 - fit.level / 2, 0.5, 0.5 + fit.level / 2])
    return {"growth": float(10.0**mid), "lo": float(10.0**lo), "hi": float(10.0**hi), "pareto_k": float(k)}


def variant_rows(fit, method: str, variants, refit, data: GrowthData | None = None) -> list[dict]:
    """``growth_robustness`` rows of the headline under re-simulated costs, one per variant.

    Each variant's estimate is the headline posterior reweighted to the variant's costs
    (`_variant_psis`, with ``data``) where its Pareto ``k`` is at most `PARETO_K_MAX`, and a refit
    otherwise (or without ``data``). On the default config the TPU price narrower and wider
    reweight (k 0.02 and 0.41; 2.501x and 2.773x against refits' 2.504x and 2.765x) and the
    shared TPU price is refitted (k 0.71).

    Parameters
    ----------
    fit : BayesResult
        The headline fit of ``method`` (for ``change_vs_headline`` and the reweighting).
    method : str
    variants : mapping of str to (str, callable)
        Check name -> (label, ``make() -> GrowthData``): the costs under another input assumption.
    refit : callable
        ``refit(data, draws) -> BayesResult``.
    data : GrowthData, optional
        The costs ``fit`` was fitted on; without them every variant is refitted.

    Returns
    -------
    list of dict
        Keys `ROBUSTNESS_COLUMNS`; ``exact_refit`` says which estimate ``growth_per_year`` is,
        ``psis_growth_per_year`` and ``pareto_k`` are the reweighting's (when made);
        ``gls_growth_per_year`` on the same data.
    """
    head = _summary(fit, method)
    rows = []
    for check, (label, make) in variants.items():
        one = make().select([method])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the fit has warned about dropped models already
            meas = measurement(one, fit.center)
        gls = 10.0 ** gls_growth(meas.center, meas.year, meas.cov)[0]
        psis = _variant_psis(fit, method, data, one, check) if data is not None else None
        if psis is not None and psis["pareto_k"] <= PARETO_K_MAX:
            est = {**psis, "n": head["n"], "diagnostics": head["diagnostics"]}
            rows.append(_row(method, check, label, est, head["growth"], psis["growth"], psis["pareto_k"], False,
                             gls, None))
            continue
        rows.append(_row(method, check, label, _summary(refit(one, REFIT_DRAWS), method), head["growth"],
                         None if psis is None else psis["growth"], None if psis is None else psis["pareto_k"],
                         True, gls, REFIT_DRAWS))
    return rows
