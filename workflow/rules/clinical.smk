# Clinical endpoints beside the proteome (only when config["clinical"] names a table):
# change from baseline of OSDI, TMH, NIBUT, Schirmer, staining... per subgroup and visit, and
# Spearman correlations of the clinical change with tear changes (gene-set scores, top proteins,
# ELISA when configured).

import sys

import yaml

CLINICAL_SCHEMA = workflow.source_path("../schemas/clinical.schema.yaml")


def clinical_section():
    """The config's clinical_analysis section (defaults are filled in by scripts/clinical.py)."""
    return config.get("clinical_analysis") or {}


def _clinical_endpoint_table():
    import clinical as clinical_step

    return resolve_input(
        clinical_step.clinical_settings(clinical_section())["endpoints"]
    )


def _check_clinical_table():
    """Validate the clinical table before any rule runs (columns, spellings, numbers, visits)."""
    import clinical as clinical_step
    from tearflow.errors import TearflowError

    try:
        settings = clinical_step.clinical_settings(clinical_section())
        definitions = clinical_step.read_endpoint_definitions(
            _clinical_endpoint_table()
        )
        with open(CLINICAL_SCHEMA, encoding="utf-8") as stream:
            schema = yaml.safe_load(stream)
        clinical_step.load_clinical(
            resolve_input(config["clinical"]),
            definitions,
            schema,
            settings,
            config["timepoints"]["baseline"],
        )
    except TearflowError as error:
        sys.exit(f"tearflow: {error}")


if CLINICAL_ENABLED:
    _check_clinical_table()


def clinical_targets():
    """Final outputs of the clinical step; none when config["clinical"] is null."""
    if not CLINICAL_ENABLED:
        return []
    return [
        "results/clinical/values.tsv",
        "results/clinical/summary.tsv",
        "results/clinical/endpoint_tests.tsv",
        "results/clinical/correlations.tsv",
        "results/figures/clinical_trajectories.png",
        "results/figures/clinical_correlation_heatmap.png",
    ]


def clinical_join_inputs(wildcards):
    """Tear changes to correlate with: gene-set scores and proteins always, ELISA when enabled."""
    inputs = {
        "values": "results/clinical/values.tsv",
        "score_changes": "results/enrichment/score_changes.tsv",
        "differential": f"results/differential/{CONTRAST_ALL}.tsv",
        "patient_changes": "results/differential/patient_changes.tsv",
    }
    if ELISA_ENABLED:
        inputs["elisa"] = "results/joined/patients.tsv"  # elisa_<analyte>: log2 change
    return inputs


rule clinical_endpoints:
    input:
        table=lambda wildcards: resolve_input(config["clinical"]),
        endpoints=lambda wildcards: _clinical_endpoint_table(),
        schema=CLINICAL_SCHEMA,
        sheet=SAMPLE_SHEET,
    output:
        values="results/clinical/values.tsv",
        summary="results/clinical/summary.tsv",
        tests=report(
            "results/clinical/endpoint_tests.tsv",
            caption="../report/clinical_endpoint_tests.rst",
            category="Clinical",
        ),
    log:
        "logs/clinical_endpoints.log",
    benchmark:
        "results/benchmarks/clinical_endpoints.tsv"
    conda:
        "../../envs/tearflow.yaml"
    resources:
        mem_mb=mem_mb_for(1000, 0),
        runtime=runtime_for(10, 0),
    params:
        clinical=clinical_section(),
        baseline=config["timepoints"]["baseline"],
    script:
        "../../scripts/clinical.py"


rule clinical_correlations:
    input:
        unpack(clinical_join_inputs),
    output:
        correlations=report(
            "results/clinical/correlations.tsv",
            caption="../report/clinical_correlations.rst",
            category="Clinical",
        ),
    log:
        "logs/clinical_correlations.log",
    benchmark:
        "results/benchmarks/clinical_correlations.tsv"
    conda:
        "../../envs/tearflow.yaml"
    resources:
        mem_mb=mem_mb_for(1000, 20),
        runtime=runtime_for(10, 1),
    params:
        clinical=clinical_section(),
        seed=config.get("seed"),
    script:
        "../../scripts/clinical_join.py"


rule clinical_trajectories_plot:
    input:
        values="results/clinical/values.tsv",
        summary="results/clinical/summary.tsv",
        endpoints=lambda wildcards: _clinical_endpoint_table(),
    output:
        trajectories=report(
            "results/figures/clinical_trajectories.png",
            caption="../report/clinical_trajectories.rst",
            category="Clinical",
        ),
    log:
        "logs/clinical_trajectories_plot.log",
    benchmark:
        "results/benchmarks/clinical_trajectories_plot.tsv"
    localrule: True
    conda:
        "../../envs/tearflow.yaml"
    params:
        clinical=clinical_section(),
        baseline=config["timepoints"]["baseline"],
    script:
        "../../scripts/plot_clinical.py"


rule clinical_correlation_heatmap_plot:
    input:
        correlations="results/clinical/correlations.tsv",
    output:
        heatmap=report(
            "results/figures/clinical_correlation_heatmap.png",
            caption="../report/clinical_correlation_heatmap.rst",
            category="Clinical",
        ),
    log:
        "logs/clinical_correlation_heatmap_plot.log",
    benchmark:
        "results/benchmarks/clinical_correlation_heatmap_plot.tsv"
    localrule: True
    conda:
        "../../envs/tearflow.yaml"
    params:
        clinical=clinical_section(),
        baseline=config["timepoints"]["baseline"],
    script:
        "../../scripts/plot_clinical.py"
