"""Rule pathway_scores: single-sample scores of the Th17/IL-17 focus sets and each patient's change
(:mod:`tearflow.pathway_scores`)."""

import logging

from tearflow.columns import CHANGE, GENE, GENE_SET, PROTEIN, SUBGROUP
from tearflow.errors import TearflowError, run_step
from tearflow.genesets import read_gmt
from tearflow.pathway_scores import sample_scores, score_changes
from tearflow.samples import paired_samples, read_sample_sheet
from tearflow.tables import read_tsv, write_tsv

log = logging.getLogger("tearflow.pathway_scores")


def main(snakemake):
    min_genes = snakemake.params.enrichment["score_min_genes"]
    timepoints = snakemake.params.timepoints
    sheet = read_sample_sheet(snakemake.input.sheet)
    abundance = read_tsv(snakemake.input.abundance)
    if PROTEIN not in abundance.columns or GENE not in abundance.columns:
        raise TearflowError(f"{snakemake.input.abundance}: expected columns '{PROTEIN}' and '{GENE}' first")
    focus = read_gmt(snakemake.input.focus, "focus", focus=True)
    scores = sample_scores(abundance, sheet, focus.sets, min_genes)
    pairs = paired_samples(sheet, timepoints["baseline"], timepoints["followup"])
    pairs = pairs[pairs["baseline_sample"].isin(abundance.columns) & pairs["followup_sample"].isin(abundance.columns)]
    changes = score_changes(scores, pairs)
    summary = changes.groupby([GENE_SET, SUBGROUP], sort=False)[CHANGE].median()
    for (gene_set, subgroup), value in summary.items():
        log.info("median change %s in %s: %.3f", gene_set, subgroup, value)
    write_tsv(scores, snakemake.output.scores)
    write_tsv(changes, snakemake.output.changes)


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
