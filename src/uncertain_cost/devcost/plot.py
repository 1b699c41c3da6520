"""Figure of the development cost: components of each model, with the total's interval."""

from __future__ import annotations

import numpy as np

from uncertain_cost.devcost.result import DevCostResult
from uncertain_cost.devcost.spec import DEV_COMPONENTS

__all__ = ["plot_devcost"]

_COLORS = {"staff": "#4C72B0", "chips": "#DD8452", "other_server": "#55A868",
           "interconnect": "#C44E52", "energy": "#8172B3"}
_LABELS = {"staff": "R&D staff", "chips": "AI accelerator chips",
           "other_server": "other server components", "interconnect": "cluster interconnect",
           "energy": "energy"}


def _usd_tick(value: float, _pos) -> str:
    """Axis tick label of a dollar value."""
    from uncertain_cost.money import format_usd

    return format_usd(value, "g")


def plot_devcost(result: DevCostResult, *, title: str | None = None):
    """Development cost by component on a log scale, in USD, and as shares.

    Left (log scale, so a $3M model and a $200M model are both readable): per model, the median
    of each component side by side, then the per-draw total's median and 90% interval, labelled
    with that median (the figure ``devcost.csv`` reports as the total's ``median_usd``; the
    total's median is not the sum of the components' medians). Right: mean per-draw share of each
    component (means of shares sum to 100%).

    Parameters
    ----------
    result : DevCostResult
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Built without pyplot (no global state, no display backend needed).
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    from uncertain_cost.money import format_usd

    models = list(result.models)
    parts = DEV_COMPONENTS[:-1]
    fig = Figure(figsize=(max(8.0, 2.6 * len(models) + 3.0), 4.8), layout="constrained")
    ax_usd, ax_share = fig.subplots(1, 2, width_ratios=(1.6, 1))
    x = np.arange(len(models))
    width = 0.8 / (len(parts) + 1)
    bottom_share = np.zeros(len(models))
    for j, comp in enumerate(parts):
        med = np.array([np.median(result.costs[m][comp]) for m in models])
        share = np.array([np.nanmean(result.shares(m)[comp]) for m in models]) * 100
        ax_usd.bar(x - 0.4 + (j + 0.5) * width, med, width, color=_COLORS[comp], label=_LABELS[comp])
        ax_share.bar(x, share, 0.6, bottom=bottom_share, color=_COLORS[comp])
        for xi, b, sh in zip(x, bottom_share, share, strict=True):
            if sh >= 6:
                ax_share.text(xi, b + sh / 2, f"{sh:.0f}%", ha="center", va="center", fontsize=8, color="white")
        bottom_share += share
    if models:
        lo, mid, hi = (np.array([np.percentile(result.costs[m]["total"], q) for m in models]) for q in (5, 50, 95))
        xt = x - 0.4 + (len(parts) + 0.5) * width
        ax_usd.bar(xt, mid, width, color="#444444", label="total (median)")
        ax_usd.errorbar(xt, mid, yerr=[mid - lo, hi - mid], fmt="none", ecolor="black", capsize=3,
                        label="total: 90% interval")
        for xi, top, m in zip(xt, hi, mid, strict=True):
            ax_usd.annotate(format_usd(m), (xi, top), xytext=(0, 3), textcoords="offset points",
                            ha="center", va="bottom", fontsize=8)
        ax_usd.set_ylim(bottom=0.5 * min(np.median(result.costs[m][c]) for m in models for c in parts),
                        top=4.0 * float(np.max(hi)))
    ax_usd.set_yscale("log")
    ax_usd.yaxis.set_major_formatter(FuncFormatter(_usd_tick))  # a module function: the figure pickles
    for ax in (ax_usd, ax_share):
        ax.set_xticks(x, models, rotation=20, ha="right")
    ax_usd.set_ylabel("USD of the reference month (log scale)")
    ax_usd.set_title("component medians and the total (median, 90% interval)")
    ax_share.set_ylabel("mean share of the per-draw total (%)")
    ax_share.set_ylim(0, 100)
    ax_share.set_title("share of development cost")
    ax_usd.legend(fontsize=7, loc="upper left", ncols=2)
    fig.suptitle(title or "Full development cost: R&D staff and experiment compute")
    return fig
