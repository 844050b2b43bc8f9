"""Rule plot_elisa: paired before/after ELISA values, ELISA change against the focus-set score, and
the correlation heatmap (:mod:`tearflow.figures.elisa_results`), from the ELISA and join tables."""

import logging

from tearflow.columns import PATIENT, SUBGROUP
from tearflow.errors import run_step
from tearflow.figures.elisa_results import focus_scatter_figure, heatmap_figure, paired_figure
from tearflow.figures.output import save_figure
from tearflow.samples import read_sample_sheet, subgroup_order
from tearflow.tables import read_tsv

log = logging.getLogger("tearflow.plot_elisa")


def main(snakemake):
    output_format = snakemake.params.figures
    text = {PATIENT: str, SUBGROUP: str}
    subgroups = subgroup_order(read_sample_sheet(snakemake.input.sheet))
    changes = read_tsv(snakemake.input.changes, dtype=text)
    tests = read_tsv(snakemake.input.tests, dtype={"contrast": str})
    patients = read_tsv(snakemake.input.patients, dtype=text)
    correlations = read_tsv(snakemake.input.correlations, dtype={"feature": str, SUBGROUP: str})
    paired = paired_figure(changes, tests, subgroups, snakemake.params.timepoints)
    save_figure(paired, snakemake.output.paired, output_format)
    save_figure(focus_scatter_figure(patients, correlations, subgroups), snakemake.output.scatter, output_format)
    fdr = snakemake.params.correlation["fdr"]
    save_figure(heatmap_figure(correlations, subgroups, fdr), snakemake.output.heatmap, output_format)
    log.info("wrote %s", ", ".join(map(str, snakemake.output)))


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
