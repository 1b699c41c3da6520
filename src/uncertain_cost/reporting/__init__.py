"""The run report: one content object read from a run, rendered as Markdown and as self-contained HTML."""

from uncertain_cost.reporting.content import ReportContent, collect
from uncertain_cost.reporting.html import html_document
from uncertain_cost.reporting.markdown import markdown_document

__all__ = ["ReportContent", "collect", "html_document", "markdown_document"]
