"""examples/epoch-model-costs.toml: Epoch's mid-2025 pipeline on the 2025-06 snapshot."""

from pathlib import Path

import numpy as np

from uncertain_cost.config import load_config
from uncertain_cost.data.load import load_facts
from uncertain_cost.data.selection import SelectionRules
from uncertain_cost.engine import point_costs

from epoch_paths import snapshot

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "epoch-model-costs.toml"


def test_example_parses_to_epochs_rules():
    config = load_config(EXAMPLE)
    rules = SelectionRules.from_config(config.section("selection"), config.source)
    assert (rules.finetunes, rules.ties, rules.top_n) == ("exclude_before_ranking", "first", 10)
    assert rules.end.year == 9999
    assert config.data.impute_hardware == "most_common_of_year"
    assert config.data.impute_multi_hardware is False
    assert config.run.reference_month == "2024-12" and config.run.finetunes == "drop"


def test_example_on_the_2025_snapshot_selects_89_and_costs_82():
    config = load_config(EXAMPLE, {"data.epoch_dir": str(snapshot("2025-06"))})
    facts, skipped, selection = load_facts(config)
    assert len(selection) == 89
    frontier = np.asarray(facts.is_frontier)
    amortized = point_costs(facts, config.inputs).total("amortized")[0]
    assert int(np.sum(frontier & np.isfinite(amortized))) == 82
    # every frontier model without a cost is explained in the skip report
    uncosted = {facts.names[i] for i in np.flatnonzero(frontier & ~np.isfinite(amortized))}
    explained = {s.model for s in skipped if s.reason.startswith("amortized:")}
    assert uncosted <= explained
