"""Convergence diagnostics of a posterior: rank-normalized R-hat, bulk and tail ESS, divergences.

Vehtari, Gelman, Simpson, Carpenter, Bürkner (2021), "Rank-normalization, folding, and
localization: an improved R-hat for assessing convergence of MCMC", Bayesian Analysis 16(2),
doi:10.1214/20-BA1221. Thresholds follow that paper: R-hat <= 1.01 and an effective sample
size of at least 100 per chain (400 for four chains), for the bulk and for the tails.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from uncertain_cost.errors import DiagnosticsError, UncertainCostWarning

__all__ = ["Diagnostics", "compute_diagnostics", "check_diagnostics"]


@dataclass(frozen=True)
class Diagnostics:
    """Worst-case convergence diagnostics over the monitored variables of one fit.

    Attributes
    ----------
    r_hat_max : float
        Largest rank-normalized split R-hat.
    ess_bulk_min, ess_tail_min : float
        Smallest bulk and tail effective sample sizes.
    divergences : int
        Divergent transitions after tuning.
    chains, draws : int
        Chains and draws per chain.
    worst_r_hat, worst_ess, worst_ess_tail : str
        Variable (with index) where the largest R-hat / smallest bulk / tail ESS occurs.
    r_hat_threshold, ess_threshold : float
        The thresholds checked.
    """

    r_hat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    divergences: int
    chains: int
    draws: int
    worst_r_hat: str = ""
    worst_ess: str = ""
    worst_ess_tail: str = ""
    r_hat_threshold: float = 1.01
    ess_threshold: float = 400.0

    @property
    def problems(self) -> tuple[str, ...]:
        """Human-readable list of failed checks (empty when all pass)."""
        out = []
        if not self.r_hat_max <= self.r_hat_threshold:
            out.append(f"R-hat {self.r_hat_max:.3f} > {self.r_hat_threshold} ({self.worst_r_hat})")
        if not self.ess_bulk_min >= self.ess_threshold:
            out.append(f"bulk ESS {self.ess_bulk_min:.0f} < {self.ess_threshold:.0f} ({self.worst_ess})")
        if not self.ess_tail_min >= self.ess_threshold:
            out.append(f"tail ESS {self.ess_tail_min:.0f} < {self.ess_threshold:.0f} ({self.worst_ess_tail})")
        if self.divergences > 0:
            out.append(f"{self.divergences} divergent transitions")
        return tuple(out)

    @property
    def ok(self) -> bool:
        """True when every check passes."""
        return not self.problems

    def as_dict(self) -> dict:
        """Plain dict (for attributes and JSON)."""
        return {
            "r_hat_max": self.r_hat_max,
            "ess_bulk_min": self.ess_bulk_min,
            "ess_tail_min": self.ess_tail_min,
            "divergences": self.divergences,
            "chains": self.chains,
            "draws": self.draws,
            "worst_r_hat": self.worst_r_hat,
            "worst_ess": self.worst_ess,
            "worst_ess_tail": self.worst_ess_tail,
            "r_hat_threshold": self.r_hat_threshold,
            "ess_threshold": self.ess_threshold,
            "ok": self.ok,
        }


def import_arviz():
    """Import ArviZ without its notice about the 1.0 refactor (a FutureWarning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz

    return arviz


def _divergences(idata) -> int:
    """Divergent transitions recorded in ``sample_stats`` (0 without them)."""
    if "sample_stats" in idata.groups() and "diverging" in idata.sample_stats:
        return int(np.asarray(idata.sample_stats["diverging"].values).sum())
    return 0


def _worst(ds, largest: bool) -> tuple[float, str]:
    """First extreme value over the variables of ``ds`` in order (nan ignored), with its label."""
    best, label = np.nan, ""
    for name, da in ds.data_vars.items():
        values = np.asarray(da.values, dtype=np.float64)
        if values.size == 0 or np.all(np.isnan(values)):
            continue
        flat = int((np.nanargmax if largest else np.nanargmin)(values))
        value = float(values.reshape(-1)[flat])
        if np.isnan(best) or (value > best if largest else value < best):
            index = np.unravel_index(flat, values.shape) if values.ndim else ()
            parts = [str(da[dim].values[i]) for dim, i in zip(da.dims, index, strict=True)]
            best, label = value, f"{name}[{', '.join(parts)}]" if parts else str(name)
    return best, label


def compute_diagnostics(
    idata,
    var_names: Sequence[str] | None = None,
    *,
    r_hat_threshold: float = 1.01,
    ess_threshold: float | None = None,
) -> Diagnostics:
    """R-hat, bulk/tail ESS (ArviZ: ``az.rhat``, ``az.ess``) and divergences of a posterior.

    The worst values are ArviZ's own: every series is screened by a vectorised reimplementation
    (`_screen`), and only the series within a relative 1e-6 of the worst (or whose screen sits
    on a branch of Geyer's truncation) are computed by ArviZ's per-series functions, which give
    ``az.rhat`` and ``az.ess`` bit for bit. A posterior the screen does not handle (fewer than 2
    chains or 8 draws, missing values) goes through ``az.rhat`` and ``az.ess`` whole.

    Parameters
    ----------
    idata : arviz.InferenceData
        With groups ``posterior`` and (for divergences) ``sample_stats``.
    var_names : sequence of str, optional
        Variables to monitor (default: all of the posterior).
    r_hat_threshold : float, default 1.01
    ess_threshold : float, optional
        Minimum bulk and tail ESS; default 100 per chain.

    Returns
    -------
    Diagnostics
    """
    az = import_arviz()
    post = idata.posterior
    if var_names is not None:
        post = post[list(var_names)]
    chains, draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant series: R-hat nan (0/0)
        worst = _screened_worst(post)
        if worst is None:
            worst = (_worst(az.rhat(post, method="rank"), largest=True),
                     _worst(az.ess(post, method="bulk"), largest=False),
                     _worst(az.ess(post, method="tail"), largest=False))
    (r_hat_max, worst_r_hat), (ess_bulk_min, worst_ess), (ess_tail_min, worst_ess_tail) = worst
    return Diagnostics(
        r_hat_max=r_hat_max,
        ess_bulk_min=ess_bulk_min,
        ess_tail_min=ess_tail_min,
        divergences=_divergences(idata),
        chains=chains,
        draws=draws,
        worst_r_hat=worst_r_hat,
        worst_ess=worst_ess,
        worst_ess_tail=worst_ess_tail,
        r_hat_threshold=float(r_hat_threshold),
        ess_threshold=float(100.0 * chains if ess_threshold is None else ess_threshold),
    )


#: A series whose screened value is within this relative distance of the screened worst is
#: computed exactly (the screen differs from ArviZ by rounding only, ~1e-13).
SCREEN_RTOL = 1e-6


def _series(post):
    """Every scalar series of ``post``: ``(K, chain, draw)`` float array and ArviZ's label of each."""
    arrays, labels = [], []
    for name, da in post.data_vars.items():
        da = da.transpose(..., "chain", "draw")
        values = np.asarray(da.values)
        if values.dtype.kind not in "fiu":
            return None, None
        extra = da.dims[:-2]
        arrays.append(values.reshape(-1, values.shape[-2], values.shape[-1]).astype(np.float64, copy=False))
        for index in np.ndindex(*values.shape[:-2]):
            parts = [str(da[dim].values[i]) for dim, i in zip(extra, index, strict=True)]
            labels.append(f"{name}[{', '.join(parts)}]" if parts else str(name))
    if not arrays:
        return None, None
    return np.ascontiguousarray(np.concatenate(arrays, axis=0)), labels


def _split(x: np.ndarray) -> np.ndarray:
    half = x.shape[2] // 2
    return np.concatenate([x[:, :, :half], x[:, :, -half:]], axis=1)


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Rank-normalise each series (first axis) over its chains and draws."""
    from scipy import special, stats

    k, m, n = x.shape
    rank = stats.rankdata(x.reshape(k, m * n), method="average", axis=1)
    return special.ndtri((rank - 0.375) / (m * n + 0.25)).reshape(k, m, n)


def _rhat(z: np.ndarray) -> np.ndarray:
    n = z.shape[2]
    between = n * np.var(z.mean(axis=2), axis=1, ddof=1)
    within = np.mean(np.var(z, axis=2, ddof=1), axis=1)
    return np.sqrt((between / within + n - 1) / n)


def _ess(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ArviZ's ``_ess`` of each series (Geyer's initial monotone sequence), and where it is fragile."""
    from scipy.fft import irfft, next_fast_len, rfft

    k, m, n = z.shape
    size = m * n
    const = (z.max(axis=(1, 2)) - z.min(axis=(1, 2))) < np.finfo(float).resolution
    length = next_fast_len(2 * n)
    f = rfft(z - z.mean(axis=2, keepdims=True), n=length, axis=2)
    acov = irfft(f * np.conjugate(f), n=length, axis=2)[:, :, :n] / n
    mean_acov = acov.mean(axis=1).T  # (n, K)
    mean_var = mean_acov[0] * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n + (np.var(z.mean(axis=2), axis=1, ddof=1) if m > 1 else 0.0)
    rho = 1.0 - (mean_var - mean_acov) / var_plus  # (n, K)
    p_max = (n - 3) // 2
    pairs = rho[0:2 * p_max + 2:2] + rho[1:2 * p_max + 2:2]  # (p_max + 1, K)
    pairs[0] = 1.0 + rho[1]
    stop = (pairs <= 0.0) | (np.arange(p_max + 1) == p_max)[:, None]
    last_p = np.argmax(stop, axis=0)  # the pair at which Geyer's loop stops
    kept = np.arange(p_max + 1)[:, None] < last_p[None, :]
    monotone = np.minimum.accumulate(pairs, axis=0)
    even = rho[2 * last_p, np.arange(k)]
    pair_last = pairs[last_p, np.arange(k)]
    last = np.where(last_p == 0, 1.0, np.where((even > 0) | (pair_last >= 0), even, 0.0))
    tau = -1.0 + 2.0 * np.sum(np.where(kept, monotone, 0.0), axis=0) + last
    tau = np.maximum(tau, 1.0 / np.log10(size))
    ess = np.where(const, float(size), size / tau)
    near = np.abs(np.where(kept | (np.arange(p_max + 1)[:, None] == last_p[None, :]), pairs, np.inf)).min(axis=0)
    fragile = (near < 1e-8) | (np.abs(even) < 1e-8) | ~np.isfinite(ess)
    return ess, fragile & ~const


def _screen(x: np.ndarray) -> dict:
    """Screened rank R-hat, bulk ESS and tail ESS of each series of ``x`` (K, chain, draw), with fragile flags."""
    split = _split(x)
    z = _z_scale(split)
    flat_split = split.reshape(split.shape[0], -1)
    folded = np.abs(split - np.median(flat_split, axis=1)[:, None, None])
    r_hat = np.maximum(_rhat(z), _rhat(_z_scale(folded)))
    bulk, bulk_fragile = _ess(z)
    flat = x.reshape(x.shape[0], -1)
    tails, tail_fragile = [], np.zeros(x.shape[0], dtype=bool)
    for prob in (0.05, 0.95):
        q = np.quantile(flat, prob, axis=1)
        ess, fragile = _ess(_split((x <= q[:, None, None]).astype(np.float64)))
        tails.append(ess)
        tie = np.min(np.abs(flat - q[:, None]), axis=1) <= 1e-12 * np.maximum(np.abs(q), 1e-300)
        tail_fragile |= fragile | tie
    return {"rhat": (r_hat, np.zeros_like(bulk_fragile)), "bulk": (bulk, bulk_fragile),
            "tail": (np.minimum(*tails), tail_fragile)}


def _exact(kind: str, series: np.ndarray) -> float:
    """ArviZ's per-series value (what ``az.rhat`` / ``az.ess`` compute for a (chain, draw) slice)."""
    from arviz.stats import diagnostics as azd

    func = {"rhat": azd._rhat_rank, "bulk": azd._ess_bulk, "tail": azd._ess_tail}[kind]
    return float(func(series))


def _screened_worst(post):
    """``(value, label)`` of the worst R-hat, bulk ESS and tail ESS, ArviZ's values; None when not screenable."""
    chains, draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    if chains < 2 or draws < 8:
        return None
    x, labels = _series(post)
    if x is None or not np.all(np.isfinite(x)):
        return None
    screened = _screen(x)
    out = []
    for kind in ("rhat", "bulk", "tail"):
        values, fragile = screened[kind]
        if not np.all(np.isfinite(values)):
            return None
        largest = kind == "rhat"
        extreme = values.max() if largest else values.min()
        close = np.abs(values - extreme) <= SCREEN_RTOL * abs(extreme)
        best, best_label = np.nan, ""
        for j in np.flatnonzero(close | fragile):  # in ArviZ's order: the first extreme wins ties
            value = _exact(kind, x[j])
            if np.isnan(best) or (value > best if largest else value < best):
                best, best_label = value, labels[j]
        out.append((best, best_label))
    return tuple(out)


def check_diagnostics(diagnostics: Diagnostics, *, fail: bool = False, context: str = "growth fit") -> None:
    """Warn loudly, or raise, when a fit fails its convergence checks.

    Parameters
    ----------
    diagnostics : Diagnostics
    fail : bool, default False
        Raise `DiagnosticsError` instead of warning.
    context : str
        What was fitted, for the message.

    Raises
    ------
    DiagnosticsError
        If ``fail`` and a check fails.

    Warns
    -----
    UncertainCostWarning
        If not ``fail`` and a check fails.
    """
    problems = diagnostics.problems
    if not problems:
        return
    message = (
        f"{context}: the posterior did not pass its convergence checks ({'; '.join(problems)}); "
        "its intervals are not reliable. Increase draws/tune or target_accept."
    )
    if fail:
        raise DiagnosticsError(message)
    warnings.warn(message, UncertainCostWarning, stacklevel=3)
