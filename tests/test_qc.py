"""Tests of scripts/qc.py: robust z, outlier rule, sample/protein tables, figures via main."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import adapter, config_section

from tearflow import qc
from tearflow.columns import GENE, PROTEIN, SAMPLE, TIMEPOINT
from tearflow.figures import qc as qc_figures
from tearflow.simulation import simulate_trial
from tearflow.tables import read_tsv, write_tsv


def trial(seed=2, n_proteins=200):
    log2, ann, sheet, _ = simulate_trial(0.2, seed=seed, n_proteins=n_proteins)
    return log2, ann, sheet


def test_robust_z_uses_median_and_mad_with_a_floor():
    z = qc.robust_z(pd.Series([1.0, 2.0, 3.0, 4.0, 100.0]))
    assert z.iloc[2] == 0 and z.iloc[4] == pytest.approx(97 / 1.4826)
    flat = qc.robust_z(pd.Series([5.0, 5.0, 5.0, 5.1]), min_scale=0.1)
    assert flat.iloc[3] == pytest.approx(1.0)


def test_clean_trial_has_no_outliers():
    log2, _, sheet = trial()
    table = qc.sample_qc(log2, sheet, config_section("qc"))
    assert not table["outlier"].any()
    assert table["outlier_reason"].isna().all()
    expected = [
        SAMPLE,
        "patient",
        "subgroup",
        TIMEPOINT,
        "n_quantified",
        "missing_fraction",
        "median_log2",
        "mean_correlation",
        "pc1",
        "pc2",
    ]
    assert list(table.columns[: len(expected)]) == expected
    assert {"outlier", "outlier_reason", "pca_distance"} <= set(table.columns)


def test_a_damaged_sample_is_flagged_with_its_reason_and_kept():
    log2, _, sheet = trial()
    bad = log2.columns[3]
    rng = np.random.default_rng(0)
    log2[bad] = log2[bad].where(rng.random(len(log2)) > 0.6)  # 60 % lost
    log2[bad] = log2[bad] + rng.normal(0, 2.0, len(log2))  # and noisy
    table = qc.sample_qc(log2, sheet, config_section("qc")).set_index(SAMPLE)
    assert table.loc[bad, "outlier"]
    assert "missing_fraction" in table.loc[bad, "outlier_reason"]
    assert table["outlier"].sum() == 1 and len(table) == log2.shape[1]
    only_median = qc.sample_qc(log2, sheet, config_section("qc", outlier_metrics=["median_log2"]))
    assert not only_median["outlier"].any()


def test_protein_qc_cv_and_missingness():
    log2 = pd.DataFrame({"a": [10.0, 10.0, np.nan], "b": [11.0, 10.0, 5.0], "c": [12.0, 10.0, np.nan]})
    sheet = pd.DataFrame({SAMPLE: ["a", "b", "c"], TIMEPOINT: ["baseline", "week2", "week2"]})
    ann = pd.DataFrame({PROTEIN: ["P1", "P2", "P3"], GENE: ["G1", "G2", "G3"]})
    table = qc.protein_qc(log2, ann, sheet, min_values=2)
    linear = np.array([1024.0, 2048.0, 4096.0])
    assert table.loc[0, "cv"] == pytest.approx(linear.std(ddof=1) / linear.mean())
    assert table.loc[1, "cv"] == 0
    assert np.isnan(table.loc[2, "cv"]) and table.loc[2, "missing_fraction"] == pytest.approx(2 / 3)
    assert np.isnan(table.loc[0, "cv_baseline"])  # one value only
    assert table.loc[0, "cv_week2"] == pytest.approx(np.std([2048, 4096], ddof=1) / 3072)


def test_pca_falls_back_to_mean_filled_proteins_when_few_are_complete():
    log2, _, _ = trial(n_proteins=60)
    log2.iloc[::2, 0] = np.nan
    scores, explained = qc.pca_scores(log2, min_proteins=50)
    assert scores.notna().all().all() and len(scores) == log2.shape[1]
    assert 0 < explained[0] <= 1


def test_main_writes_tables_and_figures(tmp_path):
    log2, ann, sheet = trial(n_proteins=80)
    write_tsv(pd.concat([ann, log2], axis=1), tmp_path / "normalized.tsv")
    sheet.to_csv(tmp_path / "samples.tsv", sep="\t", index=False)
    names = ("sample_qc", "protein_qc", "correlation", "pca_variance")
    tables = {name: str(tmp_path / f"{name}.tsv") for name in names}
    class Named(SimpleNamespace):
        def keys(self):
            return self.__dict__.keys()

    snakemake = SimpleNamespace(
        input=Named(normalized=str(tmp_path / "normalized.tsv"), samples=str(tmp_path / "samples.tsv")),
        output=SimpleNamespace(**tables),
        params=SimpleNamespace(qc=config_section("qc")),
    )
    adapter("qc").main(snakemake)
    samples = read_tsv(tables["sample_qc"])
    assert len(samples) == log2.shape[1] and samples["outlier"].dtype == bool
    assert len(read_tsv(tables["protein_qc"])) == len(log2)
    assert read_tsv(tables["correlation"]).shape == (log2.shape[1], log2.shape[1] + 1)
    assert 0 < read_tsv(tables["pca_variance"])["explained_variance_ratio"].sum() <= 1
    drawn = ("missingness", "distributions", "correlation", "pca", "cv")
    figures = {name: str(tmp_path / f"{name}.png") for name in drawn}
    plot_job = SimpleNamespace(
        input=SimpleNamespace(normalized=str(tmp_path / "normalized.tsv"), **tables),
        output=SimpleNamespace(**figures),
        params=SimpleNamespace(figures=config_section("figures")),
    )
    adapter("plot_qc").main(plot_job)
    for path in figures.values():
        assert Path(path).stat().st_size > 0


def test_correlation_matrix_equals_pandas_pairwise_complete_pearson():
    log2, _, _ = trial(n_proteins=150)
    rng = np.random.default_rng(8)
    log2 = log2.mask(rng.random(log2.shape) < 0.3)
    log2.iloc[:, 1] = 7.5  # a constant sample: NaN, as in pandas
    log2.iloc[:-5, 2] = np.nan  # 5 shared proteins: below min_proteins
    fast = qc.correlation_matrix(log2, min_proteins=10)
    slow = log2.corr(method="pearson", min_periods=10)
    assert np.array_equal(np.isnan(fast.to_numpy()), np.isnan(slow.to_numpy()))
    assert np.nanmax(np.abs(fast.to_numpy() - slow.to_numpy())) < 1e-12
    assert list(fast.index) == list(log2.columns)


def test_pca_mean_fill_equals_row_by_row_fill():
    log2, _, _ = trial(n_proteins=60)
    log2 = log2.mask(np.random.default_rng(3).random(log2.shape) < 0.2)
    half = log2[log2.notna().mean(axis=1) >= 0.5]
    filled = half.apply(lambda row: row.fillna(row.mean()), axis=1)
    scores, _ = qc.pca_scores(log2, min_proteins=10**6)
    data = filled.T.to_numpy()
    expected = np.linalg.svd(data - data.mean(axis=0), full_matrices=False)
    first = expected[0][:, 0] * expected[1][0]
    assert np.allclose(np.abs(scores["pc1"].to_numpy()), np.abs(first), atol=1e-9)


def test_qc_figures_of_a_large_cohort_have_a_capped_size_and_no_sample_names():
    rng = np.random.default_rng(1)
    n = 200
    names = [f"S{i:03d}" for i in range(n)]
    log2 = pd.DataFrame(rng.normal(20, 2, (100, 1)) + rng.normal(0, 0.3, (100, n)), columns=names)
    samples = pd.DataFrame(
        {
            SAMPLE: names,
            "patient": [f"P{i // 2}" for i in range(n)],
            "subgroup": ["A" if i < n / 2 else "B" for i in range(n)],
            TIMEPOINT: ["baseline", "week2"] * (n // 2),
            "missing_fraction": rng.random(n) * 0.3,
            "outlier": [i == 7 for i in range(n)],
        }
    )
    proteins = pd.DataFrame({"missing_fraction": rng.random(100)})
    figures = [
        qc_figures.missingness_figure(samples, proteins),
        qc_figures.distributions_figure(log2, samples),
        qc_figures.correlation_figure(qc.correlation_matrix(log2), samples),
    ]
    for figure in figures:
        assert max(figure.get_size_inches()) <= qc_figures.MAX_FIGURE_INCHES + 1.5
        figure.canvas.draw()
        labels = {label.get_text() for axis in figure.axes for label in axis.get_xticklabels() + axis.get_yticklabels()}
        assert not labels & set(names)


@pytest.mark.parametrize("shape", [(300, 16), (40, 60), (8, 5)])
def test_pca_equals_scikit_learn(shape):
    """The numpy PCA gives scikit-learn's scores (signs included) and explained variance ratios."""
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(shape[0])
    log2 = pd.DataFrame(rng.normal(20, 2, size=shape) + rng.normal(0, 1, size=shape[1]))
    scores, explained = qc.pca_scores(log2, min_proteins=1)
    data = log2.T.to_numpy()
    k = min(3, data.shape[0] - 1, data.shape[1])
    model = PCA(n_components=k, svd_solver="full")
    expected = model.fit_transform(data - data.mean(axis=0))
    np.testing.assert_allclose(scores.to_numpy()[:, :k], expected, atol=1e-9)
    np.testing.assert_allclose(explained, model.explained_variance_ratio_, rtol=1e-12)
