"""Prior checks: prior predictive lines and costs, the figure, and the prior-scale sensitivity refits."""

import numpy as np
import pytest

from uncertain_cost.growth import GrowthPriors, simulate_growth_data
from uncertain_cost.growth.priors import (
    PRIOR_SENSITIVITY_COLUMNS,
    SINGLE_PRIOR_SCALES,
    plot_prior_predictive,
    prior_predictive,
    prior_sensitivity,
)
from uncertain_cost.growth.settings import GrowthSettings


def test_prior_predictive_follows_the_priors():
    data, _ = simulate_growth_data(seed=4, n_models=30, n_draws=50)
    priors = GrowthPriors(slope_sd=0.5, intercept_sd=1.0)
    pp = prior_predictive(data, "amortized", priors, n=20000, seed=1)
    costed = data.costed("amortized")
    assert pp["lines"].shape == (20000, 40) and pp["model_cost"].shape == (20000, int(costed.sum()))
    assert np.std(pp["slope"]) == pytest.approx(0.5, rel=0.03) and abs(np.mean(pp["slope"])) < 0.02
    # the line at the reference year is the intercept: centred on the mean observed cost with sd 1 dex
    at_ref = pp["lines"][:, 0] - pp["slope"] * (pp["years"][0] - pp["year_ref"])
    assert np.mean(at_ref) == pytest.approx(np.mean(pp["observed"]), abs=0.03)
    assert np.std(at_ref) == pytest.approx(1.0, rel=0.03)
    # costs scatter around the line: wider than the lines alone
    assert np.std(pp["model_cost"][:, 0]) > np.std(pp["lines"][:, 0])
    assert prior_predictive(data, "amortized", priors, n=50, seed=1)["slope"].tolist() == \
        prior_predictive(data, "amortized", priors, n=50, seed=1)["slope"].tolist()
    with pytest.raises(ValueError, match="no method 'rent'"):
        prior_predictive(data, "rent")


def test_prior_predictive_figure_has_one_panel_per_method():
    data, _ = simulate_growth_data(seed=4, n_models=30, n_draws=50)
    fig = plot_prior_predictive(data, seed=2)
    assert len(fig.axes) == len(data.methods)
    assert all(ax.get_yscale() == "log" for ax in fig.axes)
    assert "median (geometric mean)" in " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts())


def test_settings_defaults_and_errors():
    s = GrowthSettings()
    assert s.backtest is True and s.prior_sensitivity is False
    assert GrowthSettings.from_config({"prior_sensitivity": True}, {}).prior_sensitivity is True
    with pytest.raises(ValueError):
        prior_sensitivity(simulate_growth_data(seed=4, n_models=20, n_draws=50)[0], seed=1, names=["nope"])
    with pytest.raises(ValueError, match="fit"):
        prior_sensitivity(simulate_growth_data(seed=4, n_models=20, n_draws=50)[0], seed=1, fit="both")


@pytest.mark.slow  # nine short PyMC fits
def test_prior_sensitivity_rows():
    data, _ = simulate_growth_data(seed=4, n_models=30, n_draws=300)
    rows = prior_sensitivity(data, seed=3, draws=200, tune=200, chains=2)
    assert len(rows) == 1 + 2 * len(SINGLE_PRIOR_SCALES)
    assert all(tuple(r) == PRIOR_SENSITIVITY_COLUMNS for r in rows)
    assert rows[0]["prior"] == "baseline" and rows[0]["scale_factor"] == 1.0
    cell = {(r["prior"], r["scale_factor"]): r for r in rows}
    assert cell[("slope_sd", 2.0)]["value"] == 2.0 and cell[("nu_beta", 2.0)]["value"] == 0.05
    for r in rows:
        assert r["growth_lo"] < r["growth_median"] < r["growth_hi"]
