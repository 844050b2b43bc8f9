# Clinical endpoints beside the proteome (only when config["clinical"] names a table):
# change from baseline of OSDI, TMH, NIBUT, Schirmer, staining... per subgroup and visit, and
# Spearman correlations of the clinical change with tear changes (gene-set scores, top proteins,
# ELISA when configured).
# Input functions and targets of these rules: common.smk.


rule clinical_endpoints:
    input:
        table=lambda wildcards: resolve_input(config["clinical"]),
        endpoints=lambda wildcards: _clinical_endpoint_table(),
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
        clinical=report_safe(config["clinical_analysis"]),
        timepoints=report_safe(config["timepoints"]),
        schema=report_safe(CLINICAL_SCHEMA),
    script:
        "../../scripts/clinical_endpoints.py"


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
        clinical=report_safe(config["clinical_analysis"]),
        correlation=report_safe(config["correlation"]),
        seed=config["seed"],
    script:
        "../../scripts/clinical_correlations.py"


rule plot_clinical:
    input:
        sheet=SAMPLE_SHEET,
        values=rules.clinical_endpoints.output.values,
        summary=rules.clinical_endpoints.output.summary,
        endpoints=lambda wildcards: _clinical_endpoint_table(),
        correlations=rules.clinical_correlations.output.correlations,
    output:
        trajectories=report(
            figure_path("clinical_trajectories"),
            caption="../report/clinical_trajectories.rst",
            category="Clinical",
        ),
        heatmap=report(
            figure_path("clinical_correlation_heatmap"),
            caption="../report/clinical_correlation_heatmap.rst",
            category="Clinical",
        ),
    log:
        "logs/plot_clinical.log",
    benchmark:
        "results/benchmarks/plot_clinical.tsv"
    localrule: True
    conda:
        "../../envs/tearflow.yaml"
    params:
        figures=report_safe(config["figures"]),
        clinical=report_safe(config["clinical_analysis"]),
        correlation=report_safe(config["correlation"]),
        timepoints=report_safe(config["timepoints"]),
    script:
        "../../scripts/plot_clinical.py"
