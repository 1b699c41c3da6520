import csv
import errno
import io
import math
import shutil
import tomllib
from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from uncertain_cost.cli import main
from uncertain_cost.data import import_epoch, load_tables, read_epoch_snapshot
from uncertain_cost.data.epoch import parse_date, parse_number, read_models
from uncertain_cost.data.hardware_names import HardwareMatcher
from uncertain_cost.errors import DataError, OutputError, ResourceError

from epoch_paths import FIXTURES, snapshot


@pytest.mark.parametrize("text,expected", [
    ("1.5e+23", 1.5e23),
    ("3,000,000", 3e6),
    ("$24875.00", 24875.0),
    (" 12 ", 12.0),
    ("45%", 0.45),
])
def test_parse_number(text, expected):
    assert parse_number(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "abc", "n/a", ".", "inf", "nan"])
def test_parse_number_unusable_is_nan(text):
    assert math.isnan(parse_number(text))


def test_parse_date():
    assert parse_date("2023-03-15") == date(2023, 3, 15)
    assert parse_date("2023-03-15 00:00:00") == date(2023, 3, 15)
    assert parse_date("3/15/2023") == date(2023, 3, 15)
    assert parse_date("2023-02-30") is None
    assert parse_date("not a date") is None


@pytest.mark.parametrize("schema", ["epoch-mini-2024", "epoch-mini-2025"])
def test_mini_snapshot_both_schemas(schema):
    tables, report = read_epoch_snapshot(FIXTURES / schema)
    names = [m.name for m in tables.models]
    assert names == ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta"]
    beta = tables.model("Beta")
    assert beta.training_compute_flop == 3e21  # thousands separators
    assert beta.notability == "Highly cited,\nSOTA improvement"  # multi-line quoted field
    assert beta.organization == "OpenAI,Microsoft"
    alpha = tables.model("Alpha")
    assert alpha.utilization == 0.4 and alpha.hardware == ("Google TPU v3",)
    assert alpha.training_compute_flop == 1e23  # first of the duplicate rows kept
    assert tables.model("Delta").base_model == "Alpha"
    eps = tables.model("Epsilon")
    assert eps.publication_date is None and math.isnan(eps.training_compute_flop)

    reasons = {(s.file, s.model, s.reason) for s in report.skipped}
    mf = "All ML Systems - full view.csv"
    assert (mf, "Alpha", "duplicate model name, first row kept") in reasons
    assert (mf, "", "no model name") in reasons
    assert any(s.model == "Epsilon" and "publication date" in s.reason for s in report.skipped)
    assert any(s.model == "Epsilon" and "training_compute_flop" in s.reason for s in report.skipped)
    assert any(s.file == "Chip dataset-Grid view.csv" and "duplicate" in s.reason
               for s in report.skipped)
    assert sum(s.file == "Hardware prices.csv" for s in report.skipped) == 2
    assert any(s.file == "PCU518210518210.csv" for s in report.skipped)
    assert "Foo Chip 9000" in report.unmatched_hardware
    assert len(tables.ppi) == 8 and tables.ppi.value("2023-12") == 115.0
    # the purchase prices carry their kind
    kinds = {(p.hardware, p.purchase_kind) for p in tables.prices if not math.isnan(p.purchase)}
    assert ("NVIDIA A100 SXM4 40 GB", "bare_chip") in kinds
    assert ("NVIDIA A100 SXM4 40 GB", "server_per_chip") in kinds


def test_skip_entries_name_the_line():
    _, report = read_epoch_snapshot(FIXTURES / "epoch-mini-2024")
    dup = next(s for s in report.skipped if s.model == "Alpha")
    # header=1, Alpha=2, Beta=3-4 (multi-line), Gamma=5, blank=6, Alpha again=7
    assert dup.row == 7
    assert str(dup).startswith("All ML Systems - full view.csv:7 (Alpha)")


def test_missing_column_is_one_dataerror_naming_file_and_column(tmp_path):
    src = FIXTURES / "epoch-mini-2024"
    for f in src.iterdir():
        shutil.copy(f, tmp_path / f.name)
    p = tmp_path / "All ML Systems - full view.csv"
    p.write_text(p.read_text(encoding="utf-8-sig").replace("Publication date", "Published"),
                 encoding="utf-8")
    with pytest.raises(DataError, match=r"All ML Systems - full view\.csv.*'Publication date'"):
        read_epoch_snapshot(tmp_path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match="not a folder"):
        read_epoch_snapshot(tmp_path / "nope")
    with pytest.raises(DataError, match="All ML Systems"):
        read_epoch_snapshot(tmp_path)


def test_empty_and_garbage_files(tmp_path):
    src = FIXTURES / "epoch-mini-2024"
    for f in src.iterdir():
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "Hardware prices.csv").write_text("")
    with pytest.raises(DataError, match="Hardware prices.csv: empty file"):
        read_epoch_snapshot(tmp_path)
    (tmp_path / "Hardware prices.csv").write_bytes(b"\xff\xfe\x00garbage\n\x00\x01")
    with pytest.raises(DataError, match="Hardware prices.csv"):
        read_epoch_snapshot(tmp_path)


def test_import_epoch_round_trip(tmp_path):
    report = import_epoch(FIXTURES / "epoch-mini-2025", tmp_path / "out")
    written = {p.rsplit("/", 1)[-1] for p in report.written}
    assert {"chips.toml", "hardware_prices.toml", "ppi.toml", "models.toml",
            "constants.toml", "electricity.toml", "cloud_discounts.toml"} <= written
    tables, _ = read_epoch_snapshot(FIXTURES / "epoch-mini-2025")
    back = load_tables(tmp_path / "out")
    assert back.models == tables.models
    assert back.ppi.months == tables.ppi.months and back.ppi.values == tables.ppi.values
    assert {c.name for c in back.chips} == {c.name for c in tables.chips}
    assert len(back.prices) == len(tables.prices)
    assert dict(back.electricity) == dict(tables.electricity)
    assert replace(back.rules, source="") == replace(tables.rules, source="")


def test_hardware_name_matching():
    tables, _ = read_epoch_snapshot(FIXTURES / "epoch-mini-2024")
    m = HardwareMatcher(tables.chips)
    for name in ("NVIDIA H100 SXM5 80GB", "NVIDIA H100 SXM5", "H100", "nvidia h100 sxm5"):
        assert m.match(name) == "NVIDIA H100 SXM5", name
    assert m.match("A100") == "NVIDIA A100"  # a chip of its own in the curated table
    assert m.match("A100 40GB") == "NVIDIA A100 SXM4 40 GB"
    assert m.match("NVIDIA A100 SXM4 40GB") == "NVIDIA A100 SXM4 40 GB"
    assert m.match("TPU v3") == "Google TPU v3"
    assert m.match("Foo Chip 9000") is None
    assert m.unmatched(["H100", "Foo Chip 9000", ""]) == ["Foo Chip 9000"]


def test_real_2024_snapshot():
    tables, report = read_epoch_snapshot(snapshot("2024-06"))
    assert len(tables.models) == 1524
    assert len(tables.ppi) == 281 and tables.ppi.value("2023-12") > 0
    gpt4 = tables.model("GPT-4")
    assert gpt4.hardware == ("NVIDIA A100 SXM4 40 GB",)
    assert gpt4.hardware_quantity == 25000 and gpt4.training_time_hours == 2280
    assert gpt4.utilization == 0.34
    assert report.unmatched_hardware == ()
    models_skips = [s for s in report.skipped if s.file == "All ML Systems - full view.csv"]
    assert all(s.reason == "no model name" for s in models_skips)
    # the chip grid view has one damaged one-field row; it is reported, not read as a chip
    (bad,) = [s for s in report.skipped if "fields where the header has" in s.reason]
    assert bad.file == "Chip dataset-Grid view.csv" and bad.row == 4672
    # ... and its specifications, on the next line without a name, are reported too
    (nameless,) = [s for s in report.skipped if s.reason == "chip row without a hardware name"]
    assert nameless.row == 4673


def test_real_2025_snapshot():
    tables, report = read_epoch_snapshot(snapshot("2025-06"))
    assert len(tables.models) > 1800
    assert tables.model("GPT-4").utilization == 0.34  # 'Hardware utilization (MFU)'
    assert tables.chip("NVIDIA H100 SXM5 80GB") is not None  # 'Hardware name'
    assert tables.ppi.months[-1] >= "2025-01"  # 'observation_date'
    assert report.unmatched_hardware == ()


# ----------------------------------------------------------------------------------------
# strict reader: damaged files are reported with file and line, never lost silently
# ----------------------------------------------------------------------------------------
MODELS = "All ML Systems - full view.csv"


def _copy_mini(tmp_path, name="epoch-mini-2025"):
    for f in (FIXTURES / name).iterdir():
        shutil.copy(f, tmp_path / f.name)
    return tmp_path / MODELS


def test_truncated_inside_quoted_field_is_an_error(tmp_path):
    models = _copy_mini(tmp_path)
    text = models.read_text()
    cut = text.index('"Highly cited,') + 5  # inside Beta's quoted notability field
    models.write_text(text[:cut])
    with pytest.raises(DataError, match=r"full view.csv: line 3: quoted field not closed"):
        read_epoch_snapshot(tmp_path)


def test_truncated_mid_row_is_reported_with_its_line(tmp_path):
    models = _copy_mini(tmp_path)
    lines = models.read_text().splitlines(keepends=True)
    models.write_text("".join(lines[:-1]) + lines[-1][:12])  # last row cut after 'Eta,2022-03'
    tables, report = read_epoch_snapshot(tmp_path)
    assert "Eta" not in {m.name for m in tables.models}
    (entry,) = [s for s in report.skipped if "fields where the header has 14" in s.reason]
    assert (entry.file, entry.row, entry.model) == (MODELS, 11, "Eta")


def test_stray_quote_row_is_dropped_and_reported(tmp_path):
    models = _copy_mini(tmp_path)
    text = models.read_text().replace("Zeta,2022-02-01,Meta AI", 'Zeta,"2022-02-01"x,Meta AI')
    models.write_text(text)
    tables, report = read_epoch_snapshot(tmp_path)
    names = {m.name for m in tables.models}
    assert "Zeta" not in names and {"Alpha", "Beta", "Eta"} <= names
    (entry,) = [s for s in report.skipped if s.reason.startswith("malformed CSV row")]
    assert (entry.file, entry.row, entry.model) == (MODELS, 10, "Zeta")


def test_a_quote_swallowing_lines_reports_every_line_it_took(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('System,Publication date,Training compute (FLOP),Training hardware\n'
                    'A,2020-01-01,1e20,H100\n'
                    'B,"2020-01-01,1e20,H100\n'      # a quote opens a field ...
                    'C,2020-01-01,1e20,H100\n'
                    'D,2020-01-01"x,1e20,H100\n'     # ... and closes here, before a stray character
                    'E,2020-01-01,1e20,H100\n', encoding="utf-8")
    models, skipped = read_models(path)
    assert [m.name for m in models] == ["A", "E"]
    (entry,) = skipped
    assert (entry.row, entry.model) == (3, "B") and "across lines 3-5, which are all dropped" in entry.reason


def test_damaged_rows_are_reported_with_the_name_column_not_the_first(tmp_path):
    models = _copy_mini(tmp_path)
    rows = list(csv.reader(io.StringIO(models.read_text(encoding="utf-8-sig"), newline="")))
    moved = [[r[1], r[0], *r[2:]] for r in rows]  # the name is now the second column
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(moved)
    text = buffer.getvalue()
    text = text.replace("2022-02-01,Zeta,Meta AI", '"2022-02-01"x,Zeta,Meta AI')  # stray quote
    text = text.replace("2021-09-01,Gamma,Some Lab,", "2021-09-01,Gamma,Some Lab,extra,")  # one field too many
    models.write_text(text, encoding="utf-8")
    tables, report = read_epoch_snapshot(tmp_path)
    assert {"Zeta", "Gamma"}.isdisjoint(m.name for m in tables.models)
    damaged = {s.model: s.reason for s in report.skipped if s.file == MODELS and "dropped" in s.reason}
    assert damaged.keys() == {"Zeta", "Gamma"}
    assert damaged["Zeta"].startswith("malformed CSV row") and "fields where the header has" in damaged["Gamma"]


def test_quote_opening_a_field_merges_fields_and_is_reported(tmp_path):
    models = _copy_mini(tmp_path)
    text = models.read_text().replace("Gamma,2021-09-01,Some Lab", 'Gamma,"2021-09-01,Some Lab"')
    models.write_text(text)
    tables, report = read_epoch_snapshot(tmp_path)
    assert "Gamma" not in {m.name for m in tables.models}
    (entry,) = [s for s in report.skipped if "fields where the header has" in s.reason]
    assert (entry.row, entry.model) == (5, "Gamma")


def test_header_only_models_table_is_an_error(tmp_path):
    models = _copy_mini(tmp_path)
    models.write_text(models.read_text().splitlines()[0] + "\n")
    with pytest.raises(DataError, match=r"full view.csv: no usable model rows"):
        read_epoch_snapshot(tmp_path)


@pytest.mark.parametrize("fname,what", [
    ("Chip dataset-Grid view.csv", "chip"), ("Hardware prices.csv", "price"),
])
def test_header_only_required_tables_are_errors(tmp_path, fname, what):
    _copy_mini(tmp_path)
    path = tmp_path / fname
    path.write_text(path.read_text().splitlines()[0] + "\n")
    with pytest.raises(DataError, match=f"no usable {what} rows"):
        read_epoch_snapshot(tmp_path)


def test_field_over_the_csv_module_limit_keeps_the_row(tmp_path):
    models = _copy_mini(tmp_path)
    big = "x" * 200_000  # over csv's default 131,072-character field limit
    text = models.read_text().replace("Zeta,2022-02-01,Meta AI", f'Zeta,2022-02-01,"{big}"')
    models.write_text(text)
    tables, report = read_epoch_snapshot(tmp_path)
    assert tables.model("Zeta").organization == big
    assert not [s for s in report.skipped if s.model == "Zeta"]
    assert csv.field_size_limit() == 131072  # the global limit is restored


def test_non_utf8_is_an_error_naming_file_and_line(tmp_path):
    models = _copy_mini(tmp_path)
    raw = models.read_bytes().replace(b"Some Lab", b"Soci\xe9t\xe9 Lab")  # Latin-1
    models.write_bytes(raw)
    with pytest.raises(DataError, match=r"full view.csv: line 5, column \d+: byte 0xe9 \(offset \d+\) is not UTF-8"):
        read_epoch_snapshot(tmp_path)


def test_non_utf8_byte_after_a_bom_is_reported_with_its_real_value_and_position(tmp_path):
    models = _copy_mini(tmp_path)
    text = models.read_bytes()
    raw = b"\xef\xbb\xbf" + text.replace(b"Some Lab", b"Soci\xe9t\xe9 Lab")
    models.write_bytes(raw)
    offset = raw.index(b"\xe9")
    column = offset - raw.rindex(b"\n", 0, offset)
    with pytest.raises(DataError) as err:
        read_epoch_snapshot(tmp_path)
    assert f"full view.csv: line 5, column {column}: byte 0xe9 (offset {offset}) is not UTF-8" in str(err.value)
    assert raw[offset - 3] != 0xE9  # the byte 3 before (what a BOM-relative offset pointed at) differs


# ----------------------------------------------------------------------------------------
# import-epoch: atomic, never over user files or the embedded priors, usable directly
# ----------------------------------------------------------------------------------------
def test_import_refuses_the_embedded_priors(tmp_path):
    from uncertain_cost.defaults import priors_dir

    before = {p.name: p.read_bytes() for p in priors_dir().iterdir()}
    with pytest.raises(DataError, match="embedded priors folder"):
        import_epoch(FIXTURES / "epoch-mini-2025", priors_dir())
    assert {p.name: p.read_bytes() for p in priors_dir().iterdir()} == before


def test_import_refuses_a_file_and_a_folder_of_user_files(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    with pytest.raises(OutputError, match="notes.txt: is a file, not an import folder"):
        import_epoch(FIXTURES / "epoch-mini-2025", target)
    assert target.read_text() == "mine"
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "thesis.tex").write_text("mine")
    with pytest.raises(OutputError, match=r"is a folder of other files, not an import folder .*no import.toml"):
        import_epoch(FIXTURES / "epoch-mini-2025", folder)
    assert [p.name for p in folder.iterdir()] == ["thesis.tex"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "work"]


@pytest.mark.filterwarnings("default::uncertain_cost.UncertainCostWarning")  # the kept-folder note
def test_import_with_a_user_file_added_is_refused_without_force(tmp_path, capsys):
    out = tmp_path / "tables"
    import_epoch(FIXTURES / "epoch-mini-2024", out)
    listed = tomllib.loads((out / "import.toml").read_text(encoding="utf-8"))["import"]["manifest"]
    assert sorted(listed) == sorted(p.name for p in out.iterdir())  # the marker lists every file written
    (out / "my-notes.txt").write_text("mine")
    (out / "extra").mkdir()
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert main(["import-epoch", str(FIXTURES / "epoch-mini-2025"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "also holds files it did not write (extra/, my-notes.txt)" in err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert main(["import-epoch", str(FIXTURES / "epoch-mini-2025"), "--out", str(out), "--force"]) == 0
    assert load_tables(out).snapshot == "epoch-epoch-mini-2025" and not (out / "my-notes.txt").exists()
    assert (tmp_path / "tables.before-force-1" / "my-notes.txt").read_text() == "mine"  # kept, never deleted
    assert "kept as" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tables", "tables.before-force-1"]


def test_import_made_before_manifests_is_replaced_only_when_it_holds_its_own_files(tmp_path):
    out = tmp_path / "tables"
    import_epoch(FIXTURES / "epoch-mini-2024", out)
    marker = out / "import.toml"
    marker.write_text("\n".join(line for line in marker.read_text().splitlines() if not line.startswith("manifest")))
    import_epoch(FIXTURES / "epoch-mini-2025", out)  # only the files an import writes: replaced
    marker.write_text("[import]\n")
    (out / "data.csv").write_text("mine")
    with pytest.raises(OutputError, match=r"did not write \(data.csv\)"):
        import_epoch(FIXTURES / "epoch-mini-2025", out)


def test_import_replaces_an_earlier_import_and_leaves_no_temp_folder(tmp_path):
    out = tmp_path / "tables"
    import_epoch(FIXTURES / "epoch-mini-2024", out)
    assert load_tables(out).snapshot == "epoch-epoch-mini-2024"
    report = import_epoch(FIXTURES / "epoch-mini-2025", out)
    assert load_tables(out).snapshot == "epoch-epoch-mini-2025"
    assert [p.name for p in tmp_path.iterdir()] == ["tables"]
    assert all(p.startswith(str(out)) for p in report.written)
    assert {"import.toml", "skipped.csv", "inputs.toml"} <= {p.name for p in out.iterdir()}


def test_import_failure_leaves_the_earlier_import_intact(tmp_path, monkeypatch):
    import uncertain_cost.data.priors as priors

    out = tmp_path / "tables"
    import_epoch(FIXTURES / "epoch-mini-2024", out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def disk_full(tables, folder, **kw):
        (folder / "chips.toml").write_text("half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(priors, "write_tables", disk_full)
    with pytest.raises(ResourceError, match=r"tables: cannot write the import: No space left on device"):
        import_epoch(FIXTURES / "epoch-mini-2025", out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["tables"]


def test_import_on_a_full_disk_exits_1_the_environment_code(tmp_path, monkeypatch, capsys):
    import uncertain_cost.data.epoch as epoch

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(epoch, "_write_import_files", disk_full)
    assert main(["import-epoch", str(FIXTURES / "epoch-mini-2025"), "--out", str(tmp_path / "t")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_imported_folder_runs_like_the_snapshot(tmp_path):
    from uncertain_cost.config import load_config
    from uncertain_cost.data.load import load_facts

    out = tmp_path / "tables"
    import_epoch(FIXTURES / "epoch-mini-2025", out)
    via_csv = tmp_path / "csv.toml"
    via_csv.write_text(f'[data]\nepoch_dir = "{FIXTURES / "epoch-mini-2025"}"\n[selection]\ntop_n = 2\n')
    via_tables = tmp_path / "tables.toml"
    via_tables.write_text('[data]\ntables_dir = "tables"\n[selection]\ntop_n = 2\n')
    f1, s1, sel1 = load_facts(load_config(via_csv))
    f2, s2, sel2 = load_facts(load_config(via_tables))
    assert sel1.names == sel2.names and f1.names == f2.names
    assert np.array_equal(f1.hardware_quantity, f2.hardware_quantity, equal_nan=True)
    # the import's skipped rows reach the run's skip report
    assert {(s.file, s.row, s.reason) for s in s1} == {(s.file, s.row, s.reason) for s in s2}


def test_tables_dir_config_errors(tmp_path):
    from uncertain_cost.config import load_config
    from uncertain_cost.errors import ConfigError

    cfg = tmp_path / "c.toml"
    cfg.write_text('[data]\ntables_dir = "nowhere"\n')
    with pytest.raises(ConfigError, match=r"c.toml: data.tables_dir: folder not found"):
        load_config(cfg)
    (tmp_path / "t").mkdir()
    cfg.write_text(f'[data]\ntables_dir = "t"\nepoch_dir = "{FIXTURES / "epoch-mini-2025"}"\n')
    with pytest.raises(ConfigError, match="data.tables_dir: give either"):
        load_config(cfg)


def test_ppi_zero_or_negative_values_are_reported_not_divided_by(tmp_path):
    """Before: a PPI column of zeros raised ZeroDivisionError (a traceback) when deflating."""
    _copy_mini(tmp_path, "epoch-mini-2024")
    ppi = tmp_path / "PCU518210518210.csv"
    lines = ppi.read_text(encoding="utf-8").splitlines()
    first_month = lines[1].split(",")[0]
    ppi.write_text("\n".join([lines[0], f"{first_month},0", *lines[2:]]) + "\n", encoding="utf-8")
    _, report = read_epoch_snapshot(tmp_path)
    assert any(s.file == ppi.name and s.row == 2 and "not a positive number" in s.reason for s in report.skipped)
    ppi.write_text("\n".join([lines[0], *(f"{line.split(',')[0]},0" for line in lines[1:])]) + "\n",
                   encoding="utf-8")
    with pytest.raises(DataError, match="no usable rows"):
        read_epoch_snapshot(tmp_path)
