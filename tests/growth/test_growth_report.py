"""The report shows the forecast's assumptions (runs per year, tails), the backtest, why the headline
differs from the paper and how robust it is."""

from report_fixtures import make_artifacts
from uncertain_cost.reporting.content import collect
from uncertain_cost.reporting.html import html_document
from uncertain_cost.reporting.markdown import markdown_document


def _run():
    art = make_artifacts()
    sens = []
    for fit in ("other", "single"):
        for i, k in enumerate((4, 7, 12, "poisson")):
            for j, nu in enumerate((3.0, 30.0, "posterior")):
                sens.append({"fit": fit, "method": "amortized", "year": 2027, "models_per_year": k, "nu": nu,
                             "prob_gt_1e9": round(0.4 + 0.1 * i - 0.05 * j + (0.01 if fit == "single" else 0), 4),
                             "p50": 1e9, "p95": 2e10 / (1 + j)})
    art.tables["forecast_sensitivity.csv"] = (sens, ())
    bt = []
    for model, shift in (("constant", 0.0), ("scatter_trend", 0.3), ("ols_normal", -0.5)):
        for origin in (2019, 2020, 2021):
            for h in (1, 2):
                bt.append({"method": "amortized", "model": model, "origin": origin, "horizon": h, "year": origin + h,
                           "n_fitted": 15, "models_in_year": 5, "realised_max_usd": 2e7,
                           "predictive_p5_usd": 2e5, "predictive_p50_usd": 3e6, "predictive_p95_usd": 5e7,
                           "pit": 0.5 if h == 1 else 0.99, "log_score": -1.0 + shift - 0.1 * h,
                           "crps": 0.4 - shift / 2, "fit": "exact", "pareto_k": float("nan")})
    art.tables["growth_backtest.csv"] = (bt, ())
    rows = art.tables["growth.csv"][0]
    rows.append({"method": "amortized", "estimator": "bayes", "n_models": 6, "growth_per_year": 2.6,
                 "lo": 2.1, "hi": 3.2, "level": 0.9, "doubling_months": 8.7, "headline": True,
                 "r_hat_max": 1.002, "ess_bulk_min": 3000.0, "divergences": 0})
    for r in rows:
        for key, value in (("headline", False), ("r_hat_max", None), ("ess_bulk_min", None), ("divergences", None)):
            r.setdefault(key, value)
    art.tables["growth_vs_paper.csv"] = ([
        {"method": "amortized", "step": k + 1, "estimator": name, "description": f"step {name}", "n_models": 6,
         "slope_oom_per_year": 0.4, "growth_per_year": g, "doubling_months": 9.0, "scatter_dex": None,
         "change_vs_previous": None if k == 0 else g / prev}
        for k, (name, g, prev) in enumerate((("ols_points", 2.41, None), ("ols_mc_median", 2.41, 2.41),
                                             ("gls_diagonal", 2.51, 2.41), ("bayes", 2.60, 2.51)))], ())
    art.tables["growth_robustness.csv"] = ([
        {"method": "amortized", "check": check, "label": label, "n_models": n, "growth_per_year": g, "lo": g - 0.4,
         "hi": g + 0.5, "change_vs_headline": g / 2.6, "psis_growth_per_year": None, "pareto_k": k,
         "exact_refit": False, "gls_growth_per_year": g, "refit_draws": None}
        for check, label, n, g, k in (("headline", "all models", 6, 2.6, None),
                                      ("leave_one_out", "DeepSpeech2 (English)", 5, 2.37, 0.47),
                                      ("start_year", "from 2018", 4, 2.94, None))], ())
    return art.result()


def test_assumptions_and_backtest_in_both_reports():
    content = collect(_run())
    assert content.headline_fit == "single"
    # the single fit's cells: Poisson + posterior nu 0.61; fixed 4/7/12: 0.31, 0.41, 0.51; nu 3 / 30: 0.71 / 0.66
    text = content.assumptions_text
    assert "single fit, amortized, 2027" in text and "is 0.61 with the Poisson runs-per-year model" in text
    assert "4: 0.31, 7: 0.41, 12: 0.51" in text and "nu = 3: 0.71, at nu = 30: 0.66" in text
    assert "moves it over 0.30, the tails over 0.05" in text
    # scatter_trend has the best mean log score; against OLS-normal at h >= 2: +0.80 log score, -0.40 CRPS
    assert "amortized: scatter_trend (beats OLS-normal at horizons >= 2 over 3 origin-horizon pairs: log score " \
           "+0.80, CRPS -0.40 dex)" in content.backtest_text
    assert "6 of 12 realised maxima fall inside" in content.backtest_text
    md = markdown_document(content)
    assert "### Forecast assumptions" in md and "| Poisson trend (forecast) | 0.71, " in md
    assert "### Backtest: forecasts of years already observed" in md
    assert "| scatter_trend | 2 | 3 | -0.90 | 0.25 | 0.00 |" in md
    page = html_document(content)
    assert "<h3>Forecast assumptions</h3>" in page and "Backtest: forecasts of years already observed" in page
    assert page.index("Forecast assumptions") > page.index('id="forecast"')


def test_headline_decomposition_and_robustness_in_both_reports():
    content = collect(_run())
    md = markdown_document(content)
    assert "### Why the headline differs from the paper" in md
    assert "From the paper's OLS (2.41x per year) to the headline (2.60x)" in md
    assert "the largest step is gls_diagonal (x1.041)" in md  # 2.51 / 2.41
    assert "| 3 | gls_diagonal | step gls_diagonal | 2.51x | x1.041 |" in md
    assert "### Robustness of the headline" in md and "without DeepSpeech2 (English) 2.37x; from 2018 2.94x." in md
    assert "| leave_one_out | DeepSpeech2 (English) | 5 | 2.37x (1.97-2.87) | x0.912 | 0.47 | 2.37 |" in md
    page = html_document(content)
    assert "<h3>Why the headline differs from the paper</h3>" in page and "<h3>Robustness of the headline</h3>" in page


def test_without_the_tables_nothing_is_shown():
    content = collect(make_artifacts().result())
    assert content.assumptions_text == "" and content.backtest_text == ""
    md = markdown_document(content)
    assert "Forecast assumptions" not in md and "Backtest" not in md
    assert "Why the headline differs" not in md and "Robustness of the headline" not in md
