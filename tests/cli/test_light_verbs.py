"""``estimate`` and ``validate`` import only what they need (issue 24: the first answer near the import floor)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

#: never imported by the light verbs: the Bayesian stack, the result's data model, figures, compiled kernels
HEAVY = ("pymc", "pytensor", "arviz", "xarray", "matplotlib", "pandas", "numba", "uncertain_cost.growth.bayes",
         "uncertain_cost.engine", "uncertain_cost.sensitivity.sobol")

_PROBE = """
import contextlib, io, json, sys
from uncertain_cost.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(sys.argv[1:])
heavy = sorted({m for m in sys.modules for h in HEAVY if m == h or m.startswith(h + ".")})
print(json.dumps({"code": code, "heavy": heavy, "out": out.getvalue()}))
"""


def _probe(*argv: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    code = f"HEAVY = {HEAVY!r}\n" + _PROBE
    res = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, check=True,
                         timeout=300)
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [
    ("estimate", "--chip", "H100", "--quantity", "100000", "--days", "90", "--start", "2026-01-01", "--draws", "2000"),
    ("validate",),
])
def test_light_verbs_do_not_import_the_heavy_stack(argv):
    found = _probe(*argv)
    assert found["code"] == 0
    assert found["heavy"] == []
    word = "amortized" if argv[0] == "estimate" else "frontier models resolved"
    assert word in found["out"]


def test_the_probe_sees_a_heavy_import():
    found = _probe("--version")
    assert found["heavy"] == []
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    code = f"HEAVY = {HEAVY!r}\nimport uncertain_cost.engine\n" + _PROBE
    res = subprocess.run([sys.executable, "-c", code, "priors"], capture_output=True, text=True, env=env, check=True,
                         timeout=300)
    assert "numba" in json.loads(res.stdout.strip().splitlines()[-1])["heavy"]


def _blas_threads_seen(env_extra: dict) -> str:
    """OPENBLAS_NUM_THREADS after the program's start-up in a fresh interpreter ('-' when unset)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS",
                                                             "OMP_NUM_THREADS")}
    env.update(env_extra)
    code = ("import os; from uncertain_cost.cli import _one_blas_thread; _one_blas_thread(); "
            "print(os.environ.get('OPENBLAS_NUM_THREADS', '-'))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_the_program_asks_for_one_blas_thread_unless_the_user_chose():
    assert _blas_threads_seen({}) == "1"
    assert _blas_threads_seen({"OPENBLAS_NUM_THREADS": "4"}) == "4"
    assert _blas_threads_seen({"OMP_NUM_THREADS": "2"}) == "-"  # the user's OpenMP count also rules BLAS
