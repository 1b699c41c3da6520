"""Progress: live bars with a percentage on a terminal, plain lines when piped, nothing when quiet."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from uncertain_cost.pipeline import Progress as PipelineProgress
from uncertain_cost.progress import Progress, current

REPO = Path(__file__).resolve().parents[2]


def test_pipeline_still_exports_progress():
    assert PipelineProgress is Progress


def test_bar_clock_starts_at_the_stage_line():
    """The first report comes after the first chunk: the rate still counts the time before it."""
    stream = io.StringIO()
    progress = Progress(stream=stream, live=True)
    progress.stage("sampling")
    progress._stage_time -= 4.0  # the stage began 4 s ago
    progress.update("draws", 100_000, 400_000)
    bar = progress._bars["draws"]
    assert bar.n == 100_000 and 3.9 < bar.format_dict["elapsed"] < 5.0
    rate = bar.format_dict["n"] / bar.format_dict["elapsed"]
    assert 20_000 < rate < 26_000  # about 100,000 / 4 s, not 100,000 / 0 s
    progress.update("draws", 400_000, 400_000)
    assert "draws" not in progress._bars and "100%" in stream.getvalue()


def test_current_is_the_activated_progress_and_quiet_outside():
    assert current().quiet and not current().live()
    progress = Progress(stream=io.StringIO(), live=True)
    with progress.activate():
        assert current() is progress
        with current().task("fit", 10, "draws") as bar:
            bar.update(10)
    assert current() is not progress and "fit" in progress.stream.getvalue()


def _read_all(master: int) -> str:
    """Everything written to a pty whose other end is closed (the kernel may deliver it in pieces)."""
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the other end is closed and everything was read
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode(errors="replace")


def test_on_a_terminal_a_bar_with_percentage():
    master, slave = pty.openpty()
    try:
        with os.fdopen(slave, "w") as stream:  # closes the terminal end when done
            progress = Progress(stream=stream)
            progress.stage("sampling")
            for done in range(0, 400_001, 100_000):
                progress.update("draws", done, 400_000)
        text = _read_all(master)
    finally:
        os.close(master)
    assert "\r" in text and "100%" in text and "sampling" in text and "400k/400k" in text


def test_piped_plain_lines_and_quiet_silent():
    piped = io.StringIO()
    progress = Progress(stream=piped)
    progress.stage("sampling")
    for done in range(0, 11):
        progress.update("draws", done, 10)
    progress.finished("out/report.html")
    assert "\r" not in piped.getvalue() and "draws" not in piped.getvalue()
    assert piped.getvalue().splitlines()[-1] == "report: out/report.html"
    quiet = io.StringIO()
    progress = Progress(quiet=True, stream=quiet)
    progress.stage("x")
    progress.update("draws", 10, 10)
    progress.finished("r")
    assert quiet.getvalue() == ""


RUN = """
[run]
draws = 400000
keep_draws = 200
seed = 5
[sensitivity]
enabled = false
[growth]
bayes = false
[report]
png = false
"""


def _run(tmp_path, use_pty: bool) -> str:
    config = tmp_path / "c.toml"
    config.write_text(RUN, encoding="utf-8")
    out = tmp_path / ("live" if use_pty else "piped")
    cmd = [sys.executable, "-m", "uncertain_cost", "run", str(config), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    if not use_pty:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True, timeout=600)
        return done.stderr, done.stdout
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    text = _read_all(master)
    proc.wait(timeout=600)
    os.close(master)
    assert proc.returncode == 0
    return text


@pytest.mark.slow
def test_run_400k_draws_under_a_pty_and_piped(tmp_path):
    live = _run(tmp_path, use_pty=True)
    assert "%" in live and "\r" in live and "draws: 100%" in live and "400k/400k" in live
    assert "Traceback" not in live and "Warning" not in live
    piped, stdout = _run(tmp_path, use_pty=False)
    assert "\r" not in piped and "draws:" not in piped and "Warning" not in piped
    lines = stdout.strip().splitlines()
    assert 3 <= len(lines) <= 5 and lines[0].startswith("costliest: ") and lines[-1].startswith("report: ")
