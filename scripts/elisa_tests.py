"""Rule elisa_tests: per-patient ELISA changes and the paired Wilcoxon / t tests of every analyte
in every contrast (:func:`tearflow.elisa.paired_tests`)."""

import logging

from tearflow.columns import CONTRAST, GENE, N_PAIRS, PATIENT, SUBGROUP, TIMEPOINT
from tearflow.elisa import (
    ANALYTE,
    MEDIAN_LOG2_RATIO,
    TTEST_P,
    WILCOXON_P,
    paired_tests,
    patient_changes,
)
from tearflow.errors import run_step
from tearflow.tables import read_tsv, write_tsv

log = logging.getLogger("tearflow.elisa_tests")


def main(snakemake):
    settings = snakemake.params.settings
    values = read_tsv(snakemake.input.values, dtype={PATIENT: str, SUBGROUP: str, TIMEPOINT: str})
    pairs = patient_changes(values, snakemake.params.timepoints)
    analyte_genes = dict(values[[ANALYTE, GENE]].drop_duplicates().sort_values(ANALYTE).itertuples(index=False))
    tests = paired_tests(
        pairs, analyte_genes, list(snakemake.params.contrasts), list(snakemake.params.subgroups), settings
    )
    for _, row in tests.iterrows():
        log.info(
            "%s %s: n=%d, median log2 ratio %.3g, Wilcoxon p %.3g, t p %.3g",
            row[ANALYTE],
            row[CONTRAST],
            row[N_PAIRS],
            row[MEDIAN_LOG2_RATIO],
            row[WILCOXON_P],
            row[TTEST_P],
        )
    write_tsv(pairs, snakemake.output.changes)
    write_tsv(tests, snakemake.output.tests)


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
