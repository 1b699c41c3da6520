"""Check that reference data cover what a run needs, and that no model is lost without a report.

Two checks, one before and one after the Monte Carlo:

- :func:`check_deflator` (before): the PPI deflator has a value for every month a run or
  an ``estimate`` needs (each model's publication month and the reference month), else
  one :class:`~uncertain_cost.errors.DataError` line naming the file, the missing months
  and the models that need them;
- :func:`unreported_losses` (after): every selected model that got no cost under a method
  and is not already in the skip report gets an entry with the likeliest reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from uncertain_cost.data.tables import PriceIndex, SkipEntry, month_ranges
from uncertain_cost.errors import DataError

__all__ = ["check_deflator", "unreported_losses", "skip_methods", "METHOD_PREFIX"]

#: reasons of per-method skip entries start with ``"<method>: "``; others apply to every method
METHOD_PREFIX = re.compile(r"^(amortized|cloud|acquisition): ")
#: names listed in one error line before "and N more"
MAX_NAMES = 6
#: month ranges listed in one error line before "and N more"
MAX_RANGES = 8


def _listing(items: Sequence[str], limit: int) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def check_deflator(ppi: PriceIndex, needs: Mapping[str, Iterable[str]]) -> None:
    """Refuse, before any sampling, a deflator without a value for a month that is needed.

    Parameters
    ----------
    ppi : PriceIndex
        The deflator series (its ``file`` is named in the error).
    needs : mapping of str to iterable of str
        Month ``"YYYY-MM"`` -> names of the models (or the run) that need it.

    Raises
    ------
    uncertain_cost.errors.DataError
        One line: ``<file>: no deflator value for 2020-01..2022-12 (needed by GPT-3, PaLM
        (540B), ...)``, for months inside the series' span (a gap: damaged or incomplete
        data). A month before its first or after its last value (a model newer than the
        published index) is not an error: that model gets no cost and a ``skipped.csv``
        line ("no deflator value", :func:`unreported_losses`).
    """
    first, last = (ppi.months[0], ppi.months[-1]) if len(ppi) else ("", "")
    missing = sorted(m for m in needs if not math.isfinite(ppi.value(m)) and (not len(ppi) or first <= m <= last))
    if not missing:
        return
    names = list(dict.fromkeys(n for m in missing for n in needs[m]))
    where = ppi.file or f"PPI deflator {ppi.series or ''}".strip()
    ranges = list(month_ranges(missing))
    span = f"; the series has {ppi.months[0]}..{ppi.months[-1]}" if len(ppi) else "; the series is empty"
    hit = [g for g in ppi.gaps() if any(g.split("..")[0] <= m <= g.split("..")[-1] for m in missing)]
    if hit:
        span += f" with no value in {_listing(hit, MAX_RANGES)}"
    raise DataError(f"{where}: no deflator value for {_listing(ranges, MAX_RANGES)} "
                    f"(needed by {_listing(names, MAX_NAMES)}){span}")


def skip_methods(entry: SkipEntry, methods: Sequence[str]) -> tuple[str, ...]:
    """Methods a skip entry covers: the one its reason names, else every method."""
    found = METHOD_PREFIX.match(entry.reason)
    return (found.group(1),) if found else tuple(methods)


def _reason(facts, i: int, method: str) -> str:
    """Name the likeliest missing input of model row ``i`` (or its hardware candidates) under ``method``."""
    rows = [i]
    if facts.alternative_of is not None and np.any(facts.alternative_of == i):
        rows = np.flatnonzero(facts.alternative_of == i).tolist()
    checks = {
        "acquisition": [("hardware_quantity", "no hardware quantity"), ("server_price_per_chip", "no purchase price")],
        "cloud": [("cloud_price_per_chip_hour", "no cloud price")],
    }.get(method, [("server_price_per_chip", "no purchase price"), ("tdp_kw", "no TDP"),
                   ("electricity_usd_per_kwh", "no electricity price for its year"),
                   ("depreciation_years", "no hardware acquisition date")])
    checks = [("deflator", "no deflator value"), *checks]
    for field, text in checks:
        values = np.asarray(getattr(facts, field), dtype=np.float64)[rows]
        if not np.isfinite(values).any():
            return text
    return "the cost is not a finite number (an input of this method is missing or out of range)"


def unreported_losses(facts, costed: Iterable[tuple[str, str]], skipped: Iterable[SkipEntry],
                      methods: Sequence[str]) -> list[SkipEntry]:
    """Skip entries for the (model, method) pairs that got no cost and no report.

    Parameters
    ----------
    facts : ModelFacts
        The resolved facts; their frontier rows are the models a run reports.
    costed : iterable of (str, str)
        ``(model, method)`` of every summary row.
    skipped : iterable of SkipEntry
        The skip report so far.
    methods : sequence of str

    Returns
    -------
    list of SkipEntry
        One per missing pair, its reason prefixed by the method, file and line taken from
        the model's source record (``facts.extra["source"]``) when known.
    """
    done = set(costed)
    for entry in skipped:
        done.update((entry.model, m) for m in skip_methods(entry, methods))
    sources = facts.extra.get("source", ()) if isinstance(facts.extra, dict) else ()
    out = []
    for i in np.flatnonzero(np.asarray(facts.is_frontier, dtype=bool)):
        name = facts.names[i]
        for method in methods:
            if (name, method) in done:
                continue
            file, _, line = (sources[i] if i < len(sources) else "").rpartition(":")
            row = int(line) if line.isdigit() else 0
            out.append(SkipEntry(file if row else "", row, name, f"{method}: {_reason(facts, i, method)}"))
    return out
