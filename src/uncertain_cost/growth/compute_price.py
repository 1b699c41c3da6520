"""Cost trend = growth of training compute x growth of the price of compute, from the same draws.

For each cost method, over the frontier models it costs: in each of ``n`` joint Monte Carlo
draws, the models are resampled with replacement (a pair bootstrap, seeded) and three
least-squares slopes on decimal publication year are taken on the same resample:
log10(cost), log10(training compute) and log10(cost / compute), the price of a FLOP at the
utilization achieved. OLS is linear in the response, so in every draw the cost slope is
exactly the compute slope plus the price slope (the growth factors multiply); each part's
interval is the spread over draws (measurement and sampling together). Training compute
is taken at its stated value (the engine keeps cost draws, not compute draws).
"""

from __future__ import annotations

import numpy as np

from uncertain_cost.data.facts import ModelFacts

__all__ = ["DECOMPOSITION_COLUMNS", "growth_decomposition"]

DECOMPOSITION_COLUMNS = ("method", "component", "n_models", "n_draws", "growth_per_year", "lo", "hi", "level",
                         "slope_oom_per_year")
COMPONENTS = ("cost", "compute", "price_of_compute", "compute_x_price")


def growth_decomposition(totals: dict, facts: ModelFacts, *, level: float = 0.9, n_draws: int = 4000,
                         seed: int = 0) -> list[dict]:
    """Rows of ``growth_decomposition.csv``: each method's cost trend and its two factors.

    Parameters
    ----------
    totals : mapping of str to ndarray, shape (draws, n_models)
        Per-method cost draws (the simulation's ``totals``).
    facts : ModelFacts
    level : float
        Central interval level.
    n_draws : int
        Draws used (the first ``n_draws``), each with its own bootstrap resample.
    seed : int
        Seed of the resampling.

    Returns
    -------
    list of dict
        Keys :data:`DECOMPOSITION_COLUMNS`; components ``cost``, ``compute``,
        ``price_of_compute`` and ``compute_x_price`` (the per-draw product, equal to
        ``cost`` up to rounding).
    """
    rows = []
    for method, draws in totals.items():
        costs = np.asarray(draws[:n_draws], dtype=np.float64)
        keep = np.flatnonzero(np.asarray(facts.is_frontier) & np.all(np.isfinite(costs) & (costs > 0), axis=0)
                              & (np.asarray(facts.training_compute_flop) > 0))
        if len(keep) < 3:
            continue
        x = np.asarray(facts.publication_year, dtype=np.float64)[keep]
        log_cost = np.log10(costs[:, keep])
        log_compute = np.log10(np.asarray(facts.training_compute_flop, dtype=np.float64)[keep])
        rng = np.random.default_rng([seed, len(rows)])
        pick = rng.integers(0, len(keep), size=(costs.shape[0], len(keep)))
        slopes = {"cost": _slopes(x[pick], np.take_along_axis(log_cost, pick, axis=1)),
                  "compute": _slopes(x[pick], log_compute[pick])}
        slopes["price_of_compute"] = _slopes(x[pick], np.take_along_axis(log_cost, pick, axis=1) - log_compute[pick])
        slopes["compute_x_price"] = slopes["compute"] + slopes["price_of_compute"]
        for component in COMPONENTS:
            s = slopes[component][np.isfinite(slopes[component])]
            lo, mid, hi = np.quantile(s, [(1 - level) / 2, 0.5, (1 + level) / 2])
            rows.append({"method": method, "component": component, "n_models": int(len(keep)),
                         "n_draws": int(len(s)), "growth_per_year": float(10 ** mid), "lo": float(10 ** lo),
                         "hi": float(10 ** hi), "level": level, "slope_oom_per_year": float(mid)})
    return rows


def _slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slope of each row of ``y`` on the same row of ``x`` (NaN when x is constant)."""
    xc = x - x.mean(axis=1, keepdims=True)
    sxx = (xc ** 2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sxx > 0, (xc * (y - y.mean(axis=1, keepdims=True))).sum(axis=1) / sxx, np.nan)
