"""Issue 26 items 2-3: no traceback from any config or API input, one validation path, bounded lines."""

from __future__ import annotations

import math
from datetime import date

import pytest

import uncertain_cost as uc
from uncertain_cost.cli import main
from uncertain_cost.config import arguments, load_config, parse_config
from uncertain_cost.errors import ConfigError, UncertainCostError

#: longest error line any of these inputs may produce
MAX_LINE = 1200


def _cli(argv, capsys) -> tuple[int, list[str]]:
    code = main(argv)
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert "Traceback" not in captured.err
    return code, lines


def _one_error_line(argv, capsys, *words) -> str:
    code, lines = _cli(argv, capsys)
    assert code == 2, lines
    assert len(lines) == 1 and lines[0].startswith("error: "), [line[:200] for line in lines]
    assert len(lines[0]) < MAX_LINE, len(lines[0])
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# --- configs: depth, size, scheduler ------------------------------------------------------------

@pytest.mark.parametrize("value", ["{a = " * 3000 + "1" + "}" * 3000, "[" * 3000 + "]" * 3000])
def test_toml_nested_3000_levels_is_one_line(tmp_path, capsys, value):
    path = tmp_path / "deep.toml"
    path.write_text(f"[run]\nx = {value}\n", encoding="utf-8")
    _one_error_line(["validate", str(path)], capsys, str(path), "config", "nested too deeply")


def test_nesting_deeper_than_the_limit_but_parseable_is_refused(tmp_path, capsys):
    path = tmp_path / "deep.toml"  # 100 levels: tomllib reads it; the config refuses it by its depth
    path.write_text("[inputs.gpu_price]\ndist = 'mixture'\ncomponents = " + "[" * 100 + "]" * 100 + "\n",
                    encoding="utf-8")
    _one_error_line(["validate", str(path)], capsys, "config", "more than 64 levels")


def test_deep_mapping_through_the_api_is_one_error():
    doc: dict = {}
    node = doc
    for _ in range(3000):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(ConfigError, match="nested more than 64 levels"):
        parse_config({"run": doc})
    with pytest.raises(ConfigError, match="nested more than 64 levels"):
        uc.run({"run": doc})


@pytest.mark.parametrize("address", ["not a url::", "tcp://", "tcp://host:99999", "http://x:1", 42])
def test_bad_scheduler_address_is_one_line(tmp_path, capsys, address):
    path = tmp_path / "s.toml"
    value = f'"{address}"' if isinstance(address, str) else address
    path.write_text(f'[execution]\nbackend = "dask"\nscheduler = {value}\n', encoding="utf-8")
    _one_error_line(["validate", str(path)], capsys, "execution.scheduler")


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "localhost:8786", "tls://[::1]:8786", "sched-1"])
def test_good_scheduler_addresses_pass(address):
    cfg = parse_config({"execution": {"backend": "dask", "scheduler": address}})
    assert cfg.section("execution")["scheduler"] == address


@pytest.mark.parametrize("where", ["value", "key", "section"])
def test_a_10_mb_string_gives_a_bounded_line_stating_its_length(tmp_path, capsys, where):
    big = "a" * 10_000_000
    text = {"value": f'[run]\nfinetunes = "{big}"\n', "key": f'[run]\n"{big}" = 1\n',
            "section": f'["{big}"]\nx = 1\n'}[where]
    path = tmp_path / "big.toml"
    path.write_text(text, encoding="utf-8")
    line = _one_error_line(["validate", str(path)], capsys, "(10,000,000 characters)")
    assert "aaaa…" in line


def test_long_values_in_every_kind_of_section_are_bounded():
    big = "x" * 100_000
    for doc in ({"selection": {"method": big}}, {"growth": {"sampler": big}}, {"sensitivity": {"tornado": big}},
                {"data": {"tpu_prices": big}}, {"report": {"html": big}}, {"inputs": {big: {}}},
                {"inputs": {"gpu_price": {big: 1}}},
                {"inputs": {"gpu_price": {"dist": big}}}, {"development": {"models": [big]}},
                {"correlations": {"pairs": [[big, "gpu_price", 0.5]]}}, {"scenarios": {big: {}}},
                {"inputs": {"gpu_price": {"dist": "empirical", "csv": big, "column": "x"}}},
                {"development": {"GPT-4": {"roles": {"core": {"count": big}}}}}):
        with pytest.raises(ConfigError) as info:
            from uncertain_cost.config.scenarios import scenario_configs

            scenario_configs(parse_config(doc))
        assert len(str(info.value)) < MAX_LINE, (doc.keys(), len(str(info.value)))


# --- the API: the package's own errors, the CLI's bounds -----------------------------------------

_GOOD = {"chip": "H100", "quantity": 1000, "days": 30, "start": "2024-01-01", "draws": 1000}


@pytest.mark.parametrize(("change", "argument", "words"), [
    ({"days": math.inf}, "days", "(0, 3653]"),
    ({"days": 1e9}, "days", "(0, 3653]"),
    ({"days": -1}, "days", "(0, 3653]"),
    ({"start": "1850-01-01"}, "start", "before the data"),
    ({"start": "9999-01-01"}, "start", "past the data"),
    ({"start": 3}, "start", "YYYY-MM-DD"),
    ({"quantity": 1e300}, "quantity", "10,000,000"),
    ({"quantity": "many"}, "quantity", "'many'"),
    ({"quantity": 0.5}, "quantity", "whole number"),
    ({"quantity": math.nan}, "quantity", "whole number"),
    ({"draws": 0}, "draws", "from 1"),
    ({"seed": -1}, "seed", ">= 0"),
    ({"chip": 5}, "chip", "a name"),
    ({"reference_month": "soon"}, "reference_month", "YYYY-MM"),
    ({"reference_month": "1990-01"}, "reference_month", "PPI deflator"),
    ({"config": 42}, "config", "a config file path"),
])
def test_estimate_arguments_raise_the_packages_one_line_errors(change, argument, words):
    with pytest.raises(ConfigError) as info:
        uc.estimate(**{**_GOOD, **change})
    assert info.value.key == argument
    assert words in str(info.value) and "\n" not in str(info.value)


def test_estimate_accepts_a_whole_float_quantity_as_the_cli_does():
    a = uc.estimate(**{**_GOOD, "quantity": 1e3})
    b = uc.estimate(**_GOOD)
    assert a.rows == b.rows


@pytest.mark.parametrize(("given", "argument"), [
    ({"config": 42}, "config"), ({"draws": 0}, "draws"), ({"seed": 2**63}, "seed"), ({"workers": 0}, "workers"),
    ({"backend": "ray"}, "backend"), ({"epoch_dir": 3}, "epoch_dir"), ({"quiet": "yes"}, "quiet"),
])
def test_run_arguments_raise_the_packages_errors(given, argument):
    config = given.pop("config", None)
    with pytest.raises(UncertainCostError) as info:
        uc.run(config, **given)
    assert info.value.key == argument


def test_load_config_refuses_what_is_not_a_path():
    for value in (42, None, ["c.toml"], "", "a\0b"):
        with pytest.raises(ConfigError) as info:
            uc.load_config(value)
        assert info.value.key == "config"


@pytest.mark.parametrize(("value", "words"), [("1e300", "10,000,000"), ("0.5", "whole number"),
                                              ("many", "'many'"), ("0", "from 1")])
def test_cli_estimate_quantity_has_the_apis_bounds(capsys, value, words):
    argv = ["estimate", "--chip", "H100", "--quantity", value, "--days", "30", "--start", "2024-01-01",
            "--draws", "1000"]
    _one_error_line(argv, capsys, "--quantity", words)
    assert capsys.readouterr().out == ""


def test_cli_and_api_share_the_checkers():
    for text, value in (("1e5", 100_000), ("2_000", 2000)):
        assert arguments.quantity(arguments.from_text(text)) == value
    with pytest.raises(arguments.Invalid):
        arguments.days(arguments.MAX_ESTIMATE_DAYS + 1)
    assert arguments.start("2024-02-29") == date(2024, 2, 29)


# --- smaller items -------------------------------------------------------------------------------

def test_unknown_sensitivity_target_names_the_key_and_the_closest(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text('[sensitivity]\nmodels = ["GPT4"]\n', encoding="utf-8")
    line = _one_error_line(["validate", str(path)], capsys, "sensitivity.models", "'GPT4'", "'GPT-4'")
    assert str(path) in line


def test_include_of_no_such_model_names_the_key_and_the_closest(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text('[selection]\ninclude = ["No such model"]\n', encoding="utf-8")
    _one_error_line(["validate", str(path)], capsys, "selection.include", "'No such model'", "not a model")
    path.write_text('[selection]\ninclude = ["Gemini 1.0 Ultr"]\n', encoding="utf-8")
    _one_error_line(["validate", str(path)], capsys, "selection.include", "closest: 'Gemini 1.0 Ultra'")


def test_one_draw_is_refused_before_sampling_naming_run_draws(tmp_path, capsys, monkeypatch):
    import uncertain_cost.engine as engine

    def never(*args, **kwargs):
        raise AssertionError("sampling started although the config is bad")

    monkeypatch.setattr(engine, "simulate", never)
    path = tmp_path / "d.toml"
    path.write_text("[run]\ndraws = 1\n[growth]\nbayes = false\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == "run.draws" and "at least 2" in info.value.message
    _one_error_line(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"], capsys, "run.draws")
    assert not (tmp_path / "out").exists()
    path.write_text("[run]\ndraws = 1000\nkeep_draws = 1\n[growth]\nbayes = false\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="run.keep_draws"):
        load_config(path)
    off = parse_config({"run": {"draws": 1}, "growth": {"enabled": False}})  # no growth fit: one draw is fine
    assert off.run.draws == 1


def test_errors_name_only_keys_a_config_can_set():
    from uncertain_cost.growth.bayes import GrowthPriors

    with pytest.raises(ConfigError) as info:
        GrowthPriors(slope_sd=0.0)
    assert str(info.value).startswith("GrowthPriors: slope_sd: ")


@pytest.mark.parametrize("doc", [
    {"inputs": {"depreciation_rate": {"dist": []}}},  # found by the Hypothesis suite (was a TypeError)
    {"inputs": {"depreciation_rate": {"dist": "lognormal", 3: 1}}},
    {"run": {"\n": 1}},  # found by the Hypothesis suite (was a two-line error)
])
def test_documents_the_property_suite_found(doc):
    with pytest.raises(ConfigError) as info:
        parse_config(doc)
    assert "\n" not in str(info.value)
