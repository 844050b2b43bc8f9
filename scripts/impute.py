"""Rule impute (only with imputation.method other than none): the imputed matrix, which values were
imputed, and a per-sample summary (:mod:`tearflow.imputation`)."""

import logging

import pandas as pd

from tearflow.columns import ANNOTATION
from tearflow.errors import run_step
from tearflow.imputation import imputation_summary, imputed_matrix
from tearflow.tables import read_tsv, write_tsv

log = logging.getLogger("tearflow.impute")


def main(snakemake):
    settings = snakemake.params.imputation
    seed = int(snakemake.params.seed)
    table = read_tsv(snakemake.input.normalized)
    annotation = table[list(ANNOTATION)]
    log2 = table.drop(columns=list(ANNOTATION)).astype(float)
    imputed, mask = imputed_matrix(log2, settings, seed)
    summary = imputation_summary(log2, mask, settings["method"])
    log.info(
        "imputation %s (seed %d): %d of %d values imputed (%.1f %%)",
        settings["method"],
        seed,
        summary["n_imputed"].iloc[-1],
        summary["n_values"].iloc[-1],
        100 * summary["share_imputed"].iloc[-1],
    )
    write_tsv(pd.concat([annotation, imputed], axis=1), snakemake.output.imputed, full_precision=True)
    write_tsv(pd.concat([annotation, mask], axis=1), snakemake.output.mask)
    write_tsv(summary, snakemake.output.summary)


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
