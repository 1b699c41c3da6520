"""The estimate verb: a hypothetical run costed by the same rules, with uncertainty."""

from datetime import date

import pytest

from uncertain_cost.cli import main
from uncertain_cost.data.priors import load_embedded_tables
from uncertain_cost.errors import ConfigError
from uncertain_cost.hypothetical import Hypothetical, estimate_run, hypothetical_facts


def test_hypothetical_matches_hand_calculation(default_inputs):
    tables = load_embedded_tables()
    run = Hypothetical("H100", 1000, 30, date(2023, 6, 1), "Meta")
    facts, notes = hypothetical_facts(tables, run, "2023-12")
    assert notes == []
    assert facts.hardware_quantity[0] == 1000 and facts.training_time_hours[0] == 720
    result = estimate_run(tables, default_inputs, run, reference_month="2023-12", draws=2000, seed=1)
    by_method = {r["method"]: r for r in result["rows"]}
    # acquisition = quantity x server price per chip / (1 - f), deflated
    expected = 1000 * facts.server_price_per_chip[0] / 0.81 * facts.deflator[0]
    assert by_method["acquisition"]["point_usd"] == pytest.approx(expected, rel=1e-12)
    for row in result["rows"]:
        assert row["p5_usd"] < row["median_usd"] < row["p95_usd"]


def test_future_run_extrapolates_with_notes(default_inputs):
    tables = load_embedded_tables()
    run = Hypothetical("NVIDIA H100 SXM5 80GB", 100_000, 90, date(2026, 1, 1))
    facts, notes = hypothetical_facts(tables, run, "2023-12")
    assert len(notes) == 2 and "electricity" in notes[0]
    assert facts.deflator[0] == pytest.approx(tables.ppi.value("2023-12") / tables.ppi.values[-1])


def test_bad_estimates():
    with pytest.raises(ConfigError, match="Hypothetical: quantity"):
        Hypothetical("H100", 0, 10, date(2024, 1, 1))
    with pytest.raises(ConfigError, match="unknown accelerator"):
        hypothetical_facts(load_embedded_tables(), Hypothetical("H999", 1, 1, date(2024, 1, 1)), "2023-12")
    assert main(["estimate", "--chip", "H100", "--quantity", "10", "--days", "3", "--start", "2024-13-01"]) == 2


def test_estimate_command_prints_table(capsys):
    assert main(["estimate", "--chip", "A100", "--quantity", "25000", "--days", "95", "--start", "2022-05-12",
                 "--organization", "OpenAI", "--draws", "2000"]) == 0
    out = capsys.readouterr().out
    assert "amortized" in out and "acquisition" in out and "90% interval" in out
