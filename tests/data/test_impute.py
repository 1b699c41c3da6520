"""Missing hardware as a distribution over candidate chips (off by default)."""

import numpy as np
import pytest

from uncertain_cost.config import parse_config
from uncertain_cost.data import load_embedded_tables, resolve_facts
from uncertain_cost.data.facts import alternative_groups
from uncertain_cost.data.impute import HardwareImputation, resolve_with_imputation
from uncertain_cost.data.selection import select_frontier
from uncertain_cost.engine import point_costs, simulate
from uncertain_cost.errors import ConfigError


@pytest.fixture(scope="module")
def imputed():
    tables = load_embedded_tables()
    selection = select_frontier(tables)
    facts, _ = resolve_facts(tables, selection)
    out, notes = resolve_with_imputation(tables, selection, facts, HardwareImputation(True, 1.0))
    return facts, out, notes


def test_off_by_default_changes_nothing():
    tables = load_embedded_tables()
    selection = select_frontier(tables)
    facts, _ = resolve_facts(tables, selection)
    same, notes = resolve_with_imputation(tables, selection, facts, HardwareImputation())
    assert same is facts and notes == []


def test_every_frontier_model_gets_an_amortized_cost(imputed, default_inputs):
    before, after, notes = imputed
    assert int(after.is_frontier.sum()) == int(before.is_frontier.sum()) == 60
    point = point_costs(after, default_inputs).total("amortized")[0]
    assert int(np.isfinite(point[after.is_frontier]).sum()) == 60
    assert len(notes) == 19
    chinchilla = next(n for n in notes if n.startswith("Chinchilla"))
    assert "Google TPU v4 50%" in chinchilla and "Google TPU v3 50%" in chinchilla
    for _, rows, cumulative in alternative_groups(after):
        assert cumulative[-1] == pytest.approx(1.0)
        assert not after.is_frontier[rows].any()


def test_draws_pick_candidates_with_their_weights(imputed, default_inputs):
    _, facts, _ = imputed
    model, rows, cumulative = next(g for g in alternative_groups(facts) if facts.names[g[0]] == "Chinchilla")
    sim = simulate(facts, default_inputs, 20_000, seed=3)
    total = sim.totals["amortized"]
    own = total[:, model]
    candidates = total[:, rows]
    matches = np.isclose(own[:, None], candidates, rtol=1e-12)
    assert matches.any(axis=1).all()  # every draw is the cost of one candidate in that draw
    frequency = matches.argmax(axis=1)
    shares = np.bincount(frequency, minlength=len(rows)) / len(own)
    np.testing.assert_allclose(shares, np.diff(cumulative, prepend=0.0), atol=0.015)
    again = simulate(facts, default_inputs, 20_000, seed=3, chunk_blocks=1)
    np.testing.assert_array_equal(again.totals["amortized"], total)


def test_config_keys_validated():
    with pytest.raises(ConfigError, match="data.impute_window_years"):
        parse_config({"data": {"impute_window_years": 0}})
    assert parse_config({"data": {"impute_hardware": True}}).data.impute_hardware


# ----------------------------------------------------------------------------------------
# Epoch's rule: the most common non-TPU hardware of the publication year (issue 12)
# ----------------------------------------------------------------------------------------
def _mini_with_unknown_hardware():
    from dataclasses import replace
    from datetime import date

    from uncertain_cost.data import ModelRecord, read_epoch_snapshot

    from epoch_paths import FIXTURES

    tables, _ = read_epoch_snapshot(FIXTURES / "epoch-mini-2025")
    extra = (
        ModelRecord("NoHw", date(2021, 10, 1), training_compute_flop=1e21, notability="SOTA improvement",
                    hardware_quantity=512, training_time_hours=100, source="x.csv:1"),
        ModelRecord("Multi", date(2021, 9, 1), training_compute_flop=2e21, notability="SOTA improvement",
                    hardware=("Google TPU v3", "NVIDIA A100 SXM4 40 GB"), hardware_quantity=512,
                    training_time_hours=100, source="x.csv:2"),
    )
    return replace(tables, models=tables.models + extra)


def test_most_common_hardware_by_year_skips_tpus_and_counts_all_notable_models():
    from uncertain_cost.data import HardwareMatcher
    from uncertain_cost.data.impute import most_common_hardware_by_year

    tables = _mini_with_unknown_hardware()
    by_year = most_common_hardware_by_year(tables, HardwareMatcher(tables.chips))
    # 2020: only Alpha (TPU v3) -> none; 2021: Beta (A100), Gamma (unmatched), Delta (TPU);
    # 2022: Zeta (H100; Eta has no notability criteria)
    assert by_year == {2021: "NVIDIA A100 SXM4 40 GB", 2022: "NVIDIA H100 SXM5 80GB"}


@pytest.mark.parametrize("multi", [True, False])
def test_most_common_of_year_imputation(multi, default_inputs):
    tables = _mini_with_unknown_hardware()
    selection = select_frontier(tables)
    facts, _ = resolve_facts(tables, selection)
    settings = HardwareImputation.from_config(
        {"impute_hardware": "most_common_of_year", "impute_multi_hardware": multi})
    out, notes = resolve_with_imputation(tables, selection, facts, settings)
    assert "NoHw: hardware imputed as NVIDIA A100 SXM4 40 GB 100%" in notes
    assert any(n.startswith("Multi:") for n in notes) is multi
    point = point_costs(out, default_inputs).total("amortized")[0]
    assert np.isfinite(point[out.names.index("NoHw")])
    assert bool(np.isfinite(point[out.names.index("Multi")])) is multi


def test_imputation_settings_from_config():
    assert HardwareImputation.from_config({}) == HardwareImputation()
    assert HardwareImputation.from_config({"impute_hardware": True}).mode == "frontier_window"
    s = HardwareImputation.from_config({"impute_hardware": "most_common_of_year", "impute_multi_hardware": False})
    assert s.enabled and s.mode == "most_common_of_year" and not s.multi_hardware
    assert not HardwareImputation.from_config({"impute_hardware": "off"}).enabled
    for section, key in (({"impute_hardware": "sometimes"}, "data.impute_hardware"),
                         ({"impute_multi_hardware": "no"}, "data.impute_multi_hardware"),
                         ({"impute_window_years": float("nan")}, "data.impute_window_years")):
        with pytest.raises(ConfigError) as exc:
            HardwareImputation.from_config(section, "c.toml")
        assert exc.value.key == key
    with pytest.raises(ConfigError, match="data.impute_hardware"):
        parse_config({"data": {"impute_hardware": "sometimes"}})
    with pytest.raises(ConfigError, match="data.impute_multi_hardware"):
        parse_config({"data": {"impute_multi_hardware": 1}})
    cfg = parse_config({"data": {"impute_hardware": "most_common_of_year", "impute_multi_hardware": False}})
    assert cfg.data.impute_hardware == "most_common_of_year" and cfg.data.impute_multi_hardware is False


def test_tpu_price_source():
    from uncertain_cost.data.epoch import select_tpu_prices

    tables = load_embedded_tables()
    assert select_tpu_prices(tables, "snapshot") is tables
    paper = select_tpu_prices(tables, "paper")
    v4 = [p.purchase for p in paper.prices if p.hardware == "Google TPU v4" and p.purchase_kind == "tpu_equivalent"]
    assert v4[0] == 5167.0
    with pytest.raises(ValueError, match="tpu price source"):
        select_tpu_prices(tables, "cheapest")
    with pytest.raises(ConfigError, match="data.tpu_prices"):
        parse_config({"data": {"tpu_prices": "cheapest"}})


def test_most_common_of_year_leaves_unrecognised_hardware_alone():
    tables = _mini_with_unknown_hardware()
    selection = select_frontier(tables)
    facts, _ = resolve_facts(tables, selection)
    _, notes = resolve_with_imputation(tables, selection, facts,
                                       HardwareImputation.from_config({"impute_hardware": "most_common_of_year"}))
    assert not any(n.startswith("Gamma:") for n in notes)  # 'Foo Chip 9000' is named, not missing
    _, window_notes = resolve_with_imputation(tables, selection, facts, HardwareImputation(True, 1.0))
    assert any(n.startswith("Gamma:") for n in window_notes)  # the frontier-window rule does


def test_candidate_without_cloud_price_drops_out_of_cloud_only(default_inputs):
    tables = load_embedded_tables()
    selection = select_frontier(tables)
    facts, _ = resolve_facts(tables, selection)
    skipped = []
    out, _ = resolve_with_imputation(tables, selection, facts, HardwareImputation(True, 1.0), skipped)
    i = out.names.index("Libratus")
    rows = np.flatnonzero(out.alternative_of == i)
    no_cloud = ~np.isfinite(out.cloud_price_per_chip_hour[rows])
    assert no_cloud.any() and not no_cloud.all()
    # hardware weights untouched; cloud weights renormalised over candidates with a price
    assert out.alternative_weight[rows].sum() == pytest.approx(1.0)
    assert np.all(out.alternative_weight_cloud[rows][no_cloud] == 0)
    assert out.alternative_weight_cloud[rows].sum() == pytest.approx(1.0)
    notes = [s for s in skipped if s.model == "Libratus"]
    assert len(notes) == int(no_cloud.sum())
    assert all(s.reason.startswith("cloud: imputed candidate") and s.row > 0 for s in notes)
    sim = simulate(out, default_inputs, 4_000, seed=5)
    for name in ("Libratus", "NASv3 (CIFAR-10)", "OpenAI TI7 DOTA 1v1"):
        j = out.names.index(name)
        assert np.isfinite(sim.totals["cloud"][:, j]).all(), name
        assert np.isfinite(sim.point.total("cloud")[0][j]), name
    # a model whose candidates all have cloud prices takes the same candidate in both methods
    for _, group_rows, _ in alternative_groups(out):
        if np.isfinite(out.cloud_price_per_chip_hour[group_rows]).all():
            np.testing.assert_array_equal(out.alternative_weight_cloud[group_rows],
                                          out.alternative_weight[group_rows])


# ----------------------------------------------------------------------------------------
# [data] impute = "all" (issue 22): organisation candidates, quantities per draw, labels
# ----------------------------------------------------------------------------------------
def _org_tables():
    from dataclasses import replace
    from datetime import date

    from uncertain_cost.data import ModelRecord, read_epoch_snapshot

    from epoch_paths import FIXTURES

    tables, _ = read_epoch_snapshot(FIXTURES / "epoch-mini-2024")
    extra = (
        ModelRecord("Acme-1", date(2021, 1, 1), "Acme", 1e22, ("NVIDIA A100 SXM4 40 GB",)),
        ModelRecord("Acme-2", date(2021, 6, 1), "Acme,Uni", 1e22, ("NVIDIA A100 SXM4 40 GB",)),
        ModelRecord("Acme-3", date(2021, 7, 1), "Acme", 1e22, ("NVIDIA H100 SXM5 80GB",)),
        ModelRecord("Acme-old", date(2018, 1, 1), "Acme", 1e22, ("NVIDIA H100 SXM5 80GB",)),
        ModelRecord("Acme-new", date(2022, 6, 1), "Acme", 1e23),
        ModelRecord("Solo", date(2022, 6, 1), "Solo Lab", 1e24),
        ModelRecord("DeepMind-x", date(2022, 6, 1), "Google DeepMind", 1e24),
    )
    return replace(tables, models=tables.models + extra)


def test_organization_candidates_weights_and_fallbacks():
    from uncertain_cost.data import HardwareMatcher
    from uncertain_cost.data.impute import organization_candidates

    tables = _org_tables()
    matcher = HardwareMatcher(tables.chips)
    # own organisation, two years back (Acme-old is out of the window): A100 2 of 3, H100 1 of 3
    weights, basis = organization_candidates(tables.model("Acme-new"), tables, matcher)
    assert weights == pytest.approx({"NVIDIA A100 SXM4 40 GB": 2 / 3, "NVIDIA H100 SXM5": 1 / 3})
    assert basis == "organization (3 runs)"
    # no run of its own: frontier-scale peers (>= 1/10 of its compute); TPUs only for Google
    weights, basis = organization_candidates(tables.model("Solo"), tables, matcher)
    assert weights == {"NVIDIA H100 SXM5": 1.0} and basis == "peers (1 runs)"
    weights, basis = organization_candidates(tables.model("DeepMind-x"), tables, matcher)
    assert "Google TPU v3" in weights and basis.startswith("organization")  # Alpha, Delta: Google


def test_quantity_from_chip_hours_per_draw():
    from uncertain_cost.costs import costs_numba, costs_numpy, fact_arrays
    from uncertain_cost.data.facts import QUANTITY_FROM_CHIP_HOURS
    from uncertain_cost.data.impute import impute_quantities
    from uncertain_cost.defaults import load_input_defaults
    from uncertain_cost.inputs import parse_inputs
    from uncertain_cost.sampling.design import constant_rows, layout

    from factories import TPU_MODEL, make_facts

    inputs = parse_inputs(load_input_defaults())
    facts = make_facts(TPU_MODEL)
    assert np.isnan(point_costs(facts, inputs).acquisition[0, 0])
    imputed = impute_quantities(facts, 793.5)
    assert imputed.hardware_quantity[0] == QUANTITY_FROM_CHIP_HOURS and imputed.training_time_hours[0] == 793.5
    point = point_costs(imputed, inputs)
    chip_hours = 3e23 / (123e12 * 0.375) / 3600
    expected = chip_hours / 793.5 * 5276.0 * 1.64 / (1 - 0.19) * 1.05
    assert point.acquisition[0, 0] == pytest.approx(expected, rel=1e-9)
    assert point.amortized[0, 0].sum() == pytest.approx(point_costs(facts, inputs).amortized[0, 0].sum())
    # per draw: quantity = that draw's chip-hours / that draw's training time; numpy == numba
    lay = layout(inputs, imputed)
    rng = np.random.default_rng(0)
    values = constant_rows(lay, n_rows=50) * rng.uniform(0.5, 2.0, size=(50, lay.n_columns))
    a = costs_numpy(values, lay.column, fact_arrays(imputed))
    b = costs_numba(values, lay.column, fact_arrays(imputed))
    np.testing.assert_allclose(a[2], b[2], rtol=1e-12)
    assert np.isfinite(a[2]).all() and np.ptp(a[2]) > 0


def test_impute_all_config_key_and_utilization_input():
    from uncertain_cost.data.utilization import load_prior
    from uncertain_cost.distributions import Beta

    with pytest.raises(ConfigError, match="data.impute"):
        parse_config({"data": {"impute": "some"}})
    assert parse_config({}).data.impute == "paper"
    config = parse_config({"data": {"impute": "all"}})
    dist = config.inputs["utilization"].distribution
    assert isinstance(dist, Beta) and dist.alpha == load_prior()["predictive"]["alpha"]
    assert config.inputs["utilization"].scope == "per_model"
    assert not isinstance(parse_config({}).inputs["utilization"].distribution, Beta)
    own = parse_config({"data": {"impute": "all"}, "inputs": {"utilization": {"dist": "uniform", "low": 0.2,
                                                                              "high": 0.5}}})
    assert not isinstance(own.inputs["utilization"].distribution, Beta)  # the user's own choice stays


def test_impute_all_costs_every_frontier_model_and_labels_them():
    from uncertain_cost.data.load import load_facts

    config = parse_config({"data": {"impute": "all"}})
    facts, skipped, _ = load_facts(config)
    point = point_costs(facts, config.inputs)
    frontier = np.asarray(facts.is_frontier)
    assert frontier.sum() == 60
    assert np.isfinite(point.total("amortized")[0][frontier]).sum() == 60
    labels = facts.extra["imputed"]
    assert labels["Claude 2"] == "hardware; chip-hours; quantity; training time"
    assert labels["PaLM 2"] == "chip-hours; quantity; training time"
    assert labels["GPT-4"] == ""
    assert np.isfinite(point.acquisition[0][facts.names.index("PaLM 2")])
    assert not [s for s in skipped if s.model == "PaLM 2"]
    # the paper's mode: no label, PaLM 2 without an acquisition cost
    paper, _, _ = load_facts(parse_config({}))
    assert "imputed" not in paper.extra
    assert np.isfinite(point_costs(paper, config.inputs).total("amortized")[0][paper.is_frontier]).sum() == 41


def test_impute_all_reports_inconsistent_disclosures_of_costed_models():
    from uncertain_cost.data.load import load_facts

    _, skipped, _ = load_facts(parse_config({"data": {"impute": "all"}, "run": {"finetunes": "add_base"}}))
    found = {s.model: s for s in skipped if s.reason.startswith("inconsistent disclosure")}
    assert set(found) == {"Minerva (540B)", "Flan-PaLM 540B", "U-PaLM (540B)"}  # compute includes PaLM
    assert "implied utilization 133 outside [0.05, 1]" in found["Flan-PaLM 540B"].reason
    assert found["Flan-PaLM 540B"].row == 3225
    _, paper, _ = load_facts(parse_config({"run": {"finetunes": "add_base"}}))
    assert not [s for s in paper if s.reason.startswith("inconsistent disclosure")]  # paper mode unchanged
