"""Rule import_abundance: search-engine tables → results/abundance/raw.tsv, removed proteins, summary.

The work is :func:`tearflow.abundance_import.import_tables`; this adapter reads the gene sources and
the sheet, calls it and writes its four tables.
"""

import logging

from tearflow.abundance_import import import_tables, table_entries
from tearflow.errors import run_step
from tearflow.genes import read_fasta_genes, read_gene_map
from tearflow.samples import read_sample_sheet
from tearflow.tables import write_tsv

log = logging.getLogger("tearflow.import")


def main(snakemake):
    options = snakemake.params.options
    sheet = read_sample_sheet(snakemake.input.samples)
    fasta = getattr(snakemake.input, "fasta", None)
    gene_map = getattr(snakemake.input, "gene_map", None)
    fasta_map = read_fasta_genes(str(fasta)) if fasta else None
    id_map = read_gene_map(str(gene_map)) if gene_map else None
    raw, removed, summary, runs = import_tables(
        table_entries(snakemake.params.tables), sheet, options, fasta_map, id_map
    )
    write_tsv(raw, snakemake.output.raw, full_precision=True)
    write_tsv(removed, snakemake.output.removed)
    write_tsv(summary, snakemake.output.summary)
    write_tsv(runs, snakemake.output.runs)
    log.info("raw abundance: %d proteins x %d samples -> %s", len(raw), raw.shape[1] - 2, snakemake.output.raw)


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
