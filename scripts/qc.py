"""Rule qc: per-sample and per-protein quality tables of the normalized matrix, outlier flags
(flagged, never dropped), the sample correlation matrix and the PCA's explained variance
(:mod:`tearflow.qc`). With DPC quantification a value without any observed precursor counts as
missing here, so the missingness metrics keep their meaning. The figures are drawn by rule plot_qc
from these tables."""

import logging

import pandas as pd

from tearflow.columns import ANNOTATION, SAMPLE
from tearflow.errors import run_step
from tearflow.qc import correlation_matrix, protein_qc, sample_qc
from tearflow.samples import read_sample_sheet
from tearflow.tables import read_tsv, write_tsv

log = logging.getLogger("tearflow.qc")


def main(snakemake):
    settings = snakemake.params.qc
    table = read_tsv(snakemake.input.normalized)
    sheet = read_sample_sheet(snakemake.input.samples)
    annotation = table[list(ANNOTATION)]
    log2 = table.drop(columns=list(ANNOTATION)).astype(float)
    if "observed" in snakemake.input.keys():  # DPC estimates: values without an observed precursor count as missing
        observed = read_tsv(snakemake.input.observed).drop(columns=list(ANNOTATION))
        log2 = log2.where(observed[log2.columns].to_numpy() > 0)
    correlation = correlation_matrix(log2)
    samples = sample_qc(log2, sheet, settings, correlation)
    proteins = protein_qc(log2, annotation, sheet, settings["min_values_cv"])
    flagged = samples[samples["outlier"]]
    for _, row in flagged.iterrows():
        log.warning("outlier sample %s (kept): %s", row[SAMPLE], row["outlier_reason"])
    log.info("%d of %d samples flagged as outliers", len(flagged), len(samples))
    explained = samples.attrs["explained_variance"]
    write_tsv(samples, snakemake.output.sample_qc)
    write_tsv(proteins, snakemake.output.protein_qc)
    write_tsv(correlation.rename_axis(SAMPLE).reset_index(), snakemake.output.correlation)
    components = pd.DataFrame(
        {"component": [f"pc{i + 1}" for i in range(len(explained))], "explained_variance_ratio": explained}
    )
    write_tsv(components, snakemake.output.pca_variance)


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
