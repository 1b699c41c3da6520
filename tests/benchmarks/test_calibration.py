"""Mechanics of the engine-in-the-loop calibration and of the SBC study (tiny runs, slow: PyMC fits)."""

import json
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import calibration, sbc, worlds  # noqa: E402

pytestmark = pytest.mark.slow

SMALL = {"methods": ("amortized",), "mc_draws": 300, "chains": 2, "draws": 150, "tune": 150}


def _without_timing(summary):
    out = {k: v for k, v in summary.items() if k not in ("runtime_s", "workers", "replicate_results")}
    out["replicate_results"] = [{k: v for k, v in r.items() if k != "seconds"} for r in summary["replicate_results"]]
    return out


def _fractions(summary):
    yield summary["coverage_90"]
    yield summary["coverage_50"]
    for key in ("coverage_90_by_method", "coverage_50_by_method", "ols_coverage_90_by_method"):
        yield from summary[key].values()
    for m in summary["coverage_90_by_method"]:
        for h in calibration.HORIZONS:
            f = summary["forecast"][m][f"h{h}"]
            yield from (f["brier"], f["mean_predicted"], f["observed_frequency"], f["pit_coverage_90"],
                        f["mean_pit"])
    yield summary["forecast_coverage_90_h2"]


def test_calibration_summary_is_complete_and_independent_of_workers(tmp_path):
    one = calibration.run_calibration(2, 5, workers=1, **SMALL)
    two = calibration.run_calibration(2, 5, workers=2, **SMALL)
    shard = calibration.run_calibration(1, 5, workers=1, first=1, **SMALL)
    assert one["replicates"] == 2 and one["seed"] == 5
    for value in _fractions(one):
        assert 0.0 <= value <= 1.0
    assert [r["index"] for r in one["replicate_results"]] == [0, 1]
    row = one["replicate_results"][0]["methods"]["amortized"]
    assert row["n_models"] == 41  # the default config's amortized frontier set
    assert row["lo_90"] <= row["lo_50"] <= row["slope_median"] <= row["hi_50"] <= row["hi_90"]
    assert one["forecast"]["years"] == [2024, 2025]
    # the k bug (issue 21): the truth's runs follow the forecast's Poisson process, not a fixed 7
    assert [r["true_runs"] for r in one["replicate_results"]] != [{"2024": 7, "2025": 7}] * 2
    assert 5.0 < one["forecast"]["expected_runs_mean"]["2024"] < 20.0
    # same seed, other worker count: identical results
    assert _without_timing(one) == _without_timing(two)
    # a shard (--first) repeats its replicates; --summarize of the shards' lines gives the study
    assert _without_timing(shard)["replicate_results"] == _without_timing(one)["replicate_results"][1:]
    lines = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    lines[0].write_text(json.dumps(one["replicate_results"][0]) + "\n")
    lines[1].write_text(json.dumps(shard["replicate_results"][0]) + "\n")
    [combined] = calibration.summarize_details([str(p) for p in lines], seed=5, settings=SMALL)
    assert combined["indices"] == "0..1"
    assert combined["coverage_90"] == one["coverage_90"] and combined["forecast"] == one["forecast"]


def test_replicates_differ_and_repeat():
    engine = calibration.engine_monte_carlo(7, 300, 2)
    kw = {k: v for k, v in SMALL.items() if k != "mc_draws"}
    a = calibration.run_replicate(1, 7, engine=engine, **kw)
    b = calibration.run_replicate(1, 7, engine=engine, **kw)
    c = calibration.run_replicate(0, 7, engine=engine, **kw)
    strip = lambda r: {k: v for k, v in r.items() if k != "seconds"}  # noqa: E731
    assert strip(a) == strip(b)
    assert a["truth"] != c["truth"]
    with pytest.raises(ValueError, match="no truth draw"):
        calibration.run_replicate(2, 7, engine=engine, **kw)


def test_sbc_command_line_prints_ranks_and_pvalues(capsys):
    status = calibration.main(["--sbc", "2", "--seed", "3", "--workers", "1", "--mc-draws", "300",
                               "--draws", "100", "--tune", "150", "--quiet"])
    assert status == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert result["replicates"] == 2 and result["parameters"] == list(sbc.PARAMETERS)
    for name in sbc.PARAMETERS:
        assert sum(result["rank_counts"][name]) == 2
        assert len(result["rank_counts"][name]) == sbc.N_BINS
        assert 0.0 <= result["sbc_pvalue"][name] <= 1.0
        assert 0.0 <= result["mean_rank_fraction"][name] <= 1.0


def test_sbc_replicate_is_reproducible_and_ranks_are_in_range():
    engine = calibration.engine_monte_carlo(3, 300, 1)
    a = sbc.sbc_replicate(4, 3, chains=2, draws=100, tune=150, engine=engine)
    b = sbc.sbc_replicate(4, 3, chains=2, draws=100, tune=150, engine=engine)
    assert a["rank"] == b["rank"] and a["truth"] == b["truth"]
    assert all(0 <= r <= sbc.N_RANK_DRAWS for r in a["rank"].values())
    assert math.isfinite(a["r_hat_max"])
    with pytest.raises(ValueError, match="chains \\* draws"):
        sbc.sbc_replicate(0, 3, chains=1, draws=50, engine=engine)


def test_bad_arguments_are_one_line_errors(capsys):
    assert calibration.main(["--replicates", "0", "--quiet"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: replicates must be >= 1")
    assert calibration.main(["--scenario", "nope", "--quiet"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: unknown scenario 'nope'")


def test_every_scenario_prints_one_json_line(capsys):
    status = calibration.main(["--scenario", "all", "--replicates", "1", "--seed", "3", "--workers", "1",
                               "--mc-draws", "300", "--chains", "2", "--draws", "150", "--tune", "150",
                               "--methods", "amortized", "--quiet"])
    assert status == 0
    lines = capsys.readouterr().out.strip().splitlines()
    results = [json.loads(line) for line in lines[-len(worlds.SCENARIOS):]]
    assert [r["scenario"] for r in results] == list(worlds.SCENARIOS)
    for r in results:
        assert r["replicates"] == 1
        for key in ("coverage_90", "coverage_50", "forecast_coverage_90_h2"):
            assert r[key] in (0.0, 1.0)
    # the scenarios share the replicate's common truth but not their worlds
    assert len({r["slope_bias_by_method"]["amortized"] for r in results}) == len(results)
