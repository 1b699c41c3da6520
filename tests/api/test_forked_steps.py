"""Steps computed in a forked child beside the growth fits give the run the in-place steps give, byte for byte."""

import math

import pytest

from uncertain_cost import forking, pipeline
from uncertain_cost.config import parse_config

SMALL = {
    "run": {"draws": 2000, "keep_draws": 500, "seed": 11},
    "growth": {"bayes": False},
    "sensitivity": {"models": ["GPT-4"], "methods": ["amortized"], "tornado_outer": 8, "tornado_inner": 16,
                    "sobol_base": 16, "bootstrap": 20, "growth_sobol_base": 8, "development_sobol_base": 8,
                    "value_of_information": False},
}


def _same(value):
    return "nan" if isinstance(value, float) and math.isnan(value) else value  # nan == nan for the comparison


def _tables(result):
    return {name: ([{k: _same(v) for k, v in row.items()} for row in rows], columns)
            for name, (rows, columns) in ((n, result.records(n)) for n in result.table_names())}


@pytest.fixture(scope="module")
def in_place():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(forking, "fork_allowed", lambda: False)
        return pipeline.run_config(parse_config(SMALL))


def test_forked_steps_equal_the_steps_run_in_place(in_place):
    if not (forking.fork_allowed() and forking._threading_layer_fork_safe()):
        pytest.skip("forking not allowed here (one core, not Linux, or GNU OpenMP in use)")
    calls = []
    result = forking.ForkedCall.result

    def spy(self):
        forked = self.forked
        out = result(self)
        calls.append((forked, self.from_child))
        return out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(forking.ForkedCall, "result", spy)
        forked = pipeline.run_config(parse_config(SMALL))
    # the development cost, tornado and Sobol ran in a child, and its result (figures too) came back
    assert calls == [(True, True)]
    assert {"tornado", "sobol", "devcost", "summary"} <= set(forked.table_names())
    assert _tables(forked) == _tables(in_place)
    assert list(forked.figures) == list(in_place.figures)
    # PNGs the child rendered in its spare time (and those rendered here from the figures it sent back)
    # are the bytes of figures rendered in place
    assert {name: forked.png(name) for name in forked.figures} == {name: in_place.png(name)
                                                                   for name in in_place.figures}
    assert forked.notes == in_place.notes
    for group in ("sensitivity", "development", "costs"):
        assert forked.tree[group].to_dataset().identical(in_place.tree[group].to_dataset())
