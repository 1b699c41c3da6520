"""The contract between the data layer and the sampling kernels.

`ModelFacts` holds, for every model to be costed, the deterministic facts that the
cost equations need, already resolved by the paper's rules (which price, which date,
which chip-hours path). Everything is a flat NumPy array of length ``n_models`` so the
numba kernels can read it without Python objects. Money is nominal USD (deflation is a
separate per-model factor); NaN marks a missing value.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

#: chip-hours path codes, in the paper's order of preference (method.md section 2)
CHIP_HOURS_REPORTED = 0  # the table's "Training chip-hours"
CHIP_HOURS_QUANTITY_TIME = 1  # hardware quantity * training time
CHIP_HOURS_IMPUTED = 2  # compute / (peak FLOP/s * utilization) / 3600
CHIP_HOURS_NONE = -1  # cannot be computed

#: ``hardware_quantity`` of a model whose quantity is imputed in each draw as chip-hours /
#: training time (``[data] impute = "all"``); never a real quantity
QUANTITY_FROM_CHIP_HOURS = -1.0

#: PUE classes (method.md section 4)
PUE_HYPERSCALER = 0
PUE_OTHER = 1


@dataclass(frozen=True)
class ModelFacts:
    """Resolved per-model facts, one entry per model, ready for the kernels.

    Attributes
    ----------
    names : tuple of str
        Model names (unique), in output order.
    organization : tuple of str
        Developer organization(s) as in the source table.
    publication_date : ndarray of datetime64[D]
    publication_year : ndarray of float64
        Decimal year of publication (the regressor of the growth fit).
    chips : tuple of str
        Canonical names of the distinct accelerator types used by these models.
    chip_index : ndarray of int64
        Index into ``chips`` per model, -1 when the hardware is unknown.
    chip_is_tpu : ndarray of bool, length ``len(chips)``
    chip_hours_path : ndarray of int64
        One of the ``CHIP_HOURS_*`` codes.
    reported_chip_hours, hardware_quantity, training_time_hours : ndarray of float64
        Source-table values, NaN when missing; ``hardware_quantity`` is
        ``QUANTITY_FROM_CHIP_HOURS`` (-1) when it is imputed per draw.
    training_compute_flop : ndarray of float64
    utilization : ndarray of float64
        Reported hardware utilization, NaN when missing (the ``utilization`` input is
        then drawn instead).
    peak_flops : ndarray of float64
        Peak FLOP/s of one chip, in the paper's precision order.
    server_price_per_chip : ndarray of float64
        Nominal USD price of one accelerator's share of a server, *including* the server
        overhead; NaN when no purchase price is known.
    price_is_bare_chip : ndarray of bool
        True when the source price is a bare chip price that was multiplied by
        ``server_overhead`` (TPU equivalents, K80, ...); then a draw of the overhead
        changes the server price. For DGX-style prices it only changes the component split.
    server_overhead : ndarray of float64
        Server price / bare chip price for this model's chip (A100 1.66, ...).
    depreciation_years : ndarray of float64
        Years from hardware acquisition to training start (>= 0), central value.
    tdp_kw, server_power_ratio : ndarray of float64
    electricity_usd_per_kwh : ndarray of float64
        US industrial price in the publication year.
    pue_class : ndarray of int64
        ``PUE_HYPERSCALER`` or ``PUE_OTHER``.
    cloud_price_per_chip_hour : ndarray of float64
        Nominal USD, 3-year committed-use equivalent; NaN when none is known.
    deflator : ndarray of float64
        PPI(reference month) / PPI(publication month).
    base_index : ndarray of int64
        For fine-tunes costed with ``add_base`` (paper v1): index of the base model's row
        in these facts, whose cost is added in the same draw; -1 otherwise.
    is_frontier : ndarray of bool
        False for rows present only as the base of a fine-tune (not reported).
    notes : tuple of str
        Free-text provenance per model (which price, which date rule).
    snapshot : str
        Name of the data snapshot these facts came from (recorded in outputs).
    alternative_of : ndarray of int64, optional
        For a row that is one candidate hardware of a model whose hardware is unknown (or
        ambiguous), the index of that model's row; -1 otherwise. In each draw the model
        takes the cost of one of its candidates, chosen with ``alternative_weight``.
    alternative_weight : ndarray of float64, optional
        Probability of each candidate row (they sum to 1 per model); 0 elsewhere.
    alternative_weight_cloud : ndarray of float64, optional
        The same for the cloud method, where a candidate without a cloud price drops out
        and the others are renormalised; defaults to ``alternative_weight``.
    chip_price_record : tuple of str, optional
        Per chip, the purchase-price record its price came from (hardware, date, price);
        chips priced from the same record share a draw of a ``per_chip`` input with
        ``chip_key = "price_record"``. Empty (or an empty entry): the chip's own name.
    """

    names: tuple[str, ...]
    organization: tuple[str, ...]
    publication_date: np.ndarray
    publication_year: np.ndarray
    chips: tuple[str, ...]
    chip_index: np.ndarray
    chip_is_tpu: np.ndarray
    chip_hours_path: np.ndarray
    reported_chip_hours: np.ndarray
    hardware_quantity: np.ndarray
    training_time_hours: np.ndarray
    training_compute_flop: np.ndarray
    utilization: np.ndarray
    peak_flops: np.ndarray
    server_price_per_chip: np.ndarray
    price_is_bare_chip: np.ndarray
    server_overhead: np.ndarray
    depreciation_years: np.ndarray
    tdp_kw: np.ndarray
    server_power_ratio: np.ndarray
    electricity_usd_per_kwh: np.ndarray
    pue_class: np.ndarray
    cloud_price_per_chip_hour: np.ndarray
    deflator: np.ndarray
    base_index: np.ndarray
    is_frontier: np.ndarray
    notes: tuple[str, ...] = ()
    snapshot: str = ""
    extra: dict = field(default_factory=dict)
    alternative_of: np.ndarray | None = None
    alternative_weight: np.ndarray | None = None
    alternative_weight_cloud: np.ndarray | None = None
    chip_price_record: tuple[str, ...] = ()

    def chip_keys(self) -> tuple[str, ...]:
        """Per chip, the key of its price record (its own name when none is known).

        Returns
        -------
        tuple of str
        """
        records = self.chip_price_record or ("",) * len(self.chips)
        return tuple(r or c for c, r in zip(self.chips, records, strict=True))

    @property
    def n_models(self) -> int:
        """Number of rows (models), including base-only rows."""
        return len(self.names)

    def __post_init__(self) -> None:
        n = len(self.names)
        if self.alternative_of is None:
            object.__setattr__(self, "alternative_of", np.full(n, -1, dtype=np.int64))
        if self.alternative_weight is None:
            object.__setattr__(self, "alternative_weight", np.zeros(n))
        if self.alternative_weight_cloud is None:
            object.__setattr__(self, "alternative_weight_cloud", np.asarray(self.alternative_weight).copy())
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray) and f.name != "chip_is_tpu" and value.shape != (n,):
                raise ValueError(f"ModelFacts.{f.name} has shape {value.shape}, expected ({n},)")
        if self.chip_is_tpu.shape != (len(self.chips),):
            raise ValueError("ModelFacts.chip_is_tpu must have one entry per chip")
        if self.chip_price_record and len(self.chip_price_record) != len(self.chips):
            raise ValueError("ModelFacts.chip_price_record must be empty or have one entry per chip")


def subset_facts(facts: ModelFacts, names) -> ModelFacts:
    """Keep the facts of the named models only (plus the base rows their fine-tunes need).

    Parameters
    ----------
    facts : ModelFacts
    names : iterable of str
        Model names; unknown names raise ``KeyError``.

    Returns
    -------
    ModelFacts
        Rows in the original order; ``base_index`` remapped; chips unchanged.
    """
    wanted = {facts.names.index(n) for n in names}
    wanted |= {int(facts.base_index[i]) for i in wanted if facts.base_index[i] >= 0}
    wanted |= {int(i) for i in np.flatnonzero(np.isin(facts.alternative_of, list(wanted)))}
    rows = np.array(sorted(wanted), dtype=np.int64)
    remap = {int(old): new for new, old in enumerate(rows)}
    changes = {}
    for f in fields(facts):
        value = getattr(facts, f.name)
        if f.name == "chip_is_tpu":
            continue
        if isinstance(value, np.ndarray):
            changes[f.name] = value[rows]
        elif f.name in ("names", "organization") or (f.name == "notes" and len(value) == facts.n_models):
            changes[f.name] = tuple(value[i] for i in rows)
    changes["base_index"] = np.array([remap.get(int(b), -1) for b in facts.base_index[rows]], dtype=np.int64)
    changes["alternative_of"] = np.array([remap.get(int(a), -1) for a in facts.alternative_of[rows]], dtype=np.int64)
    from dataclasses import replace

    return replace(facts, **changes)


def alternative_groups(facts: ModelFacts, method: str = "amortized") -> list[tuple[int, np.ndarray, np.ndarray]]:
    """``(model row, candidate rows, cumulative weights)`` for each model with candidates.

    Parameters
    ----------
    facts : ModelFacts
    method : str
        ``"cloud"`` uses ``alternative_weight_cloud`` (falling back to the hardware weights
        for a model none of whose candidates has a cloud price); any other method the
        hardware weights.

    Returns
    -------
    list of tuple
    """
    groups = []
    for model in np.unique(facts.alternative_of[facts.alternative_of >= 0]):
        rows = np.flatnonzero(facts.alternative_of == model)
        weights = facts.alternative_weight[rows]
        if method == "cloud" and facts.alternative_weight_cloud[rows].sum() > 0:
            weights = facts.alternative_weight_cloud[rows]
        groups.append((int(model), rows, np.cumsum(weights) / weights.sum()))
    return groups
