"""The built wheel carries the priors and runs from anywhere, without the repository."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRIORS = sorted(p.name for p in (REPO / "priors").glob("*.toml"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"pip could not build the wheel here: {done.stderr.strip().splitlines()[-1:]}")
    return next(out.glob("uncertain_cost-*.whl"))


def test_wheel_contains_priors_license_and_types(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"uncertain_cost/priors/{p}" for p in PRIORS} <= names
    assert "uncertain_cost/py.typed" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)


@pytest.mark.slow  # ~20 s: a fresh virtual environment installs the wheel and runs it (.ci/run runs -m slow)
def test_installed_wheel_runs_from_another_folder(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True)
    config = tmp_path / "job.toml"
    config.write_text('[run]\ndraws = 500\n[growth]\nbayes = false\n[sensitivity]\nenabled = false\n'
                      '[development]\nenabled = false\n[report]\npng = false\n')
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("UNCERTAIN_COST_PRIORS", None)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run([sys.executable, "-c", "import uncertain_cost.defaults as d; print(d.priors_dir())"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(target)
    done = subprocess.run([sys.executable, "-m", "uncertain_cost", "run", str(config), "--out", "out", "--quiet"],
                          cwd=elsewhere, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (elsewhere / "out" / "summary.csv").is_file()
    helped = subprocess.run([sys.executable, "-m", "uncertain_cost", "validate"], cwd=elsewhere, env=env,
                            capture_output=True, text=True)
    assert helped.returncode == 0 and "is valid" in helped.stdout


def test_wheel_ships_the_examples_and_example_config_reads_them(wheel, tmp_path):
    examples = sorted(p.name for p in (REPO / "examples").glob("*.toml"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"uncertain_cost/examples/{e}" for e in examples} <= names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = ("import uncertain_cost as uc; c = uc.example_config('paper-v1'); "
            "print(c.path); print(c.run.draws); print(len(uc.example_names()))")
    done = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    path, draws, count = done.stdout.split()
    assert Path(path).is_relative_to(target) and Path(path).name == "paper-v1.toml"
    assert int(draws) > 0 and int(count) == len(examples)
