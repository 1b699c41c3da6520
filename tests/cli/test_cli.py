"""The command line as a user meets it: outputs, reproducibility, one-line errors."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from uncertain_cost.cli import main

REPO = Path(__file__).resolve().parents[2]

SMALL = """
[run]
draws = 3000
keep_draws = 500
seed = 7

[sensitivity]
models = ["GPT-4"]   # one target model (the default has two): its tornado and Sobol files are the smoke test's
methods = ["amortized"]
tornado_outer = 8    # the smallest sizes that still give every table and figure
tornado_inner = 16
sobol_base = 16
growth_sobol_base = 8
development_sobol_base = 8
bootstrap = 20
value_of_information = false

[growth]
bayes = false   # the PyMC fit has its own (slow) tests
"""


@pytest.fixture(scope="module")
def small_config(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "small.toml"
    path.write_text(SMALL, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run_folder(small_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "small"
    assert main(["run", str(small_config), "--out", str(out), "--quiet"]) == 0
    return out


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_run_writes_the_promised_files(run_folder):
    names = {p.name for p in run_folder.iterdir()}
    for required in ("summary.csv", "summary.json", "results.nc", "provenance.json", "skipped.csv",
                     "tornado.csv", "sobol.csv", "devcost.csv", "devcost.png", "tornado_gpt_4_amortized.png",
                     "growth.csv", "report.md", "report.html", "cost_vs_year_amortized.png"):
        assert required in names
    rows = _rows(run_folder / "summary.csv")
    assert {"model", "method", "point_usd", "median_usd", "mean_usd", "p5_usd", "p95_usd"} <= set(rows[0])
    assert {r["method"] for r in rows} == {"amortized", "cloud", "acquisition"}
    gpt4 = {r["method"]: float(r["point_usd"]) for r in rows if r["model"] == "GPT-4"}
    assert gpt4["amortized"] == pytest.approx(40.6e6, rel=0.005)
    for r in rows:
        assert float(r["p5_usd"]) <= float(r["median_usd"]) <= float(r["p95_usd"])
    assert not [p for p in run_folder.parent.iterdir() if ".partial-" in p.name]


def test_provenance_everywhere(run_folder, small_config):
    import xarray as xr

    prov = json.loads((run_folder / "provenance.json").read_text())
    assert prov["seed"] == 7 and len(prov["config_sha256"]) == 64
    assert prov["package_version"] and prov["data_snapshot"] and prov["reference_month"] == "2023-12"
    summary = json.loads((run_folder / "summary.json").read_text())
    from uncertain_cost.writer import RUN_FOLDER_MARKER

    assert prov.pop(RUN_FOLDER_MARKER) == 1  # provenance.json alone marks the folder as a run folder
    assert sorted(prov.pop("manifest")) == sorted(p.name for p in run_folder.iterdir())
    assert summary["provenance"] == prov
    tree = xr.open_datatree(run_folder / "results.nc", engine="h5netcdf")
    assert tree.attrs["seed"] == 7 and tree.attrs["config_sha256"] == prov["config_sha256"]
    costs = tree["costs"].to_dataset()
    assert costs["cost"].dims == ("draw", "model", "cost_method")
    assert float(costs["point"].sel(model="GPT-4", cost_method="amortized")) == pytest.approx(40.6e6, rel=0.005)
    assert costs["amortized_component"].sizes["component"] == 4
    assert costs.sizes["draw"] == 500


@pytest.mark.slow  # ~20 s: two CLI runs in subprocesses (.ci/run runs -m slow)
def test_same_seed_identical_summary_across_threads(small_config, tmp_path):
    outs = []
    for threads in ("1", "2"):
        out = tmp_path / f"t{threads}"
        env = {**os.environ, "NUMBA_NUM_THREADS": threads}
        subprocess.run([sys.executable, "-m", "uncertain_cost", "run", str(small_config), "--out", str(out),
                        "--quiet"], env=env, check=True, cwd=tmp_path)
        outs.append(out)
    names = sorted(p.name for p in outs[0].glob("*.csv"))
    assert {"summary.csv", "growth.csv", "tornado.csv", "sobol.csv", "devcost.csv"} <= set(names)
    assert names == sorted(p.name for p in outs[1].glob("*.csv"))
    for name in names:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


@pytest.mark.slow  # ~12 s: a second full CLI run (.ci/run runs -m slow)
def test_seed_changes_draws(small_config, tmp_path, run_folder):
    out = tmp_path / "other"
    assert main(["run", str(small_config), "--out", str(out), "--seed", "8", "--quiet"]) == 0
    assert (out / "summary.csv").read_bytes() != (run_folder / "summary.csv").read_bytes()


@pytest.mark.parametrize(
    "text, words",
    [
        ("[run]\ndraws = -5\n", "run.draws: must be >= 1"),
        ("[inputs.gpu_price]\nci90 = [2.0, 0.5]\n", "inputs.gpu_price.ci90: interval must have low < high"),
        ("[inputs.gpu_prise]\nci90 = [0.5, 2.0]\n", "inputs.gpu_prise: unknown input; valid inputs:"),
        ("[selection]\ntop = 3\n", "selection.top: unknown key"),
        ("[sensitivity]\nsobol_base = 100\n", "sensitivity.sobol_base: must be a power of two"),
        ("[run]\nseed = 'x'\n", "run.seed: expected an integer"),
    ],
)
def test_bad_config_one_line_error_nothing_written(tmp_path, text, words, capsys, monkeypatch):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    argv = ["run", str(cfg), "--out", str(out)]
    if words.startswith("run.draws"):  # one case as a user meets it: a fresh process (~1 s each)
        res = subprocess.run([sys.executable, "-m", "uncertain_cost", *argv], capture_output=True, text=True,
                             cwd=tmp_path)
        code, stderr = res.returncode, res.stderr
    else:  # the others through the same entry point in this process
        monkeypatch.chdir(tmp_path)
        code, stderr = main(argv), capsys.readouterr().err
    assert code == 2
    lines = stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and len(lines) == 1, stderr
    assert str(cfg) in lines[0] and words in lines[0]
    assert "Traceback" not in stderr
    assert not out.exists() and not list(tmp_path.glob(".out.partial-*"))


def test_missing_config_file(tmp_path):
    res = subprocess.run([sys.executable, "-m", "uncertain_cost", "run", str(tmp_path / "none.toml")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 2 and "file not found" in res.stderr and "Traceback" not in res.stderr


def test_failed_run_keeps_previous_folder(fast_config_file, tmp_path, monkeypatch, no_png_rendering):
    # fast_config_file (tests/conftest.py): a light job; the failure is in the writer, after any stage
    out = tmp_path / "keep"
    out.mkdir()
    (out / "summary.csv").write_text("old", encoding="utf-8")
    (out / "provenance.json").write_text('{"uncertain_cost_run_folder": 1}', encoding="utf-8")
    import uncertain_cost.writer as report

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "netcdf_bytes", boom)
    with pytest.raises(RuntimeError):
        main(["run", str(fast_config_file), "--out", str(out), "--quiet"])
    assert (out / "summary.csv").read_text() == "old"
    assert not list(tmp_path.glob(".keep.partial-*"))


def test_validate_and_priors_commands(capsys):
    assert main(["validate", str(REPO / "config.toml")]) == 0
    text = capsys.readouterr().out
    assert "depreciation_rate" in text and "60 frontier models" in text
    assert main(["priors"]) == 0
    assert "inputs.toml" in capsys.readouterr().out
