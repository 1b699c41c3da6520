"""The run report as Markdown and HTML text (written by report.py).

The report states what was computed, with which inputs and data, and the numbers a reader
asks for first: the headline models with intervals, the growth rate, the forecast, the
sensitivity ranking and the development cost, each with its figure.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from uncertain_cost.report import format_usd

__all__ = ["markdown_report", "html_report"]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown_report(art, config) -> str:
    """Compose ``report.md`` from a run's artifacts.

    Parameters
    ----------
    art : uncertain_cost.pipeline.Artifacts
    config : uncertain_cost.config.Config

    Returns
    -------
    str
    """
    prov = art.provenance
    rows = art.tables["summary.csv"][0]
    counts = art.extras.get("counts", {})
    parts = [
        "# Training cost of frontier AI models",
        "",
        f"Dollars of **{prov.reference_month}**. {prov.n_draws:,} Monte Carlo draws, seed {prov.seed}, "
        f"data snapshot `{prov.data_snapshot}`, config `{prov.config_path}` (SHA-256 `{prov.config_sha256[:12]}`), "
        f"uncertain_cost {prov.package_version}.",
        "",
        "Models costed: " + ", ".join(f"{m} {n}" for m, n in counts.items()) + ". "
        f"Fine-tunes: `{config.run.finetunes}`. Point estimates use every input at its central value "
        "(the paper's method); intervals are central 90 % of the Monte Carlo draws, with shared inputs "
        "shared across models within a draw.",
        "",
        "## Headline models",
        "",
    ]
    wanted = art.settings.sensitivity.models if art.settings is not None else ()
    headline = [r for r in rows if r["model"] in wanted]
    if not headline:
        headline = sorted(rows, key=lambda r: -r["point_usd"])[:6]
    parts.append(_table(
        ("model", "method", "point", "median", "90% interval"),
        [(r["model"], r["method"], format_usd(r["point_usd"]), format_usd(r["median_usd"]),
          f"{format_usd(r['p5_usd'])} – {format_usd(r['p95_usd'])}") for r in headline],
    ))
    parts += ["", "![cost vs year](cost_vs_year_amortized.png)", "",
              "![model intervals](model_intervals_amortized.png)", "",
              "![components](components_amortized.png)", ""]
    growth = art.tables.get("growth.csv")
    if growth:
        parts += ["## Growth of frontier training costs", "", _table(
            ("method", "estimator", "N", "growth / year", "interval", "doubling (months)"),
            [(g["method"], g["estimator"], g["n_models"], f"{g['growth_per_year']:.2f}x",
              f"{g['lo']:.2f}–{g['hi']:.2f} ({g['level']:.0%})", f"{g['doubling_months']:.1f}")
             for g in growth[0]],
        ), ""]
        if art.extras.get("growth_text"):
            parts += [art.extras["growth_text"], ""]
    forecast = art.tables.get("forecast.csv")
    if forecast:
        parts += ["## Forecast: the most expensive frontier run of each year", ""]
        if art.extras.get("forecast_text"):
            parts += [art.extras["forecast_text"], ""]
        fc_rows, fc_cols = forecast
        show = [c for c in fc_cols if c in ("year", "p5", "p50", "p95", "prob_gt_1e9", "prob_gt_1e10")]
        parts += [_table(show, [[_fmt(r[c], c) for c in show] for r in fc_rows]), "",
                  "![forecast](forecast.png)", ""]
    tornado = art.tables.get("tornado.csv")
    if tornado:
        if any(r.get("method") == "conditional" for r in tornado[0]):
            how = ("For each input, how far the median moves when that input's own draws (every model's or "
                   "chip's column, drawn independently as in the Monte Carlo) sit at the P5 and P95 of their "
                   "effect while all other inputs are drawn, shown from the all-medians base")
        else:
            how = "One at a time, each input swung from its P5 to its P95 with the others at their medians"
        parts += ["## Which assumption matters most", "", how + " (`tornado.csv`); Sobol indices in `sobol.csv`.", ""]
        for target in dict.fromkeys(r["target"] for r in tornado[0]):
            top = [r for r in tornado[0] if r["target"] == target][:3]
            parts.append(f"- **{target}**: " + "; ".join(
                f"{r['input']} ({_fmt(r['output_low'], r['units'])} to {_fmt(r['output_high'], r['units'])})"
                for r in top))
        parts += [""] + [f"![{name}]({name})" for name in art.figures if name.startswith("tornado_")] + [""]
    dev = art.tables.get("devcost.csv")
    if dev:
        parts += ["## Full development cost (R&D staff + experiments + final run)", "", _table(
            ("model", "component", "median", "90% interval", "share of median"),
            [(r["model"], r["component"], format_usd(r["median_usd"]),
              f"{format_usd(r['p5_usd'])} – {format_usd(r['p95_usd'])}", f"{r['share_median']:.0%}")
             for r in dev[0] if r["component"] in ("staff", "total")],
        ), "", "![development cost](devcost.png)", ""]
    if art.notes:
        parts += ["## Notes", ""] + [f"- {n}" for n in art.notes] + [""]
    return "\n".join(parts)


def _fmt(value, column_or_units: str) -> str:
    if isinstance(value, str):
        return value
    if column_or_units.startswith("prob"):
        return f"{value:.0%}"
    if column_or_units == "year":
        return str(int(value))
    if column_or_units.startswith("p") or column_or_units.startswith("USD"):
        return format_usd(value)
    return f"{value:.3g}"


def html_report(markdown: str, title: str = "uncertain_cost report") -> str:
    """Render the report's simple Markdown (headings, tables, lists, images) as HTML."""
    out, table = [], []

    def inline(text: str) -> str:
        text = html.escape(text)
        text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
        return re.sub(r"`(.+?)`", r"<code>\1</code>", text)

    def flush_table():
        if table:
            head, body = table[0], table[2:]
            cells = "".join(f"<th>{inline(c)}</th>" for c in head)
            out.append(f"<table><thead><tr>{cells}</tr></thead><tbody>")
            out.extend("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>" for row in body)
            out.append("</tbody></table>")
            table.clear()

    in_list = False
    for line in markdown.splitlines():
        if line.startswith("|"):
            table.append([c.strip() for c in line.strip("|").split("|")])
            continue
        flush_table()
        if line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{inline(line[2:])}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        image = re.match(r"!\[(.*?)\]\((.*?)\)", line)
        if image:
            src, alt = html.escape(image.group(2)), html.escape(image.group(1))
            out.append(f'<figure><img src="{src}" alt="{alt}"></figure>')
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{inline(line[level:].strip())}</h{level}>")
        elif line.strip():
            out.append(f"<p>{inline(line)}</p>")
    flush_table()
    if in_list:
        out.append("</ul>")
    style = ("body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
             "text-align:left}th{background:#f3f3f3}img{max-width:100%}code{background:#f3f3f3}")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(out) + "\n</body></html>\n")
