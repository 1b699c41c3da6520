"""The engine's own table format: TOML files with a source note on each number.

A table folder (the embedded ``priors/`` or the output of ``import-epoch``) holds:

=========================  =============================================================
``constants.toml``         the paper's constants and substring rules (required)
``electricity.toml``       US industrial electricity price by year
``cloud_discounts.toml``   typical 1-year / 3-year committed-use discounts per vendor
``ppi.toml``               monthly PPI series used as deflator
``chips.toml``             accelerator specs, aliases, power ratios, server overheads
``hardware_prices.toml``   purchase prices and cloud prices per chip-hour
``models.toml`` or         model records (``frontier_models.toml`` in the embedded
``frontier_models.toml``   priors: the paper's frontier set)
=========================  =============================================================

:func:`load_embedded_tables` reads ``priors/`` at the repository root (override with the
``UNCERTAIN_COST_PRIORS`` environment variable); :func:`write_tables` writes the format.
"""

from __future__ import annotations

import functools
import math
import re
import tomllib
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from uncertain_cost.data.rules import PaperRules
from uncertain_cost.data.tables import (
    NAN,
    ChipSpec,
    ModelRecord,
    PriceIndex,
    PriceRecord,
    Tables,
)
from uncertain_cost.defaults import priors_dir
from uncertain_cost.errors import DataError

PRIORS_ENV = "UNCERTAIN_COST_PRIORS"
SCHEMA = "uncertain_cost.tables/1"

_CHIP_NUMBERS = (
    "tensor_fp16_flops",
    "tf32_flops",
    "fp16_flops",
    "fp32_flops",
    "int8_ops",
    "fp8_flops",
    "tdp_w",
    "server_power_ratio",
    "server_overhead",
)
_MODEL_NUMBERS = (
    "training_compute_flop",
    "hardware_quantity",
    "training_time_hours",
    "training_chip_hours",
    "utilization",
    "finetune_compute_flop",
    "compute_rank",
)
_MODEL_TEXT = ("organization", "base_model", "notability", "domain", "country")


def load_embedded_tables() -> Tables:
    """Read the embedded priors (see :func:`priors_dir`).

    Returns
    -------
    Tables
        The paper's frontier models with their facts, chips, prices, PPI, electricity,
        cloud discounts and rules. Cached per folder (the tables are immutable).

    Raises
    ------
    DataError
        When the folder or ``constants.toml`` is missing, or a file is malformed.
    """
    return _load_cached(str(priors_dir().resolve()))


@functools.lru_cache(maxsize=8)
def _load_cached(folder: str) -> Tables:
    return load_tables(folder)


# ----------------------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------------------
def _read_toml(path: Path, required: bool = False) -> dict[str, Any] | None:
    if not path.exists():
        if required:
            raise DataError(f"{path}: required table file is missing")
        return None
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: invalid TOML ({exc})") from exc


def _num(entry: dict, key: str, where: str) -> float:
    if key not in entry:
        return NAN
    v = entry[key]
    if isinstance(v, dict):
        v = v.get("value", NAN)
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise DataError(f"{where}: '{key}' must be a number, got {v!r}")
    return float(v)


def _date(entry: dict, key: str, where: str) -> date | None:
    v = entry.get(key)
    if v is None or v == "":
        return None
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v))
    except ValueError as exc:
        raise DataError(f"{where}: '{key}' must be a date YYYY-MM-DD, got {v!r}") from exc


def _entries(doc: dict | None, key: str, path: Path) -> list[dict]:
    if doc is None:
        return []
    rows = doc.get(key, [])
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise DataError(f"{path}: '{key}' must be an array of tables ([[{key}]])")
    return rows


def _read_chips(path: Path) -> tuple[ChipSpec, ...]:
    doc = _read_toml(path)
    out = []
    for i, e in enumerate(_entries(doc, "chip", path)):
        where = f"{path}: chip[{i}]"
        if "name" not in e:
            raise DataError(f"{where}: missing 'name'")
        out.append(
            ChipSpec(
                name=str(e["name"]),
                manufacturer=str(e.get("manufacturer", "")),
                kind=str(e.get("kind", "gpu")),
                release_date=_date(e, "release_date", where),
                aliases=tuple(str(a) for a in e.get("aliases", ())),
                source=str(e.get("source", "")),
                **{k: _num(e, k, where) for k in _CHIP_NUMBERS},
            )
        )
    return tuple(out)


def _read_prices(path: Path) -> tuple[PriceRecord, ...]:
    doc = _read_toml(path)
    out = []
    for i, e in enumerate(_entries(doc, "purchase", path)):
        where = f"{path}: purchase[{i}]"
        d = _date(e, "date", where)
        if "hardware" not in e or d is None or "price_usd" not in e:
            raise DataError(f"{where}: needs 'hardware', 'date' and 'price_usd'")
        out.append(
            PriceRecord(
                hardware=str(e["hardware"]),
                date=d,
                purchase=_num(e, "price_usd", where),
                purchase_kind=str(e.get("kind", "server_per_chip")),
                notes=str(e.get("notes", "")),
                source=str(e.get("source", "")),
            )
        )
    for i, e in enumerate(_entries(doc, "cloud", path)):
        where = f"{path}: cloud[{i}]"
        d = _date(e, "date", where)
        if "hardware" not in e or d is None or not e.get("vendor"):
            raise DataError(f"{where}: needs 'hardware', 'date' and 'vendor'")
        out.append(
            PriceRecord(
                hardware=str(e["hardware"]),
                date=d,
                vendor=str(e["vendor"]),
                on_demand=_num(e, "on_demand", where),
                one_year=_num(e, "one_year", where),
                three_year=_num(e, "three_year", where),
                notes=str(e.get("notes", "")),
                source=str(e.get("source", "")),
            )
        )
    return tuple(out)


_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _read_ppi(path: Path) -> PriceIndex:
    doc = _read_toml(path)
    if doc is None:
        return PriceIndex(series="", months=(), values=())
    values = doc.get("values", {})
    if not isinstance(values, dict):
        raise DataError(f"{path}: 'values' must be a table of month = value")
    data = {}
    for k, v in values.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or len(k) != 7:
            raise DataError(f"{path}: values.{k[:40]} must be 'YYYY-MM' = number")
        if not _MONTH.match(k):
            raise DataError(f"{path}: values.{k}: not a month 'YYYY-MM'")
        if not (math.isfinite(v) and v > 0):  # an index divides prices: zero, negative or nan is damage
            raise DataError(f"{path}: values.{k} = {v!r}: a price index value must be a positive number")
        data[k] = float(v)
    meta = doc.get("meta", {})
    months = tuple(sorted(data))
    return PriceIndex(
        series=str(meta.get("series", "")),
        months=months,
        values=tuple(data[m] for m in months),
        source=str(meta.get("source", "")),
        file=str(path),
    )


def _read_models(path: Path) -> tuple[ModelRecord, ...]:
    doc = _read_toml(path)
    out = []
    for i, e in enumerate(_entries(doc, "model", path)):
        where = f"{path}: model[{i}]"
        if "name" not in e:
            raise DataError(f"{where}: missing 'name'")
        hw = e.get("hardware", [])
        if isinstance(hw, str):
            hw = [h.strip() for h in hw.split(",") if h.strip()]
        out.append(
            ModelRecord(
                name=str(e["name"]),
                publication_date=_date(e, "publication_date", where),
                hardware=tuple(str(h) for h in hw),
                source=str(e.get("source", "")),
                **{k: _num(e, k, where) for k in _MODEL_NUMBERS},
                **{k: str(e.get(k, "")) for k in _MODEL_TEXT},
            )
        )
    return tuple(out)


def load_tables(folder: str | Path) -> Tables:
    """Read a table folder written by :func:`write_tables` (or the embedded priors).

    Parameters
    ----------
    folder : str or Path

    Returns
    -------
    Tables

    Raises
    ------
    DataError
        When ``constants.toml`` is missing or any file is malformed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: table folder not found (set ${PRIORS_ENV} to override)")
    constants = _read_toml(folder / "constants.toml", required=True)
    rules = PaperRules.from_dict(constants, source=str(folder / "constants.toml"))

    elec_doc = _read_toml(folder / "electricity.toml") or {}
    electricity = {}
    for i, e in enumerate(_entries(elec_doc, "year", folder / "electricity.toml")):
        where = f"{folder / 'electricity.toml'}: year[{i}]"
        if "year" not in e:
            raise DataError(f"{where}: missing 'year'")
        electricity[int(e["year"])] = _num(e, "usd_per_kwh", where)

    disc_doc = _read_toml(folder / "cloud_discounts.toml") or {}
    discounts = {}
    for i, e in enumerate(_entries(disc_doc, "vendor", folder / "cloud_discounts.toml")):
        where = f"{folder / 'cloud_discounts.toml'}: vendor[{i}]"
        if "name" not in e:
            raise DataError(f"{where}: missing 'name'")
        discounts[str(e["name"])] = MappingProxyType(
            {
                "on_demand": 0.0,
                "one_year": _num(e, "one_year", where),
                "three_year": _num(e, "three_year", where),
            }
        )

    models_path = folder / "models.toml"
    if not models_path.exists():
        models_path = folder / "frontier_models.toml"
    meta = (_read_toml(models_path) or {}).get("meta", {})
    provenance = {"folder": str(folder)}
    for key, name in (
        ("models", models_path.name),
        ("chips", "chips.toml"),
        ("prices", "hardware_prices.toml"),
        ("ppi", "ppi.toml"),
    ):
        doc = _read_toml(folder / name) or {}
        if doc.get("meta", {}).get("source"):
            provenance[key] = str(doc["meta"]["source"])
    return Tables(
        models=_read_models(models_path),
        chips=_read_chips(folder / "chips.toml"),
        prices=_read_prices(folder / "hardware_prices.toml"),
        ppi=_read_ppi(folder / "ppi.toml"),
        electricity=MappingProxyType(electricity),
        cloud_discounts=MappingProxyType(discounts),
        rules=rules,
        snapshot=str(meta.get("snapshot", folder.name)),
        provenance=MappingProxyType(provenance),
    )


# ----------------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------------
def _clean(entry: dict[str, Any]) -> dict[str, Any]:
    """Drop the empty fields of one entry (None, "", (), NaN); NaN/inf are never written."""
    out = {}
    for k, v in entry.items():
        if v is None or v == "" or v == () or (isinstance(v, float) and math.isnan(v)):
            continue
        if isinstance(v, float) and math.isinf(v):
            raise ValueError("NaN/inf are omitted, not written")
        out[k] = list(v) if isinstance(v, tuple) else v
    return out


def _meta(source: str, snapshot: str = "") -> dict[str, Any]:
    """Return the ``[meta]`` table of a written file."""
    meta: dict[str, Any] = {"schema": SCHEMA}
    if snapshot:
        meta["snapshot"] = snapshot
    meta["source"] = source
    return meta


def _write_toml(path: Path, title: str, doc: dict[str, Any], *, by_line: bool = True) -> Path:
    """Write ``doc`` with tomli-w under a ``# title`` comment and return ``path``."""
    import tomli_w

    head = f"# {title}\n# Written by uncertain_cost.data.priors.write_tables.\n\n" if by_line else f"# {title}\n\n"
    doc = {k: v for k, v in doc.items() if v != []}  # no entries: no [[key]] at all, as before
    path.write_text(head + tomli_w.dumps(doc), encoding="utf-8")
    return path


def _cleaned(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the non-empty fields of each entry."""
    return [_clean(e) for e in entries]


def chip_entry(c: ChipSpec) -> dict[str, Any]:
    """Return the TOML entry of one chip (NaN fields omitted)."""
    e: dict[str, Any] = {"name": c.name, "kind": c.kind, "manufacturer": c.manufacturer}
    e["release_date"] = c.release_date
    for k in _CHIP_NUMBERS:
        e[k] = getattr(c, k)
    e["aliases"] = list(c.aliases)
    e["source"] = c.source
    return e


def model_entry(m: ModelRecord) -> dict[str, Any]:
    """Return the TOML entry of one model record (NaN / empty fields omitted)."""
    e: dict[str, Any] = {"name": m.name, "publication_date": m.publication_date}
    e["organization"] = m.organization
    e["hardware"] = list(m.hardware)
    for k in _MODEL_NUMBERS:
        e[k] = getattr(m, k)
    for k in ("base_model", "notability", "domain", "country"):
        e[k] = getattr(m, k)
    e["source"] = m.source
    return e


def write_tables(
    tables: Tables,
    out_dir: str | Path,
    *,
    models_file: str = "models.toml",
    rule_files: bool = True,
) -> list[Path]:
    """Write ``tables`` in the engine's TOML format.

    Parameters
    ----------
    tables : Tables
    out_dir : str or Path
        Created if needed; existing files of the same names are overwritten.
    models_file : str
        File name for the model records (``frontier_models.toml`` for curated priors).
    rule_files : bool
        Also write ``electricity.toml``, ``cloud_discounts.toml`` and ``constants.toml``
        (False keeps hand-written ones, as in the embedded priors).

    Returns
    -------
    list of Path
        The files written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    src = dict(tables.provenance)
    written = [
        _write_toml(out / "chips.toml", "Accelerator specifications", {
            "meta": _meta(src.get("chips", "see per-chip source")),
            "chip": _cleaned(chip_entry(c) for c in tables.chips)}),
        _write_prices(out / "hardware_prices.toml", tables, src.get("prices", "see per-row source")),
        _write_toml(out / "ppi.toml", "Monthly producer price index, used as deflator", {
            "meta": {"schema": SCHEMA, "series": tables.ppi.series, "source": tables.ppi.source},
            "values": {m: float(v) for m, v in zip(tables.ppi.months, tables.ppi.values, strict=True)}},
            by_line=False),
        _write_toml(out / models_file, "Model records", {
            "meta": _meta(src.get("models", ""), snapshot=tables.snapshot),
            "model": _cleaned(model_entry(m) for m in tables.models)}),
    ]
    if rule_files:
        written += _write_rule_files(out, tables, src)
    return written


def _write_prices(path: Path, tables: Tables, source: str) -> Path:
    """Write ``hardware_prices.toml``: the purchase rows and the cloud rows of ``tables.prices``."""
    purchase = _cleaned(
        {"hardware": r.hardware, "date": r.date, "price_usd": r.purchase, "kind": r.purchase_kind,
         "notes": r.notes, "source": r.source}
        for r in tables.prices
        if not math.isnan(r.purchase)
    )
    cloud = _cleaned(
        {"hardware": r.hardware, "date": r.date, "vendor": r.vendor, "on_demand": r.on_demand,
         "one_year": r.one_year, "three_year": r.three_year, "notes": r.notes, "source": r.source}
        for r in tables.prices
        if r.vendor and not all(math.isnan(x) for x in (r.on_demand, r.one_year, r.three_year))
    )
    return _write_toml(path, "Hardware purchase and cloud prices",
                       {"meta": _meta(source), "purchase": purchase, "cloud": cloud})


def _write_rule_files(out: Path, tables: Tables, src: dict[str, str]) -> list[Path]:
    """Write ``electricity.toml``, ``cloud_discounts.toml`` and ``constants.toml`` (copied, not generated)."""
    written = [
        _write_toml(out / "electricity.toml", "US industrial electricity price, USD/kWh", {
            "meta": _meta(src.get("electricity", "")),
            "year": _cleaned({"year": y, "usd_per_kwh": v} for y, v in sorted(tables.electricity.items()))}),
        _write_toml(out / "cloud_discounts.toml", "Typical committed-use discounts vs on-demand", {
            "meta": _meta(src.get("discounts", "")),
            "vendor": _cleaned({"name": k, "one_year": v["one_year"], "three_year": v["three_year"]}
                               for k, v in tables.cloud_discounts.items())}),
    ]
    p = out / "constants.toml"
    rules_src = Path(getattr(tables.rules, "source", "") or "")
    if rules_src.is_file() and rules_src.resolve() != p.resolve():
        p.write_text(rules_src.read_text(encoding="utf-8"), encoding="utf-8")
        written.append(p)
    elif not p.exists():
        p.write_text((priors_dir() / "constants.toml").read_text(encoding="utf-8"))
        written.append(p)
    return written
