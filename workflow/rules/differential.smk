# Paired differential abundance (week 2 − baseline per patient), limma-style moderated t per
# contrast; volcano plots and a heatmap of the significant per-patient changes.
# Uses from common.smk: SAMPLE_SHEET, SAMPLES, CONTRASTS, resolve_input.
# Input functions and targets of these rules: common.smk.


rule differential:
    input:
        unpack(differential_input),
    output:
        tables=[
            report(
                f"results/differential/{contrast}.tsv",
                caption="../report/differential_table.rst",
                category="Differential abundance",
                labels={"contrast": contrast, "type": "table"},
            )
            for contrast in CONTRASTS
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
        differential=config["differential"],
        timepoints=config["timepoints"],
        contrasts=CONTRASTS,
        # the sheet as common.smk read and checked it: the step then needs no pandas (issue 8)
        sheet=SAMPLES.to_dict("records"),
    script:
        "../../scripts/differential.py"


rule plot_volcano:
    input:
        unpack(focus_gmt_input),
        tables=expand("results/differential/{contrast}.tsv", contrast=CONTRASTS),
    output:
        figures=[
            report(
                f"results/figures/volcano_{contrast}.png",
                caption="../report/volcano.rst",
                category="Differential abundance",
                labels={"contrast": contrast, "type": "volcano"},
            )
            for contrast in CONTRASTS
        ],
    log:
        "logs/plot_volcano.log",
    benchmark:
        "results/benchmarks/plot_volcano.tsv"
    localrule: True
    conda:
        "../../envs/tearflow.yaml"
    params:
        differential=config["differential"],
        contrasts=CONTRASTS,
    script:
        "../../scripts/plot_differential.py"


rule plot_heatmap_significant:
    input:
        tables=expand("results/differential/{contrast}.tsv", contrast=CONTRASTS),
        changes="results/differential/patient_changes.tsv",
        samples=SAMPLE_SHEET,
    output:
        report(
            "results/figures/heatmap_significant.png",
            caption="../report/heatmap_significant.rst",
            category="Differential abundance",
            labels={"contrast": "any", "type": "heatmap"},
        ),
    log:
        "logs/plot_heatmap_significant.log",
    benchmark:
        "results/benchmarks/plot_heatmap_significant.tsv"
    localrule: True
    conda:
        "../../envs/tearflow.yaml"
    params:
        differential=config["differential"],
        timepoints=config["timepoints"],
    script:
        "../../scripts/plot_differential.py"
