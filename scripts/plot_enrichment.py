"""Rule plot_enrichment: per contrast the enrichment dot plot and the GSEA running sums of the focus
sets, and the per-patient change of the focus-set proteins (:mod:`tearflow.figures.enrichment`).

One job draws every figure: each job costs a Python start with matplotlib (~1 s), more than
drawing a figure.
"""

import logging

import numpy as np

from tearflow.columns import PATIENT, SUBGROUP
from tearflow.contrasts import by_contrast, contrast_title
from tearflow.errors import run_step
from tearflow.figures.enrichment import (
    dotplot_figure,
    focus_gene_figure,
    focus_gene_matrix,
    gsea_focus_figure,
)
from tearflow.figures.output import save_figure
from tearflow.genesets import read_gmt
from tearflow.samples import read_sample_sheet, subgroup_order
from tearflow.tables import read_tsv

log = logging.getLogger("tearflow.plot_enrichment")


def main(snakemake):
    output_format = snakemake.params.figures
    contrasts = snakemake.params.contrasts
    sheet = read_sample_sheet(snakemake.input.sheet)
    order = subgroup_order(sheet)
    tables = {c: read_tsv(path) for c, path in by_contrast(contrasts, snakemake.input.tables).items()}
    curves = by_contrast(contrasts, snakemake.input.curves)
    dotplots = by_contrast(contrasts, snakemake.output.dotplots)
    gsea_figures = by_contrast(contrasts, snakemake.output.gsea_focus)
    top = snakemake.params.enrichment["plot_top_sets"]
    for contrast, table in tables.items():
        title = contrast_title(contrast, order, snakemake.params.timepoints)
        save_figure(dotplot_figure(table, title, top), dotplots[contrast], output_format)
        gsea_figure = gsea_focus_figure(read_tsv(curves[contrast]), table, title)
        save_figure(gsea_figure, gsea_figures[contrast], output_format)
        log.info("enrichment figures %s: %s, %s", contrast, dotplots[contrast], gsea_figures[contrast])

    changes = read_tsv(snakemake.input.changes)
    subgroups = sheet.drop_duplicates(PATIENT).set_index(PATIENT)[SUBGROUP]
    subgroups = subgroups.iloc[np.argsort([order.index(g) for g in subgroups], kind="mergesort")]
    focus = read_gmt(snakemake.input.focus, "focus", focus=True)
    matrix = focus_gene_matrix(changes, focus.sets, subgroups)
    log.info("%d focus-set proteins quantified in patient_changes", len(matrix))
    save_figure(focus_gene_figure(matrix, subgroups, order), snakemake.output.focus_gene_changes, output_format)


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
