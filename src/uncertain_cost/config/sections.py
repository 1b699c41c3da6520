"""The sections the config layer owns: ``[run]``, ``[data]``, ``[report]``, ``[execution]``, declared once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from uncertain_cost.config.schema import (
    Invalid,
    Key,
    Section,
    boolean,
    choice,
    integer,
    month,
    number,
    positive,
    show,
    text,
)

__all__ = ["RunSettings", "DataSettings", "RUN", "DATA", "REPORT", "EXECUTION", "IMPUTE_KEYS", "IMPUTE_MODES",
           "MAX_SEED", "scheduler_address"]

#: largest seed (numpy's SeedSequence takes any; results.nc stores an int64)
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class RunSettings:
    """``[run]``: how many draws, which seed, which dollars.

    Attributes
    ----------
    draws, seed, keep_draws, chunk_blocks : int
    reference_month : str
        ``"YYYY-MM"``; costs are in dollars of this month.
    finetunes : {"drop", "add_base"}
        Paper v2 (drop fine-tunes) or v1 (add the base model's cost).
    credible_level : float
        Level of reported intervals (summary columns are always P5/P95 as well).
    interconnect_fraction : float
        Share f of cluster cost spent on interconnect (paper: 0.19).
    """

    draws: int = 100_000
    seed: int = 20240531
    keep_draws: int = 10_000
    chunk_blocks: int = 4
    reference_month: str = "2023-12"
    finetunes: str = "drop"
    credible_level: float = 0.9
    interconnect_fraction: float = 0.19


def _fraction(value):
    """Check for a number strictly between 0 and 1; keep it as given (an int stays an int)."""
    number(0, 1, low_open=True, high_open=True)(value)
    return value


RUN = Section("run", (
    Key("draws", integer(1), 100_000, "joint Monte Carlo draws of every model"),
    Key("seed", integer(0, MAX_SEED), 20240531, "the same seed gives identical outputs"),
    Key("keep_draws", integer(1), 10_000, "draws kept with components in results.nc"),
    Key("chunk_blocks", integer(1), 4, "random blocks per chunk of the Monte Carlo"),
    Key("reference_month", month, "2023-12", "dollars of this month"),
    Key("finetunes", choice("drop", "add_base"), "drop", "paper v2 (drop) or v1 (add the base model's cost)"),
    Key("credible_level", _fraction, 0.9, "level of reported intervals"),
    Key("interconnect_fraction", _fraction, 0.19, "share of cluster cost spent on interconnect"),
), settings=RunSettings)


#: values of ``[data] impute_hardware`` besides ``true``/``false``
IMPUTE_MODES = ("off", "frontier_window", "most_common_of_year")


def _impute_mode(value):
    if isinstance(value, bool) or value in IMPUTE_MODES:
        return value
    raise Invalid(f"expected true, false, \"off\", \"frontier_window\" or \"most_common_of_year\", got {show(value)}")


@dataclass(frozen=True)
class DataSettings:
    """``[data]``: where the model/chip/price tables come from.

    Attributes
    ----------
    epoch_dir : pathlib.Path or None
        An Epoch AI export folder (resolved against the config file), or None for the
        embedded priors.
    tables_dir : pathlib.Path or None
        A table folder written by ``import-epoch`` (resolved against the config file);
        exclusive with ``epoch_dir``.
    snapshot : str or None
        Label recorded in outputs; defaults to the folder name or ``embedded``.
    impute_hardware : bool or str
        Give models with unknown or ambiguous hardware a distribution over candidate chips
        instead of dropping them: ``true``/``"frontier_window"``, ``"most_common_of_year"``
        (Epoch's rule) or ``false``/``"off"`` (see :mod:`uncertain_cost.data.impute`).
    impute_multi_hardware : bool
        Also impute models listing several hardware types (default true).
    tpu_prices : {"snapshot", "paper"}
        TPU-equivalent prices from the snapshot's table where it has them (default) or
        only the paper's constants (see :func:`uncertain_cost.data.epoch.select_tpu_prices`).
    impute_window_years : float
        Donor window for that distribution (models published within this many years).
    impute : {"paper", "all"}
        ``"paper"`` (default) costs what the paper costs; ``"all"`` costs every frontier
        model whose compute is known: unknown hardware from the organisation's accelerators
        (else frontier-scale peers'), several types as a mixture, chip-hours from compute /
        (peak x the utilization fitted on disclosed runs, ``priors/utilization.toml``),
        quantity from chip-hours / training time (see :mod:`uncertain_cost.data.impute`).
    rules : {"paper", "epoch_2025"}
        The paper's choices (default) or those of Epoch AI's mid-2025 pipeline for
        same-date price ties, cloud chip-hours and year-mode hardware counting (see
        :mod:`uncertain_cost.data.rules`).
    """

    epoch_dir: Path | None = None
    tables_dir: Path | None = None
    snapshot: str | None = None
    impute_hardware: bool | str = False
    impute_window_years: float = 1.0
    impute_multi_hardware: bool = True
    tpu_prices: str = "snapshot"
    impute: str = "paper"
    rules: str = "paper"


#: the ``[data]`` keys of hardware imputation (:class:`uncertain_cost.data.impute.HardwareImputation`)
IMPUTE_KEYS = ("impute_hardware", "impute_window_years", "impute_multi_hardware")


def _kept(check):
    """Check with ``check`` but keep the value as given (``[data]`` values are stored unconverted)."""
    def keep(value):
        check(value)
        return value

    return keep


DATA = Section("data", (
    Key("epoch_dir", text, None, "an Epoch AI export folder"),
    Key("tables_dir", text, None, "a folder written by import-epoch"),
    Key("snapshot", text, None, "label recorded in outputs"),
    Key("impute_hardware", _impute_mode, False, "impute unknown hardware as a distribution"),
    Key("impute_window_years", _kept(positive), 1.0, "donor window of the imputation, years"),
    Key("impute_multi_hardware", boolean, True, "also impute models listing several hardware types"),
    Key("tpu_prices", choice("snapshot", "paper"), "snapshot", "TPU prices from the snapshot or the paper"),
    Key("impute", choice("paper", "all"), "paper", "cost what the paper costs, or every frontier model"),
    Key("rules", choice("paper", "epoch_2025"), "paper", "the paper's data choices or Epoch's mid-2025 pipeline's"),
), settings=DataSettings)

REPORT = Section("report", (
    Key("html", boolean, True, "write report.html"),
    Key("png", boolean, True, "write the figures as PNG files"),
    Key("markdown", boolean, True, "write report.md"),
))

_ADDRESS = re.compile(r"^(?:(?P<scheme>tcp|tls|ws|wss|ucx|inproc)://)?"
                      r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
                      r"(?::(?P<port>\d{1,5}))?$")


def scheduler_address(value):
    """Check for a Dask scheduler address: ``[scheme://]host[:port]`` (scheme tcp, tls, ws, wss, ucx or inproc)."""
    text(value)
    match = _ADDRESS.match(value) if len(value) <= 300 else None
    if match is None or (match["port"] is not None and int(match["port"]) > 65535):
        raise Invalid(f"expected a scheduler address such as \"tcp://host:8786\", got {show(value)}")
    return value


def _execution_rules(values: dict) -> None:
    if values.get("scheduler") is not None and values.get("workers") is not None:
        raise Invalid("give scheduler (an existing cluster) or workers (a local one), not both", "workers")
    if values.get("backend", "local") == "local":
        for key in ("scheduler", "workers"):
            if values.get(key) is not None:
                raise Invalid("only used with backend = \"dask\"", key)


EXECUTION = Section("execution", (  # where the work runs; results never depend on it
    Key("backend", choice("local", "dask"), "local", "this process or a Dask cluster"),
    Key("scheduler", scheduler_address, None, "address of an existing Dask scheduler"),
    Key("workers", integer(1, 1024), None, "a LocalCluster of this many worker processes"),
    Key("blocks_per_task", integer(1), 2, "random blocks of 16,384 draws per Monte Carlo task"),
), rules=_execution_rules)
