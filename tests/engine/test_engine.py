"""Sampling and the engine: scopes, reproducibility, chunking, memory-bounded totals."""

import os
import subprocess
import sys

import numpy as np
import pytest

from uncertain_cost.distributions import Constant
from uncertain_cost.engine import simulate
from uncertain_cost.sampling.design import BLOCK_DRAWS, layout

from factories import GPT4, TPU_MODEL, make_facts

GPT4_B = {**GPT4, "name": "GPT-4 twin"}
TPU_B = {**TPU_MODEL, "name": "TPU twin"}


def _only(inputs, keep):
    """All inputs constant at their central value except ``keep``."""
    for spec in inputs:
        if spec.name not in keep:
            inputs = inputs.replace(spec.name, distribution=Constant(spec.distribution.central))
    return inputs


def test_shared_scope_moves_models_together(default_inputs):
    facts = make_facts(GPT4, GPT4_B)
    inputs = _only(default_inputs, {"depreciation_rate"})
    sim = simulate(facts, inputs, 2000, seed=3)
    a, b = sim.kept.total("amortized").T
    assert np.std(a) > 0
    np.testing.assert_allclose(a, b, rtol=1e-12)  # identical twins, one shared draw


def test_per_model_scope_is_independent(default_inputs):
    facts = make_facts(GPT4, GPT4_B)
    inputs = _only(default_inputs, {"training_time"})
    sim = simulate(facts, inputs, 4000, seed=3)
    a, b = np.log(sim.kept.total("amortized").T)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.06


def test_per_chip_scope_shared_within_chip_only(default_inputs):
    facts = make_facts(GPT4, GPT4_B, TPU_MODEL, TPU_B)
    inputs = _only(default_inputs, {"gpu_price", "tpu_price"})
    sim = simulate(facts, inputs, 3000, seed=5)
    hw = sim.kept.amortized[..., :2].sum(axis=-1)
    np.testing.assert_allclose(hw[:, 0] / hw[0, 0], hw[:, 1] / hw[0, 1], rtol=1e-12)
    np.testing.assert_allclose(hw[:, 2] / hw[0, 2], hw[:, 3] / hw[0, 3], rtol=1e-12)
    assert abs(np.corrcoef(np.log(hw[:, 0]), np.log(hw[:, 2]))[0, 1]) < 0.06
    # a shared scope ties GPU and TPU chips of the same class input together
    shared = inputs.replace("gpu_price", scope="shared")
    lay = layout(shared, facts)
    assert lay.column_names[shared.names.index("gpu_price")] == ("*",)


def test_draws_do_not_depend_on_other_models(default_inputs):
    alone = simulate(make_facts(GPT4), default_inputs, 500, seed=11)
    together = simulate(make_facts(TPU_MODEL, GPT4), default_inputs, 500, seed=11)
    np.testing.assert_array_equal(alone.kept.amortized[:, 0], together.kept.amortized[:, 1])


def test_chunking_does_not_change_results(default_inputs):
    facts = make_facts(GPT4, TPU_MODEL)
    n = 2 * BLOCK_DRAWS + 123
    one = simulate(facts, default_inputs, n, seed=9, chunk_blocks=1, keep_draws=100)
    many = simulate(facts, default_inputs, n, seed=9, chunk_blocks=3, keep_draws=n)
    for method in ("amortized", "cloud", "acquisition"):
        np.testing.assert_array_equal(one.totals[method], many.totals[method])
    np.testing.assert_array_equal(one.kept.amortized, many.kept.amortized[:100])


def test_prefix_property_more_draws_extend_fewer(default_inputs):
    facts = make_facts(GPT4)
    small = simulate(facts, default_inputs, 1000, seed=2)
    large = simulate(facts, default_inputs, BLOCK_DRAWS + 10, seed=2)
    np.testing.assert_array_equal(small.totals["amortized"], large.totals["amortized"][:1000])


def test_gpt4_interval_reasonable(default_inputs):
    # the paper's generic factor for a GPU model: x0.34-3.7 of the central value (90%)
    sim = simulate(make_facts(GPT4), default_inputs, 40_000, seed=1)
    total = sim.totals["amortized"][:, 0]
    point = sim.point.total("amortized")[0, 0]
    lo, hi = np.quantile(total, [0.05, 0.95]) / point
    assert 0.2 < lo < 0.8 and 1.3 < hi < 6.0


SCRIPT = """
import hashlib, sys
sys.path.insert(0, {tests!r})
import numpy as np
from factories import GPT4, TPU_MODEL, make_facts
from uncertain_cost.defaults import load_input_defaults
from uncertain_cost.inputs import parse_inputs
from uncertain_cost.engine import simulate
sim = simulate(make_facts(GPT4, TPU_MODEL), parse_inputs(load_input_defaults()), 40000, seed=4)
h = hashlib.sha256()
for m in ("amortized", "cloud", "acquisition"):
    h.update(np.ascontiguousarray(sim.totals[m]).tobytes())
h.update(sim.kept.amortized.tobytes())
import numba
print(numba.get_num_threads(), h.hexdigest())
"""


@pytest.mark.parametrize("threads", [["1", "2"]])
def test_identical_across_thread_counts(threads):
    tests = os.path.dirname(os.path.dirname(__file__))  # the helper modules live in tests/
    out = []
    for t in threads:
        env = {**os.environ, "NUMBA_NUM_THREADS": t}
        res = subprocess.run([sys.executable, "-c", SCRIPT.format(tests=tests)], env=env,
                             capture_output=True, text=True, check=True)
        out.append(res.stdout.split())
    assert out[0][0] == "1" and out[1][0] == "2"
    assert out[0][1] == out[1][1]


@pytest.mark.parametrize("family", ["default", "generic"])
def test_fused_kernel_equals_reference_path(default_inputs, family):
    # the engine's fused draw+transform+cost kernel == reference scores -> transforms -> costs
    from uncertain_cost.costs import costs_numba, fact_arrays
    from uncertain_cost.distributions import Triangular
    from uncertain_cost.sampling.design import draw_values

    inputs = default_inputs
    if family == "generic":
        inputs = inputs.replace("electricity_price", distribution=Triangular(0.6, 1.0, 1.7))
    facts = make_facts(GPT4, TPU_MODEL)
    n = 3000
    sim = simulate(facts, inputs, n, seed=21, keep_draws=n)
    lay = layout(inputs, facts)
    amortized, cloud, acquisition = costs_numba(draw_values(lay, 21, 0, n), lay.column, fact_arrays(facts))
    np.testing.assert_array_equal(sim.kept.amortized, amortized)
    np.testing.assert_array_equal(sim.totals["cloud"], cloud)
    np.testing.assert_array_equal(sim.totals["acquisition"], acquisition)
