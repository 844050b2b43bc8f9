"""Import step: search-engine protein tables → ``results/abundance/raw.tsv`` (protein × sheet sample).

Each configured table (one per batch) is read by :mod:`tearflow.readers`, its proteins get gene
symbols (:mod:`tearflow.genes`), its run columns are matched to the sample sheet, proteins with no
value in any matched sample are dropped, and the tables are combined by protein group (outer join;
a protein missing from one batch is missing there). ``removed_proteins.tsv`` says what was left out
and why; ``import_summary.tsv`` counts it per table.
"""

import logging
import os

import pandas as pd

from tearflow.columns import BATCH, GENE, PRECURSOR, PROTEIN, SAMPLE
from tearflow.errors import TearflowError
from tearflow.genes import SOURCE_ACCESSION, assign_genes
from tearflow.readers import file_stem, read_precursors, read_table
from tearflow.readers.base import (
    ALL_MISSING,
    CONTAMINANT,
    DECOY,
    NOT_PROTEOTYPIC,
    QVALUE,
    REASON,
    SITE_ONLY,
    normalised_by_search_engine,
)

log = logging.getLogger("tearflow.import")

TABLE = "table"
QUANTITY = "quantity"
NORMALISED = "normalised_by_search_engine"
RUN = "run"
SUMMARY_COLUMNS = [
    TABLE,
    BATCH,
    "format",
    "rows_read",
    "decoys_removed",
    "contaminants_removed",
    "site_only_removed",
    "proteins_kept",
    "samples_matched",
    "genes_mapped",
    # extra detail after the contract columns
    "protein_groups_read",
    "qvalue_removed",
    "all_missing_removed",
    "runs_left_out",
    "genes_unmapped",
    "genes_excel_mangled",
    QUANTITY,
    NORMALISED,
]
#: extra columns of a precursor-level table's summary row
PRECURSOR_SUMMARY_COLUMNS = ["precursors_read", "precursors_kept", "not_proteotypic_removed"]
REMOVED_COLUMNS = [TABLE, PROTEIN, GENE, REASON]
#: the level a table is read at: one value per protein group and run, or per precursor and run (for
#: DPC quantification, ``quantification.method: dpc``)
PROTEIN_LEVEL = "protein"
PRECURSOR_LEVEL = "precursor"
RUNS_COLUMNS = [SAMPLE, BATCH, TABLE, RUN]


def normalised_tables(summary, path="import summary"):
    """``[(table, quantity, normalised)]`` from an import summary (read from ``path``): each table,
    the column its intensities came from and whether its search engine normalised that across runs
    (what ``normalization.method: auto`` decides by)."""
    missing = [column for column in (TABLE, QUANTITY, NORMALISED) if column not in summary.columns]
    if missing:
        raise TearflowError(
            f"{path}: no column(s) {', '.join(missing)}; expected the import summary of this tearflow "
            "version (run the import step again: snakemake -R import_abundance)"
        )
    flags = [str(flag).strip().lower() == "true" for flag in summary[NORMALISED]]
    return list(zip(summary[TABLE].astype(str), summary[QUANTITY].fillna("").astype(str), flags))


def table_entries(proteomics):
    """Config ``proteomics`` entries (as validated: every key present) with a unique ``batch`` name.

    An entry without a batch (null) is named by its file name without the last extension; where
    that name is shared (each batch's DIA-NN ``report.parquet`` in a folder of its own), by the
    folder's name instead, with a note.
    """
    entries = []
    for position, entry in enumerate(proteomics):
        if not entry or "path" not in entry:
            raise TearflowError(f"config proteomics[{position}]: missing 'path'; expected {{path, format, batch}}")
        path = str(entry["path"])
        # `name` is the path as the config wrote it: the tables record it, so results do not depend
        # on where tearflow is installed (`path` is resolved by common.smk for reading).
        name = str(entry.get("name") or path)
        entries.append({"path": path, "name": name, "format": entry["format"], "batch": entry.get("batch")})
    _name_unnamed_batches(entries)
    first_key = {}
    for position, entry in enumerate(entries):
        real = os.path.realpath(entry["path"])
        if real in first_key:
            raise TearflowError(
                f"config proteomics[{position}]: {entry['name']} is the same file as proteomics[{first_key[real]}]; "
                "expected each table once (its runs would be counted twice)"
            )
        first_key[real] = position
    batches = [e["batch"] for e in entries]
    repeated = sorted({b for b in batches if batches.count(b) > 1})
    if repeated:
        raise TearflowError(
            f"config proteomics: batch name(s) {', '.join(repeated)} used by more than one table; "
            "give each table its own 'batch'"
        )
    return entries


def _name_unnamed_batches(entries):
    """Give each entry without a ``batch`` its file stem, or its folder's name where the stem is
    shared by another unnamed entry."""
    unnamed = [entry for entry in entries if not entry["batch"]]
    stems = [os.path.splitext(os.path.basename(entry["name"]))[0] for entry in unnamed]
    folders = [os.path.basename(os.path.dirname(os.path.abspath(entry["name"]))) for entry in unnamed]
    by_folder = []
    for entry, stem, folder in zip(unnamed, stems, folders):
        shared = stems.count(stem) > 1 and folder and folders.count(folder) == 1
        entry["batch"] = folder if shared else stem
        if shared:
            by_folder.append(f"{entry['name']} → {folder}")
    for entry in entries:
        entry["batch"] = str(entry["batch"])
    if by_folder:
        log.warning(
            "tables with the same file name are named by their folders: %s (set proteomics[].batch to choose)",
            ", ".join(by_folder),
        )


def _run_matches(sample, runs, aliases):
    exact = [run for run in runs if run == sample]
    if exact:
        return exact
    stem = file_stem(sample)
    return [
        run
        for run in runs
        if file_stem(run) in (sample, stem)
        or any(a == sample or file_stem(a) in (sample, stem) for a in aliases.get(run, ()))
    ]


def match_samples(sheet, runs_by_batch, aliases_by_batch=None, tables_by_batch=None, text_by_batch=None):
    """One row per sheet sample: ``sample, batch, table, run`` (its column in the table it is in).

    A sample's name is matched to run names exactly, then by file stem (``D:\\raw\\S1.raw`` → ``S1``)
    and the reader's aliases. A sheet sample no table has, a sample in two tables or matching two
    runs, and a ``batch`` in the sheet that names a different table are errors; the message for a
    missing sample lists the runs no sheet sample matched and, when the sample's column is one of a
    table's text columns (``text_by_batch``: {batch: {column: first cell}}), says so. Runs of a
    table that no sheet sample claims are logged and left out.
    """
    aliases_by_batch = aliases_by_batch or {}
    text_by_batch = text_by_batch or {}
    tables_by_batch = tables_by_batch or {b: b for b in runs_by_batch}
    sheet_batch = sheet[BATCH] if BATCH in sheet.columns else pd.Series("", index=sheet.index)
    rows, missing = [], []
    for sample, wanted_batch in zip(sheet[SAMPLE], sheet_batch):
        hits = []
        for batch, runs in runs_by_batch.items():
            found = _run_matches(sample, runs, aliases_by_batch.get(batch, {}))
            if len(found) > 1:
                raise TearflowError(
                    f"sample sheet sample {sample!r} matches several runs of {tables_by_batch[batch]}: "
                    f"{', '.join(found)}; expected exactly one (use the full run name in the sheet)"
                )
            hits += [(batch, found[0])] if found else []
        if not hits:
            missing.append(sample)
            continue
        if len(hits) > 1:
            raise TearflowError(
                f"sample sheet sample {sample!r} is in more than one table: "
                + "; ".join(f"{tables_by_batch[b]} (run {r!r})" for b, r in hits)
                + "; expected each sample in exactly one table"
            )
        batch, run = hits[0]
        if wanted_batch and wanted_batch in runs_by_batch and wanted_batch != batch:
            raise TearflowError(
                f"sample sheet sample {sample!r}: column 'batch' says {wanted_batch!r} but the sample is "
                f"in table {tables_by_batch[batch]} (batch {batch!r})"
            )
        rows.append((sample, batch, tables_by_batch[batch], run))
    if missing:
        claimed = {(batch, run) for _sample, batch, _table, run in rows}
        unmatched = {b: [r for r in runs if (b, r) not in claimed] for b, runs in runs_by_batch.items()}
        available = "; ".join(
            f"{tables_by_batch[b]}: {', '.join(_shorten(runs))}" for b, runs in unmatched.items() if runs
        )
        texts = [
            f"column {column!r} of {tables_by_batch[b]} holds no numbers (first cell {first!r})"
            for sample in missing
            for b, columns in text_by_batch.items()
            for column, first in columns.items()
            if sample in (column, file_stem(column))
        ]
        raise TearflowError(
            f"sample sheet: {len(missing)} sample(s) not found in any protein table: {', '.join(_shorten(missing))}. "
            + (f"{'; '.join(texts)}; expected intensities in a sample's column. " if texts else "")
            + f"Runs no sheet sample matched (matched exactly or by file stem): {available or 'none'}"
        )
    matches = pd.DataFrame(rows, columns=RUNS_COLUMNS)
    used = set(zip(matches[BATCH], matches[RUN]))
    if matches.duplicated([BATCH, RUN]).any():
        twice = matches[matches.duplicated([BATCH, RUN], keep=False)]
        raise TearflowError(
            f"sample sheet samples {', '.join(twice[SAMPLE])} all match run {twice[RUN].iloc[0]!r} of "
            f"{twice[TABLE].iloc[0]}; expected one sample per run"
        )
    for batch, runs in runs_by_batch.items():
        left = [run for run in runs if (batch, run) not in used]
        if left:
            log.info(
                "%s: %d run(s) not in the sample sheet, left out: %s",
                tables_by_batch[batch],
                len(left),
                ", ".join(_shorten(left)),
            )
    if BATCH in sheet.columns and not set(sheet_batch) & set(runs_by_batch) and len(runs_by_batch) > 1:
        log.info(
            "sample sheet column 'batch' does not name the tables (%s); samples were matched by name only",
            ", ".join(runs_by_batch),
        )
    return matches


def check_sheet_samples_in_tables(sheet, sheet_path, tables, options):
    """Before any rule: every sheet sample is named somewhere in a table (``tables``:
    ``[(config key, path, format)]``; ``options``: the ``import`` config section), as a run or column
    name, a file stem, or part of a column name (``LFQ intensity S1``). A sample named nowhere is a
    :class:`TearflowError` naming the sheet, its lines and the tables — unless a table of format
    ``auto`` has a layout no reader recognizes: that is the real problem, and its message is the one
    raised. The exact matching and its finer errors stay with the import, as does a table whose
    header names a column twice (the import's message names that problem)."""
    import difflib

    from tearflow.readers import sample_names_in

    names = []
    for _key, path, _fmt in tables:
        try:
            table_names = sample_names_in(path)
        except TearflowError:  # unreadable, unknown layout, ...: the import's own message says what
            return
        if table_names is None:  # a table whose runs only the reader can name (mzTab): the import checks
            return
        names += table_names
    text = "\n".join(names)
    missing = [
        (line, sample)
        for line, sample in zip(sheet.index, sheet[SAMPLE])
        if sample not in text and file_stem(sample) not in text
    ]
    if missing:
        _check_layouts_recognized(tables, options)
        lines = ", ".join(str(line) for line, _ in missing[:10])
        # Suggest only the names no sheet sample is part of (the runs left over).
        samples = [sample for sample in sheet[SAMPLE] if sample]
        unclaimed = {name for name in names if not any(sample in name for sample in samples)}
        # compared without case: NSDE01_week2 is the nearest run for nsde01_week2, not SSDE01_week2
        by_folded = {}
        for name in sorted(unclaimed):
            by_folded.setdefault(name.casefold(), name)
        closest = [
            f"{sample!r} ~ {by_folded[found[0]]!r}"
            for _, sample in missing[:5]
            if (found := difflib.get_close_matches(sample.casefold(), list(by_folded), n=1, cutoff=0.6))
        ]
        raise TearflowError(
            f"sample sheet {sheet_path}: {len(missing)} sample(s) named in no proteomics table: "
            f"{', '.join(_shorten([sample for _, sample in missing]))} (line(s) {lines}); expected each "
            "sample as a run or column name (or its file stem) of one of "
            + ", ".join(f"{key} {path}" for key, path, _fmt in tables)
            + (f"; closest names in the tables: {', '.join(closest)}" if closest else "")
        )


def _check_layouts_recognized(tables, options):
    """A :class:`TearflowError` (config key, file, what its header starts with) for the first table
    of format ``auto`` that neither the protein-level nor the precursor-level detection recognizes."""
    from tearflow.readers import detect_format, detect_precursor_format

    for key, path, fmt in tables:
        if fmt != "auto":
            continue
        try:
            detect_format(path, options)
        except TearflowError as error:
            try:
                detect_precursor_format(path, options)
            except TearflowError:
                raise TearflowError(f"config key '{key}': {error}") from None


def _shorten(names, limit=25):
    names = list(names)
    return names if len(names) <= limit else [*names[:limit], f"... ({len(names)} in all)"]


def with_genes(table, fasta_map, gene_map, prefixes):
    """The reader's table with gene symbols from table → FASTA → gene map (and Excel notes)."""
    genes, sources, notes = assign_genes(table.data[PROTEIN], table.data[GENE], fasta_map, gene_map, prefixes)
    data = table.data.assign(**{GENE: genes.to_numpy()})
    removed = table.removed
    if len(removed):
        removed_genes, _sources, _notes = assign_genes(removed[PROTEIN], removed[GENE], fasta_map, gene_map, prefixes)
        removed = removed.assign(**{GENE: removed_genes.to_numpy()})
    return data, removed, sources, notes


def restrict_to_samples(path, data, matches, labels=(PROTEIN, GENE)):
    """``labels`` (``protein, gene``; for precursors ``precursor, protein, gene``) + the matched runs
    renamed to their sheet samples; rows without a value in any of them dropped.

    Returns ``(kept, dropped)`` (the dropped rows' labels). A matched sample with no value at all is
    an error.
    """
    columns = dict(zip(matches[RUN], matches[SAMPLE]))
    frame = data[[*labels, *columns]].rename(columns=columns)
    samples = list(columns.values())
    empty = [s for s in samples if frame[s].isna().all()]
    if empty:
        runs = {v: k for k, v in columns.items()}
        raise TearflowError(
            f"{path}: sample(s) {', '.join(f'{s} (column {runs[s]!r})' for s in empty)} have no intensity "
            "for any protein; expected at least one value per sample (wrong column, or a failed run to "
            "remove from the sample sheet?)"
        )
    all_missing = frame[samples].isna().all(axis=1)
    if all_missing.any():
        log.info("%s: %d row(s) with no value in any matched sample dropped", path, int(all_missing.sum()))
    return frame[~all_missing].reset_index(drop=True), frame.loc[all_missing, list(labels)]


def combine_tables(frames, samples, key=PROTEIN):
    """Outer join of per-table frames (``protein, gene, samples...``, or ``precursor, protein, gene,
    samples...`` with ``key`` precursor) by ``key``; the first table's labels are kept."""
    labels = [column for column in frames[0].columns if column not in samples]
    combined = None
    for frame in frames:
        if combined is None:
            combined = frame.copy()
            continue
        merged = combined.merge(frame, on=key, how="outer", suffixes=("", "_other"), sort=False)
        for label in (column for column in labels if column != key):
            other = f"{label}_other"
            differ = merged[label].notna() & merged[other].notna() & (merged[label] != merged[other])
            if differ.any():
                log.warning(
                    "%d %s(s) have a different %s in different tables; the first table's is kept",
                    int(differ.sum()),
                    key,
                    label,
                )
            merged[label] = merged[label].fillna(merged[other])
            merged = merged.drop(columns=[other])
        combined = merged
    order = list(dict.fromkeys(p for frame in frames for p in frame[key]))
    combined = combined.set_index(key).reindex(order).reset_index()
    return combined[[*labels, *samples]]


def import_tables(entries, sheet, options, fasta_map=None, gene_map=None, level=PROTEIN_LEVEL):
    """Read, annotate, match and combine the configured tables, at protein or precursor ``level``.

    Returns ``(raw, removed, summary, runs)`` as in the table contracts: ``raw`` is ``protein, gene``
    (precursor level: ``precursor, protein, gene``) + one column per sheet sample; ``removed``
    lists protein groups (a precursor table's groups none of whose precursors was kept); ``runs``:
    which table column each sheet sample came from.
    """
    precursor_level = level == PRECURSOR_LEVEL
    labels = (PRECURSOR, PROTEIN, GENE) if precursor_level else (PROTEIN, GENE)
    prefixes = [*options["contaminant_prefixes"], *options["decoy_prefixes"]]
    read = {}
    for entry in entries:
        if precursor_level:
            table = read_precursors(entry["path"], entry["format"], options)
        else:
            table = read_table(entry["path"], entry["format"], options)
        read[entry["batch"]] = (entry, table, *with_genes(table, fasta_map, gene_map, prefixes))
    tables_by_batch = {batch: item[0]["name"] for batch, item in read.items()}
    matches = match_samples(
        sheet,
        {batch: item[1].runs for batch, item in read.items()},
        {batch: item[1].run_aliases for batch, item in read.items()},
        tables_by_batch,
        {batch: item[1].text_columns for batch, item in read.items()},
    )
    frames, removed, summary = [], [], []
    for batch, (entry, table, data, dropped, sources, notes) in read.items():
        mine = matches[matches[BATCH] == batch]
        kept, all_missing = restrict_to_samples(entry["path"], data, mine, labels)
        kept_proteins = pd.unique(kept[PROTEIN])
        if precursor_level:
            dropped = _with_protein_genes(table.groups_removed(), data)
            all_missing = all_missing[~all_missing[PROTEIN].isin(kept_proteins)].drop_duplicates(PROTEIN)
        first_rows = ~data[PROTEIN].duplicated()  # a protein's gene source: that of its first row
        kept_sources = sources[(data[PROTEIN].isin(kept_proteins) & first_rows).to_numpy()]
        frames.append(kept)
        removed += [
            dropped[[PROTEIN, GENE, REASON]].assign(**{TABLE: entry["name"]}),
            all_missing[[PROTEIN, GENE]].assign(**{REASON: ALL_MISSING, TABLE: entry["name"]}),
            notes.assign(**{TABLE: entry["name"]}),
        ]
        n_proteins = len(kept_proteins)
        unmapped = int((kept_sources == SOURCE_ACCESSION).sum())
        if unmapped:
            log.info(
                "%s: %d of %d proteins without a gene symbol keep their accession as label",
                entry["path"],
                unmapped,
                n_proteins,
            )
        row = {
            TABLE: entry["name"],
            BATCH: batch,
            "format": table.format,
            "rows_read": table.rows_read,
            "decoys_removed": table.removed_count(DECOY),
            "contaminants_removed": table.removed_count(CONTAMINANT),
            "site_only_removed": table.removed_count(SITE_ONLY),
            "proteins_kept": n_proteins,
            "samples_matched": len(mine),
            "genes_mapped": n_proteins - unmapped,
            "protein_groups_read": table.groups_read,
            "qvalue_removed": table.removed_count(QVALUE),
            "all_missing_removed": len(all_missing),
            "runs_left_out": len(table.runs) - len(mine),
            "genes_unmapped": unmapped,
            "genes_excel_mangled": len(notes),
            QUANTITY: table.quantity,
            NORMALISED: normalised_by_search_engine(table.format, table.quantity),
        }
        if precursor_level:
            row.update(
                {
                    "precursors_read": table.precursors_read,
                    "precursors_kept": len(kept),
                    "not_proteotypic_removed": table.removed_count(NOT_PROTEOTYPIC),
                }
            )
        summary.append(row)
        log.info(
            "%s (batch %s, %s): %d proteins%s kept, %d samples matched, %d with a gene symbol (%s)",
            entry["path"],
            batch,
            table.format,
            n_proteins,
            f" ({len(kept)} precursors)" if precursor_level else "",
            len(mine),
            n_proteins - unmapped,
            ", ".join(f"{k}: {v}" for k, v in kept_sources.value_counts().items()),
        )
    raw = combine_tables(frames, list(sheet[SAMPLE]), key=labels[0])
    removed = (
        pd.concat(removed, ignore_index=True)[REMOVED_COLUMNS] if removed else pd.DataFrame(columns=REMOVED_COLUMNS)
    )
    columns = SUMMARY_COLUMNS + (PRECURSOR_SUMMARY_COLUMNS if precursor_level else [])
    return raw, removed, pd.DataFrame(summary, columns=columns), matches


def _with_protein_genes(groups, data):
    """Removed protein groups with the gene symbol their rows got in ``data`` (where it has them)."""
    genes = data.drop_duplicates(PROTEIN).set_index(PROTEIN)[GENE]
    return groups.assign(**{GENE: groups[PROTEIN].map(genes).fillna(groups[GENE])})


def quantification_plan(tables, method, options):
    """``(method, level)``: the quantification that runs (``dpc`` or ``none``) and the level the
    configured ``tables`` are read at (precursor or protein). ``tables``: ``[(config key, path, format)]``.

    ``auto`` (the default) is ``dpc`` when every table holds precursors (a DIA-NN, Spectronaut,
    FragPipe ion or MaxQuant evidence / peptides table) and ``none`` for protein tables — what the
    evidence in ``benchmarks/dpc_evidence.md`` supports. ``dpc`` reads precursor tables at precursor
    level and quantifies protein tables row by row. A table only precursor-level tools write with
    ``none``, or precursor and protein tables mixed, is a :class:`TearflowError` naming the tables.
    """
    from tearflow.readers import PRECURSOR_FORMATS, PRECURSOR_ONLY, detect_precursor_format

    precursor_formats = {}
    for key, path, fmt in tables:
        precursor = None
        if fmt in PRECURSOR_ONLY:
            precursor = fmt
        elif fmt == "auto" or fmt in PRECURSOR_FORMATS:
            try:
                precursor = detect_precursor_format(path, options)
            except TearflowError:
                precursor = None
        precursor_formats[key] = (path, precursor)
    if method == "auto":
        method = "dpc" if all(precursor for _, precursor in precursor_formats.values()) else "none"
        mixed = any(precursor in PRECURSOR_ONLY for _, precursor in precursor_formats.values())
    else:
        mixed = False
    levels = {
        key: PRECURSOR_LEVEL if (method == "dpc" or mixed) and precursor else PROTEIN_LEVEL
        for key, (_, precursor) in precursor_formats.items()
    }
    for key, (path, precursor) in precursor_formats.items():
        if method == "none" and not mixed and precursor in PRECURSOR_ONLY:
            raise TearflowError(
                f"config key '{key}': {path} is a {precursor} table, which holds precursors only; "
                "expected quantification.method: dpc or auto (proteins estimated from their precursors) "
                "or a protein-level table"
            )
    if len(set(levels.values())) > 1:
        described = "; ".join(f"{key}: {level} level" for key, level in levels.items())
        raise TearflowError(
            f"config key 'proteomics': the tables are at different levels ({described}); expected all "
            "precursor tables (for DPC quantification from precursors) or all protein tables"
        )
    return method, next(iter(levels.values()))
