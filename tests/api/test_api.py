"""The Python API: uc.run -> RunResult (DataTree, summary DataFrame, write), uc.estimate."""

import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import uncertain_cost as uc

REPO = Path(__file__).resolve().parents[2]
FAST = {"growth": {"bayes": False}, "sensitivity": {"enabled": False}, "development": {"enabled": False}}


@pytest.fixture(scope="module")
def result():
    """The default job at 1,000 draws, the growth stage without its PyMC fits (those are the slow test's)."""
    import tomllib

    raw = tomllib.loads((REPO / "config.toml").read_text(encoding="utf-8"))
    raw["growth"] = {"bayes": False}
    return uc.run(raw, draws=1000, seed=3)


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


def test_write_makes_the_cli_run_folder(result, tmp_path):
    folder = result.write(tmp_path / "run")
    names = {p.name for p in folder.iterdir()}
    assert {"summary.csv", "summary.json", "results.nc", "growth.csv", "report.md", "report.html",
            "provenance.json", "skipped.csv"} <= names
    back = xr.open_datatree(folder / "results.nc")
    assert "tables" not in back.children and "figure_data" not in back.children


def test_uc_write_writes_what_result_write_writes(result, tmp_path):
    a, b = uc.write(result, tmp_path / "a"), result.write(tmp_path / "b")
    names = sorted(p.name for p in a.iterdir() if p.name != "timing.json")
    assert names == sorted(p.name for p in b.iterdir() if p.name != "timing.json") and "summary.csv" in names
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_api_and_cli_write_identical_tables(tmp_path):
    from uncertain_cost.cli import main

    config = tmp_path / "c.toml"
    config.write_text('[run]\ndraws = 800\nseed = 5\n[growth]\nbayes = false\n[sensitivity]\nenabled = false\n'
                      '[development]\nenabled = false\n[report]\npng = false\n')
    assert main(["run", str(config), "--out", str(tmp_path / "cli"), "--quiet"]) == 0
    uc.run(config).write(tmp_path / "api")
    for name in ("summary.csv", "summary.json", "growth.csv", "skipped.csv", "provenance.json"):
        assert (tmp_path / "cli" / name).read_bytes() == (tmp_path / "api" / name).read_bytes(), name


def test_results_nc_interval_follows_credible_level(tmp_path):
    """Before the fix results.nc lo/hi were always the 90 % interval while summary.csv used run.credible_level."""
    result = uc.run({"run": {"draws": 1000, "credible_level": 0.5}, **FAST})
    costs = result.group("costs")
    summary = result.summary()
    row = summary[(summary.model == "GPT-4") & (summary.method == "amortized")].iloc[0]
    lo = float(costs["lo"].sel(model="GPT-4", cost_method="amortized"))
    assert lo == row.lo_usd and costs.attrs["credible_level"] == 0.5
    assert row.p5_usd < lo < row.median_usd


def test_png_false_writes_and_links_no_png_file(tmp_path):
    """Before the fix report.md linked PNG files that [report] png = false did not write."""
    result = uc.run({"run": {"draws": 500}, "report": {"png": False}, **FAST})
    assert "](" not in result.report().replace("](#", "")
    folder = result.write(tmp_path / "run")
    assert not list(folder.glob("*.png"))
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
