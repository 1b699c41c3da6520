"""One-at-a-time (tornado) sensitivity (uncertain_cost.sensitivity.tornado)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats

from uncertain_cost.sensitivity import TornadoResult, format_value, plot_tornado, tornado


@dataclass(frozen=True)
class Inp:
    """Minimal stand-in for a distribution-backed input."""

    name: str
    dist: object
    group: str | None = None

    def ppf(self, u):
        return self.dist.ppf(u)


U01 = stats.uniform(0, 1)


class CountingModel:
    def __init__(self, fn):
        self.fn = fn
        self.calls = []

    def __call__(self, x):
        self.calls.append(x.copy())
        return self.fn(x)


def test_rows_and_values_linear():
    inputs = [Inp("a", U01), Inp("b", U01), Inp("c", stats.norm(10, 2))]
    f = CountingModel(lambda x: 1.0 * x[:, 0] + 4.0 * x[:, 1] - 0.5 * x[:, 2])
    res = tornado(inputs, f)
    assert len(f.calls) == 1 and f.calls[0].shape == (7, 3)  # 1 + 2k rows, one call
    x = f.calls[0]
    np.testing.assert_allclose(x[0], [0.5, 0.5, 10.0])
    np.testing.assert_allclose(x[1], [0.05, 0.5, 10.0])
    np.testing.assert_allclose(x[2], [0.95, 0.5, 10.0])
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(x[5:, 2], [10 - 2 * z, 10 + 2 * z])

    base = 0.5 + 2.0 - 5.0
    np.testing.assert_allclose(res.base, [base])
    np.testing.assert_allclose(res.output_low[0], [base - 0.45, base - 1.8, base + z])
    np.testing.assert_allclose(res.output_high[0], [base + 0.45, base + 1.8, base - z])
    np.testing.assert_allclose(res.swing[0], [0.9, 3.6, 2 * z])
    np.testing.assert_allclose(res.low_input, [0.05, 0.05, 10 - 2 * z])
    np.testing.assert_allclose(res.base_input, [0.5, 0.5, 10])


def test_sorted_largest_swing_first():
    inputs = [Inp(n, U01) for n in "abcd"]
    coef = np.array([1.0, -5.0, 3.0, 0.0])
    res = tornado(inputs, lambda x: x @ coef)
    assert [res.names[i] for i in res.order()] == ["b", "c", "a", "d"]
    table = res.table()
    assert [row["input"] for row in table] == ["b", "c", "a", "d"]
    swings = [row["swing"] for row in table]
    assert swings == sorted(swings, reverse=True)
    assert set(table[0]) == {
        "target",
        "input",
        "group",
        "low_input",
        "high_input",
        "output_low",
        "output_high",
        "swing",
        "base",
    }
    # b decreases the output: its high input gives the low output
    assert table[0]["output_high"] < table[0]["base"] < table[0]["output_low"]


def test_same_side_swing_non_monotone():
    # u: (x - 0.4)^2 has base 0.01 and both ends above it: low 0.1225, high 0.3025.
    # v: linear with swing 0.25 -- more than |high - low| = 0.18 of u, less than u's reach.
    inputs = [Inp("v", U01), Inp("u", U01)]
    res = tornado(inputs, lambda x: 0.25 / 0.9 * x[:, 0] + (x[:, 1] - 0.4) ** 2)
    b = res.names.index("u")
    base = res.base[0]
    assert res.output_low[0, b] > base and res.output_high[0, b] > base
    np.testing.assert_allclose(res.swing[0, b], 0.3025 - 0.01)
    np.testing.assert_allclose(res.swing[0, res.names.index("v")], 0.25)
    assert res.names[res.order()[0]] == "u"  # |high - low| alone would rank it second
    # symmetric non-monotone input: |high - low| = 0, but the swing is not
    res2 = tornado([Inp("s", U01)], lambda x: (x[:, 0] - 0.5) ** 2)
    np.testing.assert_allclose(res2.output_high - res2.output_low, [[0.0]], atol=1e-15)
    np.testing.assert_allclose(res2.swing, [[0.2025]])


def test_group_tornado_swings_group_together():
    inputs = [
        Inp("price", U01, group="hardware"),
        Inp("pue", U01, group="energy"),
        Inp("overhead", U01, group="hardware"),
        Inp("staff", U01),
    ]
    f = CountingModel(lambda x: 2 * x[:, 0] + 1 * x[:, 1] + 3 * x[:, 2] + 0.5 * x[:, 3])
    res = tornado(inputs, f, by_group=True)
    assert res.by_group and res.names == ("hardware", "energy", "staff")
    assert res.members == (("price", "overhead"), ("pue",), ("staff",))
    assert res.groups == ("hardware", "energy", None)
    x = f.calls[0]
    assert x.shape == (7, 4)
    np.testing.assert_allclose(x[1], [0.05, 0.5, 0.05, 0.5])  # both hardware inputs low
    np.testing.assert_allclose(x[2], [0.95, 0.5, 0.95, 0.5])
    np.testing.assert_allclose(res.swing[0], [0.9 * 5, 0.9, 0.45])
    # members of "hardware" share one distribution, so the group's swing values are defined
    assert res.low_input[0] == pytest.approx(0.05) and res.low_input[1] == pytest.approx(0.05)
    mixed = tornado([Inp("a", U01, group="g"), Inp("b", stats.uniform(0, 2), group="g")], f=lambda x: x.sum(axis=1),
                    by_group=True)
    assert np.isnan(mixed.low_input[0])  # members at different values: no single input value
    assert [row["input"] for row in res.table()] == ["hardware", "energy", "staff"]


def test_multi_target_names_and_base_values():
    inputs = [Inp("a", U01), Inp("b", U01)]
    res = tornado(
        inputs,
        lambda x: np.column_stack([x[:, 0], -10 * x[:, 1]]),
        target_names=["gpt4", "gemini"],
        base_values=[0.2, 0.3],
        low_q=0.1,
        high_q=0.9,
    )
    assert res.targets == ("gpt4", "gemini")
    np.testing.assert_allclose(res.base, [0.2, -3.0])
    assert res.names[res.order("gpt4")[0]] == "a"
    assert res.names[res.order("gemini")[0]] == "b"
    assert [r["target"] for r in res.table()] == ["gpt4"] * 2 + ["gemini"] * 2
    # a swung from its base 0.2 to 0.1 and 0.9: same side covered by the range
    np.testing.assert_allclose(res.swing[0], [0.8, 0.0])


def test_errors():
    inputs = [Inp("a", U01)]
    with pytest.raises(ValueError, match="low_q"):
        tornado(inputs, lambda x: x[:, 0], low_q=0.9, high_q=0.1)
    with pytest.raises(ValueError, match="shape"):
        tornado(inputs, lambda x: x[:2, 0])
    with pytest.raises(ValueError, match="non-finite"):
        tornado(inputs, lambda x: np.where(x[:, 0] > 0.9, np.inf, x[:, 0]))
    with pytest.raises(ValueError, match="target_names"):
        tornado(inputs, lambda x: x[:, 0], target_names=["a", "b"])
    with pytest.raises(ValueError, match="unique"):
        tornado([Inp("a", U01), Inp("a", U01)], lambda x: x[:, 0])
    with pytest.raises(ValueError, match="name"):
        tornado([object()], lambda x: x[:, 0])

    @dataclass
    class NoPpf:
        name: str = "x"

    with pytest.raises(ValueError, match="ppf"):
        tornado([NoPpf()], lambda x: x[:, 0])


def test_format_value():
    assert format_value(40.6e6) == "$40.6M"
    assert format_value(-1.234e9) == "-$1.23B"
    assert format_value(950.0) == "$950"
    assert format_value(0.0123, units="OOM/yr") == "0.0123"


def test_plot_tornado(tmp_path):
    from matplotlib.figure import Figure

    inputs = [Inp(n, U01) for n in "abc"] + [Inp("nm", U01)]
    res = tornado(
        inputs,
        lambda x: 1e7 * (x[:, 0] + 3 * x[:, 1] - 2 * x[:, 2] + 4 * (x[:, 3] - 0.4) ** 2) + 4e7,
        target_names=["GPT-4"],
    )
    assert isinstance(res, TornadoResult)
    path = tmp_path / "tornado.png"
    fig = plot_tornado(res, "GPT-4", path=path, top=3)
    assert isinstance(fig, Figure)
    assert path.stat().st_size > 1000
    ax = fig.axes[0]
    assert ax.get_xlabel() == "GPT-4 (USD)"
    ticks = dict(zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()], strict=True))
    assert len(ticks) == 3 and ticks[max(ticks)].startswith("b\n")  # largest swing on top
    assert ticks[min(ticks)].startswith("nm\n")
    texts = [t.get_text().strip() for t in ax.texts]
    low_b, high_b = res.output_low[0, 1], res.output_high[0, 1]
    assert format_value(low_b) in texts and format_value(high_b) in texts
    assert any(line.get_xdata()[0] == res.base[0] for line in ax.lines)
    # grouped result and non-USD units plot too, without writing a file
    fig2 = plot_tornado(res, 0, units="OOM/yr")
    assert fig2.axes[0].get_xlabel() == "GPT-4 (OOM/yr)"


# -- conditional bars (joint distribution) ----------------------------------------------------

from uncertain_cost.sensitivity.tornado import conditional_tornado  # noqa: E402


def test_conditional_linear_single_inputs():
    # y = a + 4 b: the median given a at its P95 is 0.95 + 4 * median(b) = base + 0.45 (up to the grid)
    inputs = [Inp("a", U01), Inp("b", U01), Inp("inert", stats.norm(0, 1))]
    res = conditional_tornado(inputs, lambda x: x[:, 0] + 4.0 * x[:, 1], seed=1, n_outer=101, n_inner=512)
    assert res.method == "conditional" and res.n_outer == 101 and res.n_inner == 512
    np.testing.assert_allclose(res.base, [2.5])
    # the ends are interpolated on the stratified grid u = (i + 0.5) / 101 at exactly P5 / P95
    np.testing.assert_allclose(res.output_high[0, :2] - res.output_low[0, :2], [0.9, 3.6], rtol=1e-9)
    # each end is the base plus the change of the median, up to the inner sample's MC error
    np.testing.assert_allclose(res.output_high[0, :2] - res.base[0], [0.45, 1.8], atol=0.12)
    np.testing.assert_allclose(res.output_low[0, :2] - res.base[0], [-0.45, -1.8], atol=0.12)
    assert res.swing[0, 2] == 0.0  # an input without effect has no bar
    np.testing.assert_allclose(res.low_input[:2], [0.05, 0.05], rtol=1e-9)
    assert list(res.order(0)) == [1, 0, 2]


def test_conditional_group_of_independent_columns_is_not_comonotone():
    # the slope of y_i = x_i against i: a common multiplier on every column (one-at-a-time
    # group swing) does not move it; independent draws of the columns do
    n = 12
    t = np.arange(n) - (n - 1) / 2
    inputs = [Inp(f"m[{i}]", stats.norm(0, 1), group="per_model") for i in range(n)]
    inputs.append(Inp("shift", stats.norm(0, 1)))

    def slope(x):
        return (x[:, :n] + x[:, [n]]) @ t / (t @ t)

    one = tornado(inputs, slope, by_group=True)
    cond = conditional_tornado(inputs, slope, seed=3)
    names = list(cond.names)
    assert one.swing[0, names.index("per_model")] < 1e-12  # the comonotone swing sees nothing
    # P5-P95 of the slope under independent columns: 2 * 1.645 / sqrt(t @ t), within MC error
    assert cond.swing[0, names.index("per_model")] == pytest.approx(2 * 1.645 / np.sqrt(t @ t), rel=0.25)
    assert cond.swing[0, names.index("shift")] < 1e-12
    assert np.isnan(cond.low_input[names.index("per_model")])


def test_conditional_reproducible_and_checked():
    inputs = [Inp("a", U01, "g"), Inp("b", U01, "g"), Inp("c", U01)]
    f = lambda x: x[:, 0] * x[:, 1] + x[:, 2]  # noqa: E731
    a = conditional_tornado(inputs, f, seed=5)
    b = conditional_tornado(inputs, f, seed=5)
    np.testing.assert_array_equal(a.output_low, b.output_low)
    np.testing.assert_array_equal(a.output_high, b.output_high)
    with pytest.raises(ValueError, match="n_outer"):
        conditional_tornado(inputs, f, seed=5, n_outer=4)
    with pytest.raises(ValueError, match="seed"):
        conditional_tornado(inputs, f, seed=None)
    with pytest.raises(ValueError, match="low_q"):
        conditional_tornado(inputs, f, seed=5, low_q=0.6, high_q=0.4)


def test_plot_conditional_tornado():
    inputs = [Inp("a", U01), Inp("b", U01, "g"), Inp("c", U01, "g")]
    res = conditional_tornado(inputs, lambda x: x.sum(axis=1), seed=2)
    fig = plot_tornado(res, 0, units="x")
    assert "conditional median" in fig.axes[0].get_legend().get_texts()[0].get_text()


def test_a_bars_columns_are_copied_as_runs_of_consecutive_columns():
    from uncertain_cost.sensitivity.tornado import _column_runs

    assert _column_runs([3, 4, 5, 9, 10, 12]) == [(slice(3, 6), slice(0, 3)), (slice(9, 11), slice(3, 5)),
                                                  (slice(12, 13), slice(5, 6))]
    assert _column_runs([7]) == [(slice(7, 8), slice(0, 1))]
