"""Dollar amounts as short labels: the one USD formatter of tables, reports and figure axes."""

from __future__ import annotations

import math

__all__ = ["format_usd"]

_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def format_usd(value: float | None, spec: str = ".3g") -> str:
    """Format dollars as ``$40.6M``, ``$1.2B``, ``$950k`` (``-$3M`` below zero; ``n/a`` when missing).

    Parameters
    ----------
    value : float or None
    spec : str, default ".3g"
        Format of the scaled number (``"g"`` for axis ticks: ``$1M``, ``$10B``).

    Returns
    -------
    str
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    sign, magnitude = ("-" if value < 0 else ""), abs(value)
    for scale, suffix in _SCALES:
        if magnitude >= scale:
            return f"{sign}${magnitude / scale:{spec}}{suffix}"
    return f"{sign}${magnitude:{spec}}"
