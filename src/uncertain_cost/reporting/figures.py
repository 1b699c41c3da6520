"""Figures of a run (matplotlib, Agg), drawn from its rows and arrays: returned, never written (see writer.py).

The drawing functions sit below the pipeline, which calls them in its last step, beside the
figures the domain packages draw (growth, sensitivity, development cost); the report
(:mod:`uncertain_cost.reporting.report`) and the writer embed or save them as PNG
(:func:`figure_png`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from uncertain_cost.growth.forecast import threshold_name
from uncertain_cost.money import format_usd
from uncertain_cost.units import COMPONENTS

__all__ = ["plot_cost_vs_year", "plot_model_intervals", "plot_components", "plot_forecast", "usd_axis",
           "plot_growth_intervals_from_rows", "figure_png"]

_METHOD_COLOURS = {"amortized": "#4C72B0", "cloud": "#DD8452", "acquisition": "#55A868"}
_COMPONENT_COLOURS = ("#DD8452", "#55A868", "#C44E52", "#8172B3")


def _usd(value: float, _pos=None) -> str:
    return format_usd(value, "g")


def usd_axis(axis) -> None:
    """Format a log axis in dollars ($1M, $1B)."""
    axis.set_major_formatter(FuncFormatter(_usd))


def plot_cost_vs_year(rows: Sequence[dict], method: str, reference_month: str, *, trend=None,
                      fan=None, title: str | None = None) -> Figure:
    """Cost of each frontier model against its publication date, with its 90 % interval.

    Parameters
    ----------
    rows : sequence of dict
        Summary rows (see :func:`uncertain_cost.results.summary_records`) with a
        ``publication_year`` key added.
    method : str
    reference_month : str
    trend : tuple (years, log10_cost), optional
        A fitted line (e.g. the OLS regression).
    fan : dict, optional
        ``{"years": ..., "lo": ..., "mid": ..., "hi": ..., "label": ...}``: a posterior
        band (USD) drawn behind the points.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    chosen = [r for r in rows if r["method"] == method]
    fig = Figure(figsize=(9, 5.5))
    ax = fig.subplots()
    if fan is not None:
        ax.fill_between(fan["years"], fan["lo"], fan["hi"], color="#999999", alpha=0.25, label=fan["label"])
        ax.plot(fan["years"], fan["mid"], color="#555555", linewidth=1.2)
    years = np.array([r["publication_year"] for r in chosen])
    median = np.array([r["median_usd"] for r in chosen])
    lo = np.array([r["p5_usd"] for r in chosen])
    hi = np.array([r["p95_usd"] for r in chosen])
    point = np.array([r["point_usd"] for r in chosen])
    colour = _METHOD_COLOURS.get(method, "#4C72B0")
    ax.errorbar(years, median, yerr=[median - lo, hi - median], fmt="o", color=colour, ecolor=colour,
                alpha=0.75, markersize=4, capsize=0, label="median and 90% interval")
    ax.plot(years, point, "x", color="black", markersize=4, label="point estimate (paper's method)")
    if trend is not None:
        ax.plot(trend[0], 10 ** np.asarray(trend[1]), "--", color="black", linewidth=1, label=trend[2])
    ax.set_yscale("log")
    usd_axis(ax.yaxis)
    ax.set_xlabel("publication date (year)")
    ax.set_ylabel(f"{method} cost (USD of {reference_month})")
    ax.set_title(title or f"Frontier training runs, {method} cost ({len(chosen)} models)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    _label_latest(ax, years, hi, [r["model"] for r in chosen], count=5)  # after layout: final pixel positions
    return fig


def _label_latest(ax, x, y, names: Sequence[str], count: int) -> None:
    """Name the ``count`` highest points in a column right of the axes, stacked so that none overlaps.

    Labels sit outside the plot area (the highest points are the latest, at the right edge, where
    labels beside them would cover other models' bars), one line apart in the order of their
    points' heights, each joined to its point by a thin line. Call after the layout is final:
    offsets are computed in display units; the figure is saved with a tight bounding box.
    """
    y = np.asarray(y, dtype=float)
    finite = np.flatnonzero(np.isfinite(y) & (y > 0))
    if finite.size == 0:
        return
    chosen = finite[np.argsort(y[finite])[::-1][:count]]
    ax.get_xlim(), ax.get_ylim()  # settle autoscaled limits before reading the transform
    points = ax.transData.transform(np.column_stack([np.asarray(x, dtype=float)[chosen], y[chosen]]))
    height = 7 * 1.6 * ax.figure.dpi / 72  # one 7-pt line with a gap, in pixels
    right = ax.transAxes.transform((1.0, 0.0))[0] + 10.0
    order = np.argsort(points[:, 1])[::-1]  # top label first
    placed: list[float] = []
    for k in order:
        target = points[k, 1] if not placed else min(points[k, 1], placed[-1] - height)
        placed.append(target)
        i = chosen[k]
        ax.annotate(names[i], (float(np.asarray(x)[i]), float(y[i])), fontsize=7, annotation_clip=False,
                    xytext=((right - points[k, 0]) * 72 / ax.figure.dpi, (target - points[k, 1]) * 72 / ax.figure.dpi),
                    textcoords="offset points", va="center", ha="left",
                    arrowprops={"arrowstyle": "-", "color": "#888888", "linewidth": 0.5, "shrinkA": 0, "shrinkB": 3})


def plot_model_intervals(rows: Sequence[dict], method: str, reference_month: str) -> Figure:
    """One line per model: 90 % interval, median and point estimate, in publication order."""
    chosen = [r for r in rows if r["method"] == method]
    fig = Figure(figsize=(8, max(4.0, 0.18 * len(chosen) + 1.2)))
    ax = fig.subplots()
    y = np.arange(len(chosen))[::-1]
    for yi, row in zip(y, chosen, strict=True):
        ax.plot([row["p5_usd"], row["p95_usd"]], [yi, yi], color=_METHOD_COLOURS.get(method), linewidth=2)
    ax.plot([r["median_usd"] for r in chosen], y, "o", color="black", markersize=3, label="median")
    ax.plot([r["point_usd"] for r in chosen], y, "x", color="#C44E52", markersize=4, label="point estimate")
    ax.set_yticks(y, [r["model"] for r in chosen], fontsize=6)
    ax.set_xscale("log")
    usd_axis(ax.xaxis)
    ax.set_xlabel(f"{method} cost, 90% interval (USD of {reference_month})")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")  # early (cheap) models leave the top right free
    fig.tight_layout()
    return fig


def plot_components(names: Sequence[str], components: np.ndarray, reference_month: str, top: int = 15) -> Figure:
    """Stacked mean amortized components of the most expensive models.

    Parameters
    ----------
    names : sequence of str
    components : ndarray, shape (n_draws, n_models, 4)
    reference_month : str
    top : int
    """
    finite = np.flatnonzero(np.all(np.isfinite(components), axis=(0, 2)))
    means = np.full(components.shape[1:], np.nan)
    means[finite] = components[:, finite, :].mean(axis=0)
    totals = means.sum(axis=1)
    order = finite[np.argsort(totals[finite])[::-1][:top]][::-1]
    fig = Figure(figsize=(8, 0.35 * len(order) + 1.5))
    ax = fig.subplots()
    left = np.zeros(len(order))
    for j, comp in enumerate(COMPONENTS):
        ax.barh(np.arange(len(order)), means[order, j] / 1e6, left=left, color=_COMPONENT_COLOURS[j],
                label=comp.replace("_", " "))
        left += means[order, j] / 1e6
    ax.set_yticks(np.arange(len(order)), [names[i] for i in order], fontsize=7)
    ax.set_xlabel(f"mean amortized cost, million USD of {reference_month}")
    ax.set_title(f"Cost components of the {len(order)} most expensive runs (amortized)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_forecast(rows: Sequence[dict], method: str, reference_month: str, thresholds: Sequence[float]) -> Figure:
    """Posterior predictive of the most expensive run of each year, with exceedance probabilities.

    Parameters
    ----------
    rows : sequence of dict
        ``forecast.csv`` rows (``year``, ``p5`` ... ``p95``, ``prob_gt_*``).
    method : str
    reference_month : str
    thresholds : sequence of float
        Dollar thresholds drawn as horizontal lines, their probabilities annotated.
    """
    chosen = [r for r in rows if r["method"] == method]
    years = np.array([r["year"] for r in chosen])
    fig = Figure(figsize=(9, 5.5))
    ax = fig.subplots()
    ax.fill_between(years, [r["p5"] for r in chosen], [r["p95"] for r in chosen], color="#4C72B0", alpha=0.2,
                    label="90% predictive interval")
    ax.fill_between(years, [r["p25"] for r in chosen], [r["p75"] for r in chosen], color="#4C72B0", alpha=0.35,
                    label="50% predictive interval")
    ax.plot(years, [r["p50"] for r in chosen], "o-", color="#4C72B0", label="median of the year's maximum")
    if "regression_mean_usd" in chosen[0]:
        ax.plot(years, [r["regression_mean_usd"] for r in chosen], "--", color="black", linewidth=1,
                label="trend line: median (geometric mean) model of the year")
    for threshold in thresholds:
        ax.axhline(threshold, color="#C44E52", linewidth=0.8, linestyle=":")
        key = threshold_name(threshold)
        for r in chosen:
            if key in r:  # on the side of the line away from the year's median marker
                below = r["p50"] >= threshold
                ax.annotate(f"{r[key]:.0%}", (r["year"], threshold), fontsize=7, color="#C44E52",
                            xytext=(0, -4 if below else 4), textcoords="offset points", ha="center",
                            va="top" if below else "bottom",
                            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.9},
                            zorder=5)
        ax.annotate(f"P(> {_usd(threshold)})", (years[-1], threshold), fontsize=8, color="#C44E52",
                    xytext=(22, 3), textcoords="offset points", ha="left", va="bottom")
    ax.set_yscale("log")
    usd_axis(ax.yaxis)
    ax.set_xticks(years)
    ax.set_xlim(years[0] - 0.4, years[-1] + 1.0)  # room for the threshold labels on the right
    ax.set_xlabel("year")
    ax.set_ylabel(f"cost of the year's most expensive run ({method}, USD of {reference_month})")
    ax.set_title(f"Forecast: the most expensive frontier training run of each year ({method})")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


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


#: zlib level of the PNGs: the same pixels as Pillow's default (6) in about 6% less time per figure
#: (19 figures of the default run: 3.85-3.87 s against 3.94-4.34 s), files 2.5% larger (2.05 MB in all)
PNG_COMPRESS_LEVEL = 3


def figure_png(fig, dpi: int = 120) -> bytes:
    """Render a matplotlib figure as PNG bytes (no software metadata) and close it.

    A figure with constrained layout already fits its content to the canvas and is drawn
    once, as it is; any other is cropped to its content's tight box (``bbox_inches="tight"``,
    which keeps labels placed outside the axes, such as the cost figures' model names), at
    the price of a second drawing pass (about a fifth of a tornado figure's time).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : int, default 120

    Returns
    -------
    bytes
    """
    import matplotlib.pyplot as plt
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    buffer = io.BytesIO()
    fitted = isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches=None if fitted else "tight", metadata={"Software": None},
                pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    plt.close(fig)
    return buffer.getvalue()
