"""Tests of the full development cost (method.md section 7): parser, staff draws, API."""

import csv
import math

import numpy as np
import pytest
from scipy import stats

from uncertain_cost import devcost
from uncertain_cost.devcost import (
    DEV_COMPONENTS,
    development_cost,
    parse_development,
    plot_devcost,
    staff_cost_at_central,
)
from uncertain_cost.errors import ConfigError, UncertainCostWarning

from epoch_paths import EPOCH_DATA

EPOCH_2024 = EPOCH_DATA / "2024-06"  # UNCERTAIN_COST_EPOCH_DATA overrides the place (tests/epoch_paths.py)
MODELS = ("GPT-3 175B (davinci)", "OPT-175B", "GPT-4", "Gemini 1.0 Ultra")
N = 4000

# Medians of the default inputs, by hand from the 90% intervals in priors/development.toml
SALARY = math.sqrt(139771.24 * 265235.74)
OVERHEAD = math.sqrt(1.25 * 1.4)
EQUITY = math.sqrt(35468.30 * 501746.95)
FTE = math.sqrt(0.05 * 0.8)
EF_MEDIAN = math.sqrt(1.2 * 4.0)

# Final-run amortized components (chips, other server, interconnect, energy), USD: the paper's
# 50th-percentile development-compute components divided by the median experiment factor
# (GPT-4: chips $17.9M, other server $11.8M, interconnect $7.0M, energy $3.5M).
FINAL_RUN = {
    "GPT-3 175B (davinci)": (2.0919e6, 1.4434e6, 0.8293e6, 0.2428e6),
    "OPT-175B": (0.7202e6, 0.4753e6, 0.2804e6, 0.0991e6),
    "GPT-4": (39.111e6, 25.814e6, 15.229e6, 7.652e6),
    "Gemini 1.0 Ultra": (29.051e6, 18.592e6, 11.176e6, 6.403e6),
}


def synthetic_components(n=N, seed=7):
    """Per-draw components with realistic spread (x0.27-3.7, 90%), shared by a model's columns."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, values in FINAL_RUN.items():
        base = np.asarray(values) / EF_MEDIAN
        noise = np.exp(rng.normal(0.0, math.log(3.7) / 1.645, n))
        out[name] = base[None, :] * noise[:, None] * rng.lognormal(0, 0.05, (n, 4))
    return out


@pytest.fixture(scope="module")
def spec():
    return parse_development({})


@pytest.fixture(scope="module")
def components():
    return synthetic_components()


@pytest.fixture(scope="module")
def result(spec, components):
    return development_cost(spec, components, 2024)


@pytest.fixture(scope="module")
def result_no_equity(components):
    return development_cost(parse_development({"equity": False}), components, 2024)


def _row(result, model, component):
    return next(r for r in result.table() if r["model"] == model and r["component"] == component)


# --- defaults ----------------------------------------------------------------------------


def test_defaults_hold_the_papers_teams(spec):
    assert spec.selected == MODELS
    assert [spec[m].contributors for m in MODELS] == [25, 19, 284, 941]
    gemini = {r.name: r.count for r in spec["Gemini 1.0 Ultra"].roles}
    assert gemini == {"lead": 36, "core": 418, "contributor": 483, "program_lead": 2,
                      "technical_lead": 2}
    assert spec["OPT-175B"].project_years.central == pytest.approx(192 / 365.25)
    assert spec["Gemini 1.0 Ultra"].project_years.distribution.quantile(0.05) == pytest.approx(7)
    assert spec["GPT-4"].project_years.central * 12 == pytest.approx(11.965, abs=1e-3)
    assert spec["GPT-4"].experiment_factor.distribution.quantile(0.95) == pytest.approx(4.0)
    rows = spec.describe()
    assert all(row["source"] for row in rows), "every default number carries a source note"
    assert all(spec[m].source_note for m in MODELS)


@pytest.mark.skipif(not EPOCH_2024.is_dir(), reason="Epoch data snapshot not available")
def test_default_model_names_are_epoch_system_names(spec):
    table = EPOCH_2024 / "All ML Systems - full view.csv"
    with table.open(newline="", encoding="utf-8-sig") as f:
        names = {row["System"] for row in csv.DictReader(f)}
    assert set(spec.names) <= names


# --- deterministic parts -----------------------------------------------------------------


def test_staff_at_central_by_hand(spec):
    per_person = SALARY * OVERHEAD + EQUITY
    gpt4 = 284 * per_person * FTE * (9.47 + 14.46) / 2 / 12
    assert staff_cost_at_central(spec["GPT-4"]) == pytest.approx(gpt4, rel=1e-6)
    assert gpt4 == pytest.approx(21.98e6, rel=1e-3)

    opt = 19 * per_person * FTE * 192 / 365.25
    assert staff_cost_at_central(spec["OPT-175B"], deflator=1.0158) == pytest.approx(
        opt * 1.0158, rel=1e-6)

    # GPT-3: normal 90% CI 3.95-12.69 months truncated below at 15 days
    loc, scale = (3.95 + 12.69) / 2, (12.69 - 3.95) / (2 * stats.norm.ppf(0.95))
    months = stats.truncnorm((0.493 - loc) / scale, np.inf, loc=loc, scale=scale).median()
    gpt3 = 25 * per_person * FTE * months / 12
    assert staff_cost_at_central(spec["GPT-3 175B (davinci)"]) == pytest.approx(gpt3, rel=1e-6)

    lead = (math.sqrt(219567.11 * 302877.34) * OVERHEAD + math.sqrt(229656.92 * 868663.77)) \
        * math.sqrt(0.3 * 0.9)
    core = per_person * math.sqrt(0.01 * 0.8)
    contributor = per_person * math.sqrt(0.001 * 0.05)
    senior = (math.sqrt(5e5 * 1e6) * OVERHEAD + math.sqrt(1e6 * 1e7)) * math.sqrt(0.05 * 0.2)
    gemini = (36 * lead + 418 * core + 483 * contributor + 4 * senior) * math.sqrt(7 * 20) / 12
    assert staff_cost_at_central(spec["Gemini 1.0 Ultra"]) == pytest.approx(gemini, rel=1e-6)


def test_constant_inputs_give_exact_costs():
    section = {"salary": 200_000, "overhead": 1.3, "equity": 100_000, "fte": 0.5,
               "experiment_factor": 2.0, "Toy": {"contributors": 10, "project_months": 6}}
    spec = parse_development(section, defaults={})
    comps = {"Toy": np.tile([1e5, 2e5, 3e5, 4e5], (50, 1))}
    res = development_cost(spec, comps, 0)
    staff = 10 * (200_000 * 1.3 + 100_000) * 0.5 * 0.5
    np.testing.assert_allclose(res.costs["Toy"]["staff"], staff)
    np.testing.assert_allclose(res.costs["Toy"]["chips"], 2e5)
    np.testing.assert_allclose(res.costs["Toy"]["total"], staff + 2e6)
    assert res.staff_at_central["Toy"] == pytest.approx(staff)
    off = development_cost(parse_development({**section, "equity": False}, defaults={}), comps, 0)
    np.testing.assert_allclose(off.costs["Toy"]["staff"], 10 * 260_000 * 0.25)


# --- the paper's figures -----------------------------------------------------------------


def test_totals_and_staff_shares_near_the_paper(result):
    total = {m: _row(result, m, "total") for m in MODELS}
    assert 105e6 < total["GPT-4"]["median_usd"] < 145e6  # paper ~$125M
    assert 105e6 < total["Gemini 1.0 Ultra"]["median_usd"] < 155e6  # paper ~$126M
    assert 5.5e6 < total["GPT-3 175B (davinci)"]["median_usd"] < 8.5e6  # paper $6.7-7.1M
    assert 110e6 < total["GPT-4"]["paper_style_usd"] < 140e6
    for m in MODELS:
        share = _row(result, m, "staff")["share_median"]
        assert 0.26 < share < 0.52, (m, share)  # paper 29-49%
    assert _row(result, "GPT-4", "staff")["share_median"] < _row(
        result, "Gemini 1.0 Ultra", "staff")["share_median"]
    # staff medians near the paper's (GPT-4 $35.8M, Gemini $61.4M, before its deflator)
    assert 31e6 < _row(result, "GPT-4", "staff")["median_usd"] < 41e6
    assert 52e6 < _row(result, "Gemini 1.0 Ultra", "staff")["median_usd"] < 70e6


def test_switching_equity_off_lowers_the_staff_share(result, result_no_equity):
    for m in MODELS:
        with_eq = _row(result, m, "staff")["share_median"]
        without = _row(result_no_equity, m, "staff")["share_median"]
        assert without < with_eq
        assert 0.16 < without < 0.36, (m, without)  # paper 19-33%
        assert not result_no_equity.equity_included[m]
    # the same compute draws: only the staff cost changed
    np.testing.assert_array_equal(result.costs["GPT-4"]["chips"],
                                  result_no_equity.costs["GPT-4"]["chips"])


def test_distribution_ordering_and_sums(result):
    for m in MODELS:
        c = result.costs[m]
        parts = np.column_stack([c[k] for k in DEV_COMPONENTS[:-1]])
        np.testing.assert_allclose(c["total"], parts.sum(axis=1), rtol=1e-12)
        assert np.all(c["total"][:, None] >= parts)
        for comp in DEV_COMPONENTS:
            row = _row(result, m, comp)
            assert row["p5_usd"] < row["median_usd"] < row["p95_usd"]
        shares = sum(_row(result, m, k)["share_paper_style"] for k in DEV_COMPONENTS[:-1])
        assert shares == pytest.approx(1.0)
        paper = result.paper_style(m)
        assert paper["total"] == pytest.approx(sum(np.median(c[k]) for k in DEV_COMPONENTS[:-1]))


def test_staff_is_a_sum_of_per_contributor_draws(result, spec):
    """Mean of the summed draws matches the analytic mean; spread is that of a sum."""
    m = spec["GPT-4"]
    (role,) = m.roles
    per_person = role.salary.mean() * role.overhead.mean() + role.equity.mean()
    expected = 284 * per_person * role.fte.mean() * m.project_years.mean()
    staff = result.costs["GPT-4"]["staff"]
    assert staff.mean() == pytest.approx(expected, rel=0.02)
    # a sum of 284 iid terms centres near n * mean, far above the all-medians formula
    assert np.median(staff) > 1.4 * result.staff_at_central["GPT-4"]
    by_role = result.staff_by_role["Gemini 1.0 Ultra"]
    np.testing.assert_allclose(sum(by_role.values()), result.costs["Gemini 1.0 Ultra"]["staff"])


def test_experiment_factor_multiplies_the_compute_draws(result, components):
    ef = result.experiment_factor["GPT-4"]
    np.testing.assert_allclose(result.costs["GPT-4"]["energy"], components["GPT-4"][:, 3] * ef)
    assert np.median(ef) == pytest.approx(EF_MEDIAN, rel=0.05)
    assert np.percentile(ef, 5) == pytest.approx(1.2, rel=0.07)
    assert np.percentile(ef, 95) == pytest.approx(4.0, rel=0.07)
    assert not np.array_equal(ef, result.experiment_factor["Gemini 1.0 Ultra"])


def test_shared_experiment_factor_scope(components):
    spec = parse_development({"experiment_factor_scope": "shared"})
    res = development_cost(spec, components, 1)
    np.testing.assert_array_equal(res.experiment_factor["GPT-4"],
                                  res.experiment_factor["OPT-175B"])


# --- randomness --------------------------------------------------------------------------


def test_reproducible_and_independent_of_the_model_set(spec, components, result):
    again = development_cost(spec, components, np.random.SeedSequence(2024))
    np.testing.assert_array_equal(again.costs["Gemini 1.0 Ultra"]["total"],
                                  result.costs["Gemini 1.0 Ultra"]["total"])
    only = parse_development({"models": ["GPT-4"]})
    alone = development_cost(only, {"GPT-4": components["GPT-4"]}, 2024)
    assert alone.models == ("GPT-4",)
    np.testing.assert_array_equal(alone.costs["GPT-4"]["total"], result.costs["GPT-4"]["total"])
    other = development_cost(only, {"GPT-4": components["GPT-4"]}, 2025)
    assert not np.array_equal(other.costs["GPT-4"]["staff"], alone.costs["GPT-4"]["staff"])


def test_chunking_does_not_change_draws(spec, components, result, monkeypatch):
    monkeypatch.setattr(devcost.sampling, "_BLOCK_VALUES", 5000)
    only = parse_development({"models": ["Gemini 1.0 Ultra"]})
    small = development_cost(only, {"Gemini 1.0 Ultra": components["Gemini 1.0 Ultra"]}, 2024)
    np.testing.assert_array_equal(small.costs["Gemini 1.0 Ultra"]["staff"],
                                  result.costs["Gemini 1.0 Ultra"]["staff"])


def test_staff_deflator(spec, components, result):
    res = development_cost(spec, components, 2024, staff_deflator={"GPT-4": 1.0107})
    np.testing.assert_allclose(res.costs["GPT-4"]["staff"],
                               result.costs["GPT-4"]["staff"] * 1.0107)
    np.testing.assert_array_equal(res.costs["GPT-4"]["chips"], result.costs["GPT-4"]["chips"])


# --- config merging and switches ---------------------------------------------------------


def test_role_override_keeps_the_other_default_roles():
    spec = parse_development({"Gemini 1.0 Ultra": {"roles": {"core": {"fte": 0.25}}}})
    roles = {r.name: r for r in spec["Gemini 1.0 Ultra"].roles}
    assert roles["core"].fte.central == 0.25
    assert roles["core"].fte.key == 'development."Gemini 1.0 Ultra".roles.core.fte'
    assert roles["lead"].fte.distribution.quantile(0.05) == pytest.approx(0.3)
    assert roles["core"].salary.key == "development.salary"


def test_contributors_replace_default_roles_and_roles_replace_contributors():
    spec = parse_development({
        "Gemini 1.0 Ultra": {"contributors": 500},
        "GPT-4": {"roles": {"core": {"count": 100}, "other": {"count": 184, "fte": 0.1}}},
    })
    assert [(r.name, r.count) for r in spec["Gemini 1.0 Ultra"].roles] == [("all", 500)]
    assert spec["GPT-4"].contributors == 284


def test_equity_switch_precedence():
    spec = parse_development({"equity": False, "GPT-4": {"equity": True},
                              "Gemini 1.0 Ultra": {"roles": {"program_lead": {"equity": True}}}})
    assert spec["GPT-4"].equity_included
    assert not spec["OPT-175B"].equity_included
    gemini = {r.name: r.equity is not None for r in spec["Gemini 1.0 Ultra"].roles}
    assert gemini == {"lead": False, "core": False, "contributor": False, "program_lead": True,
                      "technical_lead": False}
    # a switched-on role keeps its own default distribution
    (pl,) = [r for r in spec["Gemini 1.0 Ultra"].roles if r.name == "program_lead"]
    assert pl.equity.distribution.quantile(0.05) == pytest.approx(1e6)
    one = parse_development({"OPT-175B": {"equity": False}})
    assert not one["OPT-175B"].equity_included and one["GPT-4"].equity_included


def test_new_model_from_config(components):
    spec = parse_development({"My model": {"contributors": 3, "project_years": 0.5,
                                           "experiment_factor": 1.5}}, defaults={
        "salary": 1e5, "overhead": 1.0, "fte": 1.0, "equity": 0.0})
    res = development_cost(spec, {"My model": components["GPT-4"][:10]}, 3)
    np.testing.assert_allclose(res.costs["My model"]["staff"], 3 * 1e5 * 0.5)


# --- errors ------------------------------------------------------------------------------


def _error(section, **kw):
    with pytest.raises(ConfigError) as info:
        parse_development(section, "config.toml", **kw)
    return info.value


def test_bad_role_value_names_the_key():
    err = _error({"GPT-4": {"roles": {"core": {"count": 284, "fte": {"ci90": [0.8, 0.1]}}}}})
    assert err.key.startswith("development.GPT-4.roles.core.fte")
    assert err.source == "config.toml"
    err = _error({"Gemini 1.0 Ultra": {"roles": {"core": {"fte": "lots"}}}})
    assert err.key == 'development."Gemini 1.0 Ultra".roles.core.fte'


def test_unknown_keys_list_the_valid_ones():
    err = _error({"GPT-4": {"roles": {"core": {"count": 1, "ftes": 0.2}}}})
    assert err.key == "development.GPT-4.roles.core.ftes"
    assert "count, salary, overhead, equity, fte" in err.message
    err = _error({"GPT-4": {"duration": 3}})
    assert "project_months" in err.message
    err = _error({"salery": {"dist": "lognormal", "ci90": [1, 2]}})
    assert err.key == "development.salery" and "salary" in err.message
    err = _error({"experiment_factor_scope": "global"})
    assert "'per_model', 'shared'" in err.message


def test_structural_errors():
    assert "negative" in _error({"GPT-4": {"project_months": {"dist": "normal",
                                                            "ci90": [9, 15]}}}).message
    assert "exactly one" in _error({"GPT-4": {"project_days": 300, "project_months": 10}}).message
    err = _error({"GPT-4": {"contributors": 10, "roles": {"a": {"count": 3}}}})
    assert err.key == "development.GPT-4.contributors"
    assert _error({"GPT-4": {"contributors": 2.5}}).key == "development.GPT-4.contributors"
    assert _error({"GPT-4": {"roles": {"a": {"fte": 1}}}}).key == "development.GPT-4.roles.a"
    err = _error({"models": ["GPT4"]})
    assert err.key == "development.models" and "'GPT-4'" in err.message
    err = _error({"New": {"contributors": 3}})
    assert "project_days" in err.message
    err = _error({"equity": True, "New": {"contributors": 3, "project_days": 9}}, defaults={
        "salary": 1, "overhead": 1, "fte": 1, "experiment_factor": 1})
    assert err.key == "development.New.equity"
    err = _error({"New": {"contributors": 3, "project_days": 9}}, defaults={})
    assert err.key == "development.New.experiment_factor"


def test_missing_components(spec, components):
    with pytest.warns(UncertainCostWarning, match="OPT-175B"):
        res = development_cost(spec, {m: components[m] for m in MODELS if m != "OPT-175B"}, 0)
    assert "OPT-175B" not in res.models
    explicit = parse_development({"models": ["GPT-4", "OPT-175B"]})
    with pytest.raises(ConfigError, match="OPT-175B") as info:
        development_cost(explicit, {"GPT-4": components["GPT-4"]}, 0)
    assert info.value.key == "development.models"
    with pytest.raises(ValueError, match="shape"):
        development_cost(explicit, {"GPT-4": np.ones((5, 3)), "OPT-175B": np.ones((5, 4))}, 0)
    with pytest.raises(ValueError, match="n_draws"):
        development_cost(explicit, {"GPT-4": np.ones((5, 4)), "OPT-175B": np.ones((6, 4))}, 0)


# --- outputs -----------------------------------------------------------------------------


def test_table_rows(result):
    rows = result.table()
    assert len(rows) == len(MODELS) * len(DEV_COMPONENTS)
    assert set(rows[0]) == {"model", "component", "median_usd", "mean_usd", "p5_usd", "p95_usd",
                            "share_median", "paper_style_usd", "share_paper_style"}
    total = _row(result, "GPT-4", "total")
    assert total["share_median"] == 1.0
    assert total["paper_style_usd"] != total["median_usd"]


def test_dataset(result):
    ds = result.to_dataset()
    assert ds["development_cost"].dims == ("draw", "model", "component")
    assert ds.sizes["draw"] == N
    assert list(ds["component"].values) == list(DEV_COMPONENTS)
    staff = ds["development_cost"].sel(component="staff", model="Gemini 1.0 Ultra")
    by_role = ds["staff_by_role"].sel(model="Gemini 1.0 Ultra").sum("role")
    np.testing.assert_allclose(by_role.values, staff.values)
    assert np.isnan(ds["staff_by_role"].sel(model="GPT-4", role="core")).all()
    assert ds.attrs["seed_entropy"] == "2024"
    assert ds["development_cost"].attrs["units"].startswith("USD")


def test_plot(result, tmp_path):
    fig = plot_devcost(result)
    assert len(fig.axes) == 2
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"  # GPT-3 and OPT stay visible beside Gemini
    # the labels are the totals' medians, the figures devcost.csv reports (not sums of component medians)
    from uncertain_cost.money import format_usd

    assert [t.get_text() for t in ax.texts] == [format_usd(float(np.median(result.costs[m]["total"])))
                                                for m in result.models]
    fig.savefig(tmp_path / "devcost.png")
    assert (tmp_path / "devcost.png").stat().st_size > 10_000
