"""tearflow.nonparametric: the small-sample tests of the ELISA and clinical steps and their joins, against
R 4 (stats) and scipy."""

import numpy as np
import pytest

from tearflow import nonparametric

# --------------------------------------------------------------------------------------------------
# small-sample tests (ELISA, clinical endpoints, correlations); reference numbers from R 4 (stats)
# --------------------------------------------------------------------------------------------------
SIGNED = [1.0, 0.5, -0.2, 0.8, 0.3, -0.1, 1.7]  # no ties, no zeros


def test_wilcoxon_signed_rank_matches_r():
    # R: wilcox.test(c(1, 2, 3, 4, 5))$p.value = 0.0625 (exact: 2 / 2^5)
    assert nonparametric.wilcoxon_signed_rank_p([1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx(0.0625)
    # R: wilcox.test(SIGNED)$p.value = 0.078125; exact = FALSE, correct = FALSE: 0.0629790512144552
    assert nonparametric.wilcoxon_signed_rank_p(SIGNED, method="exact") == pytest.approx(0.078125)
    assert nonparametric.wilcoxon_signed_rank_p(SIGNED, method="asymptotic") == pytest.approx(0.0629790512144552)
    # exact_max_n (the ELISA rule) replaces method: exact up to that many differences
    assert nonparametric.wilcoxon_signed_rank_p(SIGNED, method="asymptotic", exact_max_n=7) == pytest.approx(0.078125)
    assert nonparametric.wilcoxon_signed_rank_p(SIGNED, exact_max_n=6) == pytest.approx(0.0629790512144552)


def test_wilcoxon_with_ties_or_zeros_counts_scipys_sign_flip_permutation_exactly():
    """Up to 13 differences with ties or zeros, ``auto`` is scipy's exhaustive sign-flip
    permutation test; tearflow counts the same distribution instead of enumerating it."""
    from scipy import stats as sstats

    rng = np.random.default_rng(11)
    compared = 0
    for n in [*range(2, 10)] * 12 + [12, 13]:
        d = np.round(rng.normal(size=n) * rng.choice([1, 2, 4])) / 2  # ties on a half-unit grid
        d[: int(rng.integers(0, 3)) if rng.random() < 0.3 else 0] = 0.0
        if not d.any():
            continue
        for zero_method in ("wilcox", "pratt", "zsplit"):
            expected = float(sstats.wilcoxon(d, zero_method=zero_method, method="auto").pvalue)
            ours = nonparametric.wilcoxon_signed_rank_p(d, zero_method=zero_method)
            if np.isnan(expected):
                assert np.isnan(ours)
                continue
            assert ours == pytest.approx(expected, rel=1e-12, abs=1e-15), (d, zero_method)
            compared += 1
    assert compared > 200


def test_wilcoxon_zero_differences_rule():
    from scipy import stats as sstats

    d = np.array([0.0, 0.0, 1.0, 0.5, -0.2, 0.8])
    exact = nonparametric.wilcoxon_signed_rank_p(d, "wilcox", exact_max_n=50)
    assert exact == pytest.approx(sstats.wilcoxon(d[2:], method="exact").pvalue)  # zeros dropped first
    assert nonparametric.wilcoxon_signed_rank_p(d, "pratt", exact_max_n=50) != exact
    assert nonparametric.wilcoxon_signed_rank_p(d, "zsplit", exact_max_n=50) != exact
    # a difference within ZERO_TOL of 0 (two visits censored at the same LLOQ) is a zero
    nearly = d + np.array([1e-13, -1e-13, 0, 0, 0, 0])
    pratt = nonparametric.wilcoxon_signed_rank_p
    assert pratt(nearly, "pratt", exact_max_n=50) == pratt(
        d, "pratt", exact_max_n=50
    )


def test_wilcoxon_untestable_is_nan_never_zero():
    assert np.isnan(nonparametric.wilcoxon_signed_rank_p(np.zeros(4)))  # no non-zero difference
    assert np.isnan(nonparametric.wilcoxon_signed_rank_p([1e-13, -1e-13, 0.0]))
    assert np.isnan(nonparametric.wilcoxon_signed_rank_p([1.0, 2.0], min_n=3))  # too few
    assert np.isnan(nonparametric.wilcoxon_signed_rank_p([1.0], min_n=1))  # two are always needed
    assert np.isnan(nonparametric.wilcoxon_signed_rank_p([]))
    # NaN differences are dropped before counting
    assert np.isnan(nonparametric.wilcoxon_signed_rank_p([1.0, np.nan, 2.0], min_n=3))
    assert nonparametric.wilcoxon_signed_rank_p([1, 2, 3, np.nan, 4, 5], min_n=5) == pytest.approx(0.0625)
    # all differences equal and non-zero: testable (all signs positive), p = 2 / 2^4
    assert nonparametric.wilcoxon_signed_rank_p([1.0, 1.0, 1.0, 1.0], min_n=3) == pytest.approx(0.125)
    with pytest.raises(ValueError, match="zero_method"):
        nonparametric.wilcoxon_signed_rank_p(SIGNED, zero_method="drop")
    with pytest.raises(ValueError, match="method"):
        nonparametric.wilcoxon_signed_rank_p(SIGNED, method="approx")


def test_one_sample_t_matches_r_and_nan_rules():
    # R: t.test(1:5)$p.value = 0.0132355995636827; t.test(c(0.4, -0.3, 1.2, 0.9, 0.1, 0.7)): 0.0755868184216124
    assert nonparametric.one_sample_t_p([1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx(0.0132355995636827, rel=1e-9)
    assert nonparametric.one_sample_t_p([0.4, -0.3, 1.2, 0.9, 0.1, 0.7]) == pytest.approx(0.0755868184216124, rel=1e-9)
    assert nonparametric.one_sample_t_p([0.4, -0.3, np.nan, 1.2, 0.9, 0.1, 0.7]) == pytest.approx(0.0755868184216124)
    assert np.isnan(nonparametric.one_sample_t_p([1.0, 1.0, 1.0, 1.0]))  # no variance: t is infinite
    assert np.isnan(nonparametric.one_sample_t_p([1.0, 1.0 + 1e-14, 1.0]))
    assert np.isnan(nonparametric.one_sample_t_p([0.0, 0.0, 0.0]))
    assert np.isnan(nonparametric.one_sample_t_p([1.0, 2.0], min_n=3))
    assert np.isnan(nonparametric.one_sample_t_p([1.0], min_n=1))
    assert not np.isnan(nonparametric.one_sample_t_p([1.0, 2.0], min_n=2))


def test_two_group_matches_r():
    first, second = [-0.5, 0.2, 0.35, 0.6, 1.1], [0.9, 1.4, 2.2, 3.1]
    # R: wilcox.test(second, first)$p.value = 0.0317460317460317 (exact); t.test(second, first)
    # (Welch) = 0.0391271481380214
    rank_sum, welch = nonparametric.two_group_p(first, second)
    assert rank_sum == pytest.approx(0.0317460317460317, rel=1e-9)
    assert welch == pytest.approx(0.0391271481380214, rel=1e-9)
    assert nonparametric.two_group_p(second, first) == pytest.approx((rank_sum, welch))  # two-sided: symmetric
    # ties force the normal approximation with continuity correction
    # R: wilcox.test(c(1, 2, 2, 3), c(0, 1, 1, 2), exact = FALSE)$p.value = 0.172033708921823
    assert nonparametric.two_group_p([0.0, 1.0, 1.0, 2.0], [1.0, 2.0, 2.0, 3.0])[0] == pytest.approx(0.172033708921823)
    # more values than exact_max_n: normal approximation
    from scipy import stats as sstats

    asymptotic = sstats.mannwhitneyu(second, first, method="asymptotic").pvalue
    assert nonparametric.two_group_p(first, second, exact_max_n=8)[0] == pytest.approx(asymptotic)
    assert asymptotic != pytest.approx(rank_sum)


def test_two_group_untestable_is_nan_never_zero():
    assert np.isnan(nonparametric.two_group_p([1.0, 1.0, 1.0], [1.0, 1.0])).all()  # all values equal
    assert np.isnan(nonparametric.two_group_p([1.0, 2.0], [3.0, 4.0, 5.0], min_n=3)).all()  # a group too small
    assert np.isnan(nonparametric.two_group_p([1.0], [3.0, 4.0, 5.0], min_n=1)).all()  # two per group always
    assert np.isnan(nonparametric.two_group_p([1.0, np.nan, 2.0], [3.0, 4.0, 5.0], min_n=3)).all()  # NaN dropped
    rank_sum, welch = nonparametric.two_group_p([1.0, 1.0, 1.0], [2.0, 2.0, 2.0])  # no variance within groups
    assert 0 < rank_sum < 1 and np.isnan(welch)


def test_spearman_permutation_exact_matches_theory_and_r():
    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    rho, p = nonparametric.spearman_permutation(x, x, permutations=9999)
    assert rho == pytest.approx(1.0) and p == pytest.approx(2 / 120)  # identity and reversal
    # R: cor(x, y, method = "spearman") = 0.8; cor.test(x, y, method = "spearman")$p.value = 2 / 15
    x, y = [1.2, 3.4, 2.2, 5.1, 4.0], [2.0, 2.9, 1.5, 4.4, 4.8]
    rho, p = nonparametric.spearman_permutation(x, y, permutations=9999)
    assert rho == pytest.approx(0.8) and p == pytest.approx(2 / 15)
    # too few orderings allowed for n! → random orderings, p = (1 + b) / (permutations + 1)
    rho, p = nonparametric.spearman_permutation(x, y, permutations=100, rng=np.random.default_rng(3))
    assert rho == pytest.approx(0.8) and p * 101 == pytest.approx(round(p * 101))


def test_spearman_permutation_random_never_zero_seeded_and_nan_rules():
    x = np.arange(12.0)
    rho, p = nonparametric.spearman_permutation(x, x, permutations=999, rng=np.random.default_rng(1))
    assert rho == pytest.approx(1.0) and p == pytest.approx(1 / 1000)  # never 0
    y = np.random.default_rng(5).normal(size=12)
    first = nonparametric.spearman_permutation(x, y, permutations=500, rng=np.random.default_rng(2))
    assert first == nonparametric.spearman_permutation(x, y, permutations=500, rng=np.random.default_rng(2))
    assert all(np.isnan(v) for v in nonparametric.spearman_permutation(x, np.ones(12)))  # constant
    assert all(np.isnan(v) for v in nonparametric.spearman_permutation([1.0, 2.0], [2.0, 1.0]))  # n < 3
    # incomplete pairs are dropped; a NaN result leaves the random generator untouched
    with_gap = nonparametric.spearman_permutation([1.0, 2.0, np.nan, 4.0, 5.0], [1.0, 3.0, 9.0, 2.0, np.nan])
    assert with_gap == nonparametric.spearman_permutation([1.0, 2.0, 4.0], [1.0, 3.0, 2.0])
    rng = np.random.default_rng(4)
    nonparametric.spearman_permutation(x, np.ones(12), rng=rng)
    assert rng.random() == np.random.default_rng(4).random()


"""tearflow.nonparametric: the small-sample tests of the ELISA and clinical steps and their joins, against
R 4 (stats) and scipy."""
