"""Frontier-model selection rules (Cottier et al. 2024, section 2.1 and appendix).

From the notable-models table, rows without publication date, notability criteria or
training compute are dropped, as the paper did. Then one of:

``top_n``
    running top-n: a model is frontier if, at its publication date, it is among the ``n``
    largest by training compute of all models published up to and including that date
    (the paper: n = 10, 64 models on the 2024-06 snapshot);
``window_percentile``
    compute at or above the ``100 - percentile`` percentile of models published within
    ``window_years`` either side (paper alternative: top 20 %, +-1 year);
``backward_window_percentile``
    the same over the preceding ``window_years`` only (paper alternative: top 15 %, 1 year);
``residual_from_trend``
    residual from an OLS fit of log10(compute) on decimal year, at or above the
    ``100 - percentile`` percentile of residuals (paper alternative: top 20 %).

Only models published strictly after ``start`` and strictly before ``end`` are kept.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from uncertain_cost.data.tables import ModelRecord, SkipEntry, Tables
from uncertain_cost.errors import ConfigError

METHODS = ("top_n", "window_percentile", "backward_window_percentile", "residual_from_trend")

_DEFAULT_PERCENTILE = {
    "top_n": 20.0,
    "window_percentile": 20.0,
    "backward_window_percentile": 15.0,
    "residual_from_trend": 20.0,
}


def decimal_year(d: date) -> float:
    """Decimal year as the paper computes it: ``year + (month-1)/12 + (day-1)/365``.

    Parameters
    ----------
    d : datetime.date

    Returns
    -------
    float
    """
    return d.year + (d.month - 1) / 12 + (d.day - 1) / 365


@dataclass(frozen=True)
class SelectionRules:
    """How to pick the frontier models.

    Attributes
    ----------
    method : str
        One of ``top_n``, ``window_percentile``, ``backward_window_percentile``,
        ``residual_from_trend``.
    top_n : int
        ``n`` of the running top-n (paper: 10).
    percentile : float
        Top percentage kept by the percentile methods (e.g. 20 for the top 20 %).
    window_years : float
        Window half-width (``window_percentile``) or length (``backward_...``), years.
    start, end : datetime.date
        Publication window, both exclusive (paper: 2015-10-01 .. 2024-01-01).
    require_notability : bool
        Drop rows without notability criteria (the paper did).
    include : tuple of str
        Model names added to the selection regardless of the rule.
    exclude : tuple of str
        Model names removed from the selection.
    """

    method: str = "top_n"
    top_n: int = 10
    percentile: float = 20.0
    window_years: float = 1.0
    start: date = date(2015, 10, 1)
    end: date = date(2024, 1, 1)
    require_notability: bool = True
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError("selection.method", f"expected one of {METHODS}, got {self.method!r}")
        if self.top_n < 1:
            raise ConfigError("selection.top_n", f"expected an integer >= 1, got {self.top_n}")
        if not 0 < self.percentile <= 100:
            raise ConfigError(
                "selection.percentile", f"expected 0 < percentile <= 100, got {self.percentile}"
            )
        if self.window_years <= 0:
            raise ConfigError(
                "selection.window_years", f"expected > 0 years, got {self.window_years}"
            )
        if self.start >= self.end:
            raise ConfigError(
                "selection.end", f"end {self.end} must be after start {self.start}"
            )

    @classmethod
    def from_config(cls, section: Mapping[str, Any], source: str | None = None) -> SelectionRules:
        """Build the rules from a config section (e.g. ``[selection]`` of a TOML file).

        Parameters
        ----------
        section : mapping
            Keys: ``method``, ``top_n``, ``percentile``, ``window_years``, ``start``,
            ``end``, ``require_notability``, ``include``, ``exclude``. Missing keys take
            the paper's defaults; ``percentile`` defaults per method (20/20/15/20).
        source : str, optional
            File name for error messages.

        Returns
        -------
        SelectionRules

        Raises
        ------
        ConfigError
            On an unknown key (the message lists the valid ones) or a bad value.
        """
        valid = (
            "method",
            "top_n",
            "percentile",
            "window_years",
            "start",
            "end",
            "require_notability",
            "include",
            "exclude",
        )
        if not isinstance(section, Mapping):
            raise ConfigError(
                "selection", f"expected a table, got {type(section).__name__}", source
            )
        unknown = sorted(set(section) - set(valid))
        if unknown:
            raise ConfigError(
                f"selection.{unknown[0]}",
                f"unknown key; valid keys are: {', '.join(valid)}",
                source,
            )
        kw: dict[str, Any] = {}
        try:
            if "method" in section:
                if not isinstance(section["method"], str):
                    raise ConfigError("selection.method", "expected a string", source)
                kw["method"] = section["method"]
            if "top_n" in section:
                v = section["top_n"]
                if isinstance(v, bool) or not isinstance(v, int):
                    raise ConfigError("selection.top_n", f"expected an integer, got {v!r}", source)
                kw["top_n"] = v
            for key in ("percentile", "window_years"):
                if key in section:
                    v = section[key]
                    if isinstance(v, bool) or not isinstance(v, int | float):
                        raise ConfigError(
                            f"selection.{key}", f"expected a number, got {v!r}", source
                        )
                    kw[key] = float(v)
            if "percentile" not in kw:
                kw["percentile"] = _DEFAULT_PERCENTILE.get(kw.get("method", "top_n"), 20.0)
            for key in ("start", "end"):
                if key in section:
                    kw[key] = _as_date(section[key], f"selection.{key}", source)
            if "require_notability" in section:
                v = section["require_notability"]
                if not isinstance(v, bool):
                    raise ConfigError(
                        "selection.require_notability", f"expected true/false, got {v!r}", source
                    )
                kw["require_notability"] = v
            for key in ("include", "exclude"):
                if key in section:
                    v = section[key]
                    if not isinstance(v, list | tuple) or not all(isinstance(x, str) for x in v):
                        raise ConfigError(
                            f"selection.{key}", f"expected a list of model names, got {v!r}", source
                        )
                    kw[key] = tuple(v)
            return cls(**kw)
        except ConfigError as exc:
            if exc.source is None and source is not None:
                raise ConfigError(exc.key, exc.message, source) from None
            raise


def _as_date(v: Any, key: str, source: str | None) -> date:
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        try:
            return date.fromisoformat(v)
        except ValueError:
            pass
    raise ConfigError(key, f"expected a date YYYY-MM-DD, got {v!r}", source)


@dataclass(frozen=True)
class SelectionResult:
    """The selected frontier models, in publication order.

    Attributes
    ----------
    names : tuple of str
    rank_at_publication : mapping str -> int
        Compute rank among models published up to that date (all selected models).
    dropped : tuple of SkipEntry
        Rows excluded before ranking (no date / notability / compute), with reasons.
    rules : SelectionRules
    """

    names: tuple[str, ...]
    rank_at_publication: Mapping[str, int]
    dropped: tuple[SkipEntry, ...]
    rules: SelectionRules
    models: tuple[ModelRecord, ...] = field(default=(), repr=False)

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self):
        return iter(self.names)


def select_frontier(
    models: Tables | Iterable[ModelRecord], rules: SelectionRules | None = None
) -> SelectionResult:
    """Select the frontier models by ``rules`` (default: the paper's running top-10).

    Parameters
    ----------
    models : Tables or iterable of ModelRecord
        The notable-models table.
    rules : SelectionRules, optional

    Returns
    -------
    SelectionResult
        On the 2024-06 Epoch snapshot with default rules: the paper's 64 models.
    """
    rules = rules or SelectionRules()
    records = tuple(models.models if isinstance(models, Tables) else models)
    pool: list[ModelRecord] = []
    dropped: list[SkipEntry] = []
    for m in records:
        reason = ""
        if m.publication_date is None:
            reason = "no publication date"
        elif rules.require_notability and not m.notability:
            reason = "no notability criteria"
        elif math.isnan(m.training_compute_flop) or m.training_compute_flop <= 0:
            reason = "no training compute"
        if reason:
            dropped.append(SkipEntry(m.source.split(":")[0], _line(m), m.name, reason))
        else:
            pool.append(m)
    pool.sort(key=lambda m: (m.publication_date, m.name))
    dates = np.array([m.publication_date.toordinal() for m in pool], dtype=np.int64)
    years = np.array([decimal_year(m.publication_date) for m in pool])
    compute = np.array([m.training_compute_flop for m in pool])

    ranks: dict[str, int] = {}
    for i, m in enumerate(pool):
        prior = compute[dates <= dates[i]]
        ranks[m.name] = 1 + int(np.sum(prior > compute[i]))

    in_window = np.array(
        [rules.start < m.publication_date < rules.end for m in pool], dtype=bool
    )
    chosen = np.zeros(len(pool), dtype=bool)
    q = 100.0 - rules.percentile
    logc = np.log10(compute) if len(pool) else compute
    if rules.method == "top_n":
        chosen = np.array([ranks[m.name] <= rules.top_n for m in pool], dtype=bool)
    elif rules.method in ("window_percentile", "backward_window_percentile"):
        half = rules.window_years
        for i in range(len(pool)):
            if not in_window[i]:
                continue
            if rules.method == "window_percentile":
                mask = np.abs(years - years[i]) <= half
            else:
                mask = (years <= years[i]) & (years >= years[i] - half)
            chosen[i] = compute[i] >= np.percentile(compute[mask], q)
    elif rules.method == "residual_from_trend":
        fit = in_window
        if fit.sum() >= 2:
            slope, intercept = np.polyfit(years[fit], logc[fit], 1)
            resid = logc - (slope * years + intercept)
            chosen = resid >= np.percentile(resid[fit], q)
    chosen &= in_window
    names = [m.name for m, c in zip(pool, chosen, strict=True) if c]
    for extra in rules.include:
        if extra not in names:
            names.append(extra)
    names = [n for n in names if n not in set(rules.exclude)]
    by_name = {m.name: m for m in records}
    ordered = sorted(
        (n for n in names if n in by_name),
        key=lambda n: (by_name[n].publication_date or date.max, n),
    )
    return SelectionResult(
        names=tuple(ordered),
        rank_at_publication={n: ranks[n] for n in ordered if n in ranks},
        dropped=tuple(dropped),
        rules=rules,
        models=tuple(by_name[n] for n in ordered),
    )


def _line(m: ModelRecord) -> int:
    try:
        return int(m.source.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return 0
