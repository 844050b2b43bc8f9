"""Tests of scripts/impute.py: left-censored and KNN imputation, mask, summary, seeding."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import adapter, config_section

from tearflow import imputation as impute
from tearflow.columns import GENE, PROTEIN, SAMPLE
from tearflow.tables import read_tsv, write_tsv


def matrix(seed=0, n=200, samples=6, missing=0.15):
    rng = np.random.default_rng(seed)
    values = rng.normal(22, 2, (n, 1)) + rng.normal(0, 0.3, (n, samples))
    values[rng.random((n, samples)) < missing] = np.nan
    return pd.DataFrame(values, columns=[f"s{i}" for i in range(samples)])


def test_left_censored_draws_low_values_per_sample_and_is_seeded():
    log2 = matrix()
    first, mask = impute.imputed_matrix(log2, config_section("imputation", method="left_censored"), seed=7)
    again, _ = impute.imputed_matrix(log2, config_section("imputation", method="left_censored"), seed=7)
    other, _ = impute.imputed_matrix(log2, config_section("imputation", method="left_censored"), seed=8)
    assert first.equals(again) and not first.equals(other)
    assert mask.equals(log2.isna()) and first.notna().all().all()
    observed = log2["s0"].dropna()
    drawn = first.loc[mask["s0"], "s0"]
    assert drawn.mean() == pytest.approx(observed.mean() - 1.8 * observed.std(), abs=0.35)
    assert drawn.std() < 0.6 * observed.std()
    assert first[~mask].equals(log2[~mask])  # observed values untouched


def test_shift_and_width_are_configurable():
    log2 = matrix()
    result, mask = impute.imputed_matrix(
        log2, config_section("imputation", method="left_censored", shift=0, width=0), seed=1
    )
    assert np.allclose(result.loc[mask["s1"], "s1"], log2["s1"].mean())


def test_knn_uses_similar_proteins():
    log2 = matrix(missing=0.0)
    truth = log2.loc[5, "s2"]
    log2.loc[5, "s2"] = np.nan
    result, mask = impute.imputed_matrix(log2, config_section("imputation", method="knn", knn_neighbors=3), seed=0)
    assert mask.to_numpy().sum() == 1 and abs(result.loc[5, "s2"] - truth) < 1.0


def test_summary_reports_share_imputed():
    log2 = matrix()
    _, mask = impute.imputed_matrix(log2, config_section("imputation", method="left_censored"), seed=0)
    summary = impute.imputation_summary(log2, mask, "left_censored")
    assert list(summary[SAMPLE]) == list(log2.columns) + ["all"]
    assert summary["share_imputed"].iloc[-1] == pytest.approx(log2.isna().to_numpy().mean())


def test_main_writes_imputed_mask_and_summary(tmp_path):
    log2 = matrix(n=50)
    ann = pd.DataFrame({PROTEIN: [f"P{i}" for i in range(50)], GENE: [f"G{i}" for i in range(50)]})
    write_tsv(pd.concat([ann, log2], axis=1), tmp_path / "normalized.tsv")
    out = {key: str(tmp_path / f"{key}.tsv") for key in ("imputed", "mask", "summary")}
    snakemake = SimpleNamespace(
        input=SimpleNamespace(normalized=str(tmp_path / "normalized.tsv")),
        output=SimpleNamespace(**out),
        params=SimpleNamespace(imputation=config_section("imputation", method="left_censored"), seed=3),
    )
    adapter("impute").main(snakemake)
    mask = read_tsv(out["mask"])
    assert list(mask.columns) == [PROTEIN, GENE] + list(log2.columns)
    assert mask[list(log2.columns)].to_numpy().sum() == log2.isna().to_numpy().sum()
    assert read_tsv(out["imputed"])[list(log2.columns)].notna().all().all()
