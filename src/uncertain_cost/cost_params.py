"""What the cost equations read: kernel parameter names, the column-map rows, the facts as typed arrays.

The plain-Python half of :mod:`uncertain_cost.costs` (no numba): the design's parameter
names (:data:`PARAMS`), :func:`fact_arrays` and :func:`params_read`, shared by the compiled
kernels, the column layout (:mod:`uncertain_cost.sampling.design`) and the NumPy path of a
single estimate (:mod:`uncertain_cost.lean`). This file is part of the kernels' cache stamp
(:data:`uncertain_cost.kernel_cache.KERNEL_SOURCES`).
"""

from __future__ import annotations

import numpy as np

from uncertain_cost.data.facts import CHIP_HOURS_IMPUTED, ModelFacts

__all__ = ["PARAMS", "N_PARAMS", "P", "DEFAULT_INTERCONNECT_FRACTION", "FactArrays", "fact_arrays", "params_read"]

#: kernel parameters, in column-map order
PARAMS = (
    "rate",  # depreciation rate r, OOM/year
    "overhead",  # multiplier on server overhead
    "interconnect",  # multiplier on 1/(1-f)
    "electricity",  # multiplier on electricity price
    "power_fraction",  # average power / TDP (GPU or TPU input, per model)
    "pue",  # PUE (hyperscaler or other input, per model)
    "price",  # multiplier on purchase price (GPU or TPU input, per model)
    "cloud",  # multiplier on cloud price
    "peak",  # multiplier on peak FLOP/s
    "quantity",  # multiplier on hardware quantity
    "time",  # multiplier on training time
    "compute",  # multiplier on training compute
    "utilization",  # utilization when not reported
    "offset_days",  # days added to acquisition -> training start
)
N_PARAMS = len(PARAMS)
P = {name: i for i, name in enumerate(PARAMS)}
#: named rows of the column map (what the kernels index ``column`` with)
(RATE, OVERHEAD, INTERCONNECT, ELECTRICITY, POWER_FRACTION, PUE, PRICE, CLOUD, PEAK, QUANTITY, TIME, COMPUTE,
 UTILIZATION, OFFSET_DAYS) = range(N_PARAMS)

#: interconnect share of cluster cost (method.md section 4)
DEFAULT_INTERCONNECT_FRACTION = 0.19


class FactArrays(tuple):
    """The numeric ModelFacts fields, in kernel argument order (a plain tuple)."""


def fact_arrays(facts: ModelFacts) -> FactArrays:
    """Extract the float/int arrays the kernels read, contiguous and typed.

    Parameters
    ----------
    facts : ModelFacts

    Returns
    -------
    FactArrays
        ``(path, reported_chip_hours, hardware_quantity, training_time_hours,
        training_compute_flop, utilization, peak_flops, server_price_per_chip,
        price_is_bare_chip, server_overhead, depreciation_years, tdp_kw,
        server_power_ratio, electricity_usd_per_kwh, cloud_price_per_chip_hour, deflator)``
    """
    f64 = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    return FactArrays(
        (
            np.ascontiguousarray(facts.chip_hours_path, dtype=np.int64),
            f64(facts.reported_chip_hours),
            f64(facts.hardware_quantity),
            f64(facts.training_time_hours),
            f64(facts.training_compute_flop),
            f64(facts.utilization),
            f64(facts.peak_flops),
            f64(facts.server_price_per_chip),
            np.ascontiguousarray(facts.price_is_bare_chip, dtype=np.bool_),
            f64(facts.server_overhead),
            f64(facts.depreciation_years),
            f64(facts.tdp_kw),
            f64(facts.server_power_ratio),
            f64(facts.electricity_usd_per_kwh),
            f64(facts.cloud_price_per_chip_hour),
            f64(facts.deflator),
        )
    )


def params_read(facts: FactArrays) -> np.ndarray:
    """Which kernel parameters the cost equations read for each model.

    Imputed chip-hours read compute, peak FLOP/s and (when not reported) utilization;
    other paths never do. Columns no model reads need not be drawn.

    Parameters
    ----------
    facts : FactArrays

    Returns
    -------
    ndarray of bool, shape (N_PARAMS, n_models)
    """
    path, util = facts[0], facts[5]
    read = np.ones((N_PARAMS, path.shape[0]), dtype=bool)
    imputed = path == CHIP_HOURS_IMPUTED
    read[COMPUTE] = imputed
    read[PEAK] = imputed
    read[UTILIZATION] = imputed & np.isnan(util)
    return read
