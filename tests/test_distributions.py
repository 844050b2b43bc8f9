"""tearflow.distributions (numpy ψ family and Student's t) against scipy.special and scipy.stats.t.

Relative tolerances (measured worst in brackets): ψ, ψ′, ψ″ 1e-14 (2.5e-15); t sf and logsf 1e-12
wherever scipy's sf is a normal double (2.4e-13, far out in the tail, where the result is exp of a
log near −600); quantiles 1e-12 where scipy's quantile is itself right (1.3e-13), 1e-13 against
60-digit references (3.2e-14: exp of log t limits it). Where scipy is wrong — t² overflowing, its
tail underflowing while log P is finite, ``stdtrit`` (cdflib) failing far in the tail — the values
are checked against those references, computed with mpmath 1.4.1 (``betainc`` at 60 digits,
quantiles by bisection); R 4's ``pt`` agrees with them to 1e-16, its ``qt`` is off by up to 1e-5.
"""


import numpy as np
import pytest
from scipy import special
from scipy import stats as sstats

from tearflow import distributions

TINY = np.finfo(float).tiny
DF = np.concatenate([np.logspace(np.log10(0.05), 8, 61), [np.inf]])[:, None]
X_MAGNITUDES = np.concatenate([[0.0], np.logspace(-3, 12, 151)])
X = np.concatenate([-X_MAGNITUDES[::-1], X_MAGNITUDES])[None, :]
P_LOWER = np.concatenate([np.logspace(-300, -1, 300), np.linspace(0.1, 0.5, 41), 0.5 - np.logspace(-16, -2, 29)])
P = np.concatenate([P_LOWER, 1 - P_LOWER])[None, :]

#: log P(T > x) on df, mpmath (R's pt agrees); scipy gives −inf (sf underflows) or is off
LOGSF_REFERENCES = [
    (1e200, 0.5, -231.39575543017609158),  # scipy: t² overflows, sf = 0
    (1e200, 1.0, -461.66174848465853695),
    (1e200, 10.0, -4595.7524504217691144),
    (38.0, 1e6, -726.0357120681091487),  # sf = 4.9e-316, subnormal
    (38.0, np.inf, -726.5572160188201301),  # scipy: log of a subnormal, off by 4e-12
    (1e10, 1e6, -16118103.477652386975),
    (1e10, np.inf, -50000000000000000024.0),
    (1e10, 10.0, -220.84077373308231508),
    (-40.0, 10.0, -1.1404288715435276115e-12),
]
#: upper-tail quantiles, mpmath (scipy: +inf, −inf, capped near 1e153, 28 % short, or off near p = 1/2)
ISF_REFERENCES = [
    (1e-300, 2.5, 8.7654378822799918617e119),
    (1e-300, 10.0, 2.5645257189481978216e30),
    (1e-320, 10.0, 2.5645285740053128918e32),  # p subnormal (9.99989e-321)
    (1e-320, 31.7, 64386286656.780902048),
    (1e-320, 1e6, 38.283150727482484038),
    (1e-176, 3.138, 1.3116969263850972935e56),
    (0.5 - 1e-10, 5.3843, 2.6250843867094842652e-10),
    (0.49999999999999994, 10.0, 1.426624393580373745e-16),
    (1e-26, 0.085793, 5.3253937443101666751e298),
    (1e-5, 0.05, 1.0876044676001806194e93),
    (1e-300, 30.5, 34728106106.015528286),
    (1e-300, 1e8, 37.047223509020286083),
    (0.025, 1e8, 1.959964008262766797),
    (0.3, 40.0, 0.52860567955089589379),
]


def relative_error(ours, theirs):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ours == theirs, 0.0, np.abs(ours - theirs) / np.abs(theirs))


def log_density(t, df):
    """log of the t density (n = inf: normal), for Newton steps; gammaln's cancellation at large n
    (~1e-7 relative) does not matter there."""
    with np.errstate(all="ignore"):
        t_dist = (
            special.gammaln((df + 1) / 2)
            - special.gammaln(df / 2)
            - 0.5 * np.log(df * np.pi)
            - (df + 1) / 2 * np.logaddexp(0, 2 * np.log(t) - np.log(df))
        )
        return np.where(df == np.inf, -(t**2) / 2 - 0.5 * np.log(2 * np.pi), t_dist)


def newton_step(t, p, df, logsf):
    """(log P(T > t) − log p) / (−d log P(T > t)/d log t): the relative distance of t from the quantile."""
    with np.errstate(all="ignore"):
        return (logsf - np.log(p)) / np.exp(np.log(t) + log_density(t, df) - logsf)


def assert_same_specials(ours, theirs):
    """NaN, ±inf and zeros (with their sign) where scipy has them."""
    assert ours.shape == theirs.shape
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    special_ = ~np.isfinite(theirs) | (theirs == 0)
    np.testing.assert_array_equal(ours[special_], theirs[special_])
    finite = ~np.isnan(theirs)
    assert (np.signbit(ours[finite]) == np.signbit(theirs[finite])).all()


def test_digamma_family_matches_scipy():
    x = np.concatenate(
        [np.logspace(-300, 300, 1201), np.linspace(0.01, 30, 3000), 1.4616321449683623 + np.linspace(-0.6, 0.6, 1201)]
    )
    for ours, theirs in (
        (distributions.digamma, special.digamma),
        (distributions.trigamma, lambda v: special.polygamma(1, v)),
        (distributions.tetragamma, lambda v: special.polygamma(2, v)),
    ):
        o, t = ours(x), theirs(x)
        normal = np.isfinite(t) & (np.abs(t) >= TINY)
        assert relative_error(o[normal], t[normal]).max() <= 1e-14, ours.__name__
        # ±inf (x → 0) and the underflow of ψ″ ~ −1/x² (subnormal, then −0.0)
        np.testing.assert_allclose(o[~normal], t[~normal], rtol=0, atol=1e-321)
        assert (np.signbit(o) == np.signbit(t)).all()


def test_digamma_family_edge_cases():
    """x = inf as scipy; NaN for x ≤ 0 (outside the domain tearflow.limma uses) and NaN."""
    x = np.array([np.inf, 0.0, -0.0, -1.5, -np.inf, np.nan])
    for ours, at_inf in (
        (distributions.digamma, np.inf),
        (distributions.trigamma, 0.0),
        (distributions.tetragamma, -0.0),
    ):
        out = ours(x)
        assert out[0] == at_inf and np.signbit(out[0]) == np.signbit(at_inf)
        assert np.isnan(out[1:]).all()
    value = distributions.digamma(3.0)
    assert isinstance(value, np.float64) and value == pytest.approx(special.digamma(3.0), rel=1e-15)
    assert distributions.trigamma([[1.0, 2.0]]).shape == (1, 2)


def test_t_tails_match_scipy_on_a_wide_grid():
    """sf and logsf within 1e-12 of scipy wherever scipy's sf is a normal double; beyond it (sf
    subnormal or 0) ours underflows too while logsf stays finite (|x| ≤ 1e12 keeps t² finite in scipy)."""
    with np.errstate(all="ignore"):
        sf, logsf = distributions.t_sf(X, DF), distributions.t_logsf(X, DF)
        scipy_sf, scipy_logsf = sstats.t.sf(X, DF), sstats.t.logsf(X, DF)
    normal = scipy_sf >= TINY
    assert normal.sum() > 14_000
    assert relative_error(sf[normal], scipy_sf[normal]).max() <= 1e-12
    log_normal = normal & (np.abs(scipy_logsf) >= TINY)  # log1p(−tail): scipy −0.0, ours −2e-321
    assert relative_error(logsf[log_normal], scipy_logsf[log_normal]).max() <= 1e-12
    assert np.abs(logsf[normal & ~log_normal]).max() < TINY
    assert (sf[~normal] < TINY).all() and (sf[~normal] >= 0).all()
    assert np.isfinite(logsf).all() and (logsf[~normal] < np.log(TINY)).all()
    assert (np.diff(logsf, axis=1) <= 0).all()  # a survival function


@pytest.mark.parametrize(("x", "df", "reference"), LOGSF_REFERENCES)
def test_t_logsf_far_in_the_tail(x, df, reference):
    assert distributions.t_logsf(x, df) == pytest.approx(reference, rel=1e-14)
    if reference > np.log(TINY):
        assert distributions.t_sf(x, df) == pytest.approx(np.exp(reference), rel=1e-12)


def test_t_quantiles_match_scipy_where_scipy_is_right():
    """Within 1e-12 of scipy for p ≤ 0.49 wherever one Newton step puts scipy's quantile within 1e-13
    of the root; ``stdtrit`` fails in the far tail of small df (capped near 1e153, or short by tens of
    percent). Near p = 1/2, where it is off by up to 1e-6, see test_t_quantiles_near_one_half."""
    p = P_LOWER[P_LOWER <= 0.49][None, :]
    with np.errstate(all="ignore"):
        theirs = sstats.t.isf(p, DF)
        step = newton_step(theirs, p, DF, sstats.t.logsf(theirs, DF))
    right = np.isfinite(theirs) & (theirs > 0) & (np.abs(step) <= 1e-13)
    assert right.sum() > 14_000
    ours = distributions.t_isf(p, DF)
    assert relative_error(ours[right], theirs[right]).max() <= 1e-12


def test_t_quantiles_near_one_half():
    """P(0 < T < t) = I_{t²/(n+t²)}(1/2, n/2)/2 (scipy.special.betainc) is 1/2 − p to 1e-13."""
    p = 0.5 - np.concatenate([np.logspace(-16.2, -1, 100), [2**-54]])[None, :]  # 1/2 − p exact
    t = distributions.t_isf(p, DF)
    with np.errstate(all="ignore"):
        central = (
            np.where(DF == np.inf, special.erf(t / np.sqrt(2)), special.betainc(0.5, DF / 2, t**2 / (DF + t**2))) / 2
        )
    assert relative_error(central, 0.5 - p).max() <= 1e-13


def test_t_quantiles_invert_the_tails():
    """Everywhere on the grid (p ≤ 0.49): within 1e-11 of the root of t_logsf(t) = log p (one
    Newton step), inf only where even the largest double has P(T > t) > p; ppf/isf by symmetry."""
    p = P_LOWER[P_LOWER <= 0.49][None, :]
    t = distributions.t_isf(p, DF)
    assert (t > 0).all()
    finite = np.isfinite(t)
    step = newton_step(t, p, DF, distributions.t_logsf(t, DF))
    assert np.abs(step[finite]).max() <= 1e-11
    largest = np.broadcast_to(np.finfo(float).max, t.shape)
    assert (distributions.t_logsf(largest, DF)[~finite] > np.broadcast_to(np.log(p), t.shape)[~finite]).all()
    np.testing.assert_array_equal(distributions.t_ppf(P, DF), -distributions.t_isf(P, DF) + 0.0)
    upper_half = P[P >= 0.5][None, :]
    np.testing.assert_array_equal(distributions.t_ppf(upper_half, DF), distributions.t_isf(1 - upper_half, DF))


@pytest.mark.parametrize(("p", "df", "reference"), ISF_REFERENCES)
def test_t_quantiles_far_in_the_tail(p, df, reference):
    assert distributions.t_isf(p, df) == pytest.approx(reference, rel=1e-13)
    assert distributions.t_ppf(p, df) == pytest.approx(-reference, rel=1e-13)


def test_t_edge_cases_as_scipy():
    """The edge-case table of tests/test_stats.py: NaN, ±inf, zeros and signs exactly as
    scipy.stats.t, values within 1e-12, except the cells where scipy is wrong (most of them are
    among the references above)."""
    x = np.array([-np.inf, -40, -1, -0.0, 0.0, 1e-300, 0.5, 1.96, 7, 38, 1e10, 1e200, np.inf, np.nan])
    df = np.array([[-1], [0], [0.5], [1], [2.5], [10], [31.7], [1e6], [np.inf], [np.nan]])
    p = np.array([0, 1e-320, 1e-300, 1e-20, 0.025, 0.5, 0.975, 1 - 1e-16, 1, 1.5, -0.1, np.nan])
    with np.errstate(all="ignore"):
        scipy_sf = sstats.t.sf(x, df)
        # scipy's t² overflows at x = 1e200 (sf = 0 instead of 3e-101 and 3e-201 for df = 0.5, 1)
        # and its tail underflows to 0 / −inf where ours (R's pt) is subnormal / finite
        scipy_wrong = (x == 1e200) & (df <= 1) | (scipy_sf < TINY) & (x > 0) & np.isfinite(x)
        for ours, theirs in (
            (distributions.t_sf(x, df), scipy_sf),
            (distributions.t_logsf(x, df), sstats.t.logsf(x, df)),
        ):
            assert_same_specials(ours[~scipy_wrong], theirs[~scipy_wrong])
            ok = ~scipy_wrong & np.isfinite(theirs) & (theirs != 0)
            assert relative_error(ours[ok], theirs[ok]).max() <= 1e-12
        # stdtrit's ppf at p = 1e-320, 1e-300: +inf where −inf (df 1) or a finite t (df 2.5 … 31.7) is
        # right, −4.7e153 where −inf is (df 0.5), 4.6e-4 off (df 1e6); its isf the same, negated
        scipy_wrong = (p == 1e-320) & (df >= 0.5) & (df <= 1e6) | (p == 1e-300) & np.isin(df, [0.5, 2.5, 10])
        for ours, theirs, wrong in (
            (distributions.t_ppf(p, df), sstats.t.ppf(p, df), scipy_wrong),
            (distributions.t_isf(p, df), sstats.t.isf(p, df), scipy_wrong),
            (distributions.t_isf(p, 17.3), sstats.t.isf(p, 17.3), p == 1e-320),
        ):
            assert_same_specials(ours[~wrong], theirs[~wrong])
            ok = ~wrong & np.isfinite(theirs) & (theirs != 0)
            assert relative_error(ours[ok], theirs[ok]).max() <= 1e-12
    with np.errstate(all="ignore"):
        assert distributions.t_isf(1e-300, 0.5) == np.inf and distributions.t_ppf(1e-320, 1.0) == -np.inf  # overflow
    assert distributions.t_sf(1e200, 1.0) == pytest.approx(1 / (np.pi * 1e200), rel=1e-14)


def test_t_functions_take_scalars_and_broadcast():
    assert isinstance(distributions.t_sf(2.0, 10.0), np.float64)
    assert distributions.t_isf([0.05, 0.01], [[5.0], [20.0], [np.inf]]).shape == (3, 2)
    assert distributions.t_isf(0.025, np.inf) == pytest.approx(1.959963984540054, rel=1e-15)
