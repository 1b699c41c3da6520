"""Posterior of the number of frontier training runs per calendar year: a Poisson count with a log-linear trend.

The forecast's maximum is taken over ``k`` runs of a year, and ``k`` is not known: the
number of frontier models published per calendar year ``Y`` is modelled as
``k_Y ~ Poisson(exp(a + b (Y - year_ref)))``, fitted to the observed counts of the complete
calendar years with the priors of `RunsPriors`. The two-parameter posterior is computed on a
grid (exact up to the grid, no sampler): a 121 x 121 grid spanning +-7 posterior sd of the
Laplace approximation along its principal axes, posterior mass per cell, draws uniform within
the chosen cell. `RunsPosterior.sample` gives the per-draw rates of the forecast years.

What is counted: frontier models, i.e. models that entered the running top 10 by training
compute when published (costed or not: the forecast's maximum is over every frontier run).
The top-n rule shapes the count: a model enters when it beats the tenth largest run so far, so
the count reflects how fast compute grows against its spread among notable models, not how
many models are trained, and its log-linear trend is a property of that rule on the observed
years (docs/growth.md, section 4b).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["RunsPriors", "RunsPosterior", "fit_runs_per_year", "calendar_counts"]


@dataclass(frozen=True)
class RunsPriors:
    """Priors of the runs-per-year trend (natural log of the Poisson rate).

    Parameters
    ----------
    log_rate_mean, log_rate_sd : float
        Normal prior of ``a``, the log rate at the reference year. Default N(log 8, 1): the
        frontier is a *running top 10* by training compute (method.md section 1), so a model
        enters it when it beats the tenth largest run so far; of the order of ten entries
        a year is what such a rule gives when compute grows steadily, and one sd of a factor
        2.7 either way (90%: 1.5 to 41 runs a year) leaves the observed counts to decide.
        Not taken from the counts themselves.
    trend_sd : float
        Normal sd of ``b``, the change of the log rate per year, centred at 0 (no trend).
        Default 0.3: a rate changing by more than a third a year, sustained, would be faster
        than the growth of the whole population of notable models (a few tens of percent a
        year in Epoch's database), of which the frontier entries are a part.
    """

    log_rate_mean: float = math.log(8.0)
    log_rate_sd: float = 1.0
    trend_sd: float = 0.3

    def __post_init__(self):
        for name in ("log_rate_mean", "log_rate_sd", "trend_sd"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"RunsPriors.{name}: expected a finite number, got {value!r}")
        if not self.log_rate_sd > 0 or not self.trend_sd > 0:
            raise ValueError("RunsPriors: log_rate_sd and trend_sd must be positive")


def calendar_counts(years) -> tuple[np.ndarray, np.ndarray]:
    """Frontier models per complete calendar year.

    Parameters
    ----------
    years : array_like
        Decimal publication years of all frontier models.

    Returns
    -------
    calendar_years, counts : ndarray of int
        From the first complete year (the year after the first publication unless that falls
        on 1 January) to the year of the last publication; both empty when there is none.
    """
    y = np.asarray(years, dtype=np.float64)
    y = y[np.isfinite(y)]
    if y.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    first, last = math.ceil(y.min()), math.floor(y.max())
    if last < first:
        return np.array([last], np.int64), np.array([y.size], np.int64)
    cal = np.arange(first, last + 1, dtype=np.int64)
    return cal, np.array([int(np.sum(np.floor(y) == c)) for c in cal], np.int64)


@dataclass(frozen=True, eq=False)
class RunsPosterior:
    """Grid posterior of the Poisson trend of frontier runs per year.

    Attributes
    ----------
    calendar_years, counts : ndarray
        The observed complete calendar years and their frontier-model counts.
    year_ref : float
        Reference year of ``a`` (mean of ``calendar_years``).
    priors : RunsPriors
    grid_a, grid_b : ndarray
        Cell centres (flattened) of the grid over ``(a, b)``.
    cell : ndarray
        (2, 2) matrix mapping a unit square offset in grid coordinates to ``(a, b)``.
    weights : ndarray
        Posterior mass of each cell (sums to 1).
    """

    calendar_years: np.ndarray
    counts: np.ndarray
    year_ref: float
    priors: RunsPriors
    grid_a: np.ndarray
    grid_b: np.ndarray
    cell: np.ndarray
    weights: np.ndarray

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` posterior draws of ``(a, b)``.

        Parameters
        ----------
        n : int
        rng : numpy.random.Generator

        Returns
        -------
        a, b : ndarray, shape (n,)
        """
        idx = rng.choice(self.weights.size, size=int(n), p=self.weights)
        offset = rng.random((int(n), 2)) - 0.5
        shift = offset @ self.cell.T
        return self.grid_a[idx] + shift[:, 0], self.grid_b[idx] + shift[:, 1]

    def rate(self, years, a, b) -> np.ndarray:
        """Poisson rate of each draw in each calendar year, shape (len(a), len(years))."""
        x = np.asarray(years, dtype=np.float64) - self.year_ref
        return np.exp(np.asarray(a)[:, None] + np.asarray(b)[:, None] * x[None, :])

    def moments(self) -> dict:
        """Posterior mean and sd of ``a`` and ``b`` (from the grid, cell-centre approximation)."""
        w = self.weights
        ma, mb = float(w @ self.grid_a), float(w @ self.grid_b)
        return {"a_mean": ma, "a_sd": float(np.sqrt(w @ (self.grid_a - ma) ** 2)),
                "b_mean": mb, "b_sd": float(np.sqrt(w @ (self.grid_b - mb) ** 2))}


def _log_post(a, b, x, counts, priors: RunsPriors):
    eta = a[..., None] + b[..., None] * x
    loglik = np.sum(counts * eta - np.exp(eta), axis=-1)
    return (loglik - 0.5 * ((a - priors.log_rate_mean) / priors.log_rate_sd) ** 2
            - 0.5 * (b / priors.trend_sd) ** 2)


def fit_runs_per_year(years, priors: RunsPriors | None = None, *, grid: int = 121,
                      width: float = 7.0) -> RunsPosterior:
    """Fit the Poisson log-linear trend of frontier runs per calendar year.

    Parameters
    ----------
    years : array_like
        Decimal publication years of all frontier models (`calendar_counts`).
    priors : RunsPriors, optional
    grid : int, default 121
        Grid points per axis.
    width : float, default 7.0
        Half-width of the grid in Laplace posterior sd along each principal axis.

    Returns
    -------
    RunsPosterior

    Raises
    ------
    ValueError
        With no finite publication year.
    """
    priors = RunsPriors() if priors is None else priors
    cal, counts = calendar_counts(years)
    if cal.size == 0:
        raise ValueError("runs per year: no finite publication year to count")
    year_ref = float(cal.mean())
    x = (cal - year_ref).astype(np.float64)
    c = counts.astype(np.float64)
    # MAP by Newton (the log posterior is strictly concave)
    theta = np.array([math.log(max(c.mean(), 0.5)), 0.0])
    prec_prior = np.diag([priors.log_rate_sd**-2, priors.trend_sd**-2])
    for _ in range(100):
        mu = np.exp(theta[0] + theta[1] * x)
        grad = np.array([np.sum(c - mu), np.sum((c - mu) * x)]) - prec_prior @ (
            theta - np.array([priors.log_rate_mean, 0.0]))
        hess = -np.array([[mu.sum(), (mu * x).sum()], [(mu * x).sum(), (mu * x * x).sum()]]) - prec_prior
        step = np.linalg.solve(hess, grad)
        theta = theta - step
        if np.max(np.abs(step)) < 1e-12:
            break
    evals, evecs = np.linalg.eigh(np.linalg.inv(-hess))
    axes = evecs * np.sqrt(evals)[None, :]  # columns: principal sd directions
    ticks = np.linspace(-width, width, grid)
    g1, g2 = np.meshgrid(ticks, ticks, indexing="ij")
    pts = theta[:, None] + axes @ np.vstack([g1.ravel(), g2.ravel()])
    lp = _log_post(pts[0], pts[1], x, c, priors)
    w = np.exp(lp - lp.max())
    w /= w.sum()
    cell = axes * (ticks[1] - ticks[0])
    return RunsPosterior(calendar_years=cal, counts=counts, year_ref=year_ref, priors=priors,
                         grid_a=pts[0], grid_b=pts[1], cell=cell, weights=w)
