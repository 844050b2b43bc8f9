"""Rule clinical_endpoints (only with a clinical table): endpoint values per patient, visit and eye
summary, change from baseline, per-visit summaries and the paired tests (:mod:`tearflow.clinical`)."""

import logging

from tearflow.clinical import (
    EYE,
    VALUE,
    VISIT,
    clinical_values,
    endpoint_tests,
    load_clinical,
    read_endpoint_definitions,
    visit_order,
    visit_summary,
)
from tearflow.columns import PATIENT, SUBGROUP
from tearflow.errors import run_step
from tearflow.samples import read_sample_sheet
from tearflow.tables import write_tsv

log = logging.getLogger("tearflow.clinical")


def main(snakemake):
    settings = snakemake.params.clinical
    baseline = snakemake.params.timepoints["baseline"]
    path = str(snakemake.input.table)
    definitions = read_endpoint_definitions(snakemake.input.endpoints)
    schema = snakemake.params.schema  # workflow/schemas/clinical.schema.yaml, read by common.smk
    sheet = read_sample_sheet(snakemake.input.sheet)
    long = load_clinical(path, definitions, schema, settings, baseline)
    log.info(
        "clinical table %s: %d values, %d patients, visits %s, eyes: %s",
        path,
        int(long[VALUE].notna().sum()),
        long[PATIENT].nunique(),
        ", ".join(dict.fromkeys(long[VISIT])),
        "per eye, summarized by " + settings["eye_summary"] if (long[EYE] != "").any() else "none",
    )
    values = clinical_values(long, definitions, sheet, settings, baseline, path)
    subgroups = list(dict.fromkeys(values[SUBGROUP]))  # sheet order, then clinical-only ones
    visits = visit_order(baseline, settings["visits"])
    tests = endpoint_tests(
        values, definitions, subgroups, baseline, visits, settings["min_pairs"], settings["wilcoxon_method"]
    )
    summary = visit_summary(values, definitions, subgroups, visits)
    write_tsv(values, snakemake.output.values)
    write_tsv(summary, snakemake.output.summary)
    write_tsv(tests, snakemake.output.tests)
    log.info("wrote %d values and %d endpoint tests", len(values), len(tests))


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
