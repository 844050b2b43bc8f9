"""Tests of scripts/normalize.py: log2 detection, exclusion, offset methods, quantile, main."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import adapter, config_section

from tearflow import normalization as normalize
from tearflow.columns import GENE, PATIENT, PROTEIN, SAMPLE
from tearflow.errors import TearflowError
from tearflow.figures import normalization as normalization_figures
from tearflow.simulation import simulate_trial
from tearflow.tables import read_tsv, write_tsv


def offset_matrix(seed=0, n_proteins=400, n_samples=8, shifted_fraction=0.0, shift=1.0):
    """Unpaired samples with known offsets; the last half of samples get a one-way shift."""
    rng = np.random.default_rng(seed)
    base = rng.normal(22, 2, n_proteins)[:, None] + rng.normal(0, 0.2, (n_proteins, n_samples))
    offsets = rng.normal(0, 0.5, n_samples)
    offsets -= offsets.mean()
    moved = rng.random(n_proteins) < shifted_fraction
    base[np.ix_(moved, np.arange(n_samples // 2, n_samples))] += shift
    columns = [f"s{i}" for i in range(n_samples)]
    return pd.DataFrame(base + offsets, columns=columns), pd.Series(offsets, index=columns)


def annotation(n):
    return pd.DataFrame({PROTEIN: [f"P{i}" for i in range(n)], GENE: [f"G{i}" for i in range(n)]})


def test_looks_log2_tells_raw_log_and_counts_apart():
    assert normalize.looks_log2(np.array([20.5, 25.1, np.nan]))
    assert normalize.looks_log2(np.array([-1.2, 0.4]))
    assert not normalize.looks_log2(np.array([1.5e6, 3.2e8]))
    assert not normalize.looks_log2(np.array([0, 3, 12, 40]))  # spectral counts stay raw


def test_log2_matrix_makes_zeros_missing_and_respects_the_flag():
    raw = pd.DataFrame({"a": [0.0, 1024.0, 4096.0], "b": [8.0, np.nan, 2.0**20]})
    log2, already = normalize.log2_matrix(raw, "auto")
    assert not already
    assert np.isnan(log2.loc[0, "a"]) and log2.loc[1, "a"] == 10 and log2.loc[2, "b"] == 20
    kept, already = normalize.log2_matrix(raw, True)
    assert already and kept.loc[0, "a"] == 0.0


def test_unknown_excluded_sample_names_the_key_and_the_valid_samples():
    with pytest.raises(TearflowError, match=r"normalization\.exclude_samples.*s9.*s1, s2, s3"):
        normalize.kept_samples(["s1", "s2", "s3"], ["s9"])
    assert normalize.kept_samples(["s1", "s2", "s3"], ["s2"]) == ["s1", "s3"]


def test_kde_mode_finds_the_larger_peak():
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.normal(0, 0.2, 700), rng.normal(2.0, 0.2, 300)])
    assert abs(normalize.kde_mode(values)) < 0.05
    assert abs(normalize.kde_mode(values, bandwidth=0.1)) < 0.05


@pytest.mark.parametrize("method", ["median", "mode", "trimmed"])
def test_offset_methods_recover_known_offsets_without_changes(method):
    log2, truth = offset_matrix()
    normalized, table = normalize.normalized_matrix(
        log2, annotation(len(log2)), config_section("normalization", method=method)
    )
    tolerance = {"median": 0.1, "mode": 0.12, "trimmed": 0.05}[method]
    assert np.allclose(table["offset"], truth, atol=tolerance)
    assert np.allclose(normalized.sub(normalized.mean(axis=1), axis=0).median(), 0, atol=tolerance)


def test_one_way_shift_biases_the_median_but_not_trimmed():
    log2, truth = offset_matrix(shifted_fraction=0.4, shift=1.5)
    ann = annotation(len(log2))
    estimates = normalize.estimated_offsets(log2, ann, config_section("normalization", reference="median"))
    # the true no-change offsets: shifted samples should NOT absorb the shift
    assert np.abs(estimates["median"] - truth).max() > 0.25
    assert np.allclose(estimates["trimmed"], truth, atol=0.05)


def test_patient_reference_removes_between_patient_noise():
    log2, ann, sheet, truth = simulate_trial(0.4, seed=3, n_proteins=400, missing_fraction=0.0)
    patients = sheet.set_index(SAMPLE)[PATIENT]
    changed = truth["change"].to_numpy() != 0
    biases = {}
    for method, reference in [
        ("trimmed", "median"),
        ("trimmed", "patient"),
        ("mode", "patient"),
        ("median", "patient"),
    ]:
        normalized, _ = normalize.normalized_matrix(
            log2, ann, config_section("normalization", method=method, reference=reference), patients
        )
        base = normalized[[s for s in normalized.columns if s.endswith("baseline")]].to_numpy()
        follow = normalized[[s for s in normalized.columns if s.endswith("week2")]].to_numpy()
        biases[method, reference] = np.nanmean((follow - base)[~changed])
    assert abs(biases["trimmed", "patient"]) < 0.03
    assert abs(biases["trimmed", "patient"]) < abs(biases["trimmed", "median"])
    assert abs(biases["mode", "patient"]) < abs(biases["median", "patient"]) / 2
    assert biases["median", "patient"] < -0.2  # median centring absorbs the one-way shift


def test_within_patient_ratios_leave_single_sample_patients_empty():
    log2 = pd.DataFrame({"a1": [1.0, 2.0, np.nan], "a2": [2.0, 2.0, 5.0], "b1": [3.0, 3.0, 3.0]})
    ratios = normalize.within_patient_ratios(log2, pd.Series({"a1": "A", "a2": "A", "b1": "B"}))
    assert ratios["b1"].isna().all()
    assert ratios.loc[0, "a1"] == -0.5 and ratios.loc[0, "a2"] == 0.5
    assert np.isnan(ratios.loc[2, "a2"])  # not quantified in both of the patient's samples


def test_reference_set_matches_genes_and_proteins_and_checks_the_list(tmp_path):
    log2, truth = offset_matrix(shifted_fraction=0.0)
    ann = annotation(len(log2))
    names = [f"G{i}" for i in range(0, 40)] + ["P41", "NOT_THERE"]
    offsets = normalize.reference_set_offsets(log2, ann, names, reference="median")
    assert np.allclose(offsets, truth, atol=0.08)
    listing = tmp_path / "reference.txt"
    listing.write_text("# unchanged\nG1\nG2\tcomment\n\nG3\n", encoding="utf-8")
    assert normalize.read_reference_proteins(str(listing)) == ["G1", "G2", "G3"]
    with pytest.raises(TearflowError, match="reference_proteins"):
        normalize.reference_set_offsets(log2, ann, ["NOPE1", "NOPE2"])
    with pytest.raises(TearflowError, match="reference_proteins.*not found"):
        normalize.read_reference_proteins(str(tmp_path / "missing.txt"))
    with pytest.raises(TearflowError, match="reference_proteins is empty"):
        normalize.normalized_matrix(log2, ann, config_section("normalization", method="reference_set"))


def test_unknown_reference_sample_is_a_user_error():
    log2, _ = offset_matrix()
    with pytest.raises(TearflowError, match=r"normalization\.reference.*s0"):
        normalize.reference_profile(log2, "nope")
    profile = normalize.reference_profile(log2, "s1")
    assert profile.equals(log2["s1"])


def test_none_leaves_the_matrix_as_it_is_and_still_reports_the_estimates():
    log2, truth = offset_matrix()
    log2.iloc[:3, 0] = np.nan
    normalized, table = normalize.normalized_matrix(
        log2, annotation(len(log2)), config_section("normalization", method="none")
    )
    pd.testing.assert_frame_equal(normalized, log2)
    assert (table["offset"] == 0).all() and (table["method"] == "none").all()
    # the diagnostic figure still shows what the offset methods would have removed
    assert np.allclose(table["offset_trimmed"], truth, atol=0.05)


def test_quantile_gives_equal_distributions_and_keeps_missing():
    log2, _ = offset_matrix(n_samples=4)
    log2.iloc[:5, 0] = np.nan
    result = normalize.quantile_normalized(log2)
    assert result.iloc[:5, 0].isna().all()
    complete = result.iloc[5:]
    assert np.allclose(np.sort(complete["s1"])[::50], np.sort(complete["s2"])[::50], atol=0.02)
    # the order of proteins within a sample is unchanged
    assert (result["s1"].rank() == log2["s1"].rank()).all()


@pytest.mark.parametrize(
    "method, tables, dpc_values, expected",
    [
        ("trimmed", [("report.tsv", "PG.MaxLFQ", True)], True, "trimmed"),
        # auto: DPC estimates of one table its search engine normalised are left as they are ...
        ("auto", [("report.tsv", "PG.MaxLFQ", True)], True, "none"),
        # ... protein values, raw intensities or several tables (no engine normalised one against the
        # other) are not
        ("auto", [("report.tsv", "PG.MaxLFQ", True)], False, "trimmed"),
        ("auto", [("proteinGroups.txt", "Intensity", False)], True, "trimmed"),
        ("auto", [("a.tsv", "pg_matrix", True), ("b.tsv", "pg_matrix", True)], True, "trimmed"),
    ],
)
def test_steps_write_matrix_offsets_and_figures(tmp_path, method, tables, dpc_values, expected):
    log2, ann, sheet, _ = simulate_trial(0.2, seed=5, n_proteins=120)
    measured = log2.copy()
    extra = {}
    if dpc_values:  # DPC-like: every cell has a value, the unobserved ones a model-based one
        log2 = log2.apply(lambda row: row.fillna(row.mean()), axis=1)
        counts = pd.concat([ann, measured.notna().astype(int) * 3], axis=1)
        write_tsv(counts, tmp_path / "observed.tsv")
        extra["observed"] = str(tmp_path / "observed.tsv")
    raw = pd.concat([ann, np.power(2.0, log2)], axis=1)
    write_tsv(raw, tmp_path / "raw.tsv")
    sheet.to_csv(tmp_path / "samples.tsv", sep="\t", index=False)
    summary = pd.DataFrame(tables, columns=["table", "quantity", "normalised_by_search_engine"])
    write_tsv(summary, tmp_path / "import_summary.tsv")
    excluded = sheet[SAMPLE].iloc[-1]
    out = {"normalized": tmp_path / "normalized.tsv", "offsets": tmp_path / "normalization.tsv"}
    figures = {"distributions": tmp_path / "distributions.png", "offsets": tmp_path / "offsets.png"}
    settings = config_section("normalization", method=method, exclude_samples=[excluded])
    class Named(SimpleNamespace):
        def keys(self):
            return self.__dict__.keys()

    snakemake = SimpleNamespace(
        input=Named(
            raw=str(tmp_path / "raw.tsv"),
            samples=str(tmp_path / "samples.tsv"),
            import_summary=str(tmp_path / "import_summary.tsv"),
            reference_proteins=[],
            **extra,
        ),
        output=SimpleNamespace(**{key: str(value) for key, value in out.items()}),
        params=SimpleNamespace(normalization=settings),
    )
    adapter("normalize").main(snakemake)
    plot_job = SimpleNamespace(
        input=Named(
            raw=str(tmp_path / "raw.tsv"),
            samples=str(tmp_path / "samples.tsv"),
            **{k: str(v) for k, v in out.items()},
            **extra,
        ),
        output=SimpleNamespace(**{key: str(value) for key, value in figures.items()}),
        params=SimpleNamespace(normalization=settings, figures=config_section("figures")),
    )
    adapter("plot_normalization").main(plot_job)
    normalized = read_tsv(out["normalized"])
    assert list(normalized.columns[:2]) == [PROTEIN, GENE]
    assert excluded not in normalized.columns and len(normalized.columns) == 2 + len(sheet) - 1
    assert normalized.iloc[:, 2:].max().max() < 40  # log2 scale
    assert normalized.iloc[:, 2:].isna().sum().sum() == log2.drop(columns=excluded).isna().sum().sum()
    table = read_tsv(out["offsets"])
    if expected == "trimmed":  # DPC values: offsets from the observed cells only, as from the measured matrix
        kept = [s for s in sheet[SAMPLE] if s != excluded]
        patients = sheet.set_index(SAMPLE)["patient"].reindex(kept)
        truth = normalize.trimmed_offsets(measured[kept], patients=patients)
        np.testing.assert_allclose(table["offset"], truth.to_numpy(), atol=2e-6)
        assert table["offset"].abs().max() > 0.05
    assert set(table["method"]) == {expected} and abs(table["offset"].mean()) < 1e-6  # 7 digits written
    if expected == "none":
        assert (table["offset"] == 0).all() and table["offset_trimmed"].abs().max() > 0.05
    assert figures["distributions"].stat().st_size > 0 and figures["offsets"].stat().st_size > 0


# --------------------------------------------------------------------------------------- vectorized


def _trimmed_reference(ratios, keep_fraction=0.5, max_iterations=20):
    """The trimmed estimate written plainly with pandas (the pre-vectorization implementation)."""
    usable = ratios[ratios.notna().sum(axis=1) >= 2]
    estimate = ratios.median(axis=0, skipna=True)
    n_keep = min(len(usable), max(int(round(keep_fraction * len(usable))), 10))
    kept = usable.index
    for _ in range(max_iterations):
        corrected = usable.sub(estimate, axis=1)
        corrected = corrected.sub(corrected.median(axis=1), axis=0)
        score = np.sqrt((corrected**2).mean(axis=1, skipna=True))
        new_kept = score.nsmallest(n_keep).index
        estimate = usable.loc[new_kept].median(axis=0, skipna=True).fillna(estimate)
        if set(new_kept) == set(kept):
            break
        kept = new_kept
    return estimate, set(kept)


def _within_reference(log2, patients):
    ratios = pd.DataFrame(np.nan, index=log2.index, columns=log2.columns)
    for _, samples in patients.groupby(patients, sort=False):
        columns = list(samples.index)
        if len(columns) < 2:
            continue
        block = log2[columns]
        complete = block.notna().all(axis=1)
        ratios.loc[complete, columns] = block[complete].sub(block[complete].mean(axis=1), axis=0)
    return ratios


def test_vectorized_trimmed_estimate_and_within_ratios_equal_the_plain_versions():
    rng = np.random.default_rng(11)
    values = rng.normal(20, 2, (600, 1))[:, :] + rng.normal(0, 0.3, (600, 9))
    values[rng.random(values.shape) < 0.25] = np.nan
    columns = [f"s{i}" for i in range(9)]
    log2 = pd.DataFrame(values, columns=columns)
    patients = pd.Series(["A", "A", "B", "B", "B", "C", "D", "D", "D"], index=columns)  # 1-, 2- and 3-sample
    within = normalize.within_patient_ratios(log2, patients)
    expected = _within_reference(log2, patients)
    assert np.array_equal(within.to_numpy(), expected.to_numpy(), equal_nan=True)
    for matrix in (within, log2.sub(log2.median(axis=1), axis=0)):
        estimate = normalize.trimmed_estimate(matrix)
        reference, kept = _trimmed_reference(matrix)
        assert np.array_equal(estimate.to_numpy(), reference.to_numpy(), equal_nan=True)
        assert set(estimate.attrs["proteins"]) == kept


def test_row_nanmedians_equal_numpy():
    rng = np.random.default_rng(2)
    values = rng.normal(size=(50, 7))
    values[rng.random(values.shape) < 0.4] = np.nan
    values[3] = np.nan
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanmedian(values, axis=1)
    assert np.array_equal(normalize.row_nanmedians(values), expected, equal_nan=True)


def test_binned_grid_argmax_is_the_exact_grid_argmax():
    rng = np.random.default_rng(4)
    for _ in range(60):
        values = np.r_[rng.normal(0, 0.3, rng.integers(20, 2000)), rng.normal(rng.uniform(-2, 2), 0.5, 300)]
        width = normalize.silverman_bandwidth(values) * rng.choice([0.3, 1.0, 3.0])
        grid = np.linspace(values.min(), values.max(), 2048)
        exact = int(np.argmax(normalize.kde_density(values, grid, width)))
        assert normalize.grid_density_argmax(values, grid, width) == exact


def test_large_cohort_figures_stay_small_and_say_what_they_show():
    rng = np.random.default_rng(5)
    columns = [f"p{i // 2}_{'ab'[i % 2]}" for i in range(120)]
    log2 = pd.DataFrame(rng.normal(20, 2, (300, 1)) + rng.normal(0, 0.3, (300, 120)), columns=columns)
    patients = pd.Series([c.split("_")[0] for c in columns], index=columns)
    settings = config_section("normalization", method="trimmed")
    normalized, table = normalize.normalized_matrix(log2, annotation(300), settings, patients)
    candidates = table.set_index(SAMPLE)[["offset_median", "offset_mode", "offset_trimmed"]]
    candidates.columns = ["median", "mode", "trimmed"]
    figure = normalization_figures.offsets_figure(log2, candidates, "patient", "silverman", "trimmed", patients)
    drawn = [axis for axis in figure.axes if axis.get_title()]
    assert len(drawn) == normalization_figures.MAX_DENSITY_PANELS
    assert figure._suptitle.get_text().startswith(f"{normalization_figures.MAX_DENSITY_PANELS} of 120 samples shown")
    figure = normalization_figures.distributions_figure(log2, normalized, "trimmed")
    assert figure.get_size_inches()[0] <= 10.0
    figure.canvas.draw()
    assert not {label.get_text() for axis in figure.axes for label in axis.get_xticklabels()} & set(columns)


@pytest.mark.parametrize(
    "method, flags, dpc_values, expected",
    [
        ("auto", [True], True, "none"),
        ("auto", [True], False, "trimmed"),  # protein values: the offsets an engine leaves bias paired differences
        ("auto", [False], True, "trimmed"),
        ("auto", [True, True], True, "trimmed"),  # two analyses: no engine normalised one against the other
        ("auto", [True, False], True, "trimmed"),
        ("auto", [], True, "trimmed"),
        ("median", [True], True, "median"),  # an explicit method is used as it is
        ("none", [False], False, "none"),
    ],
)
def test_auto_normalization_follows_the_search_engine(method, flags, dpc_values, expected):
    assert normalize.resolved_method(method, flags, dpc_values) == expected
