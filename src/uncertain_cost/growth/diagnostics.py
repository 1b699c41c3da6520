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
        r_hat_max, worst_r_hat = _worst(az.rhat(post, method="rank"), largest=True)
        ess_bulk_min, worst_ess = _worst(az.ess(post, method="bulk"), largest=False)
        ess_tail_min, worst_ess_tail = _worst(az.ess(post, method="tail"), largest=False)
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
