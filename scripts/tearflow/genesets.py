"""Gene sets, read once: GMT files, gene-symbol cells, set membership of proteins.

Used by the enrichment step (ORA/GSEA libraries and the Th17/IL-17 focus sets), the focus-set
scores, the volcano plot (focus genes ringed) and the enrichment figures, so that every step reads
a GMT file and matches a protein's ``gene`` cell to a set the same way.

GMT (Broad Institute): one set per line, tab-separated: set name, description, then the set's
genes. Blank lines and lines starting with ``#`` are skipped. Symbols are upper-cased, stripped and
kept once in file order.
"""

from collections import namedtuple
from pathlib import Path

import pandas as pd

from tearflow.errors import TearflowError

#: a GMT file read by :func:`read_gmt`: ``name`` (the library / BH family), ``sets`` {set: [genes]},
#: ``descriptions`` {set: text}, ``focus`` (True for the Th17/IL-17 focus collection)
GeneSetLibrary = namedtuple("GeneSetLibrary", ["name", "sets", "descriptions", "focus"])


def read_gmt(path, name=None, focus=False):
    """A :class:`GeneSetLibrary` from a GMT file: {set: [upper-case genes, file order, unique]}.

    ``name`` defaults to the file's stem. A line with fewer than three tab-separated fields, a set
    name given twice, an unreadable file or a file without any set is a :class:`TearflowError`
    naming the file and line.
    """
    path = Path(path)
    sets, descriptions = {}, {}
    try:
        with open(path, encoding="utf-8") as stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip() or line.startswith("#"):
                    continue
                parts = line.rstrip("\n\r").split("\t")
                if len(parts) < 3:
                    raise TearflowError(
                        f"gene-set file {path}: line {number} has {len(parts)} tab-separated "
                        "field(s); expected GMT: set name, description, then at least one gene"
                    )
                set_name = parts[0].strip()
                if set_name in sets:
                    raise TearflowError(
                        f"gene-set file {path}: line {number}: set name '{set_name}' appears "
                        "twice; expected unique names"
                    )
                genes = [gene.strip().upper() for gene in parts[2:] if gene.strip()]
                sets[set_name] = list(dict.fromkeys(genes))
                descriptions[set_name] = parts[1].strip()
    except (OSError, UnicodeDecodeError) as error:
        raise TearflowError(f"gene-set file {path}: cannot be read ({error})") from error
    if not sets:
        raise TearflowError(f"gene-set file {path}: no gene sets found; expected GMT lines")
    return GeneSetLibrary(name or path.stem, sets, descriptions, focus)


def library_genes(library):
    """Every gene of a :class:`GeneSetLibrary` (the union of its sets), as a set."""
    return set().union(*library.sets.values())


def split_genes(value):
    """Upper-case gene symbols of one ``gene`` cell (protein groups joined by ``;``); [] for a
    missing (non-text) cell."""
    if not isinstance(value, str):
        return []
    return [gene.strip().upper() for gene in value.split(";") if gene.strip()]


def set_membership(genes, gene_sets):
    """Boolean matrix (proteins × sets): the protein's gene (any of a ``;`` group) is in the set."""
    symbols = [set(split_genes(value)) for value in genes]
    columns = {}
    for name, members in gene_sets.items():
        members = set(members)
        columns[name] = [bool(symbol & members) for symbol in symbols]
    return pd.DataFrame(columns, index=range(len(symbols)), dtype=bool)
