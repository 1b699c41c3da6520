"""Config validation: every mistake names the file and the key."""

import pytest

from uncertain_cost.config import load_config, parse_config
from uncertain_cost.errors import ConfigError


def _write(tmp_path, text):
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_config_loads(tmp_path):
    cfg = parse_config({})
    assert cfg.run.draws == 100_000 and cfg.run.finetunes == "drop"
    assert cfg.inputs["tpu_price"].scope == "per_chip"
    assert cfg.inputs["depreciation_rate"].distribution.central == 0.14


@pytest.mark.parametrize(
    "text, key, words",
    [
        ("[run]\ndraws = 0\n", "run.draws", ">= 1"),
        ("[run]\ndraws = 'many'\n", "run.draws", "integer"),
        ("[run]\nsede = 1\n", "run.sede", "valid keys: draws, seed"),
        ("[run]\nreference_month = '2023-13'\n", "run.reference_month", "YYYY-MM"),
        ("[run]\nfinetunes = 'keep'\n", "run.finetunes", "'drop', 'add_base'"),
        ("[runs]\n", "runs", "valid sections"),
        ("[inputs.gpu_prize]\nci90 = [1, 2]\n", "inputs.gpu_prize", "valid inputs: depreciation_rate"),
        ("[inputs.gpu_price]\nci90 = [2, 1]\n", "inputs.gpu_price.ci90", "low < high"),
        ("[inputs.gpu_price]\nci90 = []\n", "inputs.gpu_price.ci90", "two numbers"),
        ("[inputs.gpu_price]\nscope = 'global'\n", "inputs.gpu_price.scope", "shared, per_chip, per_model"),
        ("[inputs.utilization]\ndist = 'normal'\nci90 = [0.1, 0.6]\n", "inputs.utilization", "negative"),
        ("[inputs.pue_other]\ndist='lognormal'\nci90 = [-1, 2]\n", "inputs.pue_other.ci90", "positive"),
        ("[data]\nepoch_dir = 'nowhere'\n", "data.epoch_dir", "folder not found"),
        ("run = 3\n", "run", "table"),
        ("[run\n", "config", "invalid TOML"),
    ],
)
def test_errors_name_file_and_key(tmp_path, text, key, words):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == key
    assert words in info.value.message
    assert str(path) in str(info.value)


def test_missing_file():
    with pytest.raises(ConfigError, match="file not found"):
        load_config("/no/such/config.toml")


def test_scope_only_override_keeps_default_distribution(tmp_path):
    cfg = load_config(_write(tmp_path, "[inputs.tpu_price]\nscope = 'shared'\n"))
    spec = cfg.inputs["tpu_price"]
    assert spec.scope == "shared"
    assert spec.distribution.quantile(0.95) == pytest.approx(4.0)


def test_distribution_override_replaces_whole(tmp_path):
    cfg = load_config(_write(tmp_path, "[inputs.depreciation_rate]\ndist = 'uniform'\nlow = 0.1\nhigh = 0.2\n"))
    spec = cfg.inputs["depreciation_rate"]
    assert spec.scope == "shared"
    assert spec.distribution.central == pytest.approx(0.15)


def test_command_line_overrides_and_hash(tmp_path):
    path = _write(tmp_path, "[run]\ndraws = 10\n")
    cfg = load_config(path, {"run.draws": 20, "run.seed": 5})
    assert cfg.run.draws == 20 and cfg.run.seed == 5
    assert len(cfg.sha256) == 64
    assert load_config(path).sha256 == cfg.sha256


def test_every_dotted_key_an_error_names_is_a_key_a_config_can_set():
    """Scan src/ for ``ConfigError("<section>.<key>...`` literals: the section and key must be declared."""
    import re
    from pathlib import Path

    import uncertain_cost
    from uncertain_cost.config import SECTIONS
    from uncertain_cost.config.schema import stage_parsers
    from uncertain_cost.config.sections import DATA, EXECUTION, REPORT, RUN
    from uncertain_cost.data.selection import SELECTION
    from uncertain_cost.growth.settings import FORECAST, GROWTH
    from uncertain_cost.sensitivity.settings import SENSITIVITY

    stage_parsers()
    declared = {s.name: set(s.names) for s in (RUN, DATA, REPORT, EXECUTION, SELECTION, GROWTH, FORECAST,
                                                SENSITIVITY)}
    declared["correlations"] = {"pairs"}
    src = Path(uncertain_cost.__file__).parent
    pattern = re.compile(r"ConfigError\(\s*f?\"([A-Za-z_]+)\.([A-Za-z_]*)")
    seen = []
    for path in src.rglob("*.py"):
        for section, key in pattern.findall(path.read_text(encoding="utf-8")):
            seen.append((path.name, section, key))
            assert section in SECTIONS, (path.name, section, key)
            if key and section in declared:
                assert key in declared[section], (path.name, section, key)
    assert len(seen) > 15  # the scan finds the errors it checks


def test_an_override_of_an_unknown_section_is_refused():
    with pytest.raises(ConfigError) as info:
        parse_config({}, overrides={"rnu.draws": 10})
    assert info.value.key == "rnu" and "valid sections: run" in info.value.message


def test_the_config_layer_imports_no_domain_package():
    """config/ sits below data, sampling, growth, sensitivity and devcost: they register with it."""
    import ast
    import subprocess
    import sys
    from pathlib import Path

    import uncertain_cost.config

    domain = ("data", "sampling", "growth", "sensitivity", "devcost", "engine", "runner", "pipeline")
    for path in Path(uncertain_cost.config.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                parts = name.split(".")
                assert not (parts[0] == "uncertain_cost" and len(parts) > 1 and parts[1] in domain), (path.name, name)
    code = ("import sys, uncertain_cost.config, uncertain_cost.config.scenarios, uncertain_cost.config.arguments; "
            "print(sorted(m for m in sys.modules if m.split('.')[1:2] and m.split('.')[0] == 'uncertain_cost'))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for package in domain:
        assert f"'uncertain_cost.{package}" not in loaded, loaded


def test_declaring_the_section_owners_keeps_import_light():
    """``import uncertain_cost`` names the section owners but imports neither them nor numpy."""
    import subprocess
    import sys

    code = "import sys, uncertain_cost; print('numpy' in sys.modules, 'uncertain_cost.growth' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
