"""The run report as Markdown and HTML text: thin entry points over :mod:`uncertain_cost.reporting`."""

from __future__ import annotations

from uncertain_cost.reporting import collect, html_document, markdown_document

__all__ = ["markdown_report", "html_report"]


def markdown_report(art, config) -> str:
    """Compose ``report.md`` from a run's artifacts (see :func:`uncertain_cost.reporting.collect`)."""
    return markdown_document(collect(art, config))


def html_report(art, config) -> str:
    """Compose the self-contained ``report.html`` from a run's artifacts."""
    return html_document(collect(art, config))
