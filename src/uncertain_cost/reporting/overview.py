"""A run in a few lines: the headline facts read from its tables (for ``repr``, notebooks and the CLI's last lines).

Reads only the small tables (``summary``, ``growth``, ``forecast``, ``skipped``), never renders a
figure, so it is cheap enough for ``repr(result)``.
"""

from __future__ import annotations

import html
import math
import re
from collections import Counter

from uncertain_cost.money import format_usd

__all__ = ["costliest", "headline_growth_row", "next_year_threshold", "skipped_by_reason", "overview_lines",
           "overview_html", "closing_lines"]


def _rows(result, name: str) -> list[dict]:
    """Rows of a table; with scenarios, those of the first scenario (the others are in the report)."""
    rows = result.records(name)[0] if result.has_table(name) else []
    if rows and "scenario" in rows[0]:
        first = rows[0]["scenario"]
        rows = [r for r in rows if r["scenario"] == first]
    return rows


def _scenario(result) -> str:
    """`` (scenario NAME)`` for a run with scenarios, else ""."""
    rows = result.records("summary")[0] if result.has_table("summary") else []
    return f" (scenario {rows[0]['scenario']})" if rows and "scenario" in rows[0] else ""


def _truthy(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes")


def costliest(result) -> dict | None:
    """Return the summary row of the costliest model by amortized point estimate (None without one)."""
    rows = [r for r in _rows(result, "summary") if r["method"] == "amortized"
            and math.isfinite(float(r["point_usd"]))]
    return max(rows, key=lambda r: float(r["point_usd"])) if rows else None


def headline_growth_row(result) -> dict | None:
    """Pick the ``growth.csv`` row the report leads with (its ``headline`` flag, else amortized Bayes, else OLS)."""
    rows = _rows(result, "growth")
    flagged = [r for r in rows if r["method"] == "amortized" and _truthy(r.get("headline", ""))]
    if flagged:
        return flagged[0]
    for estimator in ("bayes", "ols"):
        match = [r for r in rows if r["method"] == "amortized" and r["estimator"] == estimator]
        if match:
            return match[0]
    return None


def next_year_threshold(result, threshold: float = 1e9) -> tuple[int, float] | None:
    """(year, probability) that the first forecast year's costliest run passes ``threshold`` (amortized)."""
    key = next((k for k in (_rows(result, "forecast")[:1] or [{}])[0]
                if k.startswith("prob_gt_") and math.isclose(float(k[8:]), threshold)), None)
    rows = [r for r in _rows(result, "forecast") if r["method"] == "amortized"]
    if key is None or not rows:
        return None
    first = min(rows, key=lambda r: int(r["year"]))
    return int(first["year"]), float(first[key])


def _reason(text: str) -> str:
    text = re.sub(r"^\w+: ", "", str(text))  # "cloud: no cloud price" -> "no cloud price"
    text = re.sub(r"'[^']*'", "…", text)
    return re.sub(r"\s*\([^)]*\)", "", text).strip()


def skipped_by_reason(result, top: int = 4) -> str:
    """One line: how many rows were skipped, by reason ("" when none)."""
    rows = _rows(result, "skipped")
    if not rows:
        return ""
    counts = Counter(_reason(r.get("reason", "")) for r in rows).most_common()
    shown = ", ".join(f"{reason} {n}" for reason, n in counts[:top])
    rest = sum(n for _, n in counts[top:])
    return (f"{len(rows)} rows skipped{_scenario(result)} ({shown}{f', other {rest}' if rest else ''}; "
            "see skipped.csv)")


def _facts(result) -> list[str]:
    level = None
    lines = []
    top = costliest(result)
    if top is not None:
        level = float(top.get("level", 0.9))
        lines.append(f"costliest: {top['model']} ({float(top['publication_year']):.0f}) amortized "
                     f"{format_usd(float(top['point_usd']))} (median {format_usd(float(top['median_usd']))}, "
                     f"{level:.0%} interval {format_usd(float(top['p5_usd' if 'p5_usd' in top else 'lo_usd']))} – "
                     f"{format_usd(float(top['p95_usd' if 'p95_usd' in top else 'hi_usd']))})")
    growth = headline_growth_row(result)
    if growth is not None:
        lines.append(f"growth: {float(growth['growth_per_year']):.2f}x per year ({float(growth['lo']):.2f}x – "
                     f"{float(growth['hi']):.2f}x, {float(growth['level']):.0%}), amortized, {growth['estimator']} "
                     f"fit on {growth['n_models']} models")
    chance = next_year_threshold(result)
    if chance is not None:
        lines.append(f"P(costliest run of {chance[0]} > $1B): {chance[1]:.0%}")
    if lines:
        lines[0] += _scenario(result)
    return lines


def overview_lines(result) -> list[str]:
    """At most 15 lines: what was costed, the headline cost and growth, where the tables are.

    Parameters
    ----------
    result : uncertain_cost.result.RunResult

    Returns
    -------
    list of str
    """
    prov = result.provenance
    summary = _rows(result, "summary")
    counts = Counter(r["method"] for r in summary)
    order = [m for m in ("amortized", "cloud", "acquisition") if m in counts] + sorted(
        m for m in counts if m not in ("amortized", "cloud", "acquisition"))
    models = len({r["model"] for r in summary})
    first = (f"RunResult: {models} models costed ("
             + ", ".join(f"{m} {counts[m]}" for m in order) + f"), {int(prov.get('n_draws', 0)):,} draws, "
             f"seed {prov.get('seed', '?')}, USD of {prov.get('reference_month', '?')}")
    lines = [first] + [f"  {line}" for line in _facts(result)]
    names = result.table_names()
    lines.append(f"  tables ({len(names)}): " + _wrap(", ".join(names), 90) + "  -> .table(name), .summary()")
    groups = [g for g in result.tree.children if g not in ("tables", "figure_data")]
    lines.append(f"  groups: {', '.join(groups) or 'none'}  -> .tree, .group(path)")
    lines.append(f"  {len(result.figures)} figures, {len(result.notes)} notes  -> .figures, .notes")
    lines.append("  .write(folder) writes the run folder; .report(html=True) the report")
    return lines[:15]


def _wrap(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rsplit(", ", 1)[0] + ", …"


def overview_html(result) -> str:
    """Render the overview as a small HTML block for notebooks (``_repr_html_``)."""
    lines = overview_lines(result)
    items = "".join(f"<li>{html.escape(line.strip())}</li>" for line in lines[1:])
    return (f'<div class="uncertain-cost-result"><strong>{html.escape(lines[0])}</strong>'
            f'<ul style="margin:.2em 0">{items}</ul></div>')


def closing_lines(result, report_path) -> list[str]:
    """Say in 3-5 lines what a run found, for stdout: costliest model, growth, P(> $1B) next year, the report.

    Parameters
    ----------
    result : uncertain_cost.result.RunResult
    report_path : str or pathlib.Path or None
        Where ``report.html`` was written (omitted when None).

    Returns
    -------
    list of str
    """
    lines = _facts(result)
    skipped = skipped_by_reason(result)
    if skipped:
        lines.append(skipped)
    if report_path is not None:
        lines.append(f"report: {report_path}")
    return lines
