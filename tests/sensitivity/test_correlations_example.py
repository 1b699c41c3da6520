"""The ``[correlations]`` example of issue 11 runs end to end, and its pairs are reached in the draws."""

import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from uncertain_cost.config import load_config
from uncertain_cost.data.load import load_facts
from uncertain_cost.pipeline import run_config
from uncertain_cost.sampling.copula import apply_correlations
from uncertain_cost.sampling.design import draw_values, layout

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "correlations.toml"


def test_correlations_example_runs():
    config = load_config(EXAMPLE, {"run.draws": 2000, "run.keep_draws": 2000, "growth.bayes": False,
                                   "sensitivity.enabled": False, "report.png": False})
    result = run_config(config)
    rows = {(r["model"], r["method"]): r for r in result.records("summary")[0]}
    gpt4 = rows[("GPT-4", "amortized")]
    assert gpt4["p5_usd"] < gpt4["median_usd"] < gpt4["p95_usd"]
    assert gpt4["point_usd"] == pytest.approx(40_594_000, rel=1e-3)  # the correlations leave point values alone


def test_correlations_example_pairs_are_reached():
    config = load_config(EXAMPLE)
    facts, _, _ = load_facts(config)
    lay = layout(config.inputs, facts)
    values = draw_values(lay, config.run.seed, 0, 20_000)
    apply_correlations(values, lay)
    with EXAMPLE.open("rb") as handle:
        pairs = tomllib.load(handle)["correlations"]["pairs"]
    assert len(pairs) >= 2
    for a, b, rho in pairs:
        ia, ib = lay.offsets[a], lay.offsets[b]
        got = spearmanr(values[:, ia], values[:, ib]).statistic  # the first column of each (one chip record)
        assert got == pytest.approx(rho, abs=0.03), (a, b)
    assert np.isfinite(values).all()
