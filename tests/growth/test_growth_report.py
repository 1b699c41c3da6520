"""The report shows the forecast's assumptions (runs per year, tails) and the backtest table."""

from report_fixtures import make_artifacts
from uncertain_cost.reporting import collect, html_document, markdown_document


def _run():
    art = make_artifacts()
    sens = []
    for fit in ("joint", "single"):
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
    rows.append({"method": "amortized", "estimator": "bayes_single", "n_models": 6, "growth_per_year": 2.6,
                 "lo": 2.1, "hi": 3.2, "level": 0.9, "doubling_months": 8.7, "headline": True,
                 "r_hat_max": 1.002, "ess_bulk_min": 3000.0, "divergences": 0})
    for r in rows:
        for key, value in (("headline", False), ("r_hat_max", None), ("ess_bulk_min", None), ("divergences", None)):
            r.setdefault(key, value)
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


def test_without_the_tables_nothing_is_shown():
    content = collect(make_artifacts().result())
    assert content.assumptions_text == "" and content.backtest_text == ""
    md = markdown_document(content)
    assert "Forecast assumptions" not in md and "Backtest" not in md
