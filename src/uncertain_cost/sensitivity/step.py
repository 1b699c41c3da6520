"""Run the configured sensitivity analyses of a run and return their tables and figures.

The run's sensitivity stage is a thin caller of :func:`run_sensitivity`: it passes the
facts, inputs and ``[sensitivity]`` settings and stores the returned
:class:`SensitivityOutput` (tables ``tornado`` and ``sobol``, one figure per target, notes
and the ``sensitivity`` dataset of ``results.nc``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from uncertain_cost.sensitivity.sobol import sobol
from uncertain_cost.sensitivity.targets import (
    SOBOL_COLUMNS,
    TORNADO_COLUMNS,
    SensitivitySettings,
    base_values,
    cost_target,
    development_target,
    growth_target,
)
from uncertain_cost.sensitivity.tornado import conditional_tornado, plot_tornado, tornado

__all__ = ["SensitivityOutput", "run_sensitivity"]


@dataclass
class SensitivityOutput:
    """What :func:`run_sensitivity` produced.

    Attributes
    ----------
    tornado_rows, sobol_rows : list of dict
        Rows of ``tornado.csv`` (columns :data:`TORNADO_COLUMNS`) and ``sobol.csv``
        (:data:`SOBOL_COLUMNS`; empty when Sobol indices are off).
    figures : dict of str to matplotlib.figure.Figure
        ``tornado_<target slug>.png`` per target.
    notes : list of str
        Messages for the report (models not in this run, ...).
    sobol : bool
        Whether Sobol indices were computed (``sobol.csv`` is written only then).
    """

    tornado_rows: list[dict] = field(default_factory=list)
    sobol_rows: list[dict] = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    sobol: bool = False

    tornado_columns = TORNADO_COLUMNS
    sobol_columns = SOBOL_COLUMNS

    def dataset(self) -> xr.Dataset:
        """Build the ``sensitivity`` group of ``results.nc``.

        Returns
        -------
        xarray.Dataset
        """
        data, coords = {}, {}
        if self.tornado_rows:
            data.update({
                f"tornado_{key}": ("tornado_bar", np.array([r[key] for r in self.tornado_rows], dtype=np.float64))
                for key in ("low_input", "high_input", "output_low", "output_high", "swing", "base")
            })
            coords["tornado_target"] = ("tornado_bar", [r["target"] for r in self.tornado_rows])
            coords["tornado_input"] = ("tornado_bar", [r["input"] for r in self.tornado_rows])
        if self.sobol_rows:
            data.update({
                f"sobol_{key}": ("sobol_row", np.array([r[key] for r in self.sobol_rows], dtype=np.float64))
                for key in ("s1", "s1_conf", "st", "st_conf")
            })
            coords["sobol_target"] = ("sobol_row", [r["target"] for r in self.sobol_rows])
            coords["sobol_input"] = ("sobol_row", [r["input"] for r in self.sobol_rows])
        return xr.Dataset(data, coords=coords)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def run_sensitivity(facts, inputs, settings: SensitivitySettings, *, interconnect_fraction: float, seed: int,
                    reference_month: str, dev_spec=None) -> SensitivityOutput:
    """Tornado (and Sobol) analyses of model costs, development totals and the growth rate.

    Parameters
    ----------
    facts : ModelFacts
    inputs : InputSet
    settings : SensitivitySettings
        ``tornado = "conditional"`` (default) draws bars under the joint distribution
        (:func:`~uncertain_cost.sensitivity.tornado.conditional_tornado`, ``tornado_outer``
        x ``tornado_inner`` draws per bar); ``"one_at_a_time"`` swings each group to one
        quantile at once (:func:`~uncertain_cost.sensitivity.tornado.tornado`).
    interconnect_fraction : float
    seed : int
        The run's seed (the Sobol design and the conditional draws derive from it).
    reference_month : str
        For the units label ``USD of <month>``.
    dev_spec : DevelopmentSpec, optional
        Development-cost targets for its selected models.

    Returns
    -------
    SensitivityOutput
    """
    out = SensitivityOutput(sobol=settings.sobol)
    if not settings.enabled:
        return out
    units_usd = f"USD of {reference_month}"
    jobs = []  # (factors, f, target names, units, sobol base)
    models = [m for m in settings.models if m in facts.names]
    missing = sorted(set(settings.models) - set(models))
    if missing:
        out.notes.append(f"sensitivity: models not in this run: {', '.join(missing)}")
    for model in models:  # one model at a time: its factors are only the columns it reads
        factors, f, names = cost_target(facts, inputs, [model], settings.methods, interconnect_fraction)
        jobs.append((factors, f, names, units_usd, settings.sobol_base))
    if settings.development and dev_spec is not None:
        for model in dev_spec.models:
            if model.name in dev_spec.selected and model.name in facts.names:
                factors, f = development_target(facts, inputs, model, interconnect_fraction)
                jobs.append((factors, f, [f"{model.name} development total"], units_usd,
                             min(settings.sobol_base, settings.development_sobol_base)))
    if settings.growth:
        factors, f, n = growth_target(facts, inputs, interconnect_fraction)
        jobs.append((factors, f, [f"amortized growth factor ({n} models)"], "x per year",
                     settings.growth_sobol_base))

    for factors, f, names, units, n_base in jobs:
        base = base_values(factors)  # None unless imputed hardware: its base is the most likely chip
        if settings.tornado == "conditional":
            result = conditional_tornado(factors, f, np.random.SeedSequence(seed, spawn_key=(0x70A2D0,)),
                                         low_q=settings.low_quantile, high_q=settings.high_quantile,
                                         target_names=names, by_group=True, n_outer=settings.tornado_outer,
                                         n_inner=settings.tornado_inner, base_values=base)
        else:
            result = tornado(factors, f, low_q=settings.low_quantile, high_q=settings.high_quantile,
                             target_names=names, by_group=True, base_values=base)
        rows = result.table()
        for row in rows:
            row["units"] = units
            row["method"] = result.method
        out.tornado_rows += rows
        for name in names:
            out.figures[f"tornado_{_slug(name)}.png"] = plot_tornado(result, name, units=units)
        if settings.sobol:
            sob = sobol(factors, f, n_base, seed, n_bootstrap=settings.bootstrap, target_names=names, by_group=True)
            out.sobol_rows += sob.table()
    return out
