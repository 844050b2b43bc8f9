"""tearflow.limma against R limma (golden fixtures) and against its own promises (BH, null control)."""

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from tearflow import limma, smoothing
from tearflow.multiple_testing import bh_adjust

FIXTURES = REPO / "tests" / "fixtures" / "limma"
CASES = ["missing", "unequal_covariates", "missing_covariates"]
VARIANTS = {"default": (False, False), "trend": (True, False), "robust": (False, True), "robust_trend": (True, True)}
MIN_PAIRS = 3  # as in make_fixtures.R
TREAT_LFC = 0.5  # as in make_fixtures.R
TOL = 1e-6


def load_case(case):
    read = lambda suffix: pd.read_csv(FIXTURES / f"{case}_{suffix}.tsv", sep="\t")  # noqa: E731
    return {
        "input": read("input"),
        "patients": read("patients"),
        "design_subgroups": read("design_subgroups"),
        "design_all": read("design_all"),
        "limma": read("limma"),
    }


def assert_close(ours, theirs, what):
    ours = np.asarray(ours, dtype=float)
    theirs = np.asarray(theirs, dtype=float)
    assert np.array_equal(np.isnan(ours), np.isnan(theirs)), f"{what}: NaN pattern differs"
    ok = ~np.isnan(theirs)
    assert ok.any(), f"{what}: nothing to compare"
    np.testing.assert_allclose(ours[ok], theirs[ok], rtol=TOL, atol=TOL, err_msg=what)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_lm_fit_contrasts_ebayes_match_limma(case, variant):
    """lm_fit → contrasts_fit → ebayes → bh_adjust equals lmFit → contrasts.fit → eBayes → p.adjust,
    and treat on the moderated fit equals limma's treat."""
    data = load_case(case)
    patients = data["patients"]
    y = data["input"][patients["patient"]].to_numpy(float)
    amean = data["input"]["mean_log2_abundance"].to_numpy()
    groups = list(dict.fromkeys(patients["subgroup"]))
    counts = np.stack(
        [np.isfinite(y[:, (patients["subgroup"] == g).to_numpy()]).sum(axis=1) for g in groups],
        axis=1,
    )
    total = np.isfinite(y).sum(axis=1)
    keep_sub, keep_all = counts.max(axis=1) >= MIN_PAIRS, total >= MIN_PAIRS
    design = data["design_subgroups"].to_numpy(float)
    contrasts = np.zeros((design.shape[1], len(groups) + (len(groups) == 2)))
    contrasts[np.arange(len(groups)), np.arange(len(groups))] = 1
    names = list(groups)
    if len(groups) == 2:
        contrasts[[0, 1], 2] = [-1, 1]
        names.append("interaction")
    trend, robust = VARIANTS[variant]
    # legacy=True: these fixtures come from limma 3.54, before fitFDistUnequalDF1 (limma 3.61), i.e.
    # the classic fitFDist / fitFDistRobustly even where the df differ (here they do: missing values).
    # limma's current default is tested in tests/test_limma_unequal_df.py.
    fit = limma.contrasts_fit(limma.lm_fit(y[keep_sub], design), contrasts, names)
    moderated = limma.ebayes(fit, trend=amean[keep_sub] if trend else None, robust=robust, legacy=True)
    fit_all = limma.lm_fit(y[keep_all], data["design_all"].to_numpy(float), names=["all"])
    moderated_all = limma.ebayes(fit_all, trend=amean[keep_all] if trend else None, robust=robust, legacy=True)
    reference = data["limma"][data["limma"]["variant"] == variant]
    for name in names + ["all"]:
        result, keep = (moderated_all, keep_all) if name == "all" else (moderated, keep_sub)
        j = 0 if name == "all" else names.index(name)
        treat_t, treat_p = limma.treat(result, TREAT_LFC)
        if name == "all":
            testable = total >= MIN_PAIRS
        elif name == "interaction":
            testable = counts.min(axis=1) >= MIN_PAIRS
        else:
            testable = counts[:, j] >= MIN_PAIRS
        ref = reference[reference["contrast"] == name]
        ours = {}
        for column, values in (
            ("log2fc", result.coefficients[:, j]),
            ("t", result.t[:, j]),
            ("pvalue", result.pvalue[:, j]),
            ("lods", result.lods[:, j]),
            ("df_total", result.df_total),
            ("treat_t", treat_t[:, j]),
            ("treat_pvalue", treat_p[:, j]),
        ):
            full = np.full(len(y), np.nan)
            full[keep] = values
            full[~testable] = np.nan
            ours[column] = full
        ours["fdr"] = bh_adjust(ours["pvalue"])
        for column, values in ours.items():
            assert_close(values, ref[column], f"{case}/{variant}/{name}/{column}")


def test_fixtures_cover_missing_value_handling():
    """The golden data include partial NA coefficients and proteins untestable in a contrast."""
    ref = load_case("missing")["limma"]
    default = ref[ref["variant"] == "default"].pivot(index="protein", columns="contrast", values="t")
    # tested for the first subgroup but not for the second (whole subgroup missing or < 3 pairs)
    assert (default["NSDE"].notna() & default["SSDE"].isna()).sum() >= 8
    assert (default["SSDE"].notna() & default["NSDE"].isna()).sum() >= 3
    assert default.isna().all(axis=1).sum() >= 2  # never testable


def test_lm_fit_drops_non_estimable_coefficients():
    design = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1]], dtype=float)
    y = np.array([[1.0, 2.0, 3.0, np.nan, np.nan], [1.0, 2.0, 4.0, 5.0, 7.0]])
    fit = limma.lm_fit(y, design)
    assert np.isnan(fit.coefficients[0, 1]) and np.isnan(fit.stdev_unscaled[0, 1])
    assert fit.coefficients[0, 0] == pytest.approx(2.0)
    assert fit.df_residual.tolist() == [2.0, 3.0]
    assert fit.sigma[0] == pytest.approx(1.0)
    assert fit.coefficients[1].tolist() == pytest.approx([7 / 3, 6.0])
    contrast = limma.contrasts_fit(fit, np.array([[-1.0], [1.0]]))
    assert np.isnan(contrast.coefficients[0, 0]) and contrast.coefficients[1, 0] == pytest.approx(6 - 7 / 3)


WEIGHTED = REPO / "tests" / "fixtures" / "limpa_de"  # made by make_fixtures.R there (limma 3.63.2)


def read_weighted(name):
    return pd.read_csv(WEIGHTED / f"weighted_{name}.tsv", sep="\t")


def test_weighted_lm_fit_matches_limma():
    """lm_fit(y, design, weights) equals lmFit(y, design, weights = w) on a matrix with NAs and a
    random positive weight matrix with some zero and NA weights (dropped observations): coefficients,
    unscaled standard errors, sigma, df, Amean; and contrasts_fit → ebayes (default, trend = Amean,
    robust, both) → treat equal contrasts.fit → eBayes / treat (legacy = TRUE) on the non-orthogonal
    design (two groups + centred covariate: contrasts use the unweighted design correlation, as limma)."""
    y = read_weighted("y").set_index("protein")
    weights = read_weighted("weights").set_index("protein").to_numpy()
    assert np.isnan(y.to_numpy()).any() and (weights == 0).any() and np.isnan(weights).any()
    design = read_weighted("design").set_index("sample")
    fit = limma.lm_fit(y.to_numpy(), design.to_numpy(), weights=weights, names=list(design.columns))
    reference = read_weighted("fit")
    for ours, column in ((fit.sigma, "sigma"), (fit.df_residual, "df_residual"), (fit.amean, "amean")):
        assert_close(ours, reference[column], column)
    for j, name in enumerate(design.columns):
        assert_close(fit.coefficients[:, j], reference[f"coef_{name}"], f"coefficient {name}")
        assert_close(fit.stdev_unscaled[:, j], reference[f"stdev_{name}"], f"stdev_unscaled {name}")
    contrasts = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    contrast_fit = limma.contrasts_fit(fit, contrasts, ["A", "B", "BminusA"])
    expected = read_weighted("limma")
    for variant, (trend, robust) in VARIANTS.items():
        # legacy=True: the fixture is eBayes(legacy = TRUE) (the df differ; the default is tested in
        # tests/test_limma_unequal_df.py)
        moderated = limma.ebayes(contrast_fit, trend=contrast_fit.amean if trend else None, robust=robust, legacy=True)
        treat_t, treat_p = limma.treat(moderated, TREAT_LFC)
        for j, name in enumerate(moderated.names):
            ref = expected[(expected["variant"] == variant) & (expected["contrast"] == name)]
            what = f"weighted/{variant}/{name}"
            assert_close(moderated.coefficients[:, j], ref["coefficient"], f"{what}/coefficient")
            assert_close(moderated.stdev_unscaled[:, j], ref["stdev_unscaled"], f"{what}/stdev_unscaled")
            assert_close(moderated.t[:, j], ref["t"], f"{what}/t")
            assert_close(moderated.pvalue[:, j], ref["pvalue"], f"{what}/pvalue")
            assert_close(moderated.lods[:, j], ref["lods"], f"{what}/lods")
            assert_close(moderated.df_total, ref["df_total"], f"{what}/df_total")
            # limma's treat reports t = 0 for an NA coefficient, tearflow's NaN
            assert_close(
                treat_t[:, j], np.where(np.isnan(ref["coefficient"]), np.nan, ref["treat_t"]), f"{what}/treat_t"
            )
            assert_close(treat_p[:, j], ref["treat_pvalue"], f"{what}/treat_pvalue")


def test_array_weights_on_complete_data_give_limmas_weighted_cov_coefficients():
    """One weight per sample on complete rows: limma fits all genes at once and reports the weighted
    (X'WX)⁻¹ as cov.coefficients, which contrasts.fit then uses; with probe weights (or any missing
    value) it reports the unweighted (X'X)⁻¹."""
    y = read_weighted("y").set_index("protein").to_numpy()
    design = read_weighted("design").set_index("sample").to_numpy()
    weights = read_weighted("array_weights")["weight"].to_numpy()
    complete = np.isfinite(y).all(axis=1)
    fit = limma.lm_fit(y[complete], design, weights=weights)
    reference = read_weighted("array_fit")
    assert_close(fit.coefficients, reference[["A", "B", "age"]].to_numpy(), "coefficients")
    assert_close(fit.sigma, reference["sigma"], "sigma")
    assert_close(fit.cov_coefficients, read_weighted("array_cov").iloc[:, 1:].to_numpy(), "cov.coefficients")
    contrasts = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    assert_close(
        limma.contrasts_fit(fit, contrasts).stdev_unscaled, reference[["A.1", "B.1", "BminusA"]].to_numpy(), "se"
    )
    probe = limma.lm_fit(y[complete], design, weights=np.tile(weights, (complete.sum(), 1)))
    np.testing.assert_allclose(probe.coefficients, fit.coefficients, rtol=1e-12)
    np.testing.assert_allclose(probe.cov_coefficients, np.linalg.inv(design.T @ design), rtol=1e-12)


def test_weights_that_are_zero_missing_or_infinite_drop_the_observation():
    """As lm.series: weight <= 0, NaN or inf makes the value missing; equal weights change nothing
    but sigma's scale; a per-protein weight vector scales each protein's sigma."""
    rng = np.random.default_rng(8)
    design = np.column_stack([np.ones(10), np.repeat([0.0, 1.0], 5), rng.normal(size=10)])
    y = rng.normal(size=(40, 10))
    w = rng.uniform(0.2, 3, size=y.shape)
    bad = rng.random(y.shape) < 0.15
    w_bad = w.copy()
    w_bad[bad] = rng.choice([0.0, -1.0, np.nan, np.inf], size=bad.sum())
    dropped = limma.lm_fit(y, design, weights=w_bad)
    missing = limma.lm_fit(np.where(bad, np.nan, y), design, weights=np.where(bad, 1.0, w))
    for field in ("coefficients", "stdev_unscaled", "sigma", "df_residual"):
        np.testing.assert_allclose(getattr(dropped, field), getattr(missing, field), rtol=1e-12, err_msg=field)
    np.testing.assert_allclose(dropped.amean, y.mean(axis=1), rtol=1e-12)  # Amean ignores the weights
    plain = limma.lm_fit(y, design)
    equal = limma.lm_fit(y, design, weights=np.full(10, 4.0))
    np.testing.assert_allclose(equal.coefficients, plain.coefficients, rtol=1e-12)
    np.testing.assert_allclose(equal.sigma, 2 * plain.sigma, rtol=1e-12)
    np.testing.assert_allclose(equal.stdev_unscaled, plain.stdev_unscaled / 2, rtol=1e-12)
    per_protein = limma.lm_fit(y, design, weights=np.arange(1.0, 41.0))
    np.testing.assert_allclose(per_protein.sigma, plain.sigma * np.sqrt(np.arange(1.0, 41.0)), rtol=1e-12)
    with pytest.raises(ValueError, match="weights"):
        limma.lm_fit(y, design, weights=np.ones(7))


def test_bh_adjust_known_values_and_nan():
    p = np.array([0.01, np.nan, 0.04, 0.03, 0.5])
    # R: p.adjust(c(0.01, NA, 0.04, 0.03, 0.5), "BH") -> 0.04 NA 0.05333333 0.05333333 0.5
    expected = np.array([0.04, np.nan, 0.16 / 3, 0.16 / 3, 0.5])
    np.testing.assert_allclose(bh_adjust(p), expected, rtol=1e-12)
    assert np.isnan(bh_adjust([np.nan, np.nan])).all()
    assert bh_adjust(pd.Series([0.2])).tolist() == [0.2]
    q = bh_adjust(np.random.default_rng(1).uniform(size=200))
    assert (q <= 1).all() and (q >= 0).all()


def test_trigamma_inverse_inverts_trigamma():
    from scipy.special import polygamma

    y = np.array([0.01, 0.5, 3.0, 40.0, 2000.0])
    np.testing.assert_allclose(limma.trigamma_inverse(polygamma(1, y)), y, rtol=1e-6)


def test_import_needs_no_scipy():
    """The differential step's fresh process: importing tearflow.limma and running the default limma
    path (lm_fit → contrasts_fit → ebayes with and without trend → CI → BH) loads no scipy at all —
    not scipy.special (~0.13 s; tearflow.distributions replaces it, issue 8), scipy.stats (~0.9 s) or
    scipy.optimize (~0.5 s); the latter are imported where needed (robust prior, rank tests)."""
    import subprocess
    import sys

    script = (
        "import sys; sys.path.insert(0, 'scripts'); import tearflow.limma; "
        "print('scipy' in sys.modules, 'scipy.stats' in sys.modules, 'scipy.optimize' in sys.modules)"
    )
    on_import = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert on_import.stdout.split() == ["False", "False", "False"], on_import.stdout + on_import.stderr
    default_path = (
        "import sys; import numpy as np; from tearflow import limma; from tearflow.multiple_testing import bh_adjust\n"
        "rng = np.random.default_rng(3); y = rng.normal(size=(300, 8)); y[rng.random(y.shape) < 0.1] = np.nan\n"
        "design = np.column_stack([np.repeat([1.0, 0.0], 4), np.repeat([0.0, 1.0], 4)])\n"
        "fit = limma.contrasts_fit(limma.lm_fit(y, design), np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]]))\n"
        "for trend in (None, rng.normal(size=300)):\n"
        "    m = limma.ebayes(fit, trend=trend); m.confidence_interval(); bh_adjust(m.pvalue)\n"
        "print('scipy' in sys.modules, 'scipy.stats' in sys.modules, 'scipy.optimize' in sys.modules)"
    )
    on_run = subprocess.run([sys.executable, "-c", default_path], cwd=REPO, capture_output=True, text=True, check=True)
    assert on_run.stdout.split() == ["False", "False", "False"], on_run.stdout + on_run.stderr


def test_t_tails_match_scipy_stats_t():
    """The t tails and quantiles of the default path (tearflow.distributions) give scipy.stats.t's NaN,
    ±inf, zeros and signs exactly and its values to 1e-12, except where scipy is wrong (t² overflow,
    underflowed tails, stdtrit at p ≤ 1e-300: checked in tests/test_distributions.py)."""
    from scipy import stats as sstats

    x = np.array([-np.inf, -40, -1, -0.0, 0.0, 1e-300, 0.5, 1.96, 7, 38, 1e10, 1e200, np.inf, np.nan])
    df = np.array([[-1], [0], [0.5], [1], [2.5], [10], [31.7], [1e6], [np.inf], [np.nan]])
    p = np.array([0, 1e-320, 1e-300, 1e-20, 0.025, 0.5, 0.975, 1 - 1e-16, 1, 1.5, -0.1, np.nan])

    def close(ours, theirs, scipy_wrong):
        ours, theirs = np.asarray(ours), np.asarray(theirs)
        assert ours.shape == theirs.shape
        ours, theirs = ours[~scipy_wrong], theirs[~scipy_wrong]
        assert np.array_equal(np.isnan(ours), np.isnan(theirs))
        exact = ~np.isfinite(theirs) | (theirs == 0)
        np.testing.assert_array_equal(ours[exact], theirs[exact])
        np.testing.assert_allclose(ours[~exact], theirs[~exact], rtol=1e-12, atol=0)
        finite = ~np.isnan(theirs)
        assert (np.signbit(ours[finite]) == np.signbit(theirs[finite])).all()

    with np.errstate(all="ignore"):
        tail_wrong = (x == 1e200) & (df <= 1) | (sstats.t.sf(x, df) < np.finfo(float).tiny) & (x > 0) & (x < np.inf)
        quantile_wrong = (p == 1e-320) & (df >= 0.5) & (df <= 1e6) | (p == 1e-300) & np.isin(df, [0.5, 2.5, 10])
        close(limma._t_sf(x, df), sstats.t.sf(x, df), tail_wrong)
        close(limma._t_logsf(x, df), sstats.t.logsf(x, df), tail_wrong)
        close(limma._t_ppf(p, df), sstats.t.ppf(p, df), quantile_wrong)
        close(limma._t_isf(p, df), sstats.t.isf(p, df), quantile_wrong)
        close(limma._t_isf(p, 17.3), sstats.t.isf(p, 17.3), p == 1e-320)


def test_bspline_basis_equals_scipy_interpolate():
    """The numpy B-splines of the trend basis give exactly scipy.interpolate.BSpline's values and derivatives."""
    from scipy.interpolate import BSpline

    rng = np.random.default_rng(11)
    for n_inner in range(4):
        lo, hi = 12.5, 27.0
        knots = np.sort(np.concatenate([[lo] * 4, rng.uniform(lo, hi, n_inner), [hi] * 4]))
        c = np.eye(len(knots) - 4)
        x = np.concatenate([rng.uniform(lo, hi, 40), knots])
        spline = BSpline(knots, c, 3, extrapolate=True)
        np.testing.assert_array_equal(smoothing._bspline_values(knots, c, 3, x), spline(x))
        for nu in (1, 2):
            ours = smoothing._bspline_values(*smoothing._bspline_derivative(knots, c, 3, nu), x)
            np.testing.assert_array_equal(ours, spline.derivative(nu)(x))


def test_lowess_matches_r():
    # R: lowess(x, y, f = 0.4, iter = 3)$y with x = c(1,2,3,4,5,6,7,8,9,10,3), y = ... below
    x = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 3], dtype=float)
    y = np.array([2.0, 4.1, 5.9, 8.2, 30.0, 12.1, 13.8, 16.3, 18.0, 19.7, 6.5])
    expected = np.array([2.0, 4.1, 6.2, 8.2, 8.2, 13.8, 13.8, 16.0682384, 18.0, 19.7, 6.2])
    np.testing.assert_allclose(smoothing.lowess(x, y, f=0.4, iterations=3), expected, atol=1e-6)


def null_trial(seed, n_proteins=300):
    """Per-patient differences under the global null, trial shape (11 + 5 patients, ~15 % missing):
    protein variances drawn from limma's prior (scaled inverse χ², d0 = 4, s0² = 0.3)."""
    rng = np.random.default_rng(seed)
    s2 = 0.3 * 4 / rng.chisquare(4, size=n_proteins)
    y = rng.normal(size=(n_proteins, 16)) * np.sqrt(s2)[:, None]
    y[rng.uniform(size=y.shape) < 0.15] = np.nan
    return pd.DataFrame(y), rng.uniform(15, 30, n_proteins)


SUBGROUP = np.array(["NSDE"] * 11 + ["SSDE"] * 5)


def test_null_simulation_controls_false_discoveries():
    """Under the global null BH keeps P(any discovery) ≤ α = 0.05 per contrast. With R = 1,000
    seeded runs the Monte-Carlo standard error of a share near 0.05 is ≈ 0.0069; we allow nominal
    + 3 SE = 0.071. (Fails if p-values are anti-conservative, e.g. df_prior ignored.)"""
    from tearflow.differential import differential_statistics

    runs, alpha = 1000, 0.05
    any_discovery = {}
    for seed in range(runs):
        differences, abundance = null_trial(seed)
        tables = differential_statistics(differences, SUBGROUP, ["NSDE", "SSDE"], abundance)
        for name, table in tables.items():
            any_discovery.setdefault(name, []).append(bool((table["fdr"] < alpha).any()))
    bound = alpha + 3 * np.sqrt(alpha * (1 - alpha) / runs)
    shares = {name: float(np.mean(hits)) for name, hits in any_discovery.items()}
    assert set(shares) == {"NSDE", "SSDE", "interaction", "all"}
    for name, share in shares.items():
        assert share <= bound, f"{name}: {share:.3f} of null runs had a discovery (bound {bound:.3f})"


@pytest.mark.parametrize("trend, robust", [(False, False), (True, False), (False, True), (True, True)])
def test_null_p_values_are_calibrated_in_every_variant(trend, robust):
    """Under the null the share of p-values below 0.01 and 0.05 is that level, for the default,
    trend, robust and robust-trend fits: 60 runs × 300 proteins, per contrast; the bound is 4
    binomial SE plus a tenth of the level (proteins within a run share their prior estimate, so
    the pooled p-values are not quite independent)."""
    from tearflow.differential import differential_statistics

    pvalues = {}
    for seed in range(60):
        differences, abundance = null_trial(10_000 + seed)
        tables = differential_statistics(
            differences, SUBGROUP, ["NSDE", "SSDE"], abundance, trend=trend, robust=robust
        )
        for name, table in tables.items():
            pvalues.setdefault(name, []).append(table["pvalue"][~np.isnan(table["pvalue"])])
    for name, parts in pvalues.items():
        pooled = np.concatenate(parts)
        assert len(pooled) > 12_000 and pooled.min() > 0
        for level in (0.01, 0.05):
            share = float(np.mean(pooled < level))
            slack = 4 * np.sqrt(level * (1 - level) / len(pooled)) + 0.1 * level
            assert abs(share - level) <= slack, f"{name}: {share:.4f} of null p-values below {level}"


def test_treat_at_zero_is_the_moderated_t_test_and_grows_more_cautious_with_the_threshold():
    rng = np.random.default_rng(5)
    y = rng.normal(0, 0.4, size=(300, 8)) + np.r_[np.full(30, 1.5), np.zeros(270)][:, None]
    moderated = limma.ebayes(limma.lm_fit(y, np.ones((8, 1))))
    t0, p0 = limma.treat(moderated, 0.0)
    np.testing.assert_allclose(t0, moderated.t, rtol=1e-12)
    np.testing.assert_allclose(p0, moderated.pvalue, rtol=1e-12)
    _, p_half = limma.treat(moderated, 0.5)
    _, p_one = limma.treat(moderated, 1.0)
    assert np.all(p_half >= p0) and np.all(p_one >= p_half)
    # a change well inside the threshold is never called, however precise
    assert np.all(p_one[30:] > 0.5)
