"""The misspecified worlds of the calibration study (benchmarks/worlds.py): each breaks what it says."""

import math
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import worlds  # noqa: E402
from uncertain_cost.growth.runs import fit_runs_per_year  # noqa: E402

METHODS = ("amortized",)


def _engine(n=60, seed=0):
    rng = np.random.default_rng(seed)
    year = np.sort(rng.uniform(2015.9, 2023.9, n))
    costed = np.ones(n, bool)
    costed[:5] = False
    dev = np.zeros((4, n))
    return SimpleNamespace(year=year, intercept={"amortized": 7.0}, deviation={"amortized": dev},
                           costed=lambda m: costed, median={"amortized": np.zeros(n)})


def _world(scenario, seed=1, index=0, scatter=0.4):
    eng = _engine()
    truth = {"slope": {"amortized": 0.4}, "scatter": scatter, "nu": 30.0, "index": index}
    v = np.random.default_rng(seed).standard_normal(eng.year.size) * scatter
    runs = fit_runs_per_year(eng.year)
    return eng, v, worlds.make_world(scenario, eng, truth, v, worlds.scenario_rng(seed, index, scenario), runs,
                                     [2024, 2025], METHODS)


def test_self_world_is_the_line_plus_scatter():
    eng, v, w = _world("self")
    obs = w.observed["amortized"]
    expect = 7.0 + 0.4 * (eng.year - 2020.0) + v
    np.testing.assert_allclose(obs[5:], expect[5:])
    assert np.all(np.isnan(obs[:5]))
    assert w.target_slope["amortized"] == 0.4
    assert set(w.future_runs) == {2024, 2025} and all(k >= 0 for k in w.future_runs.values())


def test_trend_bias_tilts_the_observations_by_the_bias_slope():
    eng, v, w = _world("trend_bias")
    c = w.info["bias_slope"]
    assert abs(c) <= worlds.BIAS_MAX and c != 0.0
    obs = w.observed["amortized"]
    _, _, clean = _world("self")
    np.testing.assert_allclose(obs[5:] - clean.observed["amortized"][5:], c * (eng.year[5:] - 2020.0))


def test_hinge_target_is_the_least_squares_slope_of_the_bent_line():
    eng, _, w = _world("hinge")
    tau, db = w.info["hinge_year"], w.info["slope_change"]
    assert 2019.0 <= tau <= 2022.0
    x = eng.year[5:]
    line = 0.4 * x + db * np.maximum(0.0, x - tau)
    expected = np.polyfit(x, line, 1)[0]
    assert w.target_slope["amortized"] == pytest.approx(expected, abs=1e-10)
    assert w.target_slope["amortized"] != pytest.approx(0.4, abs=1e-3)


def test_top10_selects_running_top_ten_entries():
    t, cost, frontier = worlds._top10_population(np.random.default_rng(4), 0.4, 2025)
    assert np.all(np.diff(t) >= 0)
    assert frontier[:worlds.TOP10_N].all()
    per_year = [int(np.sum(frontier & (np.floor(t) == y))) for y in range(2016, 2025)]
    assert 3 <= np.mean(per_year) <= 20  # of the order of the observed ~7 a year
    _, _, w = _world("top10")
    assert w.year.size <= 60 and np.all(np.diff(w.year) >= 0)
    assert len(set(w.engine_index.tolist())) == w.year.size
    assert math.isfinite(w.future_max[2024]["amortized"])


def test_mnar_drops_the_models_above_the_trend():
    drops_high, drops_low = 0, 0
    for seed in range(20):
        _, v, w = _world("mnar", seed=seed)
        missing = np.isnan(w.observed["amortized"])
        missing[:5] = False
        drops_high += int(np.sum(missing & (v > 0.4)))
        drops_low += int(np.sum(missing & (v < 0.0)))
    assert drops_high > 3 * drops_low


def test_unknown_scenario_is_an_error():
    eng = _engine()
    with pytest.raises(ValueError, match="unknown scenario"):
        worlds.make_world("nope", eng, {}, np.zeros(60), np.random.default_rng(0), None, [2024], METHODS)
