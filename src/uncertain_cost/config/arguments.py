"""The arguments of ``estimate`` and ``run`` checked once, with the same bounds for the API and the command line.

:func:`uncertain_cost.api.estimate` and ``python -m uncertain_cost estimate`` call the same
checkers; they differ only in the name an error gives the argument (``quantity`` or
``--quantity``). Each checker takes the value as given (a number, or the command line's
text) and returns it converted, or raises :class:`~uncertain_cost.config.schema.Invalid`.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from uncertain_cost.config.schema import Invalid, day, show

__all__ = ["MAX_QUANTITY", "MAX_ESTIMATE_DAYS", "MAX_EXTRAPOLATION_YEARS", "MAX_DRAWS", "quantity", "days",
           "start", "draws", "check_start", "from_text"]

#: most accelerators ``estimate`` accepts (100 times the largest cluster in the data)
MAX_QUANTITY = 10_000_000
#: longest hypothetical training run ``estimate`` accepts (10 years)
MAX_ESTIMATE_DAYS = 3653.0
#: how far past the data's last price-index month a hypothetical run may end
MAX_EXTRAPOLATION_YEARS = 20
#: most draws ``estimate`` accepts (the memory check may refuse fewer)
MAX_DRAWS = 10**9


def from_text(text: str) -> Any:
    """Read a command-line number as the API would receive it: ``"1000"`` -> 1000, ``"1e5"`` -> 100000.0.

    Text that is no number is returned unchanged (the checker then rejects it by its value).
    """
    cleaned = text.strip().replace("_", "")
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        return float(cleaned)
    except ValueError:
        return text


def _real(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if isinstance(value, float) or abs(value) < 2**1023 else math.inf


def quantity(value: Any) -> int:
    """Check a number of accelerators: a whole number in 1..:data:`MAX_QUANTITY` (``1e5`` is accepted)."""
    number = _real(value)
    if number is None or not math.isfinite(number) or number != math.floor(number) or not 1 <= number <= MAX_QUANTITY:
        raise Invalid(f"expected a whole number of accelerators from 1 to {MAX_QUANTITY:,}, got {show(value)}")
    return int(number)


def days(value: Any) -> float:
    """Check a training duration in days: a finite number in (0, :data:`MAX_ESTIMATE_DAYS`]."""
    number = _real(value)
    if number is None or not math.isfinite(number) or not 0 < number <= MAX_ESTIMATE_DAYS:
        raise Invalid(f"expected a number of days in (0, {MAX_ESTIMATE_DAYS:g}] (at most 10 years), got {show(value)}")
    return number


def start(value: Any) -> date:
    """Check a training start: a date or ``"YYYY-MM-DD"`` (its range: :func:`check_start`)."""
    return day(value)


def draws(value: Any) -> int:
    """Check a number of Monte Carlo draws: a whole number in 1..:data:`MAX_DRAWS`."""
    number = _real(value)
    if number is None or not math.isfinite(number) or number != math.floor(number) or not 1 <= number <= MAX_DRAWS:
        raise Invalid(f"expected a whole number of draws from 1 to {MAX_DRAWS:,}, got {show(value)}")
    return int(number)


def check_start(when: date, duration_days: float, tables: Any) -> None:
    """Check that a run from ``when`` for ``duration_days`` lies within the data's dates.

    Parameters
    ----------
    when : datetime.date
    duration_days : float
    tables : uncertain_cost.data.tables.Tables
        Its price index (``tables.ppi``) and electricity prices (``tables.electricity``).

    Raises
    ------
    Invalid
        Before the first month with both a price index and an electricity price, or ending
        more than :data:`MAX_EXTRAPOLATION_YEARS` years after the price index's last month.
    """
    months = [m for m, v in zip(tables.ppi.months, tables.ppi.values, strict=True) if math.isfinite(v)]
    if not months:
        raise Invalid("the price index has no month with a value")
    first_year = max(int(months[0][:4]), min(tables.electricity))
    first = date(first_year, int(months[0][5:7]) if int(months[0][:4]) == first_year else 1, 1)
    last = date(int(months[-1][:4]) + MAX_EXTRAPOLATION_YEARS, 12, 31)
    if when < first:
        raise Invalid(f"{when.isoformat()} is before the data (price index and electricity prices start "
                      f"{first.isoformat()})")
    if when.toordinal() + duration_days > last.toordinal():
        raise Invalid(f"{when.isoformat()} + {duration_days:g} days ends after {last.isoformat()}, more than "
                      f"{MAX_EXTRAPOLATION_YEARS} years past the data (last price index month {months[-1]})")
