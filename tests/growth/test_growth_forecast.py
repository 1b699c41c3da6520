"""Forecast: Poisson runs per year, k = 0, common random numbers, reproducibility, assumptions table."""

import numpy as np
import pytest
import xarray as xr

from uncertain_cost.errors import ConfigError
from uncertain_cost.growth import BayesResult
from uncertain_cost.growth.data import DIM_COST_METHOD
from uncertain_cost.growth.diagnostics import Diagnostics
from uncertain_cost.growth.forecast import (
    POISSON,
    SENSITIVITY_COLUMNS,
    forecast_costs,
    forecast_sensitivity,
    forecast_table_attrs,
    runs_summary,
)
from uncertain_cost.growth.runs import RunsPriors, calendar_counts, fit_runs_per_year

EIGHT_A_YEAR = 2016.0 + np.arange(64) / 8.0 + 0.01  # 8 per year, 2016 to 2023


def _result(n_draw=4000, methods=("amortized",), frontier=EIGHT_A_YEAR, intercept=5.6, scatter=0.4, extra=None):
    import arviz as az

    rng = np.random.default_rng(0)
    shape = (2, n_draw)
    m = len(methods)
    post = {
        "intercept": (("chain", "draw", DIM_COST_METHOD), rng.normal(intercept, 0.05, (*shape, m))),
        "slope": (("chain", "draw", DIM_COST_METHOD), rng.normal(0.4, 0.02, (*shape, m))),
        "scatter_model": (("chain", "draw"), np.full(shape, scatter)),
        "nu": (("chain", "draw"), rng.gamma(2.0, 10.0, shape)),
    }
    post.update(extra or {})
    ds = xr.Dataset(post, coords={"chain": [0, 1], "draw": np.arange(n_draw), DIM_COST_METHOD: list(methods)})
    return BayesResult(idata=az.InferenceData(posterior=ds), methods=tuple(methods),
                       n_models=dict.fromkeys(methods, 30), level=0.9, year_ref=2020.0,
                       diagnostics=Diagnostics(1.0, 1000.0, 1000.0, 0, 2, n_draw), seed=7,
                       frontier_years=np.asarray(frontier))


# ------------------------------------------------------------------- runs per year


def test_calendar_counts_use_complete_years():
    cal, counts = calendar_counts([2015.9, 2016.1, 2016.5, 2017.2, 2017.3, 2017.9, 2018.5, np.nan])
    assert cal.tolist() == [2016, 2017, 2018] and counts.tolist() == [2, 3, 1]
    with pytest.raises(ValueError, match="no finite publication year"):
        fit_runs_per_year([np.nan])
    with pytest.raises(ValueError, match="trend_sd"):
        RunsPriors(trend_sd=0.0)


def test_poisson_rate_fit_recovers_a_known_trend():
    """Long record, strong trend: the posterior mean is the truth within its posterior sd's."""
    rng = np.random.default_rng(3)
    cal = np.arange(1990, 2030)
    a_true, b_true = np.log(12.0), 0.05
    counts = rng.poisson(np.exp(a_true + b_true * (cal - cal.mean())))
    years = np.concatenate([c + rng.random(n) for c, n in zip(cal, counts, strict=True)])
    fit = fit_runs_per_year(years)
    mom = fit.moments()
    assert abs(mom["b_mean"] - b_true) < 3 * mom["b_sd"] and mom["b_sd"] < 0.01
    assert abs(mom["a_mean"] - a_true) < 3 * mom["a_sd"]
    assert fit.weights.sum() == pytest.approx(1.0) and np.all(fit.weights >= 0)


def test_poisson_rate_posterior_is_calibrated_against_its_prior():
    """Truths drawn from the prior: the 90% interval of the trend covers it about 90% of the time."""
    rng = np.random.default_rng(11)
    priors = RunsPriors()
    cal = np.arange(2016, 2024)
    covered, n = 0, 200
    for _ in range(n):
        a = rng.normal(priors.log_rate_mean, priors.log_rate_sd)
        b = rng.normal(0.0, priors.trend_sd)
        counts = rng.poisson(np.exp(a + b * (cal - cal.mean())))
        years = np.concatenate([[2015.5], *(c + rng.random(k) for c, k in zip(cal, counts, strict=True)),
                                [2023.999]])
        fit = fit_runs_per_year(years, priors)
        _, bs = fit.sample(1000, rng)
        lo, hi = np.quantile(bs, [0.05, 0.95])
        covered += lo <= b <= hi
    assert 0.84 <= covered / n <= 0.96  # binomial sd 0.021 at n = 200


# ------------------------------------------------------------------- forecast


def test_poisson_runs_drive_the_maximum():
    r = _result(2000)
    fc = forecast_costs(r, [2025, 2027])
    assert fc.models_per_year is None and fc.runs is not None
    k = fc.predictive["runs_per_year"]
    assert k.dims == ("chain", "draw", "year") and k.dtype.kind == "i"
    for row in fc.rows:  # the column is the expected count of the year (a float)
        assert isinstance(row["models_per_year"], float) and 7.0 < row["models_per_year"] < 9.5
        assert row["models_per_year"] == fc.expected_runs[row["year"]]
    # more runs in a draw: a larger maximum, on average
    mx = fc.predictive["max_log10_cost"].sel(year=2027).values.reshape(-1)
    kk = k.sel(year=2027).values.reshape(-1)
    assert mx[kk >= 10].mean() > mx[(kk > 0) & (kk <= 6)].mean()
    summary = runs_summary(fc, {"amortized": "single"})
    assert summary["model"] == POISSON and summary["observed_counts"] == [8] * 7
    attrs = forecast_table_attrs(summary)
    assert attrs["models_per_year"] == POISSON and attrs["forecast_fits"] == "amortized: single"
    assert attrs["runs_observed"].startswith("2017: 8")


def test_no_run_years_have_no_maximum():
    """k = 0 in a draw: no maximum (-inf), never above a threshold, $0 in the quantiles."""
    r = _result(2000, frontier=[2016.5, 2023.5], intercept=9.0, scatter=1e-6)  # almost no runs a year
    fc = forecast_costs(r, [2026])
    row = fc.rows[0]
    k = fc.predictive["runs_per_year"].values.reshape(-1)
    mx = fc.predictive["max_log10_cost"].values.reshape(-1)
    none = k == 0
    assert 0.3 < none.mean() < 1.0 and fc.prob_no_run[2026] == none.mean()
    assert np.all(np.isneginf(mx[none])) and np.all(np.isfinite(mx[~none]))
    # every run of 2026 costs more than $1B here: P(> $1B) is P(at least one run)
    assert row["prob_gt_1e9"] == pytest.approx(1.0 - none.mean())
    assert row["p5"] == 0.0 and (row["p95"] > 1e9) == (none.mean() < 0.95)


def test_fixed_runs_keep_the_count_and_nest():
    r = _result(2000)
    four = forecast_costs(r, [2027], models_per_year=4)
    seven = forecast_costs(r, [2027], models_per_year=7)
    assert four.models_per_year == 4 and four.rows[0]["models_per_year"] == 4 and four.runs is None
    assert "runs_per_year" not in four.predictive
    # the runs of k = 4 are the first 4 of k = 7 (common random numbers): never a lower maximum
    a, b = (fc.predictive["max_log10_cost"].values for fc in (four, seven))
    assert np.all(b >= a) and np.any(b > a)


def test_same_run_in_every_method():
    """One fit: a run's time and effect are shared, so two methods a constant apart differ by it exactly."""
    dims = ("chain", "draw", DIM_COST_METHOD)
    extra = {"intercept": (dims, np.stack([np.full((2, 1000), 5.6), np.full((2, 1000), 6.6)], axis=-1)),
             "slope": (dims, np.full((2, 1000, 2), 0.4))}
    r = _result(1000, methods=("amortized", "acquisition"), extra=extra)
    fc = forecast_costs(r, [2026, 2027])
    mx = fc.predictive["max_log10_cost"]
    diff = mx.sel(cost_method="acquisition") - mx.sel(cost_method="amortized")
    k = fc.predictive["runs_per_year"].values
    np.testing.assert_allclose(diff.values[k > 0], 1.0, atol=1e-9)


def test_per_method_fits_share_runs_and_reproduce_alone():
    joint = _result(1000, methods=("amortized", "cloud"))
    alone = _result(1000, methods=("cloud",))
    mixed = forecast_costs({"amortized": joint, "cloud": alone}, [2026, 2027])
    both = forecast_costs(joint, [2026, 2027])
    single = forecast_costs(alone, [2027])
    row = {(r["method"], r["year"]): r for r in mixed.rows}
    assert [r for r in both.rows if r["method"] == "amortized"] == [r for r in mixed.rows if r["method"] == "amortized"]
    assert single.rows[0] == row[("cloud", 2027)]  # one year and one method alone: the same numbers
    with pytest.raises(ValueError, match="same number of posterior draws"):
        forecast_costs({"amortized": joint, "cloud": _result(500, methods=("cloud",))}, [2027])
    with pytest.raises(ConfigError) as err:
        forecast_costs({"cloud": _result(200)}, [2027])
    assert err.value.key == "methods"


def test_forecast_is_reproducible_and_seeded():
    r = _result(1000)
    assert forecast_costs(r, [2027]).rows == forecast_costs(r, [2025, 2026, 2027]).rows[2:]
    assert forecast_costs(r, [2027], seed=1).rows != forecast_costs(r, [2027], seed=2).rows


def test_sensitivity_table_moves_with_runs_and_tails():
    r = _result(1500)
    rows = forecast_sensitivity([("joint", r)], 2027)
    assert len(rows) == 4 * 3 and all(tuple(row) == SENSITIVITY_COLUMNS for row in rows)
    cell = {(row["models_per_year"], row["nu"]): row for row in rows}
    assert set(cell) == {(k, nu) for k in (4, 7, 12, POISSON) for nu in (3.0, 30.0, "posterior")}
    for nu in (3.0, 30.0, "posterior"):  # more runs: a higher maximum
        p = [cell[(k, nu)]["prob_gt_1e9"] for k in (4, 7, 12)]
        assert p[0] < p[1] < p[2]
        # the Poisson count (about 8.5 a year in 2027) lies between 7 and 12 fixed runs
        assert cell[(7, nu)]["p50"] < cell[(POISSON, nu)]["p50"] < cell[(12, nu)]["p50"]
    for k in (4, 7, 12, POISSON):  # heavier tails: a higher P95 of the maximum
        assert cell[(k, 3.0)]["p95"] > cell[(k, 30.0)]["p95"]
    # the Poisson, posterior-nu row is the forecast itself
    same = forecast_costs(r, [2026, 2027], quantiles=(0.5, 0.95), thresholds=(1e9,)).rows[1]
    assert cell[(POISSON, "posterior")]["prob_gt_1e9"] == same["prob_gt_1e9"]
    assert forecast_sensitivity([("joint", r)], 2027) == rows  # same random numbers: reproducible


def test_shared_student_t_cache_gives_the_same_numbers_with_fewer_quantiles(monkeypatch):
    """The cache shared by the forecast and its sensitivity changes no number, only the stdtrit work."""
    from scipy import special

    fits = {"amortized": _result(600), "cloud": _result(600, methods=("cloud",), intercept=5.9)}
    pairs = [("single", f) for f in fits.values()]
    plain_fc = forecast_costs(fits, [2026, 2027, 2028])
    plain = forecast_sensitivity(pairs, 2027)
    real, counted = special.stdtrit, []

    def stdtrit(dof, q):
        counted.append(np.size(q))
        return real(dof, q)

    monkeypatch.setattr(special, "stdtrit", stdtrit)
    every = 0
    for _, fit in pairs:  # the sensitivity's combinations, each alone (no cache)
        for k in (4, 7, 12, None):
            for nu in (3.0, 30.0, None):
                forecast_costs(fit, [2027], models_per_year=k, quantiles=(0.5, 0.95), thresholds=(1e9,), nu=nu)
    every, counted[:] = sum(counted), []
    assert forecast_sensitivity(pairs, 2027, cache={}) == plain
    alone, counted[:] = sum(counted), []
    cache = {}
    cached_fc = forecast_costs(fits, [2026, 2027, 2028], cache=cache)
    assert cached_fc.rows == plain_fc.rows
    assert np.array_equal(cached_fc.predictive["max_log10_cost"].values, plain_fc.predictive["max_log10_cost"].values)
    counted[:] = []
    assert forecast_sensitivity(pairs, 2027, cache=cache) == plain
    after_forecast = sum(counted)
    # without the cache 2 fits x 3 nu x (4 + 7 + 12 + the Poisson count) quantiles a draw; with it each
    # (fit, nu) computes its widest columns once, and the posterior-nu Poisson ones come from the forecast
    assert after_forecast < alone < 0.6 * every


def test_fixed_nu_and_runs_are_validated():
    for kw, key in (({"nu": 0.0}, "nu"), ({"models_per_year": 0}, "forecast.models_per_year"),
                    ({"models_per_year": 2.5}, "forecast.models_per_year")):
        with pytest.raises(ConfigError) as err:
            forecast_costs(_result(200), [2027], **kw)
        assert err.value.key == key


# ------------------------------------------------------------------- candidate trend models (issue 21)


def test_trend_forecast_of_the_headline_draws_matches_forecast_costs():
    from uncertain_cost.growth.forecast import forecast_trend
    from uncertain_cost.growth.trends import bayes_draws

    r = _result(4000)
    runs = fit_runs_per_year(r.frontier_years)
    ref = forecast_costs(r, [2025, 2027], runs=runs)
    rows = forecast_trend(bayes_draws(r, "amortized"), "amortized", [2025, 2027], runs=runs, seed=3)
    assert [tuple(row) for row in rows] == [tuple(row) for row in ref.rows]
    for mine, theirs in zip(rows, ref.rows, strict=True):
        # same model, other random numbers: the same forecast within Monte Carlo error
        assert mine["models_per_year"] == pytest.approx(theirs["models_per_year"], rel=0.05)
        assert np.log10(mine["p50"]) == pytest.approx(np.log10(theirs["p50"]), abs=0.03)
        assert np.log10(mine["p95"]) == pytest.approx(np.log10(theirs["p95"]), abs=0.1)
        assert mine["prob_gt_1e9"] == pytest.approx(theirs["prob_gt_1e9"], abs=0.03)
        assert mine["regression_mean_usd"] == pytest.approx(theirs["regression_mean_usd"], rel=0.01)


def test_shrinking_scatter_narrows_the_forecast():
    from uncertain_cost.growth.forecast import forecast_trend
    from uncertain_cost.growth.trends import TrendDraws

    n = 4000
    runs = fit_runs_per_year(EIGHT_A_YEAR)

    def draws(g):
        return TrendDraws("x", np.tile([7.0, 0.4], (n, 1)), np.full(n, 0.5), np.full(n, g), np.full(n, np.inf),
                          np.full(n, np.inf))

    flat = forecast_trend(draws(0.0), "amortized", [2028], runs=runs)[0]
    shrink = forecast_trend(draws(-0.2), "amortized", [2028], runs=runs)[0]
    assert shrink["p95"] < flat["p95"] and shrink["p50"] < flat["p50"]
    assert shrink["regression_mean_usd"] == pytest.approx(flat["regression_mean_usd"])
    # the scatter at 2028.5 is 0.5 exp(-0.2 * 8.5) = 0.09 dex: the P95 of the maximum is near the line
    assert np.log10(shrink["p95"]) - np.log10(shrink["regression_mean_usd"]) < 0.35


def test_nu_summary_reports_prior_and_posterior():
    from uncertain_cost.growth.forecast import nu_summary

    r = _result(4000)
    s = nu_summary(r)
    lo, mid, hi = s["nu_prior_q"]  # Gamma(2, rate 0.1)
    assert lo == pytest.approx(3.55, abs=0.01) and mid == pytest.approx(16.78, abs=0.01)
    assert hi == pytest.approx(47.44, abs=0.01)
    post = np.quantile(r.draws("nu"), [0.05, 0.5, 0.95])
    assert s["nu_posterior_q"] == pytest.approx(tuple(post))
    assert s["nu_prior"] == "P5 3.6, P50 16.8, P95 47.4"
