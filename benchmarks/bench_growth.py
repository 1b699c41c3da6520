"""Bayesian growth fit: ESS per second of the growth stage's sampler against PyMC's default, in one run.

Run by hand (not collected by pytest)::

    PYTHONPATH=src:. python benchmarks/bench_growth.py [--quick]

prints `measure`'s table: the single-method growth fit as the growth stage runs it (nutpie's
NUTS on the model's one numba log density as a cached C callback, `GrowthSettings` defaults)
against ``pymc.sample`` with its defaults on the same model written as a PyMC graph (the test
reference ``tests/growth/reference_density.py``; same posterior), both timed in the same process;
ESS/s is the minimum bulk ESS over the monitored parameters divided by the wall time of the
whole fit (building the model, sampling, coefficient draws, diagnostics). The integrator's
benchmark package calls ``measure(quick)``.

Also::

    PYTHONPATH=src:. python benchmarks/bench_growth.py --kernel           # us per log-density call
    PYTHONPATH=src:. python benchmarks/bench_growth.py --stage RESULTS_NC  # the whole growth stage
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np

#: The growth model's reference forms (PyMC graph, scipy) live with the tests.
REFERENCE_DIR = Path(__file__).resolve().parents[1] / "tests" / "growth"


def _reference():
    if str(REFERENCE_DIR) not in sys.path:
        sys.path.insert(0, str(REFERENCE_DIR))
    import reference_density

    return reference_density


def _timed_fit(data, seed: int, draws: int, tune: int, chains: int) -> dict:
    from uncertain_cost.growth.bayes import fit_bayes

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = fit_bayes(data, seed=seed, draws=draws, tune=tune, chains=chains, cores=2)
    wall = time.perf_counter() - t0
    d = r.diagnostics
    return {"wall_s": wall, "ess_bulk_min": d.ess_bulk_min, "ess_tail_min": d.ess_tail_min, "r_hat_max": d.r_hat_max,
            "divergences": d.divergences, "ess_per_s": d.ess_bulk_min / wall,
            "growth_amortized": r.summary("amortized")["growth"]}


def _timed_default_pymc(data, seed: int) -> dict:
    """``pymc.sample()`` with its defaults (1000 tune, 1000 draws, jitter+adapt_diag) on the PyMC graph."""
    from uncertain_cost.growth.bayes import _finish, build_model, child_seeds, import_pymc

    t0 = time.perf_counter()
    gm = build_model(data)
    model = _reference().pymc_model(gm)
    t1 = time.perf_counter()
    pm = import_pymc()
    sampler_seed, coef_seed, _ = child_seeds(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = pm.sample(model=model, chains=4, cores=2, random_seed=sampler_seed, progressbar=False,
                          quiet=True, compute_convergence_checks=False)
        t2 = time.perf_counter()
        n = gm.size - 2
        theta = np.concatenate([np.log(idata.posterior["scatter_model"].values)[..., None],
                                np.log(idata.posterior["nu"].values)[..., None],
                                idata.posterior["model_effect_raw"].values.reshape(*idata.posterior["nu"].shape, n)],
                               axis=-1)
        import xarray as xr

        idata.posterior = xr.Dataset({"theta": (("chain", "draw", "theta_dim_0"), theta)},
                                     attrs=dict(idata.posterior.attrs))
        r = _finish(idata, gm, data, t0, t1, t2, seed=seed, coef_seed=coef_seed, level=0.9, center="median",
                    r_hat_threshold=1.01, ess_threshold=None, fail_on_bad_diagnostics=False)
    wall = time.perf_counter() - t0
    d = r.diagnostics
    return {"wall_s": wall, "ess_bulk_min": d.ess_bulk_min, "ess_tail_min": d.ess_tail_min, "r_hat_max": d.r_hat_max,
            "divergences": d.divergences, "ess_per_s": d.ess_bulk_min / wall,
            "growth_amortized": r.summary("amortized")["growth"]}


#: Steady-state pairs (stage, default) pooled by `measure`.
REPEATS = 5


def _pooled(fits: list[dict]) -> dict:
    """Sum of wall times and of minimum bulk ESS over repeated fits; worst diagnostics."""
    wall = sum(f["wall_s"] for f in fits)
    ess = sum(f["ess_bulk_min"] for f in fits)
    return {"wall_s": wall / len(fits), "ess_bulk_min": ess / len(fits),
            "ess_tail_min": min(f["ess_tail_min"] for f in fits), "r_hat_max": max(f["r_hat_max"] for f in fits),
            "divergences": sum(f["divergences"] for f in fits), "ess_per_s": ess / wall,
            "growth_amortized": sum(f["growth_amortized"] for f in fits) / len(fits)}


def measure(quick: bool = False, seed: int = 0) -> dict:
    """ESS per second of the growth stage's fit against PyMC's default sampler, in one call.

    Both fit the same posterior (the single-method model of `uncertain_cost.growth.bayes` on
    simulated amortized costs shaped like the paper's, correlated Monte Carlo draws), timed in
    this process, alternating (stage, default). Every timing includes the fit's own setup:
    building the model and, for ``pymc.sample``, compiling its PyTensor functions (which PyMC
    does on every call). The first pair also pays what a process pays once (loading the numba
    kernel and C callback from the disk cache, ArviZ's numba JIT, PyTensor's module cache); the
    steady state, that of a growth stage running ~10 fits in one process (three methods,
    robustness refits, backtest, value of information), is `REPEATS` pairs with sampler seeds
    ``seed + 1 ...``, pooled (total ESS over total wall time). ``growth_speedup`` is the
    steady-state ratio; ``growth_speedup_first_fit`` the first pair's.

    Parameters
    ----------
    quick : bool, default False
        40 instead of 64 simulated frontier models.
    seed : int, default 0

    Returns
    -------
    dict
        ``growth_speedup``, ``growth_speedup_first_fit``, ``stage`` and ``pymc_default`` (steady
        state), ``stage_first_fit`` and ``pymc_default_first_fit`` (each ``wall_s``,
        ``ess_bulk_min``, ``ess_tail_min``, ``r_hat_max``, ``divergences``, ``ess_per_s``,
        ``growth_amortized``), ``n_models``, ``sampler``, ``draws``, ``tune``, ``chains``.
    """
    from uncertain_cost.growth import simulate_growth_data
    from uncertain_cost.growth.bayes import DEFAULT_TUNE, import_pymc
    from uncertain_cost.growth.settings import GrowthSettings

    settings = GrowthSettings()
    n_models = 40 if quick else 64
    data, _ = simulate_growth_data(seed=seed, n_models=n_models, n_draws=4000, methods=("amortized",), slope=0.38,
                                   intercept=6.3)
    import_pymc()  # imported once, outside both timings
    tune = DEFAULT_TUNE[settings.sampler] if settings.tune is None else settings.tune
    stage_first = _timed_fit(data, seed, settings.draws, tune, settings.chains)
    default_first = _timed_default_pymc(data, seed)
    stages, defaults = [], []
    for k in range(1, REPEATS + 1):
        stages.append(_timed_fit(data, seed + k, settings.draws, tune, settings.chains))
        defaults.append(_timed_default_pymc(data, seed + k))
    stage, default = _pooled(stages), _pooled(defaults)
    return {"growth_speedup": stage["ess_per_s"] / default["ess_per_s"], "stage": stage, "pymc_default": default,
            "growth_speedup_first_fit": stage_first["ess_per_s"] / default_first["ess_per_s"],
            "stage_first_fit": stage_first, "pymc_default_first_fit": default_first, "repeats": REPEATS,
            "n_models": n_models, "sampler": settings.sampler, "draws": settings.draws, "tune": tune,
            "chains": settings.chains}


def print_measure(result: dict) -> None:
    """Print `measure`'s result as a table."""
    print(f"growth fit, {result['n_models']} simulated models (amortized): stage = {result['sampler']} "
          f"({result['chains']} chains x {result['draws']} draws, {result['tune']} tune); "
          "baseline = pymc.sample() defaults on the same model")
    print(f"{'':22s} {'wall s':>8s} {'ESS bulk':>9s} {'ESS tail':>9s} {'R-hat':>7s} {'div':>4s} {'ESS/s':>8s} "
          f"{'growth':>7s}")
    for name in ("stage_first_fit", "pymc_default_first_fit", "stage", "pymc_default"):
        r = result[name]
        print(f"{name:22s} {r['wall_s']:8.2f} {r['ess_bulk_min']:9.0f} {r['ess_tail_min']:9.0f} {r['r_hat_max']:7.4f} "
              f"{r['divergences']:4d} {r['ess_per_s']:8.1f} {r['growth_amortized']:7.3f}")
    print(f"growth_speedup (ESS/s ratio, steady state): {result['growth_speedup']:.2f}; "
          f"first fit in the process: {result['growth_speedup_first_fit']:.2f}")


def measure_stage(results_nc: str, seed: int = 20240531) -> dict:
    """The whole growth stage (`fit_growth`) on a run's costs, in one process.

    Parameters
    ----------
    results_nc : str
        A run folder's ``results.nc`` (its ``costs`` group is the data).
    seed : int, default 20240531
        The default config's seed.

    Returns
    -------
    dict
        ``wall_s``, ``ess_bulk_min`` (over every Bayesian row), ``ess_per_s``, the stage's
        ``timings`` and the growth per method.
    """
    import xarray as xr

    from uncertain_cost.growth.data import GrowthData
    from uncertain_cost.growth.settings import GrowthSettings
    from uncertain_cost.growth.step import fit_growth

    with xr.open_dataset(results_nc, group="costs") as ds:
        data = GrowthData.from_cost_dataset(ds.load())
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = fit_growth(data, GrowthSettings(), seed)
    wall = time.perf_counter() - t0
    rows = [r for r in outcome.growth_rows if r["estimator"] == "bayes"]
    ess = min(float(r["ess_bulk_min"]) for r in rows)
    out = {"wall_s": wall, "ess_bulk_min": ess, "ess_per_s": ess / wall, "timings": dict(outcome.timings),
           "growth": {r["method"]: r["growth_per_year"] for r in rows}}
    print(f"wall {wall:7.1f} s  bulk ESS min {ess:7.0f}  ESS/s {ess / wall:7.1f}  "
          + ", ".join(f"{k} {v:.3f}" for k, v in out["growth"].items()), flush=True)
    print("timings: " + ", ".join(f"{k} {v:.2f} s" for k, v in out["timings"].items()))
    return out


def measure_kernel(n_models: int = 40, calls: int = 20000, seed: int = 0) -> dict:
    """Microseconds per call of the growth model's log density and gradient, and of its scipy reference.

    The kernel is called from a compiled loop (as nutpie's callback calls it, no Python in
    between); the scipy reference (value only) from Python. Best of 5 repeats.

    Returns
    -------
    dict
        ``n_obs``, ``kernel_us``, ``scipy_us``, ``kernel_speedup``.
    """
    from numba import njit

    from uncertain_cost.growth import build_model, simulate_growth_data
    from uncertain_cost.growth.kernel import unpacked_logp_and_grad

    @njit
    def repeat(theta, buf, n):
        acc = 0.0
        for _ in range(n):
            value, grad = unpacked_logp_and_grad(theta, buf)
            acc += value + grad[0]
        return acc

    data, _ = simulate_growth_data(seed=seed, n_models=n_models, n_draws=4000, methods=("amortized",), slope=0.38,
                                   intercept=6.3)
    gm = build_model(data)
    buf = gm.buffer()
    theta = gm.initial_point() + np.random.default_rng(seed).normal(0.0, 0.3, gm.size)
    repeat(theta, buf, 10)
    ref = _reference().scipy_logp
    kernel = slow = math.inf
    for _ in range(5):
        t0 = time.perf_counter()
        repeat(theta, buf, calls)
        kernel = min(kernel, (time.perf_counter() - t0) / calls * 1e6)
        t0 = time.perf_counter()
        for _ in range(calls // 1000):
            ref(gm, theta)
        slow = min(slow, (time.perf_counter() - t0) / (calls // 1000) * 1e6)
    return {"n_obs": int(buf[0]), "kernel_us": kernel, "scipy_us": slow, "kernel_speedup": slow / kernel}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="measure(): 40 models instead of 64")
    p.add_argument("--stage", metavar="RESULTS_NC", default=None,
                   help="measure_stage(): the whole growth stage on a run's results.nc")
    p.add_argument("--kernel", action="store_true",
                   help="measure_kernel(): us per log-density call, numba kernel vs scipy reference")
    args = p.parse_args(argv)
    if args.kernel:
        for n_models in (40, 64):
            r = measure_kernel(n_models)
            print(f"{n_models} models: kernel {r['kernel_us']:.2f} us, scipy reference {r['scipy_us']:.1f} us, "
                  f"x{r['kernel_speedup']:.0f}")
        return 0
    if args.stage is not None:
        measure_stage(args.stage)
        return 0
    result = measure(quick=args.quick, seed=args.seed)
    print_measure(result)
    print(json.dumps({"growth_speedup": result["growth_speedup"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
