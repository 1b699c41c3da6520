"""Normalized in-memory tables shared by the Epoch importer, the priors and the resolver.

Every table is a tuple of frozen records. Missing numbers are ``nan``; missing dates are
``None``; missing text is ``""``. Nothing here knows where the rows came from: the Epoch
CSV importer (:mod:`uncertain_cost.data.epoch`) and the embedded TOML priors
(:mod:`uncertain_cost.data.priors`) both produce a :class:`Tables`.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

NAN = float("nan")

#: price kinds of a purchase price
PRICE_SERVER = "server_per_chip"  # one accelerator's share of a server (DGX/HGX price / 8)
PRICE_BARE_CHIP = "bare_chip"  # a single accelerator; multiply by the server overhead
PRICE_TPU_EQUIVALENT = "tpu_equivalent"  # production-cost-based equivalent price, bare chip

#: cloud price columns, by commitment
CLOUD_ON_DEMAND = "on_demand"
CLOUD_ONE_YEAR = "one_year"
CLOUD_THREE_YEAR = "three_year"
CLOUD_PRICE_TYPES = (CLOUD_THREE_YEAR, CLOUD_ONE_YEAR, CLOUD_ON_DEMAND)


def isnan(x: float) -> bool:
    """Return True for a float NaN (and for ``None``)."""
    return x is None or (isinstance(x, float) and math.isnan(x))


@dataclass(frozen=True)
class ModelRecord:
    """One row of the notable-models table (Epoch "All ML Systems")."""

    name: str
    publication_date: date | None
    organization: str = ""
    training_compute_flop: float = NAN
    hardware: tuple[str, ...] = ()
    hardware_quantity: float = NAN
    training_time_hours: float = NAN
    training_chip_hours: float = NAN
    utilization: float = NAN
    base_model: str = ""
    finetune_compute_flop: float = NAN
    notability: str = ""
    domain: str = ""
    country: str = ""
    source: str = ""
    compute_rank: float = NAN  # "Compute rank when published" (2025 schema), NaN if absent

    @property
    def hardware_text(self) -> str:
        """The hardware names joined as in the source table (``"A,B"``)."""
        return ",".join(self.hardware)

    @property
    def is_finetune(self) -> bool:
        """True when the row names a base model."""
        return bool(self.base_model)


@dataclass(frozen=True)
class ChipSpec:
    """Specifications of one accelerator type (Epoch chip dataset + curated extras).

    ``server_power_ratio`` and ``server_overhead`` are NaN when the chip table does not
    say; the paper's family rules (:class:`uncertain_cost.data.rules.PaperRules`) fill them.
    """

    name: str
    manufacturer: str = ""
    kind: str = "gpu"  # "gpu" or "tpu" (or "other")
    release_date: date | None = None
    tensor_fp16_flops: float = NAN  # FP16/BF16 tensor core
    tf32_flops: float = NAN
    fp16_flops: float = NAN
    fp32_flops: float = NAN
    int8_ops: float = NAN
    fp8_flops: float = NAN
    tdp_w: float = NAN
    server_power_ratio: float = NAN
    server_overhead: float = NAN
    aliases: tuple[str, ...] = ()
    source: str = ""

    @property
    def is_tpu(self) -> bool:
        """True for Google TPUs (the paper tests ``"TPU" in name``)."""
        return self.kind == "tpu" or "TPU" in self.name


@dataclass(frozen=True)
class PriceRecord:
    """One hardware price: a purchase price or a cloud rental price per chip-hour."""

    hardware: str
    date: date
    vendor: str = ""
    on_demand: float = NAN
    one_year: float = NAN
    three_year: float = NAN
    purchase: float = NAN
    purchase_kind: str = ""  # PRICE_SERVER / PRICE_BARE_CHIP / PRICE_TPU_EQUIVALENT
    notes: str = ""
    source: str = ""

    def cloud(self, price_type: str) -> float:
        """Return the cloud price of type ``on_demand``/``one_year``/``three_year``."""
        return getattr(self, price_type)

    @property
    def is_cloud(self) -> bool:
        """True when the row carries a vendor (a cloud price row)."""
        return bool(self.vendor)


@dataclass(frozen=True)
class PriceIndex:
    """A monthly price index (FRED PCU518210518210), months as ``"YYYY-MM"``."""

    series: str
    months: tuple[str, ...]
    values: tuple[float, ...]
    source: str = ""
    file: str = ""  # the file the series was read from (named in a coverage error)

    def value(self, month: str) -> float:
        """Index value for ``month`` (``"YYYY-MM"``); NaN when the month is absent."""
        i = bisect.bisect_left(self.months, month)
        if i < len(self.months) and self.months[i] == month:
            return self.values[i]
        return NAN

    def __len__(self) -> int:
        return len(self.months)

    def extended_to(self, month: str) -> PriceIndex:
        """Copy with the last value carried forward through ``month`` (for runs beyond the data)."""
        months, values = list(self.months), list(self.values)
        year, mon = (int(p) for p in months[-1].split("-"))
        while months[-1] < month:
            year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
            months.append(f"{year:04d}-{mon:02d}")
            values.append(values[-1])
        return PriceIndex(self.series, tuple(months), tuple(values), self.source + " (extended)", self.file)

    def gaps(self) -> tuple[str, ...]:
        """Months missing between the first and the last month of the series, as ranges.

        Returns
        -------
        tuple of str
            ``("2020-01..2022-12", "2023-05")``: each run of consecutive missing months
            as ``first..last`` (a single month alone); empty when the series is complete.
        """
        present = {m for m, v in zip(self.months, self.values, strict=True) if math.isfinite(v)}
        if not present:
            return ()
        missing = [m for m in month_span(min(present), max(present)) if m not in present]
        return month_ranges(missing)


def _month_number(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _month_text(number: int) -> str:
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def month_span(first: str, last: str) -> list[str]:
    """Every month ``"YYYY-MM"`` from ``first`` through ``last`` (empty when ``last < first``)."""
    return [_month_text(n) for n in range(_month_number(first), _month_number(last) + 1)]


def month_ranges(months: Iterable[str]) -> tuple[str, ...]:
    """Collapse months ``"YYYY-MM"`` into runs of consecutive months.

    Parameters
    ----------
    months : iterable of str

    Returns
    -------
    tuple of str
        ``"first..last"`` per run of two or more consecutive months, the month alone
        otherwise; sorted.

    Examples
    --------
    >>> month_ranges(["2020-01", "2020-02", "2020-03", "2021-07"])
    ('2020-01..2020-03', '2021-07')
    """
    numbers = sorted({_month_number(m) for m in months})
    out: list[str] = []
    start = previous = None
    for n in [*numbers, None]:
        if n is not None and previous is not None and n == previous + 1:
            previous = n
            continue
        if start is not None:
            out.append(_month_text(start) if start == previous else f"{_month_text(start)}..{_month_text(previous)}")
        start = previous = n
    return tuple(out)


@dataclass(frozen=True)
class SkipEntry:
    """A row that was skipped (or a value that was dropped) while reading a table."""

    file: str
    row: int  # 1-based line number of the record's first line in the file (header = 1)
    model: str
    reason: str

    def __str__(self) -> str:
        who = f" ({self.model})" if self.model else ""
        return f"{self.file}:{self.row}{who}: {self.reason}"


@dataclass(frozen=True)
class ImportReport:
    """What an import did: rows read and rows (or values) skipped, with reasons."""

    source: str
    counts: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    skipped: tuple[SkipEntry, ...] = ()
    unmatched_hardware: tuple[str, ...] = ()
    written: tuple[str, ...] = ()
    ppi_gaps: tuple[str, ...] = ()  # months missing inside the deflator series, as ranges

    def summary(self) -> str:
        """One line per table with its row count, then the number of skip entries."""
        parts = [f"{k}: {v}" for k, v in self.counts.items()]
        parts.append(f"skipped entries: {len(self.skipped)}")
        if self.unmatched_hardware:
            parts.append("unmatched hardware: " + ", ".join(self.unmatched_hardware))
        if self.ppi_gaps:
            parts.append(f"PPI deflator gaps (no value; a run costing a model published then stops): "
                         f"{', '.join(self.ppi_gaps)}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Tables:
    """All the data the resolver needs, normalized.

    Attributes
    ----------
    models : tuple of ModelRecord
    chips : tuple of ChipSpec
    prices : tuple of PriceRecord
        Purchase and cloud prices, in source order.
    ppi : PriceIndex
    electricity : mapping int -> float
        US industrial electricity price, USD/kWh, by calendar year.
    cloud_discounts : mapping str -> mapping str -> float
        Vendor -> {``one_year``, ``three_year``} typical discount vs on-demand.
    rules : PaperRules
        The paper's constants and family rules.
    snapshot : str
        Name of the data snapshot (e.g. ``"epoch-2024-06"``).
    provenance : mapping str -> Any
        Free-form notes on where each table came from.
    """

    models: tuple[ModelRecord, ...]
    chips: tuple[ChipSpec, ...]
    prices: tuple[PriceRecord, ...]
    ppi: PriceIndex
    electricity: MappingProxyType
    cloud_discounts: MappingProxyType
    rules: Any
    snapshot: str = ""
    provenance: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    def model(self, name: str) -> ModelRecord | None:
        """Return the model named ``name`` (first occurrence) or None."""
        for m in self.models:
            if m.name == name:
                return m
        return None

    def chip(self, name: str) -> ChipSpec | None:
        """Return the chip named exactly ``name`` or None."""
        for c in self.chips:
            if c.name == name:
                return c
        return None
