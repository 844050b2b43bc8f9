"""Tests of scripts/pathway_scores.py: single-sample rank scores and per-patient changes."""

import numpy as np
import pandas as pd
import pytest

from tearflow.pathway_scores import sample_scores, score_changes, set_membership, single_sample_scores
from tearflow.samples import paired_samples


def _data(n=50, seed=0):
    rng = np.random.default_rng(seed)
    genes = [f"G{i}" for i in range(n)]
    sheet = pd.DataFrame(
        {
            "sample": ["s1", "s2", "s3", "s4"],
            "patient": ["p1", "p1", "p2", "p2"],
            "subgroup": ["NSDE", "NSDE", "SSDE", "SSDE"],
            "timepoint": ["baseline", "week2", "baseline", "week2"],
        }
    )
    values = rng.normal(20, 2, size=(n, 4))
    table = pd.DataFrame({"protein": [f"P{i}" for i in range(n)], "gene": genes})
    for j, sample in enumerate(sheet["sample"]):
        table[sample] = values[:, j]
    return table, sheet


def test_score_extremes_and_formula():
    # set = the 3 most abundant of 10 proteins -> +0.5; the 3 least -> -0.5
    abundance = np.arange(10, dtype=float)[:, None]
    top = np.zeros((10, 2), dtype=bool)
    top[7:, 0] = True
    top[:3, 1] = True
    scores = single_sample_scores(abundance, top, min_genes=2)
    assert scores[:, 0] == pytest.approx([0.5, -0.5])
    # hand computation: ranks 2, 5, 9 of N = 10 -> mean 16/3; min 2, max 9
    mask = np.zeros((10, 1), dtype=bool)
    mask[[1, 4, 8], 0] = True
    expected = (16 / 3 - 2) / (9 - 2) - 0.5
    assert single_sample_scores(abundance, mask, 2)[0, 0] == pytest.approx(expected)


def test_score_of_a_sample_does_not_depend_on_other_samples_or_sets():
    table, sheet = _data()
    sets = {"A": ["G1", "G2", "G3", "G4"], "B": ["G10", "G11", "G12"]}
    full = sample_scores(table, sheet, sets, 2).set_index(["gene_set", "sample"])["score"]
    fewer = sample_scores(table.drop(columns=["s3", "s4"]), sheet.iloc[:2], {"A": sets["A"]}, 2)
    fewer = fewer.set_index(["gene_set", "sample"])["score"]
    assert fewer.loc[("A", "s1")] == full.loc[("A", "s1")]
    # a shift of one sample's log2 values (normalisation) leaves its score unchanged
    shifted = table.copy()
    shifted["s1"] += 3.0
    again = sample_scores(shifted, sheet, sets, 2).set_index(["gene_set", "sample"])["score"]
    assert again.loc[("A", "s1")] == full.loc[("A", "s1")]


def test_missing_values_and_min_genes():
    table, sheet = _data()
    table.loc[[1, 2, 3], "s2"] = np.nan  # only G4 of set A detected in s2
    scores = sample_scores(table, sheet, {"A": ["G1", "G2", "G3", "G4"], "none": ["ABSENT"]}, min_genes=2)
    scores = scores.set_index(["gene_set", "sample"])["score"]
    assert np.isnan(scores.loc[("A", "s2")])
    assert not np.isnan(scores.loc[("A", "s1")])
    assert scores.loc["none"].isna().all()


def test_change_is_followup_minus_baseline_and_planted_drop_is_seen():
    table, sheet = _data(n=80)
    members = ["G1", "G2", "G3", "G4", "G5"]
    table.loc[1:5, ["s2"]] -= 6.0  # patient p1 loses the set at week2
    scores = sample_scores(table, sheet, {"IL17": members}, 2)
    pairs = paired_samples(sheet, "baseline", "week2")
    changes = score_changes(scores, pairs).set_index("patient")
    by_sample = scores.set_index("sample")["score"]
    assert changes.loc["p1", "change"] == pytest.approx(by_sample["s2"] - by_sample["s1"])
    assert changes.loc["p1", "change"] < -0.2
    assert changes.loc["p1", "subgroup"] == "NSDE"
    assert list(changes.columns) == ["gene_set", "subgroup", "change"]


def test_membership_uses_any_gene_of_a_group():
    mask = set_membership(["IL17RA;IL17RC", "ALB", None], {"S": ["IL17RC"]})
    assert mask["S"].tolist() == [True, False, False]
