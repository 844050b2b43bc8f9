"""Rule enrichment: ORA (up, down) and pre-ranked GSEA of every contrast against the shipped GMT
libraries and the Th17/IL-17 focus sets (:func:`tearflow.enrichment.contrast_enrichment`).

One job for every contrast: gseapy (ORA) takes ~1.9 s to import, more than a contrast's whole
enrichment at paper scale, and the libraries are read once.
"""

import logging

from tearflow.columns import FDR, GENE_SET, METHOD, PVALUE, STATISTIC
from tearflow.contrasts import by_contrast
from tearflow.enrichment import FOCUS, OVERLAP, SET_SIZE, contrast_enrichment, load_libraries
from tearflow.errors import run_step
from tearflow.tables import read_tsv, write_tsv

log = logging.getLogger("tearflow.enrichment")


def main(snakemake):
    settings = dict(snakemake.params.enrichment)
    libraries = load_libraries(
        snakemake.input.focus, list(snakemake.input.libraries), list(snakemake.params.library_names)
    )
    contrasts = snakemake.params.contrasts
    inputs = by_contrast(contrasts, snakemake.input.tables)
    tables = by_contrast(contrasts, snakemake.output.tables)
    curves = by_contrast(contrasts, snakemake.output.curves)
    for contrast, table_path in inputs.items():
        result, curve = contrast_enrichment(
            read_tsv(table_path), libraries, settings, snakemake.params.seed, source=table_path
        )
        for _, row in result[result[FOCUS]].iterrows():
            log.info(
                "%s: focus %s %s: statistic %.3g, p %.3g, fdr %.3g, overlap %d/%d",
                contrast,
                row[METHOD],
                row[GENE_SET],
                row[STATISTIC],
                row[PVALUE],
                row[FDR],
                row[OVERLAP],
                row[SET_SIZE],
            )
        write_tsv(result, tables[contrast])
        write_tsv(curve, curves[contrast])


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
