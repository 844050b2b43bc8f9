# ELISA tear cytokines: read the lab table (and, optionally, raw plates through a 4PL standard curve),
# normalise analytes/units, censor by policy, test baseline vs follow-up per analyte and contrast,
# and join the results with the mass-spec proteome and the Th17/IL-17 focus-set scores.
# Uses from common.smk: ELISA_ENABLED, SAMPLE_SHEET, CONTRASTS, SUBGROUPS, resolve_input.
# Input functions and targets of these rules: common.smk.


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
        figures=[
            report(
                f"results/figures/elisa_standard_curve_{plate}.png",
                caption="../report/elisa_standard_curve.rst",
                category="ELISA",
                labels={"figure": "standard curve", "plate": plate},
            )
            for plate in ELISA_PLATE_NAMES
        ],
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
        settings=ELISA_SETTINGS,
    script:
        "../../scripts/elisa_plates.py"


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
        table_name=config.get("elisa"),
        settings=ELISA_SETTINGS,
        timepoints=config["timepoints"],
    script:
        "../../scripts/elisa.py"


rule elisa_tests:
    input:
        values="results/elisa/values.tsv",
        sheet=SAMPLE_SHEET,
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
        settings=ELISA_SETTINGS,
        timepoints=config["timepoints"],
        contrasts=CONTRASTS,
        subgroups=SUBGROUPS,
    script:
        "../../scripts/elisa.py"


rule join_results:
    input:
        tests="results/elisa/paired_tests.tsv",
        changes="results/elisa/patient_changes.tsv",
        differential=expand("results/differential/{contrast}.tsv", contrast=CONTRASTS),
        enrichment=expand("results/enrichment/{contrast}.tsv", contrast=CONTRASTS),
        ms_changes="results/differential/patient_changes.tsv",
        scores="results/enrichment/score_changes.tsv",
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
        settings=ELISA_SETTINGS,
        contrasts=CONTRASTS,
        timepoints=config["timepoints"],
        seed=config["seed"],
    script:
        "../../scripts/join_results.py"


rule plot_elisa:
    input:
        changes="results/elisa/patient_changes.tsv",
        tests="results/elisa/paired_tests.tsv",
        patients="results/joined/patients.tsv",
        correlations="results/joined/correlations.tsv",
        sheet=SAMPLE_SHEET,
    output:
        paired=report(
            "results/figures/elisa_paired.png",
            caption="../report/elisa_paired.rst",
            category="ELISA",
            labels={"figure": "paired before/after"},
        ),
        scatter=report(
            "results/figures/elisa_vs_focus_score.png",
            caption="../report/elisa_vs_focus_score.rst",
            category="ELISA",
            labels={"figure": "ELISA vs focus score"},
        ),
        heatmap=report(
            "results/figures/correlation_heatmap.png",
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
        settings=ELISA_SETTINGS,
        timepoints=config["timepoints"],
    script:
        "../../scripts/plot_elisa.py"
