"""Where a run's Monte Carlo happens: this process, or a Dask cluster, with identical results.

``[execution] backend = "local" | "dask"``. A backend is a pure executor of Monte Carlo
blocks: the pipeline hands it one :class:`MonteCarloJob` per scenario (:meth:`submit`) and
later takes back the :class:`~uncertain_cost.engine.Simulation` (:meth:`result`); it never
calls back into the pipeline. The local backend runs :func:`uncertain_cost.engine.simulate`
when the result is asked for (one scenario in memory at a time). The Dask backend submits one
task per range of ``blocks_per_task`` random blocks (:func:`uncertain_cost.engine.simulate_blocks`)
as soon as a job is submitted, so the scenarios' Monte Carlo runs in parallel, and merges the
ranges in block order. Every random stream is keyed by (input, column, block), so the result
for a seed does not depend on the backend, the number of workers or the block ranges. Memory
per task is bounded by its range; a lost worker's tasks are retried; a failed task raises
before anything is written.
"""

from __future__ import annotations

import copyreg
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from uncertain_cost import engine
from uncertain_cost.config import Config, RunSettings
from uncertain_cost.data.facts import ModelFacts
from uncertain_cost.engine import CostArrays, Simulation, point_costs, simulate_blocks
from uncertain_cost.errors import ConfigError
from uncertain_cost.inputs import InputSet
from uncertain_cost.progress import Progress
from uncertain_cost.sampling.design import BLOCK_DRAWS

__all__ = ["ExecutionSettings", "INSTALL_HINT", "MonteCarloJob", "LocalBackend", "DaskBackend", "open_backend",
           "block_ranges", "merge_blocks", "simulate_in_ranges"]

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
        return cls.from_table(config.section("execution"), config.source)

    @classmethod
    def from_table(cls, table: Mapping, source: str = "<config>") -> ExecutionSettings:
        """Read an ``[execution]`` table (values already type-checked); ``source`` names the file in errors.

        Raises
        ------
        ConfigError
            ``scheduler`` together with ``workers``, or either without ``backend = "dask"``.
        """
        out = cls(**table)
        if out.scheduler is not None and out.workers is not None:
            raise ConfigError("execution.workers", "give scheduler (an existing cluster) or workers (a local one), "
                              "not both", source)
        if out.backend == "local":
            for key in ("scheduler", "workers"):
                if getattr(out, key) is not None:
                    raise ConfigError(f"execution.{key}", "only used with backend = \"dask\"", source)
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


@dataclass(frozen=True)
class MonteCarloJob:
    """One scenario's Monte Carlo: the models, the inputs and the ``[run]`` options that shape the draws.

    Attributes
    ----------
    facts : ModelFacts
    inputs : InputSet
    draws, seed, keep_draws, chunk_blocks : int
    interconnect_fraction : float
    """

    facts: ModelFacts
    inputs: InputSet
    draws: int
    seed: int
    keep_draws: int = 10_000
    chunk_blocks: int = 4
    interconnect_fraction: float = 0.19

    @classmethod
    def of(cls, run: RunSettings, inputs: InputSet, facts: ModelFacts) -> MonteCarloJob:
        """Make the Monte Carlo job of ``facts`` under ``inputs`` and the ``[run]`` options ``run``."""
        return cls(facts, inputs, run.draws, run.seed, run.keep_draws, run.chunk_blocks, run.interconnect_fraction)

    def simulate(self, progress: Callable[[int, int], None] | None = None) -> Simulation:
        """Run it here (:func:`uncertain_cost.engine.simulate`)."""
        return engine.simulate(self.facts, self.inputs, self.draws, self.seed, keep_draws=self.keep_draws,
                               chunk_blocks=self.chunk_blocks, interconnect_fraction=self.interconnect_fraction,
                               progress=progress)

    def blocks(self, first_block: int, stop_block: int) -> dict:
        """One range of its random blocks (:func:`uncertain_cost.engine.simulate_blocks`)."""
        return simulate_blocks(self.facts, self.inputs, self.draws, self.seed, first_block, stop_block,
                               keep_draws=self.keep_draws, chunk_blocks=self.chunk_blocks,
                               interconnect_fraction=self.interconnect_fraction)

    def merge(self, parts: Sequence[Mapping]) -> Simulation:
        """Assemble its Simulation from block ranges (:func:`merge_blocks`)."""
        return merge_blocks(self.facts, self.inputs, self.draws, self.seed, parts, keep_draws=self.keep_draws,
                            interconnect_fraction=self.interconnect_fraction)


class LocalBackend:
    """Run each job's Monte Carlo in this process, when its result is asked for."""

    def submit(self, job: MonteCarloJob) -> MonteCarloJob:
        """Accept ``job`` (nothing runs yet, so one scenario's draws are in memory at a time)."""
        return job

    def result(self, handle: MonteCarloJob, progress: Callable[[int, int], None] | None = None) -> Simulation:
        """Run the job and return its Simulation (``progress(done, total)`` after each chunk)."""
        return handle.simulate(progress)

    def describe(self) -> str | None:
        """Say nothing (a local run has no tasks to report)."""
        return None

    def follow(self, progress: Progress) -> None:
        """Nothing runs before :meth:`result` is asked for: nothing to follow."""


def _blocks_task(job: MonteCarloJob, first_block: int, stop_block: int) -> dict:
    return job.blocks(first_block, stop_block)


class DaskBackend:
    """Run each job's Monte Carlo as Dask tasks, one per range of ``blocks_per_task`` blocks.

    Parameters
    ----------
    client : distributed.Client
    settings : ExecutionSettings
    """

    def __init__(self, client, settings: ExecutionSettings):
        self.client = client
        self.settings = settings
        self.token = uuid.uuid4().hex[:8]
        self.n_jobs = 0
        self.n_tasks = 0
        self.futures: list = []

    def submit(self, job: MonteCarloJob) -> tuple[MonteCarloJob, list]:
        """Submit the job's block ranges now; return a handle for :meth:`result`."""
        tag = f"{self.n_jobs}-{self.token}"
        [shared] = self.client.scatter([job], broadcast=False, hash=False)
        parts = [self.client.submit(_blocks_task, shared, b0, b1, key=f"uc-blocks-{b0}-{b1}-{tag}", retries=RETRIES)
                 for b0, b1 in block_ranges(job.draws, self.settings.blocks_per_task)]
        self.n_jobs += 1
        self.n_tasks += len(parts)
        self.futures += parts
        return job, parts

    def result(self, handle: tuple[MonteCarloJob, list], progress: Callable[[int, int], None] | None = None
               ) -> Simulation:
        """Gather the job's block ranges and merge them in block order."""
        job, parts = handle
        return job.merge(self.client.gather(parts))

    def describe(self) -> str:
        """Say what was submitted, and where."""
        where = self.settings.scheduler or f"a local cluster of {self.settings.workers or 2} workers"
        return f"dask: {self.n_jobs} job(s), {self.n_tasks} tasks on {where}"

    def follow(self, progress: Progress) -> None:
        """Show the submitted tasks finishing on a progress bar (when output is live), until all are done."""
        if not progress.live() or not self.futures:
            return
        from distributed import as_completed

        with progress.task("dask tasks", len(self.futures), "tasks") as bar:
            for _ in as_completed(self.futures):
                bar.update(1)


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
    # not daemonic, as before (tasks may start processes of their own)
    with dask.config.set({"distributed.worker.daemon": False}):
        cluster = LocalCluster(n_workers=settings.workers or 2, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None, env=dict(WORKER_ENV))
    return Client(cluster), cluster


@contextmanager
def open_backend(settings: ExecutionSettings, source: str = "<config>") -> Iterator[LocalBackend | DaskBackend]:
    """Open the configured backend for the duration of a run (a Dask client is closed after it).

    Parameters
    ----------
    settings : ExecutionSettings
    source : str
        Config file for error messages.

    Yields
    ------
    LocalBackend or DaskBackend

    Raises
    ------
    ConfigError
        The Dask backend without dask.distributed installed, or an unreachable scheduler.
    """
    if settings.backend != "dask":
        yield LocalBackend()
        return
    client, cluster = _client(settings, source)
    try:
        yield DaskBackend(client, settings)
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
