"""Rule plot_dpc: the detection probability curve with the observed detection rates
(:func:`tearflow.figures.quantification.detection_curve_figure`)."""

from tearflow.errors import run_step
from tearflow.figures.output import save_figure
from tearflow.figures.quantification import detection_curve_figure
from tearflow.tables import read_tsv


def main(snakemake):
    curve = read_tsv(snakemake.input.curve).iloc[0]
    bins = read_tsv(snakemake.input.detection)
    save_figure(detection_curve_figure(bins, curve), snakemake.output.figure, snakemake.params.figures)


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
