"""Pieces shared by the tornado and Sobol analyses: inputs, bars/groups, model evaluation.

A sensitivity *input* is any object with a ``name`` (str), a vectorized inverse CDF
``ppf(u)`` and, optionally, a ``group`` (str or None). A *model function* ``f`` takes the
matrix ``X`` of shape ``(n_rows, k)`` (column ``i`` holds values of ``inputs[i]``, already
transformed through its ``ppf``) and returns ``Y`` of shape ``(n_rows,)`` or
``(n_rows, n_targets)``: one call evaluates many scenarios.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["SensitivityInput", "ModelFunction"]


@runtime_checkable
class SensitivityInput(Protocol):
    """What the sensitivity layer needs from an input (``group`` is optional).

    Attributes
    ----------
    name : str
        Unique label of the input; used in result tables.

    Methods
    -------
    ppf(u)
        Inverse CDF, vectorized: an array of probabilities in (0, 1) in, values of the
        same shape out.
    """

    name: str

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF, vectorized over ``u``."""
        ...


ModelFunction = Callable[[np.ndarray], np.ndarray]
"""``f(X) -> Y``: ``X`` of shape (n_rows, k), ``Y`` of shape (n_rows,) or (n_rows, n_targets)."""


def check_inputs(inputs: Sequence[SensitivityInput]) -> tuple[str, ...]:
    """Validate the inputs and return their names (unique, in order)."""
    inputs = list(inputs)
    if not inputs:
        raise ValueError("inputs: expected at least one input, got an empty sequence")
    names = []
    for i, inp in enumerate(inputs):
        name = getattr(inp, "name", None)
        if not isinstance(name, str) or not name:
            raise ValueError(
                f"inputs[{i}]: expected a non-empty str attribute 'name', got {name!r}"
            )
        if not callable(getattr(inp, "ppf", None)):
            raise ValueError(f"inputs[{i}] ({name!r}): expected a callable 'ppf' (inverse CDF)")
        names.append(name)
    seen = set()
    dupes = sorted({n for n in names if n in seen or seen.add(n)})
    if dupes:
        raise ValueError(f"inputs: names must be unique, got duplicates {dupes}")
    return tuple(names)


def input_group(inp: SensitivityInput) -> str | None:
    """Return the input's ``group`` attribute, or None when it has none."""
    group = getattr(inp, "group", None)
    if group is not None and not isinstance(group, str):
        raise ValueError(f"input {inp.name!r}: expected 'group' to be a str or None, got {group!r}")
    return group or None


def blocks(
    inputs: Sequence[SensitivityInput], by_group: bool
) -> tuple[tuple[str, ...], tuple[tuple[int, ...], ...], tuple[str | None, ...]]:
    """Split inputs into the units that are varied together.

    Returns ``(labels, members, groups)``: one entry per unit. Without ``by_group`` every
    input is its own unit. With it, inputs sharing a ``group`` form one unit labelled by
    the group (units in order of first appearance); an input without a group stays alone,
    labelled by its name.
    """
    names = check_inputs(inputs)
    groups = [input_group(inp) for inp in inputs]
    if not by_group:
        return names, tuple((i,) for i in range(len(names))), tuple(groups)
    labels: list[str] = []
    members: dict[str, list[int]] = {}
    unit_groups: list[str | None] = []
    for i, (name, group) in enumerate(zip(names, groups, strict=True)):
        label = group if group is not None else name
        if label not in members:
            if group is None and label in set(groups):
                raise ValueError(
                    f"input {name!r} has no group but its name equals a group label; rename one"
                )
            labels.append(label)
            members[label] = []
            unit_groups.append(group)
        members[label].append(i)
    return tuple(labels), tuple(tuple(members[lab]) for lab in labels), tuple(unit_groups)


def ppf_values(inp: SensitivityInput, u: np.ndarray) -> np.ndarray:
    """``inp.ppf(u)`` as float64 of ``u``'s shape, with a clear error when it is not."""
    u = np.asarray(u, dtype=np.float64)
    x = np.asarray(inp.ppf(u), dtype=np.float64)
    if x.ndim == 0:
        x = np.full(u.shape, float(x))
    if x.shape != u.shape:
        raise ValueError(
            f"input {inp.name!r}: ppf returned shape {x.shape} for probabilities of shape {u.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"input {inp.name!r}: ppf returned non-finite values")
    return x


def ppf_columns(inputs: Sequence[SensitivityInput], u: np.ndarray) -> np.ndarray:
    """``x[:, i] = inputs[i].ppf(u[:, i])`` for every column, one call per run of inputs sharing a distribution.

    A development-cost target has one input per contributor and kind, all with the role's one
    distribution (thousands of columns): calling its ppf once on the run of columns instead of
    once per column removes the per-call overhead (about 1 s of a default run's Sobol stage).

    Parameters
    ----------
    inputs : sequence of SensitivityInput
        Inputs with a ``distribution`` attribute (`uncertain_cost.sensitivity.targets.Factor`)
        are batched with their neighbours of the same distribution object; others go alone.
    u : ndarray, shape (n, len(inputs))
        Probabilities.

    Returns
    -------
    ndarray, shape (n, len(inputs))
        Float64; element for element what the per-column calls give.
    """
    u = np.asarray(u, dtype=np.float64)
    x = np.empty_like(u)
    start, k = 0, len(inputs)
    while start < k:
        dist = getattr(inputs[start], "distribution", None)
        stop = start + 1
        while dist is not None and stop < k and getattr(inputs[stop], "distribution", None) is dist:
            stop += 1
        x[:, start:stop] = ppf_values(inputs[start], u[:, start:stop])
        start = stop
    return x


def target_labels(n_targets: int, target_names: Sequence[str] | None, ndim: int) -> tuple[str, ...]:
    """Target names: the given ones (checked), else ``y`` or ``y0, y1, ...``."""
    if target_names is None:
        return ("y",) if ndim == 1 else tuple(f"y{t}" for t in range(n_targets))
    names = tuple(str(t) for t in target_names)
    if len(names) != n_targets:
        raise ValueError(
            f"target_names: expected {n_targets} name(s) (one per output column of f), "
            f"got {len(names)}"
        )
    if len(set(names)) != len(names):
        raise ValueError(f"target_names: names must be unique, got {list(names)}")
    return names


def as_2d_output(y, n_rows: int, what: str = "f(X)") -> tuple[np.ndarray, int]:
    """Check a model output and return it as ``(n_rows, n_targets)`` float64 plus its ndim."""
    y = np.asarray(y, dtype=np.float64)
    if y.ndim not in (1, 2) or y.shape[0] != n_rows:
        raise ValueError(
            f"{what}: expected shape ({n_rows},) or ({n_rows}, n_targets), got {y.shape}"
        )
    ndim = y.ndim
    if ndim == 1:
        y = y[:, None]
    if y.shape[1] == 0:
        raise ValueError(f"{what}: expected at least one target column, got shape {y.shape}")
    bad = ~np.isfinite(y)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise ValueError(
            f"{what}: {rows.size} row(s) gave non-finite output (first rows {rows[:5].tolist()})"
        )
    return y, ndim


def evaluate(
    f: ModelFunction, X: np.ndarray, chunk_size: int | None = None
) -> tuple[np.ndarray, int]:
    """Evaluate ``f`` on ``X`` in one call (or in row chunks) and check the output.

    Returns ``(Y, ndim)`` with ``Y`` of shape ``(n_rows, n_targets)`` and ``ndim`` the
    dimensionality ``f`` returned (1 or 2).
    """
    n_rows = X.shape[0]
    if chunk_size is None or chunk_size >= n_rows:
        return as_2d_output(f(X), n_rows)
    if int(chunk_size) != chunk_size or chunk_size < 1:
        raise ValueError(f"chunk_size: expected a positive integer or None, got {chunk_size!r}")
    parts = []
    ndim = None
    for start in range(0, n_rows, int(chunk_size)):
        rows = X[start : start + int(chunk_size)]
        part, part_ndim = as_2d_output(f(rows), rows.shape[0], f"f(X[{start}:])")
        if ndim is not None and (part_ndim != ndim or part.shape[1] != parts[0].shape[1]):
            raise ValueError("f(X): chunks returned outputs of different shapes")
        ndim = part_ndim
        parts.append(part)
    return np.concatenate(parts, axis=0), ndim


def target_position(targets: Sequence[str], target: str | int) -> int:
    """Position of a target given by label or (possibly negative) position."""
    if isinstance(target, str):
        if target not in targets:
            raise KeyError(f"target {target!r} not in {list(targets)}")
        return list(targets).index(target)
    return range(len(targets))[target]
