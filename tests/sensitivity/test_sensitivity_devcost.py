"""The development-cost sensitivity target is the engine's own model (same total percentiles)."""

import numpy as np
import pytest

from uncertain_cost.config import parse_config
from uncertain_cost.data.load import resolve
from uncertain_cost.devcost import parse_development
from uncertain_cost.pipeline import run_config
from uncertain_cost.sensitivity.targets import development_target

N = 8000


@pytest.fixture(scope="module")
def engine():
    config = parse_config({"run": {"draws": N, "keep_draws": N, "seed": 11}, "growth": {"enabled": False},
                           "sensitivity": {"enabled": False}, "report": {"png": False}})
    rows = {(r["model"], r["component"]): r for r in run_config(config).records("devcost")[0]}
    return config, resolve(config).facts, parse_development(config.section("development")), rows


@pytest.mark.parametrize("model", ["GPT-4", "GPT-3 175B (davinci)"])
def test_development_target_reproduces_the_engine_percentiles(engine, model):
    config, facts, spec, rows = engine
    factors, f = development_target(facts, config.inputs, spec[model], config.run.interconnect_fraction)
    # one factor per contributor and kind, as the engine draws them
    assert sum(fa.group == "staff_salary" for fa in factors) == spec[model].contributors
    u = np.random.default_rng(5).random((N, len(factors)))
    y = f(np.column_stack([fa.ppf(u[:, i]) for i, fa in enumerate(factors)]))
    got = np.quantile(y, [0.05, 0.5, 0.95])
    want = [rows[(model, "total")][k] for k in ("p5_usd", "median_usd", "p95_usd")]
    # both are N-draw Monte Carlo estimates: allow a few standard errors of a quantile
    for g, w, tol in zip(got, want, (0.06, 0.05, 0.10), strict=True):
        assert g == pytest.approx(w, rel=tol)
