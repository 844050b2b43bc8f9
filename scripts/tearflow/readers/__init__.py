"""Tables exactly as mass-spec search engines write them → protein groups (or precursors) × runs.

Protein level: :func:`read_table` reads one file in the given ``format`` (or detects it with
``auto``, see :func:`detect_format`) and returns a :class:`ProteinTable`. Formats:

=================  ===========================================================================
``maxquant``       MaxQuant ``proteinGroups.txt``
``diann_matrix``   DIA-NN ``report.pg_matrix.tsv`` (wide)
``diann_report``   DIA-NN ``report.tsv`` / ``report.parquet`` (long, one row per precursor and run)
``fragpipe``       FragPipe ``combined_protein.tsv`` (IonQuant or Philosopher column style)
``spectronaut``    Spectronaut protein report, long or pivoted
``mztab``          mzTab 1.0 with a quantified protein section
``wide``           plain TSV/CSV: ID column, optional gene column, one column per sample
=================  ===========================================================================

Precursor level (quantification from observed and missing precursors): :func:`read_precursors`
(``auto``: :func:`detect_precursor_format`) returns a :class:`PrecursorTable`. Formats:

=====================  =======================================================================
``diann_report``       DIA-NN ``report.tsv`` / ``report.parquet``: ``Precursor.Id`` per ``Run``
``spectronaut``        Spectronaut long precursor report (``EG.PrecursorId``, ``R.FileName``)
``fragpipe_ion``       FragPipe ``combined_ion.tsv`` (or ``combined_modified_peptide.tsv``)
``maxquant_evidence``  MaxQuant ``evidence.txt`` (``Modified sequence``.``Charge`` per ``Raw file``)
``maxquant_peptides``  MaxQuant ``peptides.txt`` (``Sequence``, ``Intensity <sample>``)
=====================  =======================================================================

Text tables may be gzip-compressed; DIA-NN reports may be Parquet.
"""

import logging

from tearflow.errors import TearflowError
from tearflow.readers.base import PrecursorTable, ProteinTable
from tearflow.readers.formats import (
    fragpipe_quantity_columns,
    maxquant_quantity_columns,
    read_diann_pg_matrix,
    read_diann_report,
    read_fragpipe,
    read_maxquant,
    read_mztab,
    read_spectronaut,
    read_wide,
    spectronaut_pivot_columns,
    wide_columns,
)
from tearflow.readers.precursors import (
    FP_MODIFIED,
    FP_PROTEIN_ID,
    MQ_PROTEIN_COLUMNS,
    MQ_SEQUENCE,
    fragpipe_ion_columns,
    maxquant_evidence_columns,
    maxquant_sample_columns,
    mq_column,
    read_diann_precursors,
    read_fragpipe_ions,
    read_maxquant_evidence,
    read_maxquant_peptides,
    read_spectronaut_precursors,
    report_columns,
    spectronaut_precursor_columns,
)
from tearflow.readers.text import file_stem, first_lines, is_parquet

log = logging.getLogger(__name__)

__all__ = [
    "FORMATS",
    "PRECURSOR_FORMATS",
    "PrecursorTable",
    "ProteinTable",
    "detect_format",
    "detect_precursor_format",
    "file_stem",
    "read_precursors",
    "read_table",
]

READERS = {
    "maxquant": read_maxquant,
    "diann_matrix": read_diann_pg_matrix,
    "diann_report": read_diann_report,
    "fragpipe": read_fragpipe,
    "spectronaut": read_spectronaut,
    "mztab": read_mztab,
    "wide": read_wide,
}
FORMATS = ("auto", *READERS)

PRECURSOR_READERS = {
    "diann_report": read_diann_precursors,
    "spectronaut": read_spectronaut_precursors,
    "fragpipe_ion": read_fragpipe_ions,
    "maxquant_evidence": read_maxquant_evidence,
    "maxquant_peptides": read_maxquant_peptides,
}
PRECURSOR_FORMATS = ("auto", *PRECURSOR_READERS)
# Formats that only exist at precursor level: a protein-level import refuses them by name.
PRECURSOR_ONLY = tuple(f for f in PRECURSOR_READERS if f not in READERS)

# What auto-detection looks for, in the order it is tried (also the text of the "unknown" error).
SIGNATURES = (
    ("mztab", "first line starts with MTD or COM (mzTab)"),
    ("maxquant", "'Majority protein IDs' or 'Protein IDs' + 'LFQ intensity <s>'/'Intensity <s>' (MaxQuant)"),
    ("diann_report", "'Protein.Group' + 'Run'/'File.Name' + 'PG.MaxLFQ' (DIA-NN report.tsv/.parquet)"),
    ("diann_matrix", "'Protein.Group' + 'Protein.Ids' or 'Genes', no 'Run' (DIA-NN pg_matrix)"),
    ("spectronaut", "'PG.ProteinGroups'/'PG.ProteinAccessions' + 'PG.Quantity' or '<run>.PG.Quantity' (Spectronaut)"),
    ("fragpipe", "'Protein ID' + '<s> MaxLFQ Intensity'/'<s> Intensity'/'<s> Razor Intensity' (FragPipe)"),
    ("wide", "an ID column (protein, protein_id, accession, id, ...) + numeric sample columns (wide)"),
)
PRECURSOR_SIGNATURES = (
    ("diann_report", "'Precursor.Id' + 'Protein.Group' + 'Run'/'File.Name' (DIA-NN report.tsv/.parquet)"),
    (
        "spectronaut",
        "'R.FileName'/'R.Label' + 'PG.ProteinGroups'/'PG.ProteinAccessions' + 'EG.PrecursorId' or "
        "'EG.ModifiedSequence' + 'FG.Charge' (Spectronaut precursor report)",
    ),
    ("maxquant_evidence", "'Raw file' + 'Modified sequence' + 'Charge' + 'Intensity' (MaxQuant evidence.txt)"),
    (
        "maxquant_peptides",
        "'Sequence' + 'Proteins'/'Leading razor protein' + 'Intensity <s>'/'Intensity_<s>', no 'Raw file' "
        "(MaxQuant peptides.txt)",
    ),
    ("fragpipe_ion", "'Modified Sequence' + 'Protein ID' + '<s> Intensity' (FragPipe combined_ion.tsv)"),
)


def _precursor_format_of(columns):
    """The precursor-level format whose signature ``columns`` match, or None."""
    names = set(columns)
    if {"Precursor.Id", "Protein.Group"} <= names and names & {"Run", "File.Name"}:
        return "diann_report"
    if spectronaut_precursor_columns(columns) is not None:
        return "spectronaut"
    if maxquant_evidence_columns(columns):
        return "maxquant_evidence"
    if (
        mq_column(columns, MQ_SEQUENCE)
        and any(mq_column(columns, name) for name in MQ_PROTEIN_COLUMNS)
        and maxquant_sample_columns(columns)
        and not mq_column(columns, "Raw file")
    ):
        return "maxquant_peptides"
    if {FP_MODIFIED, FP_PROTEIN_ID} <= names and fragpipe_ion_columns(columns):
        return "fragpipe_ion"
    return None


def _columns_of(path, expected="a protein table"):
    """(column names, first line): a Parquet schema (first line None) or a text header."""
    if is_parquet(path):
        return report_columns(path), None
    lines = first_lines(path, 1)
    if not lines:
        raise TearflowError(f"{path}: the file has no non-empty line; expected {expected}")
    if lines[0].startswith(("MTD\t", "COM\t", "MTD ", "COM ")):
        return [], lines[0]
    return report_columns(path), lines[0]


# Long layouts (one row per run and protein or precursor) name their runs in a column, not in the
# header: DIA-NN (Run, File.Name), Spectronaut (R.FileName, R.Label), MaxQuant evidence (Raw file),
# FragPipe psm/ion tables (Spectrum File).
RUN_NAME_COLUMNS = ("Run", "File.Name", "R.FileName", "R.Label", "Raw file", "Spectrum File")


def sample_names_in(path):
    """Every name ``path`` gives its samples, for the check before any rule that each sheet sample
    is in some table: the header cells and, in a long layout, the values of its run column(s).
    None for mzTab (its runs are named in the metadata section); a :class:`TearflowError` for a
    header with a repeated name or a single column (the reader's message is the one to show).
    Lenient on purpose: the import matches exactly; this only has to see that a sample is named
    nowhere.
    """
    columns, first = _columns_of(path)
    if first is not None and not columns:
        return None
    repeated = sorted({str(name) for name in columns if columns.count(name) > 1})
    if repeated or len(columns) < 2:
        raise TearflowError(f"{path}: the header names column(s) {', '.join(repeated)} twice or has one column")
    names = [str(column) for column in columns]
    for column in (name for name in columns if name in RUN_NAME_COLUMNS):
        if is_parquet(path):
            values = _parquet_column_values(path, column)
        else:
            values = _text_column_values(path, column)
        names += [str(value) for value in values if value is not None]
    return names + [file_stem(name) for name in names]


def _parquet_column_values(path, column):
    """The distinct values of a Parquet string column, read one batch at a time as dictionaries: a
    DIA-NN 2 report's run column has ~10⁸ cells and a few hundred names, and this check runs before
    every Snakemake invocation, so it must not hold the column as Python strings."""
    import pyarrow.parquet as pq

    values = set()
    for batch in pq.ParquetFile(path, read_dictionary=[column]).iter_batches(columns=[column], batch_size=1 << 20):
        encoded = batch.column(0)
        if hasattr(encoded, "dictionary"):
            values.update(encoded.dictionary.to_pylist())
        else:  # not a string column: small enough to read as it is
            values.update(encoded.unique().to_pylist())
    return sorted(value for value in values if value is not None)


def _text_column_values(path, column):
    """The distinct values of one column of a delimited text table. Arrow's multi-threaded CSV
    reader streams just that column as dictionaries (~7× faster than the full reader, whose checks of
    every line the import does anyway: a DIA-NN 1.8 report.tsv can be gigabytes); a file it cannot
    read so (Latin-1, UTF-16, ragged lines, a padded header) goes through the full reader."""
    import pyarrow as pa
    import pyarrow.csv as csv

    from tearflow.readers.text import compression_of, read_header, read_text_table

    _columns, sep = read_header(path)
    try:
        with pa.input_stream(path, compression=compression_of(path)) as stream:
            batches = csv.open_csv(
                stream,
                read_options=csv.ReadOptions(block_size=1 << 24),
                parse_options=csv.ParseOptions(delimiter=sep),
                convert_options=csv.ConvertOptions(
                    include_columns=[column], column_types={column: pa.dictionary(pa.int32(), pa.string())}
                ),
            )
            values = set()
            for batch in batches:
                values.update(batch.column(0).dictionary.to_pylist())
    except (pa.ArrowException, UnicodeDecodeError):
        return read_text_table(path, usecols=[column])[column].unique().tolist()
    return sorted(value for value in values if value is not None)


def detect_format(path, options):
    """The format of ``path`` judged from its first line/header (see :data:`SIGNATURES`).

    A precursor-only table (FragPipe ``combined_ion.tsv``, MaxQuant ``evidence.txt``/``peptides.txt``)
    is reported under its precursor-level name, which :func:`read_table` refuses with a hint.
    """
    columns, first = _columns_of(path)
    if first is not None and not columns:
        return "mztab"
    names = set(columns)
    precursor_format = _precursor_format_of(columns)
    if precursor_format in PRECURSOR_ONLY:
        return precursor_format
    if names & {"Majority protein IDs", "Protein IDs"} and (
        maxquant_quantity_columns(columns, "lfq") or maxquant_quantity_columns(columns, "intensity")
    ):
        return "maxquant"
    if "Protein.Group" in names and names & {"Run", "File.Name"} and names & {"PG.MaxLFQ", options["diann_quantity"]}:
        return "diann_report"
    if "Protein.Group" in names and names & {"Protein.Ids", "Genes"} and not names & {"Run", "File.Name"}:
        return "diann_matrix"
    if names & {"PG.ProteinGroups", "PG.ProteinAccessions"} and (
        "PG.Quantity" in names or spectronaut_pivot_columns(columns)
    ):
        return "spectronaut"
    if "Protein ID" in names and any(fragpipe_quantity_columns(columns, k) for k in ("maxlfq", "intensity", "razor")):
        return "fragpipe"
    id_column, _gene = wide_columns(columns, options)
    if id_column is not None and len(columns) > 1 and first is not None:
        return "wide"
    looked_for = "; ".join(f"{name}: {text}" for name, text in SIGNATURES)
    raise TearflowError(
        f"{path}: unknown table layout (header starts {', '.join(repr(c) for c in columns[:8])}). "
        f"Looked for: {looked_for}. Set the table's format in config proteomics[].format"
    )


def detect_precursor_format(path, options):
    """The precursor-level format of ``path`` judged from its header (see :data:`PRECURSOR_SIGNATURES`)."""
    columns, _first = _columns_of(path, "a precursor table")
    found = _precursor_format_of(columns)
    if found is not None:
        return found
    looked_for = "; ".join(f"{name}: {text}" for name, text in PRECURSOR_SIGNATURES)
    try:
        protein_format = detect_format(path, options)
    except TearflowError:
        protein_format = None
    hint = (
        f" The file looks like a {protein_format} protein table; precursor-level quantification needs the "
        "tool's precursor (or peptide) table."
        if protein_format
        else ""
    )
    raise TearflowError(
        f"{path}: unknown precursor table layout (header starts {', '.join(repr(c) for c in columns[:8])}). "
        f"Looked for: {looked_for}.{hint} Set the table's format in config proteomics[].format"
    )


def read_table(path, fmt, options):
    """Read one protein table; ``fmt`` ``auto`` detects it (and logs the choice)."""
    path = str(path)
    fmt = fmt or "auto"
    if fmt not in FORMATS:
        raise TearflowError(f"{path}: format {fmt!r} in config proteomics[]; expected one of {', '.join(FORMATS)}")
    if fmt == "auto":
        fmt = detect_format(path, options)
        if fmt in PRECURSOR_ONLY:
            raise TearflowError(
                f"{path}: this is a precursor-level table ({fmt}); protein-level import reads the tool's protein "
                "table (MaxQuant proteinGroups.txt, FragPipe combined_protein.tsv), or read this one with "
                "precursor-level quantification"
            )
        log.info("%s: format auto-detected as %s", path, fmt)
    else:
        log.info("%s: format %s (from the config)", path, fmt)
        try:
            return READERS[fmt](path, options)
        except TearflowError as error:
            raise TearflowError(f"{error}{_format_hint(path, fmt, options)}") from None
    return READERS[fmt](path, options)


def read_precursors(path, fmt, options):
    """Read one precursor-level table; ``fmt`` ``auto`` detects it (and logs the choice).

    Returns a :class:`PrecursorTable` (see its docstring and :mod:`tearflow.readers.precursors`).
    """
    path = str(path)
    fmt = fmt or "auto"
    if fmt not in PRECURSOR_FORMATS:
        raise TearflowError(
            f"{path}: format {fmt!r} in config proteomics[] is not a precursor-level format; expected one of "
            f"{', '.join(PRECURSOR_FORMATS)}"
        )
    if fmt == "auto":
        fmt = detect_precursor_format(path, options)
        log.info("%s: precursor format auto-detected as %s", path, fmt)
        return PRECURSOR_READERS[fmt](path, options)
    log.info("%s: precursor format %s (from the config)", path, fmt)
    try:
        return PRECURSOR_READERS[fmt](path, options)
    except TearflowError as error:
        raise TearflowError(f"{error}{_precursor_format_hint(path, fmt)}") from None


def _format_hint(path, fmt, options):
    """For a table the configured reader refused: what the file looks like, if that is another format."""
    try:
        detected = detect_format(path, options)
    except TearflowError:
        return ""
    if detected == fmt:
        return ""
    if detected in PRECURSOR_ONLY:
        return (
            f" (config proteomics[].format is {fmt!r}, but the file looks like a {detected} precursor table, "
            "which protein-level import does not read)"
        )
    return (
        f" (config proteomics[].format is {fmt!r}, but the file looks like a {detected} table: "
        f"set its format to {detected} or auto)"
    )


def _precursor_format_hint(path, fmt):
    try:
        detected = _precursor_format_of(_columns_of(path)[0])
    except TearflowError:
        return ""
    if detected is None or detected == fmt:
        return ""
    return (
        f" (config proteomics[].format is {fmt!r}, but the file looks like a {detected} precursor table: "
        f"set its format to {detected} or auto)"
    )
