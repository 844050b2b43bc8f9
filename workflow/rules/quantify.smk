# DPC quantification (quantification.method: dpc): proteins from their observed and missing precursors
# through the detection probability curve, each value with its standard error (limpa dpc →
# dpcQuant; a protein-level table row by row, dpcQuantByRow), and the curve's figure.
# Input functions: common.smk.


rule quantify:
    input:
        unpack(quantify_input),
    output:
        values="results/abundance/quantified.tsv",
        standard_errors="results/abundance/quantified_se.tsv",
        observed="results/abundance/quantified_observed.tsv",
        proteins="results/qc/protein_quantification.tsv",
        curve=report(
            "results/qc/dpc.tsv",
            caption="../report/dpc_table.rst",
            category="Quality control",
        ),
        detection="results/qc/dpc_detection.tsv",
    log:
        "logs/quantify.log",
    benchmark:
        "results/benchmarks/quantify.tsv"
    conda:
        "../../envs/tearflow.yaml"
    resources:
        mem_mb=mem_mb_for(2000, 6),
        runtime=runtime_for(10, 0.1),
    params:
        quantification=report_safe(config["quantification"]),
        scale=report_safe({"input_is_log2": config["normalization"]["input_is_log2"]}),
    script:
        "../../scripts/quantify.py"


rule plot_dpc:
    input:
        curve=rules.quantify.output.curve,
        detection=rules.quantify.output.detection,
    output:
        figure=report(
            figure_path("dpc"),
            caption="../report/dpc.rst",
            category="Quality control",
        ),
    log:
        "logs/plot_dpc.log",
    benchmark:
        "results/benchmarks/plot_dpc.tsv"
    localrule: True
    conda:
        "../../envs/tearflow.yaml"
    params:
        figures=report_safe(config["figures"]),
    script:
        "../../scripts/plot_dpc.py"
