"""Scenarios side by side: ``[scenarios.NAME]`` configs, one result with a ``scenario`` dimension, its report.

A scenario is a table that overrides anything the config can say (inputs, ``[run]`` options,
``[selection]``, ``[data]``, ``[correlations]``, the stage sections). It is deep-merged over the
base config's TOML and validated as a whole config, so every mistake names
``scenarios.NAME.<dotted key>``. An empty scenario is the base config itself (a baseline).
Every scenario runs with the run's seed: random streams are keyed by (input, column, block),
so the same inputs draw the same numbers in every scenario (common random numbers) and
differences between scenarios are not Monte Carlo noise.

:func:`combine` merges the per-scenario results into one :class:`~uncertain_cost.result.RunResult`:
every table gains a first column ``scenario``, every results.nc group a ``scenario``
dimension; :func:`select` gives one scenario back. The side-by-side report section is
:mod:`uncertain_cost.reporting.scenarios`'.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from uncertain_cost.config import Config
from uncertain_cost.config.scenarios import deep_merge, scenario_configs  # noqa: F401 (re-exported)
from uncertain_cost.reporting.figures import plot_growth_intervals_from_rows
from uncertain_cost.result import FIGURE_DATA, TABLES, RunResult
from uncertain_cost.tables import dataset_to_records, records_to_dataset

__all__ = [
    "SCENARIO", "GROWTH_FIGURE", "scenario_configs", "deep_merge", "combine", "is_scenario_result", "select",
    "scenario_names", "table_rows",
]

#: name of the scenario dimension and of the first column of every table
SCENARIO = "scenario"
#: file name of the figure comparing growth intervals across scenarios
GROWTH_FIGURE = "scenarios_growth.png"

def _table_union(results: Mapping[str, RunResult]) -> list[str]:
    names: dict[str, None] = {}
    for result in results.values():
        names.update(dict.fromkeys(result.table_names()))
    return list(names)


def _scenario_table(name: str, results: Mapping[str, RunResult]) -> xr.Dataset:
    rows: list[dict] = []
    columns: dict[str, None] = {}
    attrs: dict[str, Any] = {}
    for scenario, result in results.items():
        if not result.has_table(name):
            continue
        records, cols = result.records(name)
        columns.update(dict.fromkeys(cols))
        if not attrs:
            attrs = {k: v for k, v in result.tree[f"{TABLES}/{name}"].attrs.items() if k not in ("table", "columns")}
        rows += [{SCENARIO: scenario, **r} for r in records]
    return records_to_dataset(name, rows, (SCENARIO, *columns), attrs)


def _indexed(ds: xr.Dataset) -> xr.Dataset:
    """Give every dimension without an index a 0..n-1 one, so scenarios of unequal sizes align."""
    missing = {dim: np.arange(size) for dim, size in ds.sizes.items() if dim not in ds.indexes}
    return ds.assign_coords(missing) if missing else ds


def _clean_object(values: np.ndarray) -> np.ndarray:
    """Turn padded text (object arrays with NaN) into str arrays with '' (writable to NetCDF)."""
    flat = ["" if (v is None or (isinstance(v, float) and math.isnan(v))) else v for v in values.ravel().tolist()]
    kinds = {type(v) for v in flat if v != ""}
    if kinds <= {str}:
        return np.array(flat, dtype=str).reshape(values.shape)
    if kinds <= {bool}:
        return np.array([bool(v) if v != "" else False for v in flat]).reshape(values.shape)
    return np.array([float(v) if v != "" else np.nan for v in flat], dtype=np.float64).reshape(values.shape)


def _stack(datasets: Sequence[xr.Dataset], names: Sequence[str]) -> xr.Dataset:
    import pandas as pd

    out = xr.concat([_indexed(ds) for ds in datasets], dim=pd.Index(list(names), name=SCENARIO), join="outer",
                    coords="different", compat="equals", combine_attrs="drop_conflicts")
    for name in list(out.variables):
        if out[name].dtype == object:
            var = out[name]
            cleaned = _clean_object(var.values)
            if name in out.coords:
                out = out.assign_coords({name: (var.dims, cleaned, var.attrs)})
            else:
                out[name] = (var.dims, cleaned, var.attrs)
    return out


def _per_scenario_attrs(results: Mapping[str, RunResult]) -> dict[str, str]:
    """Provenance that differs between scenarios, per scenario (the root keeps the first's).

    ``n_draws_by_scenario`` is always there (a scenario may set its own ``run.draws``);
    any other root attribute whose value differs between scenarios gets a
    ``<key>_by_scenario`` too. Values are comma-separated in the order of ``scenarios``.
    """
    keys = dict.fromkeys(k for r in results.values() for k in r.tree.attrs)
    out = {}
    for key in keys:
        values = [str(r.tree.attrs.get(key, "")) for r in results.values()]
        if key == "n_draws" or len(set(values)) > 1:
            out[f"{key}_by_scenario"] = ",".join(values)
    return out


def combine(results: Mapping[str, RunResult], config: Config) -> RunResult:
    """Merge per-scenario results into one result with a ``scenario`` dimension and column.

    Parameters
    ----------
    results : mapping of str to RunResult
        Scenario name -> its result, in report order (the first is the reference scenario
        whose figures and detailed report are kept).
    config : Config
        The base config (with its ``[scenarios]``).

    Returns
    -------
    RunResult
        Tables ``/tables/<name>`` with a first column ``scenario``; every other group
        concatenated along a ``scenario`` dimension (outer join over models and rows);
        root attribute ``scenarios`` (comma-separated names) and ``n_draws_by_scenario``
        (and ``<key>_by_scenario`` for any other provenance that differs); the first
        scenario's figures plus :data:`GROWTH_FIGURE`.
    """
    if not results:
        raise ValueError("combine needs at least one scenario result")
    names = list(results)
    first = results[names[0]]
    groups: dict[str, xr.Dataset] = {}
    paths: dict[str, None] = {}
    for result in results.values():
        for node in result.tree.subtree:
            paths[node.relative_to(result.tree)] = None
    for path in paths:
        if path in (".", "", TABLES, FIGURE_DATA) or path.startswith(f"{TABLES}/"):
            continue
        present = [(n, r.tree[path].to_dataset(inherit=False)) for n, r in results.items() if _has(r.tree, path)]
        present = [(n, ds) for n, ds in present if ds.data_vars or ds.coords]
        if present:
            groups[path] = _stack([ds for _, ds in present], [n for n, _ in present])
    for name in _table_union(results):
        groups[f"{TABLES}/{name}"] = _scenario_table(name, results)
    attrs = {**first.tree.attrs, "scenarios": ",".join(names), **_per_scenario_attrs(results)}
    tree = xr.DataTree.from_dict({"/": xr.Dataset(attrs=attrs), **{f"/{k}": v for k, v in groups.items()}})
    notes = tuple(f"[{n}] {note}" for n, r in results.items() for note in r.notes)
    figures = dict(first.figures)
    if first.config is None or first.config.section("report").get("png", True):
        figure = plot_growth_intervals_from_rows(table_rows(tree, "growth"), names)
        if figure is not None:
            figures[GROWTH_FIGURE] = figure
    return RunResult(tree=tree, notes=notes, figures=figures, config=config)


def _has(tree: xr.DataTree, path: str) -> bool:
    try:
        tree[path]
    except KeyError:
        return False
    return True


def table_rows(tree: xr.DataTree, name: str) -> list[dict]:
    """Rows of table ``name`` of a result tree ([] when the run has no such table)."""
    try:
        node = tree[f"{TABLES}/{name}"]
    except KeyError:
        return []
    return dataset_to_records(node.to_dataset())[0]


def is_scenario_result(result: RunResult) -> bool:
    """Whether ``result`` holds several scenarios (made by :func:`combine`)."""
    return SCENARIO + "s" in result.tree.attrs


def scenario_names(result: RunResult) -> list[str]:
    """Names of the scenarios of a combined result, in report order."""
    return str(result.tree.attrs.get("scenarios", "")).split(",") if is_scenario_result(result) else []


def select(result: RunResult, name: str) -> RunResult:
    """One scenario of a combined result, as the result of a plain run (tables without the scenario column).

    Parameters
    ----------
    result : RunResult
        From :func:`combine`.
    name : str
        A scenario name.

    Returns
    -------
    RunResult
        Its rows of every table (without the ``scenario`` column, as a plain run writes them)
        and every group at ``scenario = name`` (models or rows only other scenarios have
        stay in the arrays as NaN padding).

    Raises
    ------
    KeyError
        Unknown scenario.
    """
    names = scenario_names(result)
    if name not in names:
        raise KeyError(f"no scenario {name!r}; scenarios: {', '.join(names)}")
    groups: dict[str, xr.Dataset] = {}
    for table in result.table_names():
        rows, columns = result.records(table)
        attrs = {k: v for k, v in result.tree[f"{TABLES}/{table}"].attrs.items() if k not in ("table", "columns")}
        mine = [{k: v for k, v in r.items() if k != SCENARIO} for r in rows if r[SCENARIO] == name]
        groups[f"{TABLES}/{table}"] = records_to_dataset(table, mine, tuple(c for c in columns if c != SCENARIO),
                                                         attrs)
    for node in result.tree.subtree:
        path = node.relative_to(result.tree)
        if path in (".", TABLES) or path.startswith(f"{TABLES}/"):
            continue
        ds = node.to_dataset(inherit=False)
        if SCENARIO in ds.dims and name in ds[SCENARIO].values:
            groups[path] = ds.sel({SCENARIO: name}, drop=True)
    attrs = {k: v for k, v in result.tree.attrs.items() if k != "scenarios"}
    tree = xr.DataTree.from_dict({"/": xr.Dataset(attrs=attrs), **{f"/{k}": v for k, v in groups.items()}})
    notes = tuple(n[len(name) + 3:] for n in result.notes if n.startswith(f"[{name}] "))
    return RunResult(tree=tree, notes=notes, figures={}, config=result.config)
