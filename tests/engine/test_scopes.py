"""Scopes follow the evidence: per-chip draws keyed by price record, peak FLOP/s per model."""

import numpy as np

from uncertain_cost.config import parse_config
from uncertain_cost.costs import P
from uncertain_cost.data.load import load_facts
from uncertain_cost.sampling.design import layout

A100S = ("NVIDIA A100", "NVIDIA A100 SXM4 40 GB", "NVIDIA A100 SXM4 80 GB")


def _price_columns(config):
    facts, _, _ = load_facts(config)
    lay = layout(config.inputs, facts)
    chip = {name: facts.chips[c] for name, c in zip(facts.names, facts.chip_index, strict=True) if c >= 0}
    return facts, lay, {m: int(lay.column[P["price"], facts.names.index(m)]) for m in chip}, chip


def test_a100_variants_share_one_price_draw_by_default():
    config = parse_config({})
    facts, lay, cols, chip = _price_columns(config)
    a100 = {cols[m] for m in cols if chip[m] in A100S}
    assert len({chip[m] for m in cols if chip[m] in A100S}) == 3  # all three variants are in the data
    assert len(a100) == 1  # ... and read one column: the DGX A100 price record
    h100 = {cols[m] for m in cols if chip[m] == "NVIDIA H100 SXM5"}
    assert h100 and h100.isdisjoint(a100)
    # peak FLOP/s is per model: one column per model
    peak = lay.column[P["peak"]]
    assert len(np.unique(peak)) == facts.n_models


def test_chip_key_chip_gives_every_chip_name_its_own_draw():
    config = parse_config({"inputs": {"gpu_price": {"chip_key": "chip"}}})
    _, lay, cols, chip = _price_columns(config)
    assert len({cols[m] for m in cols if chip[m] in A100S}) == 3
    names = lay.column_names[config.inputs.names.index("gpu_price")]
    assert set(A100S) <= set(names)
