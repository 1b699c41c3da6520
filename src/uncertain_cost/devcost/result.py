"""The development cost of each model as per-draw components, summarized, labelled and shared."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from uncertain_cost.devcost.spec import DEV_COMPONENTS, DIM_ROLE
from uncertain_cost.units import DIM_COMPONENT, DIM_DRAW, DIM_MODEL

__all__ = ["DevCostResult"]


@dataclass(frozen=True)
class DevCostResult:
    """Per-draw development costs of the costed models.

    Attributes
    ----------
    models : tuple of str
    costs : mapping model -> component -> ndarray (n_draws,)
        Components ``staff, chips, other_server, interconnect, energy, total`` in
        reference-month USD (compute components already times the experiment factor);
        ``total`` is the per-draw sum. Arrays are read-only.
    experiment_factor, project_years : mapping model -> ndarray (n_draws,)
    staff_by_role : mapping model -> role -> ndarray (n_draws,)
        Staff cost per role (sums to ``costs[model]["staff"]``).
    staff_at_central : mapping model -> float
        Staff cost with every input at its central value.
    equity_included : mapping model -> bool
    n_draws : int
    seed_entropy : str
    seed_spawn_key : tuple of int
    experiment_factor_scope : str
    """

    models: tuple[str, ...]
    costs: Mapping[str, Mapping[str, np.ndarray]]
    experiment_factor: Mapping[str, np.ndarray]
    project_years: Mapping[str, np.ndarray]
    staff_by_role: Mapping[str, Mapping[str, np.ndarray]]
    staff_at_central: Mapping[str, float]
    equity_included: Mapping[str, bool]
    n_draws: int
    seed_entropy: str = ""
    seed_spawn_key: tuple[int, ...] = ()
    experiment_factor_scope: str = "per_model"
    components: tuple[str, ...] = field(default=DEV_COMPONENTS)

    def array(self, model: str) -> np.ndarray:
        """Draws of one model as an array of shape (n_draws, 6), columns ``components``."""
        return np.column_stack([self.costs[model][c] for c in self.components])

    def shares(self, model: str) -> dict[str, np.ndarray]:
        """Per-draw share of the total of each component (``total`` is 1)."""
        total = self.costs[model]["total"]
        with np.errstate(invalid="ignore", divide="ignore"):
            return {c: self.costs[model][c] / total for c in self.components}

    def paper_style(self, model: str) -> dict[str, float]:
        """Return the paper's summary: component medians, and their sum as ``total``."""
        med = {c: float(np.median(self.costs[model][c])) for c in self.components[:-1]}
        med["total"] = float(sum(med.values()))
        return med

    def table(self) -> list[dict[str, Any]]:
        """Summary rows, one per model and component.

        Returns
        -------
        list of dict
            Keys ``model, component, median_usd, mean_usd, p5_usd, p95_usd, share_median``
            (median of the per-draw share of the total), ``paper_style_usd`` (component
            median; for ``total`` the paper's sum of component medians) and
            ``share_paper_style`` (component median / sum of component medians).
            ``pandas.DataFrame(result.table())`` gives a frame.
        """
        rows = []
        for model in self.models:
            shares = self.shares(model)
            paper = self.paper_style(model)
            for comp in self.components:
                draws = self.costs[model][comp]
                if draws.size:
                    p5, med, p95 = (float(v) for v in np.percentile(draws, [5, 50, 95]))
                    mean, share = float(draws.mean()), float(np.nanmedian(shares[comp]))
                else:
                    p5 = med = p95 = mean = share = math.nan
                rows.append({
                    "model": model,
                    "component": comp,
                    "median_usd": med,
                    "mean_usd": mean,
                    "p5_usd": p5,
                    "p95_usd": p95,
                    "share_median": share,
                    "paper_style_usd": paper[comp],
                    "share_paper_style": (paper[comp] / paper["total"]
                                          if paper["total"] else math.nan),
                })
        return rows

    def to_dataset(self):
        """Labelled draws as an :class:`xarray.Dataset` (for ``results.nc``).

        Returns
        -------
        xarray.Dataset
            ``development_cost`` (draw, model, component), ``experiment_factor`` and
            ``project_years`` (draw, model), ``staff_by_role`` (draw, model, role; NaN where
            a model has no such role), ``paper_style_usd`` (model, component),
            ``staff_at_central_usd`` and ``equity_included`` (model).
        """
        import xarray as xr

        n, models, comps = self.n_draws, list(self.models), list(self.components)
        cost = np.empty((n, len(models), len(comps)))
        for i, m in enumerate(models):
            cost[:, i, :] = self.array(m)
        roles = list(dict.fromkeys(r for m in models for r in self.staff_by_role[m]))
        by_role = np.full((n, len(models), len(roles)), np.nan)
        for i, m in enumerate(models):
            for j, r in enumerate(roles):
                if r in self.staff_by_role[m]:
                    by_role[:, i, j] = self.staff_by_role[m][r]
        usd = "USD (reference month)"
        paper = np.array([[self.paper_style(m)[c] for c in comps] for m in models]).reshape(
            len(models), len(comps))
        return xr.Dataset(
            {
                "development_cost": ((DIM_DRAW, DIM_MODEL, DIM_COMPONENT), cost, {
                    "units": usd,
                    "long_name": "full development cost (staff + experiment compute)"}),
                "experiment_factor": ((DIM_DRAW, DIM_MODEL), self._stack(self.experiment_factor), {
                    "units": "1", "long_name": "all compute / final-run compute"}),
                "project_years": ((DIM_DRAW, DIM_MODEL), self._stack(self.project_years), {
                    "units": "year", "long_name": "project duration"}),
                "staff_by_role": ((DIM_DRAW, DIM_MODEL, DIM_ROLE), by_role, {
                    "units": usd, "long_name": "R&D staff cost by contributor role"}),
                "paper_style_usd": ((DIM_MODEL, DIM_COMPONENT), paper, {
                    "units": usd,
                    "long_name": "component medians; total = sum of medians (paper)"}),
                "staff_at_central_usd": ((DIM_MODEL,), np.array(
                    [self.staff_at_central[m] for m in models], dtype=np.float64), {
                    "units": usd, "long_name": "staff cost with every input at its central value"}),
                "equity_included": ((DIM_MODEL,), np.array(
                    [self.equity_included[m] for m in models], dtype=bool)),
            },
            coords={DIM_DRAW: np.arange(n), DIM_MODEL: models, DIM_COMPONENT: comps,
                    DIM_ROLE: roles},
            attrs={
                "description": "full development cost, method.md section 7",
                "seed_entropy": self.seed_entropy,
                "seed_spawn_key": str(list(self.seed_spawn_key)),
                "experiment_factor_scope": self.experiment_factor_scope,
            },
        )

    def _stack(self, mapping: Mapping[str, np.ndarray]) -> np.ndarray:
        if not self.models:
            return np.empty((self.n_draws, 0))
        return np.column_stack([mapping[m] for m in self.models])


