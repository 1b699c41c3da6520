"""The run report as Markdown and HTML text: entry points over :mod:`uncertain_cost.reporting`.

A run with scenarios gets the side-by-side section of :mod:`uncertain_cost.scenarios` in its
Markdown report; the HTML report renders the scenarios from the tables themselves.
"""

from __future__ import annotations

from uncertain_cost.reporting import ReportContent, collect, html_document, markdown_document

__all__ = ["markdown_report", "html_report"]


def markdown_report(result, content: ReportContent | None = None) -> str:
    """Compose ``report.md`` from a run's result (``content``: its :func:`~uncertain_cost.reporting.collect`)."""
    if "scenarios" in result.tree.attrs:  # several scenarios: side by side, then the first in detail
        from uncertain_cost.scenarios import scenario_markdown

        return scenario_markdown(result)
    return markdown_document(content if content is not None else collect(result))


def html_report(result, content: ReportContent | None = None) -> str:
    """Compose the self-contained ``report.html`` from a run's result."""
    return html_document(content if content is not None else collect(result))
