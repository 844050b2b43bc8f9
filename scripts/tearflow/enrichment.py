"""Gene-set enrichment of each contrast: over-representation (up, down) and pre-ranked GSEA, offline.

Inputs: the differential tables (``results/differential/{contrast}.tsv``), the Th17 / IL-17 focus GMT
and the gene-set libraries (GMT files). Output per contrast: ``results/enrichment/{contrast}.tsv`` with one row
per gene set and method (``ora_up``, ``ora_down``, ``gsea``), and the GSEA running sums of the focus
sets (``results/enrichment/gsea_curves/{contrast}.tsv``) for the figures.

Choices (config section ``enrichment``, documented in config/README.md):

* Genes. The differential table's ``gene`` column is split on ``;`` (protein groups) and
  upper-cased, as are the GMT symbols. A protein without a gene symbol takes no part.
* Background (the ORA universe) = the genes of the proteins **tested in this contrast** (non-NaN
  ``pvalue``), never the whole genome: a tear proteome sees a few hundred to a few thousand
  proteins, and sets are only counted over what could have been seen. Set sizes (``set_size``) are
  the number of a set's genes in that background.
* Up / down. ``ora_selection: significant`` takes the table's ``significant`` column and the sign of
  ``log2fc``; ``ora_selection: thresholds`` takes ``fdr <= ora_max_fdr`` and
  ``|log2fc| >= ora_min_abs_log2fc``. A gene is up if any of its proteins is up (likewise down).
* ORA p-value: gseapy ``enrich`` (hypergeometric upper tail ``P(X >= x)``,
  ``hypergeom.sf(x - 1, N, m, k)`` with N background genes, m set genes in the background and k
  selected genes; verified against scipy in ``tests/test_enrichment.py``). Sets are passed as dicts,
  so gseapy never looks a library name up on the web. gseapy leaves out sets with no selected gene;
  they are put back with ``pvalue = 1``, ``overlap = 0``; a set whose overlap or size gseapy counts
  differently from tearflow stops the step (the background was not applied). A set is untestable (``pvalue`` NaN) when
  none of its genes is in the background or no gene was selected in that direction.
* ORA ``statistic`` = fold enrichment ``(x / k) / (m / N)`` (observed over expected overlap; 0 when
  there is no overlap). It is finite for every testable set, unlike an odds ratio with empty cells.
* GSEA (Subramanian et al. 2005, weighted KS score, weight 1) on the moderated t (``t`` column),
  gene-permutation null seeded by the config ``seed`` (identical numbers on every run).
  ``gsea_engine: tearflow`` (default) computes gseapy's score vectorized in numpy from the hit ranks
  only, one null per set size (:func:`_permutation_gsea`): ~2.5 s per contrast at 2,000 proteins.
  ``gsea_engine: gseapy`` runs gseapy ``prerank`` itself (permutation method, ``threads=1``): 10-14 s
  per contrast at 2,000 proteins, minutes and > 1 GB at 10,000, which alone breaks the benchmark
  targets. Both follow gseapy's NES and nominal-p formulas; NES agree to r > 0.999 and p-values
  differ only by permutation noise (``tests/test_enrichment.py`` compares them). ``gsea_engine:
  auto`` takes gseapy up to ``gsea_auto_max_genes`` ranked genes and the numpy engine above; the log
  says which. One value per gene: the protein with the
  largest ``|t|``. ``statistic`` = NES, ``genes`` = leading edge, ``overlap`` = leading-edge size,
  ``set_size`` = set genes in the ranking. A nominal p of 0 (no permutation as extreme) is reported
  as ``1 / (gsea_permutations + 1)``, the smallest p that many permutations can support.
* Set sizes: library sets with fewer than ``min_set_size`` or more than ``max_set_size`` genes in
  the background are not tested (defaults 5 and 500). Focus sets are always reported.
* ``description`` = the set's GMT description (column 2), after the other columns: the term name of
  a set keyed by an identifier (GO BP: ``GO:0006954`` → ``inflammatory response``), the provenance
  of a focus set, Reactome's R-HSA id; the figures show it in place of a bare identifier.
* ``fdr`` = Benjamini–Hochberg (``tearflow.multiple_testing.bh_adjust``) over the sets tested by one method in
  one library; the focus collection is its own pre-specified family. gseapy's own FDR q-values are
  not used, so ORA and GSEA are adjusted the same way.
"""

import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd

from tearflow.columns import (
    FDR,
    GENE,
    GENE_SET,
    GENES,
    LOG2FC,
    METHOD,
    PROTEIN,
    PVALUE,
    SIGNIFICANT,
    SOURCE,
    STATISTIC,
    T_STAT,
)
from tearflow.errors import TearflowError
from tearflow.genesets import read_gmt, split_genes

log = logging.getLogger(__name__)

SET_SIZE = "set_size"
OVERLAP = "overlap"
FOCUS = "focus"
DESCRIPTION = "description"  # the set's GMT description (column 2): a GO term's name, a provenance, …
LIBRARY = "library"  # internal: the family a set is BH-adjusted in
RESULT_COLUMNS = [GENE_SET, SOURCE, METHOD, STATISTIC, PVALUE, FDR, GENES, SET_SIZE, OVERLAP, FOCUS, DESCRIPTION]

ORA_UP = "ora_up"
ORA_DOWN = "ora_down"
GSEA = "gsea"
METHODS = (ORA_UP, ORA_DOWN, GSEA)
FOCUS_LIBRARY = "focus"

# curves of the focus sets (results/enrichment/gsea_curves/{contrast}.tsv)
POSITION = "position"
RUNNING_ES = "running_es"
HIT = "hit"
CURVE_COLUMNS = [GENE_SET, POSITION, GENE, T_STAT, RUNNING_ES, HIT]


# --------------------------------------------------------------------------------------------
# gene sets (GMT files and gene cells are read by tearflow.genesets)


def gene_long(table):
    """One row per (table row, gene): the row index in ``row`` and the symbol in ``gene``."""
    genes = table[GENE].map(split_genes)
    long = pd.DataFrame({"row": genes.index, GENE: genes.values}).explode(GENE)
    return long.dropna(subset=[GENE])


# --------------------------------------------------------------------------------------------
# background, directions, ranking


def _as_bool(values, column, source):
    if values.dtype == bool:
        return values
    mapped = (
        values.astype(str)
        .str.strip()
        .str.lower()
        .map(
            {
                "true": True,
                "false": False,
                "1": True,
                "0": False,
                "yes": True,
                "no": False,
                "nan": False,
                "na": False,
                "": False,
            }
        )
    )
    if mapped.isna().any():
        bad = values[mapped.isna()].iloc[0]
        raise TearflowError(f"{source}: column '{column}' has value {bad!r}; expected true/false")
    return mapped.astype(bool)


def _require(table, columns, source):
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise TearflowError(f"{source}: missing column(s) {', '.join(missing)}; found {', '.join(table.columns)}")


def background_genes(table):
    """The ORA background: genes of the proteins tested in the contrast (non-NaN ``pvalue``)."""
    tested = table[pd.to_numeric(table[PVALUE], errors="coerce").notna()]
    return set(gene_long(tested)[GENE])


def direction_calls(table, settings, source="differential table"):
    """Per row: ``"up"``, ``"down"`` or ``""`` (not selected), by the configured selection rule."""
    pvalue = pd.to_numeric(table[PVALUE], errors="coerce")
    log2fc = pd.to_numeric(table[LOG2FC], errors="coerce")
    rule = settings["ora_selection"]
    if rule == "significant":
        _require(table, [SIGNIFICANT], source)
        selected = _as_bool(table[SIGNIFICANT], SIGNIFICANT, source)
    elif rule == "thresholds":
        _require(table, [FDR], source)
        fdr = pd.to_numeric(table[FDR], errors="coerce")
        selected = (fdr <= settings["ora_max_fdr"]) & (log2fc.abs() >= settings["ora_min_abs_log2fc"])
    else:
        raise TearflowError(f"config key 'enrichment.ora_selection': {rule!r}; expected significant or thresholds")
    selected = selected & pvalue.notna() & log2fc.notna()
    calls = pd.Series("", index=table.index)
    calls[selected & (log2fc > 0)] = "up"
    calls[selected & (log2fc < 0)] = "down"
    return calls


def direction_genes(table, calls, direction):
    """Genes with at least one protein called ``direction``."""
    return set(gene_long(table[calls == direction])[GENE])


def gene_ranking(table):
    """Gene-level moderated t for GSEA, sorted descending (ties by gene name, deterministic).

    A gene measured by several proteins takes the protein with the largest ``|t|``.
    """
    t = pd.to_numeric(table[T_STAT], errors="coerce")
    pvalue = pd.to_numeric(table[PVALUE], errors="coerce")
    usable = table[t.notna() & pvalue.notna()]
    long = gene_long(usable)
    long[T_STAT] = t.loc[long["row"]].to_numpy()
    long["abs_t"] = long[T_STAT].abs()
    long = long.sort_values(["abs_t", GENE], ascending=[False, True], kind="mergesort")
    best = long.drop_duplicates(GENE, keep="first")
    best = best.sort_values([T_STAT, GENE], ascending=[False, True], kind="mergesort")
    return pd.Series(best[T_STAT].to_numpy(), index=best[GENE].to_numpy(), name=T_STAT)


def sets_to_test(library, universe, min_size, max_size):
    """{set: genes in the universe} for the sets tested; focus sets are all kept (maybe empty)."""
    chosen = {}
    for name, genes in library.sets.items():
        inside = [gene for gene in genes if gene in universe]
        if library.focus or min_size <= len(inside) <= max_size:
            chosen[name] = inside
    return chosen


# --------------------------------------------------------------------------------------------
# over-representation


def ora(query, background, gene_sets):
    """Hypergeometric over-representation of ``query`` in each set, against ``background``.

    ``gene_sets``: {name: genes}; a set's genes outside the background are ignored. Returns one row
    per set (all of them, in the given order): gene_set, statistic (fold enrichment), pvalue,
    genes (overlap, sorted, ``;``-joined), set_size (m), overlap (x). p-values come from gseapy
    ``enrich`` (offline: the sets are a dict); rows gseapy leaves out (x = 0) get p = 1. Untestable
    sets (m = 0, or k = 0 selected genes) get NaN statistic and p-value.
    """
    background = set(background)
    query = set(query) & background
    n_background, k = len(background), len(query)
    names = list(gene_sets)
    members = [set(gene_sets[name]) & background for name in names]
    m = np.array([len(genes) for genes in members], dtype=float)
    hits = [sorted(genes & query) for genes in members]
    x = np.array([len(genes) for genes in hits], dtype=float)
    testable = (m > 0) & (k > 0)
    pvalue = np.where(testable, 1.0, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        fold = np.where(testable, (x / k) / (m / n_background), np.nan)
    if k > 0 and (x > 0).any():
        pvalue = _gseapy_ora_pvalues(query, background, names, members, x, pvalue)
    return pd.DataFrame(
        {
            GENE_SET: names,
            STATISTIC: fold,
            PVALUE: pvalue,
            GENES: [";".join(genes) for genes in hits],
            SET_SIZE: m.astype(int),
            OVERLAP: x.astype(int),
        }
    )


def _gseapy_ora_pvalues(query, background, names, members, overlap, pvalue):
    import gseapy

    with_hits = {name: sorted(genes) for name, genes, x in zip(names, members, overlap) if x > 0}
    result = gseapy.enrich(
        gene_list=sorted(query),
        gene_sets=with_hits,
        background=sorted(background),
        outdir=None,
        no_plot=True,
        verbose=False,
    ).res2d
    # plain dicts: a pandas lookup per set cost ~0.25 s per contrast with the propagated GO sets
    counted = dict(zip(result["Term"], result["Overlap"].astype(str)))
    pvalues = dict(zip(result["Term"], result["P-value"].astype(float)))
    pvalue = pvalue.copy()
    for i, (name, x) in enumerate(zip(names, overlap)):
        if x == 0:
            continue
        if name not in counted:
            raise RuntimeError(f"gseapy enrich returned no row for set {name!r} with overlap {x}")
        gseapy_x, gseapy_m = (int(part) for part in counted[name].split("/"))
        if gseapy_x != x or gseapy_m != len(members[i]):
            raise RuntimeError(
                f"gseapy enrich counted {gseapy_x}/{gseapy_m} for {name!r}, tearflow "
                f"{int(x)}/{len(members[i])}: the background was not applied as expected"
            )
        pvalue[i] = pvalues[name]
    return pvalue


# --------------------------------------------------------------------------------------------
# GSEA


GSEA_ENGINES = ("tearflow", "gseapy")


def chosen_gsea_engine(settings, n_ranked):
    """The GSEA engine for a ranking of ``n_ranked`` genes: the configured one, or for ``auto``
    gseapy up to ``gsea_auto_max_genes`` genes and the vectorized engine above."""
    engine = settings["gsea_engine"]
    if engine == "auto":
        engine = "gseapy" if n_ranked <= int(settings["gsea_auto_max_genes"]) else "tearflow"
        log.info("GSEA engine auto: %s for %d ranked genes", engine, n_ranked)
    return engine


def enrichment_scores(positions, weights, n_genes):
    """Weighted Kolmogorov–Smirnov enrichment scores (Subramanian et al. 2005, PNAS 102:15545;
    weight p = 1 as given in ``weights`` = |t|) of gene sets at the given ranks.

    ``positions``: (sets or permutations) × k sorted 0-based ranks of a set's k genes in a ranking of
    ``n_genes``. The running sum steps up by w / sum(w) at a hit and down by 1 / (n − k) at a miss;
    its extremes lie just after (maximum) or just before (minimum) a hit, so the score is found from
    the k hits alone: O(k) per row instead of O(n). Returns (es, peak): es = the maximum deviation
    if it is larger in size than the minimum, else the minimum (gseapy's rule); peak = the index
    (0..k-1) of the hit at the maximum (es ≥ 0) or of the first hit after the minimum (es < 0).
    """
    positions = np.asarray(positions)
    k = positions.shape[1]
    w = weights[positions]
    with np.errstate(invalid="ignore", divide="ignore"):
        cumulative = np.cumsum(w, axis=1) / w.sum(axis=1, keepdims=True)
    misses = (positions - np.arange(k)) / float(n_genes - k)  # misses before hit m, scaled
    after = cumulative - misses
    before = cumulative - w / w.sum(axis=1, keepdims=True) - misses
    top, bottom = after.argmax(axis=1), before.argmin(axis=1)
    rows = np.arange(len(positions))
    high, low = after[rows, top], before[rows, bottom]
    positive = np.abs(high) > np.abs(low)
    return np.where(positive, high, low), np.where(positive, top, bottom)


def _permutation_gsea(ranking, gene_sets, permutations, seed, want_curves=()):
    """Pre-ranked GSEA with a gene-permutation null, vectorized (the ``tearflow`` engine).

    The null of a set of size k is the enrichment score of k genes drawn at random from the ranking,
    ``permutations`` times: the first k entries of ``permutations`` random orders of the ranking
    (numpy generator seeded with ``seed``), shared by all sets — as gseapy ``prerank``'s gene-label
    permutation, whose null also depends on a set's size only. NES and nominal p follow gseapy
    (algorithm.normalize, gsea_pval): NES = ES / mean of the null scores of the same sign;
    p = share of same-signed null scores at least as extreme. Returns {set: {nes, pval, lead_genes,
    hits, RES}} (RES only for ``want_curves``).
    """
    values = ranking.to_numpy(dtype=float)
    n_genes = len(values)
    weights = np.abs(values)
    where = {gene: i for i, gene in enumerate(ranking.index)}
    genes = ranking.index.to_numpy()
    sizes = sorted({len(members) for members in gene_sets.values()})
    rng = np.random.default_rng(int(seed))
    orders = rng.permuted(np.broadcast_to(np.arange(n_genes, dtype=np.int32), (int(permutations), n_genes)), axis=1)
    orders = np.ascontiguousarray(orders[:, : sizes[-1]])
    nulls = {k: enrichment_scores(np.sort(orders[:, :k], axis=1), weights, n_genes)[0] for k in sizes}
    del orders
    results = {}
    for name, members in gene_sets.items():
        hits = np.sort(np.fromiter((where[gene] for gene in members), dtype=np.int64, count=len(members)))
        es, peak = enrichment_scores(hits[None, :], weights, n_genes)
        es, peak = float(es[0]), int(peak[0])
        null = nulls[len(hits)]
        with np.errstate(invalid="ignore", divide="ignore"):
            if es >= 0:
                same = null[null >= 0]
                nes = es / same.mean() if len(same) else np.nan
                pval = (null >= es).sum() / len(same) if len(same) else np.nan
                lead = hits[: peak + 1]
            else:
                same = null[null < 0]
                nes = -es / same.mean() if len(same) else np.nan
                pval = (null < es).sum() / len(same) if len(same) else np.nan
                lead = hits[peak:]
        found = {"nes": nes, "pval": pval, "lead_genes": ";".join(genes[lead]), "hits": hits}
        if name in want_curves:
            hit = np.zeros(n_genes, dtype=bool)
            hit[hits] = True
            step = np.where(hit, weights / weights[hits].sum(), -1.0 / (n_genes - len(hits)))
            found["RES"] = np.cumsum(step)
        results[name] = found
    return results


def gsea(ranking, gene_sets, permutations, seed, want_curves=(), engine="tearflow"):
    """Pre-ranked GSEA on the moderated t, permutation null, seeded.

    ``engine``: ``tearflow`` (:func:`_permutation_gsea`, vectorized numpy) or ``gseapy``
    (gseapy ``prerank``, permutation method, one thread). ``ranking``: Series gene → t, sorted
    descending. ``gene_sets``: {name: genes in the ranking}.
    Returns (rows, curves): rows per set (all given sets; NaN where untestable: no gene in the
    ranking, or every ranked gene in the set), curves a long table of the running sum for the sets
    named in ``want_curves``.
    """
    if engine not in GSEA_ENGINES:
        raise TearflowError(
            f"config key 'enrichment.gsea_engine': {engine!r}; expected one of {', '.join(GSEA_ENGINES)}"
        )
    names = list(gene_sets)
    size = {name: len(gene_sets[name]) for name in names}
    runnable = {name: list(gene_sets[name]) for name in names if 0 < size[name] < len(ranking)}
    results = {}
    ranked = ranking
    if runnable and len(ranking) > 1 and engine == "tearflow":
        results = _permutation_gsea(ranking, runnable, permutations, seed, set(want_curves))
    elif runnable and len(ranking) > 1:
        import gseapy

        pre = gseapy.prerank(
            rnk=ranking,
            gene_sets=runnable,
            min_size=1,
            max_size=len(ranking),
            permutation_num=int(permutations),
            seed=int(seed),
            threads=1,
            ascending=False,
            outdir=None,
            no_plot=True,
            verbose=False,
            method="permutation",
        )
        results = pre.results
        ranked = pre.ranking
    floor = 1.0 / (int(permutations) + 1)
    rows = []
    for name in names:
        found = results.get(name)
        if found is None:
            rows.append((name, np.nan, np.nan, "", size[name], 0))
            continue
        nes = float(found["nes"])
        pvalue = float(found["pval"])
        if not math.isfinite(nes):
            nes = np.nan
        if math.isfinite(pvalue):
            pvalue = max(pvalue, floor)
        lead = [gene for gene in str(found["lead_genes"]).split(";") if gene]
        rows.append((name, nes, pvalue, ";".join(lead), size[name], len(lead)))
    table = pd.DataFrame(rows, columns=[GENE_SET, STATISTIC, PVALUE, GENES, SET_SIZE, OVERLAP])
    curves = []
    for name in want_curves:
        found = results.get(name)
        if found is None:
            continue
        hits = np.zeros(len(ranked), dtype=bool)
        hits[np.asarray(found["hits"], dtype=int)] = True
        curves.append(
            pd.DataFrame(
                {
                    GENE_SET: name,
                    POSITION: np.arange(len(ranked)),
                    GENE: ranked.index.to_numpy(),
                    T_STAT: ranked.to_numpy(),
                    RUNNING_ES: np.asarray(found["RES"], dtype=float),
                    HIT: hits,
                }
            )
        )
    curves = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=CURVE_COLUMNS)
    return table, curves


# --------------------------------------------------------------------------------------------
# one contrast


def add_fdr(table):
    """BH over the sets tested by one method in one library (NaN p-values stay NaN)."""
    from tearflow.multiple_testing import bh_adjust

    fdr = pd.Series(np.nan, index=table.index)
    for _, group in table.groupby([METHOD, LIBRARY], sort=False):
        fdr.loc[group.index] = np.asarray(bh_adjust(group[PVALUE].to_numpy(dtype=float)))
    table[FDR] = fdr
    return table


def contrast_enrichment(table, libraries, settings, seed, source="differential table"):
    """All enrichment rows of one contrast (ORA up, ORA down, GSEA) and the focus-set curves."""
    _require(table, [PROTEIN, GENE, LOG2FC, T_STAT, PVALUE], source)
    background = background_genes(table)
    calls = direction_calls(table, settings, source)
    up, down = direction_genes(table, calls, "up"), direction_genes(table, calls, "down")
    both = up & down
    if both:
        log.info(
            "%d gene(s) have proteins called both up and down: %s",
            len(both),
            ", ".join(sorted(both)),
        )
    ranking = gene_ranking(table)
    log.info(
        "%d genes tested (ORA background), %d up, %d down, %d ranked for GSEA",
        len(background),
        len(up),
        len(down),
        len(ranking),
    )
    min_size, max_size = int(settings["min_set_size"]), int(settings["max_set_size"])
    parts, curves = [], []
    for library in libraries:
        if not set().union(*library.sets.values()) & background:
            log.warning(
                "library %s shares no gene with the %d tested genes: are its identifiers gene "
                "symbols of the same species?",
                library.name,
                len(background),
            )
        ora_sets = sets_to_test(library, background, min_size, max_size)
        gsea_sets = sets_to_test(library, set(ranking.index), min_size, max_size)
        log.info(
            "library %s: %d sets tested by ORA, %d by GSEA",
            library.name,
            len(ora_sets),
            len(gsea_sets),
        )
        for method, query in ((ORA_UP, up), (ORA_DOWN, down)):
            rows = ora(query, background, ora_sets)
            rows[METHOD] = method
            parts.append(_label(rows, library))
        rows, curve = gsea(
            ranking,
            gsea_sets,
            settings["gsea_permutations"],
            seed,
            want_curves=list(gsea_sets) if library.focus else (),
            engine=chosen_gsea_engine(settings, len(ranking)),
        )
        rows[METHOD] = GSEA
        parts.append(_label(rows, library))
        curves.append(curve)
    result = pd.concat(parts, ignore_index=True)
    result = add_fdr(result)
    result[METHOD] = pd.Categorical(result[METHOD], categories=list(METHODS), ordered=True)
    result = result.sort_values(
        [FOCUS, METHOD, PVALUE, GENE_SET],
        ascending=[False, True, True, True],
        kind="mergesort",
        na_position="last",
    )
    result[METHOD] = result[METHOD].astype(str)
    curves = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=CURVE_COLUMNS)
    return result[RESULT_COLUMNS].reset_index(drop=True), curves


def _label(rows, library):
    """Library rows: source = the library name; focus rows: the set's provenance (GMT description).
    ``description`` = the GMT description of every set (missing when the file gives none)."""
    if library.focus:
        rows[SOURCE] = [library.descriptions.get(name) or library.name for name in rows[GENE_SET]]
    else:
        rows[SOURCE] = library.name
    rows[DESCRIPTION] = [library.descriptions.get(name) or None for name in rows[GENE_SET]]
    rows[FOCUS] = bool(library.focus)
    rows[LIBRARY] = library.name
    return rows


def load_libraries(focus_path, library_paths, library_names):
    """The focus collection first, then every library (name from the config or the file stem)."""
    libraries = [read_gmt(focus_path, FOCUS_LIBRARY, focus=True)]
    names = list(library_names) if library_names else [Path(p).stem for p in library_paths]
    seen = {FOCUS_LIBRARY}
    for path, name in zip(library_paths, names):
        if name in seen:
            raise TearflowError(
                f"config key 'enrichment': gene-set library name '{name}' is used twice "
                f"(file {path}); expected unique library names / file stems"
            )
        seen.add(name)
        libraries.append(read_gmt(path, name))
    return libraries
