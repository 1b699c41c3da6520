"""The engine (compiled kernel, central inputs) reproduces the paper end to end.

The resolved facts are checked against the paper in test_paper_points.py with a separate
float64 reference; here the engine's own point estimates must agree with that reference for
every model, with the paper's headline figures, counts and regression.
"""

import numpy as np
import pytest

from uncertain_cost.data import load_embedded_tables, resolve_facts
from uncertain_cost.data.selection import select_frontier
from uncertain_cost.engine import point_costs
from uncertain_cost.growth.ols import fit_ols
from uncertain_cost.units import METHODS

from paper_point_costs import costs as reference_costs

PAPER = {  # Dec-2023 USD: amortized, cloud, acquisition (method.md sections 4-6)
    "GPT-4": (40.6e6, 78.4e6, 776e6),
    "Gemini 1.0 Ultra": (29.8e6, 191e6, 575e6),
    "GPT-3 175B (davinci)": (2.06e6, 4.32e6, 224e6),
}


def _run(finetunes, default_inputs):
    tables = load_embedded_tables()
    facts, _ = resolve_facts(tables, select_frontier(tables), finetunes=finetunes)
    point = point_costs(facts, default_inputs)
    return facts, {m: point.total(m)[0] for m in METHODS}


@pytest.fixture(scope="module")
def v1(default_inputs):
    return _run("add_base", default_inputs)


@pytest.fixture(scope="module")
def v2(default_inputs):
    return _run("drop", default_inputs)


def test_gpt4_to_the_dollar(v2):
    facts, point = v2
    i = facts.names.index("GPT-4")
    nominal = point["amortized"][i] / facts.deflator[i]
    assert round(nominal) == 40_155_934  # method.md: $40.16 M nominal
    assert round(point["amortized"][i] / 1e5) / 10 == 40.6


@pytest.mark.parametrize("name", sorted(PAPER))
def test_headline_models(v2, name):
    facts, point = v2
    i = facts.names.index(name)
    for method, paper, tolerance in zip(METHODS, PAPER[name], (0.01, 0.02, 0.02), strict=True):
        assert point[method][i] == pytest.approx(paper, rel=tolerance / 2), method


@pytest.mark.parametrize("rules", ["v1", "v2"])
def test_engine_equals_reference_for_every_model(request, rules):
    facts, point = request.getfixturevalue(rules)
    ref = reference_costs(facts)
    for method in METHODS:
        expected = np.asarray(ref[method])[np.asarray(facts.is_frontier)]
        got = point[method][np.asarray(facts.is_frontier)]
        np.testing.assert_allclose(got, expected, rtol=1e-9, equal_nan=True, err_msg=method)


def _costed(facts, point, method):
    keep = np.asarray(facts.is_frontier) & np.isfinite(point[method])
    return np.asarray(facts.publication_year)[keep], point[method][keep]


def test_counts_and_headline_growth_v1(v1):
    facts, point = v1
    counts = {m: int(np.sum(np.isfinite(point[m]) & facts.is_frontier)) for m in METHODS}
    assert counts == {"amortized": 45, "cloud": 40, "acquisition": 37}
    fit = fit_ols(*_costed(facts, point, "amortized"), level=0.95)
    assert fit.n == 45 and round(fit.slope, 3) == 0.389
    assert round(fit.growth, 2) == 2.45 and round(fit.growth_lo, 2) == 1.96 and round(fit.growth_hi, 2) == 3.05
    assert round(fit.r2, 2) == 0.61
    assert round(fit.doubling_months) == 9
    cloud = fit_ols(*_costed(facts, point, "cloud"))
    acquisition = fit_ols(*_costed(facts, point, "acquisition"))
    assert round(cloud.growth, 1) == 2.6 and round(acquisition.growth, 1) == 2.5  # paper: ~2.6x and ~2.5x


def test_counts_and_growth_v2(v2):
    facts, point = v2
    assert int(np.sum(np.isfinite(point["amortized"]) & facts.is_frontier)) == 41
    fit = fit_ols(*_costed(facts, point, "amortized"), level=0.9)
    assert fit.n == 41 and round(fit.growth, 2) == 2.41
    assert fit.growth_lo == pytest.approx(1.97, abs=0.005) and fit.growth_hi == pytest.approx(2.94, abs=0.01)
