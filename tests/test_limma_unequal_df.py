"""limma's default empirical Bayes step for unequal residual df (``fitFDistUnequalDF1``, limma ≥ 3.61)
against R limma 3.63.2, its edge cases, and the calibration of its p-values.

Fixtures: ``tests/fixtures/limma_unequal_df/`` (made by ``make_fixtures.R`` there with limma 3.63.2 and
limpa 1.3.11; ``eBayes``/``treat`` with limma's default ``legacy = NULL``), on inputs stored there and
in ``tests/fixtures/limpa_de/``.
"""

import numpy as np
import pandas as pd
import pytest
from conftest import CONFIG_SCHEMA, REPO

from tearflow import distributions, limma, r_optim, vooma
from tearflow.differential import EBAYES_LEGACY

FIXTURES = REPO / "tests" / "fixtures" / "limma_unequal_df"
LIMPA = REPO / "tests" / "fixtures" / "limpa_de"
VARIANTS = {"default": (False, False), "trend": (True, False), "robust": (False, True), "robust_trend": (True, True)}
TREAT_LFC = 0.5  # as in make_fixtures.R
TOL = 1e-6
#: the largest prior df fitFDistUnequalDF1 can return: optimize() searches d0/2 = p/(1 − p), p ≤ 0.9998
MAX_DF_PRIOR = 2 * 0.9998 / (1 - 0.9998)


def read(name, folder=FIXTURES):
    return pd.read_csv(folder / name, sep="\t")


def assert_close(ours, theirs, what, tol=TOL, all_nan=False):
    ours = np.broadcast_to(np.asarray(ours, dtype=float), np.shape(theirs))
    theirs = np.asarray(theirs, dtype=float)
    assert np.array_equal(np.isnan(ours), np.isnan(theirs)), f"{what}: NaN pattern differs"
    ok = ~np.isnan(theirs)
    assert ok.any() or all_nan, f"{what}: nothing to compare"
    np.testing.assert_allclose(ours[ok], theirs[ok], rtol=tol, atol=tol, err_msg=what)


def assert_default_ebayes_matches(fit, label, covariate=None):
    """ebayes / treat with limma's default (legacy=None), four variants, equal R's eBayes / treat:
    t, p-value, B, treat's t and p per contrast; df.prior, s2.prior, s2.post, df.total per protein."""
    contrasts = read(f"{label}_contrasts.tsv")
    priors = read(f"{label}_prior.tsv")
    covariate = fit.amean if covariate is None else covariate
    for variant, (trend, robust) in VARIANTS.items():
        moderated = limma.ebayes(fit, trend=covariate if trend else None, robust=robust)
        treat_t, treat_p = limma.treat(moderated, TREAT_LFC)
        what = f"{label}/{variant}"
        prior = priors[priors["variant"] == variant]
        assert len(prior) == len(fit.sigma), f"{what}: rows"
        assert_close(moderated.df_prior, prior["df_prior"], f"{what}/df_prior")
        assert_close(moderated.s2_prior, prior["s2_prior"], f"{what}/s2_prior")
        assert_close(moderated.s2_post, prior["s2_post"], f"{what}/s2_post")
        assert_close(moderated.df_total, prior["df_total"], f"{what}/df_total")
        for j, name in enumerate(moderated.names):
            ref = contrasts[(contrasts["variant"] == variant) & (contrasts["contrast"] == name)]
            assert_close(moderated.t[:, j], ref["t"], f"{what}/{name}/t")
            assert_close(moderated.pvalue[:, j], ref["pvalue"], f"{what}/{name}/pvalue")
            assert_close(moderated.lods[:, j], ref["lods"], f"{what}/{name}/lods")
            # limma's treat reports t = 0 for an NA coefficient, tearflow's NaN (limma.treat)
            r_treat_t = np.where(np.isnan(moderated.coefficients[:, j]), np.nan, ref["treat_t"])
            assert_close(treat_t[:, j], r_treat_t, f"{what}/{name}/treat_t")
            assert_close(treat_p[:, j], ref["treat_pvalue"], f"{what}/{name}/treat_pvalue")


# --------------------------------------------------------------------------------------------------
# limma 3.63.2's default eBayes
# --------------------------------------------------------------------------------------------------
def missing_fits():
    data = read("missing_input.tsv")
    patients = read("missing_patients.tsv")
    y = data[patients["patient"]].to_numpy(float)
    subgroup = patients["subgroup"].to_numpy()
    design = np.column_stack([subgroup == "NSDE", subgroup == "SSDE"]).astype(float)
    contrasts = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]])
    subgroups = limma.contrasts_fit(limma.lm_fit(y, design), contrasts, ["NSDE", "SSDE", "interaction"])
    every = limma.lm_fit(y, np.ones((len(subgroup), 1)), names=["all"])
    return {"subgroups": subgroups, "all": every}, data["amean"].to_numpy()


def test_missing_value_fixture_has_unequal_df_and_the_edge_cases():
    fits, _ = missing_fits()
    df = fits["subgroups"].df_residual
    assert len(np.unique(df[df > 0])) >= 8 and (df == 0).sum() == 2 and np.isnan(fits["subgroups"].sigma).sum() == 2
    assert np.isnan(fits["subgroups"].coefficients[:, 1]).sum() == 9  # SSDE not estimable (41-48, 50)
    gap = read("legacy_gap.tsv").set_index(["fit", "variant"])["max_abs_t_gap"]
    assert (gap.drop("dpc_subgroup_full_df", level="fit") > 0.02).all()  # the estimators differ
    assert (gap.loc["dpc_subgroup_full_df"] == 0).all()  # equal df: the default is the classic one


@pytest.mark.parametrize("fit_name", ["subgroups", "all"])
def test_missing_values_match_limma_default(fit_name):
    """Unweighted fits with missing values (unequal df, NA coefficients, df 0 with NA sigma):
    lm_fit → contrasts_fit → ebayes / treat equal lmFit → contrasts.fit → eBayes / treat (legacy = NULL)."""
    fits, amean = missing_fits()
    assert_default_ebayes_matches(fits[fit_name], f"missing_{fit_name}", covariate=amean)


def test_weighted_fit_matches_limma_default():
    """Weighted lmFit with NAs and zero/NA weights (../limpa_de inputs), eBayes / treat (legacy = NULL)."""
    y = read("weighted_y.tsv", LIMPA).set_index("protein").to_numpy()
    weights = read("weighted_weights.tsv", LIMPA).set_index("protein").to_numpy()
    design = read("weighted_design.tsv", LIMPA).set_index("sample")
    fit = limma.lm_fit(y, design.to_numpy(), weights=weights, names=list(design.columns))
    contrasts = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    assert_default_ebayes_matches(limma.contrasts_fit(fit, contrasts, ["A", "B", "BminusA"]), "weighted")


DPC_DESIGNS = ["visit", "subgroup", "covariate", "subgroup_full_df"]


def dpc_fit(name):
    """vooma.dpc_de on ../limpa_de's dpcQuant output and design ``name``, with make_fixtures.R's contrasts."""
    values = read("dpc_expression.tsv", LIMPA).set_index("protein")
    errors = read("dpc_standard_errors.tsv", LIMPA).set_index("protein")
    counts = read("dpc_n_observations.tsv", LIMPA).set_index("protein")
    if name == "subgroup_full_df":
        rows = read("dpc_rows_subgroup_full_df.tsv", LIMPA)["protein"]
        values, errors, counts = values.loc[rows], errors.loc[rows], counts.loc[rows]
    design = read(f"dpc_design_{name}.tsv", LIMPA).set_index("sample")
    result = vooma.dpc_de(values.to_numpy(), errors.to_numpy(), counts.to_numpy(), design.to_numpy())
    columns = list(design.columns)
    if "visit_fW2" in columns:
        contrasts, names = np.array([[c == "visit_fW2" for c in columns]], dtype=float).T, ["all"]
    else:
        nsde = np.array([c == "NSDE_W2" for c in columns], dtype=float)
        ssde = np.array([c == "SSDE_W2" for c in columns], dtype=float)
        contrasts, names = np.column_stack([nsde, ssde, ssde - nsde]), ["NSDE", "SSDE", "interaction"]
    return limma.contrasts_fit(result.fit, contrasts, names)


@pytest.mark.parametrize("name", DPC_DESIGNS)
def test_dpc_de_matches_limma_default(name):
    """limpa's dpcDE (df-loss correction: unequal, non-integer df) → contrasts.fit → eBayes / treat
    with limma's default, from the same dpcQuant output through tearflow.vooma."""
    assert_default_ebayes_matches(dpc_fit(name), f"dpc_{name}")


def test_equal_df_default_is_the_classic_estimator():
    """All residual df equal (subgroup_full_df): legacy=None is exactly legacy=True, in every variant."""
    fit = dpc_fit("subgroup_full_df")
    assert np.unique(fit.df_residual).size == 1
    for trend, robust in VARIANTS.values():
        default = limma.ebayes(fit, trend=fit.amean if trend else None, robust=robust)
        classic = limma.ebayes(fit, trend=fit.amean if trend else None, robust=robust, legacy=True)
        for field in ("t", "pvalue", "lods", "s2_post", "df_total"):
            np.testing.assert_array_equal(getattr(default, field), getattr(classic, field), err_msg=field)
    # proteins with df 0 do not count: the remaining positive df decide
    var = np.array([0.5, 1.2, 0.8, 2.0, np.nan, 0.3])
    df = np.array([4.0, 4.0, 4.0, 4.0, 0.0, 4.0])
    a, b = limma.squeeze_var(var, df), limma.squeeze_var(var, df, legacy=True)
    np.testing.assert_array_equal(a.var_post, b.var_post)
    assert a.df_prior == b.df_prior


# --------------------------------------------------------------------------------------------------
# fitFDistUnequalDF1 / squeezeVar edge cases
# --------------------------------------------------------------------------------------------------
SQUEEZE = read("squeeze_cases.tsv")


@pytest.mark.parametrize("case", list(dict.fromkeys(SQUEEZE["case"])))
def test_fit_f_dist_unequal_df1_and_squeeze_var_match_limma(case):
    """fitFDistUnequalDF1 (scale, df2, df2.shrunk, df2.outlier) and squeezeVar(legacy = NULL) on
    limma's edge cases: n.informative = 2 with and without prior weights, 1 (NA → squeezeVar stops),
    df < 0.01, a scalar df1, zero variances, no excess variance, an extreme outlier, equal df."""
    rows = SQUEEZE[SQUEEZE["case"] == case]
    for (robust, trend), ref in rows.groupby(["robust", "trend"]):
        what = f"{case}/robust={robust}/trend={trend}"
        x = ref["x"].to_numpy()
        df1 = ref["df1"].to_numpy()
        if case == "scalar_df1":
            df1 = float(df1[0])
        covariate = ref["covariate"].to_numpy() if trend else None
        fit = limma.fit_f_dist_unequal_df1(x, df1, covariate=covariate, robust=robust)
        assert_close(np.broadcast_to(fit.scale, len(ref)), ref["scale"], f"{what}/scale", all_nan=True)
        if np.isnan(ref["df2"]).all():
            assert np.isnan(fit.df2), what
        else:
            assert_close(fit.df2, ref["df2"], f"{what}/df2")
        if ref["df2_shrunk"].notna().any():
            assert_close(fit.df2_shrunk, ref["df2_shrunk"], f"{what}/df2_shrunk")
            assert_close(fit.df2_outlier, ref["df2_outlier"], f"{what}/df2_outlier")
        else:
            assert fit.df2_shrunk is None and fit.df2_outlier is None, what
        if ref["sv_error"].all():
            with pytest.raises(ValueError, match="prior degrees of freedom"):
                limma.squeeze_var(x, df1, covariate=covariate, robust=robust)
            continue
        squeezed = limma.squeeze_var(x, df1, covariate=covariate, robust=robust)
        assert_close(squeezed.df_prior, ref["sv_df_prior"], f"{what}/df_prior")
        if ref["sv_var_prior"].notna().any():
            assert_close(squeezed.var_prior, ref["sv_var_prior"], f"{what}/var_prior")
            assert_close(squeezed.var_post, ref["sv_var_post"], f"{what}/var_post")
        else:  # limma 3.63.2: two informative values and prior weights → s0² NaN (see the docstring)
            assert np.isnan(squeezed.var_prior) and np.isnan(squeezed.var_post).all(), what


def test_edge_cases_reach_limmas_branches():
    """The squeeze cases do reach the branches they are named after."""
    by_case = {case: rows for case, rows in SQUEEZE.groupby("case")}
    assert by_case["two_informative_with_na"]["scale"].isna().all()  # limma's NaN s0²
    assert by_case["two_informative"]["scale"].notna().all()
    assert by_case["one_informative"]["sv_error"].all()
    extreme = by_case["extreme_outlier"]  # its tail at df2.outlier (≈ exp(−2800)) exists only as a log
    assert (extreme.loc[extreme["robust"], "df2_outlier"] < 0.01).all()
    no_excess = by_case["no_excess_variance"]
    assert (no_excess["df2"] > 5000).all() and (no_excess["df2"] < MAX_DF_PRIOR).all()


def test_prior_df_is_never_infinite_with_unequal_df():
    """Without excess variance the classic estimator puts d0 = ∞ (s̃² = s0²; B-statistic by its
    infinite-df limit), fitFDistUnequalDF1 stops at its search bound d0 ≤ 9998; ebayes works with both."""
    rng = np.random.default_rng(7)
    df = rng.choice([2.0, 4.0, 7.0], 400)
    coefficients = rng.normal(size=(400, 1))
    fit = limma.LinearFit(
        coefficients=coefficients,
        stdev_unscaled=np.ones((400, 1)),
        sigma=np.sqrt(rng.chisquare(df) / df),
        df_residual=df,
        cov_coefficients=np.eye(1),
    )
    classic = limma.ebayes(fit, legacy=True)
    default = limma.ebayes(fit)
    assert classic.df_prior == np.inf and np.all(classic.s2_post == classic.s2_prior)
    assert 1000 < default.df_prior <= MAX_DF_PRIOR
    for moderated in (classic, default):
        assert np.isfinite(moderated.t).all() and np.isfinite(moderated.lods).all()
        np.testing.assert_allclose(moderated.df_total, np.minimum(df + moderated.df_prior, df.sum()))


def test_na_sigma_and_no_residual_df_get_the_prior_variance():
    """A protein with df 0 (sigma NaN) gets s̃² = s0² and contributes nothing to the prior; a NaN
    variance with positive df is left out of the prior (prior weight 0) and stays NaN."""
    rng = np.random.default_rng(3)
    df = rng.choice([3.0, 5.0, 9.0], 200)
    var = rng.chisquare(df) / df * 0.4 / (rng.chisquare(6, 200) / 6)
    with_gaps = var.copy()
    with_gaps[[0, 1]] = np.nan
    df_gaps = df.copy()
    df_gaps[0] = 0
    squeezed = limma.squeeze_var(with_gaps, df_gaps)
    assert squeezed.var_post[0] == squeezed.var_prior and np.isnan(squeezed.var_post[1])
    reference = limma.squeeze_var(var[2:], df[2:])
    assert squeezed.df_prior == pytest.approx(reference.df_prior, rel=1e-12)
    assert squeezed.var_prior == pytest.approx(reference.var_prior, rel=1e-12)


def test_fewer_than_three_variances_are_not_squeezed():
    squeezed = limma.squeeze_var(np.array([0.5, 2.0]), np.array([3.0, 7.0]))
    assert squeezed.df_prior == 0 and squeezed.var_post.tolist() == [0.5, 2.0]


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="different lengths"):
        limma.fit_f_dist_unequal_df1(np.ones(5), np.ones(3))
    with pytest.raises(ValueError, match="NA df1"):
        limma.fit_f_dist_unequal_df1(np.ones(3), np.array([1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="covariate"):
        limma.fit_f_dist_unequal_df1(np.ones(3), 2.0, covariate=np.array([1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="negative"):
        limma.fit_f_dist_unequal_df1(np.ones(3), 2.0, prior_weights=np.array([1.0, -1.0, 1.0]))


def test_brent_fmin_is_rs_optimize():
    """Bit for bit R's optimize(f, c(0.5, 0.9998))$minimum (R 4.2): smooth, constant (where
    fitFDistUnequalDF1 ends when its objective is empty), kinked, infinite beyond 0.9 (R: "NA/Inf
    replaced by maximum positive value") and multimodal objectives."""
    import math

    cases = {
        "0.64606609596860309": lambda p: (p - 0.7) ** 2 + 0.1 * p**4,
        "0.99975420447925689": lambda p: 0.0,
        "0.79998159367418165": lambda p: abs(p - 0.8),
        "0.89996576970421138": lambda p: math.inf if p > 0.9 else (p - 0.95) ** 2,
        "0.91629609655418287": lambda p: math.sin(12 * p),
    }
    for expected, f in cases.items():
        assert r_optim.brent_fmin(f, 0.5, 0.9998) == float(expected)


def test_lgamma_and_logmdigamma():
    """R's lgamma (nmath lgammafn) and statmod's logmdigamma in numpy: against math.lgamma, R's
    values and log − ψ."""
    import math

    x = np.concatenate([np.geomspace(1e-300, 1e10, 3001), [0.5, 1.0, 2.0, 10.0, 10.5, 5e6, 1e18]])
    reference = np.array([math.lgamma(v) for v in x])
    np.testing.assert_allclose(distributions.lgamma(x), reference, rtol=2e-15, atol=2e-15)
    assert np.isnan(distributions.lgamma(np.array([0.0, -1.0, np.nan]))).all()
    # statmod: logmdigamma(c(1, 1e6)) = 0.57721566490150844 5.0000008333333326e-07
    assert distributions.logmdigamma(1.0) == 0.57721566490150844
    assert distributions.logmdigamma(1e6) == 5.0000008333333326e-07
    y = np.geomspace(1e-3, 4.9, 50)
    np.testing.assert_allclose(distributions.logmdigamma(y), np.log(y) - distributions.digamma(y), rtol=1e-13)


# --------------------------------------------------------------------------------------------------
# null calibration
# --------------------------------------------------------------------------------------------------
SUBGROUP = np.array(["NSDE"] * 11 + ["SSDE"] * 5)


def null_differences(seed, n_proteins=300):
    """Per-patient differences under the null, trial shape, variances from a scaled inverse χ² prior
    (d0 = 4) with an abundance trend, 15 % missing at random plus a fifth of proteins with half their
    pairs missing — so the residual df range from 1 to 14."""
    rng = np.random.default_rng(seed)
    abundance = rng.uniform(15, 30, n_proteins)
    s2 = (0.1 + 0.5 * np.exp(-(abundance - 15) / 4)) * 4 / rng.chisquare(4, size=n_proteins)
    y = rng.normal(size=(n_proteins, len(SUBGROUP))) * np.sqrt(s2)[:, None]
    y[rng.uniform(size=y.shape) < 0.15] = np.nan
    sparse = rng.uniform(size=n_proteins) < 0.2
    y[np.ix_(sparse, np.arange(0, len(SUBGROUP), 2))] = np.nan
    return y, abundance


@pytest.mark.parametrize("trend, robust", list(VARIANTS.values()))
def test_null_p_values_with_unequal_df_are_uniform(trend, robust):
    """Under no change, with unequal residual df, limma's default prior (fitFDistUnequalDF1) gives
    uniform moderated p-values in every variant: the share below 0.001, 0.01, 0.05, 0.1, 0.5 is that
    level within 4 binomial SE plus a tenth of the level (proteins of a run share the prior; 60
    seeded runs × 300 proteins × NSDE, SSDE, interaction, all), and a Kolmogorov–Smirnov test of
    every 30th protein's p-values (10 per run and contrast) does not reject at 0.001."""
    from scipy import stats as sstats

    design = np.column_stack([SUBGROUP == "NSDE", SUBGROUP == "SSDE"]).astype(float)
    contrasts = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]])
    pooled = {"NSDE": [], "SSDE": [], "interaction": [], "all": []}
    distinct_df = []
    for seed in range(60):
        y, abundance = null_differences(30_000 + seed)
        keep = np.isfinite(y).sum(axis=1) >= 3
        fit = limma.contrasts_fit(limma.lm_fit(y[keep], design), contrasts, ["NSDE", "SSDE", "interaction"])
        every = limma.lm_fit(y[keep], np.ones((len(SUBGROUP), 1)), names=["all"])
        distinct_df.append(len(np.unique(fit.df_residual)))
        for one in (fit, every):
            moderated = limma.ebayes(one, trend=abundance[keep] if trend else None, robust=robust)
            for j, name in enumerate(moderated.names):
                pooled[name].append(moderated.pvalue[:, j][np.isfinite(moderated.pvalue[:, j])])
    assert min(distinct_df) >= 8
    for name, parts in pooled.items():
        p = np.concatenate(parts)
        assert len(p) > 15_000 and p.min() > 0 and p.max() <= 1
        for level in (0.001, 0.01, 0.05, 0.1, 0.5):
            share = float(np.mean(p < level))
            slack = 4 * np.sqrt(level * (1 - level) / len(p)) + 0.1 * level
            assert abs(share - level) <= slack, f"{name}: {share:.4f} of null p-values below {level}"
        spread = np.concatenate([part[::30] for part in parts])
        assert sstats.kstest(spread, "uniform").pvalue > 0.001, name


# --------------------------------------------------------------------------------------------------
# the workflow's choice
# --------------------------------------------------------------------------------------------------
def test_ebayes_legacy_config_values_map_every_value_the_schema_allows():
    from tearflow.config import load_schema

    schema = load_schema(CONFIG_SCHEMA)["properties"]["differential"]["properties"]["ebayes_legacy"]
    assert set(EBAYES_LEGACY) == set(schema["enum"]) and schema["default"] == "auto"
    assert EBAYES_LEGACY["auto"] is None  # limma >= 3.61's own choice
    assert EBAYES_LEGACY[True] is True and EBAYES_LEGACY[False] is False


def test_default_unequal_df_path_imports_no_scipy():
    """limma's default on unequal df (with and without trend) runs fitFDistUnequalDF1 in numpy: no
    scipy in the differential step's fresh process (the robust branch imports scipy.stats for F tails)."""
    import subprocess
    import sys

    script = (
        "import sys; sys.path.insert(0, 'scripts'); import numpy as np; from tearflow import limma\n"
        "rng = np.random.default_rng(3); y = rng.normal(size=(300, 8)); y[rng.random(y.shape) < 0.2] = np.nan\n"
        "fit = limma.lm_fit(y, np.ones((8, 1)))\n"
        "a = limma.ebayes(fit); b = limma.ebayes(fit, trend=rng.normal(size=300)); c = limma.ebayes(fit, legacy=True)\n"
        "print(len(np.unique(fit.df_residual)) > 1, a.df_prior != c.df_prior, 'scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "False"], out.stdout + out.stderr
