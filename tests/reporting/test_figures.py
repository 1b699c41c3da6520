"""Figures: small inputs do not crash, and no label overlaps another label or a threshold line."""

from __future__ import annotations

import itertools

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from uncertain_cost.reporting.figures import plot_cost_vs_year, plot_forecast


def _rows(n: int, close: bool = False) -> list[dict]:
    rows = []
    for i in range(n):
        year = 2020 + (0.05 * i if close else 0.7 * i)
        median = 1e7 * (1.02 ** i if close else 3.0 ** i)
        rows.append({"model": f"Model number {i} (long name)", "method": "amortized", "publication_year": year,
                     "point_usd": median, "median_usd": median, "p5_usd": median / 3, "p95_usd": median * 3})
    return rows


def _label_boxes(fig):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # places each annotation's text at its offset
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    return [Text.get_window_extent(t, renderer) for t in ax.texts]  # the text alone, not its leader line


@pytest.mark.parametrize("n", [1, 3, 4, 5, 12])
def test_cost_vs_year_any_number_of_models(n):
    fig = plot_cost_vs_year(_rows(n), "amortized", "2023-12")
    assert len(fig.axes[0].texts) == min(5, n)


def test_cost_vs_year_labels_do_not_overlap():
    fig = plot_cost_vs_year(_rows(12, close=True), "amortized", "2023-12")
    boxes = _label_boxes(fig)
    assert len(boxes) == 5
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)


def test_forecast_percentages_clear_of_threshold_lines():
    rows = []
    for i, year in enumerate(range(2024, 2031)):
        mid = 3e8 * 2.5 ** i
        rows.append({"method": "amortized", "year": year, "p5": mid / 5, "p25": mid / 2, "p50": mid,
                     "p75": mid * 2, "p95": mid * 5, "prob_gt_1e9": min(1.0, 0.1 * i), "prob_gt_1e10": 0.05 * i})
    fig = plot_forecast(rows, "amortized", "2023-12", [1e9, 1e10])
    renderer = FigureCanvasAgg(fig).get_renderer()
    ax = fig.axes[0]
    line_y = [ax.transData.transform((2024, t))[1] for t in (1e9, 1e10)]
    percent = [t for t in ax.texts if t.get_text().endswith("%")]
    assert len(percent) == 14
    for text in percent:
        box = text.get_window_extent(renderer)
        assert not any(box.y0 <= y <= box.y1 for y in line_y), text.get_text()
        patch = text.get_bbox_patch()
        assert patch is not None and patch.get_facecolor()[:3] == (1.0, 1.0, 1.0)


def test_cost_vs_year_labels_sit_right_of_the_data():
    """Labels in a column outside the axes: none covers a model's dot or bar (Inflection-2 over PaLM 2)."""
    rows = _rows(12, close=True)
    rows[-2]["publication_year"], rows[-1]["publication_year"] = 2023.36, 2023.89  # PaLM 2, Inflection-2
    fig = plot_cost_vs_year(rows, "amortized", "2023-12")
    boxes = _label_boxes(fig)
    right = fig.axes[0].get_window_extent().x1
    assert len(boxes) == 5 and all(box.x0 > right for box in boxes)


@pytest.mark.parametrize("above", [1.05, 1.4, 0.7])
def test_forecast_percentages_clear_of_the_median_markers(above):
    """A median just above (or below) a threshold: its percentage goes to the other side of the line."""
    rows = []
    for i, year in enumerate(range(2024, 2031)):
        mid = 1e10 * above * 3.0 ** (i - 5)  # 2029's median sits next to the $10B line
        rows.append({"method": "amortized", "year": year, "p5": mid / 5, "p25": mid / 2, "p50": mid,
                     "p75": mid * 2, "p95": mid * 5, "prob_gt_1e9": min(1.0, 0.15 * i), "prob_gt_1e10": 0.1 * i})
    fig = plot_forecast(rows, "amortized", "2023-12", [1e9, 1e10])
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    radius = 6 / 2 * fig.dpi / 72  # the median marker: markersize 6 pt
    for text in (t for t in ax.texts if t.get_text().endswith("%")):
        box = text.get_window_extent(renderer)
        for r in rows:
            mx, my = ax.transData.transform((r["year"], r["p50"]))
            clear = (box.x1 < mx - radius or box.x0 > mx + radius or box.y1 < my - radius or box.y0 > my + radius)
            assert clear, (text.get_text(), r["year"])
