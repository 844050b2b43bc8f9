"""Rule plot_differential: a volcano plot per contrast and the clustered heatmap of the significant
proteins' per-patient changes (:mod:`tearflow.figures.differential`), from the differential step's
tables."""

import logging

from tearflow.columns import GENE, PATIENT, PROTEIN, SUBGROUP
from tearflow.contrasts import by_contrast, contrast_axis_label, contrast_title
from tearflow.errors import run_step
from tearflow.figures.differential import (
    focus_genes_from_gmt,
    heatmap_figure,
    significant_proteins,
    volcano_figure,
)
from tearflow.figures.output import save_figure
from tearflow.samples import paired_samples, read_sample_sheet, subgroup_order
from tearflow.tables import read_tsv

log = logging.getLogger("tearflow.plot_differential")


def main(snakemake):
    output_format = snakemake.params.figures
    section = snakemake.params.differential
    timepoints = snakemake.params.timepoints
    sheet = read_sample_sheet(snakemake.input.samples)
    subgroups = subgroup_order(sheet)
    focus = focus_genes_from_gmt(snakemake.input.focus_gmt) if "focus_gmt" in snakemake.input.keys() else set()
    tables = by_contrast(snakemake.params.contrasts, snakemake.input.tables)
    figures = by_contrast(snakemake.params.contrasts, snakemake.output.volcanoes)
    read = {contrast: read_tsv(path, dtype={PROTEIN: str, GENE: str}) for contrast, path in tables.items()}
    for contrast, table in read.items():
        figure = volcano_figure(
            table,
            contrast_title(contrast, subgroups, timepoints),
            contrast_axis_label(contrast, subgroups, timepoints),
            focus,
            section["volcano_labels"],
            section["fdr"],
            section["min_abs_log2fc"],
        )
        save_figure(figure, figures[contrast], output_format)
        log.info("volcano %s: %s", contrast, figures[contrast])

    changes = read_tsv(snakemake.input.changes, dtype={PROTEIN: str, GENE: str})
    changes.columns = [str(c) for c in changes.columns]
    pairs = paired_samples(sheet, timepoints["baseline"], timepoints["followup"])
    proteins = significant_proteins(list(read.values()), section["heatmap_max_proteins"])
    log.info("heatmap of %d significant protein(s)", len(proteins))
    title = (
        f"{len(proteins)} protein(s) significant in any contrast (FDR < {section['fdr']:g})"
        if proteins
        else f"no protein significant in any contrast (FDR < {section['fdr']:g})"
    )
    change = f"{timepoints['followup']} − {timepoints['baseline']}"
    figure = heatmap_figure(changes, dict(zip(pairs[PATIENT], pairs[SUBGROUP])), proteins, subgroups, title, change)
    save_figure(figure, snakemake.output.heatmap, output_format)


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
