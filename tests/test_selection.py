from datetime import date

import pytest

from uncertain_cost.data import load_embedded_tables, read_epoch_snapshot
from uncertain_cost.data.selection import (
    SelectionRules,
    decimal_year,
    select_frontier,
)
from uncertain_cost.errors import ConfigError

from epoch_paths import FIXTURES, snapshot

# The paper's 64 frontier models: running top-10 of the 2024-06 Epoch snapshot, published
# 2015-10-01..2024-01-01 (Cottier et al. 2024; Epoch AI data, CC-BY 4.0). Epoch's own
# data/frontier_systems_by_top_n.json (a later data version) holds these 64 plus one.
PAPER_FRONTIER = (
    "DeepSpeech2 (English)", "ResNet-152 (ImageNet)", "AlphaGo Lee", "GNMT", "Xception",
    "NASv3 (CIFAR-10)", "PolyNet", "AlphaGo Master", "Libratus", "MoE", "JFT",
    "OpenAI TI7 DOTA 1v1", "AlphaGo Zero", "AlphaZero", "ResNeXt-101 32x48d", "FTW",
    "BigGAN-deep 512x512", "GPT-2 (1.5B)", "XLNet", "RoBERTa Large", "Megatron-BERT",
    "Megatron-LM (8.3B)", "T5-11B", "AlphaStar", "OpenAI Five", "OpenAI Five Rerun", "Meena",
    "Turing-NLG", "GPT-3 175B (davinci)", "iGPT-XL", "mT5-XXL", "DALL-E", "Switch",
    "Meta Pseudo Labels", "ProtT5-XXL", "ByT5-XXL", "GOAT", "HyperCLOVA 82B",
    "Megatron-Turing NLG 530B", "Yuan 1.0", "Gopher (280B)", "GLaM", "ERNIE 3.0 Titan",
    "AlphaCode", "LaMDA", "ST-MoE", "Chinchilla", "PaLM (540B)", "OPT-175B", "Parti",
    "Minerva (540B)", "GLM-130B", "BlenderBot 3", "Flan-PaLM 540B", "U-PaLM (540B)",
    "BLOOM-176B", "GPT-3.5 (text-davinci-003)", "GPT-4", "PaLM 2", "Claude 2", "Falcon-180B",
    "Grok-1", "Inflection-2", "Gemini 1.0 Ultra",
)


def test_decimal_year():
    assert decimal_year(date(2023, 3, 15)) == pytest.approx(2023 + 2 / 12 + 14 / 365)


def test_embedded_priors_select_the_paper_set():
    sel = select_frontier(load_embedded_tables())
    assert len(sel) == 64
    assert set(sel.names) == set(PAPER_FRONTIER)
    assert sel.rank_at_publication["GPT-4"] == 1


def test_2024_snapshot_running_top10_is_the_paper_set():
    tables, _ = read_epoch_snapshot(snapshot("2024-06"))
    sel = select_frontier(tables, SelectionRules())
    assert len(sel) == 64
    assert set(sel.names) == set(PAPER_FRONTIER)
    # publication order
    dates = [tables.model(n).publication_date for n in sel.names]
    assert dates == sorted(dates)
    reasons = {d.reason for d in sel.dropped}
    assert reasons <= {"no publication date", "no notability criteria", "no training compute"}
    assert len(sel.dropped) > 1000


def test_2024_snapshot_alternative_selections_nest():
    tables, _ = read_epoch_snapshot(snapshot("2024-06"))
    sizes = {}
    previous: set[str] = set()
    for n in (3, 5, 10, 20):
        names = set(select_frontier(tables, SelectionRules(top_n=n)).names)
        assert previous <= names
        previous = names
        sizes[n] = len(names)
    assert sizes[3] < sizes[5] < sizes[10] == 64 < sizes[20]
    for method, pct in (("window_percentile", 20), ("backward_window_percentile", 15),
                        ("residual_from_trend", 20)):
        sel = select_frontier(tables, SelectionRules(method=method, percentile=pct))
        assert 30 < len(sel) < 200, method
        assert "GPT-4" in sel.names and "Gemini 1.0 Ultra" in sel.names


def test_mini_fixture_selection_drops_rows_as_the_paper():
    tables, _ = read_epoch_snapshot(FIXTURES / "epoch-mini-2024")
    sel = select_frontier(tables, SelectionRules(top_n=1))
    dropped = {d.model: d.reason for d in sel.dropped}
    assert dropped["Epsilon"] == "no publication date"
    assert dropped["Eta"] == "no notability criteria"
    # Alpha 1e23, Beta 3e21, Gamma 5e22, Delta 1.1e23, Zeta 2e24
    assert sel.names == ("Alpha", "Delta", "Zeta")
    assert len(select_frontier(tables, SelectionRules(top_n=2))) == 5


def test_from_config_defaults_and_values():
    r = SelectionRules.from_config({})
    assert r == SelectionRules()
    r = SelectionRules.from_config(
        {"method": "backward_window_percentile", "start": "2016-01-01", "end": date(2025, 7, 1),
         "exclude": ["GPT-4"]}
    )
    assert r.percentile == 15.0 and r.start == date(2016, 1, 1) and r.exclude == ("GPT-4",)
    assert SelectionRules.from_config({"method": "window_percentile"}).percentile == 20.0


@pytest.mark.parametrize("section,key", [
    ({"topn": 10}, "selection.topn"),
    ({"method": "best"}, "selection.method"),
    ({"top_n": "10"}, "selection.top_n"),
    ({"top_n": 0}, "selection.top_n"),
    ({"percentile": 120}, "selection.percentile"),
    ({"start": "yesterday"}, "selection.start"),
    ({"start": "2024-01-01", "end": "2020-01-01"}, "selection.end"),
    ({"include": "GPT-4"}, "selection.include"),
    ({"require_notability": 1}, "selection.require_notability"),
])
def test_from_config_errors_name_the_key(section, key):
    with pytest.raises(ConfigError) as exc:
        SelectionRules.from_config(section, source="run.toml")
    assert exc.value.key == key
    assert str(exc.value).startswith("run.toml: ")


def test_unknown_key_lists_valid_keys():
    with pytest.raises(ConfigError, match="valid keys are: method, top_n, percentile"):
        SelectionRules.from_config({"n": 10})


def test_include_and_exclude():
    t = load_embedded_tables()
    sel = select_frontier(t, SelectionRules(exclude=("GPT-4",), include=("PaLM (540B)",)))
    assert "GPT-4" not in sel.names and len(sel) == 63
