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
    as Epoch defined it: compute strictly above the ``100 - percentile`` percentile of the
    compute of all notable models published from ``window_years`` calendar years before the
    model's date up to and including that date (paper alternative: top 15 %, 1 year);
``residual_from_trend``
    as Epoch defined it: one least-squares line of log10(compute) on decimal year over all
    notable models of every date, the models sorted by residual and cut at indices
    ``round(N / 20 * i)`` (Python's ``round``) into 20 bins, the top ``percentile / 5``
    bins kept, and no publication window (paper alternative: top 20 %);
``compute_rank``
    the database's own ``Compute rank when published`` column (2025 schema) at most
    ``max_rank``.

Options that reproduce Epoch's mid-2025 pipeline: ``finetunes = "exclude_before_ranking"``
(rows with a base model leave the pool before ranking, so fine-tunes push no other model
out) and ``ties = "first"`` (at the running top-n cut, tied models are broken by table
order, as ``pandas.DataFrame.nlargest`` does; default ``"all"`` keeps every tied model).

Only models published strictly after ``start`` and strictly before ``end`` are kept
(``end = "none"`` means no upper bound). The publication window is applied after the
rule, so the ranking, percentile and trend see models of every date. Epoch's
residual-from-trend rule applies no window; ``publication_window = true`` asks for one
(``false`` drops it from any rule).

``frontier_list = "<rule>"`` reads the rule's frozen list, ``<epoch_dir>/frontier-lists/
<rule>.json`` (the lists the paper used, computed by Epoch in May 2024 on its live
database): a JSON object mapping each percentile bucket (or rank n, for ``top_n``) to model
names. The selection is the union of the buckets ``>= 100 - percentile`` (of the ranks
``<= top_n``), restricted to the notable models of the table, then the usual fine-tune,
window (none for ``residual_from_trend``, as in the paper) and include/exclude options.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from uncertain_cost.config.schema import (
    Invalid,
    Key,
    Section,
    boolean,
    choice,
    day,
    integer,
    number,
    register_stage,
    show,
    string_list,
)
from uncertain_cost.data.tables import ModelRecord, SkipEntry, Tables
from uncertain_cost.errors import ConfigError

METHODS = ("top_n", "window_percentile", "backward_window_percentile", "residual_from_trend", "compute_rank")
FINETUNE_MODES = ("rank", "exclude_before_ranking")
TIE_MODES = ("all", "first")
#: number of equal-count residual bins of Epoch's residual-from-trend rule
RESIDUAL_BINS = 20
#: rules with a frozen list ``frontier-lists/<rule>.json`` (``frontier_list``)
FROZEN_LIST_RULES = METHODS[:4]
_DEFAULT_PERCENTILE = {
    "top_n": 20.0,
    "window_percentile": 20.0,
    "backward_window_percentile": 15.0,
    "residual_from_trend": 20.0,
    "compute_rank": 20.0,
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
        ``residual_from_trend``, ``compute_rank``.
    top_n : int
        ``n`` of the running top-n (paper: 10).
    max_rank : int
        Largest ``Compute rank when published`` kept by ``compute_rank`` (default 10).
    finetunes : str
        ``rank`` (fine-tunes take ranks, the paper) or ``exclude_before_ranking`` (Epoch's
        mid-2025 pipeline).
    ties : str
        ``all`` (every model tied at the running top-n cut) or ``first`` (table order).
    percentile : float
        Top percentage kept by the percentile methods (e.g. 20 for the top 20 %).
    window_years : float
        Window half-width (``window_percentile``) or length (``backward_...``), years.
    start, end : datetime.date
        Publication window, both exclusive (paper: 2015-10-01 .. 2024-01-01); ``end`` is
        ``datetime.date.max`` for no upper bound.
    require_notability : bool
        Drop rows without notability criteria (the paper did).
    include : tuple of str
        Model names added to the selection regardless of the rule.
    exclude : tuple of str
        Model names removed from the selection.
    frontier_list : str
        ``""`` (apply the rule) or the rule whose frozen list is read (one of
        :data:`FROZEN_LIST_RULES`; equals ``method``).
    publication_window : bool or None
        Apply ``start``/``end``; None: yes, except for ``residual_from_trend``
        (Epoch's definition has none; nor had the paper's frozen list).
    """

    method: str = "top_n"
    top_n: int = 10
    max_rank: int = 10
    finetunes: str = "rank"
    ties: str = "all"
    percentile: float = 20.0
    window_years: float = 1.0
    start: date = date(2015, 10, 1)
    end: date = date(2024, 1, 1)
    require_notability: bool = True
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    frontier_list: str = ""
    publication_window: bool | None = None

    @property
    def applies_window(self) -> bool:
        """Whether the publication window ``start``/``end`` is applied."""
        if self.publication_window is not None:
            return self.publication_window
        return self.method != "residual_from_trend"

    def __post_init__(self) -> None:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        checking = "selection"
        try:
            for key in SELECTION.keys:
                checking = f"selection.{key.name}"
                if values[key.name] != key.default:  # a default is valid by declaration
                    key.check(values[key.name])
            _selection_rules(values)
        except Invalid as exc:
            raise ConfigError(f"selection.{exc.key}" if exc.key else checking, exc.problem) from None

    @classmethod
    def from_config(cls, section: Mapping[str, Any], source: str | None = None) -> SelectionRules:
        """Build the rules from a config section (e.g. ``[selection]`` of a TOML file), checked by :data:`SELECTION`.

        Parameters
        ----------
        section : mapping
            Keys: ``method``, ``top_n``, ``max_rank``, ``finetunes``, ``ties``,
            ``percentile``, ``window_years``, ``start``, ``end`` (a date or ``"none"``),
            ``require_notability``, ``include``, ``exclude``, ``frontier_list`` (a rule
            name; sets ``method`` when that is not given), ``publication_window``
            (true/false). Missing keys take the paper's defaults; ``percentile`` defaults
            per method (20/20/15/20).
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
        values = SELECTION.check(section, source)
        if values.get("frontier_list"):
            values.setdefault("method", values["frontier_list"])
        values.setdefault("percentile", _DEFAULT_PERCENTILE.get(values.get("method", "top_n"), 20.0))
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(exc.key, exc.message, source) from None


def _frozen_rule(value: Any) -> str:
    """``frontier_list``: ``""`` or a rule with a frozen list (:data:`FROZEN_LIST_RULES`)."""
    if value == "" or value in FROZEN_LIST_RULES:
        return value
    raise Invalid(f"expected one of {FROZEN_LIST_RULES}, got {show(value)}")


def _end(value: Any) -> date:
    """``end``: a date, or ``"none"`` for no upper bound."""
    return date.max if value == "none" else day(value)


def _selection_rules(values: Mapping[str, Any]) -> None:
    """Rules across ``[selection]`` keys (each key's own rule is in :data:`SELECTION`)."""
    method = values.get("method", "top_n")
    frontier_list = values.get("frontier_list", "")
    if frontier_list and frontier_list != method:
        raise Invalid(f"expected one of {FROZEN_LIST_RULES} equal to selection.method ({method!r}), "
                      f"got {frontier_list!r}", "frontier_list")
    percentile = values.get("percentile", _DEFAULT_PERCENTILE.get(method, 20.0))
    if method == "residual_from_trend" or (frontier_list and method != "top_n"):
        bins = percentile / 100 * RESIDUAL_BINS
        if abs(bins - round(bins)) > 1e-9:
            raise Invalid(f"{method} keeps whole bins of {100 // RESIDUAL_BINS} %, got {percentile}", "percentile")
    start, end = values.get("start", date(2015, 10, 1)), values.get("end", date(2024, 1, 1))
    if start >= end:
        raise Invalid(f"end {end} must be after start {start}", "end")


#: ``[selection]``, declared once: each key's type and bounds
SELECTION = Section("selection", (
    Key("method", choice(*METHODS), "top_n", "the frontier rule"),
    Key("top_n", integer(1, 100_000), 10, "n of the running top-n"),
    Key("percentile", number(0, 100, low_open=True), 20.0, "top percentage kept by the percentile rules"),
    Key("max_rank", integer(1, 100_000), 10, "largest compute rank kept by compute_rank"),
    Key("finetunes", choice(*FINETUNE_MODES), "rank", "fine-tunes take ranks, or leave the pool first"),
    Key("ties", choice(*TIE_MODES), "all", "models tied at the top-n cut: all, or the first in table order"),
    Key("window_years", number(0, 1000, low_open=True), 1.0, "window of the percentile rules, years"),
    Key("start", day, date(2015, 10, 1), "publication window start (exclusive)"),
    Key("end", _end, date(2024, 1, 1), "publication window end (exclusive), or \"none\""),
    Key("require_notability", boolean, True, "drop rows without notability criteria"),
    Key("include", string_list(what="model names"), (), "models added regardless of the rule"),
    Key("exclude", string_list(what="model names"), (), "models removed from the selection"),
    Key("frontier_list", _frozen_rule, "", "read this rule's frozen list <epoch_dir>/frontier-lists/<rule>.json"),
    Key("publication_window", boolean, None, "apply start/end (default: yes, except residual_from_trend)"),
), settings=SelectionRules)

#: keys of a ``[selection]`` table
SELECTION_KEYS = SELECTION.names


def check_model_names(models: Tables | Iterable[ModelRecord], named: Mapping[str, Iterable[str]],
                      source: str | None = None) -> None:
    """Refuse model names given in a config that are no model of the data, naming the closest ones.

    Parameters
    ----------
    models : Tables or iterable of ModelRecord
        The notable-models table the run reads.
    named : mapping of str to iterable of str
        Dotted config key -> the names it lists (``{"selection.include": ("GPT-4",)}``).
    source : str, optional
        Config file for messages.

    Raises
    ------
    ConfigError
        ``selection.include: 'No such model' is not a model of the data (closest: ...)``.
    """
    import difflib

    known = [m.name for m in (models.models if isinstance(models, Tables) else models)]
    names = set(known)
    for key, listed in named.items():
        for name in listed:
            if name not in names:
                close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
                hint = f"closest: {', '.join(repr(c) for c in close)}" if close else "no close name"
                raise ConfigError(key, f"{show(name)} is not a model of the data ({hint})", source)


def _parse_section(tables: Mapping[str, Mapping], context: Any) -> SelectionRules:
    rules = SelectionRules.from_config(tables["selection"], context.source)
    data = getattr(context, "data", None)
    if rules.frontier_list and data is not None:  # the frozen list must exist (checked before any work)
        if data.epoch_dir is None:
            raise ConfigError("selection.frontier_list", "needs data.epoch_dir, a snapshot folder with "
                              "frontier-lists/", context.source)
        path = data.epoch_dir / "frontier-lists" / f"{rules.frontier_list}.json"
        if not path.is_file():
            raise ConfigError("selection.frontier_list", f"no frozen list {path}", context.source)
    return rules


register_stage("selection", ("selection",), _parse_section, __name__)


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
    models: Tables | Iterable[ModelRecord], rules: SelectionRules | None = None,
    frontier_lists_dir: str | Path | None = None,
) -> SelectionResult:
    """Select the frontier models by ``rules`` (default: the paper's running top-10).

    Parameters
    ----------
    models : Tables or iterable of ModelRecord
        The notable-models table.
    rules : SelectionRules, optional
    frontier_lists_dir : str or Path, optional
        Folder of the frozen lists (``<epoch_dir>/frontier-lists``); needed when
        ``rules.frontier_list`` is set.

    Returns
    -------
    SelectionResult
        On the 2024-06 Epoch snapshot with default rules: the paper's 64 models.

    Raises
    ------
    ConfigError
        ``selection.frontier_list`` when the frozen list is missing or unreadable.
    """
    rules = rules or SelectionRules()
    records = tuple(models.models if isinstance(models, Tables) else models)
    pool: list[tuple[int, ModelRecord]] = []
    dropped: list[SkipEntry] = []
    for order, m in enumerate(records):
        reason = ""
        if m.publication_date is None:
            reason = "no publication date"
        elif rules.require_notability and not m.notability:
            reason = "no notability criteria"
        elif math.isnan(m.training_compute_flop) or m.training_compute_flop <= 0:
            reason = "no training compute"
        elif rules.finetunes == "exclude_before_ranking" and m.is_finetune:
            reason = "fine-tune, excluded before ranking (selection.finetunes)"
        if reason:
            dropped.append(SkipEntry(m.source.split(":")[0], _line(m), m.name, reason))
        else:
            pool.append((order, m))
    pool.sort(key=lambda om: (om[1].publication_date, om[1].name))
    table_order = np.array([o for o, _ in pool], dtype=np.int64)
    models_pool = [m for _, m in pool]
    dates = np.array([m.publication_date.toordinal() for m in models_pool], dtype=np.int64)
    compute = np.array([m.training_compute_flop for m in models_pool])

    ranks: dict[str, int] = {}
    first_rank = np.zeros(len(pool), dtype=np.int64)
    for i, m in enumerate(models_pool):
        prior = dates <= dates[i]
        ranks[m.name] = 1 + int(np.sum(compute[prior] > compute[i]))
        # pandas nlargest(keep="first"): ties broken by table order
        first_rank[i] = ranks[m.name] + int(
            np.sum(prior & (compute == compute[i]) & (table_order < table_order[i]))
        )

    in_window = np.array(
        [rules.start < m.publication_date < rules.end for m in models_pool], dtype=bool
    )
    if rules.frontier_list:
        listed = _frozen_list(rules, frontier_lists_dir)
        chosen = np.array([m.name in listed for m in models_pool], dtype=bool)
        pooled = {m.name for m in models_pool}
        source = f"frontier-lists/{rules.frontier_list}.json"
        dropped.extend(SkipEntry(source, 0, name, "in the frozen frontier list, not among the table's "
                                 "notable models") for name in sorted(listed - pooled))
    else:
        chosen = _rule_chosen(rules, models_pool, dates, compute, ranks, first_rank, in_window)
    if rules.applies_window:
        chosen &= in_window
    names = [m.name for m, c in zip(models_pool, chosen, strict=True) if c]
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


def _rule_chosen(rules: SelectionRules, models_pool: list[ModelRecord], dates: np.ndarray,
                 compute: np.ndarray, ranks: Mapping[str, int], first_rank: np.ndarray,
                 in_window: np.ndarray) -> np.ndarray:
    """Which pool models the rule selects, before the publication window and include/exclude."""
    n = len(models_pool)
    chosen = np.zeros(n, dtype=bool)
    q = 100.0 - rules.percentile
    if rules.method == "top_n":
        rank = first_rank if rules.ties == "first" else np.array([ranks[m.name] for m in models_pool])
        chosen = rank <= rules.top_n
    elif rules.method == "compute_rank":
        given = np.array([m.compute_rank for m in models_pool], dtype=float)
        chosen = np.isfinite(given) & (given <= rules.max_rank)
    elif rules.method == "window_percentile":
        years = np.array([decimal_year(m.publication_date) for m in models_pool])
        for i in range(n):
            if in_window[i]:
                mask = np.abs(years - years[i]) <= rules.window_years
                chosen[i] = compute[i] >= np.percentile(compute[mask], q)
    elif rules.method == "backward_window_percentile":
        for i, m in enumerate(models_pool):
            if in_window[i]:
                lo = _years_before(m.publication_date, rules.window_years).toordinal()
                mask = (dates >= lo) & (dates <= dates[i])
                chosen[i] = compute[i] > np.percentile(compute[mask], q)
    elif rules.method == "residual_from_trend" and n >= 2:
        chosen = _residual_top_bins(models_pool, compute, rules.percentile)
    return chosen


def _residual_top_bins(models_pool: list[ModelRecord], compute: np.ndarray, percentile: float) -> np.ndarray:
    """Epoch's residual-from-trend rule: the top ``percentile / 5`` of 20 residual bins.

    One least-squares line of log10(compute) on decimal year over every model; the models
    sorted by residual (stable) and cut at indices ``round(N / 20 * i)`` (Python's ``round``,
    half to even); the models from the first index of the top kept bin on are selected.
    """
    years = np.array([decimal_year(m.publication_date) for m in models_pool])
    logc = np.log10(compute)
    slope, intercept = np.polyfit(years, logc, 1)
    resid = logc - (slope * years + intercept)
    order = np.argsort(resid, kind="stable")
    kept_bins = round(percentile / 100 * RESIDUAL_BINS)
    cut = round(len(models_pool) / RESIDUAL_BINS * (RESIDUAL_BINS - kept_bins))
    chosen = np.zeros(len(models_pool), dtype=bool)
    chosen[order[cut:]] = True
    return chosen


def _frozen_list(rules: SelectionRules, folder: str | Path | None) -> set[str]:
    """Model names of the top buckets of a frozen frontier list (``frontier_list``)."""
    if folder is None:
        raise ConfigError("selection.frontier_list",
                          "needs data.epoch_dir, a snapshot folder with frontier-lists/")
    path = Path(folder) / f"{rules.frontier_list}.json"
    try:
        buckets = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(buckets, dict) or not all(isinstance(v, list) for v in buckets.values()):
            raise ValueError("expected a JSON object of bucket -> list of model names")
        if rules.method == "top_n":
            keep = [v for k, v in buckets.items() if int(k) <= rules.top_n]
        else:
            keep = [v for k, v in buckets.items() if float(k) >= 100.0 - rules.percentile - 1e-9]
        return {str(name) for names in keep for name in names}
    except OSError as exc:
        raise ConfigError("selection.frontier_list", f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, TypeError) as exc:
        raise ConfigError("selection.frontier_list", f"{path}: not a frozen frontier list ({exc})") from None


def _years_before(d: date, years: float) -> date:
    """Return the date ``years`` calendar years before ``d`` (29 February -> 28 February)."""
    if float(years).is_integer():
        y = d.year - int(years)
        if y < 1:
            return date.min
        try:
            return d.replace(year=y)
        except ValueError:
            return d.replace(year=y, day=28)
    return date.fromordinal(max(1, d.toordinal() - round(years * 365.25)))


def _line(m: ModelRecord) -> int:
    try:
        return int(m.source.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return 0
