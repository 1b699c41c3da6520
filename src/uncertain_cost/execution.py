"""Where a run's work happens: this process, or a Dask cluster, with identical results.

``[execution] backend = "local" | "dask"``. On Dask, every scenario (a plain run is one
scenario) becomes one task that resolves its facts, one task per range of
``blocks_per_task`` random blocks of its Monte Carlo (:func:`uncertain_cost.engine.simulate_blocks`),
and one task that merges the ranges in block order and fits growth, development cost and
sensitivity. Every random stream is keyed by (input, column, block), so the result for a seed
does not depend on the backend, the number of workers or the block ranges. Memory per Monte
Carlo task is bounded by its range; a lost worker's tasks are retried; a failed run raises
before anything is written.
"""

from __future__ import annotations

import copyreg
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from uncertain_cost.config import Config
from uncertain_cost.engine import CostArrays, Simulation, point_costs, simulate, simulate_blocks
from uncertain_cost.errors import ConfigError
from uncertain_cost.pipeline import Progress
from uncertain_cost.result import RunResult
from uncertain_cost.sampling.design import BLOCK_DRAWS

__all__ = ["ExecutionSettings", "INSTALL_HINT", "run_with_backend", "block_ranges", "merge_blocks",
           "simulate_in_ranges", "run_local", "run_dask"]

#: what to install for the Dask backend
INSTALL_HINT = "pip install 'uncertain_cost[dask]'"
#: how often Dask re-runs a task whose worker was lost
RETRIES = 2
#: environment of LocalCluster workers: one thread each (processes, not threads, share the cores)
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _mappingproxy(table: dict) -> MappingProxyType:
    return MappingProxyType(table)


# configs hold read-only mappings; let them travel to Dask workers (pickle cannot by default)
copyreg.pickle(MappingProxyType, lambda m: (_mappingproxy, (dict(m),)))


@dataclass(frozen=True)
class ExecutionSettings:
    """``[execution]``: where the run's tasks go.

    Attributes
    ----------
    backend : {"local", "dask"}
    scheduler : str or None
        Address of an existing Dask scheduler (``"tcp://host:8786"``).
    workers : int or None
        Start a ``LocalCluster`` of this many single-threaded worker processes on loopback
        (default when neither is given: 2).
    blocks_per_task : int
        Random blocks of 16,384 draws per Monte Carlo task.
    """

    backend: str = "local"
    scheduler: str | None = None
    workers: int | None = None
    blocks_per_task: int = 2

    @classmethod
    def from_config(cls, config: Config) -> ExecutionSettings:
        """Read ``[execution]`` (values already type-checked by :func:`uncertain_cost.config.parse_config`).

        Raises
        ------
        ConfigError
            ``scheduler`` together with ``workers``, or either without ``backend = "dask"``.
        """
        table = config.section("execution")
        out = cls(**table)
        if out.scheduler is not None and out.workers is not None:
            raise ConfigError("execution.workers", "give scheduler (an existing cluster) or workers (a local one), "
                              "not both", config.source)
        if out.backend == "local":
            for key in ("scheduler", "workers"):
                if getattr(out, key) is not None:
                    raise ConfigError(f"execution.{key}", "only used with backend = \"dask\"", config.source)
        return out


def block_ranges(n_draws: int, blocks_per_task: int) -> list[tuple[int, int]]:
    """Half-open block ranges ``[(0, k), (k, 2k), ...]`` covering the blocks of ``n_draws`` draws."""
    if n_draws < 1 or blocks_per_task < 1:
        raise ValueError("n_draws and blocks_per_task must be >= 1")
    n_blocks = -(-n_draws // BLOCK_DRAWS)
    return [(b, min(b + blocks_per_task, n_blocks)) for b in range(0, n_blocks, blocks_per_task)]


def merge_blocks(facts, inputs, n_draws: int, seed: int, parts: Sequence[Mapping], *, keep_draws: int = 10_000,
                 interconnect_fraction: float = 0.19) -> Simulation:
    """Assemble a :class:`~uncertain_cost.engine.Simulation` from :func:`~uncertain_cost.engine.simulate_blocks` pieces.

    Parameters
    ----------
    facts : ModelFacts
    inputs : InputSet
    n_draws, seed : int
        Of the whole run.
    parts : sequence of dict
        Pieces covering every draw exactly once (any order; merged by ``start``).
    keep_draws : int
    interconnect_fraction : float

    Returns
    -------
    Simulation
        Equal, array for array, to ``simulate(facts, inputs, n_draws, seed, ...)``.

    Raises
    ------
    ValueError
        If the pieces leave a gap or overlap.
    """
    ordered = sorted(parts, key=lambda p: p["start"])
    at = 0
    for part in ordered:
        if part["start"] != at:
            raise ValueError(f"block pieces do not cover the draws: expected a piece from row {at}, "
                             f"got {part['start']}")
        at = part["stop"]
    if at != n_draws:
        raise ValueError(f"block pieces cover {at} of {n_draws} draws")
    totals = {m: np.concatenate([p["totals"][m] for p in ordered]) for m in ("amortized", "cloud", "acquisition")}
    components = np.concatenate([p["components"] for p in ordered])
    n_kept = min(keep_draws, n_draws)
    kept = CostArrays(components, totals["cloud"][:n_kept].astype(np.float64),
                      totals["acquisition"][:n_kept].astype(np.float64))
    point = point_costs(facts, inputs, interconnect_fraction=interconnect_fraction)
    return Simulation(kept, totals, point, n_draws, seed)


def simulate_in_ranges(facts, inputs, n_draws: int, seed: int, blocks_per_task: int, *, keep_draws: int = 10_000,
                       chunk_blocks: int = 4, interconnect_fraction: float = 0.19) -> Simulation:
    """Run the Monte Carlo range by range in this process, as the Dask backend splits it.

    Parameters
    ----------
    facts, inputs, n_draws, seed
        As :func:`uncertain_cost.engine.simulate`.
    blocks_per_task : int
        Blocks per range.
    keep_draws, chunk_blocks, interconnect_fraction
        As :func:`uncertain_cost.engine.simulate`.

    Returns
    -------
    Simulation
    """
    parts = [simulate_blocks(facts, inputs, n_draws, seed, b0, b1, keep_draws=keep_draws, chunk_blocks=chunk_blocks,
                             interconnect_fraction=interconnect_fraction)
             for b0, b1 in block_ranges(n_draws, blocks_per_task)]
    return merge_blocks(facts, inputs, n_draws, seed, parts, keep_draws=keep_draws,
                        interconnect_fraction=interconnect_fraction)


def _label(name: str | None) -> str:
    return f"scenario {name}: " if name else ""


def run_local(jobs: Mapping[str | None, Config], progress: Progress) -> dict[str | None, RunResult]:
    """Run every job (scenario name -> config) one after the other in this process."""
    from uncertain_cost.runner import finish_run, prepare_run

    out = {}
    for name, config in jobs.items():
        progress.stage(f"{_label(name)}resolving models")
        prepared = prepare_run(config, Progress(quiet=True))
        progress.stage(f"{_label(name)}sampling {config.run.draws:,} draws x {prepared.facts.n_models} models")
        sim = simulate(prepared.facts, config.inputs, config.run.draws, config.run.seed,
                       keep_draws=config.run.keep_draws, chunk_blocks=config.run.chunk_blocks,
                       interconnect_fraction=config.run.interconnect_fraction, progress=progress.draws)
        out[name] = finish_run(prepared, sim, progress)
    return out


def _prepare_task(config: Config):
    from uncertain_cost.runner import prepare_run

    return prepare_run(config)


def _blocks_task(prepared, first_block: int, stop_block: int) -> dict:
    run = prepared.config.run
    return simulate_blocks(prepared.facts, prepared.config.inputs, run.draws, run.seed, first_block, stop_block,
                           keep_draws=run.keep_draws, chunk_blocks=run.chunk_blocks,
                           interconnect_fraction=run.interconnect_fraction)


def _finish_task(prepared, *parts: dict) -> RunResult:
    from uncertain_cost.runner import finish_run

    config = prepared.config
    sim = merge_blocks(prepared.facts, config.inputs, config.run.draws, config.run.seed, parts,
                       keep_draws=config.run.keep_draws, interconnect_fraction=config.run.interconnect_fraction)
    return finish_run(prepared, sim)


def _client(settings: ExecutionSettings, source: str):
    """Connect to the configured scheduler, or start a LocalCluster; return (client, cluster or None)."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("execution.backend", f"the dask backend needs dask.distributed: {INSTALL_HINT}",
                          source) from None
    if settings.scheduler is not None:
        try:
            return Client(settings.scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as exc:
            raise ConfigError("execution.scheduler", f"cannot reach the Dask scheduler at {settings.scheduler}: "
                              f"{exc}", source) from None
    # not daemonic: the Bayesian growth fit starts its own sampler processes
    with dask.config.set({"distributed.worker.daemon": False}):
        cluster = LocalCluster(n_workers=settings.workers or 2, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None, env=dict(WORKER_ENV))
    return Client(cluster), cluster


def run_dask(jobs: Mapping[str | None, Config], settings: ExecutionSettings, progress: Progress,
             source: str = "<config>") -> dict[str | None, RunResult]:
    """Run every job (scenario name -> config) as Dask tasks; results in job order.

    Parameters
    ----------
    jobs : mapping of str or None to Config
    settings : ExecutionSettings
    progress : Progress
    source : str
        Config file for error messages.

    Returns
    -------
    dict of str or None to RunResult
    """
    client, cluster = _client(settings, source)
    try:
        token = uuid.uuid4().hex[:8]
        finals = {}
        submitted = []
        n_tasks = 0
        for k, (name, config) in enumerate(jobs.items()):
            tag = f"{k}-{token}"
            prepared = client.submit(_prepare_task, config, key=f"uc-prepare-{tag}", retries=RETRIES)
            parts = [client.submit(_blocks_task, prepared, b0, b1, key=f"uc-blocks-{b0}-{b1}-{tag}",
                                   retries=RETRIES)
                     for b0, b1 in block_ranges(config.run.draws, settings.blocks_per_task)]
            finals[name] = client.submit(_finish_task, prepared, *parts, key=f"uc-finish-{tag}", retries=RETRIES)
            submitted += [prepared, *parts, finals[name]]
            n_tasks += len(parts) + 2
        where = settings.scheduler or f"a local cluster of {settings.workers or 2} workers"
        progress.stage(f"dask: {len(jobs)} job(s), {n_tasks} tasks on {where}")
        _count_done(progress, submitted)
        values = client.gather(list(finals.values()))
        return dict(zip(finals, values, strict=True))
    finally:
        client.close()
        if cluster is not None:
            import logging

            nanny = logging.getLogger("distributed.nanny")
            level = nanny.level
            nanny.setLevel(logging.ERROR)  # "worker still alive, killing" on shutdown is expected
            try:
                cluster.close()
            finally:
                nanny.setLevel(level)


def _count_done(progress: Progress, futures: list) -> None:
    """Show the run's Dask tasks finishing on a progress bar (when output is live), until all are done."""
    if not progress.live() or not futures:
        return
    from distributed import as_completed

    with progress.task("dask tasks", len(futures), "tasks") as bar:
        for _ in as_completed(futures):
            bar.update(1)


def _without_figures(config: Config) -> Config:
    from dataclasses import replace

    sections = dict(config.sections)
    sections["report"] = {**sections.get("report", {}), "png": False}
    return replace(config, sections=MappingProxyType(sections))


def run_with_backend(config: Config, progress: Progress | None = None) -> RunResult:
    """Run ``config`` (all its scenarios, if any) on its ``[execution]`` backend.

    Parameters
    ----------
    config : Config
    progress : Progress, optional

    Returns
    -------
    RunResult
        A plain result without ``[scenarios]``; with them, the combined result of
        :func:`uncertain_cost.scenarios.combine`.

    Raises
    ------
    ConfigError
        Any mistake in the config or a scenario, before any work.
    """
    from uncertain_cost.scenarios import combine, scenario_configs

    progress = progress or Progress(quiet=True)
    settings = ExecutionSettings.from_config(config)
    scenarios = scenario_configs(config)
    jobs: dict[str | None, Config] = dict(scenarios) if scenarios else {None: config}
    if scenarios:  # the combined result keeps the first scenario's figures: draw no others
        jobs = {name: (cfg if k == 0 else _without_figures(cfg)) for k, (name, cfg) in enumerate(jobs.items())}
    if settings.backend == "dask":
        results = run_dask(jobs, settings, progress, config.source)
    else:
        results = run_local(jobs, progress)
    if not scenarios:
        return results[None]
    progress.stage(f"combining {len(results)} scenarios")
    return combine(results, config)
