"""The only module that knows the order of the stages of a run.

config -> tables -> frontier selection -> resolved facts -> Monte Carlo -> summaries ->
(growth, sensitivity, development cost) -> report. Each stage returns plain objects; the
report module writes them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xarray as xr

from uncertain_cost.config import Config
from uncertain_cost.data.facts import ModelFacts
from uncertain_cost.engine import Simulation, simulate
from uncertain_cost.progress import Progress
from uncertain_cost.results import SUMMARY_COLUMNS, Provenance, cost_dataset, method_counts, summary_rows

__all__ = ["Artifacts", "Progress", "load_facts", "run_pipeline"]


@dataclass
class Artifacts:
    """Everything a run produced, ready for the report writer.

    Attributes
    ----------
    tables : dict
        File name -> (rows, columns) for CSV files.
    json : dict
        File name -> payload.
    groups : dict
        NetCDF group name -> Dataset.
    figures : dict
        PNG file name -> matplotlib Figure.
    provenance : Provenance
    notes : list of str
        Console/report notes (skipped rows, warnings).
    """

    provenance: Provenance
    tables: dict[str, tuple[list[dict], tuple[str, ...]]] = field(default_factory=dict)
    json: dict[str, Any] = field(default_factory=dict)
    groups: dict[str, xr.Dataset] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    facts: ModelFacts | None = None
    simulation: Simulation | None = None
    settings: Any = None
    extras: dict[str, Any] = field(default_factory=dict)


def load_facts(config: Config, progress: Progress | None = None, rules=None) -> tuple[ModelFacts, list, Any]:
    """Tables -> frontier selection -> resolved facts for ``config``.

    Returns
    -------
    facts : ModelFacts
    skipped : list
        Skip-report entries (rows or models that could not be used, with reasons).
    selection : object
        The selection result (for counts in the report).
    """
    from uncertain_cost.data.priors import load_embedded_tables
    from uncertain_cost.data.resolve import resolve_facts
    from uncertain_cost.selection import SelectionRules, select_frontier

    progress = progress or Progress(quiet=True)
    skipped: list = []
    if config.data.epoch_dir is not None:
        from uncertain_cost.data.epoch import read_epoch_snapshot

        progress.stage(f"reading Epoch tables from {config.data.epoch_dir}")
        tables, report = read_epoch_snapshot(config.data.epoch_dir)
        skipped.extend(report.skipped)
        progress.stage(f"read {report.summary()}")
    else:
        tables = load_embedded_tables()
    if rules is None:
        rules = SelectionRules.from_config(config.section("selection"), config.source)
    selection = select_frontier(tables, rules)
    skipped.extend(getattr(selection, "skipped", ()))
    facts, resolve_skips = resolve_facts(
        tables, selection, finetunes=config.run.finetunes, reference_month=config.run.reference_month
    )
    skipped.extend(resolve_skips)
    if config.data.impute_hardware:
        from uncertain_cost.data.impute import HardwareImputation, resolve_with_imputation

        settings = HardwareImputation(True, config.data.impute_window_years)
        facts, notes = resolve_with_imputation(
            tables, selection, facts, settings, finetunes=config.run.finetunes,
            reference_month=config.run.reference_month,
        )
        for note in notes:
            progress.stage(note)
        imputed = {facts.names[i] for i in set(facts.alternative_of[facts.alternative_of >= 0].tolist())}
        skipped = [s for s in skipped if not (getattr(s, "model", "") in imputed and (
            "no training hardware" in s.reason or "several hardware types" in s.reason))]
    if config.data.snapshot:
        from dataclasses import replace

        facts = replace(facts, snapshot=config.data.snapshot)
    return facts, skipped, selection


@dataclass(frozen=True)
class StageSettings:
    """Every stage-owned config section, parsed (so mistakes surface before any work)."""

    selection: Any
    sensitivity: Any
    development: Any
    growth: Any = None


def parse_stage_settings(config: Config) -> StageSettings:
    """Parse the ``selection``, ``sensitivity``, ``development`` and ``growth`` sections.

    Raises
    ------
    ConfigError
        Naming the file and key of the first mistake.
    """
    from uncertain_cost.devcost import parse_development
    from uncertain_cost.growth.settings import GrowthSettings
    from uncertain_cost.selection import SelectionRules
    from uncertain_cost.sensitivity.targets import SensitivitySettings

    growth = GrowthSettings.from_config(config.section("growth"), config.section("forecast"), config.source)
    return StageSettings(
        selection=SelectionRules.from_config(config.section("selection"), config.source),
        sensitivity=SensitivitySettings.from_config(config.section("sensitivity"), config.source),
        development=parse_development(config.section("development"), config.source),
        growth=growth,
    )


def run_pipeline(config: Config, progress: Progress | None = None,
                 stages: Callable[[Config, Artifacts, Progress], None] | None = None) -> Artifacts:
    """Run every stage for ``config`` and return the artifacts (nothing is written).

    Parameters
    ----------
    config : Config
    progress : Progress, optional
    stages : callable, optional
        Extra stages run after the Monte Carlo (growth, sensitivity, development cost);
        defaults to those enabled in the config.

    Returns
    -------
    Artifacts
    """
    progress = progress or Progress(quiet=True)
    settings = parse_stage_settings(config)
    progress.stage("resolving frontier models")
    facts, skipped, selection = load_facts(config, progress, settings.selection)
    provenance = Provenance(
        seed=config.run.seed,
        config_sha256=config.sha256,
        config_path=Path(config.source).name,
        reference_month=config.run.reference_month,
        data_snapshot=facts.snapshot or "embedded",
        n_draws=config.run.draws,
    )
    progress.stage(f"sampling {config.run.draws:,} draws x {facts.n_models} models")
    sim = simulate(
        facts, config.inputs, config.run.draws, config.run.seed,
        keep_draws=config.run.keep_draws, chunk_blocks=config.run.chunk_blocks,
        interconnect_fraction=config.run.interconnect_fraction, progress=progress.draws,
    )
    rows = summary_rows(sim, facts, config.run.credible_level)
    art = Artifacts(provenance=provenance, facts=facts, simulation=sim, settings=settings)
    art.tables["summary.csv"] = (rows, SUMMARY_COLUMNS)
    counts = method_counts(rows)
    art.json["summary.json"] = {"provenance": provenance.attrs(), "counts": counts, "rows": rows}
    art.groups["costs"] = cost_dataset(sim, facts, provenance)
    art.extras["selection"] = selection
    art.extras["counts"] = counts
    skip_rows = [_skip_row(s) for s in skipped]
    art.tables["skipped.csv"] = (skip_rows, ("file", "row", "model", "reason"))
    if skip_rows:
        art.notes.append(f"{len(skip_rows)} rows or models skipped (see skipped.csv)")
    art.notes.append("models costed: " + ", ".join(f"{m} {n}" for m, n in counts.items()))
    n_imputed = len(set(facts.alternative_of[facts.alternative_of >= 0].tolist()))
    if n_imputed:
        art.notes.append(f"{n_imputed} of them with hardware imputed as a distribution over candidate chips")
    if stages is not None:
        stages(config, art, progress)
    return art


def _skip_row(entry: Any) -> dict:
    return {
        "file": getattr(entry, "file", ""),
        "row": getattr(entry, "row", ""),
        "model": getattr(entry, "model", ""),
        "reason": getattr(entry, "reason", str(entry)),
    }
