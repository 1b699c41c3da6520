"""With imputation on, the hardware choice of imputed models is a sensitivity factor, drawn as the engine draws it."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from uncertain_cost.config import parse_config
from uncertain_cost.data.facts import alternative_groups, subset_facts
from uncertain_cost.data.load import load_facts
from uncertain_cost.engine import column_costs, simulate
from uncertain_cost.sensitivity import sobol
from uncertain_cost.sensitivity.step import run_sensitivity
from uncertain_cost.sensitivity.targets import (
    HardwareChoice,
    SensitivitySettings,
    base_values,
    cost_factors,
    cost_target,
    growth_target,
)
from uncertain_cost.sensitivity.tornado import conditional_tornado

MODEL = "ResNet-152 (ImageNet)"  # imputed as NVIDIA GTX Titan X 50%, Tesla K80 50% (embedded data)


@pytest.fixture(scope="module")
def imputed():
    config = parse_config({"data": {"impute_hardware": True}})
    facts, _, _ = load_facts(config)
    return config, facts


def _draw(factors, n, seed):
    u = np.random.default_rng(seed).random((n, len(factors)))
    return np.column_stack([fa.ppf(u[:, i]) for i, fa in enumerate(factors)])


def test_no_factor_without_imputation():
    config = parse_config({})
    facts, _, _ = load_facts(config)
    factors, _, _ = growth_target(facts, config.inputs, config.run.interconnect_fraction)
    assert not any(fa.group == "hardware_choice" for fa in factors)
    assert base_values(factors) is None  # run_sensitivity then calls the tornado exactly as before


def test_one_factor_per_imputed_model_with_a_choice(imputed):
    config, facts = imputed
    factors, _, n = growth_target(facts, config.inputs, config.run.interconnect_fraction)
    choices = [fa for fa in factors if fa.group == "hardware_choice"]
    several = [facts.names[m] for m, rows, _ in alternative_groups(facts) if len(rows) > 1 and facts.is_frontier[m]]
    assert len(several) >= 10
    assert sorted(fa.name for fa in choices) == sorted(f"hardware_choice[{m}]" for m in several)
    assert all(isinstance(fa.distribution, HardwareChoice) for fa in choices)
    assert factors[-len(choices):] == choices  # after the layout columns


def test_each_choice_costs_exactly_that_candidate(imputed):
    config, facts = imputed
    factors, f, names = cost_target(facts, config.inputs, [MODEL], ["amortized", "cloud"],
                                    config.run.interconnect_fraction)
    assert names == [f"{MODEL} amortized", f"{MODEL} cloud"]
    choice = factors[-1].distribution
    assert factors[-1].name == f"hardware_choice[{MODEL}]"
    x = _draw(factors, 64, 1)
    sub = subset_facts(facts, [MODEL])
    layout_factors, columns, lay = cost_factors(config.inputs, sub)
    values = np.empty((64, lay.n_columns))
    for spec, cols in zip(lay.inputs, lay.column_names, strict=True):
        values[:, lay.offsets[spec.name]:lay.offsets[spec.name] + len(cols)] = spec.distribution.median()
    values[:, columns] = x[:, :len(layout_factors)]
    candidates = column_costs(sub, config.inputs, values, interconnect_fraction=config.run.interconnect_fraction)
    for k, row in enumerate(choice.rows):  # u inside candidate k's weight interval picks candidate k
        lo = choice.cumulative[k - 1] if k else 0.0
        x[:, -1] = lo + (choice.cumulative[k] - lo) * np.linspace(0.01, 0.99, 64)
        y = f(x)
        np.testing.assert_array_equal(y[:, 0], candidates.total("amortized")[:, row])
        # cloud: the same u on the cloud weights (a candidate without a cloud price drops out)
        cloud_rows = choice.pick(x[:, -1], "cloud")
        np.testing.assert_array_equal(y[:, 1], candidates.total("cloud")[np.arange(64), cloud_rows])
        assert np.isfinite(y[:, 1]).all()
    # the tornado base is the most likely candidate (the first of equal weights, as point costs pick)
    assert choice.pick(np.array([base_values(factors)[-1]]))[0] == choice.rows[0]


def test_cost_target_reproduces_the_engine_percentiles(imputed):
    config, facts = imputed
    factors, f, _ = cost_target(facts, config.inputs, [MODEL], ["amortized"], config.run.interconnect_fraction)
    n = 8000
    y = f(_draw(factors, n, 5))[:, 0]
    sim = simulate(facts, config.inputs, n, seed=11, keep_draws=0)
    engine = sim.totals["amortized"][:, facts.names.index(MODEL)]
    # two independent n-draw Monte Carlo estimates of a mixture of two candidates
    for q, tol in ((0.05, 0.08), (0.25, 0.06), (0.5, 0.06), (0.75, 0.06), (0.95, 0.10)):
        assert np.quantile(y, q) == pytest.approx(np.quantile(engine, q), rel=tol)


def test_conditional_bar_conditions_on_each_candidate(imputed):
    config, facts = imputed
    factors, f, _ = cost_target(facts, config.inputs, [MODEL], ["amortized"], config.run.interconnect_fraction)
    result = conditional_tornado(factors, f, 7, n_outer=32, n_inner=1024, base_values=base_values(factors))
    bar = list(result.names).index("hardware_choice")
    choice = factors[-1].distribution
    x = _draw(factors, 8000, 9)
    reference = np.median(f(x)[:, 0])
    changes = []
    for k in range(len(choice.rows)):  # the target's median given each candidate, everything else drawn
        lo = choice.cumulative[k - 1] if k else 0.0
        x[:, -1] = 0.5 * (lo + choice.cumulative[k])
        changes.append(np.median(f(x)[:, 0]) - reference)
    # two equally likely candidates: the P5 / P95 ends are the two conditional medians' changes
    low, high = result.output_low[0, bar] - result.base[0], result.output_high[0, bar] - result.base[0]
    assert min(changes) < 0 < max(changes) and low < 0 < high
    spread = max(changes) - min(changes)
    assert high - low == pytest.approx(spread, rel=0.25)  # 1024 inner draws against 8000 here
    assert low == pytest.approx(min(changes), abs=0.2 * spread)
    assert high == pytest.approx(max(changes), abs=0.2 * spread)


def test_run_sensitivity_reports_the_hardware_choice(imputed):
    config, facts = imputed
    settings = SensitivitySettings(models=(MODEL,), methods=("amortized",), sobol=True, sobol_base=64, bootstrap=0,
                                   growth=False, development=False)
    out = run_sensitivity(facts, config.inputs, settings, interconnect_fraction=config.run.interconnect_fraction,
                          seed=config.run.seed, reference_month=config.run.reference_month)
    tornado_rows = {r["input"]: r for r in out.tornado_rows}
    sobol_rows = {r["input"]: r for r in out.sobol_rows}
    assert tornado_rows["hardware_choice"]["swing"] > 0
    assert sobol_rows["hardware_choice"]["st"] > 0.05
    assert len({r["base"] for r in out.tornado_rows}) == 1


@pytest.mark.slow
def test_growth_tornado_ranking_matches_sobol_with_imputation(imputed):
    config, facts = imputed
    factors, f, _ = growth_target(facts, config.inputs, config.run.interconnect_fraction)
    sob = sobol(factors, f, 256, 20240531, n_bootstrap=0, by_group=True)
    cond = conditional_tornado(factors, f, 20240531, n_outer=32, n_inner=128, base_values=base_values(factors))
    assert list(sob.inputs) == list(cond.names)
    assert spearmanr(cond.swing[0], sob.st[0]).statistic >= 0.8
    st = dict(zip(sob.inputs, sob.st[0], strict=True))
    assert st["hardware_choice"] > 0.05  # a leading source of the growth factor's variance
