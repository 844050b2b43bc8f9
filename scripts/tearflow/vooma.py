"""Precision weights for DPC-quantified proteins: limpa's vooma trend with imputation handling.

limpa (Li, Cobbold & Smyth 2025) quantifies each protein in each sample with a standard error and
imputes the samples where no precursor was observed (``dpcQuant``); ``dpcDE`` then calls
``voomaLmFitWithImputation``, which turns the residual standard deviations of an ordinary fit into
precision weights (the vooma idea of Law et al. 2014: a lowess trend of √σ against a predictor,
evaluated at each observation's fitted value, weight = 1 / trend⁴) and fits again by weighted least
squares. The result goes into limma's ``eBayes`` (Smyth 2004) like any other fit. This module ports
that procedure function by function:

====================================== ==========================================================
tearflow                               limma / limpa / R
====================================== ==========================================================
:func:`vooma_lm_fit_with_imputation`   limpa ``voomaLmFitWithImputation`` (no blocks, no sample
                                       weights, no prior weights: the options ``dpcDE`` uses)
:func:`dpc_de`                         limpa ``dpcDE``
:func:`paired_vooma_fit`               ``dpcDE`` for a paired design, computed on the per-patient
                                       differences (tearflow's fast path, exact; see its docstring)
:func:`choose_lowess_span`             limma ``chooseLowessSpan``
:func:`hat_values`                     R ``hat``
:func:`approx_rule2`                   R ``approxfun(x, y, rule = 2, ties = list("ordered", mean))``
:func:`loess_fit`                      limma ``loessFit`` (``method = "weightedLowess"``)
:func:`weighted_lowess`                limma ``weightedLowess`` (C ``weighted_lowess``)
====================================== ==========================================================

References
----------
- Li M, Cobbold SA, Smyth GK (2025). Quantification and differential analysis of mass spectrometry
  proteomics data with probabilistic recovery of information from missing values. *bioRxiv*
  10.1101/2025.04.28.651125. (limpa: dpcQuant, dpcDE, voomaLmFitWithImputation)
- Law CW, Chen Y, Shi W, Smyth GK (2014). voom: precision weights unlock linear model analysis
  tools for RNA-seq read counts. *Genome Biol* 15:R29. (the variance trend → precision weights)
- Smyth GK (2004). Linear models and empirical Bayes methods for assessing differential expression
  in microarray experiments. *Stat Appl Genet Mol Biol* 3:3.
- Cleveland WS (1979). Robust locally weighted regression and smoothing scatterplots. *JASA*
  74:829–836. (lowess; weightedLowess adds prior weights to it)

Everything is vectorized over proteins; Python loops run only over smoothing anchor points.
Imports numpy and :mod:`tearflow.limma` only.

tearflow's paired contrasts (patients in subgroup order; ``b``, ``f``: dpcQuant values of the
baseline and follow-up samples, proteins × patients; ``se_b``, ``se_f``: their standard errors;
``imp_b``, ``imp_f``: ``n_observations == 0``), each fit equal to limpa's ``dpcDE`` → limma's
``contrasts.fit`` → ``eBayes`` on the sample-level design (``limma.ebayes``'s default ``legacy=None`` is
limma's default, ``fitFDistUnequalDF1`` where the df-loss correction makes the df differ;
``legacy=True`` is ``eBayes(legacy = TRUE)``)::

    # NSDE, SSDE, interaction: ~0 + subgroup (+ centred covariates) on the differences
    sub = paired_vooma_fit(b, f, se_b, se_f, imp_b, imp_f, subgroup_design, names=columns)
    fit = limma.contrasts_fit(sub.fit, contrasts, ["NSDE", "SSDE", "interaction"])
    moderated = limma.ebayes(fit, trend=fit.amean if trend else None, robust=robust)
    # all: ~1 (+ centred covariates): a vooma fit of its own (other fitted values, other weights)
    every = paired_vooma_fit(b, f, se_b, se_f, imp_b, imp_f, all_design)
    moderated_all = limma.ebayes(every.fit, trend=every.fit.amean if trend else None, robust=robust)
"""

from typing import NamedTuple

import numpy as np

from tearflow import limma
from tearflow.smoothing import approx_rule2, choose_lowess_span, loess_fit

#: dpcDE adds this before taking the log of the standard errors (limpa: ``eps <- 1e-6``)
DPC_SE_OFFSET = 1e-6
#: a protein needs imputed samples whose hat values sum above this for the df-loss check (limpa)
IMPUTED_LEVERAGE = 0.9999
#: an imputed sample whose fitted value moves less than this when every observed value is shifted
#: by (samples + 1) is "determined by imputed values only" (limpa)
NO_CHANGE = 0.01


class VoomaFit(NamedTuple):
    """A weighted fit ready for :func:`tearflow.limma.contrasts_fit` / :func:`tearflow.limma.ebayes`.

    ``fit``: limma's ``MArrayLM`` of the final weighted fit (``amean`` = mean over all samples);
    ``weights``: the vooma precision weights (proteins × samples, limpa's ``fit$EList$weights``);
    ``df_corrected``: per protein, whether ``sigma`` and ``df_residual`` come from the refit without
    the samples whose fitted values only imputed values determine (limpa's df-loss correction).
    """

    fit: limma.LinearFit
    weights: np.ndarray
    df_corrected: np.ndarray


class PairedVoomaFit(NamedTuple):
    """:func:`paired_vooma_fit`'s result: ``fit`` is on the per-patient differences (coefficients of
    the difference design) and equals the sample-level fit's follow-up coefficients; the weights are
    the sample-level vooma weights of each visit (proteins × patients)."""

    fit: limma.LinearFit
    baseline_weights: np.ndarray
    followup_weights: np.ndarray
    df_corrected: np.ndarray

    @property
    def pair_weights(self):
        """Weights of the differences, 1 / (1/w_baseline + 1/w_followup) (proteins × patients)."""
        return pair_weights(self.baseline_weights, self.followup_weights)


# --------------------------------------------------------------------------------------------------
# small R / limma helpers
# --------------------------------------------------------------------------------------------------


def _column_space(x):
    """Orthonormal basis of the columns R's ``qr(x)`` keeps (LINPACK ``dqrdc2``, tol 1e-7)."""
    x = np.asarray(x, dtype=float)
    keep = limma.estimable_columns(x, np.ones((1, x.shape[0])))[0]
    q, _ = np.linalg.qr(x[:, keep])
    return q


def hat_values(x, intercept=True):
    """R ``hat(x, intercept)``: the diagonal of the projection on the columns of x (with a column of
    ones added first when ``intercept``), rank taken as ``qr`` does."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if intercept:
        x = np.column_stack([np.ones(len(x)), x])
    q = _column_space(x)
    return (q * q).sum(axis=1)




# --------------------------------------------------------------------------------------------------
# limma's weightedLowess / loessFit
# --------------------------------------------------------------------------------------------------












# --------------------------------------------------------------------------------------------------
# the vooma trend
# --------------------------------------------------------------------------------------------------
def _predictor_matrix(predictor, shape):
    """limpa's predictor check: a vector (per protein) or a proteins × samples matrix, all finite."""
    predictor = np.asarray(predictor, dtype=float)
    if predictor.ndim == 1 or predictor.shape == (shape[0], 1):
        if predictor.shape[0] != shape[0]:
            raise ValueError("predictor is of wrong dimension")
        predictor = np.broadcast_to(predictor.reshape(-1, 1), shape)
    if predictor.shape != shape:
        raise ValueError("predictor is of wrong dimension")
    if not np.isfinite(predictor).all():
        raise ValueError("predictor contains missing or infinite values")
    return predictor


def _vooma_weights(amean, sigma, df_residual, fitted, predictor, excluded, df_loss, span):
    """The vooma precision weights 1 / f(μ)⁴ (voomaLmFitWithImputation, "Prepare to fit lowess trend"
    to "Apply trend to individual observations").

    ``amean``, ``sigma``, ``df_residual``: per protein, after the df-loss correction; ``fitted``:
    proteins × samples fitted values μ of the unweighted fit; ``predictor``: proteins × samples
    (or None); ``excluded``: proteins × samples, the samples left out of the refit (their
    predictor does not count in the protein's mean), or None.

    With a predictor, x = the fitted values of ``lm.fit(cbind(1, A, rowMeans(predictor)), √σ)`` and
    μ becomes b₀ + b₁μ + b₂·predictor. The trend f is R's ``lowess(x, √σ, f = span)`` or, after a
    df-loss correction, ``loessFit(√σ, x, weights = df_residual, span)``, interpolated by
    ``approxfun(rule = 2, ties = list("ordered", mean))``.
    """
    sx = np.asarray(amean, dtype=float)
    sy = np.sqrt(np.asarray(sigma, dtype=float))
    if not np.isfinite(sy).all() or not np.isfinite(sx).all():
        raise ValueError("vooma needs a finite residual standard deviation and mean for every protein")
    mu = fitted
    if predictor is not None:
        if excluded is None:
            sxc = predictor.mean(axis=1)
        else:
            kept = ~excluded
            with np.errstate(invalid="ignore"):
                sxc = np.where(kept, predictor, 0.0).sum(axis=1) / kept.sum(axis=1)
            if np.isnan(sxc).any():
                sxc[np.isnan(sxc)] = np.nanmedian(sxc)
        trend_design = np.column_stack([np.ones(len(sx)), sx, sxc])
        keep = limma.estimable_columns(trend_design, np.ones((1, len(sx))))[0]
        beta = np.zeros(3)
        beta[keep] = np.linalg.lstsq(trend_design[:, keep], sy, rcond=None)[0]
        sx = trend_design @ beta
        mu = beta[0] + beta[1] * fitted + beta[2] * predictor
    if df_loss:
        smooth = loess_fit(sy, sx, weights=df_residual, span=span)
    else:
        smooth = limma.lowess(sx, sy, f=span)
    order = np.argsort(sx, kind="stable")
    trend = approx_rule2(sx[order], smooth[order], mu)
    return 1 / trend**4


# --------------------------------------------------------------------------------------------------
# voomaLmFitWithImputation / dpcDE: the general (sample-level) port
# --------------------------------------------------------------------------------------------------
def _determined_by_imputed(values, imputed, design):
    """limpa's df-loss check: proteins × samples, True where an imputed sample's fitted value does not
    move when every observed value of the protein is shifted by (samples + 1).

    Only proteins whose imputed samples carry hat values summing above :data:`IMPUTED_LEVERAGE`
    (``imputed %*% hat(design)``) are checked; fitted values are ``lm.fit``'s projections.
    """
    n_samples = values.shape[1]
    leverage = imputed.astype(float) @ hat_values(design)
    candidates = leverage > IMPUTED_LEVERAGE
    determined = np.zeros(values.shape, dtype=bool)
    if candidates.any():
        q = _column_space(design)
        before = values[candidates]
        after = np.where(imputed[candidates], before, before + n_samples + 1)
        shift = (after @ q) @ q.T - (before @ q) @ q.T
        determined[candidates] = imputed[candidates] & (np.abs(shift) < NO_CHANGE)
    return determined


def vooma_lm_fit_with_imputation(y, design, imputed=None, predictor=None, span=None, legacy_span=False, names=None):
    """limpa ``voomaLmFitWithImputation(y, design, imputed = imputed, predictor = predictor, span = span)``.

    ``y``: proteins × samples log-expression (complete when ``imputed`` is given); ``design``: full
    column rank; ``imputed``: proteins × samples, True where the value was imputed; ``predictor``:
    per protein or proteins × samples (limpa's ``dpcDE`` passes log standard errors). Steps
    (Li, Cobbold & Smyth 2025; Law et al. 2014):

    1. ordinary fit (limma ``lmFit``), fitted values μ = XB̂, A = row means;
    2. loss of residual df to imputed values: if some protein has ≥ 2 imputed samples, proteins whose
       imputed samples' hat values sum above 0.9999 are checked for imputed samples whose fitted
       values only imputed values determine (:func:`_determined_by_imputed`); for those proteins σ,
       df and A come from a refit with these samples set to NA (df < 0.5: σ and A are the medians
       over all proteins);
    3. the trend √σ ~ x (x = A, or the fitted values of √σ on (1, A, mean predictor)), weights
       1 / f(μ)⁴ (:func:`_vooma_weights`), span :func:`choose_lowess_span` (n proteins; ``legacy_span``:
       small.n = 10, power = 1/2);
    4. the weighted fit; df-loss proteins again take σ and df from the weighted refit without the
       imputation-determined samples (df < 0.5: the median σ).

    Returns :class:`VoomaFit`. Not ported (``dpcDE`` does not use them): ``prior.weights``,
    ``block``, ``sample.weights`` / ``var.design`` / ``var.group`` and the plot. Unlike R, a protein
    without residual df (σ NA) is an error here (R's ``lowess`` would smooth through the NA), and a
    predictor column that is collinear with (1, A) gets coefficient 0 (R: NA, and every weight NA).
    A protein with NAs in ``y`` (allowed without ``imputed``) and a non-estimable coefficient gets NaN
    fitted values, hence NaN weights and an all-NaN final fit, as in R.
    """
    y = np.asarray(y, dtype=float)
    design = np.asarray(design, dtype=float)
    n_proteins, n_samples = y.shape
    if n_samples < 2:
        raise ValueError("Too few samples")
    if n_proteins < 2:
        raise ValueError("Need multiple rows")
    finite = np.isfinite(y)
    if not finite.any(axis=1).all():
        raise ValueError("y contains entirely NA rows")
    if imputed is not None:
        imputed = np.asarray(imputed, dtype=bool)
        if imputed.shape != y.shape:
            raise ValueError("imputed must have same dimensions as y")
        if not finite.all():
            raise ValueError("y is imputed but also has NAs")
        if imputed.sum(axis=1).max() <= 1:
            imputed = None
    if predictor is not None:
        predictor = _predictor_matrix(predictor, y.shape)
    if span is None:
        span = choose_lowess_span(n_proteins, 10, 0.3, 0.5) if legacy_span else choose_lowess_span(n_proteins)

    fit = limma.lm_fit(y, design)
    fitted = fit.coefficients @ design.T  # NaN for a protein with a non-estimable coefficient, as in R
    sigma, df_residual, amean = fit.sigma.copy(), fit.df_residual.copy(), fit.amean.copy()
    determined = None
    corrected = np.zeros(n_proteins, dtype=bool)
    if imputed is not None:
        determined = _determined_by_imputed(y, imputed, design)
        corrected = determined.any(axis=1)
    df_loss = bool(corrected.any())
    if df_loss:
        y_na = np.where(determined[corrected], np.nan, y[corrected])
        refit = limma.lm_fit(y_na, design)
        no_df = refit.df_residual < 0.5
        sigma[corrected] = np.where(no_df, np.nanmedian(fit.sigma), refit.sigma)
        df_residual[corrected] = refit.df_residual
        amean[corrected] = np.where(no_df, np.nanmedian(fit.amean), refit.amean)

    excluded = determined if df_loss else None
    weights = _vooma_weights(amean, sigma, df_residual, fitted, predictor, excluded, df_loss, span)
    final = limma.lm_fit(y, design, weights=weights, names=names)
    if df_loss:
        refit = limma.lm_fit(y_na, design, weights=weights[corrected])
        no_df = refit.df_residual < 0.5
        final.sigma[corrected] = np.where(no_df, np.nanmedian(final.sigma), refit.sigma)
        final.df_residual[corrected] = refit.df_residual
    return VoomaFit(final, weights, corrected)


def dpc_de(values, standard_errors, n_observations, design, span=None, names=None):
    """limpa ``dpcDE(y, design)`` on the output of ``dpcQuant`` (``y$E``, ``y$other$standard.error``,
    ``y$other$n.observations``): :func:`vooma_lm_fit_with_imputation` with imputed = no precursor
    observed (n.observations == 0) and predictor = log(standard error + 1e-6).
    Returns :class:`VoomaFit`; its ``fit`` goes to :func:`tearflow.limma.ebayes` (``trend``: pass
    ``fit.amean``, as limma's ``eBayes(trend = TRUE)``)."""
    standard_errors = np.asarray(standard_errors, dtype=float)
    return vooma_lm_fit_with_imputation(
        values,
        design,
        imputed=np.asarray(n_observations) == 0,
        predictor=np.log(standard_errors + DPC_SE_OFFSET),
        span=span,
        names=names,
    )


# --------------------------------------------------------------------------------------------------
# the paired fast path
# --------------------------------------------------------------------------------------------------
def pair_weights(baseline_weights, followup_weights):
    """Weight of a difference d = y_f − y_b of two independent observations: 1 / (1/w_b + 1/w_f)."""
    return 1 / (1 / np.asarray(baseline_weights, dtype=float) + 1 / np.asarray(followup_weights, dtype=float))


def paired_vooma_fit(
    baseline,
    followup,
    se_baseline,
    se_followup,
    imputed_baseline,
    imputed_followup,
    difference_design,
    span=None,
    names=None,
):
    """limpa ``dpcDE`` for tearflow's paired design, computed on the per-patient differences.

    Inputs are proteins × patients (column i of every matrix is patient i; row i of
    ``difference_design``, patients × p, is that patient's row: e.g. subgroup indicators and
    centred covariates). The sample-level design it stands for has one column per patient and the
    difference design's columns on the follow-up samples (``~0 + patient + subgroup:followup
    (+ covariate:followup)``; ``~ patient + visit`` for a difference design of ones). The result
    equals :func:`dpc_de` on that sample-level design (tested to 1e-8), without its n-patient-column
    fits:

    - Profiling out patient effect α_i with weights w_b, w_f gives α̂_i = (w_b y_b + w_f(y_f − x_iᵀβ))
      / (w_b + w_f) and RSS_i = v_i (d_i − x_iᵀβ)², v_i = 1/(1/w_b + 1/w_f): the weighted fit of
      d = y_f − y_b on the difference design with weights v has the same β̂, RSS, residual df
      (2n − n − p = n − p), σ and (X'WX)⁻¹ block as the sample-level fit. Unweighted (w = 1, v = ½):
      σ_sample = σ_d / √2, fitted μ_b = (y_b + y_f − x_iᵀβ̂)/2, μ_f = (y_b + y_f + x_iᵀβ̂)/2.
    - Hat values: the sample-level projection is P_patient + ½·[−1, 1]ᵀ[−1, 1] ⊗ H_d, so each visit of
      patient i has leverage (1 + h_ii)/2 (h = hat of the difference design), and for an
      observation indicator o, (P o)_b = (o_b + o_f)/2 − (H_d δ)/2, (P o)_f = (o_b + o_f)/2 + (H_d δ)/2,
      δ = o_f − o_b. limpa's shift test (fitted values moving by (2n + 1)·P o) is computed from these.
      For the subgroup design (H_d δ)_i is the subgroup mean of δ, so an imputed baseline counts as
      determined by imputed values when the whole subgroup has imputed baselines and observed
      follow-ups (switched on at follow-up), an imputed follow-up when the whole subgroup is switched
      off, and a patient with both visits imputed when the subgroup's imputed baselines and follow-ups
      balance (mean δ = 0; e.g. the protein is imputed at both visits wherever it is imputed).
    - The refit with those samples set to NA: a patient left with one sample fits it exactly through
      α_i (no residual, no df), so it is the difference fit without those patients' pairs; its A
      (and predictor mean) averages the remaining samples, singletons included.

    ``se_*`` are dpcQuant's standard errors (predictor log(se + 1e-6)); ``imputed_*``: True where no
    precursor was observed. Returns :class:`PairedVoomaFit`: ``fit.cov_coefficients`` is the
    follow-up block of the sample-level (X'X)⁻¹, 2·(X_dᵀX_d)⁻¹, so :func:`tearflow.limma.contrasts_fit`
    treats contrasts exactly as limma does on the sample-level fit; ``fit.amean`` is the mean over
    both visits (limma's ``Amean``).
    """
    baseline = np.asarray(baseline, dtype=float)
    followup = np.asarray(followup, dtype=float)
    design = np.asarray(difference_design, dtype=float)
    if design.ndim == 1:
        design = design[:, None]
    shape = baseline.shape
    n_proteins, n_patients = shape
    for what, matrix in (
        ("followup", followup),
        ("se_baseline", se_baseline),
        ("se_followup", se_followup),
        ("imputed_baseline", imputed_baseline),
        ("imputed_followup", imputed_followup),
    ):
        if np.shape(matrix) != shape:
            raise ValueError(f"{what} has shape {np.shape(matrix)}, expected {shape} like baseline")
    if design.shape[0] != n_patients:
        raise ValueError(f"difference_design has {design.shape[0]} rows for {n_patients} patients")
    if not (np.isfinite(baseline).all() and np.isfinite(followup).all()):
        raise ValueError("baseline and followup must be complete (dpcQuant output)")
    if n_proteins < 2:
        raise ValueError("Need multiple rows")
    imputed_b = np.asarray(imputed_baseline, dtype=bool)
    imputed_f = np.asarray(imputed_followup, dtype=bool)
    predictor = np.concatenate(
        [
            np.log(np.asarray(se_baseline, dtype=float) + DPC_SE_OFFSET),
            np.log(np.asarray(se_followup, dtype=float) + DPC_SE_OFFSET),
        ],
        axis=1,
    )
    predictor = _predictor_matrix(predictor, (n_proteins, 2 * n_patients))
    n_samples = 2 * n_patients
    if span is None:
        span = choose_lowess_span(n_proteins)

    d = followup - baseline
    total = baseline + followup
    amean = np.concatenate([baseline, followup], axis=1).mean(axis=1)
    fit_d = limma.lm_fit(d, design)
    sigma = fit_d.sigma / np.sqrt(2)
    df_residual = fit_d.df_residual.copy()
    xb = fit_d.coefficients @ design.T
    fitted = np.concatenate([(total - xb) / 2, (total + xb) / 2], axis=1)
    sigma_full, amean_full = sigma.copy(), amean.copy()

    # df-loss check through the pairs (see the docstring)
    determined_b = np.zeros(shape, dtype=bool)
    determined_f = np.zeros(shape, dtype=bool)
    if (imputed_b.sum(axis=1) + imputed_f.sum(axis=1)).max() > 1:
        q = _column_space(design)
        leverage = (1 + (q * q).sum(axis=1)) / 2
        candidates = imputed_b.astype(float) @ leverage + imputed_f.astype(float) @ leverage > IMPUTED_LEVERAGE
        observed_b = (~imputed_b[candidates]).astype(float)
        observed_f = (~imputed_f[candidates]).astype(float)
        projected_delta = ((observed_f - observed_b) @ q) @ q.T
        mean_observed = (observed_b + observed_f) / 2
        shift_b = (n_samples + 1) * (mean_observed - projected_delta / 2)
        shift_f = (n_samples + 1) * (mean_observed + projected_delta / 2)
        determined_b[candidates] = imputed_b[candidates] & (np.abs(shift_b) < NO_CHANGE)
        determined_f[candidates] = imputed_f[candidates] & (np.abs(shift_f) < NO_CHANGE)
    corrected = determined_b.any(axis=1) | determined_f.any(axis=1)
    df_loss = bool(corrected.any())
    excluded = None
    if df_loss:
        complete = ~(determined_b | determined_f)
        d_na = np.where(complete[corrected], d[corrected], np.nan)
        refit = limma.lm_fit(d_na, design)
        no_df = refit.df_residual < 0.5
        sigma[corrected] = np.where(no_df, np.nanmedian(sigma_full), refit.sigma / np.sqrt(2))
        df_residual[corrected] = refit.df_residual
        excluded = np.concatenate([determined_b, determined_f], axis=1)
        kept = ~excluded[corrected]
        values = np.concatenate([baseline, followup], axis=1)[corrected]
        with np.errstate(invalid="ignore"):
            kept_mean = np.where(kept, values, 0.0).sum(axis=1) / kept.sum(axis=1)
        amean[corrected] = np.where(no_df, np.nanmedian(amean_full), kept_mean)

    weights = _vooma_weights(amean, sigma, df_residual, fitted, predictor, excluded, df_loss, span)
    weights_b, weights_f = weights[:, :n_patients], weights[:, n_patients:]
    v = pair_weights(weights_b, weights_f)
    final = limma.lm_fit(d, design, weights=v, names=names)
    if df_loss:
        refit = limma.lm_fit(d_na, design, weights=v[corrected])
        no_df = refit.df_residual < 0.5
        final.sigma[corrected] = np.where(no_df, np.nanmedian(final.sigma), refit.sigma)
        final.df_residual[corrected] = refit.df_residual
    final.cov_coefficients = 2 * np.linalg.inv(design.T @ design)
    final.amean = amean_full
    return PairedVoomaFit(final, weights_b, weights_f, corrected)
