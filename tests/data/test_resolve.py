import math
from dataclasses import replace

import numpy as np
import pytest

from uncertain_cost.data import load_embedded_tables, read_epoch_snapshot, resolve_facts
from uncertain_cost.data.facts import (
    CHIP_HOURS_IMPUTED,
    CHIP_HOURS_NONE,
    CHIP_HOURS_QUANTITY_TIME,
    CHIP_HOURS_REPORTED,
    PUE_HYPERSCALER,
    PUE_OTHER,
)
from uncertain_cost.data.selection import select_frontier
from uncertain_cost.data.tables import ModelRecord
from uncertain_cost.errors import ConfigError

from epoch_paths import FIXTURES, snapshot


@pytest.fixture(scope="module")
def tables():
    return load_embedded_tables()


def _row(facts, name):
    return facts.names.index(name)


def test_gpt4_facts(tables):
    f, skipped = resolve_facts(tables, ["GPT-4"])
    assert skipped == []
    assert f.chips == ("NVIDIA A100 SXM4 40 GB",)
    assert f.chip_hours_path[0] == CHIP_HOURS_REPORTED
    assert f.server_price_per_chip[0] == 24875.0 and not f.price_is_bare_chip[0]
    assert f.server_overhead[0] == 1.66
    assert f.extra["training_start"][0] == np.datetime64("2022-05-12")  # 2022-08-15 - 95 d
    assert f.extra["acquisition_date"][0] == np.datetime64("2020-08-12")  # release + 90 d
    assert f.depreciation_years[0] == pytest.approx(638 / 365.25)
    assert f.tdp_kw[0] == 0.4 and f.server_power_ratio[0] == pytest.approx(6.5 / 8 / 0.4)
    assert f.electricity_usd_per_kwh[0] == 0.0806
    assert f.pue_class[0] == PUE_OTHER  # OpenAI is not a hyperscaler
    assert f.cloud_price_per_chip_hour[0] == 1.36
    assert f.extra["cloud_vendor"] == ("Microsoft Azure",)
    assert f.deflator[0] == pytest.approx(
        tables.ppi.value("2023-12") / tables.ppi.value("2023-03")
    )
    assert f.publication_year[0] == pytest.approx(2023 + 2 / 12 + 14 / 365)
    assert f.snapshot == "epoch-2024-06"


def test_gemini_tpu_rules(tables):
    f, _ = resolve_facts(tables, ["Gemini 1.0 Ultra"])
    assert bool(f.chip_is_tpu[0])
    assert f.server_price_per_chip[0] == pytest.approx(5167 * 1.64)
    assert f.price_is_bare_chip[0]
    assert f.tdp_kw[0] == pytest.approx(0.373)
    assert f.server_power_ratio[0] == 1.56
    assert f.extra["avg_power_fraction"][0] == 0.43
    assert f.pue_class[0] == PUE_HYPERSCALER
    assert f.extra["training_start"][0] == np.datetime64("2023-05-10")
    assert f.extra["acquisition_date"][0] == np.datetime64("2021-05-20")  # TPU: release date
    assert f.extra["cloud_vendor"] == ("Google Cloud",)


def test_gpt3_date_override_and_v100_price(tables):
    f, _ = resolve_facts(tables, ["GPT-3 175B (davinci)"])
    assert f.extra["training_start"][0] == np.datetime64("2019-10-01")
    assert f.server_price_per_chip[0] == 17250.0  # DGX Station V100, 2017
    assert f.server_power_ratio[0] == pytest.approx(((10 / 16) / 0.3 + (1.5 / 4) / 0.3) / 2)


def test_bare_chip_price_times_overhead(tables):
    f, _ = resolve_facts(tables, ["GNMT", "MoE", "DeepSpeech2 (English)"])
    assert f.server_price_per_chip[_row(f, "GNMT")] == pytest.approx(5000 * 1.64)
    assert f.server_price_per_chip[_row(f, "MoE")] == pytest.approx(5400 * 1.64)
    assert f.server_price_per_chip[_row(f, "DeepSpeech2 (English)")] == pytest.approx(999 * 1.64)
    assert f.price_is_bare_chip.all()


def test_chip_hour_paths(tables):
    f, _ = resolve_facts(tables, ["GPT-4", "MoE", "PaLM 2", "Claude 2"])
    assert f.chip_hours_path[_row(f, "GPT-4")] == CHIP_HOURS_REPORTED
    assert f.chip_hours_path[_row(f, "MoE")] == CHIP_HOURS_QUANTITY_TIME
    assert f.chip_hours_path[_row(f, "PaLM 2")] == CHIP_HOURS_IMPUTED
    assert f.peak_flops[_row(f, "PaLM 2")] == 275e12  # TPU v4: FP16 (TPUs only)
    assert f.chip_hours_path[_row(f, "Claude 2")] == CHIP_HOURS_NONE


def test_tpu_v1_uses_int8(tables):
    f, _ = resolve_facts(tables, ["AlphaGo Zero"])
    assert f.peak_flops[0] == 92e12


def test_several_hardware_types_are_not_costable(tables):
    f, skipped = resolve_facts(tables, ["Chinchilla"])
    assert f.chip_index[0] == -1 and math.isnan(f.server_price_per_chip[0])
    assert {s.reason.split(":")[0] for s in skipped} == {"amortized", "cloud", "acquisition"}
    assert "several hardware types" in skipped[0].reason


def test_cloud_discount_conversion(tables):
    f, _ = resolve_facts(tables, ["Inflection-2", "BigGAN-deep 512x512"])
    # Lambda Labs on-demand $3.49 -> 3-year: * (1 - 0.56) / (1 - 0)
    assert f.cloud_price_per_chip_hour[_row(f, "Inflection-2")] == pytest.approx(3.49 * 0.44)
    # Google on-demand $2.00 (only price before 2018-07) -> * (1 - 0.56)
    assert f.cloud_price_per_chip_hour[_row(f, "BigGAN-deep 512x512")] == pytest.approx(0.88)


def test_finetunes_drop_and_add_base(tables):
    sel = select_frontier(tables)
    f2, skipped = resolve_facts(tables, sel, finetunes="drop")
    assert "Minerva (540B)" not in f2.names and f2.n_models == 60
    assert sum("dropped (v2 rules)" in s.reason for s in skipped) == 4
    f1, _ = resolve_facts(tables, sel, finetunes="add_base")
    assert f1.n_models == 64
    i = _row(f1, "Minerva (540B)")
    assert f1.names[f1.base_index[i]] == "PaLM (540B)"
    assert (f1.base_index >= 0).sum() == 4
    assert f1.base_index[_row(f1, "GPT-4")] == -1


def test_base_row_added_when_not_selected(tables):
    f, _ = resolve_facts(tables, ["Minerva (540B)"], finetunes="add_base")
    assert f.names == ("PaLM (540B)", "Minerva (540B)")
    assert list(f.is_frontier) == [False, True]
    assert f.base_index[1] == 0


def test_unknown_models_and_bad_options(tables):
    f, skipped = resolve_facts(tables, ["GPT-4", "No Such Model"])
    assert f.names == ("GPT-4",)
    assert skipped[0].model == "No Such Model"
    with pytest.raises(ConfigError, match="finetunes"):
        resolve_facts(tables, ["GPT-4"], finetunes="keep")
    with pytest.raises(ConfigError, match="reference_month"):
        resolve_facts(tables, ["GPT-4"], reference_month="1990-01")
    with pytest.raises(ConfigError, match="reference_month"):
        resolve_facts(tables, ["GPT-4"], reference_month="Dec 2023")


def test_reference_month_rescales_deflator(tables):
    a, _ = resolve_facts(tables, ["GPT-4"], reference_month="2023-12")
    b, _ = resolve_facts(tables, ["GPT-4"], reference_month="2020-01")
    ratio = tables.ppi.value("2020-01") / tables.ppi.value("2023-12")
    assert b.deflator[0] == pytest.approx(a.deflator[0] * ratio)


def test_hardware_spellings_meet_the_same_chip_and_price(tables):
    base = tables.model("Inflection-2")
    recs = [replace(base, name=f"m{i}", hardware=(h,)) for i, h in enumerate(
        ("NVIDIA H100 SXM5 80GB", "NVIDIA H100 SXM5", "H100"))]
    f, _ = resolve_facts(replace(tables, models=tables.models + tuple(recs)), recs)
    assert f.chips == ("NVIDIA H100 SXM5",)
    assert len(set(f.server_price_per_chip)) == 1 and f.server_price_per_chip[0] == 44489.88
    assert len(set(f.cloud_price_per_chip_hour)) == 1


def test_unknown_hardware_is_reported_not_guessed(tables):
    rec = ModelRecord(name="X", publication_date=tables.model("GPT-4").publication_date,
                      hardware=("Quantum Abacus 3000",), hardware_quantity=10.0,
                      training_time_hours=5.0)
    f, skipped = resolve_facts(replace(tables, models=(rec,)), ["X"])
    assert f.chip_index[0] == -1 and f.chip_hours_path[0] == CHIP_HOURS_QUANTITY_TIME
    assert any("unknown hardware 'Quantum Abacus 3000'" in s.reason for s in skipped)


def test_mini_fixture_resolves():
    t, _ = read_epoch_snapshot(FIXTURES / "epoch-mini-2025")
    f, skipped = resolve_facts(t, select_frontier(t), finetunes="add_base")
    z = _row(f, "Zeta")
    assert f.chips[f.chip_index[z]] == "NVIDIA H100 SXM5 80GB"
    assert f.server_price_per_chip[z] == 44489.88
    assert f.cloud_price_per_chip_hour[z] == pytest.approx(3.49 * 0.44)
    assert f.pue_class[z] == PUE_HYPERSCALER  # Meta
    assert f.base_index[_row(f, "Delta")] == _row(f, "Alpha")


def test_import_2024_equals_embedded_priors(tables):
    imported, _ = read_epoch_snapshot(snapshot("2024-06"))
    for mode in ("add_base", "drop"):
        a, _ = resolve_facts(tables, select_frontier(tables), finetunes=mode)
        b, _ = resolve_facts(imported, select_frontier(imported), finetunes=mode)
        assert a.names == b.names and a.chips == b.chips
        for key in ("server_price_per_chip", "cloud_price_per_chip_hour", "depreciation_years",
                    "tdp_kw", "server_power_ratio", "deflator", "peak_flops",
                    "reported_chip_hours", "hardware_quantity", "training_time_hours"):
            np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)
        np.testing.assert_array_equal(a.chip_hours_path, b.chip_hours_path)
        np.testing.assert_array_equal(a.base_index, b.base_index)


# Epoch AI's own later results on later data (training-cost-trends/model_costs.csv,
# hardware-capex-energy / cloud / acquisition columns, Apache-2.0 repository). Their
# deflation month differs from ours, so compare ratios: for GPU models whose inputs did
# not change, every cost must differ from theirs by one common factor.
EPOCH_MODEL_COSTS = {
    "GPT-4": (40695706.40406813, 78562016.88093337, 778066898.6709992),
    "Llama 3.1-405B": (51040524.06093853, 169828008.27813357, 896044948.8696929),
    "Nemotron-4 340B": (20528977.873844925, 65529675.51362376, 336631911.2524489),
    "Falcon-180B": (10368712.429676345, 25885511.45892119, 126906267.74605912),
}


def test_2025_snapshot_agrees_with_epoch_model_costs():
    from paper_point_costs import costs

    t, _ = read_epoch_snapshot(snapshot("2025-06"))
    f, _ = resolve_facts(t, list(EPOCH_MODEL_COSTS), reference_month="2025-06")
    c = costs(f)
    ratios = [
        c[method][f.names.index(name)] / ref[k]
        for name, ref in EPOCH_MODEL_COSTS.items()
        for k, method in enumerate(("amortized", "cloud", "acquisition"))
    ]
    assert max(ratios) / min(ratios) == pytest.approx(1.0, abs=0.005)
