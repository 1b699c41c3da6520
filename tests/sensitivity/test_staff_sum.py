"""The development target's compiled staff sum gives NumPy's bits (uncertain_cost.sensitivity.staff_sum)."""

from __future__ import annotations

import numpy as np
import pytest

from uncertain_cost.sensitivity.staff_sum import numpy_pairwise_sum, staff_annual

LENGTHS = [*range(1, 140), 255, 256, 257, 511, 945, 1024, 1031, 3780, 8191, 8192, 8193, 20_000]


@pytest.mark.parametrize("signs", ["positive", "mixed"])
def test_the_pairwise_sum_has_the_bits_of_numpy_sum(signs):
    rng = np.random.default_rng(7)
    for n in LENGTHS:
        values = rng.lognormal(10.0, 2.0, size=n + 5)
        if signs == "mixed":
            values *= rng.choice([-1.0, 1.0], size=values.size)
        for start in (0, 5):
            expected = values[start:start + n].sum()
            assert numpy_pairwise_sum(values, start, n) == expected, (n, start)
            assert numpy_pairwise_sum(values[start:start + n].copy(), 0, n) == expected


@pytest.mark.parametrize("n", [5, 9])
def test_a_sum_of_negative_zeros_has_the_sign_numpy_gives(n):
    zeros = np.full(n, -0.0)
    assert np.signbit(numpy_pairwise_sum(zeros, 0, n)) == np.signbit(zeros.sum())


def _numpy_formula(x, roles):
    """The NumPy form the kernel replaced: temporaries per role, ndarray.sum(axis=1)."""
    annual = np.zeros(x.shape[0])
    for salary, overhead, equity, fte in roles:
        pay = x[:, salary] * x[:, overhead]
        if equity is not None:
            pay += x[:, equity]
        pay *= x[:, fte]
        annual += pay.sum(axis=1)
    return annual


def test_staff_annual_has_the_bits_of_the_numpy_formula():
    rng = np.random.default_rng(11)
    counts = [3, 130, 1, 945, 17]
    starts, roles, column = [], [], 0
    for i, m in enumerate(counts):
        kinds = {}
        for kind in ("salary", "overhead", "equity", "fte"):
            if kind == "equity" and i == 1:  # a role without equity
                kinds[kind] = -1
                continue
            kinds[kind] = column
            column += m
        starts.append([kinds["salary"], kinds["overhead"], kinds["equity"], kinds["fte"]])
        roles.append(tuple(None if kinds[k] < 0 else slice(kinds[k], kinds[k] + m)
                           for k in ("salary", "overhead", "equity", "fte")))
    x = rng.lognormal(0.0, 1.0, size=(300, column + 2))
    got = staff_annual(x, np.array(starts), np.array(counts))
    np.testing.assert_array_equal(got, _numpy_formula(x, roles))
    strided = np.asfortranarray(x)  # any memory layout: the same bits
    np.testing.assert_array_equal(staff_annual(strided, np.array(starts), np.array(counts)), got)


def test_no_roles_cost_nothing():
    x = np.ones((4, 3))
    np.testing.assert_array_equal(staff_annual(x, np.empty((0, 4), dtype=np.int64), np.empty(0, dtype=np.int64)),
                                  np.zeros(4))
