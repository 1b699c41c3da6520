"""``report.html`` from a ReportContent: one self-contained, navigable file (inline Plotly, PNG data URIs).

Nothing is fetched: the page works offline and when moved alone. A table of contents leads;
the cost-vs-year and per-model interval charts are interactive Plotly charts (hover names each
model, the legend toggles methods; see :mod:`uncertain_cost.reporting.charts`), their bundle
inlined once; static figures are embedded PNGs, the long ones behind ``<details>``.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

from uncertain_cost.reporting import sections as sec
from uncertain_cost.reporting.answers import headline_answers, pct
from uncertain_cost.reporting.charts import cost_vs_year_chart, intervals_chart, plotly_script
from uncertain_cost.reporting.content import ReportContent

__all__ = ["html_document"]

_STYLE = """
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:980px;margin:0 auto;
padding:1em;color:#222;line-height:1.45}h1{font-size:1.6em;margin:.3em 0}h2{margin-top:1.6em;
border-bottom:1px solid #ddd}.answers{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:.7em}
.answer{background:#f5f7fb;border-left:4px solid #4C72B0;padding:.6em .8em}.answer h3{margin:0 0 .3em;font-size:1em}
.scroll{overflow-x:auto}table{border-collapse:collapse;margin:.8em 0;font-size:.9em}td,th{border:1px solid #ccc;
padding:3px 7px;text-align:left;vertical-align:top}th{background:#f3f3f3}img{max-width:100%;height:auto}
code{background:#f3f3f3}figure{margin:1em 0}.muted{color:#666;font-size:.9em}
nav#toc{background:#f7f7f7;border:1px solid #e3e3e3;padding:.4em 1em;margin:1em 0}nav#toc ol{margin:.3em 0;
columns:2}nav#toc a{text-decoration:none}details{margin:.6em 0}summary{cursor:pointer;color:#335}
section{scroll-margin-top:.5em}.chart{width:100%}
"""

def _esc(text) -> str:
    return html.escape(str(text))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{_esc(c)}</th>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _image(content: ReportContent, name: str, alt: str) -> str:
    data = content.figures.get(name)
    if not data:
        return ""
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return f'<figure><img src="{uri}" alt="{_esc(alt)}" loading="eager"></figure>'



def _details(summary: str, body: Sequence[str]) -> str:
    inner = "".join(p for p in body if p)
    return f"<details><summary>{_esc(summary)}</summary>{inner}</details>" if inner else ""


def _answers(content: ReportContent) -> list[str]:
    out = ['<div class="answers">']
    out += [f'<div class="answer"><h3>{_esc(q)}</h3><p>{_esc(a)}</p></div>' for q, a in headline_answers(content)]
    return out + ["</div>"]


def _growth(content: ReportContent) -> list[str]:
    out = [_table(*sec.growth_table(content))]
    if content.growth_text:
        out.append(f"<p>{_esc(content.growth_text)}</p>")
    for title, text, table in sec.growth_checks(content):
        out += [f"<h3>{_esc(title)}</h3>", f"<p>{_esc(text)}</p>", _table(*table)]
    return out


def _cost_vs_year(content: ReportContent) -> list[str]:
    month = _esc(content.reference_month)
    which = f" Scenario {_esc(content.scenarios()[0])} (all scenarios: see below)." if content.scenarios() else ""
    out = [f'<p class="muted">Median (dot) and {pct(content.level)} interval (bar) of each frontier model against '
           f"its publication date, USD of {month}, log scale. Hover a dot for the model, its developer and chip; "
           f"click a method in the legend to show or hide it.{which}</p>", cost_vs_year_chart(content)]
    pngs = [_image(content, f"cost_vs_year_{m}.png", f"cost vs year with trend, {m}") for m in content.methods()]
    return out + [_details("Static figures with the fitted trends (PNG, as written beside the report)", pngs)]


def _intervals(content: ReportContent) -> list[str]:
    return [f'<p class="muted">Bar: {pct(content.level)} interval; dot: median; hover for the point estimate '
            f"(every input at its central value, the paper's method). USD of {_esc(content.reference_month)}.</p>",
            intervals_chart(content), "<h3>Headline models</h3>", _table(*sec.headline_table(content))]


def _forecast(content: ReportContent) -> list[str]:
    out = [f"<p>{_esc(content.forecast_text)}</p>" if content.forecast_text else "",
           f'<p class="muted">USD of {_esc(content.reference_month)}. Observed rows: the costliest model of each '
           "past year (point estimate).</p>", _table(*sec.forecast_table(content)),
           _image(content, "forecast.png", "forecast")]
    assumptions = _table(*sec.assumptions_table(content))
    if content.assumptions_text or assumptions:
        out += ["<h3>Forecast assumptions</h3>", f"<p>{_esc(content.assumptions_text)}</p>", assumptions]
    backtest = _table(*sec.backtest_table(content))
    if content.backtest_text or backtest:
        out += ["<h3>Backtest: forecasts of years already observed</h3>",
                f"<p>{_esc(content.backtest_text)}</p>", backtest]
    return out


def _tornado_figure(content: ReportContent, target: str) -> str | None:
    """Name the figure of a tornado target ("GPT-4 amortized" -> "tornado_gpt_4_amortized.png"), if drawn."""
    key = "".join(c for c in target.lower() if c.isalnum())
    return next((n for n in content.figures if n.startswith("tornado_")
                 and "".join(c for c in n[8:-4] if c.isalnum()) == key), None)


def _sensitivity(content: ReportContent) -> list[str]:
    out = ["<p>One at a time, each input swung from its P5 to its P95 with the others at their medians "
           "(tornado.csv). Shown: the inputs whose swing is at least a tenth of the largest; the others are "
           "folded below each table.</p>"]
    shown = set()
    for target, header, main, rest in sec.tornado_split(content):
        out += [f"<h3>{_esc(target)}</h3>", _table(header, main)]
        zero = sum(1 for r in rest if r[3] in ("$0", "0"))
        name = _tornado_figure(content, target)
        shown.add(name)
        out.append(_details(f"{len(rest)} more inputs ({zero} with no effect) and the tornado chart",
                            [_table(header, rest), _image(content, name, f"tornado, {target}") if name else ""]))
    others = [n for n in content.figures if (n.startswith("tornado_") and n not in shown) or n.startswith("sobol")]
    out.append(_details("Other sensitivity figures (PNG)", [_image(content, n, n) for n in others]))
    sobol = _table(*sec.sobol_table(content))
    if sobol:
        out += ["<h3>Sobol indices (largest total order per target)</h3>", sobol]
    voi = _table(*sec.voi_table(content))
    if voi:
        out += ["<h3>Value of information</h3>", voi, f'<p class="muted">{_esc(sec.voi_note(content))}</p>',
                _details("Value of information chart (PNG)",
                         [_image(content, "value_of_information.png", "value of information")])]
    elif sec.voi_hint(content):
        out.append(f'<p class="muted">{_esc(sec.voi_hint(content))}</p>')
    return out


def _sections(content: ReportContent) -> list[tuple[str, str, list[str]]]:
    """(id, title, parts) of every section the run has, in reading order."""
    month, level = _esc(content.reference_month), pct(content.level)
    out = [("answers", "Headline answers", _answers(content))]
    if content.growth:
        out.append(("growth", "Growth of frontier training costs", _growth(content)))
    out += [("cost-vs-year", "Cost vs year", _cost_vs_year(content)),
            ("intervals", "Per-model intervals", _intervals(content)),
            ("components", "Cost components", [_image(content, "components_amortized.png", "cost components")])]
    if content.forecast:
        out.append(("forecast", "Forecast: the most expensive frontier run of each year", _forecast(content)))
    if content.growth_decomposition:
        out.append(("decomposition", "Cost = compute x price of compute", [
            f"<p>{_esc(sec.DECOMPOSITION_TEXT)}</p>", _table(*sec.decomposition_table(content))]))
    if content.tornado or content.sobol:
        out.append(("sensitivity", "Which assumption matters most", _sensitivity(content)))
    if content.devcost:
        out.append(("devcost", "Full development cost (R&D staff + experiments + final run)",
                    [f'<p class="muted">USD of {month}; medians of each component and of the per-draw total '
                     "(the total's median is not the sum of the components' medians).</p>",
                     _table(*sec.devcost_table(content)), _image(content, "devcost.png", "development cost")]))
    if content.scenarios():
        out.append(("scenarios", "Scenarios side by side", [
            f'<p class="muted">Amortized median ({level} interval), USD of {month}.</p>',
            _table(*sec.scenario_table(content))]))
    out.append(("method", "Method and data", ["<ul>"] + [
        f"<li><strong>{_esc(k)}</strong>: {_esc(v)}</li>" for k, v in sec.provenance_items(content)] + ["</ul>"]))
    out.append(("glossary", "Glossary", ["<dl>"] + [
        f"<dt><strong>{_esc(k)}</strong></dt><dd>{_esc(v)}</dd>" for k, v in sec.GLOSSARY] + ["</dl>"]))
    if content.notes:
        out.append(("notes", "Notes", ["<ul>"] + [f"<li>{_esc(n)}</li>" for n in content.notes] + ["</ul>"]))
    return out


def html_document(content: ReportContent, title: str = "Training cost of frontier AI models") -> str:
    """Render the self-contained ``report.html``.

    Parameters
    ----------
    content : ReportContent
    title : str

    Returns
    -------
    str
        One HTML document: a table of contents, then the sections; no external stylesheet,
        script, font or image (the Plotly bundle is inlined once).
    """
    sections = _sections(content)
    toc = "".join(f'<li><a href="#{sid}">{_esc(name)}</a></li>' for sid, name, _ in sections)
    out = [f"<h1>{_esc(title)}</h1>",
           f'<p class="muted">All costs in USD of {_esc(content.reference_month)} (inflation-adjusted); intervals '
           f"are central {pct(content.level)} of {int(content.provenance['n_draws']):,} Monte Carlo draws unless "
           "stated.</p>", f'<nav id="toc" aria-label="contents"><strong>Contents</strong><ol>{toc}</ol></nav>']
    for sid, name, parts in sections:
        out += [f'<section id="{sid}"><h2>{_esc(name)}</h2>', *parts, "</section>"]
    body = "\n".join(p for p in out if p)
    script = plotly_script() if 'class="plotly-graph-div"' in body else ""
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_esc(title)}</title><style>{_STYLE}</style>{script}</head><body>\n{body}\n</body></html>\n")
