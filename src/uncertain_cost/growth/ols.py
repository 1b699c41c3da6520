"""The paper's trend: ordinary least squares of log10(cost) on decimal publication year.

Cottier et al. (2024), arXiv:2405.21015, section 3: growth = 10**slope per year with a
Student-t interval on the slope (n - 2 degrees of freedom), doubling time in months.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from uncertain_cost.errors import ConfigError, DataError

__all__ = ["OLSResult", "fit_ols", "doubling_months"]

LOG10_2 = math.log10(2.0)


def doubling_months(slope_oom_per_year: float) -> float:
    """Doubling time in months of a trend of ``slope`` orders of magnitude per year.

    Parameters
    ----------
    slope_oom_per_year : float

    Returns
    -------
    float
        ``12 * log10(2) / slope``; ``inf`` when the slope is not positive (no doubling).
    """
    if not slope_oom_per_year > 0:
        return math.inf
    return 12.0 * LOG10_2 / slope_oom_per_year


def check_level(level: float, key: str = "growth.level") -> float:
    """Return ``level`` as a float in (0, 1) or raise `ConfigError` naming ``key``."""
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise ConfigError(key, f"expected a number in (0, 1), got {level!r}") from None
    if not 0.0 < value < 1.0:
        raise ConfigError(key, f"expected a number in (0, 1), got {level!r}")
    return value


@dataclass(frozen=True)
class OLSResult:
    """OLS fit of log10(cost) on decimal year.

    Attributes
    ----------
    n : int
        Number of models in the fit.
    slope, slope_lo, slope_hi : float
        Slope (orders of magnitude per year) and its t-interval at ``level``.
    intercept : float
        log10 cost at year 0 (``log10(cost) = intercept + slope * year``).
    growth, growth_lo, growth_hi : float
        ``10**slope`` (x per year) and its interval.
    doubling_months : float
        ``12 * log10(2) / slope``.
    r2 : float
        Coefficient of determination.
    level : float
        Central level of the interval.
    slope_se : float
        Standard error of the slope.
    residual_sd : float
        Residual standard deviation (dex), ``n - 2`` degrees of freedom.
    year_mean : float
        Mean publication year of the fitted models.
    """

    n: int
    slope: float
    slope_lo: float
    slope_hi: float
    intercept: float
    growth: float
    growth_lo: float
    growth_hi: float
    doubling_months: float
    r2: float
    level: float
    slope_se: float = math.nan
    residual_sd: float = math.nan
    year_mean: float = math.nan

    def predict_log10(self, year) -> np.ndarray:
        """Regression line (log10 USD) at decimal ``year``."""
        return self.intercept + self.slope * np.asarray(year, dtype=np.float64)


def fit_ols(year, cost_usd, level: float = 0.9) -> OLSResult:
    """Fit the paper's trend: OLS of log10(cost) on decimal year, t-interval on the slope.

    Models whose cost is NaN (a method that cannot cost them) are left out.

    Parameters
    ----------
    year : array_like, shape (n,)
        Decimal publication year.
    cost_usd : array_like, shape (n,)
        Cost in (constant) USD; NaN to leave a model out.
    level : float, default 0.9
        Central level of the slope interval (the paper: 0.95 in v1, 0.9 in v2).

    Returns
    -------
    OLSResult

    Raises
    ------
    ConfigError
        If ``level`` is not in (0, 1).
    DataError
        If shapes differ, a cost is not positive, or fewer than 3 models remain or all
        share one year.

    References
    ----------
    Cottier, Rahman, Fattorini, Maslej, Besiroglu, Owen (2024), "The rising costs of training
    frontier AI models", arXiv:2405.21015.
    """
    from scipy import special  # Student-t quantile without importing scipy.stats (~0.6 s)

    level = check_level(level)
    x = np.asarray(year, dtype=np.float64)
    c = np.asarray(cost_usd, dtype=np.float64)
    if x.shape != c.shape or x.ndim != 1:
        raise DataError(f"OLS trend: year {x.shape} and cost {c.shape} must be 1-d of equal length")
    keep = np.isfinite(x) & np.isfinite(c)
    if np.any(c[keep] <= 0):
        raise DataError("OLS trend: a cost is <= 0 USD")
    x, y = x[keep], np.log10(c[keep])
    n = int(x.size)
    if n < 3:
        raise DataError(f"OLS trend: needs at least 3 costed models, got {n}")
    if np.ptp(x) == 0:
        raise DataError("OLS trend: all models have the same publication year")
    xm = x.mean()
    dx = x - xm
    sxx = float(dx @ dx)
    slope = float(dx @ (y - y.mean()) / sxx)
    intercept = float(y.mean() - slope * xm)
    resid = y - (intercept + slope * x)
    sse = float(resid @ resid)
    sst = float(((y - y.mean()) ** 2).sum())
    dof = n - 2
    residual_sd = math.sqrt(sse / dof)
    slope_se = residual_sd / math.sqrt(sxx)
    t = float(special.stdtrit(dof, 0.5 + level / 2.0))  # = scipy.stats.t.ppf, bit for bit
    lo, hi = slope - t * slope_se, slope + t * slope_se
    return OLSResult(
        n=n,
        slope=slope,
        slope_lo=lo,
        slope_hi=hi,
        intercept=intercept,
        growth=10.0**slope,
        growth_lo=10.0**lo,
        growth_hi=10.0**hi,
        doubling_months=doubling_months(slope),
        r2=1.0 - sse / sst if sst > 0 else math.nan,
        level=level,
        slope_se=slope_se,
        residual_sd=residual_sd,
        year_mean=float(xm),
    )
