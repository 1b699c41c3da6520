"""The utilization (MFU) model: fitted on disclosed training runs, checked against them.

A disclosed run is a model of the notable-models table with one matched accelerator and
either a stated utilization (``Hardware utilization``) or hardware quantity and training
time both reported. Its *implied* utilization is

    u = training compute / (peak FLOP/s x quantity x training time x 3600),

the fraction of the peak that the stated compute needs. The implied value is what the
imputation of chip-hours (compute / (peak x u)) has to predict, so it is the fitted
quantity whenever it exists (the stated MFU otherwise). A run whose implied utilization
lies outside :data:`PLAUSIBLE_RANGE` is an inconsistent disclosure (typically compute that
includes a base model, or the hours of a fine-tune): it is reported and kept out.

Model (logit scale, partial pooling by hardware family)::

    logit(u_i) = mu + a[family(i)] + e_i,   a ~ N(0, tau),   e ~ N(0, sigma)
    mu ~ N(logit 0.375, 0.856)   (the paper's utilization prior, 90% 0.10-0.65, on the logit scale)
    sigma ~ HalfNormal(1),  tau ~ HalfNormal(0.5)

``mu`` and ``a`` are integrated out analytically (the model is Gaussian given ``sigma``
and ``tau``), and ``(sigma, tau)`` on a grid, so a fit is exact up to the grid and takes
well under a second (no MCMC; the leave-one-out benchmark refits once per run). The
predictive distribution of a new run's utilization is a mixture of normals on the logit
scale; the engine uses a Beta distribution with the same mean and variance on the
utilization scale (:meth:`UtilizationFit.beta`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from uncertain_cost.config.schema import register_stage
from uncertain_cost.data.hardware_names import HardwareMatcher
from uncertain_cost.data.tables import ModelRecord, Tables

__all__ = [
    "PLAUSIBLE_RANGE",
    "UtilizationPrior",
    "DisclosedRun",
    "UtilizationFit",
    "hardware_family",
    "disclosed_runs",
    "fit_utilization",
]

#: implied utilizations outside [low, high] are inconsistent disclosures (not fitted, not
#: validated): above 1 is impossible; below 0.05 would mean a cluster idle 95% of the time,
#: far below every stated MFU of a large run in the 2024-06 snapshot (lowest 0.19)
PLAUSIBLE_RANGE = (0.05, 1.0)

#: hardware families (generation) used as the pooling groups; the first match wins
FAMILIES = (
    ("TPU v1", "TPU v1"), ("TPU v2", "TPU v2"), ("TPU v3", "TPU v3"), ("TPU v4", "TPU v4"),
    ("TPU v5", "TPU v5"), ("TPU v6", "TPU v6"), ("H100", "H100"), ("H800", "H100"), ("H200", "H100"),
    ("GH200", "H100"), ("H20", "H100"), ("A100", "A100"), ("A800", "A100"), ("V100", "V100"),
    ("P100", "P100"), ("B200", "B200"), ("GB200", "B200"),
)


def hardware_family(chip: str) -> str:
    """Pooling group of an accelerator: its generation (``A100``, ``TPU v4``, ...) or ``other``.

    Parameters
    ----------
    chip : str
        Canonical chip name.

    Returns
    -------
    str
    """
    for token, family in FAMILIES:
        if token in chip:
            return family
    return "other"


@dataclass(frozen=True)
class UtilizationPrior:
    """Hyperpriors of the utilization model (stated, not fitted to the data).

    Attributes
    ----------
    mu_mean, mu_sd : float
        Normal prior of the population mean of logit(u): the paper's utilization prior
        (central 0.375, 90% 0.10-0.65) on the logit scale, ``logit(0.375)`` and
        ``(logit 0.65 - logit 0.10) / (2 x 1.645)``.
    sigma_scale : float
        Half-normal scale of the run-to-run sd of logit(u).
    tau_scale : float
        Half-normal scale of the sd between hardware families.
    """

    mu_mean: float = math.log(0.375 / 0.625)
    mu_sd: float = (math.log(0.65 / 0.35) - math.log(0.10 / 0.90)) / (2 * 1.6448536269514722)
    sigma_scale: float = 1.0
    tau_scale: float = 0.5


@dataclass(frozen=True)
class DisclosedRun:
    """One disclosed training run and what its disclosure implies.

    Attributes
    ----------
    name, organization, chip, family, source : str
    publication_date : datetime.date
    compute_flop, peak_flops, quantity, hours, stated : float
        ``stated`` is the table's utilization (NaN when absent); ``quantity`` and ``hours``
        NaN when not both disclosed.
    implied : float
        compute / (peak x quantity x hours x 3600), NaN when quantity or hours is missing.
    status : str
        ``"ok"`` or why the run is kept out (``"implied utilization 137 outside [0.05, 1]"``).
    """

    name: str
    organization: str
    publication_date: date
    chip: str
    family: str
    compute_flop: float
    peak_flops: float
    quantity: float
    hours: float
    stated: float
    implied: float
    status: str
    source: str = ""

    @property
    def chip_hours(self) -> float:
        """Disclosed chip-hours (quantity x hours), NaN when not disclosed."""
        return self.quantity * self.hours

    @property
    def value(self) -> float:
        """The utilization fitted for this run: implied when available, else stated."""
        return self.implied if math.isfinite(self.implied) else self.stated

    @property
    def ok(self) -> bool:
        """True when the run is consistent and used."""
        return self.status == "ok"


def disclosed_runs(tables: Tables, min_compute: float = 1e22, published_after: date | None = None,
                   published_before: date | None = None) -> list[DisclosedRun]:
    """Every run of ``tables`` with a matched chip and a stated or implied utilization.

    Parameters
    ----------
    tables : Tables
    min_compute : float
        Keep runs with at least this training compute (FLOP).
    published_after, published_before : datetime.date, optional
        Keep runs published strictly after / strictly before these dates.

    Returns
    -------
    list of DisclosedRun
        In table order, inconsistent ones included (``status`` says why).
    """
    from uncertain_cost.data.resolve import peak_flops

    matcher = HardwareMatcher(tables.chips)
    chips = {c.name: c for c in tables.chips}
    out = []
    for m in tables.models:
        if m.publication_date is None or not (m.training_compute_flop >= min_compute):
            continue
        if published_after and m.publication_date <= published_after:
            continue
        if published_before and m.publication_date >= published_before:
            continue
        run = _disclosed(m, matcher, chips, peak_flops)
        if run is not None:
            out.append(run)
    return out


def _disclosed(m: ModelRecord, matcher: HardwareMatcher, chips: dict, peak_of) -> DisclosedRun | None:
    """Return the disclosed run of one record, or None when it discloses no utilization."""
    if len(m.hardware) != 1:
        return None
    chip = matcher.match(m.hardware[0])
    if chip is None:
        return None
    peak = peak_of(chips[chip])
    if not (peak > 0):
        return None
    both = m.hardware_quantity > 0 and m.training_time_hours > 0
    implied = m.training_compute_flop / (peak * m.hardware_quantity * m.training_time_hours * 3600) if both \
        else math.nan
    if not both and not (m.utilization > 0):
        return None
    low, high = PLAUSIBLE_RANGE
    value = implied if both else m.utilization
    status = "ok" if low <= value <= high else \
        f"{'implied' if both else 'stated'} utilization {value:.3g} outside [{low:g}, {high:g}]"
    return DisclosedRun(m.name, m.organization, m.publication_date, chip, hardware_family(chip),
                        m.training_compute_flop, peak, m.hardware_quantity if both else math.nan,
                        m.training_time_hours if both else math.nan, m.utilization, implied, status, m.source)


@dataclass(frozen=True)
class UtilizationFit:
    """Posterior of the utilization model on a grid of ``(sigma, tau)``.

    Attributes
    ----------
    families : tuple of str
        Pooling groups seen in the data.
    sigma, tau, weight : ndarray
        Grid points and their normalised posterior weights (flattened).
    cond : dict
        Per family (and ``""`` for a new family): arrays of the predictive mean and sd of
        logit(u) at every grid point.
    n : int
        Runs fitted.
    prior : UtilizationPrior
    """

    families: tuple[str, ...]
    sigma: np.ndarray
    tau: np.ndarray
    weight: np.ndarray
    cond: dict = field(repr=False)
    n: int
    prior: UtilizationPrior

    def logit_moments(self, family: str = "") -> tuple[float, float]:
        """Mean and sd of the predictive logit(u) of a new run of ``family`` (mixture moments).

        Parameters
        ----------
        family : str
            A family seen in the data, or anything else for a new family.

        Returns
        -------
        tuple of float
        """
        mean, sd = self.cond.get(family, self.cond[""])
        m = float(self.weight @ mean)
        v = float(self.weight @ (sd ** 2 + (mean - m) ** 2))
        return m, math.sqrt(v)

    def sample(self, rng: np.random.Generator, size: int, family: str = "") -> np.ndarray:
        """Draws of a new run's utilization from the exact predictive mixture.

        Parameters
        ----------
        rng : numpy.random.Generator
        size : int
        family : str

        Returns
        -------
        ndarray
        """
        mean, sd = self.cond.get(family, self.cond[""])
        k = rng.choice(len(self.weight), size=size, p=self.weight)
        return 1.0 / (1.0 + np.exp(-(mean[k] + sd[k] * rng.standard_normal(size))))

    def u_moments(self, family: str = "") -> tuple[float, float]:
        """Mean and variance of the predictive utilization (Gauss-Hermite quadrature, exact to ~1e-12).

        Parameters
        ----------
        family : str

        Returns
        -------
        tuple of float
        """
        mean, sd = self.cond.get(family, self.cond[""])
        x, w = np.polynomial.hermite_e.hermegauss(80)
        u = 1.0 / (1.0 + np.exp(-(mean[:, None] + sd[:, None] * x[None, :])))
        w = w / w.sum()
        m1 = float(self.weight @ (u @ w))
        m2 = float(self.weight @ ((u ** 2) @ w))
        return m1, m2 - m1 ** 2

    def beta(self, family: str = "") -> tuple[float, float]:
        """Beta(alpha, beta) with the predictive's mean and variance on the utilization scale.

        Parameters
        ----------
        family : str

        Returns
        -------
        tuple of float
            ``(alpha, beta)``.
        """
        mean, var = self.u_moments(family)
        k = mean * (1 - mean) / var - 1
        return mean * k, (1 - mean) * k

    def tau_quantiles(self, q: Iterable[float] = (0.05, 0.5, 0.95)) -> list[float]:
        """Posterior quantiles of the between-family sd ``tau``."""
        return _grid_quantiles(self.tau, self.weight, q)

    def sigma_quantiles(self, q: Iterable[float] = (0.05, 0.5, 0.95)) -> list[float]:
        """Posterior quantiles of the run-to-run sd ``sigma``."""
        return _grid_quantiles(self.sigma, self.weight, q)


def _grid_quantiles(x: np.ndarray, w: np.ndarray, q: Iterable[float]) -> list[float]:
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    return [float(x[order][min(np.searchsorted(cum, p), len(cum) - 1)]) for p in q]


def fit_utilization(runs: Iterable[DisclosedRun], prior: UtilizationPrior | None = None,
                    grid: int = 48) -> UtilizationFit:
    """Fit the hierarchical logit-normal utilization model to the consistent runs.

    Parameters
    ----------
    runs : iterable of DisclosedRun
        Inconsistent runs (``ok`` False) are ignored.
    prior : UtilizationPrior, optional
    grid : int
        Grid points per axis of ``(sigma, tau)``: ``sigma`` log-spaced over
        [0.05, 3] x ``sigma_scale``, ``tau`` evenly over [0, 3] x ``tau_scale``.

    Returns
    -------
    UtilizationFit

    Raises
    ------
    ValueError
        With fewer than 3 consistent runs.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # small matrices: threads only contend
        return _fit(list(runs), prior or UtilizationPrior(), grid)


def _fit(runs: list[DisclosedRun], prior: UtilizationPrior, grid: int) -> UtilizationFit:
    """Grid posterior and predictive moments (see :func:`fit_utilization`)."""
    from scipy.linalg import solve_triangular

    used = [r for r in runs if r.ok]
    if len(used) < 3:
        raise ValueError(f"the utilization model needs at least 3 consistent runs, got {len(used)}")
    y = np.log([r.value / (1 - r.value) if r.value < 1 else 0.999 / 0.001 for r in used])
    families = tuple(sorted({r.family for r in used}))
    z = np.array([[r.family == f for f in families] for r in used], dtype=float)
    sig = np.geomspace(0.05, 3.0, grid) * prior.sigma_scale
    tau = np.linspace(0.0, 3.0 * prior.tau_scale, grid)
    sg, tg = (a.ravel() for a in np.meshgrid(sig, tau, indexing="ij"))
    n = len(y)
    logw = np.empty(sg.size)
    cond = {f: (np.empty(sg.size), np.empty(sg.size)) for f in (*families, "")}
    s0 = prior.mu_sd ** 2
    keys = (*families, "")
    # covariance of a new run of each family (last column: a new family) with the data
    c = s0 + np.hstack([z, np.zeros((n, 1))])[:, :, None] * (tg ** 2)[None, None, :]
    same = z @ z.T
    for k, (s, t) in enumerate(zip(sg, tg, strict=True)):
        chol = np.linalg.cholesky(s0 + t ** 2 * same + s ** 2 * np.eye(n))
        resid = solve_triangular(chol, y - prior.mu_mean, lower=True)
        logw[k] = (-0.5 * resid @ resid - np.log(np.diag(chol)).sum()
                   - 0.5 * (s / prior.sigma_scale) ** 2 - 0.5 * (t / prior.tau_scale) ** 2)
        v = solve_triangular(chol, c[:, :, k], lower=True)  # (n, families + 1)
        means = prior.mu_mean + v.T @ resid
        var = s0 + t ** 2 + s ** 2 - (v * v).sum(axis=0)
        for j, f in enumerate(keys):
            cond[f][0][k] = means[j]
            cond[f][1][k] = math.sqrt(max(var[j], 1e-12))
    w = np.exp(logw - logw.max())
    return UtilizationFit(families, sg, tg, w / w.sum(), cond, n, prior)


#: file of the shipped fit, in the priors folder
PRIOR_FILE = "utilization.toml"


def prior_toml(epoch_dir, min_compute: float = 1e22) -> str:
    """Fit the model on a snapshot and return the text of ``priors/utilization.toml``.

    Parameters
    ----------
    epoch_dir : str or pathlib.Path
        The 2024-06 Epoch snapshot (the fit's only data).
    min_compute : float
        Runs with at least this training compute (FLOP).

    Returns
    -------
    str
    """
    from pathlib import Path

    from uncertain_cost.data.epoch import read_epoch_snapshot

    tables, _ = read_epoch_snapshot(epoch_dir)
    runs = disclosed_runs(tables, min_compute)
    fit = fit_utilization(runs)
    alpha, beta = fit.beta()
    mean, sd = fit.logit_moments()
    lines = [
        "# Utilization (MFU) of a training run whose hardware quantity or training time is unknown:",
        "# the posterior predictive of the hierarchical logit-normal model of",
        "# uncertain_cost.data.utilization, fitted on the disclosed runs of one Epoch snapshot only.",
        "# Regenerate (the test tests/data/test_utilization.py re-derives these figures):",
        "#   PYTHONPATH=src python -c \"from uncertain_cost.data.utilization import prior_toml; "
        f"print(prior_toml('../shared/epoch-data/{Path(epoch_dir).name}'), end='')\" > priors/{PRIOR_FILE}",
        "",
        "[meta]",
        'schema = "uncertain_cost.utilization/1"',
        f'snapshot = "{Path(epoch_dir).name}"',
        'source = "Epoch AI, Notable AI Models (CC-BY 4.0): implied utilization compute / (peak x quantity x '
        'hours x 3600), else the stated Hardware utilization"',
        f"min_compute_flop = {min_compute:g}",
        f"plausible_range = [{PLAUSIBLE_RANGE[0]}, {PLAUSIBLE_RANGE[1]}]",
        f"n_runs = {fit.n}",
        f"n_inconsistent = {sum(not r.ok for r in runs)}",
        "",
        "[prior]  # hyperpriors, stated (not fitted): the paper's utilization prior on the logit scale",
        f"mu_mean = {fit.prior.mu_mean!r}",
        f"mu_sd = {fit.prior.mu_sd!r}",
        f"sigma_scale = {fit.prior.sigma_scale!r}",
        f"tau_scale = {fit.prior.tau_scale!r}",
        "",
        "[posterior]  # 5%, 50%, 95% of the run-to-run and between-family sd of logit(u)",
        f"sigma = {[round(x, 4) for x in fit.sigma_quantiles()]}",
        f"tau = {[round(x, 4) for x in fit.tau_quantiles()]}",
        "",
        "# predictive of a new run: logit-scale mean/sd of the mixture, and the Beta with the same",
        "# mean and variance on the utilization scale (what the engine draws under [data] impute = \"all\")",
        "[predictive]",
        f"logit_mean = {round(mean, 6)}",
        f"logit_sd = {round(sd, 6)}",
        f"alpha = {round(alpha, 6)}",
        f"beta = {round(beta, 6)}",
    ]
    for family in fit.families:
        a, b = fit.beta(family)
        n = sum(r.ok and r.family == family for r in runs)
        lines += ["", f'[family."{family}"]', f"n = {n}", f"alpha = {round(a, 6)}", f"beta = {round(b, 6)}"]
    lines += ["", "# kept out of the fit (inconsistent disclosures)"]
    for r in runs:
        if not r.ok:
            lines += ["[[inconsistent]]", f'name = "{r.name}"', f'reason = "{r.status}"', f'source = "{r.source}"']
    return "\n".join(lines) + "\n"


def load_prior(folder=None) -> dict:
    """Read the shipped fit (``priors/utilization.toml``).

    Parameters
    ----------
    folder : pathlib.Path, optional
        Default: :func:`uncertain_cost.defaults.priors_dir`.

    Returns
    -------
    dict
        The TOML document (``predictive.alpha``/``beta`` is the engine's distribution).

    Raises
    ------
    DataError
        When the file is missing.
    """
    from pathlib import Path

    from uncertain_cost.defaults import priors_dir, read_toml
    from uncertain_cost.errors import DataError

    path = Path(folder or priors_dir()) / PRIOR_FILE
    if not path.is_file():
        raise DataError(f"{path}: the utilization fit is missing (needed by [data] impute = \"all\")")
    return read_toml(path, "data.impute")


def predictive_beta(folder=None):
    """Return the engine's utilization distribution under ``[data] impute = "all"``.

    Parameters
    ----------
    folder : pathlib.Path, optional

    Returns
    -------
    uncertain_cost.distributions.Beta
    """
    from uncertain_cost.distributions import Beta

    p = load_prior(folder)["predictive"]
    return Beta(float(p["alpha"]), float(p["beta"]))


_FREE_KEYS = frozenset({"scope", "source", "chip_key"})  # keys of an [inputs] entry that leave its distribution


def _utilization_input(tables, context):
    """Give the fitted predictive as the utilization input under ``[data] impute = "all"``, unless ``[inputs]`` does.

    Returns
    -------
    tuple or None
        ``(distribution, source note)`` for :func:`uncertain_cost.config.parse_config` to put in
        place of the utilization input; None when ``impute`` is not ``"all"`` or the config
        states its own utilization distribution.
    """
    given = tables["inputs"].get("utilization", {})
    if getattr(context.data, "impute", "paper") != "all" or (isinstance(given, dict) and set(given) - _FREE_KEYS):
        return None
    return predictive_beta(), ("[data] impute = \"all\": predictive of the utilization model fitted on the "
                               "2024-06 snapshot's disclosed runs (priors/utilization.toml)")


register_stage("utilization", ("inputs",), _utilization_input, __name__)
