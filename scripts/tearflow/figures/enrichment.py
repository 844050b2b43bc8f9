"""Figures of the enrichment step; they draw tables the other scripts wrote and compute no statistic.

* ``enrichment_dotplot_{contrast}``: one panel per method (ORA of the increased proteins, ORA of the
  decreased ones, GSEA), each with every focus set (★) and the ``plot_top_sets`` other sets with the
  smallest p-value (ties: FDR, then name; ORA: only sets with an overlap), smallest p on top; x = the
  method's statistic (fold enrichment; NES), dot size = overlap (leading edge for GSEA), colour =
  −log10 FDR on one scale shared by the three panels (same statistic, one colour bar). Sets keyed by
  an identifier (``GO:0006954``) are shown by their GMT description (``inflammatory response``).
* ``gsea_focus_{contrast}``: GSEA running sums of the focus sets (one panel per set).
* ``focus_gene_changes``: per-patient follow-up − baseline log2 change of the proteins whose gene
  is in a focus set, patients grouped by subgroup (names in the shared subgroup colours).

The dot plots and the GSEA figures are one job each for all contrasts (``params.contrasts``, in the
order of ``input.tables`` / ``input.curves`` and ``output.figures``).
"""

import logging
import math
import re
import textwrap

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
    "ora_up": "ORA of the increased proteins",
    "ora_down": "ORA of the decreased proteins",
    "gsea": "GSEA on the moderated t",
}
METHOD_AXES = {"ora_up": "fold enrichment", "ora_down": "fold enrichment", "gsea": "NES"}
DESCRIPTION = "description"  # tearflow.enrichment.DESCRIPTION (figures do not import the computation)
LABEL_WIDTH = 58  # characters per line of a set's name; two lines at most
SHOWN_FDR = 0.05  # panel titles count the sets below this FDR (a display note, not a selection)

# a set name that is an identifier: GO:0006954, R-HSA-448424, WP4754, hsa04657, HP:0001234
IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[:_-][A-Za-z0-9]+)*[:_-]?[0-9]{3,}")


def _short(text, width=55):
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def set_label(name, description=None):
    """The name a figure shows for a gene set: for a set keyed by an identifier (``GO:0006954``)
    with a description (the GMT's column 2), ``inflammatory response (GO:0006954)``; otherwise
    the set's name."""
    name = str(name)
    if (
        IDENTIFIER.fullmatch(name)
        and isinstance(description, str)
        and description.strip()
        and description.strip().upper() != "NA"
        and not description.startswith(("http://", "https://"))
    ):
        return f"{description.strip()} ({name})"
    return name


def wrapped(text, width=LABEL_WIDTH, lines=2):
    """``text`` on at most ``lines`` lines of ``width`` characters (the last one cut with …)."""
    parts = textwrap.wrap(str(text), width) or [""]
    if len(parts) > lines:
        parts = parts[: lines - 1] + [_short(" ".join(parts[lines - 1 :]), width)]
    return "\n".join(parts)


def dotplot_rows(table, method, top):
    """Rows drawn for one method: the focus sets, then the ``top`` other tested sets with the smallest
    p-value (ties by FDR, then name; ORA: only sets with an overlap), smallest p first."""
    rows = table[table[METHOD] == method]
    tested = rows[~rows["focus"] & rows[PVALUE].notna()]
    if method != "gsea":
        tested = tested[tested["overlap"] > 0]  # sets without overlap (p = 1) are not drawn
    tested = tested.sort_values([PVALUE, FDR, GENE_SET], kind="mergesort").head(top)
    focus = rows[rows["focus"]]
    return pd.concat([focus, tested], ignore_index=True)


def _panel_note(table, method, shown):
    rows = table[(table[METHOD] == method) & ~table["focus"] & table[PVALUE].notna()]
    if rows.empty:
        return "no library set testable" + (" (no protein selected in this direction)" if method != "gsea" else "")
    significant = int((rows[FDR] < SHOWN_FDR).sum())
    return f"{shown} of {len(rows):,} tested sets with the smallest p ({significant:,} with FDR < {SHOWN_FDR:g})"


def dotplot_figure(table, title, top):
    """The enrichment dot plot of one contrast (``title`` names it), one panel per method stacked
    vertically so long set names get the figure's width; one shared −log10 FDR colour scale."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D

    table = table.copy()
    table["focus"] = table["focus"].astype(str).str.lower().isin(["true", "1"])
    if DESCRIPTION not in table.columns:
        table[DESCRIPTION] = None
    panels = {method: dotplot_rows(table, method, top) for method in METHOD_TITLES}
    drawn = pd.concat(list(panels.values()), ignore_index=True)
    strength = -np.log10(drawn[FDR].astype(float).clip(lower=1e-300))
    norm = Normalize(vmin=0.0, vmax=max(2.0, float(np.nanmax(strength)) if strength.notna().any() else 2.0))
    heights = [max(len(rows), 1) * 0.3 + 0.9 for rows in panels.values()]
    figure, axes = plt.subplots(
        len(panels), 1, figsize=(11, sum(heights) + 1.6), layout="constrained", height_ratios=heights
    )
    scatter = None
    max_overlap = max(1.0, float(np.nanmax(drawn["overlap"].astype(float))) if len(drawn) else 1.0)
    for axis, (method, rows) in zip(axes, panels.items()):
        shown = int((~rows["focus"]).sum())
        axis.set_title(
            f"{METHOD_TITLES[method]}: {_panel_note(table, method, shown)}", fontsize=10, loc="left"
        )
        if rows.empty:
            axis.text(0.5, 0.5, "no set tested", ha="center", va="center", transform=axis.transAxes)
            axis.set_yticks([])
            continue
        labels = [
            wrapped(("★ " if focus else "") + set_label(name, description))
            for name, focus, description in zip(rows[GENE_SET], rows["focus"], rows[DESCRIPTION])
        ]
        y = np.arange(len(rows))[::-1]
        colour = -np.log10(rows[FDR].astype(float).clip(lower=1e-300))
        x = rows[STATISTIC].astype(float)
        size = 20 + 160 * rows["overlap"].astype(float) / max_overlap
        scatter = axis.scatter(
            x, y, s=size, c=colour, cmap="viridis", norm=norm, edgecolors="black", linewidths=0.4
        )
        untested = rows[STATISTIC].isna().to_numpy()
        if untested.any():
            axis.scatter(np.zeros(untested.sum()), y[untested], marker="x", color="grey", s=25)
        axis.set_yticks(y)
        axis.set_yticklabels(labels, fontsize=8)
        axis.set_ylim(-0.7, len(rows) - 0.3)
        axis.axvline(1.0 if method != "gsea" else 0.0, color="grey", lw=0.6, ls="--")
        axis.set_xlabel(METHOD_AXES[method], fontsize=9)
        axis.grid(axis="x", lw=0.3)
    if scatter is not None:
        bar = figure.colorbar(
            scatter, ax=axes, location="top", shrink=0.5, aspect=40, pad=0.01, anchor=(0.0, 0.0), panchor=(0.0, 1.0)
        )
        bar.set_label(
            "−log10 FDR, one scale for the three panels (BH within method and library; focus sets among themselves)",
            fontsize=8,
        )
        bar.ax.tick_params(labelsize=8)
        bar.ax.axvline(-np.log10(SHOWN_FDR), color="red", lw=1.2)
    sizes = sorted({1, int(round(max_overlap / 2)), int(max_overlap)})
    handles = [
        Line2D([], [], ls="", marker="o", markersize=math.sqrt(20 + 160 * n / max_overlap), markerfacecolor="white",
               markeredgecolor="black", label=str(n))
        for n in sizes
    ]  # fmt: skip
    figure.legend(
        handles=handles, title="dot size: overlap (ORA) / leading edge (GSEA)", loc="outside upper right",
        ncol=len(handles), fontsize=8, title_fontsize=8, frameon=False,
    )  # fmt: skip
    figure.suptitle(title, fontsize=12)
    figure.supxlabel(
        f"Per panel: ★ focus sets (always shown), then the {top} other sets with the smallest p-value "
        "(ORA: sets with an overlap), smallest p on top; × = untestable. Red line on the colour bar: "
        f"FDR {SHOWN_FDR:g}.",
        fontsize=8,
    )
    return figure


def gsea_focus_figure(curves, table, title):
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
    figure.suptitle(f"{title}: GSEA of the Th17 / IL-17 focus sets", fontsize=11)
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
