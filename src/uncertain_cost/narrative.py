"""The run report as Markdown and HTML text: thin entry points over :mod:`uncertain_cost.reporting`."""

from __future__ import annotations

from uncertain_cost.reporting import collect, html_document, markdown_document

__all__ = ["markdown_report", "html_report"]


def markdown_report(result) -> str:
    """Compose ``report.md`` from a run's result (see :func:`uncertain_cost.reporting.collect`)."""
    if "scenarios" in result.tree.attrs:  # several scenarios: side by side, then the first in detail
        from uncertain_cost.scenarios import scenario_markdown

        return scenario_markdown(result)
    return markdown_document(collect(result))


def html_report(result) -> str:
    """Compose the self-contained ``report.html`` from a run's result."""
    return html_document(collect(result))
