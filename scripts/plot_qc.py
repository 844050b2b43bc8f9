"""Rule plot_qc: missingness, intensity distributions, sample correlation, PCA and protein CV
figures, drawn from the tables rule qc wrote (:mod:`tearflow.figures.qc`)."""

from tearflow.columns import ANNOTATION, SAMPLE
from tearflow.errors import run_step
from tearflow.figures.output import save_figure
from tearflow.figures.qc import (
    correlation_figure,
    cv_figure,
    distributions_figure,
    missingness_figure,
    pca_figure,
)
from tearflow.tables import read_tsv


def main(snakemake):
    output_format = snakemake.params.figures
    text = {SAMPLE: str, "patient": str, "subgroup": str, "timepoint": str}
    samples = read_tsv(snakemake.input.sample_qc, dtype=text)
    proteins = read_tsv(snakemake.input.protein_qc)
    log2 = read_tsv(snakemake.input.normalized).drop(columns=list(ANNOTATION)).astype(float)
    correlation = read_tsv(snakemake.input.correlation, dtype={SAMPLE: str}).set_index(SAMPLE)
    explained = read_tsv(snakemake.input.pca_variance)["explained_variance_ratio"].to_numpy(dtype=float)
    save_figure(missingness_figure(samples, proteins), snakemake.output.missingness, output_format)
    save_figure(distributions_figure(log2, samples), snakemake.output.distributions, output_format)
    save_figure(correlation_figure(correlation, samples), snakemake.output.correlation, output_format)
    save_figure(pca_figure(samples, explained), snakemake.output.pca, output_format)
    save_figure(cv_figure(proteins), snakemake.output.cv, output_format)


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
