"""A quick preview (``uc.run(quick=True)``, ``run --quick``): costs, the paper's OLS growth and an OLS forecast."""

import math

import numpy as np
import pytest

import uncertain_cost as uc
from uncertain_cost.api import QUICK_OVERRIDES
from uncertain_cost.cli import build_parser
from uncertain_cost.growth.ols import fit_ols


@pytest.fixture(scope="module")
def quick():
    return uc.run(quick=True, draws=2000, seed=5)


def test_quick_keeps_the_costs_and_skips_the_slow_stages(quick):
    assert set(quick.table_names()) == {"summary", "skipped", "growth", "forecast", "devcost"}
    growth, _ = quick.records("growth")
    assert {r["estimator"] for r in growth} == {"ols"}
    notes = " ".join(quick.notes)
    assert "run --quick" in notes and "Bayesian fits" in notes and "no tornado, Sobol" in notes
    summary = quick.summary()
    gpt4 = summary[(summary.model == "GPT-4") & (summary.method == "amortized")].iloc[0]
    assert round(gpt4.point_usd / 1e6, 2) == 40.59  # the paper's worked example, unchanged


def test_the_quick_forecast_follows_the_ols_line(quick):
    rows, _ = quick.records("forecast")
    assert rows and {r["forecast_model"] for r in rows} == {"ols_normal"}
    summary, _ = quick.records("summary")
    amortized = [r for r in summary if r["method"] == "amortized"]
    ols = fit_ols([r["publication_year"] for r in amortized], [r["point_usd"] for r in amortized])
    for row in (r for r in rows if r["method"] == "amortized"):
        expected = ols.predict_log10(np.array([row["year"] + 0.5]))[0]
        # the median of the OLS line's predictive draws (4,000 draws: Monte Carlo error well under 0.05 dex)
        assert math.log10(row["regression_mean_usd"]) == pytest.approx(expected, abs=0.05)
        assert row["regression_mean_lo"] < row["regression_mean_usd"] < row["regression_mean_hi"]
    p = [r["prob_gt_1e9"] for r in rows if r["method"] == "amortized"]
    assert p == sorted(p) and 0.0 <= p[0] < p[-1] <= 1.0  # the costliest run grows year by year


def test_quick_is_two_config_keys_and_a_cli_flag():
    assert QUICK_OVERRIDES == {"growth.bayes": False, "sensitivity.enabled": False}
    args = build_parser().parse_args(["run", "config.toml", "--quick"])
    assert args.quick is True
    with pytest.raises(uc.ConfigError, match="quick: expected True or False"):
        uc.run(quick="yes")
