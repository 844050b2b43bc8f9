"""Format readers and gene mapping on real search-engine files and hand-written fixtures.

Expected counts were worked out by hand / with awk on the files (see the comments), not copied from
the reader's output.
"""

import logging

import numpy as np
import pandas as pd
import pytest
from conftest import FIXTURES as TEST_FIXTURES
from conftest import REPO, config_section

from tearflow.errors import TearflowError
from tearflow.genes import (
    accession_of,
    assign_genes,
    gene_from_description,
    genes_from_fasta_headers,
    is_excel_mangled,
    read_fasta_genes,
    read_gene_map,
)
from tearflow.readers import detect_format, file_stem, read_precursors, read_table
from tearflow.readers.base import normalised_by_search_engine

FORMATS = TEST_FIXTURES / "formats" / "real"
FIXTURES = REPO / "tests" / "fixtures" / "formats"
GENE_MAP = REPO / "resources" / "idmap" / "uniprot_human_swissprot_2020-03-13.tsv"


def read(path, fmt="auto", **options):
    """read_table with the config's default import options (as the workflow passes them)."""
    return read_table(path, fmt, config_section("import", **options))


@pytest.fixture(scope="module")
def gene_map():
    return read_gene_map(GENE_MAP)


# ------------------------------------------------------------------------------ detection


@pytest.mark.parametrize(
    "path, expected",
    [
        (FORMATS / "maxquant" / "proteinGroups.txt", "maxquant"),
        (FORMATS / "diann" / "report_final.pg_matrix.tsv", "diann_matrix"),
        (FORMATS / "diann" / "report_long_diann1.9.tsv", "diann_report"),
        (FORMATS / "fragpipe" / "combined_proteins.tsv", "fragpipe"),
        (FORMATS / "spectronaut" / "results_non_european_comma.tsv", "spectronaut"),
        (FORMATS / "mztab" / "ProteomicsLFQ_1_out.mzTab", "mztab"),
        (FORMATS / "mztab" / "maxquant_identification_only.mztab", "mztab"),
        (FIXTURES / "maxquant_gene_names_proteinGroups.txt", "maxquant"),
        (FIXTURES / "fragpipe_ionquant_combined_protein.tsv", "fragpipe"),
        (FIXTURES / "diann18_posix.pg_matrix.tsv", "diann_matrix"),
        (FIXTURES / "spectronaut_pivot_report.tsv", "spectronaut"),
        (FIXTURES / "wide_latin1.csv", "wide"),
        (FIXTURES / "wide_bom.tsv", "wide"),
    ],
)
def test_detect_format(path, expected):
    assert detect_format(path, config_section("import")) == expected


def test_auto_logs_the_chosen_format(caplog):
    with caplog.at_level(logging.INFO):
        read(FIXTURES / "wide_bom.tsv")
    assert "auto-detected as wide" in caplog.text


def test_explicit_format_wins(tmp_path):
    # a pg_matrix read as "wide" by request: Protein.Group is an accepted wide ID column
    table = read(FIXTURES / "diann18_posix.pg_matrix.tsv", "wide")
    assert table.format == "wide"
    with pytest.raises(TearflowError, match="MaxQuant proteinGroups table lacks"):
        read(FIXTURES / "diann18_posix.pg_matrix.tsv", "maxquant")


def test_unknown_layout_lists_what_was_looked_for(tmp_path):
    path = tmp_path / "mystery.tsv"
    path.write_text("name\tvalue_a\tvalue_b\nx\t1\t2\n")
    with pytest.raises(TearflowError) as error:
        read(path)
    message = str(error.value)
    assert "unknown table layout" in message
    for hint in ("Majority protein IDs", "Protein.Group", "PG.ProteinGroups", "MaxLFQ Intensity", "MTD"):
        assert hint in message


# ------------------------------------------------------------------------------ real files


def test_maxquant_real_file():
    # 882 groups: Reverse '+' 12, Potential contaminant '+' 31 (none also reverse),
    # site-only '+' 72 of which 66 are neither reverse nor contaminant -> 773 kept by the reader.
    table = read(FORMATS / "maxquant" / "proteinGroups.txt")
    assert table.rows_read == 882
    assert table.removed_count("decoy") == 12
    assert table.removed_count("contaminant") == 31
    assert table.removed_count("site_only") == 66
    assert len(table.data) == 773
    assert table.runs == ["AC381", "AC384", "AC386_b", "AC392", "AC399", "UT805", "UT812_b", "UT815", "UT821", "UT822"]
    # no 'Gene names' column: symbols come from GN= in 'Fasta headers'
    prg2 = table.data.set_index("protein").loc["sp|P13727|PRG2_HUMAN"]  # Majority protein IDs
    assert prg2["gene"] == "PRG2"


def test_maxquant_intensity_instead_of_lfq():
    table = read(FORMATS / "maxquant" / "proteinGroups.txt", maxquant_quantity="intensity")
    lfq = read(FORMATS / "maxquant" / "proteinGroups.txt")
    assert table.runs == lfq.runs
    # 'Intensity AC381' has 556 quantified kept groups, 'LFQ intensity AC381' 354 (awk count)
    assert table.data["AC381"].notna().sum() == 556
    assert lfq.data["AC381"].notna().sum() == 354


def test_diann_pg_matrix_real_file():
    table = read(FORMATS / "diann" / "report_final.pg_matrix.tsv")
    assert table.runs == [f"S{i}" for i in range(1, 21)]
    assert len(table.data) == 10  # 3 of them are all-empty; dropped later against the sheet
    row = table.data.set_index("protein").loc[
        "A0A024R4E5;C9J5E5;C9JBS3;C9JEJ8;C9JES8;C9JHN6;C9JHS7;C9JHZ8;C9JIZ1;C9JK79;C9JT62;C9JZI8"
    ]
    assert row["gene"] == "HDLBP"
    assert row["S1"] == 380503.0 and np.isnan(row["S2"])


def test_diann_long_report_real_file():
    # 1168 precursor rows, 220 groups; PG.Q.Value > 0.01 removes every row of 3 groups.
    table = read(FORMATS / "diann" / "report_long_diann1.9.tsv")
    assert table.rows_read == 1168
    assert table.groups_read == 220
    assert table.removed_count("qvalue_filtered") == 3
    assert len(table.data) == 217
    assert len(table.runs) == 6 and "LFQ_Orbitrap_AIF_Condition_A_Sample_Alpha_01" in table.runs
    assert table.data["gene"].isna().all()  # the Genes column is empty in this report
    q96 = table.data.set_index("protein").loc["Q96S94"]
    assert q96["LFQ_Orbitrap_AIF_Condition_A_Sample_Alpha_01"] == pytest.approx(3.76039e6)


def test_diann_long_report_without_filters_keeps_every_group():
    table = read(FORMATS / "diann" / "report_long_diann1.9.tsv", diann_qvalue_filters={})
    assert len(table.data) == 220


def test_diann_report_missing_filter_column_is_an_error():
    with pytest.raises(TearflowError, match="Lib.Q.Valu"):
        read(
            FORMATS / "diann" / "report_long_diann1.9.tsv", diann_qvalue_filters={"Lib.Q.Valu": 0.01}
        )


def test_fragpipe_philosopher_real_file():
    table = read(FORMATS / "fragpipe" / "combined_proteins.tsv")
    assert table.runs == [f"S{i}" for i in range(1, 21)]
    assert len(table.data) == 10
    hpx = table.data.set_index("protein").loc["P02790"]
    assert hpx["gene"] == "HPX" and hpx["S1"] == pytest.approx(2216637.5)
    assert table.data.set_index("protein").loc["P02792", "S1":"S20"].isna().all()  # zeros are missing


def test_spectronaut_long_real_file_with_decimal_commas_elsewhere():
    table = read(FORMATS / "spectronaut" / "results_non_european_comma.tsv")
    assert table.rows_read == 500
    assert len(table.data) == 33
    assert table.runs == ["20221015_EV_TP_40SPD_LITDIA_MS1_Rapid_MS2_Rapid_57w_100ng_03"]
    value = table.data.set_index("protein").loc["A0A0B4J2D5;P0DPI2"].iloc[-1]
    assert value == pytest.approx(1449.77978515625)


def test_mztab_quantification_real_file():
    # 43 PRT rows = 25 OpenMS protein_details + 18 groups; 5 groups have a non-zero abundance
    table = read(FORMATS / "mztab" / "ProteomicsLFQ_1_out.mzTab")
    assert len(table.data) == 18
    assert table.runs == ["assay[1]", "assay[2]", "assay[3]"]  # each assay spans two fractions
    assert table.run_aliases["assay[1]"][-2:] == ("BSA1_F1", "BSA1_F2")
    quantified = table.data.dropna(subset=table.runs, how="all")
    assert sorted(quantified["protein"]) == sorted(
        [
            "P00761|TRYP_PIG",
            "P02769|ALBU_BOVIN",
            "sp|O46375|TTHY_BOVIN",
            "tr|A9EY18|A9EY18_SORC5",
            "tr|A9G0B6|A9G0B6_SORC5",
        ]
    )
    albumin = table.data.set_index("protein").loc["P02769|ALBU_BOVIN"]
    assert albumin["assay[2]"] == pytest.approx(1.39633376e8)
    assert table.data.set_index("protein").loc["sp|O46375|TTHY_BOVIN", "gene"] == "TTR"


def test_mztab_assays_of_one_run_each_are_named_by_the_run_file(tmp_path):
    # The usual label-free export: one ms_run per assay, so each assay takes its run's file stem
    # (POSIX or Windows location alike).
    text = (FORMATS / "mztab" / "ProteomicsLFQ_1_out.mzTab").read_text()
    for assay in (1, 2, 3):
        text = text.replace(
            f"assay[{assay}]-ms_run_ref\tms_run[{assay}],ms_run[{assay + 3}]",
            f"assay[{assay}]-ms_run_ref\tms_run[{assay}]",
        )
    text = text.replace(
        "file:///ceph/ibmi/abi/projects/sachsenb/OpenMS/share/OpenMS/examples/FRACTIONS/BSA1_F1.mzML",
        "file:///data/P01_baseline.mzML",
    )
    text = text.replace(
        "file:///ceph/ibmi/abi/projects/sachsenb/OpenMS/share/OpenMS/examples/FRACTIONS/BSA2_F1.mzML",
        "file:///C:/runs/P01_week2.raw",
    )
    path = tmp_path / "one_run_per_assay.mzTab"
    path.write_text(text)
    table = read(path)
    assert table.runs == ["P01_baseline", "P01_week2", "BSA3_F1"]
    albumin = table.data.set_index("protein").loc["P02769|ALBU_BOVIN"]
    assert albumin["P01_week2"] == pytest.approx(1.39633376e8)


def test_diann_long_report_with_file_name_but_no_run_column_reads_the_same(tmp_path):
    # Older DIA-NN reports have no Run column; runs then come from File.Name (a Windows path here).
    report = pd.read_csv(FORMATS / "diann" / "report_long_diann1.9.tsv", sep="\t", dtype=str, keep_default_na=False)
    path = tmp_path / "report.tsv"
    report.drop(columns=["Run"]).to_csv(path, sep="\t", index=False)
    table = read(path, "diann_report")
    reference = read(FORMATS / "diann" / "report_long_diann1.9.tsv")
    assert table.runs == reference.runs
    pd.testing.assert_frame_equal(table.data, reference.data)


def test_identification_only_mztab_is_refused():
    with pytest.raises(TearflowError, match="identification-only mzTab") as error:
        read(FORMATS / "mztab" / "maxquant_identification_only.mztab")
    assert "protein_abundance_assay" in str(error.value)


# ------------------------------------------------------------------------------ fixtures (other versions)


def test_maxquant_with_gene_names_fixture():
    table = read(FIXTURES / "maxquant_gene_names_proteinGroups.txt")
    assert table.removed_count("decoy") == 1
    assert table.removed_count("contaminant") == 2  # CON__P00761 and the '+'-flagged KRT1
    assert table.removed_count("site_only") == 1
    assert list(table.data["protein"]) == ["P02768", "Q15019", "A0A999ZZZ1", "P61626", "P01833", "P25311", "P31025"]
    assert table.data.set_index("protein").loc["P02768", "P01_baseline"] == 1.4e9  # LFQ, not Intensity
    assert np.isnan(table.data.set_index("protein").loc["P01833", "P01_week2"])  # 0 → NaN


def test_maxquant_falls_back_to_intensity_without_lfq(tmp_path):
    text = (FIXTURES / "maxquant_gene_names_proteinGroups.txt").read_text().splitlines()
    header = text[0].split("\t")
    keep = [i for i, c in enumerate(header) if not c.startswith("LFQ intensity")]
    path = tmp_path / "proteinGroups.txt"
    path.write_text("\n".join("\t".join(line.split("\t")[i] for i in keep) for line in text) + "\n")
    table = read(path)
    assert table.data.set_index("protein").loc["P02768", "P01_baseline"] == 1.5e9


def test_fragpipe_ionquant_fixture_prefers_maxlfq():
    table = read(FIXTURES / "fragpipe_ionquant_combined_protein.tsv")
    assert table.runs == ["P01_baseline", "P01_week2"]
    assert table.removed_count("contaminant") == 1
    assert table.data.set_index("protein").loc["P02768", "P01_baseline"] == 1.9e9
    plain = read(FIXTURES / "fragpipe_ionquant_combined_protein.tsv", fragpipe_quantity="intensity")
    assert plain.data.set_index("protein").loc["P02768", "P01_baseline"] == 2.0e9


def test_diann18_pg_matrix_posix_paths_fixture():
    table = read(FIXTURES / "diann18_posix.pg_matrix.tsv")
    assert table.runs[0] == "/data/tearflow/raw/P01_baseline.raw"
    assert table.removed_count("contaminant") == 1
    assert pd.isna(table.data.set_index("protein").loc["P01833", "gene"])  # empty Genes cell


def test_spectronaut_pivot_fixture_with_decimal_commas():
    table = read(FIXTURES / "spectronaut_pivot_report.tsv")
    assert table.runs == ["P01_baseline", "P01_week2"]
    data = table.data.set_index("protein")
    assert data.loc["P02768", "P01_baseline"] == 1234567.5
    assert data.loc["P31025", "P01_week2"] == 512.125
    assert np.isnan(data.loc["P61626;P61626-2", "P01_week2"])  # Filtered
    assert table.run_aliases["P01_baseline"][0] == "P01_baseline.raw"


def test_wide_csv_latin1_fixture(caplog):
    with caplog.at_level(logging.INFO):
        table = read(FIXTURES / "wide_latin1.csv")
    assert table.runs == ["P01_baseline", "P01_week2"]  # description column ignored
    assert "comma-separated" in caplog.text and "Latin-1" in caplog.text
    assert table.data.set_index("protein").loc["Q15019", "gene"] == "Sep-02"  # repaired later, by genes


def test_wide_tsv_with_bom_fixture():
    table = read(FIXTURES / "wide_bom.tsv")
    assert list(table.data["protein"]) == ["P02768", "P61626", "P31025"]
    assert table.data["gene"].isna().all()
    assert np.isnan(table.data.set_index("protein").loc["P61626", "P01_baseline"])


def test_wide_tsv_in_utf16_as_excel_saves_unicode_text_reads_like_utf8(tmp_path):
    text = "protein\tgene\tP01_baseline\tP01_week2\nP02768\tALB\t1000\t2000\nP61626\tLYZ\t30\t\n"
    plain = read(_write(tmp_path, text, "plain.tsv"))
    # Excel's "Unicode text": UTF-16 little-endian with a byte-order mark and CRLF line ends
    utf16 = tmp_path / "unicode.txt"
    utf16.write_bytes(b"\xff\xfe" + text.replace("\n", "\r\n").encode("utf-16-le"))
    table = read(utf16)
    assert table.runs == plain.runs == ["P01_baseline", "P01_week2"]
    pd.testing.assert_frame_equal(table.data, plain.data)


@pytest.mark.parametrize(
    "start, advice",
    [
        (b"BZh91AY&SY", "bzip2-compressed; decompress it"),
        (b"PK\x03\x04\x14\x00", "Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1", "old Excel workbook"),
    ],
)
def test_compressed_or_binary_table_is_refused_with_what_to_do(tmp_path, start, advice):
    path = tmp_path / "report.tsv"
    path.write_bytes(start + bytes(range(256)) * 4)
    with pytest.raises(TearflowError, match=f"{path}: not a text table: the file .*{advice}"):
        read(path)


@pytest.mark.parametrize(
    "start, message",
    [
        (b"\x1f\x8b\x08\x00", "the file is gzip-compressed but cannot be decompressed"),
        (b"PAR1\x15\x04", "the file starts like a Parquet file but cannot be read as Parquet"),
    ],
)
def test_broken_gzip_or_parquet_is_an_error_saying_so(tmp_path, start, message):
    # gzip and Parquet files are read (gzip: any text table; Parquet: DIA-NN reports), so a damaged
    # one is reported as damaged
    path = tmp_path / "report.tsv"
    path.write_bytes(start + bytes(range(256)) * 4)
    with pytest.raises(TearflowError, match=f"{path}: {message}"):
        read(path)


def test_gzip_table_reads_like_the_text(tmp_path):
    import gzip

    for fixture in ("wide_bom.tsv", "spectronaut_pivot_report.tsv", "maxquant_gene_names_proteinGroups.txt"):
        path = tmp_path / f"{fixture}.gz"
        path.write_bytes(gzip.compress((FIXTURES / fixture).read_bytes()))
        plain, packed = read(FIXTURES / fixture), read(path)
        assert packed.format == plain.format
        pd.testing.assert_frame_equal(packed.data, plain.data, check_exact=True)
    utf16 = tmp_path / "unicode.txt.gz"
    utf16.write_bytes(gzip.compress(b"\xff\xfe" + "protein\tS1\nP02768\t1000\n".encode("utf-16-le")))
    assert read(utf16).data.loc[0, "S1"] == 1000
    truncated = tmp_path / "truncated.tsv.gz"
    lines = "protein\tS1\n" + "".join(f"P{i:05d}\t{i}\n" for i in range(200000))
    truncated.write_bytes(gzip.compress(lines.encode())[:-5000])
    with pytest.raises(TearflowError, match=f"{truncated}: the gzip-compressed file cannot be decompressed to its end"):
        read(truncated)
    empty = tmp_path / "empty.tsv.gz"
    empty.write_bytes(gzip.compress(b""))
    with pytest.raises(TearflowError, match=f"{empty}: the file is empty once decompressed"):
        read(empty)


def test_parquet_is_read_only_as_a_diann_report(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "table.parquet"
    pq.write_table(pa.table({"protein": ["P1", "P2"], "S1": [1.0, 2.0]}), path)
    with pytest.raises(TearflowError, match=f"{path}: unknown table layout"):
        read(path)
    with pytest.raises(TearflowError, match=f"{path}: not a text table: the file is a Parquet file; only DIA-NN"):
        read(path, "wide")


# ------------------------------------------------------------------------------ bad input


def _write(tmp_path, text, name="table.tsv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_empty_file_is_an_error(tmp_path):
    with pytest.raises(TearflowError, match="empty"):
        read(_write(tmp_path, ""))


def test_header_only_is_an_error(tmp_path):
    with pytest.raises(TearflowError, match="no data rows"):
        read(_write(tmp_path, "protein\tS1\n"))


def test_missing_id_column_is_an_error(tmp_path):
    path = _write(tmp_path, "name\tS1\nA\t1\n")
    with pytest.raises(TearflowError, match="no protein ID column"):
        read(path, "wide")


def test_non_numeric_cell_names_file_line_and_column(tmp_path):
    path = _write(tmp_path, "protein\tS1\tS2\nP1\t1\t2\nP2\t3\tabc\n")
    with pytest.raises(TearflowError) as error:
        read(path)
    assert str(path) in str(error.value) and "line 3" in str(error.value) and "'S2'" in str(error.value)


def test_negative_intensity_policies(tmp_path):
    path = _write(tmp_path, "protein\tS1\tS2\nP1\t1\t2\nP2\t-3\t4\n")
    with pytest.raises(TearflowError, match="line 3, column 'S1': negative"):
        read(path)
    assert np.isnan(read(path, negative_values="missing").data.loc[1, "S1"])
    assert read(path, negative_values="keep").data.loc[1, "S1"] == -3


def test_ragged_row_is_one_line_naming_the_line(tmp_path):
    path = _write(tmp_path, "protein\tS1\tS2\nP1\t1\t2\nP2\t3\t4\t5\n")
    with pytest.raises(TearflowError) as error:
        read(path)
    message = str(error.value)
    assert "\n" not in message
    assert str(path) in message and "line 3" in message and "cells; expected 3 as in the header" in message


def test_explicit_format_that_does_not_fit_says_what_the_file_looks_like(tmp_path):
    path = _write(tmp_path, "Protein.Group\tProtein.Ids\tGenes\tS1.raw\nP1\tP1\tG1\t5\n")
    with pytest.raises(TearflowError) as error:
        read(path, "maxquant")
    message = str(error.value)
    assert "lacks column(s)" in message
    assert "format is 'maxquant', but the file looks like a diann_matrix table" in message


def test_wide_text_columns_are_kept_with_their_first_cell(tmp_path):
    path = _write(tmp_path, "protein\tS1\tS2\tnote\nP1\t1\tNA\tx\nP2\t3\tn.d.\ty\n")
    table = read(path, "wide")
    assert table.runs == ["S1"]
    assert table.text_columns == {"S2": "n.d.", "note": "x"}


def test_duplicated_ids_are_an_error(tmp_path):
    path = _write(tmp_path, "protein\tS1\nP1\t1\nP2\t2\nP1\t3\n")
    with pytest.raises(TearflowError, match="'P1' in column 'protein' appears on lines 2, 4"):
        read(path)


def test_semicolon_csv_with_decimal_comma(tmp_path):
    path = _write(tmp_path, "protein;S1;S2\nP1;1,5;2\nP2;NA;0,25\n", name="table.csv")
    table = read(path)
    assert table.data.loc[0, "S1"] == 1.5 and table.data.loc[1, "S2"] == 0.25


def test_ambiguous_comma_with_point_mode_is_an_error(tmp_path):
    path = _write(tmp_path, "protein\tS1\nP1\t1,5\nP2\t2.5\n")
    with pytest.raises(TearflowError, match="import.decimal"):
        read(path)


# ------------------------------------------------------------------------------ genes


def test_file_stem_windows_posix_and_uri():
    assert file_stem(r"D:\tearflow\raw\NSDE01_baseline.raw") == "NSDE01_baseline"
    assert file_stem("/data/raw/NSDE01_baseline.mzML") == "NSDE01_baseline"
    assert file_stem("file:///x/BSA1_F1.mzML") == "BSA1_F1"
    assert file_stem("/x/run.d/") == "run"
    assert file_stem("S1") == "S1"


@pytest.mark.parametrize("symbol", ["2-Sep", "02-Sep", "1-Mar", "Sep-02", "1-DEC", "mar-1", "3-Sep-2020"])
def test_excel_mangled_symbols_detected(symbol):
    assert is_excel_mangled(symbol)


@pytest.mark.parametrize("symbol", ["SEPTIN2", "MARCHF1", "HLA-A", "IGKV3-7", "DEC1", "C1-INH", "MT-CO1"])
def test_real_symbols_not_flagged(symbol):
    assert not is_excel_mangled(symbol)


def test_accession_parsing():
    assert accession_of("sp|P02768|ALBU_HUMAN") == "P02768"
    assert accession_of("CON__P00761", ["CON__"]) == "P00761"
    assert gene_from_description("Transthyretin OS=Bos taurus GN=TTR PE=1 SV=1") == "TTR"
    headers = "tr|A8K0Y0|A8K0Y0_HUMAN Opioid ... GN=OPCML PE=1 SV=1;sp|Q14982|OPCM_HUMAN Opioid OS=Homo GN=OPCML PE=1"
    assert genes_from_fasta_headers(headers, "sp|Q14982|OPCM_HUMAN") == "OPCML"


def test_gene_map_primary_symbol(gene_map):
    assert len(gene_map) > 20000
    assert gene_map["Q15019"] == "SEPTIN2"
    assert gene_map["P02768"] == "ALB"


def test_fasta_genes_via_pyteomics_gn_not_gene_id():
    mapping = read_fasta_genes(FIXTURES / "uniprot_small.fasta")
    assert mapping == {"P01833": "PIGR", "Q15019": "SEPTIN2", "P02768": "ALB"}


def test_assign_genes_order_and_excel_repair(gene_map):
    fasta = {"P01833": "PIGR_FROM_FASTA"}
    proteins = pd.Series(["P02768", "P01833", "Q15019;Q15019-2", "A0A999ZZZ1", "P61626-2", "X1"])
    table_genes = pd.Series(["ALB", None, "2-Sep", "1-Mar", None, None])
    genes, sources, notes = assign_genes(proteins, table_genes, fasta, gene_map)
    assert list(genes) == ["ALB", "PIGR_FROM_FASTA", "SEPTIN2", "A0A999ZZZ1", "LYZ", "X1"]
    assert list(sources) == ["table", "fasta", "gene_map", "accession", "gene_map", "accession"]
    assert len(notes) == 2 and "repaired to 'SEPTIN2'" in notes["reason"].iloc[0]


# ------------------------------------------------------------------------------ float fast path

FAST_PATH_FILES = sorted(
    [path for path in FORMATS.rglob("*") if path.is_file()]
    + [path for path in FIXTURES.rglob("*") if path.is_file()]
    + [REPO / "resources" / "example" / "report.pg_matrix.tsv"]
)


def _read_or_error(path, options=None):
    try:
        return read(path, **(options or {})), None
    except TearflowError as error:
        return None, str(error)


@pytest.mark.parametrize("path", FAST_PATH_FILES, ids=lambda path: path.name)
def test_float_fast_path_gives_bit_identical_tables(path, monkeypatch):
    """Quantities read straight from the file as floats equal the string path's bit for bit (and a
    file the string path refuses is refused with the same message)."""
    from tearflow.readers import text

    calls = []
    original = text.quantities_from_file

    def spy(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(text, "quantities_from_file", spy)
    fast, fast_error = _read_or_error(path)
    monkeypatch.setattr(text, "quantities_from_file", lambda *args, **kwargs: None)
    slow, slow_error = _read_or_error(path)
    assert fast_error == slow_error
    if slow is not None:
        pd.testing.assert_frame_equal(fast.data, slow.data, check_exact=True)
        values = slow.data.select_dtypes("number").to_numpy()
        assert np.array_equal(fast.data.select_dtypes("number").to_numpy(), values, equal_nan=True)
    if path.name in ("report_final.pg_matrix.tsv", "report.pg_matrix.tsv", "proteinGroups.txt"):
        assert any(calls), "the float fast path was not used on a plain matrix"


def test_float_fast_path_falls_back_for_a_bad_cell_and_odd_tokens(tmp_path):
    from tearflow.readers import text

    path = tmp_path / "wide.tsv"
    path.write_text("protein\tgene\ts1\ts2\nP1\tA\t1.5\tNA\nP2\tB\t n/a \t2.25\nP3\tC\tnan\t3\n")
    frame = text.read_text_table(path)
    options = {"decimal": "auto", "zero_is_missing": True, "negative_values": "error"}
    assert text.quantities_from_file(path, frame, ["s1", "s2"]) is None  # ' n/a ' is padded: string path
    values = text.parse_intensities(path, frame, ["s1", "s2"], options)
    assert np.isnan(values.loc[3, "s1"]) and values.loc[2, "s1"] == 1.5 and values.loc[3, "s2"] == 2.25
    path.write_text("protein\tgene\ts1\ts2\nP1\tA\t1.5\tNA\nP2\tB\t0\tFiltered\n")
    frame = text.read_text_table(path)
    assert text.quantities_from_file(path, frame, ["s1", "s2"]) is not None
    assert text.quantities_from_file(path, frame.iloc[1:], ["s1", "s2"]) is None  # rows changed
    path.write_text("protein\tgene\ts1\nP1\tA\t1.5\nP2\tB\tabc\n")
    frame = text.read_text_table(path)
    assert text.quantities_from_file(path, frame, ["s1"]) is None
    with pytest.raises(TearflowError, match=r"line 3, column 's1': 'abc' is not a number"):
        text.parse_intensities(path, frame, ["s1"], options)


# ------------------------------------------------------------------------------ cut and ragged files


EXAMPLE_MATRIX = REPO / "resources" / "example" / "report.pg_matrix.tsv"


def test_a_table_cut_inside_its_last_line_is_an_error_naming_the_line_and_the_cells(tmp_path):
    """An interrupted copy ends inside a line: its value is cut and the rest of its row missing."""
    text = EXAMPLE_MATRIX.read_text()
    header_cells = text.split("\n", 1)[0].count("\t") + 1
    lines = text.splitlines()
    cut = text[: len(text) - 1 - len(lines[-1]) // 2]  # half of the last line, no line break
    path = _write(tmp_path, cut, "report.pg_matrix.tsv")
    with pytest.raises(TearflowError) as error:
        read(path)
    message = str(error.value)
    assert str(path) in message and f"line {len(lines)}, the last" in message
    assert f"of the header's {header_cells} cells" in message and "cut short" in message


def test_a_last_line_without_a_line_break_but_complete_is_read_with_a_warning(tmp_path, caplog):
    path = _write(tmp_path, EXAMPLE_MATRIX.read_text().rstrip("\n"), "report.pg_matrix.tsv")
    with caplog.at_level(logging.WARNING):
        table = read(path)
    assert len(table.data) > 400 and "does not end with a line break" in caplog.text


def test_a_row_with_a_cell_too_many_is_an_error_but_trailing_empty_cells_are_not(tmp_path):
    path = _write(tmp_path, "protein\tS1\tS2\nP02768\t1\t2\nP61626\t3\t4\t5\n")
    with pytest.raises(TearflowError, match=r"line 3 has 4 cells; expected 3"):
        read(path, "wide")
    fine = _write(tmp_path, "protein\tS1\tS2\nP02768\t1\t2\t\t\nP61626\t3\n", "fine.tsv")
    data = read(fine, "wide").data.set_index("protein")
    assert data.loc["P02768", "S2"] == 2 and np.isnan(data.loc["P61626", "S2"])


def test_cleared_rows_are_left_out_and_lines_keep_their_file_numbers(tmp_path):
    """Excel writes a cleared row as separators only; a blank line shifts nothing: an error names the
    file's own line."""
    path = _write(tmp_path, "protein\tS1\tS2\nP02768\t1\t2\n\t\t\n\nP61626\tabc\t4\n")
    with pytest.raises(TearflowError, match=r"line 5, column 'S1': 'abc' is not a number"):
        read(path, "wide")


# ------------------------------------------------------------------------ search-engine normalization


@pytest.mark.parametrize(
    "path, quantity, normalised",
    [
        # MaxLFQ-type and the tools' normalised columns: normalization.method auto leaves them alone
        (FORMATS / "maxquant" / "proteinGroups.txt", "LFQ intensity", True),
        (FORMATS / "diann" / "report_final.pg_matrix.tsv", "pg_matrix", True),
        (FORMATS / "diann" / "report_long_diann1.9.tsv", "PG.MaxLFQ", True),
        (FIXTURES / "fragpipe_ionquant_combined_protein.tsv", "MaxLFQ Intensity", True),
        (FORMATS / "spectronaut" / "results_non_european_comma.tsv", "PG.Quantity", True),
        (FIXTURES / "spectronaut_pivot_report.tsv", "PG.Quantity", True),
        # summed raw intensities and formats that do not say: auto normalizes them
        (FORMATS / "fragpipe" / "combined_proteins.tsv", "Razor Intensity", False),
        (FORMATS / "mztab" / "ProteomicsLFQ_1_out.mzTab", "", False),
        (FIXTURES / "wide_bom.tsv", "", False),
    ],
)
def test_tables_say_which_quantity_they_read_and_whether_it_is_normalised(path, quantity, normalised):
    table = read(path)
    assert table.quantity == quantity
    assert normalised_by_search_engine(table.format, table.quantity) is normalised


def test_maxquant_raw_intensity_is_not_normalised():
    table = read(FORMATS / "maxquant" / "proteinGroups.txt", maxquant_quantity="intensity")
    assert table.quantity == "Intensity" and not normalised_by_search_engine(table.format, table.quantity)


@pytest.mark.parametrize(
    "name, options, normalised",
    [
        ("diann1.9_HYE_AIF_report.tsv", {}, True),  # Precursor.Normalised
        ("diann1.9_HYE_AIF_report.tsv", {"diann_precursor_quantity": "Precursor.Quantity"}, False),
        ("spectronaut_precursor_report.tsv", {}, True),  # EG.TotalQuantity (Settings)
        ("fragpipe_combined_ion.tsv", {}, False),
        ("maxquant_evidence.txt", {}, False),
        ("maxquant_peptides_UPS1_25vs10fmol.txt.gz", {}, False),
    ],
)
def test_precursor_tables_say_whether_their_quantity_is_normalised(name, options, normalised):
    table = read_precursors(str(TEST_FIXTURES / "precursor" / name), "auto", config_section("import", **options))
    assert normalised_by_search_engine(table.format, table.quantity) is normalised


@pytest.mark.parametrize("suffix", [".tsv", ".parquet"])
def test_diann_report_made_without_normalisation_is_not_called_normalised(tmp_path, caplog, suffix):
    """DIA-NN with --no-norm writes Normalisation.Factor 1 (Precursor.Normalised = Precursor.Quantity):
    its Precursor.Normalised holds raw intensities, and normalization.method auto must normalize them."""
    from tearflow.readers.precursors import DIANN_NOT_NORMALISED

    report = pd.read_csv(TEST_FIXTURES / "precursor" / "diann1.9_HYE_AIF_report.tsv", sep="\t")
    report["Precursor.Normalised"] = report["Precursor.Quantity"]
    report["Normalisation.Factor"] = 1.0
    path = tmp_path / f"report{suffix}"
    if suffix == ".tsv":
        report.to_csv(path, sep="\t", index=False)
    else:
        report.to_parquet(path, index=False)
    options = config_section("import")
    with caplog.at_level(logging.WARNING):
        table = read_precursors(str(path), "auto", options)
    assert table.quantity == DIANN_NOT_NORMALISED
    assert not normalised_by_search_engine(table.format, table.quantity)
    assert "--no-norm" in caplog.text
    # the shipped fixture, normalised by DIA-NN, keeps its name
    shipped = read_precursors(str(TEST_FIXTURES / "precursor" / "diann1.9_HYE_AIF_report.tsv"), "auto", options)
    assert shipped.quantity == "Precursor.Normalised"
