"""The one module that knows the order of a run's steps, from a config to a RunResult.

resolve (:mod:`uncertain_cost.data.load`) -> simulate (the backend of :mod:`uncertain_cost.execution`)
-> costs -> growth -> development cost -> sensitivity -> value of information -> figures
(:mod:`uncertain_cost.stages`) -> one :class:`~uncertain_cost.result.RunResult`. The tornado and
Sobol analyses do not depend on the growth fits: where the machine has a second core they run
in a forked process beside them (:class:`uncertain_cost.forking.ForkedCall`; same results).
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
from uncertain_cost.progress import Progress
from uncertain_cost.result import RunResult, build_result
from uncertain_cost.results import provenance_of
from uncertain_cost.scenarios import combine, scenario_configs

__all__ = ["run_config", "run_steps"]


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
            progress.stage(f"{_label(name)}sampling {cfg.run.draws:,} draws x {resolved[name].facts.n_models} models")
            sim = backend.result(handles[name], progress.draws)
            results[name] = run_steps(cfg, resolved[name], sim, progress)
    if not scenarios:
        return results[None]
    progress.stage(f"combining {len(results)} scenarios")
    return combine(_named(results), config)


def run_steps(config: Config, resolved: Resolved, sim: Simulation, progress: Progress | None = None) -> RunResult:
    """Every step after the Monte Carlo, in order, collected into the run's result.

    Parameters
    ----------
    config : Config
    resolved : Resolved
        From :func:`uncertain_cost.data.load.resolve`.
    sim : Simulation
        The Monte Carlo of ``resolved.facts`` under the config's inputs, draws and seed.
    progress : Progress, optional

    Returns
    -------
    RunResult
    """
    progress = progress or Progress(quiet=True)
    run, settings, facts = config.run, config.stages, resolved.facts
    provenance = provenance_of(run, config.sha256, config.path, facts)
    # The development cost and the tornado and Sobol analyses need neither the cost tables nor the
    # growth fits: a forked child computes them while this process does (here, where forking is not allowed).
    waiting = SharedFlag()
    beside = ForkedCall(_beside_growth, config, facts, sim, waiting).start()
    progress.stage("cost tables: intervals of every model and method")
    costs = stages.cost_step(sim, resolved, provenance, run.credible_level, run.seed)
    where = "in a second process, beside the growth fits" if beside.forked else "after the growth fits"
    if settings.development.selected:
        progress.stage(f"development cost: staff, experiments and final run ({where})")
    if settings.sensitivity.enabled:
        progress.stage(f"sensitivity: tornado and Sobol indices ({where})")
    growth = stages.growth_step(settings.growth, facts, sim, config.inputs, run, progress)
    waiting.set()  # from now on this process waits for the child: it stops rendering PNGs
    development, sensitivity = beside.result()
    information = stages.value_of_information_step(settings.sensitivity, settings.growth, config, facts,
                                                   sensitivity, progress)
    figures = stages.figures_step(costs.records("summary"), stages.trend_of(growth), facts, sim,
                                  run.reference_month, progress)
    return build_result(provenance.attrs(), (costs, growth, development, sensitivity, information, figures),
                        config)


def _beside_growth(config: Config, facts, sim: Simulation,
                   waiting: SharedFlag) -> tuple[stages.StepOutput, stages.StepOutput]:
    """Compute the steps that need no growth fit (development cost, tornado and Sobol), then fill spare time.

    Until ``waiting`` is set (the caller has finished its own work and waits for these), render
    the steps' figures as PNG bytes, so that writing the run has fewer left to render.
    """
    from uncertain_cost.reporting.figures import figure_png

    settings = config.stages
    development = stages.development_step(settings.development, facts, sim, config.run.seed, Progress(quiet=True))
    sensitivity = stages.sensitivity_step(settings.sensitivity, settings.development, config, facts)
    for out in (development, sensitivity):
        for name, fig in out.figures.items():
            if waiting.is_set():
                return development, sensitivity
            out.pngs[name] = figure_png(fig)
    return development, sensitivity


def _label(name: str | None) -> str:
    return f"scenario {name}: " if name else ""


def _resolve(name: str | None, config: Config, progress: Progress) -> Resolved:
    if name is None:
        return resolve(config, progress)
    progress.stage(f"{_label(name)}resolving models")
    return resolve(config, Progress(quiet=True))


def _named(results: Mapping[str | None, RunResult]) -> dict[str, RunResult]:
    return {str(name): result for name, result in results.items()}
