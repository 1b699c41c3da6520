"""The report's content and its Markdown/HTML renderings: self-contained, method columns, no dead links."""

from __future__ import annotations

import re

from report_fixtures import make_artifacts
from uncertain_cost.reporting.answers import headline_answers
from uncertain_cost.reporting.content import collect
from uncertain_cost.reporting.html import html_document
from uncertain_cost.reporting.markdown import markdown_document
from uncertain_cost.reporting.report import markdown_report
from uncertain_cost.reporting.sections import (
    GLOSSARY,
    forecast_table,
    growth_table,
    tornado_split,
    voi_note,
    voi_table,
)


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


def test_html_is_self_contained_with_a_contents_and_interactive_charts():
    content = collect(make_artifacts().result(png=False))
    page = html_document(content)
    markup = re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)  # the Plotly bundle names its homepage
    sources = re.findall(r'(?:src|href)="([^"]*)"', markup)
    assert sources and all(s.startswith(("data:", "#")) for s in sources)
    assert "http://" not in markup and "https://" not in markup
    assert page.count("plotly.js v") == 1  # the bundle inlined once, not once per chart
    toc = re.search(r'<nav id="toc".*?</nav>', page, flags=re.S).group(0)
    links = re.findall(r'href="#([^"]+)"', toc)
    assert links[:3] == ["answers", "growth", "cost-vs-year"] and "glossary" in links
    assert all(f'<section id="{sid}">' in page for sid in links)
    for div in ("chart-cost-vs-year", "chart-intervals"):
        assert page.count(f'id="{div}"') == 1
    assert page.count('"name":"amortized"') == 2 and page.count('"visible":"legendonly"') == 4
    first_section = page.index('id="answers"')
    assert first_section < page.index('id="growth"') < page.index('id="cost-vs-year"') < page.index('id="forecast"')


def test_report_is_the_same_twice():
    art = make_artifacts()
    assert html_document(collect(art.result(png=False))) == html_document(collect(art.result(png=False)))


def test_growth_booleans_are_words_and_glossary_says_committed_use():
    art = make_artifacts()
    for r in art.tables["growth.csv"][0]:
        r["headline"] = r["method"] == "cloud"
    content = collect(art.result())
    header, rows = growth_table(content)
    assert header[-1] == "headline" and [r[-1] for r in rows] == ["no", "yes", "no"]
    cloud = dict(GLOSSARY)["cloud"]
    assert "3-year committed-use" in cloud and "list prices" not in cloud


def test_tornado_keeps_the_inputs_that_matter_and_folds_the_rest():
    art = make_artifacts()
    swings = {"hardware price": 4e7, "training time": 1e7, "energy": 3e6, "cloud price": 0.0}
    art.tables["tornado.csv"] = ([{"target": "Model 5 cloud", "input": k, "output_low": 1e7, "output_high": 1e7 + v,
                                   "swing": v, "units": "USD of 2023-12"} for k, v in swings.items()], ())
    (target, header, main, rest), = tornado_split(collect(art.result()))
    assert target == "Model 5 cloud" and [r[0] for r in main] == ["hardware price", "training time"]
    assert [r[0] for r in rest] == ["energy", "cloud price"] and main[0][3] == "$40M"
    page = html_document(collect(art.result(png=False)))
    assert "<summary>2 more inputs (1 with no effect) and the tornado chart</summary>" in page


def test_value_of_information_states_its_noise():
    art = make_artifacts()
    voi = [{"input": "(none: full uncertainty)", "slope_sd": 0.05, "slope_sd_reduction": 0.0, "p_gt_1e9_2027": 0.7,
            "p_gt_1e9_change": 0.0},
           {"input": "tpu_price", "slope_sd": 0.0526, "slope_sd_reduction": -0.052, "p_gt_1e9_2027": 0.6,
            "p_gt_1e9_change": -0.1},
           {"input": "training_time", "slope_sd": 0.05, "slope_sd_reduction": -0.0004, "p_gt_1e9_2027": 0.7,
            "p_gt_1e9_change": 0.0}]
    art.tables["value_of_information.csv"] = (voi, ())
    result = art.result()
    result.tree["tables/value_of_information"].attrs.update({"draws": 4000, "chains": 2, "year": 2027,
                                                             "mc_draws": 1000})
    content = collect(result)
    header, rows = voi_table(content)
    # 2 s.e. with 8000 draws: sd reduction 2/sqrt(8000) = 2.2 %; probability 2 sqrt(2 * .7 * .3 / 8000) = 1.4 points
    assert rows[1] == ("tpu_price", "0.0526", "-5.2 ± 2.2", "60.0%", "-10.0 ± 1.4")
    assert "P(> $1B in 2027)" in header
    note = voi_note(content)
    assert rows[2][2] == "0.0 ± 2.2"  # within the noise: no sign, not called negative
    assert "negative reduction beyond the noise (tpu_price)" in note and "two standard errors" in note
    assert note.startswith("Each row refits the growth model")  # rows without a method column: refits
    methods = ("reference", "refit", "psis")
    art.tables["value_of_information.csv"] = ([r | {"pareto_k": 0.3, "method": m} for r, m in zip(voi, methods,
                                                                                                 strict=True)], ())
    result = art.result()
    result.tree["tables/value_of_information"].attrs.update({"draws": 4000, "chains": 2, "mc_draws": 1000})
    note = voi_note(collect(result))
    assert note.startswith("Each row reweights the full-uncertainty posterior") and "(tpu_price)" in note


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


def test_charts_of_a_scenario_run_draw_the_first_scenario():
    art = make_artifacts()
    extra = [{**r, "scenario": "cheap chips", "median_usd": r["median_usd"] / 2} for r in art.tables["summary.csv"][0]]
    for r in art.tables["summary.csv"][0]:
        r["scenario"] = "baseline"
    art.tables["summary.csv"] = (art.tables["summary.csv"][0] + extra, ())
    page = html_document(collect(art.result(png=False)))
    assert page.count('id="chart-cost-vs-year"') == 1 and "Scenario baseline" in page
    assert page.count('["Model 0","unknown",') == 2 * 3  # hover rows: two charts x three methods, not x2
