"""Rule join_results: ELISA beside the same gene's protein and the focus sets, per analyte and per
patient, and Spearman correlations of the per-patient changes (:mod:`tearflow.joins`)."""

import logging

import pandas as pd

from tearflow.columns import GENE, GENE_SET, PATIENT, PROTEIN, SUBGROUP
from tearflow.contrasts import CONTRAST_ALL, by_contrast
from tearflow.errors import run_step
from tearflow.joins import (
    ANALYTE,
    elisa_correlations,
    focus_rows,
    joined_analytes,
    joined_patients,
)
from tearflow.samples import paired_samples, read_sample_sheet, subgroup_order
from tearflow.tables import read_tsv, write_tsv

log = logging.getLogger("tearflow.join_results")


def main(snakemake):
    correlation = snakemake.params.correlation
    contrasts = list(snakemake.params.contrasts)
    timepoints = snakemake.params.timepoints
    sheet = read_sample_sheet(snakemake.input.sheet)
    subgroups = subgroup_order(sheet)
    pairs = paired_samples(sheet, timepoints["baseline"], timepoints["followup"])
    text = {PATIENT: str, SUBGROUP: str, GENE: str, PROTEIN: str}
    tests = read_tsv(snakemake.input.tests, dtype=text)
    elisa_changes = read_tsv(snakemake.input.changes, dtype=text)
    differential = {c: read_tsv(p, dtype=text) for c, p in by_contrast(contrasts, snakemake.input.differential).items()}
    enrichment = {
        c: read_tsv(p, dtype={GENE_SET: str}) for c, p in by_contrast(contrasts, snakemake.input.enrichment).items()
    }
    ms_changes = read_tsv(snakemake.input.ms_changes, dtype={PROTEIN: str, GENE: str})
    scores = read_tsv(snakemake.input.scores, dtype={PATIENT: str, SUBGROUP: str, GENE_SET: str})
    focus_sets = sorted({name for table in enrichment.values() for name in focus_rows(table)[GENE_SET]})
    if not focus_sets:
        log.warning("no focus gene set in the enrichment tables: no score columns, no score correlations")
    analyte_genes = dict(tests[[ANALYTE, GENE]].drop_duplicates().itertuples(index=False))
    # patients: the sheet's paired patients plus ELISA-only pairs (patients measured by ELISA at
    # both visits even if the sheet lacks one of their mass-spec samples)
    elisa_only = elisa_changes[~elisa_changes[PATIENT].isin(pairs[PATIENT])][[PATIENT, SUBGROUP]]
    people = pd.concat([pairs[[PATIENT, SUBGROUP]], elisa_only]).drop_duplicates(PATIENT)

    analytes = joined_analytes(tests, differential, enrichment)
    patients = joined_patients(elisa_changes, scores, ms_changes, people, analyte_genes, focus_sets, subgroups)
    seed = snakemake.params.seed
    table = elisa_correlations(
        patients, analyte_genes, differential.get(CONTRAST_ALL), ms_changes, subgroups, correlation, seed
    )
    detected = analytes.drop_duplicates(ANALYTE)
    log.info(
        "%d analytes joined; mass-spec: %s",
        len(detected),
        ", ".join(f"{r[ANALYTE]} ({r['ms_note']})" for _, r in detected.iterrows()),
    )
    log.info("%d correlations over %d patients, %d focus sets", len(table), len(patients), len(focus_sets))
    write_tsv(analytes, snakemake.output.analytes)
    write_tsv(patients, snakemake.output.patients)
    write_tsv(table, snakemake.output.correlations)


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
