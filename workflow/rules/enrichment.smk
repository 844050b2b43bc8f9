# Th17 / IL-17 pathway enrichment, offline: ORA (up, down) and pre-ranked GSEA per contrast, focus-set
# scores per sample and their per-patient change, and the figures. Gene sets come only from GMT files
# (config `enrichment`), never from a web library.
# Input functions and targets of these rules: common.smk.


# One job for every contrast: gseapy (ORA) takes ~1.9 s to import, more than a contrast's whole
# enrichment at paper scale, and the differential step rewrites all contrast tables at once anyway.
rule enrichment:
    input:
        tables=expand("results/differential/{contrast}.tsv", contrast=CONTRASTS),
        focus=resolve_input(config["enrichment"]["focus_gmt"]),
        libraries=[path for _, path in _enrichment_libraries()],
    output:
        tables=expand("results/enrichment/{contrast}.tsv", contrast=CONTRASTS),
        curves=expand(
            "results/enrichment/gsea_curves/{contrast}.tsv", contrast=CONTRASTS
        ),
    log:
        "logs/enrichment.log",
    benchmark:
        "results/benchmarks/enrichment.tsv"
    conda:
        "../../envs/tearflow.yaml"
    resources:
        mem_mb=mem_mb_for(2000, 20),
        runtime=runtime_for(20, 2),
    params:
        enrichment=config["enrichment"],
        library_names=[name for name, _ in _enrichment_libraries()],
        seed=config["seed"],
        contrasts=CONTRASTS,
    script:
        "../../scripts/enrichment.py"


rule pathway_scores:
    input:
        abundance="results/abundance/normalized.tsv",
        sheet=SAMPLE_SHEET,
        focus=resolve_input(config["enrichment"]["focus_gmt"]),
    output:
        scores="results/enrichment/sample_scores.tsv",
        changes="results/enrichment/score_changes.tsv",
    log:
        "logs/pathway_scores.log",
    benchmark:
        "results/benchmarks/pathway_scores.tsv"
    conda:
        "../../envs/tearflow.yaml"
    resources:
        mem_mb=mem_mb_for(2000, 20),
        runtime=runtime_for(20, 2),
    params:
        enrichment=config["enrichment"],
        timepoints=config["timepoints"],
    script:
        "../../scripts/pathway_scores.py"


rule plot_enrichment_dotplot:
    input:
        tables=expand("results/enrichment/{contrast}.tsv", contrast=CONTRASTS),
    output:
        figures=[
            report(
                f"results/figures/enrichment_dotplot_{contrast}.png",
                caption="../report/enrichment_dotplot.rst",
                category="Enrichment",
                subcategory=contrast,
                labels={"contrast": contrast, "type": "dot plot"},
            )
            for contrast in CONTRASTS
        ],
    log:
        "logs/plot_enrichment_dotplot.log",
    benchmark:
        "results/benchmarks/plot_enrichment_dotplot.tsv"
    localrule: True
    conda:
        "../../envs/tearflow.yaml"
    params:
        kind="dotplot",
        enrichment=config["enrichment"],
        contrasts=CONTRASTS,
    script:
        "../../scripts/plot_enrichment.py"


rule plot_gsea_focus:
    input:
        tables=expand("results/enrichment/{contrast}.tsv", contrast=CONTRASTS),
        curves=expand(
            "results/enrichment/gsea_curves/{contrast}.tsv", contrast=CONTRASTS
        ),
    output:
        figures=[
            report(
                f"results/figures/gsea_focus_{contrast}.png",
                caption="../report/gsea_focus.rst",
                category="Enrichment",
                subcategory=contrast,
                labels={"contrast": contrast, "type": "GSEA focus sets"},
            )
            for contrast in CONTRASTS
        ],
    log:
        "logs/plot_gsea_focus.log",
    benchmark:
        "results/benchmarks/plot_gsea_focus.tsv"
    localrule: True
    conda:
        "../../envs/tearflow.yaml"
    params:
        kind="gsea_focus",
        contrasts=CONTRASTS,
    script:
        "../../scripts/plot_enrichment.py"


rule plot_focus_gene_changes:
    input:
        changes="results/differential/patient_changes.tsv",
        sheet=SAMPLE_SHEET,
        focus=resolve_input(config["enrichment"]["focus_gmt"]),
    output:
        report(
            "results/figures/focus_gene_changes.png",
            caption="../report/focus_gene_changes.rst",
            category="Enrichment",
        ),
    log:
        "logs/plot_focus_gene_changes.log",
    benchmark:
        "results/benchmarks/plot_focus_gene_changes.tsv"
    localrule: True
    conda:
        "../../envs/tearflow.yaml"
    params:
        kind="focus_gene_changes",
    script:
        "../../scripts/plot_enrichment.py"
