"""The run report: one content object read from a run, rendered as Markdown and as self-contained HTML.

Modules: ``content`` (what the report says, read from a RunResult once), ``markdown`` and
``html`` (renderers), ``report`` (the entry points), ``scenarios`` (the side-by-side section of
a scenario run), ``figures`` (matplotlib figures of a run; below the pipeline, which draws
them). This package module imports none of them, so that importing ``reporting.figures``
from the pipeline loads no report code.
"""
