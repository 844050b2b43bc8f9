# Import: search-engine tables (one per batch) → one matrix over the sheet's samples: protein × sample
# (results/abundance/raw.tsv), or precursor × sample for DPC quantification
# (results/abundance/precursors.parquet). Formats, gene symbols and sample matching: the package's
# readers, genes and abundance_import. Input functions: common.smk.


rule import_abundance:
    input:
        unpack(import_optional_inputs),
        tables=[resolve_input(t["path"]) for t in config["proteomics"]],
        samples=SAMPLE_SHEET,
    output:
        table=IMPORTED_TABLE,
        removed="results/abundance/removed_proteins.tsv",
        summary=report(
            "results/qc/import_summary.tsv",
            caption="../report/import_summary.rst",
            category="Quality control",
        ),
        runs="results/abundance/sample_runs.tsv",
    log:
        "logs/import_abundance.log",
    benchmark:
        "results/benchmarks/import_abundance.tsv"
    conda:
        "../../envs/tearflow.yaml"
    resources:
        mem_mb=mem_mb_for(1000, 20),
        runtime=runtime_for(10, 1),
    params:
        tables=report_safe(import_table_entries()),
        options=report_safe(config["import"]),
        precursor_level=IMPORT_LEVEL == PRECURSOR_LEVEL,
    script:
        "../../scripts/import_abundance.py"
