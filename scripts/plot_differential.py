"""Figures of the paired differential analysis: volcano per contrast, heatmap of significant changes.

Plotting only: every number drawn comes from the tables written by ``scripts/differential.py``.
"""

import logging

import numpy as np

from tearflow.columns import FDR, GENE, LOG2FC, PATIENT, PROTEIN, PVALUE, SIGNIFICANT, SUBGROUP
from tearflow.genesets import library_genes, read_gmt, split_genes

log = logging.getLogger("tearflow.plot_differential")


def focus_genes_from_gmt(path):
    """All gene symbols of a GMT file (name<TAB>description<TAB>gene...), upper-cased."""
    return library_genes(read_gmt(path))


def _display_name(row):
    gene = row[GENE]
    return gene if isinstance(gene, str) and gene else row[PROTEIN]


def volcano_labels(table, focus_genes, n_top):
    """Rows to label: the ``n_top`` tested proteins with the smallest p-value, plus tested focus genes."""
    tested = table[table[PVALUE].notna()]
    top = tested.nsmallest(n_top, PVALUE).index if n_top else []
    focus = tested.index[has_focus_gene(tested[GENE], focus_genes)]
    return list(dict.fromkeys(list(top) + list(focus)))


def has_focus_gene(genes, focus_genes):
    """Boolean Series: any gene of the protein's group (``;``-joined) is a focus gene."""
    focus_genes = {gene.upper() for gene in focus_genes}
    return genes.map(lambda value: bool(set(split_genes(value)) & focus_genes)).astype(bool)


def volcano_figure(table, contrast, focus_genes=(), n_labels=10, fdr=0.05, min_abs_log2fc=0.0):
    """Volcano plot: log2 fold change vs −log10 p; significant in red, focus genes ringed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    focus_genes = {g.upper() for g in focus_genes}
    tested = table[table[PVALUE].notna()]
    figure, axes = plt.subplots(figsize=(6.5, 5.5))
    if tested.empty:
        axes.text(
            0.5,
            0.5,
            f"{contrast}: no protein had enough pairs to be tested",
            ha="center",
            va="center",
            transform=axes.transAxes,
        )
        axes.set_axis_off()
        return figure
    y = -np.log10(tested[PVALUE].clip(lower=1e-300))
    significant = tested[SIGNIFICANT].astype(bool)
    axes.scatter(tested.loc[~significant, LOG2FC], y[~significant], s=8, c="0.65", lw=0, label="not significant")
    axes.scatter(
        tested.loc[significant, LOG2FC],
        y[significant],
        s=12,
        c="#c0392b",
        lw=0,
        label=f"FDR < {fdr:g}" + (f", |log2FC| ≥ {min_abs_log2fc:g}" if min_abs_log2fc else ""),
    )
    is_focus = has_focus_gene(tested[GENE], focus_genes)
    if is_focus.any():
        axes.scatter(
            tested.loc[is_focus, LOG2FC],
            y[is_focus],
            s=40,
            facecolors="none",
            edgecolors="#1f4e9c",
            lw=1.1,
            label="Th17/IL-17 focus gene",
        )
    for index in volcano_labels(table, focus_genes, n_labels):
        row = table.loc[index]
        axes.annotate(
            _display_name(row),
            (row[LOG2FC], -np.log10(max(row[PVALUE], 1e-300))),
            xytext=(3, 3),
            textcoords="offset points",
            fontsize=7,
            color="#1f4e9c" if set(split_genes(row[GENE])) & focus_genes else "black",
        )
    axes.axvline(0, color="0.3", lw=0.6)
    if min_abs_log2fc:
        for x in (-min_abs_log2fc, min_abs_log2fc):
            axes.axvline(x, color="0.5", lw=0.6, ls="--")
    axes.set_xlabel("log2 fold change (follow-up − baseline)")
    axes.set_ylabel("−log10 p (moderated t)")
    axes.set_title(f"{contrast}: {int(significant.sum())} of {len(tested)} tested proteins significant")
    axes.legend(loc="upper left", fontsize=7, frameon=False)
    return figure


def significant_proteins(tables, max_proteins):
    """Proteins significant in any contrast table, the ``max_proteins`` with the smallest FDR."""
    best = {}
    for table in tables:
        hits = table[table[SIGNIFICANT].astype(bool)]
        for protein, q in zip(hits[PROTEIN], hits[FDR]):
            best[protein] = min(q, best.get(protein, np.inf))
    ranked = sorted(best, key=lambda p: (best[p], p))
    return ranked[:max_proteins]


MAX_PATIENT_LABELS = 60  # more patients than this: no patient names, fixed figure width


def heatmap_figure(changes, patient_subgroups, proteins, subgroups, title=""):
    """Per-patient changes of ``proteins`` (rows, ordered by mean change), patients grouped by subgroup."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    patients = [p for g in subgroups for p, s in patient_subgroups.items() if s == g and p in changes.columns]
    if not proteins:
        figure, axes = plt.subplots(figsize=(6, 2))
        axes.text(0.5, 0.5, title or "no significant proteins", ha="center", va="center")
        axes.set_axis_off()
        return figure
    rows = changes.set_index(PROTEIN).loc[proteins]
    values = rows[patients].to_numpy(dtype=float)
    order = np.argsort(-np.nan_to_num(np.nanmean(values, axis=1)), kind="stable")
    values = values[order]
    labels = [g if isinstance(g, str) and g else p for p, g in zip(rows.index[order], rows[GENE].iloc[order])]
    limit = np.nanpercentile(np.abs(values), 98) if np.isfinite(values).any() else 1.0
    limit = limit if limit > 0 else 1.0
    height = max(2.5, 0.18 * len(proteins) + 1.5)
    # one labelled column per patient up to MAX_PATIENT_LABELS; a larger cohort keeps a fixed width
    figure, axes = plt.subplots(figsize=(max(5, 0.35 * min(len(patients), MAX_PATIENT_LABELS) + 2.5), height))
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="0.55")
    image = axes.imshow(
        np.ma.masked_invalid(values), aspect="auto", cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest"
    )
    axes.set_yticks(range(len(labels)), labels, fontsize=7)
    if len(patients) <= MAX_PATIENT_LABELS:
        axes.set_xticks(range(len(patients)), patients, rotation=90, fontsize=7)
    else:
        axes.set_xticks([])
        axes.set_xlabel(f"{len(patients)} patients")
    start = 0
    for group in subgroups:
        n = sum(1 for p in patients if patient_subgroups[p] == group)
        if n == 0:
            continue
        axes.text(start + n / 2 - 0.5, -1, group, ha="center", va="bottom", fontsize=8, fontweight="bold")
        if start:
            axes.axvline(start - 0.5, color="black", lw=1.2)
        start += n
    figure.colorbar(image, ax=axes, label="log2 change (week 2 − baseline)", shrink=0.6)
    if title:
        axes.set_title(title, pad=16, fontsize=9)
    return figure


def main(snakemake):
    from tearflow.samples import paired_samples, read_sample_sheet, subgroup_order
    from tearflow.tables import read_tsv, save_figure

    section = snakemake.params.differential
    if snakemake.rule == "plot_volcano":
        table = read_tsv(snakemake.input.table, dtype={PROTEIN: str, GENE: str})
        focus = set()
        if "focus_gmt" in snakemake.input.keys():
            focus = focus_genes_from_gmt(snakemake.input.focus_gmt)
        figure = volcano_figure(
            table,
            snakemake.wildcards.contrast,
            focus,
            section.get("volcano_labels", 10),
            section.get("fdr", 0.05),
            section.get("min_abs_log2fc", 0.0),
        )
        save_figure(figure, snakemake.output[0])
        return
    tables = [read_tsv(path, dtype={PROTEIN: str, GENE: str}) for path in snakemake.input.tables]
    changes = read_tsv(snakemake.input.changes, dtype={PROTEIN: str, GENE: str})
    changes.columns = [str(c) for c in changes.columns]
    sheet = read_sample_sheet(snakemake.input.samples)
    timepoints = snakemake.params.timepoints
    pairs = paired_samples(sheet, timepoints["baseline"], timepoints["followup"])
    proteins = significant_proteins(tables, section.get("heatmap_max_proteins", 50))
    log.info("heatmap of %d significant protein(s)", len(proteins))
    title = (
        f"{len(proteins)} protein(s) significant in any contrast (FDR < {section.get('fdr', 0.05):g})"
        if proteins
        else f"no protein significant in any contrast (FDR < {section.get('fdr', 0.05):g})"
    )
    figure = heatmap_figure(changes, dict(zip(pairs[PATIENT], pairs[SUBGROUP])), proteins, subgroup_order(sheet), title)
    save_figure(figure, snakemake.output[0])


if __name__ == "__main__":
    from tearflow.errors import run_step

    run_step(main, snakemake)  # noqa: F821
