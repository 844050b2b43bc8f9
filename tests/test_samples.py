"""Reading the sample sheet and building baseline/follow-up pairs."""

import logging

import pandas as pd
import pytest

from tearflow.errors import TearflowError
from tearflow.samples import paired_samples, read_sample_sheet, subgroup_order


def write_sheet(tmp_path, text):
    path = tmp_path / "samples.tsv"
    path.write_text(text)
    return path


def test_ids_stay_strings(tmp_path):
    path = write_sheet(tmp_path, "sample\tpatient\tsubgroup\ttimepoint\n007_a\t007\tA\tbaseline\n")
    assert read_sample_sheet(path)["patient"].tolist() == ["007"]


def test_missing_column_is_named(tmp_path):
    path = write_sheet(tmp_path, "sample\tpatient\ttimepoint\nx\t1\tbaseline\n")
    with pytest.raises(TearflowError, match="missing column\\(s\\) subgroup"):
        read_sample_sheet(path)


@pytest.mark.parametrize("separator, name", [(",", "comma"), (";", "semicolon")])
def test_sheet_saved_with_another_separator_is_named_as_such(tmp_path, separator, name):
    rows = ["sample,patient,subgroup,timepoint", "x,1,A,baseline"]
    path = write_sheet(tmp_path, "\n".join(row.replace(",", separator) for row in rows) + "\n")
    with pytest.raises(TearflowError, match=f"{path}: line 1 has no tab; the file looks {name}-separated"):
        read_sample_sheet(path)


def test_empty_cell_names_row_and_column(tmp_path):
    path = write_sheet(tmp_path, "sample\tpatient\tsubgroup\ttimepoint\nx\t1\tA\tbaseline\ny\t\tA\tweek2\n")
    with pytest.raises(TearflowError, match="line 3, column 'patient' is empty"):
        read_sample_sheet(path)


def test_pairs_leave_out_other_visits_and_single_visits(caplog):
    caplog.set_level(logging.INFO)
    sheet = pd.DataFrame(
        {
            "sample": ["p1b", "p1w", "p1w4", "p2b", "p3b", "p3w"],
            "patient": ["p1", "p1", "p1", "p2", "p3", "p3"],
            "subgroup": ["B", "B", "B", "A", "A", "A"],
            "timepoint": ["bl", "w2", "w4", "bl", "bl", "w2"],
            "age": ["50", "50", "50", "60", "70", "70"],
        }
    )
    pairs = paired_samples(sheet, "bl", "w2")
    assert pairs["patient"].tolist() == ["p1", "p3"]
    assert pairs["followup_sample"].tolist() == ["p1w", "p3w"]
    assert pairs["age"].tolist() == ["50", "70"]
    assert "w4" in caplog.text and "p2" in caplog.text
    assert subgroup_order(sheet) == ["B", "A"]


def test_empty_and_header_only_sheets_are_named(tmp_path):
    path = write_sheet(tmp_path, "")
    with pytest.raises(TearflowError, match="the file is empty"):
        read_sample_sheet(path)
    path = write_sheet(tmp_path, "sample\tpatient\tsubgroup\ttimepoint\n")
    with pytest.raises(TearflowError, match="no sample rows below the header"):
        read_sample_sheet(path)


def test_small_tables_share_one_reader_that_names_the_table(tmp_path):
    from tearflow.tables import read_user_table

    path = tmp_path / "map.tsv"
    path.write_text(" analyte \tnote\nIL6\tx\n")
    with pytest.raises(TearflowError, match=r"analyte map .*map.tsv: missing column\(s\) gene; expected at least"):
        read_user_table(path, "analyte map", ("analyte", "gene"))
    path.write_text("analyte\tgene\n IL6 \tIL6\n")
    assert read_user_table(path, "analyte map", ("analyte", "gene")).columns.tolist() == ["analyte", "gene"]


HEADER = "sample\tpatient\tsubgroup\ttimepoint\n"


def test_sheet_rows_carry_their_file_line_past_comments_and_cleared_rows(tmp_path, caplog):
    text = HEADER.replace("sample", "# written by hand\nsample", 1) + (
        "a\t007\tA\tbaseline\n\t\t\t\n\nb\t007\tA\tweek2\n# c\tx\tA\tbaseline\n"
    )
    with caplog.at_level("INFO"):
        sheet = read_sample_sheet(write_sheet(tmp_path, text))
    assert sheet.index.tolist() == [3, 6]  # the comment is line 1, the header line 2
    assert sheet["patient"].tolist() == ["007", "007"]  # IDs keep their zeros
    assert "1 line(s) with empty cells only left out (line 4)" in caplog.text


def test_a_cell_beyond_the_header_names_the_line(tmp_path):
    path = write_sheet(tmp_path, HEADER + "a\t1\tA\tbaseline\nb\t1\tA\tweek2\tstray\n")
    with pytest.raises(TearflowError, match=r"samples.tsv: line 3 has 5 cells; expected 4 as in the header"):
        read_sample_sheet(path)


def test_trailing_empty_cells_are_not_ragged(tmp_path):
    # Spreadsheets write a filled row's trailing empty optional cells either way.
    text = "sample\tpatient\tsubgroup\ttimepoint\tbatch\na\t1\tA\tbaseline\nb\t1\tA\tweek2\t2\t\n"
    path = write_sheet(tmp_path, text)
    sheet = read_sample_sheet(path)
    assert sheet["batch"].tolist() == ["", "2"]


def test_a_column_named_twice_is_an_error(tmp_path):
    path = write_sheet(tmp_path, "sample\tpatient\tsubgroup\ttimepoint\tpatient\na\t1\tA\tbaseline\t2\n")
    with pytest.raises(TearflowError, match="line 1 names column\\(s\\) patient more than once"):
        read_sample_sheet(path)


def test_a_comma_separated_sheet_gets_a_hint(tmp_path):
    path = write_sheet(tmp_path, "sample,patient,subgroup,timepoint\na,1,A,baseline\n")
    with pytest.raises(TearflowError, match="looks comma-separated"):
        read_sample_sheet(path)
