"""What every format reader returns, and the removal rules they share."""

import logging
import re
from dataclasses import dataclass, field

import pandas as pd

from tearflow.columns import GENE, PRECURSOR, PROTEIN
from tearflow.errors import TearflowError

log = logging.getLogger(__name__)

REASON = "reason"

# Removal reasons, in the order they are tested: a row is counted once, under the first that applies.
DECOY = "decoy"
CONTAMINANT = "contaminant"
SITE_ONLY = "site_only"
QVALUE = "qvalue_filtered"
NOT_PROTEOTYPIC = "not_proteotypic"
ALL_MISSING = "all_missing"
# Precursor-level removal reasons in the order they are applied (each observation is counted once,
# under the first that applies; a precursor is removed when none of its observations is left).
PRECURSOR_REASONS = (DECOY, CONTAMINANT, NOT_PROTEOTYPIC, QVALUE, ALL_MISSING)


@dataclass
class ProteinTable:
    """One search-engine table read into tearflow's shape.

    ``data``: ``protein``, ``gene`` (the table's own symbol or NA), then one float column per run
    (raw intensity, NaN = missing), one row per protein group kept. ``removed``: ``protein, gene,
    reason`` for every group the reader left out. ``run_aliases``: other names a run column may be
    matched by (its file stem is always tried as well). ``text_columns``: columns a wide table had
    besides ID and gene that hold no numbers, each with its first cell (so that a sample whose
    column is text can be told apart from a sample that is absent). ``quantity``: the column (or
    column kind) the intensities came from, "" where the format does not say.
    """

    path: str
    format: str
    data: pd.DataFrame
    removed: pd.DataFrame
    rows_read: int
    groups_read: int
    quantity: str = ""
    run_aliases: dict = field(default_factory=dict)
    text_columns: dict = field(default_factory=dict)

    @property
    def runs(self):
        return [c for c in self.data.columns if c not in (PROTEIN, GENE)]

    def removed_count(self, reason):
        return int((self.removed[REASON] == reason).sum()) if len(self.removed) else 0


@dataclass
class PrecursorTable:
    """One precursor-level (or peptide-level) search-engine table read into tearflow's shape.

    ``precursors``: ``precursor`` (the tool's precursor ID, or ``<modified sequence>.<charge>``),
    ``protein`` (its protein group), ``gene`` (the table's own symbol or NA), then one float column
    per run (raw intensity, NaN = missing), one row per precursor kept, in order of first
    appearance in the file. ``removed``: ``precursor, protein, gene, reason`` — one row per
    precursor read but not kept; its reason is the filter that removed its last observation (see
    :data:`PRECURSOR_REASONS`). ``observations_removed``: {reason: number of precursor-run
    observations it removed} (long formats; for wide tables a row counts once). ``rows_read``: data
    rows of the file; ``precursors_read``/``groups_read``: distinct precursors and protein groups
    among them. ``run_aliases``: other names a run may be matched by (its file stem is always
    tried). ``quantity``: the column (or column pattern) the intensities came from.

    ``data``, ``runs``, ``removed_count`` and ``text_columns`` work as for :class:`ProteinTable`, so
    the import step's sample matching and gene assignment take either.
    """

    path: str
    format: str
    precursors: pd.DataFrame
    removed: pd.DataFrame
    rows_read: int
    precursors_read: int
    groups_read: int
    quantity: str = ""
    run_aliases: dict = field(default_factory=dict)
    observations_removed: dict = field(default_factory=dict)
    text_columns: dict = field(default_factory=dict)

    @property
    def data(self):
        return self.precursors

    @property
    def runs(self):
        return [c for c in self.precursors.columns if c not in (PRECURSOR, PROTEIN, GENE)]

    def removed_count(self, reason):
        """Precursors removed for ``reason``."""
        return int((self.removed[REASON] == reason).sum()) if len(self.removed) else 0

    def groups_removed(self):
        """``protein, gene, reason``: protein groups none of whose precursors was kept.

        The reason is the latest (in :data:`PRECURSOR_REASONS` order) among its precursors'.
        """
        if not len(self.removed):
            return empty_removed()
        kept = set(self.precursors[PROTEIN])
        lost = self.removed[~self.removed[PROTEIN].isin(kept)]
        order = {reason: rank for rank, reason in enumerate(PRECURSOR_REASONS)}
        ranked = lost.assign(_rank=lost[REASON].map(order).fillna(-1))
        latest = ranked.sort_values("_rank", kind="stable").groupby(PROTEIN, sort=False).tail(1)
        first_seen = {protein: i for i, protein in enumerate(dict.fromkeys(lost[PROTEIN]))}
        latest = latest.sort_values(PROTEIN, key=lambda p: p.map(first_seen), kind="stable")
        return latest[[PROTEIN, GENE, REASON]].reset_index(drop=True)


#: Quantities the search engine has already normalised across the runs of its analysis (with the
#: tool's default settings), by tearflow format. ``normalization.method: auto`` leaves the DPC
#: estimates of these as they are, as limpa does; raw intensities (DIA-NN ``Precursor.Quantity``,
#: MaxQuant ``Intensity``, FragPipe ion ``Intensity``, generic tables) get the ``trimmed`` offsets
#: (:func:`tearflow.normalization.resolved_method`). A DIA-NN report made with ``--no-norm`` is
#: recognised by its reader (quantity ``DIANN_NOT_NORMALISED``); a pg_matrix made so, or Spectronaut
#: without cross-run normalization, writes raw values under these names: set ``normalization.method``.
SEARCH_ENGINE_NORMALISED = {
    "diann_matrix": {"pg_matrix"},
    "diann_report": {"PG.MaxLFQ", "PG.Normalised", "Genes.MaxLFQ", "Genes.Normalised", "Precursor.Normalised"},
    "maxquant": {"LFQ intensity"},
    "fragpipe": {"MaxLFQ Intensity"},
    "spectronaut": {"PG.Quantity", "EG.TotalQuantity (Settings)", "FG.Quantity"},
}


def normalised_by_search_engine(fmt, quantity):
    """Whether ``quantity`` of a table read as ``fmt`` is one :data:`SEARCH_ENGINE_NORMALISED` lists."""
    return quantity in SEARCH_ENGINE_NORMALISED.get(fmt, ())


def empty_removed():
    return pd.DataFrame({PROTEIN: pd.Series(dtype=str), GENE: pd.Series(dtype=str), REASON: pd.Series(dtype=str)})


def has_prefix(protein_ids, prefixes, every=False):
    """True where a member (``every``: all members) of a ``;``/``,``-separated group has a prefix.

    Contaminants use "any member" (one contaminant sequence makes the group suspect); decoys use
    "every member", as MaxQuant's ``Reverse`` column does (a group with a target protein is kept).
    """
    prefixes = tuple(p for p in prefixes if p)
    if not prefixes:
        return pd.Series(False, index=protein_ids.index)
    test = all if every else any

    def flagged(group):
        members = [m.strip() for m in re.split(r"[;,]", group) if m.strip()]
        return bool(members) and test(m.startswith(prefixes) for m in members)

    return protein_ids.fillna("").astype(str).map(flagged).astype(bool)


def split_removed(path, table, flags, options):
    """Split ``table`` (protein, gene, runs...) by boolean ``flags`` {reason: Series}.

    Each row is assigned the first reason (in the order given) that flags it; contaminants and
    site-only rows are kept when the config switches their removal off.
    """
    enabled = {DECOY: True, CONTAMINANT: options["remove_contaminants"], SITE_ONLY: options["remove_site_only"]}
    reason = pd.Series(pd.NA, index=table.index, dtype="string")
    for name, flag in flags.items():
        if not enabled.get(name, True):
            log.info("%s: %d %s rows kept (removal switched off in the config)", path, int(flag.sum()), name)
            continue
        reason = reason.mask(reason.isna() & flag.reindex(table.index, fill_value=False), name)
    dropped = reason.notna()
    removed = table.loc[dropped, [PROTEIN, GENE]].assign(**{REASON: reason[dropped].astype(str)})
    for name in flags:
        count = int((removed[REASON] == name).sum())
        if count:
            log.info("%s: removed %d %s row(s)", path, count, name)
    return table.loc[~dropped], removed.reset_index(drop=True)


def check_unique_ids(path, ids, column):
    """Duplicate protein-group IDs are an error naming the lines."""
    ids = ids.astype(str).str.strip()
    empty = ids == ""
    if empty.any():
        line = ids.index[empty.to_numpy()][0]
        raise TearflowError(f"{path}: line {line}, column {column!r} is empty; expected a protein ID on every row")
    duplicated = ids[ids.duplicated(keep=False)]
    if len(duplicated):
        first = duplicated.iloc[0]
        lines = [str(line) for line in duplicated.index[duplicated == first]]
        raise TearflowError(
            f"{path}: protein ID {first!r} in column {column!r} appears on lines {', '.join(lines)} "
            f"({duplicated.nunique()} duplicated IDs in all); expected one row per protein group"
        )
