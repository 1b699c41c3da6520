"""The run report as Markdown and HTML text (written by report.py).

The report states what was computed, with which inputs and data, and the numbers a reader
asks for first: the headline models with intervals, the growth rate, the forecast, the
sensitivity ranking and the development cost, each with its figure.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from types import SimpleNamespace

from uncertain_cost.report import format_usd
from uncertain_cost.results import method_counts

__all__ = ["markdown_report", "html_report"]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


_IMAGE = re.compile(r"!\[(.*?)\]\((.*?)\)")


def _records(result, name: str):
    return result.records(name) if result.has_table(name) else None


def growth_paragraph(rows: Sequence[dict]) -> str:
    """Say in words what the growth table says: the Bayesian fit beside the paper's OLS."""
    fit = next((r for r in rows if r["method"] == "amortized" and r["estimator"] == "bayes"), None)
    paper = next((r for r in rows if r["method"] == "amortized" and r["estimator"] == "ols"), None)
    if fit is None or paper is None:
        return ""
    text = (
        f"Amortized cost of frontier runs grows {fit['growth_per_year']:.2f}x per year "
        f"({fit['lo']:.2f}-{fit['hi']:.2f}, {fit['level']:.0%} posterior interval) in the hierarchical Bayesian fit, "
        f"which sees each model's Monte Carlo uncertainty (inputs shared by all models move the level of every "
        f"cost together, not the slope) and a robust Student-t scatter; the paper's OLS on point estimates gives "
        f"{paper['growth_per_year']:.2f}x ({paper['lo']:.2f}-{paper['hi']:.2f}). Diagnostics: R-hat max "
        f"{fit['r_hat_max']}, bulk ESS min {fit['ess_bulk_min']}, {fit['divergences']} divergences.")
    single = [r for r in rows if r["estimator"] == "bayes_single"]
    if single:
        text += (
            " Fitted alone, without pooling across methods: " + ", ".join(
                f"{r['method']} {r['growth_per_year']:.2f}x ({r['lo']:.2f}-{r['hi']:.2f})" for r in single)
            + ". Where the joint fit and the single fits differ, the cost ratios between methods trend over "
            "time on the models several methods cost, and the joint fit attributes that trend to the methods' "
            "slopes; see docs/growth.md.")
    return text


def forecast_paragraph(models_per_year: int) -> str:
    """Say in words how the forecast table was made."""
    return (
        f"For each year, the cost of the most expensive of {models_per_year} frontier runs "
        "(the median number of frontier models per observed year), each drawn from the fitted trend plus "
        "the model-to-model scatter, over the posterior: a posterior predictive distribution of the "
        "year's maximum, not of the trend line. P(> $X) is the posterior probability that at least one "
        "run that year costs more than $X (in dollars of the reference month).")


def markdown_report(result) -> str:
    """Compose ``report.md`` from a run's result.

    Parameters
    ----------
    result : uncertain_cost.result.RunResult

    Returns
    -------
    str
    """
    if "scenarios" in result.tree.attrs:  # several scenarios: side by side, then the first in detail
        from uncertain_cost.scenarios import scenario_markdown

        return scenario_markdown(result)
    config = result.config
    prov = SimpleNamespace(**result.provenance)
    rows = result.records("summary")[0]
    counts = method_counts(rows)
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
    wanted = _sensitivity_models(config)
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
    growth = _records(result, "growth")
    if growth:
        parts += ["## Growth of frontier training costs", "", _table(
            ("method", "estimator", "N", "growth / year", "interval", "doubling (months)"),
            [(g["method"], g["estimator"], g["n_models"], f"{g['growth_per_year']:.2f}x",
              f"{g['lo']:.2f}–{g['hi']:.2f} ({g['level']:.0%})", f"{g['doubling_months']:.1f}")
             for g in growth[0]],
        ), ""]
        if growth_paragraph(growth[0]):
            parts += [growth_paragraph(growth[0]), ""]
    forecast = _records(result, "forecast")
    if forecast:
        parts += ["## Forecast: the most expensive frontier run of each year", ""]
        parts += [forecast_paragraph(result.tree["tables/forecast"].attrs["models_per_year"]), ""]
        fc_rows, fc_cols = forecast
        show = [c for c in fc_cols if c in ("year", "p5", "p50", "p95", "prob_gt_1e9", "prob_gt_1e10")]
        parts += [_table(show, [[_fmt(r[c], c) for c in show] for r in fc_rows]), "",
                  "![forecast](forecast.png)", ""]
    tornado = _records(result, "tornado")
    if tornado:
        parts += ["## Which assumption matters most", "",
                  "One at a time, each input swung from its P5 to its P95 with the others at their medians "
                  "(`tornado.csv`); Sobol indices in `sobol.csv`.", ""]
        for target in dict.fromkeys(r["target"] for r in tornado[0]):
            top = [r for r in tornado[0] if r["target"] == target][:3]
            parts.append(f"- **{target}**: " + "; ".join(
                f"{r['input']} ({_fmt(r['output_low'], r['units'])} to {_fmt(r['output_high'], r['units'])})"
                for r in top))
        parts += [""] + [f"![{name}]({name})" for name in result.figures if name.startswith("tornado_")] + [""]
    dev = _records(result, "devcost")
    if dev:
        parts += ["## Full development cost (R&D staff + experiments + final run)", "", _table(
            ("model", "component", "median", "90% interval", "share of median"),
            [(r["model"], r["component"], format_usd(r["median_usd"]),
              f"{format_usd(r['p5_usd'])} – {format_usd(r['p95_usd'])}", f"{r['share_median']:.0%}")
             for r in dev[0] if r["component"] in ("staff", "total")],
        ), "", "![development cost](devcost.png)", ""]
    if result.notes:
        parts += ["## Notes", ""] + [f"- {n}" for n in result.notes] + [""]
    drawn = set(result.figures)  # link only the figures this run drew ([report] png = false draws none)
    return "\n".join(p for p in parts if not (_IMAGE.match(p) and _IMAGE.match(p).group(2) not in drawn))


def _sensitivity_models(config) -> tuple[str, ...]:
    from uncertain_cost.sensitivity.targets import SensitivitySettings

    return SensitivitySettings.from_config(config.section("sensitivity"), config.source).models


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
