"""Rule plot_elisa_standard_curves: one figure per plate with its 4PL curves, standards and samples
(:func:`tearflow.figures.elisa_plates.standard_curve_figure`)."""

from pathlib import Path

from tearflow.elisa_plates import plate_file_name, read_plates
from tearflow.errors import run_step
from tearflow.figures.elisa_plates import standard_curve_figure
from tearflow.figures.output import save_figure
from tearflow.tables import read_tsv

FIGURE_PREFIX = "elisa_standard_curve_"


def main(snakemake):
    output_format = snakemake.params.figures
    table = read_plates(snakemake.input.plates)
    fits = read_tsv(snakemake.input.fits, dtype={"plate": str, "analyte": str})
    concentrations = read_tsv(snakemake.input.concentrations, dtype={"plate": str, "analyte": str})
    names = set(fits["plate"].map(plate_file_name))
    for figure in map(str, snakemake.output.figures):
        plate = Path(figure).stem.removeprefix(FIGURE_PREFIX)
        if plate in names:
            save_figure(standard_curve_figure(table, fits, concentrations, plate), figure, output_format)


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
