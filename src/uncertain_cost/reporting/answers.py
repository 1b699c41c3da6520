"""The report's headline answers (cost, certainty, growth, thresholds) as sentences from a ReportContent."""

from __future__ import annotations

import math

from uncertain_cost.money import format_usd
from uncertain_cost.reporting.content import ReportContent

__all__ = ["headline_answers", "headline_growth", "forecast_method", "pct"]


def pct(level: float) -> str:
    """0.9 -> "90%"."""
    return f"{level:.0%}"


def _truthy(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes")


def headline_growth(content: ReportContent) -> dict | None:
    """Pick the growth row the report leads with.

    The row flagged ``headline`` in ``growth.csv`` when that column exists; otherwise the
    amortized hierarchical Bayesian fit, else the amortized OLS (the paper's estimator).
    """
    rows = content.growth
    flagged = [r for r in rows if _truthy(r.get("headline", ""))]
    if flagged:
        return flagged[0]
    for estimator in ("bayes", "ols"):
        for r in rows:
            if r.get("method") == "amortized" and r.get("estimator") == estimator:
                return r
    return rows[0] if rows else None


def forecast_method(content: ReportContent) -> str:
    """Name the method of the forecast rows the headline quotes (the headline growth row's, else amortized)."""
    growth = headline_growth(content)
    methods = {r["method"] for r in content.forecast}
    if growth is not None and growth.get("method") in methods:
        return growth["method"]
    return "amortized" if "amortized" in methods or not methods else sorted(methods)[0]


def _threshold_answer(content: ReportContent, method: str, threshold: float) -> str:
    key = next((k for k in (content.forecast[0] if content.forecast else {})
                if k.startswith("prob_gt_") and math.isclose(float(k[8:]), threshold)), None)
    rows = [r for r in content.forecast if r["method"] == method]
    if key is None or not rows:
        return f"{format_usd(threshold)}: not forecast in this run."
    observed = [r for r in content.realised if r["method"] == method and r["point"] > threshold]
    first = next((int(r["year"]) for r in rows if float(r[key]) >= 0.5), None)
    probs = ", ".join(f"{float(r[key]):.0%} in {int(r['year'])}" for r in rows)
    text = f"A run above {format_usd(threshold)}: probability {probs}"
    if observed:
        text += f" (already passed in {observed[0]['year']} by {observed[0]['model']}, point estimate)"
    elif first is not None:
        text += f"; more likely than not from {first}"
    else:
        text += f"; not more likely than not by {int(rows[-1]['year'])}"
    return text + "."


def headline_answers(content: ReportContent) -> list[tuple[str, str]]:
    """Question -> answer pairs for the first screen of the report.

    Returns
    -------
    list of (str, str)
        "What did they cost", "How sure", "How fast growing", "When $1B / $10B".
    """
    level, month = pct(content.level), content.reference_month
    amortized = [r for r in content.models if r["method"] == "amortized" and math.isfinite(r["point"])
                 and not r.get("scenario")]
    answers = []
    if amortized:
        top = max(amortized, key=lambda r: r["point"])
        latest = sorted(amortized, key=lambda r: -r["year"])[:3]
        answers.append(("What did the frontier models cost?", (
            f"The costliest final training run, {top['model']} ({top['year']:.0f}), cost "
            f"{format_usd(top['point'])} amortized (the paper's point estimate; median {format_usd(top['median'])}, "
            f"{level} interval {format_usd(top['lo'])} – {format_usd(top['hi'])}), USD of {month}. Latest: "
            + "; ".join(f"{r['model']} {format_usd(r['median'])}" for r in latest) + " (medians).")))
        ratios = sorted(r["hi"] / r["lo"] for r in amortized if r["lo"] > 0 and math.isfinite(r["hi"]))
        if ratios:
            mid = ratios[len(ratios) // 2]
            answers.append(("How sure are we?", (
                f"Within a factor of about {math.sqrt(mid):.1f} either way: the {level} interval of a typical model "
                f"spans a factor of {mid:.1f} from low to high end (range {ratios[0]:.1f} to {ratios[-1]:.1f} "
                f"across {len(ratios)} models, amortized).")))
    growth = headline_growth(content)
    if growth is not None:
        answers.append(("How fast is it growing?", (
            f"{float(growth['growth_per_year']):.2f}x per year ({float(growth['lo']):.2f}x – "
            f"{float(growth['hi']):.2f}x, {pct(float(growth['level']))} interval; cost doubles every "
            f"{float(growth['doubling_months']):.1f} months), {growth['method']} cost, "
            f"{growth['estimator']} fit on {growth['n_models']} models.")))
    if content.thresholds:
        method = forecast_method(content)
        parts = [_threshold_answer(content, method, t) for t in content.thresholds]
        answers.append((f"When does a run pass {' and '.join(format_usd(t) for t in content.thresholds)}?",
                        f"Most expensive {method} run of each year, USD of {month}: " + " ".join(parts)))
    elif content.growth:
        answers.append(("When does a run pass $1B and $10B?", "Not forecast in this run ([growth] forecast off)."))
    return answers
