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


def _staff_by_numpy(x, factors):
    """The NumPy form of the target's staff sum (fresh temporaries per role, ndarray.sum(axis=1)).

    With slices the temporaries are C-ordered and each row is summed pairwise; fancy indexing
    would give F-ordered temporaries, summed in another order.
    """
    annual = np.zeros(x.shape[0])
    columns = {}
    for j, fa in enumerate(factors):
        if fa.group.startswith("staff_"):
            kind, role = fa.name.split("[")[0], fa.name.split("[")[1].split("#")[0]
            columns.setdefault(role, {}).setdefault(kind, []).append(j)
    for kinds in columns.values():
        for kind, cols in kinds.items():  # each kind's columns are contiguous: slices, as the code had
            assert cols == list(range(cols[0], cols[-1] + 1))
            kinds[kind] = slice(cols[0], cols[-1] + 1)
        pay = x[:, kinds["salary"]] * x[:, kinds["overhead"]]
        if "equity" in kinds:
            pay += x[:, kinds["equity"]]
        pay *= x[:, kinds["fte"]]
        annual += pay.sum(axis=1)
    return annual


@pytest.mark.parametrize("model", ["GPT-4", "Gemini 1.0 Ultra"])
def test_development_target_staff_sum_has_the_bits_of_numpy(engine, model):
    config, facts, spec, _ = engine
    factors, f = development_target(facts, config.inputs, spec[model], config.run.interconnect_fraction)
    u = np.random.default_rng(3).random((300, len(factors)))
    x = np.column_stack([fa.ppf(u[:, i]) for i, fa in enumerate(factors)])
    compute_only = x.copy()
    compute_only[:, -2], compute_only[:, -1] = 0.0, 1.0  # no project years, experiment factor 1
    compute = f(compute_only)  # exactly the amortized compute cost of each row
    expected = compute * x[:, -1] + _staff_by_numpy(x, factors) * x[:, -2]
    np.testing.assert_array_equal(f(x), expected)
    np.testing.assert_array_equal(f(x[:120]), f(x)[:120])  # any number of rows: the reused buffer
    np.testing.assert_array_equal(f(np.asfortranarray(x)), f(x))  # any memory layout
