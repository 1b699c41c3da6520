"""Value of information of each input for the Bayesian growth slope and the 2027 forecast.

For every uncertain input (one group per input, as the tornado groups them) the Monte Carlo
is rerun with that input held at its central value (same seed, so every other input draws
exactly the same numbers), the frontier models' log10 costs are rebuilt into a
:class:`~uncertain_cost.growth.GrowthData` (so the marginalised fit sees the draws'
covariance without that input), and the single-method amortized Bayesian posterior under
that measurement is compared with the one on the full uncertainty:

``slope_sd_reduction = 1 - sd(slope | input known) / sd(slope | full uncertainty)``

``p_gt_1e9_change = P(max 2027 cost > $1B | input known) - P(... | full uncertainty)``

Only the full-uncertainty posterior is sampled; each input's posterior is that one reweighted
to the new measurement by Pareto-smoothed importance sampling
(`uncertain_cost.growth.reweight`), and refitted with the same sampler settings and seed
where the Pareto k exceeds 0.7 (column ``method``: ``psis`` or ``refit``; ``pareto_k``).
The fits use few draws and tuning steps and two chains: the table is a relative figure, not a
converged posterior summary (see docs/sensitivity.md for the Monte Carlo error this leaves).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from uncertain_cost.distributions import Constant
from uncertain_cost.growth.reweight import PARETO_K_MAX

__all__ = ["VOI_COLUMNS", "VOI_YEAR", "VOI_THRESHOLD_USD", "FULL_UNCERTAINTY", "ValueOfInformation",
           "bayes_fit_summary", "value_of_information", "run_value_of_information", "plot_value_of_information",
           "top_inputs"]

VOI_YEAR = 2027
VOI_THRESHOLD_USD = 1e9
VOI_COLUMNS = ("input", "slope_sd", "slope_sd_reduction", "p_gt_1e9_2027", "p_gt_1e9_change", "pareto_k", "method")
FULL_UNCERTAINTY = "(none: full uncertainty)"
_METHOD = "amortized"


@dataclass
class ValueOfInformation:
    """What :func:`value_of_information` produced.

    Attributes
    ----------
    rows : list of dict
        Rows of ``value_of_information.csv`` (columns :data:`VOI_COLUMNS`): first the
        reference fit on the full uncertainty (input :data:`FULL_UNCERTAINTY`, reductions
        0), then one row per uncertain input, largest ``slope_sd_reduction`` first.
    settings : dict
        ``draws``, ``tune``, ``chains`` of every fit, ``mc_draws`` (Monte Carlo draws per
        re-simulation), ``year``, ``threshold_usd``, ``method``.
    """

    rows: list[dict] = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    columns = VOI_COLUMNS


def _fit_amortized(data, *, seed: int, draws: int, tune: int, chains: int, cores: int, center: str,
                   sampler: str):
    """Fit the single-method amortized model to ``data`` (short chains: its warnings are silenced)."""
    import warnings

    from uncertain_cost.growth import fit_bayes

    with warnings.catch_warnings():  # short chains: diagnostics are expected to be loose
        warnings.simplefilter("ignore")
        return fit_bayes(data.select([_METHOD]), seed=seed, draws=draws, tune=tune, chains=chains, cores=cores,
                         center=center, sampler=sampler, log_likelihood=False)


def _summarise(fit, models_per_year: int | None, year: int, threshold_usd: float,
               log_weights: np.ndarray | None = None) -> tuple[float, float]:
    """Slope sd and P(max cost of ``year`` > threshold) of a fit, under importance weights if given."""
    from uncertain_cost.growth import forecast_costs
    from uncertain_cost.growth.reweight import weighted_mean, weighted_sd

    slope = fit.draws("slope", _METHOD)
    forecast = forecast_costs(fit, [year], thresholds=(threshold_usd,), models_per_year=models_per_year)
    if log_weights is None:
        row = next(r for r in forecast.rows if r["method"] == _METHOD and int(r["year"]) == year)
        key = next(k for k in row if k.startswith("prob_gt_"))
        return float(np.std(slope, ddof=1)), float(row[key])
    top = forecast.predictive["max_log10_cost"].sel(cost_method=_METHOD, year=year)
    exceeds = np.asarray(top.values).reshape(-1) > np.log10(threshold_usd)
    return weighted_sd(slope, log_weights), weighted_mean(exceeds, log_weights)


def bayes_fit_summary(data, *, seed: int, draws: int = 4000, tune: int = 1000, chains: int = 2, cores: int = 2,
                      center: str = "median", sampler: str = "nutpie", models_per_year: int | None = None,
                      year: int = VOI_YEAR, threshold_usd: float = VOI_THRESHOLD_USD) -> tuple[float, float]:
    """Posterior sd of the amortized slope and P(max cost of ``year`` > threshold), one fit.

    Parameters
    ----------
    data : uncertain_cost.growth.GrowthData
        Frontier models' costs; only the amortized method is fitted (alone).
    seed : int
        Sampler seed (the same for every fit of the comparison).
    draws, tune, chains : int
        NUTS settings (``draws`` >= 100, as :func:`uncertain_cost.growth.fit_bayes` requires).
    cores : int, default 2
        Chains run side by side (the draws do not depend on it).
    center : str
        Observation of each model (see :func:`uncertain_cost.growth.fit_bayes`).
    sampler : {"nutpie"}
    models_per_year : int, optional
        Frontier runs per forecast year (default: the fitted data's).
    year : int
    threshold_usd : float

    Returns
    -------
    slope_sd : float
        Posterior standard deviation of the slope (OOM per year).
    p_gt : float
        Posterior probability that the most expensive run of ``year`` exceeds ``threshold_usd``.
    """
    fit = _fit_amortized(data, seed=seed, draws=draws, tune=tune, chains=chains, cores=cores, center=center,
                         sampler=sampler)
    return _summarise(fit, models_per_year, year, threshold_usd)


class _BayesVOI:
    """The default fit of `value_of_information`: one reference fit, PSIS reweighting, refit when k is high."""

    def __init__(self, *, seed, draws, tune, chains, cores, center, sampler, models_per_year, reweight,
                 pareto_k_max):
        self.fit_kwargs = {"seed": seed, "draws": draws, "tune": tune, "chains": chains, "cores": cores,
                           "center": center, "sampler": sampler}
        self.models_per_year, self.reweight, self.pareto_k_max = models_per_year, reweight, pareto_k_max
        self.fit = self.model = None

    def _summary(self, fit, log_weights=None):
        return _summarise(fit, self.models_per_year, VOI_YEAR, VOI_THRESHOLD_USD, log_weights)

    def reference(self, data) -> tuple[float, float]:
        """Fit the full-uncertainty data; keep the fit and its model for reweighting."""
        from uncertain_cost.growth.bayes import build_model

        self.fit = _fit_amortized(data, **self.fit_kwargs)
        if self.reweight:
            self.model = build_model(data.select([_METHOD]), priors=self.fit.priors, center=self.fit.center)
        return self._summary(self.fit)

    def known(self, data) -> tuple[float, float, float, str]:
        """``(slope_sd, p_gt, pareto_k, method)`` with one input known: reweighted, or refitted if k is high."""
        from uncertain_cost.growth.bayes import build_model
        from uncertain_cost.growth.reweight import reweight_posterior

        k = math.nan
        if self.reweight:
            new = build_model(data.select([_METHOD]), priors=self.fit.priors, center=self.fit.center)
            try:
                rw = reweight_posterior(self.fit, self.model, new)
            except ValueError:  # other models costed than the reference fit's: only a refit can tell
                rw = None
            if rw is not None:
                k = rw.pareto_k
                if k <= self.pareto_k_max:
                    return (*self._summary(rw.fit, rw.log_weights), k, "psis")
        return (*self._summary(_fit_amortized(data, **self.fit_kwargs)), k, "refit")


def value_of_information(facts, inputs, *, seed: int, n_draws: int, interconnect_fraction: float,
                         fit: Callable | None = None, draws: int = 4000, tune: int = 1000, chains: int = 2,
                         cores: int = 2, center: str = "median", sampler: str = "nutpie",
                         models_per_year: int | None = None,
                         progress: Callable[[str], None] | None = None,
                         only: Sequence[str] | None = None, reweight: bool = True,
                         pareto_k_max: float = PARETO_K_MAX) -> ValueOfInformation:
    """How much the growth slope's posterior sd and P(> $1B in 2027) shrink when each input is known.

    Parameters
    ----------
    facts : ModelFacts
        The run's models (frontier flags, years).
    inputs : InputSet
        The run's inputs; each uncertain one in turn is replaced by a constant at its
        central value (``distribution.central``).
    seed : int
        The run's seed: every re-simulation and every fit use it.
    n_draws : int
        Monte Carlo draws per re-simulation (the run passes its ``keep_draws``; the
        re-simulations draw other numbers than the run's kept draws).
    interconnect_fraction : float
    fit : callable, optional
        ``fit(data, seed) -> (slope_sd, p_gt_1e9)``, called once per input (rows ``method``
        "refit", ``pareto_k`` NaN). Default: the amortized Bayesian fit (`bayes_fit_summary`'s
        settings) of the full uncertainty, reweighted to each input's data by PSIS
        (`uncertain_cost.growth.reweight`) and refitted where the Pareto k exceeds
        ``pareto_k_max``.
    draws, tune, chains, cores, center, sampler, models_per_year
        Settings of the default Bayesian fit and forecast.
    progress : callable, optional
        Called with a one-line message before each input.
    only : sequence of str, optional
        Analyse only these inputs (names of uncertain inputs); default every uncertain input.
    reweight : bool, default True
        With the default fit: reweight where reliable (False: refit every input).
    pareto_k_max : float, default 0.7
        Largest Pareto k for which a reweighted row is used.

    Returns
    -------
    ValueOfInformation
    """
    from threadpoolctl import threadpool_limits

    from uncertain_cost.engine import simulate
    from uncertain_cost.growth.step import growth_data_from_run

    if isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or n_draws < 2:
        raise ValueError(f"n_draws must be an integer >= 2, got {n_draws!r}")
    if fit is None:
        engine = _BayesVOI(seed=seed, draws=draws, tune=tune, chains=chains, cores=cores, center=center,
                           sampler=sampler, models_per_year=models_per_year, reweight=reweight,
                           pareto_k_max=pareto_k_max)
        reference, known = engine.reference, engine.known
    else:
        def reference(data):
            return fit(data, seed)

        def known(data):
            return (*fit(data, seed), math.nan, "refit")
    say = progress if progress is not None else (lambda message: None)
    uncertain = list(inputs.uncertain())
    if only is not None:
        unknown = sorted(set(only) - {spec.name for spec in uncertain})
        if unknown:
            raise ValueError(f"value_of_information: {unknown[0]!r} is not an uncertain input")
        uncertain = [spec for spec in uncertain if spec.name in set(only)]

    def data_of(input_set, label):
        say(f"value of information: {label}")
        sim = simulate(facts, input_set, int(n_draws), seed, keep_draws=int(n_draws),
                       interconnect_fraction=interconnect_fraction)
        return growth_data_from_run(facts, sim)

    # One BLAS thread, as in the fit: the matrices are small (41 models), and a BLAS pool's
    # spinning threads compete with the sampler's for the cores (np.cov of the measurement took
    # 0.8 s instead of milliseconds on the busy 2-core machine).
    with threadpool_limits(limits=1, user_api="blas"):
        sd_full, p_full = reference(data_of(inputs, "with full uncertainty"))
        rows = []
        for spec in uncertain:
            held = inputs.replace(spec.name, distribution=Constant(spec.distribution.central))
            sd, p, k, how = known(data_of(held, f"with {spec.name} known"))
            rows.append({"input": spec.name, "slope_sd": sd, "slope_sd_reduction": 1.0 - sd / sd_full,
                         "p_gt_1e9_2027": p, "p_gt_1e9_change": p - p_full, "pareto_k": k, "method": how})
    rows.sort(key=lambda r: -r["slope_sd_reduction"])
    first = {"input": FULL_UNCERTAINTY, "slope_sd": sd_full, "slope_sd_reduction": 0.0, "p_gt_1e9_2027": p_full,
             "p_gt_1e9_change": 0.0, "pareto_k": None, "method": "reference"}
    return ValueOfInformation([first, *rows], {"draws": draws, "tune": tune, "chains": chains,
                                               "mc_draws": int(n_draws), "year": VOI_YEAR,
                                               "threshold_usd": VOI_THRESHOLD_USD, "method": _METHOD,
                                               "pareto_k_max": pareto_k_max})


def top_inputs(sobol_rows, k: int) -> list[str] | None:
    """Return the ``k`` inputs with the largest Sobol total-order index on the amortized growth rate.

    Parameters
    ----------
    sobol_rows : sequence of dict
        Rows of ``sobol.csv`` (``target``, ``input``, ``st``).
    k : int

    Returns
    -------
    list of str or None
        None when there is no growth-rate Sobol analysis or it has at most ``k`` inputs
        (then every uncertain input is analysed).
    """
    rows = [r for r in sobol_rows if "growth factor" in str(r["target"]) and str(r["input"]) != "hardware_choice"]
    if len(rows) <= k:
        return None
    rows.sort(key=lambda r: (-float(r["st"]), str(r["input"])))
    return [str(r["input"]) for r in rows[:k]]


def run_value_of_information(facts, config, settings, growth, only=None) -> ValueOfInformation:
    """:func:`value_of_information` as a run configures it (the sensitivity stage's call).

    Parameters
    ----------
    facts : ModelFacts
        The run's resolved models.
    config : uncertain_cost.config.Config
        ``inputs`` and ``run`` (seed, draws, keep_draws, interconnect_fraction).
    settings : SensitivitySettings
        ``voi_draws`` and ``voi_tune``.
    growth : uncertain_cost.growth.settings.GrowthSettings
        ``center``, ``sampler`` and ``models_per_year`` of the growth fit.
    only : sequence of str, optional
        The inputs to analyse (`top_inputs`); default every uncertain input.

    Returns
    -------
    ValueOfInformation
        Re-simulations of ``min(run.draws, run.keep_draws)`` draws with the run's seed.
    """
    return value_of_information(
        facts, config.inputs, seed=config.run.seed, n_draws=min(config.run.draws, config.run.keep_draws),
        interconnect_fraction=config.run.interconnect_fraction, draws=settings.voi_draws, tune=settings.voi_tune,
        center=growth.center, sampler=growth.sampler, models_per_year=growth.models_per_year, only=only)


def plot_value_of_information(result: ValueOfInformation):
    """Horizontal bars: slope-sd reduction and change of P(> $1B in 2027) per input known.

    Parameters
    ----------
    result : ValueOfInformation

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    rows = [r for r in result.rows if r["input"] != FULL_UNCERTAINTY][::-1]  # largest on top
    names = [r["input"] for r in rows]
    y = np.arange(len(rows))
    fig = Figure(figsize=(10, 0.35 * len(rows) + 1.8))
    left, right = fig.subplots(1, 2, sharey=True)
    left.barh(y, [100.0 * r["slope_sd_reduction"] for r in rows], color="#4C72B0")
    left.set_yticks(y, names)
    left.set_xlabel("reduction of the slope's posterior sd (%)")
    right.barh(y, [100.0 * r["p_gt_1e9_change"] for r in rows], color="#DD8452")
    right.set_xlabel(f"change of P(> $1B in {VOI_YEAR}) (percentage points)")
    for ax in (left, right):
        ax.axvline(0.0, color="black", linewidth=0.8)
    s = result.settings
    fig.suptitle(f"Value of information: each input held at its central value "
                 f"({s.get('chains')} chains x {s.get('draws')} draws per fit, {s.get('mc_draws')} MC draws)",
                 fontsize=10)
    fig.tight_layout()
    return fig
