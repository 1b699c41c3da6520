"""report.html in a real browser (headless Debian Chromium): copied alone and offline, it loads, its table of
contents resolves, the interactive chart names a model on hover, and nothing is fetched from the network."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import pytest

from report_fixtures import make_artifacts
from uncertain_cost.reporting.content import collect
from uncertain_cost.reporting.html import html_document

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-domain-reliability", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=8000",
         "--window-size=1200,2000", "--host-resolver-rules=MAP * ~NOTFOUND")

# Added to the test's copy only: records errors from the first script on.
PROBE_HEAD = ("<script>window.__errors=[];addEventListener('error',function(e){__errors.push(String(e.message))});"
              "var __ce=console.error;console.error=function(){__errors.push([].slice.call(arguments).join(' '));"
              "__ce.apply(console,arguments)};</script>")
# After load: hover the first visible point of the cost-vs-year chart with a real mouse event on Plotly's
# drag layer, then record what the page shows.
PROBE_TAIL = """<script>addEventListener('load',function(){setTimeout(function(){
var gd=document.getElementById('chart-cost-vs-year');gd.scrollIntoView();
var shown=gd.data.filter(function(t){return t.visible===true||t.visible===undefined});
var t=shown[0],xa=gd._fullLayout.xaxis,ya=gd._fullLayout.yaxis,drag=gd.querySelector('.nsewdrag');
var box=drag.getBoundingClientRect();
var cx=box.left+xa.c2p(t.x[0]),cy=box.top+ya.c2p(t.y[0]);
drag.dispatchEvent(new MouseEvent('mousemove',{clientX:cx,clientY:cy,bubbles:true}));
setTimeout(function(){
var toc=[].map.call(document.querySelectorAll('nav#toc a'),function(a){return a.getAttribute('href')});
var r={errors:__errors,images:[].map.call(document.images,function(i){return i.naturalWidth}),
toc:toc,unresolved:toc.filter(function(h){var e=document.getElementById(h.slice(1));
return !(h[0]==='#'&&e&&e.tagName==='SECTION')}),
traces:gd.data.map(function(d){return d.name}),shown:shown.map(function(d){return d.name}),
points:gd.querySelectorAll('.scatterlayer .point').length,expected:t.customdata[0][0],
hover:(gd.querySelector('.hoverlayer')||{}).textContent||'',
resources:performance.getEntriesByType('resource').map(function(e){return e.name})};
var p=document.createElement('pre');p.id='probe';p.textContent=JSON.stringify(r);
document.body.appendChild(p)},400)},300)});</script>"""


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def _requested_urls(netlog) -> list[str]:
    """Every URL a page asked the network stack for (Chromium's --log-net-log JSON).

    Requests Chromium makes for itself (clock sync, account checks) have the initiator "not an
    origin"; a page's own requests carry its origin ("null" for a file:// page).
    """
    log = json.loads(netlog.read_text(encoding="utf-8", errors="replace"))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return sorted({e["params"]["url"] for e in log["events"] if e["type"] == start and "url" in e.get("params", {})
                   and e["params"].get("initiator") != "not an origin"})


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not found on PATH (.ci/run installs Debian's chromium)")
def test_report_html_alone_in_headless_chromium(tmp_path):
    page = html_document(collect(make_artifacts().result(png=False)))
    alone = tmp_path / "mailed"
    alone.mkdir()
    report = alone / "report.html"
    report.write_text(page, encoding="utf-8")
    shot = tmp_path / "report_screenshot.png"  # left in tmp_path for a person to look at
    result = _chromium(tmp_path, f"--screenshot={shot}", report.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000, result.stderr[-2000:]

    probed = alone / "probed.html"
    probed.write_text(page.replace("<head>", "<head>" + PROBE_HEAD, 1).replace("</body>", PROBE_TAIL + "</body>"),
                      encoding="utf-8")
    netlog = tmp_path / "netlog.json"
    dom = _chromium(tmp_path, f"--log-net-log={netlog}", "--dump-dom", probed.as_uri())
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout)
    assert match, dom.stderr[-2000:]
    state = json.loads(html.unescape(match.group(1)))
    assert state["errors"] == []
    assert not re.search(r"CONSOLE.*(Uncaught|Error)", dom.stderr), dom.stderr[-2000:]
    assert all(width > 0 for width in state["images"])
    # the table of contents: one link per section, each resolving to a <section> of the page
    assert len(state["toc"]) >= 8 and state["unresolved"] == []
    assert {"#answers", "#cost-vs-year", "#forecast", "#glossary"} <= set(state["toc"])
    # the interactive chart: one trace per method, one shown; its 6 models drawn; hover names the model
    assert state["traces"] == ["amortized", "cloud", "acquisition"] and state["shown"] == ["amortized"]
    assert state["points"] == 6
    assert state["expected"] == "Model 0" and "Model 0" in state["hover"], state["hover"]
    assert "NVIDIA A100" in state["hover"] and "median" in state["hover"]
    # nothing fetched: no resource entry and no network request other than the page's own file
    assert [r for r in state["resources"] if not r.startswith(("data:", "file:"))] == []
    assert netlog.exists()
    assert [u for u in _requested_urls(netlog) if u.startswith(("http:", "https:", "ws:", "wss:", "ftp:"))] == []


def test_net_log_check_sees_a_fetch(tmp_path):
    """The network check above can fail: a page that loads an external image shows up in the net log."""
    if CHROMIUM is None:
        pytest.skip("chromium not found on PATH (.ci/run installs Debian's chromium)")
    page = tmp_path / "fetching.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://example.invalid/x.png"></body></html>',
                    encoding="utf-8")
    netlog = tmp_path / "netlog.json"
    _chromium(tmp_path, f"--log-net-log={netlog}", "--dump-dom", page.as_uri())
    assert "http://example.invalid/x.png" in _requested_urls(netlog)
