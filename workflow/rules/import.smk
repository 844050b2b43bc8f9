# Import: search-engine protein tables (one per batch) → results/abundance/raw.tsv (protein × sample).
# Formats, gene symbols and sample matching: scripts/tearflow/readers/, scripts/tearflow/genes.py.


def import_targets():
    return ["results/abundance/raw.tsv", "results/qc/import_summary.tsv"]


def import_table_entries():
    """The configured tables with resolved paths: [{path, format, batch}]."""
    return [
        {
            "path": resolve_input(table["path"]),
            "format": table.get("format") or "auto",
            "batch": table.get("batch"),
        }
        for table in config["proteomics"]
    ]


def import_optional_inputs(wildcards):
    """gene_map and fasta, each only when the config names one."""
    optional = {}
    for key in ("gene_map", "fasta"):
        if config.get(key) is not None:
            optional[key] = resolve_input(config[key])
    return optional


rule import_abundance:
    input:
        unpack(import_optional_inputs),
        tables=[resolve_input(t["path"]) for t in config["proteomics"]],
        samples=SAMPLE_SHEET,
    output:
        raw="results/abundance/raw.tsv",
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
        tables=import_table_entries(),
        options=config.get("import", {}),
    script:
        "../../scripts/import_abundance.py"
