"""Low-level reading shared by the format readers: encodings, delimiters, numbers, run names.

Every reader reads cells as strings and converts the quantity cells itself, so that a bad cell can
be reported with its file, line and column instead of silently becoming missing. For speed, quantity
columns of an unchanged :func:`read_text_table` frame are first read straight from the file as
floats (:func:`quantities_from_file`); any cell that is neither a number nor a missing token sends
them back to the string path, which gives the precise message. Both give bit-identical floats.

A gzip-compressed table (``report.tsv.gz``, ``peptides.txt.gz``) is read as its text, whatever its
name. A Parquet file (DIA-NN ≥ 1.9 ``report.parquet``) is not text: :func:`is_parquet` tells the
readers to use :mod:`tearflow.readers.parquet`, and the text functions here refuse it by name.
"""

import gzip
import io
import logging
import os
import re
import warnings
import zlib
from typing import NamedTuple

import numpy as np
import pandas as pd

from tearflow.errors import TearflowError

log = logging.getLogger(__name__)

# Cells that mean "no value" in the tables search engines write (compared case-insensitively).
# Spectronaut writes "Filtered", mzTab "null", Excel "#N/A".
MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "#n/a", "null", "none", "filtered", "-"})
# The spellings the float fast path treats as missing (exact match; any other case falls back to
# the string path, which compares case-insensitively).
MISSING_SPELLINGS = sorted(
    {variant for token in MISSING_TOKENS for variant in (token, token.upper(), token.title(), token.capitalize())}
    | {"NaN", "#N/A", "N/A"}
)
# ``DataFrame.attrs`` key under which read_text_table records where (and how) a frame was read.
TEXT_TABLE_SOURCE = "tearflow_text_table"

# Extensions of mass-spec run files, stripped to get a run's file stem (longest first).
RUN_EXTENSIONS = (
    ".mzml.gz",
    ".mzxml",
    ".mzml",
    ".wiff2",
    ".wiff",
    ".raw",
    ".dia",
    ".mgf",
    ".htrms",
    ".mzdata",
    ".d",
)

_DELIMITER_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon"}


def file_stem(name):
    """The run's file name without folders and mass-spec extension (Windows or POSIX paths, URIs).

    ``D:\\raw\\NSDE01_baseline.raw`` and ``/data/NSDE01_baseline.mzML`` both give ``NSDE01_baseline``.
    """
    base = re.split(r"[\\/]", str(name).strip().rstrip("\\/"))[-1]
    lower = base.lower()
    for extension in RUN_EXTENSIONS:
        if lower.endswith(extension) and len(base) > len(extension):
            return base[: -len(extension)]
    return base


GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"


def _start_bytes(path, count=8):
    with open(path, "rb") as stream:
        return stream.read(count)


def is_gzip(path):
    """True when ``path`` is gzip-compressed (by its first bytes, not its name)."""
    return _start_bytes(path, 2) == GZIP_MAGIC


def is_parquet(path):
    """True when ``path`` is a Parquet file (by its first bytes)."""
    return os.path.isfile(path) and _start_bytes(path, 4) == PARQUET_MAGIC


def compression_of(path):
    """The ``compression`` argument pandas needs for ``path``: ``gzip`` or None."""
    return "gzip" if is_gzip(path) else None


def _open_binary(path):
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def _encoding_of(path):
    with _open_binary(path) as stream:
        start = stream.read(65536)
    if start.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return "utf-8"


#: the first bytes of files that are not text tables, and what to do with each (gzip is read, and
#: Parquet by the readers that accept it)
_NOT_TEXT = (
    (b"BZh", "is bzip2-compressed; decompress it (bunzip2) and point the config at the text file"),
    (b"PK\x03\x04", "is a ZIP archive or an Excel workbook (.xlsx); export the sheet as tab-separated text"),
    (b"\xd0\xcf\x11\xe0", "is an old Excel workbook (.xls); export the sheet as tab-separated text"),
)
PARQUET_ADVICE = (
    "is a Parquet file; only DIA-NN reports (report.parquet) are read from Parquet: set the table's "
    "format to diann_report or auto, or export this table as tab-separated text"
)


def check_readable(path, parquet_ok=False):
    """Refuse a missing, empty, binary or broken gzip file with a message naming it.

    A Parquet file is refused too unless ``parquet_ok`` (the caller reads it with pyarrow).
    """
    if not os.path.isfile(path):
        raise TearflowError(f"{path}: file not found")
    if os.path.getsize(path) == 0:
        raise TearflowError(f"{path}: the file is empty; expected a protein table with a header line")
    start = _start_bytes(path)
    for magic, advice in _NOT_TEXT:
        if start.startswith(magic):
            raise TearflowError(f"{path}: not a text table: the file {advice}")
    if start.startswith(PARQUET_MAGIC) and not parquet_ok:
        raise TearflowError(f"{path}: not a text table: the file {PARQUET_ADVICE}")
    if not start.startswith((GZIP_MAGIC, PARQUET_MAGIC)):
        _check_not_binary(path, _start_bytes(path, 65536))
    if start.startswith(GZIP_MAGIC):
        try:
            with gzip.open(path, "rb") as stream:
                inner = stream.read(65536)
        except (OSError, EOFError, zlib.error) as error:
            raise TearflowError(
                f"{path}: the file is gzip-compressed but cannot be decompressed ({error}); "
                "expected a complete gzip-compressed text table"
            ) from error
        if not inner:
            raise TearflowError(f"{path}: the file is empty once decompressed; expected a table with a header line")
        for magic, advice in _NOT_TEXT + ((PARQUET_MAGIC, PARQUET_ADVICE),):
            if inner.startswith(magic):
                raise TearflowError(f"{path}: not a text table: the gzip-compressed file {advice}")
        _check_not_binary(path, inner)


def _check_not_binary(path, start):
    """A text table has no NUL byte (UTF-16, which has them, starts with its byte-order mark); a
    file that does is an instrument file, an archive or a copy gone wrong, not a table."""
    nul = start.find(b"\x00")
    if nul >= 0 and not start.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TearflowError(
            f"{path}: not a text table: the file holds binary data (a NUL byte at byte {nul + 1}); "
            "expected a tab- or comma-separated text table"
        )


def first_lines(path, count=5):
    """The first ``count`` non-empty lines of a text file (decoded, line endings removed)."""
    check_readable(path)
    encoding = _encoding_of(path)
    lines = []
    if encoding == "utf-16":
        # Excel's "Unicode text": two bytes per character, so lines cannot be split as bytes.
        stream = decoded = io.TextIOWrapper(_open_binary(path), encoding=encoding, errors="replace", newline=None)
    else:
        stream = _open_binary(path)
        decoded = (_decode(raw, encoding) for raw in stream)
    with stream:
        for line in decoded:
            text = line.rstrip("\r\n")
            if text.strip():
                lines.append(text)
            if len(lines) >= count:
                break
    return lines


def _decode(raw, encoding):
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def sniff_delimiter(path, header, expected="\t"):
    """The delimiter of ``header``: tab, comma or semicolon, whichever splits it most.

    A CSV given where a TSV was expected is read anyway, with a warning in the log.
    """
    counts = {sep: header.count(sep) for sep in _DELIMITER_NAMES}
    best = max(counts, key=lambda sep: (counts[sep], sep == expected))
    if counts[best] == 0:
        raise TearflowError(
            f"{path}: line 1 has a single column ({header[:80]!r}); expected a tab-separated table "
            "(comma- and semicolon-separated are also recognised)"
        )
    if best != expected:
        log.warning(
            "%s: the header is %s-separated, not %s-separated; reading it as %s-separated",
            path,
            _DELIMITER_NAMES[best],
            _DELIMITER_NAMES[expected],
            _DELIMITER_NAMES[best],
        )
    return best


def read_header(path):
    """Column names of a delimited text table (stripped), plus the delimiter."""
    lines = first_lines(path, 1)
    if not lines:
        raise TearflowError(f"{path}: the file has no non-empty line; expected a header line")
    sep = sniff_delimiter(path, lines[0])
    return [column.strip().strip('"') for column in lines[0].split(sep)], sep


def read_text_table(path, usecols=None):
    """Read a delimited table with every cell as a string; the index is the file line number.

    UTF-8 (with or without BOM) is tried first, Latin-1 second. Columns in ``usecols`` that the file
    lacks are an error listing what was found.
    """
    columns, sep = read_header(path)
    duplicated = sorted({c for c in columns if columns.count(c) > 1 and c})
    if duplicated and (usecols is None or set(duplicated) & set(usecols)):
        raise TearflowError(
            f"{path}: header line has duplicated column name(s) {', '.join(duplicated)}; expected each column name once"
        )
    if usecols is not None:
        missing = [c for c in usecols if c not in columns]
        if missing:
            raise TearflowError(f"{path}: missing column(s) {', '.join(missing)}; found {_shorten(columns)}")
    encoding = _encoding_of(path)
    used_encoding = encoding
    lines = data_lines(path, sep, encoding, len(columns))
    options = dict(
        sep=sep,
        compression=compression_of(path),
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=True,
        index_col=False,  # empty cells beyond the header's are dropped, not taken for an index
        usecols=(lambda c: c.strip().strip('"') in usecols) if usecols is not None else None,
    )
    try:
        with warnings.catch_warnings():
            # data_lines allowed empty cells beyond the header's; pandas drops them with a warning
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            try:
                table = pd.read_csv(path, encoding=encoding, **options)
            except UnicodeDecodeError:
                log.warning("%s: not valid UTF-8; reading it as Latin-1", path)
                used_encoding = "latin-1"
                table = pd.read_csv(path, encoding="latin-1", **options)
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise TearflowError(
            f"{path}: the gzip-compressed file cannot be decompressed to its end ({error}); expected a complete "
            "gzip file (was it truncated while copying?)"
        ) from error
    except pd.errors.ParserError as error:
        detail = " ".join(str(error).split())  # pandas' message spans lines; the user sees one
        raise TearflowError(
            f"{path}: cannot be parsed as a {_DELIMITER_NAMES[sep]}-separated table ({detail}); "
            "expected the same number of cells on every line"
        ) from error
    table.columns = [str(c).strip().strip('"') for c in table.columns]
    if len(table) == len(lines.numbers):
        table.index = pd.Index(lines.numbers, name="line")  # file line numbers (header is line 1)
        if lines.cleared:
            log.info("%s: %d line(s) with empty cells only left out (first: line %d)", path, len(lines.cleared),
                     lines.cleared[0])  # fmt: skip
            table = table.drop(index=lines.cleared)
    else:  # quoted cells spanning lines: pandas' rows are not the file's lines
        table.index = pd.RangeIndex(2, len(table) + 2)
    table.index.name = "line"
    if table.empty:
        raise TearflowError(f"{path}: the table has a header but no data rows")
    table.attrs[TEXT_TABLE_SOURCE] = {
        "path": str(path),
        "sep": sep,
        "encoding": used_encoding,
        "compression": options["compression"],
        "rows": len(table),
    }
    return table


class DataLines(NamedTuple):
    """Where a table's data rows are in its file: ``numbers`` the file line of each row pandas reads
    (blank lines are skipped), ``cleared`` those whose cells are all empty (what Excel writes for a
    cleared row)."""

    numbers: list
    cleared: list


def data_lines(path, sep, encoding, n_columns):
    """The file lines of a table's data rows, checking their cells against the header's ``n_columns``.

    Search engines leave out empty cells at the end of a row (pandas reads them as missing), so a row
    may have fewer cells than the header; more is an error naming the file, the line and the counts.
    A last line without a line break is a file cut short (an interrupted copy ends inside a line):
    with fewer cells than the header it is an error (its last value is cut, the rest of its row
    missing); with all of them it is logged, as its last value may still be cut. Cells are counted by
    separators; a quoted cell holding the separator is counted by the csv module before a line is
    refused.
    """
    text_mode = encoding == "utf-16"
    scan = _LineScan(sep, encoding, n_columns, text_mode)
    stream = (
        io.TextIOWrapper(_open_binary(path), encoding=encoding, newline="") if text_mode else _open_binary(path)
    )
    try:
        with stream:
            for number, line in enumerate(stream, start=1):
                scan.add(path, number, line)
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise TearflowError(
            f"{path}: the gzip-compressed file cannot be decompressed to its end ({error}); expected a complete "
            "gzip file (was it truncated while copying?)"
        ) from error
    scan.check_end(path)
    return DataLines(scan.numbers, scan.cleared)


class _LineScan:
    """The state of :func:`data_lines` over one file (bytes, or text for UTF-16)."""

    def __init__(self, sep, encoding, n_columns, text_mode):
        self.sep, self.encoding, self.n_columns, self.text_mode = sep, encoding, n_columns, text_mode
        self.separator = sep if text_mode else sep.encode("utf-8")
        self.blank = "" if text_mode else b""
        self.numbers, self.cleared, self.last = [], [], None

    def cells(self, content):
        cells = content.count(self.separator) + 1
        if cells > self.n_columns:  # a quoted separator is not a cell boundary
            import csv

            encoding = "utf-8" if self.encoding == "utf-8-sig" else self.encoding
            decoded = content if self.text_mode else _decode(content, encoding)
            cells = len(next(csv.reader([decoded], delimiter=self.sep)))
        return cells

    def add(self, path, number, line):
        self.last = (number, line)
        if number == 1:
            return
        content = line.rstrip("\r\n" if self.text_mode else b"\r\n")
        if content.strip() == self.blank and self.separator not in content:
            return  # a blank line, which pandas skips too
        cells = self.cells(content)
        extra = content.split(self.separator)[self.n_columns :]
        if cells > self.n_columns and any(cell.strip() for cell in extra):
            raise TearflowError(
                f"{path}: line {number} has {cells} cells; expected {self.n_columns} as in the header "
                "(a ragged row: a cell too many, or a separator inside a cell)"
            )
        self.numbers.append(number)
        if content.replace(self.separator, self.blank).strip() == self.blank:
            self.cleared.append(number)

    def check_end(self, path):
        if self.last is None or not self.numbers or self.last[0] != self.numbers[-1]:
            return
        number, line = self.last
        if line.endswith("\n" if self.text_mode else b"\n"):
            return
        cells = self.cells(line.rstrip("\r" if self.text_mode else b"\r"))
        if cells < self.n_columns:
            raise TearflowError(
                f"{path}: line {number}, the last, has {cells} of the header's {self.n_columns} cells and no "
                "line break: the file is cut short (an interrupted copy?); expected a complete table"
            )
        log.warning(
            "%s: the last line (%d) does not end with a line break; check that the file is complete "
            "(a copy cut short ends inside a line)",
            path,
            number,
        )


def quantities_from_file(path, frame, columns, decimal="auto"):
    """``columns`` read straight from ``path`` as floats, or None when the string cells must be used.

    Only for a frame :func:`read_text_table` returned for ``path`` with all its rows (the record in
    ``frame.attrs``) whose ``columns`` are still strings, and not for decimal commas. The columns are
    read with pandas' float parser — the same converter ``pd.to_numeric`` uses on the string path,
    so the numbers are bit-identical — with the :data:`MISSING_SPELLINGS` as missing values. Any other
    cell (text, a comma, an infinity, padding around a token) fails the read and returns None, so
    the string path reports it with its line and column.
    """
    source = frame.attrs.get(TEXT_TABLE_SOURCE)
    if (
        not source
        or source["path"] != str(path)
        or decimal == "comma"
        or len(frame) != source["rows"]
        or not frame.index.equals(pd.RangeIndex(2, source["rows"] + 2))
        or len(set(columns)) != len(columns)
        or any(pd.api.types.is_numeric_dtype(frame[column]) for column in columns)
    ):
        return None
    wanted = set(columns)
    header = [name.strip().strip('"') for name in first_lines(path, 1)[0].split(source["sep"])]
    positions = [i for i, name in enumerate(header) if name in wanted]  # positions: faster than names
    try:
        numbers = pd.read_csv(
            path,
            sep=source["sep"],
            encoding=source["encoding"],
            compression=source["compression"],
            usecols=positions,
            dtype=float,
            na_values=MISSING_SPELLINGS,
            keep_default_na=False,
            skip_blank_lines=True,
        )
    except (ValueError, TypeError, pd.errors.ParserError, UnicodeDecodeError):
        return None
    numbers.columns = [str(c).strip().strip('"') for c in numbers.columns]
    if len(numbers) != len(frame) or sorted(numbers.columns) != sorted(wanted):
        return None
    if np.isinf(numbers.to_numpy(dtype=float)).any():
        return None  # the string path words the error
    numbers.index = frame.index
    return numbers[list(columns)]


def _shorten(columns, limit=12):
    shown = ", ".join(repr(c) for c in columns[:limit])
    return shown + (f", ... ({len(columns)} columns)" if len(columns) > limit else "")


def decide_decimal(path, frame, columns, decimal="auto"):
    """``point`` or ``comma``: the decimal mark of the quantity cells.

    ``auto`` chooses comma when some cell holds a comma and no cell holds a point (Spectronaut and
    Excel exports with a European locale), otherwise point.
    """
    if decimal in ("point", "comma"):
        return decimal
    if decimal != "auto":
        raise TearflowError(f"config import.decimal: {decimal!r}; expected auto, point or comma")
    has_comma = has_point = False
    for column in columns:
        cells = frame[column]
        if pd.api.types.is_numeric_dtype(cells):
            continue
        cells = cells.astype(str)
        has_comma = has_comma or bool(cells.str.contains(",", regex=False).any())
        has_point = has_point or bool(cells.str.contains(".", regex=False).any())
    if has_comma and not has_point:
        log.info("%s: quantities use a decimal comma", path)
        return "comma"
    return "point"


def parse_intensities(path, frame, columns, options):
    """The quantity columns as floats: missing tokens, zeros (config) → NaN; bad cells are errors.

    ``frame`` is indexed by file line number. ``options`` is the merged ``import`` config section
    (``decimal``, ``zero_is_missing``, ``negative_values``).
    """
    fast = quantities_from_file(path, frame, columns, options["decimal"])
    if fast is not None:
        frame = fast  # float columns: the loop below only checks them
    decimal = decide_decimal(path, frame, columns, options["decimal"])
    values = {}
    for column in columns:
        cells = frame[column]
        if pd.api.types.is_numeric_dtype(cells):
            numbers = cells.astype(float)
        else:
            text = cells.astype(str).str.strip()
            missing = text.str.lower().isin(MISSING_TOKENS) | cells.isna()
            if decimal == "comma":
                text = text.str.replace(",", ".", regex=False)
            numbers = pd.to_numeric(text.where(~missing), errors="coerce")
            bad = numbers.isna() & ~missing
            if bad.any():
                line = bad.index[bad.to_numpy()][0]
                raise TearflowError(
                    f"{path}: line {line}, column {column!r}: {cells.loc[line]!r} is not a number; "
                    f"expected an intensity, or empty/NA/NaN/Filtered for a missing value"
                    + (" (set import.decimal: comma for decimal commas)" if "," in str(cells.loc[line]) else "")
                )
        infinite = np.isinf(numbers.to_numpy(dtype=float))
        if infinite.any():
            line = numbers.index[infinite][0]
            raise TearflowError(f"{path}: line {line}, column {column!r}: infinite value; expected a finite intensity")
        values[column] = numbers.astype(float)
    result = pd.DataFrame(values, index=frame.index)
    negative = result < 0
    if negative.to_numpy().any():
        policy = options["negative_values"]
        rows, cols = np.nonzero(negative.to_numpy())
        where = f"line {result.index[rows[0]]}, column {result.columns[cols[0]]!r}"
        if policy == "error":
            raise TearflowError(
                f"{path}: {where}: negative intensity {result.iat[rows[0], cols[0]]} "
                f"({len(rows)} negative cells); raw intensities are >= 0. If the table is already "
                "log-transformed set import.negative_values: keep"
            )
        if policy == "missing":
            log.warning("%s: %d negative cells set to missing (first at %s)", path, len(rows), where)
            result = result.mask(negative)
    if options["zero_is_missing"]:
        result = result.mask(result == 0)
    return result
