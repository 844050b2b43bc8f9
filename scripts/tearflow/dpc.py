"""Detection probability curve (DPC) of precursor log-intensities, after R/Bioconductor limpa 1.3.11.

The DPC models the chance that a precursor with (complete-data) log2-intensity y is detected as
P(detected | y) = plogis(β0 + β1 y) (Li & Smyth 2023, *Bioinformatics* 39:btad200; Li, Cobbold &
Smyth 2025, *bioRxiv* 10.1101/2025.04.28.651125). Each function follows the limpa function of the
same role, step for step, so that a reader can check it against limpa's source and the golden
fixtures in ``tests/fixtures/limpa_quant/`` (made by ``make_fixtures.R`` there):

===================================  ==========================================================
tearflow                             limpa
===================================  ==========================================================
:func:`detection_curve`              ``dpc(y, model = c("cn", "on"))``
:func:`detection_curve_cn`           ``dpcCN`` (complete-normal model, maximum likelihood)
:func:`detection_curve_on`           ``dpcON`` (observed-normal model, zero-truncated binomial)
:func:`estimate_dpc_intercept`       ``estimateDPCIntercept`` (slope given)
:func:`detection_curve_fixed_slope`  ``estimateDPCIntercept`` wrapped as a curve (slope given)
:func:`impute_by_exp_tilt`           ``imputeByExpTilt`` (``expTiltByRows`` / ``expTiltByColumns``)
:func:`observed_normal_hyperparams`  ``.dpcHyperparam`` (+ ``.n0EstimateFromModT``)
:func:`log_dztbinom`                 ``dztbinom(log = TRUE, logit.p = TRUE)``
:func:`ztbinom_tail_pvalues`         ``pztbinomSameSizeLogitPBothTails``
:func:`detection_curve_plot_data`    what ``plotDPC`` draws (points, curve), plus binned rates
===================================  ==========================================================

limpa's optimizers are R's ``optim(method = "BFGS")`` and ``optimize``; tearflow runs ports of the
same algorithms (:mod:`tearflow.r_optim`), batched over precursors where limpa loops, so that the
fitted curves agree with limpa's to ~1e-8 rather than to the optimizers' tolerances.

Input everywhere: a precursor (or protein) × sample matrix of log2 intensities, NaN for missing.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from tearflow import limma, multiple_testing, r_optim
from tearflow.errors import TearflowError

#: statmod ``gauss.quad.prob(16, dist = "normal")``: nodes and weights for E[f(Z)], Z ~ N(0, 1)
_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite_e.hermegauss(16)
_GH_WEIGHTS = _GH_WEIGHTS / math.sqrt(2 * math.pi)
#: R's ``binomial()`` link guards (``THRESH``, ``MTHRESH``, ``DBL_EPSILON`` in family.c)
_EPS = np.finfo(float).eps


def gauss_quad_normal():
    """The 16-point Gauss–Hermite rule for the standard normal (statmod ``gauss.quad.prob(16, "normal")``)."""
    return _GH_NODES.copy(), _GH_WEIGHTS.copy()


def as_intensity_matrix(y, what="y"):
    """``y`` as a 2-D float64 array; ±inf (log2 of 0) count as missing (then a copy, else no copy)."""
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[None, :]
    if y.ndim != 2:
        raise TearflowError(f"{what}: expected a precursor x sample matrix, found {y.ndim} dimensions")
    if np.isinf(y).any():
        y = np.where(np.isinf(y), np.nan, y)
    return y


#: rows × samples of one block in the block-wise passes over large matrices (bounds temporaries)
BLOCK_CELLS = 1_000_000


def row_blocks(nrows, ncols, starts=None):
    """Slices of consecutive rows with about :data:`BLOCK_CELLS` cells each; with ``starts`` (first row
    of each group of rows, increasing from 0) every block holds whole groups (one group at least)."""
    per = max(1, BLOCK_CELLS // max(ncols, 1))
    if starts is None:
        return [slice(r, min(r + per, nrows)) for r in range(0, nrows, per)]
    edges = np.append(np.asarray(starts, dtype=np.int64), nrows)
    bounds = [0]
    while bounds[-1] < nrows:
        nxt = edges[np.searchsorted(edges, bounds[-1] + per, side="right") - 1]
        if nxt <= bounds[-1]:  # one group larger than a block
            nxt = edges[np.searchsorted(edges, bounds[-1], side="right")]
        bounds.append(int(nxt))
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def row_moments(y):
    """Per row: number observed, mean and sum of squared deviations of the observed values (NaN mean
    for a row with none), block-wise."""
    n = y.shape[0]
    nobs = np.empty(n, dtype=np.int64)
    mean = np.empty(n)
    ss = np.empty(n)
    for s in row_blocks(*y.shape):
        blk = y[s]
        obs = ~np.isnan(blk)
        nobs[s] = obs.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean[s] = np.where(obs, blk, 0.0).sum(axis=1) / nobs[s]
            ss[s] = np.where(obs, (blk - mean[s, None]) ** 2, 0.0).sum(axis=1)
    return nobs, mean, ss


def column_moments(y):
    """Per column: number observed, mean and sum of squared deviations of the observed values."""
    ncol = y.shape[1]
    nobs = np.zeros(ncol, dtype=np.int64)
    total = np.zeros(ncol)
    blocks = row_blocks(*y.shape)
    for s in blocks:
        blk = y[s]
        obs = ~np.isnan(blk)
        nobs += obs.sum(axis=0)
        total += np.where(obs, blk, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / nobs
    ss = np.zeros(ncol)
    for s in blocks:
        blk = y[s]
        ss += np.where(np.isnan(blk), 0.0, (blk - mean) ** 2).sum(axis=0)
    return nobs, mean, ss


# --------------------------------------------------------------------------------------------------
# Exponential tilting (imputeByExpTilt)
# --------------------------------------------------------------------------------------------------
def _exp_tilt_by_rows(y, dpc_slope, sigma_obs=None):
    """limpa ``expTiltByRows``: per-row mean of the missing values, m_i − β1 σ²_obs, and its prediction
    variance (n+1)/n σ² + 2/d (β1 σ²)² (σ² = 90% quantile of the row variances or ``sigma_obs``²)."""
    nobs, m, ss = row_moments(y)
    with np.errstate(invalid="ignore", divide="ignore"):
        if sigma_obs is None:
            if nobs.max() < 1.5:
                sigma2 = np.nan
            else:
                keep = nobs > 1.5
                sigma2 = float(np.quantile(ss[keep] / (nobs[keep] - 1), 0.9))
        else:
            sigma2 = float(sigma_obs) ** 2
        degfree = nobs.max() - 1.0
        mumis = m - dpc_slope * sigma2
        sigma2 = np.maximum(sigma2, 0.001)
        predvar = (nobs + 1) / nobs * sigma2 + 2 / degfree * (dpc_slope * sigma2) ** 2
    return mumis, predvar


def _exp_tilt_by_columns(y, dpc_slope):
    """limpa ``expTiltByColumns``: per-column m_j − β1 σ²_j (σ²_j ≥ 0.1; the 75% quantile where the
    column has < 5 residual df) and its prediction variance."""
    nsamples = y.shape[1]
    nobs, m, ss = column_moments(y)
    if nobs.max() < 1.5:
        return np.full(nsamples, np.nan), np.full(nsamples, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        degfree = np.maximum(nobs - 1, 0).astype(float)
        sigma2 = ss / degfree
        sigma2 = np.maximum(sigma2, 0.1)
        if degfree.min() < 5:
            small = degfree < 5
            sigma2[small] = np.nanquantile(sigma2, 0.75)
            degfree[small] = degfree.max()
        mumis = m - dpc_slope * sigma2
        predvar = (nobs + 1) / nobs * sigma2 + 2 / degfree * (dpc_slope * sigma2) ** 2
    return mumis, predvar


class ExpTiltFill:
    """The values limpa ``imputeByExpTilt`` puts into missing cells, as row and column parameters, so
    that a matrix can be completed block by block (:meth:`fill`) without a full copy.

    ``kind`` is "zero" (fewer than 2 observations: zeros), "none" (one cell), "rows", "columns" or
    "both" (cell value (μ_r/v_r + μ_c/v_c) / (1/v_r + 1/v_c))."""

    def __init__(self, y, dpc_slope=0.7, prior_logfc=None, by="both"):
        if by not in ("rows", "columns", "both"):
            raise TearflowError(f"impute_by_exp_tilt: by must be 'rows', 'columns' or 'both', found {by!r}")
        nrows, nsamples = y.shape
        self.row_mu = self.row_pv = self.col_mu = self.col_pv = None
        nobs_total = 0
        for s in row_blocks(nrows, nsamples):
            nobs_total += int((~np.isnan(y[s])).sum())
        if nobs_total < 1.5:
            self.kind = "zero"
            return
        if nrows == 1 and by == "both":
            by = "rows"
            if nsamples == 1:
                self.kind = "none"
                return
        self.kind = by
        if by in ("rows", "both"):
            self.row_mu, self.row_pv = _exp_tilt_by_rows(y, dpc_slope, prior_logfc)
        if by in ("columns", "both"):
            self.col_mu, self.col_pv = _exp_tilt_by_columns(y, dpc_slope)
        if by == "both" and (np.isnan(self.row_mu).any() or np.isnan(self.col_mu).any()):
            n_g = nobs_total
            total = sum(float(np.nansum(y[s])) for s in row_blocks(nrows, nsamples))
            gmu = total / n_g
            gss = sum(float(np.nansum((y[s] - gmu) ** 2)) for s in row_blocks(nrows, nsamples))
            gs2 = gss / (n_g - 1)
            gmumis = gmu - dpc_slope * gs2
            gpv = (n_g + 1) / n_g * gs2 + 2 / (n_g - 1) * (dpc_slope * gs2) ** 2
            for mu, pv in ((self.row_mu, self.row_pv), (self.col_mu, self.col_pv)):
                bad = np.isnan(mu)
                mu[bad] = gmumis
                pv[bad] = gpv

    def fill(self, block, rows=slice(None)):
        """A completed copy of ``block`` = y[rows]."""
        out = np.array(block, dtype=float)
        mis = np.isnan(out)
        if self.kind == "zero":
            out[mis] = 0.0
        elif self.kind == "rows":
            out[mis] = np.broadcast_to(self.row_mu[rows][:, None], out.shape)[mis]
        elif self.kind == "columns":
            out[mis] = np.broadcast_to(self.col_mu[None, :], out.shape)[mis]
        elif self.kind == "both":
            i, j = np.nonzero(mis)
            mu_r, pv_r = self.row_mu[rows][i], self.row_pv[rows][i]
            with np.errstate(invalid="ignore", divide="ignore"):
                out[i, j] = (mu_r / pv_r + self.col_mu[j] / self.col_pv[j]) / (1 / pv_r + 1 / self.col_pv[j])
        return out


def impute_by_exp_tilt(y, dpc_slope=0.7, prior_logfc=None, by="both"):
    """Fill the missing values by exponential tilting (limpa ``imputeByExpTilt``).

    If the observed values of a row are N(μ, σ²) and detection follows a logit-linear DPC with slope
    β1, the missing values have mean μ − β1 σ² (Li & Smyth 2023, exponential tilting). ``by="rows"``
    uses row means and the 90% quantile of row variances (or ``prior_logfc``²); ``"columns"`` column
    means and variances; ``"both"`` the precision-weighted mean of the two, with the global mean and
    variance where a row or column has no observed value. Returns a complete copy of ``y``.
    """
    y = as_intensity_matrix(y)
    return ExpTiltFill(y, dpc_slope, prior_logfc, by).fill(y)


# --------------------------------------------------------------------------------------------------
# Fixed slope: estimateDPCIntercept
# --------------------------------------------------------------------------------------------------
def _glm_binomial_intercept(successes_prop, weights, offset):
    """R ``glm.fit(1, prop, weights, offset, family = binomial())$coefficients`` by R's own IRLS
    (start μ = (w y + 0.5)/(w + 1), stop when |Δdeviance| / (|deviance| + 0.1) < 1e-8)."""
    yv, w, o = successes_prop, weights, offset

    def linkinv(eta):
        e = np.where(eta < -30, _EPS, np.where(eta > 30, 1 / _EPS, np.exp(np.clip(eta, -30, 30))))
        return e / (1 + e)

    def mu_eta(eta):
        e = np.exp(np.clip(eta, -30, 30))
        return np.where((eta > 30) | (eta < -30), _EPS, e / (1 + e) ** 2)

    def deviance(mu):
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(yv > 0, yv * np.log(yv / mu), 0.0)
            b = np.where(yv < 1, (1 - yv) * np.log((1 - yv) / (1 - mu)), 0.0)
        return float(np.sum(2 * w * (a + b)))

    mustart = (w * yv + 0.5) / (w + 1)
    eta = np.log(mustart / (1 - mustart))
    mu = linkinv(eta)
    devold = deviance(mu)
    coef = np.nan
    for _ in range(25):
        me = mu_eta(eta)
        z = eta - o + (yv - mu) / me
        ww = w * me**2 / (mu * (1 - mu))
        coef = float(np.sum(ww * z) / np.sum(ww))
        eta = coef + o
        mu = linkinv(eta)
        dev = deviance(mu)
        if abs(dev - devold) / (abs(dev) + 0.1) < 1e-8:
            break
        devold = dev
    return coef


def estimate_dpc_intercept(y, dpc_slope=0.8):
    """DPC intercept β0 for a given slope β1 (limpa ``estimateDPCIntercept``).

    Fills the missing values by :func:`impute_by_exp_tilt` (rows and columns) and fits the logistic
    regression detected ~ offset(β1 y) + β0 by maximum likelihood, so that the curve reproduces the
    overall proportion of detected values. With more than 10,000 values, y is first cut into 300
    equal-width intervals (R ``cut(y, 300)``) and the regression is fitted to the interval means and
    detection proportions, weighted by the interval counts, as limpa does. β1 = 0 gives
    qlogis(proportion detected).
    """
    y = as_intensity_matrix(y)
    nobs = sum(int((~np.isnan(y[s])).sum()) for s in row_blocks(*y.shape))
    if y.size == 0 or nobs == 0:
        raise TearflowError(f"estimate_dpc_intercept: no observed intensities in a {y.shape[0]} x {y.shape[1]} matrix")
    if abs(dpc_slope) < 1e-8:
        p = nobs / y.size
        return float(np.log(p / (1 - p)))
    fill = ExpTiltFill(y, dpc_slope=dpc_slope)
    if y.size <= 10000:
        yc = fill.fill(y).ravel(order="F")
        is_obs = (~np.isnan(y)).astype(float).ravel(order="F")
        return _glm_binomial_intercept(is_obs, np.ones_like(is_obs), dpc_slope * yc)
    # R cut(y, 300): 300 equal-width intervals (b_k, b_k+1] over the range widened by 1/1000 at each end
    blocks = row_blocks(*y.shape)
    lo, hi = np.inf, -np.inf
    for s in blocks:
        yc = fill.fill(y[s], s)
        lo, hi = min(lo, float(yc.min())), max(hi, float(yc.max()))
    dx = hi - lo
    if dx == 0:
        dx = abs(lo) if lo != 0 else 1.0
        breaks = np.linspace(lo - dx / 1000, hi + dx / 1000, 301)
    else:
        breaks = np.linspace(lo, hi, 301)
        breaks[0], breaks[-1] = lo - dx / 1000, hi + dx / 1000
    n = np.zeros(300)
    sum_y = np.zeros(300)
    n_obs = np.zeros(300)
    for s in blocks:
        yc = fill.fill(y[s], s).ravel()
        obs = (~np.isnan(y[s])).ravel()
        cut = np.searchsorted(breaks, yc, side="left") - 1
        n += np.bincount(cut, minlength=300)
        sum_y += np.bincount(cut, weights=yc, minlength=300)
        n_obs += np.bincount(cut, weights=obs, minlength=300)
    present = n > 0
    n = n[present]
    return _glm_binomial_intercept(n_obs[present] / n, n, dpc_slope * sum_y[present] / n)


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------
@dataclass
class DetectionCurve:
    """A fitted DPC, P(detected | y) = plogis(intercept + slope · y), and what it was fitted from.

    ``model`` is ``"cn"`` (limpa ``dpcCN``), ``"on"`` (``dpcON``) or ``"fixed_slope"``
    (``estimateDPCIntercept``). ``n_detected`` counts the detected samples of each precursor the fit
    used (for ``"cn"`` the systematic subset, for ``"on"`` the precursors detected at least once).
    ``intensity`` is the per-precursor log-intensity that ``plotDPC`` puts on the x axis: the
    complete-data mean μ (``"cn"``), (μ_obs + μ_mis)/2 (``"on"``) or the mean of the exp-tilt-imputed
    row (``"fixed_slope"``).
    """

    intercept: float
    slope: float
    model: str
    n_samples: int
    n_detected: np.ndarray
    intensity: np.ndarray
    #: ``"cn"``: per-precursor maximum-posterior mean and sd of the complete data (limpa ``mu``, ``sigma``)
    complete_mean: np.ndarray = None
    complete_sd: np.ndarray = None
    #: ``"on"``: the start, the observed-normal moments and hyperparameters, −log-likelihood, outlier FDR
    start: tuple = None
    observed_mean: np.ndarray = None
    missing_mean: np.ndarray = None
    observed_var: np.ndarray = None
    hyperparams: "ObservedNormalHyperparams" = None
    neg_loglik: float = None
    outlier_fdr: np.ndarray = None

    @property
    def coefficients(self):
        """(β0, β1), limpa's ``dpc`` vector."""
        return (self.intercept, self.slope)


def detection_curve_fixed_slope(y, dpc_slope=0.8):
    """The DPC with a given slope and the intercept of :func:`estimate_dpc_intercept` (what limpa's
    ``dpcQuant(dpc = NULL, dpc.slope)`` uses)."""
    y = as_intensity_matrix(y)
    intercept = estimate_dpc_intercept(y, dpc_slope)
    return DetectionCurve(
        intercept=intercept,
        slope=float(dpc_slope),
        model="fixed_slope",
        n_samples=y.shape[1],
        n_detected=(~np.isnan(y)).sum(axis=1),
        intensity=impute_by_exp_tilt(y, dpc_slope=dpc_slope).mean(axis=1),
    )


def detection_curve(y, model="cn", dpc_start=None, dpc_slope_start=0.7, iterations=2, subset=2000, robust=True):
    """Estimate the DPC (limpa ``dpc``): ``model="cn"`` → :func:`detection_curve_cn`,
    ``model="on"`` → :func:`detection_curve_on`."""
    if model == "cn":
        return detection_curve_cn(
            y, dpc_start=dpc_start, dpc_slope_start=dpc_slope_start, iterations=iterations, subset=subset
        )
    if model == "on":
        return detection_curve_on(y, dpc_start=dpc_start, dpc_slope_start=dpc_slope_start, robust=robust)
    raise TearflowError(f"detection_curve: model must be 'cn' or 'on', found {model!r}")


# --------------------------------------------------------------------------------------------------
# Complete-normal model (dpcCN)
# --------------------------------------------------------------------------------------------------
def _log_plogis(x):
    return special.log_expit(x)


def _plogis_upper(x):
    """plogis(x, lower.tail = FALSE) = 1 − plogis(x)."""
    return special.expit(-x)


def _dlogis(x):
    return special.expit(x) * special.expit(-x)


def _row_map_mu_sigma(y, dpc, mu_start, sigma_start, mu_mean, mu_sd, logsigma_mean, logsigma_sd):
    """limpa ``.estimateMuSigmaForOnePeptide`` for every row at once: maximum-posterior (μ_i, log σ_i)
    of the complete-normal model given the DPC, by R's BFGS (one 2-parameter problem per row).

    −2 log posterior = ((μ − μ̄)/s_μ)² + ((log σ − m_σ)/s_σ)² + 2 (n_obs − 1) log σ + Σ_obs (y − μ)²/σ²
    − 2 n_mis log G, G = E_Z[1 − plogis(β0 + β1 (μ + σ Z))] by 16-point Gauss–Hermite quadrature
    (the observed part only where the row has an observed value).
    """
    b0, b1 = dpc
    obs = ~np.isnan(y)
    y0 = np.where(obs, y, 0.0)
    nobs = obs.sum(axis=1)
    nmis = y.shape[1] - nobs
    has_obs = nobs > 0
    z, w = _GH_NODES, _GH_WEIGHTS

    def fn(par, rows):
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return _fn(par, rows)

    def _fn(par, rows):
        mu, ls = par[:, 0], par[:, 1]
        sigma = np.exp(ls)
        q = ((mu - mu_mean) / mu_sd) ** 2 + ((ls - logsigma_mean) / logsigma_sd) ** 2
        res = np.where(obs[rows], y0[rows] - mu[:, None], 0.0)
        q = q + np.where(has_obs[rows], 2 * (nobs[rows] - 1) * ls + np.sum(res**2, axis=1) / sigma**2, 0.0)
        eta = b0 + b1 * (mu[:, None] + sigma[:, None] * z)
        g = _plogis_upper(eta) @ w
        return q - np.where(nmis[rows] > 0, 2 * nmis[rows] * np.log(g), 0.0)

    def gr(par, rows):
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return _gr(par, rows)

    def _gr(par, rows):
        mu, ls = par[:, 0], par[:, 1]
        sigma = np.exp(ls)
        d_mu = 2 * (mu - mu_mean) / mu_sd**2
        d_ls = 2 * (ls - logsigma_mean) / logsigma_sd**2
        res = np.where(obs[rows], y0[rows] - mu[:, None], 0.0)
        ho = has_obs[rows]
        d_mu = d_mu - np.where(ho, 2 * np.sum(res, axis=1) / sigma**2, 0.0)
        d_ls = d_ls + np.where(ho, 2 * (nobs[rows] - 1) - 2 * np.sum(res**2, axis=1) / sigma**2, 0.0)
        eta = b0 + b1 * (mu[:, None] + sigma[:, None] * z)
        g = _plogis_upper(eta) @ w
        dl = _dlogis(eta)
        nm = nmis[rows]
        d_mu = d_mu + np.where(nm > 0, 2 * nm * b1 * (dl @ w) / g, 0.0)
        d_ls = d_ls + np.where(nm > 0, 2 * nm * sigma * b1 * (dl @ (w * z)) / g, 0.0)
        return np.stack([d_mu, d_ls], axis=1)

    x0 = np.stack([mu_start, np.log(sigma_start)], axis=1)
    out = r_optim.bfgs_minimize(fn, gr, x0)
    return out.par[:, 0], np.exp(out.par[:, 1])


def _cn_minus_two_loglik(y, mu, sigma):
    """limpa ``dpcCN``'s objective in (β0, 10 log β1) and its gradient, for R's BFGS."""
    obs = ~np.isnan(y)
    yo = y[obs]
    nmis = (~obs).sum(axis=1)
    has_mis = nmis > 0
    zq = mu[has_mis, None] + sigma[has_mis, None] * _GH_NODES
    nm = nmis[has_mis]

    def fn(par, rows):
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return _fn(par)

    def gr(par, rows):
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return _gr(par)

    def _fn(par):
        out = np.empty(len(par))
        for k, (beta0, lb1) in enumerate(par):
            beta1 = math.exp(lb1 / 10)
            q = np.sum(_log_plogis(beta0 + beta1 * yo))
            prob_mis = _plogis_upper(beta0 + beta1 * zq) @ _GH_WEIGHTS
            q += np.sum(nm * np.log(prob_mis))
            out[k] = -2 * q
        return out

    def _gr(par):
        out = np.empty_like(par)
        for k, (beta0, lb1) in enumerate(par):
            beta1 = math.exp(lb1 / 10)
            eta = beta0 + beta1 * yo
            ratio = _dlogis(eta) / special.expit(eta)
            d0 = np.sum(ratio)
            d1 = np.sum(yo * ratio)
            eta = beta0 + beta1 * zq
            prob_mis = _plogis_upper(eta) @ _GH_WEIGHTS
            dl = _dlogis(eta)
            d0 += np.sum(nm * -(dl @ _GH_WEIGHTS) / prob_mis)
            d1 += np.sum(nm * -((zq * dl) @ _GH_WEIGHTS) / prob_mis)
            out[k] = -2 * np.array([d0, d1 * beta1 / 10])
        return out

    return fn, gr


def systematic_row_subset(y, subset):
    """The rows limpa ``dpcCN`` keeps when y has more than ``subset`` rows: sorted by number missing,
    then mean observed log-intensity, every (npeptides / subset)-th row (``round((1:subset − 0.5) ·
    npeptides / subset)``)."""
    npep = y.shape[0]
    if npep <= subset:
        return np.arange(npep)
    nobs, ave, _ = row_moments(y)
    order = np.lexsort((ave, y.shape[1] - nobs))
    i = np.rint((np.arange(1, subset + 1) - 0.5) * npep / subset).astype(int) - 1
    return order[i]


def detection_curve_cn(y, dpc_start=None, dpc_slope_start=0.7, iterations=2, subset=2000):
    """DPC by maximum likelihood under the complete-normal model (limpa ``dpcCN``).

    Each precursor's complete data are N(μ_i, σ_i²) and a value is detected with probability
    plogis(β0 + β1 y). On a systematic subset of ``subset`` rows (:func:`systematic_row_subset`),
    starting from β1 = ``dpc_slope_start`` and β0 from :func:`estimate_dpc_intercept`, and from μ_i, σ_i
    of the exp-tilt-imputed rows (which also set normal priors for μ and log(σ + 0.001)), it alternates
    ``iterations`` times: maximum-posterior μ_i, σ_i per row given the DPC, then the DPC maximizing
    Σ_obs log plogis(β0 + β1 y) + Σ_i n_mis,i log E[1 − plogis(β0 + β1 (μ_i + σ_i Z))] over (β0,
    10 log β1), both by R's BFGS.
    """
    y = as_intensity_matrix(y)
    npep, nsamples = y.shape
    if npep < 3:
        raise TearflowError(f"detection_curve_cn: too few rows of data: found {npep}, need at least 3")
    if nsamples < 2:
        raise TearflowError(f"detection_curve_cn: too few samples: found {nsamples}, need at least 2")
    if np.isnan(y).all():
        raise TearflowError(f"detection_curve_cn: every value of the {npep} x {nsamples} matrix is missing")
    y = y[systematic_row_subset(y, subset)]
    npep = y.shape[0]
    if dpc_start is None:
        beta1 = float(dpc_slope_start)
        beta0 = estimate_dpc_intercept(y, dpc_slope=beta1)
    else:
        beta0, beta1 = float(dpc_start[0]), float(dpc_start[1])
    yimp = impute_by_exp_tilt(y, dpc_slope=beta1)
    mu = yimp.mean(axis=1)
    sigma = np.sqrt(np.sum((yimp - mu[:, None]) ** 2, axis=1) / (nsamples - 1))
    mu_mean, mu_sd = mu.mean(), mu.std(ddof=1)
    logsigma = np.log(sigma + 0.001)
    ls_mean, ls_sd = logsigma.mean(), logsigma.std(ddof=1)
    for _ in range(iterations):
        mu, sigma = _row_map_mu_sigma(y, (beta0, beta1), mu, sigma, mu_mean, mu_sd, ls_mean, ls_sd)
        fn, gr = _cn_minus_two_loglik(y, mu, sigma)
        out = r_optim.bfgs_minimize(fn, gr, np.array([[beta0, math.log(beta1) * 10]]))
        beta0, beta1 = float(out.par[0, 0]), math.exp(out.par[0, 1] / 10)
    return DetectionCurve(
        intercept=beta0,
        slope=beta1,
        model="cn",
        n_samples=nsamples,
        n_detected=(~np.isnan(y)).sum(axis=1),
        intensity=mu,
        complete_mean=mu,
        complete_sd=sigma,
    )


# --------------------------------------------------------------------------------------------------
# Observed-normal model (dpcON)
# --------------------------------------------------------------------------------------------------
def logmdigamma(x):
    """log(x) − ψ(x) without cancellation for large x (statmod ``logmdigamma``: recurrence to x ≥ 5,
    then the asymptotic series 1/(2x) + Σ B_2k/(2k x^2k)); NaN for x ≤ 0."""
    x = np.asarray(x, dtype=float)
    out = np.full(x.shape, np.nan)
    ok = x > 0
    xv = x[ok]
    shift = np.zeros_like(xv)
    small = xv < 5
    with np.errstate(divide="ignore", invalid="ignore"):
        xs = xv[small]
        shift[small] = np.log(xs / (xs + 5)) + sum(1 / (xs + k) for k in range(5))
        z = np.where(small, xv + 5, xv)
        u = 1 / z**2
        coefficients = (-1 / 12, 1 / 120, -1 / 252, 1 / 240, -1 / 132, 691 / 32760, -1 / 12, 3617 / 8160)
        tail = np.zeros_like(u)
        for coef in coefficients[::-1]:
            tail = u * (coef + tail)
        out[ok] = 1 / (2 * z) - tail + shift
    return out if out.ndim else float(out)


@dataclass
class ObservedNormalHyperparams:
    """limpa ``.dpcHyperparam``: the normal prior of the row means (μ0, n0), the scaled-χ² prior of
    the row variances (d0, s0²), and the posterior observed-data mean and variance of every row."""

    mu_prior: float
    n_prior: float
    df_prior: float
    s2_prior: float
    mu_obs_post: np.ndarray
    s2_obs_post: np.ndarray


def _n0_estimate_from_modt(tstat, df, n, maxit=20, eps=1e-5):
    """limpa ``.n0EstimateFromModT``: moment estimate of the prior sample size n0, solving
    mean(log(1 + n/n0)) = 2 mean(log|t|) − mean(logmdigamma(df/2) − logmdigamma(1/2)) for v0 = 1/n0 by
    Newton's (monotone) iteration from 0; ∞ if the right side is ≤ 0."""
    expected_log_f = np.mean(logmdigamma(np.asarray(df, float) / 2) - logmdigamma(0.5))
    with np.errstate(divide="ignore"):
        rhs = 2 * np.mean(np.log(np.abs(tstat))) - expected_log_f
    if not rhs > 0:
        return math.inf
    v0 = 0.0
    for _ in range(maxit):
        diff = rhs - np.mean(np.log(1 + n * v0))
        deriv = np.mean(n / (1 + n * v0))
        step = diff / deriv
        v0 += step
        if step < eps:
            break
    return 1 / v0


def observed_normal_hyperparams(y):
    """Empirical-Bayes moments of the observed values of each row (limpa ``.dpcHyperparam``).

    Row means m_i and variances s²_i of the observed values (n_i of them); s0², d0 by
    :func:`tearflow.limma.squeeze_var`; μ0 = mean(m_i); n0 by moments from the moderated t = (m_i − μ0) /
    √(s̃²_i / n_i) (:func:`_n0_estimate_from_modt`). Posterior means (n m + n0 μ0)/(n + n0) and
    variances (n n0 (m − μ0)²/(n + n0) + (n − 1) s² + d0 s0²)/(n + d0) (s0² where n = 1).
    """
    nobs, mu, ss = row_moments(y)
    nobs = nobs.astype(float)
    dfres = nobs - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = ss / dfres
    squeezed = limma.squeeze_var(s2, dfres)  # limma >= 3.61: fitFDistUnequalDF1 where the df differ
    s2_prior, df_prior, s2_post = squeezed.var_prior, squeezed.df_prior, squeezed.var_post
    df_prior = float(df_prior)
    s2_prior = float(s2_prior)
    mu0 = float(mu.mean())
    modt = (mu - mu0) / np.sqrt(s2_post / nobs)
    n0 = _n0_estimate_from_modt(modt, df_prior + dfres, nobs)
    with np.errstate(invalid="ignore"):
        if math.isinf(n0):
            mu_post = np.full_like(mu, mu0)
        else:
            mu_post = (nobs * mu + n0 * mu0) / (nobs + n0)
        if math.isinf(df_prior):
            s2_obs = np.asarray(s2_post, dtype=float).copy()
        else:
            shrink = (nobs * (mu - mu0) ** 2) if math.isinf(n0) else (nobs * n0 * (mu - mu0) ** 2 / (nobs + n0))
            s2_obs = (shrink + (nobs - 1) * s2 + df_prior * s2_prior) / (nobs + df_prior)
            s2_obs[np.isnan(s2_obs)] = s2_prior
    return ObservedNormalHyperparams(mu0, n0, df_prior, s2_prior, mu_post, s2_obs)


def log_dztbinom(x, size, eta):
    """log density of the zero-truncated binomial with success probability plogis(η) (limpa
    ``dztbinom(x, size, eta, log = TRUE, logit.p = TRUE)``):
    log C(n, x) + x log p + (n − x) log(1 − p) − log(1 − (1 − p)^n), −∞ at x = 0."""
    x = np.asarray(x, dtype=float)
    size = np.asarray(size, dtype=float)
    logp = special.log_expit(eta)
    log1mp = special.log_expit(-np.asarray(eta, dtype=float))
    lch = special.gammaln(size + 1) - special.gammaln(x + 1) - special.gammaln(size - x + 1)
    with np.errstate(divide="ignore"):
        d = lch + x * logp + (size - x) * log1mp - np.log(-np.expm1(size * log1mp))
    return np.where(x == 0, -np.inf, d)


def ztbinom_tail_pvalues(q, size, eta, chunk=4096):
    """Left and right tail probabilities P(X ≤ q), P(X ≥ q) of the zero-truncated binomial(size,
    plogis(η)) (limpa ``pztbinomSameSizeLogitPBothTails``; integer q; rows in chunks)."""
    q = np.asarray(q, dtype=float)
    eta = np.asarray(eta, dtype=float)
    k = np.arange(1, size + 1, dtype=float)
    lch = special.gammaln(size + 1) - special.gammaln(k + 1) - special.gammaln(size - k + 1)
    left = np.empty(len(q))
    right = np.empty(len(q))
    qfloor = np.minimum(np.floor(q), size).astype(int)
    qceil = np.maximum(np.ceil(q), 1).astype(int)
    for start in range(0, len(q), chunk):
        s = slice(start, start + chunk)
        logp = special.log_expit(eta[s])[:, None]
        log1p = special.log_expit(-eta[s])[:, None]
        d = np.exp(lch + k * logp + (size - k) * log1p)
        total = d.sum(axis=1)
        cum = np.cumsum(d, axis=1)
        qf, qc = qfloor[s], qceil[s]
        lv = np.where(qf >= 1, cum[np.arange(len(qf)), np.clip(qf - 1, 0, size - 1)], 0.0)
        below = np.where(qc >= 2, cum[np.arange(len(qc)), np.clip(qc - 2, 0, size - 1)], 0.0)
        rv = np.where(qc <= size, total - below, 0.0)
        left[s] = lv / total
        right[s] = rv / total
    return left, right


def detection_curve_on(y, dpc_start=None, dpc_slope_start=0.7, robust=True):
    """DPC by maximum likelihood under the observed-normal model (limpa ``dpcON``).

    Rows never detected are dropped. With the posterior observed moments μ_obs,i and s²_obs,i of
    :func:`observed_normal_hyperparams`, the number detected of row i is zero-truncated binomial
    (n, plogis(β0 + β1 μ_obs,i − β1² s²_obs,i / 2)); (β0 + β1 mean(μ_obs), β1) maximize the likelihood
    by R's BFGS with finite-difference gradients, from the weighted least-squares fit of the empirical
    logits on μ_obs − β1 s²_obs (β1 = ``dpc_slope_start``). ``robust``: the two-sided
    zero-truncated-binomial p-values of the fit are BH-adjusted and the fit is repeated from the same
    start with the FDRs as weights, so rows that fit badly count less.
    """
    y = as_intensity_matrix(y)
    nsamples = y.shape[1]
    if y.shape[0] == 0:
        raise TearflowError("detection_curve_on: y has no rows")
    n_detected = nsamples - np.isnan(y).sum(axis=1)
    if n_detected.max() < 0.5:
        raise TearflowError(f"detection_curve_on: every value of the {y.shape[0]} x {nsamples} matrix is missing")
    if n_detected.min() < 0.5:
        keep = n_detected > 0.5
        y, n_detected = y[keep], n_detected[keep]
    if y.shape[0] < 3:
        raise TearflowError(f"detection_curve_on: too few rows detected at least once: found {y.shape[0]}, need 3")
    hp = observed_normal_hyperparams(y)
    mu_obs, s2_obs = hp.mu_obs_post, hp.s2_obs_post
    mu_obs_mean = float(mu_obs.mean())
    mu_cor = mu_obs - mu_obs_mean
    nd = n_detected.astype(float)

    def make_fn(weights):
        def fn(par, rows):
            eta = par[:, 0:1] + par[:, 1:2] * mu_cor - 0.5 * par[:, 1:2] ** 2 * s2_obs
            ld = log_dztbinom(nd, nsamples, eta)
            return -np.sum(ld if weights is None else weights * ld, axis=1)

        return fn

    if dpc_start is None:
        b1 = float(dpc_slope_start)
        logit = np.log((nd + 0.5) / (nsamples - nd + 0.5))
        wt = 1 / (1 / (nd + 0.5) + 1 / (nsamples - nd + 0.5))
        X = np.column_stack([np.ones_like(mu_obs), mu_obs - b1 * s2_obs])
        sw = np.sqrt(wt)
        coef = np.linalg.lstsq(X * sw[:, None], logit * sw, rcond=None)[0]
        dpc_start = (float(coef[0]), float(coef[1]))
    b0, b1 = float(dpc_start[0]), float(dpc_start[1])
    par0 = np.array([[b0 + b1 * mu_obs_mean, b1]])
    fn = make_fn(None)
    out = r_optim.bfgs_minimize(fn, r_optim.numeric_gradient(fn), par0)
    fdr = None
    if robust:
        b0m, b1 = out.par[0]
        eta = b0m + b1 * mu_cor - 0.5 * b1 * b1 * s2_obs
        left, right = ztbinom_tail_pvalues(nd, nsamples, eta)
        fdr = multiple_testing.bh_adjust(2 * np.minimum(left, right))
        fn = make_fn(fdr)
        out = r_optim.bfgs_minimize(fn, r_optim.numeric_gradient(fn), par0)
    b0m, b1 = (float(v) for v in out.par[0])
    b0 = b0m - b1 * mu_obs_mean
    mu_mis = mu_obs - b1 * s2_obs
    return DetectionCurve(
        intercept=b0,
        slope=b1,
        model="on",
        n_samples=nsamples,
        n_detected=n_detected,
        intensity=(mu_obs + mu_mis) / 2,
        start=tuple(dpc_start),
        observed_mean=mu_obs,
        missing_mean=mu_mis,
        observed_var=s2_obs,
        hyperparams=hp,
        neg_loglik=float(out.value[0]),
        outlier_fdr=fdr,
    )


# --------------------------------------------------------------------------------------------------
# What plotDPC draws
# --------------------------------------------------------------------------------------------------
@dataclass
class DetectionCurvePlotData:
    """Arrays for a DPC figure: one point per precursor (``intensity``, ``detected_fraction``, as limpa
    ``plotDPC`` without jitter), the observed detection rate per intensity bin (``bin_*``), and the
    fitted curve on a grid (``curve_*``)."""

    intensity: np.ndarray
    detected_fraction: np.ndarray
    bin_left: np.ndarray
    bin_right: np.ndarray
    bin_mean_intensity: np.ndarray
    bin_detected_fraction: np.ndarray
    bin_count: np.ndarray
    curve_intensity: np.ndarray
    curve_probability: np.ndarray


def detection_curve_plot_data(curve, n_bins=20, n_grid=200):
    """What limpa ``plotDPC`` draws for a :class:`DetectionCurve`, as arrays (no plotting).

    Points: x = the curve's per-precursor ``intensity`` (μ for ``"cn"``, (μ_obs + μ_mis)/2 for
    ``"on"``), y = detected / samples. Bins: ``n_bins`` equal-width intervals of x; per non-empty bin
    the mean x, the pooled detection rate Σ detected / (n_samples · count) and the count. Curve:
    plogis(β0 + β1 x) on ``n_grid`` points spanning x.
    """
    x = np.asarray(curve.intensity, dtype=float)
    frac = np.asarray(curve.n_detected, dtype=float) / curve.n_samples
    ok = np.isfinite(x)
    x, frac = x[ok], frac[ok]
    if x.size == 0:
        raise TearflowError("detection_curve_plot_data: the curve has no precursor with a finite intensity")
    lo, hi = float(x.min()), float(x.max())
    edges = np.linspace(lo, hi, n_bins + 1) if hi > lo else np.array([lo - 0.5, hi + 0.5])
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    nb = len(edges) - 1
    count = np.bincount(which, minlength=nb)
    present = count > 0
    sum_x = np.bincount(which, weights=x, minlength=nb)
    sum_f = np.bincount(which, weights=frac, minlength=nb)
    grid = np.linspace(lo, hi, n_grid)
    return DetectionCurvePlotData(
        intensity=x,
        detected_fraction=frac,
        bin_left=edges[:-1][present],
        bin_right=edges[1:][present],
        bin_mean_intensity=sum_x[present] / count[present],
        bin_detected_fraction=sum_f[present] / count[present],
        bin_count=count[present],
        curve_intensity=grid,
        curve_probability=special.expit(curve.intercept + curve.slope * grid),
    )
