"""``report.md`` from a ReportContent (images linked to the PNG files written beside it)."""

from __future__ import annotations

from collections.abc import Sequence

from uncertain_cost.reporting import sections as sec
from uncertain_cost.reporting.answers import headline_answers, pct
from uncertain_cost.reporting.content import ReportContent

__all__ = ["markdown_document"]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    if not rows:
        return []
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows] + [""]


def markdown_document(content: ReportContent) -> str:
    """Compose ``report.md``.

    Parameters
    ----------
    content : ReportContent

    Returns
    -------
    str
        Markdown; images are linked only when the PNG files are written (``png_written``).
    """
    def image(name: str, alt: str) -> list[str]:
        return [f"![{alt}]({name})", ""] if content.png_written and name in content.figures else []

    out = ["# Training cost of frontier AI models", "",
           f"All costs in USD of **{content.reference_month}**; intervals are central {pct(content.level)} "
           "of the Monte Carlo draws unless stated.", "", "## Headline answers", ""]
    out += [f"- **{q}** {a}" for q, a in headline_answers(content)] + [""]
    if content.growth:
        out += ["## Growth of frontier training costs", ""] + _table(*sec.growth_table(content))
        if content.growth_text:
            out += [content.growth_text, ""]
        for title, text, table in sec.growth_checks(content):
            out += [f"### {title}", "", text, ""] + _table(*table)
    out += ["## Cost vs year", ""]
    for method in content.methods():
        out += image(f"cost_vs_year_{method}.png", f"cost vs year, {method}")
    out += ["## Headline models", ""] + _table(*sec.headline_table(content))
    out += image("model_intervals_amortized.png", "model intervals")
    out += ["## Cost components", ""] + image("components_amortized.png", "components")
    if content.forecast:
        out += ["## Forecast: the most expensive frontier run of each year", ""]
        if content.forecast_text:
            out += [content.forecast_text, ""]
        out += _table(*sec.forecast_table(content)) + image("forecast.png", "forecast")
        if content.assumptions_text:
            out += ["### Forecast assumptions", "", content.assumptions_text, ""]
        out += _table(*sec.assumptions_table(content))
        if content.backtest_text:
            out += ["### Backtest: forecasts of years already observed", "", content.backtest_text, ""]
        out += _table(*sec.backtest_table(content))
    if content.growth_decomposition:
        out += ["## Cost = compute x price of compute", "", sec.DECOMPOSITION_TEXT, ""]
        out += _table(*sec.decomposition_table(content))
    if content.tornado:
        out += ["## Which assumption matters most", "",
                "One at a time, each input swung from its P5 to its P95 with the others at their medians "
                "(`tornado.csv`); Sobol indices in `sobol.csv`.", ""]
        out += [f"- **{t}**: {text}" for t, text in sec.tornado_lines(content)] + [""]
        out += _table(*sec.sobol_table(content)) + _table(*sec.voi_table(content))
        if sec.voi_note(content):
            out += [sec.voi_note(content), ""]
        out += image("value_of_information.png", "value of information")
        if sec.voi_hint(content):
            out += [sec.voi_hint(content), ""]
        for name in content.figures:
            if name.startswith("tornado_"):
                out += image(name, name)
    if content.devcost:
        out += ["## Full development cost (R&D staff + experiments + final run)", ""]
        out += _table(*sec.devcost_table(content)) + image("devcost.png", "development cost")
    if content.scenarios():
        out += ["## Scenarios side by side (amortized median and interval)", ""] + _table(*sec.scenario_table(content))
    out += ["## Method and data", ""] + [f"- **{k}**: {v}" for k, v in sec.provenance_items(content)] + [""]
    out += ["## Glossary", ""] + [f"- **{k}**: {v}" for k, v in sec.GLOSSARY] + [""]
    if content.notes:
        out += ["## Notes", ""] + [f"- {n}" for n in content.notes] + [""]
    return "\n".join(out)
