"""The 2025 example: today's Epoch snapshot, recent frontier models, June-2025 dollars."""

from pathlib import Path

from uncertain_cost.config import load_config
from uncertain_cost.pipeline import run_config

from epoch_paths import snapshot

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "epoch-2025.toml"


def test_2025_example_costs_recent_models_and_reports_skips():
    folder = snapshot("2025-06")
    config = load_config(EXAMPLE, {"run.draws": 2000, "data.epoch_dir": str(folder), "growth.enabled": False,
                                   "sensitivity.enabled": False, "development.enabled": False, "report.png": False})
    result = run_config(config)
    rows = result.records("summary")[0]
    costed = {(r["model"], r["method"]): r for r in rows}
    for model in ("Llama 3.1-405B", "Grok-3"):
        row = costed[(model, "amortized")]
        assert row["p5_usd"] < row["point_usd"] < row["p95_usd"]
    # Grok-3 (Feb 2025, ~100k H100) must cost more than GPT-4 did
    assert costed[("Grok-3", "amortized")]["point_usd"] > costed[("GPT-4", "amortized")]["point_usd"]
    assert result.provenance["reference_month"] == "2025-06"
    assert result.provenance["data_snapshot"] == "epoch-2025-06"
    skipped = result.records("skipped")[0]
    assert skipped and {"file", "row", "model", "reason"} <= set(skipped[0])
    assert any("dropped" in s["reason"] for s in skipped)
