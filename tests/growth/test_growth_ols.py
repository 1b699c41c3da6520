"""The paper's OLS trend: hand-computed numbers, scipy.stats.linregress, input errors."""

import math

import numpy as np
import pytest
from scipy import stats

from uncertain_cost.errors import ConfigError, DataError
from uncertain_cost.growth import (
    GROWTH_COLUMNS,
    GrowthData,
    OLSResult,
    doubling_months,
    fit_ols,
    fit_ols_methods,
    growth_rows,
)


def test_hand_computed_example():
    # x - mean = (-3, -1, 1, 3), Sxx = 20; y = (6, 7, 7.5, 9), Sxy = 9.5 -> slope 0.475
    # residuals (0.05, 0.1, -0.35, 0.2): SSE 0.175; SST 4.6875 -> R2 = 0.962667
    # se = sqrt(0.175 / 2) / sqrt(20) = 0.0661438; t(0.95, 2) = 2.919986
    r = fit_ols([2016.0, 2018.0, 2020.0, 2022.0], 10.0 ** np.array([6.0, 7.0, 7.5, 9.0]), level=0.9)
    assert isinstance(r, OLSResult)
    assert r.n == 4
    assert r.slope == pytest.approx(0.475, abs=1e-12)
    assert r.intercept == pytest.approx(7.375 - 0.475 * 2019.0, abs=1e-9)
    assert r.r2 == pytest.approx(1 - 0.175 / 4.6875, abs=1e-12)
    assert r.slope_se == pytest.approx(0.0661438, abs=1e-7)
    assert r.slope_lo == pytest.approx(0.475 - 2.919986 * 0.0661438, abs=1e-6)
    assert r.slope_hi == pytest.approx(0.475 + 2.919986 * 0.0661438, abs=1e-6)
    assert r.growth == pytest.approx(10**0.475)
    assert r.growth_lo == pytest.approx(10**r.slope_lo)
    assert r.growth_hi == pytest.approx(10**r.slope_hi)
    assert r.doubling_months == pytest.approx(12 * math.log10(2) / 0.475)
    assert r.level == 0.9
    assert r.predict_log10(2019.0) == pytest.approx(7.375)


@pytest.mark.parametrize("level", [0.9, 0.95])
def test_matches_scipy_linregress(level):
    rng = np.random.default_rng(3)
    year = rng.uniform(2016, 2024, 45)
    log_cost = 6.5 + 0.389 * (year - 2020) + rng.normal(0, 0.5, 45)
    r = fit_ols(year, 10.0**log_cost, level=level)
    ref = stats.linregress(year, log_cost)
    assert r.slope == pytest.approx(ref.slope, rel=1e-10)
    assert r.intercept == pytest.approx(ref.intercept, rel=1e-10)
    assert r.r2 == pytest.approx(ref.rvalue**2, rel=1e-10)
    assert r.slope_se == pytest.approx(ref.stderr, rel=1e-10)
    t = stats.t.ppf(0.5 + level / 2, 43)
    assert r.slope_lo == pytest.approx(ref.slope - t * ref.stderr, rel=1e-10)
    assert r.slope_hi == pytest.approx(ref.slope + t * ref.stderr, rel=1e-10)


def test_paper_headline_arithmetic():
    # v1 headline: 0.389 OOM/yr is 2.45x per year and a doubling time of about 9 months
    assert 10**0.389 == pytest.approx(2.45, abs=0.005)
    assert doubling_months(0.389) == pytest.approx(9.29, abs=0.01)
    assert doubling_months(0.0) == math.inf
    assert doubling_months(-0.1) == math.inf


def test_nan_costs_are_left_out():
    year = [2016.0, 2017.0, 2018.0, 2019.0, 2020.0]
    cost = [1e6, np.nan, 1e7, 3e7, 1e8]
    r = fit_ols(year, cost)
    ref = fit_ols([2016.0, 2018.0, 2019.0, 2020.0], [1e6, 1e7, 3e7, 1e8])
    assert r.n == 4
    assert r.slope == ref.slope


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, "x"])
def test_bad_level_names_the_key(level):
    with pytest.raises(ConfigError) as err:
        fit_ols([2016, 2017, 2018], [1e6, 2e6, 3e6], level=level)
    assert err.value.key == "growth.level"


def test_bad_data():
    with pytest.raises(DataError, match="<= 0"):
        fit_ols([2016, 2017, 2018], [1e6, 0.0, 3e6])
    with pytest.raises(DataError, match="at least 3"):
        fit_ols([2016, 2017, 2018], [1e6, np.nan, 3e6])
    with pytest.raises(DataError, match="same publication year"):
        fit_ols([2016, 2016, 2016], [1e6, 2e6, 3e6])
    with pytest.raises(DataError, match="equal length"):
        fit_ols([2016, 2017], [1e6, 2e6, 3e6])


def test_growth_rows_from_point_estimates():
    year = np.array([2016.0, 2017.0, 2018.5, 2019.0, 2020.0, 2021.0])
    point = np.array([6.0, 6.3, 7.1, 7.0, 7.6, 8.2])
    draws = point[None, :] + np.random.default_rng(0).normal(0, 0.1, (50, 6))
    cloud_point = point + 0.3
    cloud_point[1] = np.nan
    cloud_draws = draws + 0.3
    cloud_draws[:, 1] = np.nan
    data = GrowthData(year, {"amortized": draws, "cloud": cloud_draws},
                      {"amortized": point, "cloud": cloud_point})
    fits = fit_ols_methods(data, level=0.9)
    assert list(fits) == ["amortized", "cloud"]
    assert fits["amortized"].n == 6 and fits["cloud"].n == 5
    assert fits["amortized"].slope == pytest.approx(stats.linregress(year, point).slope)
    rows = growth_rows(fits)
    assert [r["method"] for r in rows] == ["amortized", "cloud"]
    for row in rows:
        assert tuple(row) == GROWTH_COLUMNS
        assert row["estimator"] == "ols"
        assert row["lo"] < row["growth_per_year"] < row["hi"]
        assert row["r_hat_max"] is None and row["divergences"] is None
