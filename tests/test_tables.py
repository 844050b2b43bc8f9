"""scripts/tearflow/tables.py: the pandas-free reader and writer give the files the pandas ones do,
and name the file, line and column of a bad cell."""

import numpy as np
import pandas as pd
import pytest

from tearflow.errors import TearflowError
from tearflow.tables import read_matrix, read_tsv, write_columns, write_tsv


@pytest.mark.parametrize("full_precision", [False, True])
def test_write_columns_writes_what_write_tsv_writes(tmp_path, full_precision):
    rng = np.random.default_rng(3)
    floats = rng.normal(size=400) * 10.0 ** rng.integers(-320, 300, 400)
    floats[:9] = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e16, 0.1 + 0.2, 5e-324, 123456789.0]
    table = {
        "protein": [f"P{i}" for i in range(400)],
        "gene": ["A\tB", 'say "x"', None, "NA", ""] + [f"G{i}" for i in range(395)],
        "value": floats,
        "listed": [float(value) for value in floats[::-1]],  # a list of floats, not an array
        "n_pairs": np.arange(400),
        "significant": np.arange(400) % 3 == 0,
    }
    write_tsv(pd.DataFrame(table), tmp_path / "pandas.tsv", full_precision=full_precision)
    for block in (2000, 7):  # one block, and many with a short last one
        write_columns(table, tmp_path / "ours.tsv", block=block, full_precision=full_precision)
        assert (tmp_path / "ours.tsv").read_bytes() == (tmp_path / "pandas.tsv").read_bytes()
    with pytest.raises(ValueError, match="different lengths"):
        write_columns({"a": [1, 2], "b": [1]}, tmp_path / "bad.tsv")
    assert not (tmp_path / "bad.tsv").exists()


def test_numbers_are_written_with_seven_significant_digits_and_counts_as_integers(tmp_path):
    table = pd.DataFrame(
        {
            "log2fc": [-1.5730011805723714, 0.1 + 0.2, 1.234567890123e-12, np.nan],
            "pvalue": [0.8244194140586901, 1.0, 5e-324, 2.0e-300],
            # a count that can be missing is a float column after a join: still written as integers
            "n_pairs": [11.0, np.nan, 5.0, 3.0],
            "set_size": pd.array([4, None, 120, 7], dtype="Int64"),
            "overlap": np.array([0, 12, 3, 1]),
            "note": ["x", 2.718281828459045, None, True],  # text mixed with numbers
        }
    )
    write_tsv(table, tmp_path / "table.tsv")
    assert (tmp_path / "table.tsv").read_text().splitlines() == [
        "log2fc\tpvalue\tn_pairs\tset_size\toverlap\tnote",
        "-1.573001\t0.8244194\t11\t4\t0\tx",
        "0.3\t1\tNA\tNA\t12\t2.718282",
        "1.234568e-12\t4.940656e-324\t5\t120\t3\tNA",
        "NA\t2e-300\t3\t7\t1\tTrue",
    ]
    read = read_tsv(tmp_path / "table.tsv")
    assert read["n_pairs"].tolist()[:1] == [11] and read["pvalue"].iloc[2] == 5e-324


def test_full_precision_tables_read_back_exactly(tmp_path):
    values = np.random.default_rng(7).normal(20, 3, size=(50, 4))
    frame = pd.DataFrame(values, columns=["s1", "s2", "s3", "s4"])
    write_tsv(frame, tmp_path / "exact.tsv", full_precision=True)
    np.testing.assert_array_equal(read_tsv(tmp_path / "exact.tsv").to_numpy(), values)
    write_tsv(frame, tmp_path / "rounded.tsv")
    rounded = read_tsv(tmp_path / "rounded.tsv").to_numpy()
    assert not np.array_equal(rounded, values)
    np.testing.assert_allclose(rounded, values, rtol=5e-7)


def test_read_matrix_reads_what_read_tsv_reads(tmp_path):
    path = tmp_path / "matrix.tsv"
    frame = pd.DataFrame(
        {"protein": ["P1", "P2", "P3"], "gene": ["NA", "G2", "G3"], "s1": [1.5, np.nan, -2e-300], "s2": [0, 3, 4.25]}
    )
    write_tsv(frame, path)
    labels, samples, values = read_matrix(path, ("protein", "gene"), "abundance table")
    assert labels == {"protein": ["P1", "P2", "P3"], "gene": ["NA", "G2", "G3"]}
    assert samples == ["s1", "s2"]
    np.testing.assert_array_equal(values, read_tsv(path)[samples].to_numpy(float))

    mask = tmp_path / "mask.tsv"
    mask.write_text("protein\tgene\ts1\ts2\nP1\tG1\tTrue\tfalse\nP2\tG2\t0\t1\n")
    _, _, flags = read_matrix(mask, ("protein", "gene"), "imputation mask", kind=bool)
    assert flags.tolist() == [[True, False], [False, True]]


@pytest.mark.parametrize(
    "text, kind, message",
    [
        ("gene\tprotein\ts1\nG\tP\t1\n", float, r"line 1 starts with gene, protein; expected protein, gene"),
        ("protein\tgene\ts1\ts2\nP\tG\t1\n", float, r"line 2 has 3 cells; expected 4"),
        (
            "protein\tgene\ts1\ts2\nP\tG\t1\t2\nQ\tH\t1\tn/a\n",
            float,
            r"line 3, column 's2' holds 'n/a'; expected a number",
        ),
        ("protein\tgene\ts1\nP\tG\tyes\n", bool, r"line 2, column 's1' holds 'yes'; expected True or False"),
        ("", float, r"the file is empty"),
    ],
)
def test_read_matrix_names_file_line_and_column(tmp_path, text, kind, message):
    path = tmp_path / "table.tsv"
    path.write_text(text)
    with pytest.raises(TearflowError, match=rf"table {path}: {message}" if text else message):
        read_matrix(path, ("protein", "gene"), "table", kind)
