"""``python -m benchmarks.bench_compile [CACHE_DIR]``: compile time of each numba kernel a default run uses.

Run in a fresh process with an empty numba cache folder (a temporary one unless given), in
the order a run compiles them; prints one JSON line: per kernel ``[wall_s, cpu_s]``
(``cpu_s`` is this process's CPU time, which a busy machine disturbs less than wall time).
Run it twice with the same folder to see the cost of loading the same kernels from the cache.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time


def main(argv: list[str] | None = None) -> int:
    """Compile (or load) every kernel of a run; print the JSON line of timings."""
    argv = sys.argv[1:] if argv is None else argv
    os.environ["NUMBA_CACHE_DIR"] = argv[0] if argv else tempfile.mkdtemp(prefix="uc-numba-")
    import importlib
    import inspect

    from numba import types

    from uncertain_cost import costs, engine

    def arr(dtype, ndim):
        return types.Array(dtype, ndim, "C")

    f8, i8, u8 = types.float64, types.int64, types.uint64
    facts = (arr(i8, 1),) + (arr(f8, 1),) * 7 + (arr(types.boolean, 1),) + (arr(f8, 1),) * 7
    outs = (arr(f8, 3), arr(f8, 2), arr(f8, 2), arr(f8, 2))
    fused = (i8, i8, arr(i8, 1), arr(f8, 2), arr(u8, 1), arr(i8, 1), arr(f8, 2), arr(u8, 1), arr(f8, 1),
             arr(f8, 1), arr(i8, 2), *facts, f8, i8, *outs)
    chunk = (i8,) if "chunk" in inspect.signature(costs._kernel.py_func).parameters else ()
    out: dict = {}

    def timed(name, fn):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        out[name] = [round(time.perf_counter() - wall, 3), round(time.process_time() - cpu, 3)]

    timed("engine._fused_kernel (with streams callees)", lambda: engine._fused_kernel.compile(fused))
    timed("costs._kernel (costs_numba; not used by a run)",
          lambda: costs._kernel.compile((arr(f8, 2), *chunk, arr(i8, 2), *facts, f8, *outs)))
    timed("growth.kernel callbacks (at import)", lambda: importlib.import_module("uncertain_cost.growth.kernel"))
    loo = importlib.import_module("uncertain_cost.growth.loo")
    timed("growth.loo._integrated_sum",
          lambda: loo._integrated_sum.compile((arr(f8, 2), arr(f8, 2), arr(f8, 1), arr(f8, 2), arr(f8, 1))))
    sobol = importlib.import_module("uncertain_cost.sensitivity.sobol")
    timed("sensitivity.sobol._indices_serial", lambda: sobol._indices_serial.compile((arr(f8, 3), arr(i8, 2))))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
