"""``[data] rules``: the paper's choices or Epoch AI's mid-2025 pipeline's (issue 27)."""

from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from uncertain_cost.config import parse_config
from uncertain_cost.data import HardwareMatcher, ModelRecord, load_embedded_tables, resolve_facts
from uncertain_cost.data.impute import epoch_hardware_mode_by_year, most_common_hardware_by_year
from uncertain_cost.data.resolve import Resolver
from uncertain_cost.data.rules import RULE_SETS
from uncertain_cost.engine import point_costs
from uncertain_cost.errors import ConfigError


@pytest.fixture(scope="module")
def tables():
    return load_embedded_tables()


def _epoch(tables):
    return replace(tables, rules=tables.rules.with_rule_set("epoch_2025"))


def test_rule_sets_and_defaults(tables):
    assert (tables.rules.price_ties, tables.rules.cloud_chip_hours, tables.rules.impute_counting) == RULE_SETS["paper"]
    assert tables.rules.with_rule_set("paper") is tables.rules
    epoch = tables.rules.with_rule_set("epoch_2025")
    chosen = (epoch.price_ties, epoch.cloud_chip_hours, epoch.impute_counting)
    assert chosen == ("table_order", "quantity_time", "epoch")
    with pytest.raises(ValueError, match="unknown rule set"):
        tables.rules.with_rule_set("epoch_2026")


def test_config_key(tables):
    assert parse_config({}).data.rules == "paper"
    assert parse_config({"data": {"rules": "epoch_2025"}}).data.rules == "epoch_2025"
    with pytest.raises(ConfigError, match="data.rules"):
        parse_config({"data": {"rules": "epoch"}})


def test_same_date_price_tie(tables):
    v100 = tables.chip("NVIDIA V100")
    # the two 2017-07-01 DGX rows: DGX-1 $18,625 (first in the table), DGX Station $17,250
    assert Resolver(tables).purchase(v100).raw_price == 17250.0
    assert Resolver(_epoch(tables)).purchase(v100).raw_price == 18625.0
    # no other chip family has a same-date tie at its chosen row: prices are unchanged
    for chip in tables.chips:
        if "V100" in chip.name:
            continue
        a, b = Resolver(tables).purchase(chip), Resolver(_epoch(tables)).purchase(chip)
        assert a.raw_price == b.raw_price or (np.isnan(a.raw_price) and np.isnan(b.raw_price)), chip.name


def test_gpt3_acquisition_moves_by_the_price_ratio(tables, default_inputs):
    names = ["GPT-3 175B (davinci)"]
    paper, _ = resolve_facts(tables, names)
    epoch, _ = resolve_facts(_epoch(tables), names)
    a = point_costs(paper, default_inputs).total("acquisition")[0][0]
    b = point_costs(epoch, default_inputs).total("acquisition")[0][0]
    assert a / b == pytest.approx(17250 / 18625, rel=1e-12)


def test_cloud_billed_for_quantity_times_time(tables, default_inputs):
    base = tables.model("GPT-4")
    reported = replace(base, name="Reported", training_chip_hours=0.5 * base.hardware_quantity
                       * base.training_time_hours)
    no_time = replace(base, name="NoTime", training_time_hours=float("nan"))
    t = replace(tables, models=tables.models + (reported, no_time))
    names = ["GPT-4", "Reported", "NoTime"]
    paper, _ = resolve_facts(t, names)
    epoch, skipped = resolve_facts(_epoch(t), names)
    cp = point_costs(paper, default_inputs)
    ce = point_costs(epoch, default_inputs)
    i = {n: epoch.names.index(n) for n in names}
    # quantity x time known, nothing reported: the same cloud cost under both rule sets
    assert ce.total("cloud")[0][i["GPT-4"]] == cp.total("cloud")[0][i["GPT-4"]]
    # reported chip-hours half of quantity x time: the paper bills the reported ones,
    # Epoch's rule quantity x time; the amortized cost uses the reported ones under both
    assert ce.total("cloud")[0][i["Reported"]] == pytest.approx(2 * cp.total("cloud")[0][i["Reported"]], rel=1e-12)
    assert ce.total("amortized")[0][i["Reported"]] == cp.total("amortized")[0][i["Reported"]]
    assert "not the reported" in epoch.notes[i["Reported"]]
    # no training time: no cloud cost, with the reason in the skip report
    assert np.isfinite(cp.total("cloud")[0][i["NoTime"]]) and np.isnan(ce.total("cloud")[0][i["NoTime"]])
    assert any(s.model == "NoTime" and s.reason.startswith("cloud: no hardware quantity x training time")
               for s in skipped)


def _counting_tables(tables):
    def row(name, year, hardware, notability="SOTA improvement", compute=1e21):
        return ModelRecord(name, date(year, 6, 1), training_compute_flop=compute, notability=notability,
                           hardware=hardware, source=f"x.csv:{name}")

    models = (
        row("a", 2022, ("NVIDIA A100",)),
        row("b", 2022, ("NVIDIA A100",), notability=""),              # not notable: Epoch counts it
        row("c", 2022, ("NVIDIA A100", "NVIDIA V100"), compute=float("nan")),  # split, no compute
        row("d", 2022, ("NVIDIA A100 SXM4 80 GB",)),
        row("e", 2022, ("NVIDIA A100 SXM4 80 GB",)),
        row("f", 2022, ("NVIDIA A100 SXM4 80 GB", "Google TPU v4")),   # names a TPU: left out
        row("g", 2023, ("NVIDIA V100",)),
        row("h", 2023, ("NVIDIA P100",)),                               # tie: alphabetically first
    )
    return replace(tables, models=models)


def test_epoch_counting_of_the_year_mode(tables):
    t = _counting_tables(tables)
    matcher = HardwareMatcher(t.chips)
    assert epoch_hardware_mode_by_year(t, matcher) == {2022: matcher.match("NVIDIA A100"),
                                                       2023: matcher.match("NVIDIA P100")}
    # the project's own counting: notable rows with compute naming one recognised type
    paper = most_common_hardware_by_year(t, matcher)
    assert paper[2022] == matcher.match("NVIDIA A100 SXM4 80 GB") and paper[2023] == matcher.match("NVIDIA V100")
    # the rule set switches most_common_hardware_by_year to Epoch's counting
    assert most_common_hardware_by_year(_epoch(t), matcher) == epoch_hardware_mode_by_year(t, matcher)
