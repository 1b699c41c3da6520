"""A scenario's own provenance (its draws) is recorded, not only the base run's."""

import json

from uncertain_cost.config import load_config
from uncertain_cost.pipeline import run_config

CONFIG = """
[run]
draws = 1200
keep_draws = 200
seed = 5

[sensitivity]
enabled = false

[development]
models = []

[growth]
enabled = false

[report]
png = false
html = false
markdown = false

[scenarios.baseline]

[scenarios.fewer.run]
draws = 700

[scenarios.later_dollars.run]
reference_month = "2024-03"
"""


def test_per_scenario_draws_and_differing_provenance_in_provenance_json(tmp_path, no_png_rendering):
    path = tmp_path / "s.toml"
    path.write_text(CONFIG, encoding="utf-8")
    result = run_config(load_config(path))
    folder = result.write(tmp_path / "out")
    prov = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    assert prov["scenarios"] == "baseline,fewer,later_dollars"
    assert prov["n_draws"] == 1200  # the reference (first) scenario's
    assert prov["n_draws_by_scenario"] == "1200,700,1200"
    assert prov["reference_month_by_scenario"] == "2023-12,2023-12,2024-03"
    assert "seed_by_scenario" not in prov  # the same for every scenario: recorded once
    summary = {(r["scenario"], r["n_draws"]) for r in result.records("summary")[0]}
    assert {("fewer", 700), ("baseline", 1200)} <= summary
