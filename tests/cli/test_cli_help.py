"""CLI help: every option explained, examples at the end of each command's help, closest-match suggestions."""

from __future__ import annotations

import argparse

import pytest

from uncertain_cost.cli import build_parser, main

COMMANDS = ("run", "validate", "import-epoch", "estimate", "priors")
EST = ["estimate", "--quantity", "1000", "--days", "30", "--start", "2024-01-01", "--draws", "1000", "--seed", "1"]


def _subparsers(parser):
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_every_option_of_every_command_has_help():
    for name, sub in _subparsers(build_parser()).items():
        missing = [a.dest for a in sub._actions if not a.help]
        assert missing == [], f"{name}: {missing}"


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_help_ends_with_examples(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out.rstrip().splitlines()
    start = out.index("examples:")
    examples = out[start + 1:]
    assert 1 <= len(examples) <= 2 and all(f"uncertain_cost {command}" in line for line in examples)


def test_unknown_command_suggests_the_closest(capsys):
    assert main(["rn"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'run'?" in err and len(err.strip().splitlines()) == 1


def test_unknown_chip_suggests_the_closest(capsys):
    assert main([*EST, "--chip", "H1000"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: estimate: chip: unknown accelerator 'H1000'; did you mean 'NVIDIA H100")
    assert "TPU" not in err and len(err.splitlines()) == 1


def test_estimate_prints_units_and_assumptions(capsys):
    assert main([*EST, "--chip", "H100"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["method", "point", "(USD)", "median", "(USD)", "90%", "interval", "(USD)"]
    assumed = [line for line in out if line.startswith("assumed: ")]
    assert len(assumed) == 3
    assert "NVIDIA H100 SXM5, 720,000 chip-hours" in assumed[0]  # 1000 chips x 30 days x 24 h
    assert "per chip-hour (3-year committed use)" in assumed[1] and "/kWh" in assumed[1]
    assert "seed 1" in assumed[2]


@pytest.mark.filterwarnings("default::uncertain_cost.UncertainCostWarning")
@pytest.mark.parametrize("quiet", [False, True])
def test_run_says_package_warnings_as_notes_and_ends_with_the_answer(quiet, tmp_path, monkeypatch, capsys):
    import warnings

    import uncertain_cost.pipeline as pipeline
    from report_fixtures import make_artifacts
    from uncertain_cost.errors import UncertainCostWarning

    def fake_run(config, progress):
        warnings.warn("no compute components for 'OPT-175B'", UncertainCostWarning, stacklevel=1)
        warnings.warn("the default will change", FutureWarning, stacklevel=1)
        return make_artifacts().result(png=False)

    monkeypatch.setattr(pipeline, "run_config", fake_run)
    out = tmp_path / "run"
    assert main(["run", "--out", str(out), "--draws", "1000"] + (["--quiet"] if quiet else [])) == 0
    captured = capsys.readouterr()
    assert "note: no compute components for 'OPT-175B'" in captured.err.splitlines()
    assert "Warning" not in captured.err and ".py:" not in captured.err  # no raw warning, no source path
    if quiet:
        assert captured.out == "" and captured.err.strip().count("\n") == 0
    else:
        lines = captured.out.splitlines()
        assert lines[0].startswith("costliest: Model 5") and lines[-1] == f"report: {out / 'report.html'}"
