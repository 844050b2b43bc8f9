# Normalization (log2, sample exclusion, per-sample offsets), optional imputation, and quality
# control of the normalized matrix, each with its figures drawn by a plot rule. Config sections
# `normalization`, `imputation`, `qc`. Input functions: common.smk.


rule normalize:
    input:
        unpack(unnormalized_input),
        samples=SAMPLE_SHEET,
        import_summary=rules.import_abundance.output.summary,
        reference_proteins=_reference_proteins_file(),
    output:
        normalized="results/abundance/normalized.tsv",
        offsets=report(
            "results/qc/normalization.tsv",
            caption="../report/normalization_table.rst",
            category="Quality control",
        ),
    log:
        "logs/normalize.log",
    benchmark:
        "results/benchmarks/normalize.tsv"
    conda:
        "../../envs/tearflow.yaml"
    resources:
        mem_mb=mem_mb_for(1000, 20),
        runtime=runtime_for(10, 1),
    params:
        normalization=report_safe(normalization_settings()),
    script:
        "../../scripts/normalize.py"


rule plot_normalization:
    input:
        unpack(unnormalized_input),
        normalized=rules.normalize.output.normalized,
        offsets=rules.normalize.output.offsets,
        samples=SAMPLE_SHEET,
    output:
        distributions=report(
            figure_path("normalization_distributions"),
            caption="../report/normalization_distributions.rst",
            category="Quality control",
        ),
        offsets=report(
            figure_path("normalization_offsets"),
            caption="../report/normalization_offsets.rst",
            category="Quality control",
        ),
    log:
        "logs/plot_normalization.log",
    benchmark:
        "results/benchmarks/plot_normalization.tsv"
    conda:
        "../../envs/tearflow.yaml"
    resources:
        mem_mb=mem_mb_for(1000, 20),
        runtime=runtime_for(10, 1),
    params:
        figures=report_safe(config["figures"]),
        normalization=report_safe(normalization_settings()),
    script:
        "../../scripts/plot_normalization.py"


rule impute:
    input:
        normalized=rules.normalize.output.normalized,
    output:
        imputed="results/abundance/imputed.tsv",
        mask="results/abundance/imputed_mask.tsv",
        summary=report(
            "results/qc/imputation_summary.tsv",
            caption="../report/qc_imputation.rst",
            category="Quality control",
        ),
    log:
        "logs/impute.log",
    benchmark:
        "results/benchmarks/impute.tsv"
    conda:
        "../../envs/tearflow.yaml"
    resources:
        mem_mb=mem_mb_for(1000, 20),
        runtime=runtime_for(10, 1),
    params:
        imputation=report_safe(config["imputation"]),
        seed=config["seed"],
    script:
        "../../scripts/impute.py"


rule qc:
    input:
        unpack(qc_input),
    output:
        sample_qc=report(
            "results/qc/sample_qc.tsv",
            caption="../report/qc_samples.rst",
            category="Quality control",
        ),
        protein_qc="results/qc/protein_qc.tsv",
        correlation="results/qc/sample_correlation.tsv",
        pca_variance="results/qc/pca_variance.tsv",
    log:
        "logs/qc.log",
    benchmark:
        "results/benchmarks/qc.tsv"
    conda:
        "../../envs/tearflow.yaml"
    resources:
        mem_mb=mem_mb_for(1000, 20),
        runtime=runtime_for(10, 1),
    params:
        qc=report_safe(config["qc"]),
    script:
        "../../scripts/qc.py"


rule plot_qc:
    input:
        normalized=rules.normalize.output.normalized,
        sample_qc=rules.qc.output.sample_qc,
        protein_qc=rules.qc.output.protein_qc,
        correlation=rules.qc.output.correlation,
        pca_variance=rules.qc.output.pca_variance,
    output:
        missingness=report(
            figure_path("qc_missingness"),
            caption="../report/qc_missingness.rst",
            category="Quality control",
        ),
        distributions=report(
            figure_path("qc_distributions"),
            caption="../report/qc_distributions.rst",
            category="Quality control",
        ),
        correlation=report(
            figure_path("qc_correlation"),
            caption="../report/qc_correlation.rst",
            category="Quality control",
        ),
        pca=report(
            figure_path("qc_pca"),
            caption="../report/qc_pca.rst",
            category="Quality control",
        ),
        cv=report(
            figure_path("qc_cv"),
            caption="../report/qc_cv.rst",
            category="Quality control",
        ),
    log:
        "logs/plot_qc.log",
    benchmark:
        "results/benchmarks/plot_qc.tsv"
    conda:
        "../../envs/tearflow.yaml"
    resources:
        mem_mb=mem_mb_for(1000, 20),
        runtime=runtime_for(10, 1),
    params:
        figures=report_safe(config["figures"]),
    script:
        "../../scripts/plot_qc.py"
