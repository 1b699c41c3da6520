"""The report's content and its Markdown/HTML renderings: self-contained, method columns, no dead links."""

from __future__ import annotations

import re

from report_fixtures import make_artifacts
from uncertain_cost.reporting.answers import headline_answers
from uncertain_cost.reporting.content import collect
from uncertain_cost.reporting.html import html_document
from uncertain_cost.reporting.markdown import markdown_document
from uncertain_cost.reporting.report import markdown_report
from uncertain_cost.reporting.sections import forecast_table


def test_png_off_means_no_image_links():
    art = make_artifacts()
    text = markdown_report(art.result(png=False))
    assert "](" not in text  # no ![..](file.png): those files are not written
    assert "![forecast](forecast.png)" in markdown_report(art.result(png=True))


def test_forecast_table_has_a_method_column_and_observed_years():
    content = collect(make_artifacts().result())
    header, rows = forecast_table(content)
    assert header[0] == "method"
    assert {r[0] for r in rows} == {"amortized", "cloud", "acquisition"}
    observed = [r for r in rows if r[2].startswith("observed")]
    assert observed and all(int(r[1]) < 2024 for r in observed)


def test_headline_answers_the_four_questions():
    content = collect(make_artifacts().result())
    answers = dict(headline_answers(content))
    assert set(answers) == {"What did the frontier models cost?", "How sure are we?", "How fast is it growing?",
                            "When does a run pass $1B and $10B?"}
    assert "2.40x per year" in answers["How fast is it growing?"]
    assert "more likely than not from 2026" in answers["When does a run pass $1B and $10B?"]


def test_headline_growth_row_follows_the_headline_column():
    art = make_artifacts()
    rows = art.tables["growth.csv"][0]
    for r in rows:
        r["headline"] = r["method"] == "cloud"
    rows[1]["growth_per_year"] = 3.1
    answers = dict(headline_answers(collect(art.result())))
    assert "3.10x per year" in answers["How fast is it growing?"] and "cloud" in answers["How fast is it growing?"]


def test_html_is_self_contained_with_switchable_charts():
    content = collect(make_artifacts().result(png=False))
    page = html_document(content)
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sources and all(s.startswith("data:") for s in sources)
    assert "http://" not in page and "https://" not in page
    for method in ("amortized", "cloud", "acquisition"):
        assert page.count(f'class="series" data-method="{method}"') == 2  # cost vs year + intervals
    assert page.count('class="mark"') == 2 * 3 * 6
    first_section = page.index('id="answers"')
    assert first_section < page.index('id="growth"') < page.index('id="cost-vs-year"') < page.index('id="forecast"')


def test_scenarios_section_only_when_present():
    art = make_artifacts()
    assert "Scenarios side by side" not in markdown_document(collect(art.result()))
    extra = [{**r, "scenario": "cheap chips", "median_usd": r["median_usd"] / 2}
             for r in art.tables["summary.csv"][0]]
    for r in art.tables["summary.csv"][0]:
        r["scenario"] = "baseline"
    art.tables["summary.csv"] = (art.tables["summary.csv"][0] + extra, ())
    text = markdown_document(collect(art.result()))
    assert "## Scenarios side by side" in text and "| model | baseline | cheap chips |" in text
