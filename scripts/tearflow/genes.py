"""Gene symbols for protein groups, and Excel's date-mangling of symbols (SEPT2 → 2-Sep).

Order of sources for each protein group (first that gives a symbol wins):

1. the table's own gene column (MaxQuant ``Gene names`` or ``GN=`` in ``Fasta headers``, DIA-NN
   ``Genes``, FragPipe ``Gene``/``Gene Names``, Spectronaut ``PG.Genes``, ``GN=`` in mzTab
   ``description``, the wide table's gene column);
2. the UniProt FASTA named by config ``fasta`` (``GN=`` parsed by :func:`pyteomics.fasta.parse`);
3. the UniProt accession → gene map named by config ``gene_map`` (first token of ``Gene.names``).

A group's symbols are those of its member accessions, in group order, duplicates removed, joined
with ``;`` (as DIA-NN and MaxQuant write them). A group no source maps keeps its leading accession
as the label and is counted as unmapped; so does a group whose only symbol is an Excel date that no
FASTA/map entry repairs.
"""

import logging
import re

import pandas as pd

from tearflow.columns import GENE, PROTEIN
from tearflow.errors import TearflowError

log = logging.getLogger(__name__)

GENE_SOURCE = "gene_source"
SOURCE_TABLE = "table"
SOURCE_FASTA = "fasta"
SOURCE_MAP = "gene_map"
SOURCE_ACCESSION = "accession"  # unmapped: the label is the leading accession

_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
# 2-Sep, 02-Sep, 1-Mar-2020 (day-month[-year]) and Sep-02, Mar-1 (month-day), as Excel writes them
_EXCEL_DATE = re.compile(rf"^(\d{{1,2}}-({_MONTHS})(-\d{{2,4}})?|({_MONTHS})-\d{{1,4}})$", flags=re.IGNORECASE)
_UNIPROT_ID = re.compile(r"^(?:sp|tr)\|([^|]+)\|")
_GN = re.compile(r"\bGN=(\S+)")
_ISOFORM = re.compile(r"-\d+$")

MAP_ACCESSION_COLUMNS = ("Entry", "accession", "Accession", "protein", "From", "UniProt")
MAP_GENE_COLUMNS = ("Gene.names", "Gene Names", "Gene names", "Gene Names (primary)", "gene", "To")


def is_excel_mangled(symbol):
    """True for a gene symbol Excel turned into a date (``2-Sep``, ``1-Mar``, ``Sep-02``)."""
    return bool(_EXCEL_DATE.match(str(symbol).strip()))


def accession_of(token, prefixes=()):
    """The UniProt accession in one protein ID: ``sp|P02768|ALBU_HUMAN`` → ``P02768``.

    Contaminant/decoy ``prefixes`` (``CON__``, ``REV__`` ...) are removed first.
    """
    token = str(token).strip()
    for prefix in prefixes:
        if prefix and token.startswith(prefix):
            token = token[len(prefix) :]
            break
    match = _UNIPROT_ID.match(token)
    return match.group(1) if match else token


def group_accessions(protein_id, prefixes=()):
    """Member accessions of a ``;``- or ``,``-separated protein group, in order."""
    if protein_id is None or (isinstance(protein_id, float) and pd.isna(protein_id)):
        return []
    members = re.split(r"[;,]\s*", str(protein_id))
    return [accession_of(m, prefixes) for m in members if m.strip()]


def gene_from_description(description):
    """``GN=`` of a UniProt description (mzTab ``description``, FASTA header), or None."""
    match = _GN.search(str(description)) if description is not None else None
    return match.group(1) if match else None


def genes_from_fasta_headers(headers, protein_ids=None):
    """``;``-joined unique ``GN=`` symbols of MaxQuant ``Fasta headers`` (one header per member).

    When ``protein_ids`` (e.g. ``Majority protein IDs``) is given, only headers of those members count
    (falling back to all headers when MaxQuant's truncation dropped them).
    """
    if headers is None or pd.isna(headers) or not str(headers).strip():
        return None
    wanted = set(group_accessions(protein_ids)) if protein_ids is not None else None
    chosen, others = [], []
    for header in str(headers).split(";"):
        symbol = gene_from_description(header)
        if not symbol:
            continue
        first = header.strip().split(" ", 1)[0]
        target = chosen if wanted is None or accession_of(first) in wanted else others
        target.append(symbol)
    symbols = chosen or others
    return ";".join(dict.fromkeys(symbols)) if symbols else None


def _first_token(value):
    parts = re.split(r"[\s;]+", str(value).strip())
    return parts[0] if parts and parts[0] else None


def read_gene_map(path):
    """UniProt accession → primary gene symbol from a TSV (UniProt export: ``Entry``, ``Gene.names``).

    The first whitespace-separated token of the gene column is the primary symbol.
    """
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise TearflowError(f"gene map {path}: cannot be read as a TSV ({error})") from error
    accession = next((c for c in MAP_ACCESSION_COLUMNS if c in table.columns), None)
    gene = next((c for c in MAP_GENE_COLUMNS if c in table.columns), None)
    if accession is None or gene is None:
        raise TearflowError(
            f"gene map {path}: expected an accession column ({', '.join(MAP_ACCESSION_COLUMNS)}) and "
            f"a gene column ({', '.join(MAP_GENE_COLUMNS)}); found {', '.join(table.columns)}"
        )
    mapping = {}
    for key, value in zip(table[accession], table[gene]):
        symbol = _first_token(value) if value else None
        if key.strip() and symbol:
            mapping.setdefault(key.strip(), symbol)
    log.info("gene map %s: %d accessions with a gene symbol", path, len(mapping))
    return mapping


def read_fasta_genes(path):
    """UniProt accession → ``GN=`` symbol of a UniProt FASTA, parsed by pyteomics.

    ``pyteomics.fasta.parse`` puts the gene name in ``GN`` (``gene_id`` is something else: the
    entry name). Headers that are not UniProt-style are skipped and counted.
    """
    from pyteomics import fasta

    mapping, skipped = {}, 0
    try:
        with fasta.read(str(path)) as entries:
            for description, _sequence in entries:
                try:
                    parsed = fasta.parse(description)
                except Exception:  # pyteomics raises a plain error for non-UniProt headers
                    skipped += 1
                    continue
                accession, symbol = parsed.get("id"), parsed.get("GN")
                if accession and symbol:
                    mapping.setdefault(accession, symbol)
    except OSError as error:
        raise TearflowError(f"fasta {path}: cannot be read ({error})") from error
    if not mapping:
        raise TearflowError(
            f"fasta {path}: no UniProt header with GN= found ({skipped} headers not UniProt-style); "
            "expected headers like '>sp|P02768|ALBU_HUMAN Albumin OS=Homo sapiens OX=9606 GN=ALB'"
        )
    log.info("fasta %s: %d accessions with GN= (%d headers not UniProt-style)", path, len(mapping), skipped)
    return mapping


def _lookup(accessions, mapping):
    symbols = []
    for accession in accessions:
        symbol = mapping.get(accession) or mapping.get(_ISOFORM.sub("", accession))
        if symbol:
            symbols.append(symbol)
    return ";".join(dict.fromkeys(symbols)) if symbols else None


def assign_genes(proteins, table_genes, fasta_map=None, gene_map=None, prefixes=()):
    """Gene symbol, its source and the Excel-mangling notes for each protein group.

    Returns ``(genes, sources, notes)``: two Series aligned with ``proteins`` and a DataFrame
    ``protein, gene, reason`` with one row per group whose table symbol looked like an Excel date
    (repaired from the FASTA/gene map when one of them knows the group's accessions).
    """
    sources_in_order = [(SOURCE_FASTA, fasta_map or {}), (SOURCE_MAP, gene_map or {})]
    genes, sources, notes = [], [], []
    for protein, own in zip(proteins, table_genes):
        accessions = group_accessions(protein, prefixes)
        own = None if own is None or pd.isna(own) or not str(own).strip() else str(own).strip()
        mapped = next(
            ((name, symbol) for name, mapping in sources_in_order if (symbol := _lookup(accessions, mapping))),
            None,
        )
        if own and any(is_excel_mangled(token) for token in own.split(";")):
            if mapped:
                notes.append(
                    (
                        protein,
                        mapped[1],
                        f"excel_mangled_gene: {own!r} repaired to {mapped[1]!r} from the {mapped[0]} (protein kept)",
                    )
                )
                genes.append(mapped[1])
                sources.append(mapped[0])
            else:
                label = accessions[0] if accessions else str(protein)
                notes.append(
                    (
                        protein,
                        label,
                        f"excel_mangled_gene: {own!r} looks like an Excel date and no FASTA/gene map entry "
                        "repairs it; labelled by accession (protein kept)",
                    )
                )
                genes.append(label)
                sources.append(SOURCE_ACCESSION)
        elif own:
            genes.append(own)
            sources.append(SOURCE_TABLE)
        elif mapped:
            genes.append(mapped[1])
            sources.append(mapped[0])
        else:
            genes.append(accessions[0] if accessions else str(protein))
            sources.append(SOURCE_ACCESSION)
    index = getattr(proteins, "index", None)
    notes = pd.DataFrame(notes, columns=[PROTEIN, GENE, "reason"])
    for protein, _gene, reason in notes.itertuples(index=False):
        log.warning("protein %s: %s", protein, reason)
    return pd.Series(genes, index=index, dtype=object), pd.Series(sources, index=index, dtype=object), notes
