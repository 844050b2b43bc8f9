"""Figures of the clinical endpoints: trajectories across visits, and the clinical × tear heatmap.

Nothing here computes a statistic: the medians come from ``results/clinical/summary.tsv``, the
correlations from ``results/clinical/correlations.tsv``.
"""

import logging
import math

import numpy as np

from tearflow.clinical import (
    BETTER,
    ENDPOINT,
    FULL_NAME,
    MEDIAN,
    UNIT,
    VALUE,
    VISIT,
)
from tearflow.columns import FDR, PATIENT, SUBGROUP
from tearflow.contrasts import CONTRAST_ALL
from tearflow.correlation import (
    ELISA_FEATURE,
    FEATURE,
    FEATURE_GENE,
    FEATURE_TYPE,
    GENE_SET_FEATURE,
    PROTEIN_FEATURE,
    RHO,
)
from tearflow.figures.palette import subgroup_colours

log = logging.getLogger(__name__)

FEATURE_TYPE_LABELS = {GENE_SET_FEATURE: "gene-set score", ELISA_FEATURE: "ELISA", PROTEIN_FEATURE: "protein"}
#: heatmap rows by feature type, in this order
FEATURE_TYPES = tuple(FEATURE_TYPE_LABELS)


def trajectory_figure(values, summary, definitions, visits, sheet_subgroups=()):
    """One panel per endpoint: thin lines per patient, thick lines the subgroup medians.

    Colours: :func:`tearflow.figures.palette.subgroup_colours` over ``sheet_subgroups`` (sample-sheet
    order, so they match the other figures) then any subgroup only the clinical table has."""
    import matplotlib.pyplot as plt

    endpoints = [e for e in definitions[ENDPOINT] if e in set(values[ENDPOINT])]
    present = [v for v in visits if v in set(values[VISIT])]
    position = {visit: i for i, visit in enumerate(present)}
    subgroups = [s for s in dict.fromkeys(values[SUBGROUP])]
    colours = subgroup_colours(list(sheet_subgroups) + subgroups)
    ncols = min(4, max(1, len(endpoints)))
    nrows = max(1, math.ceil(len(endpoints) / ncols))
    figure, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.9 * nrows), squeeze=False)
    for ax in axes.flat[len(endpoints) :]:
        ax.set_visible(False)
    for ax, endpoint in zip(axes.flat, endpoints):
        these = values[(values[ENDPOINT] == endpoint) & values[VISIT].isin(present)]
        for (subgroup, _patient), line in these.groupby([SUBGROUP, PATIENT], sort=False):
            line = line.dropna(subset=[VALUE]).sort_values(VISIT, key=lambda v: v.map(position))
            ax.plot(line[VISIT].map(position), line[VALUE], color=colours[subgroup], alpha=0.3,
                    linewidth=0.8)  # fmt: skip
        medians = summary[(summary[ENDPOINT] == endpoint) & summary[SUBGROUP].isin(subgroups)]
        for subgroup, line in medians.groupby(SUBGROUP, sort=False):
            line = line[line[VISIT].isin(present)].dropna(subset=[MEDIAN])
            ax.plot(line[VISIT].map(position), line[MEDIAN], color=colours[subgroup], linewidth=2.4,
                    marker="o", markersize=4, label=f"{subgroup} median")  # fmt: skip
        ax.set_xticks(range(len(present)))
        ax.set_xticklabels(present, rotation=30, ha="right")
        ax.set_title(
            f"{definitions.loc[endpoint, FULL_NAME]}\n({definitions.loc[endpoint, BETTER]} is better)",
            fontsize=9,
        )
        ax.set_ylabel(f"{endpoint} [{definitions.loc[endpoint, UNIT]}]", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="upper center", ncol=len(handles), frameon=False,
                      bbox_to_anchor=(0.5, 1.02))  # fmt: skip
    figure.tight_layout()
    return figure


def feature_label(row):
    """How a tear feature is named on the heatmap: gene symbol for proteins, analyte for ELISA."""
    if row[FEATURE_TYPE] == PROTEIN_FEATURE:
        gene = row[FEATURE_GENE]
        name = gene if isinstance(gene, str) and gene else row[FEATURE]
        return f"{name} (protein)"
    return f"{row[FEATURE]} ({FEATURE_TYPE_LABELS.get(row[FEATURE_TYPE], row[FEATURE_TYPE])})"


def correlation_heatmap(correlations, subgroup=CONTRAST_ALL, fdr=0.05):
    """Spearman rho of tear features (rows) against clinical endpoint × visit (columns) in one
    subgroup; ``*`` marks FDR < ``fdr``, grey cells were not testable."""
    import matplotlib.pyplot as plt

    table = correlations[correlations[SUBGROUP] == subgroup].copy()
    if table.empty:
        figure, ax = plt.subplots(figsize=(6, 2))
        ax.axis("off")
        ax.text(0.5, 0.5, "no correlations to show (no shared patients or features)",
                ha="center", va="center")  # fmt: skip
        return figure
    table["row_label"] = table.apply(feature_label, axis=1)
    table["column_label"] = table[ENDPOINT] + " " + table[VISIT]
    type_rank = {kind: i for i, kind in enumerate(FEATURE_TYPES)}
    rows = (
        table.drop_duplicates("row_label")
        .assign(_rank=lambda t: t[FEATURE_TYPE].map(type_rank).fillna(len(type_rank)))
        .sort_values("_rank", kind="stable")
    )
    row_labels = list(rows["row_label"])
    column_labels = list(dict.fromkeys(table["column_label"]))
    rho = table.pivot_table(index="row_label", columns="column_label", values=RHO, aggfunc="first",
                            dropna=False).reindex(index=row_labels, columns=column_labels)  # fmt: skip
    fdr_values = table.pivot_table(
        index="row_label", columns="column_label", values=FDR, aggfunc="first", dropna=False
    ).reindex(index=row_labels, columns=column_labels)
    width = 3.0 + 0.42 * len(column_labels)
    height = 1.8 + 0.28 * len(row_labels)
    figure, ax = plt.subplots(figsize=(width, height))
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="#dddddd")
    image = ax.imshow(np.ma.masked_invalid(rho.to_numpy(dtype=float)), cmap=cmap, vmin=-1, vmax=1,
                      aspect="auto")  # fmt: skip
    marks = fdr_values.to_numpy(dtype=float) < fdr
    for i, j in zip(*np.nonzero(marks)):
        ax.text(j, i, "*", ha="center", va="center", fontsize=10, color="black")
    ax.set_xticks(range(len(column_labels)))
    ax.set_xticklabels(column_labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(row_labels)))
    ax.set_yticklabels(row_labels, fontsize=8)
    kinds = list(rows[FEATURE_TYPE])
    for i in range(1, len(kinds)):
        if kinds[i] != kinds[i - 1]:
            ax.axhline(i - 0.5, color="black", linewidth=0.8)
    measure = table["clinical_measure"].iloc[0] if "clinical_measure" in table else "change"
    ax.set_title(
        f"Spearman rho: tear change vs clinical {measure} ({subgroup}; * FDR < {fdr:g})",
        fontsize=10,
    )
    colourbar = figure.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    colourbar.set_label("rho", fontsize=8)
    figure.tight_layout()
    return figure
