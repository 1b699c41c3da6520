"""Cold start: a run compiles one cost kernel, the fused Monte Carlo kernel, for draws and value matrices alike."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from uncertain_cost import engine
from uncertain_cost.costs import costs_into, fact_arrays
from uncertain_cost.sampling.design import draw_block, layout

from factories import GPT4, TPU_MODEL, make_facts

SRC = Path(engine.__file__).resolve().parents[1]


def _python(script: str, cache: Path | None, **env: str) -> str:
    """Run ``script`` in a fresh interpreter (numba cache ``cache``, default: the usual one); return its stdout."""
    full = {**os.environ, **({"NUMBA_CACHE_DIR": str(cache)} if cache else {}), **env,
            "PYTHONPATH": os.pathsep.join([str(SRC), str(Path(__file__).resolve().parents[1])])}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          env=full, timeout=600, check=True, cwd=SRC.parent)
    return done.stdout


def test_value_matrices_cost_through_the_fused_kernel_bit_for_bit(default_inputs, monkeypatch):
    facts = make_facts(GPT4, TPU_MODEL)
    engine.simulate(facts, default_inputs, 500, 2, keep_draws=5)  # this process now has the fused kernel
    lay = layout(default_inputs, facts)
    values = draw_block(lay, seed=11, block=0, n_rows=300)
    arrays = fact_arrays(facts)
    n, m = values.shape[0], facts.n_models
    outs = (np.empty((n, m, 4)), np.empty((n, m)), np.empty((n, m)), np.empty((n, m)))
    with monkeypatch.context() as patch:
        patch.setattr(engine, "costs_into", None)  # the fallback would fail: the fused kernel must run
        engine._value_costs(values, lay.column, arrays, 0.19, outs)
    reference = tuple(np.full_like(a, -1.0) for a in outs)
    costs_into(values, lay.column, arrays, 0.19, *reference)  # the reference kernel (costs._kernel)
    for fused, ref in zip(outs, reference, strict=True):
        assert np.array_equal(fused, ref, equal_nan=True)
    assert np.isfinite(outs[1]).all() and (outs[1] > 0).all()


def test_a_run_compiles_only_the_fused_kernel_a_forked_step_only_the_small_one():
    out = _python("""
        from factories import GPT4, TPU_MODEL, make_facts
        from uncertain_cost import costs, engine
        from uncertain_cost.defaults import load_input_defaults
        from uncertain_cost.inputs import parse_inputs

        inputs = parse_inputs(load_input_defaults(), defaults_source="priors/inputs.toml")
        facts = make_facts(GPT4, TPU_MODEL)
        first = engine.scenario_costs(facts, inputs, {}).amortized  # no Monte Carlo yet: costs._kernel
        print(len(engine._fused_kernel.signatures), len(costs._kernel.signatures))
        engine.simulate(facts, inputs, 2000, 3, keep_draws=10)  # point estimates after it: the fused kernel
        print(len(engine._fused_kernel.signatures), len(costs._kernel.signatures))
        print((engine.scenario_costs(facts, inputs, {}).amortized == first).all())
    """, None)  # compiled or loaded from the cache: either way one signature each
    assert out.split() == ["0", "1", "1", "1", "True"]
