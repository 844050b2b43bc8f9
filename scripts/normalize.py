"""Rule normalize: raw intensities → log2, excluded samples left out, per-sample offsets removed.

The methods are :mod:`tearflow.normalization`; the figures are drawn by rule plot_normalization.
"""

import logging

import pandas as pd

from tearflow.abundance_import import normalised_tables
from tearflow.columns import ANNOTATION, PATIENT, PROTEIN, SAMPLE
from tearflow.errors import TearflowError, run_step
from tearflow.normalization import kept_samples, log2_matrix, normalized_matrix, resolved_method
from tearflow.samples import read_sample_sheet
from tearflow.tables import read_tsv, write_tsv

log = logging.getLogger("tearflow.normalize")


def main(snakemake):
    settings = dict(snakemake.params.normalization)
    reference_file = getattr(snakemake.input, "reference_proteins", None)
    if reference_file:  # the resolved path when the config gives a file
        reference_file = reference_file if isinstance(reference_file, str) else reference_file[0]
        settings["reference_proteins"] = str(reference_file)
    raw = read_tsv(snakemake.input.raw)
    sheet = read_sample_sheet(snakemake.input.samples)
    absent = [sample for sample in sheet[SAMPLE] if sample not in raw.columns]
    if absent:
        raise TearflowError(f"{snakemake.input.raw}: no column for sample sheet sample(s) {', '.join(absent)}")
    kept = kept_samples(list(sheet[SAMPLE]), settings["exclude_samples"])
    if len(kept) < len(sheet):
        log.info("left out by normalization.exclude_samples: %s", ", ".join(settings["exclude_samples"]))
    annotation = raw[list(ANNOTATION)]
    log2, already = log2_matrix(raw[kept], settings["input_is_log2"])
    log.info(
        "input %s (normalization.input_is_log2: %s)",
        "is log2 already" if already else "is raw intensities; log2-transformed, values ≤ 0 missing",
        settings["input_is_log2"],
    )
    patients = sheet.set_index(SAMPLE)[PATIENT].reindex(kept)
    observed = None
    if "observed" in snakemake.input.keys():  # DPC estimates: offsets from the observed values
        counts = read_tsv(snakemake.input.observed)
        if list(counts[PROTEIN]) != list(raw[PROTEIN]):
            raise TearflowError(f"{snakemake.input.observed}: its proteins are not those of {snakemake.input.raw}")
        observed = counts[kept].to_numpy() > 0
    tables = normalised_tables(read_tsv(snakemake.input.import_summary), snakemake.input.import_summary)
    flags = [normalised for _, _, normalised in tables]
    method = resolved_method(settings["method"], flags, dpc_values=observed is not None)
    if method != settings["method"]:
        log.info(
            "normalization.method %s: %s (%s; %s)",
            settings["method"],
            method,
            "DPC estimates" if observed is not None else "protein values",
            "; ".join(
                f"{table}: {quantity or 'intensities'}, {'' if normalised else 'not '}normalised by its search engine"
                for table, quantity, normalised in tables
            ),
        )
    normalized, offsets = normalized_matrix(log2, annotation, settings, patients, flags, observed=observed)
    log.info(
        "method %s (reference %s): offsets %s%s",
        method,
        settings["reference"],
        ", ".join(f"{sample} {offset:+.3f}" for sample, offset in zip(offsets[SAMPLE][:60], offsets["offset"][:60])),
        f" ... ({len(offsets)} samples; all in {snakemake.output.offsets})" if len(offsets) > 60 else "",
    )
    write_tsv(pd.concat([annotation, normalized], axis=1), snakemake.output.normalized, full_precision=True)
    write_tsv(offsets, snakemake.output.offsets)


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
