"""Progress: live bars with a percentage on a terminal, plain lines when piped, nothing when quiet."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from uncertain_cost.progress import Progress, format_bar
from uncertain_cost.progress import Progress as PipelineProgress

REPO = Path(__file__).resolve().parents[2]


def test_pipeline_still_exports_progress():
    assert PipelineProgress is Progress


def test_format_bar_percentage_rate_eta():
    line = format_bar("draws", 100_000, 400_000, 2.0)
    assert " 25% " in line and "100,000/400,000" in line and "50.0k/s" in line and "ETA 6s" in line


def test_format_bar_rejects_empty_total():
    with pytest.raises(ValueError, match="total"):
        format_bar("x", 0, 0, 1.0)


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
    assert "\r" in text and "100%" in text and "sampling" in text


def test_piped_plain_lines_and_quiet_silent():
    piped = io.StringIO()
    progress = Progress(stream=piped)
    progress.stage("sampling")
    for done in range(0, 11):
        progress.update("draws", done, 10)
    progress.finished("out/report.html")
    assert "\r" not in piped.getvalue()
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
        return subprocess.run(cmd, capture_output=True, text=True, env=env, check=True, timeout=600).stderr
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
    assert "%" in live and "\r" in live and "draws [" in live
    assert live.strip().splitlines()[-1].startswith("report: ")
    piped = _run(tmp_path, use_pty=False)
    assert "\r" not in piped and "draws [" not in piped
    assert piped.strip().splitlines()[-1].startswith("report: ")
