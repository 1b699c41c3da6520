"""estimate in today's dollars: default reference month, --reference-month, table / --json / --csv output."""

from __future__ import annotations

import csv
import io
import json

import pytest

from uncertain_cost.cli import main
from uncertain_cost.data.priors import load_embedded_tables
from uncertain_cost.hypothetical import ESTIMATE_CSV_COLUMNS, check_reference_month, latest_deflator_month

ARGS = ["estimate", "--chip", "H100", "--quantity", "1000", "--days", "30", "--start", "2026-01-01",
        "--draws", "1000", "--seed", "1"]


def test_latest_deflator_month_is_the_last_finite_month():
    tables = load_embedded_tables()
    latest = latest_deflator_month(tables)
    assert latest == max(m for m, v in zip(tables.ppi.months, tables.ppi.values, strict=True) if v == v)
    assert latest > "2023-12"  # later than the paper's reference month
    with pytest.raises(ValueError, match="YYYY-MM"):
        check_reference_month(tables, "2999-01")


def test_default_is_todays_dollars_and_says_so(capsys):
    latest = latest_deflator_month(load_embedded_tables())
    assert main(ARGS) == 0
    out = capsys.readouterr().out
    assert f"USD of {latest}, the latest month of the PPI deflator" in out


def test_json_and_csv_carry_the_chosen_month(capsys):
    assert main([*ARGS, "--json", "--reference-month", "2023-12"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["reference_month"] == "2023-12" and payload["reference_month_source"] == "--reference-month"
    assert main([*ARGS, "--csv", "--reference-month", "2023-12"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert tuple(rows[0]) == ESTIMATE_CSV_COLUMNS
    assert {r["method"] for r in rows} == {p["method"] for p in payload["rows"]}
    by_method = {r["method"]: r for r in rows}
    for p in payload["rows"]:
        assert float(by_method[p["method"]]["median_usd"]) == p["median_usd"]  # same seed, same numbers


def test_bad_reference_month_is_a_one_line_error(capsys):
    assert main([*ARGS, "--reference-month", "2023-13"]) == 2
    err = capsys.readouterr().err
    assert "--reference-month" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
