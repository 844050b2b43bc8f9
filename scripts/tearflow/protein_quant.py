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
  true minimum (largest parameter step < 1e-7; quadratic convergence leaves ~1e-14). limpa's BFGS
  stops when a step changes Q by < 1.5e-8 relative, i.e. by < 1.5e-4 when Q ~ 1e4 (1,000 samples):
  there the estimates differ from limpa's by up to its stopping error (~1e-3 on the log2 scale),
  with Q lower here (by 1e-7 to 4e-4 in the fixtures and the benchmark).
- ``method="bfgs"``: limpa's own path, R's BFGS (:func:`tearflow.r_optim.bfgs_minimize`) from
  limpa's starting values, batched; matches limpa up to BFGS's sensitivity to rounding (~3e-4 on
  the fixtures), at O(p²) memory and time per iteration per protein (p = samples + precursors − 1),
  so it is for small numbers of samples.

Memory: the precursor matrix is read block by block (exp-tilt fills, hyperparameters, starting
values), and proteins are minimized in chunks of about :data:`CHUNK_CELLS` cells, so beyond the
input (and one sorted copy when rows are not grouped by protein) memory is O(proteins × samples).
"""

import math
from dataclasses import dataclass

import numpy as np

from tearflow import dpc as dpcmod
from tearflow import limma, r_optim
from tearflow.errors import TearflowError

_NODES, _WEIGHTS = dpcmod.gauss_quad_normal()
#: cells (proteins × precursors × samples) minimized together; bounds the memory of one chunk
CHUNK_CELLS = 100_000
#: BFGS: parameters² × proteins held together (the inverse-Hessian approximations)
CHUNK_BFGS_ENTRIES = 4_000_000


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------
@dataclass
class QuantHyperparams:
    """limpa ``dpcQuantHyperparam`` / ``dpcImputeHyperparam``: prior mean and sd of protein
    log-intensities, prior sd of the log-fold-changes between samples, and (``dpcQuantHyperparam``)
    each protein's residual sd (empirical-Bayes moderated, ``sigma``, for the sorted ``proteins``)
    with the prior (``df_prior``, ``var_prior``) it was moderated with."""

    prior_mean: float
    prior_sd: float
    prior_logfc: float
    proteins: np.ndarray = None
    sigma: np.ndarray = None
    df_prior: float = None
    var_prior: float = None


@dataclass
class ProteinQuantification:
    """Protein × sample maximum-posterior log2 intensities from precursors (limpa ``dpcQuant``).

    ``proteins`` are the protein ids sorted (codepoint order); ``expression`` and ``standard_error``
    are protein × sample; ``n_observed`` counts each protein's observed precursors per sample;
    ``n_precursors`` its precursors; ``objective`` the minimized −2 log posterior Q; ``converged``
    whether the optimizer met its criterion (Newton: last step < 1e-7; BFGS: R's test within 100 iterations).
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
def _complete_row_stats(y, fill, starts=None, counts=None):
    """Block-wise over the rows completed by ``fill`` (a :class:`tearflow.dpc.ExpTiltFill`; None: y
    is complete): row means, row variances and (with protein
    ``starts``/``counts``) each protein's residual sum of squares of the additive model."""
    nrows, nsamples = y.shape
    row_means = np.empty(nrows)
    row_var = np.empty(nrows)
    ss = None if starts is None else np.empty(len(starts))
    for s in dpcmod.row_blocks(nrows, nsamples, starts):
        yc = y[s] if fill is None else fill.fill(y[s], s)
        rm = yc.mean(axis=1)
        r = yc - rm[:, None]
        row_means[s] = rm
        row_var[s] = np.sum(r**2, axis=1) / (nsamples - 1)
        if starts is not None:
            first = np.searchsorted(starts, s.start)
            last = np.searchsorted(starts, s.stop)
            bs, bc = starts[first:last] - s.start, counts[first:last]
            colmeans = np.add.reduceat(r, bs, axis=0) / bc[:, None]
            r -= np.repeat(colmeans, bc, axis=0)
            ss[first:last] = np.add.reduceat(np.sum(r**2, axis=1), bs)
    return row_means, row_var, ss


def _priors(row_means, row_var, sd_quantile_for_logfc):
    prior_logfc = math.sqrt(float(np.quantile(row_var, sd_quantile_for_logfc)))
    return float(row_means.mean()), float(row_means.std(ddof=1)), prior_logfc


def dpc_impute_hyperparams(y, dpc_slope=0.7, sd_quantile_for_logfc=0.9):
    """limpa ``dpcImputeHyperparam``: from the exp-tilt-completed matrix
    (:func:`tearflow.dpc.impute_by_exp_tilt`), prior mean and sd = mean and sd of the row means,
    prior log-FC sd = sqrt of the ``sd_quantile_for_logfc`` quantile of the row variances."""
    y = dpcmod.as_intensity_matrix(y)
    row_means, row_var, _ = _complete_row_stats(y, dpcmod.ExpTiltFill(y, dpc_slope))
    mean, sd, logfc = _priors(row_means, row_var, sd_quantile_for_logfc)
    return QuantHyperparams(prior_mean=mean, prior_sd=sd, prior_logfc=logfc)


def protein_residual_variances(ycomplete, protein_id):
    """limpa ``proteinResVarFromCompletePeptideData``: each protein's residual variance from the
    two-way additive fit (precursor + sample) to its complete rows, on (n − 1)(K − 1) df (NaN with 0 df
    for one-precursor proteins). Returns (sorted protein ids, variances, df)."""
    ycomplete = dpcmod.as_intensity_matrix(ycomplete, "protein_residual_variances")
    if np.isnan(ycomplete).any():
        raise TearflowError("protein_residual_variances: y must be complete (no missing values)")
    uniq, order, starts, counts = _group_rows(protein_id, ycomplete.shape[0])
    _, _, ss = _complete_row_stats(ycomplete[order], None, starts, counts)
    df = (ycomplete.shape[1] - 1) * (counts - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return uniq, ss / df, df


def dpc_quant_hyperparams(y, protein_id, dpc_slope=0.7, sd_quantile_for_logfc=0.9):
    """limpa ``dpcQuantHyperparam``: the priors of :func:`dpc_impute_hyperparams` and, per protein
    (sorted ids, ``proteins``), σ_k = sqrt of limma's ``squeezeVar`` posterior of its residual variance
    from the exp-tilt-completed rows (:func:`protein_residual_variances`,
    :func:`tearflow.limma.squeeze_var`, limma ≥ 3.61: ``fitFDistUnequalDF1`` where the df differ)."""
    y = dpcmod.as_intensity_matrix(y)
    uniq, order, starts, counts = _group_rows(protein_id, y.shape[0])
    if not np.array_equal(order, np.arange(len(order))):
        y = y[order]
    return _quant_hyperparams_sorted(y, uniq, starts, counts, dpc_slope, sd_quantile_for_logfc)


def _quant_hyperparams_sorted(y, uniq, starts, counts, dpc_slope, sd_quantile_for_logfc=0.9):
    row_means, row_var, ss = _complete_row_stats(y, dpcmod.ExpTiltFill(y, dpc_slope), starts, counts)
    mean, sd, logfc = _priors(row_means, row_var, sd_quantile_for_logfc)
    df = (y.shape[1] - 1) * (counts - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = ss / df
    squeezed = limma.squeeze_var(s2, df)
    var_prior, df_prior, var_post = squeezed.var_prior, squeezed.df_prior, squeezed.var_post
    return QuantHyperparams(
        prior_mean=mean,
        prior_sd=sd,
        prior_logfc=logfc,
        proteins=uniq,
        sigma=np.sqrt(var_post),
        df_prior=float(df_prior),
        var_prior=float(var_prior),
    )


# --------------------------------------------------------------------------------------------------
# One chunk of proteins with the same number of precursors
# --------------------------------------------------------------------------------------------------
class _ProteinChunk:
    """m proteins × K precursors × n samples, and Q, its gradient and Hessian pieces in (b, a).

    Missing cells are held as flat index arrays; at a missing cell with mean μ and residual sd s,
    plogis(−η_k) = 1/(1 + exp(β0 + β1 μ) · exp(β1 s z_k)), so each cell costs one exp (the second
    factor is per precursor row) rather than one per quadrature node.
    """

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
        self.mis_m, self.mis_r, self.mis_j = np.nonzero(~self.obs)
        self.node_factor = np.exp(self.b1 * sigma_cells[:, :, None] * _NODES)  # (m, K, 16)

    # -- cells --
    def _mu(self, beta):
        b = beta[:, : self.n]
        if self.K == 1:
            return b[:, None, :]
        a = beta[:, self.n :]
        a_full = np.concatenate([a, -a.sum(axis=1, keepdims=True)], axis=1)
        return b[:, None, :] + a_full[:, :, None]

    def _missing_cells(self, rows):
        """Flat (local protein, row, sample, chunk protein) of the missing cells of proteins ``rows``."""
        if len(rows) == self.m:
            return self.mis_m, self.mis_r, self.mis_j, self.mis_m
        pos = np.full(self.m, -1)
        pos[rows] = np.arange(len(rows))
        local = pos[self.mis_m]
        sel = local >= 0
        return local[sel], self.mis_r[sel], self.mis_j[sel], self.mis_m[sel]

    def _missing_terms(self, mu_m, factor, derivs):
        """log G, and with ``derivs`` ∂(−2 log G)/∂μ and ∂²(−2 log G)/∂μ², at missing cells."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            pu = np.exp(self.b0 + self.b1 * mu_m)[:, None] * factor
            pu += 1.0
            np.reciprocal(pu, out=pu)  # plogis(η_k, lower.tail = FALSE)
            g = np.einsum("ck,k->c", pu, _WEIGHTS)  # not BLAS: its threads stall on small products
            tiny = ~(g > 1e-280)
            log_g = np.log(g)
            if derivs:
                q = 1.0 - pu
                q *= pu
                e1 = np.einsum("ck,k->c", q, _WEIGHTS) / g
                pu *= -2.0
                pu += 1.0
                pu *= q
                e2 = np.einsum("ck,k->c", pu, _WEIGHTS) / g
        if tiny.any():  # G underflows: the same in log space
            eta = self.b0 + self.b1 * mu_m[tiny, None] + np.log(factor[tiny])
            lw = -np.logaddexp(0.0, eta) + np.log(_WEIGHTS)
            lmax = lw.max(axis=1, keepdims=True)
            t = np.exp(lw - lmax)
            s = t.sum(axis=1)
            log_g[tiny] = lmax[:, 0] + np.log(s)
            if derivs:
                r = t / s[:, None]
                pt = np.exp(-np.logaddexp(0.0, -eta))  # plogis(η)
                e1[tiny] = (r * pt).sum(axis=1)
                e2[tiny] = (r * pt * (2 * pt - 1)).sum(axis=1)
        if not derivs:
            return log_g, None, None
        # G'/G = −β1 e1, G''/G = β1² e2
        return log_g, 2 * self.b1 * e1, 2 * self.b1**2 * (e1 * e1 - e2)

    def _prior(self, b):
        mean = b.mean(axis=1)
        dev = b - mean[:, None]
        q = (mean - self.prior_mean) ** 2 / self.prior_sd**2 + np.sum(dev**2, axis=1) / self.prior_logfc**2
        grad = 2 * ((mean - self.prior_mean)[:, None] / self.n / self.prior_sd**2 + dev / self.prior_logfc**2)
        return q, grad

    def evaluate(self, beta, rows, derivs):
        """Q at ``beta`` for proteins ``rows``; with ``derivs`` also ∂Q/∂μ and ∂²Q/∂μ² per cell
        ((len(rows), K, n) each)."""
        mu = self._mu(beta)
        obs = self.obs[rows]
        inv_s2 = self.inv_s2[rows]
        res = np.where(obs, self.y0[rows] - mu, 0.0)
        q = np.einsum("mkn,mk->m", res * res, inv_s2)
        lm, lr, lj, gm = self._missing_cells(rows)
        d1 = d2 = None
        if derivs:
            d1 = -2 * res * inv_s2[:, :, None]
            d2 = np.where(obs, 2 * inv_s2[:, :, None], 0.0)
        if len(lm):
            mu_m = mu[lm, lr if self.K > 1 else 0, lj]
            log_g, h1, h2 = self._missing_terms(mu_m, self.node_factor[gm, lr], derivs)
            q = q - 2 * np.bincount(lm, weights=log_g, minlength=len(rows))
            if derivs:
                d1[lm, lr, lj] = h1
                d2[lm, lr, lj] = h2
        qp, _ = self._prior(beta[:, : self.n])
        return q + qp, d1, d2

    def objective(self, beta, rows):
        """Q for proteins ``rows`` at ``beta`` ((len(rows), n + K − 1))."""
        return self.evaluate(beta, rows, derivs=False)[0]

    def gradient(self, beta, rows):
        _, d1, _ = self.evaluate(beta, rows, derivs=True)
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

    def solve(self, d2, grad, diagonal=False):
        """Newton direction −H⁻¹ g and, with ``diagonal``, the sample-block diagonal of H⁻¹ (Schur
        complement on the precursor block)."""
        dg, c_mat, e_mat = self._hessian_parts(d2)
        gb = grad[:, : self.n]
        diag = None
        if diagonal:
            inv = 1.0 / dg
            two_d = 2 * self.d
            diag = inv - two_d * inv**2 / (1.0 + two_d * inv.sum(axis=1))[:, None]
        if self.K == 1:
            return -self._a_inverse(dg, gb), diag
        ga = grad[:, self.n :]
        ainv_c = self._a_inverse(dg, c_mat)  # (m, n, K−1)
        schur = e_mat - np.einsum("mnk,mnl->mkl", c_mat, ainv_c)
        ainv_gb = self._a_inverse(dg, gb)
        rhs = ga - np.einsum("mnk,mn->mk", c_mat, ainv_gb)
        xa = np.linalg.solve(schur, rhs[:, :, None])[:, :, 0]
        xb = ainv_gb - np.einsum("mnk,mk->mn", ainv_c, xa)
        if diagonal:
            sinv_ct = np.linalg.solve(schur, ainv_c.transpose(0, 2, 1))  # S⁻¹ (A⁻¹C)ᵀ
            diag = diag + np.einsum("mnk,mkn->mn", ainv_c, sinv_ct)
        return -np.concatenate([xb, xa], axis=1), diag

    def finish(self, beta, rows, polish=False):
        """Q and standard errors sqrt(2 diag(H⁻¹)) of the sample effects at ``beta`` (H the exact
        Hessian of Q, limpa's formula); with ``polish`` first one exact Newton step (limpa
        ``newton.polish``). Returns (beta, Q, standard errors)."""
        q, d1, d2 = self.evaluate(beta, rows, derivs=True)
        step, diag = self.solve(d2, self._gradient_from_cells(beta, d1), diagonal=True)
        if polish:
            beta = beta + step
            q = self.objective(beta, rows)
        bad = ~(np.isfinite(diag) & (diag > 0)).all(axis=1)
        if bad.any():  # not positive definite: the Hessian with the missing-value curvature floored at 0
            _, d1b, d2b = self.evaluate(beta[bad], rows[bad], derivs=True)
            _, diag[bad] = self.solve(np.maximum(d2b, 0.0), self._gradient_from_cells(beta[bad], d1b), diagonal=True)
        with np.errstate(invalid="ignore"):
            return beta, q, np.sqrt(2 * diag)

    def minimize_newton(self, beta, maxit=100, tol=1e-7):
        """Damped Newton from ``beta`` for all m proteins; returns (beta, converged).

        Direction: −H⁻¹g with the missing-value curvatures floored at 0 (H is then positive definite
        and equals the exact Hessian wherever the quadrature is log-concave). Step 1 is tried first and
        accepted if Q decreases by ≥ 1e-4 of the predicted amount (Armijo) or the Newton decrement² is
        < 1e-6 (then within rounding of the minimum's neighbourhood), else halved. A protein is
        done when its largest parameter change is < ``tol`` (the next change would be ~tol²)."""
        beta = beta.copy()
        rows = np.arange(self.m)
        q, d1, d2 = self.evaluate(beta, rows, derivs=True)
        converged = np.zeros(self.m, dtype=bool)
        active = rows
        for _ in range(maxit):
            if not len(active):
                break
            grad = self._gradient_from_cells(beta[active], d1)
            step, _ = self.solve(np.maximum(d2, 0.0), grad)
            slope = np.einsum("mp,mp->m", grad, step)
            bad = ~np.isfinite(slope) | (slope >= 0)
            if bad.any():  # not a descent direction: steepest descent
                step[bad] = -grad[bad]
                slope[bad] = -np.einsum("mp,mp->m", grad[bad], grad[bad])
            size = np.max(np.abs(step), axis=1)
            done = size < tol
            beta[active[done]] += step[done]
            converged[active[done]] = True
            keep = ~done
            active, step, slope = active[keep], step[keep], slope[keep]
            if not len(active):
                break
            trial = beta[active] + step
            q_t, d1_t, d2_t = self.evaluate(trial, active, derivs=True)
            qa = q[active]
            # near the minimum (Newton decrement² −gᵀd < 1e-6) the full step is safe and the change
            # of Q can be below its rounding: accept it without the test
            ok = np.isfinite(q_t) & ((q_t <= qa + 1e-4 * slope) | (-slope < 1e-6))
            beta[active[ok]] = trial[ok]
            q[active[ok]] = q_t[ok]
            if not ok.all():  # backtrack, objective only, then derivatives at the accepted point
                pend = np.flatnonzero(~ok)
                t = np.full(len(pend), 0.5)
                found = np.zeros(len(pend), dtype=bool)
                for _ls in range(50):
                    cand = beta[active[pend]] + t[:, None] * step[pend]
                    qc = self.objective(cand, active[pend])
                    hit = ~found & np.isfinite(qc) & (qc <= qa[pend] + 1e-4 * t * slope[pend])
                    beta[active[pend[hit]]] = cand[hit]
                    q[active[pend[hit]]] = qc[hit]
                    found |= hit
                    if found.all():
                        break
                    t = np.where(found, t, t * 0.5)
                stuck = pend[~found]  # no decrease along the direction: at the minimum to rounding
                converged[active[stuck]] = True
                moved = pend[found]
                if len(moved):
                    _, d1m, d2m = self.evaluate(beta[active[moved]], active[moved], derivs=True)
                    d1_t[moved], d2_t[moved] = d1m, d2m
                keep = np.ones(len(active), dtype=bool)
                keep[stuck] = False
                active, d1_t, d2_t = active[keep], d1_t[keep], d2_t[keep]
            d1, d2 = d1_t, d2_t
        return beta, converged

    def minimize_bfgs(self, beta):
        out = r_optim.bfgs_minimize(self.objective, self.gradient, beta)
        return out.par, out.converged


# --------------------------------------------------------------------------------------------------
# Many proteins
# --------------------------------------------------------------------------------------------------
def _group_rows(protein_id, nrows):
    """Sort rows by protein id (stable, codepoint order); the sorted ids, row order, starts, counts."""
    ids = np.asarray(protein_id)
    if ids.ndim != 1 or len(ids) != nrows:
        raise TearflowError(f"protein ids: expected {nrows} (one per row of y), found {ids.size}")
    if ids.dtype.kind == "f" and np.isnan(ids).any():
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
    _check_method(method, "peptides_to_proteins")
    y = dpcmod.as_intensity_matrix(y)
    uniq, order, starts, counts = _group_rows(protein_id, y.shape[0])
    if not np.array_equal(order, np.arange(len(order))):
        y = y[order]
    return _quantify_sorted(
        y, uniq, starts, counts, sigma, dpc, prior_mean, prior_sd, prior_logfc, standard_errors, newton_polish, method
    )


def _quantify_sorted(
    y, uniq, starts, counts, sigma, dpc, prior_mean, prior_sd, prior_logfc, standard_errors, newton_polish, method
):
    """:func:`peptides_to_proteins` on rows already sorted by protein (protein k = rows
    starts[k]:starts[k]+counts[k])."""
    nrows, nsamples = y.shape
    nprot = len(uniq)
    sigma = np.asarray(sigma, dtype=float)
    if sigma.size == 1:
        sigma = np.full(nprot, float(sigma.reshape(-1)[0]))
    elif sigma.size != nprot:
        raise TearflowError(f"peptides_to_proteins: sigma has {sigma.size} values, expected 1 or {nprot} (proteins)")
    b0, b1 = float(dpc[0]), float(dpc[1])
    prot_of_row = np.repeat(np.arange(nprot), counts)

    # starting values, as peptides2Proteins (block-wise over whole proteins)
    fill = dpcmod.ExpTiltFill(y, dpc_slope=b1, prior_logfc=prior_logfc)
    n_observed = np.empty((nprot, nsamples), dtype=np.int32)
    b_start = np.empty((nprot, nsamples))
    row_means = np.empty(nrows)
    all_na = np.empty(nrows, dtype=bool)
    for s in dpcmod.row_blocks(nrows, nsamples, starts):
        first, last = np.searchsorted(starts, s.start), np.searchsorted(starts, s.stop)
        bs = starts[first:last] - s.start
        obs = ~np.isnan(y[s])
        all_na[s] = ~obs.any(axis=1)
        n_observed[first:last] = np.add.reduceat(obs, bs, axis=0, dtype=np.int32)
        yimp = fill.fill(y[s], s)
        b_start[first:last] = np.add.reduceat(yimp, bs, axis=0) / counts[first:last, None]
        row_means[s] = yimp.mean(axis=1)
    row_centred = row_means - (np.add.reduceat(row_means, starts) / counts)[prot_of_row]
    unobserved = n_observed == 0
    n_unobs = unobserved.sum(axis=1)
    share = np.flatnonzero(n_unobs > 1)
    if len(share):
        u = unobserved[share]
        mean_unobs = np.where(u, b_start[share], 0.0).sum(axis=1) / n_unobs[share]
        b_start[share] = np.where(u, mean_unobs[:, None], b_start[share])

    # never-detected precursors of a protein: one row, weight = their number (peptides2ProteinBFGS)
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
                beta, conv = chunk.minimize_newton(beta0)
            else:
                beta, conv = chunk.minimize_bfgs(beta0)
            # limpa polishes only when it computes standard errors (the step uses the same Hessian)
            beta, q, se = chunk.finish(beta, np.arange(len(prot)), polish=newton_polish and standard_errors)
            expression[prot] = beta[:, :nsamples]
            objective[prot] = q
            converged[prot] = conv
            if standard_errors:
                stderr[prot] = se
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


def _check_method(method, what):
    if method not in ("newton", "bfgs"):
        raise TearflowError(f"{what}: method must be 'newton' or 'bfgs', found {method!r}")


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
    _check_method(method, "dpc_quant")
    y = _check_input(y, "dpc_quant")
    curve = _resolve_dpc(y, dpc, dpc_slope)
    uniq, order, starts, counts = _group_rows(protein_id, y.shape[0])
    if not np.array_equal(order, np.arange(len(order))):
        y = y[order]
    if len(uniq) == y.shape[0]:
        out = dpc_quant_by_row(y, dpc=curve, method=method)
        out.proteins = uniq
        return out
    h = _quant_hyperparams_sorted(y, uniq, starts, counts, dpc_slope=curve[1])
    return _quantify_sorted(
        y,
        uniq,
        starts,
        counts,
        h.sigma,
        curve,
        h.prior_mean,
        max(h.prior_sd, 1.0),
        max(h.prior_logfc, 1.0),
        True,
        False,
        method,
    )


def dpc_quant_by_row(y, dpc=None, dpc_slope=0.8, method="newton"):
    """Quantification with every row its own protein (limpa ``dpcQuantByRow``; e.g. a protein-level
    ``pg_matrix``): :func:`peptides_to_proteins` with σ = 0.01 (observed values are kept), priors from
    :func:`dpc_impute_hyperparams` (not floored at 1), so only the missing values are estimated, with
    standard errors. Rows stay in input order (``proteins`` = row numbers)."""
    _check_method(method, "dpc_quant_by_row")
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


def estimated_curve(y, settings):
    """The detection probability curve the ``quantification`` config section asks for: limpa ``dpc``
    with ``dpc_model`` (cn | on) and its options, or, with a fixed ``dpc_slope``, that slope and the
    intercept of :func:`tearflow.dpc.estimate_dpc_intercept`."""
    if settings["dpc_slope"] is not None:
        return dpcmod.detection_curve_fixed_slope(y, settings["dpc_slope"])
    return dpcmod.detection_curve(
        y,
        model=settings["dpc_model"],
        dpc_slope_start=settings["dpc_slope_start"],
        iterations=settings["dpc_iterations"],
        subset=settings["dpc_subset"],
        robust=settings["dpc_robust"],
    )


def quantified_proteins(y, protein_id, settings):
    """DPC quantification as the ``quantification`` config section asks for: ``(curve,
    ProteinQuantification)``. ``y``: log2 intensities (NaN = missing), one row per precursor with its
    ``protein_id``; ``protein_id`` None: every row is a protein (limpa ``dpcQuantByRow``, rows kept in
    order)."""
    curve = estimated_curve(y, settings)
    if protein_id is None:
        return curve, dpc_quant_by_row(y, dpc=curve, method=settings["optimizer"])
    return curve, dpc_quant(y, protein_id, dpc=curve, method=settings["optimizer"])
