# Normalization (log2, sample exclusion, per-sample offsets), optional imputation, and quality
# control of the normalized matrix. Config sections `normalization`, `imputation`, `qc`.
# Input functions and targets of these rules: common.smk.


rule normalize:
    input:
        raw="results/abundance/raw.tsv",
        samples=SAMPLE_SHEET,
        reference_proteins=_reference_proteins_file(),
    output:
        normalized="results/abundance/normalized.tsv",
        offsets=report(
            "results/qc/normalization.tsv",
            caption="../report/normalization_table.rst",
            category="Quality control",
        ),
        distributions=report(
            "results/figures/normalization_distributions.png",
            caption="../report/normalization_distributions.rst",
            category="Quality control",
        ),
        offsets_figure=report(
            "results/figures/normalization_offsets.png",
            caption="../report/normalization_offsets.rst",
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
        normalization=config.get("normalization") or {},
    script:
        "../../scripts/normalize.py"


rule impute:
    input:
        normalized="results/abundance/normalized.tsv",
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
        imputation=config.get("imputation") or {},
        seed=config["seed"],
    script:
        "../../scripts/impute.py"


rule qc:
    input:
        normalized="results/abundance/normalized.tsv",
        samples=SAMPLE_SHEET,
    output:
        sample_qc=report(
            "results/qc/sample_qc.tsv",
            caption="../report/qc_samples.rst",
            category="Quality control",
        ),
        protein_qc="results/qc/protein_qc.tsv",
        missingness=report(
            "results/figures/qc_missingness.png",
            caption="../report/qc_missingness.rst",
            category="Quality control",
        ),
        distributions=report(
            "results/figures/qc_distributions.png",
            caption="../report/qc_distributions.rst",
            category="Quality control",
        ),
        correlation=report(
            "results/figures/qc_correlation.png",
            caption="../report/qc_correlation.rst",
            category="Quality control",
        ),
        pca=report(
            "results/figures/qc_pca.png",
            caption="../report/qc_pca.rst",
            category="Quality control",
        ),
        cv=report(
            "results/figures/qc_cv.png",
            caption="../report/qc_cv.rst",
            category="Quality control",
        ),
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
        qc=config.get("qc") or {},
    script:
        "../../scripts/qc.py"
