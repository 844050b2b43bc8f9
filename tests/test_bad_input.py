"""Bad input gets a clear answer, and nothing is lost (issue 9): an end-to-end battery.

Each case breaks one input of a fresh copy of the workflow and runs real Snakemake there:
config and sample-sheet problems fail while the workflow is parsed, so a dry run (`-n`) shows them;
abundance-table problems fail in `import_abundance`, so only `results/abundance/raw.tsv` is asked
for; ELISA lab-table problems are found before any rule too. Every failing case asserts:
a non-zero exit, the message (naming the file, row/column or key, and what was expected) exactly
once in the console and - for a rule - once in the rule's log, no Python traceback, and no output of
the failing step left behind. Inputs that are odd but usable (a patient with one visit, a BOM,
Latin-1, Windows line endings, Excel-mangled gene symbols) must run and give the right table.

Then: a rerun after fixing the input resumes; a run killed with SIGTERM half-way reruns to the same
tables as an uninterrupted run; a workflow in a folder with spaces, reading tables with spaces in
their paths, whose sample and protein names contain HTML, runs and keeps the names verbatim; and
the rule files and scripts never build shell commands or read YAML unsafely.
"""

import csv
import hashlib
import io
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from workflow_runner import (
    PYTHON,
    REPO,
    WORKFLOW_PARTS,
    copy_workflow,
    differing_tables,
    result_tables,
    run_snakemake,
    shared_local_run,
    snakemake_env,
    write_configfile,
)

EXAMPLE_TABLE = "resources/example/report.pg_matrix.tsv"


def copy_example(destination, name="tearflow"):
    """A copy of the workflow whose config reads the example's protein table (EXAMPLE_TABLE) instead
    of its precursor report: the cases below are those of protein tables and their import (a
    precursor report's problems: tests/test_precursor_readers.py, tests/test_real_formats_dag.py)."""
    workdir = copy_workflow(destination, name)
    config = workdir / "config" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    assert "resources/example/report.parquet" in text
    config.write_text(text.replace("resources/example/report.parquet", EXAMPLE_TABLE), encoding="utf-8")
    return workdir


EXAMPLE_ELISA = "resources/example/elisa.tsv"
SHEET = "config/samples.tsv"

RAW = "results/abundance/raw.tsv"
REMOVED = "results/abundance/removed_proteins.tsv"
IMPORT_OUTPUTS = (RAW, REMOVED, "results/qc/import_summary.tsv", "results/abundance/sample_runs.tsv")
IMPORT_LOG = "logs/import_abundance.log"
ELISA_VALUES = "results/elisa/values.tsv"
ELISA_LOG = "logs/elisa_values.log"

TRACEBACK = "Traceback (most recent call last)"


# --------------------------------------------------------------------------------------------
# Helpers: tables as rows, the example as a plain wide table, and the assertions every case makes


def read_rows(path, delimiter="\t"):
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.reader(stream, delimiter=delimiter))


def rows_text(rows, delimiter="\t", newline="\n"):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return buffer.getvalue()


def write_rows(path, rows, delimiter="\t", encoding="utf-8", newline="\n"):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(rows_text(rows, delimiter, newline).encode(encoding))
    return path


def run_stem(column):
    return Path(column.replace("\\", "/")).stem


def example_wide(workdir, proteins=None):
    """The example DIA-NN matrix as a plain wide table: `protein, gene, <sheet sample>...` rows
    (header first), run columns renamed to their sample names; the first `proteins` rows only."""
    table = read_rows(Path(workdir) / EXAMPLE_TABLE)
    header = table[0]
    runs = [i for i, column in enumerate(header) if column.lower().endswith(".raw")]
    protein, gene = header.index("Protein.Group"), header.index("Genes")
    body = table[1:] if proteins is None else table[1 : proteins + 1]
    rows = [["protein", "gene", *(run_stem(header[i]) for i in runs)]]
    rows += [[row[protein], row[gene], *(row[i] for i in runs)] for row in body]
    return rows


CONTAMINANT_PREFIXES = ("CON__", "Cont_", "contam_")  # config import.contaminant_prefixes


def imported_proteins(rows):
    """The protein IDs of `example_wide` rows the import keeps (contaminants are removed)."""
    return [row[0] for row in rows[1:] if not row[0].startswith(CONTAMINANT_PREFIXES)]


def sheet_rows(workdir):
    return read_rows(Path(workdir) / SHEET)


def console(completed):
    return completed.stdout + completed.stderr


def lines_with(text, fragments, prefix=""):
    return [
        line
        for line in text.splitlines()
        if line.startswith(prefix) and all(fragment in line for fragment in fragments)
    ]


def assert_no_traceback(completed):
    output = console(completed)
    assert TRACEBACK not in output, f"Python traceback for a user error:\n{output[-4000:]}"


def assert_parse_error(workdir, completed, fragments):
    """A config/sheet problem: exit != 0, one `tearflow: ...` line naming it, nothing run."""
    output = console(completed)
    assert completed.returncode != 0, f"expected a failure, got exit 0:\n{output[-3000:]}"
    assert_no_traceback(completed)
    found = lines_with(output, fragments, prefix="tearflow: ")
    assert len(found) == 1, f"expected one 'tearflow:' line with {fragments}, got {found}:\n{output[-3000:]}"
    assert not (Path(workdir) / "results").exists(), "a step ran although the input was refused"


def assert_rule_error(workdir, completed, fragments, log, outputs):
    """A problem found by a step: exit != 0, the message once on the console (the step's own
    `ERROR ...` line; Snakemake's echo of the log file is timestamped) and once in the rule's log,
    no traceback, and none of the step's outputs (nor a half-written temporary) left behind."""
    workdir = Path(workdir)
    output = console(completed)
    assert completed.returncode != 0, f"expected a failure, got exit 0:\n{output[-3000:]}"
    assert_no_traceback(completed)
    found = lines_with(output, fragments, prefix="ERROR ")
    assert len(found) == 1, f"expected one 'ERROR' line with {fragments}, got {found}:\n{output[-4000:]}"
    log_path = workdir / log
    assert log_path.exists(), f"no log {log}"
    logged = lines_with(log_path.read_text(encoding="utf-8"), fragments)
    assert len(logged) == 1, f"expected the message once in {log}, got {logged}"
    left = [path for path in outputs if (workdir / path).exists()]
    assert not left, f"outputs of the failed step left behind: {left}"
    temporaries = [p.name for p in (workdir / "results").rglob(".tmp-*")] if (workdir / "results").exists() else []
    assert not temporaries, f"half-written temporaries left behind: {temporaries}"


def run_import(workdir, overrides=None):
    """Run only the import step (its main output as target), with config overrides."""
    args = [RAW, "--cores", "1"]
    if overrides:
        args += ["--configfile", write_configfile(workdir, overrides)]
    return run_snakemake(workdir, *args, check=False)


def dry_run(workdir, overrides=None):
    args = ["--dry-run"]
    if overrides:
        args += ["--configfile", write_configfile(workdir, overrides)]
    return run_snakemake(workdir, *args, check=False)


def one_table(path, fmt="auto"):
    return {"proteomics": [{"path": str(path), "format": fmt}]}


# --------------------------------------------------------------------------------------------
# Config and sample sheet: refused while the workflow is parsed, before any step runs


def _copy_table(workdir, relative):
    """The example table copied to data/<relative> (a second batch's file of the same name)."""
    target = Path(workdir) / "data" / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(workdir) / EXAMPLE_TABLE, target)


def _drop_sample(name):
    def change(workdir):
        rows = sheet_rows(workdir)
        write_rows(workdir / SHEET, [row for row in rows if row[0] != name])

    return change


def _edit_sheet(edit):
    def change(workdir):
        rows = sheet_rows(workdir)
        edit(rows)
        write_rows(workdir / SHEET, rows)

    return change


def _duplicate_sample(rows):
    rows.append(list(rows[1]))  # NSDE01_baseline listed again


def _same_visit_twice(rows):
    extra = list(rows[1])
    extra[0] = "NSDE01_baseline_rerun"
    rows.append(extra)


def _subgroup_too_small(rows):
    header = rows[0]
    sample, timepoint = header.index("sample"), header.index("timepoint")
    # SSDE keeps SSDE01 and SSDE02 paired; SSDE03-05 lose their week-2 sample.
    rows[:] = [
        row
        for row in rows
        if not (row[sample].startswith(("SSDE03", "SSDE04", "SSDE05")) and row[timepoint] == "week2")
    ]


def _missing_column(rows):
    column = rows[0].index("subgroup")
    for row in rows:
        del row[column]


def _empty_cell(rows):
    rows[5][rows[0].index("patient")] = ""


def _empty_sheet(workdir):
    (workdir / SHEET).write_text("")


def _header_only_sheet(workdir):
    (workdir / SHEET).write_text("\t".join(sheet_rows(workdir)[0]) + "\n")


def _rename_subgroup(old, new):
    def change(workdir):
        path = workdir / SHEET
        path.write_text(path.read_text().replace(f"\t{old}\t", f"\t{new}\t"))

    return change


CONFIG_CASES = [
    # (id, change of the copy or None, config overrides, message fragments)
    ("misspelt_top_level_key", None, {"seeed": 1}, ["unknown key 'seeed'", "did you mean 'seed'"]),
    (
        "misspelt_nested_key",
        None,
        {"differential": {"min_pair": 3}},
        ["unknown key 'differential.min_pair'", "did you mean 'differential.min_pairs'"],
    ),
    (
        "value_of_wrong_type",
        None,
        {"seed": "twenty"},
        ["key 'seed'", "'twenty' is not of type 'integer'"],
    ),
    (
        "proteomics_not_a_list",
        None,
        {"proteomics": EXAMPLE_TABLE},
        ["key 'proteomics'", "is not of type 'array'"],
    ),
    (
        "unknown_table_format",
        None,
        {"proteomics": [{"path": EXAMPLE_TABLE, "format": "diann"}]},
        ["key 'proteomics[0].format'", "'diann' is not one of"],
    ),
    (
        "missing_sample_sheet",
        None,
        {"samples": "config/no_such_sheet.tsv"},
        ["config key 'samples'", "file not found: 'config/no_such_sheet.tsv'"],
    ),
    (
        "missing_abundance_table",
        None,
        one_table("data/no_such_table.tsv"),
        ["config key 'proteomics[0].path'", "file not found: 'data/no_such_table.tsv'"],
    ),
    (
        "absolute_path_missing",
        None,
        one_table("/nonexistent/tearflow-test/pg_matrix.tsv"),
        ["config key 'proteomics[0].path'", "file not found: '/nonexistent/tearflow-test/pg_matrix.tsv'"],
    ),
    (
        "abundance_table_is_a_directory",
        None,
        one_table("resources/example"),
        ["config key 'proteomics[0].path'", "'resources/example' is a directory; expected a file"],
    ),
    (
        "same_table_listed_twice",
        None,
        {"proteomics": [{"path": EXAMPLE_TABLE}, {"path": EXAMPLE_TABLE, "batch": "b2"}]},
        [f"config proteomics[1]: {EXAMPLE_TABLE} is the same file as proteomics[0]", "expected each table once"],
    ),
    (
        "two_tables_with_one_batch_name",
        lambda workdir: [_copy_table(workdir, f"{run}/x/report.pg_matrix.tsv") for run in ("a", "b")],
        {"proteomics": [{"path": f"data/{run}/x/report.pg_matrix.tsv"} for run in ("a", "b")]},
        ["config proteomics: batch name(s) report.pg_matrix used by more than one table", "own 'batch'"],
    ),
    (
        "missing_elisa_table",
        None,
        {"elisa": "data/no_such_elisa.tsv"},
        ["config key 'elisa'", "file not found: 'data/no_such_elisa.tsv'"],
    ),
    (
        "duplicate_sample_name",
        _edit_sheet(_duplicate_sample),
        None,
        ["sample 'NSDE01_baseline' is listed more than once", "lines [2, 37]"],
    ),
    (
        "sample_twice_for_patient_and_timepoint",
        _edit_sheet(_same_visit_twice),
        None,
        ["patient 'NSDE01' has 2 samples at timepoint 'baseline'", "NSDE01_baseline_rerun"],
    ),
    (
        "followup_label_not_in_sheet",
        None,
        {"timepoints": {"baseline": "baseline", "followup": "week_2"}},
        ["no sample has timepoint 'week_2'", "timepoints.followup", "baseline, week2, week4"],
    ),
    (
        "sheet_missing_required_column",
        _edit_sheet(_missing_column),
        None,
        ["sample sheet", "missing column(s) subgroup"],
    ),
    ("sheet_empty_cell", _edit_sheet(_empty_cell), None, ["sample sheet", "line 6, column 'patient' is empty"]),
    (
        "sheet_header_only",
        _header_only_sheet,
        None,
        ["sample sheet", "config/samples.tsv", "no sample"],
    ),
    pytest.param(
        None,
        {"enrichment": {"focus_gmt": "data/no_such_focus.gmt"}},
        ["config key 'enrichment.focus_gmt'", "file not found: 'data/no_such_focus.gmt'"],
        id="missing_focus_gmt",
    ),
    pytest.param(
        None,
        {"enrichment": {"libraries": {"reactome": "data/no_such_library.gmt"}}},
        ["config key 'enrichment.libraries", "file not found: 'data/no_such_library.gmt'"],
        id="missing_gene_set_library",
    ),
    pytest.param(
        None,
        {"normalization": {"method": "reference_set", "reference_proteins": "data/no_such_list.txt"}},
        ["config key 'normalization.reference_proteins'", "file not found: 'data/no_such_list.txt'"],
        id="missing_reference_protein_list",
    ),
    pytest.param(
        None,
        {"elisa_analysis": {"analytes": "data/no_such_analytes.tsv"}},
        ["config key 'elisa_analysis.analytes'", "file not found: 'data/no_such_analytes.tsv'"],
        id="missing_elisa_analyte_map",
    ),
    pytest.param(
        _rename_subgroup("SSDE", "all"),
        None,
        ["subgroup", "'all'"],
        id="subgroup_named_like_a_contrast",
    ),
    pytest.param(
        _rename_subgroup("SSDE", "<b>SSDE</b>"),
        None,
        ["subgroup", "'<b>SSDE</b>'"],
        id="subgroup_not_usable_in_a_file_name",
    ),
    pytest.param(
        None,
        {"timepoints": {"baseline": "week2", "followup": "week2"}},
        ["config keys timepoints.baseline and timepoints.followup are both 'week2'", "two different"],
        id="same_label_for_both_visits",
    ),
    pytest.param(
        _empty_sheet,
        None,
        ["sample sheet config/samples.tsv", "empty"],
        id="sheet_empty_file",
    ),
]


def as_params(cases):
    """pytest params from `(id, *values)` tuples (ready-made `pytest.param`s pass through)."""
    return [case if hasattr(case, "marks") else pytest.param(*case[1:], id=case[0]) for case in cases]


@pytest.mark.parametrize("change, overrides, fragments", as_params(CONFIG_CASES))
def test_config_or_sheet_error_is_refused_before_any_step(tmp_path, change, overrides, fragments):
    workdir = copy_example(tmp_path)
    if change is not None:
        change(workdir)
    completed = dry_run(workdir, overrides)
    assert_parse_error(workdir, completed, fragments)


def _crlf_sheet(workdir):
    path = workdir / SHEET
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


def _bom_sheet(workdir):
    path = workdir / SHEET
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


SHEET_ODDITIES = [
    # (id, change of the copy or None, the note the user should see)
    (
        "patient_with_one_timepoint",
        _drop_sample("NSDE01_week2"),
        ["1 patient(s) have only one of the two visits", "NSDE01"],
    ),
    ("samples_at_other_visits", None, ["samples at other visits are left out", "week4 (3)"]),
    (
        "subgroup_with_too_few_patients",
        _edit_sheet(_subgroup_too_small),
        ["subgroup 'SSDE' has 2 patient(s)", "fewer than differential.min_pairs (3)", "written with NA statistics"],
    ),
]


@pytest.fixture(scope="module")
def oddity_dry_runs(tmp_path_factory):
    """{case id: dry run of a copy with that usable oddity}, shared by the two tests below."""
    runs = {}
    for name, change, _note in SHEET_ODDITIES:
        workdir = copy_example(tmp_path_factory.mktemp(name))
        if change is not None:
            change(workdir)
        runs[name] = dry_run(workdir)
    return runs


@pytest.mark.parametrize("name", [case[0] for case in SHEET_ODDITIES])
def test_usable_sheet_oddity_is_not_refused(oddity_dry_runs, name):
    completed = oddity_dry_runs[name]
    assert completed.returncode == 0, console(completed)[-3000:]
    assert_no_traceback(completed)


@pytest.mark.parametrize("name, note", [pytest.param(c[0], c[2], id=c[0]) for c in SHEET_ODDITIES])
def test_usable_sheet_oddity_is_noted(oddity_dry_runs, name, note):
    output = console(oddity_dry_runs[name])
    assert lines_with(output, note), f"no note {note} in:\n{output[-3000:]}"


@pytest.mark.parametrize("change", [_crlf_sheet, _bom_sheet], ids=["windows_line_endings", "utf8_bom"])
def test_sheet_encoding_variant_reads_like_the_plain_sheet(tmp_path, change):
    workdir = copy_example(tmp_path)
    change(workdir)
    completed = run_snakemake(workdir, RAW, ELISA_VALUES, "--cores", "1", check=False)
    assert completed.returncode == 0, console(completed)[-4000:]
    header = read_rows(workdir / RAW)[0]
    samples = [row[0] for row in read_rows(workdir / "config" / "samples.tsv", delimiter="\t")[1:]]
    samples = [sample.strip().lstrip("\ufeff") for sample in samples]
    assert header == ["protein", "gene", *samples]
    values = read_rows(workdir / ELISA_VALUES)
    patients = {row[values[0].index("patient")] for row in values[1:]}
    assert "NSDE01" in patients and not any("\r" in p or "\ufeff" in p for p in patients)


def assert_refused(workdir, completed, fragments, log, outputs):
    """Refused either while parsing (preferred: before any step) or by the step that reads the
    value; either way one clear message and no output of that step."""
    if lines_with(console(completed), fragments, prefix="tearflow: "):
        assert_parse_error(workdir, completed, fragments)
    else:
        assert_rule_error(workdir, completed, fragments, log, outputs)


SHEET_CONTRADICTIONS = [
    # (id, config overrides, target, log of the step that checks it, its outputs, message)
    (
        "covariate_not_in_sheet",
        {"differential": {"covariates": ["weight"]}},
        "results/differential/all.tsv",
        "logs/differential.log",
        ["results/differential/all.tsv", "results/differential/patient_changes.tsv"],
        ["differential.covariates", "'weight'"],
    ),
    (
        "reference_sample_not_in_sheet",
        {"normalization": {"reference": "NSDE99_baseline"}},
        "results/abundance/normalized.tsv",
        "logs/normalize.log",
        ["results/abundance/normalized.tsv", "results/qc/normalization.tsv"],
        ["normalization.reference", "'NSDE99_baseline'"],
    ),
    (
        "excluded_sample_not_in_sheet",
        {"normalization": {"exclude_samples": ["NSDE99_baseline"]}},
        "results/abundance/normalized.tsv",
        "logs/normalize.log",
        ["results/abundance/normalized.tsv", "results/qc/normalization.tsv"],
        ["normalization.exclude_samples", "NSDE99_baseline"],
    ),
]


@pytest.mark.parametrize(
    "overrides, target, log, outputs, fragments",
    [case[1:] for case in SHEET_CONTRADICTIONS],
    ids=[case[0] for case in SHEET_CONTRADICTIONS],
)
def test_config_value_the_sheet_contradicts_is_refused(tmp_path, overrides, target, log, outputs, fragments):
    workdir = copy_example(tmp_path)
    completed = run_snakemake(
        workdir, target, "--cores", "1", "--configfile", write_configfile(workdir, overrides), check=False
    )
    assert_refused(workdir, completed, fragments, log, outputs)


# --------------------------------------------------------------------------------------------
# Abundance tables: refused by the import step, which leaves no output behind


def _write_wide(workdir, name, edit=None, delimiter="\t", encoding="utf-8", prefix=b""):
    rows = example_wide(workdir, proteins=60)
    if edit is not None:
        edit(rows)
    path = Path(workdir) / "data" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(prefix + rows_text(rows, delimiter).encode(encoding))
    return f"data/{name}"


def _set_cell(row, column, value):
    def edit(rows):
        rows[row][rows[0].index(column) if isinstance(column, str) else column] = value

    return edit


def _blank_column(column):
    def edit(rows):
        index = rows[0].index(column)
        for row in rows[1:]:
            row[index] = ""

    return edit


def _rename_column(old, new):
    def edit(rows):
        rows[0][rows[0].index(old)] = new

    return edit


def _duplicate_id(rows):
    rows[11][0] = rows[3][0]


def _header_only(rows):
    del rows[1:]


def _ragged_row(rows):
    rows[7].append("123.0")


def _table_empty_file(workdir):
    (workdir / "data").mkdir()
    (workdir / "data" / "empty.tsv").write_bytes(b"")
    return one_table("data/empty.tsv")


def _table(name, edit=None, fmt="auto", **write):
    def make(workdir):
        return one_table(_write_wide(workdir, name, edit, **write), fmt)

    return make


def _file(path, text, overrides):
    def make(workdir):
        target = Path(workdir) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return overrides

    return make


def _text_column(column, value):
    def edit(rows):
        index = rows[0].index(column)
        for row in rows[1:]:
            row[index] = value

    return edit


def _example_as(fmt):
    def make(workdir):
        return one_table(EXAMPLE_TABLE, fmt)

    return make


ABUNDANCE_CASES = [
    # (id, make table + config overrides, message fragments)
    ("empty_file", _table_empty_file, ["data/empty.tsv", "the file is empty", "expected a protein table"]),
    (
        "binary_file",
        _file("data/run01.raw", "\x00\x01Thermo raw\x00" * 20, one_table("data/run01.raw")),
        ["data/run01.raw", "not a text table", "binary data (a NUL byte at byte 1)"],
    ),
    (
        "wrong_delimiter",
        _table("pipes.tsv", delimiter="|"),
        ["data/pipes.tsv", "line 1 has a single column", "expected a tab-separated table"],
    ),
    (
        "missing_id_column",
        _table("no_id.tsv", _rename_column("protein", "thing"), fmt="wide"),
        ["data/no_id.tsv", "no protein ID column", "import.wide_id_column", "'thing'"],
    ),
    (
        "unknown_layout_auto",
        _table("no_id_auto.tsv", _rename_column("protein", "thing")),
        ["data/no_id_auto.tsv", "unknown table layout", "proteomics[].format"],
    ),
    (
        "non_numeric_value",
        _table("text.tsv", _set_cell(6, "NSDE02_week2", "12.5.1")),
        ["data/text.tsv", "line 7, column 'NSDE02_week2'", "'12.5.1' is not a number", "expected an intensity"],
    ),
    (
        "negative_intensity",
        _table("negative.tsv", _set_cell(4, "SSDE03_baseline", "-250.0")),
        ["data/negative.tsv", "negative intensity -250.0", "import.negative_values"],
    ),
    (
        "infinite_value",
        _table("infinite.tsv", _set_cell(4, "SSDE03_baseline", "inf")),
        ["data/infinite.tsv", "line 5, column 'SSDE03_baseline'", "infinite value"],
    ),
    (
        "all_missing_sample",
        _table("dead_run.tsv", _blank_column("NSDE02_week2")),
        ["data/dead_run.tsv", "NSDE02_week2", "no intensity for any protein"],
    ),
    (
        "duplicated_protein_id",
        _table("duplicated.tsv", _duplicate_id),
        ["data/duplicated.tsv", "appears on lines 4, 12", "expected one row per protein group"],
    ),
    (
        "duplicated_column",
        _table("duplicated_column.tsv", _rename_column("NSDE02_week2", "NSDE02_baseline")),
        ["data/duplicated_column.tsv", "duplicated column name(s) NSDE02_baseline"],
    ),
    (
        "header_without_rows",
        _table("header_only.tsv", _header_only),
        ["data/header_only.tsv", "header but no data rows"],
    ),
    (
        "ragged_row",
        _table("ragged.tsv", _ragged_row),
        ["data/ragged.tsv", "line 8 has 38 cells; expected 37 as in the header", "a ragged row"],
    ),
    (
        "explicit_format_wrong_for_file",
        _example_as("maxquant"),
        [
            EXAMPLE_TABLE,
            "lacks column(s) 'Protein IDs'",
            "format is 'maxquant', but the file looks like a diann_matrix",
        ],
    ),
    (
        "gene_map_without_expected_columns",
        _file("data/map.tsv", "id\tsymbol\nP02768\tALB\n", {"gene_map": "data/map.tsv"}),
        ["gene map data/map.tsv", "expected an accession column", "found id, symbol"],
    ),
    (
        "fasta_without_gene_names",
        _file("data/search.fasta", ">P02768 albumin\nMKWVTFISLL\n", {"fasta": "data/search.fasta"}),
        ["fasta data/search.fasta", "no UniProt header with GN= found"],
    ),
    (
        "sample_column_of_text",
        _table("text_column.tsv", _text_column("NSDE02_week2", "n.d."), fmt="wide"),
        [
            "not found in any protein table: NSDE02_week2",
            "column 'NSDE02_week2' of data/text_column.tsv holds no numbers",
        ],
    ),
]


@pytest.mark.parametrize(
    "make, fragments",
    [case[1:] for case in ABUNDANCE_CASES],
    ids=[case[0] for case in ABUNDANCE_CASES],
)
def test_bad_abundance_table_stops_the_import_cleanly(tmp_path, make, fragments):
    workdir = copy_example(tmp_path)
    completed = run_import(workdir, make(workdir))
    assert_rule_error(workdir, completed, fragments, IMPORT_LOG, IMPORT_OUTPUTS)


def test_sheet_sample_named_in_no_table_is_refused_before_any_step(tmp_path):
    workdir = copy_example(tmp_path)
    overrides = _table("missing_sample.tsv", _rename_column("SSDE05_week2", "SSDE5_wk2"))(workdir)
    completed = dry_run(workdir, overrides)
    fragments = [
        "sample sheet config/samples.tsv: 1 sample(s) named in no proteomics table: SSDE05_week2 (line(s) 36)",
        "proteomics[0] data/missing_sample.tsv",
        "closest names in the tables: 'SSDE05_week2' ~ 'SSDE5_wk2'",
    ]
    assert_parse_error(workdir, completed, fragments)


def test_wrong_file_as_the_table_is_named_by_its_layout_before_any_step(tmp_path):
    """A text table no reader recognizes that names none of the sheet's samples (another file picked
    by mistake): the message is the unknown layout, which is the real problem, not "35 samples named
    in no table"."""
    workdir = copy_example(tmp_path)
    overrides = _file("data/notes.tsv", "date\tcomment\n2026-01-05\tplates thawed\n", one_table("data/notes.tsv"))(
        workdir
    )
    completed = dry_run(workdir, overrides)
    fragments = ["config key 'proteomics[0]'", "data/notes.tsv: unknown table layout", "proteomics[].format"]
    assert_parse_error(workdir, completed, fragments)
    assert "named in no proteomics table" not in console(completed)


def _all_missing_protein(rows):
    for index in range(2, len(rows[0])):
        rows[9][index] = "NA"


def _excel_genes(rows):
    width = len(rows[0]) - 2
    rows.append(["Q15019", "2-Sep", *(["1000.0"] * width)])  # SEPTIN2
    rows.append(["Q8TCQ1", "1-Mar", *(["2000.0"] * width)])  # MARCHF1


def _latin1_description(rows):
    rows[0].insert(2, "description")
    for row in rows[1:]:
        row.insert(2, "protéine à étudier")


@pytest.mark.parametrize(
    "name, edit, write",
    [
        ("plain.tsv", None, {}),
        ("bom.tsv", None, {"prefix": b"\xef\xbb\xbf"}),
        ("latin1.tsv", _latin1_description, {"encoding": "latin-1"}),
        ("comma.csv", None, {"delimiter": ","}),
        ("windows.tsv", None, {}),
    ],
    ids=["plain", "utf8_bom", "latin1", "comma_separated", "windows_line_endings"],
)
def test_usable_table_variants_import_the_same_values(tmp_path, name, edit, write):
    workdir = copy_example(tmp_path)
    path = _write_wide(workdir, name, edit, **write)
    if name == "windows.tsv":
        target = workdir / path
        target.write_bytes(target.read_bytes().replace(b"\n", b"\r\n"))
    completed = run_import(workdir, one_table(path))
    assert completed.returncode == 0, console(completed)[-4000:]
    raw = read_rows(workdir / RAW)
    expected = example_wide(workdir, proteins=60)
    assert raw[0] == expected[0]
    assert [row[0] for row in raw[1:]] == imported_proteins(expected)
    values = {row[0]: [float(value) if value != "NA" else None for value in row[2:]] for row in raw[1:]}
    for row in expected[1:4]:
        assert values[row[0]] == [float(value) if value else None for value in row[2:]]


def test_all_missing_protein_is_dropped_and_reported(tmp_path):
    workdir = copy_example(tmp_path)
    path = _write_wide(workdir, "empty_protein.tsv", _all_missing_protein)
    dropped = example_wide(workdir, proteins=60)[9][0]
    completed = run_import(workdir, one_table(path))
    assert completed.returncode == 0, console(completed)[-4000:]
    assert dropped not in {row[0] for row in read_rows(workdir / RAW)}
    removed = read_rows(workdir / REMOVED)
    columns = removed[0]
    reasons = {row[columns.index("protein")]: row[columns.index("reason")] for row in removed[1:]}
    assert reasons.get(dropped) == "all_missing"


def test_excel_mangled_gene_symbols_are_repaired_and_reported(tmp_path):
    workdir = copy_example(tmp_path)
    completed = run_import(workdir, one_table(_write_wide(workdir, "excel.tsv", _excel_genes)))
    assert completed.returncode == 0, console(completed)[-4000:]
    genes = {row[0]: row[1] for row in read_rows(workdir / RAW)[1:]}
    assert genes["Q15019"] == "SEPTIN2"
    assert genes["Q8TCQ1"] == "MARCHF1"
    removed = read_rows(workdir / REMOVED)
    notes = {row[removed[0].index("protein")]: row[removed[0].index("reason")] for row in removed[1:]}
    assert "excel_mangled_gene" in notes["Q15019"] and "'2-Sep'" in notes["Q15019"]
    assert "excel_mangled_gene" in notes["Q8TCQ1"] and "'1-Mar'" in notes["Q8TCQ1"]
    summary = read_rows(workdir / "results/qc/import_summary.tsv")
    assert summary[1][summary[0].index("genes_excel_mangled")] == "2"


# --------------------------------------------------------------------------------------------
# ELISA: the lab table is read and checked before any rule runs


def _elisa(edit):
    def make(workdir):
        rows = read_rows(workdir / EXAMPLE_ELISA)
        edit(rows)
        write_rows(workdir / "data" / "elisa.tsv", rows)
        return {"elisa": "data/elisa.tsv"}

    return make


def _elisa_cell(row, column, value):
    def edit(rows):
        rows[row][rows[0].index(column)] = value

    return edit


ELISA_CASES = [
    (
        "unknown_analyte",
        _elisa(_elisa_cell(3, "analyte", "IL-99")),
        ["data/elisa.tsv", "unknown analyte 'IL-99'", "expected an analyte or spelling"],
    ),
    (
        "unparseable_value",
        _elisa(_elisa_cell(3, "value", "twelve")),
        ["data/elisa.tsv", "cannot read value 'twelve'"],
    ),
    (
        "impossible_unit",
        _elisa(_elisa_cell(3, "unit", "mmHg")),
        ["data/elisa.tsv", "unit 'mmHg' cannot be converted to pg/mL"],
    ),
    (
        "visit_label_unknown",
        _elisa(_elisa_cell(3, "timepoint", "W2")),
        ["data/elisa.tsv", "timepoint 'W2' is not a known visit", "elisa_analysis.visits"],
    ),
]


@pytest.mark.parametrize("make, fragments", [c[1:] for c in ELISA_CASES], ids=[c[0] for c in ELISA_CASES])
def test_bad_elisa_table_is_refused_before_any_step(tmp_path, make, fragments):
    workdir = copy_example(tmp_path)
    completed = dry_run(workdir, make(workdir))
    assert_parse_error(workdir, completed, fragments)


def test_two_batches_report_files_of_one_name_are_named_by_their_folders(tmp_path):
    """Each batch's search-engine output keeps its file name (DIA-NN writes report.parquet), in a
    folder of its own: the batches are named by the folders, with a note, and both are read."""
    workdir = copy_example(tmp_path)
    sheet = sheet_rows(workdir)
    # SSDE patients measured in a second batch: the sheet says so, and each table holds its runs
    batch_column = sheet[0].index("batch")
    for row in sheet[1:]:
        row[batch_column] = "batch2" if row[0].startswith("SSDE") else "batch1"
    write_rows(workdir / SHEET, sheet)
    rows = read_rows(workdir / EXAMPLE_TABLE)
    for batch, runs_of_other in (("batch1", "SSDE"), ("batch2", "NSDE")):
        at = [i for i, column in enumerate(rows[0]) if runs_of_other not in column]
        write_rows(workdir / "data" / batch / "report.pg_matrix.tsv", [[row[i] for i in at] for row in rows])
    overrides = {"proteomics": [{"path": f"data/{batch}/report.pg_matrix.tsv"} for batch in ("batch1", "batch2")]}
    completed = run_snakemake(
        workdir, RAW, "--cores", "1", "--configfile", write_configfile(workdir, overrides), check=False
    )
    assert completed.returncode == 0, console(completed)[-3000:]
    notes = lines_with(
        console(completed),
        ["tables with the same file name are named by their folders", "data/batch1/report.pg_matrix.tsv → batch1"],
    )
    assert len([line for line in notes if line.startswith("tearflow note: ")]) == 1, notes
    summary = read_rows(workdir / "results" / "qc" / "import_summary.tsv")
    batches = [row[summary[0].index("batch")] for row in summary[1:]]
    assert batches == ["batch1", "batch2"]


def test_elisa_patient_not_in_the_sheet_is_left_out_with_a_note(tmp_path):
    workdir = copy_example(tmp_path)
    overrides = _elisa(_elisa_cell(3, "patient", "NSDE99"))(workdir)
    completed = run_snakemake(
        workdir, ELISA_VALUES, "--cores", "1", "--configfile", write_configfile(workdir, overrides), check=False
    )
    assert completed.returncode == 0, console(completed)[-3000:]
    notes = lines_with(
        console(completed), ["data/elisa.tsv", "not in the sample sheet are left out: 'NSDE99' (row(s) 4"]
    )
    assert len([line for line in notes if line.startswith("tearflow note: ")]) == 1, notes
    patients = {row[0] for row in read_rows(workdir / ELISA_VALUES)[1:]}
    assert "NSDE99" not in patients and "NSDE01" in patients


def test_clinical_patient_not_in_the_sheet_is_noted_before_any_step_and_left_out(tmp_path):
    """As for ELISA: a clinical patient the sheet does not have (and no subgroup column to place
    them) is one note on the console before any rule, and the step leaves them out."""
    workdir = copy_example(tmp_path)
    rows = read_rows(workdir / "resources" / "example" / "clinical.tsv")
    rows[1][rows[0].index("patient")] = "NSDE99"
    write_rows(workdir / "data" / "clinical.tsv", rows)
    values = "results/clinical/values.tsv"
    completed = run_snakemake(
        workdir, values, "--cores", "1", "--configfile", write_configfile(workdir, {"clinical": "data/clinical.tsv"}),
        check=False,
    )  # fmt: skip
    assert completed.returncode == 0, console(completed)[-3000:]
    notes = lines_with(console(completed), ["data/clinical.tsv", "not in the sample sheet", "left out: NSDE99"])
    assert len([line for line in notes if line.startswith("tearflow note: ")]) == 1, notes
    patients = {row[0] for row in read_rows(workdir / values)[1:]}
    assert "NSDE99" not in patients and "NSDE01" in patients


def test_elisa_visit_labels_map_with_a_config_key(tmp_path):
    workdir = copy_example(tmp_path)
    rows = read_rows(workdir / EXAMPLE_ELISA)
    column = rows[0].index("timepoint")
    relabel = {"baseline": "W0", "week2": "W2"}
    for row in rows[1:]:
        row[column] = relabel.get(row[column], row[column])
    write_rows(workdir / "data" / "elisa.tsv", rows)
    overrides = {"elisa": "data/elisa.tsv", "elisa_analysis": {"visits": {"W0": "baseline", "W2": "week2"}}}
    completed = run_snakemake(
        workdir, ELISA_VALUES, "--cores", "1", "--configfile", write_configfile(workdir, overrides), check=False
    )
    assert completed.returncode == 0, console(completed)[-3000:]
    values = read_rows(workdir / ELISA_VALUES)
    assert {row[values[0].index("timepoint")] for row in values[1:]} == {"baseline", "week2"}


def test_latin1_elisa_table_with_micro_sign_is_read(tmp_path):
    workdir = copy_example(tmp_path)
    rows = read_rows(workdir / EXAMPLE_ELISA)
    columns = rows[0]
    first = rows[1]
    first[columns.index("unit")] = "µg/mL"
    first[columns.index("value")] = str(float(first[columns.index("value")]) / 1e6)
    first[columns.index("lloq")] = str(float(first[columns.index("lloq")]) / 1e6)
    write_rows(workdir / "data" / "elisa.tsv", rows, encoding="latin-1")
    overrides = {"elisa": "data/elisa.tsv"}
    completed = run_snakemake(
        workdir, ELISA_VALUES, "--cores", "1", "--configfile", write_configfile(workdir, overrides), check=False
    )
    assert completed.returncode == 0, console(completed)[-3000:]
    values = read_rows(workdir / ELISA_VALUES)
    row = values[1]
    assert row[values[0].index("patient")] == first[columns.index("patient")]
    assert float(row[values[0].index("value")]) == pytest.approx(float(rows[1][columns.index("value")]) * 1e6)


# --------------------------------------------------------------------------------------------
# Gene sets: refused by the enrichment step (on a copy of a run that has its differential tables)

ENRICHMENT_ALL = "results/enrichment/all.tsv"
# one job writes every contrast's table: a refused gene-set file leaves none of them
ENRICHMENT_OUTPUTS = [
    f"results/enrichment/{part}{contrast}.tsv"
    for part in ("", "gsea_curves/")
    for contrast in ("NSDE", "SSDE", "all", "interaction")
]


@pytest.fixture(scope="module")
def differential_run(tmp_path_factory):
    """A copy of the workflow run up to the differential tables (shared; copy before changing)."""
    workdir = copy_example(tmp_path_factory.mktemp("differential"))
    run_snakemake(workdir, "results/differential/all.tsv", "--cores", "2")
    return workdir


GMT_CASES = [
    (
        "empty_library_gmt",
        "data/empty.gmt",
        "",
        {"enrichment": {"extra_gmt": ["data/empty.gmt"]}},
        ["gene-set file data/empty.gmt", "no gene sets found", "expected GMT lines"],
    ),
    (
        "empty_focus_gmt",
        "data/focus.gmt",
        "",
        {"enrichment": {"focus_gmt": "data/focus.gmt"}},
        ["gene-set file data/focus.gmt", "no gene sets found"],
    ),
    (
        "comma_separated_gmt",
        "data/sets.gmt",
        "TH17,my set,IL17A,IL17F,RORC,IL23R,CCL20\n",
        {"enrichment": {"extra_gmt": ["data/sets.gmt"]}},
        ["gene-set file data/sets.gmt", "line 1 has 1 tab-separated field(s)", "expected GMT"],
    ),
]


@pytest.mark.parametrize("path, text, overrides, fragments", [c[1:] for c in GMT_CASES], ids=[c[0] for c in GMT_CASES])
def test_bad_gene_set_file_stops_the_enrichment_cleanly(tmp_path, differential_run, path, text, overrides, fragments):
    workdir = tmp_path / "tearflow"
    shutil.copytree(differential_run, workdir, symlinks=True)
    (workdir / path).parent.mkdir(parents=True, exist_ok=True)
    (workdir / path).write_text(text)
    completed = run_snakemake(
        workdir, ENRICHMENT_ALL, "--cores", "1", "--configfile", write_configfile(workdir, overrides), check=False
    )
    assert "localrule import_abundance" not in console(completed), "the copy reran the import"
    assert_refused(workdir, completed, fragments, "logs/enrichment.log", ENRICHMENT_OUTPUTS)


# --------------------------------------------------------------------------------------------
# Nothing is lost: a fixed input resumes; a killed run reruns to the same tables


def test_rerun_after_fixing_the_table_resumes(tmp_path):
    workdir = copy_example(tmp_path)
    overrides = one_table(_write_wide(workdir, "table.tsv", _set_cell(6, "NSDE02_week2", "n.d.")))
    failed = run_import(workdir, overrides)
    assert_rule_error(workdir, failed, ["'n.d.' is not a number"], IMPORT_LOG, IMPORT_OUTPUTS)

    _write_wide(workdir, "table.tsv")  # the fix: the cell holds a number again
    fixed = run_import(workdir, overrides)
    assert fixed.returncode == 0, console(fixed)[-4000:]
    assert all((workdir / path).exists() for path in IMPORT_OUTPUTS)
    assert "is not a number" not in (workdir / IMPORT_LOG).read_text(encoding="utf-8")
    assert [row[0] for row in read_rows(workdir / RAW)[1:]] == imported_proteins(example_wide(workdir, proteins=60))


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    return shared_local_run(tmp_path_factory, cores=2)


def _wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def code_digest(workdir):
    """A digest of the workflow's code and inputs in a copy (workflow/, scripts/, config/, ...)."""
    digest = hashlib.sha256()
    for part in WORKFLOW_PARTS:
        for path in sorted((Path(workdir) / part).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(workdir).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def test_run_killed_half_way_reruns_to_the_same_tables(tmp_path, reference_run):
    workdir = copy_example(tmp_path)
    if code_digest(workdir) != code_digest(reference_run):
        # The repository changed since the shared run was made (others are editing it): compare
        # with an uninterrupted run of this very copy instead.
        reference_run = tmp_path / "reference"
        for part in WORKFLOW_PARTS:
            shutil.copytree(workdir / part, reference_run / part, symlinks=True)
        run_snakemake(reference_run, "--cores", "2")
    transcript = tmp_path / "interrupted.txt"
    started = re.compile(r"^(local)?rule (\w+):", flags=re.M)

    def rules_started():
        return started.findall(transcript.read_text(errors="replace")) if transcript.exists() else []

    with open(transcript, "w") as stream:
        process = subprocess.Popen(
            [PYTHON, "-m", "snakemake", "--nocolor", "--cores", "1"],
            cwd=workdir,
            env=snakemake_env(),
            stdout=stream,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            # Half-way: the import and normalization are done, a later step is running.
            assert _wait_for(lambda: len(rules_started()) >= 4, timeout=900), transcript.read_text()
            time.sleep(1.0)  # let the step's script start
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=300)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    assert process.returncode != 0, "the run was not interrupted"
    assert (
        not (workdir / "results" / "differential" / "all.tsv").exists()
        or not (workdir / "results" / "joined" / "correlations.tsv").exists()
    ), "the run finished before it was interrupted"

    rerun = run_snakemake(workdir, "--cores", "2", check=False)
    assert rerun.returncode == 0, console(rerun)[-4000:]
    assert_no_traceback(rerun)
    differing = differing_tables(result_tables(reference_run), result_tables(workdir))
    assert not differing, f"tables differ from an uninterrupted run: {differing}"
    temporaries = [p.name for p in (workdir / "results").rglob(".tmp-*")]
    assert not temporaries, f"half-written temporaries left behind: {temporaries}"


# --------------------------------------------------------------------------------------------
# Safety: paths with spaces, HTML in names, no shell commands, safe YAML

HTML_SAMPLE = "NSDE01_baseline<img src=x onerror=alert(1)>"
HTML_PROTEIN = "<b>P99999</b>"
HTML_GENE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def spaced_html_run(tmp_path_factory):
    """A complete run of a copy in `my data/`, reading a sample sheet, an abundance table and an
    ELISA table from folders and files with spaces in their names; one sample and one protein
    (its gene too) are named with HTML."""
    workdir = copy_example(tmp_path_factory.mktemp("spaces"), name="my data")
    rows = example_wide(workdir)
    rows[0][rows[0].index("NSDE01_baseline")] = HTML_SAMPLE
    rows.append([HTML_PROTEIN, HTML_GENE, *rows[1][2:]])
    write_rows(workdir / "tear tables" / "protein groups (batch 1).tsv", rows)
    sheet = sheet_rows(workdir)
    for row in sheet:
        if row[0] == "NSDE01_baseline":
            row[0] = HTML_SAMPLE
    write_rows(workdir / "sample sheets" / "my samples.tsv", sheet)
    write_rows(workdir / "lab results" / "elisa values.tsv", read_rows(workdir / EXAMPLE_ELISA))
    overrides = {
        "samples": "sample sheets/my samples.tsv",
        "proteomics": [{"path": "tear tables/protein groups (batch 1).tsv", "format": "wide"}],
        "elisa": str(workdir / "lab results" / "elisa values.tsv"),  # absolute, with spaces
    }
    completed = run_snakemake(
        workdir, "--cores", "2", "--configfile", write_configfile(workdir, overrides, "my config.yaml"), check=False
    )
    return workdir, completed


def test_paths_with_spaces_work(spaced_html_run):
    workdir, completed = spaced_html_run
    assert " " in str(workdir)
    assert completed.returncode == 0, console(completed)[-4000:]
    assert_no_traceback(completed)
    for path in (RAW, "results/differential/all.tsv", "results/enrichment/all.tsv", ELISA_VALUES):
        assert (workdir / path).exists(), path


def test_html_in_sample_and_protein_names_is_kept_verbatim(spaced_html_run):
    workdir, completed = spaced_html_run
    assert completed.returncode == 0, console(completed)[-4000:]
    raw = read_rows(workdir / RAW)
    assert HTML_SAMPLE in raw[0]
    assert [HTML_PROTEIN, HTML_GENE] in [row[:2] for row in raw[1:]]
    assert HTML_SAMPLE in read_rows(workdir / "results/abundance/normalized.tsv")[0]
    tested = {tuple(row[:2]) for row in read_rows(workdir / "results/differential/all.tsv")[1:]}
    assert (HTML_PROTEIN, HTML_GENE) in tested


RULE_FILES = sorted((REPO / "workflow").rglob("*.smk")) + [REPO / "workflow" / "Snakefile"]
CODE_FILES = RULE_FILES + sorted((REPO / "scripts").rglob("*.py"))


def test_rules_run_scripts_never_shell_commands():
    """Every rule runs a `script:`; no `shell:`/`run:` directive or `shell()` call exists, so no
    config value, wildcard or file name can reach a shell command line."""
    assert RULE_FILES
    problems = []
    for path in RULE_FILES:
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            if re.match(r"\s*(shell|run)\s*:", line) or re.search(r"\bshell\(", line):
                problems.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
        rules = re.findall(r"^rule (\w+):", text, flags=re.M)
        scripts = re.findall(r"^\s+script:", text, flags=re.M)
        executed = [rule for rule in rules if rule != "all"]
        if len(scripts) != len(executed):
            problems.append(f"{path.relative_to(REPO)}: {len(executed)} rules but {len(scripts)} script: directives")
    assert not problems, "\n".join(problems)


def test_scripts_start_no_shell():
    problems = []
    for path in CODE_FILES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"shell\s*=\s*True|os\.system\(|os\.popen\(|subprocess\.(getoutput|getstatusoutput)\(", line):
                problems.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not problems, "\n".join(problems)


def test_yaml_is_only_read_with_safe_load():
    unsafe = re.compile(r"yaml\.(load|unsafe_load|full_load|load_all|unsafe_load_all|full_load_all)\(|Loader\s*=")
    problems, safe = [], 0
    for path in CODE_FILES:
        text = path.read_text(encoding="utf-8")
        safe += len(re.findall(r"yaml\.safe_load\(", text))
        for number, line in enumerate(text.splitlines(), start=1):
            if unsafe.search(line):
                problems.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not problems, "\n".join(problems)
    assert safe, "no yaml.safe_load found: is YAML read some other way?"


def test_a_single_patient_subgroup_runs_the_others_with_a_note(tmp_path):
    """A subgroup with one paired patient: the other subgroup and `all` are computed; that
    subgroup's table (and the interaction's) is there with NA statistics, and a note says why."""
    workdir = copy_example(tmp_path)
    rows = sheet_rows(workdir)
    patient = rows[0].index("patient")
    write_rows(
        workdir / SHEET, [row for row in rows if not row[patient].startswith(("SSDE02", "SSDE03", "SSDE04", "SSDE05"))]
    )
    completed = run_snakemake(workdir, "--cores", "2", check=False)
    output = console(completed)
    assert completed.returncode == 0, output[-3000:]
    notes = lines_with(output, ["subgroup 'SSDE' has 1 patient(s)", "'SSDE' and 'interaction' are written with NA"])
    assert len([line for line in notes if line.startswith("tearflow note: ")]) == 1, notes
    for contrast, tested in (("NSDE", True), ("all", True), ("SSDE", False), ("interaction", False)):
        table = read_rows(workdir / f"results/differential/{contrast}.tsv")
        pvalues = [row[table[0].index("pvalue")] for row in table[1:]]
        assert len(pvalues) > 100
        assert any(value != "NA" for value in pvalues) == tested, contrast
    assert (workdir / "results/enrichment/SSDE.tsv").exists()
    assert (workdir / "results/figures/volcano_SSDE.png").exists()
