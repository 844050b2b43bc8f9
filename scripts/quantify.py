"""Rule quantify (quantification.method dpc): proteins from their observed and missing precursors
through the detection probability curve (limpa dpc → dpcQuant; a protein-level table row by row,
dpcQuantByRow), each value with its standard error and the number of precursors observed
(:func:`tearflow.protein_quant.quantified_proteins`)."""

import logging

import numpy as np
import pandas as pd

from tearflow.columns import GENE, PRECURSOR, PROTEIN
from tearflow.dpc import detection_curve_plot_data
from tearflow.errors import run_step
from tearflow.normalization import log2_matrix
from tearflow.protein_quant import quantified_proteins
from tearflow.tables import read_tsv, write_columns

log = logging.getLogger("tearflow.quantify")


def main(snakemake):
    settings = snakemake.params.quantification
    if "precursors" in snakemake.input.keys():
        table = pd.read_parquet(snakemake.input.precursors)
        labels = [PRECURSOR, PROTEIN, GENE]
    else:
        table = read_tsv(snakemake.input.raw)
        labels = [PROTEIN, GENE]
    samples = [column for column in table.columns if column not in labels]
    log2, already = log2_matrix(table[samples], snakemake.params.scale["input_is_log2"])
    y = log2.to_numpy(dtype=float)
    by_row = PRECURSOR not in labels
    curve, quant = quantified_proteins(y, None if by_row else table[PROTEIN].to_numpy(dtype=object), settings)
    log.info(
        "%d %s x %d samples (%.1f %% missing, input %s): DPC %s, intercept %.4f, slope %.4f",
        len(y),
        "proteins" if by_row else "precursors",
        len(samples),
        100 * np.isnan(y).mean(),
        "log2" if already else "raw, log2-transformed",
        curve.model,
        curve.intercept,
        curve.slope,
    )
    if by_row:
        proteins, genes = table[PROTEIN].tolist(), table[GENE].tolist()
    else:
        first = table.drop_duplicates(PROTEIN).set_index(PROTEIN)[GENE]
        proteins = [str(protein) for protein in quant.proteins]
        genes = first.reindex(proteins).tolist()
    label_columns = {PROTEIN: proteins, GENE: genes}
    for path, values in (
        (snakemake.output.values, quant.expression),
        (snakemake.output.standard_errors, quant.standard_error),
        (snakemake.output.observed, quant.n_observed.astype(int)),
    ):
        # full precision: the matrices feed normalization and the statistics (see tables.write_tsv)
        write_columns({**label_columns, **dict(zip(samples, values.T))}, path, full_precision=True)
    write_columns(
        {
            **label_columns,
            "n_precursors": quant.n_precursors.astype(int),
            "share_observed": quant.proportion_observed,
            "converged": quant.converged.astype(bool),
        },
        snakemake.output.proteins,
    )
    write_columns(
        {
            "model": [curve.model],
            "intercept": [curve.intercept],
            "slope": [curve.slope],
            "n_rows": [len(y)],
            "n_samples": [len(samples)],
            "share_missing": [float(np.isnan(y).mean())],
            "prior_mean": [quant.prior_mean],
            "prior_sd": [quant.prior_sd],
            "prior_logfc": [quant.prior_logfc],
        },
        snakemake.output.curve,
    )
    plot = detection_curve_plot_data(curve)
    write_columns(
        {
            "bin_left": plot.bin_left,
            "bin_right": plot.bin_right,
            "mean_log2_intensity": plot.bin_mean_intensity,
            "detected_fraction": plot.bin_detected_fraction,
            "n_rows": plot.bin_count.astype(int),
            "fitted_probability": 1 / (1 + np.exp(-(curve.intercept + curve.slope * plot.bin_mean_intensity))),
        },
        snakemake.output.detection,
    )
    if not quant.converged.all():
        log.warning("%d protein(s) did not converge", int((~quant.converged).sum()))


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
