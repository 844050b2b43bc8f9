# Read and check the config and the sample sheet once, before any rule runs, and give the rule
# files what they share: the sheet, the subgroups and contrasts, and how a config path is resolved.

import logging
import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")

# Where the workflow's own files (resources/, workflow/schemas/) come from: its folder on disk, or,
# when tearflow runs as a module from a git host (github(...), gitfile(...)), Snakemake's source
# cache, which fetches each file from the tag's git objects (workflow.source_path).
WORKFLOW_LOCATION = workflow.current_basedir.get_path_or_uri(secret_free=True)
WORKFLOW_ROOT = Path(WORKFLOW_LOCATION).parents[1]
# (a gitfile(...) module is "local" to Snakemake but its files are git objects, not on disk)
WORKFLOW_ON_DISK = (WORKFLOW_ROOT / "workflow" / "Snakefile").is_file()


def shipped_file(relative):
    """The local path of a file shipped with the workflow (``relative`` to the repository root, e.g.
    ``resources/genesets/th17_il17_focus.gmt``), or None when the workflow has no such file.
    """
    if WORKFLOW_ON_DISK:
        path = WORKFLOW_ROOT / relative
        return str(path) if path.is_file() else None
    try:  # relative to this file, workflow/rules/
        return workflow.source_path(f"../../{relative}")
    except Exception:  # the source cache raises whatever the git host's lookup raised
        return None


try:
    import tearflow  # noqa: F401  (the package in scripts/tearflow, installed by the README's install command)
except ImportError:
    sys.exit(
        "tearflow: the tearflow Python package is not installed in this environment; run "
        "`pip install -r requirements.txt` in the tearflow folder (see its README)"
    )

from tearflow.abundance_import import (
    PRECURSOR_LEVEL,
    check_sheet_samples_in_tables,
    quantification_plan,
    table_entries,
)
from tearflow.clinical import clinical_values, load_clinical, read_endpoint_definitions
from tearflow.config import (
    check_sample_sheet,
    check_sheet_references,
    check_sheet_schema,
    load_schema,
    validated_config,
)
from tearflow.contrasts import CONTRAST_ALL, by_contrast, contrast_names
from tearflow.elisa_plates import plate_names
from tearflow.elisa import elisa_values
from tearflow.errors import TearflowError, notes_to_console
from tearflow.report_safe import report_safe, unsafe_params
from tearflow.samples import read_sample_sheet, subgroup_order


def resolve_input(path):
    """The file a config path means: as given (absolute, or relative to the working directory);
    a relative path that does not exist there falls back to the workflow's own files, so the
    shipped example data and gene sets are found when tearflow runs as a module (from a local clone
    or a git host).
    """
    if path is None:
        return None
    given = Path(str(path)).expanduser()
    if given.is_dir():
        raise TearflowError(f"'{path}' is a directory; expected a file")
    if given.exists():
        return str(given)
    if given.is_absolute():
        raise TearflowError(f"file not found: '{path}'; check the path in your config")
    shipped = shipped_file(str(path))
    if shipped is not None:
        return shipped
    raise TearflowError(
        f"file not found: '{path}' (looked in the working directory {Path.cwd()} and in the "
        f"workflow's own files, {WORKFLOW_LOCATION}); check the path in your config"
    )


def _config_paths(config):
    """(config key, path) of every input file the config names, optional ones only when set."""
    named = [("samples", config["samples"])]
    named += [
        (f"proteomics[{i}].path", table["path"])
        for i, table in enumerate(config["proteomics"])
    ]
    for key in ("fasta", "gene_map", "elisa", "clinical"):
        if config[key] is not None:
            named.append((key, config[key]))
    enrichment = config["enrichment"]
    named.append(("enrichment.focus_gmt", enrichment["focus_gmt"]))
    for name, path in enrichment["libraries"].items():
        named.append((f"enrichment.libraries.{name}", path))
    for i, path in enumerate(enrichment["extra_gmt"]):
        named.append((f"enrichment.extra_gmt[{i}]", path))
    reference = config["normalization"]["reference_proteins"]
    if isinstance(reference, str):
        named.append(("normalization.reference_proteins", reference))
    if config["elisa"] is not None:
        named.append(("elisa_analysis.analytes", config["elisa_analysis"]["analytes"]))
        if config["elisa_analysis"]["plates"] is not None:
            named.append(("elisa_analysis.plates", config["elisa_analysis"]["plates"]))
    if config["clinical"] is not None:
        named.append(
            ("clinical_analysis.endpoints", config["clinical_analysis"]["endpoints"])
        )
    return named


def _load_schema(name):
    return load_schema(shipped_file(f"workflow/schemas/{name}"))


def _check_inputs(config):
    """Check the config (filling in every default from its schema, in place: the rules pass each
    step its whole section) and the sample sheet; return the sheet's path and table."""
    filled = validated_config(config, _load_schema("config.schema.yaml"))
    config.clear()
    config.update(filled)
    for key, path in _config_paths(config):
        try:
            resolve_input(path)
        except TearflowError as error:
            raise TearflowError(f"config key '{key}': {error}") from None
    sheet_path = resolve_input(config["samples"])
    sheet = read_sample_sheet(sheet_path)
    check_sheet_schema(sheet, _load_schema("samples.schema.yaml"), sheet_path)
    notes = check_sample_sheet(
        sheet, sheet_path, config["timepoints"], config["differential"]["min_pairs"]
    )
    check_sheet_references(config, sheet, sheet_path)
    for note in notes:
        # Snakemake does not show a Snakefile's log records; the notes must reach the console.
        print(f"tearflow note: {note}", file=sys.stderr)
    return sheet_path, sheet


try:
    SAMPLE_SHEET, SAMPLES = _check_inputs(config)
except TearflowError as error:
    sys.exit(f"tearflow: {error}")

SUBGROUPS = subgroup_order(SAMPLES)
CONTRASTS = contrast_names(SUBGROUPS)


# DPC quantification reads precursor tables at precursor level; whether it runs
# (quantification.method auto: when every table holds precursors) and at which level the tables
# are read is decided from the tables' headers before any rule runs.
def _quantification_plan(method):
    tables = [
        (f"proteomics[{i}]", resolve_input(table["path"]), table["format"])
        for i, table in enumerate(config["proteomics"])
    ]
    return quantification_plan(tables, method, config["import"])


try:
    QUANTIFICATION, IMPORT_LEVEL = _quantification_plan(
        config["quantification"]["method"]
    )
    if (
        QUANTIFICATION == "dpc"
        and config["quantification"]["method"] == "auto"
        and config["imputation"]["method"] != "none"
    ):
        # An imputation method set by hand says which path is meant: the tables' protein values.
        QUANTIFICATION, IMPORT_LEVEL = _quantification_plan("none")
        print(
            f"tearflow note: imputation.method is {config['imputation']['method']!r}, so "
            "quantification.method auto reads the tables' protein values instead of DPC quantification",
            file=sys.stderr,
        )
    if QUANTIFICATION == "dpc" and config["imputation"]["method"] != "none":
        raise TearflowError(
            f"config key 'imputation.method': {config['imputation']['method']!r} with DPC quantification "
            f"(quantification.method: {config['quantification']['method']}); expected none (DPC "
            "quantification estimates every missing value itself, with its uncertainty) or "
            "quantification.method: none"
        )
except TearflowError as error:
    sys.exit(f"tearflow: {error}")
DPC_ENABLED = QUANTIFICATION == "dpc"
# The checks that read the input files' content run once, in the Snakemake process the user
# started; a cluster job re-reads the workflow and needs only what defines the DAG.
CHECK_INPUT_CONTENT = workflow.is_main_process
try:
    if CHECK_INPUT_CONTENT:
        check_sheet_samples_in_tables(
            SAMPLES,
            SAMPLE_SHEET,
            [
                (f"proteomics[{i}]", resolve_input(table["path"]), table["format"])
                for i, table in enumerate(config["proteomics"])
            ],
            config["import"],
        )
except TearflowError as error:
    sys.exit(f"tearflow: {error}")
IMPORTED_TABLE = (
    "results/abundance/precursors.parquet"
    if IMPORT_LEVEL == PRECURSOR_LEVEL
    else "results/abundance/raw.tsv"
)
ELISA_ENABLED = config["elisa"] is not None
CLINICAL_ENABLED = config["clinical"] is not None


def figure_path(name):
    """``results/figures/<name>.<ext>``: a figure's path in the format of config ``figures.format``."""
    return f"results/figures/{name}.{config['figures']['format']}"


wildcard_constraints:
    contrast="|".join(CONTRASTS),


# --- Import (import.smk) ------------------------------------------------------


def import_table_entries():
    """The configured tables: [{path (resolved, to read), name (as configured, written into the
    tables), format, batch}]."""
    return [
        {
            "path": resolve_input(table["path"]),
            "name": table["path"],
            "format": table["format"],
            "batch": table["batch"],
        }
        for table in config["proteomics"]
    ]


try:
    # the tables' batch names and that no file is listed twice, before any rule
    if CHECK_INPUT_CONTENT:
        with notes_to_console():
            table_entries(import_table_entries())
except TearflowError as error:
    sys.exit(f"tearflow: {error}")


def import_optional_inputs(wildcards):
    """gene_map and fasta, each only when the config names one."""
    optional = {}
    for key in ("gene_map", "fasta"):
        if config[key] is not None:
            optional[key] = resolve_input(config[key])
    return optional


# --- DPC quantification (quantify.smk) -----------------------------------------


def quantify_input(wildcards):
    """The imported matrix the quantification reads: precursors, or proteins row by row."""
    key = "precursors" if IMPORT_LEVEL == PRECURSOR_LEVEL else "raw"
    return {key: rules.import_abundance.output.table}


def unnormalized_input(wildcards):
    """The protein matrix normalization starts from: the DPC estimates (with which of them had an
    observed precursor: the offsets are estimated from those), or the imported table."""
    if DPC_ENABLED:
        return {
            "raw": rules.quantify.output.values,
            "observed": rules.quantify.output.observed,
        }
    return {"raw": rules.import_abundance.output.table}


def normalization_settings():
    """The normalization section as the step gets it (DPC estimates are log2 already)."""
    if DPC_ENABLED:
        return {**config["normalization"], "input_is_log2": True}
    return config["normalization"]


# --- Normalization, imputation, QC (normalize.smk) ----------------------------


def _imputation_enabled():
    return config["imputation"]["method"] != "none"


def _reference_proteins_file():
    """The resolved file of `normalization.reference_proteins` when it is a path, else nothing."""
    value = config["normalization"]["reference_proteins"]
    return [resolve_input(value)] if isinstance(value, str) else []


# --- Differential abundance (differential.smk) --------------------------------


def per_contrast(paths):
    """``{contrast: path}``: a pattern with ``{contrast}`` filled in for every contrast, or the
    list of per-contrast outputs of a rule (checked to name their contrasts, in order).
    """
    if isinstance(paths, str):
        return {contrast: paths.format(contrast=contrast) for contrast in CONTRASTS}
    return by_contrast(CONTRASTS, paths)


def differential_input(wildcards):
    """The abundance matrix to test: imputed (+ its mask) when imputation is on, else normalized."""
    if _imputation_enabled():
        return {
            "matrix": rules.impute.output.imputed,
            "mask": rules.impute.output.mask,
            "samples": SAMPLE_SHEET,
        }
    inputs = {"matrix": rules.normalize.output.normalized, "samples": SAMPLE_SHEET}
    if DPC_ENABLED:
        inputs["standard_errors"] = rules.quantify.output.standard_errors
        inputs["observed"] = rules.quantify.output.observed
        inputs["proteins"] = rules.quantify.output.proteins
    return inputs


def qc_input(wildcards):
    """The normalized matrix and, with DPC quantification, which values had an observed precursor
    (the missingness metrics count the others as missing)."""
    inputs = {"normalized": rules.normalize.output.normalized, "samples": SAMPLE_SHEET}
    if DPC_ENABLED:
        inputs["observed"] = rules.quantify.output.observed
    return inputs


def focus_gmt_input(wildcards):
    """The Th17/IL-17 focus gene sets labelled on the volcano plots."""
    return {"focus_gmt": resolve_input(config["enrichment"]["focus_gmt"])}


# --- Enrichment (enrichment.smk) ----------------------------------------------


def _enrichment_libraries():
    """(name, resolved path) of every library: config `libraries` (a mapping), then `extra_gmt`."""
    section = config["enrichment"]
    named = list(section["libraries"].items())
    named += [(Path(str(path)).stem, path) for path in section["extra_gmt"]]
    return [(name, resolve_input(path)) for name, path in named]


# --- ELISA and the joins (elisa.smk) ------------------------------------------


ELISA_SETTINGS = config["elisa_analysis"]
ELISA_PLATES = ELISA_SETTINGS["plates"]


def _elisa_plate_names():
    """One standard-curve figure per plate: the plate names, read once when plates are set."""
    if not (ELISA_ENABLED and ELISA_PLATES):
        return []
    try:
        return plate_names(resolve_input(ELISA_PLATES))
    except TearflowError as error:
        sys.exit(f"tearflow: config key 'elisa_analysis.plates': {error}")


ELISA_PLATE_NAMES = _elisa_plate_names()


def _check_elisa_table():
    """Read and check the lab ELISA table (values, analytes, units, visits) before any rule runs;
    ELISA patients the sheet does not have are noted (and left out by the step)."""
    try:
        with notes_to_console():
            elisa_values(
                [resolve_input(config["elisa"])],
                None,
                resolve_input(ELISA_SETTINGS["analytes"]),
                SAMPLES,
                config["timepoints"],
                ELISA_SETTINGS,
            )
    except TearflowError as error:
        sys.exit(f"tearflow: {error}")


if ELISA_ENABLED and CHECK_INPUT_CONTENT:
    _check_elisa_table()


def elisa_value_inputs(wildcards):
    """The lab table (config `elisa`) and, when `elisa_analysis.plates` is set, the plate
    concentrations; the analyte map and the sample sheet."""
    inputs = {
        "analytes": resolve_input(ELISA_SETTINGS["analytes"]),
        "sheet": SAMPLE_SHEET,
        "tables": [resolve_input(config["elisa"])],
    }
    if ELISA_PLATES:
        inputs["plates"] = rules.elisa_plates.output.concentrations
    return inputs


# --- Clinical endpoints (clinical.smk) ----------------------------------------


# The clinical table's JSON schema, read once. The clinical step gets its content as a param, not
# its path as an input: editing the schema reruns the step, moving the project folder does not.
CLINICAL_SCHEMA = _load_schema("clinical.schema.yaml")


def _clinical_endpoint_table():
    return resolve_input(config["clinical_analysis"]["endpoints"])


def _check_clinical_table():
    """Validate the clinical table before any rule runs (columns, spellings, numbers, visits);
    patients the sheet does not have are noted (and left out by the step), as for ELISA.
    """
    path = resolve_input(config["clinical"])
    settings = config["clinical_analysis"]
    baseline = config["timepoints"]["baseline"]
    try:
        definitions = read_endpoint_definitions(_clinical_endpoint_table())
        long = load_clinical(path, definitions, CLINICAL_SCHEMA, settings, baseline)
        with notes_to_console():
            clinical_values(long, definitions, SAMPLES, settings, baseline, path)
    except TearflowError as error:
        sys.exit(f"tearflow: {error}")


if CLINICAL_ENABLED and CHECK_INPUT_CONTENT:
    _check_clinical_table()


def clinical_join_inputs(wildcards):
    """Tear changes to correlate with: gene-set scores and proteins always, ELISA when enabled."""
    inputs = {
        "values": rules.clinical_endpoints.output.values,
        "score_changes": rules.pathway_scores.output.changes,
        "differential": per_contrast(rules.differential.output.tables)[CONTRAST_ALL],
        "patient_changes": rules.differential.output.changes,
    }
    if ELISA_ENABLED:
        inputs["elisa"] = (
            rules.join_results.output.patients
        )  # elisa_<analyte>: log2 change
    return inputs


def final_outputs():
    """Every final output of the workflow: the outputs of each rule that runs with this config
    (each path is written once, in its rule)."""
    steps = [rules.import_abundance]
    if DPC_ENABLED:
        steps += [rules.quantify, rules.plot_dpc]
    steps += [
        rules.normalize,
        rules.plot_normalization,
        rules.qc,
        rules.plot_qc,
        rules.differential,
        rules.plot_differential,
        rules.enrichment,
        rules.pathway_scores,
        rules.plot_enrichment,
    ]
    if _imputation_enabled():
        steps.append(rules.impute)
    if ELISA_ENABLED:
        steps += [
            rules.elisa_values,
            rules.elisa_tests,
            rules.join_results,
            rules.plot_elisa,
        ]
        if ELISA_PLATES:
            steps += [rules.elisa_plates, rules.plot_elisa_standard_curves]
    if CLINICAL_ENABLED:
        steps += [
            rules.clinical_endpoints,
            rules.clinical_correlations,
            rules.plot_clinical,
        ]
    return [path for step in steps for path in step.output]
