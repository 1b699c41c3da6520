"""Missing hardware as a distribution over candidate chips (off by default)."""

import numpy as np
import pytest

from uncertain_cost.config import parse_config
from uncertain_cost.data import load_embedded_tables, resolve_facts
from uncertain_cost.data.facts import alternative_groups
from uncertain_cost.data.impute import HardwareImputation, resolve_with_imputation
from uncertain_cost.data.selection import select_frontier
from uncertain_cost.engine import point_costs, simulate
from uncertain_cost.errors import ConfigError


@pytest.fixture(scope="module")
def imputed():
    tables = load_embedded_tables()
    selection = select_frontier(tables)
    facts, _ = resolve_facts(tables, selection)
    out, notes = resolve_with_imputation(tables, selection, facts, HardwareImputation(True, 1.0))
    return facts, out, notes


def test_off_by_default_changes_nothing():
    tables = load_embedded_tables()
    selection = select_frontier(tables)
    facts, _ = resolve_facts(tables, selection)
    same, notes = resolve_with_imputation(tables, selection, facts, HardwareImputation())
    assert same is facts and notes == []


def test_every_frontier_model_gets_an_amortized_cost(imputed, default_inputs):
    before, after, notes = imputed
    assert int(after.is_frontier.sum()) == int(before.is_frontier.sum()) == 60
    point = point_costs(after, default_inputs).total("amortized")[0]
    assert int(np.isfinite(point[after.is_frontier]).sum()) == 60
    assert len(notes) == 19
    chinchilla = next(n for n in notes if n.startswith("Chinchilla"))
    assert "Google TPU v4 50%" in chinchilla and "Google TPU v3 50%" in chinchilla
    for _, rows, cumulative in alternative_groups(after):
        assert cumulative[-1] == pytest.approx(1.0)
        assert not after.is_frontier[rows].any()


def test_draws_pick_candidates_with_their_weights(imputed, default_inputs):
    _, facts, _ = imputed
    model, rows, cumulative = next(g for g in alternative_groups(facts) if facts.names[g[0]] == "Chinchilla")
    sim = simulate(facts, default_inputs, 20_000, seed=3)
    total = sim.totals["amortized"]
    own = total[:, model]
    candidates = total[:, rows]
    matches = np.isclose(own[:, None], candidates, rtol=1e-12)
    assert matches.any(axis=1).all()  # every draw is the cost of one candidate in that draw
    frequency = matches.argmax(axis=1)
    shares = np.bincount(frequency, minlength=len(rows)) / len(own)
    np.testing.assert_allclose(shares, np.diff(cumulative, prepend=0.0), atol=0.015)
    again = simulate(facts, default_inputs, 20_000, seed=3, chunk_blocks=1)
    np.testing.assert_array_equal(again.totals["amortized"], total)


def test_config_keys_validated():
    with pytest.raises(ConfigError, match="data.impute_window_years"):
        parse_config({"data": {"impute_window_years": 0}})
    assert parse_config({"data": {"impute_hardware": True}}).data.impute_hardware
