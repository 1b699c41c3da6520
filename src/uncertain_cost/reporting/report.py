"""The run report as Markdown and HTML text: the entry points the result and the writer call.

A run with scenarios gets the side-by-side section of :mod:`uncertain_cost.reporting.scenarios`
in its Markdown report; the HTML report renders the scenarios from the tables themselves.
"""

from __future__ import annotations

from uncertain_cost.reporting.content import ReportContent, collect
from uncertain_cost.reporting.html import html_document
from uncertain_cost.reporting.markdown import markdown_document
from uncertain_cost.reporting.scenarios import scenario_markdown
from uncertain_cost.scenarios import is_scenario_result

__all__ = ["markdown_report", "html_report"]


def markdown_report(result, content: ReportContent | None = None) -> str:
    """Compose ``report.md`` from a run's result (``content``: its :func:`.content.collect`)."""
    if is_scenario_result(result):  # several scenarios: side by side, then the first in detail
        return scenario_markdown(result)
    return markdown_document(content if content is not None else collect(result))


def html_report(result, content: ReportContent | None = None) -> str:
    """Compose the self-contained ``report.html`` from a run's result."""
    return html_document(content if content is not None else collect(result))
