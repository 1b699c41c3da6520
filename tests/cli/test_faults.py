"""Faults while writing a run folder: SIGKILL/SIGTERM mid-write, concurrent runs, a full or read-only disk."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from uncertain_cost.cli import main
from uncertain_cost.writer import is_run_folder

REPO = Path(__file__).resolve().parents[2]

TINY = """
[run]
draws = 2000
keep_draws = 200
seed = 11

[sensitivity]
enabled = false

[growth]
enabled = false

[development]
models = []

[report]
png = false
html = false
"""

#: a run whose netCDF writer pauses (after writing) until a "go" file appears
PAUSING_RUN = """
import pathlib, sys, time
import uncertain_cost.writer as writer
flag, go = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
real = writer.netcdf_bytes
def pausing(*args, **kwargs):
    out = real(*args, **kwargs)
    flag.write_text("writing", encoding="utf-8")
    while not go.exists():
        time.sleep(0.05)
    return out
writer.netcdf_bytes = pausing
from uncertain_cost.cli import main
raise SystemExit(main(sys.argv[3:]))
"""


@pytest.fixture()
def tiny(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO / "src")}


def _start_pausing_run(tmp_path: Path, config: Path, out: Path) -> tuple[subprocess.Popen, Path]:
    flag, go = tmp_path / "flag", tmp_path / "go"
    proc = subprocess.Popen(
        [sys.executable, "-c", PAUSING_RUN, str(flag), str(go), "run", str(config), "--out", str(out), "--quiet"],
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while not flag.exists():
        if proc.poll() is not None:
            raise AssertionError(f"run ended before writing: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("run did not reach the writer within 120 s")
        time.sleep(0.05)
    return proc, go


def _hidden(folder: Path, name: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}."))


def _previous_run(config: Path, out: Path, capsys) -> bytes:
    assert main(["run", str(config), "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    return (out / "summary.csv").read_bytes()


@pytest.mark.slow  # ~8 s: three CLI runs in subprocesses (.ci/run runs -m slow)
def test_concurrent_run_refused_then_sigkill_keeps_previous_run_and_next_run_cleans_up(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    before = _previous_run(tiny, out, capsys)
    proc, _ = _start_pausing_run(tmp_path, tiny, out)
    try:
        # a second run into the same folder while the first is writing: refused at once
        assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and "another uncertain_cost run" in lines[0]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.communicate()
    assert (out / "summary.csv").read_bytes() == before and is_run_folder(out)
    assert any(n.startswith(".out.partial-") for n in _hidden(tmp_path, "out"))  # the crash's leftover
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 0  # the lock died with its owner
    assert _hidden(tmp_path, "out") == []
    assert (out / "summary.csv").read_bytes() == before  # same seed, same bytes


@pytest.mark.slow
def test_sigterm_during_write_removes_its_partial_folder(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    before = _previous_run(tiny, out, capsys)
    proc, _ = _start_pausing_run(tmp_path, tiny, out)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143 and err.strip() == "terminated" and "Traceback" not in err
    assert (out / "summary.csv").read_bytes() == before
    assert _hidden(tmp_path, "out") == []


@pytest.mark.slow
def test_two_concurrent_processes_one_refused(tiny, tmp_path):
    out = tmp_path / "out"
    first, go = _start_pausing_run(tmp_path, tiny, out)
    try:
        second = subprocess.run([sys.executable, "-m", "uncertain_cost", "run", str(tiny), "--out", str(out),
                                 "--quiet"], env=_env(), capture_output=True, text=True, timeout=120)
    finally:
        go.write_text("go", encoding="utf-8")
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    lines = second.stderr.strip().splitlines()
    assert second.returncode == 2 and len(lines) == 1 and "another uncertain_cost run" in lines[0], second.stderr
    assert is_run_folder(out) and (out / "summary.csv").exists()
    assert _hidden(tmp_path, "out") == []


@pytest.mark.filterwarnings("default::uncertain_cost.UncertainCostWarning")  # the kept-folder note
def test_force_replaces_a_user_folder_only_when_asked(tiny, tmp_path, capsys, no_png_rendering):
    user = tmp_path / "mine"
    user.mkdir()
    (user / "notes.txt").write_text("x", encoding="utf-8")
    assert main(["run", str(tiny), "--out", str(user), "--quiet"]) == 2
    assert (user / "notes.txt").exists()
    assert main(["run", str(tiny), "--out", str(user), "--quiet", "--force"]) == 0
    assert is_run_folder(user) and not (user / "notes.txt").exists()
    assert (tmp_path / "mine.before-force-1" / "notes.txt").read_text(encoding="utf-8") == "x"  # never deleted
    assert "kept as" in capsys.readouterr().err
    assert _hidden(tmp_path, "mine") == []


@pytest.mark.slow  # ~6 s: four CLI runs (.ci/run runs -m slow); the fast tests below check the same rules per call
@pytest.mark.filterwarnings("default::uncertain_cost.UncertainCostWarning")  # the kept-folder note
def test_rerun_into_a_run_folder_with_a_user_file_is_refused_unless_forced(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    before = _previous_run(tiny, out, capsys)
    manifest = json.loads((out / "provenance.json").read_text(encoding="utf-8"))["manifest"]
    assert sorted(manifest) == sorted(p.name for p in out.iterdir())  # every file the run wrote, nothing else
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 0  # only its own files: replaced
    (out / "my analysis.ipynb").write_text("mine", encoding="utf-8")
    (out / "figures").mkdir()
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "also holds files it did not write (figures/, my analysis.ipynb)" in lines[0]
    assert "--force" in lines[0]
    assert (out / "my analysis.ipynb").read_text(encoding="utf-8") == "mine"
    assert (out / "summary.csv").read_bytes() == before
    assert main(["run", str(tiny), "--out", str(out), "--quiet", "--force"]) == 0
    assert is_run_folder(out) and not (out / "my analysis.ipynb").exists()
    kept = tmp_path / "out.before-force-1"
    assert (kept / "my analysis.ipynb").read_text(encoding="utf-8") == "mine"  # the user's file survives --force
    assert (kept / "figures").is_dir()
    assert _hidden(tmp_path, "out") == []
    capsys.readouterr()


def test_run_folder_without_manifest_holds_only_run_files_or_is_refused(tmp_path):
    from uncertain_cost.errors import OutputError
    from uncertain_cost.writer import RUN_FOLDER_MARKER, check_destination, foreign_entries, run_folder_manifest

    old = tmp_path / "old"
    old.mkdir()
    (old / "provenance.json").write_text(f'{{"{RUN_FOLDER_MARKER}": 1}}', encoding="utf-8")
    (old / "summary.csv").write_text("x", encoding="utf-8")
    assert run_folder_manifest(old) == {"provenance.json", "summary.csv"}
    check_destination(old)
    (old / "notes.txt").write_text("mine", encoding="utf-8")
    assert foreign_entries(old, run_folder_manifest(old)) == ["notes.txt"]
    with pytest.raises(OutputError, match=r"did not write \(notes.txt\)"):
        check_destination(old)
    check_destination(old, force=True)
    (old / "plots").mkdir()
    assert foreign_entries(old, run_folder_manifest(old)) == ["notes.txt", "plots/"]  # summary.csv is the run's
    (old / "plots").rmdir()
    (old / "provenance.json").write_text(f'{{"{RUN_FOLDER_MARKER}": 1, "manifest": ["provenance.json", "sub/a.csv"]}}',
                                         encoding="utf-8")
    (old / "sub").mkdir()
    (old / "sub" / "a.csv").write_text("x", encoding="utf-8")
    (old / "sub" / "b.txt").write_text("x", encoding="utf-8")
    assert foreign_entries(old, run_folder_manifest(old)) == ["notes.txt", "sub/b.txt", "summary.csv"]
    (old / "link").symlink_to(old / "notes.txt")
    assert "link" in foreign_entries(old, run_folder_manifest(old))


def test_folder_lost_mid_swap_is_restored(tmp_path):
    from uncertain_cost.writer import RUN_FOLDER_MARKER, OutputLock

    old = tmp_path / ".out.old-abc123"
    old.mkdir()
    (old / "provenance.json").write_text(f'{{"{RUN_FOLDER_MARKER}": 1}}', encoding="utf-8")
    (tmp_path / ".out.partial-zz").mkdir()
    with OutputLock(tmp_path / "out"):
        pass
    assert is_run_folder(tmp_path / "out") and _hidden(tmp_path, "out") == []


@pytest.fixture()
def small_tmpfs(tmp_path):
    mount = shutil.which("mount")
    point = tmp_path / "disk"
    point.mkdir()
    if mount is None or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    res = subprocess.run([mount, "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(point)], capture_output=True,
                         text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", str(point)], capture_output=True)


def test_full_disk_is_one_line_exit_1_and_keeps_previous_run(tiny, small_tmpfs, capsys):
    out = small_tmpfs / "out"
    out.mkdir()
    (out / "provenance.json").write_text('{"uncertain_cost_run_folder": 1}', encoding="utf-8")
    (out / "summary.csv").write_text("previous", encoding="utf-8")
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0] and "previous content is unchanged" in lines[0]
    assert (out / "summary.csv").read_text(encoding="utf-8") == "previous"
    assert sorted(p.name for p in small_tmpfs.iterdir()) == ["out"]


def test_read_only_place_is_refused_before_any_work(tiny, small_tmpfs, capsys, monkeypatch):
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    import uncertain_cost.pipeline as pipeline

    def never(*args, **kwargs):
        raise AssertionError("the pipeline ran although --out is not writable")

    monkeypatch.setattr(pipeline, "run_config", never)
    assert main(["run", str(tiny), "--out", str(small_tmpfs / "out"), "--quiet"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "Read-only file system" in lines[0]


def test_caches_fall_back_when_home_is_unwritable(tmp_path):
    from uncertain_cost.caches import setup_caches

    blocker = tmp_path / "home-is-a-file"
    blocker.write_text("", encoding="utf-8")
    env = {"HOME": str(blocker)}
    changed = setup_caches(env)
    assert {"XDG_CACHE_HOME", "MPLCONFIGDIR", "PYTENSOR_FLAGS"} <= set(changed)
    assert all(Path(v.split("=", 1)[-1]).is_dir() for v in changed.values())
    user_set = {"HOME": str(blocker), "MPLCONFIGDIR": "/mine", "XDG_CACHE_HOME": "/also-mine"}
    assert "MPLCONFIGDIR" not in setup_caches(user_set) and user_set["MPLCONFIGDIR"] == "/mine"
    assert setup_caches({"HOME": str(tmp_path)}) == {}  # writable defaults: nothing changes


def test_wall_clock_stamps_leave_results_nc(tmp_path):
    import numpy as np
    import xarray as xr

    from uncertain_cost.writer import split_timing, write_netcdf

    def groups(stamp: str, seconds: float) -> dict:
        stats = xr.Dataset({"diverging": ("draw", np.zeros(3, dtype=bool)),
                            "perf_counter_diff": ("draw", np.full(3, seconds)),
                            "perf_counter_start": ("draw", np.arange(3.0) + seconds)},
                           attrs={"created_at": stamp, "tuning_steps": 20})
        posterior = xr.Dataset({"x": ("draw", np.arange(3.0))}, attrs={"created_at": stamp, "sampling_time": seconds})
        return {"posterior": posterior, "sample_stats": stats}

    paths = []
    for i, (stamp, seconds) in enumerate((("2026-01-01T00:00:00", 0.5), ("2026-06-30T12:34:56", 7.25))):
        clean, timing = split_timing(groups(stamp, seconds))
        assert timing["posterior"] == {"created_at": stamp, "sampling_time": seconds}
        assert timing["sample_stats"]["perf_counter_diff_total_s"] == 3 * seconds
        assert set(clean["sample_stats"].data_vars) == {"diverging"}
        assert clean["sample_stats"].attrs == {"tuning_steps": 20}
        paths.append(tmp_path / f"r{i}.nc")
        write_netcdf(paths[-1], clean, {"seed": 1})
    assert paths[0].read_bytes() == paths[1].read_bytes()
