"""DPC-based protein quantification after R/Bioconductor limpa 1.3.11 (``dpcQuant``), vectorized.

Each protein's precursor log-intensities follow an additive model, complete value
y_rj = b_j + a_r + ε_rj with ε ~ N(0, σ²) (b_j: the protein in sample j; a_r: precursor r, Σ a_r = 0).
A value is observed with probability plogis(β0 + β1 y) (the detection probability curve, DPC), so a
missing value contributes log G = log E[1 − plogis(β0 + β1 (μ_rj + σ Z))], Z ~ N(0, 1) (16-point
Gauss–Hermite). With a normal prior on the protein's mean log-intensity (mean ``prior_mean``, sd
``prior_sd``) and on its deviations between samples (sd ``prior_logfc``), the quantity minimized is

    Q(b, a) = Σ_obs ((y − μ)/σ)² − 2 Σ_mis log G(μ) + (b̄ − prior_mean)²/prior_sd²
              + Σ_j (b_j − b̄)²/prior_logfc²                                   (−2 log posterior)

and the protein log-intensities are the b_j at the minimum, with standard errors
sqrt(2 [∂²Q⁻¹]_jj) (Li, Cobbold & Smyth 2025, *bioRxiv* 10.1101/2025.04.28.651125; Li & Smyth 2023,
*Bioinformatics* 39:btad200).

===================================  ==========================================================
tearflow                             limpa
===================================  ==========================================================
:func:`dpc_quant`                    ``dpcQuant``
:func:`dpc_quant_by_row`             ``dpcQuantByRow`` (one row = one protein)
:func:`dpc_quant_hyperparams`        ``dpcQuantHyperparam`` (+ ``proteinResVarFromCompletePeptideData``)
:func:`dpc_impute_hyperparams`       ``dpcImputeHyperparam``
:func:`peptides_to_proteins`         ``peptides2Proteins`` → ``peptides2ProteinBFGS``
===================================  ==========================================================

limpa minimizes Q one protein at a time with ``optim(method = "BFGS")``. Here all proteins with the
same number of precursors are minimized together, in chunks of bounded size, by one of:

- ``method="newton"`` (default): Newton's method on the exact gradient and Hessian, the Hessian
  solved through its structure (the sample block is diagonal plus rank one, so a Schur complement
  leaves a (K−1)×(K−1) system for K precursors), with a backtracking line search; iterated to the
  true minimum (steps < 1e-9). Where limpa's BFGS stops early (relative change of Q < 1.5e-8), the
  estimates differ from limpa's by up to its stopping error and Q is lower here.
- ``method="bfgs"``: limpa's own path, R's BFGS (:func:`tearflow.r_optim.bfgs_minimize`) from
  limpa's starting values, batched; matches limpa to rounding, at O(p²) memory per protein
  (p = samples + precursors − 1), so it is for small numbers of samples.
"""

import math
from dataclasses import dataclass

import numpy as np

from tearflow import dpc as dpcmod
from tearflow import r_optim
from tearflow.errors import TearflowError

_NODES, _WEIGHTS = dpcmod.gauss_quad_normal()
#: cells (proteins × precursors × samples) minimized together; bounds the memory of one chunk
CHUNK_CELLS = 400_000
#: BFGS: parameters² × proteins held together (the inverse-Hessian approximations)
CHUNK_BFGS_ENTRIES = 4_000_000


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------
@dataclass
class QuantHyperparams:
    """limpa ``dpcQuantHyperparam``: prior mean and sd of protein log-intensities, prior sd of the
    log-fold-changes between samples, and each protein's residual sd (empirical-Bayes moderated)."""

    prior_mean: float
    prior_sd: float
    prior_logfc: float
    sigma: np.ndarray = None
    df_prior: float = None
    var_prior: float = None


@dataclass
class ProteinQuantification:
    """Protein × sample maximum-posterior log2 intensities from precursors (limpa ``dpcQuant``).

    ``proteins`` are the protein ids sorted (codepoint order); ``expression`` and ``standard_error``
    are protein × sample; ``n_observed`` counts each protein's observed precursors per sample;
    ``n_precursors`` its precursors; ``objective`` the minimized −2 log posterior Q; ``converged``
    whether the optimizer met its criterion (Newton: step < 1e-9; BFGS: R's within 100 iterations).
    """

    proteins: np.ndarray
    expression: np.ndarray
    standard_error: np.ndarray
    n_observed: np.ndarray
    n_precursors: np.ndarray
    dpc: tuple
    prior_mean: float
    prior_sd: float
    prior_logfc: float
    sigma: np.ndarray
    objective: np.ndarray
    converged: np.ndarray

    @property
    def proportion_observed(self):
        """limpa's ``PropObs``: mean over samples of observed precursors / precursors."""
        return self.n_observed.mean(axis=1) / self.n_precursors


# --------------------------------------------------------------------------------------------------
# Hyperparameters
# --------------------------------------------------------------------------------------------------
def _row_prior_moments(ycomplete, sd_quantile_for_logfc):
    row_means = ycomplete.mean(axis=1)
    nsamples = ycomplete.shape[1]
    row_var = np.sum((ycomplete - row_means[:, None]) ** 2, axis=1) / (nsamples - 1)
    prior_logfc = math.sqrt(float(np.quantile(row_var, sd_quantile_for_logfc)))
    return row_means, float(row_means.mean()), float(row_means.std(ddof=1)), prior_logfc


def dpc_impute_hyperparams(y, dpc_slope=0.7, sd_quantile_for_logfc=0.9):
    """limpa ``dpcImputeHyperparam``: from the exp-tilt-completed matrix
    (:func:`tearflow.dpc.impute_by_exp_tilt`), prior mean and sd = mean and sd of the row means,
    prior log-FC sd = sqrt of the ``sd_quantile_for_logfc`` quantile of the row variances."""
    ycomplete = dpcmod.impute_by_exp_tilt(y, dpc_slope=dpc_slope)
    _, mean, sd, logfc = _row_prior_moments(ycomplete, sd_quantile_for_logfc)
    return QuantHyperparams(prior_mean=mean, prior_sd=sd, prior_logfc=logfc)


def protein_residual_variances(ycomplete, starts, counts):
    """limpa ``proteinResVarFromCompletePeptideData``: each protein's residual variance from the
    two-way additive fit (precursor + sample) to its complete rows, on (n − 1)(K − 1) df (NaN, 0 df for
    one-precursor proteins). Rows are grouped by protein: protein k is rows starts[k]:starts[k]+counts[k]."""
    nsamples = ycomplete.shape[1]
    df = (nsamples - 1) * (counts - 1)
    r = ycomplete - ycomplete.mean(axis=1, keepdims=True)
    colmeans = np.add.reduceat(r, starts, axis=0) / counts[:, None]
    r = r - np.repeat(colmeans, counts, axis=0)
    ss = np.add.reduceat(np.sum(r**2, axis=1), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ss / df, df


def dpc_quant_hyperparams(y, starts, counts, dpc_slope=0.7, sd_quantile_for_logfc=0.9):
    """limpa ``dpcQuantHyperparam`` on rows grouped by protein (``starts``/``counts``): the priors of
    :func:`dpc_impute_hyperparams` and σ_k = sqrt of limma's ``squeezeVar`` posterior of each protein's
    residual variance (:func:`protein_residual_variances`, :func:`tearflow.dpc.squeeze_var_any_df`)."""
    ycomplete = dpcmod.impute_by_exp_tilt(y, dpc_slope=dpc_slope)
    _, mean, sd, logfc = _row_prior_moments(ycomplete, sd_quantile_for_logfc)
    s2, df = protein_residual_variances(ycomplete, starts, counts)
    var_prior, df_prior, var_post = dpcmod.squeeze_var_any_df(s2, df)
    return QuantHyperparams(
        prior_mean=mean,
        prior_sd=sd,
        prior_logfc=logfc,
        sigma=np.sqrt(var_post),
        df_prior=float(df_prior),
        var_prior=float(np.mean(var_prior)),
    )


# --------------------------------------------------------------------------------------------------
# One chunk of proteins with the same number of precursors
# --------------------------------------------------------------------------------------------------
class _ProteinChunk:
    """m proteins × K precursors × n samples, and Q, its gradient and Hessian pieces in (b, a)."""

    def __init__(self, y, sigma_cells, dpc, prior_mean, prior_sd, prior_logfc):
        self.m, self.K, self.n = y.shape
        self.obs = ~np.isnan(y)
        self.y0 = np.where(self.obs, y, 0.0)
        self.sigma = sigma_cells  # (m, K)
        self.inv_s2 = 1.0 / sigma_cells**2
        self.b0, self.b1 = float(dpc[0]), float(dpc[1])
        self.prior_mean, self.prior_sd, self.prior_logfc = prior_mean, prior_sd, prior_logfc
        # prior Hessian 2 (c I + d 11ᵀ) of the sample block
        self.c = 1.0 / prior_logfc**2
        self.d = 1.0 / self.n**2 / prior_sd**2 - 1.0 / self.n / prior_logfc**2

    # -- cells --
    def _mu(self, beta):
        b = beta[:, : self.n]
        if self.K == 1:
            return b[:, None, :]
        a = beta[:, self.n :]
        a_full = np.concatenate([a, -a.sum(axis=1, keepdims=True)], axis=1)
        return b[:, None, :] + a_full[:, :, None]

    def _missing_terms(self, mu_m, sig_m, derivs):
        """log G and, with ``derivs``, G'/G and G''/G at missing cells (flat arrays)."""
        eta = self.b0 + self.b1 * (mu_m[:, None] + sig_m[:, None] * _NODES)
        with np.errstate(over="ignore"):
            pu = 1.0 / (1.0 + np.exp(eta))  # plogis(eta, lower.tail = FALSE)
        g = pu @ _WEIGHTS
        tiny = ~(g > 1e-280)
        if tiny.any():  # G underflows: the same in log space
            log_pu = -np.logaddexp(0.0, eta[tiny])
            lw = log_pu + np.log(_WEIGHTS)
            lmax = lw.max(axis=1, keepdims=True)
            t = np.exp(lw - lmax)
            s = t.sum(axis=1)
            log_g_tiny = lmax[:, 0] + np.log(s)
            r_tiny = t / s[:, None]
        with np.errstate(divide="ignore"):
            log_g = np.log(g)
        if tiny.any():
            log_g[tiny] = log_g_tiny
        if not derivs:
            return log_g, None, None
        p = 1.0 - pu
        wpu = pu * _WEIGHTS
        with np.errstate(invalid="ignore", divide="ignore"):
            e1 = (wpu * p).sum(axis=1) / g  # E_r[p]
            e2 = (wpu * p * (2 * p - 1)).sum(axis=1) / g
        if tiny.any():
            pt = 1.0 - np.exp(-np.logaddexp(0.0, eta[tiny]))
            e1[tiny] = (r_tiny * pt).sum(axis=1)
            e2[tiny] = (r_tiny * pt * (2 * pt - 1)).sum(axis=1)
        return log_g, -self.b1 * e1, self.b1**2 * e2

    def _prior(self, b):
        mean = b.mean(axis=1)
        dev = b - mean[:, None]
        q = (mean - self.prior_mean) ** 2 / self.prior_sd**2 + np.sum(dev**2, axis=1) / self.prior_logfc**2
        grad = 2 * ((mean - self.prior_mean)[:, None] / self.n / self.prior_sd**2 + dev / self.prior_logfc**2)
        return q, grad

    def objective(self, beta, rows):
        """Q for proteins ``rows`` at ``beta`` ((len(rows), n + K − 1))."""
        mu = self._mu(beta)
        obs = self.obs[rows]
        res = np.where(obs, self.y0[rows] - mu, 0.0)
        q = np.einsum("mkn,mk->m", res * res, self.inv_s2[rows])
        mis = ~obs
        if mis.any():
            pm, pr, _ = np.nonzero(mis)
            mu_m = np.broadcast_to(mu, mis.shape)[mis]
            log_g, _, _ = self._missing_terms(mu_m, self.sigma[rows][pm, pr], derivs=False)
            q = q - 2 * np.bincount(pm, weights=log_g, minlength=len(rows))
        qp, _ = self._prior(beta[:, : self.n])
        return q + qp

    def _cell_derivatives(self, beta, rows, exact):
        """∂Q/∂μ and ∂²Q/∂μ² per cell (m', K, n); with ``exact=False`` negative curvatures of the
        missing-value term (where the quadrature is not log-concave) are set to 0."""
        mu = self._mu(beta)
        obs = self.obs[rows]
        inv_s2 = np.broadcast_to(self.inv_s2[rows][:, :, None], obs.shape)
        d1 = np.where(obs, -2 * (self.y0[rows] - mu) * inv_s2, 0.0)
        d2 = np.where(obs, 2 * inv_s2, 0.0)
        mis = ~obs
        log_g = None
        pm = None
        if mis.any():
            pm, pr, _ = np.nonzero(mis)
            mu_m = np.broadcast_to(mu, mis.shape)[mis]
            log_g, gd, gdd = self._missing_terms(mu_m, self.sigma[rows][pm, pr], derivs=True)
            d1[mis] = -2 * gd
            h = 2 * (gd * gd - gdd)
            d2[mis] = h if exact else np.maximum(h, 0.0)
        return mu, d1, d2, log_g, pm

    def gradient(self, beta, rows):
        _, d1, _, _, _ = self._cell_derivatives(beta, rows, exact=True)
        return self._gradient_from_cells(beta, d1)

    def _gradient_from_cells(self, beta, d1):
        _, gp = self._prior(beta[:, : self.n])
        gb = d1.sum(axis=1) + gp
        if self.K == 1:
            return gb
        rs = d1.sum(axis=2)
        ga = rs[:, :-1] - rs[:, -1:]
        return np.concatenate([gb, ga], axis=1)

    def _hessian_parts(self, d2):
        """The Hessian of Q as [[A, C], [Cᵀ, E]] with A = diag(Dg) + 2d 11ᵀ (sample block), C
        (n × K−1) and E (K−1 × K−1)."""
        dg = d2.sum(axis=1) + 2 * self.c
        if self.K == 1:
            return dg, None, None
        c_mat = (d2[:, :-1, :] - d2[:, -1:, :]).transpose(0, 2, 1)
        rs = d2.sum(axis=2)
        e_mat = rs[:, -1][:, None, None] + np.zeros((1, self.K - 1, self.K - 1))
        idx = np.arange(self.K - 1)
        e_mat[:, idx, idx] += rs[:, :-1]
        return dg, c_mat, e_mat

    def _a_inverse(self, dg, v):
        """A⁻¹ v for A = diag(dg) + 2d 11ᵀ (Sherman–Morrison); v is (m, n) or (m, n, k)."""
        inv = 1.0 / dg
        two_d = 2 * self.d
        denom = 1.0 + two_d * inv.sum(axis=1)
        if v.ndim == 2:
            x = inv * v
            return x - (two_d * x.sum(axis=1) / denom)[:, None] * inv
        x = inv[:, :, None] * v
        return x - (two_d * x.sum(axis=1) / denom[:, None])[:, None, :] * inv[:, :, None]

    def solve(self, d2, grad):
        """Newton direction −H⁻¹ g and the sample-block diagonal of H⁻¹ (Schur complement on the
        precursor block)."""
        dg, c_mat, e_mat = self._hessian_parts(d2)
        gb = grad[:, : self.n]
        inv = 1.0 / dg
        two_d = 2 * self.d
        diag_ainv = inv - two_d * inv**2 / (1.0 + two_d * inv.sum(axis=1))[:, None]
        if self.K == 1:
            return -self._a_inverse(dg, gb), diag_ainv
        ga = grad[:, self.n :]
        ainv_c = self._a_inverse(dg, c_mat)  # (m, n, K−1)
        schur = e_mat - np.einsum("mnk,mnl->mkl", c_mat, ainv_c)
        ainv_gb = self._a_inverse(dg, gb)
        rhs = ga - np.einsum("mnk,mn->mk", c_mat, ainv_gb)
        xa = np.linalg.solve(schur, rhs[:, :, None])[:, :, 0]
        xb = ainv_gb - np.einsum("mnk,mk->mn", ainv_c, xa)
        sinv_ct = np.linalg.solve(schur, ainv_c.transpose(0, 2, 1))  # S⁻¹ (A⁻¹C)ᵀ
        diag = diag_ainv + np.einsum("mnk,mkn->mn", ainv_c, sinv_ct)
        return -np.concatenate([xb, xa], axis=1), diag

    def standard_errors(self, beta, rows):
        """sqrt(2 diag(H⁻¹)) for the sample effects, H the exact Hessian of Q (limpa's formula)."""
        _, d1, d2, _, _ = self._cell_derivatives(beta, rows, exact=True)
        _, diag = self.solve(d2, self._gradient_from_cells(beta, d1))
        bad = ~(np.isfinite(diag) & (diag > 0)).all(axis=1)
        if bad.any():  # not positive definite: the curvature-floored Hessian
            _, d1b, d2b, _, _ = self._cell_derivatives(beta[bad], rows[bad], exact=False)
            _, diag[bad] = self.solve(d2b, self._gradient_from_cells(beta[bad], d1b))
        with np.errstate(invalid="ignore"):
            return np.sqrt(2 * diag)

    def newton_polish(self, beta, rows):
        """One Newton step with the exact Hessian (limpa ``newton.polish``)."""
        _, d1, d2, _, _ = self._cell_derivatives(beta, rows, exact=True)
        step, _ = self.solve(d2, self._gradient_from_cells(beta, d1))
        return beta + step

    def minimize_newton(self, beta, maxit=100, tol=1e-9):
        """Damped Newton from ``beta`` for all m proteins; returns (beta, Q, converged)."""
        beta = beta.copy()
        m = self.m
        rows_all = np.arange(m)
        q = self.objective(beta, rows_all)
        converged = np.zeros(m, dtype=bool)
        active = rows_all.copy()
        for _ in range(maxit):
            if not len(active):
                break
            ba = beta[active]
            _, d1, d2, _, _ = self._cell_derivatives(ba, active, exact=False)
            grad = self._gradient_from_cells(ba, d1)
            step, _ = self.solve(d2, grad)
            slope = np.einsum("mp,mp->m", grad, step)
            bad = ~np.isfinite(slope) | (slope >= 0)
            if bad.any():  # not a descent direction: steepest descent
                step[bad] = -grad[bad]
                slope[bad] = -np.einsum("mp,mp->m", grad[bad], grad[bad])
            t = np.ones(len(active))
            qa = q[active]
            pending = np.arange(len(active))
            new_q = np.empty(len(active))
            # near the minimum Q changes by less than rounding: take the full Newton step
            small = -slope < 1e-8
            new_q[small] = np.nan
            pending = pending[~small]
            for _ls in range(60):
                if not len(pending):
                    break
                trial = ba[pending] + t[pending, None] * step[pending]
                qt = self.objective(trial, active[pending])
                ok = np.isfinite(qt) & (qt <= qa[pending] + 1e-4 * t[pending] * slope[pending])
                new_q[pending[ok]] = qt[ok]
                t[pending[~ok]] *= 0.5
                pending = pending[~ok]
            if len(pending):  # no decrease found: stay
                t[pending] = 0.0
                new_q[pending] = qa[pending]
            beta[active] = ba + t[:, None] * step
            if small.any():
                new_q[small] = self.objective(beta[active[small]], active[small])
            q[active] = new_q
            size = np.max(np.abs(t[:, None] * step), axis=1)
            done = (size < tol) | (t == 0.0)
            converged[active[done]] = size[done] < tol
            active = active[~done]
        return beta, q, converged

    def minimize_bfgs(self, beta):
        out = r_optim.bfgs_minimize(self.objective, self.gradient, beta)
        return out.par, out.value, out.converged


# --------------------------------------------------------------------------------------------------
# Many proteins
# --------------------------------------------------------------------------------------------------
def _group_rows(protein_id, nrows):
    """Sort rows by protein id (stable, codepoint order); the sorted ids, row order, starts, counts."""
    ids = np.asarray(protein_id)
    if ids.ndim != 1 or len(ids) != nrows:
        raise TearflowError(f"protein ids: expected {nrows} (one per row of y), found {ids.size}")
    if ids.dtype.kind in "fc" and np.isnan(ids.astype(complex)).any():
        raise TearflowError("protein ids: NA/NaN is not allowed")
    if ids.dtype == object and any(v is None or (isinstance(v, float) and math.isnan(v)) for v in ids):
        raise TearflowError("protein ids: NA/None is not allowed")
    if ids.dtype == object:
        ids = ids.astype(str)
    order = np.argsort(ids, kind="stable")
    uniq, starts, counts = np.unique(ids[order], return_index=True, return_counts=True)
    return uniq, order, starts, counts


def peptides_to_proteins(
    y,
    protein_id,
    sigma=0.5,
    dpc=(-4.0, 0.7),
    prior_mean=6.0,
    prior_sd=10.0,
    prior_logfc=2.0,
    standard_errors=True,
    newton_polish=False,
    method="newton",
):
    """Maximum-posterior protein log-intensities from precursors (limpa ``peptides2Proteins`` →
    ``peptides2ProteinBFGS``), all proteins at once.

    ``y``: precursor × sample log2 intensities (NaN missing); ``protein_id``: one id per row;
    ``sigma``: residual sd, one value or one per protein (sorted ids); ``dpc``: (β0, β1). As limpa:
    starting values from :func:`tearflow.dpc.impute_by_exp_tilt` (``prior_logfc`` as the row sd; sample
    effects = column means, precursor effects = centred row means; samples with no observed precursor
    share their mean), and a protein's never-detected precursors merged into one row whose residual
    sd is σ/√(their number). Q (module docstring) is minimized by ``method`` ("newton" or "bfgs").
    Standard errors are sqrt(2 diag(H⁻¹)) of the exact Hessian H of Q; ``newton_polish`` adds one
    Newton step with it, as limpa's option. Returns a :class:`ProteinQuantification`.
    """
    if method not in ("newton", "bfgs"):
        raise TearflowError(f"peptides_to_proteins: method must be 'newton' or 'bfgs', found {method!r}")
    y = dpcmod.as_intensity_matrix(y)
    nrows, nsamples = y.shape
    uniq, order, starts, counts = _group_rows(protein_id, nrows)
    y = y[order]
    nprot = len(uniq)
    sigma = np.asarray(sigma, dtype=float)
    if sigma.ndim == 0 or sigma.size == 1:
        sigma = np.full(nprot, float(sigma.reshape(-1)[0]))
    elif sigma.size != nprot:
        raise TearflowError(f"peptides_to_proteins: sigma has {sigma.size} values, expected 1 or {nprot} (proteins)")
    b0, b1 = float(dpc[0]), float(dpc[1])
    obs = ~np.isnan(y)
    n_observed = np.add.reduceat(obs.astype(np.int64), starts, axis=0)
    prot_of_row = np.repeat(np.arange(nprot), counts)

    # starting values, as peptides2Proteins
    yimp = dpcmod.impute_by_exp_tilt(y, dpc_slope=b1, prior_logfc=prior_logfc)
    b_start = np.add.reduceat(yimp, starts, axis=0) / counts[:, None]
    row_means = yimp.mean(axis=1)
    row_centred = row_means - (np.add.reduceat(row_means, starts) / counts)[prot_of_row]
    unobserved = n_observed == 0
    n_unobs = unobserved.sum(axis=1)
    share = n_unobs > 1
    if share.any():
        mean_unobs = np.where(unobserved, b_start, 0.0).sum(axis=1) / np.maximum(n_unobs, 1)
        b_start = np.where(unobserved & share[:, None], mean_unobs[:, None], b_start)

    # never-detected precursors of a protein: one row, weight = their number (peptides2ProteinBFGS)
    all_na = ~obs.any(axis=1)
    n_all_na = np.bincount(prot_of_row, weights=all_na, minlength=nprot).astype(int)
    row_in_prot = np.arange(nrows) - starts[prot_of_row]
    first_na = np.full(nprot, -1)
    na_rows = np.flatnonzero(all_na)
    first_na[prot_of_row[na_rows[::-1]]] = na_rows[::-1]
    dropped = all_na & (n_all_na[prot_of_row] > 1) & (np.arange(nrows) != first_na[prot_of_row])
    weight = np.ones(nrows)
    merged = (n_all_na > 1) & (first_na >= 0)
    weight[first_na[merged]] = n_all_na[merged]
    # limpa drops start[nsamples - 1 + AllNA[-1]]: the precursor effect *before* each dropped row
    has_effect = row_in_prot < (counts[prot_of_row] - 1)
    effect_dropped = np.zeros(nrows, dtype=bool)
    effect_dropped[np.flatnonzero(dropped) - 1] = True
    keep = ~dropped
    k_new = counts - np.bincount(prot_of_row, weights=dropped, minlength=nprot).astype(int)
    kept_rows = np.flatnonzero(keep)
    kept_effects = np.flatnonzero(has_effect & ~effect_dropped)
    kstart = np.concatenate([[0], np.cumsum(k_new)[:-1]])
    estart = np.concatenate([[0], np.cumsum(k_new - 1)[:-1]])

    expression = np.empty((nprot, nsamples))
    stderr = np.full((nprot, nsamples), np.nan)
    objective = np.empty(nprot)
    converged = np.zeros(nprot, dtype=bool)
    for k in np.unique(k_new):
        members = np.flatnonzero(k_new == k)
        p = nsamples + k - 1
        per = max(1, CHUNK_CELLS // (k * nsamples))
        if method == "bfgs":
            per = max(1, min(per, CHUNK_BFGS_ENTRIES // (p * p)))
        for c0 in range(0, len(members), per):
            prot = members[c0 : c0 + per]
            rix = kept_rows[kstart[prot][:, None] + np.arange(k)]
            yc = y[rix]
            sig = sigma[prot][:, None] / np.sqrt(weight[rix])
            beta0 = np.empty((len(prot), p))
            beta0[:, :nsamples] = b_start[prot]
            if k > 1:
                beta0[:, nsamples:] = row_centred[kept_effects[estart[prot][:, None] + np.arange(k - 1)]]
            chunk = _ProteinChunk(yc, sig, (b0, b1), prior_mean, prior_sd, prior_logfc)
            if method == "newton":
                beta, q, conv = chunk.minimize_newton(beta0)
            else:
                beta, q, conv = chunk.minimize_bfgs(beta0)
            rows = np.arange(len(prot))
            if newton_polish and standard_errors:
                beta = chunk.newton_polish(beta, rows)
                q = chunk.objective(beta, rows)
            expression[prot] = beta[:, :nsamples]
            objective[prot] = q
            converged[prot] = conv
            if standard_errors:
                stderr[prot] = chunk.standard_errors(beta, rows)
    return ProteinQuantification(
        proteins=uniq,
        expression=expression,
        standard_error=stderr,
        n_observed=n_observed,
        n_precursors=counts,
        dpc=(b0, b1),
        prior_mean=float(prior_mean),
        prior_sd=float(prior_sd),
        prior_logfc=float(prior_logfc),
        sigma=sigma,
        objective=objective,
        converged=converged,
    )


def _resolve_dpc(y, dpc, dpc_slope):
    if dpc is None:
        return (dpcmod.estimate_dpc_intercept(y, dpc_slope=dpc_slope), float(dpc_slope))
    if isinstance(dpc, dpcmod.DetectionCurve):
        return dpc.coefficients
    b0, b1 = (float(v) for v in dpc)
    return (b0, b1)


def _check_input(y, what):
    y = dpcmod.as_intensity_matrix(y, what)
    if y.shape[0] == 0 or y.shape[1] == 0:
        raise TearflowError(f"{what}: expected rows and samples, found a {y.shape[0]} x {y.shape[1]} matrix")
    if np.isnan(y).all():
        raise TearflowError(f"{what}: every value of the {y.shape[0]} x {y.shape[1]} matrix is missing")
    if y.shape[1] < 2:
        raise TearflowError(f"{what}: too few samples: found {y.shape[1]}, need at least 2")
    return y


def dpc_quant(y, protein_id, dpc=None, dpc_slope=0.8, method="newton"):
    """Protein quantification by the DPC (limpa ``dpcQuant``).

    ``dpc``: a :class:`tearflow.dpc.DetectionCurve`, (β0, β1), or None for the slope ``dpc_slope`` and
    the intercept of :func:`tearflow.dpc.estimate_dpc_intercept`. Hyperparameters by
    :func:`dpc_quant_hyperparams` (prior sd and prior log-FC sd at least 1), then
    :func:`peptides_to_proteins` with standard errors. If every protein has one precursor this is
    :func:`dpc_quant_by_row`, as in limpa.
    """
    y = _check_input(y, "dpc_quant")
    curve = _resolve_dpc(y, dpc, dpc_slope)
    uniq, order, starts, counts = _group_rows(protein_id, y.shape[0])
    if len(uniq) == y.shape[0]:
        out = dpc_quant_by_row(y[order], dpc=curve, method=method)
        out.proteins = uniq
        return out
    h = dpc_quant_hyperparams(y[order], starts, counts, dpc_slope=curve[1])
    return peptides_to_proteins(
        y,
        protein_id,
        sigma=h.sigma,
        dpc=curve,
        prior_mean=h.prior_mean,
        prior_sd=max(h.prior_sd, 1.0),
        prior_logfc=max(h.prior_logfc, 1.0),
        standard_errors=True,
        method=method,
    )


def dpc_quant_by_row(y, dpc=None, dpc_slope=0.8, method="newton"):
    """Quantification with every row its own protein (limpa ``dpcQuantByRow``; e.g. a protein-level
    ``pg_matrix``): :func:`peptides_to_proteins` with σ = 0.01 (observed values are kept), priors from
    :func:`dpc_impute_hyperparams` (not floored at 1), so only the missing values are estimated, with
    standard errors. Rows stay in input order (``proteins`` = row numbers)."""
    y = _check_input(y, "dpc_quant_by_row")
    curve = _resolve_dpc(y, dpc, dpc_slope)
    h = dpc_impute_hyperparams(y, dpc_slope=curve[1])
    out = peptides_to_proteins(
        y,
        np.arange(y.shape[0]),
        sigma=0.01,
        dpc=curve,
        prior_mean=h.prior_mean,
        prior_sd=h.prior_sd,
        prior_logfc=h.prior_logfc,
        standard_errors=True,
        method=method,
    )
    return out
