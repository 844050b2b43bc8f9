# ELISA tear cytokines: read the lab table (and, optionally, raw plates through a 4PL standard curve),
# normalise analytes/units, censor by policy, test baseline vs follow-up per analyte and contrast,
# and join the results with the mass-spec proteome and the Th17/IL-17 focus-set scores.
# Input functions: common.smk.


rule elisa_plates:
    input:
        plates=resolve_input(ELISA_PLATES) if ELISA_PLATES else [],
    output:
        concentrations="results/elisa/plate_concentrations.tsv",
        fits=report(
            "results/elisa/plate_fits.tsv",
            caption="../report/elisa_plate_fits.rst",
            category="ELISA",
            labels={"table": "4PL standard curves"},
        ),
    log:
        "logs/elisa_plates.log",
    benchmark:
        "results/benchmarks/elisa_plates.tsv"
    conda:
        "../../envs/tearflow.yaml"
    resources:
        mem_mb=mem_mb_for(1000, 0),
        runtime=runtime_for(10, 0),
    params:
        settings=report_safe(ELISA_SETTINGS),
    script:
        "../../scripts/elisa_plates.py"


rule plot_elisa_standard_curves:
    input:
        plates=resolve_input(ELISA_PLATES) if ELISA_PLATES else [],
        fits=rules.elisa_plates.output.fits,
        concentrations=rules.elisa_plates.output.concentrations,
    output:
        figures=[
            report(
                figure_path(f"elisa_standard_curve_{plate}"),
                caption="../report/elisa_standard_curve.rst",
                category="ELISA",
                labels={"figure": "standard curve", "plate": plate},
            )
            for plate in ELISA_PLATE_NAMES
        ],
    log:
        "logs/plot_elisa_standard_curves.log",
    benchmark:
        "results/benchmarks/plot_elisa_standard_curves.tsv"
    localrule: True
    conda:
        "../../envs/tearflow.yaml"
    params:
        figures=report_safe(config["figures"]),
    script:
        "../../scripts/plot_elisa_standard_curves.py"


rule elisa_values:
    input:
        unpack(elisa_value_inputs),
    output:
        values=report(
            "results/elisa/values.tsv",
            caption="../report/elisa_values.rst",
            category="ELISA",
            labels={"table": "values (pg/mL, censored)"},
        ),
    log:
        "logs/elisa_values.log",
    benchmark:
        "results/benchmarks/elisa_values.tsv"
    localrule: True
    conda:
        "../../envs/tearflow.yaml"
    params:
        table_names=report_safe([config["elisa"]]),
        settings=report_safe(ELISA_SETTINGS),
        timepoints=report_safe(config["timepoints"]),
    script:
        "../../scripts/elisa_values.py"


rule elisa_tests:
    input:
        values=rules.elisa_values.output.values,
    output:
        tests=report(
            "results/elisa/paired_tests.tsv",
            caption="../report/elisa_paired_tests.rst",
            category="ELISA",
            labels={"table": "paired tests"},
        ),
        changes="results/elisa/patient_changes.tsv",
    log:
        "logs/elisa_tests.log",
    benchmark:
        "results/benchmarks/elisa_tests.tsv"
    localrule: True
    conda:
        "../../envs/tearflow.yaml"
    params:
        settings=report_safe(ELISA_SETTINGS),
        timepoints=report_safe(config["timepoints"]),
        contrasts=report_safe(CONTRASTS),
        subgroups=report_safe(SUBGROUPS),
    script:
        "../../scripts/elisa_tests.py"


rule join_results:
    input:
        tests=rules.elisa_tests.output.tests,
        changes=rules.elisa_tests.output.changes,
        differential=rules.differential.output.tables,
        enrichment=rules.enrichment.output.tables,
        ms_changes=rules.differential.output.changes,
        scores=rules.pathway_scores.output.changes,
        sheet=SAMPLE_SHEET,
    output:
        analytes=report(
            "results/joined/analytes.tsv",
            caption="../report/joined_analytes.rst",
            category="ELISA",
            labels={"table": "ELISA + mass spec + focus sets"},
        ),
        patients=report(
            "results/joined/patients.tsv",
            caption="../report/joined_patients.rst",
            category="ELISA",
            labels={"table": "per-patient changes"},
        ),
        correlations=report(
            "results/joined/correlations.tsv",
            caption="../report/joined_correlations.rst",
            category="ELISA",
            labels={"table": "correlations"},
        ),
    log:
        "logs/join_results.log",
    benchmark:
        "results/benchmarks/join_results.tsv"
    localrule: True
    conda:
        "../../envs/tearflow.yaml"
    params:
        correlation=report_safe(config["correlation"]),
        contrasts=report_safe(CONTRASTS),
        timepoints=report_safe(config["timepoints"]),
        seed=config["seed"],
    script:
        "../../scripts/join_results.py"


rule plot_elisa:
    input:
        changes=rules.elisa_tests.output.changes,
        tests=rules.elisa_tests.output.tests,
        patients=rules.join_results.output.patients,
        correlations=rules.join_results.output.correlations,
        sheet=SAMPLE_SHEET,
    output:
        paired=report(
            figure_path("elisa_paired"),
            caption="../report/elisa_paired.rst",
            category="ELISA",
            labels={"figure": "paired before/after"},
        ),
        scatter=report(
            figure_path("elisa_vs_focus_score"),
            caption="../report/elisa_vs_focus_score.rst",
            category="ELISA",
            labels={"figure": "ELISA vs focus score"},
        ),
        heatmap=report(
            figure_path("correlation_heatmap"),
            caption="../report/correlation_heatmap.rst",
            category="ELISA",
            labels={"figure": "correlation heatmap"},
        ),
    log:
        "logs/plot_elisa.log",
    benchmark:
        "results/benchmarks/plot_elisa.tsv"
    localrule: True
    conda:
        "../../envs/tearflow.yaml"
    params:
        figures=report_safe(config["figures"]),
        correlation=report_safe(config["correlation"]),
        timepoints=report_safe(config["timepoints"]),
    script:
        "../../scripts/plot_elisa.py"
