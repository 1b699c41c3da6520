"""The utilization model: disclosed runs, inconsistent disclosures, the fit and its shipped figures."""

import math
from datetime import date

import numpy as np
import pytest

from uncertain_cost.data import read_epoch_snapshot
from uncertain_cost.data.utilization import (
    PLAUSIBLE_RANGE,
    DisclosedRun,
    disclosed_runs,
    fit_utilization,
    hardware_family,
    load_prior,
    predictive_beta,
    prior_toml,
)

from epoch_paths import FIXTURES, snapshot


def test_implied_utilization_and_inconsistent_disclosures_on_the_mini_snapshot():
    tables, _ = read_epoch_snapshot(FIXTURES / "epoch-mini-2024")
    runs = {r.name: r for r in disclosed_runs(tables, min_compute=1e22)}
    chips = {c.name: c for c in tables.chips}
    zeta = runs["Zeta"]
    peak = chips[zeta.chip].tensor_fp16_flops
    assert zeta.implied == pytest.approx(2e24 / (peak * 4000 * 720 * 3600), rel=1e-12)
    assert zeta.ok and zeta.value == zeta.implied and zeta.family == "H100"
    assert zeta.stated == pytest.approx(0.38)
    # Alpha: 1e23 FLOP on 256 TPU v3 for 100.5 h implies 8.8, a contradiction (stated 0.40)
    alpha = runs["Alpha"]
    assert alpha.implied > 1 and not alpha.ok
    assert alpha.status.startswith("implied utilization 8.") and "outside [0.05, 1]" in alpha.status
    # a fine-tune whose compute includes its base: kept out too
    assert not runs["Delta"].ok
    assert set(runs) == {"Alpha", "Delta", "Zeta"}  # Beta has no time, Gamma an unknown chip
    assert [r.name for r in disclosed_runs(tables, 1e22, published_after=date(2021, 12, 31))] == ["Zeta"]


def test_hardware_families():
    assert hardware_family("NVIDIA A100 SXM4 80 GB") == "A100"
    assert hardware_family("NVIDIA H800 SXM5") == "H100"
    assert hardware_family("Google TPU v4") == "TPU v4"
    assert hardware_family("NVIDIA Tesla K80") == "other"


def _synthetic(n=90, seed=1, shifts=(0.0, 0.0, 0.0), mean=-0.7, sd=0.5):
    rng = np.random.default_rng(seed)
    families = ("A100", "TPU v4", "V100")
    runs = []
    for i in range(n):
        j = i % len(families)
        u = 1 / (1 + math.exp(-(mean + shifts[j] + sd * rng.standard_normal())))
        runs.append(DisclosedRun(f"m{i}", "Lab", date(2022, 1, 1), families[j], families[j], 1e24, 1e14,
                                 1000.0, 1e24 / (1e14 * 1000 * 3600 * u), math.nan, u, "ok"))
    return runs


def test_fit_recovers_a_known_logit_normal():
    runs = _synthetic()
    y = np.log([r.value / (1 - r.value) for r in runs])
    fit = fit_utilization(runs, grid=24)
    mean, sd = fit.logit_moments()
    assert mean == pytest.approx(y.mean(), abs=0.05) and mean == pytest.approx(-0.7, abs=0.12)
    assert sd == pytest.approx(0.5, abs=0.1)
    lo, med, hi = fit.sigma_quantiles()
    assert lo < 0.5 < hi and med == pytest.approx(y.std(), abs=0.04)
    assert fit.tau_quantiles()[1] < 0.2  # no family effect in the data: pooled


def test_partial_pooling_moves_a_family_toward_its_own_data():
    fit = fit_utilization(_synthetic(shifts=(0.0, 0.0, -1.0)), grid=24)
    assert fit.tau_quantiles()[1] > 0.25
    assert fit.logit_moments("V100")[0] == pytest.approx(-1.7, abs=0.2)
    assert fit.logit_moments("A100")[0] == pytest.approx(-0.7, abs=0.2)
    # a new family sits between, and is wider than a known family
    assert fit.logit_moments("A100")[0] > fit.logit_moments()[0] > fit.logit_moments("V100")[0]
    assert fit.logit_moments()[1] > fit.logit_moments("A100")[1]


def test_beta_matches_the_predictive_mixture_moments():
    fit = fit_utilization(_synthetic(n=30), grid=16)
    u = fit.sample(np.random.default_rng(5), 400_000)
    mean, var = fit.u_moments()
    assert mean == pytest.approx(u.mean(), abs=2e-3)
    assert var == pytest.approx(u.var(), rel=0.02)
    a, b = fit.beta()
    assert a / (a + b) == pytest.approx(mean, rel=1e-12)
    assert a * b / ((a + b) ** 2 * (a + b + 1)) == pytest.approx(var, rel=1e-10)


def test_inconsistent_runs_are_not_fitted_and_too_few_runs_fail():
    runs = _synthetic(n=3)
    bad = DisclosedRun("bad", "Lab", date(2022, 1, 1), "A100", "A100", 1e24, 1e14, 1.0, 1.0, math.nan, 137.0,
                       "implied utilization 137 outside [0.05, 1]")
    assert fit_utilization(runs + [bad], grid=8).n == 3
    with pytest.raises(ValueError, match="at least 3 consistent runs, got 2"):
        fit_utilization(runs[:2] + [bad])


def test_shipped_prior_is_read_by_the_engine():
    doc = load_prior()
    beta = predictive_beta()
    assert beta.alpha == doc["predictive"]["alpha"] and beta.beta == doc["predictive"]["beta"]
    assert doc["meta"]["snapshot"] == "2024-06"
    assert doc["meta"]["plausible_range"] == list(PLAUSIBLE_RANGE)
    # sharper than the paper's prior (90% 0.10-0.65), and inside it
    lo, hi = beta.ppf(0.05), beta.ppf(0.95)
    assert 0.10 < lo < hi < 0.65
    assert math.log10(hi / lo) < 0.6


def test_shipped_prior_is_rederived_from_the_2024_06_snapshot():
    folder = snapshot("2024-06")
    text = prior_toml(folder)
    shipped = (FIXTURES.parents[1] / "priors" / "utilization.toml").read_text()
    assert text == shipped
    doc = load_prior()
    assert doc["meta"]["n_runs"] == 60 and doc["meta"]["n_inconsistent"] == 13
    names = {e["name"] for e in doc["inconsistent"]}
    assert {"FLAN 137B", "Flan-PaLM 540B", "WizardLM-7B", "GShard (dense)"} <= names
