"""Rule differential: per-patient changes and the moderated statistics of every contrast
(:func:`tearflow.differential.contrast_tables`), one table per contrast; DPC-quantified proteins
with precision weights from their standard errors.

Imports neither pandas nor scipy (the step is benchmarked against R limma, start-up included): the
sample sheet (checked by common.smk before any rule ran) is read with the csv module.
"""

import numpy as np

from tearflow.columns import PROTEIN
from tearflow.contrasts import by_contrast
from tearflow.differential import N_PRECURSORS, Quantified, contrast_tables, read_sample_matrix
from tearflow.errors import run_step
from tearflow.samples import read_sheet_rows
from tearflow.tables import read_columns, write_columns


def quantification(snakemake):
    """The DPC standard errors, observed precursors and precursor counts, when the input has them."""
    if "standard_errors" not in snakemake.input.keys():
        return None
    observed = read_sample_matrix(str(snakemake.input.observed), "DPC observed precursors")
    observed.values = observed.values > 0
    counts = read_columns(snakemake.input.proteins, [PROTEIN, N_PRECURSORS], "protein quantification")
    return Quantified(
        standard_errors=read_sample_matrix(str(snakemake.input.standard_errors), "DPC standard errors"),
        observed=observed,
        n_precursors=np.array(counts[N_PRECURSORS], dtype=int),
        proteins=counts[PROTEIN],
    )


def main(snakemake):
    matrix_path = str(snakemake.input.matrix)
    matrix = read_sample_matrix(matrix_path, "abundance table")
    mask = None
    if "mask" in snakemake.input.keys():
        mask = read_sample_matrix(str(snakemake.input.mask), "imputation mask", kind=bool)
    outputs = by_contrast(snakemake.params.contrasts, snakemake.output.tables)
    tables, changes = contrast_tables(
        matrix,
        [row for _line, row in read_sheet_rows(snakemake.input.samples)],
        snakemake.params.timepoints,
        list(outputs),
        snakemake.params.differential,
        mask,
        sheet_path=str(snakemake.input.samples),
        matrix_path=matrix_path,
        mask_path=str(snakemake.input.mask) if mask is not None else "",
        quantified=quantification(snakemake),
    )
    for contrast, path in outputs.items():
        write_columns(tables[contrast], path)
    write_columns(changes, snakemake.output.changes)


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
