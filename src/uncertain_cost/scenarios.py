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
dimension. :func:`report_section` and :func:`plot_growth_intervals` render the side-by-side
comparison.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from uncertain_cost.config import Config
from uncertain_cost.config.scenarios import deep_merge, scenario_configs  # noqa: F401 (re-exported)
from uncertain_cost.result import FIGURE_DATA, TABLES, RunResult
from uncertain_cost.tables import dataset_to_records, records_to_dataset

__all__ = [
    "SCENARIO", "GROWTH_FIGURE", "scenario_configs", "deep_merge", "combine", "is_scenario_result", "select",
    "report_section", "plot_growth_intervals", "scenario_markdown",
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
        root attribute ``scenarios`` (comma-separated names); the first scenario's figures
        plus :data:`GROWTH_FIGURE`.
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
    attrs = {**first.tree.attrs, "scenarios": ",".join(names)}
    tree = xr.DataTree.from_dict({"/": xr.Dataset(attrs=attrs), **{f"/{k}": v for k, v in groups.items()}})
    notes = tuple(f"[{n}] {note}" for n, r in results.items() for note in r.notes)
    figures = dict(first.figures)
    if first.config is None or first.config.section("report").get("png", True):
        figure = plot_growth_intervals_from_rows(_rows(tree, "growth"), names)
        if figure is not None:
            figures[GROWTH_FIGURE] = figure
    return RunResult(tree=tree, notes=notes, figures=figures, config=config)


def _has(tree: xr.DataTree, path: str) -> bool:
    try:
        tree[path]
    except KeyError:
        return False
    return True


def _rows(tree: xr.DataTree, name: str) -> list[dict]:
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


def _interval(row: Mapping[str, Any]) -> str:
    return f"{row['growth_per_year']:.2f}x ({row['lo']:.2f}–{row['hi']:.2f})"


def _headline_models(result: RunResult) -> tuple[str, ...]:
    from uncertain_cost.sensitivity.targets import SensitivitySettings

    config = result.config
    if config is None:
        return ()
    return SensitivitySettings.from_config(config.section("sensitivity"), config.source).models


def report_section(result: RunResult) -> str:
    """Render the side-by-side section of a scenario run's report (Markdown).

    Headline costs (amortized median and 90 % interval of the sensitivity models, or the
    most expensive models), growth per method and estimator with intervals, P(> $1B) by
    forecast year, and the growth-interval figure, one column per scenario.

    Parameters
    ----------
    result : RunResult
        From :func:`combine` (a plain result gives "").

    Returns
    -------
    str
    """
    from uncertain_cost.money import format_usd

    names = scenario_names(result)
    if not names:
        return ""
    parts = ["## Scenarios side by side", "",
             f"{len(names)} scenarios, every one with seed {result.provenance.get('seed')} (common random numbers: "
             "the same inputs draw the same numbers in every scenario, so differences are not Monte Carlo noise). "
             "Each column is one scenario; the detailed sections below are those of scenario "
             f"`{names[0]}`.", ""]
    summary = _rows(result.tree, "summary")
    wanted = [m for m in _headline_models(result) if any(r["model"] == m for r in summary)]
    if not wanted:
        first = [r for r in summary if r[SCENARIO] == names[0] and r["method"] == "amortized"]
        wanted = [r["model"] for r in sorted(first, key=lambda r: -r["point_usd"])[:4]]
    if wanted:
        cells = {(r[SCENARIO], r["model"], r["method"]): r for r in summary}
        body = []
        for model in wanted:
            for method in ("amortized", "cloud", "acquisition"):
                if not any((n, model, method) in cells for n in names):
                    continue
                row = [model, method]
                for n in names:
                    r = cells.get((n, model, method))
                    row.append("—" if r is None else f"{format_usd(r['median_usd'])} "
                               f"({format_usd(r['p5_usd'])}–{format_usd(r['p95_usd'])})")
                body.append(row)
        parts += ["### Headline costs (median, 90% interval)", "", _table(("model", "method", *names), body), ""]
    growth = _rows(result.tree, "growth")
    if growth:
        keys = list(dict.fromkeys((g["method"], g["estimator"]) for g in growth))
        cells = {(g[SCENARIO], g["method"], g["estimator"]): g for g in growth}
        level = growth[0]["level"]
        body = [[method, estimator, *["—" if (n, method, estimator) not in cells
                                      else _interval(cells[(n, method, estimator)]) for n in names]]
                for method, estimator in keys]
        parts += [f"### Growth per year ({level:.0%} intervals)", "", _table(("method", "estimator", *names), body),
                  ""]
    forecast = _rows(result.tree, "forecast")
    if forecast and "prob_gt_1e9" in forecast[0]:
        amortized = [f for f in forecast if f.get("method") == "amortized"]
        years = sorted({int(f["year"]) for f in amortized})
        cells = {(f[SCENARIO], int(f["year"])): f for f in amortized}
        body = [[str(y), *["—" if (n, y) not in cells or cells[(n, y)]["prob_gt_1e9"] is None
                           else f"{cells[(n, y)]['prob_gt_1e9']:.0%}" for n in names]] for y in years]
        parts += ["### P(most expensive amortized run of the year > $1B)", "", _table(("year", *names), body), ""]
    if GROWTH_FIGURE in result.figures:
        parts += [f"![growth intervals by scenario]({GROWTH_FIGURE})", ""]
    return "\n".join(parts)


def plot_growth_intervals(result: RunResult):
    """Figure comparing the growth intervals of every scenario, one panel per method.

    Parameters
    ----------
    result : RunResult
        From :func:`combine`.

    Returns
    -------
    matplotlib.figure.Figure or None
        None when the run has no growth table.
    """
    return plot_growth_intervals_from_rows(_rows(result.tree, "growth"), scenario_names(result))


def plot_growth_intervals_from_rows(rows: Sequence[Mapping[str, Any]], names: Sequence[str]):
    """Draw :func:`plot_growth_intervals` from growth rows with a ``scenario`` column.

    Parameters
    ----------
    rows : sequence of mapping
        Rows of the combined ``growth`` table.
    names : sequence of str
        Scenarios in display order.

    Returns
    -------
    matplotlib.figure.Figure or None
    """
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = list(dict.fromkeys(r["method"] for r in rows))
    estimators = [e for e in ("bayes", "ols") if any(r["estimator"] == e for r in rows)]
    fig, axes = plt.subplots(1, len(methods), figsize=(4.2 * len(methods), 0.5 * len(names) + 1.6), sharey=True,
                             squeeze=False)
    offsets = {e: (0.15 if len(estimators) > 1 else 0.0) * (1 if i == 0 else -1) for i, e in enumerate(estimators)}
    colors = {"bayes": "tab:blue", "ols": "tab:orange"}
    for ax, method in zip(axes[0], methods, strict=True):
        for estimator in estimators:
            for k, name in enumerate(names):
                row = next((r for r in rows if r["scenario"] == name and r["method"] == method
                            and r["estimator"] == estimator), None)
                if row is None:
                    continue
                y = len(names) - 1 - k + offsets[estimator]
                g, lo, hi = row["growth_per_year"], row["lo"], row["hi"]
                ax.errorbar([g], [y], xerr=[[g - lo], [hi - g]], fmt="o", color=colors[estimator], capsize=3,
                            label=estimator if k == 0 else None)
        ax.set_title(method)
        ax.set_xlabel("growth per year (x)")
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(range(len(names)), list(reversed(names)))
    handles: dict = {}
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    fig.legend(list(handles.values()), list(handles), loc="upper right", fontsize="small")
    level = rows[0].get("level")
    fig.suptitle(f"Growth of frontier training costs by scenario ({level:.0%} intervals)" if level else
                 "Growth of frontier training costs by scenario")
    fig.tight_layout()
    return fig


def _table(header, rows) -> str:
    """Format rows as a Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def scenario_markdown(result: RunResult) -> str:
    """Compose a scenario run's report: the side-by-side section, then the first scenario's detailed report.

    Parameters
    ----------
    result : RunResult
        From :func:`combine`.

    Returns
    -------
    str
    """
    from uncertain_cost.narrative import markdown_report

    names = scenario_names(result)
    view = select(result, names[0])
    view = RunResult(tree=view.tree, notes=result.notes, figures=dict(result.figures), config=result.config)
    detail = markdown_report(view)
    # the side-by-side section goes after the first section (the headline answers), before the details
    first = detail.find("\n## ")
    cut = detail.find("\n## ", first + 1) if first >= 0 else -1
    head, rest = (detail[:cut], detail[cut:]) if cut >= 0 else (detail, "")
    section = report_section(result)
    title = f"Scenarios: {', '.join(f'`{n}`' for n in names)}; the sections after this one are scenario `{names[0]}`'s."
    return head.rstrip("\n") + "\n\n" + title + "\n\n" + section + "\n" + rest
