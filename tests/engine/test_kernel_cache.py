"""The compiled-kernel cache is keyed on every source file compiled into a kernel, not only the defining one."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from uncertain_cost import costs, engine, kernel_cache
from uncertain_cost.sampling import streams

SRC = Path(kernel_cache.__file__).resolve().parents[1]

MAIN = textwrap.dedent("""
    import sys
    from pathlib import Path
    here = Path(__file__).resolve().parent
    if {register}:
        from uncertain_cost.kernel_cache import register_kernel_sources
        register_kernel_sources([here / "dep.py", here / "main.py"])
    from numba import njit
    from dep import inner

    @njit(cache=True)
    def outer(x):
        return inner(x) + 1.0

    print(outer(1.0))
""")


def _run(folder: Path, cache: Path) -> str:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": os.pathsep.join([str(SRC), str(folder)])}
    done = subprocess.run([sys.executable, str(folder / "main.py")], capture_output=True, text=True, env=env,
                          timeout=300, check=True)
    return done.stdout.strip()


def _edit_dep(folder: Path, factor: str) -> None:
    """Rewrite dep.py (same size, so numba's own mtime/size stamp of main.py cannot notice anything)."""
    (folder / "dep.py").write_text(
        f"from numba import njit\n\n\n@njit(inline='always', cache=True)\ndef inner(x):\n    return x * {factor}\n")


@pytest.mark.parametrize("register", [True, False])
def test_an_edit_to_a_compiled_in_file_is_seen(tmp_path, register):
    folder, cache = tmp_path / "pkg", tmp_path / "cache"
    folder.mkdir()
    (folder / "main.py").write_text(MAIN.format(register=register))
    _edit_dep(folder, "2.0")
    assert _run(folder, cache) == "3.0"
    assert any(cache.rglob("*.nbi")), "the kernel was not cached"
    stamp = (folder / "main.py").stat()
    _edit_dep(folder, "5.0")  # only the inlined callee changes; main.py is untouched
    assert (folder / "main.py").stat().st_mtime_ns == stamp.st_mtime_ns
    if register:  # keyed on both files: recompiled
        assert _run(folder, cache) == "6.0"
    else:  # numba's own stamp (main.py only) runs the stale kernel: what the registration prevents
        assert _run(folder, cache) == "3.0"


def test_the_cost_kernels_are_keyed_on_costs_and_streams():
    files = {p.name for p in kernel_cache.KERNEL_SOURCES}
    assert {"engine.py", "costs.py", "streams.py", "units.py", "facts.py"} <= files
    for dispatcher in (engine._fused_kernel, costs._kernel, costs.row_into, costs.row_costs, streams.normal_at):
        locator = dispatcher._cache._impl.locator
        assert isinstance(locator, kernel_cache.SourceHashLocator)
        assert locator.get_source_stamp() == ("sha256", kernel_cache.source_stamp(kernel_cache.KERNEL_SOURCES))


def test_the_stamp_follows_the_content_of_every_file(tmp_path):
    a, b = tmp_path / "costs.py", tmp_path / "streams.py"
    a.write_text("x = 1\n")
    b.write_text("y = 1\n")
    group = kernel_cache.register_kernel_sources([a, b])
    first = kernel_cache.source_stamp(group)
    assert kernel_cache.source_stamp(group) == first
    b.write_text("y = 2\n")  # same size, other content
    os.utime(b, ns=(b.stat().st_atime_ns, b.stat().st_mtime_ns + 1_000_000))
    second = kernel_cache.source_stamp(group)
    assert second != first
    b.write_text("y = 1\n")
    os.utime(b, ns=(b.stat().st_atime_ns, b.stat().st_mtime_ns + 2_000_000))
    assert kernel_cache.source_stamp(group) == first


SIMULATE = textwrap.dedent("""
    from factories import GPT4, make_facts
    from uncertain_cost.defaults import load_input_defaults
    from uncertain_cost.engine import simulate
    from uncertain_cost.inputs import parse_inputs

    inputs = parse_inputs(load_input_defaults(), defaults_source="priors/inputs.toml")
    sim = simulate(make_facts(GPT4), inputs, 1000, 7, keep_draws=10)
    print(repr(float(sim.totals["amortized"][:, 0].sum())), repr(float(sim.point.total("amortized")[0, 0])))
""")


@pytest.mark.slow
def test_an_edit_to_costs_py_reaches_the_fused_kernel(tmp_path):
    """Copy the package, change the energy term in costs.row_costs, and see engine._fused_kernel use it."""
    import shutil

    package = tmp_path / "src" / "uncertain_cost"
    shutil.copytree(SRC / "uncertain_cost", package, ignore=shutil.ignore_patterns("__pycache__"))
    script = tmp_path / "simulate.py"
    script.write_text(SIMULATE, encoding="utf-8")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
           "UNCERTAIN_COST_PRIORS": str(SRC.parent / "priors"),
           "PYTHONPATH": os.pathsep.join([str(package.parent), str(Path(__file__).resolve().parents[1])])}

    def run() -> list[float]:
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=900,
                              check=True, cwd=SRC.parent)
        return [float(v) for v in done.stdout.split()]

    before = run()
    assert run() == before  # from the cache: same numbers
    costs_py = package / "costs.py"
    source = costs_py.read_text(encoding="utf-8")
    edited = source.replace("energy = (tdp_kw[m] * power_ratio[m]", "energy = 2.0 * (tdp_kw[m] * power_ratio[m]")
    assert edited != source
    costs_py.write_text(edited, encoding="utf-8")
    engine_stamp = (package / "engine.py").stat().st_mtime_ns
    after = run()
    assert (package / "engine.py").stat().st_mtime_ns == engine_stamp  # engine.py untouched
    assert after[0] > before[0] and after[1] > before[1]  # the Monte Carlo (fused kernel) and the point path
