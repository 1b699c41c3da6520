"""Arrays -> labelled xarray objects and summary rows, with units and provenance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from uncertain_cost import __version__
from uncertain_cost.config import RunSettings
from uncertain_cost.data.facts import ModelFacts
from uncertain_cost.engine import Simulation
from uncertain_cost.sampling.streams import SEED_SCHEME
from uncertain_cost.units import COMPONENTS, DIM_COMPONENT, DIM_DRAW, DIM_METHOD, DIM_MODEL, METHODS

__all__ = ["Provenance", "provenance_of", "cost_dataset", "summary_records", "method_counts", "SUMMARY_COLUMNS"]

SUMMARY_COLUMNS = (
    "model", "method", "publication_date", "publication_year", "chip", "point_usd", "median_usd", "mean_usd",
    "p5_usd", "p95_usd", "lo_usd", "hi_usd", "level", "n_draws",
)


@dataclass(frozen=True)
class Provenance:
    """What every output records about how it was made.

    Attributes
    ----------
    seed : int
    config_sha256 : str
    config_path : str
    package_version : str
    reference_month : str
    data_snapshot : str
    n_draws : int
    seed_scheme : str
        Version of the random-stream scheme (same seed and scheme => same draws).
    """

    seed: int
    config_sha256: str
    config_path: str
    reference_month: str
    data_snapshot: str
    n_draws: int
    package_version: str = __version__
    seed_scheme: str = SEED_SCHEME

    def attrs(self) -> dict[str, str | int]:
        """As NetCDF/JSON attributes."""
        return {
            "seed": self.seed,
            "config_sha256": self.config_sha256,
            "config_path": self.config_path,
            "package_version": self.package_version,
            "reference_month": self.reference_month,
            "data_snapshot": self.data_snapshot,
            "n_draws": self.n_draws,
            "seed_scheme": self.seed_scheme,
            "currency": f"USD of {self.reference_month}",
        }


def provenance_of(run: RunSettings, config_sha256: str, config_path: Path | None, facts: ModelFacts) -> Provenance:
    """Provenance of a run (``[run]`` options ``run``, the config's hash and file) on ``facts``."""
    return Provenance(
        seed=run.seed,
        config_sha256=config_sha256,
        config_path=config_path.name if config_path else "embedded-default",
        reference_month=run.reference_month,
        data_snapshot=facts.snapshot or "embedded",
        n_draws=run.draws,
    )


def _reported(facts: ModelFacts) -> np.ndarray:
    return np.flatnonzero(np.asarray(facts.is_frontier, dtype=bool))


def cost_dataset(sim: Simulation, facts: ModelFacts, provenance: Provenance, level: float = 0.9) -> xr.Dataset:
    """Label the kept cost draws as an xarray Dataset.

    Parameters
    ----------
    sim : Simulation
    facts : ModelFacts
    provenance : Provenance
    level : float, default 0.9
        Central level of the ``lo``/``hi`` statistics (``run.credible_level``).

    Returns
    -------
    xarray.Dataset
        ``cost`` (draw, model, method), ``amortized_component`` (draw, model, component),
        ``point`` (model, method), summary statistics over all draws (model, method), and
        per-model coordinates (publication date and year, chip).
    """
    keep = _reported(facts)
    names = [facts.names[i] for i in keep]
    kept = sim.kept
    cost = np.stack([kept.total(m)[:, keep] for m in METHODS], axis=-1)
    point = np.stack([sim.point.total(m)[0, keep] for m in METHODS], axis=-1)
    stats = _stats(sim, keep, level)
    chip = [facts.chips[c] if c >= 0 else "" for c in np.asarray(facts.chip_index)[keep]]
    coords = {
        DIM_DRAW: np.arange(cost.shape[0]),
        DIM_MODEL: names,
        DIM_METHOD: list(METHODS),
        DIM_COMPONENT: list(COMPONENTS),
        "publication_date": (DIM_MODEL, np.asarray(facts.publication_date)[keep].astype("datetime64[ns]")),
        "publication_year": (DIM_MODEL, np.asarray(facts.publication_year)[keep]),
        "chip": (DIM_MODEL, chip),
    }
    units = {"units": f"USD of {provenance.reference_month}"}
    data_vars = {
        "cost": ((DIM_DRAW, DIM_MODEL, DIM_METHOD), cost, {**units, "long_name": "total cost per draw"}),
        "amortized_component": (
            (DIM_DRAW, DIM_MODEL, DIM_COMPONENT), kept.amortized[:, keep, :],
            {**units, "long_name": "amortized hardware + energy cost by component"},
        ),
        "point": ((DIM_MODEL, DIM_METHOD), point,
                  {**units, "long_name": "every input at its central value (paper reproduction)"}),
    }
    for name, values in stats.items():
        data_vars[name] = ((DIM_MODEL, DIM_METHOD), values, {**units, "long_name": f"{name} over all draws"})
    ds = xr.Dataset(data_vars, coords=coords, attrs=provenance.attrs())
    ds.attrs["kept_draws"] = int(cost.shape[0])
    ds.attrs["credible_level"] = float(level)
    return ds


def _stats(sim: Simulation, keep: np.ndarray, level: float = 0.9) -> dict[str, np.ndarray]:
    """Median, mean and quantiles over all draws for each (model, method).

    Each column is summarised alone, in threads (NumPy's partition releases the GIL), so the
    values do not depend on the number of threads.
    """
    from concurrent.futures import ThreadPoolExecutor

    from uncertain_cost.threads import available_cpus

    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    qs = np.array([0.05, 0.5, 0.95, lo_q, hi_q])
    out = {k: np.full((len(keep), len(METHODS)), np.nan) for k in ("median", "mean", "p5", "p95", "lo", "hi")}
    cells = [(k, j, i) for j in range(len(METHODS)) for k, i in enumerate(keep)]

    def summarise(cell):
        _, j, i = cell
        column = np.asarray(sim.totals[METHODS[j]][:, i], dtype=np.float64)
        if np.isnan(column).any():
            return None
        return np.quantile(column, qs), column.mean()

    with ThreadPoolExecutor(available_cpus()) as pool:
        for (k, j, _), found in zip(cells, pool.map(summarise, cells), strict=True):
            if found is None:
                continue
            (p5, median, p95, lo, hi), mean = found
            out["median"][k, j], out["p5"][k, j], out["p95"][k, j] = median, p5, p95
            out["lo"][k, j], out["hi"][k, j] = lo, hi
            out["mean"][k, j] = mean
    return out


def summary_records(costs: xr.Dataset, facts: ModelFacts, n_draws: int) -> list[dict]:
    """One row per costable (model, method): point, median, mean, P5, P95 and the level interval.

    Parameters
    ----------
    costs : xarray.Dataset
        From :func:`cost_dataset` (its statistics over all draws, at its ``credible_level``).
    facts : ModelFacts
    n_draws : int
        Draws behind the statistics.

    Returns
    -------
    list of dict
        Keys :data:`SUMMARY_COLUMNS`, in model order then method order; plus ``imputed``
        (what was imputed for the model) when ``facts.extra`` has it (``[data] impute = "all"``).
    """
    keep = _reported(facts)
    level = float(costs.attrs["credible_level"])
    stats = {name: costs[name].values for name in ("point", "median", "mean", "p5", "p95", "lo", "hi")}
    rows = []
    for k, i in enumerate(keep):
        chip = facts.chips[facts.chip_index[i]] if facts.chip_index[i] >= 0 else ""
        n_candidates = int(np.sum(facts.alternative_of == i))
        if n_candidates:
            chip = f"imputed ({n_candidates} candidates)"
        for j, method in enumerate(METHODS):
            point = float(stats["point"][k, j])
            if not np.isfinite(point) or not np.isfinite(stats["median"][k, j]):
                continue
            rows.append({
                "model": facts.names[i],
                "method": method,
                "publication_date": str(np.asarray(facts.publication_date)[i]),
                "publication_year": float(facts.publication_year[i]),
                "chip": chip,
                "point_usd": point,
                **{f"{name}_usd": float(stats[name][k, j]) for name in ("median", "mean", "p5", "p95", "lo", "hi")},
                "level": level,
                "n_draws": n_draws,
                **({"imputed": facts.extra["imputed"].get(facts.names[i], "")} if "imputed" in facts.extra else {}),
            })
    return rows


def method_counts(rows: list[Mapping]) -> dict[str, int]:
    """How many models each method costs, from summary rows."""
    return {m: sum(1 for r in rows if r["method"] == m) for m in METHODS}
