"""Compile the kernels a run needs later in a child process while the run draws its Monte Carlo.

On the first run after installing, numba's cache is empty and a run compiles, one after the
other, the Monte Carlo kernel (``engine._fused_kernel``), the growth model's C callbacks
(``growth.kernel``), the PSIS-LOO kernel (``growth.loo``) and the Sobol kernel
(``sensitivity.sobol``). Compiling holds one core. :func:`start` launches ``python -m
uncertain_cost.precompile GROUP...``, which compiles the later groups into numba's on-disk
cache while the parent compiles and runs the Monte Carlo on the other core; the parent then
loads them from the cache. The child writes the name of each group when it is cached;
:func:`wait_for` (called where the group is first imported) blocks until then, so the parent
never compiles the same kernel twice.

Nothing is started when every group is cached already (the usual, warm, run), when the
kernels are compiled in this process already, with one CPU, or when
``UNCERTAIN_COST_PRECOMPILE=0``. Results cannot change: the cache holds the same machine code
the parent would have compiled. numba writes each cache file to a temporary name and renames
it, so two runs (and their children) can fill one cache at once. The child is terminated at
exit if still running, and exits by itself (a broken pipe) if its parent is killed.
"""

from __future__ import annotations

import atexit
import glob
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path

__all__ = ["GROUPS", "ENV_SWITCH", "start", "wait_for", "is_cached"]

_PACKAGE = Path(__file__).resolve().parent
#: group -> (source file, first function whose cache entry tells whether the group is cached)
GROUPS = {
    "growth": (_PACKAGE / "growth" / "kernel.py", "logp_callback"),
    "loo": (_PACKAGE / "growth" / "loo.py", "_integrated_sum"),
    "sobol": (_PACKAGE / "sensitivity" / "sobol.py", "_indices_serial"),
}
#: set to "0" to never start the child
ENV_SWITCH = "UNCERTAIN_COST_PRECOMPILE"
#: longest wait for one group (seconds); then the parent compiles it itself
WAIT_S = 300.0

_state: dict = {"proc": None, "done": {}, "reader": None}


def is_cached(source: Path, qualname: str) -> bool:
    """Whether numba's cache holds an up-to-date entry for ``qualname`` of ``source``.

    Finds the cache folder as numba does (its locator classes, in order) and compares the
    source stamp recorded in the function's index with the file's. Any doubt counts as
    not cached.

    Parameters
    ----------
    source : pathlib.Path
    qualname : str

    Returns
    -------
    bool
    """
    try:
        from numba.core.caching import _CacheImpl
    except ImportError:  # pragma: no cover - numba < 0.60
        from numba.core.caching import CacheImpl as _CacheImpl

    def probe():  # numba's locators need a function; only its file matters here
        return None

    for cls in _CacheImpl._locator_classes:
        try:
            locator = cls.from_function(probe, str(source))
            if locator is None:
                continue
            locator.ensure_cache_path()
        except OSError:
            continue
        stem = f"{source.stem}.{qualname}-*.py{sys.version_info.major}{sys.version_info.minor}.nbi"
        for index in glob.glob(os.path.join(locator.get_cache_path(), stem)):
            try:
                with open(index, "rb") as handle:
                    pickle.load(handle)  # numba's version
                    stamp, overloads = pickle.loads(handle.read())
            except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError):
                continue
            if stamp == locator.get_source_stamp() and overloads:
                return True
        return False
    return False


def start(groups: list[str]) -> bool:
    """Compile ``groups`` (keys of :data:`GROUPS`) in a child process unless they are cached.

    Parameters
    ----------
    groups : list of str
        In the order the run needs them.

    Returns
    -------
    bool
        Whether a child was started.
    """
    if _state["proc"] is not None or os.environ.get(ENV_SWITCH, "1") == "0":
        return False
    from uncertain_cost.threads import available_cpus

    if available_cpus() < 2:
        return False
    todo = [g for g in groups if g in GROUPS and not _loaded(g) and not is_cached(*GROUPS[g])]
    if not todo:
        return False
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(_PACKAGE.parent), *filter(None, [env.get("PYTHONPATH")])])
    env["NUMBA_NUM_THREADS"] = "1"
    try:
        proc = subprocess.Popen([sys.executable, "-m", "uncertain_cost.precompile", *todo], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True)
    except OSError:
        return False
    _state["proc"] = proc
    _state["done"] = {g: threading.Event() for g in todo}
    reader = threading.Thread(target=_read, args=(proc, _state["done"]), daemon=True)
    reader.start()
    _state["reader"] = reader
    atexit.register(_stop)
    return True


def wait_for(group: str, timeout: float = WAIT_S) -> None:
    """Block until the child has cached ``group`` (at once if no child compiles it).

    Parameters
    ----------
    group : str
    timeout : float
        Seconds; after that the caller goes on and compiles the group itself.
    """
    event = _state["done"].get(group)
    if event is not None:
        event.wait(timeout)


def _loaded(group: str) -> bool:
    module = {"growth": "uncertain_cost.growth.kernel", "loo": "uncertain_cost.growth.loo",
              "sobol": "uncertain_cost.sensitivity.sobol"}[group]
    return module in sys.modules


def _read(proc: subprocess.Popen, done: dict[str, threading.Event]) -> None:
    """Set each group's event when the child reports it; all of them when the child ends."""
    try:
        for line in proc.stdout:
            event = done.get(line.strip())
            if event is not None:
                event.set()
    finally:
        for event in done.values():
            event.set()
        proc.wait()


def _stop() -> None:
    proc = _state["proc"]
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()


def _compile(group: str) -> None:
    """Compile one group with the argument types a run calls it with (cfuncs compile at import)."""
    from numba import types

    f8_1, f8_2, f8_3 = (types.Array(types.float64, n, "C") for n in (1, 2, 3))
    if group == "growth":
        import uncertain_cost.growth.kernel  # noqa: F401
    elif group == "loo":
        from uncertain_cost.growth import loo

        loo._integrated_sum.compile((f8_2, f8_2, f8_1, f8_2, f8_1))
    elif group == "sobol":
        import importlib

        sobol = importlib.import_module("uncertain_cost.sensitivity.sobol")
        sobol._indices_serial.compile((f8_3, types.Array(types.int64, 2, "C")))


def main(argv: list[str] | None = None) -> int:
    """Compile the groups named in ``argv`` in order, printing each name when it is cached."""
    for group in sys.argv[1:] if argv is None else argv:
        if group in GROUPS:
            _compile(group)
            print(group, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
