"""Monte Carlo engine throughput, as ratios against baselines measured in the same run.

Run by hand (not collected by pytest)::

    python benchmarks/bench_engine.py [--draws 200000] [--repeat 3] [--memory-draws 1000000]

These machines are noisy, so absolute times are not comparable between runs; the ratios
are. Printed:

* kernel: the numba cost kernel vs the NumPy reference (``costs_numpy``) on the same design;
* sampling: the whole ``simulate`` (random draws + kernel + bookkeeping) vs the RNG limit,
  i.e. generating the same number of standard normals with NumPy's PCG64 and nothing else;
* memory (optional): peak RSS of a subprocess running ``simulate`` with ``--memory-draws``.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time

import numpy as np

from uncertain_cost.config import load_config
from uncertain_cost.costs import costs_numba, costs_numpy, fact_arrays
from uncertain_cost.engine import simulate
from uncertain_cost.pipeline import load_facts
from uncertain_cost.sampling.design import draw_block, layout


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


MEMORY_SCRIPT = """
import resource, sys
from uncertain_cost.config import load_config
from uncertain_cost.pipeline import load_facts
from uncertain_cost.engine import simulate
from uncertain_cost.results import Provenance, cost_dataset, summary_records
cfg = load_config(sys.argv[1])
facts, _, _ = load_facts(cfg)
sim = simulate(facts, cfg.inputs, int(sys.argv[2]), 1)
summary_records(cost_dataset(sim, facts, Provenance(1, '', '', '2023-12', '', sim.n_draws)), facts, sim.n_draws)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="config.toml")
    parser.add_argument("--draws", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory-draws", type=int, default=0)
    args = parser.parse_args()

    cfg = load_config(args.config)
    facts, _, _ = load_facts(cfg)
    lay = layout(cfg.inputs, facts)
    arrays = fact_arrays(facts)
    values = draw_block(lay, 1, 0)
    costs_numba(values[:8], lay.column, arrays)  # compile / load cache
    simulate(facts, cfg.inputs, 1000, 1)

    n_rows, n_models = values.shape[0], facts.n_models
    t_numba = best(lambda: costs_numba(values, lay.column, arrays), args.repeat)
    t_numpy = best(lambda: costs_numpy(values, lay.column, arrays), args.repeat)
    evals = n_rows * n_models
    print(f"kernel   {n_rows:,} draws x {n_models} models: numba {evals / t_numba / 1e6:8.1f} M model-draws/s, "
          f"numpy {evals / t_numpy / 1e6:8.1f} M/s  -> numba/numpy = {t_numpy / t_numba:5.1f}x")

    n_values = args.draws * lay.n_columns
    rng = np.random.Generator(np.random.PCG64(1))
    t_rng = best(lambda: rng.standard_normal(n_values), args.repeat)
    t_sim = best(lambda: simulate(facts, cfg.inputs, args.draws, 1, keep_draws=1000), args.repeat)
    print(f"sampling {args.draws:,} draws ({lay.n_columns} scoped columns): "
          f"simulate {args.draws / t_sim:,.0f} draws/s; "
          f"RNG limit {args.draws / t_rng:,.0f} draws/s -> simulate at {t_rng / t_sim:5.2f} of the RNG limit")

    if args.memory_draws:
        res = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, args.config, str(args.memory_draws)],
                             capture_output=True, text=True, check=True)
        print(f"memory   {args.memory_draws:,} draws: peak RSS {float(res.stdout.split()[-1]):,.0f} MB")
    print(f"(this process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB)")


if __name__ == "__main__":
    main()
