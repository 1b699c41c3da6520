"""Sobol sampling + analysis: uncertain_cost vs SALib on the same design, same run.

Run by hand (not collected by pytest)::

    /work/venv/bin/python benchmarks/bench_sobol.py [--k 12] [--n-base 1024] [--resamples 100]

Times exclude the model evaluation. Two comparisons are printed:

* pipeline: design + analysis, each library with its own design of the same size
  (``N * (k + 2)`` rows, ``resamples`` bootstrap resamples);
* analysis only: both libraries analyze the very same outputs (SALib's design, reordered
  into our block layout for us).

numba compilation (or loading the on-disk cache) is timed separately, before the runs.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from uncertain_cost.sensitivity import from_salib_layout, sobol_design, sobol_indices


def model(x: np.ndarray) -> np.ndarray:
    """Sobol' G-function (cheap, non-additive), on the unit cube."""
    a = np.arange(x.shape[1], dtype=np.float64) / 2.0
    return np.prod((np.abs(4.0 * x - 2.0) + a) / (1.0 + a), axis=1)


def best_of(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=12)
    parser.add_argument("--n-base", type=int, default=1024)
    parser.add_argument("--resamples", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    k, n, nres = args.k, args.n_base, args.resamples

    try:
        from SALib.analyze import sobol as salib_analyze
        from SALib.sample import sobol as salib_sample
    except ImportError:
        raise SystemExit("SALib is not installed (pip install SALib)") from None

    problem = {"num_vars": k, "names": [f"x{i}" for i in range(k)], "bounds": [[0.0, 1.0]] * k}
    print(f"k = {k} inputs, N = {n} base samples, {n * (k + 2)} model rows, {nres} resamples")

    # numba: compile (or load cache) once, timed on its own.
    t0 = time.perf_counter()
    u = sobol_design(n, k, 0)
    sobol_indices(model(u), n, k, n_bootstrap=nres, seed=0)
    first = time.perf_counter() - t0
    print(f"uncertain_cost first call (numba compile or cache load): {first:.3f} s")

    # Outputs evaluated outside the timed regions.
    x_ours = sobol_design(n, k, 1)
    y_ours = model(x_ours)
    x_salib = salib_sample.sample(problem, n, calc_second_order=False, seed=1)
    y_salib = model(x_salib)
    y_salib_blocks = from_salib_layout(y_salib, n, k)

    def ours_pipeline():
        sobol_design(n, k, 1)
        sobol_indices(y_ours, n, k, n_bootstrap=nres, seed=2)

    def salib_pipeline():
        salib_sample.sample(problem, n, calc_second_order=False, seed=1)
        salib_analyze.analyze(problem, y_salib, calc_second_order=False, num_resamples=nres, seed=2)

    def ours_analysis():
        sobol_indices(y_salib_blocks, n, k, n_bootstrap=nres, seed=2)

    def salib_analysis():
        salib_analyze.analyze(problem, y_salib, calc_second_order=False, num_resamples=nres, seed=2)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = [
            ("design + analysis", ours_pipeline, salib_pipeline),
            ("analysis only (same Y)", ours_analysis, salib_analysis),
        ]
        header = f"{'':26s} {'ours (ms)':>10s} {'SALib (ms)':>11s} {'ratio':>7s}"
        print(f"{header}   (min of {args.repeat}; median)")
        for label, ours, theirs in rows:
            o_min, o_med = best_of(ours, args.repeat)
            s_min, s_med = best_of(theirs, args.repeat)
            print(
                f"{label:26s} {1e3 * o_min:10.2f} {1e3 * s_min:11.2f} {s_min / o_min:6.1f}x"
                f"   (median {1e3 * o_med:.2f} vs {1e3 * s_med:.2f} ms, {s_med / o_med:.1f}x)"
            )

        ours = sobol_indices(y_salib_blocks, n, k, n_bootstrap=nres, seed=2)
        si = salib_analyze.analyze(
            problem, y_salib, calc_second_order=False, num_resamples=nres, seed=2
        )
    print(
        "same Y, max |S1 - S1_SALib| = "
        f"{np.max(np.abs(ours.s1[0] - si['S1'])):.2e}, "
        f"max |ST - ST_SALib| = {np.max(np.abs(ours.st[0] - si['ST'])):.2e}"
    )


if __name__ == "__main__":
    main()
