"""The side-by-side section of a scenario run's report (Markdown), and that run's whole Markdown report.

A result of :func:`uncertain_cost.scenarios.combine` carries one ``scenario`` column in every
table; this module renders the comparison (headline costs, growth per year, P(> $1B)), then
the first scenario's detailed report (:func:`scenario_markdown`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from uncertain_cost.reporting.content import collect
from uncertain_cost.reporting.figures import plot_growth_intervals_from_rows
from uncertain_cost.reporting.markdown import markdown_document
from uncertain_cost.result import RunResult
from uncertain_cost.scenarios import GROWTH_FIGURE, SCENARIO, scenario_names, select, table_rows

__all__ = ["report_section", "scenario_markdown", "plot_growth_intervals"]


def _interval(row: Mapping[str, Any]) -> str:
    return f"{row['growth_per_year']:.2f}x ({row['lo']:.2f}–{row['hi']:.2f})"


def _headline_models(result: RunResult) -> tuple[str, ...]:
    from uncertain_cost.sensitivity.targets import SensitivitySettings

    config = result.config
    if config is None:
        return ()
    return SensitivitySettings.from_config(config.section("sensitivity"), config.source).models


def report_section(result: RunResult) -> str:
    """Render the side-by-side section of a scenario run's report (Markdown).

    Headline costs (amortized median and 90 % interval of the sensitivity models, or the
    most expensive models), growth per method and estimator with intervals, P(> $1B) by
    forecast year, and the growth-interval figure, one column per scenario.

    Parameters
    ----------
    result : RunResult
        From :func:`combine` (a plain result gives "").

    Returns
    -------
    str
    """
    from uncertain_cost.money import format_usd

    names = scenario_names(result)
    if not names:
        return ""
    parts = ["## Scenarios side by side", "",
             f"{len(names)} scenarios, every one with seed {result.provenance.get('seed')} (common random numbers: "
             "the same inputs draw the same numbers in every scenario, so differences are not Monte Carlo noise). "
             "Each column is one scenario; the detailed sections below are those of scenario "
             f"`{names[0]}`.", ""]
    summary = table_rows(result.tree, "summary")
    wanted = [m for m in _headline_models(result) if any(r["model"] == m for r in summary)]
    if not wanted:
        first = [r for r in summary if r[SCENARIO] == names[0] and r["method"] == "amortized"]
        wanted = [r["model"] for r in sorted(first, key=lambda r: -r["point_usd"])[:4]]
    if wanted:
        cells = {(r[SCENARIO], r["model"], r["method"]): r for r in summary}
        body = []
        for model in wanted:
            for method in ("amortized", "cloud", "acquisition"):
                if not any((n, model, method) in cells for n in names):
                    continue
                row = [model, method]
                for n in names:
                    r = cells.get((n, model, method))
                    row.append("—" if r is None else f"{format_usd(r['median_usd'])} "
                               f"({format_usd(r['p5_usd'])}–{format_usd(r['p95_usd'])})")
                body.append(row)
        parts += ["### Headline costs (median, 90% interval)", "", _table(("model", "method", *names), body), ""]
    growth = table_rows(result.tree, "growth")
    if growth:
        keys = list(dict.fromkeys((g["method"], g["estimator"]) for g in growth))
        cells = {(g[SCENARIO], g["method"], g["estimator"]): g for g in growth}
        level = growth[0]["level"]
        body = [[method, estimator, *["—" if (n, method, estimator) not in cells
                                      else _interval(cells[(n, method, estimator)]) for n in names]]
                for method, estimator in keys]
        parts += [f"### Growth per year ({level:.0%} intervals)", "", _table(("method", "estimator", *names), body),
                  ""]
    forecast = table_rows(result.tree, "forecast")
    if forecast and "prob_gt_1e9" in forecast[0]:
        amortized = [f for f in forecast if f.get("method") == "amortized"]
        years = sorted({int(f["year"]) for f in amortized})
        cells = {(f[SCENARIO], int(f["year"])): f for f in amortized}
        body = [[str(y), *["—" if (n, y) not in cells or cells[(n, y)]["prob_gt_1e9"] is None
                           else f"{cells[(n, y)]['prob_gt_1e9']:.0%}" for n in names]] for y in years]
        parts += ["### P(most expensive amortized run of the year > $1B)", "", _table(("year", *names), body), ""]
    if GROWTH_FIGURE in result.figures:
        parts += [f"![growth intervals by scenario]({GROWTH_FIGURE})", ""]
    return "\n".join(parts)


def plot_growth_intervals(result: RunResult):
    """Figure comparing the growth intervals of every scenario, one panel per method.

    Parameters
    ----------
    result : RunResult
        From :func:`combine`.

    Returns
    -------
    matplotlib.figure.Figure or None
        None when the run has no growth table.
    """
    return plot_growth_intervals_from_rows(table_rows(result.tree, "growth"), scenario_names(result))


def _table(header, rows) -> str:
    """Format rows as a Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def scenario_markdown(result: RunResult) -> str:
    """Compose a scenario run's report: the side-by-side section, then the first scenario's detailed report.

    Parameters
    ----------
    result : RunResult
        From :func:`combine`.

    Returns
    -------
    str
    """
    names = scenario_names(result)
    view = select(result, names[0])
    view = RunResult(tree=view.tree, notes=result.notes, figures=dict(result.figures), config=result.config)
    detail = markdown_document(collect(view))
    # the side-by-side section goes after the first section (the headline answers), before the details
    first = detail.find("\n## ")
    cut = detail.find("\n## ", first + 1) if first >= 0 else -1
    head, rest = (detail[:cut], detail[cut:]) if cut >= 0 else (detail, "")
    section = report_section(result)
    title = f"Scenarios: {', '.join(f'`{n}`' for n in names)}; the sections after this one are scenario `{names[0]}`'s."
    return head.rstrip("\n") + "\n\n" + title + "\n\n" + section + "\n" + rest
