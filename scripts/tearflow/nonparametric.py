"""Small-sample tests: the ELISA analytes, the clinical endpoints and the correlations of
per-patient changes, one vector at a time (a few patients each).

- Wilcoxon F (1945). Individual comparisons by ranking methods. *Biometrics Bull* 1:80–83.
- Pratt JW (1959). Remarks on zeros and ties in the Wilcoxon signed rank procedures. *JASA*
  54:655–667.
- Student (1908). The probable error of a mean. *Biometrika* 6:1–25.
- Mann HB, Whitney DR (1947). On a test of whether one of two random variables is stochastically
  larger than the other. *Ann Math Stat* 18:50–60.
- Welch BL (1947). The generalization of "Student's" problem when several different population
  variances are involved. *Biometrika* 34:28–35.
- Spearman C (1904). The proof and measurement of association between two things. *Am J Psychol*
  15:72–101.
- Phipson B, Smyth GK (2010). Permutation p-values should never be zero. *Stat Appl Genet Mol
  Biol* 9:39. (p = (1 + b) / (m + 1) for random permutations)

scipy.stats is imported inside the functions that need it.
"""

import itertools
import math

import numpy as np

# These run once per analyte / endpoint / feature pair (tens to a few thousand calls per run), not
# once per protein, so each takes one vector and returns plain floats. The shared rule: an item
# that cannot be tested — too few values, no non-zero difference, constant data — gets NaN, never
# p = 0.

#: differences closer to 0 than this count as zero (e.g. two visits censored at the same LLOQ), and
#: a standard deviation below it counts as no variance
ZERO_TOL = 1e-12
#: scipy ``wilcoxon`` methods accepted by :func:`wilcoxon_signed_rank_p`
WILCOXON_METHODS = ("auto", "exact", "asymptotic")
#: scipy ``wilcoxon`` zero methods accepted by :func:`wilcoxon_signed_rank_p`
WILCOXON_ZERO_METHODS = ("wilcox", "pratt", "zsplit")
#: up to this many differences ``method="auto"`` takes its p from all 2^n sign flips (scipy's rule
#: for ties or zeros; exact without them)
WILCOXON_PERMUTATION_MAX_N = 13
#: :func:`spearman_permutation` enumerates all n! orderings up to this n (9! = 362,880 in memory)
SPEARMAN_MAX_EXACT_N = 9


def _finite_values(values):
    """A float vector without its NaN entries."""
    values = np.asarray(values, dtype=float).ravel()
    return values[~np.isnan(values)]


def wilcoxon_signed_rank_p(differences, zero_method="wilcox", method="auto", exact_max_n=None, min_n=2):
    """Two-sided Wilcoxon signed-rank p-value of paired differences (Wilcoxon 1945).

    The statistic is the sum of the ranks of |d_i| over the positive d_i; scipy's
    ``stats.wilcoxon`` gives the p-value (with the continuity correction off, as scipy's default).

    - NaN differences are dropped; |d| < :data:`ZERO_TOL` counts as a zero difference.
    - Zero differences (``zero_method``): ``wilcox`` drops them before ranking (Wilcoxon 1945),
      ``pratt`` ranks them and then drops them (Pratt 1959), ``zsplit`` splits their ranks between
      the signs.
    - Null distribution (``method``, scipy's): ``exact`` (the 2^n sign assignments; conservative
      rounding when there are ties or zeros), ``asymptotic`` (normal approximation with tie
      correction) or ``auto`` (exact for up to 50 differences without ties or zeros, an exhaustive
      permutation of signs for up to 13 differences with ties or zeros, asymptotic beyond).
      ``exact_max_n`` (an integer) replaces ``method``: exact for up to ``exact_max_n``
      differences, asymptotic above (the ELISA step's ``elisa_analysis.exact_max_n``).
    - NaN (never p = 0) when fewer than ``max(min_n, 2)`` differences are left or no difference is
      non-zero.
    """
    from scipy import stats as sstats

    if zero_method not in WILCOXON_ZERO_METHODS:
        raise ValueError(f"zero_method must be one of {WILCOXON_ZERO_METHODS}, not {zero_method!r}")
    if method not in WILCOXON_METHODS:
        raise ValueError(f"method must be one of {WILCOXON_METHODS}, not {method!r}")
    d = _finite_values(differences)
    if len(d) < max(int(min_n), 2):
        return np.nan
    zero = np.abs(d) <= ZERO_TOL
    if zero.all():
        return np.nan
    if exact_max_n is not None:
        method = "exact" if len(d) <= int(exact_max_n) else "asymptotic"
    d = np.where(zero, 0.0, d)
    if method == "auto" and len(d) <= WILCOXON_PERMUTATION_MAX_N:
        # scipy's "auto" enumerates all 2^n sign flips here when there are ties or zeros (about
        # 0.5 s per call); counting them gives the same p in microseconds, and without ties the
        # same p as scipy's exact distribution.
        return _signed_rank_sign_flip_p(d, zero_method)
    return float(sstats.wilcoxon(d, zero_method=zero_method, method=method).pvalue)


def _signed_rank_sign_flip_p(d, zero_method):
    """Two-sided p of the signed-rank test over all 2^n sign flips of ``d`` (zeros as 0.0).

    The statistic is the rank sum of the positive differences, ranked as scipy ranks them for
    ``zero_method``; a flip only changes which ranks count, so the null distribution is the
    distribution of a sum of ``rank_i`` × Bernoulli(½), counted exactly on the half-rank grid.
    p = min(1, 2 · min(P(T ≤ t), P(T ≥ t))), scipy's ``permutation_test`` rule.
    """
    from scipy.stats import rankdata

    zero = d == 0
    if zero_method == "wilcox":
        ranks = rankdata(np.abs(d[~zero]))  # zeros leave the ranking
    else:
        ranks = rankdata(np.abs(d))[~zero]  # zeros keep their ranks but never count (zsplit: a constant)
    doubled = np.rint(2 * ranks).astype(np.int64)  # midranks are multiples of ½
    counts = np.zeros(int(doubled.sum()) + 1)
    counts[0] = 1.0
    for weight in doubled:
        shifted = np.zeros_like(counts)
        shifted[weight:] = counts[: len(counts) - weight]
        counts += shifted
    observed = int(doubled[d[~zero] > 0].sum())
    total = counts.sum()
    less = counts[: observed + 1].sum() / total
    greater = counts[observed:].sum() / total
    return float(min(1.0, 2.0 * min(less, greater)))


def one_sample_t_p(differences, min_n=2):
    """Two-sided one-sample t-test p-value of H0: mean = 0 (Student 1908).

    t = mean(d) / (sd(d) / √n) on n − 1 degrees of freedom (scipy ``ttest_1samp``); on paired
    differences (e.g. log2 follow-up/baseline ratios, visit − baseline changes) this is the paired
    t-test. NaN differences are dropped. NaN (never p = 0) when fewer than ``max(min_n, 2)``
    differences are left or their standard deviation is below :data:`ZERO_TOL` (no variance: t is
    undefined or infinite).
    """
    from scipy import stats as sstats

    d = _finite_values(differences)
    if len(d) < max(int(min_n), 2) or np.std(d, ddof=1) < ZERO_TOL:
        return np.nan
    return float(sstats.ttest_1samp(d, 0.0).pvalue)


def two_group_p(first, second, exact_max_n=50, min_n=2):
    """(Mann–Whitney p, Welch t p): two-sided comparisons of ``second`` against ``first``.

    - Mann–Whitney U / Wilcoxon rank-sum (Mann & Whitney 1947; scipy ``mannwhitneyu``): exact null
      distribution when the two groups have at most ``exact_max_n`` values together and no ties,
      the normal approximation (tie-corrected, continuity-corrected) otherwise.
    - Welch's unequal-variance t (Welch 1947; scipy ``ttest_ind(equal_var=False)``), on the
      Welch–Satterthwaite degrees of freedom.

    NaN values are dropped. Both p-values are NaN (never 0) when either group has fewer than
    ``max(min_n, 2)`` values or all values are equal (range below :data:`ZERO_TOL`); the Welch p
    alone is NaN when both groups have a standard deviation below :data:`ZERO_TOL`.
    """
    from scipy import stats as sstats

    first, second = _finite_values(first), _finite_values(second)
    if min(len(first), len(second)) < max(int(min_n), 2):
        return np.nan, np.nan
    pooled = np.concatenate([first, second])
    if np.ptp(pooled) < ZERO_TOL:
        return np.nan, np.nan
    method = "exact" if len(pooled) <= int(exact_max_n) else "asymptotic"
    ties = len(np.unique(np.round(pooled, 12))) < len(pooled)
    rank_sum = sstats.mannwhitneyu(
        second, first, alternative="two-sided", method="asymptotic" if ties else method
    ).pvalue
    if np.std(first, ddof=1) < ZERO_TOL and np.std(second, ddof=1) < ZERO_TOL:
        welch = np.nan
    else:
        welch = sstats.ttest_ind(second, first, equal_var=False).pvalue
    return float(rank_sum), float(welch)


def spearman_permutation(x, y, permutations=9999, rng=None):
    """(rho, p): Spearman's rank correlation (Spearman 1904) with a two-sided permutation p-value.

    ρ is Pearson's correlation of the ranks (average ranks for ties). The null distribution is
    that of ρ over re-orderings of y against x:

    - exact, over all n! orderings, when n ≤ :data:`SPEARMAN_MAX_EXACT_N` and n! ≤
      ``permutations``: p = #{|ρ*| ≥ |ρ|} / n!;
    - otherwise ``permutations`` random orderings drawn from ``rng`` (a ``numpy`` Generator; the
      caller seeds it with the config ``seed``): p = (1 + #{|ρ*| ≥ |ρ|}) / (permutations + 1)
      (Phipson & Smyth 2010), so p is never 0.

    |ρ*| ≥ |ρ| is judged with a tolerance of :data:`ZERO_TOL`. Pairs where x or y is NaN are
    dropped. (NaN, NaN) when fewer than 3 pairs are left or either variable is constant; the
    random generator is then not used.
    """
    from scipy import stats as sstats

    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    both = ~np.isnan(x) & ~np.isnan(y)
    x, y = x[both], y[both]
    n = len(x)
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return np.nan, np.nan
    rx, ry = sstats.rankdata(x), sstats.rankdata(y)
    rx = (rx - rx.mean()) / np.sqrt(np.sum((rx - rx.mean()) ** 2))
    ry_centered = ry - ry.mean()
    scale = np.sqrt(np.sum(ry_centered**2))
    rho = float(np.dot(rx, ry_centered) / scale)
    if n <= SPEARMAN_MAX_EXACT_N and math.factorial(n) <= permutations:
        shuffled = np.array(list(itertools.permutations(ry_centered)))
        null = shuffled @ rx / scale
        p = float(np.mean(np.abs(null) >= abs(rho) - ZERO_TOL))
    else:
        rng = rng or np.random.default_rng()
        shuffled = rng.permuted(np.tile(ry_centered, (permutations, 1)), axis=1)
        null = shuffled @ rx / scale
        p = float((1 + np.sum(np.abs(null) >= abs(rho) - ZERO_TOL)) / (permutations + 1))
    return rho, min(p, 1.0)

