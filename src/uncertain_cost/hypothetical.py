"""One hypothetical training run ("100k H100 for 90 days from 2026-01"), costed with uncertainty.

The run is turned into a model record and resolved by the same rules as the paper's models
(price closest to the acquisition date, depreciation to the training start, PUE class and
cloud vendor by organization). Dates beyond the data are handled explicitly: the latest
known electricity price and PPI month are used, and the result says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np

from uncertain_cost.config.schema import show
from uncertain_cost.data.facts import ModelFacts
from uncertain_cost.data.tables import ModelRecord, Tables
from uncertain_cost.errors import ArgumentError
from uncertain_cost.inputs import InputSet
from uncertain_cost.units import COMPONENTS, METHODS

__all__ = ["Hypothetical", "closest_chips", "hypothetical_facts", "estimate_run", "latest_deflator_month",
           "check_reference_month", "ESTIMATE_CSV_COLUMNS", "estimate_csv", "check_start", "MAX_EXTRAPOLATION_YEARS"]

ESTIMATE_CSV_COLUMNS = ("name", "method", "point_usd", "median_usd", "mean_usd", "p5_usd", "p95_usd",
                        "reference_month")


def latest_deflator_month(tables: Tables) -> str:
    """Latest month with a finite value of the tables' PPI deflator ("today's dollars").

    Parameters
    ----------
    tables : Tables

    Returns
    -------
    str
        ``"YYYY-MM"``.
    """
    months = [m for m, v in zip(tables.ppi.months, tables.ppi.values, strict=True) if np.isfinite(v)]
    if not months:
        raise ValueError("the PPI deflator has no months with a value")
    return months[-1]


def check_reference_month(tables: Tables, month: str) -> str:
    """Return ``month`` if the deflator has a value for it, else raise ValueError naming its range."""
    if not isinstance(month, str) or len(month) != 7 or month[4] != "-" or not np.isfinite(tables.ppi.value(month)):
        first = next(m for m, v in zip(tables.ppi.months, tables.ppi.values, strict=True) if np.isfinite(v))
        raise ValueError(f"expected a month YYYY-MM from {first} to {latest_deflator_month(tables)} "
                         f"(months of the PPI deflator), got {month!r}")
    return month


#: how far past the data's last PPI month a hypothetical run may end
MAX_EXTRAPOLATION_YEARS = 20  # the same as uncertain_cost.config.arguments.MAX_EXTRAPOLATION_YEARS


def check_start(tables: Tables, start: date, days: float) -> None:
    """Check that a run from ``start`` for ``days`` lies within the data's dates (plus a bounded extrapolation).

    Parameters
    ----------
    tables : Tables
    start : datetime.date
    days : float

    Raises
    ------
    ValueError
        Naming the first date of the price index and electricity prices, or the last month
        it may extrapolate to (:data:`MAX_EXTRAPOLATION_YEARS` past the data).
    """
    from uncertain_cost.config import arguments

    try:
        arguments.check_start(start, days, tables)  # the one definition of the bounds (API and CLI)
    except arguments.Invalid as exc:
        raise ValueError(exc.problem) from None


def estimate_csv(result: dict, reference_month: str) -> str:
    """Format the rows of an :func:`estimate_run` result as CSV text (columns :data:`ESTIMATE_CSV_COLUMNS`)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ESTIMATE_CSV_COLUMNS)
    for row in result["rows"]:
        full = {**row, "name": result["name"], "reference_month": reference_month}
        writer.writerow([repr(v) if isinstance(v, float) else v for v in (full[c] for c in ESTIMATE_CSV_COLUMNS)])
    return buffer.getvalue()

#: days between the end of training and publication in the paper's date rule
PUBLICATION_LAG_DAYS = 60


@dataclass(frozen=True)
class Hypothetical:
    """A training run described by the user.

    Attributes
    ----------
    chip : str
        Accelerator name as in the chip table (aliases and soft matching apply).
    quantity : float
        Number of accelerators.
    days : float
        Training duration.
    start : datetime.date
        Training start.
    organization : str
        Developer (decides PUE class and cloud vendor).
    """

    chip: str
    quantity: float
    days: float
    start: date
    organization: str = "Hypothetical lab"

    def __post_init__(self) -> None:
        if not self.quantity > 0:
            raise ArgumentError("quantity", f"must be positive, got {self.quantity}", "Hypothetical")
        if not self.days > 0:
            raise ArgumentError("days", f"must be positive, got {self.days}", "Hypothetical")


def closest_chips(chips, name: str, n: int = 3) -> list[str]:
    """Chip names closest to an unknown ``name`` (difflib on full names and their model tokens).

    ``"H1000"`` -> ``["NVIDIA H100 SXM5", ...]``: the query is compared with each chip's full
    name and its model token (``"h100"``), so a one-character slip still finds the chip.
    """
    import difflib

    from uncertain_cost.data.hardware_names import model_token, name_tokens

    keys: dict[str, list[str]] = {}
    for chip in chips:
        for key in {chip.name.lower(), model_token(name_tokens(chip.name))} - {""}:
            keys.setdefault(key, []).append(chip.name)
    query = name.strip().lower()
    found = difflib.get_close_matches(query, list(keys), n=3 * n, cutoff=0.6)
    token = model_token(name_tokens(name))
    if token and token != query:
        found += difflib.get_close_matches(token, list(keys), n=3 * n, cutoff=0.6)
    return list(dict.fromkeys(c for key in found for c in sorted(keys[key])))[:n]


def hypothetical_facts(tables: Tables, run: Hypothetical, reference_month: str) -> tuple[ModelFacts, list[str]]:
    """Resolve a hypothetical run into ModelFacts (one row) with notes on extrapolations.

    Parameters
    ----------
    tables : Tables
    run : Hypothetical
    reference_month : str

    Returns
    -------
    facts : ModelFacts
    notes : list of str

    Raises
    ------
    ConfigError
        Unknown chip, or no price for it.
    """
    from uncertain_cost.data.hardware_names import HardwareMatcher
    from uncertain_cost.data.resolve import resolve_facts

    matched = HardwareMatcher(tables.chips).match(run.chip)
    if matched is None:
        close = closest_chips(tables.chips, run.chip)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else "see the chip table (priors)"
        raise ArgumentError("chip", f"unknown accelerator {show(run.chip)}; {hint}", "estimate")
    hours = run.days * 24.0
    publication = run.start + timedelta(days=run.days + PUBLICATION_LAG_DAYS)
    record = ModelRecord(
        name=f"{run.quantity:,.0f} x {matched}, {run.days:g} days from {run.start.isoformat()}",
        publication_date=publication,
        organization=run.organization,
        hardware=(matched,),
        hardware_quantity=float(run.quantity),
        training_time_hours=hours,
        training_chip_hours=float(run.quantity) * hours,
    )
    extended, notes = _extend_to(tables, publication, reference_month)
    facts, _ = resolve_facts(extended, [record], reference_month=reference_month)
    if not np.isfinite(facts.server_price_per_chip[0]):
        raise ArgumentError("chip", f"no purchase price is known for {matched}", "estimate")
    return facts, notes


def _extend_to(tables: Tables, publication: date, reference_month: str) -> tuple[Tables, list[str]]:
    """Carry the last electricity price and PPI value forward when the run lies beyond them."""
    from types import MappingProxyType

    notes = []
    electricity = dict(tables.electricity)
    last_year = max(electricity)
    if publication.year > last_year:
        for year in range(last_year + 1, publication.year + 1):
            electricity[year] = electricity[last_year]
        notes.append(f"electricity price of {last_year} (${electricity[last_year]:.4f}/kWh) used for "
                     f"{publication.year}")
    ppi = tables.ppi
    month = f"{publication.year:04d}-{publication.month:02d}"
    if not np.isfinite(ppi.value(month)):
        ppi = ppi.extended_to(month)
        notes.append(f"PPI after its last month held constant: costs after then are in {reference_month} dollars "
                     "without further deflation")
    return replace(tables, electricity=MappingProxyType(electricity), ppi=ppi), notes


def estimate_run(tables: Tables, inputs: InputSet, run: Hypothetical, *, reference_month: str, draws: int,
                 seed: int, interconnect_fraction: float = 0.19) -> dict:
    """Cost distribution of a hypothetical run under the three methods.

    Returns
    -------
    dict
        ``{"name", "notes", "rows": [{method, point_usd, median_usd, p5_usd, p95_usd}],
        "components": {component: median}, "assumptions": {...}}``; ``assumptions`` holds the
        central facts the run was costed from (chip, chip-hours, purchase price per chip, cloud
        price per chip-hour, electricity price, data-centre class, depreciation years,
        interconnect fraction).
    """
    facts, notes = hypothetical_facts(tables, run, reference_month)
    totals, point, kept = _simulate(facts, inputs, draws, seed, interconnect_fraction)
    rows = []
    for method in METHODS:
        values = np.asarray(totals[method][:, 0], dtype=np.float64)
        point_usd = float(point[method][0])
        if not np.isfinite(point_usd):
            continue
        p5, median, p95 = np.quantile(values, [0.05, 0.5, 0.95])
        rows.append({"method": method, "point_usd": point_usd, "median_usd": float(median),
                     "mean_usd": float(values.mean()), "p5_usd": float(p5), "p95_usd": float(p95)})
    components = {c: float(np.median(kept[:, 0, j])) for j, c in enumerate(COMPONENTS)}
    return {"name": facts.names[0], "notes": notes, "rows": rows, "components": components,
            "assumptions": _assumptions(facts, interconnect_fraction)}


def _simulate(facts: ModelFacts, inputs: InputSet, draws: int, seed: int, interconnect_fraction: float):
    """Per-method totals of every draw, per-method point totals and the kept draws' amortized components.

    The NumPy path (:mod:`uncertain_cost.lean`, no compiled kernel to load) when it covers the
    inputs, else the engine; both give the same numbers.
    """
    from uncertain_cost import lean

    sim = lean.simulate(facts, inputs, draws, seed, keep_draws=draws, interconnect_fraction=interconnect_fraction)
    if sim is not None:
        return sim.totals, sim.point, sim.components
    from uncertain_cost.engine import simulate

    full = simulate(facts, inputs, draws, seed, keep_draws=draws, interconnect_fraction=interconnect_fraction)
    point = {method: full.point.total(method)[0] for method in METHODS}
    return full.totals, point, full.kept.amortized


def _assumptions(facts: ModelFacts, interconnect_fraction: float) -> dict:
    """Central facts of a one-model ModelFacts, for the estimate's printout (nominal USD as in the tables)."""
    from uncertain_cost.data.facts import PUE_HYPERSCALER

    def number(name: str) -> float:
        return float(np.asarray(getattr(facts, name))[0])

    return {"chip": facts.chips[int(facts.chip_index[0])], "organization": facts.organization[0],
            "chip_hours": number("hardware_quantity") * number("training_time_hours"),
            "server_price_per_chip_usd": number("server_price_per_chip"),
            "cloud_price_per_chip_hour_usd": number("cloud_price_per_chip_hour"),
            "electricity_usd_per_kwh": number("electricity_usd_per_kwh"),
            "datacentre": "hyperscaler" if int(facts.pue_class[0]) == PUE_HYPERSCALER else "other",
            "depreciation_years": number("depreciation_years"), "interconnect_fraction": float(interconnect_fraction)}
