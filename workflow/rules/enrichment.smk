# Th17 / IL-17 pathway enrichment, offline: ORA (up, down) and pre-ranked GSEA per contrast, focus-set
# scores per sample and their per-patient change, and the figures. Gene sets come only from GMT files
# (config `enrichment`), never from a web library. Input functions: common.smk.


# One job for every contrast: gseapy (ORA) takes ~1.9 s to import, more than a contrast's whole
# enrichment at paper scale, and the differential step rewrites all contrast tables at once anyway.
rule enrichment:
    input:
        tables=rules.differential.output.tables,
        focus=resolve_input(config["enrichment"]["focus_gmt"]),
        libraries=[path for _, path in _enrichment_libraries()],
    output:
        tables=list(per_contrast("results/enrichment/{contrast}.tsv").values()),
        curves=list(
            per_contrast("results/enrichment/gsea_curves/{contrast}.tsv").values()
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
        enrichment=report_safe(config["enrichment"]),
        library_names=report_safe([name for name, _ in _enrichment_libraries()]),
        seed=config["seed"],
        contrasts=report_safe(CONTRASTS),
    script:
        "../../scripts/enrichment.py"


rule pathway_scores:
    input:
        abundance=rules.normalize.output.normalized,
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
        enrichment=report_safe(config["enrichment"]),
        timepoints=report_safe(config["timepoints"]),
    script:
        "../../scripts/pathway_scores.py"


# One job draws every enrichment figure of every contrast: each job costs a Python start with
# matplotlib (~1 s), more than drawing a figure.
rule plot_enrichment:
    input:
        tables=rules.enrichment.output.tables,
        curves=rules.enrichment.output.curves,
        changes=rules.differential.output.changes,
        sheet=SAMPLE_SHEET,
        focus=resolve_input(config["enrichment"]["focus_gmt"]),
    output:
        dotplots=[
            report(
                path,
                caption="../report/enrichment_dotplot.rst",
                category="Enrichment",
                subcategory=contrast,
                labels={"contrast": contrast, "type": "dot plot"},
            )
            for contrast, path in per_contrast(
                figure_path("enrichment_dotplot_{contrast}")
            ).items()
        ],
        gsea_focus=[
            report(
                path,
                caption="../report/gsea_focus.rst",
                category="Enrichment",
                subcategory=contrast,
                labels={"contrast": contrast, "type": "GSEA focus sets"},
            )
            for contrast, path in per_contrast(
                figure_path("gsea_focus_{contrast}")
            ).items()
        ],
        focus_gene_changes=report(
            figure_path("focus_gene_changes"),
            caption="../report/focus_gene_changes.rst",
            category="Enrichment",
        ),
    log:
        "logs/plot_enrichment.log",
    benchmark:
        "results/benchmarks/plot_enrichment.tsv"
    localrule: True
    conda:
        "../../envs/tearflow.yaml"
    params:
        figures=report_safe(config["figures"]),
        timepoints=report_safe(config["timepoints"]),
        enrichment=report_safe(config["enrichment"]),
        contrasts=report_safe(CONTRASTS),
    script:
        "../../scripts/plot_enrichment.py"
