"""A small synthetic run (no Monte Carlo) for the report tests: every table the report reads, as a RunResult."""

from __future__ import annotations

from uncertain_cost.config import parse_config
from uncertain_cost.reporting.figures import plot_forecast
from uncertain_cost.result import RunResult, StepOutput, build_result
from uncertain_cost.results import Provenance

METHODS = ("amortized", "cloud", "acquisition")


def make_config(png: bool = True):
    """A parsed config with ``[report] png`` as given."""
    return parse_config({"run": {"draws": 1000, "seed": 3}, "report": {"png": png},
                         "sensitivity": {"models": ["Model 5"]}})


class FakeRun:
    """Tables (by CSV file name), figures and notes of a made-up run; :meth:`result` builds the RunResult."""

    def __init__(self, provenance: Provenance):
        self.provenance = provenance
        self.tables: dict = {}
        self.figures: dict = {}
        self.notes: list = []

    def result(self, png: bool = True) -> RunResult:
        """The RunResult a run with these tables would give."""
        out = StepOutput(figures=dict(self.figures), notes=list(self.notes))
        for name, (rows, columns) in self.tables.items():
            out.add_table(name.removesuffix(".csv"), rows, tuple(columns) or tuple(rows[0]))
        return build_result(self.provenance.attrs(), [out], make_config(png))


def make_artifacts(n_models: int = 6, forecast: bool = True) -> FakeRun:
    """Artifacts of a made-up run: ``n_models`` models x 3 methods, growth, forecast, tornado."""
    prov = Provenance(seed=3, config_sha256="ab" * 32, config_path="x.toml", reference_month="2023-12",
                      data_snapshot="embedded", n_draws=1000)
    art = FakeRun(prov)
    rows = []
    for k, method in enumerate(METHODS):
        for i in range(n_models):
            median = 1e6 * 3.0 ** i * (1 + k)
            rows.append({"model": f"Model {i}", "method": method, "publication_year": 2018 + 0.9 * i,
                         "chip": "NVIDIA A100", "point_usd": median * 1.1, "median_usd": median,
                         "p5_usd": median / 3, "p95_usd": median * 3, "level": 0.9})
    art.tables["summary.csv"] = (rows, tuple(rows[0]))
    art.tables["growth.csv"] = ([
        {"method": m, "estimator": "ols", "n_models": n_models, "growth_per_year": 2.4, "lo": 2.0, "hi": 2.9,
         "level": 0.9, "doubling_months": 9.5} for m in METHODS], ())
    if forecast:
        fc = []
        for m in METHODS:
            for j, year in enumerate(range(2024, 2028)):
                mid = 3e8 * 3 ** j
                fc.append({"method": m, "year": year, "p5": mid / 5, "p25": mid / 2, "p50": mid, "p75": mid * 2,
                           "p95": mid * 5, "prob_gt_1e9": min(1.0, 0.25 * j), "prob_gt_1e10": 0.1 * j})
        art.tables["forecast.csv"] = (fc, tuple(fc[0]))
        art.figures["forecast.png"] = plot_forecast(fc, "amortized", "2023-12", [1e9, 1e10])
    art.tables["tornado.csv"] = ([{"target": "Model 5 amortized", "input": "hardware price", "output_low": 1e7,
                                   "output_high": 5e7, "units": "USD"}], ())
    return art
