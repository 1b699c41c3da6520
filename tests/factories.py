"""Hand-built ModelFacts for engine tests (no data files needed)."""

from __future__ import annotations

import numpy as np

from uncertain_cost.data.facts import (
    CHIP_HOURS_IMPUTED,
    CHIP_HOURS_QUANTITY_TIME,
    PUE_HYPERSCALER,
    PUE_OTHER,
    ModelFacts,
)

#: GPT-4 as in method.md's worked example: 25,000 A100 x 95 days, DGX A100 $24,875/GPU
GPT4 = dict(
    name="GPT-4", organization="OpenAI", date="2023-03-15", year=2023.2,
    chip="NVIDIA A100", tpu=False, path=CHIP_HOURS_QUANTITY_TIME, reported=np.nan,
    quantity=25000.0, time=95 * 24.0, compute=2.1e25, util=np.nan, peak=312e12,
    price=24875.0, bare=False, overhead=1.66, years=1.747, tdp=0.4, ratio=2.031,
    elec=0.0806, pue=PUE_OTHER, cloud=np.nan, deflator=1.0,
)

TPU_MODEL = dict(
    name="TPU model", organization="Google", date="2021-06-01", year=2021.4,
    chip="Google TPU v3", tpu=True, path=CHIP_HOURS_IMPUTED, reported=np.nan,
    quantity=np.nan, time=np.nan, compute=3e23, util=np.nan, peak=123e12,
    price=5276.0 * 1.64, bare=True, overhead=1.64, years=2.0, tdp=0.45, ratio=1.47,
    elec=0.0718, pue=PUE_HYPERSCALER, cloud=1.2, deflator=1.05,
)


def make_facts(*rows: dict, base_index=None) -> ModelFacts:
    """Build ModelFacts from row dicts shaped like GPT4 above."""
    chips = tuple(dict.fromkeys(r["chip"] for r in rows))
    is_tpu = np.array([next(r["tpu"] for r in rows if r["chip"] == c) for c in chips])
    col = lambda key, dtype=np.float64: np.array([r[key] for r in rows], dtype=dtype)  # noqa: E731
    n = len(rows)
    return ModelFacts(
        names=tuple(r["name"] for r in rows),
        organization=tuple(r["organization"] for r in rows),
        publication_date=np.array([r["date"] for r in rows], dtype="datetime64[D]"),
        publication_year=col("year"),
        chips=chips,
        chip_index=np.array([chips.index(r["chip"]) for r in rows], dtype=np.int64),
        chip_is_tpu=is_tpu,
        chip_hours_path=col("path", np.int64),
        reported_chip_hours=col("reported"),
        hardware_quantity=col("quantity"),
        training_time_hours=col("time"),
        training_compute_flop=col("compute"),
        utilization=col("util"),
        peak_flops=col("peak"),
        server_price_per_chip=col("price"),
        price_is_bare_chip=col("bare", bool),
        server_overhead=col("overhead"),
        depreciation_years=col("years"),
        tdp_kw=col("tdp"),
        server_power_ratio=col("ratio"),
        electricity_usd_per_kwh=col("elec"),
        pue_class=col("pue", np.int64),
        cloud_price_per_chip_hour=col("cloud"),
        deflator=col("deflator"),
        base_index=np.full(n, -1, np.int64) if base_index is None else np.asarray(base_index),
        is_frontier=np.ones(n, bool),
        snapshot="test",
    )
