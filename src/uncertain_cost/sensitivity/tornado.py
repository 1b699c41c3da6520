"""One-at-a-time (tornado) sensitivity: swing each input, or group, between two quantiles.

The base case holds every input at its median (or at given base values). Each bar swings
one input (or, grouped, every input of one group together) to its low and then its high
quantile while the others stay at base. The model function is called once on the
``1 + 2 * n_bars`` rows::

    row 0           base case
    row 1 + 2 b     bar b at its low quantile
    row 2 + 2 b     bar b at its high quantile

so an expensive model (e.g. a growth-rate fit per row) costs only a few rows.

Swing
-----
The swing of a bar is the range of the three outputs it produces::

    swing = max(out_low, base, out_high) - min(out_low, base, out_high)

For an input whose effect is monotone, the base lies between the two ends and the swing is
``|out_high - out_low|``. For a non-monotone input both ends can land on the same side of
the base; ``|out_high - out_low|`` would then understate (even zero) an input that moves
the output a lot, while the range still measures how far the bar reaches from the base.
Bars are sorted by swing, largest first (ties keep input order).

A tornado only sees the two quantiles: an interior extreme of a non-monotone input is
missed. Sobol indices (:func:`~uncertain_cost.sensitivity.sobol`) see the whole range and
the interactions.

Conditional bars (:func:`conditional_tornado`)
----------------------------------------------
Swinging every column of a group to the same quantile (``by_group=True``) is a perfectly
correlated scenario: for a per-model input of 41 models the Monte Carlo never draws all
41 training times at their P95 together, and a common multiplier on every model does not
move a growth slope at all while independent draws do. :func:`conditional_tornado` instead
describes each group under the joint distribution the engine draws:

- ``n_inner`` joint draws of all inputs (independent columns, as the Monte Carlo) are
  shared by every bar (common random numbers);
- for bar ``g``, ``n_outer`` draws ``x_g`` of the group's own columns are taken (a
  stratified grid of quantiles for a group of one column, independent uniform draws
  otherwise), and for each the target's *conditional median* given ``x_g`` is estimated
  over the inner draws, the group's columns replaced by ``x_g``;
- the bar's change at each end is the ``low_q`` / ``high_q`` quantile (interpolated
  linearly between the sorted outer draws at plotting positions ``(i + 0.5) / n_outer``), over
  the outer draws, of (conditional median - unconditional median of the inner draws): how far the
  target's median moves when the group's draw sits in its lower / upper tail of effect,
  every other input drawn;
- ``output_low`` / ``output_high`` are ``base`` plus those changes, so that the bars of
  every tornado start from the same base and an input without effect has no bar.

For a monotone single input these are the target's median with that input at (about) its
``low_q`` / ``high_q`` quantile and the others drawn; for a group they measure how much
the group's joint draw moves the median, which is what its first-order Sobol index
measures in variance. The base is still the target with every input at its median.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from uncertain_cost.money import format_usd
from uncertain_cost.sensitivity._common import (
    ModelFunction,
    SensitivityInput,
    blocks,
    evaluate,
    ppf_columns,
    ppf_values,
    target_labels,
    target_position,
)

__all__ = ["TornadoResult", "tornado", "conditional_tornado", "plot_tornado"]

#: rows of one model-function call in :func:`conditional_tornado` (bounds memory) ...
_CONDITIONAL_ROWS = 1 << 15
#: ... and input values of one call (models with thousands of factors call with fewer rows)
_CONDITIONAL_VALUES = 1 << 24


@dataclass(frozen=True)
class TornadoResult:
    """Outputs of a tornado analysis, one bar per input (or group).

    Attributes
    ----------
    names : tuple of str
        Bar labels (input names, or group labels for a grouped tornado), in input order.
    groups : tuple of (str or None)
        Group of each bar.
    members : tuple of tuple of str
        Names of the inputs each bar swings (one name, unless grouped).
    targets : tuple of str
        Target labels (output columns of the model function).
    low_q, high_q : float
        Quantiles the inputs were swung to.
    base_input, low_input, high_input : numpy.ndarray, shape (n_bars,)
        Input value at base, low and high quantile; NaN for a bar of several inputs.
    base : numpy.ndarray, shape (n_targets,)
        Output with every input at base.
    output_low, output_high : numpy.ndarray, shape (n_targets, n_bars)
        Output with the bar's input(s) at the low / high quantile.
    by_group : bool
        Whether bars are groups.
    method : {"one_at_a_time", "conditional"}
        How bars were computed (module docstring).
    reference : numpy.ndarray, shape (n_targets,), optional
        For ``conditional``: the target's median over the inner joint draws.
    n_outer, n_inner : int
        For ``conditional``: draws of each bar's group and of the joint inner sample.
    """

    names: tuple[str, ...]
    groups: tuple[str | None, ...]
    members: tuple[tuple[str, ...], ...]
    targets: tuple[str, ...]
    low_q: float
    high_q: float
    base_input: np.ndarray
    low_input: np.ndarray
    high_input: np.ndarray
    base: np.ndarray
    output_low: np.ndarray
    output_high: np.ndarray
    by_group: bool = False
    method: str = "one_at_a_time"
    reference: np.ndarray | None = None
    n_outer: int = 0
    n_inner: int = 0

    def __post_init__(self) -> None:
        if self.reference is None:
            object.__setattr__(self, "reference", np.full(len(self.base), np.nan))
        for name in ("base_input", "low_input", "high_input", "base", "output_low", "output_high", "reference"):
            arr = np.array(getattr(self, name), dtype=np.float64)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def swing(self) -> np.ndarray:
        """Range of ``{output_low, base, output_high}`` per bar, shape (n_targets, n_bars)."""
        base = self.base[:, None]
        hi = np.maximum(np.maximum(self.output_low, self.output_high), base)
        lo = np.minimum(np.minimum(self.output_low, self.output_high), base)
        return hi - lo

    def target_index(self, target: str | int) -> int:
        """Position of a target given by label or position.

        Parameters
        ----------
        target : str or int

        Returns
        -------
        int
        """
        return target_position(self.targets, target)

    def order(self, target: str | int = 0) -> np.ndarray:
        """Bar indices sorted by swing, largest first (stable for ties).

        Parameters
        ----------
        target : str or int, default 0
            Target label or position.

        Returns
        -------
        numpy.ndarray of int
        """
        return np.argsort(-self.swing[self.target_index(target)], kind="stable")

    def table(self) -> list[dict[str, object]]:
        """Rows sorted by swing within each target.

        Returns
        -------
        list of dict
            Keys ``target, input, group, low_input, high_input, output_low, output_high,
            swing, base``; ``input`` is the bar label (a group label when grouped).
        """
        swing = self.swing
        rows = []
        for t, target in enumerate(self.targets):
            for b in self.order(t):
                rows.append(
                    {
                        "target": target,
                        "input": self.names[b],
                        "group": self.groups[b],
                        "low_input": float(self.low_input[b]),
                        "high_input": float(self.high_input[b]),
                        "output_low": float(self.output_low[t, b]),
                        "output_high": float(self.output_high[t, b]),
                        "swing": float(swing[t, b]),
                        "base": float(self.base[t]),
                    }
                )
        return rows


def tornado(
    inputs: Sequence[SensitivityInput],
    f: ModelFunction,
    *,
    low_q: float = 0.05,
    high_q: float = 0.95,
    target_names: Sequence[str] | None = None,
    by_group: bool = False,
    base_values: Sequence[float] | None = None,
) -> TornadoResult:
    """One-at-a-time sensitivity of a model function to each input (or group).

    Parameters
    ----------
    inputs : sequence of objects with ``name``, ``ppf`` (and optionally ``group``)
        The uncertain inputs.
    f : callable
        ``f(X) -> Y`` with ``X`` of shape ``(n_rows, len(inputs))`` holding input values
        (column ``i`` belongs to ``inputs[i]``), ``Y`` of shape ``(n_rows,)`` or
        ``(n_rows, n_targets)``. Called exactly once, with ``1 + 2 * n_bars`` rows.
    low_q, high_q : float, default 0.05 and 0.95
        Quantiles each input is swung to, ``0 < low_q < high_q < 1``.
    target_names : sequence of str, optional
        One label per output column; default ``y`` (1-D output) or ``y0, y1, ...``.
    by_group : bool, default False
        Swing all inputs of a group (their ``group`` attribute) together, to the same
        quantile: one bar per group. Inputs without a group keep their own bar. Members
        whose effects have opposite signs partly cancel in a group bar.
    base_values : sequence of float, optional
        Values of the inputs in the base case (e.g. the paper's central values); default
        the medians ``ppf(0.5)``.

    Returns
    -------
    TornadoResult

    Raises
    ------
    ValueError
        Bad quantiles, inputs, base values or model output (wrong shape, non-finite).
    """
    if not 0.0 < low_q < high_q < 1.0:
        raise ValueError(
            f"low_q, high_q: expected 0 < low_q < high_q < 1, got {low_q!r}, {high_q!r}"
        )
    inputs = list(inputs)
    labels, members, groups = blocks(inputs, by_group)
    k = len(inputs)
    quantiles = np.array([low_q, 0.5, high_q])
    values = np.stack([ppf_values(inp, quantiles) for inp in inputs])  # (k, 3)
    low, base_x, high = values[:, 0], values[:, 1].copy(), values[:, 2]
    if base_values is not None:
        base_x = np.asarray(base_values, dtype=np.float64)
        if base_x.shape != (k,) or not np.all(np.isfinite(base_x)):
            raise ValueError(
                f"base_values: expected {k} finite numbers (one per input), got {base_values!r}"
            )

    n_bars = len(labels)
    x = np.tile(base_x, (1 + 2 * n_bars, 1))
    for b, cols in enumerate(members):
        cols = list(cols)
        x[1 + 2 * b, cols] = low[cols]
        x[2 + 2 * b, cols] = high[cols]
    y, ndim = evaluate(f, x)
    targets = target_labels(y.shape[1], target_names, ndim)

    def per_bar(v: np.ndarray) -> np.ndarray:
        # a group's value is defined when all its members take the same value
        return np.array([v[c[0]] if np.all(v[list(c)] == v[c[0]]) else np.nan for c in members])

    names = [inp.name for inp in inputs]
    return TornadoResult(
        names=labels,
        groups=groups,
        members=tuple(tuple(names[i] for i in cols) for cols in members),
        targets=targets,
        low_q=float(low_q),
        high_q=float(high_q),
        base_input=per_bar(base_x),
        low_input=per_bar(low),
        high_input=per_bar(high),
        base=y[0],
        output_low=y[1::2].T,
        output_high=y[2::2].T,
        by_group=by_group,
    )


def _check_conditional(low_q, high_q, n_outer, n_inner, seed) -> None:
    """Raise ValueError naming the first bad argument of :func:`conditional_tornado`."""
    if not 0.0 < low_q < high_q < 1.0:
        raise ValueError(
            f"low_q, high_q: expected 0 < low_q < high_q < 1, got {low_q!r}, {high_q!r}"
        )
    for name, value in (("n_outer", n_outer), ("n_inner", n_inner)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 8:
            raise ValueError(f"{name}: expected an int >= 8, got {value!r}")
    if seed is None:
        raise ValueError("seed: expected an int or SeedSequence, got None")


def _outer_medians(f, template: np.ndarray, x_outer: np.ndarray, runs, n_inner: int, per_call: int,
                   n_targets: int) -> np.ndarray:
    """Median of ``f`` over the inner sample for each outer draw of one bar's columns (``runs``: `_column_runs`).

    ``template`` holds the inner sample repeated ``per_call`` times; the bar's columns are
    overwritten call by call and the caller restores them after the bar (``f`` must not
    modify its input).
    """
    n_outer = x_outer.shape[0]
    medians = np.empty((n_outer, n_targets))
    for start in range(0, n_outer, per_call):
        chunk = x_outer[start:start + per_call]
        rows = template[:chunk.shape[0] * n_inner]
        repeated = np.repeat(chunk, n_inner, axis=0)
        for columns, part in runs:  # slices: a group of thousands of columns is a few runs
            rows[:, columns] = repeated[:, part]
        y, _ = evaluate(f, rows)
        medians[start:start + chunk.shape[0]] = np.median(y.reshape(chunk.shape[0], n_inner, n_targets), axis=1)
    return medians


def _base_point(inputs: Sequence[SensitivityInput], base_values: Sequence[float] | None) -> np.ndarray:
    """Return the base case: every input at its median, or ``base_values`` (checked)."""
    k = len(inputs)
    base_x = np.array([float(ppf_values(inp, np.asarray([0.5]))[0]) for inp in inputs])
    if base_values is not None:
        base_x = np.asarray(base_values, dtype=np.float64)
        if base_x.shape != (k,) or not np.all(np.isfinite(base_x)):
            raise ValueError(
                f"base_values: expected {k} finite numbers (one per input), got {base_values!r}"
            )
    return base_x


def _bar_ends(medians: np.ndarray, x_outer: np.ndarray, shift: np.ndarray, low_q: float, high_q: float):
    """Quantiles ``low_q``/``high_q`` of the conditional medians per target (shifted to the base case).

    Returns (low per target, high per target, (input at low, input at high) of the first
    target, from the first column of ``x_outer``).
    """
    n_outer, n_targets = medians.shape
    positions = (np.arange(n_outer) + 0.5) / n_outer  # Hazen plotting positions
    low, high = np.empty(n_targets), np.empty(n_targets)
    ends = (np.nan, np.nan)
    for t in range(n_targets):
        order = np.argsort(medians[:, t], kind="stable")
        ranked = medians[order, t]
        low[t] = np.interp(low_q, positions, ranked) + shift[t]
        high[t] = np.interp(high_q, positions, ranked) + shift[t]
        if t == 0:
            ends = (np.interp(low_q, positions, x_outer[order, 0]), np.interp(high_q, positions, x_outer[order, 0]))
    return low, high, ends


def _column_runs(cols: list[int]) -> list[tuple[slice, slice]]:
    """Split a bar's columns into runs of consecutive ones: (columns of the rows, of the bar's draws) each.

    A development target's ``staff_salary`` bar holds one column per contributor, a few runs
    (one per role): copying slices instead of indexing thousands of columns made the same
    values in a fraction of the time.
    """
    runs, first = [], 0
    for j in range(1, len(cols) + 1):
        if j == len(cols) or cols[j] != cols[j - 1] + 1:
            runs.append((slice(cols[first], cols[j - 1] + 1), slice(first, j)))
            first = j
    return runs


def _outer_draws(inputs: Sequence[SensitivityInput], cols: list[int], n_outer: int, seq):
    """Column runs of one bar (`_column_runs`) and its outer draws.

    One input: ``n_outer`` evenly spaced quantiles; a group: ``n_outer`` random joint draws
    from stream ``seq``.
    """
    runs = _column_runs(cols)
    if len(cols) == 1:
        u_outer = ((np.arange(n_outer) + 0.5) / n_outer)[:, None]
    else:
        u_outer = np.random.default_rng(seq).random((n_outer, len(cols)))
    return runs, np.column_stack([ppf_values(inputs[c], u_outer[:, j]) for j, c in enumerate(cols)])


def conditional_tornado(
    inputs: Sequence[SensitivityInput],
    f: ModelFunction,
    seed: int | np.random.SeedSequence,
    *,
    low_q: float = 0.05,
    high_q: float = 0.95,
    target_names: Sequence[str] | None = None,
    by_group: bool = True,
    n_outer: int = 64,
    n_inner: int = 256,
    base_values: Sequence[float] | None = None,
) -> TornadoResult:
    """Tornado whose bars are conditional medians under the joint distribution.

    See the module docstring ("Conditional bars") for the definition: a bar's ends are the
    base plus the ``low_q`` / ``high_q`` quantiles, over ``n_outer`` draws of the bar's
    group, of the change in the target's median given that draw (the median over
    ``n_inner`` joint draws of every other input, minus the median of those joint draws
    unconditioned). Unlike :func:`tornado` with ``by_group=True`` no scenario outside the joint
    distribution is evaluated.

    Parameters
    ----------
    inputs : sequence of objects with ``name``, ``ppf`` (and optionally ``group``)
    f : callable
        ``f(X) -> Y`` as for :func:`tornado`; called on ``n_outer * n_inner`` rows per bar
        (in chunks of at most 32768 rows and 2**24 input values) plus the base row and the
        inner sample.
    seed : int or numpy.random.SeedSequence
        Root of the outer and inner draws: the same seed gives the same bars.
    low_q, high_q : float, default 0.05 and 0.95
    target_names : sequence of str, optional
    by_group : bool, default True
        One bar per group (inputs sharing ``group``); False: one bar per input.
    n_outer, n_inner : int, default 64 and 256
        Draws of each bar's group and of the shared inner joint sample (each >= 8).
    base_values : sequence of float, optional
        Inputs in the base case; default their medians.

    Returns
    -------
    TornadoResult
        ``method == "conditional"``; ``low_input`` / ``high_input`` are the input values of
        the outer draws at the bar's ends for a one-column bar, NaN for a group.

    Raises
    ------
    ValueError
        Bad quantiles, sizes, inputs, base values or model output.
    """
    _check_conditional(low_q, high_q, n_outer, n_inner, seed)
    inputs = list(inputs)
    labels, members, groups = blocks(inputs, by_group)
    k = len(inputs)
    base_x = _base_point(inputs, base_values)
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    inner_seq, *outer_seqs = root.spawn(1 + len(labels))
    u_inner = np.random.default_rng(inner_seq).random((n_inner, k))
    inner = ppf_columns(inputs, u_inner)
    y_base, ndim = evaluate(f, base_x[None, :])
    y_inner, _ = evaluate(f, inner, chunk_size=_CONDITIONAL_ROWS)
    targets = target_labels(y_base.shape[1], target_names, ndim)
    n_targets = y_base.shape[1]
    reference = np.median(y_inner, axis=0)

    out_low, out_high = np.empty((n_targets, len(labels))), np.empty((n_targets, len(labels)))
    in_low, in_high = np.full(len(labels), np.nan), np.full(len(labels), np.nan)
    per_call = min(n_outer, max(1, min(_CONDITIONAL_ROWS, _CONDITIONAL_VALUES // k) // n_inner))
    template = np.tile(inner, (per_call, 1))  # the inner sample repeated per outer draw of one call
    for b, cols in enumerate(members):
        cols = list(cols)
        runs, x_outer = _outer_draws(inputs, cols, n_outer, outer_seqs[b])
        medians = _outer_medians(f, template, x_outer, runs, n_inner, per_call, n_targets)
        for columns, _ in runs:  # the inner sample back in every block of the bar's columns
            template.reshape(per_call, n_inner, k)[:, :, columns] = inner[:, columns]
        out_low[:, b], out_high[:, b], ends = _bar_ends(medians, x_outer, y_base[0] - reference, low_q, high_q)
        if len(cols) == 1:
            in_low[b], in_high[b] = ends

    names = [inp.name for inp in inputs]
    return TornadoResult(
        names=labels,
        groups=groups,
        members=tuple(tuple(names[i] for i in cols) for cols in members),
        targets=targets,
        low_q=float(low_q),
        high_q=float(high_q),
        base_input=np.array([base_x[c[0]] if len(c) == 1 else np.nan for c in members]),
        low_input=in_low,
        high_input=in_high,
        base=y_base[0],
        output_low=out_low,
        output_high=out_high,
        by_group=by_group,
        method="conditional",
        reference=reference,
        n_outer=n_outer,
        n_inner=n_inner,
    )


def format_value(value: float, units: str = "USD") -> str:
    """Short label for a value: ``$40.6M`` for USD, 3 significant digits otherwise.

    Parameters
    ----------
    value : float
    units : str, default "USD"

    Returns
    -------
    str
    """
    if not math.isfinite(value):
        return str(value)
    if not _is_usd(units):
        return f"{value:.3g}"
    return format_usd(value)


def _is_usd(units: str) -> bool:
    """Whether ``units`` are dollars (``"USD"``, ``"$"``, ``"USD of 2023-12"``)."""
    return units.upper().startswith("USD") or units == "$"


def _bar_label(result: TornadoResult, b: int) -> str:
    """Y-axis label of bar ``b``: its name and input range (one input) or member count (a group)."""
    label = result.names[b]
    lo_in, hi_in = result.low_input[b], result.high_input[b]
    n_members = len(result.members[b])
    if np.isfinite(lo_in) and np.isfinite(hi_in):
        label += f"\n[{lo_in:.3g} to {hi_in:.3g}]"
        if n_members > 1:
            label += f" x{n_members}"
    else:
        label += f"\n({n_members} inputs)"
    return label


def _tick_label(value: float, _pos, units: str) -> str:
    """Axis tick label of ``value`` in ``units`` (a module function, so the figure pickles)."""
    return format_value(value, units)


def plot_tornado(
    result: TornadoResult,
    target: str | int,
    path: str | Path | None = None,
    top: int = 10,
    units: str = "USD",
):
    """Tornado chart of one target: bars from the base case to the low and high outputs.

    Parameters
    ----------
    result : TornadoResult
    target : str or int
        Target label or position.
    path : str or pathlib.Path, optional
        If given, the figure is also saved there (``fig.savefig``). The report module
        normally saves the returned figure itself.
    top : int, default 10
        Number of bars to show (largest swings).
    units : str, default "USD"
        Output units, shown in the axis title; ``"USD"`` also formats values as ``$40.6M``.

    Returns
    -------
    matplotlib.figure.Figure
        Built without pyplot (no global figure state, no GUI backend needed).
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValueError(f"top: expected a positive int, got {top!r}")
    t = result.target_index(target)
    name = result.targets[t]
    order = result.order(t)[:top]
    base = float(result.base[t])
    lo_pct, hi_pct = f"P{100 * result.low_q:g}", f"P{100 * result.high_q:g}"
    low_color, high_color = "#4C72B0", "#DD8452"

    n = len(order)
    fig = Figure(figsize=(8.0, 1.6 + 0.55 * n), layout="constrained")
    ax = fig.add_subplot()
    ylabels = []
    for pos, b in enumerate(order):
        y = n - 1 - pos  # largest swing on top
        out_lo, out_hi = float(result.output_low[t, b]), float(result.output_high[t, b])
        d_lo, d_hi = out_lo - base, out_hi - base
        same_side = d_lo * d_hi > 0
        # On the same side, draw the longer bar first and the shorter one thinner on top.
        bars = [(d_lo, low_color), (d_hi, high_color)]
        if same_side:
            bars.sort(key=lambda bar: -abs(bar[0]))
        for i, (width, color) in enumerate(bars):
            height = 0.4 if same_side and i == 1 else 0.7
            ax.barh(y, width, left=base, height=height, color=color, edgecolor="none")
        for value, delta, dy in ((out_lo, d_lo, -0.18), (out_hi, d_hi, 0.18)):
            ax.text(
                value,
                y + (dy if same_side else 0.0),
                f" {format_value(value, units)} " if delta else "",
                ha="left" if delta >= 0 else "right",
                va="center",
                fontsize=8,
            )
        ylabels.append((y, _bar_label(result, b)))

    ax.set_yticks([y for y, _ in ylabels], [lab for _, lab in ylabels], fontsize=8)
    ax.axvline(base, color="black", linewidth=1.0, linestyle="--")
    ax.margins(x=0.18)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(f"{name} ({units})")
    if _is_usd(units):
        ax.xaxis.set_major_formatter(FuncFormatter(partial(_tick_label, units=units)))  # picklable
    if result.method == "conditional":
        title = (f"{name}: median given each input's draw at its {lo_pct} / {hi_pct} of effect, "
                 f"others drawn (base {format_value(base, units)})")
        low_label, high_label = f"{lo_pct} of conditional median", f"{hi_pct} of conditional median"
    else:
        title = f"{name}: inputs swung {lo_pct} to {hi_pct}, others at base (base {format_value(base, units)})"
        low_label, high_label = f"input at {lo_pct}", f"input at {hi_pct}"
    ax.set_title(title, fontsize=10 if len(title) < 90 else 8)
    ax.legend(
        handles=[Patch(color=low_color, label=low_label), Patch(color=high_color, label=high_label), ax.lines[0]],
        labels=[low_label, high_label, "base case (inputs at medians)"],
        loc="lower right",
        fontsize=8,
    )
    ax.grid(axis="x", alpha=0.3)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
