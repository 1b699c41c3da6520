"""Why the headline differs from the paper (growth_vs_paper) and how robust it is (growth_robustness).

The slow tests reproduce issue 21's figures on the default config: GLS with the full Monte Carlo
covariance gives 2.37x without DeepSpeech2 and 2.37x / 2.97x / 3.39x from 2016 / 2018 / 2020; the
Bayesian headline matches that GLS to well within 0.1x.
"""

import numpy as np
import pytest

from uncertain_cost.growth import simulate_growth_data
from uncertain_cost.growth.decomposition import VS_PAPER_COLUMNS, gls_growth, vs_paper_rows
from uncertain_cost.growth.robustness import _weighted_quantiles

ISSUE_GLS = {"drop DeepSpeech2": 2.37, 2016: 2.37, 2018: 2.97, 2020: 3.39}


def test_gls_without_measurement_error_is_ols_and_weights_by_variance():
    rng = np.random.default_rng(0)
    year = np.sort(rng.uniform(2016, 2024, 30))
    y = 6.0 + 0.4 * (year - 2020) + rng.normal(0, 0.5, 30)
    slope, tau = gls_growth(y, year, np.zeros((30, 30)))
    assert slope == pytest.approx(np.polyfit(year, y, 1)[0], rel=1e-9)
    resid = y - np.polyval(np.polyfit(year, y, 1), year)
    assert tau == pytest.approx(np.sqrt(resid @ resid / 28), rel=1e-3)  # REML: n - 2 degrees of freedom
    # an enormous measurement variance on the early half: the slope comes from the late half alone
    cov = np.diag(np.where(year < 2020, 1e6, 0.0))
    late = year >= 2020
    assert gls_growth(y, year, cov)[0] == pytest.approx(np.polyfit(year[late], y[late], 1)[0], abs=2e-3)


def test_vs_paper_rows_are_the_steps_in_order():
    data, _ = simulate_growth_data(seed=3, n_models=25, n_draws=2000)
    headline = {"amortized": {"slope_oom_per_year": 0.41}}
    rows = vs_paper_rows(data, headline)
    assert [r["estimator"] for r in rows] == ["ols_points", "ols_mc_median", "gls_diagonal", "gls_full", "bayes"]
    assert all(tuple(r) == VS_PAPER_COLUMNS for r in rows)
    assert rows[-1]["growth_per_year"] == pytest.approx(10**0.41)
    for prev, row in zip(rows, rows[1:], strict=False):
        assert row["change_vs_previous"] == pytest.approx(row["growth_per_year"] / prev["growth_per_year"])
    assert rows[0]["change_vs_previous"] is None


def test_weighted_quantiles_equal_plain_ones_with_equal_weights_and_follow_the_weights():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, 20001)
    got = _weighted_quantiles(x, np.zeros_like(x), [0.05, 0.5, 0.95])
    np.testing.assert_allclose(got, np.quantile(x, [0.05, 0.5, 0.95]), atol=2e-3)
    # weights exp(x) tilt N(0, 1) to N(1, 1)
    assert _weighted_quantiles(x, x, [0.5])[0] == pytest.approx(1.0, abs=0.05)


@pytest.fixture(scope="module")
def default_data():
    from uncertain_cost.config import parse_config
    from uncertain_cost.data.load import resolve
    from uncertain_cost.engine import simulate
    from uncertain_cost.growth.step import growth_data_from_run

    config = parse_config({"run": {"draws": 20000}, "sensitivity": {"enabled": False},
                           "development": {"enabled": False}, "report": {"png": False}})
    prepared = resolve(config)
    sim = simulate(prepared.facts, config.inputs, 20000, config.run.seed, keep_draws=10000)
    return growth_data_from_run(prepared.facts, sim)


@pytest.mark.slow  # the default config's Monte Carlo (20,000 draws) and four single-method fits
def test_issue_figures_on_the_default_config(default_data):
    import warnings

    from uncertain_cost.growth.data import measurement
    from uncertain_cost.growth.robustness import robustness_rows
    from uncertain_cost.growth.settings import GrowthSettings
    from uncertain_cost.growth.step import _fit, _refit

    data = default_data.select(["amortized"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        meas = measurement(data)
    ds2 = np.array([name != "DeepSpeech2 (English)" for name in meas.model])
    assert not ds2.all()
    gls = {"drop DeepSpeech2": 10 ** gls_growth(meas.center[ds2], meas.year[ds2], meas.cov[np.ix_(ds2, ds2)])[0]}
    for year in (2016, 2018, 2020):
        keep = meas.year >= year
        gls[year] = 10 ** gls_growth(meas.center[keep], meas.year[keep], meas.cov[np.ix_(keep, keep)])[0]
    for key, expected in ISSUE_GLS.items():
        assert gls[key] == pytest.approx(expected, abs=0.1), key
    settings = GrowthSettings()
    fit = _fit(data, settings, 7)
    assert fit.diagnostics.ok, fit.diagnostics.problems
    full_gls = 10 ** gls_growth(meas.center, meas.year, meas.cov)[0]
    assert fit.summary("amortized")["growth"] == pytest.approx(full_gls, abs=0.05)  # the headline is the GLS
    rows = robustness_rows(default_data, fit, "amortized", _refit(settings, 7))
    by_label = {r["label"]: r for r in rows}
    loo = [r for r in rows if r["check"] == "leave_one_out"]
    assert len(loo) == 5 and loo[0]["label"] == "DeepSpeech2 (English)"  # the most influential model
    assert by_label["DeepSpeech2 (English)"]["growth_per_year"] == pytest.approx(ISSUE_GLS["drop DeepSpeech2"],
                                                                                  abs=0.1)
    for year in (2016, 2018, 2020):
        row = by_label[f"from {year}"]
        assert row["exact_refit"] and row["growth_per_year"] == pytest.approx(ISSUE_GLS[year], abs=0.1), year
    # the importance-sampling estimate against an exact refit without DeepSpeech2
    exact = _refit(settings, 7)(default_data.select(["amortized"]).subset(
        np.array([n != "DeepSpeech2 (English)" for n in default_data.model])), 1000)
    assert by_label["DeepSpeech2 (English)"]["psis_growth_per_year"] == pytest.approx(
        exact.summary("amortized")["growth"], abs=0.05)
    assert all(r["pareto_k"] < 0.7 or r["exact_refit"] for r in loo)


def _fake_fit(method, models, slope, loglik, n_models=None):
    """A BayesResult with given slope draws (one chain) and pointwise log-likelihood (draws x models)."""
    import arviz as az
    import xarray as xr

    from uncertain_cost.growth import BayesResult, Diagnostics

    n = slope.size
    post = xr.Dataset({"slope": (("chain", "draw", "cost_method"), slope.reshape(1, n, 1))},
                      coords={"chain": [0], "draw": np.arange(n), "cost_method": [method]})
    groups = {"posterior": post}
    if loglik is not None:
        groups["log_likelihood"] = xr.Dataset(
            {"log10_cost": (("chain", "draw", "observation"), loglik.reshape(1, n, -1))},
            coords={"chain": [0], "draw": np.arange(n), "observation": np.arange(len(models)),
                    "observation_model": ("observation", list(models))})
    return BayesResult(idata=az.InferenceData(**groups), methods=(method,),
                       n_models={method: len(models) if n_models is None else n_models}, level=0.9, year_ref=2020.0,
                       diagnostics=Diagnostics(1.001, 2000.0, 1500.0, 0, 1, n), seed=1,
                       frontier_years=np.array([2016.0, 2023.0]))


def test_robustness_rows_reweight_by_the_left_out_likelihood_and_refit_later_starts(monkeypatch):
    """A model whose likelihood pulls the slope down: leaving it out tilts the slope up by exactly
    the reweighting; start years refit on the right models."""
    from uncertain_cost import forking
    from uncertain_cost.growth.data import measurement

    monkeypatch.setattr(forking, "fork_allowed", lambda: False)  # every refit here: `calls` sees them all
    from uncertain_cost.growth.robustness import REFIT_DRAWS, ROBUSTNESS_COLUMNS, robustness_rows

    data, _ = simulate_growth_data(seed=4, n_models=24, n_draws=400, methods=("amortized",), slope=0.4,
                                   intercept=6.5)
    meas = measurement(data)
    rng = np.random.default_rng(0)
    slope = rng.normal(0.4, 0.05, 40_000)
    loglik = np.zeros((slope.size, meas.n_obs))
    pull = 3
    loglik[:, pull] = -10.0 * (slope - 0.4)  # weights without it: exp(+10 (slope - 0.4)): mean + 10 sd**2
    fit = _fake_fit("amortized", meas.model, slope, loglik)
    calls = []

    def refit(sub, draws):
        n = int(sub.costed("amortized").sum())
        calls.append((n, float(sub.year.min()), draws))
        return _fake_fit("amortized", ["x"] * n, np.full(100, 0.3 + 0.01 * n), None, n)

    rows = robustness_rows(data, fit, "amortized", refit)
    assert all(tuple(r) == ROBUSTNESS_COLUMNS for r in rows)
    loo = [r for r in rows if r["check"] == "leave_one_out"]
    assert loo[0]["label"] == meas.model[pull] and not loo[0]["exact_refit"]
    assert loo[0]["pareto_k"] < 0.7
    assert np.log10(loo[0]["growth_per_year"]) == pytest.approx(np.median(slope) + 10 * 0.05**2, abs=3e-3)
    for r in loo[1:]:  # flat likelihoods: the posterior unchanged
        assert np.log10(r["growth_per_year"]) == pytest.approx(np.median(slope), abs=1e-3)
    starts = [r for r in rows if r["check"] == "start_year"]
    for r, year in zip(starts, (2016, 2018, 2020), strict=False):
        n = int(np.sum(meas.year >= year))
        assert r["label"] == f"from {year}" and r["n_models"] == n and r["exact_refit"]
        assert r["growth_per_year"] == pytest.approx(10 ** (0.3 + 0.01 * n))
    assert all(c[1] >= 2016 and c[2] == REFIT_DRAWS == 1500 for c in calls) and len(calls) == len(starts)


@pytest.mark.slow  # two single-method fits on simulated data
def test_variant_rows_reweight_small_changes_and_refit_the_rest():
    import warnings

    from uncertain_cost.growth.data import GrowthData
    from uncertain_cost.growth.robustness import PARETO_K_MAX, variant_rows
    from uncertain_cost.growth.settings import GrowthSettings
    from uncertain_cost.growth.step import _fit, _refit

    data, _ = simulate_growth_data(seed=6, n_models=30, n_draws=1000, methods=("amortized",), slope=0.4,
                                   intercept=6.5, coverage=1.0)
    settings = GrowthSettings()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = _fit(data, settings, 3)
    draws = data.log10_cost_draws["amortized"]

    def shifted(delta):  # the five latest models' costs moved by ``delta`` dex
        late = np.argsort(data.year)[-5:]
        moved = draws.copy()
        moved[:, late] += delta
        return GrowthData(data.year, {"amortized": moved}, {"amortized": data.log10_cost_point["amortized"]},
                          data.model, data.draws_aligned)

    calls = []
    refit = _refit(settings, 3)

    def counting(sub, n):
        calls.append(n)
        return refit(sub, n)

    variants = {"small": ("late +0.05 dex", lambda: shifted(0.05)), "large": ("late +1 dex", lambda: shifted(1.0))}
    rows = {r["check"]: r for r in variant_rows(fit, "amortized", variants, counting, data=data)}
    small, large = rows["small"], rows["large"]
    assert small["pareto_k"] <= PARETO_K_MAX and not small["exact_refit"] and small["refit_draws"] is None
    assert small["growth_per_year"] == small["psis_growth_per_year"] > fit.summary("amortized")["growth"]
    exact = refit(shifted(0.05), 1500).summary("amortized")["growth"]
    assert small["growth_per_year"] == pytest.approx(exact, rel=0.02)
    assert large["pareto_k"] > PARETO_K_MAX and large["exact_refit"] and len(calls) == 1
    # without the fitted data every variant is refitted
    assert all(r["exact_refit"] for r in variant_rows(fit, "amortized", variants, counting))
