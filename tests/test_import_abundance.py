"""Import step: every real format file end to end (exact counts), sample matching, batches, outputs.

Expected counts were derived independently of the readers (plain csv/awk over the files and the
Swiss-Prot map; see the comments), not copied from the step's output.
"""

import logging
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import FIXTURES as TEST_FIXTURES
from conftest import REPO, adapter, config_section

from tearflow.abundance_import import SUMMARY_COLUMNS, import_tables, match_samples, normalised_tables, table_entries
from tearflow.errors import TearflowError
from tearflow.genes import read_gene_map
from tearflow.tables import read_tsv

FORMATS = TEST_FIXTURES / "formats" / "real"
FIXTURES = REPO / "tests" / "fixtures" / "formats"
GENE_MAP = REPO / "resources" / "idmap" / "uniprot_human_swissprot_2020-03-13.tsv"


@pytest.fixture(scope="module")
def gene_map():
    return read_gene_map(GENE_MAP)


def sheet_of(samples, batches=None):
    sheet = pd.DataFrame(
        {
            "sample": samples,
            "patient": [f"p{i // 2}" for i in range(len(samples))],
            "subgroup": "NSDE",
            "timepoint": ["baseline", "week2"] * (len(samples) // 2) + ["baseline"] * (len(samples) % 2),
        }
    )
    if batches is not None:
        sheet["batch"] = batches
    return sheet


def run_import(path, samples, gene_map, fmt="auto", options=None, fasta_map=None):
    entries = table_entries([{"path": str(path), "format": fmt, "batch": None}])
    return import_tables(entries, sheet_of(samples), config_section("import", **(options or {})), fasta_map, gene_map)


# ------------------------------------------------------------------------------ every real file

MQ_SAMPLES = ["AC381", "AC384", "AC386_b", "AC392", "AC399", "UT805", "UT812_b", "UT815", "UT821", "UT822"]
DIANN_RUNS = [f"LFQ_Orbitrap_AIF_Condition_{c}_Sample_Alpha_0{i}" for c in "AB" for i in (1, 2, 3)]


@pytest.mark.parametrize(
    "path, samples, kept, genes_mapped, removed",
    [
        # 882 rows − 12 reverse − 31 contaminants − 66 site-only = 773; 15 of them have no LFQ
        # intensity > 0 in any sample → 758. GN= in Fasta headers: 637; Swiss-Prot map adds 44.
        (
            FORMATS / "maxquant" / "proteinGroups.txt",
            MQ_SAMPLES,
            758,
            681,
            {"decoy": 12, "contaminant": 31, "site_only": 66, "all_missing": 15},
        ),
        # 10 groups, 3 with every run empty; every group has Genes
        (FORMATS / "diann" / "report_final.pg_matrix.tsv", [f"S{i}" for i in range(1, 21)], 7, 7, {"all_missing": 3}),
        # 220 groups; Q.Value/PG.Q.Value <= 0.01 keeps 217; one has PG.MaxLFQ 0 only → 216;
        # Genes empty → map: 14 E. coli / yeast accessions unmapped → 202
        (
            FORMATS / "diann" / "report_long_diann1.9.tsv",
            DIANN_RUNS,
            216,
            202,
            {"qvalue_filtered": 3, "all_missing": 1},
        ),
        # 10 proteins, 4 with all 20 Razor Intensity cells 0 (FTL, FTH1, F11, CAT); all have Gene Names
        (FORMATS / "fragpipe" / "combined_proteins.tsv", [f"S{i}" for i in range(1, 21)], 6, 6, {"all_missing": 4}),
        # 33 groups, one run, no PG.Genes column; every group has a Swiss-Prot accession
        (
            FORMATS / "spectronaut" / "results_non_european_comma.tsv",
            ["20221015_EV_TP_40SPD_LITDIA_MS1_Rapid_MS2_Rapid_57w_100ng_03"],
            33,
            33,
            {},
        ),
        # 18 groups, 5 with a non-zero abundance; GN= in description for TTR, sce7334, sce8672;
        # bovine/pig accessions are not in the human map
        (
            FORMATS / "mztab" / "ProteomicsLFQ_1_out.mzTab",
            ["assay[1]", "assay[2]", "assay[3]"],
            5,
            3,
            {"all_missing": 13},
        ),
    ],
)
def test_real_format_files_exact_counts(path, samples, kept, genes_mapped, removed, gene_map):
    raw, removed_table, summary, runs = run_import(path, samples, gene_map)
    assert len(raw) == kept
    assert list(raw.columns) == ["protein", "gene", *samples]
    row = summary.iloc[0]
    assert row["proteins_kept"] == kept
    assert row["samples_matched"] == len(samples)
    assert row["genes_mapped"] == genes_mapped
    assert removed_table["reason"].value_counts().to_dict() == removed
    assert raw["gene"].notna().all()
    assert list(runs["sample"]) == samples


def test_identification_only_mztab_refused_by_the_step(gene_map):
    with pytest.raises(TearflowError, match="identification-only"):
        run_import(FORMATS / "mztab" / "maxquant_identification_only.mztab", ["x"], gene_map)


def test_mztab_assay_matched_by_its_run_stem(gene_map):
    raw, _removed, _summary, runs = run_import(
        FORMATS / "mztab" / "ProteomicsLFQ_1_out.mzTab", ["BSA1_F1", "BSA2_F1"], gene_map
    )
    assert list(runs["run"]) == ["assay[1]", "assay[2]"]
    assert raw.set_index("protein").loc["P02769|ALBU_BOVIN", "BSA2_F1"] == pytest.approx(1.39633376e8)


# ------------------------------------------------------------------------------ fixtures


def test_maxquant_fixture_summary_and_excel_notes(gene_map):
    raw, removed, summary, _runs = run_import(
        FIXTURES / "maxquant_gene_names_proteinGroups.txt", ["P01_baseline", "P01_week2"], gene_map
    )
    # kept: ALB, SEPTIN2 (2-Sep repaired), A0A999ZZZ1 (1-Mar, not repairable), LYZ, PIGR (map), LCN1
    assert list(raw["gene"]) == ["ALB", "SEPTIN2", "A0A999ZZZ1", "LYZ", "PIGR", "LCN1"]
    row = summary.iloc[0]
    assert (row["decoys_removed"], row["contaminants_removed"], row["site_only_removed"]) == (1, 2, 1)
    assert (row["proteins_kept"], row["genes_mapped"], row["genes_excel_mangled"], row["all_missing_removed"]) == (
        6,
        5,
        2,
        1,
    )
    # what normalization.method auto reads: MaxQuant's LFQ intensities are normalised across runs
    assert (row["quantity"], row["normalised_by_search_engine"]) == ("LFQ intensity", True)
    assert normalised_tables(summary) == [(row["table"], "LFQ intensity", True)]
    notes = removed[removed["reason"].str.startswith("excel_mangled_gene")]
    assert list(notes["protein"]) == ["Q15019", "A0A999ZZZ1"]
    assert list(removed.columns) == ["table", "protein", "gene", "reason"]


def test_fragpipe_ionquant_fixture(gene_map):
    raw, _removed, summary, _runs = run_import(
        FIXTURES / "fragpipe_ionquant_combined_protein.tsv", ["P01_baseline", "P01_week2"], gene_map
    )
    assert list(raw["protein"]) == ["P02768", "P61626", "P01833"]
    assert list(raw["gene"]) == ["ALB", "LYZ", "PIGR"]
    assert summary.iloc[0]["contaminants_removed"] == 1
    assert np.isnan(raw.set_index("protein").loc["P61626", "P01_week2"])


def test_diann18_posix_fixture_stems_and_left_out_run(gene_map, caplog):
    caplog.set_level(logging.INFO)
    raw, removed, summary, runs = run_import(
        FIXTURES / "diann18_posix.pg_matrix.tsv", ["P01_baseline", "P01_week2"], gene_map
    )
    assert list(runs["run"]) == ["/data/tearflow/raw/P01_baseline.raw", "/data/tearflow/raw/P01_week2.raw"]
    # Q15019 is quantified only in the QC pool, which is not in the sheet
    assert list(raw["protein"]) == ["P02768", "P61626", "P01833"]
    assert summary.iloc[0]["runs_left_out"] == 1
    assert "QC_pool_01" in caplog.text
    assert set(removed["reason"]) == {"contaminant", "all_missing"}


def test_spectronaut_pivot_fixture(gene_map):
    raw, _removed, summary, _runs = run_import(
        FIXTURES / "spectronaut_pivot_report.tsv", ["P01_baseline", "P01_week2"], gene_map
    )
    assert list(raw["gene"]) == ["ALB", "LYZ", "LCN1"]
    assert summary.iloc[0]["all_missing_removed"] == 1


def test_wide_fixture_with_fasta_and_excel_repair(gene_map):
    from tearflow.genes import read_fasta_genes

    fasta = read_fasta_genes(FIXTURES / "uniprot_small.fasta")
    raw, removed, summary, _runs = run_import(
        FIXTURES / "wide_latin1.csv", ["P01_baseline", "P01_week2"], gene_map, fasta_map=fasta
    )
    assert list(raw["gene"]) == ["ALB", "LYZ", "SEPTIN2", "PIGR"]
    assert "repaired to 'SEPTIN2' from the fasta" in removed["reason"].iloc[-1]
    assert summary.iloc[0]["genes_mapped"] == 4


def test_unmapped_proteins_keep_accession_without_map():
    raw, _removed, summary, _runs = run_import(FIXTURES / "wide_bom.tsv", ["P01_baseline", "P01_week2"], None)
    assert list(raw["gene"]) == ["P02768", "P61626", "P31025"]
    assert summary.iloc[0]["genes_mapped"] == 0 and summary.iloc[0]["genes_unmapped"] == 3


# ------------------------------------------------------------------------------ sample matching


def test_match_exact_before_stem():
    runs = {"b": ["S1", r"D:\x\S1.raw", r"D:\x\S2.raw", "/data/S3.mzML"]}
    matches = match_samples(sheet_of(["S1", "S2", "S3"]), runs)
    assert list(matches["run"]) == ["S1", r"D:\x\S2.raw", "/data/S3.mzML"]


def test_two_runs_with_one_stem_are_ambiguous():
    with pytest.raises(TearflowError, match="matches several runs"):
        match_samples(sheet_of(["S1"]), {"b": [r"D:\x\S1.raw", "/y/S1.raw"]})


def test_sheet_sample_missing_lists_both_sides():
    with pytest.raises(TearflowError) as error:
        match_samples(sheet_of(["S1", "S9"]), {"b": ["S1", "S2"]})
    message = str(error.value)
    assert "S9" in message and "S2" in message and "not found" in message


def test_missing_sample_lists_only_unmatched_runs():
    with pytest.raises(TearflowError) as error:
        match_samples(sheet_of(["S1", "S9"]), {"b": ["S1", "S2", "S9x"]})
    message = str(error.value)
    assert "not found in any protein table: S9." in message
    assert "Runs no sheet sample matched (matched exactly or by file stem): b: S2, S9x" in message


def test_missing_sample_whose_column_is_text_says_so():
    with pytest.raises(TearflowError) as error:
        match_samples(
            sheet_of(["S1", "S2"]),
            {"b": ["S1"]},
            tables_by_batch={"b": "t.tsv"},
            text_by_batch={"b": {"S2": "n.d.", "note": "x"}},
        )
    message = str(error.value)
    assert "column 'S2' of t.tsv holds no numbers (first cell 'n.d.')" in message
    assert "'note'" not in message


def test_sample_in_two_tables_is_an_error():
    with pytest.raises(TearflowError, match="more than one table"):
        match_samples(sheet_of(["S1"]), {"a": ["/x/S1.raw"], "b": ["S1"]})


def test_sheet_batch_naming_another_table_is_an_error():
    with pytest.raises(TearflowError, match="column 'batch' says 'a'"):
        match_samples(sheet_of(["S1"], batches=["a"]), {"a": ["S2"], "b": ["S1"]})


def test_all_missing_sample_is_an_error(tmp_path, gene_map):
    path = tmp_path / "wide.tsv"
    path.write_text("protein\tS1\tS2\nP02768\t1\t\nP61626\t2\tNaN\n")
    with pytest.raises(TearflowError, match="S2 \\(column 'S2'\\) have no intensity"):
        run_import(path, ["S1", "S2"], gene_map)


def test_two_batches_combined_by_protein(tmp_path, gene_map):
    first = tmp_path / "batch1.tsv"
    first.write_text("protein\tgene\tA1\tA2\tQC\nP02768\tALB\t1\t2\t3\nP61626\tLYZ\t4\t\t5\n")
    second = tmp_path / "batch2.csv"
    second.write_text("protein,B1,B2\nP02768,10,20\nP31025,30,40\n")
    entries = table_entries(
        [
            {"path": str(first), "format": "auto", "batch": None},
            {"path": str(second), "format": "auto", "batch": "run2"},
        ]
    )
    assert [e["batch"] for e in entries] == ["batch1", "run2"]
    raw, _removed, summary, runs = import_tables(
        entries,
        sheet_of(["A1", "A2", "B1", "B2"], ["batch1", "batch1", "run2", "run2"]),
        config_section("import"),
        None,
        gene_map,
    )
    assert list(raw["protein"]) == ["P02768", "P61626", "P31025"]
    assert list(raw["gene"]) == ["ALB", "LYZ", "LCN1"]
    assert np.isnan(raw.set_index("protein").loc["P31025", "A1"])
    assert raw.set_index("protein").loc["P02768", "B2"] == 20
    assert list(summary["batch"]) == ["batch1", "run2"]
    assert list(summary["samples_matched"]) == [2, 2]
    assert list(runs["batch"]) == ["batch1", "batch1", "run2", "run2"]


def test_duplicate_batch_names_are_an_error():
    with pytest.raises(TearflowError, match="batch name"):
        table_entries(
            [
                {"path": "a/report.tsv", "format": "auto", "batch": "one"},
                {"path": "b/report.tsv", "format": "auto", "batch": "one"},
            ]
        )
    # the same file name in two folders of one name: the folders cannot tell them apart either
    with pytest.raises(TearflowError, match="batch name.*report used by more than one table"):
        table_entries(
            [
                {"path": "a/x/report.tsv", "format": "auto", "batch": None},
                {"path": "b/x/report.tsv", "format": "auto", "batch": None},
            ]
        )


def test_tables_sharing_a_file_name_are_named_by_their_folders(caplog):
    entries = table_entries(
        [
            {"path": "run1/report.parquet", "format": "auto", "batch": None},
            {"path": "run2/report.parquet", "format": "auto", "batch": None},
            {"path": "extra/pg_matrix.tsv", "format": "auto", "batch": None},
            {"path": "run3/report.parquet", "format": "auto", "batch": "late"},
        ]
    )
    assert [entry["batch"] for entry in entries] == ["run1", "run2", "pg_matrix", "late"]
    assert "run1/report.parquet → run1, run2/report.parquet → run2" in caplog.text


# ------------------------------------------------------------------------------ main (thin adapter)


def test_main_writes_the_contract_tables(tmp_path):
    sheet = tmp_path / "samples.tsv"
    sheet_of(["P01_baseline", "P01_week2"]).to_csv(sheet, sep="\t", index=False)
    out = tmp_path / "results"
    snakemake = SimpleNamespace(
        input=SimpleNamespace(samples=str(sheet), gene_map=str(GENE_MAP)),
        output=SimpleNamespace(
            table=str(out / "raw.tsv"),
            removed=str(out / "removed.tsv"),
            summary=str(out / "summary.tsv"),
            runs=str(out / "runs.tsv"),
        ),
        params=SimpleNamespace(
            tables=[{"path": str(FIXTURES / "diann18_posix.pg_matrix.tsv"), "format": "auto", "batch": None}],
            options=config_section("import"),
            precursor_level=False,
        ),
    )
    adapter("import_abundance").main(snakemake)
    raw = read_tsv(out / "raw.tsv")
    assert list(raw.columns) == ["protein", "gene", "P01_baseline", "P01_week2"]
    assert raw["P01_week2"].isna().sum() == 1
    summary = read_tsv(out / "summary.tsv")
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert summary.loc[0, "format"] == "diann_matrix"
    assert list(read_tsv(out / "removed.tsv").columns) == ["table", "protein", "gene", "reason"]


def test_quantification_plan_follows_the_method_and_the_tables():
    from tearflow.abundance_import import PRECURSOR_LEVEL, PROTEIN_LEVEL, quantification_plan

    options = config_section("import")
    report = TEST_FIXTURES / "precursor" / "diann1.9_HYE_AIF_report.tsv"
    matrix = FORMATS / "diann" / "report_final.pg_matrix.tsv"
    ions = TEST_FIXTURES / "precursor" / "fragpipe_combined_ion.tsv"

    def plan(paths, method):
        tables = [(f"proteomics[{i}]", path, "auto") for i, path in enumerate(paths)]
        return quantification_plan(tables, method, options)

    assert plan([report], "dpc") == ("dpc", PRECURSOR_LEVEL)
    assert plan([report], "none") == ("none", PROTEIN_LEVEL)  # DIA-NN's own protein quantities
    assert plan([matrix], "dpc") == ("dpc", PROTEIN_LEVEL)  # quantified row by row
    assert plan([ions], "dpc") == ("dpc", PRECURSOR_LEVEL)
    # auto: DPC from precursors whenever every table has them, else the tables' protein values
    assert plan([report], "auto") == ("dpc", PRECURSOR_LEVEL)
    assert plan([ions, report], "auto") == ("dpc", PRECURSOR_LEVEL)
    assert plan([matrix], "auto") == ("none", PROTEIN_LEVEL)
    assert plan([report, matrix], "auto") == ("none", PROTEIN_LEVEL)
    with pytest.raises(TearflowError, match=r"proteomics\[0\].*fragpipe_ion table.*quantification.method: dpc"):
        plan([ions], "none")
    with pytest.raises(TearflowError, match=r"levels \(proteomics\[0\]: protein level; proteomics\[1\]: prec"):
        plan([matrix, ions], "auto")
    with pytest.raises(TearflowError, match=r"different levels \(proteomics\[0\]: precursor level; proteomics\[1\]"):
        plan([report, matrix], "dpc")


def test_sheet_check_suggests_the_run_that_differs_only_in_case(tmp_path):
    """A sheet typed in lower case: the closest run named is the same name in upper case, not a
    run of the other subgroup that is one letter off in the same case."""
    from tearflow.abundance_import import check_sheet_samples_in_tables
    from tearflow.samples import read_sample_sheet

    runs = ["NSDE01_baseline", "NSDE01_week2", "SSDE01_baseline", "SSDE01_week2"]
    table = tmp_path / "pg.tsv"
    table.write_text("\t".join(["Protein.Group", "Genes", *runs]) + "\nP1\tG1\t1\t2\t3\t4\n", encoding="utf-8")
    sheet_path = tmp_path / "samples.tsv"
    rows = [f"{run.lower()}\t{run[:6]}\t{run[:4]}\t{run[7:]}" for run in runs]
    sheet_path.write_text("\n".join(["sample\tpatient\tsubgroup\ttimepoint", *rows]) + "\n", encoding="utf-8")
    sheet = read_sample_sheet(sheet_path)
    with pytest.raises(TearflowError) as raised:
        check_sheet_samples_in_tables(sheet, sheet_path, [("proteomics[0]", str(table), "auto")], {})
    message = str(raised.value)
    assert "4 sample(s) named in no proteomics table: nsde01_baseline, nsde01_week2, ssde01_baseline" in message
    # case-sensitively SSDE01_baseline ties with NSDE01_baseline (and wins the tie)
    assert "'nsde01_baseline' ~ 'NSDE01_baseline', 'nsde01_week2' ~ 'NSDE01_week2'" in message


def test_import_summary_without_the_quantity_columns_is_named():
    old = pd.DataFrame({"table": ["a.tsv"], "batch": ["a"]})
    with pytest.raises(TearflowError, match=r"results/qc/import_summary.tsv: no column\(s\) quantity, "):
        normalised_tables(old, "results/qc/import_summary.tsv")
