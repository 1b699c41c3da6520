"""Sobol design, estimators and bootstrap (uncertain_cost.sensitivity.design / .sobol)."""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass

import numba
import numpy as np
import pytest
from scipy import stats

from uncertain_cost import UncertainCostWarning
from uncertain_cost.sensitivity import (
    SobolResult,
    from_salib_layout,
    sobol,
    sobol_design,
    sobol_indices,
)
from uncertain_cost.sensitivity.sobol import _bootstrap_batches, _indices_numba, _indices_numpy

sobol_module = importlib.import_module("uncertain_cost.sensitivity.sobol")  # not the function

A, B = 7.0, 0.1


@dataclass(frozen=True)
class Inp:
    """Minimal stand-in for a distribution-backed input."""

    name: str
    dist: object
    group: str | None = None

    def ppf(self, u):
        return self.dist.ppf(u)


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_analytic():
    v1 = 0.5 * (1 + B * np.pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = 8 * B**2 * np.pi**8 / 225
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


PI_INPUTS = [Inp(f"x{i + 1}", stats.uniform(-np.pi, 2 * np.pi)) for i in range(3)]


def test_analytic_reference_values():
    s1, st = ishigami_analytic()
    np.testing.assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=1e-4)
    np.testing.assert_allclose(st, [0.5576, 0.4424, 0.2437], atol=1e-4)


def test_ishigami_within_002():
    res = sobol(PI_INPUTS, ishigami, 4096, seed=20240531, n_bootstrap=200)
    s1, st = ishigami_analytic()
    assert res.inputs == ("x1", "x2", "x3") and res.targets == ("y",)
    assert np.max(np.abs(res.s1[0] - s1)) < 0.02
    assert np.max(np.abs(res.st[0] - st)) < 0.02
    assert np.all(res.s1_conf > 0) and np.all(res.st_conf > 0)
    assert np.all(res.s1_conf < 0.1) and np.all(res.st_conf < 0.1)


def test_design_structure_and_seed():
    n, k = 64, 4
    u = sobol_design(n, k, seed=3)
    assert u.shape == (n * (k + 2), k)
    assert np.all((u > 0) & (u < 1))
    a, b = u[:n], u[n : 2 * n]
    for j in range(k):
        ab = u[(2 + j) * n : (3 + j) * n]
        np.testing.assert_array_equal(ab[:, j], b[:, j])
        others = np.arange(k) != j
        np.testing.assert_array_equal(ab[:, others], a[:, others])
    np.testing.assert_array_equal(u, sobol_design(n, k, seed=3))
    assert not np.array_equal(u, sobol_design(n, k, seed=4))
    # A and B are balanced Sobol' points: every column has one point in each 1/n cell.
    for col in np.hstack([a, b]).T:
        assert np.array_equal(np.sort(np.floor(col * n)), np.arange(n))


def test_mapping_the_halves_gives_the_values_of_mapping_the_design():
    from uncertain_cost.distributions import Normal, from_ci
    from uncertain_cost.sensitivity._common import ppf_columns
    from uncertain_cost.sensitivity.design import design_blocks, saltelli_layout, sobol_halves

    groups = ["hw", "energy", "hw", "staff", "staff", "staff"]
    inputs = [Inp("a", from_ci(1.0, 3.0, 0.9), "hw"), Inp("b", Normal(0.0, 2.0), "energy"),
              Inp("c", from_ci(2.0, 9.0, 0.9), "hw")] + [
        Inp(f"s{i}", from_ci(1e5, 4e5, 0.9), "staff") for i in range(3)]
    u = sobol_design(64, 6, seed=5, groups=groups)
    a, b = sobol_halves(64, 6, seed=5)
    block_of = design_blocks(6, groups)[1]
    np.testing.assert_array_equal(saltelli_layout(a, b, block_of), u)
    mapped = saltelli_layout(ppf_columns(inputs, a), ppf_columns(inputs, b), block_of)
    assert np.array_equal(mapped, ppf_columns(inputs, u))  # bit for bit: ppf is elementwise


def test_grouped_design():
    n = 16
    u = sobol_design(n, 3, seed=0, groups=["hw", "energy", "hw"])
    assert u.shape == (n * 4, 3)
    a, b, ab0, ab1 = (u[i * n : (i + 1) * n] for i in range(4))
    np.testing.assert_array_equal(ab0[:, [0, 2]], b[:, [0, 2]])
    np.testing.assert_array_equal(ab0[:, 1], a[:, 1])
    np.testing.assert_array_equal(ab1[:, 1], b[:, 1])
    np.testing.assert_array_equal(ab1[:, [0, 2]], a[:, [0, 2]])


@pytest.mark.parametrize("bad", [0, 1, 100, 3.0, True])
def test_design_rejects_bad_n_base(bad):
    with pytest.raises(ValueError, match="n_base"):
        sobol_design(bad, 2, seed=0)


def test_design_requires_seed():
    with pytest.raises(ValueError, match="seed"):
        sobol_design(8, 2, seed=None)


def test_salib_agreement_on_same_design():
    salib_sample = pytest.importorskip("SALib.sample.sobol")
    salib_analyze = pytest.importorskip("SALib.analyze.sobol")
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    n = 1024
    x = salib_sample.sample(problem, n, calc_second_order=False, seed=11)
    y = ishigami(x)
    si = salib_analyze.analyze(problem, y, calc_second_order=False, num_resamples=500, seed=12)

    # SALib's design, reordered, has our block structure.
    xb = from_salib_layout(x, n, 3)
    a, b = xb[:n], xb[n : 2 * n]
    for j in range(3):
        ab = xb[(2 + j) * n : (3 + j) * n]
        np.testing.assert_array_equal(ab[:, j], b[:, j])
        np.testing.assert_array_equal(np.delete(ab, j, axis=1), np.delete(a, j, axis=1))

    ours = sobol_indices(from_salib_layout(y, n, 3), n, 3, n_bootstrap=500, seed=13)
    # Same estimators, same centering: the point estimates coincide...
    np.testing.assert_allclose(ours.s1[0], si["S1"], atol=1e-10)
    np.testing.assert_allclose(ours.st[0], si["ST"], atol=1e-10)
    # ... so they agree within either interval, and the intervals have the same size.
    conf = np.minimum(ours.s1_conf[0], si["S1_conf"])
    assert np.all(np.abs(ours.s1[0] - si["S1"]) <= conf)
    np.testing.assert_allclose(ours.s1_conf[0], si["S1_conf"], rtol=0.25)
    np.testing.assert_allclose(ours.st_conf[0], si["ST_conf"], rtol=0.25)


def _random_case(seed=0, n=128, k=5, n_targets=3, n_res=40):
    rng = np.random.default_rng(seed)
    yt = rng.normal(size=(n_targets, n, k + 2))
    yt += np.linspace(0, 2, k + 2)  # some structure; not centered on purpose
    idx = rng.integers(0, n, size=(n_res, n))
    idx[0] = np.arange(n)
    return yt, idx


def test_numba_kernel_equals_numpy_reference():
    yt, idx = _random_case()
    s1_nb, st_nb = _indices_numba(yt, idx)
    s1_np, st_np = _indices_numpy(yt, idx)
    assert s1_nb.shape == (idx.shape[0], yt.shape[0], yt.shape[2] - 2)
    np.testing.assert_allclose(s1_nb, s1_np, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(st_nb, st_np, rtol=1e-12, atol=1e-13)


def test_numba_engine_equals_numpy_engine():
    rng = np.random.default_rng(5)
    n, k = 256, 4
    y = rng.lognormal(size=(n * (k + 2), 2)) * 1e7
    kw = dict(n_bootstrap=64, seed=99)
    r_nb = sobol_indices(y, n, k, engine="numba", **kw)
    r_np = sobol_indices(y, n, k, engine="numpy", **kw)
    for name in ("s1", "s1_conf", "st", "st_conf"):
        np.testing.assert_allclose(getattr(r_nb, name), getattr(r_np, name), rtol=1e-10, atol=1e-12)


def test_bootstrap_reproducible_with_seed():
    y = ishigami(PI_INPUTS[0].ppf(sobol_design(256, 3, seed=1)))
    r1 = sobol_indices(y, 256, 3, n_bootstrap=100, seed=7)
    r2 = sobol_indices(y, 256, 3, n_bootstrap=100, seed=7)
    r3 = sobol_indices(y, 256, 3, n_bootstrap=100, seed=8)
    np.testing.assert_array_equal(r1.s1_conf, r2.s1_conf)
    np.testing.assert_array_equal(r1.st_conf, r2.st_conf)
    np.testing.assert_array_equal(r1.s1, r3.s1)
    assert not np.array_equal(r1.s1_conf, r3.s1_conf)
    # the convenience function is reproducible end to end
    a = sobol(PI_INPUTS, ishigami, 128, seed=5, n_bootstrap=50)
    b = sobol(PI_INPUTS, ishigami, 128, seed=5, n_bootstrap=50)
    assert a.table() == b.table()


def test_bootstrap_independent_of_thread_count(monkeypatch):
    monkeypatch.setattr(sobol_module, "_PARALLEL_MIN_WORK", 0)  # always the parallel kernel
    y = np.random.default_rng(2).normal(size=(512 * 6, 4))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = sobol_indices(y, 512, 4, n_bootstrap=200, seed=3)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = sobol_indices(y, 512, 4, n_bootstrap=200, seed=3)
    finally:
        numba.set_num_threads(before)
    for name in ("s1", "s1_conf", "st", "st_conf"):
        np.testing.assert_array_equal(getattr(one, name), getattr(many, name))


def test_bootstrap_independent_of_batching(monkeypatch):
    rng_a = np.random.default_rng(np.random.SeedSequence(4))
    rng_b = np.random.default_rng(np.random.SeedSequence(4))
    small = np.concatenate(list(_bootstrap_batches(rng_a, 50, 64, batch=7)))
    large = np.concatenate(list(_bootstrap_batches(rng_b, 50, 64, batch=1000)))
    np.testing.assert_array_equal(small, large)

    y = np.random.default_rng(3).normal(size=(64 * 5,))
    ref = sobol_indices(y, 64, 3, n_bootstrap=50, seed=4)
    monkeypatch.setattr(sobol_module, "_INDEX_BATCH", 64 * 3)
    batched = sobol_indices(y, 64, 3, n_bootstrap=50, seed=4)
    np.testing.assert_array_equal(ref.s1_conf, batched.s1_conf)


def test_grouped_indices_ishigami():
    inputs = [
        Inp("x1", PI_INPUTS[0].dist, group="g13"),
        Inp("x2", PI_INPUTS[1].dist, group=None),
        Inp("x3", PI_INPUTS[2].dist, group="g13"),
    ]
    res = sobol(inputs, ishigami, 2048, seed=1, n_bootstrap=0, by_group=True)
    assert res.inputs == ("g13", "x2")
    s1, st = ishigami_analytic()
    closed_13 = 1 - s1[1]  # x2 acts additively: everything else belongs to {x1, x3}
    np.testing.assert_allclose(res.s1[0], [closed_13, s1[1]], atol=0.02)
    np.testing.assert_allclose(res.st[0], [closed_13, st[1]], atol=0.02)
    assert np.all(np.isnan(res.s1_conf))


def test_multi_target_and_table():
    def f(x):
        return np.column_stack([ishigami(x), 3.0 * x[:, 1] + 1e9])

    res = sobol(PI_INPUTS, f, 1024, seed=2, n_bootstrap=50, target_names=["ish", "lin"])
    assert isinstance(res, SobolResult)
    assert res.s1.shape == (2, 3) and res.targets == ("ish", "lin")
    np.testing.assert_allclose(res.s1[1], [0, 1, 0], atol=0.01)
    np.testing.assert_allclose(res.st[1], [0, 1, 0], atol=0.01)
    assert res.s1[1, 0] == 0 and res.st[1, 2] == 0  # f_ABj == f_A exactly
    table = res.table()
    assert len(table) == 6
    assert set(table[0]) == {"target", "input", "s1", "s1_conf", "st", "st_conf"}
    assert [r["input"] for r in table if r["target"] == "lin"] == ["x1", "x2", "x3"]
    assert res.order("ish")[0] == 0 and res.order("lin")[0] == 1
    with pytest.raises(ValueError):
        res.s1[0, 0] = 1.0  # results are read-only


def test_f_called_once_and_chunking():
    calls = []

    def f(x):
        calls.append(x.shape[0])
        return ishigami(x)

    whole = sobol(PI_INPUTS, f, 256, seed=3, n_bootstrap=20)
    assert calls == [256 * 5]
    calls.clear()
    chunked = sobol(PI_INPUTS, f, 256, seed=3, n_bootstrap=20, chunk_size=500)
    assert calls == [500, 500, 280]
    assert whole.table() == chunked.table()


def test_constant_target_warns_and_is_nan():
    y = np.column_stack([np.ones(64 * 4), np.arange(64 * 4.0)])
    with pytest.warns(UncertainCostWarning, match="constant"):
        res = sobol_indices(y, 64, 2, n_bootstrap=10, seed=0)
    assert np.all(np.isnan(res.s1[0])) and np.all(np.isnan(res.st_conf[0]))
    assert np.all(np.isfinite(res.s1[1]))


def test_input_errors():
    y = np.zeros(10)
    with pytest.raises(ValueError, match="Y_design"):
        sobol_indices(y, 4, 2, seed=0)
    with pytest.raises(ValueError, match="seed"):
        sobol_indices(np.arange(16.0), 4, 2, seed=None)
    with pytest.raises(ValueError, match="conf_level"):
        sobol_indices(np.arange(16.0), 4, 2, seed=0, conf_level=95)
    bad = np.arange(16.0)
    bad[3] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        sobol_indices(bad, 4, 2, seed=0)
    with pytest.raises(ValueError, match="shape"):
        sobol(PI_INPUTS, lambda x: x[:, :, None], 8, seed=0)
    with pytest.raises(ValueError, match="unique"):
        sobol([PI_INPUTS[0], PI_INPUTS[0]], ishigami, 8, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sobol_indices(np.arange(16.0), 4, 2, seed=0, n_bootstrap=0)


def test_serial_and_parallel_kernels_identical(monkeypatch):
    yt, idx = _random_case(seed=4, n=256, k=6, n_targets=4, n_res=64)
    serial = sobol_module._indices_serial(yt, idx)
    parallel = sobol_module._indices_parallel(yt, idx)
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(a, b)
    y = np.random.default_rng(6).normal(size=(128 * 5, 3))
    ref = sobol_indices(y, 128, 3, n_bootstrap=40, seed=1)
    monkeypatch.setattr(sobol_module, "_PARALLEL_MIN_WORK", 0)
    par = sobol_indices(y, 128, 3, n_bootstrap=40, seed=1)
    assert ref.table() == par.table()
