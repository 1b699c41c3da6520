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
