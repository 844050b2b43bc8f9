"""Snakemake reruns exactly what a change affects: nothing when nothing changed; the import and
everything downstream when a batch is added; one step and its descendants when one of its config
keys changes. Dry runs on one completed run of the example (shared with tests/test_slurm.py)."""

import csv
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import config_section
from workflow_runner import (
    downstream_rules,
    planned_jobs,
    rule_graph,
    run_snakemake,
    shared_local_run,
    summary_rows,
    write_configfile,
)

RERUN_TRIGGERS = ("--rerun-triggers", "mtime", "params", "input", "code", "software-env")

IMPORTED = "results/abundance/precursors.parquet"  # the example is a precursor report
NORMALIZED = "results/abundance/normalized.tsv"
DIFFERENTIAL_ALL = "results/differential/all.tsv"
ELISA_VALUES = "results/elisa/values.tsv"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return shared_local_run(tmp_path_factory, cores=2)


@pytest.fixture(scope="module")
def summary(workdir):
    """One row per output of the completed run: output_file, rule, inputs, ..."""
    return summary_rows(workdir)


@pytest.fixture(scope="module")
def rule_of(summary):
    """{output path: rule} of the completed run."""
    return {row["output_file"]: row["rule"] for row in summary}


@pytest.fixture(scope="module")
def graph(workdir):
    return rule_graph(workdir)


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.reader(stream, delimiter="\t"))


def write_rows(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as stream:
        csv.writer(stream, delimiter="\t", lineterminator="\n").writerows(rows)


def second_batch(workdir, destination, prefix="B2"):
    """Write a second batch next to the example: a copy of the example's table whose samples are
    renamed `<prefix>_<sample>` (intensities x1.5, so they differ), and a sample sheet with new rows
    for them (new patients `<prefix>_<patient>`, batch `batch2`). Return (table path, sheet path)."""
    config = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    source = workdir / config["proteomics"][0]["path"]
    sheet = read_rows(workdir / config["samples"])
    header = sheet[0]
    samples = {row[header.index("sample")]: row for row in sheet[1:]}
    if source.suffix == ".parquet":
        table_path, renamed = _second_precursor_report(source, destination, samples, prefix)
    else:
        table_path, renamed = _second_protein_table(source, destination, samples, prefix)
    assert renamed, "no sample of the example table matched the sample sheet"

    new_rows = []
    for stem in renamed:
        row = dict(zip(header, samples[stem]))
        row["sample"] = f"{prefix}_{stem}"
        row["patient"] = f"{prefix}_{row['patient']}"
        row["batch"] = "batch2"
        new_rows.append([row.get(name, "") for name in header + ["batch"] * ("batch" not in header)])
    sheet_header = header + ["batch"] * ("batch" not in header)
    old_rows = [row + [""] * (len(sheet_header) - len(row)) for row in sheet[1:]]
    sheet_path = destination / "samples_two_batches.tsv"
    write_rows(sheet_path, [sheet_header, *old_rows, *new_rows])
    return table_path, sheet_path


def _second_precursor_report(source, destination, samples, prefix):
    """The DIA-NN precursor report with its runs renamed and its quantities x1.5."""
    import pandas as pd

    report = pd.read_parquet(source)
    report = report[report["Run"].isin(samples)].copy()
    renamed = sorted(report["Run"].unique())
    report["Run"] = prefix + "_" + report["Run"]
    for column in ("Precursor.Quantity", "Precursor.Normalised", "PG.MaxLFQ"):
        report[column] = report[column] * 1.5
    table_path = destination / "batch2.report.parquet"
    report.to_parquet(table_path, index=False)
    return table_path, renamed


def _second_protein_table(source, destination, samples, prefix):
    """The protein table with its sample columns renamed and their values x1.5."""
    table = read_rows(source)
    renamed_header, renamed = [], []
    for column in table[0]:
        stem = Path(column.replace("\\", "/")).stem
        if stem not in samples:
            renamed_header.append(column)
            continue
        renamed_header.append(column.replace(stem, f"{prefix}_{stem}"))
        renamed.append(stem)
    sample_columns = {i for i, name in enumerate(renamed_header) if name != table[0][i]}
    body = [[scaled(value) if i in sample_columns else value for i, value in enumerate(row)] for row in table[1:]]
    table_path = destination / "batch2.pg_matrix.tsv"
    write_rows(table_path, [renamed_header, *body])
    return table_path, renamed


def scaled(value):
    try:
        return repr(float(value) * 1.5)
    except ValueError:
        return value  # empty / NA stays missing


def test_unchanged_workflow_has_nothing_to_do(workdir):
    completed = run_snakemake(workdir, "--dry-run", *RERUN_TRIGGERS)
    assert "Nothing to be done" in completed.stdout + completed.stderr


def test_new_batch_reruns_import_and_downstream_only(workdir, tmp_path, summary, rule_of, graph):
    table_path, sheet_path = second_batch(workdir, tmp_path)
    config = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    configfile = write_configfile(
        tmp_path,
        {
            "samples": str(sheet_path),
            "proteomics": [
                *config["proteomics"],
                {"path": str(table_path), "batch": "batch2"},
            ],
        },
    )
    planned = set(planned_jobs(workdir, "--configfile", configfile, *RERUN_TRIGGERS))

    # The rules that read an abundance table or the sample sheet, and everything downstream of
    # them, must rerun; nothing else may.
    old_inputs = {config["samples"], *(table["path"] for table in config["proteomics"])}
    readers = {row["rule"] for row in summary if old_inputs & set(row["inputs"])}
    import_rule = rule_of[IMPORTED]
    assert import_rule in readers
    affected = downstream_rules(graph, readers)
    missing = affected - planned
    assert not missing, f"downstream of the new batch but not rerun: {sorted(missing)}"
    unrelated = planned - affected
    assert not unrelated, f"rerun though they read neither the proteome nor the sheet: {sorted(unrelated)}"
    if ELISA_VALUES in rule_of and rule_of[ELISA_VALUES] not in readers:
        assert rule_of[ELISA_VALUES] not in planned, "ELISA values do not depend on the proteome"


def test_changed_method_key_reruns_that_step_and_descendants_only(workdir, tmp_path, rule_of, graph):
    min_pairs = config_section("differential")["min_pairs"]
    configfile = write_configfile(tmp_path, {"differential": {"min_pairs": min_pairs + 1}})
    planned = set(planned_jobs(workdir, "--configfile", configfile, *RERUN_TRIGGERS))

    differential_rules = {rule for path, rule in rule_of.items() if path.startswith("results/differential/")}
    assert rule_of[DIFFERENTIAL_ALL] in planned
    expected_at_most = downstream_rules(graph, differential_rules)
    assert planned <= expected_at_most, f"rerun but not downstream: {sorted(planned - expected_at_most)}"
    missing = downstream_rules(graph, [rule_of[DIFFERENTIAL_ALL]]) - planned
    assert not missing, f"downstream of the differential step but not rerun: {sorted(missing)}"
    for upstream in (IMPORTED, NORMALIZED, ELISA_VALUES):
        if upstream in rule_of:
            assert rule_of[upstream] not in planned, f"{upstream} does not depend on differential"


def moved_copy(workdir, destination):
    """The finished run copied to another folder with its file times and Snakemake's records, as
    `rsync -a` to a cluster or a renamed project folder leaves it."""
    copy = destination / "moved"
    for part in ("workflow", "scripts", "config", "resources", "envs", "results", ".snakemake"):
        shutil.copytree(workdir / part, copy / part, symlinks=True)
    return copy


def test_moved_project_has_nothing_to_do(workdir, tmp_path):
    # No step may record an absolute path of the project among its inputs or params.
    assert planned_jobs(moved_copy(workdir, tmp_path), *RERUN_TRIGGERS) == {}


def test_edited_step_script_reruns_that_step_and_descendants_only(workdir, tmp_path, graph):
    copy = moved_copy(workdir, tmp_path)  # the shared run stays untouched
    before = set(planned_jobs(copy, *RERUN_TRIGGERS))
    assert "enrichment" not in before
    with open(copy / "scripts" / "enrichment.py", "a", encoding="utf-8") as script:
        script.write("\n# an edit a developer made\n")
    after = set(planned_jobs(copy, *RERUN_TRIGGERS))
    assert "enrichment" in after
    assert after <= before | downstream_rules(graph, ["enrichment"]), sorted(after - before)
    for upstream in ("import_abundance", "normalize", "differential", "elisa_values"):
        assert upstream not in after, f"{upstream} does not run enrichment.py"


def test_touch_reruns_nothing_and_forcerun_redoes_the_step_and_downstream(workdir, tmp_path, graph):
    # What the README's "Adding a new batch" says: Snakemake compares the content of an input below
    # --max-checksum-file-size (1 MB), so touching the unchanged sample sheet reruns nothing, while a
    # larger table reruns on its time; --forcerun/-R <rule> redoes that rule and what follows it.
    copy = moved_copy(workdir, tmp_path)
    config = yaml.safe_load((copy / "config" / "config.yaml").read_text())
    sheet = copy / config["samples"]
    assert sheet.stat().st_size < 1_000_000
    sheet.touch()
    assert planned_jobs(copy, *RERUN_TRIGGERS) == {}
    forced = set(planned_jobs(copy, "-R", "differential", *RERUN_TRIGGERS))
    assert forced - {"all"} == downstream_rules(graph, ["differential"]) - {"all"}
    table = copy / config["proteomics"][0]["path"]
    assert table.stat().st_size > 1_000_000
    table.touch()
    assert "import_abundance" in planned_jobs(copy, *RERUN_TRIGGERS)
