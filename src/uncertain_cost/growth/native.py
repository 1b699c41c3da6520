"""nutpie on the growth model's numba kernel as a C callback: NUTS with no Python in the loop.

`sample_native` hands nutpie's Rust NUTS the numba ``cfunc`` of `uncertain_cost.growth.kernel`,
which reads the model's data from one packed float64 buffer (`GrowthModel.buffer`). Because
the callback captures no array it is compiled once and cached on disk for every data set, and
nutpie's chains run in Rust threads without the GIL, one per core. nutpie's own
`compile_pymc_model(..., backend="numba")` would instead compile a PyMC graph for every data
set (13-39 s each on this machine), and `nutpie.compiled_pyfunc.from_pyfunc` calls back into
Python under the GIL for every gradient.
"""

from __future__ import annotations

import time

import numpy as np

from uncertain_cost.growth.kernel import expand_callback, logp_callback, unpacked_logp_and_grad

__all__ = ["SAMPLE_STATS", "native_logp", "sample_native", "trace_to_inference_data"]


def native_logp(gm, theta: np.ndarray) -> tuple[float, np.ndarray]:
    """Evaluate the packed-buffer path in Python: the value nutpie's callback computes.

    Parameters
    ----------
    gm : uncertain_cost.growth.bayes.GrowthModel
    theta : ndarray

    Returns
    -------
    (float, ndarray)
        Log density and gradient; equal to ``gm.logp_and_grad(theta)``.
    """
    value, grad = unpacked_logp_and_grad(np.ascontiguousarray(theta, dtype=np.float64), gm.buffer())
    return float(value), grad


def sample_native(gm, *, draws: int, tune: int, chains: int, cores: int, seed: int,
                  target_accept: float = 0.9, progress: bool = False, low_rank: bool = True):
    """Sample ``gm``'s posterior with nutpie's NUTS calling the compiled kernel directly.

    Parameters
    ----------
    gm : uncertain_cost.growth.bayes.GrowthModel
    draws, tune, chains, cores : int
        As for `pymc.sample`; chains run in ``cores`` threads without the GIL.
    seed : int
    target_accept : float, default 0.9
    progress : bool, default False
    low_rank : bool, default True
        nutpie's low-rank modified mass matrix (a diagonal plus the few directions in which the
        draws and gradients are most correlated). With the coefficients integrated out, the
        per-model effects move together along the trend direction, which a purely diagonal
        mass matrix follows badly (measured on the retired joint model: slope bulk ESS 74-119
        from 2 x 500 draws on the shared-error test data, against 634-895 low-rank).

    Returns
    -------
    arviz.InferenceData
        ``posterior`` with ``theta`` (chain, draw, theta_dim_0), ``sample_stats`` (with
        ``diverging`` and ``n_steps``); ``posterior.attrs["sampling_time"]`` in seconds.
    """
    import nutpie
    from nutpie.compile_pymc import CompiledPyMCModel

    n = int(gm.size)
    buf = gm.buffer()
    start = gm.initial_point()

    def initial_point(init_seed):
        # the same jitter as PyMC's "jitter+..." inits: uniform(-1, 1) around the start
        return start + np.random.default_rng(init_seed).uniform(-1.0, 1.0, n)

    compiled = CompiledPyMCModel(
        dims={}, compiled_logp_func=logp_callback, compiled_expand_func=expand_callback,
        initial_point_func=initial_point, shared_data={}, user_data=buf, n_expanded=n,
        shape_info=(["theta"], [slice(0, n)], [(n,)]), logp_func=None, expand_func=None,
        _n_dim=n, _shapes={"theta": (n,)}, _coords={})
    t0 = time.perf_counter()
    sampler = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, cores=cores, seed=seed,
                            target_accept=target_accept, progress_bar=progress,
                            low_rank_modified_mass_matrix=bool(low_rank), return_raw_trace=True, blocking=False)
    trace = _wait_with_bar(sampler, chains * (tune + draws), f"NUTS {chains} chains x ({tune} tune + {draws} draws)")
    idata = trace_to_inference_data(trace, n)
    idata.posterior.attrs["sampling_time"] = time.perf_counter() - t0
    return idata


def _wait_with_bar(sampler, total: int, label: str):
    """Wait for a background nutpie sampler, its draws counted on the run's progress bar (if live).

    The same trace as ``nutpie.sample(..., blocking=True)``: only the waiting differs.
    """
    from uncertain_cost.progress import current

    progress = current()
    if progress.live():
        with progress.task(label, total, "draws") as bar:
            while True:
                try:
                    sampler._sampler.wait(0.25)  # returns when done; TimeoutError while sampling
                    break
                except TimeoutError:
                    done = sum(batch.num_rows for batch in sampler._sampler.inspect().get_arrow_trace()[0])
                    bar.update(max(0, min(done, total) - bar.n))
            bar.update(total - bar.n)
    try:
        return sampler.wait()
    except BaseException:
        sampler.cancel()
        raise


#: nutpie's per-draw statistics kept in ``sample_stats`` (its scalar ones; the draw-sized
#: gradient, mass-matrix and divergence-location columns are left out, as nutpie does by default).
SAMPLE_STATS = ("depth", "maxdepth_reached", "index_in_trajectory", "logp", "energy", "energy_error",
                "num_eigenvalues", "step_size", "step_size_bar", "mean_tree_accept", "mean_tree_accept_sym",
                "n_steps", "tuning", "diverging")


def trace_to_inference_data(trace, n: int):
    """Turn nutpie's raw Arrow trace into ``posterior`` (``theta``) and ``sample_stats``, without warm-up.

    The draws after tuning, value for value those of nutpie's own conversion
    (``nutpie.sample(..., return_raw_trace=False)``), at about a seventh of its time (4 ms
    against 26-39 ms for a warm fit of 4 x 1000 draws, 2026-12-02): that conversion also
    builds the warm-up groups, which nothing here reads.

    Parameters
    ----------
    trace : nutpie's raw trace (``return_raw_trace=True``)
    n : int
        Length of ``theta``.

    Returns
    -------
    arviz.InferenceData
        ``posterior`` with ``theta`` (chain, draw, theta_dim_0) and ``sample_stats`` with
        `SAMPLE_STATS` (chain, draw).
    """
    import arviz
    import pyarrow
    import xarray as xr

    draw_batches, stat_batches = trace.get_arrow_trace()
    thetas, stats = [], {name: [] for name in SAMPLE_STATS}
    for draws, stat in zip(draw_batches, stat_batches, strict=True):
        keep = ~pyarrow.array(stat.column("tuning")).to_numpy(zero_copy_only=False).astype(bool)
        theta = pyarrow.array(draws.column("theta")).flatten().to_numpy(zero_copy_only=False)
        thetas.append(theta.reshape(-1, n)[keep])
        for name in SAMPLE_STATS:
            stats[name].append(pyarrow.array(stat.column(name)).to_numpy(zero_copy_only=False)[keep])
    if len({t.shape[0] for t in thetas}) != 1:
        raise RuntimeError("nutpie returned chains of different lengths")
    theta = np.stack(thetas)
    coords = {"chain": np.arange(theta.shape[0]), "draw": np.arange(theta.shape[1])}
    posterior = xr.Dataset({"theta": (("chain", "draw", "theta_dim_0"), theta)},
                           coords=coords | {"theta_dim_0": np.arange(n)})
    sample_stats = xr.Dataset({name: (("chain", "draw"), np.stack(values)) for name, values in stats.items()},
                              coords=coords)
    return arviz.InferenceData(posterior=posterior, sample_stats=sample_stats)
