"""tearflow.vooma against R limma/limpa (golden fixtures) and the paired fast path against the
sample-level port.

Fixtures: ``tests/fixtures/limpa_de/`` (made by ``make_fixtures.R`` there with limma 3.63.2 and
limpa 1.3.11; eBayes/treat with ``legacy = TRUE``, the classic estimator, which these tests pass to
``limma.ebayes``; limma's default on the same fits is tested in ``tests/test_limma_unequal_df.py``).
"""

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from tearflow import limma, smoothing, vooma

FIXTURES = REPO / "tests" / "fixtures" / "limpa_de"
VARIANTS = {"default": (False, False), "trend": (True, False), "robust": (False, True), "robust_trend": (True, True)}
TREAT_LFC = 0.5  # as in make_fixtures.R
TOL = 1e-6  # the brief asks for 1e-4 on t; the port agrees to ~1e-8 (see the report)
SAME = 1e-8  # paired fast path vs the sample-level port


def read(name):
    return pd.read_csv(FIXTURES / name, sep="\t")


def assert_close(ours, theirs, what, tol=TOL):
    ours = np.asarray(ours, dtype=float)
    theirs = np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} vs {theirs.shape}"
    assert np.array_equal(np.isnan(ours), np.isnan(theirs)), f"{what}: NaN pattern differs"
    ok = ~np.isnan(theirs)
    assert ok.any(), f"{what}: nothing to compare"
    np.testing.assert_allclose(ours[ok], theirs[ok], rtol=tol, atol=tol, err_msg=what)


def assert_moderated_match(fit, reference, label):
    """ebayes (four variants) and treat on ``fit`` (after contrasts_fit) equal R's eBayes/treat.

    With ``legacy=True``: the fixtures here are eBayes/treat(legacy = TRUE), the classic estimator
    even where vooma's df-loss correction makes the df differ. limma's default (fitFDistUnequalDF1
    for unequal df) on the same fits: tests/test_limma_unequal_df.py."""
    for variant, (trend, robust) in VARIANTS.items():
        moderated = limma.ebayes(fit, trend=fit.amean if trend else None, robust=robust, legacy=True)
        treat_t, treat_p = limma.treat(moderated, TREAT_LFC)
        for j, name in enumerate(fit.names):
            ref = reference[(reference["variant"] == variant) & (reference["contrast"] == name)]
            assert len(ref) == len(fit.sigma), f"{label}/{variant}/{name}: rows"
            what = f"{label}/{variant}/{name}"
            assert_close(moderated.coefficients[:, j], ref["coefficient"], f"{what}/coefficient")
            assert_close(moderated.stdev_unscaled[:, j], ref["stdev_unscaled"], f"{what}/stdev_unscaled")
            assert_close(moderated.t[:, j], ref["t"], f"{what}/t")
            assert_close(moderated.pvalue[:, j], ref["pvalue"], f"{what}/pvalue")
            assert_close(moderated.lods[:, j], ref["lods"], f"{what}/lods")
            assert_close(moderated.df_total, ref["df_total"], f"{what}/df_total")
            assert_close(moderated.s2_post, ref["s2_post"], f"{what}/s2_post")
            # limma's treat reports t = 0 for an NA coefficient, tearflow's NaN (limma.treat)
            r_treat_t = np.where(np.isnan(ref["coefficient"]), np.nan, ref["treat_t"])
            assert_close(treat_t[:, j], r_treat_t, f"{what}/treat_t")
            assert_close(treat_p[:, j], ref["treat_pvalue"], f"{what}/treat_pvalue")


# --------------------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------------------
def test_smoothers_match_limma():
    """weightedLowess (ties, zero weights), loessFit (weighted lowess and the straight-line branch
    for few points), chooseLowessSpan and hat() equal R's."""
    data = read("smoothers.tsv")
    x, y, w = data["x"].to_numpy(), data["y"].to_numpy(), data["w"].to_numpy()
    assert len(np.unique(x)) < len(x) and (w == 0).any()
    assert_close(smoothing.loess_fit(y, x, weights=w, span=0.35), data["loess_fit"], "loessFit", 1e-12)
    fitted, _ = smoothing.weighted_lowess(x, y, w, span=0.5, iterations=3, npts=50)
    assert_close(fitted, data["weighted_lowess"], "weightedLowess", 1e-12)
    small = smoothing.loess_fit(y[:9], x[:9], weights=w[:9] + 0.5, span=0.6)
    assert_close(small, data["small_fit"][:9], "loessFit, few points", 1e-12)
    grid = read("smoothers_grid.tsv")  # equal distances left and right of a seed: the window grows right first
    gx, gy, gw = grid["x"].to_numpy(float), grid["y"].to_numpy(), grid["w"].to_numpy(float)
    for span, npts in ((0.25, 30), (0.5, 500), (0.1, 500)):
        fitted, _ = smoothing.weighted_lowess(gx, gy, gw, span=span, npts=npts)
        assert_close(fitted, grid[f"fit_span_{span}"], f"weightedLowess on a grid, span {span}", 1e-12)
    spans = read("smoothers_span.tsv")
    assert_close([smoothing.choose_lowess_span(n) for n in spans["n"]], spans["span"], "chooseLowessSpan", 1e-14)
    legacy = [smoothing.choose_lowess_span(n, small_n=10, min_span=0.3, power=0.5) for n in spans["n"]]
    assert_close(legacy, spans["legacy"], "chooseLowessSpan legacy", 1e-14)
    hats = read("smoothers_hat.tsv")
    design = hats[["a", "b"]].to_numpy()
    assert_close(vooma.hat_values(design), hats["hat"], "hat", 1e-12)
    assert_close(vooma.hat_values(design, intercept=False), hats["hat_no_intercept"], "hat(intercept = FALSE)", 1e-12)


def test_approx_rule2_is_r_approxfun_with_ordered_ties():
    # R: approxfun(c(1, 2, 2, 4), c(10, 20, 40, 0), rule = 2, ties = list("ordered", mean))(
    #      c(0, 1, 1.5, 2, 3, 4, 9, NA)) -> 10 10 20 30 15 0 0 NA
    x = np.array([1.0, 2.0, 2.0, 4.0])
    y = np.array([10.0, 20.0, 40.0, 0.0])
    out = smoothing.approx_rule2(x, y, np.array([0.0, 1.0, 1.5, 2.0, 3.0, 4.0, 9.0, np.nan]))
    np.testing.assert_allclose(out[:-1], [10, 10, 20, 30, 15, 0, 0], rtol=0, atol=1e-14)
    assert np.isnan(out[-1])
    with pytest.raises(ValueError, match="sorted"):
        smoothing.approx_rule2(x[::-1], y, np.array([1.0]))


# --------------------------------------------------------------------------------------------------
# dpcDE on dpcQuant output (paired designs)
# --------------------------------------------------------------------------------------------------
DPC_DESIGNS = ["visit", "subgroup", "covariate", "subgroup_full_df"]


def dpc_inputs(rows=None):
    values = read("dpc_expression.tsv").set_index("protein")
    errors = read("dpc_standard_errors.tsv").set_index("protein")
    counts = read("dpc_n_observations.tsv").set_index("protein")
    if rows is not None:
        values, errors, counts = values.loc[rows], errors.loc[rows], counts.loc[rows]
    return values, errors, counts


def dpc_case(name):
    rows = read("dpc_rows_subgroup_full_df.tsv")["protein"] if name == "subgroup_full_df" else None
    design = read(f"dpc_design_{name}.tsv").set_index("sample")
    fit = read(f"dpc_fit_{name}.tsv")
    weights = read(f"dpc_weights_{name}.tsv").set_index("protein")
    return (*dpc_inputs(rows), design, fit, weights, read(f"dpc_limma_{name}.tsv"))


def dpc_contrasts(columns):
    """The contrasts make_fixtures.R applies: visitW2 (all) or NSDE, SSDE, interaction."""
    columns = list(columns)
    if "visit_fW2" in columns:
        return np.array([[c == "visit_fW2" for c in columns]], dtype=float).T, ["all"]
    nsde = np.array([c == "NSDE_W2" for c in columns], dtype=float)
    ssde = np.array([c == "SSDE_W2" for c in columns], dtype=float)
    return np.column_stack([nsde, ssde, ssde - nsde]), ["NSDE", "SSDE", "interaction"]


def test_dpc_fixtures_cover_df_loss_and_the_lowess_branch():
    """The R fits include proteins with df lost to imputed values (down to df 0, where limpa takes
    the median sigma), and a case without any (plain lowess trend)."""
    for name in ("visit", "subgroup", "covariate"):
        df = read(f"dpc_fit_{name}.tsv")["df_residual"]
        assert (df < df.max()).sum() >= 5 and (df == 0).any(), name
    assert read("dpc_fit_subgroup_full_df.tsv")["df_residual"].nunique() == 1
    _, _, counts = dpc_inputs(read("dpc_rows_subgroup_full_df.tsv")["protein"])
    assert (counts.to_numpy() == 0).sum(axis=1).max() > 1  # imputed values present, df-loss check runs


@pytest.mark.parametrize("name", DPC_DESIGNS)
def test_dpc_de_matches_limpa(name):
    """dpc_de on dpcQuant's E, standard errors and n.observations equals limpa's dpcDE (weights,
    sigma, df, Amean) and, through contrasts_fit → ebayes / treat, limma's statistics."""
    values, errors, counts, design, reference, weights, moderated = dpc_case(name)
    result = vooma.dpc_de(values.to_numpy(), errors.to_numpy(), counts.to_numpy(), design.to_numpy())
    assert_close(result.weights, weights.to_numpy(), f"{name}/weights")
    assert_close(result.fit.sigma, reference["sigma"], f"{name}/sigma")
    assert_close(result.fit.df_residual, reference["df_residual"], f"{name}/df_residual", 0)
    assert_close(result.fit.amean, reference["amean"], f"{name}/amean")
    lost = reference["df_residual"] < design.shape[0] - design.shape[1]
    np.testing.assert_array_equal(result.df_corrected, lost)
    contrasts, names = dpc_contrasts(design.columns)
    assert_moderated_match(limma.contrasts_fit(result.fit, contrasts, names), moderated, name)


def test_vooma_without_predictor_matches_limpa():
    """voomaLmFitWithImputation without limpa's predictor (the trend of √σ on A alone)."""
    values, _, counts = dpc_inputs()
    design = read("dpc_design_subgroup.tsv").set_index("sample").to_numpy()
    reference = read("dpc_no_predictor_subgroup.tsv")
    result = vooma.vooma_lm_fit_with_imputation(values.to_numpy(), design, imputed=counts.to_numpy() == 0)
    assert_close(result.weights, reference.iloc[:, 3:].to_numpy(), "weights")
    assert_close(result.fit.sigma, reference["sigma"], "sigma")
    assert_close(result.fit.df_residual, reference["df_residual"], "df_residual", 0)


PAIRED_DESIGNS = {"visit": "all", "subgroup": "subgroup", "covariate": "covariate", "subgroup_full_df": "subgroup"}


def difference_design(kind, subgroup, age):
    """tearflow's difference designs: ~1 (all), ~0 + subgroup, ~0 + subgroup + centred age."""
    indicators = np.column_stack([subgroup == "NSDE", subgroup == "SSDE"]).astype(float)
    if kind == "all":
        return np.ones((len(subgroup), 1))
    if kind == "subgroup":
        return indicators
    return np.column_stack([indicators, age - age.mean()])


@pytest.mark.parametrize("name", DPC_DESIGNS)
def test_paired_fast_path_matches_limpa(name):
    """paired_vooma_fit on baseline/week-2 matrices (difference designs) gives limpa's dpcDE on the
    sample-level design: the same weights per sample, sigma, df, Amean and moderated statistics."""
    values, errors, counts, _, reference, weights, moderated = dpc_case(name)
    targets = read("dpc_targets.tsv")
    patients = targets.drop_duplicates("patient")
    baseline = [f"{p}_B" for p in patients["patient"]]
    followup = [f"{p}_W2" for p in patients["patient"]]
    kind = PAIRED_DESIGNS[name]
    design = difference_design(kind, patients["subgroup"].to_numpy(), patients["age"].to_numpy(float))
    result = vooma.paired_vooma_fit(
        values[baseline].to_numpy(),
        values[followup].to_numpy(),
        errors[baseline].to_numpy(),
        errors[followup].to_numpy(),
        counts[baseline].to_numpy() == 0,
        counts[followup].to_numpy() == 0,
        design,
    )
    assert_close(result.baseline_weights, weights[baseline].to_numpy(), f"{name}/baseline weights")
    assert_close(result.followup_weights, weights[followup].to_numpy(), f"{name}/followup weights")
    assert_close(result.fit.sigma, reference["sigma"], f"{name}/sigma")
    assert_close(result.fit.df_residual, reference["df_residual"], f"{name}/df_residual", 0)
    assert_close(result.fit.amean, reference["amean"], f"{name}/amean")
    if kind == "all":
        contrasts, names = np.eye(1), ["all"]
    else:
        contrasts = np.zeros((design.shape[1], 3))
        contrasts[[0, 1, 0, 1], [0, 1, 2, 2]] = [1, 1, -1, 1]
        names = ["NSDE", "SSDE", "interaction"]
    assert_moderated_match(limma.contrasts_fit(result.fit, contrasts, names), moderated, f"paired {name}")


# --------------------------------------------------------------------------------------------------
# paired fast path == sample-level port (random data)
# --------------------------------------------------------------------------------------------------
SUBGROUP = np.array(["NSDE"] * 11 + ["SSDE"] * 5)


def sample_level_design(design):
    """The sample-level design of a difference design: one column per patient, then the difference
    design's columns on the follow-up samples; samples interleaved (patient 1 baseline, follow-up, …)."""
    n = len(design)
    patients = np.kron(np.eye(n), np.ones((2, 1)))
    return np.column_stack([patients, np.kron(design, np.array([[0.0], [1.0]]))])


def interleave(baseline, followup):
    out = np.empty((baseline.shape[0], 2 * baseline.shape[1]), dtype=baseline.dtype)
    out[:, 0::2], out[:, 1::2] = baseline, followup
    return out


def random_paired_data(seed, scenario, n_proteins=300):
    """Quantified values, standard errors and imputed flags for 16 patients (11 NSDE + 5 SSDE).

    scenario: ``none`` (nothing imputed), ``scattered`` (single visits imputed here and there: no
    fitted value is determined by imputed values alone, so no df loss), ``switched`` (as scattered,
    plus proteins switched on or off at follow-up in a whole subgroup, imputed at both visits in a
    balanced subgroup, and one left with no residual df)."""
    rng = np.random.default_rng(seed)
    n = len(SUBGROUP)
    level = rng.uniform(3, 10, n_proteins)[:, None]
    baseline = level + rng.normal(0, 0.6, (n_proteins, n))
    followup = baseline + rng.normal(0, 0.4, (n_proteins, n)) * rng.uniform(0.5, 2, (n_proteins, 1))
    followup[:30, SUBGROUP == "SSDE"] += 1.5
    se_b = rng.uniform(0.1, 0.6, (n_proteins, n))
    se_f = rng.uniform(0.1, 0.6, (n_proteins, n))
    imputed_b = np.zeros((n_proteins, n), dtype=bool)
    imputed_f = np.zeros((n_proteins, n), dtype=bool)
    if scenario in ("scattered", "switched"):
        hit = rng.random((n_proteins, n)) < 0.2
        first = rng.random((n_proteins, n)) < 0.5
        imputed_b, imputed_f = hit & first, hit & ~first
    if scenario == "switched":
        ssde, nsde = SUBGROUP == "SSDE", SUBGROUP == "NSDE"
        imputed_b[40:60] = imputed_f[40:60] = False
        imputed_b[40:45, ssde] = True  # switched on at follow-up in SSDE
        imputed_f[45:48, nsde] = True  # switched off at follow-up in NSDE
        imputed_b[48:50] = imputed_f[48:50] = True  # imputed at both visits everywhere but one pair
        imputed_b[48:50, 0] = imputed_f[48:50, 0] = False
        imputed_b[50:55, :6] = imputed_f[50:55, :6] = True  # both visits imputed, subgroups balanced
        imputed_b[55:57] = True  # switched on at follow-up in every patient
    for imputed, values, se in ((imputed_b, baseline, se_b), (imputed_f, followup, se_f)):
        values[imputed] = level.repeat(n, axis=1)[imputed] - 2 + rng.normal(0, 0.3, imputed.sum())
        se[imputed] = rng.uniform(0.8, 1.2, imputed.sum())
    return baseline, followup, se_b, se_f, imputed_b, imputed_f


DESIGN_KINDS = ["subgroup", "all", "covariate"]


@pytest.mark.parametrize("scenario", ["none", "scattered", "switched"])
@pytest.mark.parametrize("kind", DESIGN_KINDS)
def test_paired_fast_path_equals_sample_level_fit(kind, scenario):
    """paired_vooma_fit (differences) == dpc_de on the sample-level design ~0 + patient +
    subgroup:followup (+ covariate:followup), to 1e-8: per-sample weights, coefficients, unscaled
    standard errors, sigma, df (after the df-loss correction), Amean, the corrected proteins, and
    the moderated t of every contrast with and without trend/robust."""
    age = np.random.default_rng(99).uniform(25, 75, len(SUBGROUP))
    design = difference_design(kind, SUBGROUP, age)
    seed = 10 * DESIGN_KINDS.index(kind) + ["none", "scattered", "switched"].index(scenario)
    baseline, followup, se_b, se_f, imputed_b, imputed_f = random_paired_data(seed, scenario)
    paired = vooma.paired_vooma_fit(baseline, followup, se_b, se_f, imputed_b, imputed_f, design)
    full_design = sample_level_design(design)
    general = vooma.dpc_de(
        interleave(baseline, followup),
        interleave(se_b, se_f),
        interleave(~imputed_b, ~imputed_f).astype(int),
        full_design,
    )
    if scenario == "switched":
        assert paired.df_corrected[48:57].all() and (paired.fit.df_residual == 0).any()
        # a whole subgroup switched on or off is determined by imputed values only if the design
        # separates the subgroups
        assert paired.df_corrected[40:48].all() == (kind != "all")
    else:
        assert not paired.df_corrected.any()
    np.testing.assert_array_equal(paired.df_corrected, general.df_corrected)
    n, p = design.shape
    followup_columns = np.arange(n, n + p)
    for ours, theirs, what in (
        (paired.baseline_weights, general.weights[:, 0::2], "baseline weights"),
        (paired.followup_weights, general.weights[:, 1::2], "followup weights"),
        (paired.fit.coefficients, general.fit.coefficients[:, followup_columns], "coefficients"),
        (paired.fit.stdev_unscaled, general.fit.stdev_unscaled[:, followup_columns], "stdev_unscaled"),
        (paired.fit.sigma, general.fit.sigma, "sigma"),
        (paired.fit.df_residual, general.fit.df_residual, "df_residual"),
        (paired.fit.amean, general.fit.amean, "amean"),
        (paired.fit.cov_coefficients, general.fit.cov_coefficients[np.ix_(followup_columns, followup_columns)], "cov"),
    ):
        assert_close(ours, theirs, f"{kind}/{scenario}/{what}", SAME)
    contrasts = np.eye(p)[:, : min(p, 2)]
    if kind != "all":
        contrasts = np.column_stack([contrasts, contrasts[:, 1] - contrasts[:, 0]])
    full_contrasts = np.vstack([np.zeros((n, contrasts.shape[1])), contrasts])
    for trend, robust in VARIANTS.values():
        ours = limma.ebayes(
            limma.contrasts_fit(paired.fit, contrasts), trend=paired.fit.amean if trend else None, robust=robust
        )
        theirs = limma.ebayes(
            limma.contrasts_fit(general.fit, full_contrasts), trend=general.fit.amean if trend else None, robust=robust
        )
        assert_close(ours.t, theirs.t, f"{kind}/{scenario}/t trend={trend} robust={robust}", SAME)
        assert_close(ours.pvalue, theirs.pvalue, f"{kind}/{scenario}/p trend={trend} robust={robust}", SAME)


def test_weighted_difference_fit_is_the_sample_level_fit_with_patient_effects_profiled_out():
    """For any positive sample weights, lm_fit of the differences with weights 1/(1/w_b + 1/w_f)
    equals lm_fit of the sample-level design: same coefficients, standard errors, sigma and df."""
    rng = np.random.default_rng(4)
    baseline, followup, *_ = random_paired_data(4, "none", n_proteins=50)
    w_b, w_f = rng.gamma(2, 1, baseline.shape), rng.gamma(2, 1, baseline.shape)
    design = difference_design("covariate", SUBGROUP, rng.normal(size=len(SUBGROUP)))
    pairs = limma.lm_fit(followup - baseline, design, weights=vooma.pair_weights(w_b, w_f))
    samples = limma.lm_fit(interleave(baseline, followup), sample_level_design(design), weights=interleave(w_b, w_f))
    columns = np.arange(len(SUBGROUP), len(SUBGROUP) + design.shape[1])
    np.testing.assert_allclose(pairs.coefficients, samples.coefficients[:, columns], rtol=1e-10)
    np.testing.assert_allclose(pairs.stdev_unscaled, samples.stdev_unscaled[:, columns], rtol=1e-10)
    np.testing.assert_allclose(pairs.sigma, samples.sigma, rtol=1e-10)
    np.testing.assert_array_equal(pairs.df_residual, samples.df_residual)


def test_paired_fit_rejects_incomplete_or_misshapen_input():
    baseline, followup, se_b, se_f, imputed_b, imputed_f = random_paired_data(1, "none", n_proteins=20)
    design = difference_design("subgroup", SUBGROUP, None)
    missing = baseline.copy()
    missing[0, 0] = np.nan
    with pytest.raises(ValueError, match="complete"):
        vooma.paired_vooma_fit(missing, followup, se_b, se_f, imputed_b, imputed_f, design)
    with pytest.raises(ValueError, match="se_followup"):
        vooma.paired_vooma_fit(baseline, followup, se_b, se_f[:, :3], imputed_b, imputed_f, design)
    with pytest.raises(ValueError, match="difference_design"):
        vooma.paired_vooma_fit(baseline, followup, se_b, se_f, imputed_b, imputed_f, design[:5])


def test_imputation_flags_count_only_when_some_protein_has_two_imputed_samples():
    """limpa ignores ``imputed`` when no protein has more than one imputed sample. With a subgroup of
    one patient, that patient's imputed baseline alone determines its fitted value (leverage 1):
    flagged alone it changes nothing; with a second imputed sample in the data set the protein
    takes the df-loss correction — in the paired path as in the sample-level port."""
    baseline, followup, se_b, se_f, _, _ = random_paired_data(2, "none", n_proteins=60)
    groups = np.array(["NSDE"] * 15 + ["SSDE"])
    design = difference_design("subgroup", groups, None)
    none = np.zeros(baseline.shape, dtype=bool)
    lone = none.copy()
    lone[0, 15] = True  # the SSDE patient's baseline
    fits = {}
    for label, imputed_b in (("none", none), ("lone", lone), ("two", lone.copy())):
        if label == "two":
            imputed_b[1, 3] = imputed_b[1, 4] = True  # another protein with two imputed samples
        paired = vooma.paired_vooma_fit(baseline, followup, se_b, se_f, imputed_b, none, design)
        general = vooma.vooma_lm_fit_with_imputation(
            interleave(baseline, followup),
            sample_level_design(design),
            imputed=interleave(imputed_b, none),
            predictor=np.log(interleave(se_b, se_f) + vooma.DPC_SE_OFFSET),
        )
        np.testing.assert_array_equal(paired.df_corrected, general.df_corrected)
        assert_close(paired.baseline_weights, general.weights[:, 0::2], label, SAME)
        fits[label] = paired
    np.testing.assert_array_equal(fits["lone"].baseline_weights, fits["none"].baseline_weights)
    assert not fits["lone"].df_corrected.any()
    assert fits["two"].df_corrected.tolist() == [True] + [False] * 59
    # the lone pair had no residual to lose (df stays 16 − 2 = 15 − 1), but A, the predictor mean and
    # the trend (loessFit weighted by df instead of lowess) change, and with them the weights
    assert fits["two"].fit.df_residual[0] == fits["none"].fit.df_residual[0]
    assert not np.allclose(fits["two"].baseline_weights, fits["none"].baseline_weights, rtol=1e-6)


# --------------------------------------------------------------------------------------------------
# null calibration of the paired fast path
# --------------------------------------------------------------------------------------------------
def dpc_like_null_trial(seed, n_proteins=400):
    """No true change. A DPC-like quantification of 16 patients' two visits: each protein has 1–6
    precursors, detected with logistic probability in the true level (limpa's detection probability
    curve, slope 0.7); an observed sample's value is the truth plus quantification noise with standard
    error 0.35/√(precursors detected); a sample with none detected is imputed (lower, shrunk value,
    standard error ≈ 1)."""
    rng = np.random.default_rng(seed)
    n = len(SUBGROUP)
    level = rng.uniform(3, 10, n_proteins)[:, None]
    tau = np.sqrt(0.15 * 4 / rng.chisquare(4, n_proteins))[:, None]
    precursors = np.broadcast_to(rng.integers(1, 7, n_proteins)[:, None], (n_proteins, n))
    patient = rng.normal(0, 0.6, (n_proteins, n))
    visits = []
    for _ in range(2):
        truth = level + patient + rng.normal(0, 1, (n_proteins, n)) * tau
        detected = rng.binomial(precursors, 1 / (1 + np.exp(4.2 - 0.7 * truth)))
        imputed = detected == 0
        se_observed = 0.35 / np.sqrt(np.maximum(detected, 1))
        se = np.where(imputed, rng.uniform(0.9, 1.0, imputed.shape), se_observed)
        value = np.where(
            imputed,
            truth - 1.0 + rng.normal(0, 0.5, imputed.shape),
            truth + rng.normal(0, 1, imputed.shape) * se_observed,
        )
        visits.append((value, se, imputed))
    (baseline, se_b, imputed_b), (followup, se_f, imputed_f) = visits
    return baseline, followup, se_b, se_f, imputed_b, imputed_f


def test_null_p_values_of_the_paired_fast_path_are_uniform():
    """Under no change, with DPC-like standard errors and imputation (≈ 15 % of proteins take the
    df-loss correction), the moderated p-values of NSDE, SSDE, interaction and all are uniform: the
    share below 0.001, 0.01, 0.05, 0.1, 0.5 is that level within 4 binomial SE plus a tenth of the
    level (proteins of a run share the trend and prior; 40 seeded runs × 400 proteins), and a
    Kolmogorov–Smirnov test of every 40th protein's p-values (10 per run) does not reject at 0.001."""
    from scipy import stats as sstats

    subgroup_design = difference_design("subgroup", SUBGROUP, None)
    contrasts = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]])
    pooled = {"NSDE": [], "SSDE": [], "interaction": [], "all": []}
    corrected = []
    for seed in range(40):
        trial = dpc_like_null_trial(20_000 + seed)
        fit = vooma.paired_vooma_fit(*trial, subgroup_design)
        corrected.append(fit.df_corrected.mean())
        moderated = limma.ebayes(limma.contrasts_fit(fit.fit, contrasts, ["NSDE", "SSDE", "interaction"]))
        for j, name in enumerate(moderated.names):
            pooled[name].append(moderated.pvalue[:, j])
        fit_all = vooma.paired_vooma_fit(*trial, np.ones((len(SUBGROUP), 1)))
        pooled["all"].append(limma.ebayes(fit_all.fit).pvalue[:, 0])
    assert 0.05 < np.mean(corrected) < 0.5
    for name, parts in pooled.items():
        p = np.concatenate(parts)
        assert len(p) == 16_000 and not np.isnan(p).any() and p.min() > 0
        for level in (0.001, 0.01, 0.05, 0.1, 0.5):
            share = float(np.mean(p < level))
            slack = 4 * np.sqrt(level * (1 - level) / len(p)) + 0.1 * level
            assert abs(share - level) <= slack, f"{name}: {share:.4f} of null p-values below {level}"
        spread = np.concatenate([part[::40] for part in parts])  # 10 proteins per run
        assert sstats.kstest(spread, "uniform").pvalue > 0.001, name


def test_paired_path_imports_no_scipy_or_pandas():
    """The differential step's fresh process: tearflow.vooma's paired path and the default ebayes
    load neither scipy nor pandas."""
    import subprocess
    import sys

    script = (
        "import sys; sys.path.insert(0, 'scripts'); import numpy as np; from tearflow import limma, smoothing, vooma\n"
        "rng = np.random.default_rng(1); b = rng.normal(5, 1, (200, 8)); f = b + rng.normal(0, .3, (200, 8))\n"
        "se = rng.uniform(.1, 1, (200, 8)); imp = rng.random((200, 8)) < .2\n"
        "fit = vooma.paired_vooma_fit(b, f, se, se, imp, imp[::-1], np.ones((8, 1)))\n"
        "limma.ebayes(fit.fit, trend=fit.fit.amean)\n"
        "print('scipy' in sys.modules, 'pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"], out.stdout + out.stderr
