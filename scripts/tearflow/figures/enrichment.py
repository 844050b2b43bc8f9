"""Figures of the enrichment step; they draw tables the other scripts wrote and compute no statistic.

* ``enrichment_dotplot_{contrast}.png``: per method (ORA up, ORA down, GSEA) the sets with the
  smallest p-values plus every focus set; x = statistic (fold enrichment / NES), dot size = overlap
  (leading edge for GSEA), colour = -log10 FDR.
* ``gsea_focus_{contrast}.png``: GSEA running sums of the focus sets (one panel per set).
* ``focus_gene_changes.png``: per-patient follow-up − baseline log2 change of the proteins whose gene
  is in a focus set, patients grouped by subgroup (names in the shared subgroup colours).

The dot plots and the GSEA figures are one job each for all contrasts (``params.contrasts``, in the
order of ``input.tables`` / ``input.curves`` and ``output.figures``).
"""

import logging
import math

import numpy as np
import pandas as pd

from tearflow.columns import (
    FDR,
    GENE,
    GENE_SET,
    METHOD,
    PROTEIN,
    PVALUE,
    STATISTIC,
)
from tearflow.figures.palette import subgroup_colours

log = logging.getLogger(__name__)

METHOD_TITLES = {
    "ora_up": "ORA, up (fold enrichment)",
    "ora_down": "ORA, down (fold enrichment)",
    "gsea": "GSEA (NES)",
}


def _short(text, width=55):
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def dotplot_rows(table, method, top):
    """Rows drawn for one method: the focus sets, then the ``top`` tested sets by p-value (ORA:
    only sets with an overlap)."""
    rows = table[table[METHOD] == method]
    tested = rows[~rows["focus"] & rows[PVALUE].notna()]
    if method != "gsea":
        tested = tested[tested["overlap"] > 0]  # sets without overlap (p = 1) are not drawn
    tested = tested.sort_values([PVALUE, GENE_SET]).head(top)
    focus = rows[rows["focus"]]
    return pd.concat([focus, tested], ignore_index=True)


def dotplot_figure(table, contrast, top):
    import matplotlib.pyplot as plt

    table = table.copy()
    table["focus"] = table["focus"].astype(str).str.lower().isin(["true", "1"])
    panels = [dotplot_rows(table, method, top) for method in METHOD_TITLES]
    height = max(4.0, 0.3 * max(len(p) for p in panels) + 1.8)
    # constrained layout reserves each panel's y-labels, so no label runs into the previous panel
    figure, axes = plt.subplots(1, 3, figsize=(22, height), layout="constrained")
    figure.get_layout_engine().set(wspace=0.04)
    scatter = None
    for axis, (method, title), rows in zip(axes, METHOD_TITLES.items(), panels):
        axis.set_title(f"{contrast}: {title}", fontsize=11)
        if rows.empty:
            axis.text(0.5, 0.5, "no set tested", ha="center", va="center", transform=axis.transAxes)
            axis.set_yticks([])
            continue
        labels = [("★ " if focus else "") + _short(name, 48) for name, focus in zip(rows[GENE_SET], rows["focus"])]
        y = np.arange(len(rows))[::-1]
        colour = -np.log10(rows[FDR].astype(float).clip(lower=1e-300))
        x = rows[STATISTIC].astype(float)
        size = 20 + 12 * rows["overlap"].astype(float)
        scatter = axis.scatter(
            x,
            y,
            s=size,
            c=colour,
            cmap="viridis",
            vmin=0,
            vmax=max(2.0, float(np.nanmax(colour.to_numpy())) if colour.notna().any() else 2.0),
            edgecolors="black",
            linewidths=0.4,
        )
        untested = rows[STATISTIC].isna().to_numpy()
        if untested.any():
            axis.scatter(np.zeros(untested.sum()), y[untested], marker="x", color="grey", s=25)
        axis.set_yticks(y)
        axis.set_yticklabels(labels, fontsize=8)
        axis.axvline(1.0 if method != "gsea" else 0.0, color="grey", lw=0.6, ls="--")
        axis.set_xlabel("NES" if method == "gsea" else "fold enrichment", fontsize=10)
        axis.grid(axis="x", lw=0.3)
    if scatter is not None:
        bar = figure.colorbar(scatter, ax=axes, shrink=0.6, pad=0.01)
        bar.set_label("-log10 FDR")
    figure.supxlabel(
        "★ = Th17/IL-17 focus set (always shown); x = untestable; dot size = overlap / leading edge",
        fontsize=9,
    )
    return figure


def gsea_focus_figure(curves, table, contrast):
    import matplotlib.pyplot as plt

    focus = table[table["focus"].astype(str).str.lower().isin(["true", "1"]) & (table[METHOD] == "gsea")]
    names = list(focus[GENE_SET])
    columns = 3
    rows = max(1, math.ceil(len(names) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.4 * rows), squeeze=False)
    for axis in axes.flat[len(names) :]:
        axis.axis("off")
    for axis, name in zip(axes.flat, names):
        stats = focus[focus[GENE_SET] == name].iloc[0]
        curve = curves[curves[GENE_SET] == name]
        axis.set_title(_short(name, 45), fontsize=9)
        if curve.empty:
            axis.text(
                0.5,
                0.5,
                f"not testable\n({int(stats['set_size'])} genes in the ranking)",
                ha="center",
                va="center",
                transform=axis.transAxes,
                fontsize=8,
            )
            axis.set_xticks([])
            axis.set_yticks([])
            continue
        position = curve["position"].to_numpy()
        axis.plot(position, curve["running_es"].to_numpy(), color="tab:green", lw=1.2)
        axis.axhline(0, color="grey", lw=0.6)
        hits = position[curve["hit"].astype(str).str.lower().isin(["true", "1"]).to_numpy()]
        low = float(np.nanmin(curve["running_es"].to_numpy()))
        high = float(np.nanmax(curve["running_es"].to_numpy()))
        span = max(high - low, 0.1)
        axis.vlines(hits, low - 0.25 * span, low - 0.1 * span, color="black", lw=0.6)
        axis.set_ylim(low - 0.3 * span, high + 0.1 * span)
        axis.set_xlim(0, len(curve))
        axis.set_xlabel("rank (moderated t, high → low)", fontsize=8)
        axis.set_ylabel("running enrichment score", fontsize=8)
        axis.text(
            0.98,
            0.95,
            f"NES {stats[STATISTIC]:.2f}\np {stats[PVALUE]:.2g}, FDR {stats[FDR]:.2g}\n{int(stats['set_size'])} genes",
            ha="right",
            va="top",
            transform=axis.transAxes,
            fontsize=7,
        )
    figure.suptitle(f"{contrast}: GSEA of the Th17 / IL-17 focus sets", fontsize=11)
    figure.tight_layout()
    return figure


def focus_gene_matrix(changes, gene_sets, patient_subgroups):
    """Rows of ``patient_changes`` whose gene is in a focus set; columns patients by subgroup."""
    from tearflow.genesets import set_membership

    membership = set_membership(changes[GENE].tolist(), gene_sets)
    keep = membership.any(axis=1).to_numpy()
    patients = [p for p in patient_subgroups.index if p in changes.columns]
    matrix = changes.loc[keep, patients].apply(pd.to_numeric, errors="coerce")
    labels = changes.loc[keep, GENE].fillna(changes.loc[keep, PROTEIN]).astype(str)
    counts = membership.loc[keep].sum(axis=1).to_numpy()
    matrix.index = [f"{_short(label, 25)} ({count})" for label, count in zip(labels, counts)]
    order = np.argsort(matrix.index.to_numpy(), kind="mergesort")
    return matrix.iloc[order]


MAX_PATIENT_LABELS = 60  # more patients than this: no patient names, fixed figure width


def focus_gene_figure(matrix, patient_subgroups, subgroups=None):
    """Heatmap of ``focus_gene_matrix``; subgroup names coloured by the shared palette, over
    ``subgroups`` (sample-sheet order; default: as the patients come)."""
    import matplotlib.pyplot as plt

    height = max(3.0, 0.18 * len(matrix) + 2)
    # one labelled column per patient up to MAX_PATIENT_LABELS; a larger cohort keeps a fixed width
    width = 0.45 * min(matrix.shape[1], MAX_PATIENT_LABELS) + 3
    figure, axis = plt.subplots(figsize=(max(6.0, width), height))
    if matrix.empty:
        axis.text(0.5, 0.5, "no protein of a focus set was quantified", ha="center", va="center")
        axis.axis("off")
        return figure
    values = matrix.to_numpy(dtype=float)
    finite = np.abs(values[np.isfinite(values)])
    limit = float(np.quantile(finite, 0.98)) if finite.size else 1.0
    limit = limit if limit > 0 else 1.0
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="lightgrey")
    image = axis.imshow(
        np.ma.masked_invalid(values),
        aspect="auto",
        cmap=cmap,
        vmin=-limit,
        vmax=limit,
        interpolation="nearest",
    )
    axis.set_yticks(range(len(matrix)))
    axis.set_yticklabels(matrix.index, fontsize=6)
    patients = list(matrix.columns)
    if len(patients) <= MAX_PATIENT_LABELS:
        axis.set_xticks(range(len(patients)))
        axis.set_xticklabels(patients, rotation=90, fontsize=7)
    else:
        axis.set_xticks([])
        axis.set_xlabel(f"{len(patients)} patients")
    groups = patient_subgroups.loc[patients].tolist()
    colours = subgroup_colours(list(subgroups or []) + patient_subgroups.tolist())
    start = 0
    for i in range(1, len(groups) + 1):
        if i == len(groups) or groups[i] != groups[start]:
            if i < len(groups):
                axis.axvline(i - 0.5, color="black", lw=1.2)
            group = groups[start]
            axis.text((start + i - 1) / 2, -0.8, group, ha="center", va="bottom", fontsize=9, color=colours[group])
            start = i
    bar = figure.colorbar(image, ax=axis, shrink=0.5)
    bar.set_label("log2 change (follow-up − baseline)")
    axis.set_title(
        "Th17 / IL-17 focus-set proteins: per-patient change\n"
        "(n) = number of focus sets holding the gene; grey = not quantified",
        fontsize=9,
        pad=18,
    )
    return figure
