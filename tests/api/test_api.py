"""The Python API: uc.run -> RunResult (DataTree, summary DataFrame, write), uc.estimate."""

import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import uncertain_cost as uc

REPO = Path(__file__).resolve().parents[2]
FAST = {"growth": {"bayes": False}, "sensitivity": {"enabled": False}, "development": {"enabled": False}}


@pytest.fixture()
def result(default_result):
    """The default job at 1,000 draws, the growth stage without its PyMC fits (those are the slow test's).

    One run per session (tests/conftest.py), shared read-only with the other files that read it.
    """
    return default_result


def _check_tree_and_summary(result, tables):
    assert isinstance(result.tree, xr.DataTree)
    assert result.provenance["seed"] == 3 and result.provenance["n_draws"] == 1000
    summary = result.summary()
    gpt4 = summary[(summary.model == "GPT-4") & (summary.method == "amortized")].iloc[0]
    assert round(gpt4.point_usd / 1e6, 2) == 40.59
    assert list(summary.columns)[:3] == ["model", "method", "publication_date"]
    assert set(tables) <= set(result.table_names())
    assert "costs" in result.tree.children


def test_run_gives_a_tree_and_a_summary(result):
    _check_tree_and_summary(result, {"summary", "skipped", "growth", "tornado", "sobol", "devcost"})


@pytest.mark.slow
def test_run_of_the_config_file_as_the_readme_says():
    full = uc.run(REPO / "config.toml", draws=1000, seed=3)
    _check_tree_and_summary(full, {"summary", "skipped", "growth", "forecast", "tornado", "sobol", "devcost"})
    assert "posterior" in full.tree.children


def test_write_makes_the_cli_run_folder(default_run_folder):
    folder = default_run_folder  # default_result.write(...), once per session
    names = {p.name for p in folder.iterdir()}
    assert {"summary.csv", "summary.json", "results.nc", "growth.csv", "report.md", "report.html",
            "provenance.json", "skipped.csv"} <= names
    back = xr.open_datatree(folder / "results.nc")
    assert "tables" not in back.children and "figure_data" not in back.children


def test_uc_write_writes_what_result_write_writes(result, default_run_folder, tmp_path):
    a, b = uc.write(result, tmp_path / "a"), default_run_folder  # b: result.write(...)
    names = sorted(p.name for p in a.iterdir() if p.name != "timing.json")
    assert names == sorted(p.name for p in b.iterdir() if p.name != "timing.json") and "summary.csv" in names
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_api_and_cli_write_identical_tables(fast_config_file, fast_run_folder, tmp_path, no_png_rendering):
    from uncertain_cost.cli import main

    # fast_config_file: 800 draws, seed 5, no PyMC fit, sensitivity, development or PNG files;
    # fast_run_folder: uc.run(fast_config_file).write(...), once per session
    assert main(["run", str(fast_config_file), "--out", str(tmp_path / "cli"), "--quiet"]) == 0
    for name in ("summary.csv", "summary.json", "growth.csv", "skipped.csv", "provenance.json"):
        assert (tmp_path / "cli" / name).read_bytes() == (fast_run_folder / name).read_bytes(), name


def test_results_nc_interval_follows_credible_level(tmp_path):
    """Before the fix results.nc lo/hi were always the 90 % interval while summary.csv used run.credible_level."""
    result = uc.run({"run": {"draws": 1000, "credible_level": 0.5}, **FAST})
    costs = result.group("costs")
    summary = result.summary()
    row = summary[(summary.model == "GPT-4") & (summary.method == "amortized")].iloc[0]
    lo = float(costs["lo"].sel(model="GPT-4", cost_method="amortized"))
    assert lo == row.lo_usd and costs.attrs["credible_level"] == 0.5
    assert row.p5_usd < lo < row.median_usd


def test_png_false_writes_and_links_no_png_file(fast_result, fast_run_folder):
    """Before the fix report.md linked PNG files that [report] png = false did not write."""
    result, folder = fast_result, fast_run_folder  # [report] png = false; shared with the test above
    assert result.config.section("report")["png"] is False
    assert "](" not in result.report().replace("](#", "")
    assert not list(folder.glob("*.png")) and (folder / "report.html").is_file()
    sources = re.findall(r'<img[^>]*src="([^"]*)"', result.report(html=True))
    assert sources and all(s.startswith("data:image/") for s in sources)


def test_estimate_summary_has_the_three_methods():
    est = uc.estimate(chip="H100", quantity=1000, days=30, start="2025-01-01", draws=2000, seed=1)
    table = est.summary()
    assert list(table.method) == ["amortized", "cloud", "acquisition"]
    assert np.all(table.p5_usd < table.p95_usd)
    from uncertain_cost.data.priors import load_embedded_tables
    from uncertain_cost.hypothetical import latest_deflator_month

    assert est.reference_month == latest_deflator_month(load_embedded_tables())  # today's dollars by default


def test_bad_config_fails_before_work():
    with pytest.raises(uc.ConfigError, match="growth.draws"):
        uc.run({"growth": {"draws": "many"}})
