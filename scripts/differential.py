"""Rule differential: per-patient changes and the moderated statistics of every contrast
(:func:`tearflow.differential.contrast_tables`), one table per contrast.

Imports neither pandas nor scipy (the step is benchmarked against R limma, start-up included): the
sample sheet arrives as row dicts (``params.sheet``, as common.smk read and checked it).
"""

from tearflow.contrasts import by_contrast
from tearflow.differential import contrast_tables, read_sample_matrix
from tearflow.errors import run_step
from tearflow.tables import write_columns


def main(snakemake):
    matrix_path = str(snakemake.input.matrix)
    matrix = read_sample_matrix(matrix_path, "abundance table")
    mask = None
    if "mask" in snakemake.input.keys():
        mask = read_sample_matrix(str(snakemake.input.mask), "imputation mask", kind=bool)
    outputs = by_contrast(snakemake.params.contrasts, snakemake.output.tables)
    tables, changes = contrast_tables(
        matrix,
        list(snakemake.params.sheet),
        snakemake.params.timepoints,
        list(outputs),
        snakemake.params.differential,
        mask,
        sheet_path=str(snakemake.input.samples),
        matrix_path=matrix_path,
        mask_path=str(snakemake.input.mask) if mask is not None else "",
    )
    for contrast, path in outputs.items():
        write_columns(tables[contrast], path)
    write_columns(changes, snakemake.output.changes)


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
