"""Rule plot_normalization: intensity distributions before/after normalization, and each sample's
log-ratio density with the offset every method estimated (read from results/qc/normalization.tsv;
for DPC estimates the densities are of the observed values, which the offsets come from)."""

from tearflow.columns import ANNOTATION, PATIENT, SAMPLE
from tearflow.errors import run_step
from tearflow.figures.normalization import distributions_figure, offsets_figure
from tearflow.figures.output import save_figure
from tearflow.normalization import log2_matrix
from tearflow.samples import read_sample_sheet
from tearflow.tables import read_tsv


def main(snakemake):
    output_format = snakemake.params.figures
    settings = snakemake.params.normalization
    offsets = read_tsv(snakemake.input.offsets, dtype={SAMPLE: str})
    kept = list(offsets[SAMPLE])
    raw = read_tsv(snakemake.input.raw)
    normalized = read_tsv(snakemake.input.normalized).drop(columns=list(ANNOTATION))
    sheet = read_sample_sheet(snakemake.input.samples)
    log2, _already = log2_matrix(raw[kept], settings["input_is_log2"])
    method = offsets["method"].iloc[0]  # what normalization.method auto resolved to
    distributions = distributions_figure(log2, normalized[kept], method)
    save_figure(distributions, snakemake.output.distributions, output_format)
    candidates = offsets.set_index(SAMPLE)[[c for c in offsets.columns if c.startswith("offset_")]]
    candidates.columns = [c.removeprefix("offset_") for c in candidates.columns]
    patients = sheet.set_index(SAMPLE)[PATIENT].reindex(kept)
    if "observed" in snakemake.input.keys():  # DPC estimates: the offsets come from the observed values
        observed = read_tsv(snakemake.input.observed)
        log2 = log2.where(observed[kept].to_numpy() > 0)
    figure = offsets_figure(log2, candidates, settings["reference"], settings["mode_bandwidth"], method, patients)
    save_figure(figure, snakemake.output.offsets, output_format)


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
