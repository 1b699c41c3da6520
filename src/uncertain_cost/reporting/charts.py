"""Hand-written inline SVG charts of a ReportContent (cost vs year, per-model intervals), one group per method.

Each chart holds one ``<g class="series" data-method=...>`` per cost method (the page's script
shows one at a time) and one mark per model whose ``data-tip`` carries the hover text
(name, chip, point, median, interval). No external library, nothing fetched.
"""

from __future__ import annotations

import html
import math

from uncertain_cost.reporting import sections as sec
from uncertain_cost.reporting.answers import pct
from uncertain_cost.reporting.content import ReportContent

__all__ = ["cost_vs_year_svg", "intervals_svg", "COLOURS"]

COLOURS = {"amortized": "#4C72B0", "cloud": "#DD8452", "acquisition": "#55A868"}


def _log_range(values) -> tuple[float, float]:
    logs = [math.log10(v) for v in values if v > 0 and math.isfinite(v)]
    if not logs:
        return 0.0, 1.0
    lo, hi = math.floor(min(logs)), math.ceil(max(logs))
    return lo, max(hi, lo + 1)


def _tip(r: dict, level: float) -> str:
    return html.escape(f"{r['model']} ({r['year']:.1f}) | chip: {r['chip'] or 'unknown'} | {r['method']}: point "
                       f"{sec.usd(r['point'])}, median {sec.usd(r['median'])}, {pct(level)} interval "
                       f"{sec.usd(r['lo'])} – {sec.usd(r['hi'])}", quote=True)


def _usable(content: ReportContent, method: str) -> list[dict]:
    return [r for r in content.models if r["method"] == method and not r.get("scenario")
            and all(math.isfinite(r[k]) and r[k] > 0 for k in ("median", "lo", "hi"))]


def _y_ticks(lo: float, hi: float, y) -> list[str]:
    out = []
    for e in range(int(lo), int(hi) + 1):
        label = sec.usd(10.0 ** e)
        out.append(f'<line class="grid" x1="70" x2="{_W - 10}" y1="{y(e):.1f}" y2="{y(e):.1f}"/>'
                   f'<text class="tick" x="64" y="{y(e) + 4:.1f}" text-anchor="end">{label}</text>')
    return out


_W, _H = 720, 420


def cost_vs_year_svg(content: ReportContent) -> str:
    """Cost of every model against its publication year, one switchable series per method.

    Returns
    -------
    str
        An ``<svg>`` element (log-dollar y axis in USD of the reference month; x in years).
    """
    methods = content.methods()
    rows = [r for m in methods for r in _usable(content, m)]
    if not rows:
        return ""
    lo, hi = _log_range([r["lo"] for r in rows] + [r["hi"] for r in rows])
    x0, x1 = math.floor(min(r["year"] for r in rows)), math.ceil(max(r["year"] for r in rows) + 0.01)
    top, bottom, left, right = 20, _H - 50, 70, _W - 24

    def x(year):
        return left + (year - x0) / (x1 - x0) * (right - left)

    def y(log):
        return bottom - (log - lo) / (hi - lo) * (bottom - top)

    parts = [f'<svg class="chart" id="chart-cost-vs-year" viewBox="0 0 {_W} {_H}" role="img" '
             f'aria-label="cost vs publication year, USD of {content.reference_month}">']
    parts += _y_ticks(lo, hi, y)
    for year in range(x0, x1 + 1):
        parts.append(f'<text class="tick" x="{x(year):.1f}" y="{bottom + 18}" text-anchor="middle">{year}</text>')
    parts.append(f'<text class="axis" x="{(left + right) / 2}" y="{_H - 10}" text-anchor="middle">'
                 'publication date (year)</text>')
    parts.append(f'<text class="axis" transform="translate(14,{(top + bottom) / 2}) rotate(-90)" '
                 f'text-anchor="middle">training cost, USD of {html.escape(content.reference_month)} (log)</text>')
    for m in methods:
        colour = COLOURS.get(m, "#4C72B0")
        parts.append(f'<g class="series" data-method="{m}" style="color:{colour}">')
        for r in _usable(content, m):
            cx = x(r["year"])
            parts.append(f'<g class="mark" tabindex="0" data-tip="{_tip(r, content.level)}">'
                         f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(math.log10(r["lo"])):.1f}" '
                         f'y2="{y(math.log10(r["hi"])):.1f}"/>'
                         f'<circle cx="{cx:.1f}" cy="{y(math.log10(r["median"])):.1f}" r="4"/></g>')
        parts.append("</g>")
    parts.append(f'<text class="note" x="{left + 6}" y="{top + 12}">dot: median; bar: {pct(content.level)} '
                 'interval. Hover or tap a model.</text></svg>')
    return "".join(parts)


def intervals_svg(content: ReportContent) -> str:
    """One row per model (publication order): interval bar, median dot, point-estimate tick.

    Returns
    -------
    str
        An ``<svg>`` element with one switchable series per method (log-dollar x axis).
    """
    methods = content.methods()
    names = list(dict.fromkeys(r["model"] for m in methods for r in _usable(content, m)))
    if not names:
        return ""
    rows = [r for m in methods for r in _usable(content, m)]
    lo, hi = _log_range([r["lo"] for r in rows] + [r["hi"] for r in rows])
    step, top, label_w = 16, 10, 230
    height = top + step * len(names) + 50
    left, right = label_w, _W - 10

    def x(log):
        return left + (log - lo) / (hi - lo) * (right - left)

    def y(i):
        return top + step * i + step / 2

    parts = [f'<svg class="chart" id="chart-intervals" viewBox="0 0 {_W} {height}" role="img" '
             f'aria-label="per-model intervals, USD of {content.reference_month}">']
    for e in range(int(lo), int(hi) + 1):
        parts.append(f'<line class="grid" x1="{x(e):.1f}" x2="{x(e):.1f}" y1="{top}" y2="{height - 40}"/>'
                     f'<text class="tick" x="{x(e):.1f}" y="{height - 26}" text-anchor="middle">'
                     f'{sec.usd(10.0 ** e)}</text>')
    for i, name in enumerate(names):
        short = name if len(name) <= 34 else name[:33] + "…"
        parts.append(f'<text class="label" x="{left - 6}" y="{y(i) + 4:.1f}" text-anchor="end">'
                     f'{html.escape(short)}</text>')
    parts.append(f'<text class="axis" x="{(left + right) / 2}" y="{height - 6}" text-anchor="middle">'
                 f'training cost, {pct(content.level)} interval, USD of {html.escape(content.reference_month)} '
                 '(log)</text>')
    for m in methods:
        colour = COLOURS.get(m, "#4C72B0")
        parts.append(f'<g class="series" data-method="{m}" style="color:{colour}">')
        for r in _usable(content, m):
            yi = y(names.index(r["model"]))
            point = (f'<path class="point" d="M{x(math.log10(r["point"])) - 3:.1f},{yi - 3:.1f}l6,6m0,-6l-6,6"/>'
                     if r["point"] > 0 and math.isfinite(r["point"]) else "")
            parts.append(f'<g class="mark" tabindex="0" data-tip="{_tip(r, content.level)}">'
                         f'<rect class="hit" x="{left}" y="{yi - step / 2:.1f}" width="{right - left}" '
                         f'height="{step}"/>'
                         f'<line x1="{x(math.log10(r["lo"])):.1f}" x2="{x(math.log10(r["hi"])):.1f}" '
                         f'y1="{yi:.1f}" y2="{yi:.1f}"/>'
                         f'<circle cx="{x(math.log10(r["median"])):.1f}" cy="{yi:.1f}" r="3.5"/>{point}</g>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
