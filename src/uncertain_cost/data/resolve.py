"""Resolve selected models into :class:`ModelFacts` by the paper's rules.

Applies method.md sections 2-6 exactly as Epoch AI's analysis code does (Cottier et al.
2024): chip-hours path, training dates and their known exceptions, GPU acquisition date,
purchase price choice (earliest DGX price of the chip family; TPU equivalent prices),
server overhead, power ratios, TPU v4 TDP, PUE class, electricity by publication year,
cloud vendor and price choice with committed-use conversion, and the PPI deflator.

Which cost methods a model supports follows from NaNs in the facts:

- amortized (A): ``chip_hours_path != NONE`` and server price and TDP known;
- cloud (B): cloud price known and ``chip_hours_path != NONE``;
- acquisition (C): hardware quantity and server price known.

Fine-tunes (a base model is named) are dropped (paper v2, ``finetunes="drop"``) or kept
with the base model's row added (paper v1, ``finetunes="add_base"``): the engine adds the
base row's cost in the same draw (``base_index``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from uncertain_cost.data.coverage import check_deflator
from uncertain_cost.data.facts import (
    CHIP_HOURS_IMPUTED,
    CHIP_HOURS_NONE,
    CHIP_HOURS_QUANTITY_TIME,
    CHIP_HOURS_REPORTED,
    PUE_HYPERSCALER,
    PUE_OTHER,
    ModelFacts,
)
from uncertain_cost.data.hardware_names import HardwareMatcher
from uncertain_cost.data.selection import SelectionResult, decimal_year
from uncertain_cost.data.tables import (
    CLOUD_PRICE_TYPES,
    CLOUD_THREE_YEAR,
    NAN,
    PRICE_BARE_CHIP,
    PRICE_TPU_EQUIVALENT,
    ChipSpec,
    ModelRecord,
    PriceRecord,
    SkipEntry,
    Tables,
)
from uncertain_cost.errors import ConfigError

FINETUNE_MODES = ("drop", "add_base")


def peak_flops(chip: ChipSpec) -> float:
    """Peak FLOP/s of one chip in the paper's precision order.

    FP16/BF16 tensor, then TF32, then FP16 (TPUs only), then FP32; TPU v1 uses INT8 OP/s.

    Parameters
    ----------
    chip : ChipSpec

    Returns
    -------
    float
        NaN when none of these columns is known.
    """
    if "TPU v1" in chip.name:
        return chip.int8_ops
    order = [chip.tensor_fp16_flops, chip.tf32_flops]
    if chip.is_tpu:
        order.append(chip.fp16_flops)
    order.append(chip.fp32_flops)
    for v in order:
        if not math.isnan(v):
            return v
    return NAN


def _record_key(row) -> str:
    """Identity of a purchase-price record: chips priced from it share a price draw."""
    return f"{row.hardware} {row.date} ${row.purchase:,.2f}"


@dataclass(frozen=True)
class PurchaseChoice:
    """The purchase price chosen for a chip and the resulting acquisition date."""

    server_price_per_chip: float
    raw_price: float
    is_bare_chip: bool
    price_date: date | None
    acquisition: datetime | None
    note: str
    record: str = ""


@dataclass(frozen=True)
class CloudChoice:
    """The cloud price chosen for a model (3-year committed-use equivalent)."""

    price_per_chip_hour: float
    vendor: str
    price_type: str
    price_date: date | None
    raw_price: float
    note: str


class Resolver:
    """Applies the paper's rules to model records of one :class:`Tables`.

    Parameters
    ----------
    tables : Tables
    """

    def __init__(self, tables: Tables):
        self.tables = tables
        self.rules = tables.rules
        self.chips = {c.name: c for c in tables.chips}
        self.matcher = HardwareMatcher(tables.chips)
        # cloud rows keyed by (vendor, hardware name), in table order; rows spelled
        # differently from a chip name are also reachable under the chip's name
        self._cloud: dict[tuple[str, str], list[PriceRecord]] = {}
        self._cloud_alias: dict[tuple[str, str], list[PriceRecord]] = {}
        vendors: list[str] = []
        for p in tables.prices:
            if not p.vendor:
                continue
            self._cloud.setdefault((p.vendor, p.hardware), []).append(p)
            canon = self.matcher.match(p.hardware)
            if canon and canon != p.hardware:
                self._cloud_alias.setdefault((p.vendor, canon), []).append(p)
            if p.vendor not in vendors:
                vendors.append(p.vendor)
        priority = list(self.rules.vendor_priority)
        self.vendor_order = priority + [v for v in vendors if v not in priority]
        self._purchases = [
            p for p in tables.prices if not math.isnan(p.purchase) and not p.vendor
        ]

    def _cloud_rows(self, vendor: str, hardware: str) -> list[PriceRecord]:
        rows = self._cloud.get((vendor, hardware))
        if rows:
            return rows
        return self._cloud_alias.get((vendor, hardware), [])

    # -- chips -------------------------------------------------------------------------
    def chip_for(self, model: ModelRecord) -> tuple[ChipSpec | None, str]:
        """Return the single chip of a model, or (None, reason)."""
        if not model.hardware:
            return None, "no training hardware"
        if len(model.hardware) > 1:
            return None, f"several hardware types ({model.hardware_text})"
        name = self.matcher.match(model.hardware[0])
        if name is None:
            return None, f"unknown hardware {model.hardware[0]!r}"
        return self.chips[name], ""

    def server_overhead(self, chip: ChipSpec) -> float:
        """Server overhead of a chip: curated value, else the paper's family rule."""
        if not math.isnan(chip.server_overhead):
            return chip.server_overhead
        return self.rules.server_overhead(chip.name)

    def server_power_ratio(self, chip: ChipSpec) -> float:
        """Server power ratio of a chip: curated value, else the paper's family rule."""
        if not math.isnan(chip.server_power_ratio):
            return chip.server_power_ratio
        return self.rules.server_power_ratio(chip.name, chip.is_tpu)

    def tdp_w(self, chip: ChipSpec) -> float:
        """Chip TDP in W: the chip table, else the paper's fallback (TPU v4 373 W)."""
        if not math.isnan(chip.tdp_w):
            return chip.tdp_w
        return self.rules.tdp_fallback_w(chip.name)

    # -- purchase price ----------------------------------------------------------------
    def purchase(self, chip: ChipSpec) -> PurchaseChoice:
        """Choose the server price per chip and the acquisition date (method.md 3-4)."""
        overhead = self.server_overhead(chip)
        if chip.is_tpu:
            rows = [
                p
                for p in self.tables.prices
                if p.purchase_kind == PRICE_TPU_EQUIVALENT and self._same_chip(p.hardware, chip)
            ]
            if not rows:
                return PurchaseChoice(NAN, NAN, True, None, None, "no TPU equivalent price")
            row = rows[0]
            acq = _dt(chip.release_date) if chip.release_date else None
            return PurchaseChoice(
                row.purchase * overhead,
                row.purchase,
                True,
                row.date,
                acq,
                f"TPU equivalent price ${row.purchase:,.0f} x {overhead} (bare chip)",
                _record_key(row),
            )
        alias = self.rules.gpu_price_alias(chip.name)
        if not alias:
            rows = [p for p in self._purchases if self._same_chip(p.hardware, chip)]
        else:
            rows = [p for p in self._purchases if alias in p.hardware]
        if not rows:
            return PurchaseChoice(NAN, NAN, False, None, None, "no purchase price")
        # earliest DGX price of the family, else the earliest price; same-date ties go to
        # the lower price (rules.price_ties = "lower": the paper's unstable sort picked the
        # DGXS V100 $17,250) or to the first row of the table ("table_order": Epoch's
        # mid-2025 pipeline, the DGX-1 V100 $18,625); sorted() is stable
        if self.rules.price_ties == "table_order":
            rows = sorted(rows, key=lambda p: p.date)
        else:
            rows = sorted(rows, key=lambda p: (p.date, p.purchase))
        dgx = [p for p in rows if "DGX" in p.notes]
        row = dgx[0] if dgx else rows[0]
        bare = row.purchase_kind == PRICE_BARE_CHIP
        price = row.purchase * overhead if bare else row.purchase
        acq = _dt(row.date)
        if chip.release_date is not None:
            earliest = _dt(chip.release_date) + timedelta(
                days=self.rules.gpu_acquisition_delay_days
            )
            acq = max(acq, earliest)
        kind = f"bare chip x {overhead}" if bare else "server price per chip"
        return PurchaseChoice(
            price,
            row.purchase,
            bare,
            row.date,
            acq,
            f"purchase {row.hardware} {row.date} ${row.purchase:,.2f} ({kind})",
            _record_key(row),
        )

    def _same_chip(self, hardware: str, chip: ChipSpec) -> bool:
        return hardware == chip.name or self.matcher.match(hardware) == chip.name

    # -- dates -------------------------------------------------------------------------
    def training_start(self, model: ModelRecord) -> tuple[datetime, str]:
        """Training start by the paper's rule and known exceptions (method.md 3)."""
        hours = model.training_time_hours
        if math.isnan(hours):
            duration = timedelta(hours=self.rules.default_training_time_hours)
        else:
            duration = timedelta(hours=int(hours))  # the paper truncates to whole hours
        o = self.rules.training_date_override(model.name)
        if o is not None:
            if o.start is not None:
                return _dt(o.start), f"training start {o.start} (known)"
            return _dt(o.end) - duration, f"training end {o.end} (known)"
        lag = timedelta(days=self.rules.publication_lag_days)
        return _dt(model.publication_date) - (duration + lag), "publication - 60 d - training time"

    # -- cloud ---------------------------------------------------------------------------
    def cloud(self, model: ModelRecord, chip: ChipSpec, start: datetime) -> CloudChoice:
        """Cloud price per chip-hour, 3-year committed-use equivalent (method.md 5)."""
        target = start - timedelta(days=self.rules.cloud_price_lag_days)
        vendor = self.rules.preferred_vendor(model.organization)
        if chip.is_tpu:
            vendors = [self.rules.tpu_vendor]
        else:
            vendors = [vendor] + [v for v in self.vendor_order if v != vendor]
        for ptype in CLOUD_PRICE_TYPES:
            for v in vendors:
                rows = self._cloud_candidates(chip, v)
                row = _closest(rows, target)
                if row is None:
                    continue
                value = row.cloud(ptype)
                if math.isnan(value):
                    continue
                converted = self._to_three_year(value, v, ptype)
                if math.isnan(converted):
                    continue
                return CloudChoice(
                    converted,
                    v,
                    ptype,
                    row.date,
                    value,
                    f"cloud {v} {row.hardware} {row.date} {ptype} ${value}/h"
                    + (f" -> 3-yr ${converted:.4f}/h" if ptype != CLOUD_THREE_YEAR else ""),
                )
        return CloudChoice(NAN, "", "", None, NAN, "no cloud price")

    def _cloud_candidates(self, chip: ChipSpec, vendor: str) -> list[PriceRecord]:
        rows = self._cloud_rows(vendor, chip.name)
        if rows:
            return rows
        group = self.rules.cloud_price_group(chip.name)
        if group is None:
            return []
        simplified, members = group
        rows = self._cloud_rows(vendor, simplified)
        if rows:
            return rows
        for member in members:
            rows = self._cloud_rows(vendor, member)
            if rows:
                return rows
        return []

    def _to_three_year(self, price: float, vendor: str, ptype: str) -> float:
        if ptype == CLOUD_THREE_YEAR:
            return price
        d = self.tables.cloud_discounts.get(vendor)
        if d is None:
            return NAN
        return price * (1 - d[CLOUD_THREE_YEAR]) / (1 - d[ptype])

    # -- deflator ------------------------------------------------------------------------
    def deflator(self, publication: date, reference_month: str) -> float:
        """PPI(reference month) / PPI(publication month); NaN if either is missing."""
        ref = self.tables.ppi.value(reference_month)
        pub = self.tables.ppi.value(f"{publication.year:04d}-{publication.month:02d}")
        return ref / pub


#: Physical range of the numeric fields of a model record: (field, low, high, low inclusive).
#: A missing value (NaN) means "not reported" and is allowed; a present one must be finite
#: and inside the range, or the model is skipped with the field named.
RECORD_BOUNDS = (
    ("hardware_quantity", 0.0, math.inf, False),
    ("training_time_hours", 0.0, math.inf, False),
    ("training_chip_hours", 0.0, math.inf, False),
    ("training_compute_flop", 0.0, math.inf, False),
    ("finetune_compute_flop", 0.0, math.inf, True),
    ("utilization", 0.0, 1.0, False),
)


def implausible_values(m: ModelRecord) -> str | None:
    """Why a model record's numbers are physically impossible, or None when they are not.

    Parameters
    ----------
    m : ModelRecord

    Returns
    -------
    str or None
        E.g. ``"utilization = 2.5 is outside (0, 1]"``.
    """
    for name, low, high, low_inclusive in RECORD_BOUNDS:
        value = getattr(m, name)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        below = value < low or (value == low and not low_inclusive)
        if not math.isfinite(value) or below or value > high:
            interval = f"{'[' if low_inclusive else '('}{low:g}, {high:g}]" if math.isfinite(high) else \
                f"{'>=' if low_inclusive else '>'} {low:g}"
            return f"{name} = {value:g} is impossible (must be finite and {interval})"
    return None


def _where(m: ModelRecord) -> tuple[str, int]:
    """Source file and CSV line of a model record (``"", 0`` when unknown)."""
    match = re.search(r"([^,]+\.csv):(\d+)$", m.source or "")
    return (match.group(1).strip(), int(match.group(2))) if match else ("", 0)


def _dt(d: date) -> datetime:
    return datetime(d.year, d.month, d.day)


def _closest(rows: list[PriceRecord], target: datetime) -> PriceRecord | None:
    """Return the row dated closest on or before ``target``, else the closest after."""
    before = [r for r in rows if _dt(r.date) <= target]
    if before:
        return min(before, key=lambda r: target - _dt(r.date))
    after = [r for r in rows if _dt(r.date) > target]
    if after:
        return min(after, key=lambda r: _dt(r.date) - target)
    return None


def _days_between(a: datetime, b: datetime) -> int:
    """Whole days from ``a`` to ``b`` (floor, as pandas ``Timedelta.days``)."""
    return (b - a).days


def resolve_facts(
    tables: Tables,
    models: SelectionResult | Iterable[str] | Iterable[ModelRecord],
    *,
    finetunes: str = "drop",
    reference_month: str = "2023-12",
    snapshot: str | None = None,
) -> tuple[ModelFacts, list[SkipEntry]]:
    """Resolve the selected models into :class:`ModelFacts` by the paper's rules.

    Parameters
    ----------
    tables : Tables
        Embedded priors or an imported snapshot.
    models : SelectionResult or iterable of str or ModelRecord
        Which models to resolve (names are looked up in ``tables.models``).
    finetunes : {"drop", "add_base"}
        ``drop`` (paper v2): fine-tunes are left out. ``add_base`` (paper v1): kept, and
        the base model's row is added (``is_frontier`` False if not itself selected).
    reference_month : str
        ``"YYYY-MM"`` of the constant dollars (paper: ``"2023-12"``).
    snapshot : str, optional
        Recorded in ``ModelFacts.snapshot``; default ``tables.snapshot``.

    Returns
    -------
    facts : ModelFacts
        One row per kept model, in publication order (added base rows are placed
        before the first fine-tune that needs them).
    skipped : list of SkipEntry
        Models left out (unknown name, no publication date, dropped fine-tune) and, per
        kept model, each cost method it cannot support with the reason.

    Raises
    ------
    ConfigError
        On an invalid ``finetunes`` or ``reference_month``.
    DataError
        When the PPI deflator has no value for the publication month of a model that is
        costed under some method (one line naming the file, the months and the models;
        see :func:`uncertain_cost.data.coverage.check_deflator`).
    """
    _check_resolve_args(tables, finetunes, reference_month)
    res = Resolver(tables)
    by_name = {}
    for m in tables.models:
        by_name.setdefault(m.name, m)

    skipped: list[SkipEntry] = []
    items = models.names if isinstance(models, SelectionResult) else list(models)
    selected = _select_records(items, by_name, skipped)
    rows = _rows_with_bases(selected, by_name, finetunes, skipped)
    # keep base rows ahead of their fine-tunes but otherwise in publication order
    index = {r[0].name: i for i, r in enumerate(rows)}

    cols, priced = _fill_columns(rows, index, res, tables, finetunes, reference_month, skipped)
    check_deflator(tables.ppi, _publication_months(priced))
    facts = _assemble_facts(rows, res, tables, cols, snapshot, reference_month, finetunes)
    return facts, skipped




def _fill_columns(rows: list[tuple[ModelRecord, bool]], index: dict[str, int], res: Resolver, tables: Tables,
                  finetunes: str, reference_month: str, skipped: list[SkipEntry]) -> tuple[dict, list[ModelRecord]]:
    """Resolve each row into the facts' columns; return them and the records costed under some method.

    Each method a row cannot support is appended to ``skipped`` with the reason.
    """
    n = len(rows)
    chip_names: list[str] = []
    chip_records: dict[str, str] = {}
    f = _empty_fields(n)
    chip_index = np.full(n, -1, dtype=np.int64)
    path = np.full(n, CHIP_HOURS_NONE, dtype=np.int64)
    bare = np.zeros(n, dtype=bool)
    pue_class = np.full(n, PUE_OTHER, dtype=np.int64)
    base_index = np.full(n, -1, dtype=np.int64)
    frontier = np.zeros(n, dtype=bool)
    pub_dates = np.empty(n, dtype="datetime64[D]")
    notes: list[str] = []
    extra_dates = {k: [] for k in ("training_start", "acquisition", "cloud_price_date")}
    cloud_vendor: list[str] = []
    priced: list[ModelRecord] = []

    for i, (m, is_frontier) in enumerate(rows):
        note: list[str] = []
        frontier[i] = is_frontier
        pub = m.publication_date
        pub_dates[i] = np.datetime64(pub.isoformat(), "D")
        f["publication_year"][i] = decimal_year(pub)
        f["reported_chip_hours"][i] = m.training_chip_hours
        f["hardware_quantity"][i] = m.hardware_quantity
        f["training_time_hours"][i] = m.training_time_hours
        f["training_compute_flop"][i] = m.training_compute_flop
        f["utilization"][i] = m.utilization
        f["deflator"][i] = res.deflator(pub, reference_month)
        f["electricity_usd_per_kwh"][i] = tables.electricity.get(pub.year, NAN)
        hyper = res.rules.is_hyperscaler(m.organization)
        pue_class[i] = PUE_HYPERSCALER if hyper else PUE_OTHER
        f["pue"][i] = res.rules.pue_hyperscaler if hyper else res.rules.pue_other
        if m.is_finetune and finetunes == "add_base":
            base_index[i] = index.get(m.base_model, -1)

        chip, why = res.chip_for(m)
        start, start_note = res.training_start(m)
        acq_date = None
        cloud_date = None
        vendor = ""
        if chip is not None:
            acq_date, cloud_date, vendor = _chip_columns(res, m, chip, start, i, f, bare, chip_index,
                                                         chip_names, chip_records, note)
        else:
            note.append(why)
        note.append(start_note)
        extra_dates["training_start"].append(np.datetime64(start.date().isoformat(), "D"))
        extra_dates["acquisition"].append(
            np.datetime64(acq_date.date().isoformat(), "D") if acq_date else np.datetime64("NaT")
        )
        extra_dates["cloud_price_date"].append(
            np.datetime64(cloud_date.isoformat(), "D") if cloud_date else np.datetime64("NaT")
        )
        cloud_vendor.append(vendor)

        path[i] = _chip_hours_path(m, f["peak_flops"][i])
        cloud_why = ""
        if res.rules.cloud_chip_hours == "quantity_time" and chip is not None:
            price, cloud_why = quantity_time_cloud_price(m, int(path[i]), f["cloud_price_per_chip_hour"][i])
            f["cloud_price_per_chip_hour"][i] = price
            note.append(cloud_why if not math.isnan(price) else "")
        notes.append("; ".join(x for x in note if x))

        lost = _uncostable(f, path, i, chip, why, cloud_why)
        for method, reason in lost:
            skipped.append(SkipEntry(*_where(m), m.name, f"{method}: {reason}"))
        if len(lost) < 3:  # a cost is computed under some method: its month needs a deflator value
            priced.append(m)
    columns = {"f": f, "chip_names": chip_names, "chip_records": chip_records, "chip_index": chip_index,
               "path": path, "bare": bare, "pue_class": pue_class, "base_index": base_index,
               "frontier": frontier, "pub_dates": pub_dates, "notes": notes, "extra_dates": extra_dates,
               "cloud_vendor": cloud_vendor}
    return columns, priced


def _assemble_facts(rows: list[tuple[ModelRecord, bool]], res: Resolver, tables: Tables, cols: dict,
                    snapshot: str | None, reference_month: str, finetunes: str) -> ModelFacts:
    """Build the `ModelFacts` from the resolved columns (``_fill_columns``)."""
    f = cols["f"]
    chip_names = cols["chip_names"]
    chip_records = cols["chip_records"]
    chip_index = cols["chip_index"]
    path = cols["path"]
    bare = cols["bare"]
    pue_class = cols["pue_class"]
    base_index = cols["base_index"]
    frontier = cols["frontier"]
    pub_dates = cols["pub_dates"]
    notes = cols["notes"]
    extra_dates = cols["extra_dates"]
    cloud_vendor = cols["cloud_vendor"]

    chip_specs = [res.chips[c] for c in chip_names]
    facts = ModelFacts(
        names=tuple(m.name for m, _ in rows),
        organization=tuple(m.organization for m, _ in rows),
        publication_date=pub_dates,
        publication_year=f["publication_year"],
        chips=tuple(chip_names),
        chip_price_record=tuple(chip_records.get(c, "") for c in chip_names),
        chip_index=chip_index,
        chip_is_tpu=np.array([c.is_tpu for c in chip_specs], dtype=bool),
        chip_hours_path=path,
        reported_chip_hours=f["reported_chip_hours"],
        hardware_quantity=f["hardware_quantity"],
        training_time_hours=f["training_time_hours"],
        training_compute_flop=f["training_compute_flop"],
        utilization=f["utilization"],
        peak_flops=f["peak_flops"],
        server_price_per_chip=f["server_price_per_chip"],
        price_is_bare_chip=bare,
        server_overhead=f["server_overhead"],
        depreciation_years=f["depreciation_years"],
        tdp_kw=f["tdp_kw"],
        server_power_ratio=f["server_power_ratio"],
        electricity_usd_per_kwh=f["electricity_usd_per_kwh"],
        pue_class=pue_class,
        cloud_price_per_chip_hour=f["cloud_price_per_chip_hour"],
        deflator=f["deflator"],
        base_index=base_index,
        is_frontier=frontier,
        notes=tuple(notes),
        snapshot=snapshot if snapshot is not None else tables.snapshot,
        extra={
            "training_start": np.array(extra_dates["training_start"], dtype="datetime64[D]"),
            "acquisition_date": np.array(extra_dates["acquisition"], dtype="datetime64[D]"),
            "cloud_price_date": np.array(extra_dates["cloud_price_date"], dtype="datetime64[D]"),
            "cloud_vendor": tuple(cloud_vendor),
            "avg_power_fraction": f["avg_power_fraction"],
            "pue": f["pue"],
            "reference_month": reference_month,
            "finetunes": finetunes,
            "rules": tables.rules,
            "source": tuple(m.source for m, _ in rows),
        },
    )
    return facts

def _check_resolve_args(tables: Tables, finetunes: str, reference_month: str) -> None:
    """Raise a `ConfigError` for an invalid ``finetunes`` or ``reference_month``."""
    if finetunes not in FINETUNE_MODES:
        raise ConfigError("finetunes", f"expected one of {FINETUNE_MODES}, got {finetunes!r}")
    if len(reference_month) != 7 or reference_month[4] != "-":
        raise ConfigError("reference_month", f"expected 'YYYY-MM', got {reference_month!r}")
    if math.isnan(tables.ppi.value(reference_month)):
        raise ConfigError(
            "reference_month",
            f"{reference_month} is not in the PPI series "
            f"({tables.ppi.months[0] if len(tables.ppi) else '-'}.."
            f"{tables.ppi.months[-1] if len(tables.ppi) else '-'})",
        )


def _select_records(items, by_name: dict[str, ModelRecord], skipped: list[SkipEntry]) -> list[ModelRecord]:
    """Return the records of ``items`` that can be resolved, in publication order; append the others to ``skipped``."""
    selected: list[ModelRecord] = []
    for item in items:
        m = item if isinstance(item, ModelRecord) else by_name.get(item)
        if m is None:
            skipped.append(SkipEntry("", 0, str(item), "model not found in tables"))
            continue
        if m.publication_date is None:
            skipped.append(SkipEntry(*_where(m), m.name, "no publication date"))
            continue
        problem = implausible_values(m)
        if problem:
            skipped.append(SkipEntry(*_where(m), m.name, problem))
            continue
        selected.append(m)
    selected.sort(key=lambda m: (m.publication_date, m.name))
    return selected


def _rows_with_bases(selected: list[ModelRecord], by_name: dict[str, ModelRecord], finetunes: str,
                     skipped: list[SkipEntry]) -> list[tuple[ModelRecord, bool]]:
    """Return ``(record, is_frontier)`` rows: fine-tunes dropped, or kept with their base row added."""
    rows: list[tuple[ModelRecord, bool]] = []
    names_in = {m.name for m in selected}
    for m in selected:
        if m.is_finetune:
            if finetunes == "drop":
                skipped.append(
                    SkipEntry(*_where(m), m.name, f"fine-tune of {m.base_model!r} dropped (v2 rules)")
                )
                continue
            if m.base_model not in names_in and m.base_model not in [r[0].name for r in rows]:
                base = by_name.get(m.base_model)
                if base is not None and base.publication_date is not None and implausible_values(base):
                    skipped.append(SkipEntry(*_where(m), m.name, f"base model {m.base_model!r}: "
                                             f"{implausible_values(base)}"))
                    continue
                if base is not None and base.publication_date is not None:
                    rows.append((base, False))
                else:
                    skipped.append(
                        SkipEntry(*_where(m), m.name, f"base model {m.base_model!r} not found")
                    )
        rows.append((m, True))
    return rows


def _empty_fields(n: int) -> dict[str, np.ndarray]:
    """Return the float columns of the facts, NaN-filled, ``n`` rows each."""
    return {
        k: np.full(n, np.nan)
        for k in (
            "publication_year",
            "reported_chip_hours",
            "hardware_quantity",
            "training_time_hours",
            "training_compute_flop",
            "utilization",
            "peak_flops",
            "server_price_per_chip",
            "server_overhead",
            "depreciation_years",
            "tdp_kw",
            "server_power_ratio",
            "electricity_usd_per_kwh",
            "cloud_price_per_chip_hour",
            "deflator",
            "avg_power_fraction",
            "pue",
        )
    }


def _chip_columns(res, m, chip, start, i, f, bare, chip_index, chip_names, chip_records, note):
    """Fill row ``i``'s chip, purchase and cloud columns; return its acquisition date, cloud price date and vendor."""
    acq_date = None
    if chip.name not in chip_names:
        chip_names.append(chip.name)
    chip_index[i] = chip_names.index(chip.name)
    f["peak_flops"][i] = peak_flops(chip)
    f["server_overhead"][i] = res.server_overhead(chip)
    f["tdp_kw"][i] = res.tdp_w(chip) / 1000.0
    f["server_power_ratio"][i] = res.server_power_ratio(chip)
    f["avg_power_fraction"][i] = res.rules.avg_power_fraction(chip.is_tpu)
    pc = res.purchase(chip)
    chip_records.setdefault(chip.name, pc.record)
    note.append(pc.note)
    if not math.isnan(pc.server_price_per_chip) and pc.acquisition is not None:
        f["server_price_per_chip"][i] = pc.server_price_per_chip
        bare[i] = pc.is_bare_chip
        acq_date = pc.acquisition
        use_start = start
        if not chip.is_tpu and use_start < pc.acquisition:
            use_start = pc.acquisition  # GPUs: training cannot start before purchase
        days = _days_between(pc.acquisition, use_start)
        f["depreciation_years"][i] = days / res.rules.days_per_year
    cc = res.cloud(m, chip, start)
    note.append(cc.note)
    f["cloud_price_per_chip_hour"][i] = cc.price_per_chip_hour
    cloud_date = cc.price_date
    vendor = cc.vendor
    return acq_date, cloud_date, vendor


def _chip_hours_path(m: ModelRecord, peak: float) -> int:
    """Return how row's chip-hours are found (method.md 2): reported, quantity x time, imputed or none."""
    if not math.isnan(m.training_chip_hours):
        return CHIP_HOURS_REPORTED
    if not math.isnan(m.hardware_quantity) and not math.isnan(m.training_time_hours):
        return CHIP_HOURS_QUANTITY_TIME
    if not math.isnan(m.training_compute_flop) and not math.isnan(peak):
        return CHIP_HOURS_IMPUTED
    return CHIP_HOURS_NONE

def _publication_months(records: Iterable[ModelRecord]) -> dict[str, list[str]]:
    """Publication month ``"YYYY-MM"`` -> names of the models published then (what the deflator must cover)."""
    needs: dict[str, list[str]] = {}
    for m in records:
        needs.setdefault(f"{m.publication_date.year:04d}-{m.publication_date.month:02d}", []).append(m.name)
    return needs


def quantity_time_cloud_price(m: ModelRecord, path: int, price: float) -> tuple[float, str]:
    """Cloud price per chip-hour under Epoch's mid-2025 rule: billed chip-hours = quantity x time.

    The cost kernels multiply the cloud price by the model's chip-hours (reported ones
    first). Epoch's pipeline bills hardware quantity x training time instead and gives no
    cloud cost without both, so the price is rescaled to the chip-hours the kernels use.

    Parameters
    ----------
    m : ModelRecord
    path : int
        The model's chip-hours path code.
    price : float
        Cloud price per chip-hour (3-year equivalent).

    Returns
    -------
    price : float
        NaN when quantity or training time is missing.
    note : str
        The reason (when NaN) or the rescaling made.
    """
    q, t = m.hardware_quantity, m.training_time_hours
    if math.isnan(price):
        return price, ""
    if math.isnan(q) or math.isnan(t):
        return NAN, "no hardware quantity x training time (Epoch's cloud rule, data.rules)"
    if path == CHIP_HOURS_REPORTED and m.training_chip_hours != q * t:
        factor = q * t / m.training_chip_hours
        return price * factor, (f"cloud billed for quantity x time {q * t:,.0f} chip-hours, not the reported "
                                f"{m.training_chip_hours:,.0f} (price x {factor:.4f}, Epoch's cloud rule)")
    return price, ""


def _uncostable(f, path, i, chip, why, cloud_why="") -> list[tuple[str, str]]:
    out = []
    no_chip = why or "no chip"
    if path[i] == CHIP_HOURS_NONE:
        ch = "no chip-hours (no reported chip-hours, quantity x time, or compute + chip)"
    else:
        ch = ""
    if chip is None:
        out.append(("amortized", no_chip))
        out.append(("cloud", no_chip))
        out.append(("acquisition", no_chip))
        return out
    price = f["server_price_per_chip"][i]
    if ch or math.isnan(price) or math.isnan(f["tdp_kw"][i]):
        out.append(("amortized", ch or ("no purchase price" if math.isnan(price) else "no TDP")))
    if ch or math.isnan(f["cloud_price_per_chip_hour"][i]):
        out.append(("cloud", ch or cloud_why or "no cloud price"))
    if math.isnan(f["hardware_quantity"][i]) or math.isnan(price):
        out.append(
            (
                "acquisition",
                "no hardware quantity" if not math.isnan(price) else "no purchase price",
            )
        )
    return out
