"""Rule import_abundance: search-engine tables → one matrix over the sheet's samples (protein ×
sample, or precursor × sample for DPC quantification), removed proteins, import summary.

The work is :func:`tearflow.abundance_import.import_tables`; this adapter reads the gene sources and
the sheet, calls it and writes its four tables (a precursor matrix as Parquet: at 1,000 samples it
is 10⁸ cells).
"""

import logging

from tearflow.abundance_import import PRECURSOR_LEVEL, PROTEIN_LEVEL, import_tables, table_entries
from tearflow.errors import run_step
from tearflow.genes import read_fasta_genes, read_gene_map
from tearflow.samples import read_sample_sheet
from tearflow.tables import write_parquet, write_tsv

log = logging.getLogger("tearflow.import")


def main(snakemake):
    options = snakemake.params.options
    level = PRECURSOR_LEVEL if snakemake.params.precursor_level else PROTEIN_LEVEL
    sheet = read_sample_sheet(snakemake.input.samples)
    fasta = getattr(snakemake.input, "fasta", None)
    gene_map = getattr(snakemake.input, "gene_map", None)
    fasta_map = read_fasta_genes(str(fasta)) if fasta else None
    id_map = read_gene_map(str(gene_map)) if gene_map else None
    table, removed, summary, runs = import_tables(
        table_entries(snakemake.params.tables), sheet, options, fasta_map, id_map, level
    )
    if level == PRECURSOR_LEVEL:
        write_parquet(table, snakemake.output.table)
    else:
        write_tsv(table, snakemake.output.table, full_precision=True)
    write_tsv(removed, snakemake.output.removed)
    write_tsv(summary, snakemake.output.summary)
    write_tsv(runs, snakemake.output.runs)
    log.info("%s level: %d rows x %d samples -> %s", level, len(table), len(runs), snakemake.output.table)


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
