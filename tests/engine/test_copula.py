"""Explicit correlations: marginals kept, rank correlations reached, reproducible, clear errors."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from uncertain_cost.config import load_config, parse_config
from uncertain_cost.distributions import Constant
from uncertain_cost.engine import simulate
from uncertain_cost.errors import ConfigError, UncertainCostWarning
from uncertain_cost.sampling.copula import attach_correlations, nearest_correlation, spearman_to_normal
from uncertain_cost.sampling.design import BLOCK_DRAWS, draw_block, layout

from factories import GPT4, TPU_MODEL, make_facts

REPO = Path(__file__).resolve().parents[2]
GPT4_B = {**GPT4, "name": "GPT-4 twin", "chip": "NVIDIA H100"}


def _columns(lay, name):
    start = lay.offsets[name]
    return slice(start, start + len(lay.column_names[lay.inputs.names.index(name)]))


def _pairs(inputs, pairs):
    return attach_correlations(inputs, {"pairs": pairs})


def test_marginals_kept_and_rank_correlation_reached(default_inputs):
    facts = make_facts(GPT4, GPT4_B, TPU_MODEL)
    pairs = [["gpu_price", "cloud_price", 0.6], ["hardware_quantity", "training_time", -0.4]]
    plain_lay = layout(default_inputs, facts)
    corr_lay = layout(_pairs(default_inputs, pairs), facts)
    n = 2 * BLOCK_DRAWS
    plain = np.concatenate([draw_block(plain_lay, 7, b) for b in range(2)])
    corr = np.concatenate([draw_block(corr_lay, 7, b) for b in range(2)])
    for a, b, rho in pairs:
        # the first input of each set keeps its very draws
        np.testing.assert_allclose(corr[:, _columns(corr_lay, a)], plain[:, _columns(plain_lay, a)], rtol=1e-12)
        dist = default_inputs[b].distribution
        for xa, xb in zip(corr[:, _columns(corr_lay, a)].T, corr[:, _columns(corr_lay, b)].T, strict=True):
            # marginal of the mixed input: its stated quantiles, within Monte Carlo error
            for q in (0.05, 0.25, 0.5, 0.75, 0.95):
                share = np.mean(xb <= dist.ppf(np.asarray(q)))
                assert abs(share - q) < 4 * np.sqrt(q * (1 - q) / n)
            # requested Spearman within Monte Carlo error (sd about (1 - rho^2) / sqrt(n))
            assert abs(spearmanr(xa, xb).statistic - rho) < 4 * (1 - rho**2) / np.sqrt(n)
    # columns of different chips / models stay independent
    ga = corr[:, _columns(corr_lay, "gpu_price")]
    assert abs(spearmanr(ga[:, 0], ga[:, 1]).statistic) < 4 / np.sqrt(n)
    # inputs outside the pairs are untouched
    for name in ("depreciation_rate", "electricity_price", "utilization"):
        np.testing.assert_array_equal(corr[:, _columns(corr_lay, name)], plain[:, _columns(plain_lay, name)])


def test_correlated_draws_do_not_depend_on_chunking_or_truncation(default_inputs):
    inputs = _pairs(default_inputs, [["gpu_price", "cloud_price", 0.6], ["training_time", "hardware_quantity", 0.5]])
    facts = make_facts(GPT4, TPU_MODEL)
    lay = layout(inputs, facts)
    np.testing.assert_array_equal(draw_block(lay, 3, 1, n_rows=100), draw_block(lay, 3, 1)[:100])
    n = BLOCK_DRAWS + 77
    one = simulate(facts, inputs, n, seed=9, chunk_blocks=1, keep_draws=50)
    two = simulate(facts, inputs, n, seed=9, chunk_blocks=2, keep_draws=50)
    for method in ("amortized", "cloud", "acquisition"):
        np.testing.assert_array_equal(one.totals[method], two.totals[method])
    # the correlation reaches the costs: the TPU model's amortized and cloud costs move together
    # more than with independent prices (they already share chip-hours)
    plain = simulate(facts, default_inputs, n, seed=9)
    tied = simulate(facts, _pairs(default_inputs, [["tpu_price", "cloud_price", 0.9]]), n, seed=9)
    i = facts.names.index("TPU model")
    rank = [spearmanr(s.totals["amortized"][:, i], s.totals["cloud"][:, i]).statistic for s in (plain, tied)]
    assert rank[1] > rank[0] + 0.1


def test_point_values_unchanged(default_inputs):
    inputs = _pairs(default_inputs, [["gpu_price", "cloud_price", 0.6]])
    facts = make_facts(GPT4, TPU_MODEL)
    a = simulate(facts, default_inputs, 10, seed=1).point.total("amortized")
    b = simulate(facts, inputs, 10, seed=1).point.total("amortized")
    np.testing.assert_array_equal(a, b)


def test_constant_member_drops_out(default_inputs):
    inputs = _pairs(default_inputs, [["gpu_price", "cloud_price", 0.6], ["cloud_price", "tpu_price", 0.6]])
    inputs = inputs.replace("gpu_price", distribution=Constant(1.0))
    lay = layout(inputs, make_facts(GPT4))
    block = draw_block(lay, 1, 0)
    assert np.all(block[:, _columns(lay, "gpu_price")] == 1.0)
    cloud, tpu = block[:, _columns(lay, "cloud_price")][:, 0], block[:, _columns(lay, "tpu_price")][:, 0]
    assert abs(spearmanr(cloud, tpu).statistic - 0.6) < 4 * 0.64 / np.sqrt(BLOCK_DRAWS)


def test_non_positive_definite_matrix_is_repaired_with_a_warning(default_inputs):
    pairs = [["gpu_price", "cloud_price", 0.9], ["cloud_price", "tpu_price", 0.9], ["gpu_price", "tpu_price", -0.9]]
    with pytest.warns(UncertainCostWarning, match=r"not positive definite.*gpu_price~cloud_price 0.9->"):
        inputs = _pairs(default_inputs, pairs)
    corr = inputs.correlations
    assert corr.repaired
    assert np.linalg.eigvalsh(corr.normal).min() > 0
    np.testing.assert_allclose(np.diag(corr.normal), 1.0)
    # the repaired matrix is what the draws reach
    lay = layout(inputs, make_facts(GPT4))
    x = draw_block(lay, 2, 0)
    cols = [x[:, _columns(lay, n)][:, 0] for n in corr.names]
    got = spearmanr(np.column_stack(cols)).statistic
    want = 6 / np.pi * np.arcsin(corr.normal / 2)
    np.testing.assert_allclose(got, want, atol=4 / np.sqrt(BLOCK_DRAWS))


def test_nearest_correlation_keeps_a_valid_matrix():
    valid = np.array([[1.0, 0.3], [0.3, 1.0]])
    np.testing.assert_allclose(nearest_correlation(valid), valid, atol=1e-10)
    np.testing.assert_allclose(spearman_to_normal([0.0, 1.0, -1.0]), [0.0, 1.0, -1.0], atol=1e-15)


def test_valid_pairs_raise_no_warning(default_inputs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _pairs(default_inputs, [["gpu_price", "cloud_price", 0.6]])


@pytest.mark.parametrize(
    "pairs, words",
    [
        ([["gpu_prize", "cloud_price", 0.5]], "unknown input 'gpu_prize'; valid inputs: depreciation_rate"),
        ([["gpu_price", "cloud_price", 1.2]], "must be in [-1, 1], got 1.2"),
        ([["gpu_price", "training_time", 0.5]], "'gpu_price' is per_chip (chip_key price_record) but 'training_time'"
                                                " is per_model"),
        ([["gpu_price", "gpu_price", 0.5]], "cannot be correlated with itself"),
        ([["gpu_price", 0.5]], "expected [\"input\", \"input\", rho]"),
        ([["gpu_price", "cloud_price", 0.5], ["cloud_price", "gpu_price", 0.2]], "given twice"),
    ],
)
def test_bad_pairs_are_one_line_config_errors(pairs, words):
    with pytest.raises(ConfigError) as err:
        parse_config({"correlations": {"pairs": pairs}})
    assert err.value.key.startswith("correlations.pairs[")
    assert words in str(err.value) and "\n" not in str(err.value)


def test_other_config_errors():
    with pytest.raises(ConfigError, match="correlations.pair: unknown key"):
        parse_config({"correlations": {"pair": []}})
    with pytest.raises(ConfigError, match="mixed|chip_key chip"):
        parse_config({"inputs": {"cloud_price": {"chip_key": "chip"}},
                      "correlations": {"pairs": [["gpu_price", "cloud_price", 0.5]]}})
    with pytest.raises(ConfigError, match="inputs.gpu_price.chip_key: expected one of price_record, chip"):
        parse_config({"inputs": {"gpu_price": {"chip_key": "name"}}})
    with pytest.raises(ConfigError, match="is a constant"):
        parse_config({"inputs": {"gpu_price": {"dist": "constant", "value": 1.0}},
                      "correlations": {"pairs": [["gpu_price", "cloud_price", 0.5]]}})


def test_example_config_loads():
    cfg = load_config(REPO / "examples" / "correlations.toml")
    assert cfg.inputs.correlations.names[:2] == ("gpu_price", "cloud_price")
    assert not cfg.inputs.correlations.repaired


SCRIPT = """
import hashlib, sys
sys.path.insert(0, {tests!r})
import numpy as np
from factories import GPT4, TPU_MODEL, make_facts
from uncertain_cost.defaults import load_input_defaults
from uncertain_cost.inputs import parse_inputs
from uncertain_cost.sampling.copula import attach_correlations
from uncertain_cost.engine import simulate
pairs = [["tpu_price", "cloud_price", 0.6], ["training_time", "hardware_quantity", -0.3]]
inputs = attach_correlations(parse_inputs(load_input_defaults()), {{"pairs": pairs}})
sim = simulate(make_facts(GPT4, TPU_MODEL), inputs, 20000, seed=4)
h = hashlib.sha256()
for m in ("amortized", "cloud", "acquisition"):
    h.update(np.ascontiguousarray(sim.totals[m]).tobytes())
import numba
print(numba.get_num_threads(), h.hexdigest())
"""


def test_correlated_draws_identical_across_thread_counts():
    tests = os.path.dirname(os.path.dirname(__file__))  # the helper modules live in tests/
    out = []
    for t in ("1", "2"):
        env = {**os.environ, "NUMBA_NUM_THREADS": t, "OMP_NUM_THREADS": t, "OPENBLAS_NUM_THREADS": t}
        res = subprocess.run([sys.executable, "-c", SCRIPT.format(tests=tests)], env=env,
                             capture_output=True, text=True, check=True)
        out.append(res.stdout.split())
    assert [o[0] for o in out] == ["1", "2"]
    assert out[0][1] == out[1][1]
