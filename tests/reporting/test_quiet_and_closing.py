"""A clean terminal: warnings during a run become notes or vanish; the run's closing lines answer the questions."""

from __future__ import annotations

import logging
import os
import warnings

from matplotlib.figure import Figure

from report_fixtures import make_artifacts
from uncertain_cost.errors import UncertainCostWarning
from uncertain_cost.quiet import quiet_run
from uncertain_cost.reporting.figures import figure_png
from uncertain_cost.reporting.overview import closing_lines, skipped_by_reason


def test_package_warnings_become_notes_and_library_noise_vanishes(capsys):
    with quiet_run() as noted:
        with warnings.catch_warnings():
            warnings.simplefilter("default", UncertainCostWarning)  # not the suite's "error"
            warnings.warn("no compute components for 'OPT-175B'", UncertainCostWarning, stacklevel=1)
            warnings.warn("no compute components for 'OPT-175B'", UncertainCostWarning, stacklevel=1)
        warnings.warn("arviz.from_x is deprecated", FutureWarning, stacklevel=1)
        warnings.warn("overflow in exp", RuntimeWarning, stacklevel=1)
        fig = Figure()
        fig.subplots().set_title("ERNIE 3.0 Titan 文心")  # CJK glyphs missing from DejaVu Sans
        figure_png(fig)
        assert logging.getLogger("distributed").level == logging.CRITICAL
        assert os.environ["DASK_LOGGING__DISTRIBUTED"] == "critical"
    assert noted.package == ["no compute components for 'OPT-175B'"]
    assert noted.library == ["RuntimeWarning: overflow in exp"]
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
    assert "DASK_LOGGING__DISTRIBUTED" not in os.environ


def test_skipped_rows_summarised_by_reason():
    art = make_artifacts()
    reasons = ["amortized: no training hardware", "cloud: no training hardware", "cloud: no cloud price",
               "fine-tune of 'PaLM (540B)' dropped (v2 rules)", "fine-tune of 'OPT-175B' dropped (v2 rules)"]
    art.tables["skipped.csv"] = ([{"file": "x.csv", "row": i, "model": f"M{i}", "reason": r}
                                  for i, r in enumerate(reasons)], ())
    line = skipped_by_reason(art.result(png=False))
    assert line == ("5 rows skipped (no training hardware 2, fine-tune of … dropped 2, no cloud price 1; "
                    "see skipped.csv)")


def test_closing_lines_answer_the_questions():
    lines = closing_lines(make_artifacts().result(png=False), "out/report.html")
    assert lines == [
        "costliest: Model 5 (2022) amortized $267M (median $243M, 90% interval $81M – $729M)",
        "growth: 2.40x per year (2.00x – 2.90x, 90%), amortized, ols fit on 6 models",
        "P(costliest run of 2024 > $1B): 0%",
        "report: out/report.html",
    ]
