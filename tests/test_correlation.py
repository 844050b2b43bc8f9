"""tearflow.correlation: one Spearman procedure for the ELISA and clinical joins (features, the
per-subgroup table, BH families), and the clinical join built on it."""

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, config_section
from scipy import stats

from tearflow import correlation as corr
from tearflow.joins import clinical_correlations
from tearflow.multiple_testing import bh_adjust

SETTINGS = config_section("correlation")


def test_top_proteins_by_pvalue_skip_untested_and_keep_table_order_on_ties():
    differential = pd.DataFrame(
        {"protein": ["P1", "P2", "P3", "P4", "P5"], "gene": ["A", "B", "C", "D", "E"],
         "pvalue": [0.5, np.nan, 0.01, 0.2, 0.2]}
    )  # fmt: skip
    changes = pd.DataFrame(
        {"protein": ["P1", "P2", "P3", "P4", "P5"], "gene": ["A", "B", "C", "D", "E"],
         "NSDE01": [0.1, 0.2, 0.3, 0.4, 0.5], "SSDE01": [1.0, 2.0, 3.0, 4.0, 5.0]}
    )  # fmt: skip
    features = corr.top_protein_features(differential, changes, 3)
    assert list(dict.fromkeys(features[corr.FEATURE])) == ["P3", "P4", "P5"]
    p3 = features[features[corr.FEATURE] == "P3"].set_index("patient")
    assert p3.loc["SSDE01", "change"] == 3.0 and p3.loc["SSDE01", corr.FEATURE_GENE] == "C"
    assert set(features[corr.FEATURE_TYPE]) == {corr.PROTEIN_FEATURE}
    assert corr.top_protein_features(differential, changes, 0).empty


def test_wide_columns_become_features():
    joined = pd.DataFrame(
        {"patient": ["NSDE01", "SSDE01"], "subgroup": ["NSDE", "SSDE"],
         "elisa_IL17A": [-1.5, np.nan], "elisa_IL6": [0.5, 2.0], "score_IL-17": [0.1, 0.2]}
    )  # fmt: skip
    features = corr.wide_column_features(joined, "elisa_", corr.ELISA_FEATURE)
    assert set(features[corr.FEATURE]) == {"IL17A", "IL6"}
    indexed = features.set_index([corr.FEATURE, "patient"])
    assert indexed.loc[("IL17A", "NSDE01"), "change"] == -1.5
    assert np.isnan(indexed.loc[("IL17A", "SSDE01"), "change"])


def test_spearman_exact_for_small_n_and_nan_when_untestable():
    rng = np.random.default_rng(0)
    rho, pvalue, n = corr.spearman([1, 2, 3, 4, 5], [2, 4, 6, 8, 10], 5, 9999, rng)
    assert rho == pytest.approx(1.0) and n == 5
    assert pvalue == pytest.approx(2 / 120)  # only the two perfect pairings reach |rho| = 1
    rho, pvalue, n = corr.spearman([1, 2, 3, np.nan, 5], [1, 2, 3, 4, 5], 5, 9999, rng)
    assert np.isnan(rho) and np.isnan(pvalue) and n == 4  # too few patients: NaN, never p = 0
    assert np.isnan(corr.spearman([1, 1, 1, 1, 1], [1, 2, 3, 4, 5], 3, 9999, rng)[0])


def test_spearman_exact_matches_scipy_permutation():
    x = np.array([3.0, 1.0, 4.0, 1.5, 5.0, 9.0])
    y = np.array([2.0, 7.0, 1.0, 8.0, 2.5, 8.5])
    rho, pvalue, _ = corr.spearman(x, y, 3, 9999, np.random.default_rng(0))
    reference = stats.permutation_test(
        (x,), lambda a: stats.spearmanr(a, y).statistic, permutation_type="pairings", n_resamples=np.inf
    )
    assert rho == pytest.approx(stats.spearmanr(x, y).statistic)
    assert pvalue == pytest.approx(reference.pvalue)


def test_spearman_random_permutations_for_larger_n_are_seeded_and_never_zero():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=16), rng.normal(size=16)
    first = corr.spearman(x, y, 5, 2000, np.random.default_rng(1))
    assert first == corr.spearman(x, y, 5, 2000, np.random.default_rng(1))
    assert first[1] == pytest.approx(stats.spearmanr(x, y).pvalue, abs=0.05)
    perfect = corr.spearman(np.arange(16.0), np.arange(16.0), 5, 999, np.random.default_rng(1))
    assert perfect[1] == pytest.approx(1 / 1000)


def outcome_and_features():
    nsde = [f"NSDE{i:02d}" for i in range(1, 7)]
    ssde = [f"SSDE{i:02d}" for i in range(1, 6)]
    patients = nsde + ssde
    improvement = np.arange(len(patients), dtype=float)
    outcomes = pd.DataFrame(
        {"endpoint": "OSDI", "visit": "week2", "patient": patients, "value": improvement}
    )
    subgroup_of = {p: p[:4] for p in patients}
    tears = {p: v for p, v in zip(patients, improvement * 0.5 + 1)}  # same order: rho = 1
    tears.pop("SSDE05")  # no proteome for one patient
    tears["EXTRA"] = 3.0  # proteome without an outcome
    features = pd.concat(
        [
            corr.feature_table(corr.PROTEIN_FEATURE, "P1", "IL17A", list(tears), list(tears.values())),
            corr.feature_table(corr.GENE_SET_FEATURE, "IL17", None, list(tears), -np.array(list(tears.values()))),
        ],
        ignore_index=True,
    )
    return outcomes, features, subgroup_of


def test_correlations_per_subgroup_and_all_with_bh_per_family():
    outcomes, features, subgroup_of = outcome_and_features()
    table = corr.correlations(outcomes, ["endpoint", "visit"], features, subgroup_of, ["NSDE", "SSDE"],
                              SETTINGS, seed=1, visit_key="visit")  # fmt: skip
    assert list(table.columns) == ["endpoint", "visit"] + corr.CORRELATION_COLUMNS
    indexed = table.set_index(["subgroup", "feature"])
    assert indexed.loc[("NSDE", "P1"), "n_patients"] == 6
    assert indexed.loc[("NSDE", "P1"), "rho"] == pytest.approx(1.0)
    assert indexed.loc[("NSDE", "IL17"), "rho"] == pytest.approx(-1.0)
    assert indexed.loc[("all", "P1"), "n_patients"] == 10  # SSDE05 and EXTRA left out
    assert indexed.loc[("all", "P1"), corr.FEATURE_GENE] == "IL17A"
    assert np.isnan(indexed.loc[("SSDE", "P1"), "rho"])  # 4 patients < min_patients (5)
    assert indexed.loc[("SSDE", "P1"), "n_patients"] == 4
    family = table[(table["subgroup"] == "all") & (table["feature_type"] == corr.PROTEIN_FEATURE)]
    assert np.allclose(family["fdr"], bh_adjust(family["pvalue"].to_numpy()), equal_nan=True)
    again = corr.correlations(outcomes, ["endpoint", "visit"], features, subgroup_of, ["NSDE", "SSDE"],
                              SETTINGS, seed=1, visit_key="visit")  # fmt: skip
    pd.testing.assert_frame_equal(table, again)


def test_a_feature_for_one_outcome_is_correlated_with_that_outcome_only():
    patients = [f"P{i}" for i in range(6)]
    outcomes = pd.concat(
        [pd.DataFrame({"analyte": name, "patient": patients, "value": np.arange(6.0)}) for name in ("IL6", "IL17A")]
    )
    own = corr.feature_table(corr.SAME_GENE_FEATURE, "IL6", "IL6", patients, np.arange(6.0), for_outcome="IL6")
    table = corr.correlations(outcomes, ["analyte"], own, dict.fromkeys(patients, "A"), ["A"], SETTINGS, seed=1)
    assert sorted(set(table["analyte"])) == ["IL6"] and len(table) == 2  # subgroup A and all


def test_clinical_join_measures_improvement_or_raw_change():
    values = pd.DataFrame(
        {"patient": [f"N{i}" for i in range(6) for _ in range(2)], "subgroup": "NSDE",
         "visit": ["baseline", "week2"] * 6, "endpoint": "OSDI", "value": 40.0,
         "change": [0.0, -10.0] * 6, "improvement": [0.0, 10.0] * 6}
    )  # fmt: skip
    values.loc[values["visit"] == "week2", "improvement"] = np.arange(6.0)
    values.loc[values["visit"] == "week2", "change"] = -np.arange(6.0)
    scores = pd.DataFrame({"gene_set": "IL17", "patient": [f"N{i}" for i in range(6)], "change": np.arange(6.0)})
    differential = pd.DataFrame({"protein": ["P1"], "gene": ["G1"], "pvalue": [0.01]})
    changes = pd.DataFrame({"protein": ["P1"], "gene": ["G1"], **{f"N{i}": [float(i)] for i in range(6)}})
    clinical = config_section("clinical_analysis", correlate_visits=["week2"])
    for measure, sign in (("improvement", 1.0), ("change", -1.0)):
        table = clinical_correlations(
            values, {**clinical, "correlate_with": measure}, scores, differential, changes, None, SETTINGS, seed=3
        )
        assert list(table.columns[:3]) == ["endpoint", "visit", "clinical_measure"]
        assert set(table["clinical_measure"]) == {measure}
        assert table.set_index(["subgroup", "feature"]).loc[("all", "IL17"), "rho"] == pytest.approx(sign)


def test_figures_draw_from_the_tables():
    import matplotlib.pyplot as plt

    from tearflow import clinical
    from tearflow.figures import clinical as plot_clinical

    definitions = clinical.read_endpoint_definitions(REPO / "resources/clinical/endpoints.tsv")
    rows = [(p, v, "OSDI", 40 - 5 * i) for p in ("NSDE01", "SSDE01")
            for i, v in enumerate(["baseline", "week2"])]  # fmt: skip
    values = pd.DataFrame(rows, columns=["patient", "visit", "endpoint", "value"])
    values["subgroup"] = values["patient"].str[:4]
    summary = clinical.visit_summary(values, definitions, ["NSDE", "SSDE"], ["baseline", "week2"])
    figure = plot_clinical.trajectory_figure(values, summary, definitions, ["baseline", "week2"])
    assert len([ax for ax in figure.axes if ax.get_visible()]) == 1
    plt.close(figure)
    correlations = pd.DataFrame(
        {"endpoint": "OSDI", "visit": "week2", "clinical_measure": "improvement",
         "feature_type": ["gene_set", "protein"], "feature": ["IL17", "P1"],
         "feature_gene": [np.nan, "IL17A"], "subgroup": "all", "n_patients": 6, "rho": [0.5, -0.9],
         "pvalue": [0.3, 0.001], "fdr": [0.3, 0.002]}
    )  # fmt: skip
    figure = plot_clinical.correlation_heatmap(correlations, "all", 0.05)
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert labels == ["IL17 (gene-set score)", "IL17A (protein)"]
    assert [t.get_text() for t in figure.axes[0].texts] == ["*"]
    plt.close(figure)
