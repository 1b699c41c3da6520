"""The resolve step: from a config's tables to the resolved facts of the models to cost, checked before sampling.

:func:`resolve` goes from the tables (embedded or an Epoch export) through the frontier
selection to the resolved facts the engine costs (:func:`load_facts`), then checks what
needs the resolved models (:func:`preflight`). The step order of a run is
:mod:`uncertain_cost.pipeline`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from uncertain_cost.config import Config
from uncertain_cost.data.facts import ModelFacts
from uncertain_cost.errors import ConfigError
from uncertain_cost.progress import Progress

__all__ = ["Resolved", "resolve", "load_facts", "preflight", "MIN_GROWTH_DRAWS"]

#: fewest kept draws from which the growth fit estimates the models' cost covariance
MIN_GROWTH_DRAWS = 100


@dataclass(frozen=True)
class Resolved:
    """The resolve step's result: the models to cost and the rows or models left out.

    Attributes
    ----------
    facts : ModelFacts
    skipped : tuple
        Skip-report entries (``file``, ``row``, ``model``, ``reason``).
    """

    facts: ModelFacts
    skipped: tuple


def resolve(config: Config, progress: Progress | None = None) -> Resolved:
    """Resolve the frontier models of ``config`` and check them before any sampling.

    Parameters
    ----------
    config : Config
    progress : Progress, optional

    Returns
    -------
    Resolved

    Raises
    ------
    ConfigError
        As :func:`preflight`.
    """
    progress = progress or Progress(quiet=True)
    progress.stage("resolving frontier models")
    facts, skipped, _selection = load_facts(config, progress, config.stages.selection)
    preflight(config, facts)
    return Resolved(facts, tuple(skipped))


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
    from uncertain_cost.data.selection import SelectionRules, check_model_names, select_frontier

    progress = progress or Progress(quiet=True)
    skipped: list = []
    if config.data.epoch_dir is not None:
        from uncertain_cost.data.epoch import read_epoch_snapshot

        progress.stage(f"reading Epoch tables from {config.data.epoch_dir}")
        tables, report = read_epoch_snapshot(config.data.epoch_dir)
        skipped.extend(report.skipped)
        progress.stage(f"read {report.summary()}")
    elif config.data.tables_dir is not None:
        from uncertain_cost.data.epoch import read_import_skips
        from uncertain_cost.data.priors import load_tables

        progress.stage(f"reading tables from {config.data.tables_dir}")
        tables = load_tables(config.data.tables_dir)
        skipped.extend(read_import_skips(config.data.tables_dir))
    else:
        tables = load_embedded_tables()
    if config.data.tpu_prices != "snapshot":
        from uncertain_cost.data.epoch import select_tpu_prices

        tables = select_tpu_prices(tables, config.data.tpu_prices)
    if config.data.rules != "paper":
        from dataclasses import replace

        tables = replace(tables, rules=tables.rules.with_rule_set(config.data.rules))
    if rules is None:
        rules = SelectionRules.from_config(config.section("selection"), config.source)
    check_model_names(tables, {"selection.include": rules.include, "selection.exclude": rules.exclude,
                               "sensitivity.models": config.section("sensitivity").get("models", ())}, config.source)
    lists = config.data.epoch_dir / "frontier-lists" if config.data.epoch_dir is not None else None
    try:
        selection = select_frontier(tables, rules, lists)
    except ConfigError as exc:  # name the config file
        raise ConfigError(exc.key, exc.message, config.source) from None
    skipped.extend(getattr(selection, "skipped", ()))
    try:
        facts, resolve_skips = resolve_facts(
            tables, selection, finetunes=config.run.finetunes, reference_month=config.run.reference_month
        )
    except ConfigError as exc:  # the library names the argument; name the config key and file
        raise ConfigError(f"run.{exc.key}", exc.message, config.source) from None
    skipped.extend(resolve_skips)
    from uncertain_cost.data.impute import HardwareImputation, resolve_with_imputation

    settings = HardwareImputation.from_config({
        "impute_hardware": config.data.impute_hardware,
        "impute_window_years": config.data.impute_window_years,
        "impute_multi_hardware": config.data.impute_multi_hardware}, config.source)
    impute_all = config.data.impute == "all"
    if impute_all and not settings.enabled:
        from uncertain_cost.data.impute import ORGANIZATION_WINDOW_YEARS

        settings = HardwareImputation(True, ORGANIZATION_WINDOW_YEARS, "organization", True)
    resolved = facts
    if settings.enabled:
        imputation_skips: list = []
        facts, notes = resolve_with_imputation(
            tables, selection, facts, settings, imputation_skips, finetunes=config.run.finetunes,
            reference_month=config.run.reference_month,
        )
        for note in notes:
            progress.stage(note)
        imputed = {facts.names[i] for i in set(facts.alternative_of[facts.alternative_of >= 0].tolist())}
        skipped = [s for s in skipped if not (getattr(s, "model", "") in imputed and (
            "no training hardware" in s.reason or "several hardware types" in s.reason))]
        skipped.extend(imputation_skips)
    if impute_all:
        facts, skipped = _impute_all(tables, resolved, facts, skipped)
    if config.data.snapshot:
        from dataclasses import replace

        facts = replace(facts, snapshot=config.data.snapshot)
    return facts, skipped, selection


def _impute_all(tables, resolved: ModelFacts, facts: ModelFacts, skipped: list) -> tuple[ModelFacts, list]:
    """Impute quantities per draw and label every model with what was imputed (``[data] impute = "all"``)."""
    from dataclasses import replace

    from uncertain_cost.data.impute import imputation_labels, impute_quantities

    facts = impute_quantities(facts, tables.rules.default_training_time_hours)
    labels = imputation_labels(resolved, facts)
    quantity = {facts.names[i] for i, label in enumerate(labels) if "quantity" in label}
    skipped = [s for s in skipped if not (getattr(s, "model", "") in quantity
                                          and s.reason == "acquisition: no hardware quantity")]
    skipped.extend(_inconsistent_disclosures(tables, facts))
    return replace(facts, extra={**facts.extra, "imputed": dict(zip(facts.names, labels, strict=True))}), skipped


def _inconsistent_disclosures(tables, facts: ModelFacts) -> list:
    """Report each costed model whose disclosures contradict each other (implied utilization)."""
    from uncertain_cost.data.tables import SkipEntry
    from uncertain_cost.data.utilization import disclosed_runs

    costed = set(facts.names)
    out = []
    for run in disclosed_runs(tables, min_compute=0.0):
        if run.ok or run.name not in costed or run.name in {e.model for e in out}:
            continue
        file, _, line = run.source.rpartition(":")
        out.append(SkipEntry(file, int(line) if line.isdigit() else 0, run.name,
                             f"inconsistent disclosure: {run.status}; chip-hours from the disclosed quantity x "
                             "training time (compute not used), kept out of the utilization fit"))
    return out


def preflight(config: Config, facts: ModelFacts) -> None:
    """Check what needs the resolved models, before any sampling.

    Raises
    ------
    ConfigError
        No model selected (naming the ``[selection]`` keys), or a forecast that ends before
        the last observed year.
    """
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
