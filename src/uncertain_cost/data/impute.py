"""Missing hardware as uncertainty, not deletion (off by default).

The paper drops a frontier model whose training hardware is unreported, or lists several
types. With imputation on, such a model gets its hardware as a categorical distribution:

- several types listed: each listed type, equally likely;
- nothing usable reported: the accelerators of the costable frontier models published
  within ``window_years`` of it, weighted by how many of them used each type.

Each candidate is resolved by the paper's rules as a hidden row (its own price, date and
chip-hours: quantity x time when reported, else compute / (peak FLOP/s x utilization)), and
in every draw the engine gives the model the cost of one candidate, drawn with these weights.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from uncertain_cost.data.facts import ModelFacts
from uncertain_cost.data.hardware_names import HardwareMatcher
from uncertain_cost.data.tables import ModelRecord, Tables

__all__ = ["HardwareImputation", "resolve_with_imputation", "CANDIDATE_SEPARATOR"]

#: separates a model's name from the candidate chip in the name of a hidden candidate row
CANDIDATE_SEPARATOR = " | hardware: "


@dataclass(frozen=True)
class HardwareImputation:
    """``[data] impute_hardware`` and ``impute_window_years`` (validated in config.py)."""

    enabled: bool = False
    window_years: float = 1.0


def _candidates(record: ModelRecord, matcher: HardwareMatcher, donors: list[tuple[float, str]],
                window: float) -> dict[str, float]:
    """Candidate chips and weights for one model (empty when it has usable hardware)."""
    matched = [m for m in (matcher.match(h) for h in record.hardware) if m is not None]
    if len(matched) > 1:
        unique = list(dict.fromkeys(matched))
        return {chip: 1.0 / len(unique) for chip in unique}
    if matched:
        return {}
    from uncertain_cost.data.selection import decimal_year

    year = decimal_year(record.publication_date)
    near = Counter(chip for donor_year, chip in donors if abs(donor_year - year) <= window)
    total = sum(near.values())
    return {chip: count / total for chip, count in sorted(near.items())} if total else {}


def resolve_with_imputation(tables: Tables, selection, facts: ModelFacts, settings: HardwareImputation, **resolve_kw
                            ) -> tuple[ModelFacts, list[str]]:
    """Add candidate-hardware rows for frontier models that have no usable hardware.

    Parameters
    ----------
    tables : Tables
    selection : SelectionResult or iterable of names
        What was resolved into ``facts``.
    facts : ModelFacts
        The facts resolved without imputation.
    settings : HardwareImputation
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
    names = list(getattr(selection, "names", selection))
    records = [tables.model(n) for n in names if tables.model(n) is not None]
    extras, plan, notes = [], {}, []
    for record in records:
        if record.name not in facts.names or facts.chip_index[facts.names.index(record.name)] >= 0:
            continue
        candidates = _candidates(record, matcher, donors, settings.window_years)
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
        weight[rows[~ok]] = 0.0
        alternative_of[rows[~ok]] = -1
        if math.isclose(weight[rows[ok]].sum(), 0.0):
            continue
        weight[rows[ok]] /= weight[rows[ok]].sum()
    return replace(merged, is_frontier=frontier, alternative_of=alternative_of, alternative_weight=weight), notes
