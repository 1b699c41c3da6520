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


def plot_devcost(result: DevCostResult, *, title: str | None = None):
    """Stacked bars of the development cost by component, in USD and as shares.

    Left: component medians stacked (their top is the paper's sum of medians), with the
    median and 90% interval of the per-draw total as a black marker. Right: mean per-draw
    share of each component (means of shares sum to 100%).

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

    models = list(result.models)
    parts = DEV_COMPONENTS[:-1]
    fig = Figure(figsize=(max(7.0, 2.2 * len(models) + 3.0), 4.8), layout="constrained")
    ax_usd, ax_share = fig.subplots(1, 2)
    x = np.arange(len(models))
    bottom_usd = np.zeros(len(models))
    bottom_share = np.zeros(len(models))
    for comp in parts:
        med = np.array([np.median(result.costs[m][comp]) for m in models]) / 1e6
        share = np.array([np.nanmean(result.shares(m)[comp]) for m in models]) * 100
        ax_usd.bar(x, med, 0.6, bottom=bottom_usd, color=_COLORS[comp], label=_LABELS[comp])
        ax_share.bar(x, share, 0.6, bottom=bottom_share, color=_COLORS[comp])
        for xi, b, s in zip(x, bottom_share, share, strict=True):
            if s >= 6:
                ax_share.text(xi, b + s / 2, f"{s:.0f}%", ha="center", va="center", fontsize=8,
                              color="white")
        bottom_usd += med
        bottom_share += share
    if models:
        lo, mid, hi = (np.array([np.percentile(result.costs[m]["total"], q) for m in models]) / 1e6
                       for q in (5, 50, 95))
        ax_usd.errorbar(x + 0.38, mid, yerr=[mid - lo, hi - mid], fmt="o", color="black",
                        ms=4, capsize=3, label="total: median, 90% CI")
        for xi, top in zip(x, bottom_usd, strict=True):
            ax_usd.annotate(f"${top:.3g}M", (xi, top), xytext=(0, 2), textcoords="offset points",
                            ha="center", va="bottom", fontsize=8)
    for ax in (ax_usd, ax_share):
        ax.set_xticks(x, models, rotation=20, ha="right")
    ax_usd.set_ylabel("million USD (reference month)")
    ax_usd.set_title("component medians (stacked) and total")
    ax_share.set_ylabel("mean share of the per-draw total (%)")
    ax_share.set_ylim(0, 100)
    ax_share.set_title("share of development cost")
    ax_usd.legend(fontsize=8, loc="upper left")
    fig.suptitle(title or "Full development cost: R&D staff and experiment compute")
    return fig
