from datetime import date

import pytest

from uncertain_cost.data import ModelRecord, load_embedded_tables, read_epoch_snapshot
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
    with pytest.raises(ConfigError, match="valid keys: method, top_n, percentile"):
        SelectionRules.from_config({"n": 10})


def test_include_and_exclude():
    t = load_embedded_tables()
    sel = select_frontier(t, SelectionRules(exclude=("GPT-4",), include=("PaLM (540B)",)))
    assert "GPT-4" not in sel.names and len(sel) == 63


# ----------------------------------------------------------------------------------------
# Epoch's own rules as options (issue 12)
# ----------------------------------------------------------------------------------------
def _rec(name, day, flop, base="", rank=float("nan")):
    return ModelRecord(name=name, publication_date=date.fromisoformat(day), training_compute_flop=flop,
                       notability="SOTA improvement", base_model=base, compute_rank=rank)


def test_finetunes_excluded_before_ranking_do_not_push_others_out():
    records = [
        _rec("Base", "2020-01-01", 1e23),
        _rec("Tuned", "2020-02-01", 1.2e23, base="Base"),
        _rec("Other", "2020-03-01", 9e22),
    ]
    ranked = select_frontier(records, SelectionRules(top_n=2))
    assert ranked.names == ("Base", "Tuned")  # the fine-tune takes rank 1, Other is 3rd
    rules = SelectionRules(top_n=2, finetunes="exclude_before_ranking")
    sel = select_frontier(records, rules)
    assert sel.names == ("Base", "Other")
    assert {d.model: d.reason for d in sel.dropped}["Tuned"].startswith("fine-tune, excluded")


def test_mini_fixture_finetune_exclusion():
    tables, _ = read_epoch_snapshot(FIXTURES / "epoch-mini-2025")
    assert select_frontier(tables, SelectionRules(top_n=1)).names == ("Alpha", "Delta", "Zeta")
    sel = select_frontier(tables, SelectionRules(top_n=1, finetunes="exclude_before_ranking"))
    assert sel.names == ("Alpha", "Zeta")


def test_ties_all_or_first_in_table_order():
    records = [
        _rec("Late", "2020-06-01", 1e23),
        _rec("Early", "2020-01-01", 1e23),
        _rec("Twin", "2020-06-01", 1e23),  # same date and compute as Late, later in the table
    ]
    assert select_frontier(records, SelectionRules(top_n=1)).names == ("Early", "Late", "Twin")
    first = select_frontier(records, SelectionRules(top_n=1, ties="first"))
    # at 2020-01-01 only Early exists; at 2020-06-01 nlargest(1, keep="first") keeps the first
    # of the three tied rows in table order, Late
    assert first.names == ("Early", "Late")


def test_compute_rank_method_reads_the_database_column():
    tables, _ = read_epoch_snapshot(FIXTURES / "epoch-mini-2025")
    assert tables.model("Delta").compute_rank == 2
    assert select_frontier(tables, SelectionRules(method="compute_rank", max_rank=1)).names == (
        "Alpha", "Zeta")  # Eta has rank 1 but no notability criteria
    assert select_frontier(tables, SelectionRules(method="compute_rank", max_rank=2)).names == (
        "Alpha", "Beta", "Delta", "Zeta")
    old, _ = read_epoch_snapshot(FIXTURES / "epoch-mini-2024")  # 2024 schema: no such column
    assert select_frontier(old, SelectionRules(method="compute_rank")).names == ()


def test_backward_window_is_strictly_above_over_one_calendar_year():
    records = [
        _rec("X", "2020-01-01", 1e20),
        _rec("Y", "2020-06-01", 1e22),
        _rec("Z", "2021-01-01", 1e21),  # its window starts 2020-01-01 inclusive: X, Y, Z
        _rec("W", "2021-01-02", 1e21),  # window 2020-01-02..: Y, Z, W -> median 1e21
    ]
    rules = SelectionRules(method="backward_window_percentile", percentile=50,
                           start=date(2019, 1, 1))
    # X alone: not strictly above itself; Y above median(1e20, 1e22); Z == median of
    # (1e20, 1e22, 1e21); W == median of (1e22, 1e21, 1e21)
    assert select_frontier(records, rules).names == ("Y",)
    loose = SelectionRules(method="backward_window_percentile", percentile=60, start=date(2019, 1, 1))
    # 40th percentile of (1e20, 1e21, 1e22) is 6.4e20 < 1e21: Z is strictly above it
    assert "Z" in select_frontier(records, loose).names


def test_residual_from_trend_fits_every_date_and_keeps_top_bins():
    bumps = {2012: 1, 2017: 1, 2019: 1, 2025: 1, 2011: -1, 2016: -1, 2020: -1, 2026: -1}
    records = [
        _rec(f"M{y}", f"{y}-01-01", 10 ** (20 + 0.5 * (y - 2010) + bumps.get(y, 0)))
        for y in range(2010, 2030)
    ]
    rules = SelectionRules(method="residual_from_trend", percentile=20)
    # 20 models -> 20 one-model bins; the top 4 are the +1 bumps; the publication window
    # (2015-10-01 .. 2024-01-01) is applied after the cut
    assert select_frontier(records, rules).names == ("M2017", "M2019")
    wide = SelectionRules(method="residual_from_trend", percentile=20, start=date(2000, 1, 1),
                          end=date.max)
    assert select_frontier(records, wide).names == ("M2012", "M2017", "M2019", "M2025")


def test_end_none_means_no_upper_bound():
    r = SelectionRules.from_config({"start": "2015-10-01", "end": "none"})
    assert r.end == date.max
    tables, _ = read_epoch_snapshot(FIXTURES / "epoch-mini-2025")
    assert select_frontier(tables, r).names == select_frontier(
        tables, SelectionRules(end=date(2030, 1, 1))).names


@pytest.mark.parametrize("section,key", [
    ({"finetunes": "drop"}, "selection.finetunes"),
    ({"ties": "last"}, "selection.ties"),
    ({"max_rank": 0}, "selection.max_rank"),
    ({"max_rank": 2.5}, "selection.max_rank"),
    ({"method": "residual_from_trend", "percentile": 12}, "selection.percentile"),
    ({"window_years": float("nan")}, "selection.window_years"),
    ({"percentile": float("nan")}, "selection.percentile"),
])
def test_new_options_errors_name_the_key(section, key):
    with pytest.raises(ConfigError) as exc:
        SelectionRules.from_config(section, source="run.toml")
    assert exc.value.key == key


def test_2024_snapshot_alternative_rules_epoch_definitions():
    # measured with Epoch's definitions (strict '>' over one calendar year back; one trend
    # line over every date, 20 equal-count bins); the running top-n counts are the paper's
    tables, _ = read_epoch_snapshot(snapshot("2024-06"))
    counts = {m: len(select_frontier(tables, SelectionRules(method=m, percentile=p)))
              for m, p in (("backward_window_percentile", 15), ("residual_from_trend", 20))}
    assert counts == {"backward_window_percentile": 70, "residual_from_trend": 65}
