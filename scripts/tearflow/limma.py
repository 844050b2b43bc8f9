"""limma, ported: linear models, empirical Bayes moderation, treat.

Everything here follows R/Bioconductor limma function by function so that a careful reader can
check each step against limma's source and the golden fixtures: ``tests/fixtures/limma/`` (limma
3.54, the classic estimator), ``tests/fixtures/limpa_de/`` (weighted fits and limpa's dpcDE, limma
3.63.2 with ``eBayes(legacy = TRUE)``) and ``tests/fixtures/limma_unequal_df/`` (limma 3.63.2's
default ``eBayes``/``treat``, ``legacy = NULL``: ``fitFDistUnequalDF1`` whenever the residual df
differ between proteins — missing values, limpa's df-loss correction — the classic estimator when
they are all equal). ``ebayes(legacy=)`` chooses as limma does; ``legacy=True`` is the classic
estimator everywhere (limma < 3.61):

============================== ===================================================================
tearflow                       limma / R
============================== ===================================================================
:func:`lm_fit`                 ``lmFit`` → ``lm.series`` (per-gene, optionally weighted, least
                               squares on observed rows)
:func:`contrasts_fit`          ``contrasts.fit``
:func:`fit_f_dist`             ``fitFDist`` (incl. the ``splines::ns`` trend)
:func:`fit_f_dist_robustly`    ``fitFDistRobustly``
:func:`fit_f_dist_unequal_df1` ``fitFDistUnequalDF1`` (limma ≥ 3.61; incl. trend and robust)
:func:`tearflow.r_optim.brent_fmin` R ``optimize`` (Brent's ``fmin``, ``stats/src/optimize.c``)
:func:`squeeze_var`            ``squeezeVar`` (``legacy``)
:func:`ebayes`                 ``eBayes`` / ``.ebayes`` (moderated t, p-values, B-statistic)
:func:`treat`                  ``treat`` (McCarthy & Smyth 2009)
============================== ===================================================================

Precision weights (limpa's vooma trend for DPC-quantified proteins) come from :mod:`tearflow.vooma`;
the smoothers from :mod:`tearflow.smoothing`; BH from :mod:`tearflow.multiple_testing`.

References
----------
- Smyth GK (2004). Linear models and empirical Bayes methods for assessing differential expression
  in microarray experiments. *Stat Appl Genet Mol Biol* 3:3. (moderated t, eqs. 2–4 below)
- Phipson B, Lee S, Majewski IJ, Alexander WS, Smyth GK (2016). Robust hyperparameter estimation
  protects against hypervariable genes and improves power to detect differential expression.
  *Ann Appl Stat* 10:946–963. (``robust=True``)
- McCarthy DJ, Smyth GK (2009). Testing significance relative to a fold-change threshold is a TREAT.
  *Bioinformatics* 25:765–771.
- Smyth GK, Chen L: ``fitFDistUnequalDF1``, limma ≥ 3.61 (2024): the prior for unequal residual df
  (``legacy=None``/``False``); documented in limma's ``?fitFDistUnequalDF1`` and NEWS.
- Brent RP (1973). *Algorithms for Minimization without Derivatives*. Prentice-Hall. (``optimize``)

Every function is vectorized over proteins (rows); the only Python loops run over design columns,
contrasts or smoothing anchor points, never over proteins.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from tearflow import distributions
from tearflow.multiple_testing import bh_adjust
from tearflow.r_optim import brent_fmin
from tearflow.smoothing import approx_rule2, choose_lowess_span, loess_fit, lowess, natural_spline_basis

# The default limma path, with or without trend, imports no scipy: ψ, ψ′, ψ″, log Γ, log − ψ and the
# t tails and quantiles come from tearflow.distributions (numpy; scipy.special alone costs ~0.13 s to
# import, issue 8), the trend's B-splines from _bspline_values (no scipy.interpolate). scipy.stats (~0.9 s)
# and scipy.optimize (~0.5 s) are imported inside the functions that need them (robust prior,
# small-sample tests), so the differential step's fresh process does not pay for them.

#: limma's relative tolerance for a column to count as estimable (``lm.fit``'s ``tol``, LINPACK dqrdc2)
QR_TOL = 1e-7


# --------------------------------------------------------------------------------------------------
# Benjamini–Hochberg
# --------------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------------
# Linear models (lmFit / contrasts.fit)
# --------------------------------------------------------------------------------------------------
@dataclass
class LinearFit:
    """Per-protein least-squares fits (limma's ``MArrayLM`` before ``eBayes``).

    ``coefficients`` and ``stdev_unscaled`` are (proteins × coefficients) with NaN where a
    coefficient is not estimable from the protein's observed rows; ``sigma`` (NaN when
    ``df_residual`` is 0) and ``df_residual`` are per protein; ``cov_coefficients`` is the unscaled
    covariance of the full design (what ``contrasts.fit`` uses for correlations); ``amean`` is
    limma's ``Amean``, the mean of each protein's non-missing values (whatever the weights).
    """

    coefficients: np.ndarray
    stdev_unscaled: np.ndarray
    sigma: np.ndarray
    df_residual: np.ndarray
    cov_coefficients: np.ndarray
    names: list = field(default_factory=list)
    amean: np.ndarray = None


def estimable_columns(design, mask, tol=QR_TOL):
    """Which design columns each protein can estimate from its observed rows (proteins × columns).

    Mirrors the limited column pivoting of LINPACK ``dqrdc2`` used by R's ``lm.fit``: columns are
    taken left to right; a column is dropped (its coefficient becomes NA) when its norm after
    projecting out the columns kept before it falls below ``tol`` times its norm on the observed
    rows (an all-zero column is always dropped). Done by batched Gram–Schmidt over columns.
    """
    design = np.asarray(design, dtype=float)
    x = mask[:, :, None] * design[None, :, :]  # proteins × samples × columns
    n_proteins, _, n_columns = x.shape
    basis = np.zeros_like(x)
    keep = np.zeros((n_proteins, n_columns), dtype=bool)
    for j in range(n_columns):
        v = x[:, :, j].copy()
        original = np.sqrt((v * v).sum(axis=1))
        for _ in range(2):  # re-orthogonalize once for numerical safety
            for k in range(j):
                v -= (basis[:, :, k] * v).sum(axis=1)[:, None] * basis[:, :, k]
        norm = np.sqrt((v * v).sum(axis=1))
        reference = np.where(original > 0, original, 1.0)
        keep[:, j] = norm >= tol * reference
        safe = np.where(keep[:, j], norm, 1.0)
        basis[:, :, j] = np.where(keep[:, j][:, None], v / safe[:, None], 0.0)
    return keep


def observation_weights(weights, shape):
    """limma's ``asMatrixWeights``: ``weights`` as a (proteins × samples) matrix, and whether they
    are array weights (one weight per sample, the same for every protein).

    A full matrix is taken as is; a vector (or 1 × samples row) with one entry per sample is an
    array-weight vector, repeated for every protein; a vector with one entry per protein (or a
    scalar) is a probe-weight vector, repeated for every sample. When proteins and samples are as
    many, a plain vector counts as per protein (as in limma). Anything else is a ValueError.
    """
    weights = np.asarray(weights, dtype=float)
    n_proteins, n_samples = shape
    if weights.shape == (n_proteins, n_samples):
        return weights, False
    if weights.ndim > 2 or (weights.ndim == 2 and min(weights.shape) != 1):
        raise ValueError(f"weights of shape {weights.shape} do not fit data of shape {shape}")
    if weights.ndim == 2 and weights.shape[1] > 1 and weights.shape[1] == n_samples:
        return np.broadcast_to(weights.reshape(1, -1), shape).copy(), True
    flat = weights.ravel()
    if flat.size in (1, n_proteins):
        return np.broadcast_to(flat.reshape(-1, 1), shape).copy(), False
    if flat.size == n_samples:
        return np.broadcast_to(flat.reshape(1, -1), shape).copy(), True
    raise ValueError(f"weights of shape {weights.shape} do not fit data of shape {shape}")


def lm_fit(y, design, weights=None, names=None):
    """Per-protein (weighted) least-squares fit of ``y`` (proteins × samples, NaN = missing) on ``design``.

    Equivalent to limma's ``lmFit(y, design, weights = weights)`` (``lm.series``): each protein is
    fitted on its observed samples only; coefficients that its observed rows cannot estimate are
    NaN (see :func:`estimable_columns`); ``df_residual`` = observed samples − estimable
    coefficients; ``sigma`` = sqrt(RSS / df_residual). ``stdev_unscaled`` = sqrt(diag((X'WX)⁻¹))
    over the protein's observed rows and estimable columns. Vectorized: one batched solve of the
    per-protein normal equations (X'WX) b = X'Wy, W = the protein's observation weights (its 0/1
    observation mask when unweighted).

    ``weights`` (precision weights; see :func:`observation_weights` for the accepted shapes): as in
    ``lm.series``, a weight that is ≤ 0, NaN or infinite drops its observation (the value is treated
    as missing); otherwise each protein is fitted by ``lm.wfit``: b = (X'WX)⁻¹X'Wy, RSS = Σ w r²,
    estimability judged on √W·X (LINPACK ``dqrdc2`` on the weighted design). ``amean`` is the mean
    of the non-missing values regardless of weights (limma's ``Amean``).

    ``cov_coefficients`` is what ``lm.series`` reports and ``contrasts.fit`` then uses: the
    unweighted (X'X)⁻¹ of the full design — also with probe weights (limma's note in
    ``contrasts.fit``: probe-wise weights are "not completely taken into account") — except for array
    weights on complete data, where limma makes one weighted fit for all proteins and reports
    (X'WX)⁻¹.
    """
    y = np.asarray(y, dtype=float)
    design = np.asarray(design, dtype=float)
    n_proteins, n_samples = y.shape
    if design.shape[0] != n_samples:
        raise ValueError(f"design has {design.shape[0]} rows for {n_samples} samples")
    n_columns = design.shape[1]
    if np.linalg.matrix_rank(design) < n_columns:
        raise ValueError("design matrix is not of full column rank")
    finite = np.isfinite(y)
    with np.errstate(invalid="ignore"):
        amean = np.where(finite, y, 0.0).sum(axis=1) / finite.sum(axis=1)
    array_weights = False
    if weights is None:
        mask = finite.astype(float)
        scale = mask
    else:
        weights, array_weights = observation_weights(weights, y.shape)
        with np.errstate(invalid="ignore"):
            usable = finite & np.isfinite(weights) & (weights > 0)
        mask = np.where(usable, weights, 0.0)
        scale = np.sqrt(mask)
    y0 = np.where(mask > 0, y, 0.0)
    keep = estimable_columns(design, scale)
    xw = mask[:, :, None] * design[None, :, :]
    gram = np.einsum("gsi,sj->gij", xw, design)
    rhs = np.einsum("gsi,gs->gi", xw, y0)
    # non-estimable columns: identity row/column, zero right-hand side, reported as NaN afterwards
    dropped = ~keep
    both = dropped[:, :, None] | dropped[:, None, :]
    gram = np.where(both, 0.0, gram)
    eye = np.broadcast_to(np.eye(n_columns), gram.shape)
    gram = np.where(dropped[:, :, None] & eye.astype(bool), 1.0, gram)
    rhs = np.where(dropped, 0.0, rhs)
    inverse = np.linalg.inv(gram)
    beta = np.einsum("gij,gj->gi", inverse, rhs)
    observed = (mask > 0).astype(float)
    residuals = (y0 - beta @ design.T) * observed
    rank = keep.sum(axis=1)
    df_residual = observed.sum(axis=1) - rank
    if weights is None:
        rss = (residuals * residuals).sum(axis=1)
    else:
        rss = (mask * residuals * residuals).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.where(df_residual > 0, np.sqrt(rss / np.maximum(df_residual, 1)), np.nan)
    stdev = np.sqrt(np.einsum("gii->gi", inverse))
    beta = np.where(keep, beta, np.nan)
    stdev = np.where(keep, stdev, np.nan)
    if array_weights and bool((mask > 0).all()):
        cov = np.linalg.inv(design.T @ (mask[0][:, None] * design))
    else:
        cov = np.linalg.inv(design.T @ design)
    return LinearFit(
        coefficients=beta,
        stdev_unscaled=stdev,
        sigma=sigma,
        df_residual=df_residual.astype(float),
        cov_coefficients=cov,
        names=list(names) if names is not None else [f"x{i + 1}" for i in range(n_columns)],
        amean=amean,
    )


def contrasts_fit(fit, contrasts, names=None):
    """Re-express a :class:`LinearFit` in terms of contrasts (columns of ``contrasts``).

    As limma's ``contrasts.fit``: coefficients become B·C; the unscaled standard errors use the
    correlation of the full design's coefficients, R = chol(cor): se_c = ||R · diag(s_g) · c|| for
    protein g (which reduces to sqrt(s_g² · c²) for an orthogonal design). A coefficient that is NA
    for a protein enters as 0 with standard error 1e30, so every contrast that uses it is NA.
    """
    contrasts = np.asarray(contrasts, dtype=float)
    if contrasts.ndim == 1:
        contrasts = contrasts[:, None]
    coefficients = fit.coefficients.copy()
    stdev = fit.stdev_unscaled.copy()
    cov = fit.cov_coefficients
    sd = np.sqrt(np.diag(cov))
    cor = cov / np.outer(sd, sd)
    used = np.abs(contrasts).sum(axis=1) != 0
    contrasts = contrasts[used]
    coefficients = coefficients[:, used]
    stdev = stdev[:, used]
    cov = cov[np.ix_(used, used)]
    cor = cor[np.ix_(used, used)]
    missing = np.isnan(coefficients)
    coefficients[missing] = 0.0
    stdev[missing] = 1e30
    new_coefficients = coefficients @ contrasts
    lower = cor[np.tril_indices(len(cor), -1)]
    orthogonal = len(cor) < 2 or bool(np.all(np.abs(lower) < 1e-14))
    if orthogonal:
        new_stdev = np.sqrt((stdev**2) @ contrasts**2)
    else:
        chol = np.linalg.cholesky(cor).T  # upper triangular, chol'chol = cor (R's chol)
        ruc = np.einsum("ij,gj,jk->gik", chol, stdev, contrasts)
        new_stdev = np.sqrt((ruc**2).sum(axis=1))
    chol_cov = np.linalg.cholesky(cov).T
    new_cov = (chol_cov @ contrasts).T @ (chol_cov @ contrasts)
    na = new_stdev > 1e20
    new_coefficients[na] = np.nan
    new_stdev[na] = np.nan
    return LinearFit(
        coefficients=new_coefficients,
        stdev_unscaled=new_stdev,
        sigma=fit.sigma,
        df_residual=fit.df_residual,
        cov_coefficients=new_cov,
        names=list(names) if names is not None else [f"c{i + 1}" for i in range(contrasts.shape[1])],
        amean=fit.amean,
    )


# --------------------------------------------------------------------------------------------------
# Special functions and smoothers limma relies on
# --------------------------------------------------------------------------------------------------
def trigamma_inverse(x):
    """Solve trigamma(y) = x for y (limma's ``trigammaInverse``: Newton's method on 1/trigamma)."""
    x = np.asarray(x, dtype=float)
    scalar = x.ndim == 0
    x = np.atleast_1d(x)
    y = np.full(x.shape, np.nan)
    big = x > 1e7
    small = (x < 1e-6) & (x >= 0)
    y[big] = 1 / np.sqrt(x[big])
    y[small] = 1 / x[small]
    rest = np.isfinite(x) & (x >= 1e-6) & ~big
    if rest.any():
        xr = x[rest]
        yr = 0.5 + 1 / xr
        for _ in range(50):
            tri = distributions.trigamma(yr)
            dif = tri * (1 - tri / xr) / distributions.tetragamma(yr)
            yr = yr + dif
            if np.max(-dif / yr) < 1e-8:
                break
        y[rest] = yr
    return y[0] if scalar else y


# --------------------------------------------------------------------------------------------------
# Student's t tails and quantiles (tearflow.distributions: numpy, the edge cases of scipy.stats.t)
# --------------------------------------------------------------------------------------------------
_t_sf = distributions.t_sf  # P(T > x): R pt(x, df, lower.tail = FALSE); scipy.stats.t.sf
_t_logsf = distributions.t_logsf  # log P(T > x), finite far beyond the underflow of P
_t_ppf = distributions.t_ppf  # lower-tail quantile: R qt(p, df); −inf at p = 0
_t_isf = distributions.t_isf  # upper-tail quantile: R qt(p, df, lower.tail = FALSE); inf at p = 0


# --------------------------------------------------------------------------------------------------
# Empirical Bayes (fitFDist / fitFDistRobustly / squeezeVar / eBayes)
# --------------------------------------------------------------------------------------------------
@dataclass
class FDistFit:
    """Scaled F prior of the variances: s² ~ s0² · F(df1, df2)."""

    scale: np.ndarray  # s0², scalar or per protein (trend)
    df2: float
    df2_shrunk: np.ndarray = None  # robust: per-protein prior df
    df2_outlier: float = None  # fit_f_dist_unequal_df1, robust: the prior df of the largest outlier


def fit_f_dist(x, df1, covariate=None):
    """Moment estimation of the scaled F distribution of sample variances (limma ``fitFDist``).

    Smyth (2004, sec. 6): with e_g = log s²_g − ψ(d_g/2) + log(d_g/2), E[e_g] = log s0² − ψ(d0/2)
    + log(d0/2) and Var[e_g] = ψ'(d_g/2) + ψ'(d0/2). So d0 = 2 ψ'⁻¹(mean((e − ē)² ·n/(n−1)) −
    mean ψ'(d_g/2)) and s0² = exp(ē + ψ(d0/2) − log(d0/2)); d0 = ∞ when the excess variance is ≤ 0.
    With a ``covariate`` (the abundance trend), ē is the least-squares fit of e on a natural cubic
    spline basis ``ns(covariate, df = 1 + [n≥3] + [n≥6] + [n≥30], intercept = TRUE)`` and the
    variance is its residual mean square; s0² is then per protein.
    """
    x = np.asarray(x, dtype=float).copy()
    n = len(x)
    df1 = np.broadcast_to(np.asarray(df1, dtype=float), (n,)).copy()
    if n == 0:
        return FDistFit(scale=np.nan, df2=np.nan)
    if n == 1:
        return FDistFit(scale=x.copy() if covariate is not None else float(x[0]), df2=0.0)
    ok = np.isfinite(df1) & (df1 > 1e-15)
    if covariate is not None:
        covariate = np.asarray(covariate, dtype=float).copy()
        if np.isnan(covariate).any():
            raise ValueError("NA covariate values not allowed")
        finite = np.isfinite(covariate)
        if not finite.all():
            if finite.any():
                covariate[covariate == -np.inf] = covariate[finite].min() - 1
                covariate[covariate == np.inf] = covariate[finite].max() + 1
            else:
                covariate = np.sign(covariate)
    with np.errstate(invalid="ignore"):
        ok = ok & np.isfinite(x) & (x > -1e-15)
    nok = int(ok.sum())
    if nok == 1:
        return FDistFit(scale=float(x[ok][0]), df2=0.0)
    if nok == 0:
        return FDistFit(scale=np.nan, df2=np.nan)
    notallok = nok < n
    xo, d1 = x[ok], df1[ok]
    cov_ok = covariate[ok] if covariate is not None else None
    if covariate is not None:
        splinedf = 1 + (nok >= 3) + (nok >= 6) + (nok >= 30)
        splinedf = min(splinedf, len(np.unique(cov_ok)))
        if splinedf < 2:
            out = fit_f_dist(xo, d1)
            return FDistFit(scale=np.full(n, out.scale), df2=out.df2)
    xo = np.maximum(xo, 0)
    m = np.median(xo)
    if m == 0:
        m = 1.0
    xo = np.maximum(xo, 1e-5 * m)
    e = np.log(xo) - distributions.digamma(d1 / 2) + np.log(d1 / 2)
    if covariate is None:
        emean = e.mean()
        evar = ((e - emean) ** 2).sum() / (nok - 1)
    else:
        basis = natural_spline_basis(cov_ok, splinedf)
        coef, _, rank, _ = np.linalg.lstsq(basis, e, rcond=None)
        fitted = basis @ coef
        evar = ((e - fitted) ** 2).sum() / (nok - rank)
        if notallok:
            emean = np.zeros(n)
            emean[ok] = fitted
            emean[~ok] = natural_spline_basis(covariate[~ok], splinedf, fit_x=cov_ok) @ coef
        else:
            emean = fitted
    evar = evar - np.mean(distributions.trigamma(d1 / 2))
    if evar > 0:
        df2 = 2 * float(trigamma_inverse(evar))
        s20 = np.exp(emean + distributions.digamma(df2 / 2) - np.log(df2 / 2))
    else:
        df2 = np.inf
        s20 = xo.mean() if covariate is None else np.exp(emean)
    return FDistFit(scale=s20, df2=df2)


def _f_logsf(f, df1, df2):
    from scipy import stats as sstats

    if np.isinf(df2):
        return sstats.chi2.logsf(f * df1, df1)
    return sstats.f.logsf(f, df1, df2)


def _f_logcdf(f, df1, df2):
    from scipy import stats as sstats

    if np.isinf(df2):
        return sstats.chi2.logcdf(f * df1, df1)
    return sstats.f.logcdf(f, df1, df2)


def _f_ppf(p, df1, df2):
    from scipy import stats as sstats

    if np.isinf(df2):
        return sstats.chi2.ppf(p, df1) / df1
    return sstats.f.ppf(p, df1, df2)


def _f_pdf(f, df1, df2):
    from scipy import stats as sstats

    if np.isinf(df2):
        return sstats.chi2.pdf(f * df1, df1) * df1
    return sstats.f.pdf(f, df1, df2)


def _gauss_uniform(n=128):
    """Gauss–Legendre nodes and weights on [0, 1] (``statmod::gauss.quad.prob(n, "uniform")``)."""
    nodes, weights = np.polynomial.legendre.leggauss(n)
    return (nodes + 1) / 2, weights / 2


def _winsorized_moments(df1, df2, tail):
    """Mean and variance of log F(df1, df2) winsorized at the ``tail`` probabilities."""
    nodes01, weights = _gauss_uniform()
    fq = _f_ppf(np.array([tail[0], 1 - tail[1]]), df1, df2)
    zq = np.log(fq)
    q = fq / (1 + fq)
    nodes = q[0] + (q[1] - q[0]) * nodes01
    fnodes = nodes / (1 - nodes)
    znodes = np.log(fnodes)
    density = _f_pdf(fnodes, df1, df2) / (1 - nodes) ** 2
    width = q[1] - q[0]
    mean = width * (weights * density * znodes).sum() + (zq * tail).sum()
    var = width * (weights * density * (znodes - mean) ** 2).sum() + ((zq - mean) ** 2 * tail).sum()
    return mean, var


def fit_f_dist_robustly(x, df1, covariate=None, winsor_tail_p=(0.05, 0.1)):
    """Robust estimation of the scaled F prior (limma ``fitFDistRobustly``; Phipson et al. 2016).

    log-variances (less a mean or a lowess trend, span 0.4) are winsorized at ``winsor_tail_p``;
    d0 solves var(winsorized z) = var of the equally winsorized log F(d1, d0) (Gauss–Legendre
    quadrature, 128 nodes); then each protein's prior df is shrunk by its posterior probability
    of not being an outlier (``df2_shrunk``), made monotone in the tail p-value.
    """
    from scipy import optimize
    from scipy import stats as sstats

    x = np.asarray(x, dtype=float).copy()
    n = len(x)
    df1 = np.asarray(df1, dtype=float)
    if n < 2:
        return FDistFit(scale=np.nan, df2=np.nan, df2_shrunk=np.full(n, np.nan))
    if n == 2:
        out = fit_f_dist(x, df1, covariate)
        out.df2_shrunk = np.full(n, out.df2)
        return out
    df1_vec = np.broadcast_to(df1, (n,)).copy()
    if covariate is not None:
        covariate = np.asarray(covariate, dtype=float)
        if not np.isfinite(covariate).all():
            raise ValueError("covariate contains NA or infinite values")
    ok = ~np.isnan(x) & np.isfinite(df1_vec) & (df1_vec > 1e-6)
    if not ok.all():
        fit = fit_f_dist_robustly(
            x[ok],
            df1_vec[ok] if df1.ndim else df1,
            None if covariate is None else covariate[ok],
            winsor_tail_p,
        )
        shrunk = x.copy()
        shrunk[ok] = fit.df2_shrunk
        shrunk[~ok] = fit.df2
        if covariate is None:
            scale = fit.scale
        else:
            scale = x.copy()
            scale[ok] = fit.scale
            # R approx(rule = 2, ties = mean) on unsorted x: sort, then the ordered-ties interpolator
            order = np.argsort(covariate[ok], kind="stable")
            known = np.log(fit.scale)[order]
            scale[~ok] = np.exp(approx_rule2(covariate[ok][order], known, covariate[~ok]))
        return FDistFit(scale=scale, df2=fit.df2, df2_shrunk=shrunk)
    m = np.median(x)
    if m <= 0:
        raise ValueError("Variances are mostly <= 0")
    x = np.where(x < m * 1e-12, m * 1e-12, x)
    non_robust = fit_f_dist(x, df1_vec, covariate)
    tail = np.resize(np.asarray(winsor_tail_p, dtype=float), 2)
    prob = np.array([tail[0], 1 - tail[1]])
    if np.all(tail < 1 / n):
        non_robust.df2_shrunk = np.full(n, non_robust.df2)
        return non_robust
    df1max = df1_vec.max()
    if df1.ndim:
        lower = df1_vec < df1max - 1e-14
        if lower.any():
            s = non_robust.scale if covariate is None else non_robust.scale[lower]
            f = x[lower] / s
            df2 = non_robust.df2
            pupper = _f_logsf(f, df1_vec[lower], df2)
            plower = _f_logcdf(f, df1_vec[lower], df2)
            up = pupper < plower
            f = np.where(
                up,
                _f_isf_log(pupper, df1max, df2),
                _f_ppf(np.exp(plower), df1max, df2),
            )
            x = x.copy()
            x[lower] = f * s
            d1 = float(df1max)
        else:
            d1 = float(df1_vec[0])
    else:
        d1 = float(df1_vec[0])
    z = np.log(x)
    if covariate is None:
        ztrend = sstats.trim_mean(z, tail[1])
        zresid = z - ztrend
    else:
        ztrend = lowess(covariate, z, f=0.4, iterations=3)
        zresid = z - ztrend
    zrq = np.quantile(zresid, prob)
    zwins = np.clip(zresid, zrq[0], zrq[1])
    zwmean = zwins.mean()
    zwvar = ((zwins - zwmean) ** 2).mean() * n / (n - 1)

    def link(v):
        return v / (1 + v)

    def linkinv(v):
        return v / (1 - v)

    mom_mean, mom_var = _winsorized_moments(d1, np.inf, tail)
    funval_inf = np.log(zwvar / mom_var)
    if funval_inf <= 0:
        ztrend_corrected = ztrend + zwmean - mom_mean
        s20 = np.exp(ztrend_corrected)
        fstat = np.exp(z - ztrend_corrected)
        tail_p = sstats.chi2.sf(fstat * d1, d1)
        r = sstats.rankdata(fstat)
        empirical = (n - r + 0.5) / n
        not_outlier = np.minimum(tail_p / empirical, 1)
        shrunk = np.full(n, np.inf)
        outlier = not_outlier < 1
        if outlier.any():
            shrunk[outlier] = not_outlier[outlier] * n * d1
            o = np.argsort(tail_p, kind="stable")
            shrunk[o] = np.maximum.accumulate(shrunk[o])
        return FDistFit(scale=s20, df2=np.inf, df2_shrunk=shrunk)

    def objective(v):
        if v >= 1:
            return funval_inf
        _, var = _winsorized_moments(d1, linkinv(v), tail)
        return np.log(zwvar / var)

    if np.isinf(non_robust.df2):
        non_robust.df2_shrunk = np.full(n, non_robust.df2)
        return non_robust
    rbx = link(non_robust.df2)
    funval_low = objective(rbx)
    if funval_low >= 0:
        df2 = non_robust.df2
    else:
        root = optimize.brentq(objective, rbx, 1.0, xtol=1e-14, rtol=1e-14, maxiter=1000)
        df2 = linkinv(root)
    mom_mean, _ = _winsorized_moments(d1, df2, tail)
    ztrend_corrected = ztrend + zwmean - mom_mean
    s20 = np.exp(ztrend_corrected)
    fstat = np.exp(z - ztrend_corrected)
    log_tail_p = _f_logsf(fstat, d1, df2)
    r = sstats.rankdata(fstat)
    log_empirical = np.log(n - r + 0.5) - np.log(n)
    log_not_outlier = np.minimum(log_tail_p - log_empirical, 0)
    not_outlier = np.exp(log_not_outlier)
    outlier = -np.expm1(log_not_outlier)
    if (log_not_outlier < 0).any():
        min_log_tail = log_tail_p.min()
        if min_log_tail == -np.inf:
            shrunk = not_outlier * df2
        else:
            df2_outlier = np.log(0.5) / min_log_tail * df2
            new_log_tail = _f_logsf(fstat.max(), d1, df2_outlier)
            df2_outlier = np.log(0.5) / new_log_tail * df2_outlier
            shrunk = not_outlier * df2 + outlier * df2_outlier
        shrunk = _monotone_in_tail_order(shrunk, log_tail_p)
    else:
        shrunk = np.full(n, df2)
    return FDistFit(scale=s20, df2=df2, df2_shrunk=shrunk)


_DBL_MAX = float(np.finfo(float).max)


def fit_f_dist_unequal_df1(x, df1, covariate=None, robust=False, prior_weights=None):
    """Scaled F prior of the variances when the residual df differ between proteins (limma
    ``fitFDistUnequalDF1``; Smyth GK, Chen L, limma ≥ 3.61 — what ``squeezeVar`` uses by default
    whenever the df are unequal).

    Model (Smyth 2004): x_g ~ s0²·F(d_g, d0). Where the classic :func:`fit_f_dist` matches moments
    of log x pooled over proteins with different d_g, this estimator weights and maximises:

    1. e_g = log x_g + log(d_g/2) − ψ(d_g/2) (an unbiased estimate of log s0² − [log − ψ](d0/2)),
       averaged with weights w_g = 1/ψ′(d_g/2) (× prior weights) — or, with a ``covariate``, its
       weighted lowess trend (limma ``loessFit``: weights w/Q₇₅(w) clipped to [1e-8, 100], span
       ``chooseLowessSpan(n, small.n = 500)``, one iteration) — giving ē;
    2. d0/2 = p/(1 − p) maximises the F likelihood of the x_g (× prior weights) with
       s0² = exp(ē − [log − ψ](d0/2)) profiled out, p found by R's ``optimize`` on
       [1/2, 0.9998] (:func:`tearflow.r_optim.brent_fmin`), so 2 ≤ d0 ≤ 9998: the prior df is never infinite;
    3. ``robust``: two-sided F tail p-values of the x_g, BH-adjusted (FDR > 0.3 → 1), serve as prior
       weights for a refit (step 1–2 again), and proteins in the right tail get a shrunken prior df
       ``df2_shrunk`` = P(not outlier)·d0 + P(outlier)·d0_outlier (d0_outlier puts the largest F at
       the median), made monotone in the tail p-value — as in limma.

    Missing x (NaN) and df below 0.01 (then treated as df 1) get prior weight 0; x ≤ 0 is kept
    (at 1e-12 × the median of the informative x) but is not informative. With fewer than two
    informative x the result is NaN; with exactly two, limma drops covariate, robustness and prior
    weights — and, when prior weights were in play (any NaN x or df < 0.01), then averages an empty
    vector, so that s0² is NaN (limma 3.63.2's behaviour, kept). ``df1`` may be a scalar.
    Returns :class:`FDistFit` (``scale`` per protein with a covariate; ``df2_shrunk``/``df2_outlier``
    only when robust found right outliers). Imports scipy only for the robust branch (F tails).
    """
    x = np.asarray(x, dtype=float).copy()
    n = len(x)
    df1 = np.atleast_1d(np.asarray(df1, dtype=float)).copy()
    if df1.size not in (1, n):
        raise ValueError("x and df1 are different lengths")
    if np.isnan(df1).any():
        raise ValueError("NA df1 values")
    if covariate is not None:
        covariate = np.asarray(covariate, dtype=float)
        if len(covariate) != n:
            raise ValueError("x and covariate are different lengths")
        if np.isnan(covariate).any():
            raise ValueError("covariate contains NA values")
    if prior_weights is not None:
        prior_weights = np.asarray(prior_weights, dtype=float).copy()
        if len(prior_weights) != n:
            raise ValueError("x and prior_weights are different lengths")
        if np.isnan(prior_weights).any():
            raise ValueError("prior_weights contain NA values")
        if prior_weights.min() < 0:
            raise ValueError("prior_weights are negative")
    missing = np.isnan(x)
    if missing.any():
        prior_weights = (~missing).astype(float) if prior_weights is None else prior_weights
        prior_weights[missing] = 0.0
        x[missing] = 0.0
    small = df1 < 0.01
    if small.any():
        small_n = np.broadcast_to(small, (n,))
        prior_weights = (~small_n).astype(float) if prior_weights is None else prior_weights
        prior_weights[small_n] = 0.0
        df1[small] = 1.0
    weighted = prior_weights is not None
    informative = x > 0
    if weighted:
        informative &= prior_weights != 0
    n_informative = int(informative.sum())
    if n_informative < 2:
        return FDistFit(scale=np.nan, df2=np.nan)
    empty_weights = False
    if n_informative == 2:
        covariate = None
        robust = False
        # limma sets prior.weights <- NULL but keeps using them: w * NULL is empty, the mean NaN
        empty_weights = weighted
    m = np.median(x[informative])
    xpos = np.maximum(x, 1e-12 * m)
    z = np.log(xpos)
    d1 = df1 / 2
    e = z + distributions.logmdigamma(d1)
    w = np.broadcast_to(1 / distributions.trigamma(d1), (n,))
    if weighted and not empty_weights:
        w = w * prior_weights
    if empty_weights:
        emean = np.nan
    elif covariate is None:
        emean = math.fsum(w * e) / math.fsum(w)
    else:
        span = choose_lowess_span(n, small_n=500)
        emean = loess_fit(
            e, covariate, weights=w / np.quantile(w, 0.75), min_weight=1e-8, max_weight=1e2, span=span, iterations=1
        )
    d1x = d1 * xpos
    lgamma = distributions.lgamma

    def minus_twice_log_likelihood(par):
        if empty_weights:
            return 0.0  # -2 * sum(numeric(0)) in limma
        d2 = par / (1 - par)
        d2s20 = d2 * np.exp(emean - distributions.logmdigamma(d2))
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            terms = -(d1 + d2) * np.log1p(d1x / d2s20) - d1 * np.log(d2s20) + lgamma(d1 + d2) - lgamma(d2)
        if weighted:
            terms = prior_weights * terms
        return -2 * math.fsum(np.broadcast_to(terms, (n,)))

    par = brent_fmin(minus_twice_log_likelihood, 0.5, 0.9998)
    d2 = par / (1 - par)
    with np.errstate(invalid="ignore"):
        s20 = np.exp(emean - distributions.logmdigamma(d2))
    if not robust:
        return FDistFit(scale=s20, df2=2 * d2)

    from scipy import stats as sstats

    # two-sided outliers by FDR, the approximate probability of not being an outlier
    df2 = 2 * d2
    df1_n = np.broadcast_to(df1, (n,))
    fstat = x / s20
    right_p = sstats.f.sf(fstat, df1_n, df2)
    underflow = (right_p == 0) & np.isfinite(fstat)
    if underflow.any():  # R's pf keeps the subnormal range
        right_p[underflow] = np.exp(_f_log_upper_tail(fstat[underflow], df1_n[underflow], df2))
    left_p = 1 - right_p
    tiny = left_p < 0.001
    if tiny.any():
        left_p[tiny] = sstats.f.cdf(fstat[tiny], df1_n[tiny], df2)
    fdr = bh_adjust(2 * np.minimum(left_p, right_p))
    fdr[fdr > 0.3] = 1.0
    if fdr.min() == 1:
        return FDistFit(scale=s20, df2=df2)
    refit = fit_f_dist_unequal_df1(x, df1, covariate=covariate, robust=False, prior_weights=fdr)
    df2 = refit.df2
    # right outliers by a qq-plot-type comparison with the uniform order statistics
    uniform_p = (n - sstats.rankdata(fstat) + 0.5) / n
    not_outlier = np.minimum(right_p / uniform_p, 1.0)
    if not_outlier.min() == 1:
        return refit
    i = int(np.argmin(right_p))
    if right_p[i] == 0:
        df2_outlier = 0.0
        shrunk = not_outlier * df2
    else:
        df2_outlier = np.log(0.5) / np.log(right_p[i]) * df2
        new_log_right_p = _f_log_upper_tail(fstat[i], df1_n[i], df2_outlier)
        df2_outlier = np.log(0.5) / new_log_right_p * df2_outlier
        shrunk = not_outlier * df2 + (1 - not_outlier) * df2_outlier
    shrunk = _monotone_in_tail_order(shrunk, right_p)
    return FDistFit(scale=refit.scale, df2=df2, df2_shrunk=shrunk, df2_outlier=float(df2_outlier))


def _monotone_in_tail_order(shrunk, tail_p):
    """limma's last step of a robust prior df: in order of the tail probabilities, the shrunk df
    averaged up to their running-mean minimum, then made non-decreasing (cummax), as R does."""
    order = np.argsort(tail_p, kind="stable")
    ordered = shrunk[order]
    running = np.cumsum(ordered) / np.arange(1, len(ordered) + 1)
    imin = int(np.argmin(running))
    ordered[: imin + 1] = running[imin]
    out = np.array(shrunk, dtype=float)
    out[order] = np.maximum.accumulate(ordered)
    return out


def _f_log_upper_tail(f, df1, df2):
    """log P(F(df1, df2) > f), R's ``pf(f, df1, df2, lower.tail = FALSE, log.p = TRUE)``, also where the
    probability itself underflows (an extreme outlier's tail at a small df2.outlier in
    :func:`fit_f_dist_unequal_df1`): P = I_x(df2/2, df1/2), x = df2/(df2 + df1·f) (A&S 26.6.2), and
    for small x, log I_x(a, b) = a log x − log a − log B(a, b) + log ₂F₁(a, 1 − b; a + 1; x) (DLMF
    8.17.7), since scipy's ``logsf`` is the log of the underflowed probability there."""
    from scipy import special
    from scipy import stats as sstats

    f, df1, df2 = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (f, df1, df2)))
    with np.errstate(divide="ignore"):
        out = np.asarray(sstats.f.logsf(f, df1, df2), dtype=float).copy()
    far = ~(out > -700) & np.isfinite(f) & (f > 0) & np.isfinite(df2)
    if far.any():
        a, b = df2[far] / 2, df1[far] / 2
        log_x = -np.log1p(df1[far] * f[far] / df2[far])
        out[far] = a * log_x - np.log(a) - special.betaln(a, b) + np.log(special.hyp2f1(a, 1 - b, a + 1, np.exp(log_x)))
    return out[()]


def _f_isf_log(logp, df1, df2):
    """Upper-tail F quantile from a log probability (R ``qf(logp, lower.tail=FALSE, log.p=TRUE)``)."""
    from scipy import stats as sstats

    if np.isinf(df2):
        return sstats.chi2.isf(np.exp(logp), df1) / df1
    return sstats.f.isf(np.exp(logp), df1, df2)


@dataclass
class SqueezedVariances:
    df_prior: np.ndarray  # scalar or per protein (robust)
    var_prior: np.ndarray  # scalar or per protein (trend)
    var_post: np.ndarray


def squeeze_var(var, df, covariate=None, robust=False, winsor_tail_p=(0.05, 0.1), legacy=None):
    """Posterior variances s̃²_g = (d_g s²_g + d0 s0²) / (d_g + d0) (Smyth 2004, eq. 4; limma 3.63
    ``squeezeVar``).

    The prior (d0, s0²) comes from the estimator ``legacy`` picks, as in limma ≥ 3.61:

    - ``legacy=True``: the classic moment estimators, :func:`fit_f_dist` or, with ``robust``,
      :func:`fit_f_dist_robustly` (then d0 is per protein) — limma < 3.61 and tearflow's results
      before this option;
    - ``legacy=False``: :func:`fit_f_dist_unequal_df1` (d0 per protein when robust finds outliers);
    - ``legacy=None`` (limma's default): the classic estimators when all positive ``df`` are equal,
      :func:`fit_f_dist_unequal_df1` when they differ (missing values; limpa's df-loss correction).

    Proteins with ``df`` 0 get s̃² = s0²; with an infinite d0, s̃² = s0². With fewer than three
    variances there is nothing to borrow: d0 = 0, s0² = s̃² = s² (limma 3.63).
    """
    var = np.asarray(var, dtype=float).copy()
    df = np.asarray(df, dtype=float)
    n = len(var)
    if n == 0:
        raise ValueError("var is empty")
    if n < 3:
        return SqueezedVariances(df_prior=0.0, var_prior=var, var_post=var)
    if df.size > 1:
        var[df == 0] = 0
    if legacy is None:
        positive = np.atleast_1d(df)[np.atleast_1d(df) > 0]
        legacy = bool(positive.size) and positive.min() == positive.max()
    if legacy:
        if robust:
            fit = fit_f_dist_robustly(var, df, covariate=covariate, winsor_tail_p=winsor_tail_p)
            df_prior = fit.df2_shrunk
        else:
            fit = fit_f_dist(var, df, covariate=covariate)
            df_prior = fit.df2
    else:
        fit = fit_f_dist_unequal_df1(var, df, covariate=covariate, robust=robust)
        df_prior = fit.df2 if fit.df2_shrunk is None else fit.df2_shrunk
    if np.any(np.isnan(df_prior)):
        raise ValueError("could not estimate the prior degrees of freedom")
    df_prior_vec = np.broadcast_to(df_prior, (n,))
    var_prior_vec = np.broadcast_to(fit.scale, (n,)).astype(float)
    finite = np.isfinite(df_prior_vec)
    df_vec = np.broadcast_to(df, (n,))
    var_post = var_prior_vec.copy()
    with np.errstate(invalid="ignore"):
        var_post[finite] = (df_vec[finite] * var[finite] + df_prior_vec[finite] * var_prior_vec[finite]) / (
            df_vec[finite] + df_prior_vec[finite]
        )
    return SqueezedVariances(df_prior=df_prior, var_prior=fit.scale, var_post=var_post)


def tmixture(tstat, stdev_unscaled, df, proportion, v0_lim=None):
    """Prior variance of the non-null log fold changes from the top t-statistics (``tmixture.vector``)."""
    ok = ~np.isnan(tstat)
    tstat = np.abs(tstat[ok])
    stdev_unscaled = stdev_unscaled[ok]
    df = np.broadcast_to(df, ok.shape)[ok].astype(float)
    n = len(tstat)
    ntarget = int(np.ceil(proportion / 2 * n))
    if ntarget < 1:
        return np.nan
    p = max(ntarget / n, proportion)
    max_df = df.max()
    lower = df < max_df
    if lower.any():
        tail = _t_logsf(tstat[lower], df[lower])
        tstat = tstat.copy()
        tstat[lower] = _t_isf(np.exp(tail), max_df)
    order = np.argsort(-tstat, kind="stable")[:ntarget]
    tstat = tstat[order]
    v1 = stdev_unscaled[order] ** 2
    r = np.arange(1, ntarget + 1)
    p0 = 2 * _t_sf(tstat, max_df)
    ptarget = ((r - 0.5) / n - (1 - p) * p0) / p
    v0 = np.zeros(ntarget)
    pos = ptarget > p0
    if pos.any():
        qtarget = _t_isf(ptarget[pos] / 2, max_df)
        v0[pos] = v1[pos] * ((tstat[pos] / qtarget) ** 2 - 1)
    if v0_lim is not None:
        v0 = np.clip(v0, v0_lim[0], v0_lim[1])
    return float(v0.mean())


@dataclass
class ModeratedFit:
    """``eBayes`` output; arrays are (proteins × contrasts) except the per-protein ones."""

    coefficients: np.ndarray
    stdev_unscaled: np.ndarray
    t: np.ndarray
    pvalue: np.ndarray
    lods: np.ndarray
    df_total: np.ndarray  # per protein
    df_residual: np.ndarray  # per protein
    s2_post: np.ndarray  # per protein
    s2_prior: np.ndarray  # scalar or per protein
    df_prior: np.ndarray  # scalar or per protein
    names: list

    def confidence_interval(self, level=0.95):
        """Lower and upper limits of the ``level`` CI of each coefficient (as ``topTable(confint=)``)."""
        margin = np.sqrt(self.s2_post)[:, None] * self.stdev_unscaled * _t_ppf((1 + level) / 2, self.df_total)[:, None]
        return self.coefficients - margin, self.coefficients + margin


def ebayes(
    fit, trend=None, robust=False, proportion=0.01, stdev_coef_lim=(0.1, 4), winsor_tail_p=(0.05, 0.1), legacy=None
):
    """Empirical Bayes moderated t-statistics (Smyth 2004; limma ``eBayes``, 3.63).

    With the prior (d0, s0²) from :func:`squeeze_var` (``trend`` = the per-protein covariate of an
    abundance-dependent prior, e.g. mean log2 abundance; ``robust`` = Phipson et al. 2016;
    ``legacy``: which hyperparameter estimator, as limma's ``eBayes(legacy = )`` — ``None``, limma's
    default, uses :func:`fit_f_dist_unequal_df1` when the residual df differ, ``True`` always the
    classic :func:`fit_f_dist` / :func:`fit_f_dist_robustly`):
    t̃_gj = β̂_gj / (s̃_g · v_gj) with v the unscaled standard error, on d_g + d0 df (capped at the
    pooled residual df), p = 2 · P(T > |t̃|). ``lods`` is the B-statistic (log posterior odds of
    differential abundance, prior proportion ``proportion``).
    """
    coefficients = np.atleast_2d(np.asarray(fit.coefficients, dtype=float))
    stdev = np.atleast_2d(np.asarray(fit.stdev_unscaled, dtype=float))
    sigma = np.asarray(fit.sigma, dtype=float)
    df_residual = np.asarray(fit.df_residual, dtype=float)
    if np.nanmax(df_residual) == 0:
        raise ValueError("no residual degrees of freedom in the linear model fits")
    if not np.isfinite(sigma).any():
        raise ValueError("no finite residual standard deviations")
    covariate = None if trend is None else np.asarray(trend, dtype=float)
    squeezed = squeeze_var(
        sigma**2, df_residual, covariate=covariate, robust=robust, winsor_tail_p=winsor_tail_p, legacy=legacy
    )
    s2_post = squeezed.var_post
    with np.errstate(invalid="ignore", divide="ignore"):
        t = coefficients / stdev / np.sqrt(s2_post)[:, None]
    df_prior = squeezed.df_prior
    df_pooled = np.nansum(df_residual)
    df_total = np.minimum(df_residual + df_prior, df_pooled)
    pvalue = 2 * _t_sf(np.abs(t), df_total[:, None])
    # B-statistic (Smyth 2004, sec. 5)
    var_prior_lim = np.array(stdev_coef_lim) ** 2 / np.median(squeezed.var_prior)
    var_prior = np.array(
        [tmixture(t[:, j], stdev[:, j], df_total, proportion, var_prior_lim) for j in range(t.shape[1])]
    )
    fallback = 1 / np.asarray(squeezed.var_prior, dtype=float)
    if np.isnan(var_prior).any():
        var_prior = np.where(np.isnan(var_prior), np.median(fallback), var_prior)
    r = (stdev**2 + var_prior[None, :]) / stdev**2
    t2 = t**2
    infinite_df = np.broadcast_to(np.asarray(df_prior) > 1e6, (len(sigma),))
    dft = df_total[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        kernel = (1 + dft) / 2 * np.log((t2 + dft) / (t2 / r + dft))
        kernel = np.where(infinite_df[:, None], t2 * (1 - 1 / r) / 2, kernel)
        lods = np.log(proportion / (1 - proportion)) - np.log(r) / 2 + kernel
    return ModeratedFit(
        coefficients=coefficients,
        stdev_unscaled=stdev,
        t=t,
        pvalue=pvalue,
        lods=lods,
        df_total=df_total,
        df_residual=df_residual,
        s2_post=s2_post,
        s2_prior=squeezed.var_prior,
        df_prior=df_prior,
        names=list(fit.names),
    )


def treat(moderated, lfc):
    """Moderated t-tests relative to a fold-change threshold (McCarthy & Smyth 2009; limma ``treat``).

    Tests H0: |β_gj| ≤ ``lfc`` against |β_gj| > ``lfc`` with the posterior variances and degrees of
    freedom of ``moderated`` (an :func:`ebayes` result — limma's ``treat`` squeezes the variances the
    same way, so ``treat(fit, legacy = L)`` is this on ``ebayes(fit, legacy=L)``: the estimator choice
    passes through the moderated fit): p = P(T > (|β̂| − lfc)/se) + P(T > (|β̂| + lfc)/se). Unlike a
    cut on |log2fc| after the test, this keeps the false-discovery rate for "changed by more than ``lfc``". Returns
    ``(t, pvalue)``: t is (|β̂| − lfc)/se with the sign of β̂ for |β̂| > lfc and 0 otherwise, NaN where
    the coefficient is NaN. ``lfc`` = 0 gives the ordinary moderated t-test.
    """
    lfc = abs(float(lfc))
    coefficients = moderated.coefficients
    se = moderated.stdev_unscaled * np.sqrt(moderated.s2_post)[:, None]
    df = moderated.df_total[:, None]
    size = np.abs(coefficients)
    with np.errstate(invalid="ignore", divide="ignore"):
        right = (size - lfc) / se
        left = (size + lfc) / se
        pvalue = _t_sf(right, df) + _t_sf(left, df)
        beyond = np.maximum(right, 0.0)
        t = np.where(coefficients > lfc, beyond, np.where(coefficients < -lfc, -beyond, 0.0))
    t = np.where(np.isnan(coefficients) | np.isnan(se), np.nan, t)
    return t, pvalue
