"""The benchmark baselines compute the same costs as the engine (no timing is checked)."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.bench_engine import loop_seconds_per_eval, numpy_simulation  # noqa: E402

from factories import GPT4, TPU_MODEL, make_facts  # noqa: E402


def test_pandas_loop_baseline_equals_kernel_on_point_values(default_inputs):
    # loop_seconds_per_eval asserts its loop's costs equal the compiled kernel's
    assert np.isfinite(loop_seconds_per_eval(make_facts(GPT4, TPU_MODEL), default_inputs, 2))


def test_numpy_baseline_runs_the_reference_equations(default_inputs):
    from uncertain_cost.costs import costs_numba, fact_arrays
    from uncertain_cost.sampling.design import layout

    facts = make_facts(GPT4, TPU_MODEL)
    values, costs = numpy_simulation(facts, default_inputs, 100, seed=1)
    fast = costs_numba(values, layout(default_inputs, facts).column, fact_arrays(facts))
    assert np.isfinite(costs[0]).all()
    for a, b in zip(costs, fast, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, equal_nan=True)
