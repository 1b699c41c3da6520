"""The one module that knows the order of a run's steps, from a config to a RunResult.

config (every section checked up front) -> tables -> frontier selection -> resolved facts ->
Monte Carlo -> cost summaries -> growth -> development cost -> sensitivity -> figures.
Each step computes and hands back datasets and tables; this module puts them into the
result tree. Nothing is written to disk here (see :meth:`RunResult.write`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from uncertain_cost.config import Config
from uncertain_cost.data.facts import ModelFacts
from uncertain_cost.pipeline import Progress, load_facts

if TYPE_CHECKING:  # xarray, the engine (numba) and the result types are imported where used, so
    # that ``validate`` (which needs only :func:`preflight`) starts without them
    import xarray as xr

    from uncertain_cost.engine import Simulation
    from uncertain_cost.result import RunResult
    from uncertain_cost.results import Provenance

__all__ = ["RunState", "run_config", "prepare_run", "finish_run", "preflight", "PreparedRun", "SKIPPED_COLUMNS"]

SKIPPED_COLUMNS = ("file", "row", "model", "reason")
#: fewest kept draws from which the growth fit estimates the models' cost covariance
MIN_GROWTH_DRAWS = 100


@dataclass
class RunState:
    """What the steps of one run read and add to, in order.

    Attributes
    ----------
    config : Config
    settings : uncertain_cost.config.StageSettings
        Every stage-owned section, parsed before any work.
    facts : ModelFacts
    simulation : Simulation
    provenance : Provenance
    groups : dict of str to xarray.Dataset
        Tree path -> dataset, in the order added.
    figures : dict
        PNG file name -> matplotlib Figure.
    notes : list of str
    """

    config: Config
    settings: Any
    facts: ModelFacts
    simulation: Simulation
    provenance: Provenance
    groups: dict[str, xr.Dataset] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add_table(self, name: str, records: list[dict], columns: tuple[str, ...],
                  attrs: dict | None = None) -> None:
        """Add table ``name`` (written as ``<name>.csv``)."""
        from uncertain_cost.result import TABLES
        from uncertain_cost.tables import records_to_dataset

        self.groups[f"{TABLES}/{name}"] = records_to_dataset(name, records, columns, attrs)

    def records(self, name: str) -> list[dict]:
        """Rows of a table added earlier in the run ([] when absent)."""
        from uncertain_cost.result import TABLES
        from uncertain_cost.tables import dataset_to_records

        ds = self.groups.get(f"{TABLES}/{name}")
        return dataset_to_records(ds)[0] if ds is not None else []

    def add_figure_data(self, name: str, ds: xr.Dataset) -> None:
        """Arrays that only a figure needs (not written to results.nc)."""
        from uncertain_cost.result import FIGURE_DATA

        self.groups[f"{FIGURE_DATA}/{name}"] = ds

    def tree(self) -> xr.DataTree:
        """Build the run's DataTree, provenance on the root."""
        import xarray as xr

        return xr.DataTree.from_dict({"/": xr.Dataset(attrs=self.provenance.attrs()),
                                      **{f"/{k}": v for k, v in self.groups.items()}})


def run_config(config: Config, progress: Progress | None = None) -> RunResult:
    """Run every enabled step of ``config`` and return the result (nothing is written).

    A config with ``[scenarios]`` or ``[execution]`` goes through
    :func:`uncertain_cost.execution.run_with_backend` (one result with a ``scenario``
    dimension, computed locally or on Dask).

    Parameters
    ----------
    config : Config
        A validated config (:func:`uncertain_cost.config.load_config`).
    progress : Progress, optional
        Stage messages (silent when omitted).

    Returns
    -------
    RunResult
    """
    progress = progress or Progress(quiet=True)
    if config.section("scenarios") or config.section("execution"):
        from uncertain_cost.execution import run_with_backend

        return run_with_backend(config, progress)
    from uncertain_cost.engine import simulate

    prepared = prepare_run(config, progress)
    progress.stage(f"sampling {config.run.draws:,} draws x {prepared.facts.n_models} models")
    sim = simulate(
        prepared.facts, config.inputs, config.run.draws, config.run.seed,
        keep_draws=config.run.keep_draws, chunk_blocks=config.run.chunk_blocks,
        interconnect_fraction=config.run.interconnect_fraction, progress=progress.draws,
    )
    return finish_run(prepared, sim, progress)


@dataclass(frozen=True)
class PreparedRun:
    """What a run knows before its Monte Carlo: settings, resolved facts, skips, provenance."""

    config: Config
    settings: Any
    facts: ModelFacts
    skipped: tuple
    provenance: Provenance


def prepare_run(config: Config, progress: Progress | None = None) -> PreparedRun:
    """Parse every stage's settings and resolve the frontier models' facts (the steps before sampling).

    Parameters
    ----------
    config : Config
    progress : Progress, optional

    Returns
    -------
    PreparedRun
    """
    from uncertain_cost.results import Provenance

    progress = progress or Progress(quiet=True)
    settings = config.stages
    progress.stage("resolving frontier models")
    facts, skipped, _selection = load_facts(config, progress, settings.selection)
    preflight(config, facts)
    provenance = Provenance(
        seed=config.run.seed,
        config_sha256=config.sha256,
        config_path=config.path.name if config.path else "embedded-default",
        reference_month=config.run.reference_month,
        data_snapshot=facts.snapshot or "embedded",
        n_draws=config.run.draws,
    )
    return PreparedRun(config, settings, facts, tuple(skipped), provenance)


def finish_run(prepared: PreparedRun, sim: Simulation, progress: Progress | None = None) -> RunResult:
    """Every step after the Monte Carlo: summaries, growth, development cost, sensitivity, figures.

    Parameters
    ----------
    prepared : PreparedRun
        From :func:`prepare_run`.
    sim : Simulation
        The Monte Carlo of ``prepared.facts`` under the config's inputs, draws and seed.
    progress : Progress, optional

    Returns
    -------
    RunResult
    """
    from uncertain_cost import stages
    from uncertain_cost.result import RunResult
    from uncertain_cost.results import SUMMARY_COLUMNS, cost_dataset, method_counts, summary_records

    progress = progress or Progress(quiet=True)
    config, settings, facts, provenance = prepared.config, prepared.settings, prepared.facts, prepared.provenance
    state = RunState(config, settings, facts, sim, provenance)
    costs = cost_dataset(sim, facts, provenance, config.run.credible_level)
    state.groups["costs"] = costs
    rows = summary_records(costs, facts, sim.n_draws)
    state.add_table("summary", rows, SUMMARY_COLUMNS + (("imputed",) if "imputed" in facts.extra else ()))
    if "imputed" in facts.extra:  # [data] impute = "all"
        from uncertain_cost.decomposition import DECOMPOSITION_COLUMNS, growth_decomposition

        state.add_table("growth_decomposition", growth_decomposition(
            sim.totals, facts, level=config.run.credible_level, seed=config.run.seed), DECOMPOSITION_COLUMNS)
    from uncertain_cost.data.coverage import unreported_losses
    from uncertain_cost.units import METHODS

    lost = unreported_losses(facts, ((r["model"], r["method"]) for r in rows), prepared.skipped, METHODS)
    skip_rows = [_skip_record(s) for s in (*prepared.skipped, *lost)]
    state.add_table("skipped", skip_rows, SKIPPED_COLUMNS)
    if skip_rows:
        state.notes.append(f"{len(skip_rows)} rows or models skipped (see skipped.csv)")
    counts = method_counts(rows)
    state.notes.append("models costed: " + ", ".join(f"{m} {n}" for m, n in counts.items()))
    n_imputed = len(set(facts.alternative_of[facts.alternative_of >= 0].tolist()))
    if n_imputed:
        state.notes.append(f"{n_imputed} of them with hardware imputed as a distribution over candidate chips")
    stages.growth_stage(state, progress)
    dev_spec = stages.development_stage(state, progress)
    stages.sensitivity_stage(state, progress, dev_spec)
    stages.figures_stage(state, progress)  # drawn for the HTML report; PNG files only with [report] png
    return RunResult(tree=state.tree(), notes=tuple(state.notes), figures=dict(state.figures), config=config)


def preflight(config: Config, facts: ModelFacts) -> None:
    """Check what needs the resolved models, before any sampling.

    Raises
    ------
    ConfigError
        No model selected (naming the ``[selection]`` keys), or a forecast that ends before
        the last observed year.
    """
    from uncertain_cost.errors import ConfigError

    source = config.source
    n_frontier = int(facts.is_frontier.sum())
    if n_frontier == 0:
        raise ConfigError("selection", "no frontier model is selected by these rules and dates "
                          "(check selection.method, selection.start, selection.end)", source)
    growth = config.stages.growth
    if growth.enabled and n_frontier < 3:
        raise ConfigError("selection", f"the growth fit needs at least 3 frontier models, {n_frontier} selected "
                          "(or set growth.enabled = false)", source)
    kept = min(config.run.draws, config.run.keep_draws)
    if growth.enabled and growth.bayes and kept < MIN_GROWTH_DRAWS:
        key = "run.draws" if config.run.draws < MIN_GROWTH_DRAWS else "run.keep_draws"
        raise ConfigError(key, f"the Bayesian growth fit estimates each model's cost covariance from the kept "
                          f"draws and needs at least {MIN_GROWTH_DRAWS}, got {kept} (or set growth.bayes = false)",
                          source)
    if growth.enabled and growth.forecast:
        last = int(facts.publication_year[facts.is_frontier].max())
        if growth.forecast_end_year <= last:
            raise ConfigError("forecast.end_year", f"must be after the last observed year {last}, "
                              f"got {growth.forecast_end_year}", source)


def _skip_record(entry: Any) -> dict:
    return {
        "file": getattr(entry, "file", ""),
        "row": getattr(entry, "row", ""),
        "model": getattr(entry, "model", ""),
        "reason": getattr(entry, "reason", str(entry)),
    }
