"""A sweep of scenarios on the Dask backend: 1 vs 2 local workers, and the local backend, in one run.

Run by hand (not collected by pytest)::

    PYTHONPATH=src /work/main/.venv/bin/python benchmarks/bench_scenarios.py [--quick]

The sweep is :data:`N_SCENARIOS` scenarios (input what-ifs and frontier rules) at 100,000
draws each (``--quick``: 2 blocks of 16,384 draws), with the Monte Carlo, the summaries and
the OLS growth fit (the Bayesian fit, sensitivity, development cost and figures are off, so
the sweep measures the Monte Carlo tasks). Each backend runs the same config once after a
warm-up run that compiles and loads everything; LocalCluster start-up is timed separately
and excluded. Workers run one thread each (``NUMBA_NUM_THREADS=1``); the local backend uses
numba's threads. The speedup is the ratio of 1-worker to 2-worker wall time measured in
this process; every backend's tables are checked to be identical.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

N_SCENARIOS = 8

BASE = """
[run]
draws = {draws}
keep_draws = 2000
seed = 20240531

[growth]
bayes = false

[forecast]
enabled = false

[sensitivity]
enabled = false

[development]
models = []

[report]
png = false
"""

WHAT_IFS = [
    "[scenarios.baseline]\n",
    "[scenarios.tpu_x2.inputs.tpu_price]\nci90 = [0.5, 2.0]\n",
    "[scenarios.gpu_x1_5.inputs.gpu_price]\nci90 = [0.6667, 1.5]\n",
    "[scenarios.slow_depreciation.inputs.depreciation_rate]\nci90 = [0.06, 0.14]\npoint = 0.10\n",
    "[scenarios.top5.selection]\ntop_n = 5\n",
    "[scenarios.top20.selection]\ntop_n = 20\n",
    "[scenarios.add_base.run]\nfinetunes = \"add_base\"\n",
    "[scenarios.cloud_tight.inputs.cloud_price]\nci90 = [0.8333, 1.2]\n",
]


def _tables(result) -> dict:
    return {name: result.records(name) for name in result.table_names()}


def measure(quick: bool = False) -> dict:
    """Time the sweep on the local backend and on LocalClusters of 1 and 2 workers.

    Parameters
    ----------
    quick : bool
        Two blocks of draws per scenario instead of 100,000 draws.

    Returns
    -------
    dict
        ``draws``, ``scenarios``, wall seconds per backend (``local_s``, ``dask_1_worker_s``,
        ``dask_2_workers_s``), cluster start-up seconds, ``speedup_2_vs_1`` (ratio) and
        ``identical`` (every table equal across backends).
    """
    import dask
    from distributed import LocalCluster

    from uncertain_cost.config import load_config
    from uncertain_cost.execution import WORKER_ENV
    from uncertain_cost.pipeline import run_config
    from uncertain_cost.sampling.design import BLOCK_DRAWS

    draws = 2 * BLOCK_DRAWS if quick else 100_000
    assert len(WHAT_IFS) >= N_SCENARIOS
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sweep.toml"
        path.write_text(BASE.format(draws=draws) + "\n".join(WHAT_IFS[:N_SCENARIOS]), encoding="utf-8")
        out: dict = {"draws": draws, "scenarios": N_SCENARIOS, "blocks_per_task": 2}
        run_config(load_config(path, {"run.draws": BLOCK_DRAWS}))  # warm-up: numba, imports
        t0 = time.perf_counter()
        reference = _tables(run_config(load_config(path)))
        out["local_s"] = time.perf_counter() - t0
        identical = True
        for n in (1, 2):
            t0 = time.perf_counter()
            with dask.config.set({"distributed.worker.daemon": False}):
                cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, env=dict(WORKER_ENV))
            out[f"cluster_{n}_startup_s"] = time.perf_counter() - t0
            try:
                overrides = {"execution.backend": "dask", "execution.scheduler": cluster.scheduler_address}
                run_config(load_config(path, {**overrides, "run.draws": BLOCK_DRAWS}))  # warm-up on the workers
                t0 = time.perf_counter()
                tables = _tables(run_config(load_config(path, overrides)))
                key = "dask_1_worker_s" if n == 1 else f"dask_{n}_workers_s"
                out[key] = time.perf_counter() - t0
                identical = identical and repr(tables) == repr(reference)  # NaN-safe
            finally:
                cluster.close()
        out["speedup_2_vs_1"] = out["dask_1_worker_s"] / out["dask_2_workers_s"]
        out["identical"] = identical
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(json.dumps(measure(args.quick), indent=2))
