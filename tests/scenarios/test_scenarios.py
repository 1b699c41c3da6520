"""Scenarios side by side: validation, common random numbers, and byte-identical plain runs."""

import csv
import filecmp

import numpy as np
import pytest

from uncertain_cost.config import load_config
from uncertain_cost.engine import simulate, simulate_blocks
from uncertain_cost.errors import ConfigError
from uncertain_cost.execution import block_ranges, merge_blocks, simulate_in_ranges
from uncertain_cost.pipeline import run_config
from uncertain_cost.sampling.design import BLOCK_DRAWS
from uncertain_cost.scenarios import SCENARIO, deep_merge, is_scenario_result, scenario_configs, select

BASE = """
[run]
draws = 2000
keep_draws = 300
seed = 11

[sensitivity]
enabled = false

[development]
models = []

[growth]
bayes = false

[report]
png = false
"""

SCENARIOS = """
[scenarios.baseline]

[scenarios.top5.selection]
top_n = 5

[scenarios.slow_depreciation.inputs.depreciation_rate]
ci90 = [0.05, 0.13]
point = 0.09
"""


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scenarios")
    plain = run_config(load_config(_write(folder, "plain.toml", BASE)))
    sweep = run_config(load_config(_write(folder, "sweep.toml", BASE + SCENARIOS)))
    return folder, plain, sweep


def _csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_table_gains_a_first_scenario_column(runs):
    _, plain, sweep = runs
    assert is_scenario_result(sweep) and not is_scenario_result(plain)
    assert set(sweep.table_names()) == set(plain.table_names())
    for name in sweep.table_names():
        rows, columns = sweep.records(name)
        assert columns[0] == SCENARIO
        assert list(dict.fromkeys(r[SCENARIO] for r in rows)) == (
            ["baseline", "top5", "slow_depreciation"] if rows else [])


def test_baseline_scenario_equals_the_plain_run(runs):
    _, plain, sweep = runs
    baseline = select(sweep, "baseline")
    for name in plain.table_names():
        assert baseline.records(name) == plain.records(name), name


def test_common_random_numbers_across_scenarios(runs):
    """A scenario that changes only the frontier rule leaves a shared model's draws untouched."""
    _, _, sweep = runs
    costs = sweep.group("costs")
    gpt4 = costs["cost"].sel(model="GPT-4", cost_method="cloud")
    np.testing.assert_array_equal(gpt4.sel(scenario="baseline").values, gpt4.sel(scenario="top5").values)
    # depreciation moves the amortized cost only: the cloud draws stay the same numbers
    np.testing.assert_array_equal(gpt4.sel(scenario="baseline").values,
                                  gpt4.sel(scenario="slow_depreciation").values)
    amortized = costs["cost"].sel(model="GPT-4", cost_method="amortized")
    assert not np.array_equal(amortized.sel(scenario="slow_depreciation").values,
                              amortized.sel(scenario="baseline").values)


def test_run_without_scenarios_is_byte_identical_through_the_execution_path(runs, tmp_path, no_png_rendering):
    folder, plain, _ = runs
    local = run_config(load_config(folder / "plain.toml", {"execution.backend": "local"}))  # --backend local
    a, b = plain.write(tmp_path / "a"), local.write(tmp_path / "b")
    tables = [f"{n}.csv" for n in plain.table_names()] + ["summary.json"]
    match, mismatch, errors = filecmp.cmpfiles(a, b, tables, shallow=False)
    assert not mismatch and not errors and len(match) == len(tables)


def test_scenario_outputs_written(runs, tmp_path):
    import xarray as xr

    _, _, sweep = runs
    out = sweep.write(tmp_path / "sweep")
    rows = _csv(out / "growth.csv")
    assert list(rows[0])[0] == "scenario"
    assert {(r["scenario"], r["method"], r["estimator"]) for r in rows} >= {
        (s, m, "ols") for s in ("baseline", "top5", "slow_depreciation") for m in ("amortized", "cloud")}
    tree = xr.open_datatree(out / "results.nc", engine="h5netcdf")
    assert list(tree["costs"]["scenario"].values) == ["baseline", "top5", "slow_depreciation"]
    text = (out / "report.md").read_text()
    assert "## Scenarios side by side" in text
    assert "| method | estimator | baseline | top5 | slow_depreciation |" in text


@pytest.mark.parametrize(("table", "key"), [
    ("[scenarios.bad.inputs.gpu_price]\nci90 = [2.0, 1.0]\n", "scenarios.bad.inputs.gpu_price"),
    ("[scenarios.bad.run]\ndraws = 0\n", "scenarios.bad.run.draws"),
    ("[scenarios.bad.run]\nseed = 3\n", "scenarios.bad.run.seed"),
    ("[scenarios.bad.selection]\ntop_k = 3\n", "scenarios.bad.selection.top_k"),
    ("[scenarios.bad.execution]\nworkers = 2\n", "scenarios.bad.execution"),
    ("[scenarios]\nbad = 3\n", "scenarios.bad"),
])
def test_scenario_errors_name_the_dotted_key(tmp_path, table, key):
    config = load_config(_write(tmp_path, "c.toml", BASE + table))
    with pytest.raises(ConfigError) as info:
        scenario_configs(config)
    assert info.value.key.startswith(key) and str(tmp_path / "c.toml") in str(info.value)


def test_command_line_overrides_win_over_scenarios(tmp_path):
    config = load_config(_write(tmp_path, "c.toml", BASE + "[scenarios.more.run]\ndraws = 5000\n"),
                         {"run.draws": 1234})
    assert scenario_configs(config)["more"].run.draws == 1234


def test_deep_merge_keeps_base_keys_and_copies():
    base = {"inputs": {"gpu_price": {"ci90": [0.5, 2.0], "scope": "per_chip"}}, "run": {"draws": 10}}
    merged = deep_merge(base, {"inputs": {"gpu_price": {"ci90": [0.8, 1.25]}}})
    assert merged == {"inputs": {"gpu_price": {"ci90": [0.8, 1.25], "scope": "per_chip"}}, "run": {"draws": 10}}
    assert base["inputs"]["gpu_price"]["ci90"] == [0.5, 2.0]


def test_execution_settings_errors(tmp_path):
    with pytest.raises(ConfigError, match="execution.workers"):  # when the config is read, before any work
        load_config(_write(tmp_path, "c.toml", BASE + '[execution]\nbackend = "local"\nworkers = 2\n'))
    with pytest.raises(ConfigError, match="execution.backend"):
        load_config(_write(tmp_path, "d.toml", BASE + '[execution]\nbackend = "ray"\n'))


@pytest.mark.parametrize(("n_draws", "per_task", "chunk"), [(1, 1, 1), (3 * BLOCK_DRAWS + 7, 1, 4),
                                                          (3 * BLOCK_DRAWS + 7, 2, 1), (2 * BLOCK_DRAWS, 5, 2)])
def test_block_ranges_merge_to_the_same_simulation(n_draws, per_task, chunk):
    from uncertain_cost.config import default_config
    from uncertain_cost.data.load import load_facts

    config = default_config()
    facts, _, _ = load_facts(config)
    keep = BLOCK_DRAWS + 5
    whole = simulate(facts, config.inputs, n_draws, 5, keep_draws=keep, chunk_blocks=3)
    pieces = simulate_in_ranges(facts, config.inputs, n_draws, 5, per_task, keep_draws=keep, chunk_blocks=chunk)
    for method in ("amortized", "cloud", "acquisition"):
        assert whole.totals[method].dtype == pieces.totals[method].dtype
        assert whole.totals[method].tobytes() == pieces.totals[method].tobytes()
    for name in ("amortized", "cloud", "acquisition"):
        assert getattr(whole.kept, name).tobytes() == getattr(pieces.kept, name).tobytes()
    assert whole.point.amortized.tobytes() == pieces.point.amortized.tobytes()


def test_merge_blocks_rejects_gaps():
    from uncertain_cost.config import default_config
    from uncertain_cost.data.load import load_facts

    config = default_config()
    facts, _, _ = load_facts(config)
    n = 2 * BLOCK_DRAWS
    parts = [simulate_blocks(facts, config.inputs, n, 1, 1, 2)]
    with pytest.raises(ValueError, match="do not cover"):
        merge_blocks(facts, config.inputs, n, 1, parts)
    with pytest.raises(ValueError, match="outside"):
        simulate_blocks(facts, config.inputs, n, 1, 1, 3)
    assert block_ranges(n + 1, 2) == [(0, 2), (2, 3)]


def test_example_baseline_is_the_default_job():
    from pathlib import Path

    from uncertain_cost.config import default_config

    example = Path(__file__).resolve().parents[2] / "examples" / "scenarios.toml"
    configs = scenario_configs(load_config(example))
    assert len(configs) >= 4 and next(iter(configs)) == "baseline"
    baseline, default = configs["baseline"], default_config()
    assert (baseline.run, baseline.data, baseline.inputs) == (default.run, default.data, default.inputs)
    for name in ("selection", "growth", "forecast", "sensitivity", "development"):
        assert baseline.section(name) == default.section(name)
    assert configs["top5_frontier"].section("selection") == {"top_n": 5}


@pytest.mark.slow
def test_selection_sensitivity_example_writes_one_growth_row_per_rule_and_method():
    from pathlib import Path

    from epoch_paths import snapshot

    example = Path(__file__).resolve().parents[2] / "examples" / "selection-sensitivity.toml"
    config = load_config(example, {"data.epoch_dir": str(snapshot("2024-06")), "run.draws": 2000,
                                   "growth.bayes": False})
    rows, columns = run_config(config).records("growth")
    assert columns[0] == SCENARIO
    rules = list(scenario_configs(config))
    assert len(rules) == 9
    keys = [(r[SCENARIO], r["method"], r["estimator"]) for r in rows]
    assert sorted(keys) == sorted((s, m, "ols") for s in rules for m in ("amortized", "cloud", "acquisition"))
    top10 = next(r for r in rows if r[SCENARIO] == "top10" and r["method"] == "amortized")
    assert top10["n_models"] == 45 and top10["growth_per_year"] == pytest.approx(2.45, abs=0.01)  # paper v1
