"""``python -m benchmarks [--quick]``: every benchmark, human-readable tables, then one JSON line.

The last line of output is a JSON object with at least ``mc_ratio_to_bound``,
``speedup_vs_numpy``, ``speedup_vs_loop``, ``growth_speedup``, ``default_run_s``,
``estimate_s`` and ``peak_rss_mb_1m_draws``. Wall times of CLI verbs are measured in fresh
subprocesses (warm: each is run once first so numba and PyTensor caches are filled).

Times a user waits for are also stated as ratios to the floor this stack sets, measured in the
same run: ``import_floor_s`` (a fresh process importing numpy, scipy, numba, pymc and arviz) and
``numpy_numba_floor_s`` (numpy and numba only, the floor of ``estimate``), giving
``default_run_over_floor`` (warm caches), ``cold_run_over_floor`` (fresh numba, PyTensor and
matplotlib cache folders), ``quick_run_over_floor`` (``run --quick``) and ``estimate_over_floor``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MEMORY_SCRIPT = """
import resource, sys
from uncertain_cost.config import load_config
from uncertain_cost.data.load import load_facts
from uncertain_cost.engine import simulate
from uncertain_cost.results import Provenance, cost_dataset, summary_records
cfg = load_config(sys.argv[1])
facts, _, _ = load_facts(cfg)
sim = simulate(facts, cfg.inputs, int(sys.argv[2]), 1)
summary_records(cost_dataset(sim, facts, Provenance(1, "", "", "2023-12", "", sim.n_draws)), facts, sim.n_draws)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""

ESTIMATE_ARGS = ["estimate", "--chip", "H100", "--quantity", "10000", "--days", "90", "--start", "2024-06-01"]


def _env() -> dict[str, str]:
    src = str(ROOT / "src")
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": src + (os.pathsep + path if path else "")}


def wall(args: list[str], warm: bool = True) -> float:
    """Wall time of ``python -m uncertain_cost <args>`` in a fresh process (after one warm-up run)."""
    cmd = [sys.executable, "-m", "uncertain_cost", *args]
    if warm:
        subprocess.run(cmd, env=_env(), cwd=ROOT, capture_output=True, check=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, env=_env(), cwd=ROOT, capture_output=True, check=True)
    return time.perf_counter() - t0


def import_floor(modules: str, repeats: int = 3) -> float:
    """Median wall time of a fresh process that imports ``modules`` and exits (bytecode warm)."""
    cmd = [sys.executable, "-c", f"import {modules}"]
    subprocess.run(cmd, env=_env(), cwd=ROOT, capture_output=True, check=True)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=_env(), cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def run_wall(config: str, *extra: str, env: dict[str, str] | None = None, stages: dict | None = None) -> float:
    """Wall time of one ``run config`` (plus ``extra`` options) in a fresh process.

    The run's stage lines (``[  1.2s] growth: ...`` on stderr) are read as they arrive and
    timed on this clock; with ``stages`` given, it receives ``{"start-up (imports, config)": s,
    "<stage>": s, ...}``: the time from the process start to the first stage line, then from
    each stage line to the next one (the last one, writing the folder, ends when the process exits).
    """
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "uncertain_cost", "run", config, "--out", str(Path(tmp) / "run"), *extra]
        t0 = time.perf_counter()
        seen: list[tuple[float, str]] = []
        with subprocess.Popen(cmd, env=env or _env(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True) as proc:
            for line in proc.stderr:
                if line.startswith("[") and "s] " in line:
                    seen.append((time.perf_counter(), line.split("s] ", 1)[1].strip()))
            code = proc.wait()
        wall = time.perf_counter() - t0
        if code != 0:
            raise subprocess.CalledProcessError(code, cmd)
    if stages is not None and seen:
        stages["start-up (imports, config)"] = seen[0][0] - t0
        ends = [t for t, _ in seen[1:]] + [t0 + wall]
        for (t, label), end in zip(seen, ends, strict=True):
            stages["writing" if label.startswith("writing ") else label.split(" (")[0]] = end - t
    return wall


def stage_table(title: str, stages: dict, wall: float) -> None:
    """Print the stages of one timed run with their share of its wall time."""
    print(f"  {title}: {wall:.2f} s")
    for label, seconds in stages.items():
        print(f"    {seconds:7.2f} s  {100 * seconds / wall:5.1f}%  {label}")


def cold_env(tmp: str) -> dict[str, str]:
    """The environment of a first run after installing: empty numba, PyTensor and matplotlib caches."""
    env = _env()
    env["NUMBA_CACHE_DIR"] = str(Path(tmp) / "numba")
    env["PYTENSOR_FLAGS"] = f"base_compiledir={Path(tmp) / 'pytensor'}"
    env["MPLCONFIGDIR"] = str(Path(tmp) / "matplotlib")
    return env


def quick_supported() -> bool:
    """Whether ``run --quick`` exists in this version of the CLI."""
    res = subprocess.run([sys.executable, "-m", "uncertain_cost", "run", "--help"], env=_env(), cwd=ROOT,
                         capture_output=True, text=True)
    return "--quick" in res.stdout


def peak_rss_mb(config: str, draws: int) -> float:
    """Peak RSS (MB) of a subprocess simulating ``draws`` draws of the config's models and summarizing."""
    res = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, config, str(draws)], env=_env(), cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return float(res.stdout.split()[-1])


def growth(quick: bool) -> dict:
    """``benchmarks.bench_growth.measure(quick)`` when it exists, else a clear 'not available'."""
    try:
        from benchmarks import bench_growth
    except ImportError as exc:  # pragma: no cover - depends on the other branch
        return {"growth_speedup": "not available", "growth_note": f"benchmarks.bench_growth: {exc}"}
    measure = getattr(bench_growth, "measure", None)
    if measure is None:
        return {"growth_speedup": "not available",
                "growth_note": "benchmarks.bench_growth has no measure(quick) yet"}
    return dict(measure(quick))


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark; print tables, then the JSON summary line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer draws and repeats (under 10 minutes)")
    parser.add_argument("--config", default="config.toml")
    parser.add_argument("--skip-run", action="store_true", help="do not time the default run")
    args = parser.parse_args(argv)
    config = str((ROOT / args.config) if not Path(args.config).is_absolute() else args.config)
    os.chdir(ROOT)
    started = time.perf_counter()
    out: dict = {"date_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
                 "quick": args.quick}

    from benchmarks import bench_engine

    out.update(bench_engine.measure(args.quick, config))

    print("\nStart-up and verbs (fresh processes, warm caches unless cold)")
    timings: dict = {
        "import_floor_s": import_floor("numpy, scipy, numba, pymc, arviz"),
        "numpy_numba_floor_s": import_floor("numpy, numba"),
        "help_s": wall(["--help"], warm=False),
        "validate_s": wall(["validate", config]),
        "estimate_s": wall([*ESTIMATE_ARGS, "--config", config]),
    }
    stages: dict[str, dict] = {"default_run_stages": {}, "cold_run_stages": {}, "quick_run_stages": {}}
    if not args.skip_run:
        run_wall(config)  # fills the caches a first run may have left empty
        timings["default_run_s"] = run_wall(config, stages=stages["default_run_stages"])
        with tempfile.TemporaryDirectory() as tmp:
            timings["cold_run_s"] = run_wall(config, env=cold_env(tmp), stages=stages["cold_run_stages"])
        if quick_supported():
            run_wall(config, "--quick")
            timings["quick_run_s"] = run_wall(config, "--quick", stages=stages["quick_run_stages"])
        else:
            timings["quick_run_s"] = "not available (no run --quick)"
    else:
        for key in ("default_run_s", "cold_run_s", "quick_run_s"):
            timings[key] = "not measured (--skip-run)"
    floor, small_floor = timings["import_floor_s"], timings["numpy_numba_floor_s"]
    for key, base, ratio in (("default_run_s", floor, "default_run_over_floor"),
                             ("cold_run_s", floor, "cold_run_over_floor"),
                             ("quick_run_s", floor, "quick_run_over_floor"),
                             ("estimate_s", small_floor, "estimate_over_floor")):
        value = timings[key]
        timings[ratio] = value / base if isinstance(value, float) else value
    for name, value in timings.items():
        shown = f"{value:8.2f}{'' if name.endswith('_floor') else ' s'}" if isinstance(value, float) else value
        print(f"  {name:24s} {shown}")
    out.update(timings)
    print("\nStages of the timed runs (stage lines timed as they arrive; each to the next)")
    for key, run_key in (("default_run_stages", "default_run_s"), ("cold_run_stages", "cold_run_s"),
                         ("quick_run_stages", "quick_run_s")):
        if stages[key]:
            stage_table(run_key.removesuffix("_s").replace("_", " "), stages[key], timings[run_key])
            out[key] = {label: round(seconds, 3) for label, seconds in stages[key].items()}

    print("\nMemory")
    out["peak_rss_mb_1m_draws"] = peak_rss_mb(config, 1_000_000)
    print(f"  1,000,000 draws of the config's models + summaries: peak RSS {out['peak_rss_mb_1m_draws']:,.0f} MB")

    print("\nGrowth stage")
    g = growth(args.quick)
    for name, value in g.items():
        print(f"  {name}: {value}")
    out.update(g)
    out["benchmark_s"] = time.perf_counter() - started
    print(json.dumps(out, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
