"""Float64 NumPy reference of the paper's point-estimate cost equations (tests only).

Independent of the compiled kernels in ``uncertain_cost.costs``: used to validate the
resolved facts against the paper's published figures (method.md sections 2, 4-6).
"""

from __future__ import annotations

import numpy as np

from uncertain_cost.data.facts import (
    CHIP_HOURS_IMPUTED,
    CHIP_HOURS_QUANTITY_TIME,
    CHIP_HOURS_REPORTED,
    ModelFacts,
)

R_OOMS = 0.14
INTERCONNECT = 0.19
HOURS_PER_YEAR = 8766.0
DEFAULT_UTILIZATION = 0.375


def chip_hours(f: ModelFacts) -> np.ndarray:
    util = np.where(np.isnan(f.utilization), DEFAULT_UTILIZATION, f.utilization)
    imputed = f.training_compute_flop / (f.peak_flops * util) / 3600.0
    out = np.full(f.n_models, np.nan)
    p = f.chip_hours_path
    out[p == CHIP_HOURS_REPORTED] = f.reported_chip_hours[p == CHIP_HOURS_REPORTED]
    qt = p == CHIP_HOURS_QUANTITY_TIME
    out[qt] = f.hardware_quantity[qt] * f.training_time_hours[qt]
    out[p == CHIP_HOURS_IMPUTED] = imputed[p == CHIP_HOURS_IMPUTED]
    return out


def amortized_components(f: ModelFacts) -> dict[str, np.ndarray]:
    """Nominal USD components of method A for every row (NaN where not costable)."""
    ch = chip_hours(f)
    value = f.server_price_per_chip * 10.0 ** (-R_OOMS * f.depreciation_years)
    hardware = value * R_OOMS * np.log(10) / HOURS_PER_YEAR * ch
    interconnect = hardware * INTERCONNECT / (1 - INTERCONNECT)
    energy = (
        f.tdp_kw
        * f.server_power_ratio
        * f.extra["avg_power_fraction"]
        * f.extra["pue"]
        * ch
        * f.electricity_usd_per_kwh
    )
    chips = hardware / f.server_overhead
    return {
        "chips": chips,
        "other_server": hardware - chips,
        "interconnect": interconnect,
        "energy": energy,
    }


def _add_base(f: ModelFacts, cost: np.ndarray) -> np.ndarray:
    out = cost.copy()
    for i, b in enumerate(f.base_index):
        if b >= 0:
            out[i] = cost[i] + cost[b]
    return out


def costs(f: ModelFacts, *, deflate: bool = True) -> dict[str, np.ndarray]:
    """Point costs per method (amortized, cloud, acquisition), base costs added."""
    comp = amortized_components(f)
    amortized = comp["chips"] + comp["other_server"] + comp["interconnect"] + comp["energy"]
    cloud = f.cloud_price_per_chip_hour * chip_hours(f)
    acquisition = f.hardware_quantity * f.server_price_per_chip / (1 - INTERCONNECT)
    out = {
        "amortized": _add_base(f, amortized),
        "cloud": _add_base(f, cloud),
        "acquisition": _add_base(f, acquisition),
    }
    if deflate:
        out = {k: v * f.deflator for k, v in out.items()}
    return out
