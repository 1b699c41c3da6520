"""The NumPy path of ``estimate`` (lean, sampling.numpy_streams) equals the compiled engine bit for bit."""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import pytest

from uncertain_cost import lean
from uncertain_cost.data.priors import load_embedded_tables
from uncertain_cost.data.resolve import resolve_facts
from uncertain_cost.hypothetical import Hypothetical, estimate_run, hypothetical_facts, latest_deflator_month
from uncertain_cost.sampling import numpy_streams
from uncertain_cost.sampling.scheme import stream_key

SEED = 20240531


def _same(a, b) -> bool:
    """Equal bit for bit (NaN where NaN)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.array_equal(a.view(np.int64), b.view(np.int64)))


def test_normal_scores_match_the_kernel_including_rejections_and_the_tail():
    from uncertain_cost.sampling.streams import _FI, _KI, _WI, normal_scores

    keys = np.array([stream_key(SEED, "a", "*"), stream_key(7, "b", "GPT-4"), stream_key(0, "")], dtype=np.uint64)
    compiled = normal_scores(keys, 1000, 201_000)
    for c, key in enumerate(keys):
        drawn = numpy_streams.normal_column(key, 1000, 200_000)
        assert _same(drawn, compiled[c])
    # the draws exercise the rejection branch and the tail beyond r = 3.654
    assert np.abs(compiled).max() > 3.66
    assert len(_KI) == len(_WI) == len(_FI) == 256


def test_exp_matches_the_kernel_inside_and_beyond_its_range():
    from uncertain_cost.sampling.streams import exp_into

    rng = np.random.default_rng(3)
    y = np.concatenate([rng.normal(0, 3, 100_000), rng.uniform(-745, 710, 20_000),
                        [0.0, -0.0, 700.0, -700.0, 700.5, -720.0, 709.7, 710.0, np.nan, np.inf, -np.inf]])
    out = np.empty_like(y)
    exp_into(y, out, np.empty(y.shape, dtype=np.int64))
    assert _same(numpy_streams.exp_values(y), out)


def test_normal_cdf_and_quantile_match_the_kernel():
    from numba import njit

    from uncertain_cost.sampling.streams import ndtr, ndtri

    @njit
    def both(p, z, out_q, out_c):
        for i in range(p.shape[0]):
            out_q[i] = ndtri(p[i])
            out_c[i] = ndtr(z[i])

    rng = np.random.default_rng(5)
    p = np.concatenate([rng.uniform(0, 1, 100_000), 10.0 ** rng.uniform(-300, -1, 5_000),
                        1 - 10.0 ** rng.uniform(-16, -1, 5_000), [0.0, 1.0, 0.02425, 0.97575, -1.0, 2.0, np.nan]])
    z = rng.normal(0, 4, p.size)
    q, c = np.empty_like(p), np.empty_like(p)
    both(p, z, q, c)
    assert _same(numpy_streams.ndtri_values(p), q)
    assert _same(numpy_streams.ndtr_values(z), c)


def _single_models(tables, month):
    """Paper models the NumPy path covers (no candidate hardware, no base model)."""
    out = []
    for record in tables.models:
        facts, _ = resolve_facts(tables, [record], reference_month=month)
        if facts.n_models == 1 and lean.supported(facts, _inputs(), 10):
            out.append(record)
    return out


def _inputs():
    from uncertain_cost.config import default_config

    return default_config({}).inputs


def test_lean_simulate_equals_the_engine_on_many_paper_models():
    from uncertain_cost.data.facts import CHIP_HOURS_IMPUTED, CHIP_HOURS_QUANTITY_TIME, CHIP_HOURS_REPORTED
    from uncertain_cost.engine import simulate

    tables = load_embedded_tables()
    month = "2023-12"
    records = _single_models(tables, month)
    facts, _ = resolve_facts(tables, records, reference_month=month)
    assert facts.n_models >= 20
    paths = set(np.asarray(facts.chip_hours_path).tolist())
    assert {CHIP_HOURS_REPORTED, CHIP_HOURS_QUANTITY_TIME, CHIP_HOURS_IMPUTED} <= paths
    inputs = _inputs()
    mine = lean.simulate(facts, inputs, 5000, SEED, keep_draws=300, interconnect_fraction=0.19)
    ref = simulate(facts, inputs, 5000, SEED, keep_draws=300, interconnect_fraction=0.19)
    assert mine is not None
    for method in ("amortized", "cloud", "acquisition"):
        assert _same(mine.totals[method], ref.totals[method]), method
        assert _same(mine.point[method], ref.point.total(method)[0]), method
    assert _same(mine.components, ref.kept.amortized)
    assert np.isfinite(mine.totals["amortized"][0]).sum() >= 30  # models with a price: real numbers compared


@pytest.mark.parametrize(("chip", "organization", "start"), [
    ("H100", "Hypothetical lab", date(2026, 1, 1)),
    ("Google TPU v5p", "Google", date(2025, 6, 1)),
    ("A100", "Meta", date(2021, 3, 1)),
])
def test_estimate_is_the_same_on_the_numpy_path_and_the_engine(monkeypatch, chip, organization, start):
    tables = load_embedded_tables()
    month = latest_deflator_month(tables)
    run = Hypothetical(chip, 20_000, 45, start, organization)
    facts, _ = hypothetical_facts(tables, run, month)
    assert lean.supported(facts, _inputs(), 20_000)
    fast = estimate_run(tables, _inputs(), run, reference_month=month, draws=20_000, seed=SEED)
    monkeypatch.setattr(lean, "simulate", lambda *a, **k: None)  # force the engine
    slow = estimate_run(tables, _inputs(), run, reference_month=month, draws=20_000, seed=SEED)
    assert json.dumps(fast) == json.dumps(slow)  # what `estimate --json` prints (NaN where a price is unknown)
    assert fast["rows"] and all(r["p5_usd"] < r["median_usd"] < r["p95_usd"] for r in fast["rows"])


def test_lean_declines_what_it_does_not_cover():
    tables = load_embedded_tables()
    facts, _ = resolve_facts(tables, [tables.model("GPT-4")], reference_month="2023-12")
    inputs = _inputs()
    assert lean.simulate(facts, inputs, lean.MAX_LEAN_DRAWS + 1, SEED) is None
    assert lean.simulate(facts, inputs, 0, SEED) is None
    with pytest.raises(ValueError, match="no NumPy transform"):
        numpy_streams.column_values(4, np.zeros(6), np.uint64(1), 0, 3)
    assert numpy_streams.apply(math.sqrt, np.array([[4.0, 9.0]])).tolist() == [[2.0, 3.0]]
