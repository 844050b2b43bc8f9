"""Clinical change against tear change: features, Spearman, the per-subgroup join."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tearflow import clinical_correlation as join
from tearflow.multiple_testing import bh_adjust


def test_top_proteins_by_pvalue_skip_untested():
    differential = pd.DataFrame(
        {"protein": ["P1", "P2", "P3", "P4"], "gene": ["A", "B", "C", "D"],
         "pvalue": [0.5, np.nan, 0.01, 0.2]}
    )  # fmt: skip
    changes = pd.DataFrame(
        {"protein": ["P1", "P2", "P3", "P4"], "gene": ["A", "B", "C", "D"],
         "NSDE01": [0.1, 0.2, 0.3, 0.4], "SSDE01": [1.0, 2.0, 3.0, 4.0]}
    )  # fmt: skip
    features = join.top_protein_features(differential, changes, top_n=2)
    assert list(dict.fromkeys(features[join.FEATURE])) == ["P3", "P4"]
    p3 = features[features[join.FEATURE] == "P3"].set_index("patient")
    assert p3.loc["SSDE01", "change"] == 3.0
    assert set(features[join.FEATURE_TYPE]) == {"protein"}


def test_elisa_changes_come_from_the_joined_patient_table():
    joined = pd.DataFrame(
        {"patient": ["NSDE01", "SSDE01"], "subgroup": ["NSDE", "SSDE"],
         "elisa_IL17A": [-1.5, np.nan], "elisa_IL6": [0.5, 2.0], "score_IL-17": [0.1, 0.2],
         "ms_IL6": [0.3, 0.4]}
    )  # fmt: skip
    features = join.elisa_features(joined)
    assert set(features[join.FEATURE]) == {"IL17A", "IL6"}
    assert set(features[join.FEATURE_TYPE]) == {"elisa"}
    indexed = features.set_index([join.FEATURE, "patient"])
    assert indexed.loc[("IL17A", "NSDE01"), "change"] == -1.5
    assert np.isnan(indexed.loc[("IL17A", "SSDE01"), "change"])


def test_spearman_exact_for_small_n_and_nan_when_untestable():
    rho, pvalue, n = join.spearman([1, 2, 3, 4, 5], [2, 4, 6, 8, 10], min_n=5)
    assert rho == pytest.approx(1.0) and n == 5
    assert pvalue == pytest.approx(2 / 120)  # only the two perfect pairings reach |rho| = 1
    rho, pvalue, n = join.spearman([1, 2, 3, np.nan, 5], [1, 2, 3, 4, 5], min_n=5)
    assert np.isnan(rho) and np.isnan(pvalue) and n == 4
    assert np.isnan(join.spearman([1, 1, 1, 1, 1], [1, 2, 3, 4, 5])[0])


def test_spearman_exact_matches_scipy_permutation():
    x = np.array([3.0, 1.0, 4.0, 1.5, 5.0, 9.0])
    y = np.array([2.0, 7.0, 1.0, 8.0, 2.5, 8.5])
    rho, pvalue, _ = join.spearman(x, y, min_n=3)
    reference = stats.permutation_test(
        (x,), lambda a: stats.spearmanr(a, y).statistic, permutation_type="pairings",
        n_resamples=np.inf,
    )  # fmt: skip
    assert rho == pytest.approx(stats.spearmanr(x, y).statistic)
    assert pvalue == pytest.approx(reference.pvalue)


def test_spearman_random_permutations_for_larger_n_are_seeded():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=16), rng.normal(size=16)
    first = join.spearman(x, y, permutations=2000, rng=np.random.default_rng(1))
    again = join.spearman(x, y, permutations=2000, rng=np.random.default_rng(1))
    assert first == again
    assert first[0] == pytest.approx(stats.spearmanr(x, y).statistic)
    assert first[1] == pytest.approx(stats.spearmanr(x, y).pvalue, abs=0.05)
    perfect = join.spearman(np.arange(16.0), np.arange(16.0), permutations=999,
                            rng=np.random.default_rng(1))  # fmt: skip
    assert perfect[1] == pytest.approx(1 / 1000)  # never 0


def test_clinical_measure_is_improvement_or_raw_change():
    values = pd.DataFrame(
        {"patient": ["A", "A"], "subgroup": "NSDE", "visit": ["baseline", "week2"],
         "endpoint": "OSDI", "value": [40.0, 30.0], "n_eyes": 1, "baseline_value": 40.0,
         "change": [0.0, -10.0], "improvement": [0.0, 10.0]}
    )  # fmt: skip
    improvement = join.clinical_measures(values, ["week2"], "improvement")
    change = join.clinical_measures(values, ["week2"], "change")
    assert list(improvement["clinical"]) == [10.0]
    assert list(change["clinical"]) == [-10.0]


def test_correlation_join_per_subgroup_and_all():
    nsde = [f"NSDE{i:02d}" for i in range(1, 7)]
    ssde = [f"SSDE{i:02d}" for i in range(1, 6)]
    patients = nsde + ssde
    improvement = np.arange(len(patients), dtype=float)
    clinical = pd.DataFrame(
        {"patient": patients, "subgroup": ["NSDE"] * 6 + ["SSDE"] * 5, "endpoint": "OSDI",
         "visit": "week2", "clinical": improvement}
    )  # fmt: skip
    tears = {p: v for p, v in zip(patients, improvement * 0.5 + 1)}  # same order: rho = 1
    tears.pop("SSDE05")  # no proteome for one patient
    tears["EXTRA"] = 3.0  # proteome without clinical values
    features = pd.concat(
        [
            pd.DataFrame({"feature_type": "protein", "feature": "P1", "gene": "IL17A",
                          "patient": list(tears), "change": list(tears.values())}),
            pd.DataFrame({"feature_type": "gene_set", "feature": "IL17", "gene": pd.NA,
                          "patient": list(tears), "change": -np.array(list(tears.values()))}),
        ],
        ignore_index=True,
    )  # fmt: skip
    table = join.clinical_correlations(clinical, features, ["NSDE", "SSDE"], min_patients=5)
    indexed = table.set_index(["subgroup", "feature"])
    assert indexed.loc[("NSDE", "P1"), "n_patients"] == 6
    assert indexed.loc[("NSDE", "P1"), "rho"] == pytest.approx(1.0)
    assert indexed.loc[("NSDE", "IL17"), "rho"] == pytest.approx(-1.0)
    assert indexed.loc[("all", "P1"), "n_patients"] == 10  # SSDE05 and EXTRA left out
    assert indexed.loc[("all", "P1"), "gene"] == "IL17A"
    assert np.isnan(indexed.loc[("SSDE", "P1"), "rho"])  # 4 patients < min_patients
    assert indexed.loc[("SSDE", "P1"), "n_patients"] == 4
    family = table[(table["subgroup"] == "all") & (table["feature_type"] == "protein")]
    assert np.allclose(family["fdr"], bh_adjust(family["pvalue"]), equal_nan=True)
    assert list(table.columns) == [
        "endpoint", "visit", "clinical_measure", "feature_type", "feature", "gene", "subgroup",
        "n_patients", "rho", "pvalue", "fdr",
    ]  # fmt: skip


def test_figures_draw_from_the_tables():
    import matplotlib.pyplot as plt
    from conftest import REPO

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
         "gene": [np.nan, "IL17A"], "subgroup": "all", "n_patients": 6, "rho": [0.5, -0.9],
         "pvalue": [0.3, 0.001], "fdr": [0.3, 0.002]}
    )  # fmt: skip
    figure = plot_clinical.correlation_heatmap(correlations, "all", 0.05)
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert labels == ["IL17 (gene-set score)", "IL17A (protein)"]
    assert [t.get_text() for t in figure.axes[0].texts] == ["*"]
    plt.close(figure)
