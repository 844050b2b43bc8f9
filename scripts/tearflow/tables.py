"""Reading and writing tearflow's TSV tables, the same way in every step.

Tables are tab-separated, UTF-8, with ``NA`` for missing values. Numbers are written with
:data:`SIGNIFICANT_DIGITS` (7, R's default print precision) significant digits (``%.7g``:
``0.1234568``, ``1.234568e-05``, ``-2.5``, ``11``): a whole number below 10^7 has no decimals, so a
count held as a float because it can be missing is written ``11``, never ``11.0``; integer columns
(counts) are written in full. The abundance matrices every later step computes from are written with
``full_precision=True`` (shortest round-trip, as Python's ``repr``): rounded to 7 digits there, the
log2 abundances (~20, so 5 decimals) shift every statistic computed from them in the 5th to 6th
significant digit (measured on the shipped example: see ``tests/fixtures/example_outputs/README.md``).
Writes are atomic: the table is written beside its target and renamed into place, so a step that
dies mid-write leaves no file that looks finished.

Most steps read and write pandas DataFrames (:func:`read_tsv`, :func:`write_tsv`). The differential
step does not import pandas (~0.2 s of a step that must be as quick as limma, issue 8): it reads
with :func:`read_matrix` and writes with :func:`write_columns`, which give the same files. pandas is
therefore imported inside the functions that use it.
"""

import csv
import logging
import math
import os
from contextlib import contextmanager

import numpy as np

from tearflow.atomic import temporary_beside
from tearflow.errors import TearflowError

log = logging.getLogger(__name__)

MISSING = "NA"
#: significant digits of every number tearflow writes (R's default print precision)
SIGNIFICANT_DIGITS = 7
FLOAT_FORMAT = f"%.{SIGNIFICANT_DIGITS}g"
#: cells that are missing in a table tearflow wrote (``read_tsv``'s ``na_values``)
MISSING_CELLS = (MISSING, "")


@contextmanager
def _atomic_text(path):
    """An open text stream whose content replaces ``path`` only when the block ends without error."""
    temporary = temporary_beside(path, ".tsv")
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def write_parquet(table, path):
    """Write the DataFrame ``table`` to ``path`` as Parquet, atomically (for matrices too large for
    text: the precursor matrix). Written without pandas' index and with deterministic bytes."""
    temporary = temporary_beside(path, ".parquet")
    try:
        table.to_parquet(temporary, index=False, engine="pyarrow", compression="zstd")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_tsv(table, path, index=False, full_precision=False):
    """Write the DataFrame ``table`` to ``path`` atomically (temporary file beside it, then rename):
    numbers with :data:`SIGNIFICANT_DIGITS` significant digits (also floats inside text columns), or
    with ``full_precision`` as their shortest round-trip representation."""
    float_format = None if full_precision else FLOAT_FORMAT
    mixed = [
        name
        for name, column in table.items()
        if column.dtype == object and any(isinstance(value, float) for value in column)
    ]
    if mixed and not full_precision:
        table = table.copy()
        for name in mixed:
            table[name] = table[name].map(_object_cell)
    with _atomic_text(path) as stream:
        table.to_csv(stream, sep="\t", index=index, na_rep=MISSING, float_format=float_format)


def _object_cell(value):
    """A cell of a text column as ``write_tsv`` writes it: a float formatted, NaN missing, the rest as is."""
    if isinstance(value, float):
        return MISSING if math.isnan(value) else FLOAT_FORMAT % value
    return value


def _cells(values, full_precision=False):
    """One column as the strings ``write_tsv`` would write: floats with :data:`SIGNIFICANT_DIGITS`
    significant digits (``full_precision``: as ``repr``, what pandas writes), NaN/None as ``NA``,
    booleans as True/False, integers and text as they are."""
    number = str if full_precision else FLOAT_FORMAT.__mod__
    array = np.asarray(values) if isinstance(values, np.ndarray) else None
    if array is not None and array.dtype.kind in "fiub":
        as_list = array.tolist()
        if array.dtype.kind != "f":
            return list(map(str, as_list))
        cells = list(map(number, as_list))  # C-speed formatting: numbers are most of the cells
        for position in np.flatnonzero(np.isnan(array)):
            cells[position] = MISSING
        return cells
    return [
        MISSING
        if value is None or (isinstance(value, float) and math.isnan(value))
        else number(value)
        if isinstance(value, float)
        else str(value)
        for value in values
    ]


def write_columns(columns, path, block=2000, full_precision=False):
    """Write ``{name: sequence}`` (equal lengths; floats, ints, bools, strings) to ``path`` atomically,
    byte for byte as :func:`write_tsv` writes the same table as a DataFrame — without pandas.
    ``block`` rows are formatted at a time (bounded memory for a 10,000 × 1,000 table)."""
    names = list(columns)
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"write_columns {path}: columns of different lengths {sorted(lengths)}")
    n_rows = lengths.pop() if lengths else 0
    with _atomic_text(path) as stream:
        writer = csv.writer(stream, delimiter="\t", lineterminator="\n")
        writer.writerow(names)
        for start in range(0, n_rows, block):
            writer.writerows(
                zip(*(_cells(values[start : start + block], full_precision) for values in columns.values()))
            )


def read_matrix(path, labels, what, kind=float):
    """A table tearflow wrote whose first columns are ``labels`` and the rest one value per sample,
    read without pandas: ``(label columns as {name: list of str}, the sample column names, the
    values as a proteins × samples array)``. ``kind`` float: ``NA``/empty cells are NaN; bool: cells
    are True/False (or true/false, 1/0). Every error names the file, the line and the column."""
    parse = _float_cells if kind is float else _bool_cells
    labels = list(labels)
    label_values = [[] for _ in labels]
    rows = []  # one small array per line: the strings of a line are dropped as soon as it is parsed
    try:
        with open(path, encoding="utf-8", newline="") as stream:
            reader = csv.reader(stream, delimiter="\t")
            header = next(reader, None)
            if header is None:
                raise TearflowError(f"{what} {path}: the file is empty; expected a header line")
            if header[: len(labels)] != labels:
                raise TearflowError(
                    f"{what} {path}: line 1 starts with {', '.join(header[: len(labels)])}; "
                    f"expected {', '.join(labels)}"
                )
            width = len(header)
            for number, row in enumerate(reader, start=2):
                if len(row) != width:
                    raise TearflowError(
                        f"{what} {path}: line {number} has {len(row)} cells; expected {width} as in the header"
                    )
                for values, cell in zip(label_values, row):
                    values.append(cell)
                try:
                    rows.append(np.array(parse(row[len(labels) :]), dtype=float if kind is float else bool))
                except ValueError:
                    column, cell = next(
                        (name, cell)
                        for name, cell in zip(header[len(labels) :], row[len(labels) :])
                        if not _parses(parse, cell)
                    )
                    expected = "a number or NA" if kind is float else "True or False"
                    raise TearflowError(
                        f"{what} {path}: line {number}, column {column!r} holds {cell!r}; expected {expected}"
                    ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise TearflowError(f"{what} {path}: cannot be read ({error})") from error
    n_samples = width - len(labels)
    values = np.vstack(rows) if rows else np.empty((0, n_samples), dtype=float if kind is float else bool)
    return dict(zip(labels, label_values)), header[len(labels) :], values


def read_columns(path, names, what):
    """``{name: list of str}`` of the columns ``names`` of a table tearflow wrote, read without
    pandas; a missing column is an error naming the file and the columns it has."""
    try:
        with open(path, encoding="utf-8", newline="") as stream:
            reader = csv.reader(stream, delimiter="\t")
            header = next(reader, None) or []
            missing = [name for name in names if name not in header]
            if missing:
                raise TearflowError(
                    f"{what} {path}: no column {', '.join(missing)}; found {', '.join(header) or 'no header'}"
                )
            positions = [header.index(name) for name in names]
            columns = {name: [] for name in names}
            for row in reader:
                for name, position in zip(names, positions):
                    columns[name].append(row[position])
    except (OSError, UnicodeDecodeError) as error:
        raise TearflowError(f"{what} {path}: cannot be read ({error})") from error
    return columns


def _float_cells(cells):
    if MISSING in cells or "" in cells:
        return [math.nan if cell in MISSING_CELLS else float(cell) for cell in cells]
    return list(map(float, cells))


_BOOLEAN_CELLS = {"true": True, "false": False, "1": True, "0": False}


def _bool_cells(cells):
    try:
        return [_BOOLEAN_CELLS[cell.strip().lower()] for cell in cells]
    except KeyError:
        raise ValueError("not a boolean") from None


def _parses(parse, cell):
    try:
        parse([cell])
        return True
    except ValueError:
        return False


def read_tsv(path, **kwargs):
    """Read a table tearflow wrote (``NA`` and empty cells are missing)."""
    import pandas as pd

    kwargs.setdefault("sep", "\t")
    kwargs.setdefault("keep_default_na", False)
    kwargs.setdefault("na_values", list(MISSING_CELLS))
    return pd.read_csv(path, **kwargs)


def read_text_rows(path, what, required):
    """A small user table (sample sheet, analyte map, endpoint table), read without pandas:
    ``(columns, rows)``, ``rows`` a list of ``(file line, {column: cell})`` with every cell a
    stripped string (IDs such as ``007`` keep their zeros); ``what`` names the table in every error.

    Lines starting with ``#`` are comments; blank lines and lines of separators only (what Excel
    writes for a cleared row) are left out (the latter logged). A missing trailing cell is empty; a
    cell beyond the header's is an error naming the line. The ``required`` columns must be there.
    """
    try:
        with open(path, "rb") as stream:
            raw = stream.read()
    except OSError as error:
        raise TearflowError(f"{what} {path}: cannot be read ({error})") from error
    encoding = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        raise TearflowError(f"{what} {path}: not UTF-8 text ({error}); expected a tab-separated text file") from error
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1)]
    # A blank line is skipped silently; a line of tabs only (a cleared spreadsheet row) is noted below.
    content = [(number, line) for number, line in lines if line.strip(" ") and not line.lstrip().startswith("#")]
    if not content:
        raise TearflowError(
            f"{what} {path}: the file is empty; expected a header line with {', '.join(required)} "
            "and one row per entry"
        )
    header_line, header = content[0]
    columns = [cell.strip() for cell in next(csv.reader([header], delimiter="\t"))]
    repeated = sorted({column for column in columns if column and columns.count(column) > 1})
    if repeated:
        raise TearflowError(
            f"{what} {path}: line {header_line} names column(s) {', '.join(repeated)} more than once; "
            "expected each column once"
        )
    missing = [column for column in required if column not in columns]
    if missing and len(columns) == 1:
        separator = next((name for mark, name in ((",", "comma"), (";", "semicolon")) if mark in header), None)
        if separator:
            raise TearflowError(
                f"{what} {path}: line {header_line} has no tab; the file looks {separator}-separated "
                f"({header[:80]!r}); expected tab-separated columns {', '.join(required)} "
                "(save it as tab-separated text)"
            )
    if missing:
        raise TearflowError(
            f"{what} {path}: missing column(s) {', '.join(missing)}; expected at least "
            f"{', '.join(required)} (found {', '.join(columns)})"
        )
    rows, cleared = [], []
    for number, line in content[1:]:
        cells = [cell.strip() for cell in next(csv.reader([line], delimiter="\t"))]
        if not any(cells):
            cleared.append(number)
            continue
        if len(cells) > len(columns) and any(cells[len(columns) :]):
            raise TearflowError(
                f"{what} {path}: line {number} has {len(cells)} cells; expected {len(columns)} as in the "
                f"header (line {header_line})"
            )
        cells += [""] * (len(columns) - len(cells))
        rows.append((number, dict(zip(columns, cells))))
    if cleared:
        log.info(
            "%s %s: %d line(s) with empty cells only left out (line %s)",
            what,
            path,
            len(cleared),
            ", ".join(map(str, cleared[:10])),
        )
    return columns, rows


def read_user_table(path, what, required):
    """:func:`read_text_rows` as a DataFrame of strings, indexed by file line (``line``)."""
    import pandas as pd

    columns, rows = read_text_rows(path, what, required)
    table = pd.DataFrame([cells for _, cells in rows], columns=columns, dtype=str)
    table.index = pd.Index([number for number, _ in rows], name="line")
    return table


def require_columns(table, columns, path):
    """Raise a :class:`TearflowError` naming ``path`` when ``table`` lacks any of ``columns``."""
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise TearflowError(
            f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(columns)} "
            f"(found {', '.join(map(str, table.columns))})"
        )
