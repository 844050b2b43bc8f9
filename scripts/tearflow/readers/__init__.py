"""Protein tables exactly as mass-spec search engines write them → protein groups × runs.

:func:`read_table` reads one file in the given ``format`` (or detects it with ``auto``, see
:func:`detect_format`) and returns a :class:`ProteinTable`. Formats:

=================  ===========================================================================
``maxquant``       MaxQuant ``proteinGroups.txt``
``diann_matrix``   DIA-NN ``report.pg_matrix.tsv`` (wide)
``diann_report``   DIA-NN ``report.tsv`` (long, one row per precursor and run)
``fragpipe``       FragPipe ``combined_protein.tsv`` (IonQuant or Philosopher column style)
``spectronaut``    Spectronaut protein report, long or pivoted
``mztab``          mzTab 1.0 with a quantified protein section
``wide``           plain TSV/CSV: ID column, optional gene column, one column per sample
=================  ===========================================================================
"""

import logging

from tearflow.errors import TearflowError
from tearflow.readers.base import ProteinTable
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
from tearflow.readers.text import file_stem, first_lines, read_header

log = logging.getLogger(__name__)

__all__ = ["FORMATS", "ProteinTable", "detect_format", "file_stem", "read_table"]

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

# What auto-detection looks for, in the order it is tried (also the text of the "unknown" error).
SIGNATURES = (
    ("mztab", "first line starts with MTD or COM (mzTab)"),
    ("maxquant", "'Majority protein IDs' or 'Protein IDs' + 'LFQ intensity <s>'/'Intensity <s>' (MaxQuant)"),
    ("diann_report", "'Protein.Group' + 'Run'/'File.Name' + 'PG.MaxLFQ' (DIA-NN report.tsv)"),
    ("diann_matrix", "'Protein.Group' + 'Protein.Ids' or 'Genes', no 'Run' (DIA-NN pg_matrix)"),
    ("spectronaut", "'PG.ProteinGroups'/'PG.ProteinAccessions' + 'PG.Quantity' or '<run>.PG.Quantity' (Spectronaut)"),
    ("fragpipe", "'Protein ID' + '<s> MaxLFQ Intensity'/'<s> Intensity'/'<s> Razor Intensity' (FragPipe)"),
    ("wide", "an ID column (protein, protein_id, accession, id, ...) + numeric sample columns (wide)"),
)


def detect_format(path, options):
    """The format of ``path`` judged from its first line/header (see :data:`SIGNATURES`)."""
    lines = first_lines(path, 1)
    if not lines:
        raise TearflowError(f"{path}: the file has no non-empty line; expected a protein table")
    if lines[0].startswith(("MTD\t", "COM\t", "MTD ", "COM ")):
        return "mztab"
    columns, _sep = read_header(path)
    names = set(columns)
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
    if id_column is not None and len(columns) > 1:
        return "wide"
    looked_for = "; ".join(f"{name}: {text}" for name, text in SIGNATURES)
    raise TearflowError(
        f"{path}: unknown table layout (header starts {', '.join(repr(c) for c in columns[:8])}). "
        f"Looked for: {looked_for}. Set the table's format in config proteomics[].format"
    )


def read_table(path, fmt, options):
    """Read one protein table; ``fmt`` ``auto`` detects it (and logs the choice)."""
    path = str(path)
    fmt = fmt or "auto"
    if fmt not in FORMATS:
        raise TearflowError(f"{path}: format {fmt!r} in config proteomics[]; expected one of {', '.join(FORMATS)}")
    if fmt == "auto":
        fmt = detect_format(path, options)
        log.info("%s: format auto-detected as %s", path, fmt)
    else:
        log.info("%s: format %s (from the config)", path, fmt)
        try:
            return READERS[fmt](path, options)
        except TearflowError as error:
            raise TearflowError(f"{error}{_format_hint(path, fmt, options)}") from None
    return READERS[fmt](path, options)


def _format_hint(path, fmt, options):
    """For a table the configured reader refused: what the file looks like, if that is another format."""
    try:
        detected = detect_format(path, options)
    except TearflowError:
        return ""
    if detected == fmt:
        return ""
    return (
        f" (config proteomics[].format is {fmt!r}, but the file looks like a {detected} table: "
        f"set its format to {detected} or auto)"
    )
