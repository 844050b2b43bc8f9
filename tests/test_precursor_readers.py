"""Precursor-level readers on real files and hand-written fixtures (tests/fixtures/precursor/README.md).

Expected counts were worked out independently of the readers (awk, or csv/pandas over the files, as
the comments say), not copied from their output.
"""

import gzip
import logging
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import REPO, config_section

from tearflow.abundance_import import match_samples, with_genes
from tearflow.errors import TearflowError
from tearflow.genes import read_gene_map
from tearflow.readers import (
    PRECURSOR_FORMATS,
    PrecursorTable,
    detect_format,
    detect_precursor_format,
    read_precursors,
    read_table,
    sample_names_in,
)
from tearflow.readers.text import file_stem

IMPORT = config_section("import")


def precursors_of(path, fmt="auto", **options):
    """read_precursors with the config's default import options (as the workflow passes them)."""
    return read_precursors(path, fmt, {**IMPORT, **options})


def protein_table(path, fmt="auto", **options):
    return read_table(path, fmt, {**IMPORT, **options})

FIXTURES = REPO / "tests" / "fixtures" / "precursor"
HYE = FIXTURES / "diann1.9_HYE_AIF_report.tsv"
UPS = FIXTURES / "maxquant_peptides_UPS1_25vs10fmol.txt.gz"
UPS_SAMPLES = FIXTURES / "maxquant_peptides_UPS1_25vs10fmol_samples.txt"
SPECTRONAUT_REAL = FIXTURES / "spectronaut_results_non_european_comma.tsv"
SPECTRONAUT = FIXTURES / "spectronaut_precursor_report.tsv"
FRAGPIPE = FIXTURES / "fragpipe_combined_ion.tsv"
EVIDENCE = FIXTURES / "maxquant_evidence.txt"
GENE_MAP = REPO / "resources" / "idmap" / "uniprot_human_swissprot_2020-03-13.tsv"

HYE_RUNS = [
    f"LFQ_Orbitrap_AIF_Condition_{c}_Sample_Alpha_0{i}" for c, i in [("A", 1), ("A", 3), ("B", 1), ("B", 2), ("B", 3)]
] + ["LFQ_Orbitrap_AIF_Condition_A_Sample_Alpha_02"]  # order of first appearance in the report
HYE_NUMERIC = [
    "PG.MaxLFQ",
    "Q.Value",
    "PEP",
    "Global.Q.Value",
    "PG.Q.Value",
    "Lib.Q.Value",
    "Lib.PG.Q.Value",
    "Precursor.Quantity",
    "Precursor.Normalised",
]


def _counts(table):
    return table.removed["reason"].value_counts().to_dict()


def _sheet(samples):
    return pd.DataFrame(
        {
            "sample": samples,
            "patient": [f"p{i}" for i in range(len(samples))],
            "subgroup": "NSDE",
            "timepoint": "baseline",
        }
    )


def _diann2_parquet(path, float_type=None):
    """The HYE report as DIA-NN 2.x writes report.parquet: no File.Name (DIA-NN 2 keeps only Run),
    Run.Index, Channel (empty for label-free), Decoy and Proteotypic as 0/1 integers, numbers typed."""
    report = pd.read_csv(HYE, sep="\t", dtype=str, keep_default_na=False)
    runs = {run: index for index, run in enumerate(dict.fromkeys(report["Run"]))}
    columns = {
        "Run.Index": pa.array(report["Run"].map(runs).to_numpy(dtype=np.int64)),
        "Run": pa.array(report["Run"]),
        "Channel": pa.array([""] * len(report)),
        "Precursor.Id": pa.array(report["Precursor.Id"]),
        "Modified.Sequence": pa.array(report["Modified.Sequence"]),
        "Stripped.Sequence": pa.array(report["Stripped.Sequence"]),
        "Precursor.Charge": pa.array(report["Precursor.Charge"].astype(np.int64)),
        "Decoy": pa.array(np.zeros(len(report), dtype=np.int64)),
        "Proteotypic": pa.array(report["Proteotypic"].astype(np.int64)),
        "Protein.Ids": pa.array(report["Protein.Ids"]),
        "Protein.Group": pa.array(report["Protein.Group"]),
        "Protein.Names": pa.array(report["Protein.Names"]),
        "Genes": pa.array(report["Genes"]),
    }
    for name in HYE_NUMERIC:
        columns[name] = pa.array(pd.to_numeric(report[name]).to_numpy(), type=float_type or pa.float64())
    # several row groups, as a large report has
    pq.write_table(pa.table(columns), path, row_group_size=1000)
    return path


# ------------------------------------------------------------------------------ detection


@pytest.mark.parametrize(
    "path, expected",
    [
        (HYE, "diann_report"),
        (UPS, "maxquant_peptides"),
        (SPECTRONAUT_REAL, "spectronaut"),
        (SPECTRONAUT, "spectronaut"),
        (FRAGPIPE, "fragpipe_ion"),
        (EVIDENCE, "maxquant_evidence"),
    ],
)
def test_detect_precursor_format(path, expected):
    assert detect_precursor_format(path, IMPORT) == expected
    assert precursors_of(path).format == expected


def test_precursor_formats_listed():
    assert PRECURSOR_FORMATS == (
        "auto",
        "diann_report",
        "spectronaut",
        "fragpipe_ion",
        "maxquant_evidence",
        "maxquant_peptides",
    )


@pytest.mark.parametrize("path", [UPS, FRAGPIPE, EVIDENCE], ids=lambda p: p.name)
def test_protein_level_import_refuses_a_precursor_only_table_by_name(path):
    detected = detect_format(path, IMPORT)
    assert detected in ("maxquant_peptides", "fragpipe_ion", "maxquant_evidence")
    with pytest.raises(TearflowError, match=f"{path}: this is a precursor-level table \\({detected}\\)"):
        protein_table(path)


def test_explicit_protein_format_on_a_precursor_table_says_what_it_is():
    # combined_ion.tsv has Protein ID + '<s> Intensity' like combined_protein.tsv, but one row per ion
    with pytest.raises(TearflowError) as error:
        protein_table(FRAGPIPE, "fragpipe")
    assert "appears on lines" in str(error.value)
    assert "looks like a fragpipe_ion precursor table" in str(error.value)


def test_unknown_precursor_layout_lists_what_was_looked_for(tmp_path):
    path = tmp_path / "proteinGroups.txt"
    shutil.copy(REPO / "tests" / "fixtures" / "formats" / "maxquant_gene_names_proteinGroups.txt", path)
    with pytest.raises(TearflowError) as error:
        precursors_of(path)
    message = str(error.value)
    assert message.startswith(f"{path}: unknown precursor table layout")
    for hint in ("Precursor.Id", "EG.PrecursorId", "Raw file", "Intensity_<s>", "Modified Sequence"):
        assert hint in message
    assert "looks like a maxquant protein table" in message


def test_protein_format_name_that_is_not_precursor_level_is_an_error():
    with pytest.raises(TearflowError, match="format 'maxquant' in config proteomics\\[\\] is not a precursor-level"):
        precursors_of(HYE, "maxquant")


# ------------------------------------------------------------------------------ DIA-NN, real report


def test_diann_hye_report_counts():
    # awk over the report: 5,294 rows, 1,117 Precursor.Id, 980 Protein.Group, 6 Run.
    # 31 rows (7 precursors) of Cont_ groups; of the other rows 81 have Q.Value, PG.Q.Value,
    # Lib.Q.Value or Lib.PG.Q.Value > 0.01 and leave 19 precursors without a passing row; one
    # passing row has Precursor.Normalised 0 (its precursor has other runs) -> 1,091 precursors kept.
    table = precursors_of(HYE)
    assert isinstance(table, PrecursorTable) and table.format == "diann_report"
    assert table.rows_read == 5294
    assert table.precursors_read == 1117
    assert table.groups_read == 980
    assert len(table.precursors) == 1091
    assert _counts(table) == {"contaminant": 7, "qvalue_filtered": 19}
    assert table.observations_removed == {"contaminant": 31, "qvalue_filtered": 81, "all_missing": 1}
    assert table.runs == HYE_RUNS
    assert list(table.precursors.columns[:3]) == ["precursor", "protein", "gene"]
    assert table.precursors["gene"].isna().all()  # the Genes column is empty
    assert table.quantity == "Precursor.Normalised"
    # first data line: Precursor.Quantity 628861, Precursor.Normalised 723473
    first = table.precursors.set_index("precursor").loc["(UniMod:1)AAAAAAAGAAGSAAPAAAAGAPGSGGAPSGSQGVLIGDR4"]
    assert first["protein"] == "Q96S94"
    assert first["LFQ_Orbitrap_AIF_Condition_A_Sample_Alpha_01"] == 723473.0
    assert np.isnan(first["LFQ_Orbitrap_AIF_Condition_A_Sample_Alpha_02"])
    raw = precursors_of(HYE, diann_precursor_quantity="Precursor.Quantity")
    assert (
        raw.precursors.set_index("precursor").loc[first.name, "LFQ_Orbitrap_AIF_Condition_A_Sample_Alpha_01"] == 628861
    )
    # File.Name (Windows paths) are aliases of the runs
    alias = table.run_aliases["LFQ_Orbitrap_AIF_Condition_A_Sample_Alpha_01"]
    assert alias == (
        "Q:\\ACTIVE\\2020\\LFQ_bench\\RAW\\Orbitrap\\IPBS_Toulouse\\DIA_Proteome\\LFQ\\"
        "LFQ_Orbitrap_AIF_Condition_A_Sample_Alpha_01.raw",
    )


def test_diann_hye_matrix_recovers_the_benchmark_ratios():
    # the mixture's truth: log2(A/B) human 0, yeast +1, E. coli -2 (species from Protein.Names,
    # read here independently of the reader); precursors quantified in all six runs
    table = precursors_of(HYE).precursors.set_index("precursor")
    report = pd.read_csv(HYE, sep="\t", usecols=["Precursor.Id", "Protein.Names"]).drop_duplicates("Precursor.Id")
    species = report.set_index("Precursor.Id")["Protein.Names"].str.extract(r"_(HUMAN|YEAST|ECOLI)$")[0]
    a = table[[r for r in HYE_RUNS if "Condition_A" in r]]
    b = table[[r for r in HYE_RUNS if "Condition_B" in r]]
    complete = a.notna().all(axis=1) & b.notna().all(axis=1)
    ratio = np.log2(a[complete].mean(axis=1) / b[complete].mean(axis=1))
    median = ratio.groupby(species.reindex(ratio.index)).median()
    assert median["HUMAN"] == pytest.approx(0, abs=0.1)
    assert median["YEAST"] == pytest.approx(1, abs=0.2)
    assert median["ECOLI"] == pytest.approx(-2, abs=0.2)


def test_diann_filters_proteotypic_and_no_filters():
    # awk: 57 rows with Proteotypic 0 belong to 9 precursors that are not contaminants
    proteotypic = precursors_of(HYE, precursor_proteotypic_only=True)
    assert _counts(proteotypic) == {"contaminant": 7, "not_proteotypic": 9, "qvalue_filtered": 19}
    assert len(proteotypic.precursors) == 1082
    # no q-value filter: every non-contaminant precursor with a non-zero value (awk: 1,110)
    unfiltered = precursors_of(HYE, diann_precursor_qvalue_filters={})
    assert len(unfiltered.precursors) == 1110 and _counts(unfiltered) == {"contaminant": 7}
    # contaminants kept: awk over rows passing the four q-values with a non-zero value: 1,097
    kept_contaminants = precursors_of(HYE, remove_contaminants=False)
    assert len(kept_contaminants.precursors) == 1097


def test_diann_library_qvalues_are_applied_only_when_present(tmp_path, caplog):
    report = pd.read_csv(HYE, sep="\t", dtype=str, keep_default_na=False)
    path = tmp_path / "report.tsv"
    report.drop(columns=["Lib.Q.Value", "Lib.PG.Q.Value"]).to_csv(path, sep="\t", index=False)
    with caplog.at_level(logging.INFO):
        table = precursors_of(path)
    # awk: Q.Value and PG.Q.Value <= 0.01 alone keep 1,100 precursors
    assert len(table.precursors) == 1100
    assert "no Lib.PG.Q.Value column; that q-value filter is not applied" in caplog.text
    report.drop(columns=["Q.Value"]).to_csv(path, sep="\t", index=False)
    with pytest.raises(TearflowError, match=f"{path}: DIA-NN report lacks column\\(s\\) 'Q.Value'; found"):
        precursors_of(path)


def test_diann_without_run_column_takes_file_stems(tmp_path):
    report = pd.read_csv(HYE, sep="\t", dtype=str, keep_default_na=False)
    path = tmp_path / "report.tsv"
    report.drop(columns=["Run"]).to_csv(path, sep="\t", index=False)
    table = precursors_of(path, "diann_report")
    reference = precursors_of(HYE)
    pd.testing.assert_frame_equal(table.precursors, reference.precursors)
    assert table.run_aliases == {}


# ------------------------------------------------------------------------------ DIA-NN 2.x Parquet


def test_diann2_parquet_gives_the_same_matrix_as_the_tsv(tmp_path):
    path = _diann2_parquet(tmp_path / "report.parquet")
    assert detect_precursor_format(path, IMPORT) == "diann_report" and detect_format(path, IMPORT) == "diann_report"
    parquet = precursors_of(path)
    text = precursors_of(HYE)
    pd.testing.assert_frame_equal(parquet.precursors, text.precursors, check_exact=True)
    pd.testing.assert_frame_equal(parquet.removed, text.removed)
    assert parquet.observations_removed == text.observations_removed
    assert (parquet.rows_read, parquet.precursors_read, parquet.groups_read) == (5294, 1117, 980)
    assert parquet.run_aliases == {}  # DIA-NN 2 writes no File.Name
    for options in ({"precursor_proteotypic_only": True}, {"diann_precursor_quantity": "Precursor.Quantity"}):
        pd.testing.assert_frame_equal(
            precursors_of(path, **options).precursors, precursors_of(HYE, **options).precursors
        )
    # the protein-level reader reads the same report.parquet (PG.MaxLFQ) as the tsv
    pd.testing.assert_frame_equal(protein_table(path).data, protein_table(HYE).data, check_exact=True)


def test_sample_names_of_a_long_report_are_its_runs_whether_parquet_or_text(tmp_path):
    """The pre-run sheet check reads only the run column, batch by batch as dictionaries (the parquet
    has several row groups; a run spans them), and sees the same names in both layouts."""
    runs = set(pd.read_csv(HYE, sep="\t", usecols=["Run"])["Run"])
    parquet = sample_names_in(_diann2_parquet(tmp_path / "report.parquet"))
    text = sample_names_in(HYE)
    assert runs <= set(parquet) and runs <= set(text)
    # besides the header cells, the parquet's names are exactly its runs (and their file stems)
    header = set(pq.read_schema(tmp_path / "report.parquet").names)
    assert set(parquet) - header - {file_stem(name) for name in header} == runs | {file_stem(run) for run in runs}
    # gzip, and Latin-1 (Arrow refuses it; the full reader takes it)
    packed = tmp_path / "report.tsv.gz"
    packed.write_bytes(gzip.compress(HYE.read_bytes()))
    assert set(sample_names_in(packed)) == set(text)
    header, *rows = HYE.read_text(encoding="utf-8").splitlines()
    at = header.split("\t").index("Run")
    first_run = rows[0].split("\t")[at]
    renamed = [row.replace(f"\t{first_run}\t", "\tRün 1\t") for row in rows[:40]]
    latin = tmp_path / "latin1.tsv"
    latin.write_bytes(("\n".join([header, *renamed]) + "\n").encode("latin-1"))
    assert "Rün 1" in sample_names_in(latin)
    # a ragged line is the full reader's error (the pre-run check then leaves it to the import)
    ragged = tmp_path / "ragged.tsv"
    ragged.write_text("\n".join([header, *rows[:40], rows[40] + "\textra"]) + "\n", encoding="utf-8")
    with pytest.raises(TearflowError, match="line 42 has 61 cells; expected 60"):
        sample_names_in(ragged)
    # a run column stored as integers (not dictionary-encodable as strings) is read as it is
    numbered = tmp_path / "numbered.parquet"
    table = pq.read_table(tmp_path / "report.parquet").drop_columns(["Run"])
    pq.write_table(table.append_column("Run", table.column("Run.Index")), numbered, row_group_size=1000)
    assert {str(index) for index in range(len(runs))} <= set(sample_names_in(numbered))


def test_diann2_parquet_with_float32_columns(tmp_path):
    # DIA-NN writes its numbers as float32: the same precursors, values equal to float32 precision
    path = _diann2_parquet(tmp_path / "report.parquet", pa.float32())
    parquet = precursors_of(path).precursors
    text = precursors_of(HYE).precursors
    assert list(parquet["precursor"]) == list(text["precursor"])
    np.testing.assert_allclose(parquet[HYE_RUNS].to_numpy(), text[HYE_RUNS].to_numpy(), rtol=1e-7)


def test_parquet_text_columns_are_merged_across_slabs(tmp_path, monkeypatch):
    # a report read a few row groups at a time gives the same codes as one read
    from tearflow.readers import parquet

    path = _diann2_parquet(tmp_path / "report.parquet")
    whole = precursors_of(path)
    monkeypatch.setattr(parquet, "SLAB_ROWS", 1500)
    sliced = precursors_of(path)
    pd.testing.assert_frame_equal(sliced.precursors, whole.precursors)
    pd.testing.assert_frame_equal(sliced.removed, whole.removed)


def test_pivot_equals_pandas_on_a_shuffled_synthetic_report(tmp_path):
    rng = np.random.default_rng(7)
    precursors = [f"PEPTIDE{i}K{2 + i % 3}" for i in range(300)]
    runs = [f"run_{i:02d}" for i in range(40)]
    cells = [(p, r) for p in precursors for r in runs if rng.random() < 0.6]
    order = rng.permutation(len(cells))
    long = pd.DataFrame(
        {
            "Run": [cells[i][1] for i in order],
            "Precursor.Id": [cells[i][0] for i in order],
            "Protein.Group": [f"P{int(cells[i][0][7:].split('K')[0]) // 5:05d}" for i in order],
            "Genes": "",
            "Q.Value": rng.uniform(0, 0.012, len(cells)),
            "PG.Q.Value": 0.001,
            "Precursor.Normalised": rng.lognormal(15, 2, len(cells)),
        }
    )
    path = tmp_path / "report.parquet"
    pq.write_table(pa.Table.from_pandas(long, preserve_index=False), path, row_group_size=777)
    table = precursors_of(path, diann_precursor_qvalue_filters={"Q.Value": 0.01})
    passed = long[long["Q.Value"] <= 0.01]
    expected = passed.pivot(index="Precursor.Id", columns="Run", values="Precursor.Normalised")
    got = table.precursors.set_index("precursor")[table.runs]
    expected = expected.reindex(index=got.index, columns=got.columns)
    pd.testing.assert_frame_equal(got, expected, check_names=False)
    assert set(got.index) == set(passed["Precursor.Id"])
    assert table.runs == list(dict.fromkeys(long["Run"]))  # order of first appearance
    assert table.removed_count("qvalue_filtered") == len(set(precursors) & set(long["Precursor.Id"])) - len(got)


def test_plexdia_channels_are_refused(tmp_path):
    path = _diann2_parquet(tmp_path / "report.parquet")
    table = pq.read_table(path)
    channels = pa.array(["L" if i % 2 else "H" for i in range(table.num_rows)])
    table = table.set_column(table.schema.get_field_index("Channel"), "Channel", channels)
    pq.write_table(table, path)
    with pytest.raises(TearflowError, match="multiplexed \\(plexDIA\\) report"):
        precursors_of(path)


def test_parquet_errors_name_the_row(tmp_path):
    path = _diann2_parquet(tmp_path / "report.parquet")
    table = pq.read_table(path)
    values = table.column("Precursor.Normalised").to_numpy().copy()
    values[41] = -5.0
    table = table.set_column(table.schema.get_field_index("Precursor.Normalised"), "Precursor.Normalised", [values])
    pq.write_table(table, path)
    with pytest.raises(TearflowError, match=f"{path}: row 42, column 'Precursor.Normalised': negative value -5.0"):
        precursors_of(path)
    assert precursors_of(path, negative_values="missing").rows_read == 5294


def test_duplicate_precursor_and_run_is_an_error_naming_both_lines(tmp_path):
    lines = HYE.read_text().splitlines()
    path = tmp_path / "report.tsv"
    repeated = lines[1].replace("\t723473\t", "\t723474\t")  # Precursor.Normalised of line 2, changed
    path.write_text("\n".join([*lines, repeated]) + "\n")
    with pytest.raises(TearflowError) as error:
        precursors_of(path)
    assert str(error.value) == (
        f"{path}: precursor '(UniMod:1)AAAAAAAGAAGSAAPAAAAGAPGSGGAPSGSQGVLIGDR4' (column 'Precursor.Id') has 2 "
        "different 'Precursor.Normalised' values in run 'LFQ_Orbitrap_AIF_Condition_A_Sample_Alpha_01' "
        "(line 2, line 5296); expected one row per precursor and run"
    )
    # the same row twice (the same value) is read once
    path.write_text("\n".join([*lines, lines[1]]) + "\n")
    pd.testing.assert_frame_equal(precursors_of(path).precursors, precursors_of(HYE).precursors)


def test_bad_cells_name_file_line_and_column(tmp_path):
    lines = HYE.read_text().splitlines()
    path = tmp_path / "report.tsv"
    path.write_text("\n".join([lines[0], lines[1].replace("\t723473\t", "\tn.d.\t"), *lines[2:]]) + "\n")
    with pytest.raises(TearflowError, match=f"{path}: line 2, column 'Precursor.Normalised': 'n.d.' is not a number"):
        precursors_of(path)
    header = lines[0].split("\t")
    cells = lines[3].split("\t")
    cells[header.index("Precursor.Id")] = ""
    path.write_text("\n".join([*lines[:3], "\t".join(cells), *lines[4:]]) + "\n")
    with pytest.raises(TearflowError, match=f"{path}: line 4, column 'Precursor.Id' is empty; expected a precursor"):
        precursors_of(path)


def test_gzip_report_reads_like_the_plain_one(tmp_path):
    path = tmp_path / "report.tsv.gz"
    with open(HYE, "rb") as plain, gzip.open(path, "wb") as packed:
        shutil.copyfileobj(plain, packed)
    pd.testing.assert_frame_equal(precursors_of(path).precursors, precursors_of(HYE).precursors)
    # the name does not matter: the first bytes do
    renamed = tmp_path / "report.tsv"
    shutil.copy(path, renamed)
    assert detect_precursor_format(renamed, IMPORT) == "diann_report"
    assert len(protein_table(renamed).data) == len(protein_table(HYE).data)


# ------------------------------------------------------------------------------ MaxQuant peptides (DAPAR)


def test_maxquant_peptides_ups1_counts():
    # csv over the file: 13,919 peptides; Reverse + 40, then Potential_contaminant + (or CON__) 52,
    # then PEP > 0.01 2,649, then no intensity in the six samples 415 -> 10,763 kept
    table = precursors_of(UPS)
    assert table.format == "maxquant_peptides"
    assert (table.rows_read, table.precursors_read, table.groups_read) == (13919, 13919, 2384)
    assert len(table.precursors) == 10763
    assert _counts(table) == {"decoy": 40, "contaminant": 52, "qvalue_filtered": 2649, "all_missing": 415}
    assert table.runs == ["C_R1", "C_R2", "C_R3", "D_R1", "D_R2", "D_R3"]
    assert table.run_aliases["C_R1"] == ("Intensity_C_R1",)
    first = table.precursors.iloc[0]
    assert first["precursor"] == "AAAAQDEITGDGTTTVVCIVGEIIR"
    assert first["protein"] == "sp|P39079|TCPZ_YEAST"  # Leading razor protein
    assert first["C_R1"] == 29524000 and np.isnan(first["C_R3"])  # 0 -> missing
    proteins = precursors_of(UPS, maxquant_precursor_protein="Proteins")
    assert proteins.precursors.iloc[0]["protein"] == "P39079"


def test_maxquant_peptides_ups1_filters():
    # csv: with Unique_Groups 'no' removed (after decoys/contaminants, before PEP): 453, then PEP
    # 2,599, no intensity 410 -> 10,365; without the PEP filter: no intensity 728 -> 13,099
    proteotypic = precursors_of(UPS, precursor_proteotypic_only=True)
    assert _counts(proteotypic) == {
        "decoy": 40,
        "contaminant": 52,
        "not_proteotypic": 453,
        "qvalue_filtered": 2599,
        "all_missing": 410,
    }
    assert len(proteotypic.precursors) == 10365
    unfiltered = precursors_of(UPS, maxquant_precursor_filters={})
    assert len(unfiltered.precursors) == 13099 and unfiltered.removed_count("all_missing") == 728


def test_maxquant_peptides_ups1_ratio():
    # UPS1 spiked 25 vs 10 fmol (log2 1.32; MaxQuant's peptide intensities give ~1.5), yeast 1:1
    table = precursors_of(UPS).precursors.set_index("precursor")
    c, d = table[["C_R1", "C_R2", "C_R3"]], table[["D_R1", "D_R2", "D_R3"]]
    complete = c.notna().all(axis=1) & d.notna().all(axis=1)
    ratio = np.log2(c[complete].mean(axis=1) / d[complete].mean(axis=1))
    ups = table.loc[ratio.index, "protein"].str.contains("upsedyp")
    assert ups.sum() == 246
    assert 1.0 < ratio[ups].median() < 2.0
    assert abs(ratio[~ups].median()) < 0.1


def test_maxquant_peptides_sample_sheet_names_match_by_alias():
    names = pd.read_csv(UPS_SAMPLES, sep=" ")["Sample.name"].tolist()
    table = precursors_of(UPS)
    matches = match_samples(_sheet(names), {"ups": table.runs}, {"ups": table.run_aliases})
    assert dict(zip(matches["sample"], matches["run"])) == {
        "Intensity_C_R1": "C_R1",
        "Intensity_C_R2": "C_R2",
        "Intensity_C_R3": "C_R3",
        "Intensity_D_R1": "D_R1",
        "Intensity_D_R2": "D_R2",
        "Intensity_D_R3": "D_R3",
    }


def test_maxquant_peptides_with_spaces_read_like_underscores(tmp_path):
    # MaxQuant's own spelling ('Intensity C_R1', 'Potential contaminant', 'Unique (Groups)')
    with gzip.open(UPS, "rt") as stream:
        header, rest = stream.readline(), stream.read()
    renamed = {
        "Intensity_": "Intensity ",
        "Leading_razor_protein": "Leading razor protein",
        "Potential_contaminant": "Potential contaminant",
        "Unique_Groups": "Unique (Groups)",
    }
    columns = header.rstrip("\n").split("\t")
    for old, new in renamed.items():
        columns = [c.replace(old, new) if c.startswith(old) else c for c in columns]
    path = tmp_path / "peptides.txt"
    path.write_text("\t".join(columns) + "\n" + rest)
    assert "Intensity C_R1" in columns and "Unique (Groups)" in columns
    spaced = precursors_of(path, precursor_proteotypic_only=True)
    reference = precursors_of(UPS, precursor_proteotypic_only=True)
    pd.testing.assert_frame_equal(spaced.precursors, reference.precursors)
    assert spaced.run_aliases["C_R1"] == ("Intensity C_R1",)


def test_wide_duplicate_precursor_is_an_error(tmp_path):
    with gzip.open(UPS, "rt") as stream:
        lines = stream.read().splitlines()
    path = tmp_path / "peptides.txt"
    path.write_text("\n".join([*lines, lines[2]]) + "\n")
    with pytest.raises(TearflowError) as error:
        precursors_of(path)
    assert str(error.value) == (
        f"{path}: precursor 'AAADAISDIEIK' appears on lines 3, 13921 (1 repeated in all); expected one row per "
        "precursor"
    )


# ------------------------------------------------------------------------------ MaxQuant evidence


def test_maxquant_evidence_fixture():
    table = precursors_of(EVIDENCE)
    assert (table.rows_read, table.precursors_read, table.groups_read) == (11, 7, 5)
    assert table.runs == ["20240110_tear_P01_baseline", "20240110_tear_P01_week2"]
    assert table.run_aliases == {
        "20240110_tear_P01_baseline": ("P01_baseline",),
        "20240110_tear_P01_week2": ("P01_week2",),
    }
    assert _counts(table) == {"qvalue_filtered": 1, "all_missing": 1, "decoy": 1, "contaminant": 1}
    data = table.precursors.set_index("precursor")
    assert list(data.index) == ["_DGAGDVAFIK_.2", "_STDYGIFQINSR_.2", "_GPGEQWSLLAK_.2"]
    assert list(data["protein"]) == ["P02788", "P61626", "P31025"]
    assert list(data["gene"]) == ["LTF", "LYZ", "LCN1"]
    # two rows in the week-2 raw file (MULTI-MSMS 2.8e8, MULTI-SECPEP 1e7): the largest
    assert data.loc["_DGAGDVAFIK_.2", "20240110_tear_P01_week2"] == 2.8e8
    # a MULTI-MATCH (match-between-runs) row has no PEP and passes the PEP filter
    assert data.loc["_STDYGIFQINSR_.2", "20240110_tear_P01_week2"] == 4.9e7
    removed = table.removed.set_index("precursor")
    assert removed.loc["_LGM(Oxidation (M))DGYR_.2", "reason"] == "qvalue_filtered"  # PEP 0.052
    assert removed.loc["_(Acetyl (Protein N-term))AVGDKLPECEAVCGKPK_.3", "reason"] == "all_missing"  # MSMS row
    assert precursors_of(EVIDENCE, maxquant_precursor_filters={}).removed_count("qvalue_filtered") == 0


def test_maxquant_evidence_experiments_match_the_sheet():
    table = precursors_of(EVIDENCE)
    matches = match_samples(_sheet(["P01_baseline", "P01_week2"]), {"mq": table.runs}, {"mq": table.run_aliases})
    assert list(matches["run"]) == ["20240110_tear_P01_baseline", "20240110_tear_P01_week2"]


def test_maxquant_evidence_cannot_be_filtered_to_proteotypic():
    with pytest.raises(TearflowError, match=f"{EVIDENCE}: import.precursor_proteotypic_only is true, but MaxQuant"):
        precursors_of(EVIDENCE, precursor_proteotypic_only=True)


# ------------------------------------------------------------------------------ FragPipe


def test_fragpipe_combined_ion_fixture():
    table = precursors_of(FRAGPIPE)
    assert table.format == "fragpipe_ion" and table.quantity == "<sample> Intensity"
    assert table.runs == ["P01_baseline", "P01_week2", "P02_baseline"]
    assert (table.rows_read, table.precursors_read, table.groups_read) == (9, 9, 7)
    assert _counts(table) == {"contaminant": 1, "decoy": 1, "all_missing": 1}
    data = table.precursors.set_index("precursor")
    assert list(data.index) == [
        "DGAGDVAFIK.2",
        "DGAGDVAFIK.3",
        "STDYGIFQINSR.2",
        "GYSLGNWVC[57.0215]AAK.2",
        "GPGEQWSLLAK.2",
        "LGEYGFQNALIVR.2",
    ]
    assert np.isnan(data.loc["DGAGDVAFIK.3", "P01_week2"])  # 0.0 -> missing
    assert data.loc["LGEYGFQNALIVR.2", "P01_week2"] == 7.5e6  # an MBR value is a value
    assert data.loc["GPGEQWSLLAK.2", "gene"] == "LCN1"
    assert table.removed.set_index("precursor").loc["VATVSLPR.2", "reason"] == "contaminant"  # contam_ on Protein
    proteotypic = precursors_of(FRAGPIPE, precursor_proteotypic_only=True)
    assert proteotypic.removed.set_index("precursor").loc["GPGEQWSLLAK.2", "reason"] == "not_proteotypic"


def test_fragpipe_maxlfq_columns_are_not_read_and_modified_peptides_work(tmp_path):
    frame = pd.read_csv(FRAGPIPE, sep="\t", dtype=str, keep_default_na=False)
    for sample in ("P01_baseline", "P01_week2", "P02_baseline"):
        frame[f"{sample} MaxLFQ Intensity"] = "1.0"
    path = tmp_path / "combined_ion.tsv"
    frame.to_csv(path, sep="\t", index=False)
    pd.testing.assert_frame_equal(precursors_of(path).precursors, precursors_of(FRAGPIPE).precursors)
    # combined_modified_peptide.tsv: no Charge column (IonQuant sums charge states)
    peptides = frame[frame["Charge"] != "3"].drop(columns=["Charge"]).rename(columns={"Peptide Sequence": "Sequence"})
    path = tmp_path / "combined_modified_peptide.tsv"
    peptides.to_csv(path, sep="\t", index=False)
    table = precursors_of(path)
    assert table.format == "fragpipe_ion"
    assert list(table.precursors["precursor"])[:2] == ["DGAGDVAFIK", "STDYGIFQINSR"]


# ------------------------------------------------------------------------------ Spectronaut


def test_spectronaut_real_fragment_level_report():
    # 500 fragment rows of 84 precursors (EG.ModifiedSequence + FG.Charge) in 33 groups, one run;
    # EG/FG values repeat on each fragment row and are read once
    table = precursors_of(SPECTRONAUT_REAL)
    assert (table.rows_read, table.precursors_read, table.groups_read) == (500, 84, 33)
    assert len(table.precursors) == 84 and len(table.removed) == 0
    assert table.runs == ["20221015_EV_TP_40SPD_LITDIA_MS1_Rapid_MS2_Rapid_57w_100ng_03"]
    assert table.run_aliases[table.runs[0]] == ("20221015_EV_TP_40SPD_LITDIA_MS1_Rapid_MS2_Rapid_57w_100ng_03.raw",)
    first = table.precursors.iloc[0]
    assert (first["precursor"], first["protein"]) == ("_EVVEAHVDQK_.2", "A0A0B4J2D5;P0DPI2")
    assert first[table.runs[0]] == pytest.approx(2227.046630859375)  # EG.TotalQuantity (Settings)
    # the same file also reads at protein level
    assert len(protein_table(SPECTRONAUT_REAL).data) == 33


def test_spectronaut_precursor_fixture_with_decimal_commas():
    table = precursors_of(SPECTRONAUT)
    assert table.runs == ["20240110_tear_P01_bl_DIA", "20240124_tear_P01_w2_DIA"]
    assert table.run_aliases == {
        "20240110_tear_P01_bl_DIA": ("P01_baseline",),
        "20240124_tear_P01_w2_DIA": ("P01_week2",),
    }
    assert (table.rows_read, table.precursors_read, table.groups_read) == (16, 8, 6)
    assert _counts(table) == {"decoy": 1, "qvalue_filtered": 1, "all_missing": 1}
    assert table.observations_removed == {"decoy": 2, "qvalue_filtered": 3, "all_missing": 3}
    data = table.precursors.set_index("precursor")
    bl, w2 = table.runs
    assert data.loc["_LVNEVTEFAK_.2", bl] == 1234567.5 and data.loc["_LVNEVTEFAK_.2", w2] == 1300000.25
    assert np.isnan(data.loc["_STDYGIFQINSR_.2", w2])  # EG.IsImputed True
    assert np.isnan(data.loc["_DGAGDVAFIK_.2", w2])  # EG.Qvalue 0,02
    assert data.loc["_GPGEQWSLLAK_.2", bl] == 44000.125
    removed = table.removed.set_index("precursor")["reason"].to_dict()
    assert removed == {
        "_KALLAWSQEGPG_.2": "decoy",
        "_LLEDM[Oxidation (M)]VEK_.2": "qvalue_filtered",  # PG.Qvalue 0,05
        "_LGEYGFQNALIVR_.3": "all_missing",  # Filtered / NaN
    }
    proteotypic = precursors_of(SPECTRONAUT, precursor_proteotypic_only=True)
    assert proteotypic.removed_count("not_proteotypic") == 1
    matches = match_samples(_sheet(["P01_baseline", "P01_week2"]), {"sn": table.runs}, {"sn": table.run_aliases})
    assert list(matches["run"]) == table.runs


def test_spectronaut_quantity_falls_back_to_fg_quantity(tmp_path, caplog):
    frame = pd.read_csv(SPECTRONAUT, sep="\t", dtype=str, keep_default_na=False)
    frame["FG.Quantity"] = frame["FG.Quantity"].str.replace("1234567,5", "1234568,5")
    path = tmp_path / "report.tsv"
    frame.drop(columns=["EG.TotalQuantity (Settings)"]).to_csv(path, sep="\t", index=False)
    with caplog.at_level(logging.WARNING):
        table = precursors_of(path)
    assert "no 'EG.TotalQuantity (Settings)' column; using 'FG.Quantity'" in caplog.text
    assert table.precursors.set_index("precursor").loc["_LVNEVTEFAK_.2", table.runs[0]] == 1234568.5


def test_spectronaut_conflicting_repeated_rows_are_an_error(tmp_path):
    lines = SPECTRONAUT.read_text().splitlines()
    path = tmp_path / "report.tsv"
    path.write_text("\n".join([*lines, lines[1].replace("1234567,5", "1234000")]) + "\n")
    with pytest.raises(TearflowError, match="precursor '_LVNEVTEFAK_.2' .* in run '20240110_tear_P01_bl_DIA' "):
        precursors_of(path)


# ------------------------------------------------------------------------------ the import step's use


def test_precursor_table_works_with_the_import_steps_matching_and_genes():
    gene_map = read_gene_map(GENE_MAP)
    table = precursors_of(HYE)
    # runs match the sheet by Run, by File.Name and by its stem
    sheet = _sheet(
        [
            "LFQ_Orbitrap_AIF_Condition_A_Sample_Alpha_01",
            "Q:\\ACTIVE\\2020\\LFQ_bench\\RAW\\Orbitrap\\IPBS_Toulouse\\DIA_Proteome\\LFQ\\"
            "LFQ_Orbitrap_AIF_Condition_B_Sample_Alpha_01.raw",
            "/data/LFQ_Orbitrap_AIF_Condition_A_Sample_Alpha_02.raw",
        ]
    )
    matches = match_samples(sheet, {"hye": table.runs}, {"hye": table.run_aliases})
    assert list(matches["run"]) == [
        "LFQ_Orbitrap_AIF_Condition_A_Sample_Alpha_01",
        "LFQ_Orbitrap_AIF_Condition_B_Sample_Alpha_01",
        "LFQ_Orbitrap_AIF_Condition_A_Sample_Alpha_02",
    ]
    data, removed, sources, _notes = with_genes(table, None, gene_map, ["Cont_"])
    assert len(data) == len(table.precursors) and "precursor" in data.columns
    assert data.set_index("precursor").loc["(UniMod:1)AAAAAAAGAAGSAAPAAAAGAPGSGGAPSGSQGVLIGDR4", "gene"] == "CCNL2"
    assert (sources == "gene_map").sum() > 600  # the human precursors
    groups = table.groups_removed()
    assert list(groups.columns) == ["protein", "gene", "reason"]
    assert set(groups["reason"]) == {"contaminant", "qvalue_filtered"}
    assert not set(groups["protein"]) & set(table.precursors["protein"])


def test_a_flag_cell_that_is_not_a_flag_names_line_and_column(tmp_path):
    lines = HYE.read_text().splitlines()
    header = lines[0].split("\t")
    cells = lines[2].split("\t")
    cells[header.index("Proteotypic")] = "maybe"
    path = tmp_path / "report.tsv"
    path.write_text("\n".join([lines[0], lines[1], "\t".join(cells), *lines[3:]]) + "\n")
    with pytest.raises(TearflowError, match=f"{path}: line 3, column 'Proteotypic': 'maybe'; expected True/False"):
        precursors_of(path, precursor_proteotypic_only=True)
    assert len(precursors_of(path).precursors) == 1091  # not read unless asked for
