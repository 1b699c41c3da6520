"""Input of the growth fit: per-method Monte Carlo draws of log10 cost, and the measurement model.

`GrowthData` is what the engine hands to the growth stage. `measurement` (internal to the
package) turns it into the compact form the Bayesian model uses: the stacked vector of
observed log10 costs (one entry per costed (method, model) pair), their full covariance over
the Monte Carlo draws, and its eigendecomposition.

Why the full covariance: inputs shared by all models (depreciation rate, server overhead,
interconnect fraction, electricity price) or by all models on one chip (the TPU price) move
every affected model's cost together within a draw. Their uncertainty moves the level of the
trend (or the level of one chip's models), not each model independently; the off-diagonal
terms of the covariance say exactly that. Methods computed from the same input draws
(``draws_aligned``) also share per-model inputs (chip-hours enter amortized and cloud alike),
so the covariance is taken jointly over methods.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from uncertain_cost.errors import DataError, UncertainCostWarning
from uncertain_cost.units import DIM_METHOD

__all__ = ["GrowthData", "DIM_COST_METHOD", "CENTERS"]

#: Dimension of the cost method in the growth posterior. Not ``"method"``: xarray's
#: ``Dataset.sel`` takes a ``method=`` keyword (nearest-neighbour lookup), so
#: ``posterior.sel(method="cloud")`` silently selects nothing and ``arviz.summary`` (which
#: selects by ``.sel(**coords)``) breaks on a dimension of that name.
DIM_COST_METHOD = DIM_METHOD

#: Allowed values of ``center``: what the observed log10 cost of a model is.
CENTERS = ("median", "mean", "point")

#: Eigenvalue floor of the measurement covariance, in dex^2 (0.01 dex = 2.3 %): keeps the
#: measurement model proper when a combination of models has (almost) no Monte Carlo spread.
EIGENVALUE_FLOOR = 1e-4


def _as_1d(values, name: str) -> np.ndarray:
    arr = np.array(values, dtype=np.float64, copy=True)
    if arr.ndim != 1:
        raise DataError(f"growth data: {name} must be one-dimensional, got shape {arr.shape}")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class GrowthData:
    """Monte Carlo costs of the frontier models, per method, ready for the growth fit.

    Parameters
    ----------
    year : array_like, shape (n_models,)
        Decimal publication year of every frontier model (also models no method can cost:
        they count towards the number of frontier models per year used by the forecast).
    log10_cost_draws : mapping of str to array_like, shape (n_draws, n_models)
        Per method (e.g. ``"amortized"``, ``"cloud"``, ``"acquisition"``), the Monte Carlo
        draws of log10 cost (constant USD). NaN for models the method cannot cost. A model
        enters a method's fit only if all its draws are finite.
    log10_cost_point : mapping of str to array_like, shape (n_models,), optional
        Per method, the point estimate (every input at its central value): the paper's
        numbers, used by the OLS fit and by ``center="point"``.
    model : sequence of str, optional
        Model names, unique; default ``"model_0"``, ``"model_1"``, ...
    draws_aligned : bool, default True
        Draw ``d`` of every method comes from the same sample of the inputs (true for the
        engine, which computes all methods from one set of draws). Then the measurement
        covariance is joint over methods; otherwise methods are treated as independent.
    chip : sequence of str, optional
        Accelerator type of every model (``""`` where unknown); empty: not given. Used by the
        decomposition of the headline (`uncertain_cost.growth.decomposition`: within-chip blocks).
    chip_age_years : array_like, shape (n_models,), optional
        Years from the acquisition of the model's hardware to the start of its training (the
        engine's central ``depreciation_years``; NaN where unknown, otherwise >= 0); None:
        not given.

    Raises
    ------
    DataError
        On inconsistent shapes, non-finite years, duplicate names or no method.
    """

    year: np.ndarray
    log10_cost_draws: Mapping[str, np.ndarray]
    log10_cost_point: Mapping[str, np.ndarray] = field(default_factory=dict)
    model: tuple[str, ...] = ()
    draws_aligned: bool = True
    chip: tuple[str, ...] = ()
    chip_age_years: np.ndarray | None = None

    def __post_init__(self):
        year = _as_1d(self.year, "year")
        n = year.size
        if n == 0:
            raise DataError("growth data: no models")
        if not np.all(np.isfinite(year)):
            raise DataError("growth data: every model needs a finite publication year")
        if not self.log10_cost_draws:
            raise DataError("growth data: no cost method given")
        draws = {}
        for method, values in self.log10_cost_draws.items():
            arr = np.array(values, dtype=np.float64, copy=True)
            if arr.ndim != 2 or arr.shape[1] != n:
                raise DataError(
                    f"growth data: log10_cost_draws[{method!r}] must have shape (n_draws, {n}), "
                    f"got {arr.shape}"
                )
            if arr.shape[0] < 2:
                raise DataError(f"growth data: log10_cost_draws[{method!r}] needs at least 2 draws")
            arr[~np.isfinite(arr)] = np.nan  # -inf (a zero cost) and inf are unusable too
            arr.setflags(write=False)
            draws[str(method)] = arr
        points = {}
        for method, values in (self.log10_cost_point or {}).items():
            if method not in draws:
                raise DataError(f"growth data: point estimates for unknown method {method!r}")
            arr = _as_1d(values, f"log10_cost_point[{method!r}]")
            if arr.size != n:
                raise DataError(
                    f"growth data: log10_cost_point[{method!r}] has {arr.size} entries, expected {n}"
                )
            arr = np.where(np.isfinite(arr), arr, np.nan)
            arr.setflags(write=False)
            points[str(method)] = arr
        names = tuple(str(m) for m in self.model) if len(self.model) else tuple(
            f"model_{i}" for i in range(n)
        )
        if len(names) != n:
            raise DataError(f"growth data: {len(names)} model names for {n} models")
        if len(set(names)) != n:
            raise DataError("growth data: model names must be unique")
        chip = tuple(str(c) for c in self.chip)
        if chip and len(chip) != n:
            raise DataError(f"growth data: {len(chip)} chip names for {n} models")
        age = None
        if self.chip_age_years is not None:
            age = _as_1d(self.chip_age_years, "chip_age_years")
            if age.size != n:
                raise DataError(f"growth data: chip_age_years has {age.size} entries, expected {n}")
            if np.any(age[np.isfinite(age)] < 0) or np.any(np.isinf(age)):
                raise DataError("growth data: chip_age_years must be >= 0 years (NaN where unknown)")
        object.__setattr__(self, "chip", chip)
        object.__setattr__(self, "chip_age_years", age)
        object.__setattr__(self, "year", year)
        object.__setattr__(self, "log10_cost_draws", MappingProxyType(draws))
        object.__setattr__(self, "log10_cost_point", MappingProxyType(points))
        object.__setattr__(self, "model", names)

    @property
    def methods(self) -> tuple[str, ...]:
        """Method names, in the order given."""
        return tuple(self.log10_cost_draws)

    @property
    def n_models(self) -> int:
        """Number of frontier models (costed by some method or not)."""
        return int(self.year.size)

    def select(self, methods) -> GrowthData:
        """Restrict the data to ``methods`` (e.g. to fit one method on its own).

        Parameters
        ----------
        methods : str or sequence of str

        Returns
        -------
        GrowthData
        """
        names = [methods] if isinstance(methods, str) else list(methods)
        for m in names:
            if m not in self.log10_cost_draws:
                raise DataError(f"growth data: no method {m!r}; have {list(self.methods)}")
        return GrowthData(self.year, {m: self.log10_cost_draws[m] for m in names},
                          {m: self.log10_cost_point[m] for m in names if m in self.log10_cost_point},
                          self.model, self.draws_aligned, self.chip, self.chip_age_years)

    def subset(self, keep) -> GrowthData:
        """Restrict the data to some models (e.g. to leave one out, or to start in a later year).

        Parameters
        ----------
        keep : array_like of bool, shape (n_models,)

        Returns
        -------
        GrowthData
        """
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != self.year.shape:
            raise DataError(f"growth data: subset mask of shape {keep.shape}, expected {self.year.shape}")
        idx = np.flatnonzero(keep)
        age = None if self.chip_age_years is None else self.chip_age_years[idx]
        return GrowthData(self.year[idx], {m: v[:, idx] for m, v in self.log10_cost_draws.items()},
                          {m: v[idx] for m, v in self.log10_cost_point.items()},
                          tuple(self.model[i] for i in idx), self.draws_aligned,
                          tuple(self.chip[i] for i in idx) if self.chip else (), age)

    def costed(self, method: str) -> np.ndarray:
        """Boolean mask of the models that ``method`` costs in every draw."""
        return np.all(np.isfinite(self.log10_cost_draws[method]), axis=0)

    @classmethod
    def from_costs(
        cls,
        year,
        cost_draws_usd: Mapping[str, np.ndarray],
        cost_point_usd: Mapping[str, np.ndarray] | None = None,
        *,
        model: Sequence[str] = (),
        draws_aligned: bool = True,
        chip: Sequence[str] = (),
        chip_age_years=None,
    ) -> GrowthData:
        """Build from costs in USD (not log10).

        Parameters
        ----------
        year : array_like, shape (n_models,)
        cost_draws_usd : mapping of str to array_like, shape (n_draws, n_models)
            NaN where a method cannot cost a model.
        cost_point_usd : mapping of str to array_like, shape (n_models,), optional
        model : sequence of str, optional
        draws_aligned : bool, default True
        chip : sequence of str, optional
        chip_age_years : array_like, optional

        Returns
        -------
        GrowthData

        Raises
        ------
        DataError
            If a cost is zero or negative.
        """
        def log10(values, name):
            arr = np.asarray(values, dtype=np.float64)
            if np.any(arr[np.isfinite(arr)] <= 0):
                raise DataError(f"growth data: {name} has a cost <= 0 USD")
            with np.errstate(invalid="ignore"):
                return np.log10(arr)

        draws = {m: log10(v, f"cost_draws_usd[{m!r}]") for m, v in cost_draws_usd.items()}
        points = {m: log10(v, f"cost_point_usd[{m!r}]") for m, v in (cost_point_usd or {}).items()}
        return cls(year, draws, points, tuple(model), draws_aligned, tuple(chip), chip_age_years)

    @classmethod
    def from_cost_dataset(cls, ds, methods: Sequence[str] | None = None) -> GrowthData:
        """Build from the engine's labelled cost dataset (``results.cost_dataset``).

        Parameters
        ----------
        ds : xarray.Dataset
            With ``cost`` (draw, model, cost_method) and ``point`` (model, cost_method) in USD
            and the coordinate ``publication_year`` (model), as written to ``results.nc``
            (a dimension named ``method``, as in older files, is read too). The coordinates
            ``chip`` and ``chip_age_years`` (model), where present, become `chip` and
            `chip_age_years`.
        methods : sequence of str, optional
            Methods to keep (default: every method of the dataset).

        Returns
        -------
        GrowthData
        """
        dim = next((d for d in (DIM_COST_METHOD, "method") if d in ds["cost"].dims), None)
        if dim is None:
            raise ValueError(f"cost dataset: 'cost' has no method dimension ({DIM_COST_METHOD!r}); "
                             f"dims are {ds['cost'].dims}")
        all_methods = [str(m) for m in ds[dim].values]
        names = all_methods if methods is None else list(methods)
        unknown = [m for m in names if m not in all_methods]
        if unknown:
            raise ValueError(f"cost dataset has no method {unknown[0]!r}; have {all_methods}")
        cost = ds["cost"].transpose("draw", "model", dim)
        draws, points = {}, {}
        for m in names:
            j = all_methods.index(m)  # isel, not sel: "method" is also a keyword of .sel
            draws[m] = cost.isel({dim: j}).values
            if "point" in ds:
                points[m] = ds["point"].transpose("model", dim).isel({dim: j}).values
        return cls.from_costs(
            ds["publication_year"].values, draws, points,
            model=[str(x) for x in ds["model"].values], draws_aligned=True,
            chip=[str(x) for x in ds["chip"].values] if "chip" in ds.coords else (),
            chip_age_years=ds["chip_age_years"].values if "chip_age_years" in ds.coords else None,
        )


@dataclass(frozen=True, eq=False)
class Measurement:
    """The stacked observations of the Bayesian fit and their measurement covariance.

    One observation per costed (method, model) pair, method-major.

    Attributes
    ----------
    methods : tuple of str
    model : tuple of str
        Models costed by at least one method (the latent per-model effects).
    year : ndarray, shape (n_union,)
    method_index, model_index : ndarray of int, shape (n_obs,)
    center : ndarray, shape (n_obs,)
        Observed log10 cost.
    cov : ndarray, shape (n_obs, n_obs)
        Covariance of log10 cost over the Monte Carlo draws (block-diagonal over methods
        unless ``joint``).
    eigvals : ndarray, shape (n_obs,)
        Eigenvalues of ``cov``, floored at `EIGENVALUE_FLOOR`.
    eigvecs : ndarray, shape (n_obs, n_obs)
    joint : bool
    n_draws : int
    n_models : dict of str to int
    """

    methods: tuple[str, ...]
    model: tuple[str, ...]
    year: np.ndarray
    method_index: np.ndarray
    model_index: np.ndarray
    center: np.ndarray
    cov: np.ndarray
    eigvals: np.ndarray
    eigvecs: np.ndarray
    joint: bool
    n_draws: int
    n_models: dict

    @property
    def n_obs(self) -> int:
        """Number of (method, model) observations."""
        return int(self.center.size)

    @property
    def sd(self) -> np.ndarray:
        """Marginal measurement standard deviation of each observation (dex)."""
        return np.sqrt(np.diag(self.cov))


def measurement(data: GrowthData, center: str = "median") -> Measurement:
    """Stack the costed (method, model) pairs and estimate their measurement covariance.

    Parameters
    ----------
    data : GrowthData
    center : {"median", "mean", "point"}
        Observed value of each model's log10 cost: the median or mean of its draws, or
        the point estimate.

    Returns
    -------
    Measurement

    Raises
    ------
    DataError
        If no model can be costed, or ``center="point"`` without point estimates.
    """
    methods = data.methods
    masks = []
    for m in methods:
        mask = data.costed(m)
        partial = ~mask & np.any(np.isfinite(data.log10_cost_draws[m]), axis=0)
        if np.any(partial):
            names = ", ".join(data.model[i] for i in np.flatnonzero(partial))
            warnings.warn(
                f"growth fit, method {m!r}: dropping model(s) with non-finite cost in some "
                f"draws: {names}", UncertainCostWarning, stacklevel=3,
            )
        if center == "point":
            if m not in data.log10_cost_point:
                raise DataError(f"growth data: center='point' but no point estimates for {m!r}")
            mask = mask & np.isfinite(data.log10_cost_point[m])
        masks.append(mask)
    masks = np.array(masks)
    if not masks.any():
        raise DataError("growth data: no model is costed by any method")
    methods_kept = tuple(m for m, k in zip(methods, masks, strict=True) if k.any())
    masks = masks[[methods.index(m) for m in methods_kept]]
    union = masks.any(axis=0)
    union_index = np.full(data.n_models, -1)
    union_index[union] = np.arange(int(union.sum()))
    method_index, model_index = np.nonzero(masks)  # method-major
    pairs = list(zip(method_index, model_index, strict=True))
    columns = [data.log10_cost_draws[methods_kept[j]][:, i] for j, i in pairs]
    n_draws = {data.log10_cost_draws[m].shape[0] for m in methods_kept}
    joint = data.draws_aligned and len(n_draws) == 1
    if center == "point":
        obs = np.array([data.log10_cost_point[methods_kept[j]][i] for j, i in pairs])
    else:
        stat = np.median if center == "median" else np.mean
        obs = np.array([stat(c) for c in columns])
    n_obs = obs.size
    if joint:
        cov = np.atleast_2d(np.cov(np.column_stack(columns), rowvar=False))
    else:
        cov = np.zeros((n_obs, n_obs))
        for j in range(len(methods_kept)):
            sel = np.flatnonzero(method_index == j)
            block = np.column_stack([columns[k] for k in sel])
            cov[np.ix_(sel, sel)] = np.atleast_2d(np.cov(block, rowvar=False))
    min_draws = min(n_draws)
    if min_draws < 2 * n_obs:
        warnings.warn(
            f"growth fit: measurement covariance of {n_obs} costs from only {min_draws} draws; "
            f"use at least {2 * n_obs} draws", UncertainCostWarning, stacklevel=3,
        )
    eigvals, eigvecs = np.linalg.eigh(cov)
    eigvals = np.maximum(eigvals, EIGENVALUE_FLOOR)
    for a in (obs, cov, eigvals, eigvecs):
        a.setflags(write=False)
    return Measurement(
        methods=methods_kept,
        model=tuple(data.model[i] for i in np.flatnonzero(union)),
        year=data.year[union],
        method_index=method_index,
        model_index=union_index[model_index],
        center=obs,
        cov=cov,
        eigvals=eigvals,
        eigvecs=eigvecs,
        joint=bool(joint),
        n_draws=int(min_draws),
        n_models={m: int(k.sum()) for m, k in zip(methods_kept, masks, strict=True)},
    )
