"""Precursor-level tables → precursors × runs, for quantification from observed and missing precursors.

:func:`tearflow.readers.read_precursors` dispatches here. Each reader returns a
:class:`~tearflow.readers.base.PrecursorTable`: one row per precursor kept (its protein group and
gene symbol, then its raw intensity in every run, NaN where it was not quantified) and one row per
precursor left out, with the reason.

Long reports (DIA-NN, Spectronaut, MaxQuant ``evidence.txt``: one row per precursor and run) are
filtered row by row — decoy, contaminant, not proteotypic (when asked), q-value/PEP, no quantity —
and a precursor whose every observation was removed is reported under the reason that removed its
last one. The kept rows are scattered into a runs × precursors float matrix through integer codes
(no per-row Python, no pivot on strings), so a DIA-NN 2 ``report.parquet`` of tens of millions of
rows reads in seconds; only the needed Parquet columns are read, one at a time.

Wide tables (FragPipe ``combined_ion.tsv``, MaxQuant ``peptides.txt``: one row per precursor, one
column per sample) are filtered row by row.
"""

import logging
import re

import numpy as np
import pandas as pd

from tearflow.columns import GENE, PRECURSOR, PROTEIN
from tearflow.errors import TearflowError
from tearflow.readers.base import (
    ALL_MISSING,
    CONTAMINANT,
    DECOY,
    NOT_PROTEOTYPIC,
    PRECURSOR_REASONS,
    QVALUE,
    REASON,
    PrecursorTable,
    has_prefix,
)
from tearflow.readers.formats import fragpipe_quantity_columns
from tearflow.readers.long import (
    COMPOSITE_SEPARATOR,
    TextReport,
    check_present,
    combine_codes,
    first_conflict,
    first_per_code,
    names_or_na,
    open_report,
    prefix_flags_by_code,
    report_columns,
    run_aliases_from,
    run_codes,
)
from tearflow.readers.text import MISSING_TOKENS, parse_intensities, read_header, read_text_table

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------- column names

# DIA-NN long report (report.tsv 1.8-1.9, report.parquet 1.9-2.x)
DIANN_RUN = "Run"
DIANN_FILE = "File.Name"  # full raw-file path; not in DIA-NN 2 report.parquet
DIANN_PRECURSOR = "Precursor.Id"
DIANN_GROUP = "Protein.Group"
DIANN_GENES = "Genes"
DIANN_DECOY = "Decoy"  # 0/1, DIA-NN ≥ 1.9 report.parquet
DIANN_PROTEOTYPIC = "Proteotypic"
DIANN_CHANNEL = "Channel"  # plexDIA channel (DIA-NN 2); empty for label-free runs
DIANN_LIBRARY_QVALUE_PREFIX = "Lib."  # Lib.Q.Value, Lib.PG.Q.Value: applied when the report has them
DIANN_NORMALISED = "Precursor.Normalised"
# Precursor.Normalised / Precursor.Quantity (vdemichev/DiaNN#1453): 1 in every row when DIA-NN ran with --no-norm
DIANN_FACTOR = "Normalisation.Factor"
#: what the import summary calls Precursor.Normalised of a report made without DIA-NN's normalisation
DIANN_NOT_NORMALISED = "Precursor.Normalised (Normalisation.Factor 1: not normalised)"

# Spectronaut precursor report (long)
SN_FILE = "R.FileName"
SN_LABEL = "R.Label"
SN_GROUPS = ("PG.ProteinGroups", "PG.ProteinAccessions")
SN_GENES = "PG.Genes"
SN_PRECURSOR = "EG.PrecursorId"
SN_MODIFIED = "EG.ModifiedSequence"
SN_CHARGE = "FG.Charge"
SN_QUANTITY_FALLBACK = "FG.Quantity"
SN_DECOY = "EG.IsDecoy"
SN_IMPUTED = "EG.IsImputed"
SN_PROTEOTYPIC = "PEP.IsProteotypic"

# FragPipe (IonQuant) combined_ion.tsv / combined_modified_peptide.tsv
FP_MODIFIED = "Modified Sequence"
FP_SEQUENCE = ("Peptide Sequence", "Sequence")
FP_CHARGE = "Charge"
FP_PROTEIN_ID = "Protein ID"
FP_PROTEIN = "Protein"
FP_GENE = "Gene"
FP_MAPPED = "Mapped Proteins"

# MaxQuant evidence.txt / peptides.txt; DAPAR and some exports write '_' for spaces ("Potential_contaminant",
# "Intensity_C_R1", "Unique_Groups"): names are matched by letters and digits only (see _mq_column).
MQ_RAW_FILE = "Raw file"
MQ_EXPERIMENT = "Experiment"
MQ_MODIFIED = "Modified sequence"
MQ_SEQUENCE = "Sequence"
MQ_CHARGE = "Charge"
MQ_INTENSITY = "Intensity"
MQ_TYPE = "Type"
MQ_MATCH_TYPE = "MULTI-MATCH"  # match-between-runs rows: no PEP of their own
MQ_GENES = "Gene names"
MQ_REVERSE = "Reverse"
MQ_CONTAMINANT = ("Potential contaminant", "Contaminant")
MQ_UNIQUE_GROUPS = "Unique (Groups)"
MQ_PROTEIN_COLUMNS = ("Proteins", "Leading razor protein", "Leading proteins")
_MQ_SAMPLE = re.compile(r"^Intensity[ _](?P<sample>.+)$")
_MQ_SILAC = re.compile(r"^Intensity[ _][LMH](?:[ _]|$)")

_KEPT = len(PRECURSOR_REASONS)
_REASON_CODE = {reason: code for code, reason in enumerate(PRECURSOR_REASONS)}


# ---------------------------------------------------------------------------------------- assembly


class _Stages:
    """The removal reason of every observation: each row gets the first reason that flags it."""

    def __init__(self, path, rows, options):
        self.path = path
        self.options = options
        self.code = np.full(rows, _KEPT, dtype=np.int8)
        self.counts = {}

    def mark(self, reason, flagged):
        if reason == CONTAMINANT and not self.options["remove_contaminants"]:
            log.info("%s: %d contaminant rows kept (removal switched off in the config)", self.path, int(flagged.sum()))
            return
        fresh = flagged & (self.code == _KEPT)
        self.code[fresh] = _REASON_CODE[reason]
        count = int(fresh.sum())
        self.counts[reason] = self.counts.get(reason, 0) + count
        if count:
            log.info("%s: %d observation(s) removed: %s", self.path, count, reason)


def _of_precursors(source, precursors, values, what):
    """Row-level ``(codes, names)`` → one code per precursor (names unchanged)."""
    codes, names = values
    return first_per_code(precursors[0], codes, len(precursors[1]), source.path, what), names


def _assemble_long(
    source,
    fmt,
    runs,
    precursors,
    proteins,
    genes,
    quantity,
    stages,
    quantity_name,
    columns,
    aliases=None,
    duplicates="error",
):
    """Precursors × runs from coded long rows (see the module docstring).

    ``runs``/``precursors``: ``(codes, names)`` per row; ``proteins``/``genes``: ``(codes, names)``
    per precursor (genes may be None); ``quantity``: floats, NaN = missing; ``stages``: the rows'
    removal reasons so far; ``columns``: the file's names for the run and precursor (for messages).
    ``duplicates``: ``error`` (two different values for one precursor and run) or ``max`` (MaxQuant
    evidence: the largest).
    """
    path = source.path
    run_codes, run_names = runs
    precursor_codes, precursor_names = precursors
    protein_of, protein_names = proteins
    gene_of, gene_names = genes if genes is not None else (None, None)
    assert len(protein_of) == len(precursor_names), "proteins must be given per precursor (_of_precursors)"
    stages.mark(ALL_MISSING, np.isnan(quantity))
    size = len(precursor_names)
    # the reason of each precursor: the stage that removed its last observation (kept = _KEPT)
    stage_of = np.full(size, -1, dtype=np.int8)
    for code in range(_KEPT + 1):
        stage_of[precursor_codes[stages.code == code]] = code
    appearance = pd.unique(precursor_codes)
    kept_order = appearance[stage_of[appearance] == _KEPT]
    removed_order = appearance[stage_of[appearance] < _KEPT]
    run_order = pd.unique(run_codes)
    run_labels = [str(name) for name in run_names[run_order]]
    _check_run_names(path, run_labels, f"column {columns['run']!r}")
    new_precursor = np.full(size, -1, dtype=np.int32)
    new_precursor[kept_order] = np.arange(len(kept_order))
    new_run = np.full(len(run_names), -1, dtype=np.int64)
    new_run[run_order] = np.arange(len(run_order))
    kept_rows = stages.code == _KEPT
    values = quantity[kept_rows]
    cells = len(run_order) * len(kept_order)
    cell = new_run.astype(np.int32 if cells < 2**31 else np.int64)[run_codes[kept_rows]] * len(kept_order)
    cell += new_precursor[precursor_codes[kept_rows]].astype(cell.dtype)
    matrix = np.full((len(run_order), len(kept_order)), np.nan)
    flat = matrix.reshape(-1)
    if duplicates == "max":
        flat[:] = -np.inf
        np.maximum.at(flat, cell, values)
        flat[np.isneginf(flat)] = np.nan
        merged = len(values) - int(np.count_nonzero(~np.isnan(flat)))
        if merged:
            log.info("%s: %d row(s) repeating a precursor in a run merged (the largest intensity kept)", path, merged)
    else:
        flat[cell] = values
        conflict = first_conflict(flat, cell, values)
        if conflict is not None:
            first = conflict
            rows = np.flatnonzero(kept_rows)[np.flatnonzero(cell == cell[first])]
            precursor = precursor_names[precursor_codes[rows[0]]]
            run = run_names[run_codes[rows[0]]]
            raise TearflowError(
                f"{path}: precursor {precursor!r} (column {columns['precursor']!r}) has {len(rows)} different "
                f"{quantity_name!r} values in run {run!r} ({', '.join(source.position(r) for r in rows[:5])}); "
                "expected one row per precursor and run"
            )
        repeated = len(values) - int(np.count_nonzero(~np.isnan(flat)))
        if repeated:
            log.info("%s: %d repeated row(s) with the same value for a precursor and run read once", path, repeated)
    del cell, values, kept_rows
    table = pd.DataFrame(matrix.T, columns=run_labels, copy=False)
    gene_values = (
        names_or_na(gene_of[kept_order], gene_names) if gene_of is not None else np.full(len(kept_order), None)
    )
    table.insert(0, GENE, pd.Series(gene_values, dtype=object))
    table.insert(0, PROTEIN, pd.Series(names_or_na(protein_of[kept_order], protein_names), dtype=object))
    table.insert(0, PRECURSOR, pd.Series(precursor_names[kept_order], dtype=object))
    removed = pd.DataFrame(
        {
            PRECURSOR: pd.Series(precursor_names[removed_order], dtype=object),
            PROTEIN: pd.Series(names_or_na(protein_of[removed_order], protein_names), dtype=object),
            GENE: pd.Series(
                names_or_na(gene_of[removed_order], gene_names)
                if gene_of is not None
                else np.full(len(removed_order), None),
                dtype=object,
            ),
            REASON: pd.Series(np.array(PRECURSOR_REASONS, dtype=object)[stage_of[removed_order]], dtype=object),
        }
    )
    result = PrecursorTable(
        path=path,
        format=fmt,
        precursors=table,
        removed=removed,
        rows_read=source.rows,
        precursors_read=len(appearance),
        groups_read=len(np.unique(protein_of[protein_of >= 0])),
        quantity=quantity_name,
        run_aliases=aliases or {},
        observations_removed={reason: count for reason, count in stages.counts.items() if count},
    )
    _log_summary(result)
    return result


def _check_run_names(path, runs, where):
    clash = sorted(set(runs) & {PRECURSOR, PROTEIN, GENE})
    if clash:
        raise TearflowError(
            f"{path}: run name(s) {', '.join(clash)} ({where}) clash with tearflow's columns {PRECURSOR}, "
            f"{PROTEIN}, {GENE}; rename the run(s)"
        )
    repeated = sorted({run for run in runs if runs.count(run) > 1})
    if repeated:
        raise TearflowError(
            f"{path}: run name(s) {', '.join(repeated)} ({where}) appear twice; expected one column each"
        )


def _assemble_wide(path, fmt, ids, proteins, genes, intensities, flags, options, quantity_name, aliases=None):
    """Precursors × samples from a wide table indexed by file line; ``flags``: [(reason, row booleans)]."""
    _check_run_names(path, list(intensities.columns), "sample columns")
    _check_unique_precursors(path, ids)
    stages = _Stages(path, len(ids), options)
    for reason, flagged in flags:
        stages.mark(reason, np.asarray(flagged, dtype=bool))
    stages.mark(ALL_MISSING, intensities.isna().all(axis=1).to_numpy())
    kept = stages.code == _KEPT
    table = pd.concat(
        [
            pd.DataFrame(
                {PRECURSOR: ids.to_numpy(dtype=object), PROTEIN: proteins.to_numpy(dtype=object)},
                index=intensities.index,
            ).assign(**{GENE: genes.to_numpy(dtype=object)}),
            intensities,
        ],
        axis=1,
    )
    removed = table.loc[~kept, [PRECURSOR, PROTEIN, GENE]].assign(
        **{REASON: np.array(PRECURSOR_REASONS, dtype=object)[stages.code[~kept]]}
    )
    result = PrecursorTable(
        path=path,
        format=fmt,
        precursors=table.loc[kept].reset_index(drop=True),
        removed=removed.reset_index(drop=True),
        rows_read=len(ids),
        precursors_read=len(ids),
        groups_read=int(proteins[proteins.notna() & (proteins != "")].nunique()),
        quantity=quantity_name,
        run_aliases=aliases or {},
        observations_removed={reason: count for reason, count in stages.counts.items() if count},
    )
    _log_summary(result)
    return result


def _check_unique_precursors(path, ids):
    empty = ids.isna() | (ids == "")
    if empty.any():
        line = ids.index[empty.to_numpy()][0]
        raise TearflowError(f"{path}: line {line}: the precursor/peptide ID is empty; expected one on every row")
    duplicated = ids[ids.duplicated(keep=False)]
    if len(duplicated):
        first = duplicated.iloc[0]
        lines = [str(line) for line in duplicated.index[duplicated == first]]
        raise TearflowError(
            f"{path}: precursor {first!r} appears on lines {', '.join(lines)} ({duplicated.nunique()} repeated in "
            "all); expected one row per precursor"
        )


def _log_summary(table):
    counts = ", ".join(f"{reason} {table.removed_count(reason)}" for reason in PRECURSOR_REASONS)
    log.info(
        "%s: %s, %r: %d rows, %d precursors read, %d kept x %d runs; precursors removed: %s",
        table.path,
        table.format,
        table.quantity,
        table.rows_read,
        table.precursors_read,
        len(table.precursors),
        len(table.runs),
        counts,
    )


def _need(path, columns, wanted, what):
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise TearflowError(
            f"{path}: {what} lacks column(s) {', '.join(repr(c) for c in missing)}; "
            f"found {', '.join(repr(c) for c in list(columns)[:15])}{' ...' if len(columns) > 15 else ''}"
        )


def _qvalue_options(options):
    return {**options, "zero_is_missing": False, "negative_values": "error"}


def _mark_filters(source, stages, filters, options, passes_when_missing=None):
    """Rows with a value above its limit (or no value) in any filter column are ``qvalue_filtered``."""
    if not filters:
        return
    failed = np.zeros(source.rows, dtype=bool)
    for column, cells in source.each_number(list(filters), _qvalue_options(options)):
        passed = cells <= float(filters[column])
        if passes_when_missing is not None:
            passed |= np.isnan(cells) & passes_when_missing
        failed |= ~passed
    log.info(
        "%s: %d of %d rows pass %s",
        source.path,
        int((~failed).sum()),
        source.rows,
        " and ".join(f"{column} <= {limit}" for column, limit in filters.items()),
    )
    stages.mark(QVALUE, failed)


def _mark_groups(stages, proteins, options, extra_decoy=None):
    """Decoy (every member has a decoy prefix, or ``extra_decoy``) and contaminant (any member) rows."""
    codes, names = proteins
    decoy = prefix_flags_by_code(names, options["decoy_prefixes"], every=True)[codes]
    if extra_decoy is not None:
        decoy |= extra_decoy
    stages.mark(DECOY, decoy)
    stages.mark(CONTAMINANT, prefix_flags_by_code(names, options["contaminant_prefixes"], every=False)[codes])


# ---------------------------------------------------------------------------------------- DIA-NN


def read_diann_precursors(path, options):
    """DIA-NN long report, ``report.tsv`` (1.8-1.9) or ``report.parquet`` (1.9-2.x).

    Run: ``Run`` (else the file stem of ``File.Name``; with both, ``File.Name`` is an alias).
    Precursor: ``Precursor.Id``; protein group ``Protein.Group``; genes ``Genes``. Quantity:
    ``import.diann_precursor_quantity`` (``Precursor.Normalised``, or ``Precursor.Quantity`` for
    DIA-NN's unnormalised values). Rows are removed as decoys (``Decoy`` = 1, or decoy prefixes on
    every member of the group), contaminants (a contaminant prefix on any member), not proteotypic
    (``Proteotypic`` = 0, when ``import.precursor_proteotypic_only``), above a q-value in
    ``import.diann_precursor_qvalue_filters`` (default ``Q.Value``, ``PG.Q.Value``, and the
    match-between-runs library q-values ``Lib.Q.Value``, ``Lib.PG.Q.Value`` at 0.01 — the ``Lib.``
    columns are applied when the report has them), or without a quantity. Multiplexed (plexDIA)
    reports with several channels are refused. A report whose ``Normalisation.Factor`` is 1 in
    every row was made without DIA-NN's normalisation (``--no-norm``): its ``Precursor.Normalised``
    is recorded as :data:`DIANN_NOT_NORMALISED`, with a warning, so that ``normalization.method:
    auto`` normalizes it.
    """
    columns = report_columns(path)
    run_column = DIANN_RUN if DIANN_RUN in columns else DIANN_FILE
    quantity = options["diann_precursor_quantity"]
    filters = dict(options["diann_precursor_qvalue_filters"] or {})
    for column in [c for c in filters if c.startswith(DIANN_LIBRARY_QVALUE_PREFIX) and c not in columns]:
        log.info("%s: no %s column; that q-value filter is not applied", path, column)
        del filters[column]
    proteotypic = options["precursor_proteotypic_only"]
    _need(
        path,
        columns,
        [DIANN_PRECURSOR, DIANN_GROUP, run_column, quantity, *filters, *([DIANN_PROTEOTYPIC] if proteotypic else [])],
        "DIA-NN report",
    )
    check_factor = quantity == DIANN_NORMALISED and DIANN_FACTOR in columns
    optional = [c for c in (DIANN_GENES, DIANN_FILE, DIANN_DECOY, DIANN_CHANNEL) if c in columns]
    optional += [DIANN_FACTOR] if check_factor else []
    wanted = [DIANN_PRECURSOR, DIANN_GROUP, run_column, quantity, *filters, *optional]
    wanted += [DIANN_PROTEOTYPIC] if proteotypic else []
    source = open_report(path, wanted)
    if DIANN_CHANNEL in columns:
        _refuse_channels(source)
    runs = run_codes(source, run_column, stem=run_column == DIANN_FILE)
    aliases = run_aliases_from(source, runs, DIANN_FILE) if run_column == DIANN_RUN and DIANN_FILE in columns else {}
    stages = _Stages(path, source.rows, options)
    precursors = source.codes(DIANN_PRECURSOR)
    check_present(source, precursors[0], DIANN_PRECURSOR, "a precursor ID")
    proteins = source.codes(DIANN_GROUP)
    decoy = source.flags(DIANN_DECOY) if DIANN_DECOY in columns else None
    _mark_groups(stages, proteins, options, decoy)
    del decoy
    check_present(source, proteins[0], DIANN_GROUP, "a protein group", ignore=stages.code == _REASON_CODE[DECOY])
    proteins = _of_precursors(source, precursors, proteins, "protein group")
    genes = _of_precursors(source, precursors, source.codes(DIANN_GENES), "gene") if DIANN_GENES in columns else None
    if proteotypic:
        stages.mark(NOT_PROTEOTYPIC, ~source.flags(DIANN_PROTEOTYPIC))
    _mark_filters(source, stages, filters, options)
    values = source.numbers([quantity], options)[quantity]
    table = _assemble_long(
        source,
        "diann_report",
        runs,
        precursors,
        proteins,
        genes,
        values,
        stages,
        quantity,
        {"run": run_column, "precursor": DIANN_PRECURSOR},
        aliases,
    )
    if check_factor:
        factors = source.numbers([DIANN_FACTOR], options)[DIANN_FACTOR]
        factors = factors[np.isfinite(factors)]
        if factors.size and np.all(factors == 1.0):
            log.warning(
                "%s: %s is 1 in every row, so DIA-NN's normalisation was off (--no-norm) and %s holds raw "
                "intensities; normalization.method auto normalizes them",
                path,
                DIANN_FACTOR,
                DIANN_NORMALISED,
            )
            table.quantity = DIANN_NOT_NORMALISED
    return table


def _refuse_channels(source):
    names = source.distinct(DIANN_CHANNEL)
    if len(names) > 1:
        raise TearflowError(
            f"{source.path}: column {DIANN_CHANNEL!r} names {len(names)} channels ({', '.join(map(str, names[:5]))}); "
            "this is a multiplexed (plexDIA) report, and tearflow reads label-free reports (one channel per run)"
        )


# ---------------------------------------------------------------------------------------- Spectronaut


def spectronaut_precursor_columns(columns):
    """(run column, protein-group column, precursor columns) of a Spectronaut precursor report, or None."""
    run = next((c for c in (SN_FILE, SN_LABEL) if c in columns), None)
    group = next((c for c in SN_GROUPS if c in columns), None)
    if SN_PRECURSOR in columns:
        precursor = (SN_PRECURSOR,)
    elif SN_MODIFIED in columns and SN_CHARGE in columns:
        precursor = (SN_MODIFIED, SN_CHARGE)
    else:
        precursor = None
    if run is None or group is None or precursor is None:
        return None
    return run, group, precursor


def read_spectronaut_precursors(path, options):
    """Spectronaut long precursor report (decimal commas read).

    Run: file stem of ``R.FileName`` (``R.Label`` as alias; ``R.Label`` alone when there is no
    ``R.FileName``). Precursor: ``EG.PrecursorId``, else ``EG.ModifiedSequence``.``FG.Charge``.
    Protein group ``PG.ProteinGroups`` (or ``PG.ProteinAccessions``); genes ``PG.Genes``. Quantity
    ``import.spectronaut_precursor_quantity`` (``EG.TotalQuantity (Settings)``, as limpa reads;
    ``FG.Quantity`` when the report lacks it, with a warning). Removed: ``EG.IsDecoy`` True or decoy
    prefixes; contaminant prefixes; ``PEP.IsProteotypic`` False (when
    ``import.precursor_proteotypic_only``); above ``import.spectronaut_precursor_qvalue_filters``
    (``EG.Qvalue``, ``PG.Qvalue`` ≤ 0.01); imputed (``EG.IsImputed`` True: not a measurement, so
    missing) or without a quantity. Repeated rows of a precursor and run (fragment-level exports)
    must carry the same quantity.
    """
    columns = report_columns(path)
    layout = spectronaut_precursor_columns(columns)
    if layout is None:
        raise TearflowError(
            f"{path}: Spectronaut precursor report lacks a run column (R.FileName/R.Label), a protein-group column "
            "(PG.ProteinGroups/PG.ProteinAccessions) or the precursor (EG.PrecursorId, or EG.ModifiedSequence + "
            f"FG.Charge); found {', '.join(repr(c) for c in columns[:15])}"
        )
    run_column, group_column, precursor_columns = layout
    quantity = options["spectronaut_precursor_quantity"]
    if quantity not in columns and SN_QUANTITY_FALLBACK in columns:
        log.warning("%s: no %r column; using %r", path, quantity, SN_QUANTITY_FALLBACK)
        quantity = SN_QUANTITY_FALLBACK
    filters = dict(options["spectronaut_precursor_qvalue_filters"] or {})
    proteotypic = options["precursor_proteotypic_only"]
    _need(
        path,
        columns,
        [quantity, *filters, *([SN_PROTEOTYPIC] if proteotypic else [])],
        "Spectronaut precursor report",
    )
    optional = [c for c in (SN_GENES, SN_DECOY, SN_IMPUTED, SN_LABEL) if c in columns]
    wanted = [run_column, group_column, *precursor_columns, quantity, *filters, *optional]
    wanted += [SN_PROTEOTYPIC] if proteotypic else []
    source = open_report(path, wanted)
    runs = run_codes(source, run_column, stem=run_column == SN_FILE)
    aliases = run_aliases_from(source, runs, SN_LABEL) if run_column == SN_FILE and SN_LABEL in columns else {}
    stages = _Stages(path, source.rows, options)
    if len(precursor_columns) == 1:
        precursors = source.codes(precursor_columns[0])
    else:
        precursors = combine_codes(source.codes(precursor_columns[0]), source.codes(precursor_columns[1]))
    check_present(source, precursors[0], " + ".join(precursor_columns), "a precursor")
    proteins = source.codes(group_column)
    decoy = source.flags(SN_DECOY) if SN_DECOY in columns else None
    _mark_groups(stages, proteins, options, decoy)
    check_present(source, proteins[0], group_column, "a protein group", ignore=stages.code == _REASON_CODE[DECOY])
    proteins = _of_precursors(source, precursors, proteins, "protein group")
    genes = _of_precursors(source, precursors, source.codes(SN_GENES), "gene") if SN_GENES in columns else None
    if proteotypic:
        stages.mark(NOT_PROTEOTYPIC, ~source.flags(SN_PROTEOTYPIC))
    _mark_filters(source, stages, filters, options)
    values = source.numbers([quantity], options)[quantity]
    if SN_IMPUTED in columns:
        imputed = source.flags(SN_IMPUTED)
        if imputed.any():
            log.info("%s: %d imputed value(s) (EG.IsImputed) read as missing", path, int(imputed.sum()))
        values = np.where(imputed, np.nan, values)
    return _assemble_long(
        source,
        "spectronaut",
        runs,
        precursors,
        proteins,
        genes,
        values,
        stages,
        quantity,
        {"run": run_column, "precursor": " + ".join(precursor_columns)},
        aliases,
    )


# ---------------------------------------------------------------------------------------- FragPipe


def fragpipe_ion_columns(columns):
    """Sample columns ``<s> Intensity`` of a FragPipe ion/modified-peptide table (MaxLFQ etc. excluded)."""
    return fragpipe_quantity_columns(columns, "intensity")


def read_fragpipe_ions(path, options):
    """FragPipe (IonQuant) ``combined_ion.tsv``: one row per peptide ion, ``<sample> Intensity`` per sample.

    Precursor: ``Modified Sequence``.``Charge`` (``Peptide Sequence`` where ``Modified Sequence`` is
    empty). A ``combined_modified_peptide.tsv`` (no ``Charge`` column: charge states summed by
    IonQuant) is read the same way, one row per modified peptide. Protein ``Protein ID``; gene
    ``Gene``. ``<sample> MaxLFQ Intensity`` (and Spectral Count, Match Type, ...) are not read:
    precursor-level quantification wants the raw ion intensities. FragPipe's tables are already
    FDR-filtered; decoy and contaminant prefixes on ``Protein ID``/``Protein`` are removed, and
    with ``import.precursor_proteotypic_only`` so are ions with ``Mapped Proteins`` (other
    proteins they may come from).
    """
    columns, _sep = read_header(path)
    _need(path, columns, [FP_MODIFIED, FP_PROTEIN_ID], "FragPipe combined_ion table")
    samples = fragpipe_ion_columns(columns)
    if not samples:
        raise TearflowError(
            f"{path}: no '<sample> Intensity' columns; expected a FragPipe combined_ion.tsv with per-sample intensities"
        )
    proteotypic = options["precursor_proteotypic_only"]
    if proteotypic:
        _need(path, columns, [FP_MAPPED], "FragPipe combined_ion table (import.precursor_proteotypic_only)")
    sequence = next((c for c in FP_SEQUENCE if c in columns), None)
    optional = [c for c in (FP_CHARGE, FP_PROTEIN, FP_GENE, FP_MAPPED, sequence) if c and c in columns]
    frame = read_text_table(path, usecols=list(dict.fromkeys([FP_MODIFIED, FP_PROTEIN_ID, *optional, *samples])))
    modified = frame[FP_MODIFIED].str.strip()
    if sequence:
        modified = modified.where(modified != "", frame[sequence].str.strip())
    ids = modified + (COMPOSITE_SEPARATOR + frame[FP_CHARGE].str.strip() if FP_CHARGE in frame else "")
    proteins = frame[FP_PROTEIN_ID].str.strip()
    intensities = parse_intensities(path, frame, samples, options)
    suffix = " Intensity"
    intensities.columns = [c[: -len(suffix)].strip() for c in samples]
    genes = _blank(frame[FP_GENE]) if FP_GENE in frame else pd.Series(None, index=frame.index, dtype=object)
    decoy = has_prefix(proteins, options["decoy_prefixes"], every=True)
    contaminant = has_prefix(proteins, options["contaminant_prefixes"])
    if FP_PROTEIN in frame:
        decoy |= has_prefix(frame[FP_PROTEIN], options["decoy_prefixes"], every=True)
        contaminant |= has_prefix(frame[FP_PROTEIN], options["contaminant_prefixes"])
    flags = [(DECOY, decoy), (CONTAMINANT, contaminant)]
    if proteotypic:
        flags.append((NOT_PROTEOTYPIC, _blank(frame[FP_MAPPED]).notna()))
    return _assemble_wide(path, "fragpipe_ion", ids, proteins, genes, intensities, flags, options, f"<sample>{suffix}")


def _blank(series):
    series = series.fillna("").astype(str).str.strip()
    return series.mask(series.str.lower().isin(MISSING_TOKENS)).astype(object)


# ---------------------------------------------------------------------------------------- MaxQuant


def _mq_key(name):
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def mq_column(columns, *names):
    """The file's spelling of a MaxQuant column (``Potential contaminant`` = ``Potential_contaminant``)."""
    keys = {}
    for column in columns:
        keys.setdefault(_mq_key(column), column)
    for name in names:
        if _mq_key(name) in keys:
            return keys[_mq_key(name)]
    return None


def maxquant_sample_columns(columns):
    """``Intensity <sample>`` / ``Intensity_<sample>`` columns of peptides.txt.

    In a SILAC table (it has an ``Intensity L``/``Intensity H`` column) the per-label columns
    ``Intensity L <sample>`` are left out; otherwise a sample may be called ``L_1`` or ``H_R1``.
    """
    silac = any(re.fullmatch(r"Intensity[ _][LMH]", c) for c in columns)
    return [c for c in columns if _MQ_SAMPLE.match(c) and not (silac and _MQ_SILAC.match(c))]


def maxquant_evidence_columns(columns):
    return all(mq_column(columns, name) for name in (MQ_RAW_FILE, MQ_MODIFIED, MQ_CHARGE, MQ_INTENSITY))


def _mq_need(path, columns, names, what):
    found = {}
    for name in names:
        column = mq_column(columns, name)
        if column is None:
            raise TearflowError(
                f"{path}: {what} lacks column {name!r}; found {', '.join(repr(c) for c in list(columns)[:15])}"
                f"{' ...' if len(columns) > 15 else ''}"
            )
        found[name] = column
    return found


def _mq_flags(path, frame, columns, proteins, options):
    """Decoy/contaminant flags of MaxQuant rows: ``+`` in Reverse / Potential contaminant, or prefixes."""
    reverse = mq_column(columns, MQ_REVERSE)
    contaminant = mq_column(columns, *MQ_CONTAMINANT)
    decoy = has_prefix(proteins, options["decoy_prefixes"], every=True)
    if reverse:
        decoy |= _plus(frame[reverse])
    flagged = has_prefix(proteins, options["contaminant_prefixes"])
    if contaminant:
        flagged |= _plus(frame[contaminant])
    return decoy, flagged


def _plus(series):
    return series.fillna("").astype(str).str.strip().str.lower().isin({"+", "true", "1", "yes"})


def read_maxquant_evidence(path, options):
    """MaxQuant ``evidence.txt``: one row per identified feature (precursor) and raw file.

    Run ``Raw file`` (``Experiment`` as alias when each raw file has one); precursor ``Modified
    sequence``.``Charge``; protein ``import.maxquant_precursor_protein`` (``Leading razor
    protein``); genes ``Gene names`` when present; quantity ``Intensity``. Removed: ``+`` in
    ``Reverse`` or decoy prefixes; ``+`` in ``Potential contaminant`` or contaminant prefixes; above
    ``import.maxquant_precursor_filters`` (``PEP`` ≤ 0.01, as limpa; match-between-runs rows, type
    ``MULTI-MATCH``, have no PEP and pass); no intensity (``MSMS`` rows). A precursor with several
    rows in a raw file (split features) takes the largest intensity, as MSstats does. Proteotypic
    filtering is not possible from evidence.txt alone (use peptides.txt or switch it off).
    """
    columns, _sep = read_header(path)
    protein_name = options["maxquant_precursor_protein"]
    found = _mq_need(
        path, columns, [MQ_RAW_FILE, MQ_MODIFIED, MQ_CHARGE, MQ_INTENSITY, protein_name], "MaxQuant evidence"
    )
    if options["precursor_proteotypic_only"]:
        raise TearflowError(
            f"{path}: import.precursor_proteotypic_only is true, but MaxQuant evidence.txt does not say which "
            "peptides are unique to a protein group; use peptides.txt (Unique (Groups)) or set it to false"
        )
    filters = dict(options["maxquant_precursor_filters"] or {})
    filter_columns = _mq_need(path, columns, list(filters), "MaxQuant evidence (import.maxquant_precursor_filters)")
    optional = [
        mq_column(columns, name)
        for name in (MQ_GENES, MQ_EXPERIMENT, MQ_TYPE, MQ_REVERSE, *MQ_CONTAMINANT)
        if mq_column(columns, name)
    ]
    wanted = [*found.values(), *filter_columns.values(), *optional]
    source = TextReport(path, wanted)
    frame = source.frame
    runs = run_codes(source, found[MQ_RAW_FILE], stem=False)
    experiment = mq_column(columns, MQ_EXPERIMENT)
    aliases = run_aliases_from(source, runs, experiment) if experiment else {}
    aliases = {run: names for run, names in aliases.items() if len(names) == 1}
    stages = _Stages(path, source.rows, options)
    precursor_column = f"{found[MQ_MODIFIED]} + {found[MQ_CHARGE]}"
    precursors = combine_codes(source.codes(found[MQ_MODIFIED]), source.codes(found[MQ_CHARGE]))
    check_present(source, precursors[0], precursor_column, "a modified sequence and charge")
    proteins = source.codes(found[protein_name])
    decoy, contaminant = _mq_flags(path, frame, columns, frame[found[protein_name]].str.strip(), options)
    stages.mark(DECOY, decoy.to_numpy())
    stages.mark(CONTAMINANT, contaminant.to_numpy())
    check_present(source, proteins[0], found[protein_name], "a protein", ignore=stages.code == _REASON_CODE[DECOY])
    proteins = _of_precursors(source, precursors, proteins, "protein")
    gene_column = mq_column(columns, MQ_GENES)
    genes = _of_precursors(source, precursors, source.codes(gene_column), "gene") if gene_column else None
    type_column = mq_column(columns, MQ_TYPE)
    transfers = (frame[type_column].str.strip() == MQ_MATCH_TYPE).to_numpy() if type_column else None
    _mark_filters(source, stages, {filter_columns[c]: v for c, v in filters.items()}, options, transfers)
    values = source.numbers([found[MQ_INTENSITY]], options)[found[MQ_INTENSITY]]
    return _assemble_long(
        source,
        "maxquant_evidence",
        runs,
        precursors,
        proteins,
        genes,
        values,
        stages,
        found[MQ_INTENSITY],
        {"run": found[MQ_RAW_FILE], "precursor": precursor_column},
        aliases,
        duplicates="max",
    )


def read_maxquant_peptides(path, options):
    """MaxQuant ``peptides.txt`` (wide: one row per peptide sequence, ``Intensity <sample>`` columns).

    Also the ``_``-separated variant some tools ship (``Intensity_C_R1``, ``Potential_contaminant``,
    ``Unique_Groups``). Precursor: ``Sequence`` (MaxQuant sums a peptide's charge states and
    modifications here); protein ``import.maxquant_precursor_protein``; genes ``Gene names``.
    Sample names drop the ``Intensity`` prefix; the full column name is an alias. Removed: ``+`` in
    ``Reverse`` or decoy prefixes; ``+`` in ``Potential contaminant`` or contaminant prefixes;
    ``Unique (Groups)`` ``no`` (with ``import.precursor_proteotypic_only``); above
    ``import.maxquant_precursor_filters`` (``PEP`` ≤ 0.01, limpa's default); no intensity in any sample.
    """
    columns, _sep = read_header(path)
    protein_name = options["maxquant_precursor_protein"]
    found = _mq_need(path, columns, [MQ_SEQUENCE, protein_name], "MaxQuant peptides")
    samples = maxquant_sample_columns(columns)
    if not samples:
        raise TearflowError(
            f"{path}: no 'Intensity <sample>' columns; expected a MaxQuant peptides.txt with per-sample intensities"
        )
    filters = dict(options["maxquant_precursor_filters"] or {})
    filter_columns = _mq_need(path, columns, list(filters), "MaxQuant peptides (import.maxquant_precursor_filters)")
    proteotypic = options["precursor_proteotypic_only"]
    unique = mq_column(columns, MQ_UNIQUE_GROUPS)
    if proteotypic and unique is None:
        _mq_need(path, columns, [MQ_UNIQUE_GROUPS], "MaxQuant peptides (import.precursor_proteotypic_only)")
    optional = [
        mq_column(columns, name)
        for name in (MQ_GENES, MQ_REVERSE, *MQ_CONTAMINANT, MQ_UNIQUE_GROUPS)
        if mq_column(columns, name)
    ]
    wanted = list(dict.fromkeys([*found.values(), *filter_columns.values(), *optional, *samples]))
    frame = read_text_table(path, usecols=wanted)
    ids = frame[found[MQ_SEQUENCE]].str.strip()
    proteins = frame[found[protein_name]].str.strip()
    intensities = parse_intensities(path, frame, samples, options)
    names = [_MQ_SAMPLE.match(c).group("sample").strip() for c in samples]
    intensities.columns = names
    aliases = {name: (column,) for name, column in zip(names, samples)}
    gene_column = mq_column(columns, MQ_GENES)
    genes = _blank(frame[gene_column]) if gene_column else pd.Series(None, index=frame.index, dtype=object)
    decoy, contaminant = _mq_flags(path, frame, columns, proteins, options)
    flags = [(DECOY, decoy), (CONTAMINANT, contaminant)]
    if proteotypic:
        cells = frame[unique].str.strip().str.lower()
        bad = ~cells.isin({"yes", "no"})
        if bad.any():
            line = cells.index[bad.to_numpy()][0]
            raise TearflowError(
                f"{path}: line {line}, column {unique!r}: {frame.loc[line, unique]!r}; expected yes or no"
            )
        flags.append((NOT_PROTEOTYPIC, cells == "no"))
    if filters:
        scores = parse_intensities(path, frame, list(filter_columns.values()), _qvalue_options(options))
        failed = pd.Series(False, index=frame.index)
        for name, limit in filters.items():
            failed |= ~scores[filter_columns[name]].le(float(limit))
        flags.append((QVALUE, failed))
    return _assemble_wide(
        path, "maxquant_peptides", ids, proteins, genes, intensities, flags, options, "Intensity <sample>", aliases
    )
