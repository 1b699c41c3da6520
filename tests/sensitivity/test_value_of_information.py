"""Value of information of each input for the growth slope and the 2027 forecast."""

import csv

import numpy as np
import pytest

from uncertain_cost.config import parse_config
from uncertain_cost.distributions import Constant
from uncertain_cost.errors import ConfigError
from uncertain_cost.sensitivity.targets import SensitivitySettings
from uncertain_cost.sensitivity.voi import (
    FULL_UNCERTAINTY,
    VOI_COLUMNS,
    ValueOfInformation,
    plot_value_of_information,
    value_of_information,
)

# uncertain in the fast test; every other input is held constant
KEPT = ("training_time", "gpu_price", "utilization", "cloud_price")


def _ols_slope_fit(calls):
    """A cheap stand-in for the Bayesian fit: sd over draws of each draw's OLS slope, P(slope > 0.5)."""

    def fit(data, seed):
        costed = data.costed("amortized")
        y = data.log10_cost_draws["amortized"][:, costed]
        x = data.year[costed] - data.year[costed].mean()
        slopes = (y - y.mean(axis=1, keepdims=True)) @ x / (x @ x)
        calls.append((seed, y.shape))
        return float(np.std(slopes, ddof=1)), float(np.mean(slopes > 0.5))

    return fit


@pytest.fixture(scope="module")
def small_run():
    from uncertain_cost.data.load import resolve

    config = parse_config({"run": {"draws": 512, "keep_draws": 512}})
    inputs = config.inputs
    for spec in inputs.uncertain():
        if spec.name not in KEPT:
            inputs = inputs.replace(spec.name, distribution=Constant(spec.distribution.central))
    return config, resolve(config).facts, inputs


def test_table_rows_follow_the_definition(small_run):
    config, facts, inputs = small_run
    calls = []
    result = value_of_information(facts, inputs, seed=config.run.seed, n_draws=512,
                                  interconnect_fraction=config.run.interconnect_fraction, fit=_ols_slope_fit(calls))
    rows = result.rows
    assert result.columns == VOI_COLUMNS and all(tuple(r) == VOI_COLUMNS for r in rows)
    assert rows[0]["input"] == FULL_UNCERTAINTY and rows[0]["slope_sd_reduction"] == 0.0
    assert rows[0]["method"] == "reference" and rows[0]["pareto_k"] is None
    # a caller's own fit cannot be reweighted: every row is its refit
    assert all(r["method"] == "refit" and np.isnan(r["pareto_k"]) for r in rows[1:])
    assert sorted(r["input"] for r in rows[1:]) == sorted(KEPT)
    assert len(calls) == 1 + len(KEPT)
    assert {seed for seed, _ in calls} == {config.run.seed} and {shape[0] for _, shape in calls} == {512}
    full = rows[0]
    for row in rows[1:]:
        assert row["slope_sd_reduction"] == pytest.approx(1.0 - row["slope_sd"] / full["slope_sd"])
        assert row["p_gt_1e9_change"] == pytest.approx(row["p_gt_1e9_2027"] - full["p_gt_1e9_2027"])
    reductions = [r["slope_sd_reduction"] for r in rows[1:]]
    assert reductions == sorted(reductions, reverse=True)
    # training_time is per model: knowing it removes model-to-model noise from every draw's slope
    by_input = {r["input"]: r for r in rows[1:]}
    assert by_input["training_time"]["slope_sd_reduction"] > 0.05
    # the amortized cost does not read cloud_price, and every other input draws the same numbers
    assert by_input["cloud_price"]["slope_sd"] == full["slope_sd"]
    assert by_input["cloud_price"]["p_gt_1e9_2027"] == full["p_gt_1e9_2027"]
    assert result.settings["mc_draws"] == 512 and result.settings["year"] == 2027
    fig = plot_value_of_information(result)
    assert len(fig.axes) == 2 and len(fig.axes[0].patches) == len(KEPT)


def test_holding_every_input_leaves_no_slope_spread(small_run):
    """With the only uncertain inputs held one at a time, the reference fit is the largest spread."""
    config, facts, inputs = small_run
    for name in KEPT:
        inputs = inputs.replace(name, distribution=Constant(inputs[name].distribution.central))
    calls = []
    result = value_of_information(facts, inputs, seed=config.run.seed, n_draws=64,
                                  interconnect_fraction=config.run.interconnect_fraction, fit=_ols_slope_fit(calls))
    assert len(result.rows) == 1 and result.rows[0]["slope_sd"] == pytest.approx(0.0, abs=1e-12)


def test_settings_on_by_default_and_validated():
    assert SensitivitySettings().value_of_information is True and SensitivitySettings().voi_top == 4
    on = SensitivitySettings.from_config({"value_of_information": True, "voi_draws": 200, "voi_tune": 100})
    assert on.value_of_information and on.voi_draws == 200 and on.voi_tune == 100
    for section, key in (({"value_of_information": "yes"}, "sensitivity.value_of_information"),
                         ({"voi_draws": 50}, "sensitivity.voi_draws"),
                         ({"voi_tune": 0}, "sensitivity.voi_tune")):
        with pytest.raises(ConfigError) as info:
            SensitivitySettings.from_config(section, "c.toml")
        assert info.value.key == key and "c.toml" in str(info.value)


def test_only_restricts_the_inputs_and_names_unknown_ones(small_run):
    config, facts, inputs = small_run
    names = [spec.name for spec in inputs.uncertain()][:2]
    calls = []
    result = value_of_information(facts, inputs, seed=config.run.seed, n_draws=64,
                                  interconnect_fraction=config.run.interconnect_fraction, fit=_ols_slope_fit(calls),
                                  only=names)
    assert sorted(r["input"] for r in result.rows[1:]) == sorted(names) and len(calls) == 3
    with pytest.raises(ValueError, match="no_such_input"):
        value_of_information(facts, inputs, seed=1, n_draws=64, interconnect_fraction=0.1,
                             fit=lambda d, s: (1.0, 0.0), only=["no_such_input"])


def test_top_inputs_ranks_the_growth_rate_sobol_total_index():
    from uncertain_cost.sensitivity.voi import top_inputs

    rows = [{"target": "GPT-4 amortized", "input": "a", "st": 0.9},
            {"target": "amortized growth factor (41 models)", "input": "b", "st": 0.1},
            {"target": "amortized growth factor (41 models)", "input": "c", "st": 0.5},
            {"target": "amortized growth factor (41 models)", "input": "d", "st": 0.3},
            {"target": "amortized growth factor (41 models)", "input": "hardware_choice", "st": 0.8}]
    assert top_inputs(rows, 2) == ["c", "d"]
    assert top_inputs(rows, 3) is None  # every input: no fewer to choose
    assert top_inputs([], 4) is None


def test_bad_draw_count_is_a_value_error(small_run):
    config, facts, inputs = small_run
    with pytest.raises(ValueError, match="n_draws"):
        value_of_information(facts, inputs, seed=1, n_draws=1, interconnect_fraction=0.1, fit=lambda d, s: (1.0, 0.0))


@pytest.mark.slow
def test_run_writes_the_table_and_figure(tmp_path):
    """End to end: the real marginalised fits, the table in the run folder and the report."""
    from uncertain_cost.pipeline import run_config

    config = parse_config({
        "run": {"draws": 2000, "keep_draws": 2000},
        # the stage runs value of information only with the Bayesian growth fit: keep it small
        "growth": {"draws": 300, "tune": 300, "chains": 2, "backtest": False,
                   "r_hat_max": 1.1, "ess_min": 50},
        "sensitivity": {"sobol": False, "growth": False, "development": False, "models": ["GPT-4"],
                        "methods": ["amortized"], "value_of_information": True, "voi_draws": 100, "voi_tune": 100},
        "development": {"enabled": False}, "report": {"png": True},
    })
    result = run_config(config)
    folder = result.write(tmp_path / "run")
    with open(folder / "value_of_information.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == VOI_COLUMNS and rows[0]["input"] == FULL_UNCERTAINTY
    assert len(rows) == 1 + len(config.inputs.uncertain())
    full_sd = float(rows[0]["slope_sd"])
    assert 0.0 < full_sd < 1.0 and 0.0 <= float(rows[0]["p_gt_1e9_2027"]) <= 1.0
    for row in rows[1:]:
        assert float(row["slope_sd_reduction"]) == pytest.approx(1.0 - float(row["slope_sd"]) / full_sd, rel=1e-6)
    assert "value_of_information.png" in result.figures
    assert (folder / "value_of_information.png").exists()
    assert FULL_UNCERTAINTY in result.report()


def test_report_shows_the_table_and_figure_or_says_how_to_get_them():
    """The report shows the value of information when the run has it, else how to turn it on."""
    from report_fixtures import make_artifacts
    from uncertain_cost.reporting.content import collect
    from uncertain_cost.reporting.html import html_document
    from uncertain_cost.reporting.report import markdown_report
    from uncertain_cost.reporting.sections import VOI_HINT

    art = make_artifacts()
    assert VOI_HINT in markdown_report(art.result())
    assert "value_of_information = true" in html_document(collect(art.result()))
    rows = [{"input": FULL_UNCERTAINTY, "slope_sd": 0.0528, "slope_sd_reduction": 0.0, "p_gt_1e9_2027": 0.567,
             "p_gt_1e9_change": 0.0},
            {"input": "gpu_price", "slope_sd": 0.0485, "slope_sd_reduction": 0.081, "p_gt_1e9_2027": 0.588,
             "p_gt_1e9_change": 0.020}]
    art.tables["value_of_information.csv"] = (rows, tuple(rows[0]))
    art.figures["value_of_information.png"] = plot_value_of_information(
        ValueOfInformation(rows, {"draws": 100, "tune": 100, "chains": 2, "mc_draws": 1000}))
    text = markdown_report(art.result())
    assert VOI_HINT not in text and "gpu_price" in text and "![value of information](value_of_information.png)" in text
    html = html_document(collect(art.result()))
    assert "<h3>Value of information</h3>" in html and 'alt="value of information"' in html


def _voi_engine(**kwargs):
    from uncertain_cost.sensitivity.voi import _BayesVOI

    settings = {"seed": 7, "draws": 1000, "tune": 300, "chains": 2, "cores": 2, "center": "median",
                "sampler": "nutpie", "models_per_year": None, "reweight": True, "pareto_k_max": 0.7}
    return _BayesVOI(**(settings | kwargs))


@pytest.mark.slow
def test_a_large_change_takes_the_refit_path_and_a_small_one_is_reweighted():
    """Synthetic data: a tighter measurement is reweighted (k <= 0.7); two models moved 1.5 dex are refitted."""
    from uncertain_cost.growth import GrowthData
    from uncertain_cost.sensitivity.voi import bayes_fit_summary

    rng = np.random.default_rng(4)
    year = 2015.0 + np.arange(16) * 0.5
    truth = 6.0 + 0.5 * (year - 2015.0) + np.random.default_rng(9).normal(0.0, 0.3, year.size)
    names = tuple(f"m{i}" for i in range(year.size))

    def data(own, offsets=0.0):
        draws = truth + offsets + 0.2 * rng.standard_normal((1000, 1)) + own * rng.standard_normal((1000, year.size))
        return GrowthData(year, {"amortized": draws, "cloud": draws + 0.1}, model=names)

    engine = _voi_engine()
    engine.reference(data(0.25))
    sd, p, k, how = engine.known(data(0.15))
    assert how == "psis" and k <= 0.7 and 0.0 < sd < 1.0 and 0.0 <= p <= 1.0
    far = np.zeros(year.size)
    far[[4, 11]] = [1.5, -1.5]
    moved = data(0.15, far)
    sd, p, k, how = engine.known(moved)
    assert how == "refit" and k > 0.7
    # the fallback is exactly the fit the old code ran
    assert (sd, p) == bayes_fit_summary(moved, seed=7, draws=1000, tune=300)
    # without reweighting every row is a refit (and the k is not computed)
    plain = _voi_engine(reweight=False)
    plain.reference(data(0.25))
    assert plain.known(data(0.15))[2:] == (pytest.approx(float("nan"), nan_ok=True), "refit")


def _exceeds(fit, models_per_year):
    from uncertain_cost.growth import forecast_costs

    top = forecast_costs(fit, [2027], thresholds=(1e9,), models_per_year=models_per_year).predictive
    return np.asarray(top["max_log10_cost"].sel(cost_method="amortized", year=2027).values).reshape(-1) > 9.0


@pytest.mark.slow
def test_default_config_psis_rows_agree_with_refits():
    """config.toml, the default run's four inputs: each reweighted row against a refit of that input's data.

    Tolerance: 3.5 combined Monte Carlo standard errors (importance-weighted delta method with
    the weights' relative ESS for the reweighted row; ESS-based for the refit), per figure.
    Measured on this config: every difference within 1.3 standard errors (docs/sensitivity.md).
    """
    import math
    from pathlib import Path

    import arviz as az

    from uncertain_cost.config import load_config
    from uncertain_cost.data.load import resolve
    from uncertain_cost.engine import simulate
    from uncertain_cost.growth.bayes import build_model
    from uncertain_cost.growth.reweight import (
        reweight_posterior,
        weighted_mean,
        weighted_mean_mcse,
        weighted_sd,
        weighted_sd_mcse,
    )
    from uncertain_cost.growth.step import growth_data_from_run
    from uncertain_cost.sensitivity.voi import _fit_amortized, run_value_of_information

    config = load_config(Path(__file__).resolve().parents[2] / "config.toml")
    facts = resolve(config).facts
    sens, growth = config.stages.sensitivity, config.stages.growth
    only = ["gpu_price", "training_compute", "training_time", "tpu_price"]
    voi = run_value_of_information(facts, config, sens, growth, only=only)
    rows = {r["input"]: r for r in voi.rows}
    assert sum(r["method"] == "psis" for r in voi.rows) >= 3  # the stage's point: few refits

    n = min(config.run.draws, config.run.keep_draws)
    kwargs = {"seed": config.run.seed, "draws": sens.voi_draws, "tune": sens.voi_tune, "chains": 2, "cores": 2,
              "center": growth.center, "sampler": growth.sampler}

    def data(inputs):
        sim = simulate(facts, inputs, n, config.run.seed, keep_draws=n,
                       interconnect_fraction=config.run.interconnect_fraction)
        return growth_data_from_run(facts, sim).select(["amortized"])

    base = data(config.inputs)
    fit, old = _fit_amortized(base, **kwargs), build_model(base, center=growth.center)
    for name in only:
        row = rows[name]
        if row["method"] != "psis":
            continue
        held = data(config.inputs.replace(name, distribution=Constant(config.inputs[name].distribution.central)))
        rw = reweight_posterior(fit, old, build_model(held, center=growth.center))
        slope, lw = rw.fit.draws("slope", "amortized"), rw.log_weights
        hit = _exceeds(rw.fit, growth.models_per_year).astype(float)
        assert rw.pareto_k == row["pareto_k"] and weighted_sd(slope, lw) == row["slope_sd"]
        assert weighted_mean(hit, lw) == row["p_gt_1e9_2027"]
        refit = _fit_amortized(held, **kwargs)
        exact = refit.draws("slope", "amortized")
        exact_hit = _exceeds(refit, growth.models_per_year).astype(float)
        flat = np.zeros(exact.size)
        for got, mine, theirs, mcse in ((row["slope_sd"], slope, exact, weighted_sd_mcse),
                                        (row["p_gt_1e9_2027"], hit, exact_hit, weighted_mean_mcse)):
            reff = min(1.0, float(az.ess(theirs.reshape(2, -1))) / theirs.size)
            if mcse is weighted_sd_mcse:  # ESS of the squared deviations for the sd
                reff = min(1.0, float(az.ess(((theirs - theirs.mean()) ** 2).reshape(2, -1))) / theirs.size)
            want = np.std(theirs, ddof=1) if mcse is weighted_sd_mcse else float(np.mean(theirs))
            tol = 3.5 * math.hypot(mcse(mine, lw, rw.reff), mcse(theirs, flat, reff))
            assert abs(got - want) < tol, (name, got, want, tol)
