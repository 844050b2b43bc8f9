"""Rule plot_clinical: endpoint trajectories across visits and the clinical × tear correlation
heatmap (:mod:`tearflow.figures.clinical`), from the clinical tables."""

import logging

from tearflow.clinical import read_endpoint_definitions, visit_order
from tearflow.columns import PATIENT, SUBGROUP
from tearflow.contrasts import CONTRAST_ALL
from tearflow.correlation import FEATURE_GENE
from tearflow.errors import run_step
from tearflow.figures.clinical import correlation_heatmap, trajectory_figure
from tearflow.figures.output import save_figure
from tearflow.samples import read_sample_sheet, subgroup_order
from tearflow.tables import read_tsv

log = logging.getLogger("tearflow.plot_clinical")


def main(snakemake):
    output_format = snakemake.params.figures
    settings = snakemake.params.clinical
    definitions = read_endpoint_definitions(snakemake.input.endpoints)
    values = read_tsv(snakemake.input.values, dtype={PATIENT: str, SUBGROUP: str})
    summary = read_tsv(snakemake.input.summary, dtype={SUBGROUP: str})
    visits = visit_order(snakemake.params.timepoints["baseline"], settings["visits"])
    sheet_subgroups = subgroup_order(read_sample_sheet(snakemake.input.sheet))
    figure = trajectory_figure(values, summary, definitions, visits, sheet_subgroups)
    save_figure(figure, snakemake.output.trajectories, output_format)
    correlations = read_tsv(snakemake.input.correlations, dtype={SUBGROUP: str, FEATURE_GENE: str})
    fdr = snakemake.params.correlation["fdr"]
    save_figure(correlation_heatmap(correlations, CONTRAST_ALL, fdr), snakemake.output.heatmap, output_format)
    log.info("wrote %s", ", ".join(map(str, snakemake.output)))


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
