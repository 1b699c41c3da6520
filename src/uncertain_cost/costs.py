"""The cost equations (method.md sections 2-6) as pure functions over arrays.

Two layers with the same interface, as ArviZ does: :func:`costs_numpy`, a vectorized
NumPy reference, and :func:`costs_numba`, a numba-compiled kernel parallel over draws
(the hot path). Tests check that both agree on the same inputs.

Inputs arrive as a *design*: a matrix ``values`` of shape (n_rows, n_columns) and a map
``column`` of shape (N_PARAMS, n_models) saying which column holds parameter ``p`` for
model ``m``; this is how shared, per-chip and per-model scopes reach one kernel without
copying (a shared input is one column read by every model). Outputs are in dollars of the
reference month (each model's ``deflator`` applied).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from uncertain_cost import kernel_cache  # noqa: F401  (before any kernel: keys numba's cache on its sources)
from uncertain_cost.cost_params import (  # noqa: F401  (defined without numba; re-exported)
    CLOUD,
    COMPUTE,
    DEFAULT_INTERCONNECT_FRACTION,
    ELECTRICITY,
    INTERCONNECT,
    N_PARAMS,
    OFFSET_DAYS,
    OVERHEAD,
    PARAMS,
    PEAK,
    POWER_FRACTION,
    PRICE,
    PUE,
    QUANTITY,
    RATE,
    TIME,
    UTILIZATION,
    FactArrays,
    P,
    fact_arrays,
    params_read,
)
from uncertain_cost.data.facts import (
    CHIP_HOURS_IMPUTED,
    CHIP_HOURS_QUANTITY_TIME,
    CHIP_HOURS_REPORTED,
)
from uncertain_cost.units import DAYS_PER_YEAR, HOURS_PER_YEAR, LN10, SECONDS_PER_HOUR

__all__ = [
    "PARAMS",
    "N_PARAMS",
    "DEFAULT_INTERCONNECT_FRACTION",
    "FactArrays",
    "fact_arrays",
    "costs_numpy",
    "costs_numba",
    "costs_into",
    "row_costs",
    "row_into",
    "params_read",
]



def costs_numpy(values, column, facts: FactArrays, interconnect_fraction=DEFAULT_INTERCONNECT_FRACTION):
    """Vectorized NumPy reference of the cost equations.

    Parameters
    ----------
    values : ndarray, shape (n_rows, n_columns)
        Input values of every row (a draw or a scenario).
    column : ndarray of int, shape (N_PARAMS, n_models)
        Column of ``values`` holding each kernel parameter for each model.
    facts : FactArrays
        From :func:`fact_arrays`.
    interconnect_fraction : float
        Central share f of cluster cost spent on interconnect.

    Returns
    -------
    amortized : ndarray, shape (n_rows, n_models, 4)
        Components chips, other_server, interconnect, energy.
    cloud, acquisition : ndarray, shape (n_rows, n_models)
        NaN where a method cannot cost a model.
    """
    (path, reported, quantity, time_h, compute, util, peak, price, bare, overhead0,
     dep_years, tdp_kw, power_ratio, elec, cloud_price, deflator) = facts
    x = {name: values[:, column[i]] for i, name in enumerate(PARAMS)}
    util_used = np.where(np.isnan(util), x["utilization"], util)
    chip_hours = np.select(
        [path == CHIP_HOURS_REPORTED, path == CHIP_HOURS_QUANTITY_TIME, path == CHIP_HOURS_IMPUTED],
        [
            reported * x["quantity"] * x["time"],
            quantity * x["quantity"] * time_h * x["time"],
            compute * x["compute"] / (peak * x["peak"] * util_used) / SECONDS_PER_HOUR,
        ],
        np.nan,
    )
    overhead = np.maximum(overhead0 * x["overhead"], 1.0)  # a server costs at least its chips
    server = np.where(bare, price / overhead0 * overhead, price) * x["price"]
    years = np.maximum(dep_years + x["offset_days"] / DAYS_PER_YEAR, 0.0)
    rate = x["rate"]
    hardware = server * 10.0 ** (-rate * years) * rate * LN10 / HOURS_PER_YEAR * chip_hours
    cluster_factor = x["interconnect"] / (1.0 - interconnect_fraction)
    chips = hardware / overhead
    interconnect = hardware * np.maximum(cluster_factor - 1.0, 0.0)
    energy = tdp_kw * power_ratio * x["power_fraction"] * x["pue"] * chip_hours * elec * x["electricity"]
    amortized = np.stack([chips, hardware - chips, interconnect, energy], axis=-1) * deflator[None, :, None]
    cloud = cloud_price * x["cloud"] * chip_hours * deflator
    # a negative quantity (QUANTITY_FROM_CHIP_HOURS) is imputed in each draw: chip-hours / time
    qty = np.where(quantity < 0, chip_hours / (time_h * x["time"]), quantity * x["quantity"])
    acquisition = qty * server * np.maximum(cluster_factor, 1.0) * deflator
    return amortized, cloud, acquisition


@njit(inline="always", cache=True)
def row_costs(row, m, column, path, reported, quantity, time_h, compute, util, peak, price, bare,
              overhead0, dep_years, tdp_kw, power_ratio, elec, cloud_price, deflator, interconnect_fraction):
    """Costs of model ``m`` for one row of input values (compiled; shared by every kernel).

    Returns
    -------
    tuple of float
        ``(chips, other_server, interconnect, energy, amortized, cloud, acquisition)`` in
        reference-month USD (deflator applied).
    """
    rate = row[column[RATE, m]]
    overhead = overhead0[m] * row[column[OVERHEAD, m]]
    if overhead < 1.0:  # a server costs at least its chips
        overhead = 1.0
    cluster_factor = row[column[INTERCONNECT, m]] / (1.0 - interconnect_fraction)
    q_mult = row[column[QUANTITY, m]]
    t_mult = row[column[TIME, m]]
    code = path[m]
    if code == CHIP_HOURS_REPORTED:
        chip_hours = reported[m] * q_mult * t_mult
    elif code == CHIP_HOURS_QUANTITY_TIME:
        chip_hours = quantity[m] * q_mult * time_h[m] * t_mult
    elif code == CHIP_HOURS_IMPUTED:
        u = util[m]
        if np.isnan(u):
            u = row[column[UTILIZATION, m]]
        chip_hours = (compute[m] * row[column[COMPUTE, m]]
                      / (peak[m] * row[column[PEAK, m]] * u) / SECONDS_PER_HOUR)
    else:
        chip_hours = np.nan
    if bare[m]:
        server = price[m] / overhead0[m] * overhead * row[column[PRICE, m]]
    else:
        server = price[m] * row[column[PRICE, m]]
    years = dep_years[m] + row[column[OFFSET_DAYS, m]] / DAYS_PER_YEAR
    if years < 0.0:
        years = 0.0
    hardware = server * 10.0 ** (-rate * years) * rate * LN10 / HOURS_PER_YEAR * chip_hours
    chips = hardware / overhead
    extra = cluster_factor - 1.0
    if extra < 0.0:
        extra = 0.0
    energy = (tdp_kw[m] * power_ratio[m] * row[column[POWER_FRACTION, m]] * row[column[PUE, m]]
              * chip_hours * elec[m] * row[column[ELECTRICITY, m]])
    defl = deflator[m]
    qty = quantity[m] * q_mult
    if quantity[m] < 0.0:  # QUANTITY_FROM_CHIP_HOURS: imputed in this draw, chip-hours / training time
        qty = chip_hours / (time_h[m] * t_mult)
    return (chips * defl, (hardware - chips) * defl, hardware * extra * defl, energy * defl,
            (hardware * (1.0 + extra) + energy) * defl, cloud_price[m] * row[column[CLOUD, m]] * chip_hours * defl,
            qty * server * (1.0 + extra) * defl)


@njit(inline="always", cache=True)
def row_into(d, row, column, path, reported, quantity, time_h, compute, util, peak, price, bare,
             overhead0, dep_years, tdp_kw, power_ratio, elec, cloud_price, deflator, interconnect_fraction,
             out_components, out_amortized, out_cloud, out_acquisition):
    """Cost every model for input row ``row`` and store the results at output row ``d`` (compiled).

    The one per-row cost loop, inlined by both compiled kernels: :func:`costs_into` (rows of a
    value matrix) and ``engine._fused_kernel`` (rows drawn tile by tile). Components are kept
    for ``d < out_components.shape[0]`` only.
    """
    n_components = out_components.shape[0]
    for m in range(path.shape[0]):
        c0, c1, c2, c3, amortized, cloud, acquisition = row_costs(
            row, m, column, path, reported, quantity, time_h, compute, util, peak, price, bare,
            overhead0, dep_years, tdp_kw, power_ratio, elec, cloud_price, deflator, interconnect_fraction)
        if d < n_components:
            out_components[d, m, 0] = c0
            out_components[d, m, 1] = c1
            out_components[d, m, 2] = c2
            out_components[d, m, 3] = c3
        out_amortized[d, m] = amortized
        out_cloud[d, m] = cloud
        out_acquisition[d, m] = acquisition


@njit(parallel=True, cache=True, fastmath=False)
def _kernel(values, column, path, reported, quantity, time_h, compute, util, peak, price, bare,
            overhead0, dep_years, tdp_kw, power_ratio, elec, cloud_price, deflator,
            interconnect_fraction, out_components, out_amortized, out_cloud, out_acquisition):
    for d in prange(values.shape[0]):
        row_into(d, values[d], column, path, reported, quantity, time_h, compute, util, peak, price, bare,
                 overhead0, dep_years, tdp_kw, power_ratio, elec, cloud_price, deflator, interconnect_fraction,
                 out_components, out_amortized, out_cloud, out_acquisition)


def costs_into(values, column, facts: FactArrays, interconnect_fraction, out_components, out_amortized,
               out_cloud, out_acquisition) -> None:
    """Evaluate rows of ``values`` into preallocated outputs (the engine's hot path).

    Parameters
    ----------
    values, column, facts, interconnect_fraction
        As in :func:`costs_numpy`.
    out_components : ndarray, shape (n_keep, n_models, 4)
        Amortized components of the first ``n_keep`` rows (``n_keep`` may be 0).
    out_amortized, out_cloud, out_acquisition : ndarray, shape (n_rows, n_models)
        Per-method totals (float64 or float32).
    """
    _kernel(np.ascontiguousarray(values, dtype=np.float64), np.ascontiguousarray(column, dtype=np.int64),
            *facts, float(interconnect_fraction), out_components, out_amortized, out_cloud, out_acquisition)


def costs_numba(values, column, facts: FactArrays, interconnect_fraction=DEFAULT_INTERCONNECT_FRACTION):
    """Compiled equivalent of :func:`costs_numpy` (same arguments and results).

    Parallel over rows with ``numba.prange``; each output element depends only on its own
    row, so results are identical whatever ``NUMBA_NUM_THREADS`` is.
    """
    n_rows, n_models = values.shape[0], facts[0].shape[0]
    amortized = np.empty((n_rows, n_models, 4))
    cloud = np.empty((n_rows, n_models))
    acquisition = np.empty((n_rows, n_models))
    costs_into(values, column, facts, interconnect_fraction, amortized, np.empty((n_rows, n_models)),
               cloud, acquisition)
    return amortized, cloud, acquisition
