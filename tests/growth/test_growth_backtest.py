"""Leave-future-out backtest: scores, candidate trend models, PSIS with refits, the forecast model choice."""

import math
import warnings

import numpy as np
import pytest

from uncertain_cost.growth import simulate_growth_data
from uncertain_cost.growth.backtest import (
    BACKTEST_COLUMNS,
    _through,
    backtest,
    backtest_summary,
    beats_baseline,
    choose_forecast_model,
    crps_sample,
    log_score_sample,
)
from uncertain_cost.growth.trends import TrendDraws, fit_trend, max_predictive, ols_normal_draws


def test_training_set_stops_at_the_end_of_the_year():
    data, _ = simulate_growth_data(seed=2, n_models=30, n_draws=50)
    train = _through(data, 2019)
    assert train.year.max() < 2020 and train.n_models == int(np.sum(data.year < 2020))
    assert train.model == tuple(m for m, y in zip(data.model, data.year, strict=True) if y < 2020)
    with pytest.raises(ValueError, match="no method 'rent'"):
        backtest(data, methods=["rent"])
    with pytest.raises(ValueError, match="unknown validation"):
        backtest(data, validation="loo")


def test_scores_match_closed_forms_for_a_normal_predictive():
    rng = np.random.default_rng(0)
    draws = rng.standard_normal(200_000)
    # CRPS of N(0, 1) at y: y (2 Phi(y) - 1) + 2 phi(y) - 1 / sqrt(pi)
    for y in (0.0, 1.3):
        phi, cdf = math.exp(-y * y / 2) / math.sqrt(2 * math.pi), 0.5 * (1 + math.erf(y / math.sqrt(2)))
        assert crps_sample(draws, y) == pytest.approx(y * (2 * cdf - 1) + 2 * phi - 1 / math.sqrt(math.pi), abs=5e-3)
        assert log_score_sample(draws, y) == pytest.approx(-0.5 * y * y - 0.5 * math.log(2 * math.pi), abs=0.02)
    # a sharper predictive centred on the outcome scores better on both
    assert crps_sample(draws * 0.3, 0.0) < crps_sample(draws, 0.0)
    assert log_score_sample(draws * 0.3, 0.0) > log_score_sample(draws, 0.0)


def test_grid_candidates_recover_a_known_line_and_hinge():
    rng = np.random.default_rng(3)
    year = np.sort(rng.uniform(2016, 2024, 60))
    cov = np.diag(np.full(60, 0.05**2))
    line = 7.0 + 0.4 * (year - 2020)
    bent = line + 0.5 * np.maximum(0.0, year - 2021)
    noise = 0.2 * rng.standard_normal(60)
    flat = fit_trend("constant_normal", year, line + noise, cov, rng=np.random.default_rng(1))
    assert np.median(flat.beta[:, 1]) == pytest.approx(0.4, abs=0.05)
    assert np.median(flat.scale) == pytest.approx(0.2, abs=0.06)
    hinge = fit_trend("hinge", year, bent + noise, cov, rng=np.random.default_rng(1))
    assert np.median(hinge.beta[:, 2]) == pytest.approx(0.5, abs=0.2)
    assert np.median(hinge.tau) == pytest.approx(2021.0, abs=0.8)
    shrinking = 7.0 + 0.4 * (year - 2020) + 0.4 * np.exp(-0.25 * (year - 2020)) * rng.standard_normal(60)
    trend = fit_trend("scatter_trend", year, shrinking, cov, rng=np.random.default_rng(1))
    assert np.quantile(trend.scale_trend, 0.9) < 0.0  # the scatter shrinks
    with pytest.raises(ValueError, match="unknown trend candidate"):
        fit_trend("cubic", year, line, cov, rng=rng)


def test_ols_normal_predictive_matches_the_classical_interval():
    rng = np.random.default_rng(5)
    year = np.linspace(2016, 2023, 30)
    y = 6.0 + 0.5 * (year - 2020) + 0.3 * rng.standard_normal(30)
    d = ols_normal_draws(year, y, n_draws=100_000, rng=np.random.default_rng(2))
    # one run at 2025.5 with no measurement noise: Student-t(n - 2) prediction interval of OLS
    from scipy import stats

    x = np.column_stack([np.ones(30), year - 2020])
    beta, res, *_ = np.linalg.lstsq(x, y, rcond=None)
    s2 = float(res[0]) / 28
    x0 = np.array([1.0, 5.5])
    se = math.sqrt(s2 * (1 + x0 @ np.linalg.inv(x.T @ x) @ x0))
    one = TrendDraws("ols_normal", d.beta, d.scale, d.scale_trend, d.tau, d.nu)
    t = np.full((d.scale.size, 1), 2025.5)
    pred = one.mean(t)[:, 0] + one.sd(t)[:, 0] * np.random.default_rng(3).standard_normal(d.scale.size)
    assert np.quantile(pred, 0.95) == pytest.approx(x0 @ beta + stats.t.ppf(0.95, 28) * se, abs=0.02)


def test_maximum_of_more_runs_is_larger():
    d = TrendDraws("x", np.tile([7.0, 0.4], (4000, 1)), np.full(4000, 0.4), np.zeros(4000), np.full(4000, np.inf),
                   np.full(4000, np.inf))
    one = max_predictive(d, 2025, 1, [0.0], np.random.default_rng(0))
    ten = max_predictive(d, 2025, 10, [0.0] * 10, np.random.default_rng(0))
    assert np.median(one) == pytest.approx(7.0 + 0.4 * 5.5, abs=0.03)
    # the median of the max of 10 normals is 1.50 sd above the mean (Phi(x)**10 = 1/2), plus a
    # little from the latest of the runs' publication times
    assert np.median(ten) - np.median(one) == pytest.approx(0.4 * 1.50 + 0.02, abs=0.04)


def _rows(model_scores):
    out = []
    for model, scores in model_scores.items():
        for i, s in enumerate(scores):
            out.append({"method": "amortized", "model": model, "origin": 2018 + i // 2, "horizon": 1 + i % 2,
                        "log_score": s, "crps": -s / 2, "pit": 0.5})
    return out


def test_choice_keeps_the_headline_unless_clearly_beaten():
    noisy = _rows({"constant": [-1.0, -1.2, -0.9, -1.1], "hinge": [-0.5, -1.5, -0.4, -1.6],
                   "ols_normal": [-2.0] * 4})
    assert choose_forecast_model(noisy, "amortized") == "constant"  # higher mean, but within 2 SE
    clear = _rows({"constant": [-1.0, -1.2, -0.9, -1.1], "scatter_trend": [-0.8, -0.95, -0.72, -0.9],
                   "ols_normal": [-2.0] * 4})
    assert choose_forecast_model(clear, "amortized") == "scatter_trend"
    assert choose_forecast_model(clear, "cloud") == "constant"
    cmp = beats_baseline(clear, "amortized", "scatter_trend")
    assert cmp["n"] == 2 and cmp["beats"] and cmp["log_score_diff"] == pytest.approx(((-0.95 + 2) + (-0.9 + 2)) / 2)
    summary = backtest_summary(clear)
    assert [(r["model"], r["horizon"]) for r in summary][:2] == [("constant", 1), ("constant", 2)]
    assert summary[0]["log_score"] == pytest.approx((-1.0 - 0.9) / 2)


@pytest.mark.slow  # PyMC fits: the full-data fit and the refits
def test_backtest_rows_on_simulated_data():
    from uncertain_cost.growth.bayes import fit_bayes

    data, _ = simulate_growth_data(seed=2, n_models=40, n_draws=400, methods=("amortized",), slope=0.4,
                                   intercept=6.5, coverage=1.0)
    kw = {"draws": 300, "tune": 300, "chains": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short chains: loose diagnostics
        fit = fit_bayes(data, seed=1, **kw)
    rows = backtest(data, {"amortized": fit}, seed=1, fit_kwargs=kw)
    origins = sorted({r["origin"] for r in rows})
    assert origins[0] >= 2016 and origins[-1] == 2022
    assert {r["horizon"] for r in rows} == {1, 2, 3, 4}
    for r in rows:
        assert tuple(r) == BACKTEST_COLUMNS
        assert 0.0 <= r["pit"] <= 1.0 and r["crps"] > 0 and math.isfinite(r["log_score"])
        assert r["predictive_p5_usd"] < r["predictive_p50_usd"] < r["predictive_p95_usd"]
        assert r["year"] == r["origin"] + r["horizon"]
        assert r["fit"] in (("psis", "refit") if r["model"] == "constant" else ("exact",))
    constant = [r for r in rows if r["model"] == "constant"]
    assert all((r["fit"] == "psis") == (r["pareto_k"] <= 0.7) for r in constant)
    # a refit's convergence is in its rows (slope, intercept, scatter, nu); other rows have none
    for r in rows:
        if r["fit"] == "refit":
            assert 0.99 < r["r_hat_max"] < 1.1 and 50 < r["ess_bulk_min"] < 2000 and 0 < r["ess_tail_min"] < 2000
            assert isinstance(r["divergences"], int)
        else:
            assert r["r_hat_max"] is r["ess_bulk_min"] is r["divergences"] is None
    # data from a straight line: the realised maxima are mostly inside the 90% predictive intervals
    assert np.mean([0.05 <= r["pit"] <= 0.95 for r in rows]) >= 0.7
    full = backtest(data, {"amortized": fit}, seed=1, fit_kwargs=kw, validation="full")
    assert {r["fit"] for r in full if r["model"] == "constant"} == {"refit"}
    assert _nan_safe(backtest(data, {"amortized": fit}, seed=1, fit_kwargs=kw)) == _nan_safe(rows)  # reproducible


def test_validation_setting_is_declared_and_checked():
    from uncertain_cost.errors import ConfigError
    from uncertain_cost.growth.settings import GrowthSettings

    assert GrowthSettings().validation == "psis"
    assert GrowthSettings.from_config({"validation": "full"}, {}).validation == "full"
    with pytest.raises(ConfigError, match="growth.validation.*'psis', 'full'"):
        GrowthSettings.from_config({"validation": "exact"}, {})


def test_lfo_forecast_replaces_only_the_methods_whose_candidate_wins():
    from uncertain_cost.growth.backtest import lfo_forecast
    from uncertain_cost.growth.runs import fit_runs_per_year

    data, _ = simulate_growth_data(seed=4, n_models=40, n_draws=300, methods=("amortized", "cloud"),
                                   slope=(0.38, 0.41), intercept=(6.3, 6.6))
    rows = _rows({"constant": [-1.0, -1.2, -0.9, -1.1], "constant_normal": [-0.8, -0.95, -0.72, -0.9]})
    rows += [{**r, "method": "cloud"} for r in _rows({"constant": [-1.0] * 4, "hinge": [-0.5, -1.5, -0.4, -1.6]})]
    headline = [{"method": m, "year": y, "p50": 1.0, "forecast": "headline"} for m in ("amortized", "cloud")
                for y in (2025, 2027)]
    out, chosen = lfo_forecast(data, rows, headline, runs=fit_runs_per_year(data.year), thresholds=(1e9,),
                               level=0.9, seed=3)
    assert chosen == {"amortized": "constant_normal", "cloud": "constant"}
    cloud = [r for r in out if r["method"] == "cloud"]
    assert all(r["forecast"] == "headline" and r["forecast_model"] == "constant" for r in cloud)
    amort = [r for r in out if r["method"] == "amortized"]
    assert [r["year"] for r in amort] == [2025, 2027] and all(r["forecast_model"] == "constant_normal" for r in amort)
    # the candidate's own forecast of simulated data with a slope of 0.38 OOM/yr
    assert amort[1]["p50"] > amort[0]["p50"] > 0
    assert 0.3 < np.log10(amort[1]["regression_mean_usd"] / amort[0]["regression_mean_usd"]) / 2 < 0.46


def test_growth_stage_backtests_every_single_method_fit_and_forecasts_from_the_choice(monkeypatch):
    """`fit_growth`'s glue: the backtest gets each method's single-method fit; the forecast gets the choice."""
    from uncertain_cost.growth import backtest as bt
    from uncertain_cost.growth.runs import fit_runs_per_year
    from uncertain_cost.growth.settings import GrowthSettings
    from uncertain_cost.growth.step import _backtest_and_choose

    data, _ = simulate_growth_data(seed=4, n_models=40, n_draws=300, methods=("amortized", "cloud"),
                                   slope=(0.38, 0.41), intercept=(6.3, 6.6))
    rows = _rows({"constant": [-1.0, -1.2, -0.9, -1.1], "constant_normal": [-0.8, -0.95, -0.72, -0.9]})
    rows += [{**r, "method": "cloud"} for r in _rows({"constant": [-1.0] * 4, "hinge": [-0.5, -1.5, -0.4, -1.6]})]
    seen = {}

    def fake_backtest(data_, fits, **kw):
        seen.update(fits=fits, **kw)
        return rows

    monkeypatch.setattr(bt, "backtest", fake_backtest)
    fits = {"amortized": object(), "cloud": object()}  # stand-ins: the fake backtest only passes them on
    headline = tuple({"method": m, "year": y, "p50": 1.0} for m in fits for y in (2025, 2027))
    fc = {"rows": headline, "columns": ("method", "year", "p50"), "attrs": {"models_per_year": "poisson"},
          "runs": fit_runs_per_year(data.year)}
    settings = GrowthSettings(validation="full", draws=1000)
    out_rows, out = _backtest_and_choose(data, settings, 3, fits, fc)
    assert out_rows == tuple(rows)
    assert seen["fits"] is fits and seen["methods"] == ("amortized", "cloud") and seen["validation"] == "full"
    assert seen["fit_kwargs"]["draws"] == 250 and seen["seed"] == 3  # a quarter of the stage's draws
    assert out["columns"] == ("method", "year", "p50", "forecast_model")
    assert out["attrs"] == {"models_per_year": "poisson",
                            "forecast_models": "amortized: constant_normal, cloud: constant"}
    assert [r["forecast_model"] for r in out["rows"]] == ["constant_normal"] * 2 + ["constant"] * 2
    assert [r["p50"] for r in out["rows"][2:]] == [1.0, 1.0]  # the headline's rows kept for cloud
    assert out["rows"][1]["p50"] > out["rows"][0]["p50"] > 1.0  # amortized: the candidate's own forecast
    # a fixed number of runs per year (no runs model): the backtest runs, the forecast stays the headline's
    _, fixed = _backtest_and_choose(data, settings, 3, fits, {**fc, "runs": None})
    assert fixed["rows"] == headline and "forecast_models" not in fixed["attrs"]
    # no forecast at all
    assert _backtest_and_choose(data, settings, 3, fits, {}) == (tuple(rows), {})


@pytest.mark.slow  # refits at every origin, twice
def test_origins_computed_in_a_forked_child_give_the_rows_computed_in_place(monkeypatch):
    from uncertain_cost import forking

    data, _ = simulate_growth_data(seed=3, n_models=30, n_draws=200, methods=("amortized",), slope=0.4,
                                   intercept=6.5, coverage=1.0)
    kw = {"draws": 150, "tune": 150, "chains": 2}
    results, delivered = [], []
    result = forking.ForkedCall.result

    def spy(self):
        value = result(self)
        delivered.append(self.from_child)
        return value

    monkeypatch.setattr(forking.ForkedCall, "result", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short chains: loose diagnostics
        for allowed in (True, False):
            monkeypatch.setattr(forking, "fork_allowed", lambda allowed=allowed: allowed)
            results.append(backtest(data, seed=5, fit_kwargs=kw))  # no full-data fit: every origin refits
    forked, in_place = results
    if forking._threading_layer_fork_safe():
        assert delivered == [True, False]  # half the origins came from the child, then none
    assert len(forked) == len(in_place) > 0
    assert _nan_safe(forked) == _nan_safe(in_place)


def _nan_safe(rows):
    """Rows with NaN as a string, so that == compares them (NaN != NaN; rows from a child are unpickled copies)."""
    return [{k: ("nan" if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in rows]
