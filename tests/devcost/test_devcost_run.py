"""Development cost on the engine's own compute draws (not synthetic ones)."""

import pytest

import uncertain_cost as uc

PAPER_TOTAL = {"GPT-3 175B (davinci)": 6.7e6, "GPT-4": 125e6, "Gemini 1.0 Ultra": 125e6}
ONLY_DEVELOPMENT = {"growth": {"enabled": False}, "sensitivity": {"enabled": False}, "report": {"png": False}}


def _devcost(equity=True):
    raw = {"run": {"draws": 4000, "keep_draws": 4000, "seed": 11}, **ONLY_DEVELOPMENT}
    if not equity:
        raw["development"] = {"equity": False}
    rows, _ = uc.run(raw).records("devcost")
    return {(r["model"], r["component"]): r for r in rows}


@pytest.fixture(scope="module")
def with_equity():
    return _devcost()


@pytest.mark.parametrize("model", sorted(PAPER_TOTAL))
def test_totals_near_the_paper(with_equity, model):
    total = with_equity[(model, "total")]
    assert total["median_usd"] == pytest.approx(PAPER_TOTAL[model], rel=0.15)
    assert total["p5_usd"] < total["median_usd"] < total["p95_usd"]


def test_staff_shares_in_the_papers_range_and_equity_matters(with_equity):
    without = _devcost(equity=False)
    for model in ("GPT-3 175B (davinci)", "OPT-175B", "GPT-4", "Gemini 1.0 Ultra"):
        share = with_equity[(model, "staff")]["share_median"]
        assert 0.27 <= share <= 0.51, (model, share)  # paper: 29-49 %
        share_off = without[(model, "staff")]["share_median"]
        assert share_off < share and 0.17 <= share_off <= 0.35, (model, share_off)  # paper: 19-33 %


def test_development_can_be_switched_off():
    raw = {"run": {"draws": 500, "keep_draws": 500}, **ONLY_DEVELOPMENT, "development": {"enabled": False}}
    result = uc.run(raw)
    assert not result.has_table("devcost") and result.group("development") is None
