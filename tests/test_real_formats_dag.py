"""The whole DAG on the real search-engine files in tests/fixtures/formats/real (issue 3): their runs are
paired into pseudo-patients (baseline, week2) in two subgroups, and every step must finish and
keep the output contract on what each tool really writes."""

import pytest
from conftest import FIXTURES, config_section
from workflow_runner import copy_workflow, run_snakemake, write_configfile

from tearflow.readers import read_table
from tearflow.tables import read_tsv

FORMATS = FIXTURES / "formats" / "real"


def pseudo_patients(runs, condition_pairs=False):
    """(baseline run, follow-up run) pairs: consecutive runs, or for the HYE mixture the i-th run
    of condition A with the i-th of condition B."""
    if condition_pairs:
        first = sorted(r for r in runs if "Condition_A" in r)
        second = sorted(r for r in runs if "Condition_B" in r)
        return list(zip(first, second))
    return [(runs[i], runs[i + 1]) for i in range(0, len(runs) - 1, 2)]


def write_sheet(path, pairs, subgroups):
    lines = ["sample\tpatient\tsubgroup\ttimepoint"]
    for number, ((base, follow), subgroup) in enumerate(zip(pairs, subgroups), start=1):
        patient = f"P{number:02d}"
        lines += [f"{base}\t{patient}\t{subgroup}\tbaseline", f"{follow}\t{patient}\t{subgroup}\tweek2"]
    path.write_text("\n".join(lines) + "\n")


CASES = [
    ("maxquant/proteinGroups.txt", False),
    ("diann/report_final.pg_matrix.tsv", False),
    ("diann/report_long_diann1.9.tsv", True),
    ("fragpipe/combined_proteins.tsv", False),
]


@pytest.mark.parametrize(
    "relative, condition_pairs", CASES, ids=[c[0].split("/")[0] + ":" + c[0].split("/")[1] for c in CASES]
)
def test_whole_dag_runs_on_a_real_table(tmp_path, relative, condition_pairs):
    table_path = FORMATS / relative
    pairs = pseudo_patients(read_table(table_path, "auto", config_section("import")).runs, condition_pairs)
    # two subgroups when there are enough pseudo-patients, else one
    subgroups = (
        ["A" if i < (len(pairs) + 1) // 2 else "B" for i in range(len(pairs))]
        if len(pairs) >= 4
        else ["A"] * len(pairs)
    )
    workdir = copy_workflow(tmp_path)
    sheet = workdir / "pseudo_samples.tsv"
    write_sheet(sheet, pairs, subgroups)
    overrides = {
        "samples": str(sheet),
        "proteomics": [{"path": str(table_path), "format": "auto"}],
        "elisa": None,
        "clinical": None,
        "differential": {"min_pairs": 2},
    }
    run_snakemake(workdir, "--cores", "2", "--configfile", write_configfile(workdir, overrides))
    contrasts = sorted(set(subgroups)) + ["all"] + (["interaction"] if len(set(subgroups)) == 2 else [])
    normalized = read_tsv(workdir / "results/abundance/normalized.tsv")
    assert len(normalized) > 0
    assert len(normalized.columns) == 2 + 2 * len(pairs)
    for contrast in contrasts:
        table = read_tsv(workdir / f"results/differential/{contrast}.tsv")
        assert len(table) == len(normalized)
        tested = table["pvalue"].notna()
        assert (table.loc[tested, "pvalue"] > 0).all() and table.loc[~tested, "t"].isna().all()
        assert (workdir / f"results/enrichment/{contrast}.tsv").exists()
        assert (workdir / f"results/figures/volcano_{contrast}.png").exists()
    summary = read_tsv(workdir / "results/qc/import_summary.tsv")
    assert summary["samples_matched"].tolist() == [2 * len(pairs)]


PRECURSOR_CASES = [
    (FIXTURES / "precursor" / "diann1.9_HYE_AIF_report.tsv", True, "precursors.parquet"),
    (FIXTURES / "formats" / "real" / "diann" / "report_final.pg_matrix.tsv", False, "raw.tsv"),
]


@pytest.mark.parametrize("table_path, condition_pairs, imported", PRECURSOR_CASES, ids=["precursor", "row"])
def test_whole_dag_with_dpc_quantification(tmp_path, table_path, condition_pairs, imported):
    """quantification.method dpc: a precursor report is read at precursor level and quantified by
    the DPC, a protein table row by row; every protein observed in a contrast's pairs is tested, with
    its standard errors as precision weights."""
    options = config_section("import")
    if imported == "precursors.parquet":
        from tearflow.readers import read_precursors

        runs = read_precursors(table_path, "auto", options).runs
    else:
        runs = read_table(table_path, "auto", options).runs
    pairs = pseudo_patients(runs, condition_pairs)
    subgroups = ["A"] * len(pairs)
    workdir = copy_workflow(tmp_path)
    sheet = workdir / "pseudo_samples.tsv"
    write_sheet(sheet, pairs, subgroups)
    overrides = {
        "samples": str(sheet),
        "proteomics": [{"path": str(table_path)}],
        "quantification": {"method": "dpc"},
        "elisa": None,
        "clinical": None,
        "differential": {"min_pairs": 2},
    }
    run_snakemake(workdir, "--cores", "2", "--configfile", write_configfile(workdir, overrides))
    assert (workdir / "results" / "abundance" / imported).exists()
    quantified = read_tsv(workdir / "results/abundance/quantified.tsv")
    standard_errors = read_tsv(workdir / "results/abundance/quantified_se.tsv")
    assert quantified.iloc[:, 2:].notna().all().all(), "DPC estimates are complete"
    assert (standard_errors.iloc[:, 2:] > 0).all().all()
    table = read_tsv(workdir / "results/differential/all.tsv")
    observed = read_tsv(workdir / "results/abundance/quantified_observed.tsv").set_index("protein")
    seen = (observed[[base for base, _ in pairs] + [follow for _, follow in pairs]] > 0).any(axis=1)
    tested = table.set_index("protein")["pvalue"].notna()
    assert tested.equals(seen.reindex(tested.index)), "tested = observed at least once in the pairs"
    assert {"n_pairs_observed", "n_precursors"} <= set(table.columns)
    assert (workdir / "results/figures/dpc.png").stat().st_size > 0
    curve = read_tsv(workdir / "results/qc/dpc.tsv").iloc[0]
    assert curve["model"] == "cn" and curve["slope"] > 0
