"""Synthetic growth data with a known trend and a known measurement-error structure.

For recovery tests and benchmarks. The Monte Carlo error of every model is the sum of

* a shared level shift per draw (every model, every method: depreciation rate, overhead);
* a group shift per draw for the models of one group (one chip's price, e.g. TPUs);
* a per-model error shared by the methods (chip-hours: quantity, training time, compute);
* a per-(method, model) error.

The point estimate is the truth plus one realisation of that error; the draws spread around
the point estimate with the same structure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from uncertain_cost.growth.data import GrowthData

__all__ = ["SimulatedTruth", "simulate_growth_data"]


@dataclass(frozen=True, eq=False)
class SimulatedTruth:
    """The true parameters behind simulated data.

    Attributes
    ----------
    slope : dict of str to float
        OOM per year, per method.
    intercept : dict of str to float
        log10 USD at ``year_ref``.
    year_ref : float
    log10_cost : dict of str to ndarray
        True log10 cost of every model, per method (NaN where not costed).
    """

    slope: dict
    intercept: dict
    year_ref: float
    log10_cost: dict


def simulate_growth_data(
    *,
    seed: int,
    n_models: int = 60,
    methods: Sequence[str] = ("amortized", "cloud", "acquisition"),
    slope: float | Sequence[float] = (0.38, 0.41, 0.40),
    intercept: float | Sequence[float] = (6.3, 6.6, 7.6),
    year_range: tuple[float, float] = (2015.8, 2024.0),
    year_ref: float = 2020.0,
    scatter: float = 0.45,
    scatter_shared_fraction: float = 0.8,
    nu: float = 5.0,
    coverage: float = 0.8,
    n_draws: int = 2000,
    shared_sd: float = 0.15,
    group_sd: float = 0.3,
    group_fraction: float = 0.25,
    model_sd: float = 0.25,
    method_sd: float = 0.12,
) -> tuple[GrowthData, SimulatedTruth]:
    """Simulate frontier models' costs around a known trend, with correlated MC draws.

    Parameters
    ----------
    seed : int
    n_models : int
    methods : sequence of str
    slope, intercept : float or sequence of float
        Per method (OOM/yr; log10 USD at ``year_ref``).
    year_range : (float, float)
        Publication years are uniform in this range.
    year_ref : float
    scatter : float
        Sd (dex) of the true costs around the trend (Student-t with ``nu``).
    scatter_shared_fraction : float
        Share of the scatter variance common to all methods of a model.
    nu : float
    coverage : float
        Probability that a method can cost a model.
    n_draws : int
    shared_sd, group_sd, model_sd, method_sd : float
        Sd (dex) of the four measurement-error terms (module docstring).
    group_fraction : float
        Share of models in the group with a common group shift.

    Returns
    -------
    (GrowthData, SimulatedTruth)
    """
    rng = np.random.default_rng(seed)
    methods = tuple(methods)
    n_m = len(methods)
    slopes = np.broadcast_to(np.asarray(slope, dtype=float), (n_m,))
    intercepts = np.broadcast_to(np.asarray(intercept, dtype=float), (n_m,))
    year = np.sort(rng.uniform(*year_range, n_models))
    group = rng.random(n_models) < group_fraction
    costed = rng.random((n_m, n_models)) < coverage
    costed[:, :3] = True  # every method costs at least three models
    rho = scatter_shared_fraction
    u = rng.standard_t(nu, n_models)
    v = rng.standard_t(nu, (n_m, n_models))
    t_sd = np.sqrt(nu / (nu - 2.0)) if nu > 2 else 1.0
    truth = (intercepts[:, None] + slopes[:, None] * (year - year_ref)[None, :]
             + scatter / t_sd * (np.sqrt(rho) * u[None, :] + np.sqrt(1.0 - rho) * v))

    def errors(n: int) -> np.ndarray:
        return (rng.normal(0.0, shared_sd, (n, 1, 1))
                + rng.normal(0.0, group_sd, (n, 1, 1)) * group[None, None, :]
                + rng.normal(0.0, model_sd, (n, 1, n_models))
                + rng.normal(0.0, method_sd, (n, n_m, n_models)))

    point = truth + errors(1)[0]
    draws = point[None] + errors(n_draws)
    draws = np.where(costed[None], draws, np.nan)
    point = np.where(costed, point, np.nan)
    data = GrowthData(
        year=year,
        log10_cost_draws={m: draws[:, j, :] for j, m in enumerate(methods)},
        log10_cost_point={m: point[j] for j, m in enumerate(methods)},
        model=tuple(f"sim_{i:03d}" for i in range(n_models)),
    )
    true = SimulatedTruth(
        slope=dict(zip(methods, map(float, slopes), strict=True)),
        intercept=dict(zip(methods, map(float, intercepts), strict=True)),
        year_ref=year_ref,
        log10_cost={m: np.where(costed[j], truth[j], np.nan) for j, m in enumerate(methods)},
    )
    return data, true
