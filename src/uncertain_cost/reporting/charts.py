"""Interactive Plotly charts of a ReportContent (cost vs year, per-model intervals) as HTML fragments.

Why Plotly: its one JavaScript bundle can be inlined into the page (``include_plotlyjs`` /
:func:`plotly_script`), so ``report.html`` stays one file that opens offline and fetches
nothing, while a reader gets hover details (model, organisation, chip, median, interval),
zoom, and methods toggled by clicking the legend. Bokeh's inline resources would do the same
but need two bundles and a server-side model per chart; matplotlib stays the one stack for the
static PNGs (:mod:`uncertain_cost.reporting.figures`). The fragments carry fixed element ids and no random
state, so a report is byte-identical from run to run.
"""

from __future__ import annotations

import math

from uncertain_cost.reporting import sections as sec
from uncertain_cost.reporting.answers import pct
from uncertain_cost.reporting.content import ReportContent

__all__ = ["cost_vs_year_chart", "intervals_chart", "plotly_script", "COLOURS", "CHART_CONFIG"]

COLOURS = {"amortized": "#4C72B0", "cloud": "#DD8452", "acquisition": "#55A868"}

#: Plotly options of every chart: no logo link, no cloud export, responsive width
CHART_CONFIG = {"displaylogo": False, "responsive": True,
                "modeBarButtonsToRemove": ["sendDataToCloud", "lasso2d", "select2d"]}


def plotly_script() -> str:
    """Return the Plotly JavaScript bundle as one inline ``<script>`` element (include once per page)."""
    from plotly.offline import get_plotlyjs

    return f'<script type="text/javascript">{get_plotlyjs()}</script>'


def _usable(content: ReportContent, method: str) -> list[dict]:
    """Drawable rows of ``method`` (with scenarios: the first scenario's, the others are in its section)."""
    first = content.scenarios()[0] if content.scenarios() else ""
    return [r for r in content.models if r["method"] == method and (r.get("scenario") or "") == first
            and all(math.isfinite(r[k]) and r[k] > 0 for k in ("median", "lo", "hi"))]


def _hover(r: dict, level: float) -> list[str]:
    """Hover fields of one mark: name, organisation, chip, method, median, interval, point (formatted)."""
    return [r["model"], r.get("organization") or "unknown", r["chip"] or "unknown", r["method"],
            sec.usd(r["median"]), f"{sec.usd(r['lo'])} – {sec.usd(r['hi'])}", sec.usd(r["point"]),
            f"{r['year']:.1f}"]


def _template(level: float) -> str:
    return ("<b>%{customdata[0]}</b> (%{customdata[7]})<br>organisation: %{customdata[1]}<br>"
            "chip: %{customdata[2]}<br>%{customdata[3]} median: %{customdata[4]}<br>"
            f"{pct(level)} interval: %{{customdata[5]}}<br>point estimate: %{{customdata[6]}}<extra></extra>")


def _log_ticks(rows: list[dict]) -> dict:
    logs = [math.log10(v) for r in rows for v in (r["lo"], r["hi"]) if v > 0]
    lo, hi = math.floor(min(logs)), math.ceil(max(logs))
    values = [10.0 ** e for e in range(lo, hi + 1)]
    return {"type": "log", "tickvals": values, "ticktext": [sec.usd(v) for v in values]}


def _html(fig, div_id: str) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=CHART_CONFIG,
                       default_width="100%", default_height=f"{fig.layout.height}px")


def _visible(content: ReportContent, method: str):
    return True if method == content.methods()[0] else "legendonly"


def cost_vs_year_figure(content: ReportContent):
    """Cost of every model against its publication year: one trace per method, toggled in the legend.

    Returns
    -------
    plotly.graph_objects.Figure or None
        Median dots with the interval as error bars (log-dollar y axis); None without models.
    """
    import plotly.graph_objects as go

    methods = content.methods()
    rows = [r for m in methods for r in _usable(content, m)]
    if not rows:
        return None
    fig = go.Figure()
    for m in methods:
        chosen = _usable(content, m)
        fig.add_trace(go.Scatter(
            x=[round(r["year"], 4) for r in chosen], y=[r["median"] for r in chosen], mode="markers", name=m,
            visible=_visible(content, m), marker={"color": COLOURS.get(m, "#4C72B0"), "size": 8},
            error_y={"type": "data", "symmetric": False, "array": [r["hi"] - r["median"] for r in chosen],
                     "arrayminus": [r["median"] - r["lo"] for r in chosen], "thickness": 1.5, "width": 0},
            customdata=[_hover(r, content.level) for r in chosen], hovertemplate=_template(content.level)))
    fig.update_layout(
        height=480, margin={"l": 70, "r": 20, "t": 30, "b": 50}, template="plotly_white", hovermode="closest",
        legend={"title": {"text": "method (click to toggle)"}, "orientation": "h", "y": 1.08},
        xaxis={"title": {"text": "publication date (year)"}},
        yaxis={"title": {"text": f"training cost, USD of {content.reference_month} (log)"}, **_log_ticks(rows)})
    return fig


def intervals_figure(content: ReportContent):
    """One row per model (publication order): interval bar and median dot, one trace per method.

    Returns
    -------
    plotly.graph_objects.Figure or None
        Log-dollar x axis; None without models.
    """
    import plotly.graph_objects as go

    methods = content.methods()
    rows = [r for m in methods for r in _usable(content, m)]
    if not rows:
        return None
    names = list(dict.fromkeys(r["model"] for r in sorted(rows, key=lambda r: r["year"])))
    fig = go.Figure()
    for m in methods:
        chosen = _usable(content, m)
        fig.add_trace(go.Scatter(
            x=[r["median"] for r in chosen], y=[r["model"] for r in chosen], mode="markers", name=m,
            visible=_visible(content, m), marker={"color": COLOURS.get(m, "#4C72B0"), "size": 7},
            error_x={"type": "data", "symmetric": False, "array": [r["hi"] - r["median"] for r in chosen],
                     "arrayminus": [r["median"] - r["lo"] for r in chosen], "thickness": 2, "width": 0},
            customdata=[_hover(r, content.level) for r in chosen], hovertemplate=_template(content.level)))
    fig.update_layout(
        height=max(320, 18 * len(names) + 120), margin={"l": 10, "r": 20, "t": 30, "b": 50},
        template="plotly_white", hovermode="closest",
        legend={"title": {"text": "method (click to toggle)"}, "orientation": "h", "y": 1.02, "yanchor": "bottom"},
        yaxis={"categoryorder": "array", "categoryarray": names[::-1], "automargin": True,
               "tickfont": {"size": 10}},
        xaxis={"title": {"text": f"training cost, {pct(content.level)} interval, USD of {content.reference_month} "
                                 "(log)"}, **_log_ticks(rows)})
    return fig


def cost_vs_year_chart(content: ReportContent) -> str:
    """Render the interactive cost-vs-year chart as an HTML fragment (``""`` without models)."""
    fig = cost_vs_year_figure(content)
    return "" if fig is None else _html(fig, "chart-cost-vs-year")


def intervals_chart(content: ReportContent) -> str:
    """Render the interactive per-model interval chart as an HTML fragment (``""`` without models)."""
    fig = intervals_figure(content)
    return "" if fig is None else _html(fig, "chart-intervals")

