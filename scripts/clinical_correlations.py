"""Rule clinical_correlations: Spearman correlations of each patient's clinical change with their
tear changes (focus-set scores, ELISA when on, top proteins) (:func:`tearflow.joins.clinical_correlations`)."""

import logging

from tearflow.columns import CHANGE, FDR, GENE, GENE_SET, PATIENT, PROTEIN, PVALUE, SUBGROUP
from tearflow.contrasts import CONTRAST_ALL, by_contrast
from tearflow.errors import run_step
from tearflow.joins import clinical_correlations
from tearflow.tables import read_tsv, require_columns, write_tsv

log = logging.getLogger("tearflow.clinical_correlations")


def main(snakemake):
    correlation = snakemake.params.correlation
    values = read_tsv(snakemake.input.values, dtype={PATIENT: str, SUBGROUP: str})
    score_changes = read_tsv(snakemake.input.score_changes, dtype={PATIENT: str, GENE_SET: str})
    require_columns(score_changes, [GENE_SET, PATIENT, CHANGE], snakemake.input.score_changes)
    differential_path = by_contrast([CONTRAST_ALL], [snakemake.input.differential])[CONTRAST_ALL]
    differential = read_tsv(differential_path, dtype={PROTEIN: str, GENE: str})
    require_columns(differential, [PROTEIN, GENE, PVALUE], differential_path)
    patient_changes = read_tsv(snakemake.input.patient_changes, dtype={PROTEIN: str, GENE: str})
    require_columns(patient_changes, [PROTEIN, GENE], snakemake.input.patient_changes)
    joined_patients = None
    if "elisa" in snakemake.input.keys():
        joined_patients = read_tsv(snakemake.input.elisa, dtype={PATIENT: str})
        require_columns(joined_patients, [PATIENT], snakemake.input.elisa)
    table = clinical_correlations(
        values,
        snakemake.params.clinical,
        score_changes,
        differential,
        patient_changes,
        joined_patients,
        correlation,
        snakemake.params.seed,
    )
    write_tsv(table, snakemake.output.correlations)
    significant = int((table[FDR] < correlation["fdr"]).sum())
    log.info("%d correlations; %d with FDR < %s", len(table), significant, correlation["fdr"])


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
