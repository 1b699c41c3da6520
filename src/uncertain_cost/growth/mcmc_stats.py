"""Rank-normalized split R-hat and bulk/tail ESS, batched over many scalar series.

The formulas are those of ArviZ 0.23.4 (``arviz/stats/diagnostics.py``: ``_rhat_rank``,
``_ess_bulk``, ``_ess_tail``, ``_ess``, ``_rhat``, ``_split_chains``, ``_z_scale``,
``_backtransform_ranks``; ``arviz/stats/stats_utils.py``: ``autocov``, ``quantile``,
``stats_variance_2d``), reproduced operation by operation, down to the order of the
floating-point sums, so that the numbers are the same floats (checked against ArviZ in
``tests/growth/test_mcmc_stats.py``), but computed for many series at once: one argsort per
series serves both the bulk and the folded ranks (the folded order is merged from it), the
normal scores are looked up in a table of ``ndtri`` of the possible ranks, the bulk and both
tail-indicator ESS share one batch of FFTs, and small numba loops do the sums of squares and
Geyer's initial positive / monotone sequence truncation. Blocks of `_BLOCK` series run on up
to `_MAX_THREADS` threads (the series never mix, so the result does not depend on it). ArviZ
instead loops in Python over the series (through ``xarray.apply_ufunc``) and ranks each with
``scipy.stats.rankdata``.

ArviZ's conventions kept here:

- a series with a nan anywhere gives nan for all three statistics;
- fewer than 4 draws gives nan; R-hat needs at least 2 chains (else nan), ESS does not;
- chains are split in half, the middle draw of an odd draw count dropped;
- ranks are averaged over ties and back-transformed with Blom's offset 3/8;
- an (almost) constant input to the ESS (range below ``np.finfo(float).resolution``) has an
  ESS equal to its number of split draws; a constant series has R-hat nan (0/0);
- the ESS is at most ``n * log10(n)`` (``tau_hat >= 1 / log10(n)``);
- R-hat is ``max(bulk, folded)`` and the tail ESS ``min(ess(q05), ess(q95))`` with Python's
  ``max``/``min`` semantics (a nan second argument is ignored, a nan first one kept);
- the tail quantiles are R's type 7 (``scipy.stats.mstats.mquantiles(alphap=1, betap=1)``) of
  the unsplit draws, and the variances are ArviZ's numba ``stats_variance_1d`` (running sums
  of ``x`` and ``x**2``), not ``np.var`` (ArviZ's choice whenever numba is installed, as it
  is with this package);
- a series whose median is infinite (more than half its draws infinite) has a nan folded
  R-hat, so its R-hat is the bulk one.

Vehtari, Gelman, Simpson, Carpenter, Bürkner (2021), "Rank-normalization, folding, and
localization: an improved R-hat for assessing convergence of MCMC", Bayesian Analysis 16(2),
doi:10.1214/20-BA1221.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import fft
from scipy.fftpack import next_fast_len  # ArviZ's: 5-smooth, unlike scipy.fft's
from scipy.special import ndtri

from uncertain_cost.threads import available_cpus

__all__ = ["PosteriorSummary", "ess_bulk", "ess_tail", "rhat_rank", "summarize"]

_MIN_DRAWS = 4
_BLOM = 3 / 8
_TAIL_PROBS = (0.05, 0.95)
_BLOCK = 16  # series per block of work
_MAX_THREADS = 4


def _as_series(x) -> np.ndarray:
    """``x`` as a float64 array (n_series, chains, draws); a 2-D ``x`` is one series."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"expected an array (n_series, chains, draws), got shape {x.shape}")
    return x


def _invalid(x: np.ndarray, min_chains: int) -> np.ndarray:
    """Series ArviZ rejects (``_not_valid``): a nan anywhere, too few chains or draws."""
    bad = np.isnan(x).any(axis=(1, 2))
    if x.shape[1] < min_chains or x.shape[2] < _MIN_DRAWS:
        bad[:] = True
    return bad


def _clean(x: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """Zero the rejected series so that they compute quietly (their results become nan)."""
    if bad.any():
        x = x.copy()
        x[bad] = 0.0
    return x


def _split_chains(x: np.ndarray) -> np.ndarray:
    """First halves of all chains, then second halves (the middle draw of odd counts dropped)."""
    half = x.shape[2] // 2
    return np.concatenate((x[:, :, :half], x[:, :, x.shape[2] - half :]), axis=1)


@njit(cache=True, nogil=True)
def _assign_scores(sorted_values, positions, scores, out):  # pragma: no cover - compiled
    """``out[positions[k]] = scores[2 * rank]`` along sorted values, ties given their average rank.

    The average 1-based rank of a run of ties at sorted positions ``start..stop - 1`` is
    ``(start + 1 + stop) / 2``, as ``scipy.stats.rankdata(method="average")``.
    """
    n = sorted_values.shape[0]
    start = 0
    while start < n:
        stop = start + 1
        v = sorted_values[start]
        while stop < n and sorted_values[stop] == v:
            stop += 1
        score = scores[start + 1 + stop]
        for j in range(start, stop):
            out[positions[j]] = score
        start = stop


@njit(cache=True, nogil=True)
def _bulk_scores(sorted_values, order, scores, out):  # pragma: no cover - compiled
    """Write the normal scores of the ranks of each row (``order`` its argsort, ``sorted_values`` sorted)."""
    for r in range(sorted_values.shape[0]):
        _assign_scores(sorted_values[r], order[r], scores, out[r])


@njit(cache=True, nogil=True)
def _folded_scores(sorted_values, order, median, scores, out):  # pragma: no cover - compiled
    """Write the normal scores of the ranks of ``|values - median|`` of each row, without another sort.

    ``values - median`` is monotone in ``values``, so the folded values of the draws below the
    median, taken downwards, and of the others, taken upwards, are two sorted runs to merge.
    """
    rows, n = sorted_values.shape
    positions = np.empty(n, dtype=order.dtype)
    folded = np.empty(n)
    for r in range(rows):
        sv, med = sorted_values[r], median[r]
        below = 0
        while below < n and sv[below] < med:
            below += 1
        i, j = below - 1, below
        for k in range(n):
            if j >= n or (i >= 0 and abs(sv[i] - med) <= abs(sv[j] - med)):
                folded[k] = abs(sv[i] - med)
                positions[k] = order[r, i]
                i -= 1
            else:
                folded[k] = abs(sv[j] - med)
                positions[k] = order[r, j]
                j += 1
        _assign_scores(folded, positions, scores, out[r])


def _blom_scores(size: int) -> np.ndarray:
    """``ndtri`` of Blom's back-transform of every possible (half-integer) rank, by ``2 * rank``.

    Looking the scores up gives the same floats as ArviZ's ``norm.ppf`` of each rank.
    """
    ranks = 0.5 * np.arange(2 * size + 2)
    return ndtri((ranks - _BLOM) / (size - 2 * _BLOM + 1))


@dataclass(frozen=True)
class _Sorted:
    """The split draws of each series, flattened, with their argsort and sorted values."""

    split: np.ndarray
    order: np.ndarray
    values: np.ndarray

    @classmethod
    def of(cls, split: np.ndarray) -> _Sorted:
        flat = split.reshape(split.shape[0], -1)
        order = np.argsort(flat, axis=-1)
        return cls(split, order, np.take_along_axis(flat, order, axis=-1))

    def z_bulk(self) -> np.ndarray:
        """ArviZ's ``_z_scale`` of the split draws."""
        out = np.empty(self.values.shape)
        _bulk_scores(self.values, self.order, _blom_scores(self.values.shape[1]), out)
        return out.reshape(self.split.shape)

    def z_folded(self) -> np.ndarray:
        """ArviZ's ``_z_scale(abs(split - np.median(split)))``."""
        n = self.values.shape[1]  # even: 2 * chains * (draws // 2)
        median = np.mean(self.values[:, n // 2 - 1 : n // 2 + 1], axis=-1)  # as np.median
        out = np.empty(self.values.shape)
        _folded_scores(self.values, self.order, median, _blom_scores(n), out)
        # An infinite (or inf - inf) median folds some draws to nan: ArviZ's R-hat is then nan.
        out[~np.isfinite(median)] = np.nan
        return out.reshape(self.split.shape)


@njit(cache=True, nogil=True, error_model="numpy")
def _variance_rows(a, ddof):  # pragma: no cover - compiled
    """Variance of each row as ArviZ's numba ``stats_variance_1d`` computes it."""
    rows, n = a.shape
    out = np.empty(rows)
    for r in range(rows):
        a_a = 0.0
        b_b = 0.0
        for j in range(n):
            v = a[r, j]
            a_a = a_a + v
            b_b = b_b + v * v
        var = b_b / n - (a_a / n) ** 2
        out[r] = var * (n / (n - ddof))
    return out


def _rhat(x: np.ndarray) -> np.ndarray:
    """Split R-hat of already split (and z-scaled) series, ArviZ's ``_rhat``."""
    n_series, n_chain, num_samples = x.shape
    chain_mean = np.mean(x, axis=2)
    chain_var = _variance_rows(x.reshape(-1, num_samples), 1).reshape(n_series, n_chain)
    between_chain_variance = num_samples * _variance_rows(chain_mean, 1)
    within_chain_variance = np.mean(chain_var, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt((between_chain_variance / within_chain_variance + num_samples - 1) / num_samples)


def _autocov(x: np.ndarray) -> np.ndarray:
    """Autocovariance at every lag along the last axis (FFT), ArviZ's ``autocov``.

    The centred series are written straight into the zero-padded FFT buffer; the floats are
    those of ArviZ's ``np.fft.rfft(..., n=m)`` (scipy.fft runs the same pocketfft, faster).
    """
    n = x.shape[-1]
    m = next_fast_len(2 * n)
    buf = np.zeros((*x.shape[:-1], m))
    np.subtract(x, x.mean(axis=-1, keepdims=True), out=buf[..., :n])
    f = fft.rfft(buf, axis=-1)
    f *= np.conjugate(f)
    return fft.irfft(f, n=m, axis=-1)[..., :n] / n


@njit(cache=True, nogil=True)
def _block_sum(a, lo, n):  # pragma: no cover - compiled
    """NumPy's pairwise-summation leaf (``n <= 128``): eight running sums, then the rest."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r = a[lo : lo + 8].copy()
    i = 8
    while i < n - (n % 8):
        for j in range(8):
            r[j] += a[lo + i + j]
        i += 8
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True, nogil=True)
def _pairwise_sum(a, lo, n):  # pragma: no cover - compiled
    """Sum of ``a[lo:lo + n]`` in the order of NumPy's pairwise summation (as ``np.sum``).

    NumPy halves blocks longer than 128 (at a multiple of 8) and adds the two halves' sums;
    this walks the same tree with an explicit stack (numba caches no recursive functions).
    """
    if n <= 128:
        return _block_sum(a, lo, n)
    los = np.empty(128, dtype=np.int64)
    ns = np.empty(128, dtype=np.int64)
    done = np.zeros(128, dtype=np.bool_)
    sums = np.empty(128)
    top, n_sums = 0, 0
    los[0], ns[0], done[0] = lo, n, False
    while top >= 0:
        b_lo, b_n, b_done = los[top], ns[top], done[top]
        top -= 1
        if b_n <= 128:
            sums[n_sums] = _block_sum(a, b_lo, b_n)
            n_sums += 1
        elif b_done:
            sums[n_sums - 2] = sums[n_sums - 2] + sums[n_sums - 1]
            n_sums -= 1
        else:
            n2 = b_n // 2
            n2 -= n2 % 8
            top += 1
            los[top], ns[top], done[top] = b_lo, b_n, True
            top += 1
            los[top], ns[top], done[top] = b_lo + n2, b_n - n2, False
            top += 1
            los[top], ns[top], done[top] = b_lo, n2, False
    return sums[0]


@njit(cache=True, nogil=True, error_model="numpy")
def _geyer_ess(mean_acov, var_chain_means, n_chain, n_draw, size, min_tau):  # pragma: no cover - compiled
    """ESS from the chain-averaged autocovariances, ArviZ's ``_ess`` after its ``autocov``."""
    n_series = mean_acov.shape[0]
    out = np.empty(n_series)
    rho_hat_t = np.zeros(n_draw)
    for s in range(n_series):
        acov = mean_acov[s]
        mean_var = acov[0] * n_draw / (n_draw - 1.0)
        var_plus = mean_var * (n_draw - 1.0) / n_draw
        if n_chain > 1:
            var_plus += var_chain_means[s]
        rho_hat_t[:] = 0.0
        rho_hat_even = 1.0
        rho_hat_t[0] = rho_hat_even
        rho_hat_odd = 1.0 - (mean_var - acov[1]) / var_plus
        rho_hat_t[1] = rho_hat_odd
        # Geyer's initial positive sequence
        t = 1
        while t < (n_draw - 3) and (rho_hat_even + rho_hat_odd) > 0.0:
            rho_hat_even = 1.0 - (mean_var - acov[t + 1]) / var_plus
            rho_hat_odd = 1.0 - (mean_var - acov[t + 2]) / var_plus
            if (rho_hat_even + rho_hat_odd) >= 0:
                rho_hat_t[t + 1] = rho_hat_even
                rho_hat_t[t + 2] = rho_hat_odd
            t += 2
        max_t = t - 2
        if rho_hat_even > 0:
            rho_hat_t[max_t + 1] = rho_hat_even
        # Geyer's initial monotone sequence
        t = 1
        while t <= max_t - 2:
            if (rho_hat_t[t + 1] + rho_hat_t[t + 2]) > (rho_hat_t[t - 1] + rho_hat_t[t]):
                rho_hat_t[t + 1] = (rho_hat_t[t - 1] + rho_hat_t[t]) / 2.0
                rho_hat_t[t + 2] = rho_hat_t[t + 1]
            t += 2
        tau_hat = -1.0 + 2.0 * _pairwise_sum(rho_hat_t, 0, max_t + 1) + _pairwise_sum(rho_hat_t, max_t + 1, 1)
        if min_tau > tau_hat:  # Python's max(tau_hat, min_tau)
            tau_hat = min_tau
        ess = size / tau_hat
        if np.isnan(rho_hat_t).any():
            ess = np.nan
        out[s] = ess
    return out


def _ess(x: np.ndarray) -> np.ndarray:
    """ESS of already split series (n_series, chains, draws), ArviZ's ``_ess``."""
    n_series, n_chain, n_draw = x.shape
    size = n_chain * n_draw
    constant = (np.max(x, axis=(1, 2)) - np.min(x, axis=(1, 2))) < np.finfo(float).resolution
    acov = _autocov(x)
    # ArviZ averages acov[:, t] (a 1-D slice); a contiguous last axis sums in the same order.
    mean_acov = np.ascontiguousarray(acov.transpose(0, 2, 1)).mean(axis=-1)
    var_chain_means = _variance_rows(x.mean(axis=2), 1)
    min_tau = float(1 / np.log10(size))
    with np.errstate(divide="ignore", invalid="ignore"):
        ess = _geyer_ess(mean_acov, var_chain_means, n_chain, n_draw, float(size), min_tau)
    return np.where(constant, float(size), ess)


def _rhat_sorted(ranked: _Sorted, z_bulk: np.ndarray) -> np.ndarray:
    """R-hat ``max(bulk, folded)`` (Python's ``max``: a nan folded R-hat is ignored)."""
    rhat_bulk = _rhat(z_bulk)
    rhat_tail = _rhat(ranked.z_folded())
    return np.where(rhat_tail > rhat_bulk, rhat_tail, rhat_bulk)


def _quantile(xs: np.ndarray, prob: float) -> np.ndarray:
    """R type-7 quantile of each row of sorted draws ``xs``, as ``mquantiles(alphap=1, betap=1)``."""
    n = xs.shape[1]
    alphap, betap = 1, 1
    p = np.atleast_1d(np.asarray(prob))
    m = alphap + p * (1.0 - alphap - betap)
    aleph = n * p + m
    k = np.floor(aleph.clip(1, n - 1)).astype(int)
    gamma = (aleph - k).clip(0, 1)
    return ((1.0 - gamma) * xs[:, k - 1] + gamma * xs[:, k])[:, 0]


def _tail_indicators(x: np.ndarray, ranked: _Sorted | None) -> list[np.ndarray]:
    """Split indicators ``x <= q`` of the 5% and 95% quantiles of each series' (unsplit) draws."""
    if ranked is not None and x.shape[2] % 2 == 0:
        xs = ranked.values  # the split draws are then a permutation of all the draws
        split = ranked.split
    else:
        xs = np.sort(x.reshape(x.shape[0], -1), axis=-1)
        split = _split_chains(x)
    return [(split <= _quantile(xs, prob)[:, None, None]).astype(np.float64) for prob in _TAIL_PROBS]


def _tail_min(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Python's ``min(low, high)`` elementwise (a nan ``high`` is ignored)."""
    return np.where(high < low, high, low)


def _validated(x, min_chains: int):
    """Float series, the rejected ones, and the others with the rejected zeroed (or None)."""
    x = _as_series(x)
    bad = _invalid(x, min_chains)
    return x, bad, (None if bad.all() else _clean(x, bad))


def _threads() -> int:
    """Threads for `_map_blocks`: the CPUs this process may use, at most `_MAX_THREADS`."""
    return available_cpus(_MAX_THREADS)


def _map_blocks(fn, x: np.ndarray, bad: np.ndarray, n_out: int) -> tuple[np.ndarray, ...]:
    """``fn`` on blocks of `_BLOCK` series (threads; each series independent), concatenated.

    Blocks keep the FFT and sort buffers in cache, and the FFTs, sorts and numba kernels
    release the GIL. The series never mix, so the floats do not depend on the blocking.
    """
    blocks = [x[i : i + _BLOCK] for i in range(0, x.shape[0], _BLOCK)]
    workers = min(len(blocks), _threads())
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(fn, blocks))
    else:
        parts = [fn(block) for block in blocks]
    outs = tuple(np.concatenate([part[k] for part in parts]) for k in range(n_out))
    for out in outs:
        out[bad] = np.nan
    return outs


def _rhat_block(x: np.ndarray) -> tuple[np.ndarray]:
    ranked = _Sorted.of(_split_chains(x))
    return (_rhat_sorted(ranked, ranked.z_bulk()),)


def _ess_bulk_block(x: np.ndarray) -> tuple[np.ndarray]:
    return (_ess(_Sorted.of(_split_chains(x)).z_bulk()),)


def _ess_tail_block(x: np.ndarray) -> tuple[np.ndarray]:
    return (_tail_min(*(_ess(ind) for ind in _tail_indicators(x, None))),)


def _all_block(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_series = x.shape[0]
    ranked = _Sorted.of(_split_chains(x))
    z_bulk = ranked.z_bulk()
    ess = _ess(np.concatenate([z_bulk, *_tail_indicators(x, ranked)]))
    bulk, tail = ess[:n_series], _tail_min(ess[n_series : 2 * n_series], ess[2 * n_series :])
    rhat = _rhat_sorted(ranked, z_bulk) if x.shape[1] >= 2 else np.full(n_series, np.nan)
    return rhat, bulk, tail


def rhat_rank(x) -> np.ndarray:
    """Rank-normalized split R-hat, the larger of the bulk and the folded (tail) one.

    Parameters
    ----------
    x : array_like, shape (n_series, chains, draws) or (chains, draws)
        Draws of each scalar series.

    Returns
    -------
    numpy.ndarray, shape (n_series,)
        R-hat of each series; nan for a series with a nan, with fewer than 2 chains or 4
        draws, or constant.
    """
    return _per_series(_rhat_block, x, min_chains=2)


def ess_bulk(x) -> np.ndarray:
    """Bulk effective sample size: the ESS of the rank-normalized split chains.

    Parameters
    ----------
    x : array_like, shape (n_series, chains, draws) or (chains, draws)
        Draws of each scalar series.

    Returns
    -------
    numpy.ndarray, shape (n_series,)
        Bulk ESS of each series; nan for a series with a nan or fewer than 4 draws.
    """
    return _per_series(_ess_bulk_block, x, min_chains=1)


def ess_tail(x) -> np.ndarray:
    """Tail effective sample size: the smaller ESS of the indicators of the 5% and 95% quantiles.

    Parameters
    ----------
    x : array_like, shape (n_series, chains, draws) or (chains, draws)
        Draws of each scalar series.

    Returns
    -------
    numpy.ndarray, shape (n_series,)
        Tail ESS of each series; nan for a series with a nan or fewer than 4 draws.
    """
    return _per_series(_ess_tail_block, x, min_chains=1)


def _per_series(block_fn, x, min_chains: int) -> np.ndarray:
    """One statistic per series: ``block_fn`` over the valid series, nan for the rejected ones."""
    x, bad, clean = _validated(x, min_chains=min_chains)
    if clean is None:
        return np.full(x.shape[0], np.nan)
    return _map_blocks(block_fn, clean, bad, 1)[0]


def _all_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R-hat, bulk ESS and tail ESS of each series, sharing one sort and one batch of FFTs."""
    x, bad, clean = _validated(x, min_chains=1)
    if clean is None:
        return tuple(np.full(x.shape[0], np.nan) for _ in range(3))
    return _map_blocks(_all_block, clean, bad, 3)


@dataclass(frozen=True)
class PosteriorSummary:
    """Per-series convergence statistics of a posterior and their worst cases.

    Attributes
    ----------
    labels : tuple of str
        ``name`` or ``name[coord, ...]`` of each series, variables in order, C order within one.
    r_hat, ess_bulk, ess_tail : numpy.ndarray
        The statistics of each series (aligned with ``labels``).
    r_hat_max, ess_bulk_min, ess_tail_min : float
        Largest R-hat, smallest bulk and tail ESS (nan series ignored; nan if all are nan).
    worst_r_hat, worst_ess, worst_ess_tail : str
        Label of the series where each extreme occurs first ("" if none).
    """

    labels: tuple[str, ...]
    r_hat: np.ndarray
    ess_bulk: np.ndarray
    ess_tail: np.ndarray
    r_hat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    worst_r_hat: str
    worst_ess: str
    worst_ess_tail: str


def _extreme(values: np.ndarray, spans: list[tuple[int, int]], labels: list[str], largest: bool) -> tuple[float, str]:
    """First extreme over the variables in order (nan ignored), as the ArviZ reference of the tests."""
    pick = np.nanargmax if largest else np.nanargmin
    best, label = np.nan, ""
    for start, stop in spans:
        block = values[start:stop]
        if block.size == 0 or np.all(np.isnan(block)):
            continue
        flat = int(pick(block))
        value = float(block[flat])
        if np.isnan(best) or (value > best if largest else value < best):
            best, label = value, labels[start + flat]
    return best, label


def summarize(posterior, var_names: Sequence[str] | None = None) -> PosteriorSummary:
    """R-hat, bulk and tail ESS of every scalar series of a posterior, and the worst of each.

    Parameters
    ----------
    posterior : xarray.Dataset
        Variables with dimensions ``chain`` and ``draw`` (in any position) and any others.
    var_names : sequence of str, optional
        Variables to include, in this order (default: all, in the Dataset's order).

    Returns
    -------
    PosteriorSummary
    """
    if var_names is not None:
        posterior = posterior[list(var_names)]
    chains, draws = int(posterior.sizes["chain"]), int(posterior.sizes["draw"])
    blocks, labels, spans = [], [], []
    for name, da in posterior.data_vars.items():
        da = da.transpose("chain", "draw", ...)
        dims = da.dims[2:]
        shape = da.shape[2:]
        values = np.asarray(da.values, dtype=np.float64).reshape(chains, draws, -1)
        start = len(labels)
        if dims:
            coords = [da[dim].values for dim in dims]
            for index in np.ndindex(*shape):
                parts = [str(c[i]) for c, i in zip(coords, index, strict=True)]
                labels.append(f"{name}[{', '.join(parts)}]")
        else:
            labels.append(str(name))
        spans.append((start, len(labels)))
        blocks.append(np.moveaxis(values, 2, 0))
    if blocks:
        x = np.ascontiguousarray(np.concatenate(blocks, axis=0))
    else:
        x = np.empty((0, chains, draws))
    if x.shape[0]:
        r_hat, bulk, tail = _all_stats(x)
    else:
        r_hat = bulk = tail = np.empty(0)
    r_hat_max, worst_r_hat = _extreme(r_hat, spans, labels, largest=True)
    ess_bulk_min, worst_ess = _extreme(bulk, spans, labels, largest=False)
    ess_tail_min, worst_ess_tail = _extreme(tail, spans, labels, largest=False)
    return PosteriorSummary(
        labels=tuple(labels),
        r_hat=r_hat,
        ess_bulk=bulk,
        ess_tail=tail,
        r_hat_max=r_hat_max,
        ess_bulk_min=ess_bulk_min,
        ess_tail_min=ess_tail_min,
        worst_r_hat=worst_r_hat,
        worst_ess=worst_ess,
        worst_ess_tail=worst_ess_tail,
    )
