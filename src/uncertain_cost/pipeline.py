"""The one module that knows the order of a run's steps, from a config to a RunResult.

resolve (:mod:`uncertain_cost.data.load`) -> simulate (the backend of :mod:`uncertain_cost.execution`)
-> costs -> growth -> development cost -> sensitivity -> value of information -> figures
(:mod:`uncertain_cost.stages`) -> one :class:`~uncertain_cost.result.RunResult`. The tornado and
Sobol analyses (which need no draws) and the development cost (which needs the draws) do not
depend on the growth fits: where the machine has a second core each runs in a forked process
beside them (:class:`BesideSteps`, :class:`uncertain_cost.forking.ForkedCall`; same results).
A config with ``[scenarios]`` runs these steps once per scenario and combines the results
(:func:`uncertain_cost.scenarios.combine`).
Every step returns what it adds; nothing is written here (see :mod:`uncertain_cost.writer`).
"""

from __future__ import annotations

from collections.abc import Mapping

from uncertain_cost import stages
from uncertain_cost.config import Config
from uncertain_cost.data.load import Resolved, resolve
from uncertain_cost.engine import Simulation
from uncertain_cost.execution import ExecutionSettings, MonteCarloJob, open_backend
from uncertain_cost.forking import ForkedCall, SharedFlag, prefer_fork_safe_threading
from uncertain_cost.heap import older_objects_frozen
from uncertain_cost.progress import Progress
from uncertain_cost.result import RunResult, StepOutput, build_result
from uncertain_cost.results import provenance_of
from uncertain_cost.scenarios import combine, scenario_configs

__all__ = ["BesideSteps", "run_config", "run_steps"]


def run_config(config: Config, progress: Progress | None = None) -> RunResult:
    """Run every enabled step of ``config`` (each scenario, if any) and return the result; nothing is written.

    Parameters
    ----------
    config : Config
        A validated config (:func:`uncertain_cost.config.load_config`).
    progress : Progress, optional
        Stage messages (silent when omitted).

    Returns
    -------
    RunResult
        With ``[scenarios]``, the combined result (a ``scenario`` column and dimension).

    Raises
    ------
    ConfigError
        Any mistake in the config or a scenario, before any sampling.
    """
    progress = progress or Progress(quiet=True)
    prefer_fork_safe_threading()  # before the first parallel kernel: steps may run in forked children
    with older_objects_frozen():  # the imported libraries stay out of the run's collections
        return _run_jobs(config, progress)


def _run_jobs(config: Config, progress: Progress) -> RunResult:
    execution = ExecutionSettings.from_table(config.section("execution"), config.source)
    scenarios = scenario_configs(config) if config.section("scenarios") else {}
    jobs: dict[str | None, Config] = dict(scenarios) if scenarios else {None: config}
    resolved = {name: _resolve(name, cfg, progress) for name, cfg in jobs.items()}
    results: dict[str | None, RunResult] = {}
    with open_backend(execution, config.source) as backend:
        handles = {name: backend.submit(MonteCarloJob.of(cfg.run, cfg.inputs, resolved[name].facts))
                   for name, cfg in jobs.items()}
        if backend.describe():
            progress.stage(backend.describe())
        backend.follow(progress)
        for name, cfg in jobs.items():
            beside = BesideSteps(cfg, resolved[name].facts, progress)  # tornado and Sobol need no draws
            try:
                progress.stage(f"{_label(name)}sampling {cfg.run.draws:,} draws x "
                               f"{resolved[name].facts.n_models} models")
                sim = backend.result(handles[name], progress.draws)
                results[name] = run_steps(cfg, resolved[name], sim, progress, beside)
            except BaseException:
                beside.cancel()  # an error or an interrupt: no child outlives the run's work
                raise
    if not scenarios:
        return results[None]
    progress.stage(f"combining {len(results)} scenarios")
    return combine(_named(results), config)


def run_steps(config: Config, resolved: Resolved, sim: Simulation, progress: Progress | None = None,
              beside: BesideSteps | None = None) -> RunResult:
    """Every step after the Monte Carlo, in order, collected into the run's result.

    Parameters
    ----------
    config : Config
    resolved : Resolved
        From :func:`uncertain_cost.data.load.resolve`.
    sim : Simulation
        The Monte Carlo of ``resolved.facts`` under the config's inputs, draws and seed.
    progress : Progress, optional
    beside : BesideSteps, optional
        Started before the Monte Carlo (by `run_config`); started here when omitted.

    Returns
    -------
    RunResult
    """
    progress = progress or Progress(quiet=True)
    run, settings, facts = config.run, config.stages, resolved.facts
    provenance = provenance_of(run, config.sha256, config.path, facts)
    beside = beside or BesideSteps(config, facts, progress)
    try:
        beside.start_development(sim, resolved, provenance)  # the cost tables too: growth needs only the draws
        growth = stages.growth_step(settings.growth, facts, sim, config.inputs, run, progress)
        costs, development = beside.costs_and_development()
        # the figures need no sensitivity result: drawn while that child finishes (and renders its PNGs)
        figures = stages.figures_step(costs.records("summary"), stages.trend_of(growth), facts, sim,
                                      run.reference_month, progress)
        sensitivity, information = beside.results()
    except BaseException:
        beside.cancel()
        raise
    return build_result(provenance.attrs(), (costs, growth, development, sensitivity, information, figures),
                        config)


class BesideSteps:
    """The steps that need no growth fit, each computed in a forked child beside this process's work.

    The tornado and Sobol analyses need neither the Monte Carlo draws nor the growth fits: their
    child starts before the Monte Carlo and goes on with the value of information (which samples
    its own reference posterior and reweights it to each input the Sobol indices rank first).
    The cost tables and the development cost need the draws: their child starts after the Monte
    Carlo (the growth fits, here, need only the draws). Until this process waits for the
    sensitivity child (`results`), the children spend their spare time rendering their figures
    as PNG bytes. Where forking is not allowed, `costs_and_development` and `results` compute
    the steps here.

    Parameters
    ----------
    config : Config
    facts : ModelFacts
    progress : Progress
        Says where each step runs.
    """

    def __init__(self, config: Config, facts, progress: Progress):
        self.config, self.facts, self.progress = config, facts, progress
        self.waiting = SharedFlag()
        self.development: ForkedCall | None = None
        _import_before_forking(config)
        self.sensitivity = ForkedCall(_with_pngs, _sensitivity_steps, self.waiting, config,
                                      facts).start(worth_it=config.stages.sensitivity.enabled)
        settings = config.stages
        if settings.sensitivity.enabled:
            where = "in a second process, beside the next steps" if self.sensitivity.forked else "after the growth fits"
            voi = (settings.sensitivity.value_of_information and settings.growth.enabled and settings.growth.bayes)
            what = "tornado, Sobol indices and value of information" if voi else "tornado and Sobol indices"
            progress.stage(f"sensitivity: {what} ({where})")

    def start_development(self, sim: Simulation, resolved: Resolved, provenance) -> None:
        """Start the cost tables of the draws (``sim``), then the development cost of the drawn final runs.

        The growth fits need only the draws, so the tables (quantiles of every model and method,
        about 0.5 s) are made beside them; `costs_and_development` collects both.
        """
        spec = self.config.stages.development
        self.development = ForkedCall(_with_pngs, _costs_and_development, self.waiting, self.config, resolved,
                                      provenance, sim).start()
        where = "in another process, beside the next steps" if self.development.forked else "after the growth fits"
        what = " and development cost (staff, experiments and final run)" if spec.selected else ""
        self.progress.stage(f"cost tables{what} ({where})")

    def cancel(self) -> None:
        """Kill and reap the children still running (after an error or an interrupt)."""
        self.sensitivity.cancel()
        if self.development is not None:
            self.development.cancel()

    def costs_and_development(self) -> tuple[StepOutput, StepOutput]:
        """Wait for the cost tables and the development cost (computing them here if no child did).

        Returns
        -------
        tuple of StepOutput
            Cost tables, development cost.
        """
        if self.development is None:
            raise RuntimeError("BesideSteps.costs_and_development before start_development")
        return self.development.result()

    def results(self) -> tuple[StepOutput, StepOutput]:
        """Wait for the tornado, Sobol and value of information step (computing it here if no child did).

        Returns
        -------
        tuple of StepOutput
            Sensitivity (tornado and Sobol), value of information.
        """
        self.waiting.set()  # this process now waits: the children stop rendering PNGs
        return self.sensitivity.result()


def _import_before_forking(config: Config) -> None:
    """Import, once and before the children fork, what this process and the children would each import.

    xarray imports dask (when installed) at its first array, and the value of information's
    fit imports nutpie and ArviZ: about 0.4 s and 0.8 s of CPU that each child paid again.
    This process needs them later anyway. Kernels are not compiled here (on a first run the
    child compiles its own while this process compiles the Monte Carlo's).
    """
    import warnings

    import numpy as np
    import xarray as xr

    xr.Variable("x", np.zeros(1))  # xarray's check for dask arrays imports dask.array once, here
    settings = config.stages
    if settings.growth.enabled and settings.growth.bayes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # ArviZ's notice about its 1.0 refactor
            import nutpie  # noqa: F401  (imports ArviZ)


def _costs_and_development(config: Config, resolved: Resolved, provenance, sim: Simulation,
                           ) -> tuple[StepOutput, StepOutput]:
    """Make the cost tables of the draws, then the development cost of the drawn final runs."""
    run = config.run
    costs = stages.cost_step(sim, resolved, provenance, run.credible_level, run.seed)
    development = stages.development_step(config.stages.development, resolved.facts, sim, run.seed,
                                          Progress(quiet=True))
    return costs, development


def _sensitivity_steps(config: Config, facts) -> tuple[StepOutput, StepOutput]:
    """Tornado and Sobol, then the value of information of the inputs the Sobol indices rank first."""
    settings = config.stages
    sensitivity = stages.sensitivity_step(settings.sensitivity, settings.development, config, facts)
    information = stages.value_of_information_step(settings.sensitivity, settings.growth, config, facts,
                                                   sensitivity, Progress(quiet=True))
    return sensitivity, information


def _with_pngs(step, waiting: SharedFlag, *args):
    """Run ``step(*args)`` (a StepOutput or a tuple of them); then, until ``waiting`` is set, render their figures.

    The PNG bytes go to each StepOutput's ``pngs``: spare time of a child spent on the writing's work.
    """
    from uncertain_cost.reporting.figures import figure_png

    value = step(*args)
    for out in value if isinstance(value, tuple) else (value,):
        for name, fig in out.figures.items():
            if waiting.is_set():
                return value
            out.pngs[name] = figure_png(fig)
    return value


def _label(name: str | None) -> str:
    return f"scenario {name}: " if name else ""


def _resolve(name: str | None, config: Config, progress: Progress) -> Resolved:
    if name is None:
        return resolve(config, progress)
    progress.stage(f"{_label(name)}resolving models")
    return resolve(config, Progress(quiet=True))


def _named(results: Mapping[str | None, RunResult]) -> dict[str, RunResult]:
    return {str(name): result for name, result in results.items()}
