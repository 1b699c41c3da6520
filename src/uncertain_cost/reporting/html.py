"""``report.html`` from a ReportContent: one self-contained file (inline SVG, PNG data URIs, inline script).

Nothing is fetched: the page works offline and when moved alone. The cost-vs-year and
per-model interval charts are inline SVG (see :mod:`uncertain_cost.reporting.charts`) with a
method switch and hover/tap details; static figures are embedded PNGs.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

from uncertain_cost.reporting import sections as sec
from uncertain_cost.reporting.answers import headline_answers, pct
from uncertain_cost.reporting.charts import COLOURS, cost_vs_year_svg, intervals_svg
from uncertain_cost.reporting.content import ReportContent

__all__ = ["html_document"]

_STYLE = """
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:980px;margin:0 auto;
padding:1em;color:#222;line-height:1.45}h1{font-size:1.6em;margin:.3em 0}h2{margin-top:1.6em;
border-bottom:1px solid #ddd}.answers{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:.7em}
.answer{background:#f5f7fb;border-left:4px solid #4C72B0;padding:.6em .8em}.answer h3{margin:0 0 .3em;font-size:1em}
.scroll{overflow-x:auto}table{border-collapse:collapse;margin:.8em 0;font-size:.9em}td,th{border:1px solid #ccc;
padding:3px 7px;text-align:left;vertical-align:top}th{background:#f3f3f3}img{max-width:100%;height:auto}
code{background:#f3f3f3}figure{margin:1em 0}.chart{width:100%;height:auto;display:block}
.chart .grid{stroke:#e3e3e3}.chart .tick,.chart .label,.chart .note{font-size:11px;fill:#444}
.chart .axis{font-size:12px;fill:#222}.chart .mark line,.chart .mark path{stroke:currentColor;stroke-width:2}
.chart .mark circle{fill:currentColor}.chart .mark .point{stroke:#C44E52;stroke-width:1.5}
.chart .hit{fill:transparent}.chart .mark:hover circle,.chart .mark:focus circle{r:6}
.chart .mark:hover .hit{fill:#0000000d}.switch button{font:inherit;margin:0 .3em .3em 0;padding:.25em .8em;
border:1px solid #999;background:#fff;border-radius:4px;cursor:pointer}.switch button[aria-pressed=true]{
background:#222;color:#fff}#tip{position:fixed;pointer-events:none;background:#222;color:#fff;padding:.4em .6em;
border-radius:4px;font-size:.85em;max-width:320px;display:none;z-index:9}.muted{color:#666;font-size:.9em}
"""

_SCRIPT = """
(function(){
var tip=document.getElementById('tip');
function show(method){
document.querySelectorAll('.chart .series').forEach(function(g){
g.style.display=g.dataset.method===method?'':'none';});
document.querySelectorAll('.switch button').forEach(function(b){
b.setAttribute('aria-pressed',b.dataset.method===method);});
document.querySelectorAll('.method-name').forEach(function(s){s.textContent=method;});
}
document.querySelectorAll('.switch button').forEach(function(b){
b.addEventListener('click',function(){show(b.dataset.method);});});
function place(e,text){tip.textContent=text;tip.style.display='block';
var x=Math.min(e.clientX+12,window.innerWidth-tip.offsetWidth-8),y=e.clientY+12;
if(y+tip.offsetHeight>window.innerHeight){y=e.clientY-tip.offsetHeight-12;}
tip.style.left=Math.max(4,x)+'px';tip.style.top=Math.max(4,y)+'px';}
document.querySelectorAll('.chart .mark').forEach(function(m){
m.addEventListener('mousemove',function(e){place(e,m.dataset.tip);});
m.addEventListener('mouseleave',function(){tip.style.display='none';});
m.addEventListener('click',function(e){place(e,m.dataset.tip);});
m.addEventListener('focus',function(){var r=m.getBoundingClientRect();
place({clientX:r.right,clientY:r.top},m.dataset.tip);});
m.addEventListener('blur',function(){tip.style.display='none';});});
var first=document.querySelector('.switch button');if(first){show(first.dataset.method);}
document.body.dataset.chartsReady=String(document.querySelectorAll('.chart .mark').length);
})();
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


def _switch(content: ReportContent) -> str:
    buttons = "".join(f'<button type="button" data-method="{m}" style="border-color:{COLOURS.get(m, "#999")}">'
                      f"{m}</button>" for m in content.methods())
    return f'<div class="switch" role="group" aria-label="cost method">Method: {buttons}</div>'


def html_document(content: ReportContent, title: str = "Training cost of frontier AI models") -> str:
    """Render the self-contained ``report.html``.

    Parameters
    ----------
    content : ReportContent
    title : str

    Returns
    -------
    str
        One HTML document: no external stylesheet, script, font or image.
    """
    month, level = _esc(content.reference_month), pct(content.level)
    out = [f"<h1>{_esc(title)}</h1>",
           f'<p class="muted">All costs in USD of {month} (inflation-adjusted); intervals are central {level} '
           f"of {int(content.provenance['n_draws']):,} Monte Carlo draws unless stated.</p>",
           '<section id="answers"><h2>Headline answers</h2><div class="answers">']
    out += [f'<div class="answer"><h3>{_esc(q)}</h3><p>{_esc(a)}</p></div>' for q, a in headline_answers(content)]
    out.append("</div></section>")
    if content.growth:
        out += ['<section id="growth"><h2>Growth of frontier training costs</h2>',
                _table(*sec.growth_table(content))]
        if content.growth_text:
            out.append(f"<p>{_esc(content.growth_text)}</p>")
        comparison = _table(*sec.comparison_table(content))
        if comparison:
            out += ["<h3>Growth models compared (growth_comparison.csv)</h3>", comparison]
        out.append("</section>")
    out += ['<section id="cost-vs-year"><h2>Cost vs year</h2>', _switch(content),
            f'<p class="muted">Cost of each frontier model (<span class="method-name"></span> method) against its '
            f"publication date, USD of {month}, log scale.</p>", cost_vs_year_svg(content)]
    out += [_image(content, f"cost_vs_year_{m}.png", f"cost vs year with trend, {m}") for m in content.methods()]
    out += ["</section>", '<section id="intervals"><h2>Per-model intervals</h2>', _switch(content),
            f'<p class="muted">Bar: {level} interval; dot: median; red cross: point estimate (every input at its '
            f"central value, the paper's method). USD of {month}.</p>", intervals_svg(content),
            "<h3>Headline models</h3>", _table(*sec.headline_table(content)), "</section>",
            '<section id="components"><h2>Cost components</h2>',
            _image(content, "components_amortized.png", "cost components"), "</section>"]
    if content.forecast:
        out += ['<section id="forecast"><h2>Forecast: the most expensive frontier run of each year</h2>']
        if content.forecast_text:
            out.append(f"<p>{_esc(content.forecast_text)}</p>")
        out += [f'<p class="muted">USD of {month}. Observed rows: the costliest model of each past year '
                "(point estimate).</p>", _table(*sec.forecast_table(content)),
                _image(content, "forecast.png", "forecast")]
        assumptions = _table(*sec.assumptions_table(content))
        if content.assumptions_text or assumptions:
            out += ["<h3>Forecast assumptions</h3>", f"<p>{_esc(content.assumptions_text)}</p>", assumptions]
        backtest = _table(*sec.backtest_table(content))
        if content.backtest_text or backtest:
            out += ["<h3>Backtest: forecasts of years already observed</h3>",
                    f"<p>{_esc(content.backtest_text)}</p>", backtest]
        out.append("</section>")
    if content.growth_decomposition:
        out += ['<section id="decomposition"><h2>Cost = compute x price of compute</h2>',
                f"<p>{_esc(sec.DECOMPOSITION_TEXT)}</p>", _table(*sec.decomposition_table(content)), "</section>"]
    if content.tornado or content.sobol:
        out += ['<section id="sensitivity"><h2>Which assumption matters most</h2>',
                "<p>One at a time, each input swung from its P5 to its P95 with the others at their medians.</p><ul>"]
        out += [f"<li><strong>{_esc(t)}</strong>: {_esc(text)}</li>" for t, text in sec.tornado_lines(content)]
        out += ["</ul>", _table(*sec.sobol_table(content))]
        voi = _table(*sec.voi_table(content))
        if voi:
            out += ["<h3>Value of information</h3>", voi,
                    _image(content, "value_of_information.png", "value of information")]
        elif sec.voi_hint(content):
            out.append(f'<p class="muted">{_esc(sec.voi_hint(content))}</p>')
        out += [_image(content, n, n) for n in content.figures if n.startswith("tornado_") or n.startswith("sobol")]
        out.append("</section>")
    if content.devcost:
        out += ['<section id="devcost"><h2>Full development cost (R&amp;D staff + experiments + final run)</h2>',
                f'<p class="muted">USD of {month}.</p>', _table(*sec.devcost_table(content)),
                _image(content, "devcost.png", "development cost"), "</section>"]
    if content.scenarios():
        out += ['<section id="scenarios"><h2>Scenarios side by side</h2>',
                f'<p class="muted">Amortized median ({level} interval), USD of {month}.</p>',
                _table(*sec.scenario_table(content)), "</section>"]
    out += ['<section id="method"><h2>Method and data</h2><ul>']
    out += [f"<li><strong>{_esc(k)}</strong>: {_esc(v)}</li>" for k, v in sec.provenance_items(content)]
    out += ["</ul></section>", '<section id="glossary"><h2>Glossary</h2><dl>']
    out += [f"<dt><strong>{_esc(k)}</strong></dt><dd>{_esc(v)}</dd>" for k, v in sec.GLOSSARY]
    out.append("</dl></section>")
    if content.notes:
        out += ['<section id="notes"><h2>Notes</h2><ul>'] + [f"<li>{_esc(n)}</li>" for n in content.notes]
        out.append("</ul></section>")
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_esc(title)}</title><style>{_STYLE}</style></head><body>\n"
            + "\n".join(p for p in out if p) + '\n<div id="tip" role="tooltip"></div>'
            f"<script>{_SCRIPT}</script></body></html>\n")
