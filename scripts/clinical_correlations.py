"""Rule clinical_correlations: Spearman correlations of each patient's clinical change with their
tear changes (focus-set scores, top proteins, ELISA when on) (:mod:`tearflow.clinical_correlation`)."""

import logging

from tearflow.clinical import clinical_settings
from tearflow.clinical_correlation import (
    FEATURE,
    FEATURE_TYPE,
    SCORE_CHANGE,
    clinical_correlations,
    clinical_measures,
    molecular_features,
    require_columns,
)
from tearflow.columns import FDR, GENE, GENE_SET, PATIENT, PROTEIN, PVALUE, SUBGROUP
from tearflow.errors import run_step
from tearflow.tables import read_tsv, write_tsv

log = logging.getLogger("tearflow.clinical_correlations")


def main(snakemake):
    settings = clinical_settings(snakemake.params.clinical)
    values = read_tsv(snakemake.input.values, dtype={PATIENT: str, SUBGROUP: str})
    score_changes = read_tsv(snakemake.input.score_changes, dtype={PATIENT: str})
    require_columns(score_changes, [GENE_SET, PATIENT, SCORE_CHANGE], snakemake.input.score_changes)
    differential = read_tsv(snakemake.input.differential, dtype={PROTEIN: str, GENE: str})
    require_columns(differential, [PROTEIN, GENE, PVALUE], snakemake.input.differential)
    patient_changes = read_tsv(snakemake.input.patient_changes, dtype={PROTEIN: str, GENE: str})
    require_columns(patient_changes, [PROTEIN, GENE], snakemake.input.patient_changes)
    joined_patients = None
    if "elisa" in snakemake.input.keys():
        joined_patients = read_tsv(snakemake.input.elisa, dtype={PATIENT: str})
        require_columns(joined_patients, [PATIENT], snakemake.input.elisa)
    features = molecular_features(score_changes, differential, patient_changes, joined_patients, settings)
    clinical = clinical_measures(values, settings["correlate_visits"], settings["correlate_with"])
    subgroups = list(dict.fromkeys(values[SUBGROUP]))
    table = clinical_correlations(
        clinical, features, subgroups, settings["min_correlation_patients"],
        settings["correlate_with"], settings["correlation_permutations"], snakemake.params.seed,
    )  # fmt: skip
    write_tsv(table, snakemake.output.correlations)
    kinds = features.drop_duplicates([FEATURE_TYPE, FEATURE])[FEATURE_TYPE].value_counts()
    log.info(
        "%d correlations (%d features: %s); %d with FDR < %s",
        len(table),
        int(kinds.sum()),
        ", ".join(f"{k} {v}" for k, v in kinds.items()),
        int((table[FDR] < settings["fdr"]).sum()),
        settings["fdr"],
    )


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
