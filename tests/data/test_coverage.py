"""Reference data checked like user data: deflator coverage, and no model lost without a report."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from uncertain_cost.cli import main
from uncertain_cost.config import load_config, parse_config
from uncertain_cost.data.coverage import check_deflator, skip_methods, unreported_losses
from uncertain_cost.data.epoch import import_epoch, read_epoch_snapshot
from uncertain_cost.data.load import load_facts
from uncertain_cost.data.priors import load_embedded_tables, write_tables
from uncertain_cost.data.tables import PriceIndex, SkipEntry, month_ranges
from uncertain_cost.errors import DataError
from uncertain_cost.pipeline import run_config
from uncertain_cost.units import METHODS

from epoch_paths import FIXTURES, snapshot
from factories import GPT4, TPU_MODEL, make_facts

REPO = Path(__file__).resolve().parents[2]
#: a run with only the Monte Carlo and its tables (no growth, sensitivity, development, figures)
FAST = {"run": {"draws": 400, "keep_draws": 100, "seed": 3}, "growth": {"enabled": False},
        "sensitivity": {"enabled": False}, "development": {"models": []},
        "report": {"png": False, "html": False, "markdown": False}}


def _without_years(ppi: PriceIndex, years: range) -> PriceIndex:
    keep = [(m, v) for m, v in zip(ppi.months, ppi.values, strict=True) if int(m[:4]) not in years]
    return replace(ppi, months=tuple(m for m, _ in keep), values=tuple(v for _, v in keep))


@pytest.fixture()
def gap_tables(tmp_path) -> Path:
    """The embedded tables written as a table folder, with 2020-2022 removed from the deflator."""
    tables = load_embedded_tables()
    folder = tmp_path / "tables"
    write_tables(replace(tables, ppi=_without_years(tables.ppi, range(2020, 2023))), folder)
    return folder


def test_month_ranges_collapse_consecutive_months():
    assert month_ranges(["2021-07", "2020-02", "2020-01", "2020-03", "2019-12"]) == ("2019-12..2020-03", "2021-07")
    assert month_ranges([]) == ()
    ppi = PriceIndex("x", ("2019-01", "2019-02", "2019-05", "2019-09"), (1.0, 2.0, 3.0, 4.0))
    assert ppi.gaps() == ("2019-03..2019-04", "2019-06..2019-08")


def test_check_deflator_names_file_months_and_models():
    ppi = PriceIndex("PCU", ("2019-12", "2023-01"), (1.0, 2.0), file="/data/PCU518210518210.csv")
    needs = {"2020-05": ["GPT-3"], "2020-06": ["X"], "2022-04": ["PaLM"], "2023-01": ["GPT-4"]}
    with pytest.raises(DataError) as err:
        check_deflator(ppi, needs)
    message = str(err.value)
    assert message.startswith("/data/PCU518210518210.csv: no deflator value for 2020-05..2020-06, 2022-04 ")
    assert "(needed by GPT-3, X, PaLM)" in message and "GPT-4" not in message
    check_deflator(ppi, {"2023-01": ["GPT-4"]})  # covered: no error
    check_deflator(ppi, {"2019-11": ["old"], "2023-02": ["newer than the index"]})  # outside the span: skipped later


def test_check_deflator_bounds_the_line():
    ppi = PriceIndex("PCU", ("2000-01", "2099-01"), (1.0, 2.0), file="ppi.toml")
    needs = {f"{2001 + i:04d}-01": [f"model {i}"] for i in range(40)}
    with pytest.raises(DataError) as err:
        check_deflator(ppi, needs)
    assert "and 32 more" in str(err.value) and "and 34 more" in str(err.value)
    assert len(str(err.value)) < 400


def test_deflator_gap_stops_the_run_before_sampling(gap_tables):
    config = parse_config({**FAST, "data": {"tables_dir": str(gap_tables)}})
    with pytest.raises(DataError) as err:
        load_facts(config)
    message = str(err.value)
    assert message.startswith(f"{gap_tables / 'ppi.toml'}: no deflator value for 2020-")
    assert message.endswith("; the series has 2000-12..2024-04 with no value in 2020-01..2022-12")
    for name in ("GPT-3 175B (davinci)", "PaLM (540B)"):
        assert name in message or "more" in message
    assert "\n" not in message


def test_deflator_gap_cli_exit_2_one_line_nothing_written(gap_tables, tmp_path, capsys):
    config = tmp_path / "gap.toml"
    config.write_text(f'[run]\ndraws = 400\n[data]\ntables_dir = "{gap_tables}"\n', encoding="utf-8")
    out = tmp_path / "run"
    assert main(["run", str(config), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ppi.toml: no deflator value for 2020-" in err
    assert not out.exists()


def _gap_snapshot(tmp_path: Path, years: tuple[str, ...]) -> Path:
    folder = tmp_path / "snap"
    shutil.copytree(FIXTURES / "epoch-mini-2024", folder)
    rows = [f"{year}-{month:02d}-01,{100 + year - 2015 + month / 12:.3f}\n"
            for year in range(2015, 2025) for month in range(1, 13)]
    (folder / "PCU518210518210.csv").write_text(
        "DATE,PCU518210518210\n" + "".join(r for r in rows if not r.startswith(years)), encoding="utf-8")
    return folder


def test_estimate_start_inside_a_gap_is_an_error(tmp_path, capsys):
    folder = _gap_snapshot(tmp_path, ("2021",))
    config = tmp_path / "c.toml"
    config.write_text(f'[data]\nepoch_dir = "{folder}"\n', encoding="utf-8")
    code = main(["estimate", "--chip", "NVIDIA A100", "--quantity", "1000", "--days", "30",
                 "--start", "2021-02-01", "--config", str(config), "--draws", "200"])
    captured = capsys.readouterr()
    assert code == 2, captured
    assert "PCU518210518210.csv: no deflator value for 2021-05 (needed by 1,000 x NVIDIA A100" in captured.err
    assert captured.err.count("\n") == 1 and captured.out == ""


def test_import_epoch_reports_deflator_gaps(tmp_path, capsys):
    folder = _gap_snapshot(tmp_path, ("2021",))
    _, report = read_epoch_snapshot(folder)
    assert report.ppi_gaps == ("2021-01..2021-12",)
    assert "PPI deflator gaps" in report.summary() and "2021-01..2021-12" in report.summary()
    assert main(["import-epoch", str(folder), "--out", str(tmp_path / "imp")]) == 0
    assert "2021-01..2021-12" in capsys.readouterr().out
    _, full = read_epoch_snapshot(_gap_snapshot(tmp_path / "full", ("none",)))
    assert full.ppi_gaps == () and "gaps" not in full.summary()
    assert import_epoch(folder, tmp_path / "imp").ppi_gaps == report.ppi_gaps


def test_unreported_losses_adds_the_missing_pairs_with_a_reason():
    no_price = {**TPU_MODEL, "name": "no price", "price": float("nan"), "cloud": float("nan")}
    facts = make_facts(GPT4, TPU_MODEL, no_price)
    costed = [("GPT-4", "amortized"), ("GPT-4", "acquisition"), ("TPU model", "amortized"),
              ("TPU model", "cloud")]
    skipped = [SkipEntry("f.csv", 3, "GPT-4", "cloud: no cloud price")]
    lost = unreported_losses(facts, costed, skipped, METHODS)
    got = {(e.model, e.reason) for e in lost}
    assert got == {("TPU model", "acquisition: no hardware quantity"),
                   ("no price", "amortized: no purchase price"), ("no price", "cloud: no cloud price"),
                   ("no price", "acquisition: no hardware quantity")}
    assert skip_methods(SkipEntry("", 0, "m", "fine-tune of 'x' dropped"), METHODS) == METHODS


def _check_every_selected_model_accounted(config) -> dict[str, int]:
    """Costed + skipped == selected, disjoint, for every method; return the costed counts."""
    _, _, selection = load_facts(config, rules=config.stages.selection)
    result = run_config(config)
    summary = result.records("summary")[0]
    skipped = [SkipEntry(r["file"], r["row"], r["model"], r["reason"]) for r in result.records("skipped")[0]]
    selected = set(selection.names)
    counts = {}
    for method in METHODS:
        costed = {r["model"] for r in summary if r["method"] == method}
        reported = {s.model for s in skipped if s.model in selected and method in skip_methods(s, METHODS)}
        assert costed <= selected
        assert not costed & reported, (method, costed & reported)
        assert costed | reported == selected, (method, selected - costed - reported)
        counts[method] = len(costed)
    return counts


def test_default_config_accounts_for_every_selected_model():
    counts = _check_every_selected_model_accounted(parse_config(FAST))
    assert counts == {"amortized": 41, "cloud": 36, "acquisition": 33}


@pytest.mark.parametrize("name, month", [("2024-06", "2023-12"), ("2025-06", "2025-06")])
def test_epoch_snapshot_accounts_for_every_selected_model(name, month):
    folder = snapshot(name)
    config = parse_config({**FAST, "run": {**FAST["run"], "reference_month": month},
                           "data": {"epoch_dir": str(folder)},
                           "selection": {"method": "top_n", "top_n": 10, "start": "2015-10-01", "end": "2025-07-01"}})
    counts = _check_every_selected_model_accounted(config)
    assert counts["amortized"] > 30


def test_epoch_model_costs_example_accounts_for_every_selected_model():
    """Hardware imputation (this example) removed the imputed models' skip entries, so their
    acquisition cost (no hardware quantity) was lost silently; Epoch's rules add cloud skips."""
    folder = snapshot("2025-06")
    fast = {f"{section}.{key}": value for section, keys in FAST.items() for key, value in keys.items()}
    config = load_config(REPO / "examples" / "epoch-model-costs.toml",
                         {**fast, "run.reference_month": "2024-12", "data.epoch_dir": str(folder)})
    counts = _check_every_selected_model_accounted(config)
    assert counts["amortized"] > counts["acquisition"]
