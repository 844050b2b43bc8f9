"""One reader per search engine, each keyed on the column names that tool documents.

Each ``read_<format>(path, options)`` returns a :class:`~tearflow.readers.base.ProteinTable` with
the table's own gene symbols (or NA) and raw intensities per run; decoys, contaminants and other
rows the tool marks as not-for-quantification are moved to ``removed``.
"""

import logging
import re

import numpy as np
import pandas as pd

from tearflow.columns import GENE, PROTEIN
from tearflow.errors import TearflowError
from tearflow.genes import gene_from_description, genes_from_fasta_headers
from tearflow.readers.base import (
    CONTAMINANT,
    DECOY,
    QVALUE,
    REASON,
    SITE_ONLY,
    ProteinTable,
    check_unique_ids,
    has_prefix,
    split_removed,
)
from tearflow.readers.text import (
    MISSING_TOKENS,
    file_stem,
    is_parquet,
    parse_intensities,
    read_header,
    read_text_table,
)

log = logging.getLogger(__name__)


def _flag(series):
    """MaxQuant-style ``+`` flag columns (also True/1) as booleans."""
    return series.fillna("").astype(str).str.strip().str.lower().isin({"+", "true", "1", "yes"})


def _blank_to_na(series):
    series = series.fillna("").astype(str).str.strip()
    return series.mask(series.str.lower().isin(MISSING_TOKENS)).astype(object)


def _assemble(
    path,
    fmt,
    ids,
    genes,
    intensities,
    flags,
    options,
    rows_read,
    groups_read=None,
    removed=None,
    aliases=None,
    text_columns=None,
    quantity="",
):
    table = pd.concat(
        [pd.DataFrame({PROTEIN: ids.astype(str).str.strip(), GENE: genes}, index=intensities.index), intensities],
        axis=1,
    )
    kept, dropped = split_removed(path, table, flags, options)
    if removed is not None and len(removed):
        dropped = pd.concat([removed, dropped], ignore_index=True)
    return ProteinTable(
        path=path,
        format=fmt,
        data=kept.reset_index(drop=True),
        removed=dropped,
        rows_read=rows_read,
        groups_read=len(table) if groups_read is None else groups_read,
        quantity=quantity,
        run_aliases=aliases or {},
        text_columns=text_columns or {},
    )


def _prefix_flags(ids, options, extra=None):
    flags = {
        DECOY: has_prefix(ids, options["decoy_prefixes"], every=True),
        CONTAMINANT: has_prefix(ids, options["contaminant_prefixes"]),
    }
    for name, flag in (extra or {}).items():
        flags[name] = flags[name] | flag if name in flags else flag
    return flags


def _need(path, columns, wanted, what):
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise TearflowError(
            f"{path}: {what} table lacks column(s) {', '.join(repr(c) for c in missing)}; "
            f"found {', '.join(repr(c) for c in list(columns)[:15])}{' ...' if len(columns) > 15 else ''}"
        )


# ---------------------------------------------------------------------------------------- MaxQuant

MAXQUANT_PREFIXES = {"lfq": "LFQ intensity ", "intensity": "Intensity "}
_SILAC = re.compile(r"^Intensity [LMH](\s|$)")


def maxquant_quantity_columns(columns, quantity):
    """Sample columns of ``proteinGroups.txt`` for ``lfq`` or ``intensity`` (label-free only)."""
    prefix = MAXQUANT_PREFIXES[quantity]
    return [c for c in columns if c.startswith(prefix) and len(c) > len(prefix) and not _SILAC.match(c)]


def read_maxquant(path, options):
    """MaxQuant ``proteinGroups.txt``.

    ID: ``Majority protein IDs`` (else ``Protein IDs``). Quantity: ``LFQ intensity <sample>`` when
    ``import.maxquant_quantity`` is ``lfq`` and the columns exist (MaxQuant writes them only when LFQ
    was switched on), otherwise ``Intensity <sample>``. Rows marked ``+`` in ``Reverse``,
    ``Potential contaminant`` (older: ``Contaminant``) or ``Only identified by site`` are removed.
    Genes: ``Gene names``, else ``GN=`` in ``Fasta headers``.
    """
    columns, _sep = read_header(path)
    id_column = "Majority protein IDs" if "Majority protein IDs" in columns else "Protein IDs"
    _need(path, columns, [id_column], "MaxQuant proteinGroups")
    quantity = options["maxquant_quantity"]
    if quantity not in MAXQUANT_PREFIXES:
        raise TearflowError(f"config import.maxquant_quantity: {quantity!r}; expected lfq or intensity")
    samples = maxquant_quantity_columns(columns, quantity)
    if not samples and quantity == "lfq":
        samples = maxquant_quantity_columns(columns, "intensity")
        log.warning(
            "%s: no 'LFQ intensity <sample>' columns (LFQ was off in MaxQuant); using 'Intensity <sample>'", path
        )
        quantity = "intensity"
    if not samples:
        raise TearflowError(
            f"{path}: no 'LFQ intensity <sample>' or 'Intensity <sample>' columns; "
            "expected a MaxQuant proteinGroups.txt with per-sample intensities"
        )
    flag_columns = {
        DECOY: ["Reverse"],
        CONTAMINANT: ["Potential contaminant", "Contaminant"],
        SITE_ONLY: ["Only identified by site"],
    }
    gene_columns = [c for c in ("Gene names", "Fasta headers") if c in columns]
    wanted = [id_column, *gene_columns, *samples, *[c for cs in flag_columns.values() for c in cs if c in columns]]
    frame = read_text_table(path, usecols=list(dict.fromkeys(wanted)))
    ids = frame[id_column].str.strip()
    check_unique_ids(path, ids, id_column)
    prefix = MAXQUANT_PREFIXES[quantity]
    intensities = parse_intensities(path, frame, samples, options)
    intensities.columns = [c[len(prefix) :].strip() for c in samples]
    if "Gene names" in frame:
        genes = _blank_to_na(frame["Gene names"])
    elif "Fasta headers" in frame:
        genes = pd.Series(
            [genes_from_fasta_headers(h, i) for h, i in zip(frame["Fasta headers"], ids)],
            index=frame.index,
            dtype=object,
        )
    else:
        genes = pd.Series(None, index=frame.index, dtype=object)
    marked = {}
    for reason, names in flag_columns.items():
        present = [n for n in names if n in frame]
        marked[reason] = _flag(frame[present[0]]) if present else pd.Series(False, index=frame.index)
    log.info("%s: MaxQuant proteinGroups, quantity %r, %d samples", path, prefix.strip(), len(samples))
    return _assemble(
        path,
        "maxquant",
        ids,
        genes,
        intensities,
        _prefix_flags(ids, options, marked),
        options,
        len(frame),
        quantity=prefix.strip(),
    )


# ---------------------------------------------------------------------------------------- DIA-NN

DIANN_ANNOTATION = (
    "Protein.Group",
    "Protein.Ids",
    "Protein.Names",
    "Genes",
    "First.Protein.Description",
    "N.Sequences",
    "N.Proteotypic.Sequences",
    "Proteotypic",
)


def read_diann_pg_matrix(path, options):
    """DIA-NN ``report.pg_matrix.tsv``: ``Protein.Group``, ``Genes`` (may be empty), one column per run.

    Run columns are every column that is not one of DIA-NN's annotation columns; they are usually
    the full paths of the raw files (Windows or POSIX), matched to the sheet by file stem.
    """
    columns, _sep = read_header(path)
    _need(path, columns, ["Protein.Group"], "DIA-NN pg_matrix")
    runs = [c for c in columns if c not in DIANN_ANNOTATION]
    if not runs:
        raise TearflowError(f"{path}: DIA-NN pg_matrix has no run columns besides {', '.join(DIANN_ANNOTATION)}")
    frame = read_text_table(path)
    ids = frame["Protein.Group"].str.strip()
    check_unique_ids(path, ids, "Protein.Group")
    intensities = parse_intensities(path, frame, runs, options)
    genes = _blank_to_na(frame["Genes"]) if "Genes" in frame else pd.Series(None, index=frame.index, dtype=object)
    log.info("%s: DIA-NN pg_matrix, %d runs", path, len(runs))
    return _assemble(
        path,
        "diann_matrix",
        ids,
        genes,
        intensities,
        _prefix_flags(ids, options),
        options,
        len(frame),
        quantity="pg_matrix",
    )


def read_diann_report(path, options):
    """DIA-NN long ``report.tsv`` or ``report.parquet``: one value per protein group and run from ``PG.MaxLFQ``.

    Precursor rows are first filtered by ``import.diann_qvalue_filters`` (default ``Q.Value`` ≤ 0.01
    and ``PG.Q.Value`` ≤ 0.01, as the DIA-NN documentation and its R package recommend for protein
    quantification); the protein-group quantity must then be the same on every row of a group/run.
    A Parquet report (DIA-NN ≥ 1.9; the only main report of DIA-NN 2) gives the same table through
    :func:`_read_diann_report_parquet`; its messages name rows instead of lines.
    """
    if is_parquet(path):
        return _read_diann_report_parquet(path, options)
    columns, _sep = read_header(path)
    quantity = options["diann_quantity"]
    run_column = "Run" if "Run" in columns else "File.Name"
    filters = dict(options["diann_qvalue_filters"] or {})
    _need(path, columns, ["Protein.Group", run_column, quantity, *filters], "DIA-NN report")
    wanted = ["Protein.Group", run_column, quantity, *filters]
    wanted += [c for c in ("Genes", "File.Name") if c in columns]
    frame = read_text_table(path, usecols=list(dict.fromkeys(wanted)))
    frame["Protein.Group"] = frame["Protein.Group"].str.strip()
    groups_read = frame["Protein.Group"].nunique()
    passed = pd.Series(True, index=frame.index)
    for column, limit in filters.items():
        qvalues = parse_intensities(
            path, frame, [column], {**options, "zero_is_missing": False, "negative_values": "error"}
        )[column]
        passed &= qvalues.le(float(limit))
    log.info(
        "%s: %d of %d precursor rows pass %s",
        path,
        int(passed.sum()),
        len(frame),
        " and ".join(f"{c} <= {v}" for c, v in filters.items()) or "no q-value filter",
    )
    lost = sorted(set(frame["Protein.Group"]) - set(frame.loc[passed, "Protein.Group"]))
    kept_rows = frame[passed]
    runs = pd.Series(
        kept_rows[run_column].map(file_stem) if run_column == "File.Name" else kept_rows[run_column].str.strip()
    )
    values = parse_intensities(path, kept_rows, [quantity], options)[quantity]
    long = pd.DataFrame({"group": kept_rows["Protein.Group"], "run": runs, "value": values})
    _check_one_value(path, long, quantity)
    wide = long.drop_duplicates(["group", "run"]).pivot(index="group", columns="run", values="value")
    all_runs = list(
        dict.fromkeys(frame[run_column].map(file_stem) if run_column == "File.Name" else frame[run_column].str.strip())
    )
    wide = wide.reindex(index=list(dict.fromkeys(kept_rows["Protein.Group"])), columns=all_runs)
    wide.columns.name = None
    ids = pd.Series(wide.index, index=wide.index)
    genes = (
        _blank_to_na(kept_rows.drop_duplicates("Protein.Group").set_index("Protein.Group")["Genes"]).reindex(wide.index)
        if "Genes" in kept_rows
        else pd.Series(None, index=wide.index, dtype=object)
    )
    aliases = {}
    if "File.Name" in frame and run_column == "Run":
        pairs = frame[["Run", "File.Name"]].drop_duplicates()
        aliases = {run.strip(): (name,) for run, name in zip(pairs["Run"], pairs["File.Name"])}
    removed = pd.DataFrame({PROTEIN: lost, GENE: None, REASON: QVALUE})
    log.info("%s: DIA-NN report, %r per protein group and run, %d runs", path, quantity, len(all_runs))
    return _assemble(
        path,
        "diann_report",
        ids,
        genes,
        wide,
        _prefix_flags(ids, options),
        options,
        len(frame),
        groups_read,
        removed,
        aliases,
        quantity=quantity,
    )


def _read_diann_report_parquet(path, options):
    """:func:`read_diann_report` for ``report.parquet``, through integer codes (:mod:`tearflow.readers.long`).

    The same table as the text path makes of the same report (groups in order of first appearance
    among the passing rows, runs in order of first appearance, the first passing row's genes), read
    column by column without strings per row, so that a report of tens of millions of rows fits in
    memory and reads in seconds.
    """
    from tearflow.readers.long import ParquetReport, first_conflict, first_per_code, run_aliases_from, run_codes

    source = ParquetReport(path)
    columns = source.parquet.columns
    quantity = options["diann_quantity"]
    run_column = "Run" if "Run" in columns else "File.Name"
    filters = dict(options["diann_qvalue_filters"] or {})
    _need(path, columns, ["Protein.Group", run_column, quantity, *filters], "DIA-NN report")
    runs = run_codes(source, run_column, stem=run_column == "File.Name")
    aliases = run_aliases_from(source, runs, "File.Name") if run_column == "Run" and "File.Name" in columns else {}
    group_codes, group_names = source.codes("Protein.Group")
    if (group_codes < 0).any():
        row = int(np.flatnonzero(group_codes < 0)[0])
        raise TearflowError(
            f"{path}: {source.position(row)}, column 'Protein.Group' is empty; expected a protein group on every row"
        )
    passed = np.ones(source.rows, dtype=bool)
    qvalue_options = {**options, "zero_is_missing": False, "negative_values": "error"}
    for column, cells in source.each_number(list(filters), qvalue_options):
        passed &= cells <= float(filters[column])
    log.info(
        "%s: %d of %d precursor rows pass %s",
        path,
        int(passed.sum()),
        source.rows,
        " and ".join(f"{c} <= {v}" for c, v in filters.items()) or "no q-value filter",
    )
    values = source.numbers([quantity], options)[quantity]
    groups = pd.unique(group_codes[passed])  # order of first appearance among the passing rows
    lost = np.ones(len(group_names), dtype=bool)
    lost[groups] = False
    run_order = pd.unique(runs[0])
    new_group = np.full(len(group_names), -1, dtype=np.int64)
    new_group[groups] = np.arange(len(groups))
    new_run = np.full(len(runs[1]), -1, dtype=np.int64)
    new_run[run_order] = np.arange(len(run_order))
    quantified = passed & ~np.isnan(values)
    cell = new_run[runs[0][quantified]] * len(groups) + new_group[group_codes[quantified]]
    matrix = np.full((len(run_order), len(groups)), np.nan)
    flat = matrix.reshape(-1)
    flat[cell] = values[quantified]
    conflict = first_conflict(flat, cell, values[quantified])
    if conflict is not None:
        row = int(np.flatnonzero(quantified)[conflict])
        raise TearflowError(
            f"{path}: protein group {group_names[group_codes[row]]!r}, run {runs[1][runs[0][row]]!r} has several "
            f"different {quantity!r} values; expected one protein-group quantity per run (is this a protein-level "
            "column?)"
        )
    names = [str(name) for name in group_names[groups]]
    wide = pd.DataFrame(matrix.T, index=names, columns=[str(run) for run in runs[1][run_order]], copy=False)
    if "Genes" in columns:
        gene_codes, gene_names = source.codes("Genes")
        first = first_per_code(group_codes[passed], gene_codes[passed], len(group_names), path, "Genes")
        genes = pd.Series(np.append(gene_names, None)[first[groups]], index=wide.index, dtype=object)
    else:
        genes = pd.Series(None, index=wide.index, dtype=object)
    removed = pd.DataFrame({PROTEIN: sorted(str(n) for n in group_names[lost]), GENE: None, REASON: QVALUE})
    ids = pd.Series(wide.index, index=wide.index)
    log.info("%s: DIA-NN report, %r per protein group and run, %d runs", path, quantity, len(run_order))
    return _assemble(
        path,
        "diann_report",
        ids,
        genes,
        wide,
        _prefix_flags(ids, options),
        options,
        source.rows,
        len(group_names),
        removed,
        aliases,
        quantity=quantity,
    )


def _check_one_value(path, long, quantity):
    distinct = long.dropna(subset=["value"]).groupby(["group", "run"])["value"].nunique()
    if (distinct > 1).any():
        group, run = distinct[distinct > 1].index[0]
        raise TearflowError(
            f"{path}: protein group {group!r}, run {run!r} has several different {quantity!r} values; "
            "expected one protein-group quantity per run (is this a protein-level column?)"
        )


# ---------------------------------------------------------------------------------------- FragPipe

FRAGPIPE_SUFFIXES = {
    "maxlfq": (" MaxLFQ Intensity",),
    "intensity": (" Intensity",),
    "razor": (" Razor Intensity",),
}
_FRAGPIPE_NOT_SAMPLE = (" Unique Intensity", " Total Intensity", " Razor Intensity", " MaxLFQ Intensity")


def fragpipe_quantity_columns(columns, kind):
    """Sample columns of ``combined_protein.tsv`` ending in the suffix of ``kind``."""
    suffix = FRAGPIPE_SUFFIXES[kind][0]
    found = []
    for column in columns:
        if not column.endswith(suffix) or column.startswith("Combined ") or len(column) == len(suffix):
            continue
        if kind == "intensity" and column.endswith(_FRAGPIPE_NOT_SAMPLE):
            continue
        found.append(column)
    return found


def read_fragpipe(path, options):
    """FragPipe ``combined_protein.tsv``.

    IonQuant style (FragPipe ≥ 15): ``<sample> MaxLFQ Intensity`` (preferred when
    ``import.fragpipe_quantity`` is ``maxlfq``) or ``<sample> Intensity``; Philosopher style (older):
    ``<sample> Razor Intensity``. ID: ``Protein ID``; genes ``Gene`` (new) or ``Gene Names`` (old).
    Contaminants are recognised by ``contam_`` (etc.) prefixes on ``Protein``/``Protein ID``.
    """
    columns, _sep = read_header(path)
    _need(path, columns, ["Protein ID"], "FragPipe combined_protein")
    preference = {"maxlfq": ["maxlfq", "intensity", "razor"], "intensity": ["intensity", "razor"]}
    if options["fragpipe_quantity"] not in preference:
        raise TearflowError(
            f"config import.fragpipe_quantity: {options['fragpipe_quantity']!r}; expected maxlfq or intensity"
        )
    for kind in preference[options["fragpipe_quantity"]]:
        samples = fragpipe_quantity_columns(columns, kind)
        if samples:
            break
    if not samples:
        raise TearflowError(
            f"{path}: no '<sample> MaxLFQ Intensity', '<sample> Intensity' or '<sample> Razor Intensity' "
            "columns; expected a FragPipe combined_protein.tsv with per-sample intensities"
        )
    suffix = FRAGPIPE_SUFFIXES[kind][0]
    if kind != options["fragpipe_quantity"]:
        log.warning(
            "%s: no '<sample>%s' columns; using '<sample>%s'",
            path,
            FRAGPIPE_SUFFIXES[options["fragpipe_quantity"]][0],
            suffix,
        )
    gene_column = next((c for c in ("Gene", "Gene Names") if c in columns), None)
    wanted = ["Protein ID", *[c for c in ("Protein", gene_column) if c in columns], *samples]
    frame = read_text_table(path, usecols=list(dict.fromkeys(wanted)))
    ids = frame["Protein ID"].str.strip()
    check_unique_ids(path, ids, "Protein ID")
    intensities = parse_intensities(path, frame, samples, options)
    intensities.columns = [c[: -len(suffix)].strip() for c in samples]
    genes = _blank_to_na(frame[gene_column]) if gene_column else pd.Series(None, index=frame.index, dtype=object)
    flags = _prefix_flags(ids, options)
    if "Protein" in frame:
        for name, extra in _prefix_flags(frame["Protein"], options).items():
            flags[name] = flags[name] | extra
    log.info("%s: FragPipe combined_protein, quantity %r, %d samples", path, suffix.strip(), len(samples))
    return _assemble(path, "fragpipe", ids, genes, intensities, flags, options, len(frame), quantity=suffix.strip())


# ---------------------------------------------------------------------------------------- Spectronaut

_PIVOT = re.compile(r"^(?:\[\d+\]\s*)?(?P<run>.+?)\.PG\.Quantity$")


def spectronaut_pivot_columns(columns):
    """``[1] run.raw.PG.Quantity``-style sample columns of a pivoted Spectronaut protein report."""
    return [c for c in columns if c != "PG.Quantity" and _PIVOT.match(c)]


def read_spectronaut(path, options):
    """Spectronaut protein report, long (``PG.ProteinGroups``, ``R.FileName``, ``PG.Quantity``) or
    pivoted (``PG.ProteinGroups`` + ``[n] <run>.PG.Quantity`` per run). Decimal commas are read.

    Rows with ``EG.IsDecoy``/``PG.IsDecoy`` True are decoys. Genes from ``PG.Genes``.
    """
    columns, _sep = read_header(path)
    id_column = next((c for c in ("PG.ProteinGroups", "PG.ProteinAccessions") if c in columns), "PG.ProteinGroups")
    _need(path, columns, [id_column], "Spectronaut")
    gene = "PG.Genes" if "PG.Genes" in columns else None
    pivot = spectronaut_pivot_columns(columns)
    quantity = options["spectronaut_quantity"]
    if pivot and quantity not in columns:
        frame = read_text_table(path, usecols=[id_column, *([gene] if gene else []), *pivot])
        ids = frame[id_column].str.strip()
        check_unique_ids(path, ids, id_column)
        intensities = parse_intensities(path, frame, pivot, options)
        names = [_PIVOT.match(c).group("run").strip() for c in pivot]
        intensities.columns = [file_stem(n) for n in names]
        aliases = {file_stem(n): (n, c) for n, c in zip(names, pivot)}
        genes = _blank_to_na(frame[gene]) if gene else pd.Series(None, index=frame.index, dtype=object)
        log.info("%s: Spectronaut pivoted report, %d runs", path, len(pivot))
        return _assemble(
            path,
            "spectronaut",
            ids,
            genes,
            intensities,
            _prefix_flags(ids, options),
            options,
            len(frame),
            aliases=aliases,
            quantity="PG.Quantity",
        )
    run_column = next((c for c in ("R.FileName", "R.Label") if c in columns), "R.FileName")
    _need(path, columns, [run_column, quantity], "Spectronaut long")
    decoy_column = next((c for c in ("PG.IsDecoy", "EG.IsDecoy") if c in columns), None)
    wanted = [id_column, run_column, quantity, *[c for c in (gene, decoy_column) if c]]
    frame = read_text_table(path, usecols=wanted)
    frame[id_column] = frame[id_column].str.strip()
    groups_read = frame[id_column].nunique()
    is_decoy = _flag(frame[decoy_column]) if decoy_column else pd.Series(False, index=frame.index)
    decoy_groups = sorted(set(frame.loc[is_decoy, id_column]) - set(frame.loc[~is_decoy, id_column]))
    target = frame[~is_decoy]
    values = parse_intensities(path, target, [quantity], options)[quantity]
    long = pd.DataFrame({"group": target[id_column], "run": target[run_column].map(file_stem), "value": values})
    _check_one_value(path, long, quantity)
    wide = long.drop_duplicates(["group", "run"]).pivot(index="group", columns="run", values="value")
    wide = wide.reindex(index=list(dict.fromkeys(target[id_column])), columns=list(dict.fromkeys(long["run"])))
    wide.columns.name = None
    ids = pd.Series(wide.index, index=wide.index)
    genes = (
        _blank_to_na(target.drop_duplicates(id_column).set_index(id_column)[gene]).reindex(wide.index)
        if gene
        else pd.Series(None, index=wide.index, dtype=object)
    )
    removed = pd.DataFrame({PROTEIN: decoy_groups, GENE: None, REASON: DECOY})
    log.info("%s: Spectronaut long report, %r per protein group and run, %d runs", path, quantity, wide.shape[1])
    return _assemble(
        path,
        "spectronaut",
        ids,
        genes,
        wide,
        _prefix_flags(ids, options),
        options,
        len(frame),
        groups_read,
        removed,
        quantity=quantity,
    )


# ---------------------------------------------------------------------------------------- mzTab

_ASSAY = re.compile(r"^protein_abundance_assay\[(\d+)\]$")
_RUN_REF = re.compile(r"ms_run\[(\d+)\]")


def read_mztab(path, options):
    """mzTab 1.0 protein section (``PRT``) via pyteomics: ``protein_abundance_assay[n]`` per sample.

    An assay is named by the file stem of its ``ms_run`` location when it has exactly one run,
    otherwise ``assay[n]`` (its runs' stems are accepted as aliases). OpenMS's ``protein_details``
    rows (group members repeated without abundances, ``opt_global_result_type``) are skipped.
    Decoys: ``opt_global_cv_PRIDE:0000303_decoy_hit`` = 1, or a decoy prefix. Genes: ``GN=`` in
    ``description``. An identification-only mzTab (no abundance columns) is refused.
    """
    from pyteomics import mztab

    try:
        document = mztab.MzTab(path)
    except Exception as error:  # pyteomics raises assorted errors for malformed files
        raise TearflowError(f"{path}: cannot be read as mzTab ({error})") from error
    proteins = document.protein_table
    kind = document.metadata.get("mzTab-type", "unknown")
    assays = [c for c in proteins.columns if _ASSAY.match(str(c))]
    if not assays:
        raise TearflowError(
            f"{path}: mzTab (mzTab-type {kind}) has no protein_abundance_assay[n] columns in its protein "
            "section: it is an identification-only mzTab and holds no protein quantities. Export a "
            "quantification mzTab (or use the search engine's protein table) instead"
        )
    lines = [number for number, line in enumerate(_lines(path), start=1) if line.startswith("PRT\t")]
    proteins = proteins.copy()
    proteins.index = lines if len(lines) == len(proteins) else range(1, len(proteins) + 1)
    if "opt_global_result_type" in proteins:
        details = proteins["opt_global_result_type"].astype(str) == "protein_details"
        if details.any():
            log.info(
                "%s: %d OpenMS protein_details rows skipped (members of groups listed separately)",
                path,
                int(details.sum()),
            )
        proteins = proteins[~details]
    if proteins.empty:
        raise TearflowError(f"{path}: mzTab protein section has no protein rows; expected PRT lines")
    ids = proteins["accession"].astype(str).str.strip()
    check_unique_ids(path, ids, "accession")
    intensities = parse_intensities(path, proteins, assays, options)
    names, aliases = _assay_names(document, assays)
    intensities.columns = names
    genes = pd.Series(
        [gene_from_description(d) for d in proteins.get("description", [None] * len(ids))],
        index=proteins.index,
        dtype=object,
    )
    extra = {}
    decoy_column = "opt_global_cv_PRIDE:0000303_decoy_hit"
    if decoy_column in proteins:
        extra[DECOY] = pd.to_numeric(proteins[decoy_column], errors="coerce").eq(1)
    log.info("%s: mzTab %s, %d assays", path, kind, len(assays))
    return _assemble(
        path,
        "mztab",
        ids,
        genes,
        intensities,
        _prefix_flags(ids, options, extra),
        options,
        len(proteins),
        aliases=aliases,
    )


def _lines(path):
    with open(path, encoding="utf-8", errors="replace") as stream:
        yield from stream


def _assay_names(document, assays):
    runs = {number: file_stem(str(meta.get("location", ""))) for number, meta in dict(document.ms_runs or {}).items()}
    assay_meta = dict(document.assays or {})
    names, aliases = [], {}
    for column in assays:
        number = int(_ASSAY.match(column).group(1))
        refs = [int(n) for n in _RUN_REF.findall(str(assay_meta.get(number, {}).get("ms_run_ref", "")))]
        stems = [runs[n] for n in refs if runs.get(n)]
        name = stems[0] if len(stems) == 1 else f"assay[{number}]"
        names.append(name)
        aliases[name] = tuple(dict.fromkeys([f"assay[{number}]", column, *stems]))
    if len(set(names)) < len(names):
        names = [f"assay[{int(_ASSAY.match(c).group(1))}]" for c in assays]
    return names, aliases


# ---------------------------------------------------------------------------------------- wide

WIDE_ID_COLUMNS = (
    "protein",
    "protein_id",
    "protein id",
    "protein_group",
    "protein group",
    "protein.group",
    "proteins",
    "protein ids",
    "accession",
    "uniprot",
    "uniprot_id",
    "id",
)
WIDE_GENE_COLUMNS = ("gene", "genes", "gene_name", "gene name", "gene names", "gene.names", "gene_symbol", "symbol")


def wide_columns(columns, options):
    """(ID column, gene column or None) of a plain wide table, by config or by name."""
    lower = {c.lower(): c for c in reversed(columns)}
    id_column = options["wide_id_column"]
    if id_column == "auto":
        id_column = next((lower[n] for n in WIDE_ID_COLUMNS if n in lower), None)
    elif id_column not in columns:
        id_column = None
    gene_column = options["wide_gene_column"]
    if gene_column == "auto":
        gene_column = next((lower[n] for n in WIDE_GENE_COLUMNS if n in lower), None)
    elif gene_column not in columns:
        gene_column = False  # configured but absent
    return id_column, gene_column


def read_wide(path, options):
    """A plain wide TSV/CSV: one ID column, optional gene column, one numeric column per sample.

    Other all-text columns (a description) are ignored with a note; a sample column with some
    non-numeric cells is an error naming the cell.
    """
    columns, _sep = read_header(path)
    id_column, gene_column = wide_columns(columns, options)
    if id_column is None:
        expected = options["wide_id_column"] if options["wide_id_column"] != "auto" else " / ".join(WIDE_ID_COLUMNS)
        raise TearflowError(
            f"{path}: no protein ID column; expected a column named {expected} (config import.wide_id_column); "
            f"found {', '.join(repr(c) for c in columns[:15])}"
        )
    if gene_column is False:
        raise TearflowError(
            f"{path}: gene column {options['wide_gene_column']!r} (config import.wide_gene_column) not found; "
            f"found {', '.join(columns)}"
        )
    frame = read_text_table(path)
    ids = frame[id_column].str.strip()
    check_unique_ids(path, ids, id_column)
    candidates = [c for c in frame.columns if c not in (id_column, gene_column)]
    samples, ignored = [], []
    for column in candidates:
        cells = frame[column].str.strip()
        text = cells[~cells.str.lower().isin(MISSING_TOKENS)]
        numeric = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce").notna()
        (ignored if len(text) and not numeric.any() else samples).append(column)
    if ignored:
        log.info("%s: text column(s) ignored (not samples): %s", path, ", ".join(ignored))
    if not samples:
        raise TearflowError(
            f"{path}: no numeric sample columns besides {id_column!r}; expected one intensity column per sample"
        )
    intensities = parse_intensities(path, frame, samples, options)
    genes = _blank_to_na(frame[gene_column]) if gene_column else pd.Series(None, index=frame.index, dtype=object)
    log.info("%s: wide table, ID column %r, gene column %r, %d samples", path, id_column, gene_column, len(samples))
    text_columns = {}
    for column in ignored:
        cells = frame[column].str.strip()
        text_columns[column] = cells[~cells.str.lower().isin(MISSING_TOKENS)].iloc[0]
    return _assemble(
        path,
        "wide",
        ids,
        genes,
        intensities,
        _prefix_flags(ids, options),
        options,
        len(frame),
        text_columns=text_columns,
    )
