"""First- and total-order Sobol indices with bootstrap confidence intervals.

Layers, as in ArviZ: :func:`_indices_numpy` is the NumPy reference implementation of the
estimators over a batch of bootstrap resamples; :func:`_indices_numba` computes the same
numbers in a compiled kernel, parallel over (resample, target) pairs for large batches
(serial for small ones, where threads cost more than they save). Each pair is
computed by one thread with a fixed summation order and written to its own slot, and the
resample indices are drawn beforehand from one :class:`numpy.random.Generator` seeded by a
:class:`numpy.random.SeedSequence`, so the output does not depend on the thread count.

Estimators, with ``f_A``, ``f_B``, ``f_ABj`` the model outputs on the design blocks (see
:mod:`uncertain_cost.sensitivity.design`) after centering on the design mean, and
``V = Var([f_A; f_B])``:

- first order (Saltelli et al. 2010): ``S_j = mean(f_B * (f_ABj - f_A)) / V``;
- total order (Jansen 1999, as recommended by Saltelli et al. 2010):
  ``ST_j = mean((f_A - f_ABj)**2) / (2 V)``.

These are the estimators SALib's ``sobol.analyze`` uses, with the same centering, so both
give the same point estimates on the same design.

References
----------
Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M., Tarantola, S. (2010).
Variance based sensitivity analysis of model output. Design and estimator for the total
sensitivity index. Computer Physics Communications 181(2), 259-270.
doi:10.1016/j.cpc.2009.09.018

Jansen, M. J. W. (1999). Analysis of variance designs for model output. Computer Physics
Communications 117(1-2), 35-43. doi:10.1016/S0010-4655(98)00154-4
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numba import njit, prange
from scipy.special import ndtri

from uncertain_cost.errors import UncertainCostWarning
from uncertain_cost.forking import prefer_fork_safe_threading
from uncertain_cost.sensitivity._common import (
    ModelFunction,
    SensitivityInput,
    as_2d_output,
    blocks,
    evaluate,
    ppf_columns,
    target_labels,
    target_position,
)
from uncertain_cost.sensitivity.design import saltelli_layout, sobol_halves

prefer_fork_safe_threading()  # before this module's parallel kernels run (forked children may run them)

__all__ = ["SobolResult", "sobol_indices", "sobol"]

# Bootstrap indices are drawn and processed in batches of at most this many entries
# (resamples x n_base) to bound memory; batching does not change the numbers drawn.
_INDEX_BATCH = 1 << 22


@dataclass(frozen=True)
class SobolResult:
    """First- and total-order Sobol indices of every target with respect to every input.

    Attributes
    ----------
    inputs : tuple of str
        Input (or group) labels, in design order.
    targets : tuple of str
        Target labels (output columns of the model function).
    s1, s1_conf, st, st_conf : numpy.ndarray, shape (n_targets, n_inputs)
        First-order index, total-order index, and the half-widths of their confidence
        intervals: ``z * sd`` of the bootstrap replicates, ``z`` the standard-normal
        quantile of ``(1 + conf_level) / 2`` (SALib's definition). NaN for a target whose
        output does not vary.
    n_base : int
        Base sample size ``N``; the model was evaluated on ``N * (n_inputs + 2)`` rows.
    n_bootstrap : int
        Number of bootstrap resamples (0: no intervals, ``*_conf`` are NaN).
    conf_level : float
        Confidence level of the intervals.
    seed : object
        Seed the bootstrap (and, for :func:`sobol`, the design) was derived from.
    """

    inputs: tuple[str, ...]
    targets: tuple[str, ...]
    s1: np.ndarray
    s1_conf: np.ndarray
    st: np.ndarray
    st_conf: np.ndarray
    n_base: int
    n_bootstrap: int
    conf_level: float
    seed: object = None

    def __post_init__(self) -> None:
        for name in ("s1", "s1_conf", "st", "st_conf"):
            arr = np.array(getattr(self, name), dtype=np.float64)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    def _target_index(self, target: str | int) -> int:
        return target_position(self.targets, target)

    def order(self, target: str | int = 0) -> np.ndarray:
        """Input indices sorted by total-order index, largest first (NaN last).

        Parameters
        ----------
        target : str or int
            Target label or position.

        Returns
        -------
        numpy.ndarray of int
        """
        st = self.st[self._target_index(target)]
        return np.argsort(np.where(np.isnan(st), -np.inf, -st), kind="stable")

    def table(self) -> list[dict[str, object]]:
        """Rows ``target, input, s1, s1_conf, st, st_conf``, inputs in design order.

        Returns
        -------
        list of dict
            One dict per (target, input) pair, targets in order.
        """
        rows = []
        for t, target in enumerate(self.targets):
            for j, name in enumerate(self.inputs):
                rows.append(
                    {
                        "target": target,
                        "input": name,
                        "s1": float(self.s1[t, j]),
                        "s1_conf": float(self.s1_conf[t, j]),
                        "st": float(self.st[t, j]),
                        "st_conf": float(self.st_conf[t, j]),
                    }
                )
        return rows


def _indices_numpy(yt: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compute the estimators over resamples (NumPy reference).

    Parameters
    ----------
    yt : numpy.ndarray, shape (n_targets, n_base, k + 2)
        Centered outputs; last axis ``[A, B, AB_0, ..., AB_(k-1)]``.
    idx : numpy.ndarray of int, shape (n_resamples, n_base)
        Row indices of each resample (``arange(n_base)`` for the point estimate).

    Returns
    -------
    s1, st : numpy.ndarray, shape (n_resamples, n_targets, k)
    """
    y = yt[:, idx, :]  # (T, R, N, k+2)
    a, b, ab = y[..., 0], y[..., 1], y[..., 2:]
    var = np.var(np.concatenate([a, b], axis=-1), axis=-1)  # (T, R)
    num1 = np.mean(b[..., None] * (ab - a[..., None]), axis=-2)  # (T, R, k)
    numt = 0.5 * np.mean((a[..., None] - ab) ** 2, axis=-2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (var > 0)[..., None]
        s1 = np.where(ok, num1 / var[..., None], np.nan)
        st = np.where(ok, numt / var[..., None], np.nan)
    return s1.transpose(1, 0, 2), st.transpose(1, 0, 2)


@njit(cache=True)
def _pair(yt, idx, r, t, s1, st):  # pragma: no cover - compiled
    """Estimate all k indices of target ``t`` on resample ``r`` (fixed summation order)."""
    n = yt.shape[1]
    k = yt.shape[2] - 2
    num1 = np.zeros(k)
    numt = np.zeros(k)
    total = 0.0
    for i in range(n):
        row = idx[r, i]
        total += yt[t, row, 0] + yt[t, row, 1]
    mean = total / (2 * n)
    ss = 0.0
    for i in range(n):
        row = idx[r, i]
        a = yt[t, row, 0]
        b = yt[t, row, 1]
        ss += (a - mean) ** 2 + (b - mean) ** 2
        for j in range(k):
            ab = yt[t, row, 2 + j]
            num1[j] += b * (ab - a)
            numt[j] += (a - ab) ** 2
    var = ss / (2 * n)
    for j in range(k):
        if var > 0.0:
            s1[r, t, j] = num1[j] / n / var
            st[r, t, j] = 0.5 * numt[j] / n / var
        else:
            s1[r, t, j] = np.nan
            st[r, t, j] = np.nan


@njit(cache=True)
def _indices_serial(yt, idx):  # pragma: no cover - compiled
    """Compiled twin of :func:`_indices_numpy`, one thread."""
    n_t, k = yt.shape[0], yt.shape[2] - 2
    n_res = idx.shape[0]
    s1 = np.empty((n_res, n_t, k))
    st = np.empty((n_res, n_t, k))
    for q in range(n_res * n_t):
        _pair(yt, idx, q // n_t, q % n_t, s1, st)
    return s1, st


@njit(parallel=True, cache=True)
def _indices_parallel(yt, idx):  # pragma: no cover - compiled
    """Compiled twin of :func:`_indices_numpy`, parallel over (resample, target) pairs."""
    n_t, k = yt.shape[0], yt.shape[2] - 2
    n_res = idx.shape[0]
    s1 = np.empty((n_res, n_t, k))
    st = np.empty((n_res, n_t, k))
    for q in prange(n_res * n_t):
        _pair(yt, idx, q // n_t, q % n_t, s1, st)
    return s1, st


# Below this many operations (resamples x targets x rows x (k + 2)) threads cost more than
# they save (~5 ms of serial work), especially on a loaded machine.
_PARALLEL_MIN_WORK = 10_000_000


def _indices_numba(yt: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compiled twin of :func:`_indices_numpy` (same arguments, same results).

    Small batches run on one thread, large ones in parallel; both execute the same
    per-pair code, so the choice does not change a single bit of the output.
    """
    work = idx.shape[0] * yt.shape[0] * yt.shape[1] * yt.shape[2]
    kernel = _indices_parallel if work >= _PARALLEL_MIN_WORK else _indices_serial
    return kernel(yt, idx)


_ENGINES = {"numba": _indices_numba, "numpy": _indices_numpy}


def _bootstrap_batches(rng: np.random.Generator, n_bootstrap: int, n_base: int, batch: int):
    """Yield bootstrap row-index arrays of at most ``batch`` resamples each, in order.

    Successive draws from one generator: the concatenation does not depend on ``batch``.
    """
    done = 0
    while done < n_bootstrap:
        size = min(batch, n_bootstrap - done)
        yield rng.integers(0, n_base, size=(size, n_base), dtype=np.int64)
        done += size


def _bootstrap_rng(seed) -> np.random.Generator:
    if seed is None:
        raise ValueError("seed: expected an int or SeedSequence (no hidden randomness), got None")
    if isinstance(seed, np.random.Generator):
        return seed
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return np.random.default_rng(ss)


def _check_arguments(n_base, k, n_bootstrap, conf_level, engine) -> None:
    """Raise ValueError naming the first bad argument of :func:`sobol_indices`."""
    if isinstance(n_base, bool) or not isinstance(n_base, int | np.integer) or n_base < 2:
        raise ValueError(f"n_base: expected an int >= 2, got {n_base!r}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k: expected a positive int, got {k!r}")
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int | np.integer):
        raise ValueError(f"n_bootstrap: expected an int >= 0, got {n_bootstrap!r}")
    if n_bootstrap < 0 or n_bootstrap == 1:
        raise ValueError(f"n_bootstrap: expected 0 or an int >= 2, got {n_bootstrap}")
    if not 0.0 < conf_level < 1.0:
        raise ValueError(f"conf_level: expected a value in (0, 1), got {conf_level!r}")
    if engine not in _ENGINES:
        raise ValueError(f"engine: expected one of {sorted(_ENGINES)}, got {engine!r}")


def _bootstrap_conf(kernel, yt: np.ndarray, rng, n_bootstrap: int, conf_level: float):
    """Half-widths ``z * sd`` of the bootstrap replicates of the first-order and total indices."""
    n_targets, n_base, k = yt.shape[0], yt.shape[1], yt.shape[2] - 2
    reps1 = np.empty((n_bootstrap, n_targets, k))
    repst = np.empty_like(reps1)
    batch = max(1, _INDEX_BATCH // n_base)
    done = 0
    for idx in _bootstrap_batches(rng, n_bootstrap, n_base, batch):
        b1, bt = kernel(yt, idx)
        reps1[done : done + idx.shape[0]] = b1
        repst[done : done + idx.shape[0]] = bt
        done += idx.shape[0]
    z = float(ndtri(0.5 + conf_level / 2.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN for constant targets
        return z * np.nanstd(reps1, axis=0, ddof=1), z * np.nanstd(repst, axis=0, ddof=1)


def _input_labels(input_names: Sequence[str] | None, k: int) -> tuple[str, ...]:
    """``k`` input labels (``x0, x1, ...`` by default)."""
    if input_names is None:
        return tuple(f"x{j}" for j in range(k))
    inputs = tuple(str(name) for name in input_names)
    if len(inputs) != k:
        raise ValueError(f"input_names: expected {k} names, got {len(inputs)}")
    return inputs


def _centered(y: np.ndarray, targets: Sequence[str], n_base: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Center (and scale, for conditioning) each target over the whole design, as SALib.

    Returns the outputs as (target, base row, matrix) and which targets are constant.
    """
    sd = y.std(axis=0)
    flat = sd == 0
    for t in np.flatnonzero(flat):
        warnings.warn(
            f"Sobol indices: target {targets[t]!r} is constant over the design; "
            "its indices are NaN",
            UncertainCostWarning,
            stacklevel=3,
        )
    y = (y - y.mean(axis=0)) / np.where(flat, 1.0, sd)
    return np.ascontiguousarray(y.reshape(k + 2, n_base, -1).transpose(2, 1, 0)), flat


def sobol_indices(
    Y_design,
    n_base: int,
    k: int,
    *,
    n_bootstrap: int = 1000,
    conf_level: float = 0.95,
    seed: int | np.random.SeedSequence | np.random.Generator,
    input_names: Sequence[str] | None = None,
    target_names: Sequence[str] | None = None,
    engine: Literal["numba", "numpy"] = "numba",
) -> SobolResult:
    """Estimate first- and total-order Sobol indices from outputs on a Saltelli design.

    Parameters
    ----------
    Y_design : array_like, shape (n_base * (k + 2),) or (n_base * (k + 2), n_targets)
        Model outputs on the rows of :func:`~uncertain_cost.sensitivity.sobol_design`
        (block layout ``[A; B; AB_0; ...; AB_(k-1)]``).
    n_base : int
        Base sample size ``N``.
    k : int
        Number of blocks ``AB_j``: inputs, or groups for a grouped design.
    n_bootstrap : int, default 1000
        Bootstrap resamples of the ``N`` base rows for the confidence intervals; 0 skips
        them (the ``*_conf`` fields are then NaN).
    conf_level : float, default 0.95
        Confidence level of the intervals, in (0, 1).
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Seeds the bootstrap: resample indices are drawn from
        ``default_rng(SeedSequence(seed))`` (a Generator is used as is). Same seed, same
        intervals, with any number of threads.
    input_names : sequence of str, optional
        ``k`` labels; default ``x0, x1, ...``.
    target_names : sequence of str, optional
        One label per output column; default ``y`` (1-D output) or ``y0, y1, ...``.
    engine : {"numba", "numpy"}, default "numba"
        Compiled kernel, or the NumPy reference implementation (same results).

    Returns
    -------
    SobolResult

    Raises
    ------
    ValueError
        Wrong number of rows, non-finite outputs, bad parameters.

    Warns
    -----
    UncertainCostWarning
        A target does not vary over the design (its indices are NaN).

    Notes
    -----
    Outputs are centered on their mean over the whole design before estimation, as in
    SALib; the first-order estimator is not invariant to a shift of the output otherwise.
    The intervals are the normal approximation ``estimate +/- z * sd(bootstrap)``. The
    bootstrap treats the base rows as independent draws; on a scrambled Sobol' design the
    estimates are usually more accurate than that, so the intervals are conservative.

    References
    ----------
    Saltelli et al. (2010), doi:10.1016/j.cpc.2009.09.018 (first order, design).
    Jansen (1999), doi:10.1016/S0010-4655(98)00154-4 (total order).
    """
    _check_arguments(n_base, k, n_bootstrap, conf_level, engine)
    n_base, k, n_bootstrap = int(n_base), int(k), int(n_bootstrap)
    rng = _bootstrap_rng(seed)
    y, ndim = as_2d_output(Y_design, n_base * (k + 2), "Y_design")
    targets = target_labels(y.shape[1], target_names, ndim)
    inputs = _input_labels(input_names, k)
    yt, flat = _centered(y, targets, n_base, k)

    kernel = _ENGINES[engine]
    s1, st = kernel(yt, np.arange(n_base, dtype=np.int64)[None, :])
    s1, st = s1[0].copy(), st[0].copy()  # (T, k)
    s1[flat], st[flat] = np.nan, np.nan

    if n_bootstrap:
        s1_conf, st_conf = _bootstrap_conf(kernel, yt, rng, n_bootstrap, conf_level)
    else:
        s1_conf = np.full_like(s1, np.nan)
        st_conf = np.full_like(st, np.nan)

    return SobolResult(
        inputs=inputs,
        targets=targets,
        s1=s1,
        s1_conf=s1_conf,
        st=st,
        st_conf=st_conf,
        n_base=n_base,
        n_bootstrap=n_bootstrap,
        conf_level=float(conf_level),
        seed=seed,
    )


def sobol(
    inputs: Sequence[SensitivityInput],
    f: ModelFunction,
    n_base: int,
    seed: int | np.random.SeedSequence,
    *,
    n_bootstrap: int = 1000,
    conf_level: float = 0.95,
    target_names: Sequence[str] | None = None,
    by_group: bool = False,
    chunk_size: int | None = None,
    engine: Literal["numba", "numpy"] = "numba",
) -> SobolResult:
    """Sobol indices of a model function: design, evaluation, estimation in one call.

    Parameters
    ----------
    inputs : sequence of objects with ``name``, ``ppf`` (and optionally ``group``)
        The uncertain inputs, treated as independent.
    f : callable
        ``f(X) -> Y`` with ``X`` of shape ``(n_rows, len(inputs))`` holding input values
        (column ``i`` = ``inputs[i].ppf(u)``), ``Y`` of shape ``(n_rows,)`` or
        ``(n_rows, n_targets)``. Called once with all ``n_base * (n_blocks + 2)`` rows
        (or once per chunk of ``chunk_size`` rows).
    n_base : int
        Base sample size ``N``, a power of two.
    seed : int or numpy.random.SeedSequence
        Root seed; its :meth:`~numpy.random.SeedSequence.spawn` children seed the design
        scrambling and the bootstrap.
    n_bootstrap : int, default 1000
        Bootstrap resamples for the confidence intervals (0: none).
    conf_level : float, default 0.95
        Confidence level of the intervals.
    target_names : sequence of str, optional
        One label per output column of ``f``.
    by_group : bool, default False
        Estimate indices of groups of inputs (their ``group`` attribute) instead of single
        inputs: the inputs of a group are resampled together. Inputs without a group are
        their own group.
    chunk_size : int, optional
        Evaluate ``f`` on at most this many rows at a time (bounds memory).
    engine : {"numba", "numpy"}, default "numba"
        Estimator implementation.

    Returns
    -------
    SobolResult
        ``inputs`` holds input names (or group labels with ``by_group``).

    References
    ----------
    Saltelli et al. (2010), doi:10.1016/j.cpc.2009.09.018.
    Jansen (1999), doi:10.1016/S0010-4655(98)00154-4.
    """
    inputs = list(inputs)
    labels, members, _ = blocks(inputs, by_group)
    if seed is None:
        raise ValueError("seed: expected an int or SeedSequence (no hidden randomness), got None")
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    design_seed, boot_seed = root.spawn(2)
    block_of = np.empty(len(inputs), dtype=np.int64)
    for j, cols in enumerate(members):
        block_of[list(cols)] = j
    # sobol_design's points, mapped half by half (ppf is elementwise); blocks numbered in order of first column
    a, b = sobol_halves(n_base, len(inputs), design_seed)
    x = saltelli_layout(ppf_columns(inputs, a), ppf_columns(inputs, b), block_of)
    y, ndim = evaluate(f, x, chunk_size)
    result = sobol_indices(
        y if ndim == 2 else y[:, 0],
        n_base,
        len(labels),
        n_bootstrap=n_bootstrap,
        conf_level=conf_level,
        seed=boot_seed,
        input_names=labels,
        target_names=target_names,
        engine=engine,
    )
    return replace(result, seed=seed)
