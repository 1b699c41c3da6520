"""Leave-future-out backtest of the forecast models: fit through year Y, score the maximum of Y + h.

For every cost method, every origin ``Y`` (the models published up to the end of ``Y``, at
least `MIN_MODELS` of them costed) and every horizon ``h`` in `HORIZONS` with costed models
in ``Y + h``, each forecast model predicts the *observed* maximum log10 cost of the ``k``
models of ``Y + h`` that the method costs (``k`` as realised; publication uniform in the
year; each run's true cost plus a measurement error with the sd of one of those models), and
is scored against the realised maximum (the largest observed log10 cost, the median of its
Monte Carlo draws):

* log score: log predictive density at the realised maximum (Gaussian kernel density of the
  predictive draws, Silverman's bandwidth), natural log; higher is better;
* CRPS: ``E|X - y| - E|X - X'| / 2`` over the predictive draws, in dex; lower is better;
* PIT: fraction of predictive draws below the realised maximum.

The models (`uncertain_cost.growth.trends`): ``constant`` (the headline single-method fit:
constant slope, Student-t scatter, Monte Carlo covariance), the grid candidates
``constant_normal``, ``hinge``, ``scatter_trend``, and the baseline ``ols_normal`` (the
paper's OLS with normal errors). The grid candidates and OLS are refitted exactly at every
origin (no sampler). The ``constant`` model is approximated by Pareto-smoothed importance
sampling from the full-data posterior (Bürkner, Gabry and Vehtari 2020,
doi:10.1080/00949655.2020.1783262): the weight of a draw is ``1 / p(y_future | theta, v,
y_past)``, the density of the later observations given the parameters, their per-model
effects and the earlier observations under the Monte Carlo covariance; where the Pareto
``k`` exceeds `PARETO_K_MAX` the origin is refitted exactly. ``validation = "full"``
refits every origin.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Mapping, Sequence

import numpy as np

from uncertain_cost.growth.data import GrowthData

__all__ = ["BACKTEST_COLUMNS", "HORIZONS", "MIN_MODELS", "PARETO_K_MAX", "VALIDATIONS", "backtest",
           "backtest_summary", "beats_baseline", "choose_forecast_model", "lfo_forecast", "crps_sample",
           "log_score_sample"]

#: Forecast horizons scored (years after the origin).
HORIZONS = (1, 2, 3, 4)

#: Fewest costed models through an origin year for it to be an origin.
MIN_MODELS = 10

#: Above this Pareto k the importance-sampling approximation is replaced by an exact refit.
PARETO_K_MAX = 0.7

#: A candidate replaces the headline forecast only when its mean log score is higher by more
#: than this many standard errors of the paired difference (the rule of the retired PSIS-LOO choice).
TIE_SE = 2.0

#: ``growth.validation``: approximate leave-future-out (default) or exact refits.
VALIDATIONS = ("psis", "full")

#: Models scored, candidates first; ``ols_normal`` is the baseline.
MODELS = ("constant", "constant_normal", "hinge", "scatter_trend", "ols_normal")

#: Columns of ``growth_backtest.csv``.
BACKTEST_COLUMNS = ("method", "model", "origin", "horizon", "year", "n_fitted", "models_in_year", "realised_max_usd",
                    "predictive_p5_usd", "predictive_p50_usd", "predictive_p95_usd", "pit", "log_score", "crps",
                    "fit", "pareto_k", "r_hat_max", "ess_bulk_min", "ess_tail_min", "divergences")

#: the diagnostics columns of a ``constant`` row refitted at its origin (empty otherwise)
_NO_DIAGNOSTICS = {"r_hat_max": None, "ess_bulk_min": None, "ess_tail_min": None, "divergences": None}


def log_score_sample(draws: np.ndarray, value: float) -> float:
    """Log density at ``value`` of a Gaussian kernel density of ``draws`` (Silverman's bandwidth).

    Parameters
    ----------
    draws : ndarray, shape (S,)
    value : float

    Returns
    -------
    float
        Natural log.
    """
    d = np.asarray(draws, float)
    sd = float(np.std(d))
    iqr = float(np.subtract(*np.quantile(d, [0.75, 0.25])))
    h = 0.9 * min(sd, iqr / 1.34 if iqr > 0 else sd) * d.size ** -0.2
    h = max(h, 1e-6)
    z = (value - d) / h
    return float(np.logaddexp.reduce(-0.5 * z * z) - math.log(d.size * h * math.sqrt(2 * math.pi)))


def crps_sample(draws: np.ndarray, value: float) -> float:
    """Continuous ranked probability score of ``value`` under the sample ``draws``.

    Parameters
    ----------
    draws : ndarray, shape (S,)
    value : float

    Returns
    -------
    float
        ``mean|X - y| - mean|X - X'| / 2`` (exact for the empirical distribution).
    """
    x = np.sort(np.asarray(draws, float))
    n = x.size
    spread = np.sum(x * (2 * np.arange(1, n + 1) - n - 1)) / (n * n)  # mean |X - X'| / 2
    return float(np.mean(np.abs(x - value)) - spread)


def _stream(seed: int, *key) -> np.random.Generator:
    words = [zlib.crc32(str(k).encode("utf-8")) for k in key]
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=tuple(words)))


def _through(data: GrowthData, last_year: int) -> GrowthData:
    keep = np.flatnonzero(data.year < last_year + 1)
    return GrowthData(data.year[keep], {m: d[:, keep] for m, d in data.log10_cost_draws.items()},
                      {m: p[keep] for m, p in data.log10_cost_point.items()},
                      tuple(data.model[i] for i in keep), data.draws_aligned)


def _psis_constant(fit, meas, past: np.ndarray, rng: np.random.Generator):
    """Resample the full-data posterior by importance to the fit through the origin; Pareto k."""
    from arviz import psislw

    method = meas.methods[0]
    post = fit.idata.posterior
    a, b = fit.draws("intercept", method), fit.draws("slope", method)
    names = [str(x) for x in post["model_effect"].coords["model"].values]
    effect = np.asarray(post["model_effect"].values).reshape(a.size, -1)[:, [names.index(n) for n in meas.model]]
    resid = meas.center[None, :] - (a[:, None] + b[:, None] * (meas.year - fit.year_ref)[None, :] + effect)
    cov = (meas.eigvecs * meas.eigvals) @ meas.eigvecs.T
    future = np.setdiff1d(np.arange(meas.center.size), past)
    # y_F given the parameters, v_P and y_P, with v_F integrated out over N(0, scale**2) (the
    # Student-t effect's normal approximation): N(mu_F + C_FP C_PP^-1 r_P, C_F|P + scale**2 I)
    gain = np.linalg.solve(cov[np.ix_(past, past)], cov[np.ix_(past, future)]).T
    cond = cov[np.ix_(future, future)] - gain @ cov[np.ix_(past, future)]
    r_f = resid[:, future] + effect[:, future] - resid[:, past] @ gain.T
    evals, evecs = np.linalg.eigh(cond)
    z = r_f @ evecs
    scale2 = (fit.draws("scatter_model") ** 2)[:, None]
    var = evals[None, :] + scale2
    future_loglik = -0.5 * np.sum(z * z / var + np.log(var), axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lw, k = psislw(-future_loglik)
    w = np.exp(lw - lw.max())
    return rng.choice(a.size, size=a.size, p=w / w.sum()), float(k)


def _origin_models(fit, data_m: GrowthData, meas, method: str, origin: int, validation: str, fit_kwargs, seed):
    """Draws of every model fitted through ``origin``; the constant model's fit kind, k and refit diagnostics."""
    from uncertain_cost.growth.bayes import TREND_MONITORED, fit_bayes
    from uncertain_cost.growth.trends import CANDIDATES, bayes_draws, fit_trend, ols_normal_draws

    past = np.flatnonzero(meas.year < origin + 1)
    rng = _stream(seed, method, origin, "fits")
    out, kind, k, diag = {}, "refit", math.nan, dict(_NO_DIAGNOSTICS)
    if validation == "psis" and fit is not None:
        index, k = _psis_constant(fit, meas, past, rng)
        if k <= PARETO_K_MAX:
            out["constant"], kind = bayes_draws(fit, method).take(index), "psis"
    if "constant" not in out:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # recorded in the rows (and counted in the run's notes) instead
            refit = fit_bayes(_through(data_m, origin), seed=seed, log_likelihood=False,
                              **{"monitor": TREND_MONITORED, **fit_kwargs})
        out["constant"] = bayes_draws(refit, method)
        d = refit.diagnostics
        diag = {"r_hat_max": round(float(d.r_hat_max), 4), "ess_bulk_min": round(float(d.ess_bulk_min), 1),
                "ess_tail_min": round(float(d.ess_tail_min), 1), "divergences": int(d.divergences)}
    y, year = meas.center[past], meas.year[past]
    cov = meas.cov[np.ix_(past, past)]
    for name in CANDIDATES:
        out[name] = fit_trend(name, year, y, cov, rng=rng)
    out["ols_normal"] = ols_normal_draws(year, y, rng=rng)
    return out, kind, k, diag


def backtest(data: GrowthData, fits: Mapping | None = None, *, methods: Sequence[str] | None = None, seed: int = 0,
             validation: str = "psis", horizons: Sequence[int] = HORIZONS, center: str = "median",
             fit_kwargs: Mapping | None = None) -> list[dict]:
    """Leave-future-out backtest of every forecast model, method, origin and horizon.

    Parameters
    ----------
    data : GrowthData
    fits : mapping of str to BayesResult, optional
        The full-data single-method fit of each method (the importance sampling's proposal);
        a method without one is refitted at every origin.
    methods : sequence of str, optional
        Default: every method of ``data``.
    seed : int, default 0
        Seed of the refits and of the predictive draws.
    validation : {"psis", "full"}, default "psis"
    horizons : sequence of int, default (1, 2, 3, 4)
    center : str, default "median"
    fit_kwargs : mapping, optional
        Passed to `uncertain_cost.growth.bayes.fit_bayes` for refits (sampler, draws, ...).

    Returns
    -------
    list of dict
        Keys `BACKTEST_COLUMNS`; ``fit`` says how the model was fitted through the origin
        (``psis``, ``refit`` or ``exact`` for the grid models and OLS), ``pareto_k`` the
        constant model's Pareto k (NaN when not estimated).

    Raises
    ------
    ValueError
        For an unknown method or validation.
    """
    from uncertain_cost.forking import shared_map
    from uncertain_cost.growth.data import measurement

    if validation not in VALIDATIONS:
        raise ValueError(f"unknown validation {validation!r}; expected one of {VALIDATIONS}")
    methods = tuple(data.methods if methods is None else methods)
    fits = dict(fits or {})
    kw = {"center": center, **dict(fit_kwargs or {})}
    tasks = []  # (method, origin, per-method context), in the rows' order
    for method in methods:
        if method not in data.methods:
            raise ValueError(f"no method {method!r} in the growth data; have {list(data.methods)}")
        data_m = data.select([method])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meas = measurement(data_m, center)
        cal = np.floor(meas.year).astype(int)
        for origin in range(int(cal.min()), int(cal.max())):
            if np.sum(cal <= origin) >= MIN_MODELS and any(np.any(cal == origin + h) for h in horizons):
                tasks.append((method, origin, (fits.get(method), data_m, meas, cal)))

    def rows_of(task) -> list[dict]:
        method, origin, context = task
        return _origin_rows(*context, method, origin, validation, kw, seed, horizons)

    # Every origin draws from its own keyed streams, so origins can be computed anywhere: this
    # process and a forked child take them from one queue; the rows keep their order.
    return [row for rows in shared_map(rows_of, tasks) for row in rows]


def _origin_rows(fit, data_m: GrowthData, meas, cal: np.ndarray, method: str, origin: int, validation: str,
                 fit_kwargs, seed: int, horizons: Sequence[int]) -> list[dict]:
    """Rows of one method and origin: every model fitted through ``origin``, scored at each horizon."""
    from uncertain_cost.growth.trends import max_predictive

    models, kind, k_pareto, diag = _origin_models(fit, data_m, meas, method, origin, validation, fit_kwargs, seed)
    sd = meas.sd
    rows = []
    for h in horizons:
        target = np.flatnonzero(cal == origin + h)
        if target.size == 0:
            continue
        realised = float(np.max(meas.center[target]))
        for name in MODELS:
            pred = max_predictive(models[name], origin + h, target.size, sd[target],
                                  _stream(seed, method, origin, h, name))
            p5, p50, p95 = np.quantile(pred, [0.05, 0.5, 0.95])
            rows.append({"method": method, "model": name, "origin": origin, "horizon": h,
                         "year": origin + h, "n_fitted": int(np.sum(cal <= origin)),
                         "models_in_year": int(target.size), "realised_max_usd": 10.0**realised,
                         "predictive_p5_usd": float(10.0**p5), "predictive_p50_usd": float(10.0**p50),
                         "predictive_p95_usd": float(10.0**p95), "pit": float(np.mean(pred < realised)),
                         "log_score": log_score_sample(pred, realised), "crps": crps_sample(pred, realised),
                         "fit": kind if name == "constant" else "exact",
                         "pareto_k": k_pareto if name == "constant" else math.nan,
                         **(diag if name == "constant" else _NO_DIAGNOSTICS)})
    return rows


def backtest_summary(rows: Sequence[Mapping]) -> list[dict]:
    """Mean scores per (method, model, horizon) over the origins.

    Parameters
    ----------
    rows : sequence of dict
        `backtest` rows.

    Returns
    -------
    list of dict
        ``method``, ``model``, ``horizon``, ``n`` (origins), ``log_score``, ``crps`` (means),
        ``pit_in_90`` (fraction of PITs within [0.05, 0.95]).
    """
    out = []
    keys = sorted({(str(r["method"]), str(r["model"]), int(r["horizon"])) for r in rows},
                  key=lambda k: (k[0], MODELS.index(k[1]) if k[1] in MODELS else 99, k[2]))
    for method, model, h in keys:
        cell = [r for r in rows if (str(r["method"]), str(r["model"]), int(r["horizon"])) == (method, model, h)]
        pit = np.array([float(r["pit"]) for r in cell])
        out.append({"method": method, "model": model, "horizon": h, "n": len(cell),
                    "log_score": float(np.mean([float(r["log_score"]) for r in cell])),
                    "crps": float(np.mean([float(r["crps"]) for r in cell])),
                    "pit_in_90": float(np.mean((pit >= 0.05) & (pit <= 0.95)))})
    return out


def choose_forecast_model(rows: Sequence[Mapping], method: str) -> str:
    """Pick the forecast model of ``method`` by leave-future-out log score, the headline unless clearly beaten.

    A candidate replaces ``constant`` (the headline fit) only when its mean log score over the
    origin-horizon pairs is higher by more than `TIE_SE` standard errors of the paired
    difference; among those, the highest mean wins.

    Parameters
    ----------
    rows : sequence of dict
        `backtest` rows.
    method : str

    Returns
    -------
    str
        A candidate name (never the ``ols_normal`` baseline); ``"constant"`` when ``method``
        has no backtest rows or no candidate is clearly better.
    """
    scores = {}
    for r in rows:
        if r["method"] == method and r["model"] != "ols_normal":
            scores.setdefault(str(r["model"]), {})[(int(r["origin"]), int(r["horizon"]))] = float(r["log_score"])
    base = scores.get("constant", {})
    best, best_mean = "constant", 0.0
    for name, cells in scores.items():
        keys = sorted(set(cells) & set(base))
        if name == "constant" or len(keys) < 2:
            continue
        diff = np.array([cells[k] - base[k] for k in keys])
        mean, se = float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(diff.size))
        if mean > TIE_SE * se and mean > best_mean:
            best, best_mean = name, mean
    return best


def beats_baseline(rows: Sequence[Mapping], method: str, model: str, *, min_horizon: int = 2) -> dict:
    """Whether ``model`` beats the OLS-normal baseline of ``method`` at horizons >= ``min_horizon``.

    Parameters
    ----------
    rows : sequence of dict
        `backtest` rows.
    method, model : str
    min_horizon : int, default 2

    Returns
    -------
    dict
        ``n`` (origin-horizon pairs), ``log_score_diff`` and ``crps_diff`` (mean of model
        minus baseline: positive log score and negative CRPS favour the model), ``beats``
        (both favour the model); NaN and False without pairs.
    """
    def cells(name):
        return {(r["origin"], r["horizon"]): r for r in rows
                if r["method"] == method and r["model"] == name and int(r["horizon"]) >= min_horizon}

    mine, base = cells(model), cells("ols_normal")
    keys = sorted(set(mine) & set(base))
    if not keys:
        return {"n": 0, "log_score_diff": math.nan, "crps_diff": math.nan, "beats": False}
    ls = float(np.mean([float(mine[k]["log_score"]) - float(base[k]["log_score"]) for k in keys]))
    cr = float(np.mean([float(mine[k]["crps"]) - float(base[k]["crps"]) for k in keys]))
    return {"n": len(keys), "log_score_diff": ls, "crps_diff": cr, "beats": bool(ls > 0 and cr < 0)}


def lfo_forecast(data: GrowthData, rows: Sequence[Mapping], forecast_rows: Sequence[Mapping], *, runs,
                 thresholds: Sequence[float], level: float, seed: int, center: str = "median") -> tuple[list, dict]:
    """Forecast each method from the model the leave-future-out backtest chose.

    Parameters
    ----------
    data : GrowthData
    rows : sequence of dict
        `backtest` rows.
    forecast_rows : sequence of dict
        The constant-slope forecast (`uncertain_cost.growth.forecast.forecast_costs` rows).
    runs : RunsPosterior
        The runs-per-year model of the forecast.
    thresholds : sequence of float
    level : float
    seed : int
    center : str, default "median"

    Returns
    -------
    rows : list of dict
        ``forecast_rows`` with a ``forecast_model`` column; a method whose chosen model is a
        grid candidate gets that candidate's forecast (fitted exactly on all its models).
    chosen : dict of str to str
        Method -> forecast model.
    """
    from uncertain_cost.growth.data import measurement
    from uncertain_cost.growth.forecast import DEFAULT_QUANTILES, forecast_trend
    from uncertain_cost.growth.trends import CANDIDATES, fit_trend

    methods = list(dict.fromkeys(r["method"] for r in forecast_rows))
    chosen = {m: choose_forecast_model(rows, m) for m in methods}
    out = []
    for m in methods:
        mine = [r for r in forecast_rows if r["method"] == m]
        if chosen[m] not in CANDIDATES:
            out += [{**r, "forecast_model": "constant"} for r in mine]
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meas = measurement(data.select([m]), center)
        draws = fit_trend(chosen[m], meas.year, meas.center, meas.cov, rng=_stream(seed, m, "forecast"))
        new = forecast_trend(draws, m, [r["year"] for r in mine], runs=runs, quantiles=DEFAULT_QUANTILES,
                             thresholds=thresholds, level=level, seed=_stream(seed, m, "seed").integers(2**31))
        out += [{**r, "forecast_model": chosen[m]} for r in new]
    return out, chosen
