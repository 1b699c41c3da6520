"""Leave-future-out backtest: fit through year Y, predictive percentile of the maximum of Y + 1."""

import numpy as np
import pytest

from uncertain_cost.growth import simulate_growth_data
from uncertain_cost.growth.backtest import BACKTEST_COLUMNS, _through, backtest


def test_training_set_stops_at_the_end_of_the_year():
    data, _ = simulate_growth_data(seed=2, n_models=30, n_draws=50)
    train = _through(data, 2019)
    assert train.year.max() < 2020 and train.n_models == int(np.sum(data.year < 2020))
    assert train.model == tuple(m for m, y in zip(data.model, data.year, strict=True) if y < 2020)
    with pytest.raises(ValueError, match="no method 'rent'"):
        backtest(data, method="rent")


@pytest.mark.slow  # four short PyMC fits
def test_backtest_rows_on_simulated_data():
    data, _ = simulate_growth_data(seed=2, n_models=40, n_draws=300)
    rows = backtest(data, seed=1, draws=200, tune=200, chains=2)
    assert [r["year"] for r in rows] == [2020, 2021, 2022, 2023]
    for r in rows:
        assert tuple(r) == BACKTEST_COLUMNS
        assert 0.0 <= r["predictive_percentile"] <= 1.0
        assert r["predictive_p5_usd"] < r["predictive_p50_usd"] < r["predictive_p95_usd"]
        assert r["n_fitted"] >= 3 and r["models_in_year"] >= 1
    # data from the model itself: the realised maxima are not all in the predictive's far tails
    assert sum(0.05 < r["predictive_percentile"] < 0.95 for r in rows) >= 2
    assert backtest(data, seed=1, draws=200, tune=200, chains=2) == rows  # reproducible
