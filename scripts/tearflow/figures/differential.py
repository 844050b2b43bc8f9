"""Figures of the paired differential analysis: volcano per contrast, clustered heatmap (seaborn
clustermap) of the significant proteins' per-patient changes.

Rule plot_differential draws the volcano of every contrast and the heatmap in one job: one Python
start-up instead of one per figure.

Plotting only: every number drawn comes from the tables written by ``scripts/differential.py``.
"""

import logging

import numpy as np

from tearflow.columns import FDR, GENE, LOG2FC, PROTEIN, PVALUE, SIGNIFICANT
from tearflow.figures.palette import subgroup_colours
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


LABEL_RADII = (5, 11, 18, 27, 38, 52)  # points: label offsets tried around a point, nearest first
LABEL_ANGLES = (45, -45, 135, -135, 90, -90, 0, 180)


def place_labels(axes, points, texts, colours, fontsize=8):
    """Greedy label placement (no overlaps): each label, in the given order, takes the nearest
    offset around its point (:data:`LABEL_RADII` × :data:`LABEL_ANGLES`) where its box overlaps no
    earlier label and stays inside the axes; far labels get a thin leader line. A label with no free
    spot is left out; no label covers a labelled point. Returns the number of labels drawn. Axis
    limits must be final."""
    figure = axes.figure
    renderer = figure.canvas.get_renderer()
    frame = axes.get_window_extent(renderer)
    from matplotlib.transforms import Bbox

    marker = 5.0  # pixels around each labelled point that no label may cover
    centres = axes.transData.transform(np.asarray(points, dtype=float).reshape(-1, 2))
    taken = [Bbox.from_extents(cx - marker, cy - marker, cx + marker, cy + marker) for cx, cy in centres]
    drawn = 0
    for (x, y), text, colour in zip(points, texts, colours):
        for radius in LABEL_RADII:
            placed = None
            for angle in LABEL_ANGLES:
                dx = radius * np.cos(np.radians(angle))
                dy = radius * np.sin(np.radians(angle))
                label = axes.annotate(
                    text,
                    (x, y),
                    xytext=(dx, dy),
                    textcoords="offset points",
                    fontsize=fontsize,
                    color=colour,
                    ha="left" if dx > 1e-9 else ("right" if dx < -1e-9 else "center"),
                    va="bottom" if dy > 1e-9 else ("top" if dy < -1e-9 else "center"),
                    arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "0.4", "shrinkA": 0, "shrinkB": 2}
                    if radius > LABEL_RADII[1]
                    else None,
                )
                box = label.get_window_extent(renderer).expanded(1.05, 1.15)
                inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
                if inside and not any(box.overlaps(other) for other in taken):
                    placed = box
                    break
                label.remove()
            if placed is not None:
                taken.append(placed)
                drawn += 1
                break
    return drawn


def volcano_figure(table, title, axis_label, focus_genes, n_labels, fdr, min_abs_log2fc):
    """Volcano plot: log2 fold change vs −log10 p; significant in red, focus genes ringed.

    ``title`` names the contrast with what it measures and ``axis_label`` its log2 fold change
    (:func:`tearflow.contrasts.contrast_title`, :func:`~tearflow.contrasts.contrast_axis_label`: the
    interaction's x is the difference of the subgroups' changes, not a follow-up − baseline change).
    The ``n_labels`` proteins with the smallest p and the tested focus genes are named, placed so
    no two names overlap (:func:`place_labels`); the legend sits below the axes.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    focus_genes = {g.upper() for g in focus_genes}
    tested = table[table[PVALUE].notna()]
    figure, axes = plt.subplots(figsize=(7, 6))
    if tested.empty:
        axes.text(
            0.5,
            0.5,
            f"{title}: no protein had enough pairs to be tested",
            ha="center",
            va="center",
            transform=axes.transAxes,
        )
        axes.set_axis_off()
        return figure
    y = -np.log10(tested[PVALUE].clip(lower=1e-300))
    significant = tested[SIGNIFICANT].astype(bool)
    axes.scatter(tested.loc[~significant, LOG2FC], y[~significant], s=9, c="0.65", lw=0, label="not significant")
    axes.scatter(
        tested.loc[significant, LOG2FC],
        y[significant],
        s=14,
        c="#c0392b",
        lw=0,
        label=f"FDR < {fdr:g}" + (f", |log2FC| ≥ {min_abs_log2fc:g}" if min_abs_log2fc else ""),
    )
    is_focus = has_focus_gene(tested[GENE], focus_genes)
    if is_focus.any():
        axes.scatter(
            tested.loc[is_focus, LOG2FC],
            y[is_focus],
            s=42,
            facecolors="none",
            edgecolors="#1f4e9c",
            lw=1.1,
            label="Th17/IL-17 focus gene",
        )
    reach = float(np.nanmax(np.abs(tested[LOG2FC].astype(float)))) if tested[LOG2FC].notna().any() else 1.0
    reach = max(reach, min_abs_log2fc, 0.1) * 1.3
    axes.set_xlim(-reach, reach)
    axes.set_ylim(0, max(float(np.nanmax(y)), 1.0) * 1.12)
    axes.axvline(0, color="0.3", lw=0.6)
    if min_abs_log2fc:
        for x in (-min_abs_log2fc, min_abs_log2fc):
            axes.axvline(x, color="0.5", lw=0.6, ls="--")
    axes.set_xlabel(axis_label, fontsize=11)
    axes.set_ylabel("−log10 p (moderated t)", fontsize=11)
    axes.tick_params(labelsize=10)
    axes.set_title(f"{title}: {int(significant.sum())} of {len(tested)} tested proteins significant", fontsize=12)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=9, frameon=False)
    rows = table.loc[volcano_labels(table, focus_genes, n_labels)]
    rows = rows.assign(_y=-np.log10(rows[PVALUE].astype(float).clip(lower=1e-300))).sort_values("_y", ascending=False)
    points = list(zip(rows[LOG2FC].astype(float), rows["_y"]))
    texts = [_display_name(row) for _, row in rows.iterrows()]
    colours = ["#1f4e9c" if set(split_genes(g)) & focus_genes else "black" for g in rows[GENE]]
    drawn = place_labels(axes, points, texts, colours)
    if drawn < len(texts):
        log.info(
            "volcano %s: %d of %d labels had no free spot and were left out", title, len(texts) - drawn, len(texts)
        )
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
MISSING_CELL = "0.55"  # grey of a patient without a pair for the protein


def clustering_values(values):
    """The matrix the rows are clustered on: ``values`` (proteins × patients) with each missing change
    taken as the protein's mean over its measured patients — for the dendrogram only (seaborn's
    clustermap, through scipy, cannot cluster NaN). A row is thus placed by the changes that were
    measured, not by how many are missing; the missing cells themselves are drawn grey.
    """
    return values.T.fillna(values.mean(axis=1)).T.fillna(0.0)


def significant_clustermap(changes, patient_subgroups, proteins, subgroups, title, change):
    """A seaborn clustermap of the per-patient changes of ``proteins`` (rows clustered: average
    linkage, Euclidean distance on :func:`clustering_values`), patients in columns grouped by subgroup
    (``subgroups``, sheet order; not clustered) under a bar of their
    :func:`tearflow.figures.palette.subgroup_colours`. Missing changes are grey. Returns the
    ``seaborn.matrix.ClusterGrid``, or None when there is no protein.
    """
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd
    import seaborn as sns
    from matplotlib.patches import Patch

    if not proteins:
        return None
    patients = [p for g in subgroups for p, s in patient_subgroups.items() if s == g and p in changes.columns]
    rows = changes.set_index(PROTEIN).loc[proteins]
    labels = [g if isinstance(g, str) and g else p for p, g in zip(rows.index, rows[GENE])]
    values = pd.DataFrame(rows[patients].to_numpy(dtype=float), index=labels, columns=patients)
    finite = np.abs(values.to_numpy()[np.isfinite(values.to_numpy())])
    limit = float(np.percentile(finite, 98)) if finite.size else 1.0
    limit = limit if limit > 0 else 1.0
    colours = subgroup_colours(subgroups)
    bar = pd.Series([colours[patient_subgroups[p]] for p in patients], index=patients, name="subgroup")
    named = len(patients) <= MAX_PATIENT_LABELS
    # one labelled column per patient up to MAX_PATIENT_LABELS; a larger cohort keeps a fixed width
    width = max(5.5, 0.35 * min(len(patients), MAX_PATIENT_LABELS) + 3.5)
    height = max(4.0, 0.2 * len(proteins) + 2.8)
    grid = sns.clustermap(
        clustering_values(values),
        mask=values.isna(),
        row_cluster=len(proteins) > 1,
        col_cluster=False,
        method="average",
        metric="euclidean",
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        col_colors=bar,
        xticklabels=named,
        yticklabels=True,
        figsize=(width, height),
        dendrogram_ratio=(min(0.2, 1.2 / width), min(0.12, 0.5 / height)),
        colors_ratio=min(0.03, 0.2 / height),
        cbar_pos=(0.02, 0.8, 0.025, 0.1),
    )
    grid.ax_cbar.set_title(f"log2 change\n({change})", fontsize=8, loc="left")
    grid.ax_cbar.tick_params(labelsize=7)
    heat = grid.ax_heatmap
    heat.set_facecolor(MISSING_CELL)  # masked (missing) cells show the axes background
    heat.set_ylabel("")
    heat.tick_params(axis="y", labelsize=7)
    if named:
        heat.tick_params(axis="x", labelsize=7)
        heat.set_xlabel("")
    else:
        heat.set_xlabel(f"{len(patients)} patients")
    start = 0
    for group in subgroups:
        n = sum(1 for p in patients if patient_subgroups[p] == group)
        if start and n:
            heat.axvline(start, color="black", lw=1.2)
        start += n
    present = [g for g in subgroups if any(patient_subgroups[p] == g for p in patients)]
    grid.ax_col_dendrogram.legend(
        handles=[Patch(color=colours[g], label=g) for g in present],
        loc="center",
        ncol=max(1, len(present)),
        frameon=False,
        fontsize=8,
        title="subgroup; grey = no pair",
        title_fontsize=8,
    )
    grid.figure.suptitle(title, fontsize=10, y=1.02)
    return grid


def heatmap_figure(changes, patient_subgroups, proteins, subgroups, title, change):
    """The figure of :func:`significant_clustermap`; with no protein, a small figure saying so."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = significant_clustermap(changes, patient_subgroups, proteins, subgroups, title, change)
    if grid is not None:
        return grid.figure
    figure, axes = plt.subplots(figsize=(6, 2))
    axes.text(0.5, 0.5, title or "no significant proteins", ha="center", va="center", wrap=True)
    axes.set_axis_off()
    return figure
