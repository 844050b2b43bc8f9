"""Long reports (one row per precursor and run) read as integer codes, one column at a time.

A text report is read once with the needed columns (:class:`TextReport`, cells as strings indexed by
file line, numbers parsed by :func:`~tearflow.readers.text.parse_intensities`); a Parquet report
column by column with pyarrow (:class:`ParquetReport`, rows numbered from 1). Both give the same
things: a text column as ``(codes, names)`` — an integer code per row into its distinct stripped
values, -1 for an empty cell — a number column as floats with tearflow's rules for zeros, negatives
and infinities, a flag column as booleans, and the position of a row for messages ("line 5" or
"row 4"). The readers then work on integer arrays only (no per-row Python, no string pivots).
"""

import logging

import numpy as np
import pandas as pd

from tearflow.errors import TearflowError
from tearflow.readers.base import has_prefix
from tearflow.readers.text import (
    MISSING_TOKENS,
    file_stem,
    is_parquet,
    parse_intensities,
    read_header,
    read_text_table,
)

log = logging.getLogger(__name__)

COMPOSITE_SEPARATOR = "."  # <modified sequence>.<charge>, as limpa joins feature columns
TRUE_TOKENS = frozenset({"1", "true", "yes", "+", "1.0"})
FALSE_TOKENS = frozenset({"0", "false", "no", "0.0"}) | MISSING_TOKENS


class TextReport:
    """A long text report read once (``usecols``), every cell a string, indexed by file line."""

    def __init__(self, path, columns):
        self.path = path
        self.frame = read_text_table(path, usecols=list(dict.fromkeys(columns)))
        self.rows = len(self.frame)

    def position(self, row):
        return f"line {self.frame.index[row]}"

    def codes(self, column):
        return strip_codes(*pd.factorize(self.frame[column], use_na_sentinel=True))

    def numbers(self, columns, options):
        values = parse_intensities(self.path, self.frame, list(columns), options)
        return {column: values[column].to_numpy(dtype=float) for column in columns}

    def each_number(self, columns, options):
        """(column, floats) for each of ``columns`` (text: parsed together, one pass over the file)."""
        yield from self.numbers(columns, options).items()

    def flags(self, column):
        codes, names = self.codes(column)
        return flags_from_codes(self.path, column, codes, names, self.position)

    def distinct(self, column):
        return list(self.codes(column)[1])


class ParquetReport:
    """A long Parquet report, read one column at a time (see :class:`~tearflow.readers.parquet.ParquetColumns`)."""

    def __init__(self, path):
        from tearflow.readers.parquet import ParquetColumns

        self.path = path
        self.parquet = ParquetColumns(path)
        self.rows = self.parquet.rows
        if self.rows == 0:
            raise TearflowError(f"{path}: the Parquet table has no rows")

    def position(self, row):
        return f"row {row + 1}"

    def codes(self, column):
        return strip_codes(*self.parquet.codes(column))

    def numbers(self, columns, options):
        return dict(self.each_number(columns, options))

    def each_number(self, columns, options):
        """(column, floats) for each of ``columns``, read one at a time."""
        for column in columns:
            yield column, number_policy(self, column, self.parquet.numbers(column), options)

    def flags(self, column):
        return self.parquet.flags(column)

    def distinct(self, column):
        return [name for name in self.parquet.distinct(column) if str(name).strip()]


def number_policy(source, column, values, options):
    """What :func:`~tearflow.readers.text.parse_intensities` does to text cells, for numbers read as numbers."""
    infinite = np.isinf(values)
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise TearflowError(
            f"{source.path}: {source.position(row)}, column {column!r}: infinite value; expected a finite number"
        )
    negative = values < 0
    if negative.any():
        row = int(np.flatnonzero(negative)[0])
        where = f"{source.position(row)}, column {column!r}"
        if options["negative_values"] == "error":
            raise TearflowError(
                f"{source.path}: {where}: negative value {values[row]} ({int(negative.sum())} negative cells); "
                "raw intensities and q-values are >= 0. If the quantities are already log-transformed set "
                "import.negative_values: keep"
            )
        if options["negative_values"] == "missing":
            log.warning("%s: %d negative cells set to missing (first at %s)", source.path, int(negative.sum()), where)
            values = np.where(negative, np.nan, values)
    if options["zero_is_missing"]:
        values = np.where(values == 0, np.nan, values)
    return values


def open_report(path, columns):
    return ParquetReport(path) if is_parquet(path) else TextReport(path, columns)


def report_columns(path):
    """Column names of a long report: the Parquet schema or the text header."""
    if is_parquet(path):
        from tearflow.readers.parquet import parquet_columns

        return parquet_columns(path)
    return read_header(path)[0]


def strip_codes(codes, names):
    """Codes of stripped, non-empty names: ``(codes, names)`` with -1 for empty or missing cells."""
    codes = np.asarray(codes)
    names = pd.Series(np.asarray(names, dtype=object)).astype(str).str.strip()
    empty = names.str.lower().isin(MISSING_TOKENS - {"-"}).to_numpy() | (names == "").to_numpy()
    stripped_codes, unique = pd.factorize(names.where(~empty, None), use_na_sentinel=True)
    lookup = np.append(stripped_codes.astype(np.int32), np.int32(-1))  # code -1 stays -1
    return lookup[codes], np.asarray(unique, dtype=object)


def combine_codes(first, second):
    """Codes of the pairs (first, second) named ``<first>.<second>``; -1 where either is missing."""
    first_codes, first_names = first
    second_codes, second_names = second
    valid = (first_codes >= 0) & (second_codes >= 0)
    pair = first_codes.astype(np.int64) * max(len(second_names), 1) + second_codes
    codes = np.full(len(pair), -1, dtype=np.int32)
    pair_codes, unique = pd.factorize(pair[valid])
    codes[valid] = pair_codes
    size = max(len(second_names), 1)
    names = np.array(
        [f"{first_names[u // size]}{COMPOSITE_SEPARATOR}{second_names[u % size]}" for u in unique], dtype=object
    )
    return codes, names


def flags_from_codes(path, column, codes, names, position):
    """Booleans from coded text cells (true/1/yes/+ vs false/0/no/empty); other text is an error."""
    lowered = [str(name).lower() for name in names]
    unknown = [i for i, name in enumerate(lowered) if name not in TRUE_TOKENS | FALSE_TOKENS]
    if unknown:
        row = int(np.flatnonzero(codes == unknown[0])[0])
        raise TearflowError(
            f"{path}: {position(row)}, column {column!r}: {names[unknown[0]]!r}; expected True/False, 1/0, yes/no or +"
        )
    truthy = np.array([name in TRUE_TOKENS for name in lowered] + [False])
    return truthy[codes]


def prefix_flags_by_code(names, prefixes, every):
    """Prefix flags of coded protein-group names, indexable by code (code -1 → False)."""
    flags = has_prefix(pd.Series(names, dtype=object), prefixes, every=every).to_numpy(dtype=bool)
    return np.append(flags, False)


def first_per_code(key_codes, value_codes, size, path, what):
    """The ``value_codes`` of each key (precursor): ``size`` codes, its first row's where its rows disagree."""
    result = np.full(size, -1, dtype=np.int32)
    result[key_codes] = value_codes
    differ = result[key_codes] != value_codes
    if differ.any():
        affected = np.unique(key_codes[differ])
        rows = np.flatnonzero(np.isin(key_codes, affected))
        unique, first = np.unique(key_codes[rows], return_index=True)
        result[unique] = value_codes[rows[first]]
        log.warning(
            "%s: %d precursor(s) have different %s values in different runs; the first row's is used",
            path,
            len(affected),
            what,
        )
    return result


def check_present(source, codes, column, what, ignore=None):
    missing = codes < 0
    if ignore is not None:
        missing &= ~ignore
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise TearflowError(
            f"{source.path}: {source.position(row)}, column {column!r} is empty; expected {what} on every row"
        )


def first_conflict(flat, cell, values, block=4_000_000):
    """The first row whose value is not the one its cell holds (two different values), or None."""
    for start in range(0, len(cell), block):
        differ = flat[cell[start : start + block]] != values[start : start + block]
        if differ.any():
            return start + int(np.flatnonzero(differ)[0])
    return None


def names_or_na(codes, names):
    values = np.append(np.asarray(names, dtype=object), None)
    return values[codes]


def run_codes(source, column, stem):
    codes, names = source.codes(column)
    check_present(source, codes, column, "a run name")
    if stem:
        codes, names = strip_codes(codes, [file_stem(name) for name in names])
    return codes, names


def run_aliases_from(source, runs, column):
    """{run: (other name,)}: the ``column`` values each run's rows carry (one each, else none)."""
    other_codes, other_names = source.codes(column)
    run_codes, run_names = runs
    valid = other_codes >= 0
    pairs = pd.unique(run_codes[valid].astype(np.int64) * max(len(other_names), 1) + other_codes[valid])
    size = max(len(other_names), 1)
    found = {}
    for pair in pairs:
        found.setdefault(str(run_names[pair // size]), []).append(str(other_names[pair % size]))
    return {run: tuple(names) for run, names in found.items() if run not in names}
