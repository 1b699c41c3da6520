"""Missing hardware as uncertainty, not deletion (off by default).

The paper drops a frontier model whose training hardware is unreported, or lists several
types. With imputation on, such a model gets its hardware as a categorical distribution:

- several types listed: each listed type, equally likely;
- nothing usable reported: the accelerators of the costable frontier models published
  within ``window_years`` of it, weighted by how many of them used each type
  (``impute_hardware = "frontier_window"``, or ``true``); or, as Epoch's mid-2025 pipeline
  does, the single most common non-TPU accelerator among all notable models (publication
  date, notability criteria and compute given; database-wide, not only frontier models)
  of its publication calendar year, ties broken by first appearance in the table, for
  models with no hardware named at all (``impute_hardware = "most_common_of_year"``).

``impute_multi_hardware = false`` leaves models that list several types uncosted (as
Epoch does) instead of spreading them over the listed types.

Each candidate is resolved by the paper's rules as a hidden row (its own price, date and
chip-hours: quantity x time when reported, else compute / (peak FLOP/s x utilization)), and
in every draw the engine gives the model the cost of one candidate, drawn with these weights.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from uncertain_cost.config.sections import DATA, IMPUTE_KEYS, IMPUTE_MODES
from uncertain_cost.data.facts import ModelFacts
from uncertain_cost.data.hardware_names import HardwareMatcher
from uncertain_cost.data.tables import ModelRecord, SkipEntry, Tables

__all__ = ["HardwareImputation", "resolve_with_imputation", "most_common_hardware_by_year",
           "epoch_hardware_mode_by_year",
           "CANDIDATE_SEPARATOR", "IMPUTE_MODES"]

#: separates a model's name from the candidate chip in the name of a hidden candidate row
CANDIDATE_SEPARATOR = " | hardware: "


#: ``[data] impute = "all"``'s mode (set by the pipeline, not a value of ``impute_hardware``): donors are
#: runs published at most this many years before the model
ORGANIZATION_WINDOW_YEARS = 2.0
#: ``organization`` mode fallback: peers with at least this fraction of the model's compute
PEER_COMPUTE_FRACTION = 0.1


@dataclass(frozen=True)
class HardwareImputation:
    """``[data] impute_hardware``, ``impute_window_years`` and ``impute_multi_hardware``.

    Attributes
    ----------
    enabled : bool
        Any imputation at all.
    window_years : float
        Donor window of ``frontier_window``.
    mode : str
        ``frontier_window`` or ``most_common_of_year`` (when enabled).
    multi_hardware : bool
        Spread models listing several types over those types (True) or leave them uncosted.
    """

    enabled: bool = False
    window_years: float = 1.0
    mode: str = "frontier_window"
    multi_hardware: bool = True

    @classmethod
    def from_config(cls, section: dict, source: str | None = None) -> HardwareImputation:
        """Build the settings from a ``[data]`` table (other keys are ignored).

        Parameters
        ----------
        section : dict
            ``impute_hardware`` (bool or one of :data:`IMPUTE_MODES`),
            ``impute_window_years`` (> 0), ``impute_multi_hardware`` (bool).
        source : str, optional
            Config file, for error messages.

        Returns
        -------
        HardwareImputation

        Raises
        ------
        ConfigError
            Naming ``data.<key>``.
        """
        values = DATA.check({k: section[k] for k in IMPUTE_KEYS if k in section}, source)  # declared once there
        mode = values.get("impute_hardware", False)
        mode = {True: "frontier_window", False: "off"}.get(mode, mode) if isinstance(mode, bool) else mode
        window = values.get("impute_window_years", 1.0)
        multi = values.get("impute_multi_hardware", True)
        return cls(mode != "off", float(window), mode if mode != "off" else "frontier_window", multi)


def most_common_hardware_by_year(tables: Tables, matcher: HardwareMatcher,
                                 require_notability: bool = True) -> dict[int, str]:
    """Most common non-TPU accelerator of each publication year among all notable models.

    Parameters
    ----------
    tables : Tables
    matcher : HardwareMatcher
    require_notability : bool
        Count only rows with notability criteria (Epoch's notable models).

    Returns
    -------
    dict of int -> str
        Calendar year -> matched chip name; rows listing several types are not counted;
        ties go to the chip that appears first in the table. With
        ``tables.rules.impute_counting == "epoch"`` (``[data] rules = "epoch_2025"``) the
        year's hardware is counted as Epoch's pipeline counts it, see
        :func:`epoch_hardware_mode_by_year`.
    """
    if getattr(tables.rules, "impute_counting", "") == "epoch":
        return epoch_hardware_mode_by_year(tables, matcher)
    counts: dict[int, Counter] = {}
    for m in tables.models:
        if m.publication_date is None or len(m.hardware) != 1:
            continue
        if require_notability and not m.notability:
            continue
        if not (m.training_compute_flop > 0):
            continue
        chip = matcher.match(m.hardware[0])
        if chip is None or "TPU" in chip.upper():
            continue
        spec = tables.chip(chip)
        if spec is not None and spec.kind == "tpu":
            continue
        counts.setdefault(m.publication_date.year, Counter())[chip] += 1
    return {year: c.most_common(1)[0][0] for year, c in counts.items()}


#: organisations known under several names in the table (substring -> one name)
ORGANIZATION_ALIASES = (("deepmind", "google"), ("google", "google"), ("facebook", "meta"), ("meta", "meta"))


def _organizations(text: str) -> set[str]:
    """Organisations of a comma-separated ``Organization`` field, lower case, aliases merged."""
    out = set()
    for o in (o.strip().lower() for o in text.split(",")):
        if o:
            out.add(next((name for token, name in ORGANIZATION_ALIASES if token in o), o))
    return out


def organization_candidates(record: ModelRecord, tables: Tables, matcher: HardwareMatcher,
                            window_years: float = ORGANIZATION_WINDOW_YEARS) -> tuple[dict[str, float], str]:
    """Accelerators of the model's organisation in the years before publication, weighted by use.

    Donors are the other models of ``tables`` naming exactly one recognised accelerator,
    published on or before the model and at most ``window_years`` earlier. The weights are
    the shares of the donors of the model's organisation (any organisation in common) on
    each chip (Google, Google DeepMind, DeepMind, Google Brain count as one organisation, as
    do Meta and Facebook); when the organisation has none, the shares of the other donors whose training
    compute is at least :data:`PEER_COMPUTE_FRACTION` of the model's (frontier-scale peers),
    else of all other donors. TPUs count as another organisation's candidates only for
    Google / DeepMind models (the chips are Google's own).

    Parameters
    ----------
    record : ModelRecord
        Needs a publication date (and a training compute for the peer fallback).
    tables : Tables
    matcher : HardwareMatcher
    window_years : float

    Returns
    -------
    candidates : dict of str -> float
        Chip -> weight (sorted by chip name; empty when there is no donor).
    basis : str
        ``"organization"``, ``"peers"``, ``"any run"`` or ``""``, with the donor count.
    """
    if record.publication_date is None:
        return {}, ""
    pub = record.publication_date
    earliest = pub.toordinal() - window_years * 365.25
    orgs = _organizations(record.organization)
    google = "google" in orgs
    own: Counter = Counter()
    peers: Counter = Counter()
    anyone: Counter = Counter()
    for m in tables.models:
        if m.name == record.name or m.publication_date is None or len(m.hardware) != 1:
            continue
        if not (earliest <= m.publication_date.toordinal() <= pub.toordinal()):
            continue
        chip = matcher.match(m.hardware[0])
        if chip is None:
            continue
        if orgs & _organizations(m.organization):
            own[chip] += 1
            continue
        if "TPU" in chip and not google:
            continue  # TPUs are Google's: another organisation's peers count only its GPUs
        anyone[chip] += 1
        if m.training_compute_flop >= PEER_COMPUTE_FRACTION * record.training_compute_flop:
            peers[chip] += 1
    counts, basis = next(((c, b) for c, b in ((own, "organization"), (peers, "peers"), (anyone, "any run"))
                          if c), (anyone, ""))
    total = sum(counts.values())
    if not total:
        return {}, ""
    return {chip: n / total for chip, n in sorted(counts.items())}, f"{basis} ({total} runs)"


def epoch_hardware_mode_by_year(tables: Tables, matcher: HardwareMatcher) -> dict[int, str]:
    """Most common hardware name of each publication year, counted as Epoch's pipeline does.

    Every row with a publication date counts (no notability or compute filter); a row
    naming a TPU is left out; a row listing several types counts once for each; names
    are counted as written; ties go to the alphabetically first name (``pandas``
    ``Series.mode`` sorts). The winning name is then matched to a chip.

    Parameters
    ----------
    tables : Tables
    matcher : HardwareMatcher

    Returns
    -------
    dict of int -> str
        Calendar year -> matched chip name (years whose winner matches no chip are left out).
    """
    counts: dict[int, Counter] = {}
    for m in tables.models:
        if m.publication_date is None or not m.hardware or any("TPU" in h for h in m.hardware):
            continue
        counts.setdefault(m.publication_date.year, Counter()).update(m.hardware)
    out = {}
    for year, c in counts.items():
        top = max(c.values())
        chip = matcher.match(min(name for name, n in c.items() if n == top))
        if chip is not None:
            out[year] = chip
    return out


def _candidates(record: ModelRecord, matcher: HardwareMatcher, donors: list[tuple[float, str]],
                window: float, settings: HardwareImputation | None = None,
                by_year: dict[int, str] | None = None, tables: Tables | None = None) -> dict[str, float]:
    """Candidate chips and weights for one model (empty when it has usable hardware)."""
    settings = settings or HardwareImputation(True, window)
    matched = [m for m in (matcher.match(h) for h in record.hardware) if m is not None]
    if len(matched) > 1:
        if not settings.multi_hardware:
            return {}
        unique = list(dict.fromkeys(matched))
        return {chip: 1.0 / len(unique) for chip in unique}
    if matched:
        return {}
    if len(record.hardware) > 1 and not settings.multi_hardware:
        return {}
    if settings.mode == "organization":
        return organization_candidates(record, tables, matcher, settings.window_years)[0] if tables else {}
    if settings.mode == "most_common_of_year":
        if record.hardware:
            return {}  # Epoch imputes missing hardware only, not unrecognised names
        chip = (by_year or {}).get(record.publication_date.year)
        return {chip: 1.0} if chip else {}
    from uncertain_cost.data.selection import decimal_year

    year = decimal_year(record.publication_date)
    near = Counter(chip for donor_year, chip in donors if abs(donor_year - year) <= window)
    total = sum(near.values())
    return {chip: count / total for chip, count in sorted(near.items())} if total else {}


def resolve_with_imputation(tables: Tables, selection, facts: ModelFacts, settings: HardwareImputation,
                            skipped: list | None = None, **resolve_kw) -> tuple[ModelFacts, list[str]]:
    """Add candidate-hardware rows for frontier models that have no usable hardware.

    Parameters
    ----------
    tables : Tables
    selection : SelectionResult or iterable of names
        What was resolved into ``facts``.
    facts : ModelFacts
        The facts resolved without imputation.
    settings : HardwareImputation
    skipped : list, optional
        Receives a :class:`~uncertain_cost.data.tables.SkipEntry` for every candidate that
        drops out of a method (no purchase price: all methods; no cloud price: cloud only,
        the other candidates' cloud weights renormalised).
    **resolve_kw
        Passed to :func:`uncertain_cost.data.resolve.resolve_facts` (``finetunes``,
        ``reference_month``, ``snapshot``).

    Returns
    -------
    facts : ModelFacts
        With hidden candidate rows and ``alternative_of`` / ``alternative_weight`` set.
    notes : list of str
        One line per imputed model (its candidates and weights).
    """
    from uncertain_cost.data.resolve import resolve_facts

    if not settings.enabled:
        return facts, []
    matcher = HardwareMatcher(tables.chips)
    costable = np.isfinite(facts.server_price_per_chip) & (facts.chip_index >= 0) & facts.is_frontier
    donors = [(float(facts.publication_year[i]), facts.chips[facts.chip_index[i]]) for i in np.flatnonzero(costable)]
    by_year = most_common_hardware_by_year(tables, matcher) if settings.mode == "most_common_of_year" else None
    names = list(getattr(selection, "names", selection))
    records = [tables.model(n) for n in names if tables.model(n) is not None]
    extras, plan, notes = [], {}, []
    for record in records:
        if record.name not in facts.names or facts.chip_index[facts.names.index(record.name)] >= 0:
            continue
        candidates = _candidates(record, matcher, donors, settings.window_years, settings, by_year, tables)
        if not candidates:
            continue
        plan[record.name] = candidates
        for chip in candidates:
            extras.append(replace(record, name=f"{record.name}{CANDIDATE_SEPARATOR}{chip}", hardware=(chip,)))
        notes.append(f"{record.name}: hardware imputed as " + ", ".join(
            f"{chip} {weight:.0%}" for chip, weight in candidates.items()))
    if not extras:
        return facts, notes
    merged, _ = resolve_facts(tables, records + extras, **resolve_kw)
    alternative_of = np.full(merged.n_models, -1, dtype=np.int64)
    weight = np.zeros(merged.n_models)
    frontier = np.asarray(merged.is_frontier).copy()
    for i, name in enumerate(merged.names):
        if CANDIDATE_SEPARATOR in name:
            model, chip = name.split(CANDIDATE_SEPARATOR, 1)
            if model in merged.names and model in plan:
                alternative_of[i] = merged.names.index(model)
                weight[i] = plan[model][chip]
            frontier[i] = False
    # a candidate that cannot be costed (no price for that chip) drops out; renormalize
    for model in set(alternative_of[alternative_of >= 0]):
        rows = np.flatnonzero(alternative_of == model)
        ok = np.isfinite(merged.server_price_per_chip[rows])
        if skipped is not None:
            for r in rows[~ok]:
                skipped.append(SkipEntry(*_where(tables.model(merged.names[model])), merged.names[model],
                                         f"imputed candidate {merged.names[r].split(CANDIDATE_SEPARATOR, 1)[1]} "
                                         "has no purchase price; dropped from every method, weights renormalised"))
        weight[rows[~ok]] = 0.0
        alternative_of[rows[~ok]] = -1
        if math.isclose(weight[rows[ok]].sum(), 0.0):
            name = merged.names[model]
            notes = [n for n in notes if not n.startswith(f"{name}: hardware imputed as ")]
            notes.append(f"{name}: no imputed candidate ({', '.join(plan[name])}) has a purchase price; "
                         "not costed")
            continue
        weight[rows[ok]] /= weight[rows[ok]].sum()
    cloud_weight = weight.copy()
    for model in set(alternative_of[alternative_of >= 0].tolist()):
        rows = np.flatnonzero(alternative_of == model)
        ok = np.isfinite(merged.cloud_price_per_chip_hour[rows])
        if ok.all():
            continue
        cloud_weight[rows[~ok]] = 0.0
        if cloud_weight[rows[ok]].sum() > 0:
            cloud_weight[rows[ok]] /= cloud_weight[rows[ok]].sum()
        record = tables.model(merged.names[model])
        rest = ("other candidates' cloud weights renormalised" if ok.any()
                else "no candidate has one, no cloud cost")
        for r in rows[~ok]:
            chip = merged.names[r].split(CANDIDATE_SEPARATOR, 1)[1]
            if skipped is not None:
                skipped.append(SkipEntry(*_where(record), merged.names[model],
                                         f"cloud: imputed candidate {chip} has no cloud price; dropped from the "
                                         f"cloud method, {rest}"))
    return replace(merged, is_frontier=frontier, alternative_of=alternative_of, alternative_weight=weight,
                   alternative_weight_cloud=cloud_weight), notes


def _where(record: ModelRecord | None) -> tuple[str, int]:
    """(file, line) of a model record's source, for a skip entry."""
    source = record.source if record is not None else ""
    file, _, line = source.rpartition(":")
    try:
        return file, int(line)
    except ValueError:
        return source, 0


def impute_quantities(facts: ModelFacts, default_hours: float) -> ModelFacts:
    """Let the acquisition method cost models whose hardware quantity is unknown.

    Every row with a chip-hours path but no quantity gets
    :data:`~uncertain_cost.data.facts.QUANTITY_FROM_CHIP_HOURS`: the kernels then take, in
    each draw, quantity = chip-hours / (training time x its multiplier), from the same
    draw's chip-hours. A missing training time becomes the paper's default
    (``default_hours``, 793.5 h, the one the training-start rule already uses), with the
    ``training_time`` input's spread.

    Parameters
    ----------
    facts : ModelFacts
    default_hours : float

    Returns
    -------
    ModelFacts
    """
    from uncertain_cost.data.facts import CHIP_HOURS_NONE, QUANTITY_FROM_CHIP_HOURS

    quantity = np.asarray(facts.hardware_quantity, dtype=float).copy()
    hours = np.asarray(facts.training_time_hours, dtype=float).copy()
    rows = np.isnan(quantity) & (np.asarray(facts.chip_hours_path) != CHIP_HOURS_NONE)
    quantity[rows] = QUANTITY_FROM_CHIP_HOURS
    hours[rows & np.isnan(hours)] = default_hours
    return replace(facts, hardware_quantity=quantity, training_time_hours=hours)


def imputation_labels(before: ModelFacts, facts: ModelFacts) -> tuple[str, ...]:
    """Name what was imputed for each model (``"hardware; chip-hours; quantity; training time"`` or ``""``).

    Parameters
    ----------
    before : ModelFacts
        The facts as resolved (training times not yet defaulted), same leading rows.
    facts : ModelFacts
        After hardware and quantity imputation.

    Returns
    -------
    tuple of str
        One label per row of ``facts``.
    """
    from uncertain_cost.data.facts import CHIP_HOURS_IMPUTED, QUANTITY_FROM_CHIP_HOURS

    alt = np.asarray(facts.alternative_of)
    labels = []
    for i in range(facts.n_models):
        rows = np.concatenate([[i], np.flatnonzero(alt == i)])
        parts = []
        if (alt == i).any():
            parts.append("hardware")
        if (np.asarray(facts.chip_hours_path)[rows] == CHIP_HOURS_IMPUTED).any():
            parts.append("chip-hours")
        if (np.asarray(facts.hardware_quantity)[rows] == QUANTITY_FROM_CHIP_HOURS).any():
            parts.append("quantity")
            name = facts.names[i]
            if name in before.names and np.isnan(before.training_time_hours[before.names.index(name)]):
                parts.append("training time")
        labels.append("; ".join(parts))
    return tuple(labels)
