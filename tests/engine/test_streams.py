"""Counter-based keyed streams: purity, distribution, compiled transforms vs SciPy."""

import numpy as np
import pytest
from scipy import special, stats

from uncertain_cost.distributions import Normal, Triangular
from uncertain_cost.results import Provenance
from uncertain_cost.sampling.design import column_plan, draw_values, layout
from uncertain_cost.sampling.streams import (
    KIND_TRUNCNORMAL,
    SEED_SCHEME,
    ndtri,
    normal_scores,
    stream_key,
    transform_scores,
    uniforms,
)

from factories import GPT4, TPU_MODEL, make_facts


def test_draw_i_is_a_pure_function_of_key_and_index():
    keys = np.array([stream_key(3, "gpu_price", c) for c in ("A100", "H100", "*")])
    whole = normal_scores(keys, 0, 5000)
    np.testing.assert_array_equal(normal_scores(keys, 1234, 4000), whole[:, 1234:4000])
    np.testing.assert_array_equal(normal_scores(keys[1:2], 0, 5000)[0], whole[1])
    u = uniforms(keys[0], 0, 3000)
    np.testing.assert_array_equal(uniforms(keys[0], 100, 3000), u[100:])
    assert 0.0 <= u.min() and u.max() < 1.0


def test_keys_differ_by_seed_and_name():
    keys = {stream_key(s, a, b) for s in (0, 1, 2**70) for a in ("x", "y") for b in ("*", "A100")}
    assert len(keys) == 12
    with pytest.raises(ValueError, match="seed"):
        stream_key(-1, "x")


def test_scores_are_standard_normal_and_independent():
    keys = np.array([stream_key(11, "test", str(c)) for c in range(4)])
    z = normal_scores(keys, 0, 200_000)
    for row in z:
        assert stats.kstest(row, "norm").pvalue > 1e-4
        assert abs(row.mean()) < 0.01 and abs(row.std() - 1) < 0.01
    # the ziggurat tail (beyond r = 3.654) has its normal mass
    tail = np.mean(np.abs(z) > 3.6541528853610088)
    assert tail == pytest.approx(2 * stats.norm.sf(3.6541528853610088), rel=0.1)
    assert abs(np.corrcoef(z)[np.triu_indices(4, 1)]).max() < 0.01
    assert abs(np.corrcoef(z[0, :-1], z[0, 1:])[0, 1]) < 0.01


def test_compiled_ndtri_matches_scipy():
    p = np.concatenate([np.geomspace(1e-12, 0.02, 50), np.linspace(0.02, 0.98, 97), 1 - np.geomspace(1e-8, 0.02, 50)])
    ours = np.array([ndtri(x) for x in p])
    np.testing.assert_allclose(ours, special.ndtri(p), rtol=1e-9, atol=1e-12)


def test_truncated_normal_transform_matches_distribution_ppf():
    dist = Normal(0.375, 0.167, low=0.01, high=1.0)
    z = normal_scores(np.array([stream_key(5, "u", "*")]), 0, 20_000)
    a, b = dist._bounds
    params = np.array([[dist.loc, dist.scale, a, b, dist.low, dist.high]])
    ours = transform_scores(np.array([KIND_TRUNCNORMAL]), params, z)[0]
    np.testing.assert_allclose(ours, dist.ppf(special.ndtr(z[0])), rtol=1e-12)
    assert ours.min() >= 0.01 and ours.max() <= 1.0


def test_generic_family_is_ppf_of_phi_of_score(default_inputs):
    facts = make_facts(GPT4, TPU_MODEL)
    tri = Triangular(0.5, 1.0, 2.0)
    inputs = default_inputs.replace("training_time", distribution=tri)
    lay = layout(inputs, facts)
    plan = column_plan(lay, 8)
    cols = [lay.offsets["training_time"] + j for j in range(len(lay.column_names[inputs.names.index("training_time")]))]
    assert set(cols) == set(plan.generic)
    values = draw_values(lay, 8, 0, 3000)
    z = normal_scores(plan.keys[cols], 0, 3000)
    np.testing.assert_array_equal(values[:, cols], tri.ppf(special.ndtr(z)).T)


def test_provenance_records_seed_scheme():
    prov = Provenance(1, "x", "c.toml", "2023-01", "test", 10)
    assert prov.attrs()["seed_scheme"] == SEED_SCHEME


def test_vectorized_exp_within_one_ulp_of_numpy():
    from uncertain_cost.sampling.streams import exp_into

    y = np.concatenate([np.random.default_rng(0).normal(0, 5, 100_000), [0.0, -0.0, 700.0, -700.0, 709.0, -745.0,
                                                                       800.0, -800.0, np.inf, -np.inf, np.nan]])
    out = np.empty_like(y)
    exp_into(y, out, np.empty(y.size, dtype=np.int64))
    with np.errstate(over="ignore"):
        ref = np.exp(y)
    finite = np.isfinite(ref) & (ref > 0)
    np.testing.assert_array_less(np.abs(out[finite] / ref[finite] - 1), 4.5e-16)
    np.testing.assert_array_equal(out[~finite], ref[~finite])
