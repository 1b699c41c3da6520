"""Shared test setup: the tests folder on ``sys.path`` and session-scoped runs that several files read.

The shared runs are computed once per session (each costs seconds: the run, then the figures rendered
on first write) and must be treated as read-only by the tests that use them.
"""

import sys
import tomllib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[1]

#: a light job: no PyMC fit, no sensitivity, no development cost, no PNG files (the report still embeds figures)
FAST_TOML = """
[run]
draws = 800
seed = 5

[growth]
bayes = false

[sensitivity]
enabled = false

[development]
enabled = false

[report]
png = false
"""

#: the sensitivity stage at the smallest sizes its settings allow that still give every table and figure
#: (tornado, Sobol with bootstrap intervals), for the amortized cost; value of information has its own tests
LIGHT_SENSITIVITY = {"methods": ["amortized"], "tornado_outer": 8, "tornado_inner": 16, "sobol_base": 16,
                     "bootstrap": 20, "growth_sobol_base": 8, "development_sobol_base": 8,
                     "value_of_information": False}


@pytest.fixture(scope="session")
def default_inputs():
    from uncertain_cost.defaults import load_input_defaults
    from uncertain_cost.inputs import parse_inputs

    return parse_inputs(load_input_defaults(), defaults_source="priors/inputs.toml")


@pytest.fixture(scope="session")
def default_result():
    """``config.toml`` at 1,000 draws, seed 3, without PyMC fits, sensitivity at `LIGHT_SENSITIVITY` (read-only).

    The full job (PyMC fits, the default sensitivity sizes) is the slow suite's
    (``test_run_of_the_config_file_as_the_readme_says``).
    """
    import uncertain_cost as uc

    raw = tomllib.loads((REPO / "config.toml").read_text(encoding="utf-8"))
    raw["growth"] = {"bayes": False}
    raw["sensitivity"] = {**raw.get("sensitivity", {}), **LIGHT_SENSITIVITY}
    return uc.run(raw, draws=1000, seed=3)


@pytest.fixture(scope="session")
def default_run_folder(default_result, tmp_path_factory):
    """`default_result` written by ``RunResult.write`` (read-only)."""
    return default_result.write(tmp_path_factory.mktemp("default-run") / "run")


@pytest.fixture(scope="session")
def fast_config_file(tmp_path_factory):
    """A config file of the light job `FAST_TOML` (read-only)."""
    path = tmp_path_factory.mktemp("fast-config") / "fast.toml"
    path.write_text(FAST_TOML, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def fast_result(fast_config_file):
    """``uc.run`` of `fast_config_file` (read-only)."""
    import uncertain_cost as uc

    return uc.run(fast_config_file)


@pytest.fixture(scope="session")
def fast_run_folder(fast_result, tmp_path_factory):
    """`fast_result` written by ``RunResult.write`` (read-only)."""
    return fast_result.write(tmp_path_factory.mktemp("fast-run") / "run")


@pytest.fixture()
def no_png_rendering(monkeypatch):
    """Figures render as empty bytes for the test's duration: for tests that check tables, provenance or folders.

    ``RunResult.write`` renders every figure to PNG for the report even when ``[report]`` turns off
    PNG files, HTML and Markdown (about a second per run of figures); a test that reads none of
    them need not pay for it. No figure counts as unrendered, so the writer forks no PNG helper and
    nothing enters the PNG cache of a shared result.
    """
    from uncertain_cost.result import RunResult

    monkeypatch.setattr(RunResult, "png", lambda self, name: b"")
    monkeypatch.setattr(RunResult, "unrendered_figures", lambda self: [])
