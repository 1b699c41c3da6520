"""report.html in a real browser (headless Debian Chromium): copied alone, it loads, scripts run, images decode."""

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
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--window-size=1200,2000")

# Added to the test's copy only: records errors from the first script on, and what loaded.
PROBE_HEAD = ("<script>window.__errors=[];addEventListener('error',function(e){__errors.push(String(e.message))});"
              "var __ce=console.error;console.error=function(){__errors.push([].slice.call(arguments).join(' '));"
              "__ce.apply(console,arguments)};</script>")
PROBE_TAIL = ("<script>addEventListener('load',function(){var r={errors:__errors,"
              "images:[].map.call(document.images,function(i){return i.naturalWidth}),"
              "ready:document.body.dataset.chartsReady,"
              "visible:[].filter.call(document.querySelectorAll('#chart-cost-vs-year .series'),"
              "function(g){return getComputedStyle(g).display!=='none'}).length,"
              "circles:[].filter.call(document.querySelectorAll('#chart-cost-vs-year circle'),"
              "function(c){var b=c.getBoundingClientRect();return b.width>0}).length};"
              "var p=document.createElement('pre');p.id='probe';p.textContent=JSON.stringify(r);"
              "document.body.appendChild(p)});</script>")


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=120, check=False)


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
    dom = _chromium(tmp_path, "--dump-dom", probed.as_uri())
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout)
    assert match, dom.stderr[-2000:]
    state = json.loads(html.unescape(match.group(1)))
    assert state["errors"] == []
    assert not re.search(r"CONSOLE.*(Uncaught|Error)", dom.stderr), dom.stderr[-2000:]
    assert state["images"] and all(width > 0 for width in state["images"])
    assert int(state["ready"]) == 2 * 3 * 6  # every model mark of both charts, every method
    assert state["visible"] == 1  # one method shown at a time
    assert state["circles"] == 6  # the shown method's models are drawn
