"""Before the Monte Carlo: from the tables to the resolved facts of the models to cost.

:func:`load_facts` goes from the tables (embedded or an Epoch export) through the frontier
selection to the resolved facts the engine costs; :class:`Progress` prints stage lines. The
order of a run's steps is :func:`uncertain_cost.runner.run_config`'s.
"""

from __future__ import annotations

from typing import Any

from uncertain_cost.config import Config
from uncertain_cost.data.facts import ModelFacts
from uncertain_cost.errors import ConfigError
from uncertain_cost.progress import Progress

__all__ = ["Progress", "load_facts"]




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
    if config.data.snapshot:
        from dataclasses import replace

        facts = replace(facts, snapshot=config.data.snapshot)
    return facts, skipped, selection
