"""Read an Epoch AI data snapshot (four CSV tables) into normalized :class:`Tables`.

Accepts the 2024-06 and the 2025-06 schemas (column names drifted between them, e.g.
``System``/``Model``, ``Hardware utilization``/``Hardware utilization (MFU)``,
``Name of the hardware``/``Hardware name``, PPI ``DATE``/``observation_date``). Uses the
:mod:`csv` module only, strictly: every row's field count is checked against the header,
a stray quote or a damaged row is dropped and reported (file, line, reason), and a
truncated file (a quoted field open at the end), a non-UTF-8 file or a table with no
usable rows raises one :class:`DataError` naming the file and line.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from types import MappingProxyType

from uncertain_cost.data.tables import (
    NAN,
    PRICE_BARE_CHIP,
    PRICE_SERVER,
    PRICE_TPU_EQUIVALENT,
    ChipSpec,
    ImportReport,
    ModelRecord,
    PriceIndex,
    PriceRecord,
    SkipEntry,
    Tables,
)
from uncertain_cost.errors import DataError
from uncertain_cost.textdecode import decode_utf8

MODELS_FILE = "All ML Systems - full view.csv"
CHIPS_FILE = "Chip dataset-Grid view.csv"
PRICES_FILE = "Hardware prices.csv"
PPI_FILE = "PCU518210518210.csv"
PPI_SERIES = "PCU518210518210"

# canonical field -> accepted column names (first present wins), per table
MODEL_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("Model", "System"),
    "publication_date": ("Publication date",),
    "organization": ("Organization",),
    "training_compute_flop": ("Training compute (FLOP)",),
    "hardware": ("Training hardware",),
    "hardware_quantity": ("Hardware quantity",),
    "training_time_hours": ("Training time (hours)",),
    "training_chip_hours": ("Training chip-hours",),
    "utilization": ("Hardware utilization (MFU)", "Hardware utilization"),
    "base_model": ("Base model",),
    "finetune_compute_flop": ("Finetune compute (FLOP)",),
    "notability": ("Notability criteria",),
    "domain": ("Domain",),
    "country": ("Country (of organization)", "Country (from Organization)"),
    "compute_rank": ("Compute rank when published",),
}
MODEL_REQUIRED = ("name", "publication_date", "training_compute_flop", "hardware")

CHIP_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("Hardware name", "Name of the hardware"),
    "manufacturer": ("Manufacturer",),
    "type": ("Type",),
    "release_date": ("Release date",),
    "tensor_fp16_flops": ("Tensor-FP16/BF16 performance (FLOP/s)", "FP16 Tensor Core"),
    "tf32_flops": ("TF32 (TensorFloat-32) performance (FLOP/s)", "Tensor Float 32 (TF32)"),
    "fp16_flops": (
        "FP16 (half precision) performance (FLOP/s)",
        "FP16 (half precision) Performance (FLOP/s)",
    ),
    "fp32_flops": (
        "FP32 (single precision) performance (FLOP/s)",
        "FP32 (single precision) Performance (FLOP/s)",
    ),
    "int8_ops": ("INT8 performance (OP/s)", "INT8 Performance (OP/s)"),
    "fp8_flops": ("FP8 performance (FLOP/s)",),
    "tdp_w": ("TDP (W)",),
}
CHIP_REQUIRED = ("name", "release_date", "tdp_w")

PRICE_COLUMNS: dict[str, tuple[str, ...]] = {
    "source": ("Price source",),
    "date": ("Price date",),
    "hardware": ("Hardware model",),
    "vendor": ("Vendor",),
    "on_demand": ("Price per chip-hour (on-demand)",),
    "one_year": ("Price per chip-hour (1-year CUD)",),
    "three_year": ("Price per chip-hour (3-year CUD)",),
    "purchase": ("Price (hardware purchase)",),
    "notes": ("Notes",),
}
PRICE_REQUIRED = ("date", "hardware", "vendor", "three_year", "purchase")

PPI_COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("observation_date", "DATE", "date"),
    "value": (PPI_SERIES, "value"),
}
PPI_REQUIRED = ("date", "value")

_NUMBER_RE = re.compile(r"[,$\s_]")


# ----------------------------------------------------------------------------------------
# low-level parsing
# ----------------------------------------------------------------------------------------
def parse_number(text: str) -> float:
    """Parse a number as written in the Epoch tables; NaN when empty or unparseable.

    Accepts thousands separators, a leading ``$``, surrounding spaces, scientific
    notation and a trailing ``%`` (divided by 100).

    Parameters
    ----------
    text : str

    Returns
    -------
    float
    """
    if text is None:
        return NAN
    s = _NUMBER_RE.sub("", str(text))
    if not s:
        return NAN
    scale = 1.0
    if s.endswith("%"):
        s, scale = s[:-1], 0.01
    try:
        value = float(s) * scale
    except ValueError:
        return NAN
    return value if math.isfinite(value) else NAN


def parse_date(text: str) -> date | None:
    """Parse ``YYYY-MM-DD`` (optionally followed by a time) or ``YYYY-MM``; None if not.

    Parameters
    ----------
    text : str

    Returns
    -------
    datetime.date or None
    """
    s = (text or "").strip()
    if not s:
        return None
    m = re.match(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", s)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)
    else:
        m = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})", s)  # US style M/D/YYYY
        if not m:
            return None
        mo, d, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
    try:
        return date(y, mo, d)
    except ValueError:
        return None


def split_names(text: str) -> tuple[str, ...]:
    """Split a comma-separated list of linked names, dropping blanks and duplicates."""
    out: list[str] = []
    for part in (text or "").split(","):
        p = part.strip()
        if p and p not in out:
            out.append(p)
    return tuple(out)


#: largest field the reader accepts (the csv module's default, 131,072 characters, is
#: smaller than some Epoch notes columns; a bigger field would silently drop the row)
FIELD_SIZE_LIMIT = 2**31 - 1


def _decode(path: Path) -> str:
    """Read ``path`` as UTF-8 (a BOM is allowed); DataError naming the line otherwise."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    text, problem = decode_utf8(raw)
    if text is None:
        raise DataError(f"{path}: {problem} is not UTF-8; re-save the file as UTF-8")
    return text


def _key_index(header: list[str], key: tuple[str, ...]) -> int | None:
    """Index of the first header column named in ``key`` (case-insensitive), else None."""
    lowered = [h.lower() for h in header]
    for name in key:
        if name.lower() in lowered:
            return lowered.index(name.lower())
    return None


def _damaged_row_key(text_lines: list[str], first: int, last: int, index: int | None) -> str:
    """Read leniently the naming field of a record the strict parser rejected (lines ``first..last``)."""
    if index is None:
        return ""
    try:
        row = next(csv.reader(io.StringIO("\n".join(text_lines[first - 1:last]), newline="")), [])
    except csv.Error:
        return ""
    return row[index].strip()[:80] if index < len(row) else ""


def _span(first: int, last: int) -> str:
    """Note for a dropped record read across several lines (a quote opened a field), else ""."""
    return f" across lines {first}-{last}, which are all dropped" if last > first else ""


def _read_csv(
    path: Path, skipped: list[SkipEntry] | None = None, key: tuple[str, ...] = ()
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Read a CSV strictly: return its header and the (first line number, row) of each row.

    Blank rows are ignored. A row whose field count differs from the header's, or that
    the csv parser rejects (a stray quote), is left out and reported in ``skipped`` with
    its file, line and the value of its naming column (``key``: the accepted header names
    of that column; the model or hardware name) when it has one. A quoted field still
    open at the end of the file (a truncated file) raises :class:`DataError`, since it
    swallows every later row.
    """
    text = _decode(path)
    skipped = skipped if skipped is not None else []
    fname = path.name
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    previous_limit = csv.field_size_limit(FIELD_SIZE_LIMIT)
    header: list[str] | None = None
    key_index: int | None = None
    lines: list[str] | None = None  # the text's lines, split only when a damaged row needs them
    out: list[tuple[int, list[str]]] = []
    try:
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                if "unexpected end of data" in str(exc):
                    raise DataError(
                        f"{path}: line {start}: quoted field not closed before the end of "
                        "the file (truncated file?)"
                    ) from None
                if header is None:
                    raise DataError(
                        f"{path}: line {start}: not a readable CSV header ({exc})"
                    ) from None
                if lines is None:
                    lines = text.split("\n")
                name = _damaged_row_key(lines, start, reader.line_num, key_index)
                skipped.append(SkipEntry(fname, start, name,
                                         f"malformed CSV row ({exc}){_span(start, reader.line_num)}; row dropped"))
                continue
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [c.strip() for c in row]
                key_index = _key_index(header, key)
                continue
            if len(row) != len(header):
                at = key_index if key_index is not None and key_index < len(row) else 0
                skipped.append(SkipEntry(
                    fname, start, row[at].strip()[:80],
                    f"{len(row)} fields where the header has {len(header)} "
                    f"(stray quote or damaged row){_span(start, reader.line_num)}; row dropped",
                ))
                continue
            out.append((start, row))
    finally:
        csv.field_size_limit(previous_limit)
    if header is None:
        raise DataError(f"{path}: empty file (no header row)")
    return header, out


def _require_rows(path: Path, n: int, what: str) -> None:
    """DataError when a required table ends up with no usable rows."""
    if n == 0:
        raise DataError(f"{path}: no usable {what} rows (header only, or every row skipped)")


def _column_map(
    path: Path, header: list[str], spec: dict[str, tuple[str, ...]], required: Iterable[str]
) -> dict[str, int]:
    """Map canonical fields to column indices; DataError naming a missing required column."""
    index = {h: i for i, h in reversed(list(enumerate(header)))}
    lowered = {h.lower(): i for i, h in reversed(list(enumerate(header)))}
    out: dict[str, int] = {}
    for key, names in spec.items():
        for name in names:
            if name in index:
                out[key] = index[name]
                break
            if name.lower() in lowered:
                out[key] = lowered[name.lower()]
                break
    for key in required:
        if key not in out:
            raise DataError(
                f"{path}: missing column {' / '.join(repr(n) for n in spec[key])} "
                f"(needed for {key})"
            )
    return out


def _cell(row: list[str], cols: dict[str, int], key: str) -> str:
    i = cols.get(key)
    if i is None or i >= len(row):
        return ""
    return row[i].strip()


# ----------------------------------------------------------------------------------------
# the four tables
# ----------------------------------------------------------------------------------------
def read_models(path: Path) -> tuple[tuple[ModelRecord, ...], list[SkipEntry]]:
    """Read the notable-models table.

    Rows without a name are skipped; a repeated name keeps the first row. Rows without
    publication date or compute are kept (selection drops them, as the paper did).

    Parameters
    ----------
    path : Path
        ``All ML Systems - full view.csv``.

    Returns
    -------
    models : tuple of ModelRecord
    skipped : list of SkipEntry
    """
    skipped: list[SkipEntry] = []
    header, rows = _read_csv(path, skipped, MODEL_COLUMNS["name"])
    cols = _column_map(path, header, MODEL_COLUMNS, MODEL_REQUIRED)
    fname = path.name
    seen: set[str] = set()
    out: list[ModelRecord] = []
    for line, row in rows:
        name = _cell(row, cols, "name")
        if not name:
            skipped.append(SkipEntry(fname, line, "", "no model name"))
            continue
        if name in seen:
            skipped.append(SkipEntry(fname, line, name, "duplicate model name, first row kept"))
            continue
        seen.add(name)
        pub_text = _cell(row, cols, "publication_date")
        pub = parse_date(pub_text)
        if pub_text and pub is None:
            skipped.append(
                SkipEntry(fname, line, name, f"unparseable publication date {pub_text!r}")
            )

        def num(key: str, name: str = name, line: int = line, row: list[str] = row) -> float:
            text = _cell(row, cols, key)
            value = parse_number(text)
            if text and math.isnan(value):
                skipped.append(SkipEntry(fname, line, name, f"unparseable {key} {text!r}"))
            return value

        out.append(
            ModelRecord(
                name=name,
                publication_date=pub,
                organization=_cell(row, cols, "organization"),
                training_compute_flop=num("training_compute_flop"),
                hardware=split_names(_cell(row, cols, "hardware")),
                hardware_quantity=num("hardware_quantity"),
                training_time_hours=num("training_time_hours"),
                training_chip_hours=num("training_chip_hours"),
                utilization=num("utilization"),
                base_model=_cell(row, cols, "base_model"),
                finetune_compute_flop=num("finetune_compute_flop"),
                notability=_cell(row, cols, "notability"),
                domain=_cell(row, cols, "domain"),
                country=_cell(row, cols, "country"),
                source=f"{fname}:{line}",
                compute_rank=num("compute_rank"),
            )
        )
    _require_rows(path, len(out), "model")
    return tuple(out), skipped


def read_chips(path: Path) -> tuple[tuple[ChipSpec, ...], list[SkipEntry]]:
    """Read the chip dataset; rows without a name are skipped (reported), repeated names keep the first.

    Parameters
    ----------
    path : Path
        ``Chip dataset-Grid view.csv``.

    Returns
    -------
    chips : tuple of ChipSpec
    skipped : list of SkipEntry
    """
    skipped: list[SkipEntry] = []
    header, rows = _read_csv(path, skipped, CHIP_COLUMNS["name"])
    cols = _column_map(path, header, CHIP_COLUMNS, CHIP_REQUIRED)
    fname = path.name
    seen: set[str] = set()
    out: list[ChipSpec] = []
    for line, row in rows:
        name = _cell(row, cols, "name")
        if not name:
            skipped.append(SkipEntry(fname, line, "", "chip row without a hardware name"))
            continue
        if name in seen:
            skipped.append(SkipEntry(fname, line, name, "duplicate hardware name, first kept"))
            continue
        seen.add(name)
        kind_text = _cell(row, cols, "type").lower()
        kind = "tpu" if ("TPU" in name or kind_text == "tpu") else "gpu"
        if kind == "gpu" and kind_text and kind_text not in ("gpu", ""):
            kind = "other"
        out.append(
            ChipSpec(
                name=name,
                manufacturer=_cell(row, cols, "manufacturer"),
                kind=kind,
                release_date=parse_date(_cell(row, cols, "release_date")),
                tensor_fp16_flops=parse_number(_cell(row, cols, "tensor_fp16_flops")),
                tf32_flops=parse_number(_cell(row, cols, "tf32_flops")),
                fp16_flops=parse_number(_cell(row, cols, "fp16_flops")),
                fp32_flops=parse_number(_cell(row, cols, "fp32_flops")),
                int8_ops=parse_number(_cell(row, cols, "int8_ops")),
                fp8_flops=parse_number(_cell(row, cols, "fp8_flops")),
                tdp_w=parse_number(_cell(row, cols, "tdp_w")),
                source=f"Epoch AI chip dataset, {fname}:{line}",
            )
        )
    _require_rows(path, len(out), "chip")
    return tuple(out), skipped


def purchase_kind(hardware: str, notes: str) -> str:
    """Classify a purchase price by the paper's rules.

    A TPU purchase price is a production-cost-based equivalent (bare chip); otherwise
    notes saying "single-unit" mean a bare chip price, anything else a server price per
    chip (DGX/HGX price divided by its GPU count).
    """
    if "TPU" in hardware:
        return PRICE_TPU_EQUIVALENT
    return PRICE_BARE_CHIP if "single-unit" in notes.lower() else PRICE_SERVER


def read_prices(path: Path) -> tuple[tuple[PriceRecord, ...], list[SkipEntry]]:
    """Read the hardware price table (purchase and cloud prices).

    Rows without a date, without a hardware name or without any price are skipped.

    Parameters
    ----------
    path : Path
        ``Hardware prices.csv``.

    Returns
    -------
    prices : tuple of PriceRecord
    skipped : list of SkipEntry
    """
    skipped: list[SkipEntry] = []
    header, rows = _read_csv(path, skipped, PRICE_COLUMNS["hardware"])
    cols = _column_map(path, header, PRICE_COLUMNS, PRICE_REQUIRED)
    fname = path.name
    out: list[PriceRecord] = []
    for line, row in rows:
        hw_names = split_names(_cell(row, cols, "hardware"))
        hw = hw_names[0] if hw_names else ""
        d = parse_date(_cell(row, cols, "date"))
        if not hw:
            skipped.append(SkipEntry(fname, line, "", "price row without hardware model"))
            continue
        if d is None:
            skipped.append(SkipEntry(fname, line, hw, "price row without a valid date"))
            continue
        values = {k: parse_number(_cell(row, cols, k)) for k in PRICE_COLUMNS if k in (
            "on_demand", "one_year", "three_year", "purchase")}
        if all(math.isnan(v) for v in values.values()):
            skipped.append(SkipEntry(fname, line, hw, "price row without any price"))
            continue
        notes = _cell(row, cols, "notes")
        out.append(
            PriceRecord(
                hardware=hw,
                date=d,
                vendor=_cell(row, cols, "vendor"),
                on_demand=values["on_demand"],
                one_year=values["one_year"],
                three_year=values["three_year"],
                purchase=values["purchase"],
                purchase_kind=purchase_kind(hw, notes)
                if not math.isnan(values["purchase"])
                else "",
                notes=notes,
                source=_cell(row, cols, "source") or f"Epoch AI hardware prices, {fname}:{line}",
            )
        )
    _require_rows(path, len(out), "price")
    return tuple(out), skipped


def read_ppi(path: Path) -> tuple[PriceIndex, list[SkipEntry]]:
    """Read the FRED PCU518210518210 series (monthly).

    Parameters
    ----------
    path : Path
        ``PCU518210518210.csv``.

    Returns
    -------
    ppi : PriceIndex
    skipped : list of SkipEntry
    """
    skipped: list[SkipEntry] = []
    header, rows = _read_csv(path, skipped)
    cols = _column_map(path, header, PPI_COLUMNS, PPI_REQUIRED)
    fname = path.name
    data: dict[str, float] = {}
    for line, row in rows:
        d = parse_date(_cell(row, cols, "date"))
        v = parse_number(_cell(row, cols, "value"))
        if d is None or math.isnan(v):
            skipped.append(SkipEntry(fname, line, "", "PPI row without valid date and value"))
            continue
        if not (math.isfinite(v) and v > 0):  # an index divides prices: zero or negative is damage
            skipped.append(SkipEntry(fname, line, "", f"PPI value {v!r} is not a positive number"))
            continue
        month = f"{d.year:04d}-{d.month:02d}"
        if month in data:
            skipped.append(SkipEntry(fname, line, "", f"second PPI value for {month}; the first row kept"))
            continue
        data[month] = v
    if not data:
        raise DataError(f"{path}: no usable rows in column {PPI_SERIES!r} (positive index values)")
    months = tuple(sorted(data))
    return (
        PriceIndex(
            series=PPI_SERIES,
            months=months,
            values=tuple(data[m] for m in months),
            source=f"FRED {PPI_SERIES} via Epoch AI snapshot ({fname})",
            file=str(path),
        ),
        skipped,
    )


def read_epoch_snapshot(
    folder: str | Path, *, base: Tables | None = None
) -> tuple[Tables, ImportReport]:
    """Read the four Epoch tables of a snapshot folder into :class:`Tables`.

    The Epoch tables hold models, chips, prices and the PPI; what they do not hold (the
    paper's rules, electricity prices, cloud discounts, TPU-equivalent prices, curated
    chip extras such as power ratios and aliases) is taken from ``base``, by default the
    embedded priors.

    Parameters
    ----------
    folder : str or Path
        Snapshot folder holding the four CSV files.
    base : Tables, optional
        Tables to take the non-Epoch parts from; default :func:`load_embedded_tables`.

    Returns
    -------
    tables : Tables
    report : ImportReport

    Raises
    ------
    DataError
        When a file is missing or lacks a required column.
    """
    from uncertain_cost.data.priors import load_embedded_tables

    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder (expected an Epoch snapshot with {MODELS_FILE})")
    if base is None:
        base = load_embedded_tables()
    models, s1 = read_models(folder / MODELS_FILE)
    chips, s2 = read_chips(folder / CHIPS_FILE)
    prices, s3 = read_prices(folder / PRICES_FILE)
    ppi, s4 = read_ppi(folder / PPI_FILE)

    chips = _merge_chip_extras(chips, base.chips)
    # TPU-equivalent prices are not in Epoch's price table; keep the curated ones
    prices = prices + tuple(p for p in base.prices if p.purchase_kind == "tpu_equivalent")

    from uncertain_cost.data.hardware_names import HardwareMatcher

    matcher = HardwareMatcher(chips)
    used = sorted({h for m in models for h in m.hardware} | {p.hardware for p in prices})
    unmatched = tuple(h for h in used if matcher.match(h) is None)

    snapshot = f"epoch-{folder.name}"
    tables = Tables(
        models=models,
        chips=chips,
        prices=prices,
        ppi=ppi,
        electricity=base.electricity,
        cloud_discounts=base.cloud_discounts,
        rules=base.rules,
        snapshot=snapshot,
        provenance=MappingProxyType(
            {
                "models": f"Epoch AI, {folder / MODELS_FILE} (CC-BY 4.0)",
                "chips": f"Epoch AI, {folder / CHIPS_FILE} (CC-BY 4.0)",
                "prices": f"Epoch AI, {folder / PRICES_FILE} (CC-BY 4.0)",
                "ppi": ppi.source,
                "rules": "embedded priors (constants.toml)",
            }
        ),
    )
    report = ImportReport(
        source=str(folder),
        counts=MappingProxyType(
            {"models": len(models), "chips": len(chips), "prices": len(prices), "ppi": len(ppi)}
        ),
        skipped=tuple(s1 + s2 + s3 + s4),
        unmatched_hardware=unmatched,
        ppi_gaps=ppi.gaps(),
    )
    return tables, report


#: values of ``[data] tpu_prices``
TPU_PRICE_SOURCES = ("snapshot", "paper")


def select_tpu_prices(tables: Tables, source: str = "snapshot", base: Tables | None = None) -> Tables:
    """Choose where TPU-equivalent purchase prices come from.

    Epoch's price tables have no list price for TPUs; the paper used production-cost-based
    equivalents (TPU v4 $5,167). The 2025-06 table carries its own equivalents (TPU v4
    $5,176). The resolver takes the first TPU-equivalent row of a chip in table order, and
    :func:`read_epoch_snapshot` puts the snapshot's rows before the curated ones.

    Parameters
    ----------
    tables : Tables
    source : {"snapshot", "paper"}
        ``snapshot`` (default): the snapshot's own equivalents where it has them, the
        paper's constants otherwise (unchanged tables). ``paper``: only the paper's
        constants (the embedded priors' TPU-equivalent rows).
    base : Tables, optional
        Where the paper's constants are; default the embedded priors.

    Returns
    -------
    Tables

    Raises
    ------
    ValueError
        On an unknown ``source``.
    """
    from dataclasses import replace

    if source not in TPU_PRICE_SOURCES:
        raise ValueError(f"tpu price source must be one of {TPU_PRICE_SOURCES}, got {source!r}")
    if source == "snapshot":
        return tables
    if base is None:
        from uncertain_cost.data.priors import load_embedded_tables

        base = load_embedded_tables()
    curated = [p for p in base.prices if p.purchase_kind == PRICE_TPU_EQUIVALENT]
    others = tuple(p for p in tables.prices if p.purchase_kind != PRICE_TPU_EQUIVALENT)
    return replace(tables, prices=others + tuple(curated))


def _merge_chip_extras(
    chips: tuple[ChipSpec, ...], curated: tuple[ChipSpec, ...]
) -> tuple[ChipSpec, ...]:
    """Add curated aliases/ratios to imported chips; append curated chips not imported.

    A curated chip whose name or alias is an imported chip's name is the same chip: the
    imported row keeps its specs, gains the curated extras, and the curated name becomes
    one of its aliases (so ``NVIDIA H100 SXM5`` finds ``NVIDIA H100 SXM5 80GB``).
    """
    from dataclasses import replace

    by_key: dict[str, ChipSpec] = {}
    for c in curated:
        by_key.setdefault(c.name, c)
    for c in curated:
        for a in c.aliases:
            by_key.setdefault(a, c)
    used: set[str] = set()
    out = []
    for c in chips:
        k = by_key.get(c.name)
        if k is not None and k.name not in used:
            used.add(k.name)
            aliases = tuple(dict.fromkeys(
                [a for a in k.aliases if a != c.name] + ([k.name] if k.name != c.name else [])
            ))
            c = replace(
                c,
                aliases=aliases,
                server_power_ratio=k.server_power_ratio,
                server_overhead=k.server_overhead,
                tdp_w=c.tdp_w if not math.isnan(c.tdp_w) else k.tdp_w,
                kind=k.kind or c.kind,
            )
        out.append(c)
    out.extend(c for c in curated if c.name not in used)
    return tuple(out)


#: marker file of a folder written by :func:`import_epoch` (what it was imported from)
IMPORT_MARKER = "import.toml"
#: rows the import skipped, with reasons (read back into a run's skip report)
IMPORT_SKIPPED = "skipped.csv"
#: embedded-priors files copied so the folder also works as ``$UNCERTAIN_COST_PRIORS``
_COPIED_PRIOR_FILES = ("inputs.toml", "development.toml")


#: every file an import writes (an import made before manifests existed is taken to hold these)
IMPORT_FILES = ("chips.toml", "hardware_prices.toml", "ppi.toml", "models.toml", "constants.toml",
                "electricity.toml", "cloud_discounts.toml", *_COPIED_PRIOR_FILES, IMPORT_SKIPPED, IMPORT_MARKER)


def is_import_folder(folder: str | Path) -> bool:
    """Return True when ``folder`` was written by :func:`import_epoch` (holds the marker)."""
    return (Path(folder) / IMPORT_MARKER).is_file()


def import_manifest(folder: str | Path) -> frozenset[str] | None:
    """Return the files an earlier import recorded writing into ``folder`` (None: not an import).

    Parameters
    ----------
    folder : str or Path

    Returns
    -------
    frozenset of str or None
        The ``manifest`` list of the marker's ``[import]`` table; :data:`IMPORT_FILES`
        for an import made before manifests existed; only the marker itself when the
        marker cannot be read; None without a marker.
    """
    import tomllib

    folder = Path(folder)
    if folder.is_symlink() or not is_import_folder(folder):
        return None
    try:
        doc = tomllib.loads((folder / IMPORT_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset({IMPORT_MARKER})
    section = doc.get("import")
    listed = section.get("manifest") if isinstance(section, dict) else None
    if isinstance(listed, list) and all(isinstance(n, str) for n in listed):
        return frozenset(listed)
    return frozenset(IMPORT_FILES)


def _import_kind():
    """Describe import folders for the atomic writer (a :class:`~uncertain_cost.folders.FolderKind`)."""
    from uncertain_cost.folders import FolderKind

    return FolderKind("import folder", import_manifest, f"no {IMPORT_MARKER}")


def _check_import_target(out: Path) -> None:
    """Refuse the embedded priors folder as an import target (whatever ``--force`` says)."""
    from uncertain_cost.defaults import priors_dir

    try:
        embedded = priors_dir().resolve()
    except DataError:
        embedded = None
    target = out.resolve()
    if embedded is not None and (target == embedded or embedded in target.parents):
        raise DataError(
            f"{out}: is the embedded priors folder; import into another folder and use it "
            "with [data] tables_dir"
        )


def _write_import_files(tables: Tables, report: ImportReport, folder: Path, target) -> list[Path]:
    """Write the tables, the copied prior files, the skip list and the marker (with its manifest)."""
    import shutil

    from uncertain_cost.data.priors import write_tables
    from uncertain_cost.defaults import priors_dir

    tmp = target.path
    written = write_tables(tables, tmp)
    for name in _COPIED_PRIOR_FILES:
        src = priors_dir() / name
        if src.is_file():
            shutil.copyfile(src, tmp / name)
            written.append(tmp / name)
    with (tmp / IMPORT_SKIPPED).open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(("file", "row", "model", "reason"))
        for e in report.skipped:
            w.writerow((e.file, e.row, e.model, e.reason))
    written.append(tmp / IMPORT_SKIPPED)
    counts = "".join(f"{k} = {v}\n" for k, v in report.counts.items())
    gaps = f"ppi_gaps = {json.dumps(list(report.ppi_gaps))}\n" if report.ppi_gaps else ""
    (tmp / IMPORT_MARKER).write_text(
        "# Written by `uncertain-cost import-epoch`; use this folder with\n"
        "# [data] tables_dir = \"<this folder>\" (or as $UNCERTAIN_COST_PRIORS).\n\n"
        f"[import]\nsource = {json.dumps(str(folder.resolve()))}\n"
        f"snapshot = {json.dumps(tables.snapshot)}\nskipped = {len(report.skipped)}\n{gaps}"
        f"manifest = {json.dumps(target.manifest(IMPORT_MARKER))}\n\n"
        f"[import.counts]\n{counts}",
        encoding="utf-8",
    )
    written.append(tmp / IMPORT_MARKER)
    return written


def import_epoch(folder: str | Path, out: str | Path, *, force: bool = False) -> ImportReport:
    """Import an Epoch snapshot and write it, atomically, in the engine's TOML table format.

    The folder is written by :class:`uncertain_cost.folders.RunFolder`: under a temporary
    name beside ``out``, renamed into place only when complete, so a failure (a full disk,
    an interrupt) leaves no half-written tables and an earlier import intact. The marker
    ``import.toml`` lists the files written (``manifest``).

    Parameters
    ----------
    folder : str or Path
        Epoch snapshot folder (the four CSV files).
    out : str or Path
        Output folder: new, empty, or an earlier import holding only the files it wrote
        (which is replaced). Never the embedded priors; an existing file, a folder of
        other files or an earlier import with files added only with ``force``. Files
        written: ``chips.toml``, ``hardware_prices.toml``, ``ppi.toml``, ``models.toml``,
        the rule tables (``constants.toml``, ``electricity.toml``,
        ``cloud_discounts.toml``), copies of the embedded ``inputs.toml`` and
        ``development.toml``, ``skipped.csv`` (rows the import skipped) and the marker
        ``import.toml``. Use it with ``[data] tables_dir`` (or ``$UNCERTAIN_COST_PRIORS``).
    force : bool, default False
        Replace ``out`` even when it is not an earlier import holding only its own files
        (its content is kept until the new folder is complete).

    Returns
    -------
    ImportReport
        Counts, skipped rows with reasons, unmatched hardware names, deflator gaps, files
        written.

    Raises
    ------
    DataError
        On an unreadable snapshot or the embedded priors as ``out`` (exit 2).
    uncertain_cost.errors.OutputError
        A refused ``out`` (exit 2).
    uncertain_cost.errors.ResourceError
        An OS error while writing, e.g. a full disk (exit 1; one line naming the path).
    """
    from dataclasses import replace

    from uncertain_cost.errors import ResourceError
    from uncertain_cost.folders import RunFolder, check_destination

    out = Path(out)
    kind = _import_kind()
    _check_import_target(out)
    check_destination(out, force, kind)
    tables, report = read_epoch_snapshot(folder)
    try:
        with RunFolder(out, force=force, kind=kind) as target:
            written = _write_import_files(tables, report, Path(folder), target)
            names = [p.relative_to(target.path) for p in written]
    except OSError as exc:
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        raise ResourceError(f"--out {out}: cannot write the import: {exc.strerror or exc}{where}; "
                            "the previous content is unchanged") from None
    return replace(report, written=tuple(str(out / n) for n in names))


def read_import_skips(folder: str | Path) -> list[SkipEntry]:
    """Rows an import skipped (its ``skipped.csv``), for a run's skip report; [] if none.

    Parameters
    ----------
    folder : str or Path
        A folder written by :func:`import_epoch`.

    Returns
    -------
    list of SkipEntry
    """
    path = Path(folder) / IMPORT_SKIPPED
    if not path.is_file():
        return []
    header, rows = _read_csv(path)
    cols = {h: i for i, h in enumerate(header)}
    out = []
    for _, row in rows:
        try:
            line = int(row[cols["row"]] or 0)
        except (KeyError, ValueError):
            line = 0
        out.append(SkipEntry(row[cols.get("file", 0)], line, row[cols.get("model", 2)],
                             row[cols.get("reason", 3)]))
    return out
