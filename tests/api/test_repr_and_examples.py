"""A result that introduces itself (repr, _repr_html_) and the example configs shipped with the package."""

from pathlib import Path

import pytest

import uncertain_cost as uc

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def result(default_result):
    """The default job at 1,000 draws, the growth stage without its PyMC fits (one run per session, read-only)."""
    return default_result


def test_repr_is_short_and_says_the_headline(result):
    text = repr(result)
    lines = text.splitlines()
    assert 5 <= len(lines) <= 15
    assert lines[0].startswith("RunResult: 41 models costed (amortized 41, cloud 36, acquisition 33), 1,000 draws")
    summary = result.summary()
    top = summary[summary.method == "amortized"].sort_values("point_usd").iloc[-1]
    assert top.model == "GPT-4"
    assert lines[1] == (f"  costliest: GPT-4 (2023) amortized {uc.money.format_usd(top.point_usd)} (median "
                        f"{uc.money.format_usd(top.median_usd)}, 90% interval {uc.money.format_usd(top.p5_usd)} – "
                        f"{uc.money.format_usd(top.p95_usd)})")
    growth = result.table("growth")
    ols = growth[(growth.method == "amortized") & (growth.estimator == "ols")].iloc[0]
    assert f"growth: {ols.growth_per_year:.2f}x per year" in lines[2] and "ols fit on 41 models" in lines[2]
    assert any(line.startswith("  tables (") and "summary" in line for line in lines)
    assert "DataTree" not in text


def test_repr_html_for_notebooks(result):
    page = result._repr_html_()
    assert page.startswith('<div class="uncertain-cost-result"><strong>RunResult: 41 models costed')
    assert page.count("<li>") == len(repr(result).splitlines()) - 1


def test_example_config_by_name():
    assert {"paper-v1", "scenarios"} <= set(uc.example_names())
    config = uc.example_config("paper-v1")
    assert config.path.name == "paper-v1.toml"
    assert uc.example_config("paper-v1.toml", **{"run.draws": 1234}).run.draws == 1234


def test_unknown_example_suggests_the_closest():
    with pytest.raises(uc.ConfigError, match=r"no example 'paper-v2'; did you mean 'paper-v1'\?"):
        uc.example_config("paper-v2")


@pytest.mark.slow  # one Bayesian growth fit
def test_results_nc_names_the_fit_of_its_posterior(tmp_path):
    import arviz as az
    import xarray as xr

    result = uc.run(REPO / "config.toml", draws=2000, seed=3)
    out = result.write(tmp_path / "run")
    growth = result.table("growth")
    headline = growth[(growth.method == "amortized") & growth.headline.astype(str).eq("True")].estimator.iloc[0]
    posterior = xr.open_dataset(out / "results.nc", group="posterior", engine="h5netcdf")
    assert posterior.attrs["fit"] in set(growth.estimator) and posterior.attrs["headline_fit"] == headline
    for group in ("posterior_predictive", "sample_stats", "log_likelihood"):
        attrs = xr.open_dataset(out / "results.nc", group=group, engine="h5netcdf").attrs
        assert attrs["fit"] == posterior.attrs["fit"]
    assert len(az.summary(posterior, var_names=["slope"])) >= 1


FAST = {"run": {"draws": 500}, "growth": {"bayes": False}, "sensitivity": {"enabled": False},
        "development": {"enabled": False}, "report": {"png": False}}


def test_run_progress_on_request_and_silent_by_default_in_scripts(capsys):
    uc.run(FAST)
    assert capsys.readouterr().err == ""  # a script (not a notebook): silent unless asked
    uc.run(FAST, progress=True)
    err = capsys.readouterr().err
    assert "sampling 500 draws" in err and "\r" not in err  # captured (not a terminal): lines, no bars
