"""tearflow.joins: the ELISA analyte join, the patient table and the ELISA correlations."""

import math

import numpy as np
import pandas as pd
import pytest
from conftest import config_section

from tearflow import joins as join_results
from tearflow.correlation import CORRELATION_COLUMNS

PATIENTS = ["A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4"]
SUBGROUP = {p: p[0] for p in PATIENTS}
GENES = {"IL6": "IL6", "IL23A": "IL23A"}
FOCUS = "IL17 signaling"


@pytest.fixture
def tests():
    rows = []
    for analyte, gene in GENES.items():
        for contrast in ["A", "B", "all"]:
            rows.append(
                {
                    "analyte": analyte,
                    "gene": gene,
                    "contrast": contrast,
                    "n_pairs": 4,
                    "median_baseline": 10.0,
                    "median_followup": 5.0,
                    "median_log2_ratio": -1.0,
                    "wilcoxon_p": 0.1,
                    "ttest_p": 0.05,
                    "wilcoxon_fdr": 0.2,
                    "ttest_fdr": 0.1,
                    "censoring": "lloq_half",
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def differential():
    table = pd.DataFrame(
        {
            "protein": ["P05231", "P05231-2", "P02788"],
            "gene": ["IL6", "IL6", "LTF"],
            "log2fc": [-0.8, -0.1, 0.3],
            "t": [-3.0, -0.2, 1.0],
            "pvalue": [0.01, 0.8, 0.3],
            "fdr": [0.05, 0.9, 0.5],
            "n_pairs": [8, 3, 8],
            "mean_log2_abundance": [20, 18, 25],
            "significant": [True, False, False],
        }
    )
    return {"A": table, "B": table, "all": table}


@pytest.fixture
def enrichment():
    table = pd.DataFrame(
        {
            "gene_set": [FOCUS, FOCUS, "Other"],
            "source": "focus",
            "method": ["gsea", "ora_down", "gsea"],
            "statistic": [-1.8, 2.0, 1.1],
            "pvalue": [0.002, 0.04, 0.3],
            "fdr": [0.01, 0.08, 0.4],
            "genes": ["IL6;CXCL8", "IL6", "X"],
            "set_size": [30, 30, 20],
            "overlap": [2, 1, 1],
            "focus": ["True", "True", "False"],
        }
    )
    return {"A": table, "all": table}


@pytest.fixture
def elisa_changes():
    rng = np.random.default_rng(0)
    rows = []
    for analyte, gene in GENES.items():
        for patient in PATIENTS:
            rows.append(
                {
                    "analyte": analyte,
                    "gene": gene,
                    "patient": patient,
                    "subgroup": SUBGROUP[patient],
                    "log2_ratio": rng.normal(),
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def scores(elisa_changes):
    il6 = elisa_changes[elisa_changes["analyte"] == "IL6"].set_index("patient")["log2_ratio"]
    return pd.DataFrame(
        {
            "gene_set": FOCUS,
            "patient": PATIENTS,
            "subgroup": [SUBGROUP[p] for p in PATIENTS],
            "change": [2 * il6[p] + 1 for p in PATIENTS],
        }
    )


@pytest.fixture
def ms_changes():
    values = np.arange(len(PATIENTS), dtype=float)
    return pd.DataFrame(
        [["P05231", "IL6", *values], ["P05231-2", "IL6", *([np.nan] * 6 + [1.0, 2.0])], ["P02788", "LTF", *(-values)]],
        columns=["protein", "gene", *PATIENTS],
    )


def test_joined_analytes(tests, differential, enrichment):
    joined = join_results.joined_analytes(tests, differential, enrichment)
    assert len(joined) == len(tests)
    il6 = joined[(joined["analyte"] == "IL6") & (joined["contrast"] == "all")].iloc[0]
    assert il6["ms_protein"] == "P05231" and il6["ms_log2fc"] == -0.8 and il6["ms_n_pairs"] == 8
    assert "2 protein groups" in il6["ms_note"]
    assert il6["direction_agrees"] is True or il6["direction_agrees"] == True  # noqa: E712
    assert il6["focus_set"] == FOCUS and il6["focus_method"] == "gsea" and il6["focus_fdr"] == 0.01
    assert il6["focus_sets_with_gene"] == FOCUS
    il23 = joined[(joined["analyte"] == "IL23A") & (joined["contrast"] == "all")].iloc[0]
    assert il23["ms_note"] == join_results.MS_NOT_DETECTED and math.isnan(il23["ms_log2fc"])
    assert pd.isna(il23["focus_sets_with_gene"])
    b = joined[(joined["analyte"] == "IL6") & (joined["contrast"] == "B")].iloc[0]
    assert b["focus_summary"] == "no focus-set result in this contrast"


def test_joined_patients(elisa_changes, scores, ms_changes):
    people = pd.DataFrame({"patient": PATIENTS, "subgroup": [SUBGROUP[p] for p in PATIENTS]})
    table = join_results.joined_patients(elisa_changes, scores, ms_changes, people, GENES, [FOCUS], ["A", "B"])
    assert list(table.columns) == [
        "patient",
        "subgroup",
        "elisa_IL6",
        "elisa_IL23A",
        f"score_{FOCUS}",
        "ms_IL6",
        "ms_IL23A",
    ]
    assert list(table["patient"]) == PATIENTS
    assert table["ms_IL6"].tolist() == list(range(8))  # the protein with most measured patients
    assert table["ms_IL23A"].isna().all() and table["elisa_IL6"].notna().all()


def test_elisa_correlations(elisa_changes, scores, ms_changes, differential):
    people = pd.DataFrame({"patient": PATIENTS, "subgroup": [SUBGROUP[p] for p in PATIENTS]})
    patients = join_results.joined_patients(elisa_changes, scores, ms_changes, people, GENES, [FOCUS], ["A", "B"])
    settings = config_section("correlation", min_patients=4, permutations=999, top_proteins=2)
    table = join_results.elisa_correlations(patients, GENES, differential["all"], ms_changes, ["A", "B"], settings, 7)
    assert list(table.columns) == ["analyte", "gene"] + CORRELATION_COLUMNS
    assert set(table["subgroup"]) == {"A", "B", "all"}
    proteins = table[table["feature_type"] == "protein"]
    assert list(dict.fromkeys(proteins["feature"])) == ["P05231", "P02788"]  # the 2 smallest p, tested
    focus = table[(table["analyte"] == "IL6") & (table["feature_type"] == "gene_set")]
    assert focus["rho"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert focus.set_index("subgroup").loc["all", "n_patients"] == 8
    assert (focus["pvalue"] > 0).all()
    own = table[table["feature_type"] == "same_gene"]
    assert set(own["analyte"]) == {"IL6", "IL23A"} and (own["feature"] == own["gene"]).all()
    assert own[own["analyte"] == "IL23A"]["rho"].isna().all()  # IL23A has no mass-spec protein
    assert table["fdr"].notna().sum() == table["pvalue"].notna().sum()
    again = join_results.elisa_correlations(patients, GENES, differential["all"], ms_changes, ["A", "B"], settings, 7)
    pd.testing.assert_frame_equal(table, again)  # seeded
