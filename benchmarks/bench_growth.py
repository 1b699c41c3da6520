"""Bayesian growth fit: ESS per second of the growth stage's sampler against PyMC's default, in one run.

Run by hand (not collected by pytest)::

    /work/main/.venv/bin/python benchmarks/bench_growth.py [--quick]

prints `measure`'s table: the joint growth fit as the growth stage runs it (nutpie's NUTS on
the model's numba log density as a cached C callback, `GrowthSettings` defaults) against ``pymc.sample`` with its
defaults on the same PyMC model (same posterior), both timed in the same process; ESS/s is the
minimum bulk ESS over the monitored parameters divided by the wall time of the whole fit
(building the model, sampling, coefficient draws, diagnostics). The integrator's benchmark
package calls ``measure(quick)``.

The older cold/warm compile study::

    /work/main/.venv/bin/python benchmarks/bench_growth.py --phase both|cold|warm [--n-models 64]
        [--draws 1000] [--tune 1000] [--chains 4] [--cores 2] [--seed 0]

Each phase runs in a fresh Python process:

* ``cold``: empty, temporary PyTensor compile and numba cache directories (every C module and
  the numba kernel are compiled);
* ``warm``: the same directories again (loaded from the disk caches).

Within a process the full fit runs twice; the second run also reuses what PyTensor keeps in
memory. For every fit, ``setup`` is the wall time of ``pymc.sample`` minus its sampling time
(graph rewriting, C compilation or cache loading, initialisation, fork) plus building the
model, and ``sampling`` is PyMC's own sampling time (tuning + draws, all chains).
``import pymc`` and the first call of the numba kernel (compilation, or loading its cache) are
timed on their own. Baselines, timed the same way in the same process: the paper's OLS, a
plain normal linear regression in PyMC (one method, point estimates), and a robust
hierarchical regression without measurement error (Student-t, method slopes pooled, stacked
point estimates of all methods: the "comparable" model of the growth issue). The full fit
uses simulated data shaped like the paper's (64 frontier models, 3 methods, correlated draws).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np


def baseline_models(data, pm):
    """The two PyMC baselines: plain regression and robust hierarchical regression."""
    point = data.log10_cost_point["amortized"]
    ok = np.isfinite(point)
    x, y = data.year[ok] - data.year[ok].mean(), point[ok]
    with pm.Model() as plain:
        a = pm.Normal("a", y.mean(), 2.0)
        b = pm.Normal("b", 0.0, 1.0)
        s = pm.HalfNormal("s", 1.0)
        pm.Normal("y", a + b * x, s, observed=y)
    xs, ys, gs = [], [], []
    for g, m in enumerate(data.methods):
        p = data.log10_cost_point[m]
        keep = np.isfinite(p)
        xs.append(data.year[keep])
        ys.append(p[keep])
        gs.append(np.full(int(keep.sum()), g))
    x, y, g = np.concatenate(xs), np.concatenate(ys), np.concatenate(gs)
    x = x - x.mean()
    n_m = len(data.methods)
    with pm.Model() as robust:
        mu_b = pm.Normal("mu_b", 0.0, 1.0)
        tau_b = pm.HalfNormal("tau_b", 0.1)
        z_b = pm.Normal("z_b", 0.0, 1.0, shape=n_m)
        mu_a = pm.Normal("mu_a", y.mean(), 2.0)
        tau_a = pm.HalfNormal("tau_a", 1.0)
        a = pm.Normal("a", mu_a, tau_a, shape=n_m)
        s = pm.HalfNormal("s", 1.0)
        nu = pm.Gamma("nu", 2.0, 0.1)
        pm.StudentT("y", nu=nu, mu=a[g] + (mu_b + tau_b * z_b)[g] * x, sigma=s, observed=y)
    return {"plain regression": plain, f"robust hierarchical ({y.size} points)": robust}


def timed_sample(pm, model, args, seed):
    t0 = time.perf_counter()
    idata = pm.sample(draws=args.draws, tune=args.tune, chains=args.chains, cores=args.cores, random_seed=seed,
                      model=model, progressbar=False, quiet=True, compute_convergence_checks=False)
    wall = time.perf_counter() - t0
    sampling = float(idata.posterior.attrs["sampling_time"])
    return {"setup": wall - sampling, "sampling": sampling, "total": wall,
            "divergences": int(idata.sample_stats["diverging"].sum()),
            "n_steps": float(idata.sample_stats["n_steps"].mean())}


def worker(args) -> dict:
    from threadpoolctl import threadpool_limits

    from uncertain_cost.growth import build_model, fit_bayes, fit_ols_methods, simulate_growth_data
    from uncertain_cost.growth.bayes import import_pymc

    out = {}
    data, _ = simulate_growth_data(seed=args.seed, n_models=args.n_models, n_draws=args.mc_draws)
    t0 = time.perf_counter()
    for _ in range(100):
        fit_ols_methods(data)
    out["ols (3 methods)"] = {"total": (time.perf_counter() - t0) / 100}
    t0 = time.perf_counter()
    pm = import_pymc()
    out["import pymc"] = {"total": time.perf_counter() - t0}
    t0 = time.perf_counter()
    density = build_model(data).density
    out["build model (measurement, weights)"] = {"total": time.perf_counter() - t0}
    t0 = time.perf_counter()
    density.logp_and_grad(density.initial_point())
    out["numba kernel (compile or cache load)"] = {"total": time.perf_counter() - t0}
    for name, model in baseline_models(data, pm).items():
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            out[name] = timed_sample(pm, model, args, args.seed)
    for run in ("first", "second"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = fit_bayes(data, seed=args.seed, draws=args.draws, tune=args.tune, chains=args.chains,
                          cores=args.cores)
        d = r.diagnostics
        out[f"growth fit ({run})"] = {
            "setup": r.timings["build"] + r.timings["setup"], "sampling": r.timings["sampling"],
            "total": r.timings["total"], "divergences": d.divergences,
            "n_steps": float(r.idata.sample_stats["n_steps"].mean()),
            "r_hat_max": d.r_hat_max, "ess_bulk_min": d.ess_bulk_min, "ess_tail_min": d.ess_tail_min,
            "n_obs": int(sum(r.n_models.values())),
        }
    return out


def _timed_fit(data, sampler: str, seed: int, draws: int, tune: int, chains: int) -> dict:
    from uncertain_cost.growth.bayes import fit_bayes

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = fit_bayes(data, seed=seed, draws=draws, tune=tune, chains=chains, cores=2, sampler=sampler)
    wall = time.perf_counter() - t0
    d = r.diagnostics
    return {"wall_s": wall, "ess_bulk_min": d.ess_bulk_min, "ess_tail_min": d.ess_tail_min, "r_hat_max": d.r_hat_max,
            "divergences": d.divergences, "ess_per_s": d.ess_bulk_min / wall,
            "growth_amortized": r.summary("amortized")["growth"]}


def _timed_default_pymc(data, seed: int) -> dict:
    """``pymc.sample()`` with its defaults (1000 tune, 1000 draws, jitter+adapt_diag) on the same model."""
    from uncertain_cost.growth.bayes import _finish, build_model, child_seeds, import_pymc

    t0 = time.perf_counter()
    gm = build_model(data)
    t1 = time.perf_counter()
    pm = import_pymc()
    sampler_seed, coef_seed, _ = child_seeds(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = pm.sample(model=gm.model, chains=4, cores=2, random_seed=sampler_seed, progressbar=False,
                          quiet=True, compute_convergence_checks=False)
        t2 = time.perf_counter()
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
    """ESS per second of the growth stage's joint fit against PyMC's default sampler, in one call.

    Both fit the same posterior (the model of `uncertain_cost.growth.bayes.build_model` on
    simulated data shaped like the paper's: 3 methods, correlated Monte Carlo draws), timed in
    this process, each twice, alternating (stage, default, stage, default). Every timing
    includes the fit's own setup: building the model and, for ``pymc.sample``, compiling its
    PyTensor functions (which PyMC does on every call). The first pair also pays what a process
    pays once (loading the numba kernel and C callback from the disk cache, ArviZ's numba
    JIT, PyTensor's module cache); the second pair is the steady state of a growth stage,
    which runs 10-15 fits in one process (joint, single, repaired, backtest, value of
    information), measured as `REPEATS` pairs with sampler seeds ``seed + 1 ...`` and
    pooled (total ESS over total wall time; mean wall time and ESS per fit reported).
    ``growth_speedup`` is the steady-state ratio; ``growth_speedup_first_fit`` the first
    pair's.

    Parameters
    ----------
    quick : bool, default False
        40 instead of 64 simulated frontier models.
    seed : int, default 0

    Returns
    -------
    dict
        ``growth_speedup`` (stage ESS/s over default ESS/s, second pair),
        ``growth_speedup_first_fit`` (first pair), ``stage`` and ``pymc_default`` (second pair),
        ``stage_first_fit`` and ``pymc_default_first_fit``
        (each ``wall_s``, ``ess_bulk_min``, ``ess_tail_min``, ``r_hat_max``, ``divergences``,
        ``ess_per_s``, ``growth_amortized``), ``n_models``, ``sampler``, ``draws``, ``tune``,
        ``chains``.
    """
    from uncertain_cost.growth import simulate_growth_data
    from uncertain_cost.growth.bayes import DEFAULT_TUNE, import_pymc
    from uncertain_cost.growth.settings import GrowthSettings

    settings = GrowthSettings()
    n_models = 40 if quick else 64
    data, _ = simulate_growth_data(seed=seed, n_models=n_models, n_draws=4000)
    import_pymc()  # imported once, outside both timings
    # no warm-up: the stage's time includes loading (or compiling) its numba kernel and C callback
    tune = DEFAULT_TUNE[settings.sampler] if settings.tune is None else settings.tune
    stage_first = _timed_fit(data, settings.sampler, seed, settings.draws, tune, settings.chains)
    default_first = _timed_default_pymc(data, seed)
    # steady state: REPEATS alternating pairs with different sampler seeds, pooled (the minimum
    # ESS of one fit varies by +-20 % between seeds, more than the samplers differ)
    stages, defaults = [], []
    for k in range(1, REPEATS + 1):
        stages.append(_timed_fit(data, settings.sampler, seed + k, settings.draws, tune, settings.chains))
        defaults.append(_timed_default_pymc(data, seed + k))
    stage, default = _pooled(stages), _pooled(defaults)
    return {"growth_speedup": stage["ess_per_s"] / default["ess_per_s"], "stage": stage, "pymc_default": default,
            "growth_speedup_first_fit": stage_first["ess_per_s"] / default_first["ess_per_s"],
            "stage_first_fit": stage_first, "pymc_default_first_fit": default_first, "repeats": REPEATS,
            "n_models": n_models, "sampler": settings.sampler, "draws": settings.draws, "tune": tune,
            "chains": settings.chains}


def print_measure(result: dict) -> None:
    """Print `measure`'s result as a table."""
    print(f"growth fit, {result['n_models']} simulated models: stage = {result['sampler']} "
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


def run_phase(phase: str, compiledir: str, args) -> dict:
    env = dict(os.environ, PYTENSOR_FLAGS=f"compiledir={compiledir}",
               NUMBA_CACHE_DIR=os.path.join(compiledir, "numba"))
    cmd = [sys.executable, __file__, "--worker", "--seed", str(args.seed), "--n-models", str(args.n_models),
           "--draws", str(args.draws), "--tune", str(args.tune), "--chains", str(args.chains),
           "--cores", str(args.cores), "--mc-draws", str(args.mc_draws)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process (wall)"] = {"total": time.perf_counter() - t0}
    return result


def report(phase: str, res: dict) -> None:
    print(f"\n== {phase} ==")
    print(f"{'stage':38s} {'setup s':>8s} {'sampl. s':>8s} {'total s':>8s}  notes")
    for name, r in res.items():
        notes = []
        if "n_steps" in r:
            notes.append(f"{r['n_steps']:.1f} leapfrog/draw, {r['divergences']} div")
        if "r_hat_max" in r:
            notes.append(f"R-hat max {r['r_hat_max']:.3f}, ESS bulk/tail min {r['ess_bulk_min']:.0f}/"
                         f"{r['ess_tail_min']:.0f}, {r['n_obs']} obs")
        setup = f"{r['setup']:8.2f}" if "setup" in r else " " * 8
        sampling = f"{r['sampling']:8.2f}" if "sampling" in r else " " * 8
        print(f"{name:38s} {setup} {sampling} {r['total']:8.3f}  {'; '.join(notes)}")
    fit = res["growth fit (first)"]
    base = res["plain regression"]
    robust = next(v for k, v in res.items() if k.startswith("robust"))
    imp = res["import pymc"]["total"] + res["numba kernel (compile or cache load)"]["total"]
    print(f"growth fit / plain regression: setup x{fit['setup'] / base['setup']:.2f}, "
          f"sampling x{fit['sampling'] / base['sampling']:.2f}, total x{fit['total'] / base['total']:.2f}")
    print(f"growth fit / robust hierarchical:  setup x{fit['setup'] / robust['setup']:.2f}, "
          f"sampling x{fit['sampling'] / robust['sampling']:.2f}, total x{fit['total'] / robust['total']:.2f}")
    print(f"whole default fit incl. `import pymc` and the kernel: first {fit['total'] + imp:.1f} s, "
          f"second in the same process {res['growth fit (second)']['total']:.1f} s")


def measure_stage(results_nc: str, seed: int = 20240531) -> dict:
    """The whole growth stage (`fit_growth`) on a run's costs with each sampler, in one process.

    Parameters
    ----------
    results_nc : str
        A run folder's ``results.nc`` (its ``costs`` group is the data).
    seed : int, default 20240531
        The default config's seed.

    Returns
    -------
    dict
        Per sampler (``nutpie``, ``pymc``): ``wall_s``, ``ess_bulk_min`` (over every Bayesian
        row), ``ess_per_s``, the stage's ``timings`` and the amortized growth per estimator;
        ``ess_per_s_ratio`` (nutpie over pymc).
    """
    import xarray as xr

    from uncertain_cost.growth.bayes import import_pymc
    from uncertain_cost.growth.data import GrowthData
    from uncertain_cost.growth.settings import GrowthSettings
    from uncertain_cost.growth.step import fit_growth

    import_pymc()  # outside both timings
    with xr.open_dataset(results_nc, group="costs") as ds:
        data = GrowthData.from_cost_dataset(ds.load())
    out = {}
    for sampler in ("nutpie", "pymc"):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome = fit_growth(data, GrowthSettings(sampler=sampler), seed)
        wall = time.perf_counter() - t0
        rows = [r for r in outcome.growth_rows if str(r["estimator"]).startswith("bayes")]
        ess = min(float(r["ess_bulk_min"]) for r in rows)
        out[sampler] = {"wall_s": wall, "ess_bulk_min": ess, "ess_per_s": ess / wall,
                        "timings": dict(outcome.timings),
                        "amortized": {r["estimator"]: r["growth_per_year"] for r in rows if r["method"] == "amortized"}}
        print(f"{sampler:7s} wall {wall:7.1f} s  bulk ESS min {ess:7.0f}  ESS/s {ess / wall:7.1f}  amortized "
              + ", ".join(f"{k} {v:.3f}" for k, v in out[sampler]["amortized"].items()), flush=True)
    out["ess_per_s_ratio"] = out["nutpie"]["ess_per_s"] / out["pymc"]["ess_per_s"]
    return out


def measure_kernel(n_models: int = 40, calls: int = 20000, seed: int = 0) -> dict:
    """Microseconds per call of the growth model's log density and gradient: numba kernel vs NumPy.

    Both on the same simulated data and point (3 methods, ``n_models`` models); the kernel is
    called from a compiled loop (as nutpie's callback calls it, no Python in between), the
    NumPy reference (`LogDensity.logp_and_grad_reference`) from Python. Best of 5 repeats.

    Returns
    -------
    dict
        ``n_obs``, ``kernel_us``, ``numpy_us``, ``kernel_speedup``.
    """
    from numba import njit

    from uncertain_cost.growth import build_model, simulate_growth_data
    from uncertain_cost.growth.kernel import unpacked_logp_and_grad
    from uncertain_cost.growth.native import pack_density

    @njit
    def repeat(theta, buf, n):
        acc = 0.0
        for _ in range(n):
            value, grad = unpacked_logp_and_grad(theta, buf)
            acc += value + grad[0]
        return acc

    data, _ = simulate_growth_data(seed=seed, n_models=n_models, n_draws=4000)
    density = build_model(data).density
    buf = pack_density(density)
    theta = density.initial_point() + np.random.default_rng(seed).normal(0.0, 0.3, density.size)
    repeat(theta, buf, 10)
    kernel = numpy = math.inf
    for _ in range(5):
        t0 = time.perf_counter()
        repeat(theta, buf, calls)
        kernel = min(kernel, (time.perf_counter() - t0) / calls * 1e6)
        t0 = time.perf_counter()
        for _ in range(calls // 100):
            density.logp_and_grad_reference(theta)
        numpy = min(numpy, (time.perf_counter() - t0) / (calls // 100) * 1e6)
    return {"n_obs": int(buf[0]), "kernel_us": kernel, "numpy_us": numpy, "kernel_speedup": numpy / kernel}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-models", type=int, default=64)
    p.add_argument("--mc-draws", type=int, default=4000)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--phase", choices=("both", "cold", "warm"), default=None,
                   help="run the older cold/warm compile study instead of measure()")
    p.add_argument("--quick", action="store_true", help="measure(): 40 models instead of 64")
    p.add_argument("--stage", metavar="RESULTS_NC", default=None,
                   help="measure_stage(): the whole growth stage on a run's results.nc, nutpie vs pymc")
    p.add_argument("--kernel", action="store_true",
                   help="measure_kernel(): us per log-density call, numba kernel vs NumPy reference")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.kernel:
        for n_models in (40, 64):
            r = measure_kernel(n_models)
            print(f"{n_models} models, {r['n_obs']} observations: kernel {r['kernel_us']:.2f} us, "
                  f"NumPy {r['numpy_us']:.1f} us, x{r['kernel_speedup']:.1f}")
        return 0
    if args.stage is not None:
        result = measure_stage(args.stage)
        print(json.dumps({"stage_ess_per_s_ratio": result["ess_per_s_ratio"]}))
        return 0
    if args.worker:
        print(json.dumps(worker(args)))
        return 0
    if args.phase is None:
        result = measure(quick=args.quick, seed=args.seed)
        print_measure(result)
        print(json.dumps({"growth_speedup": result["growth_speedup"]}))
        return 0
    compiledir = tempfile.mkdtemp(prefix="bench_growth_pytensor_")
    try:
        phases = ("cold", "warm") if args.phase == "both" else (args.phase,)
        if args.phase == "warm":
            run_phase("prime", compiledir, args)
        for phase in phases:
            report(phase, run_phase(phase, compiledir, args))
    finally:
        shutil.rmtree(compiledir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
