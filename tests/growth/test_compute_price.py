"""growth_decomposition: cost trend = compute trend x price-of-compute trend, draw by draw."""

import numpy as np
import pytest

from uncertain_cost.growth.compute_price import growth_decomposition

from factories import GPT4, make_facts


def _facts(years, compute):
    rows = [dict(GPT4, name=f"m{i}", year=y, compute=c) for i, (y, c) in enumerate(zip(years, compute, strict=True))]
    return make_facts(*rows)


def test_exact_trends_are_recovered_and_multiply():
    years = np.linspace(2016, 2024, 12)
    compute = 1e21 * 10 ** (0.5 * (years - 2016))
    cost = compute * 1e-17 * 10 ** (-0.1 * (years - 2016))  # price of a FLOP falls 0.1 OOM/yr
    facts = _facts(years, compute)
    rng = np.random.default_rng(0)
    draws = cost[None, :] * 10 ** (0.01 * rng.standard_normal((500, len(years))))
    rows = {r["component"]: r for r in growth_decomposition({"amortized": draws}, facts, n_draws=500, seed=3)}
    assert rows["compute"]["slope_oom_per_year"] == pytest.approx(0.5, abs=1e-9)
    assert rows["price_of_compute"]["slope_oom_per_year"] == pytest.approx(-0.1, abs=0.01)
    assert rows["cost"]["slope_oom_per_year"] == pytest.approx(0.4, abs=0.01)
    assert rows["compute_x_price"]["growth_per_year"] == pytest.approx(rows["cost"]["growth_per_year"], rel=1e-9)
    product = rows["compute"]["growth_per_year"] * rows["price_of_compute"]["growth_per_year"]
    assert product == pytest.approx(rows["cost"]["growth_per_year"], rel=0.01)
    assert rows["cost"]["lo"] < rows["cost"]["growth_per_year"] < rows["cost"]["hi"]
    assert rows["cost"]["n_models"] == 12 and rows["cost"]["n_draws"] == 500


def test_models_without_a_cost_in_some_draw_are_left_out():
    years = np.array([2018.0, 2019.0, 2020.0, 2021.0])
    facts = _facts(years, np.array([1e22, 1e23, 1e24, 1e25]))
    draws = np.ones((10, 4)) * np.array([1e5, 1e6, 1e7, np.nan])
    rows = growth_decomposition({"cloud": draws}, facts, n_draws=10)
    assert {r["n_models"] for r in rows} == {3}
    assert growth_decomposition({"cloud": draws[:, :2]}, _facts(years[:2], np.array([1e22, 1e23]))) == []
