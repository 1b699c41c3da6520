"""Hostile inputs: each gives its exit code, one line on stderr naming the key, and writes nothing."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from uncertain_cost.cli import main

FAST = """
[run]
draws = 2000
keep_draws = 200
seed = 7
"""


def _cli(args: list[str], capsys) -> tuple[int, list[str]]:
    code = main(args)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    return code, lines


def _nothing_written(folder: Path, out: Path) -> None:
    assert not out.exists()
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith(f".{out.name}.")]
    assert leftovers == []


def _config(tmp_path: Path, text: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(FAST + text, encoding="utf-8")
    return path


def _expect(tmp_path, capsys, args, code, *words):
    out = tmp_path / "out"
    got, lines = _cli([*args, "--out", str(out), "--quiet"] if args[0] == "run" else args, capsys)
    assert got == code, lines
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    for word in words:
        assert word in lines[0], lines
    _nothing_written(tmp_path, out)
    return lines[0]


# --- --out safety -------------------------------------------------------------------------

def test_out_at_a_folder_of_user_files_is_refused(tmp_path, capsys):
    user = tmp_path / "mine"
    user.mkdir()
    (user / "thesis.tex").write_text("precious", encoding="utf-8")
    cfg = _config(tmp_path, "")
    code, lines = _cli(["run", str(cfg), "--out", str(user), "--quiet"], capsys)
    assert code == 2 and len(lines) == 1 and "not a run folder" in lines[0] and "--force" in lines[0]
    assert (user / "thesis.tex").read_text(encoding="utf-8") == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "mine"]


def test_out_at_a_git_clone_is_refused(tmp_path, capsys):
    clone = tmp_path / "repo"
    (clone / ".git").mkdir(parents=True)
    (clone / "README.md").write_text("x", encoding="utf-8")
    code, lines = _cli(["run", str(_config(tmp_path, "")), "--out", str(clone), "--quiet"], capsys)
    assert code == 2 and len(lines) == 1 and "git repository" in lines[0]
    assert (clone / ".git").is_dir() and (clone / "README.md").exists()


def test_out_at_an_existing_file_is_refused(tmp_path, capsys):
    target = tmp_path / "existing.txt"
    target.write_text("keep me", encoding="utf-8")
    code, lines = _cli(["run", str(_config(tmp_path, "")), "--out", str(target), "--quiet"], capsys)
    assert code == 2 and len(lines) == 1 and "is a file" in lines[0]
    assert target.read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "existing.txt"]


@pytest.mark.parametrize("where", ["/", "."])
def test_out_at_root_or_working_directory_is_refused_even_with_force(tmp_path, capsys, monkeypatch, where):
    monkeypatch.chdir(tmp_path)
    code, lines = _cli(["run", str(_config(tmp_path, "")), "--out", where, "--force", "--quiet"], capsys)
    assert code == 2 and len(lines) == 1 and "refusing" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_out_under_a_file_is_an_environment_error(tmp_path, capsys):
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    code, lines = _cli(["run", str(_config(tmp_path, "")), "--out", str(tmp_path / "afile" / "run"), "--quiet"],
                       capsys)
    assert code == 1 and len(lines) == 1 and "is a file" in lines[0]
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "x"


def test_check_destination_accepts_new_empty_and_run_folders(tmp_path):
    from uncertain_cost.errors import OutputError
    from uncertain_cost.writer import RUN_FOLDER_MARKER, check_destination, is_run_folder

    check_destination(tmp_path / "new" / "deeper")
    (tmp_path / "empty").mkdir()
    check_destination(tmp_path / "empty")
    run = tmp_path / "run"
    run.mkdir()
    (run / "provenance.json").write_text(f'{{"{RUN_FOLDER_MARKER}": 1}}', encoding="utf-8")
    assert is_run_folder(run)
    check_destination(run)
    (run / "provenance.json").write_text("[1, 2]", encoding="utf-8")
    assert not is_run_folder(run)
    with pytest.raises(OutputError, match="not a run folder"):
        check_destination(run)
    check_destination(run, force=True)


# --- config files -------------------------------------------------------------------------

def test_config_not_utf8(tmp_path, capsys):
    cfg = tmp_path / "latin1.toml"
    cfg.write_bytes(b"# caf\xe9\n[run]\ndraws = 10\n")
    line = _expect(tmp_path, capsys, ["run", str(cfg)], 2, str(cfg), "config", "not UTF-8", "line 1")
    assert "0xe9" in line


def test_config_with_bom(tmp_path, capsys):
    cfg = tmp_path / "bom.toml"
    cfg.write_bytes(b"\xef\xbb\xbf[run]\ndraws = 10\n")
    _expect(tmp_path, capsys, ["run", str(cfg)], 2, str(cfg), "byte-order mark")


def test_config_is_a_directory(tmp_path, capsys):
    folder = tmp_path / "cfgdir"
    folder.mkdir()
    _expect(tmp_path, capsys, ["validate", str(folder)], 2, str(folder), "is a folder")


# --- physical bounds of inputs -------------------------------------------------------------

@pytest.mark.parametrize(("table", "key", "word"), [
    ("[inputs.utilization]\ndist = \"constant\"\nvalue = 5\n", "inputs.utilization", "(0, 1]"),
    ("[inputs.power_fraction_gpu]\nci90 = [2.5, 3.0]\n", "inputs.power_fraction_gpu", "(0, 1.2]"),
    ("[inputs.pue_other]\nci90 = [0.4, 0.6]\n", "inputs.pue_other", "[1, inf)"),
    ("[inputs.hardware_quantity]\ndist = \"constant\"\nvalue = 0\n", "inputs.hardware_quantity", "(0, inf)"),
    ("[inputs.training_time]\ndist = \"constant\"\nvalue = nan\n", "inputs.training_time", "finite"),
    ("[inputs.cloud_price]\nci90 = [1.0, inf]\n", "inputs.cloud_price", "finite"),
])
def test_impossible_input_values(tmp_path, capsys, table, key, word):
    cfg = _config(tmp_path, table)
    _expect(tmp_path, capsys, ["run", str(cfg)], 2, str(cfg), key, word)


@pytest.mark.parametrize("weights", ["[nan, 1.0]", "[inf, 1.0]", "[-1.0, 2.0]"])
def test_mixture_weights_not_finite_or_negative(tmp_path, capsys, weights):
    cfg = _config(tmp_path, f"""
[inputs.cloud_price]
dist = "mixture"
components = [{{ci90 = [0.8, 1.2]}}, {{ci90 = [1.0, 1.5]}}]
weights = {weights}
""")
    _expect(tmp_path, capsys, ["run", str(cfg)], 2, "inputs.cloud_price.weights", "finite")


def test_mixture_weights_not_summing_to_one_are_noted():
    from uncertain_cost.distributions import from_spec
    from uncertain_cost.errors import UncertainCostWarning

    with pytest.warns(UncertainCostWarning, match=r"inputs.x.weights sum to 0.6, not 1"):
        mix = from_spec({"dist": "mixture", "components": [{"ci90": [1, 2]}, {"ci90": [3, 4]}],
                         "weights": [0.3, 0.3]}, "inputs.x")
    assert mix.weights == (0.5, 0.5)


def test_empirical_csv_not_a_string(tmp_path, capsys):
    cfg = _config(tmp_path, "[inputs.cloud_price]\ndist = \"empirical\"\ncsv = 5\ncolumn = \"x\"\n")
    _expect(tmp_path, capsys, ["run", str(cfg)], 2, str(cfg), "inputs.cloud_price.csv", "a string")


def test_empirical_csv_not_utf8(tmp_path, capsys):
    (tmp_path / "v.csv").write_bytes(b"x,label\n1.0,caf\xe9\n1.2,b\n")
    cfg = _config(tmp_path, "[inputs.cloud_price]\ndist = \"empirical\"\ncsv = \"v.csv\"\ncolumn = \"x\"\n")
    _expect(tmp_path, capsys, ["run", str(cfg)], 2, "inputs.cloud_price.csv", "v.csv line 2", "not UTF-8")


def test_empirical_csv_resolves_against_the_config_folder(tmp_path, monkeypatch):
    from uncertain_cost.config import load_config

    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "v.csv").write_text("x\n0.9\n1.0\n1.1\n", encoding="utf-8")
    cfg = _config(folder, "[inputs.cloud_price]\ndist = \"empirical\"\ncsv = \"v.csv\"\ncolumn = \"x\"\n")
    monkeypatch.chdir(tmp_path)  # not the config's folder
    config = load_config(cfg)
    assert config.inputs["cloud_price"].distribution.values == (0.9, 1.0, 1.1)


# --- draws, seeds ---------------------------------------------------------------------------

def test_draws_zero_is_blamed_on_the_flag(tmp_path, capsys):
    line = _expect(tmp_path, capsys, ["run", str(_config(tmp_path, "")), "--draws", "0"], 2, "--draws")
    assert "bad.toml" not in line


@pytest.mark.parametrize("draws", ["1e12", "100000000000000000000"])
def test_draws_beyond_memory_say_how_much_is_needed(tmp_path, capsys, draws):
    _expect(tmp_path, capsys, ["run", str(_config(tmp_path, "")), "--draws", draws], 2, "--draws", "of memory",
            "available")


def test_config_draws_beyond_memory_name_the_key_and_file(tmp_path, capsys):
    cfg = tmp_path / "huge.toml"
    cfg.write_text("[run]\ndraws = 1_000_000_000_000\n", encoding="utf-8")
    _expect(tmp_path, capsys, ["run", str(cfg)], 2, str(cfg), "run.draws", "of memory")


@pytest.mark.parametrize("seed", [str(10**30), "-1", str(2**63)])
def test_seed_out_of_range(tmp_path, capsys, seed):
    _expect(tmp_path, capsys, ["run", str(_config(tmp_path, "")), "--seed", seed], 2, "--seed", "2**63-1")


def test_config_seed_negative(tmp_path, capsys):
    cfg = tmp_path / "s.toml"
    cfg.write_text("[run]\nseed = -5\n", encoding="utf-8")
    _expect(tmp_path, capsys, ["run", str(cfg)], 2, str(cfg), "run.seed")


def test_memory_estimate_grows_with_draws_and_models():
    from uncertain_cost.engine import estimate_memory_bytes

    small = estimate_memory_bytes(10_000, 60)
    assert estimate_memory_bytes(20_000, 60) > small and estimate_memory_bytes(10_000, 120) > small
    assert estimate_memory_bytes(10**12, 1) > 2**40  # a terabyte at least
    with pytest.raises(ValueError):
        estimate_memory_bytes(-1, 1)


# --- estimate arguments ---------------------------------------------------------------------

@pytest.mark.parametrize(("flag", "value", "word"), [
    ("--days", "inf", "--days"),
    ("--days", "1e9", "--days"),
    ("--quantity", "inf", "--quantity"),
    ("--quantity", "-3", "--quantity"),
    ("--start", "9999-12-01", "past the data"),
    ("--start", "0001-01-01", "before the data"),
    ("--start", "1990-01-01", "before the data"),
])
def test_estimate_arguments(tmp_path, capsys, flag, value, word):
    args = {"--chip": "H100", "--quantity": "1000", "--days": "30", "--start": "2024-01-01", "--draws": "1000"}
    args[flag] = value
    argv = ["estimate", *[x for kv in args.items() for x in kv]]
    code, lines = _cli(argv, capsys)
    assert code == 2 and len(lines) == 1 and word in lines[0], lines
    assert capsys.readouterr().out == ""


# --- bounds on the model data ---------------------------------------------------------------

@pytest.mark.parametrize(("field", "value", "word"), [
    ("training_time_hours", 0.0, "training_time_hours = 0"),
    ("utilization", 2.5, "utilization = 2.5"),
    ("hardware_quantity", -8.0, "hardware_quantity = -8"),
    ("training_compute_flop", math.inf, "training_compute_flop = inf"),
])
def test_impossible_model_data_is_skipped_with_model_file_and_line(field, value, word):
    from dataclasses import replace

    from uncertain_cost.data.priors import load_embedded_tables
    from uncertain_cost.data.resolve import resolve_facts

    tables = load_embedded_tables()
    gpt4 = tables.model("GPT-4")
    bad = replace(gpt4, name="Broken model", source="models.csv:42", **{field: value})
    facts, skipped = resolve_facts(tables, [gpt4, bad], reference_month="2023-12")
    assert facts.names == ("GPT-4",)
    entry = next(s for s in skipped if s.model == "Broken model")
    assert (entry.file, entry.row) == ("models.csv", 42) and word in entry.reason
    assert date(2023, 1, 1) < gpt4.publication_date


def test_simulate_refuses_before_allocating_beyond_available_memory(monkeypatch, default_inputs):
    import uncertain_cost.engine as engine
    from uncertain_cost.errors import ResourceError

    from factories import GPT4, make_facts

    facts = make_facts(GPT4)
    need = engine.estimate_memory_bytes(50_000, 1, keep_draws=100, n_columns=1)  # below the true need
    monkeypatch.setattr(engine, "available_memory_bytes", lambda: need - 1)
    with pytest.raises(ResourceError, match=r"run.draws: 50,000 draws of 1 models need about .* of memory") as info:
        engine.simulate(facts, default_inputs, 50_000, 1, keep_draws=100)
    assert info.value.exit_code == 1
    monkeypatch.setattr(engine, "available_memory_bytes", lambda: None)  # unknown: no refusal
    assert engine.simulate(facts, default_inputs, 1000, 1, keep_draws=100).n_draws == 1000


# --- sections checked when the config is read, before any sampling (validate == run) ------

_STAGE_MISTAKES = [
    ("[growth]\ndraws = 50\n", "growth.draws"),
    ("[growth]\ntarget_accept = 0.3\n", "growth.target_accept"),
    ("[forecast]\nend_year = 1990\n", "forecast.end_year"),
    ("[sensitivity]\nmethods = []\n", "sensitivity.methods"),
    ("[development]\nenabled = 3\n", "development.enabled"),
    ("[selection]\nstart = \"2030-01-01\"\nend = \"2031-01-01\"\n", "selection"),
    ("[run]\nreference_month = \"1990-01\"\n", "run.reference_month"),
]


@pytest.mark.parametrize(("section", "key"), _STAGE_MISTAKES)
@pytest.mark.parametrize("command", ["validate", "run"])
def test_validate_rejects_what_run_rejects_before_any_sampling(tmp_path, capsys, monkeypatch, command, section,
                                                               key):
    import uncertain_cost.engine as engine  # the local backend calls engine.simulate when it samples

    def never(*args, **kwargs):
        raise AssertionError("sampling started although the config is bad")

    monkeypatch.setattr(engine, "simulate", never)
    path = tmp_path / "bad.toml"
    path.write_text(section.replace("[growth]\n", "[growth]\nbayes = true\n"), encoding="utf-8")
    line = _expect(tmp_path, capsys, [command, str(path)], 2, key)
    assert str(path) in line


def test_too_few_draws_for_the_growth_fit_name_run_draws(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("[run]\ndraws = 1\n", encoding="utf-8")
    _expect(tmp_path, capsys, ["validate", str(path)], 2, "run.draws", "at least 100")


@pytest.mark.parametrize(("flags", "flag"), [(["--draws", "1"], "--draws"), (["--workers", "0"], "--workers"),
                                             (["--epoch-dir", "/no/such/folder"], "--epoch-dir")])
def test_a_bad_value_from_a_flag_names_the_flag_not_the_file(tmp_path, capsys, flags, flag):
    cfg = _config(tmp_path, "")
    line = _expect(tmp_path, capsys, ["run", str(cfg), *flags], 2, flag)
    assert str(cfg) not in line and "run.draws" not in line


def test_config_that_is_not_a_regular_file(tmp_path, capsys):
    _expect(tmp_path, capsys, ["validate", "/dev/null"], 2, "not a regular file")
