"""Development cost on the engine's own compute draws (not synthetic ones)."""

import pytest

from uncertain_cost.config import parse_config
from uncertain_cost.pipeline import run_pipeline
from uncertain_cost.stages import development_stage

PAPER_TOTAL = {"GPT-3 175B (davinci)": 6.7e6, "GPT-4": 125e6, "Gemini 1.0 Ultra": 125e6}


def _devcost(equity=True):
    raw = {"run": {"draws": 4000, "keep_draws": 4000, "seed": 11}}
    if not equity:
        raw["development"] = {"equity": False}
    art = run_pipeline(parse_config(raw), stages=lambda c, a, p: development_stage(c, a, p))
    rows = art.tables["devcost.csv"][0]
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
