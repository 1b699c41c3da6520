"""The Monte Carlo of a few models in NumPy, bit-identical to :func:`uncertain_cost.engine.simulate`.

``estimate`` costs one hypothetical run. Loading the engine's compiled kernels (numba's CPU
target and a cached kernel) takes longer than that whole answer, so this module draws the
same counter-based streams (:mod:`uncertain_cost.sampling.numpy_streams`) and evaluates the
same cost equations (``costs.row_costs``, operation for operation) with NumPy, and imports
neither numba nor SciPy. It covers what a hypothetical run needs: no ``[correlations]``,
no candidate hardware, no base models, marginals of the compiled families, up to
:data:`MAX_LEAN_DRAWS` draws; :func:`simulate` returns None otherwise and the caller uses
the engine. ``tests/engine/test_lean.py`` checks every total against the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from uncertain_cost.cost_params import (
    CLOUD,
    COMPUTE,
    DEFAULT_INTERCONNECT_FRACTION,
    ELECTRICITY,
    INTERCONNECT,
    OFFSET_DAYS,
    OVERHEAD,
    PEAK,
    POWER_FRACTION,
    PRICE,
    PUE,
    QUANTITY,
    RATE,
    TIME,
    UTILIZATION,
    fact_arrays,
    params_read,
)
from uncertain_cost.data.facts import (
    CHIP_HOURS_IMPUTED,
    CHIP_HOURS_QUANTITY_TIME,
    CHIP_HOURS_REPORTED,
    ModelFacts,
)
from uncertain_cost.inputs import InputSet
from uncertain_cost.sampling.design import column_plan, constant_rows, layout
from uncertain_cost.sampling.numpy_streams import apply, column_values
from uncertain_cost.units import DAYS_PER_YEAR, HOURS_PER_YEAR, LN10, SECONDS_PER_HOUR

__all__ = ["LeanSimulation", "MAX_LEAN_DRAWS", "simulate", "row_costs"]

#: most draws the NumPy path takes (it holds every column of every draw at once)
MAX_LEAN_DRAWS = 1_000_000
_METHODS = ("amortized", "cloud", "acquisition")


@dataclass(frozen=True)
class LeanSimulation:
    """What :func:`simulate` computes (the parts of an engine ``Simulation`` an estimate reads).

    Attributes
    ----------
    totals : dict of str to ndarray, shape (n_draws, n_models)
        Per-method totals of every draw (float64).
    components : ndarray, shape (n_kept, n_models, 4)
        Amortized components of the first ``n_kept`` draws.
    point : dict of str to ndarray, shape (n_models,)
        Per-method totals with every input at its central value.
    """

    totals: dict
    components: np.ndarray
    point: dict


def _pow10(y: float) -> float:
    """``10.0 ** y`` as the compiled kernels compute it (C ``pow``), inf on overflow."""
    try:
        return 10.0 ** y
    except OverflowError:
        return math.inf


def row_costs(values: list, column: np.ndarray, arrays: tuple, m: int, interconnect_fraction: float) -> tuple:
    """``costs.row_costs`` of model ``m`` over many rows at once, in the compiled code's order of operations.

    Parameters
    ----------
    values : list of ndarray, each of shape (n_rows,)
        Value of every column of the layout in each row.
    column : ndarray, shape (N_PARAMS, n_models)
    arrays : tuple
        :func:`uncertain_cost.cost_params.fact_arrays` of the facts.
    m : int
    interconnect_fraction : float

    Returns
    -------
    tuple of ndarray
        ``(chips, other_server, interconnect, energy, amortized, cloud, acquisition)``.
    """
    (path, reported, quantity, time_h, compute, util, peak, price, bare, overhead0, dep_years, tdp_kw,
     power_ratio, elec, cloud_price, deflator) = arrays

    def x(param: int) -> np.ndarray:
        return values[column[param, m]]

    rate = x(RATE)
    overhead = overhead0[m] * x(OVERHEAD)
    overhead = np.where(overhead < 1.0, 1.0, overhead)  # a server costs at least its chips
    cluster_factor = x(INTERCONNECT) / (1.0 - interconnect_fraction)
    q_mult, t_mult = x(QUANTITY), x(TIME)
    code = path[m]
    if code == CHIP_HOURS_REPORTED:
        chip_hours = reported[m] * q_mult * t_mult
    elif code == CHIP_HOURS_QUANTITY_TIME:
        chip_hours = quantity[m] * q_mult * time_h[m] * t_mult
    elif code == CHIP_HOURS_IMPUTED:
        u = x(UTILIZATION) if np.isnan(util[m]) else util[m]
        chip_hours = compute[m] * x(COMPUTE) / (peak[m] * x(PEAK) * u) / SECONDS_PER_HOUR
    else:
        chip_hours = np.full(rate.shape, np.nan)
    if bare[m]:
        server = price[m] / overhead0[m] * overhead * x(PRICE)
    else:
        server = price[m] * x(PRICE)
    years = dep_years[m] + x(OFFSET_DAYS) / DAYS_PER_YEAR
    years = np.where(years < 0.0, 0.0, years)
    hardware = server * apply(_pow10, -rate * years) * rate * LN10 / HOURS_PER_YEAR * chip_hours
    chips = hardware / overhead
    extra = cluster_factor - 1.0
    extra = np.where(extra < 0.0, 0.0, extra)
    energy = tdp_kw[m] * power_ratio[m] * x(POWER_FRACTION) * x(PUE) * chip_hours * elec[m] * x(ELECTRICITY)
    defl = deflator[m]
    qty = chip_hours / (time_h[m] * t_mult) if quantity[m] < 0.0 else quantity[m] * q_mult
    return (chips * defl, (hardware - chips) * defl, hardware * extra * defl, energy * defl,
            (hardware * (1.0 + extra) + energy) * defl, cloud_price[m] * x(CLOUD) * chip_hours * defl,
            qty * server * (1.0 + extra) * defl)


def supported(facts: ModelFacts, inputs: InputSet, n_draws: int) -> bool:
    """Whether :func:`simulate` reproduces the engine for these facts, inputs and draw count."""
    return (getattr(inputs, "correlations", None) is None and 1 <= n_draws <= MAX_LEAN_DRAWS
            and not np.any(np.asarray(facts.alternative_of) >= 0) and not np.any(np.asarray(facts.base_index) >= 0))


def simulate(facts: ModelFacts, inputs: InputSet, n_draws: int, seed: int, *, keep_draws: int = 10_000,
             interconnect_fraction: float = DEFAULT_INTERCONNECT_FRACTION) -> LeanSimulation | None:
    """Draw and cost as :func:`uncertain_cost.engine.simulate` does, bit for bit, without compiled kernels.

    Parameters
    ----------
    facts : ModelFacts
    inputs : InputSet
    n_draws, seed, keep_draws : int
        As for the engine.
    interconnect_fraction : float

    Returns
    -------
    LeanSimulation or None
        None when the engine is needed (see :func:`supported`, or a marginal without a
        compiled transform).
    """
    if not supported(facts, inputs, n_draws):
        return None
    lay = layout(inputs, facts)
    arrays = fact_arrays(facts)
    plan = column_plan(lay, seed, read=lay.column[params_read(arrays)])
    if plan.generic:
        return None
    values = [column_values(int(plan.kinds[c]), plan.params[c], plan.keys[c], 0, n_draws)
              for c in range(lay.n_columns)]
    central = constant_rows(lay, default="central")
    point_values = [central[:, c] for c in range(lay.n_columns)]
    n_models, n_kept = facts.n_models, min(keep_draws, n_draws)
    totals = {m: np.empty((n_draws, n_models)) for m in _METHODS}
    components = np.empty((n_kept, n_models, 4))
    point_components = np.empty((1, n_models, 4))
    point = {m: np.empty(n_models) for m in _METHODS}
    for m in range(n_models):
        drawn = row_costs(values, lay.column, arrays, m, interconnect_fraction)
        for j in range(4):
            components[:, m, j] = drawn[j][:n_kept]
        for k, method in enumerate(_METHODS):
            totals[method][:, m] = drawn[4 + k]
        at_central = row_costs(point_values, lay.column, arrays, m, interconnect_fraction)
        point_components[0, m] = [v[0] for v in at_central[:4]]
        point["cloud"][m], point["acquisition"][m] = at_central[5][0], at_central[6][0]
    point["amortized"] = point_components.sum(axis=-1)[0]  # as CostArrays.total: the sum of the components
    return LeanSimulation(totals, components, point)
