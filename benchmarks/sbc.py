"""Simulation-based calibration (Talts et al. 2018) of the single-method growth model's parameters.

Run from the repository root::

    PYTHONPATH=src:. python -m benchmarks.sbc --replicates 100 --seed 11 [--workers 2]
    PYTHONPATH=src:. python -m benchmarks.calibration --sbc 100 --seed 11     # the same

Each replicate draws the parameters from the priors of the single-method model
(`uncertain_cost.growth.bayes.GrowthPriors`, defaults),

    slope ~ N(slope_mean, slope_sd),  intercept ~ N(level, intercept_sd),
    scatter_model ~ Gamma(2, rate 2 / scatter_model_mean),  nu ~ Gamma(nu_alpha, rate nu_beta),
    v_i ~ StudentT(nu, 0, scatter_model),  y ~ MvNormal(intercept + slope (t_i - year_ref) + v, C),

on the real frontier set of the default config and its amortized method (the 41 years the
engine costs, ``year_ref`` their mean) with ``C`` the real engine's Monte Carlo covariance
(eigenvalues floored as the fit floors them, `uncertain_cost.growth.data.EIGENVALUE_FLOOR`),
so the data come exactly from the model the fit assumes. The fit's draws are the engine's
Monte Carlo re-centred on ``y`` (their covariance is ``C``, their median ``y``). It fits with
`fit_bayes` (sampler, ``target_accept``, ``center`` from `GrowthSettings`), thins the
posterior to ``L = 99`` draws and records the rank of each true parameter among them (0..99).
If the fit is calibrated the ranks are uniform; the 100 rank values are pooled into 10 bins
and a chi-square test gives a p-value per parameter.

One departure from exact SBC: the fit centres its intercept prior on the mean observed log10
cost (``N(ybar, intercept_sd)``, data-dependent) where the simulation draws the intercept
from ``N(level, intercept_sd)`` around the engine's mean median cost (``level``). The intercept
prior (sd 2 dex) is far wider than the intercept's posterior (41 models pin the level), so
this should move the posterior little; the intercept's own rank is reported but is the least exact of the four.

Seeds: replicate ``r`` uses ``SeedSequence(seed, spawn_key=(2, r))``, the engine
``spawn_key=(0,)`` (as `benchmarks.calibration`): results do not depend on ``--workers``.
The LAST line of output is one JSON object: ``replicates``, ``seed``, ``sbc_pvalue`` (per
parameter), ``rank_counts`` (per parameter, 10 bins), diagnostics, settings, ``runtime_s``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings

import numpy as np

from benchmarks.calibration import EngineMonteCarlo, _json_ready, engine_monte_carlo, map_replicates, study_progress

__all__ = ["PARAMETERS", "N_RANK_DRAWS", "N_BINS", "sbc_replicate", "run_sbc", "rank_summary", "summarize_sbc",
           "format_sbc", "main"]

#: Parameters whose ranks are checked.
PARAMETERS = ("slope", "scatter_model", "nu", "intercept")

#: Thinned posterior draws per rank (ranks 0..N_RANK_DRAWS) and rank bins of the chi-square test.
N_RANK_DRAWS = 99
N_BINS = 10

#: The method whose real years and Monte Carlo covariance the simulations use.
SBC_METHOD = "amortized"


def _floored_noise_factor(draws: np.ndarray) -> np.ndarray:
    from uncertain_cost.growth.data import EIGENVALUE_FLOOR

    cov = np.atleast_2d(np.cov(draws, rowvar=False))
    w, v = np.linalg.eigh(cov)
    return v * np.sqrt(np.maximum(w, EIGENVALUE_FLOOR))[None, :]


def sbc_replicate(index: int, seed: int, *, chains: int = 2, draws: int = 500, tune: int = 500,
                  engine: EngineMonteCarlo | None = None) -> dict:
    """One SBC replicate: parameters from the priors, data from the model, fit, ranks.

    Parameters
    ----------
    index : int
        Replicate number (its seed: ``spawn_key=(2, index)``).
    seed : int
        Study seed.
    chains, draws, tune : int
        NUTS settings; ``chains * draws`` must be at least `N_RANK_DRAWS`.
    engine : EngineMonteCarlo, optional
        Default: the one handed to the worker process.

    Returns
    -------
    dict
        ``index``, ``truth`` and ``rank`` (per parameter), diagnostics (``r_hat_max``,
        ``ess_bulk_min``, ``ess_tail_min``, ``divergences``), ``seconds``.
    """
    from benchmarks import calibration
    from uncertain_cost.growth.bayes import GrowthPriors, fit_bayes
    from uncertain_cost.growth.data import GrowthData
    from uncertain_cost.growth.settings import GrowthSettings

    t0 = time.perf_counter()
    eng = engine if engine is not None else calibration._ENGINE
    if eng is None:
        raise ValueError("sbc_replicate needs an EngineMonteCarlo (engine=...)")
    if chains * draws < N_RANK_DRAWS:
        raise ValueError(f"need chains * draws >= {N_RANK_DRAWS}, got {chains} x {draws}")
    priors, settings = GrowthPriors(), GrowthSettings()
    costed = eng.costed(SBC_METHOD)
    year = eng.year[costed]
    mc = eng.draws[SBC_METHOD][:, costed]
    med = eng.median[SBC_METHOD][costed]
    year_ref = float(np.mean(year))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2, index)))
    truth = {
        "slope": float(rng.normal(priors.slope_mean, priors.slope_sd)),
        "intercept": float(rng.normal(float(np.mean(med)), priors.intercept_sd)),
        "scatter_model": float(rng.gamma(2.0, priors.scatter_model_mean / 2.0)),
        "nu": float(rng.gamma(priors.nu_alpha, 1.0 / priors.nu_beta)),
    }
    n = year.size
    effect = truth["scatter_model"] * rng.standard_t(truth["nu"], n)
    noise = _floored_noise_factor(mc) @ rng.standard_normal(n)
    y = truth["intercept"] + truth["slope"] * (year - year_ref) + effect + noise
    fit_seed = int(rng.integers(0, 2**31 - 1))
    full = np.full((mc.shape[0], eng.year.size), np.nan)
    full[:, costed] = mc - med[None, :] + y[None, :]
    data = GrowthData(eng.year, {SBC_METHOD: full}, model=eng.model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_bayes(data, seed=fit_seed, draws=draws, tune=tune, chains=chains, cores=1,
                        target_accept=settings.target_accept, level=settings.level, center=settings.center,
                        sampler=settings.sampler, r_hat_threshold=settings.r_hat_max)
    if abs(fit.year_ref - year_ref) > 1e-9:  # the simulation's reference year must be the fit's
        raise ValueError(f"year_ref mismatch: fit {fit.year_ref}, simulation {year_ref}")
    rank = {}
    for name in PARAMETERS:
        post = fit.draws(name, SBC_METHOD) if name in ("slope", "intercept") else fit.draws(name)
        thin = post[(np.arange(N_RANK_DRAWS) * post.size) // N_RANK_DRAWS]
        rank[name] = int(np.sum(thin < truth[name]))
    d = fit.diagnostics
    return {"index": int(index), "truth": truth, "rank": rank, "r_hat_max": float(d.r_hat_max),
            "ess_bulk_min": float(d.ess_bulk_min), "ess_tail_min": float(d.ess_tail_min),
            "divergences": int(d.divergences), "seconds": time.perf_counter() - t0}


def _sbc_task(args: tuple) -> dict:
    index, seed, kwargs = args
    return sbc_replicate(index, seed, **kwargs)


def rank_summary(results: list[dict]) -> dict:
    """Bin the ranks and test their uniformity per parameter.

    Parameters
    ----------
    results : list of dict
        `sbc_replicate` outputs.

    Returns
    -------
    dict
        ``rank_counts`` (per parameter, `N_BINS` counts of ranks 0..`N_RANK_DRAWS`),
        ``sbc_pvalue`` (chi-square test of uniform bins, per parameter), ``mean_rank_fraction``
        (mean of rank / `N_RANK_DRAWS`, 0.5 when calibrated).
    """
    from scipy import stats

    counts, pvalues, means = {}, {}, {}
    per_bin = (N_RANK_DRAWS + 1) // N_BINS
    for name in PARAMETERS:
        ranks = np.array([r["rank"][name] for r in results])
        c = np.bincount(ranks // per_bin, minlength=N_BINS)
        counts[name] = [int(x) for x in c]
        pvalues[name] = float(stats.chisquare(c).pvalue) if ranks.size else float("nan")
        means[name] = float(np.mean(ranks) / N_RANK_DRAWS) if ranks.size else float("nan")
    return {"rank_counts": counts, "sbc_pvalue": pvalues, "mean_rank_fraction": means}


def run_sbc(replicates: int, seed: int, *, workers: int = 2, mc_draws: int = 2000, chains: int = 2,
            draws: int = 500, tune: int = 500, first: int = 0, progress=None) -> dict:
    """Run the SBC study.

    Parameters
    ----------
    replicates : int
        Number of SBC replicates (>= 1).
    seed : int
    workers : int, default 2
        Process-pool size (1: in this process); results do not depend on it.
    mc_draws : int, default 2000
        Engine draws forming the measurement covariance.
    chains, draws, tune : int, default 2, 500, 500
    first : int, default 0
        Index of the first replicate (a shard of a larger study).
    progress : callable, optional
        Called as ``progress(line, result)`` per finished replicate.

    Returns
    -------
    dict
        `rank_summary` plus ``replicates``, ``seed``, ``parameters``, ``diagnostics``,
        ``settings``, ``runtime_s``, ``workers`` and ``replicate_results``.
    """

    if replicates < 1 or workers < 1 or first < 0:
        raise ValueError(f"need replicates, workers >= 1 and first >= 0, got {replicates}, {workers}, {first}")
    t0 = time.perf_counter()
    engine = engine_monte_carlo(seed, mc_draws, 1)
    kwargs = {"chains": chains, "draws": draws, "tune": tune}
    say = progress if progress is not None else (lambda line, result=None: None)

    def report(r, done):
        ranks = ", ".join(f"{k} {v}" for k, v in r["rank"].items())
        say(f"sbc replicate {r['index']} ({done}/{replicates}, {r['seconds']:.1f} s): ranks {ranks}", r)

    tasks = [(r, seed, kwargs) for r in range(first, first + replicates)]
    results = map_replicates(_sbc_task, tasks, engine, workers, report)
    out = _study(results, seed, {**kwargs, "mc_draws": mc_draws})
    out["runtime_s"] = round(time.perf_counter() - t0, 1)
    out["workers"] = workers
    out["replicate_results"] = results
    return out


def _study(results: list[dict], seed: int, settings: dict) -> dict:
    from uncertain_cost.growth.settings import GrowthSettings

    out = {"replicates": len(results), "seed": seed, "parameters": list(PARAMETERS), **rank_summary(results)}
    out["diagnostics"] = {
        "fits": len(results),
        "r_hat_max": max(r["r_hat_max"] for r in results),
        "ess_bulk_min": min(r["ess_bulk_min"] for r in results),
        "ess_tail_min": min(r["ess_tail_min"] for r in results),
        "divergences": sum(r["divergences"] for r in results),
        "fits_with_divergences": sum(r["divergences"] > 0 for r in results),
        "fits_r_hat_over_1_01": sum(r["r_hat_max"] > 1.01 for r in results),
    }
    gs = GrowthSettings()
    out["settings"] = {**settings, "sampler": gs.sampler, "target_accept": gs.target_accept,
                       "method": SBC_METHOD, "rank_draws": N_RANK_DRAWS, "bins": N_BINS}
    return out


def summarize_sbc(paths, *, seed: int, settings: dict) -> dict:
    """Combine the per-replicate JSON lines of SBC shards (``--details``) into one study.

    Parameters
    ----------
    paths : sequence of str
    seed : int
    settings : dict
        ``chains``, ``draws``, ``tune``, ``mc_draws`` of the shards.

    Returns
    -------
    dict
        As `run_sbc` (without ``runtime_s`` and ``workers``); an index seen twice counts once.
    """
    seen = {}
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    r = json.loads(line)
                    seen.setdefault(r["index"], r)
    if not seen:
        raise ValueError(f"no SBC results in {list(paths)}")
    results = [seen[i] for i in sorted(seen)]
    out = _study(results, seed, settings)
    out["replicate_results"] = results
    return out


def format_sbc(result: dict) -> str:
    """Human-readable table of a `run_sbc` result.

    Parameters
    ----------
    result : dict

    Returns
    -------
    str
    """
    s = result["settings"]
    lines = [f"SBC of the single-method model ({s['method']} years and Monte Carlo covariance): "
             f"{result['replicates']} replicates, seed {result['seed']}, {s['chains']} chains x {s['draws']} draws "
             f"(+{s['tune']} tune), ranks among {s['rank_draws']} thinned draws, {s['bins']} bins", "",
             f"{'parameter':<14} {'chi2 p':>7} {'mean rank':>9}  rank counts per bin"]
    for name in result["parameters"]:
        counts = " ".join(f"{c:3d}" for c in result["rank_counts"][name])
        lines.append(f"{name:<14} {result['sbc_pvalue'][name]:>7.3f} {result['mean_rank_fraction'][name]:>9.3f}  "
                     f"{counts}")
    d = result["diagnostics"]
    lines += ["", f"diagnostics over {d['fits']} fits: R-hat max {d['r_hat_max']:.4f} ({d['fits_r_hat_over_1_01']} "
              f"> 1.01), bulk/tail ESS min {d['ess_bulk_min']:.0f}/{d['ess_tail_min']:.0f}, divergences "
              f"{d['divergences']} (in {d['fits_with_divergences']} fits)"]
    if "runtime_s" in result:
        lines.append(f"runtime {result['runtime_s']:.1f} s with {result['workers']} worker(s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--replicates N --seed S [--workers W]``; prints the table, then the JSON line.

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sbc", description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=100)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mc-draws", type=int, default=2000)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--first", type=int, default=0, help="index of the first replicate (a shard)")
    parser.add_argument("--details", default=None, help="write each replicate's result here (JSON lines)")
    parser.add_argument("--summarize", nargs="+", default=None, metavar="JSONL",
                        help="combine --details files of one seed instead of running")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    progress, details = study_progress(args.details, args.quiet)
    try:
        if args.summarize:
            result = summarize_sbc(args.summarize, seed=args.seed, settings={
                "chains": args.chains, "draws": args.draws, "tune": args.tune, "mc_draws": args.mc_draws})
        else:
            result = run_sbc(args.replicates, args.seed, workers=args.workers, mc_draws=args.mc_draws,
                             chains=args.chains, draws=args.draws, tune=args.tune, first=args.first,
                             progress=progress)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if details is not None:
            details.close()
    print(format_sbc(result))
    print(json.dumps(_json_ready(result)))
    return 0


if __name__ == "__main__":
    # run the importable module, so the pool pickles its functions by their module name
    from benchmarks.sbc import main as _main

    sys.exit(_main())
