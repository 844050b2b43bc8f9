"""Quality control of the normalized matrix: sample and protein tables, outlier flags, figures.

Outlier rule (documented in config/README.md, section ``qc``): for every sample four metrics are
computed on the normalized log2 matrix — ``missing_fraction`` (high is bad), ``median_log2`` (both
directions), ``mean_correlation`` (mean Pearson correlation with the other samples; low is bad) and
``pca_distance`` (distance from the centre of PC1–PC2, each PC scaled by its robust sd; high is
bad). Each metric is turned into a robust z-score, (x − median) / (1.4826 · MAD) (Iglewicz &
Hoaglin 1993), with the scale floored at :data:`MIN_SCALE` so a metric that barely varies (e.g. the
median after median centring) cannot flag a sample for a trivial difference. A sample whose z passes
``qc.outlier_z`` in the bad direction of any metric in ``qc.outlier_metrics`` is flagged; the reason
names the metric, value and z. Flagged samples are kept — only ``normalization.exclude_samples``
removes a sample.
"""

import logging

import numpy as np
import pandas as pd

from tearflow.columns import PATIENT, SAMPLE, SUBGROUP, TIMEPOINT

log = logging.getLogger(__name__)

METRICS = ("missing_fraction", "median_log2", "mean_correlation", "pca_distance")
DIRECTION = {"missing_fraction": 1, "median_log2": 0, "mean_correlation": -1, "pca_distance": 1}
MIN_SCALE = {"missing_fraction": 0.02, "median_log2": 0.1, "mean_correlation": 0.01, "pca_distance": 0.25}


def correlation_matrix(log2, min_proteins=10):
    """Pearson correlation of samples over proteins quantified in both (pairwise complete).

    The numbers of ``log2.corr(min_periods=min_proteins)`` (to floating-point rounding, ≤ 1e-14)
    from five matrix products instead of a loop over pairs: with M the 0/1 quantified mask and X
    the values (0 where missing), each pair's n, Σx, Σy, Σx², Σy² and Σxy over the proteins both
    samples have are entries of MᵀM, XᵀM, (X²)ᵀM and XᵀX; r = (Σxy − ΣxΣy/n) / √(…x · …y).
    Each sample is first shifted by its mean (r does not change) so the sums stay small. Fewer than
    ``min_proteins`` shared proteins or a constant sample give NaN, as in pandas.
    """
    values = log2.to_numpy(dtype=float)
    present = ~np.isnan(values)
    counts = present.sum(axis=0)
    centre = np.divide(np.where(present, values, 0.0).sum(axis=0), counts, where=counts > 0, out=np.zeros(len(counts)))
    shifted = np.where(present, values - centre, 0.0)
    mask = present.astype(float)
    n = mask.T @ mask
    sum_x = shifted.T @ mask  # [i, j]: Σ x_i over the proteins i and j share
    sum_xx = (shifted**2).T @ mask
    sum_xy = shifted.T @ shifted
    with np.errstate(divide="ignore", invalid="ignore"):
        covariance = sum_xy - sum_x * sum_x.T / n
        var_x = sum_xx - sum_x**2 / n
        var_y = var_x.T
        r = covariance / np.sqrt(var_x * var_y)
    constant = (var_x <= 1e-12 * np.maximum(sum_xx, 1e-300)) | (var_y <= 1e-12 * np.maximum(sum_xx.T, 1e-300))
    r[(n < max(int(min_proteins), 1)) | constant] = np.nan
    r = np.clip(r, -1.0, 1.0)
    return pd.DataFrame(r, index=log2.columns, columns=log2.columns)


def pca_scores(log2, min_proteins=20, n_components=3):
    """PCA of samples, proteins centred, not scaled: scikit-learn's ``PCA`` (full SVD, its sign
    rule) in numpy, because importing scikit-learn took ~1.3 s of this step (issue 8).

    Uses the proteins quantified in every sample; when fewer than ``min_proteins`` are, it uses the
    proteins quantified in at least half the samples with each missing value set to that protein's
    mean (stated in the log). Returns (scores: samples × pc1.., explained variance ratios).
    """
    complete = log2.dropna()
    if len(complete) < min_proteins:
        complete = log2[log2.notna().mean(axis=1) >= 0.5]
        values = complete.to_numpy(dtype=float)
        present = ~np.isnan(values)
        means = np.where(present, values, 0.0).sum(axis=1) / present.sum(axis=1)  # = each row's mean
        complete = pd.DataFrame(
            np.where(present, values, means[:, None]), index=complete.index, columns=complete.columns
        )
        log.info("PCA: fewer than %d complete proteins; %d proteins mean-filled", min_proteins, len(complete))
    data = complete.T.to_numpy(dtype=float)
    k = min(n_components, data.shape[0] - 1, data.shape[1])
    if k < 1:
        empty = pd.DataFrame(index=log2.columns, columns=["pc1", "pc2"], dtype=float)
        return empty, np.array([np.nan, np.nan])
    u, singular, vt = np.linalg.svd(data - data.mean(axis=0), full_matrices=False)
    # scikit-learn's sign rule (svd_flip, u_based_decision=False): each axis points towards its
    # largest protein loading, so the figure does not flip between runs or library versions
    signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
    signs[signs == 0] = 1.0
    scores = u[:, :k] * singular[:k] * signs[:k]
    variance = singular**2
    table = pd.DataFrame(scores, index=log2.columns, columns=[f"pc{i + 1}" for i in range(k)])
    if k < 2:
        table["pc2"] = np.nan
    return table, variance[:k] / variance.sum()


def robust_z(values, min_scale=0.0):
    """(x − median) / max(1.4826 · MAD, ``min_scale``) (Iglewicz & Hoaglin 1993)."""
    values = pd.Series(values, dtype=float)
    center = values.median()
    scale = 1.4826 * (values - center).abs().median()
    scale = max(scale if np.isfinite(scale) else 0.0, min_scale)
    if scale == 0:
        return pd.Series(0.0, index=values.index)
    return (values - center) / scale


def pca_distance(scores):
    """Distance from the PC1–PC2 centre (median), each PC scaled by its robust sd."""
    distance = pd.Series(0.0, index=scores.index)
    for column in ("pc1", "pc2"):
        values = scores[column].astype(float)
        if values.isna().all():
            continue
        deviation = values - values.median()
        scale = 1.4826 * deviation.abs().median()
        scale = scale if scale > 0 else values.std(ddof=1)
        if scale and np.isfinite(scale):
            distance += (deviation / scale) ** 2
    return np.sqrt(distance)


def outlier_flags(metrics, threshold=3.5, use=METRICS):
    """Boolean ``outlier`` and a readable ``outlier_reason`` per sample (see the module docstring)."""
    reasons = pd.Series("", index=metrics.index, dtype=object)
    for metric in use:
        z = robust_z(metrics[metric], MIN_SCALE[metric])
        direction = DIRECTION[metric]
        bad = (z.abs() if direction == 0 else direction * z) > threshold
        for sample in metrics.index[bad.to_numpy()]:
            note = f"{metric} {metrics.loc[sample, metric]:.3g} (robust z {z[sample]:+.1f})"
            reasons[sample] = f"{reasons[sample]}; {note}" if reasons[sample] else note
    return reasons != "", reasons


def sample_qc(log2, sheet, settings, correlation=None):
    """One row per sample: sheet columns, counts, median, mean correlation, PCs, outlier flag.

    ``correlation`` is :func:`correlation_matrix` of ``log2`` when already computed. The PCs'
    explained variance ratios are in ``table.attrs["explained_variance"]``.
    """
    info = sheet.set_index(SAMPLE).reindex(log2.columns)
    correlation = correlation_matrix(log2) if correlation is None else correlation
    off_diagonal = correlation.where(~np.eye(len(correlation), dtype=bool))
    scores, explained = pca_scores(log2, settings["pca_min_proteins"])
    table = pd.DataFrame(
        {
            SAMPLE: log2.columns,
            PATIENT: info[PATIENT].to_numpy(),
            SUBGROUP: info[SUBGROUP].to_numpy(),
            TIMEPOINT: info[TIMEPOINT].to_numpy(),
            "n_quantified": log2.notna().sum().to_numpy(),
            "missing_fraction": log2.isna().mean().to_numpy(),
            "median_log2": log2.median().to_numpy(),
            "mean_correlation": off_diagonal.mean().to_numpy(),
        }
    ).set_index(SAMPLE, drop=False)
    for column in scores.columns:
        table[column] = scores[column]
    table["pca_distance"] = pca_distance(scores)
    flags, reasons = outlier_flags(table, settings["outlier_z"], settings["outlier_metrics"])
    table["outlier"] = flags
    table["outlier_reason"] = reasons.replace("", np.nan)
    table = table.reset_index(drop=True)
    table.attrs["explained_variance"] = list(explained)
    return table


def coefficient_of_variation(log2, min_values=3):
    """Per protein: sd / mean of the linear-scale intensities (2**log2); NaN below ``min_values``."""
    linear = np.power(2.0, log2)
    cv = linear.std(axis=1, ddof=1) / linear.mean(axis=1)
    return cv.where(log2.notna().sum(axis=1) >= min_values)


def protein_qc(log2, annotation, sheet, min_values=3):
    """Per protein: counts, missing fraction, mean/sd log2, CV overall and per timepoint."""
    table = annotation.copy()
    table["n_quantified"] = log2.notna().sum(axis=1).to_numpy()
    table["missing_fraction"] = log2.isna().mean(axis=1).to_numpy()
    table["mean_log2"] = log2.mean(axis=1).to_numpy()
    table["sd_log2"] = log2.std(axis=1, ddof=1).to_numpy()
    table["cv"] = coefficient_of_variation(log2, min_values).to_numpy()
    timepoints = sheet.set_index(SAMPLE)[TIMEPOINT].reindex(log2.columns)
    for timepoint in dict.fromkeys(timepoints):
        columns = list(timepoints.index[timepoints == timepoint])
        table[f"cv_{timepoint}"] = coefficient_of_variation(log2[columns], min_values).to_numpy()
    return table
