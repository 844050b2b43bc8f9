"""The digamma family and Student's t distribution in numpy, so that ``tearflow.limma`` imports no scipy.

``import scipy.special`` alone costs ~0.13 s (scipy 1.17 loads its array-API machinery), which made
the paper-scale differential step slower than R/limma (issue 8). The limma path needs only ψ, ψ′, ψ″
and the t tails and quantiles, so they are here, vectorized, with scipy's semantics
(``scipy.special.digamma``/``polygamma``, ``scipy.stats.t``: NaN, ±inf and signed zeros alike) and
relative errors of 1e-15 to 1e-13 — the larger ones far out in the tail, where a probability near
1e-300 is exp of a log near −700 (``tests/test_distributions.py`` states the tolerances). As R's pt
and qt, unlike scipy 1.17: P(T > t) is not 0 where t² overflows (t = 1e200, df ≤ 1), log P stays
finite where P underflows, and the quantiles are right down to p = 5e-324 (scipy's stdtrit gives
wrong values, some of the wrong sign, far in the tail).

Algorithms:

- ψ, ψ′, ψ″: the recurrence ψ(x) = ψ(x + 1) − 1/x up to x ≥ 10, then the asymptotic series with
  Bernoulli numbers (Abramowitz & Stegun 1964, 6.3.5, 6.3.18, 6.4.6, 6.4.11). Near the positive zero
  x₀ of ψ, where that loses its relative accuracy, the Taylor series at x₀ with coefficients
  (−1)^{k+1} ζ(k + 1, x₀) (A&S 6.4.10; the Hurwitz ζ by Euler–Maclaurin summation).
- P(|T| > t) on n df = I_x(n/2, 1/2), x = n/(n + t²) (A&S 26.7.1, 26.5.27), computed as its log
  from log(t²/n), so that neither t² nor the tail under- or overflows: the regularized incomplete
  beta's continued fraction (A&S 26.5.8; modified Lentz, Press et al. 2007, *Numerical Recipes*
  3rd ed., §5.2, §6.4) for I_x(n/2, 1/2) or I_{1−x}(1/2, n/2), whichever converges fast; for n ≥ 30
  and 1 ≤ t² ≤ 2n, where neither does, the asymptotic expansion for large a of DiDonato & Morris
  (1992, *ACM TOMS* 18:360–373, Algorithm 708, ``BGRAT``), whose leading term is the normal tail
  erfc. B(n/2, 1/2) through Γ(a + 1/2)/Γ(a) by its own asymptotic series (no lgamma cancellation).
  Normal distribution (n = ∞): erfc(√z) = Q(1/2, z) by the incomplete gamma series and continued
  fraction (A&S 6.5.29, 6.5.31; Press et al. §6.2).
- Quantiles: Halley's method on log P(|T| > t) as a function of log t (concave, so that Newton's
  converges from any start), from the Cornish–Fisher expansion of the normal quantile (A&S 26.7.5,
  26.2.23) kept between a lower bound from the density at 0 and an upper bound from the power-law
  tail.
"""

import math

import numpy as np

_EPS = np.finfo(float).eps
_TINY = 1e-300  # Lentz's stand-in for a zero denominator
_CONVERGED = 4 * _EPS  # a continued fraction's factors stop changing it (rounding keeps them ~2 ulp off 1)
_LOG_PI = math.log(math.pi)
_LOG_2 = math.log(2.0)

#: Bernoulli numbers B_2, B_4, …, B_20
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798, -174611 / 330)
#: the recurrences shift x up to here, where the asymptotic series with these ten terms reach ~1e-16
_ASYMPTOTIC_FROM = 10.0


def _float_arrays(*values):
    """The values as broadcast, flattened float arrays (copies) and the shape to give the result."""
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in values))
    return [a.ravel().copy() for a in arrays], arrays[0].shape


def _shape(out, shape):
    return out.reshape(shape)[()]


def _polynomial(coefficients, w):
    """Σ_k coefficients[k] · w^k (Horner)."""
    total = np.zeros_like(w)
    for c in reversed(coefficients):
        total = total * w + c
    return total


def _shift_up(x, step_term):
    """(x + k, Σ_{j<k} step_term(x + j)) with k the smallest count that brings x > 0 to ≥ 10."""
    shifted = x.copy()
    total = np.zeros_like(x)
    low = shifted < _ASYMPTOTIC_FROM
    while low.any():
        total[low] += step_term(shifted[low])
        shifted[low] += 1.0
        low = shifted < _ASYMPTOTIC_FROM
    return shifted, total


# --------------------------------------------------------------------------------------------------
# ψ, ψ′, ψ″
# --------------------------------------------------------------------------------------------------
def _hurwitz_zeta(s, a, terms=10):
    """ζ(s, a) = Σ_k (a + k)^−s for an integer s ≥ 2 (Euler–Maclaurin after ``terms`` terms)."""
    b = a + terms
    tail = b ** (1 - s) / (s - 1) + b**-s / 2
    rising = s  # s (s + 1) … (s + 2j − 2)
    for j, bernoulli in enumerate(_BERNOULLI, 1):
        tail += bernoulli / math.factorial(2 * j) * rising * b ** (-s - 2 * j + 1)
        rising *= (s + 2 * j - 1) * (s + 2 * j)
    return math.fsum((a + k) ** -s for k in range(terms)) + tail


#: the double nearest the positive zero x₀ = 1.46163214496836234126… of ψ, and ψ there
#: (= ψ′(x₀) · (_DIGAMMA_ROOT − x₀); A&S 6.3.19)
_DIGAMMA_ROOT = 1.4616321449683623
_DIGAMMA_AT_ROOT = -9.2412655217294275e-17
#: Taylor series of ψ at _DIGAMMA_ROOT, used within _DIGAMMA_ROOT ± 0.5: coefficient k is (−1)^{k+1} ζ(k + 1, x₀)
_DIGAMMA_TAYLOR = (_DIGAMMA_AT_ROOT,) + tuple(
    (-1) ** (k + 1) * _hurwitz_zeta(k + 1, _DIGAMMA_ROOT) for k in range(1, 40)
)


def _shifted_argument(x, step_term):
    """The common start of ψ, ψ′, ψ″: x as a flat float array (NaN where not > 0), its shape,
    x + k ≥ 10 and the recurrence sum (:func:`_shift_up`), and w = 1/(x + k)² for the series."""
    (x,), shape = _float_arrays(x)
    x[~(x > 0)] = np.nan
    shifted, total = _shift_up(x, step_term)
    return x, shape, shifted, total, (1 / shifted) ** 2


def digamma(x):
    """ψ(x) = d/dx log Γ(x) for x > 0 (``scipy.special.digamma``); NaN for x ≤ 0 or NaN."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        x, shape, shifted, total, w = _shifted_argument(x, lambda v: 1 / v)
        series = w * _polynomial([b / (2 * k) for k, b in enumerate(_BERNOULLI, 1)], w)
        out = np.log(shifted) - 0.5 / shifted - series - total
    near = np.abs(x - _DIGAMMA_ROOT) < 0.5
    out[near] = _polynomial(_DIGAMMA_TAYLOR, x[near] - _DIGAMMA_ROOT)
    return _shape(out, shape)


def trigamma(x):
    """ψ′(x) for x > 0 (``scipy.special.polygamma(1, x)``); NaN for x ≤ 0 or NaN."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        _, shape, shifted, total, w = _shifted_argument(x, lambda v: 1 / v**2)
        series = _polynomial((1.0,) + _BERNOULLI, w) / shifted + 0.5 * w
        return _shape(series + total, shape)


def tetragamma(x):
    """ψ″(x) for x > 0 (``scipy.special.polygamma(2, x)``); NaN for x ≤ 0 or NaN."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        _, shape, shifted, total, w = _shifted_argument(x, lambda v: 2 / v**3)
        coefficients = (1.0,) + tuple((2 * k + 1) * b for k, b in enumerate(_BERNOULLI, 1))
        series = -w * _polynomial(coefficients, w) - w / shifted
        return _shape(series - total, shape)  # −0.0 at inf, as scipy


# --------------------------------------------------------------------------------------------------
# log Γ (R's lgammafn) and log(x) − ψ(x) (statmod's logmdigamma), for limma's fitFDistUnequalDF1
# --------------------------------------------------------------------------------------------------
#: W. Fullerton's Chebyshev series of Γ(1 + y) − 0.9375 on y ∈ [0, 1) (R nmath ``gammafn``: ``gamcs``,
#: the first ``ngam`` = 22 terms)
_GAMCS = (
    +0.8571195590989331421920062399942e-2,
    +0.4415381324841006757191315771652e-2,
    +0.5685043681599363378632664588789e-1,
    -0.4219835396418560501012500186624e-2,
    +0.1326808181212460220584006796352e-2,
    -0.1893024529798880432523947023886e-3,
    +0.3606925327441245256578082217225e-4,
    -0.6056761904460864218485548290365e-5,
    +0.1055829546302283344731823509093e-5,
    -0.1811967365542384048291855891166e-6,
    +0.3117724964715322277790254593169e-7,
    -0.5354219639019687140874081024347e-8,
    +0.9193275519859588946887786825940e-9,
    -0.1577941280288339761767423273953e-9,
    +0.2707980622934954543266540433089e-10,
    -0.4646818653825730144081661058933e-11,
    +0.7973350192007419656460767175359e-12,
    -0.1368078209830916025799499172309e-12,
    +0.2347319486563800657233471771688e-13,
    -0.4027432614949066932766570534699e-14,
    +0.6910051747372100912138336975257e-15,
    -0.1185584500221992907052387126192e-15,
)
#: Chebyshev series of Stirling's remainder (R nmath ``lgammacor``: ``algmcs``, first ``nalgm`` = 5 terms)
_ALGMCS = (
    +0.1666389480451863247205729650822e0,
    -0.1384948176067563840732986059135e-4,
    +0.9810825646924729426157171547487e-8,
    -0.1809129475572494194263306266719e-10,
    +0.6221098041892605227126015543416e-13,
)
_LN_SQRT_2PI = 0.918938533204672741780329736406  # log √(2π)
_LGAMMACOR_XBIG = 94906265.62425156  # 1/√(ε/2): above it Stirling's remainder is 1/(12x)


def _chebyshev(x, coefficients):
    """Σ' a_k T_k(x) by Clenshaw's recurrence, in the order of R nmath's ``chebyshev_eval``."""
    twox = 2 * x
    b0 = np.zeros_like(x)
    b1 = np.zeros_like(x)
    b2 = np.zeros_like(x)
    for a in reversed(coefficients):
        b2 = b1
        b1 = b0
        b0 = twox * b1 - b2 + a
    return (b0 - b2) * 0.5


def lgamma(x):
    """log Γ(x) for x > 0, as R's ``lgamma`` (nmath ``lgammafn``, after W. Fullerton; NaN for x ≤ 0).

    The same algorithm and order of operations as R, so that an objective built from it (limma's
    ``fitFDistUnequalDF1`` likelihood) rounds as R's does: x ≤ 10: log Γ(x) with Γ(x) = Γ(1 + y)·∏ from
    a Chebyshev series on y = x − ⌊x⌋ (divided by x below 1); x > 10: log √(2π) + (x − ½) log x − x +
    the Chebyshev series of Stirling's remainder (``lgammacor``; left out above 4934720, and
    x (log x − 1) above 1e17); x < 1e-306: −log x.
    """
    (x,), shape = _float_arrays(x)
    out = np.full(x.shape, np.nan)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        positive = x > 0
        tiny = positive & (x < 1e-306)
        out[tiny] = -np.log(x[tiny])
        low = positive & ~tiny & (x <= 10)
        if low.any():
            v = x[low]
            n = np.floor(v)
            y = v - n
            value = _chebyshev(y * 2 - 1, _GAMCS) + 0.9375
            below_one = n == 0
            value[below_one] = value[below_one] / v[below_one]
            for i in range(1, 10):  # Γ(x) = Γ(1 + y)·(y + 1)·…·(y + n − 1), in R's order
                grow = n - 1 >= i
                value[grow] = value[grow] * (y[grow] + i)
            out[low] = np.log(np.abs(value))
        high = positive & (x > 10)
        if high.any():
            v = x[high]
            log_v = np.log(v)
            value = _LN_SQRT_2PI + (v - 0.5) * log_v - v
            tmp = 10 / v
            correction = np.where(v < _LGAMMACOR_XBIG, _chebyshev(tmp * tmp * 2 - 1, _ALGMCS) / v, 1 / (v * 12))
            value = np.where(v > 4934720.0, value, value + correction)
            out[high] = np.where(v > 1e17, v * (log_v - 1.0), value)
        out[x == np.inf] = np.inf
    return _shape(out, shape)


def logmdigamma(x):
    """log(x) − ψ(x) for x > 0, without the cancellation of the difference for large x (statmod
    ``logmdigamma``, which limma's ``fitFDist`` and ``fitFDistUnequalDF1`` use; NaN for x ≤ 0).

    As statmod: below 5, log(x/(x + 5)) + [log − ψ](x + 5) + Σ_{k<5} 1/(x + k); from 5 on, the
    asymptotic series 1/(2x) + Σ_k B_2k/(2k x^2k) (A&S 6.3.18) to the x^−16 term.
    """
    (x,), shape = _float_arrays(x)
    x[~(x > 0)] = np.nan
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        small = x < 5
        z = np.where(small, x + 5, x)
        w = 1 / z**2
        tail = w * (-1 / 12 + (w * (1 / 120 + (w * (-1 / 252 + (w * (1 / 240 + (w * (-1 / 132 + (
            w * (691 / 32760 + (w * (-1 / 12 + (3617 * w) / 8160)))))))))))))  # fmt: skip
        out = 1 / (2 * z) - tail
        v = x[small]
        out[small] = np.log(v / (v + 5)) + out[small] + 1 / v + 1 / (v + 1) + 1 / (v + 2) + 1 / (v + 3) + 1 / (v + 4)
    return _shape(out, shape)


# --------------------------------------------------------------------------------------------------
# Building blocks of the t tail
# --------------------------------------------------------------------------------------------------
def _log_gamma_ratio_half(a):
    """log Γ(a + 1/2) − log Γ(a) = log(√π / B(a, 1/2)) for a > 0, to an absolute error of a few 1e-16.

    Above 10 the difference of Stirling's series (A&S 6.1.41) with its leading terms combined as
    ½ log a + (a log1p(1/(2a)) − ½), below it Γ(a + 3/2)/Γ(a + 1) = (a + 1/2)/a · Γ(a + 1/2)/Γ(a).
    """
    shifted, total = _shift_up(a, lambda v: np.log(v / (v + 0.5)))
    coefficients = [b / (2 * k * (2 * k - 1)) for k, b in enumerate(_BERNOULLI, 1)]

    def stirling_tail(v):
        return _polynomial(coefficients, (1 / v) ** 2) / v

    return (
        0.5 * np.log(shifted)
        + (shifted * np.log1p(0.5 / shifted) - 0.5)
        + (stirling_tail(shifted + 0.5) - stirling_tail(shifted))
        + total
    )


def _continued_fraction(b0, term, *params):
    """b0 + a_1/(b_1 + a_2/(b_2 + …)) with (a_j, b_j) = term(j, *params), elementwise.

    Modified Lentz (Press et al. 2007, §5.2; _TINY keeps a zero denominator finite), each element until
    its convergents stop changing, the converged ones dropped as it goes.
    """
    out = np.empty_like(b0)
    index = np.arange(b0.size)
    f = b0 + _TINY
    c, d = f.copy(), np.zeros_like(f)
    for j in range(1, 2001):
        if index.size == 0:
            break
        a, b = term(j, *params)
        d = 1 / (b + a * d + _TINY)
        c = b + a / c + _TINY
        factor = c * d
        f *= factor
        done = np.abs(factor - 1) <= _CONVERGED
        if done.any():
            out[index[done]] = f[done]
            keep = ~done
            index, f, c, d = index[keep], f[keep], c[keep], d[keep]
            params = tuple(p[keep] for p in params)
    out[index] = f
    return out


def _beta_term(j, x, a, b):
    m = j // 2
    if j % 2:
        return -(a + m) / (a + 2 * m) * (a + b + m) / (a + 2 * m + 1) * x, 1.0
    return m * (b - m) / (a + 2 * m - 1) / (a + 2 * m) * x, 1.0


def _beta_fraction(x, a, b):
    """The continued fraction F with I_x(a, b) = x^a (1 − x)^b F / (a B(a, b)) (A&S 26.5.8).

    F = 1/(1 + d_1/(1 + d_2/(1 + …))); converges fast for x < (a + 1)/(a + b + 2).
    """
    a, b = np.broadcast_to(a, x.shape).copy(), np.broadcast_to(b, x.shape).copy()
    return 1 / _continued_fraction(np.ones_like(x), _beta_term, x, a, b)


def _gamma_q_half(z):
    """Q(1/2, z) = erfc(√z) as (log Q, Q/r) with r = e^−z √z / Γ(1/2), for z ≥ 0.

    Below z = 1.5 Q = 1 − P with the series of P (A&S 6.5.29), above it the continued fraction for
    Q/r (A&S 6.5.31), so that log Q is accurate near 0 and far out in the tail. The fraction is
    evaluated bottom-up from depth 10 + 90/z, which gives it to 1 ulp for z ≥ 1.5 (checked against
    mpmath) in fewer operations, and with less rounding, than Lentz's top-down evaluation.
    """
    log_q, q_over_r = np.empty_like(z), np.empty_like(z)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_r = -z + 0.5 * np.log(z) - 0.5 * _LOG_PI
    small = z < 1.5
    zs = z[small]
    term = np.full(zs.shape, 2.0)  # P/r = Σ_k z^k / (½ · 3/2 ⋯ (½ + k))
    total = term.copy()
    for k in range(1, 200):
        term = term * zs / (0.5 + k)
        total += term
        if (term <= _EPS * total).all():
            break
    p = np.exp(log_r[small]) * total
    log_q[small] = np.log1p(-p)
    with np.errstate(divide="ignore", invalid="ignore"):
        q_over_r[small] = (1 - p) / np.exp(log_r[small])
    large = ~small & np.isfinite(z)
    # Q/r = 1/(b_0 + a_1/(b_1 + a_2/(b_2 + …))), a_j = −j (j − 1/2), b_j = z + 1/2 + 2j; sorted by
    # depth, the elements still being evaluated at level j are a prefix
    depth = np.ceil(10 + 90 / z[large]).astype(int)
    order = np.argsort(-depth, kind="stable")
    zl, depth = z[large][order], depth[order]
    fraction = zl + 0.5 + 2 * depth
    still = np.searchsorted(-depth, -np.arange(depth.max(initial=0) + 1), side="right")
    for j in range(depth.max(initial=0), 0, -1):
        m = still[j]
        fraction[:m] = zl[:m] + (2 * j - 1.5) - j * (j - 0.5) / fraction[:m]
    h = np.empty_like(zl)
    h[order] = 1 / fraction
    log_q[large] = log_r[large] + np.log(h)
    q_over_r[large] = h
    log_q[z == np.inf] = -np.inf
    return log_q, q_over_r


def _bgrat_coefficients(b, count):
    """d_1 … d_count of DiDonato & Morris's expansion for I_x(a, b), a → ∞ (TOMS 708 ``BGRAT``)."""
    c, d = [], []
    for n in range(1, count + 1):
        c.append((c[-1] if c else 1.0) / ((2 * n) * (2 * n + 1)))
        s = sum((b * i - n) * c[i - 1] * d[n - i - 1] for i in range(1, n))
        d.append((b - 1) * c[-1] + s / n)
    return d


_BGRAT_D = _bgrat_coefficients(0.5, 30)
#: BGRAT is used for n ≥ 2 · _BGRAT_MIN_A and 1 ≤ t² ≤ _BGRAT_MAX_W2 · n
_BGRAT_MIN_A = 15.0
_BGRAT_MAX_W2 = 2.0


def _log_bgrat(a, log_x, log_ratio):
    """log I_x(a, 1/2) for a ≥ 15 by the asymptotic expansion in Q(1/2, z), z = −(a − 1/4) log x (BGRAT)."""
    nu = a - 0.25
    z = -nu * log_x
    _, j = _gamma_q_half(z)
    v = 0.25 / nu**2
    t2 = 0.25 * log_x**2
    total = j.copy()
    power = np.ones_like(z)
    for n, coefficient in enumerate(_BGRAT_D, 1):
        beta = 0.5 + 2 * (n - 1)
        j = (beta * (beta + 1) * j + (z + beta + 1) * power) * v
        power = power * t2
        term = coefficient * j
        total += term
        if (np.abs(term) <= _EPS * total).all():
            break
    return -z + 0.5 * np.log(z) - 0.5 * _LOG_PI + log_ratio - 0.5 * np.log(nu) + np.log(total)


def _log_two_sided(w2, log_w2, df, log_ratio):
    """log P(|T| > t) = log I_x(n/2, 1/2) on n = ``df`` < ∞ df at t² = n · w2, x = 1/(1 + w2).

    ``w2`` may overflow to inf; ``log_w2`` = log w2 then carries it. ``log_ratio`` is
    :func:`_log_gamma_ratio_half` (n/2). Near t = 0, log1p(−I_{1−x}(1/2, n/2)), accurate relative to
    its small value (which the quantiles need near p = 1/2).
    """
    a = df / 2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log1p_w2 = np.where(np.isfinite(w2), np.log1p(w2), log_w2)
        log_x = -log1p_w2
        log_y = np.where(w2 >= 1, -np.log1p(1 / w2), log_w2 - log1p_w2)
        x, y = 1 / (1 + w2), 1 / (1 + 1 / w2)
        log_prefactor = a * log_x + 0.5 * log_y + log_ratio - 0.5 * _LOG_PI  # x^a (1 − x)^½ / B(a, ½)
    out = np.empty_like(w2)
    bgrat = (a >= _BGRAT_MIN_A) & (df * w2 >= 1) & (w2 <= _BGRAT_MAX_W2)
    tail = ~bgrat & (x < (a + 1) / (a + 2.5))
    centre = ~(bgrat | tail)
    out[tail] = log_prefactor[tail] - np.log(a[tail]) + np.log(_beta_fraction(x[tail], a[tail], 0.5))
    central = np.exp(log_prefactor[centre] + _LOG_2) * _beta_fraction(y[centre], 0.5, a[centre])
    out[centre] = np.log1p(-central)
    out[bgrat] = _log_bgrat(a[bgrat], log_x[bgrat], log_ratio[bgrat])
    return out


def _log_two_sided_at(t, df):
    """log P(|T| > t) for t ≥ 0, df > 0 (inf: the normal distribution)."""
    out = np.empty_like(t)
    normal = df == np.inf
    with np.errstate(over="ignore"):
        out[normal] = _gamma_q_half(t[normal] ** 2 / 2)[0]
    finite = ~normal
    n = df[finite]
    with np.errstate(divide="ignore", over="ignore"):  # w may overflow, log w² does not
        w = t[finite] / np.sqrt(n)
        out[finite] = _log_two_sided(w * w, 2 * np.log(t[finite]) - np.log(n), n, _log_gamma_ratio_half(n / 2))
    return out


# --------------------------------------------------------------------------------------------------
# Student's t: tails
# --------------------------------------------------------------------------------------------------
def _log_two_sided_valid(x, df):
    """(x, df, shape, where defined, log P(|T| > |x|) there) for the t-tail functions."""
    (x, df), shape = _float_arrays(x, df)
    valid = (df > 0) & ~np.isnan(x)
    return x, df, shape, valid, _log_two_sided_at(np.abs(x[valid]), df[valid])


def t_sf(x, df):
    """P(T > x) on ``df`` degrees of freedom (``scipy.stats.t.sf``; R ``pt(x, df, lower.tail = FALSE)``).

    ``df`` = inf is the normal distribution; NaN where df ≤ 0 or either is NaN.
    """
    x, df, shape, valid, log_two_sided = _log_two_sided_valid(x, df)
    tail = 0.5 * np.exp(log_two_sided)
    out = np.full(x.shape, np.nan)
    out[valid] = np.where(x[valid] > 0, tail, 1 - tail)
    return _shape(out, shape)


def t_logsf(x, df):
    """log P(T > x) (``scipy.stats.t.logsf``; R ``pt(x, df, lower.tail = FALSE, log.p = TRUE)``).

    Finite far beyond the underflow of P (where scipy gives −inf; R does not); 0.0 at x = −inf.
    """
    x, df, shape, valid, log_two_sided = _log_two_sided_valid(x, df)
    out = np.full(x.shape, np.nan)
    with np.errstate(divide="ignore"):
        out[valid] = np.where(x[valid] > 0, log_two_sided - _LOG_2, np.log1p(-0.5 * np.exp(log_two_sided)))
    out[x == -np.inf] = np.where(valid[x == -np.inf], 0.0, np.nan)  # 0.0, not log1p(−0) = −0.0 (scipy)
    return _shape(out, shape)


# --------------------------------------------------------------------------------------------------
# Student's t: quantiles
# --------------------------------------------------------------------------------------------------
def _at_log_t(s, df, log_ratio, log_density_0):
    """At t = e^s: log P(|T| > t), log t f(t) (f the density) and −t f′(t)/f(t), for the quantiles."""
    g, log_t_density, k = np.empty_like(s), np.empty_like(s), np.empty_like(s)
    normal = df == np.inf
    with np.errstate(over="ignore"):
        t2 = np.exp(2 * s[normal])
    g[normal] = _gamma_q_half(t2 / 2)[0]
    log_t_density[normal] = s[normal] + log_density_0[normal] - t2 / 2
    k[normal] = t2
    finite = ~normal
    n = df[finite]
    log_w2 = 2 * s[finite] - np.log(n)
    with np.errstate(over="ignore", divide="ignore"):
        w2 = np.exp(log_w2)
        g[finite] = _log_two_sided(w2, log_w2, n, log_ratio[finite])
        log1p_w2 = np.where(np.isfinite(w2), np.log1p(w2), log_w2)
        log_t_density[finite] = s[finite] + log_density_0[finite] - (n + 1) / 2 * log1p_w2
        k[finite] = (n + 1) / (1 + 1 / w2)
    return g, log_t_density, k


def _abs_t_isf(two_sided, df):
    """t ≥ 0 with P(|T| > t) = ``two_sided`` ∈ [0, 1] on ``df`` > 0 df (Halley's method in log t).

    g(s) = log P(|T| > e^s) is concave and decreasing, so Newton's method converges from any start;
    Halley's step (cubic) replaces Newton's where its correction factor 1/(1 − ρ) is within (2/3, 2).
    The start: the Cornish–Fisher expansion (A&S 26.7.5) of a normal quantile (A&S 26.2.23, error
    < 4.5e-4), kept above t_lo = (1 − p)/(2 f(0)) (f, the density, decreases on t > 0) and, for
    finite df, below the power-law bound t_hi (P(|T| > t) ≤ 2 f(0) n^{(n−1)/2} t^−n).
    """
    out = np.zeros_like(two_sided)
    out[two_sided == 0] = np.inf
    solve = (two_sided > 0) & (two_sided < 1)
    target = np.log(two_sided[solve])
    n = df[solve]
    normal = n == np.inf
    finite = ~normal
    a = n / 2
    log_ratio = np.where(normal, 0.0, _log_gamma_ratio_half(np.where(normal, 1.0, a)))
    log_density_0 = np.where(normal, -0.5 * math.log(2 * math.pi), log_ratio - 0.5 * np.log(n * math.pi))  # log f(0)
    with np.errstate(all="ignore"):  # z⁵/n² may overflow, log 0 = −inf: bounded by lower and upper
        v = np.sqrt(-2 * (target - _LOG_2))
        z = v - (2.515517 + 0.802853 * v + 0.010328 * v**2) / (1 + 1.432788 * v + 0.189269 * v**2 + 0.001308 * v**3)
        z = np.maximum(z, 0.0)
        cornish_fisher = z + (z**3 + z) / (4 * n) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * n**2)
        s = np.log(cornish_fisher)
        upper = 0.5 * np.log(n) + (_LOG_2 + log_density_0 - 0.5 * np.log(n) - target) / n
        s = np.where(finite, np.minimum(s, upper), s)
        lower = np.log(-np.expm1(target)) - _LOG_2 - log_density_0
        s = np.maximum(s, lower)
    active = np.arange(s.size)
    for _ in range(100):
        g, log_t_density, k = _at_log_t(s[active], n[active], log_ratio[active], log_density_0[active])
        slope = 2 * np.exp(log_t_density - g)  # −g′(s)
        newton = (g - target[active]) / slope
        rho = -newton * (1 - k + slope) / 2  # (g − log p) g″(s) / (2 g′(s)²)
        step = np.where(np.abs(rho) < 0.5, newton / (1 - rho), newton)  # Halley's step where it is safe
        s[active] += step
        active = active[np.abs(step) > 1e-6]  # Halley's error left is ~step³
        if active.size == 0:
            break
    with np.errstate(over="ignore"):
        out[solve] = np.exp(s)
    return out


def _quantile(p, df, upper_tail):
    (p, df), shape = _float_arrays(p, df)
    out = np.full(p.shape, np.nan)
    valid = (df > 0) & (p >= 0) & (p <= 1)
    pv = p[valid]
    small = pv <= 0.5 if upper_tail else pv < 0.5  # here t = ±T(2p), else ∓T(2(1 − p)); T(1) = +0.0
    magnitude = _abs_t_isf(np.where(small, 2 * pv, 2 * (1 - pv)), df[valid])
    out[valid] = np.where(small == upper_tail, magnitude, -magnitude)
    return _shape(out, shape)


def t_ppf(p, df):
    """The lower-tail ``p`` quantile (``scipy.stats.t.ppf``; R ``qt(p, df)``): −inf at p = 0, inf at 1.

    NaN where p ∉ [0, 1], df ≤ 0 or either is NaN; ``df`` = inf is the normal distribution.
    """
    return _quantile(p, df, upper_tail=False)


def t_isf(p, df):
    """The upper-tail ``p`` quantile (``scipy.stats.t.isf``; R ``qt(p, df, lower.tail = FALSE)``): inf at p = 0.

    Accurate down to p = 5e-324 (as p = exp(``t_logsf``) far out in the tail); NaN as :func:`t_ppf`.
    """
    return _quantile(p, df, upper_tail=True)
