"""The imputation benchmark: exact predictive quantiles, scores, and the 2024-06 done-when figures."""

import json
import math
import sys
from pathlib import Path

import pytest
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import imputation  # noqa: E402

from epoch_paths import snapshot  # noqa: E402


def test_mixture_of_one_part_is_scale_over_utilization():
    beta = imputation._Beta(stats.beta(5.0, 10.0))
    quantiles, pit = imputation._mixture([(1.0, 100.0)], beta, 300.0)
    for q, value in zip(imputation.QUANTILES, quantiles, strict=True):
        assert value == pytest.approx(100.0 / beta.ppf(1 - q), rel=1e-9)
    assert pit == pytest.approx(1 - beta.cdf(100.0 / 300.0), rel=1e-12)


def test_mixture_weights_two_chips():
    beta = imputation._Beta(stats.beta(5.0, 10.0))
    quantiles, pit = imputation._mixture([(0.5, 100.0), (0.5, 1000.0), (0.3, math.nan)], beta, 1000.0)
    # the median sits between the two parts' own medians; PIT is the weighted CDF
    assert 100 / beta.ppf(0.5) < quantiles[2] < 1000 / beta.ppf(0.5)
    expected = 0.5 * (1 - beta.cdf(0.1)) + 0.5 * (1 - beta.cdf(1.0))
    assert pit == pytest.approx(expected, rel=1e-12)


def test_score_counts_coverage_width_and_error():
    rows = []
    for truth, scale in ((1.0, 1.0), (10.0, 1.0), (1.0, 2.0)):
        row = {"disclosed_chip_hours": truth, "chip_hours_pit": 0.5}
        for q, f in zip((5, 25, 50, 75, 95), (0.5, 0.8, 1.0, 1.25, 2.0), strict=True):
            row[f"chip_hours_p{q}"] = f * scale
        rows.append(row)
    s = imputation.score(rows, "chip_hours")
    assert s["n"] == 3
    assert s["coverage_90"] == pytest.approx(2 / 3, abs=1e-4)  # 10 is outside [0.5, 2]
    assert s["coverage_50"] == pytest.approx(1 / 3, abs=1e-4)  # only the first: 1 in [0.8, 1.25]
    assert s["mean_width90_log10"] == pytest.approx(math.log10(4), abs=1e-4)
    assert s["median_abs_log10_error"] == pytest.approx(math.log10(2), abs=1e-4)


@pytest.mark.slow
def test_leave_one_out_on_2024_06_meets_the_issue(tmp_path, capsys):
    folder = snapshot("2024-06")
    csv_path = tmp_path / "imputation.csv"
    assert imputation.main(["--epoch-dir", str(folder), "--csv", str(csv_path)]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    ch = out["chip_hours"]
    assert ch["n"] >= 40 and 0.8 <= ch["coverage_90"] <= 0.97 and ch["mean_width90_log10"] < 0.7
    assert out["n_inconsistent"] == 13
    assert any(s.startswith("Flan-PaLM 540B: implied utilization 133") for s in out["inconsistent"])
    # sharper than the paper's prior on the same runs
    assert ch["mean_width90_log10"] < out["paper_prior"]["chip_hours"]["mean_width90_log10"]
    assert len(csv_path.read_text().splitlines()) == 1 + 3 * ch["n"]  # three variants per run
