"""The paper's point estimates, recomputed from the resolved facts with a float64 reference.

Figures: Cottier et al. 2024 (arXiv:2405.21015) and method.md (worked GPT-4 example,
reference costs in December-2023 dollars, regression headline numbers).
"""

import numpy as np
import pytest
from scipy import stats

from uncertain_cost.data import load_embedded_tables, resolve_facts
from uncertain_cost.data.selection import select_frontier

from paper_point_costs import amortized_components, chip_hours, costs

# (amortized, cloud, acquisition) in Dec-2023 USD, method.md sections 4-6
PAPER = {
    "GPT-4": (40.6e6, 78.4e6, 776e6),
    "Gemini 1.0 Ultra": (29.8e6, 191e6, 575e6),
    "GPT-3 175B (davinci)": (2.06e6, 4.32e6, 224e6),
}


@pytest.fixture(scope="module")
def v1():
    t = load_embedded_tables()
    facts, _ = resolve_facts(t, select_frontier(t), finetunes="add_base")
    return facts, costs(facts)


@pytest.fixture(scope="module")
def v2():
    t = load_embedded_tables()
    facts, _ = resolve_facts(t, select_frontier(t), finetunes="drop")
    return facts, costs(facts)


def test_gpt4_worked_example_to_the_dollar():
    t = load_embedded_tables()
    f, _ = resolve_facts(t, ["GPT-4"])
    assert f.server_price_per_chip[0] == 24875.0
    assert f.depreciation_years[0] == pytest.approx(1.747, abs=5e-4)
    value = f.server_price_per_chip[0] * 10 ** (-0.14 * f.depreciation_years[0])
    assert round(value) == 14165
    per_chip_hour = value * 0.14 * np.log(10) / 8766
    assert per_chip_hour == pytest.approx(0.5209, abs=5e-5)
    assert chip_hours(f)[0] == 57.0e6
    c = amortized_components(f)
    hardware = c["chips"][0] + c["other_server"][0]
    assert hardware == pytest.approx(29.70e6, abs=0.01e6)
    assert c["interconnect"][0] == pytest.approx(6.97e6, abs=0.01e6)
    assert c["energy"][0] == pytest.approx(3.50e6, abs=0.005e6)
    total = hardware + c["interconnect"][0] + c["energy"][0]
    assert round(total / 1e4) / 100 == 40.16  # $40.16 M nominal
    assert round(total * f.deflator[0] / 1e5) / 10 == 40.6  # $40.6 M in Dec-2023 dollars


@pytest.mark.parametrize("name", sorted(PAPER))
def test_reference_models_match_the_paper(v1, name):
    facts, c = v1
    i = facts.names.index(name)
    amortized, cloud, acquisition = PAPER[name]
    assert c["amortized"][i] == pytest.approx(amortized, rel=0.01)
    assert c["cloud"][i] == pytest.approx(cloud, rel=0.02)
    assert c["acquisition"][i] == pytest.approx(acquisition, rel=0.02)


def test_costable_counts_v1(v1):
    facts, c = v1
    fr = facts.is_frontier
    assert fr.sum() == 64
    assert int(np.sum(~np.isnan(c["amortized"]) & fr)) == 45
    assert int(np.sum(~np.isnan(c["cloud"]) & fr)) == 40
    assert int(np.sum(~np.isnan(c["acquisition"]) & fr)) == 37


def test_costable_counts_v2(v2):
    facts, c = v2
    assert facts.n_models == 60  # 64 minus four fine-tunes
    assert int(np.sum(~np.isnan(c["amortized"]))) == 41


def _growth(facts, cost):
    m = ~np.isnan(cost) & facts.is_frontier
    x, y = facts.publication_year[m], np.log10(cost[m])
    res = stats.linregress(x, y)
    n = int(m.sum())
    t95 = stats.t.ppf(0.975, n - 2)
    ci = (10 ** (res.slope - t95 * res.stderr), 10 ** (res.slope + t95 * res.stderr))
    return n, res.slope, res.rvalue**2, ci


def test_headline_growth_rate_v1(v1):
    """Paper: N=45, 0.389 OOM/yr, 2.4x/yr (95% CI 2.0-3.1), R^2 0.61; cloud 2.6x, acq 2.5x."""
    facts, c = v1
    n, slope, r2, ci = _growth(facts, c["amortized"])
    assert n == 45
    assert slope == pytest.approx(0.389, abs=0.001)
    assert round(10**slope, 1) == 2.4
    assert round(r2, 2) == 0.61
    assert (round(ci[0], 1), round(ci[1], 1)) == (2.0, 3.1)
    assert round(10 ** _growth(facts, c["cloud"])[1], 1) == 2.6
    assert round(10 ** _growth(facts, c["acquisition"])[1], 1) == 2.5


def test_growth_rate_v2(v2):
    facts, c = v2
    n, slope, _, _ = _growth(facts, c["amortized"])
    assert n == 41
    assert round(10**slope, 1) == 2.4
