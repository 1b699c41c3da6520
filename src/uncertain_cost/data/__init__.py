"""Data layer: embedded priors, the Epoch CSV importer, name matching and fact resolution."""

from uncertain_cost.data.epoch import import_epoch, read_epoch_snapshot
from uncertain_cost.data.facts import ModelFacts
from uncertain_cost.data.hardware_names import HardwareMatcher
from uncertain_cost.data.priors import load_embedded_tables, load_tables, priors_dir, write_tables
from uncertain_cost.data.resolve import resolve_facts
from uncertain_cost.data.tables import (
    ChipSpec,
    ImportReport,
    ModelRecord,
    PriceIndex,
    PriceRecord,
    SkipEntry,
    Tables,
)

__all__ = [
    # tables
    "ChipSpec",
    "ImportReport",
    "ModelFacts",
    "ModelRecord",
    "PriceIndex",
    "PriceRecord",
    "SkipEntry",
    "Tables",
    # readers / writers
    "import_epoch",
    "load_embedded_tables",
    "load_tables",
    "priors_dir",
    "read_epoch_snapshot",
    "write_tables",
    # matching and resolution
    "HardwareMatcher",
    "resolve_facts",
]
