# Paired differential abundance (follow-up − baseline per patient), limma-style moderated t per
# contrast; volcano plots and a heatmap of the significant per-patient changes.
# Input functions: common.smk.


# One job for every contrast: the subgroup contrasts and the interaction come from one fit whose
# residual variance is pooled across the subgroups, so they cannot be split into jobs.
rule differential:
    input:
        unpack(differential_input),
    output:
        tables=[
            report(
                path,
                caption="../report/differential_table.rst",
                category="Differential abundance",
                labels={"contrast": contrast, "type": "table"},
            )
            for contrast, path in per_contrast(
                "results/differential/{contrast}.tsv"
            ).items()
        ],
        changes="results/differential/patient_changes.tsv",
    log:
        "logs/differential.log",
    benchmark:
        "results/benchmarks/differential.tsv"
    conda:
        "../../envs/tearflow.yaml"
    resources:
        mem_mb=mem_mb_for(base_mb=1000, per_input_mb=20),
        runtime=runtime_for(base_min=10, per_input_mb=1),
    params:
        differential=report_safe(config["differential"]),
        timepoints=report_safe(config["timepoints"]),
        contrasts=report_safe(CONTRASTS),
    script:
        "../../scripts/differential.py"


# One job draws every contrast's volcano and the heatmap: each job costs a Python start with
# matplotlib (~1 s), more than drawing a figure at any scale the benchmark covers.
rule plot_differential:
    input:
        unpack(focus_gmt_input),
        tables=rules.differential.output.tables,
        changes=rules.differential.output.changes,
        samples=SAMPLE_SHEET,
    output:
        volcanoes=[
            report(
                path,
                caption="../report/volcano.rst",
                category="Differential abundance",
                labels={"contrast": contrast, "type": "volcano"},
            )
            for contrast, path in per_contrast(
                figure_path("volcano_{contrast}")
            ).items()
        ],
        heatmap=report(
            figure_path("heatmap_significant"),
            caption="../report/heatmap_significant.rst",
            category="Differential abundance",
            labels={"contrast": "any", "type": "heatmap"},
        ),
    log:
        "logs/plot_differential.log",
    benchmark:
        "results/benchmarks/plot_differential.tsv"
    localrule: True
    conda:
        "../../envs/tearflow.yaml"
    params:
        figures=report_safe(config["figures"]),
        differential=report_safe(config["differential"]),
        timepoints=report_safe(config["timepoints"]),
        contrasts=report_safe(CONTRASTS),
    script:
        "../../scripts/plot_differential.py"
