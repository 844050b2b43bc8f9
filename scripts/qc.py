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
import warnings

import numpy as np
import pandas as pd

from tearflow.columns import ANNOTATION, PATIENT, SAMPLE, SUBGROUP, TIMEPOINT
from tearflow.errors import TearflowError
from tearflow.palette import subgroup_colours

log = logging.getLogger(__name__)

METRICS = ("missing_fraction", "median_log2", "mean_correlation", "pca_distance")
DIRECTION = {"missing_fraction": 1, "median_log2": 0, "mean_correlation": -1, "pca_distance": 1}
MIN_SCALE = {"missing_fraction": 0.02, "median_log2": 0.1, "mean_correlation": 0.01, "pca_distance": 0.25}
DEFAULTS = {"outlier_z": 3.5, "outlier_metrics": list(METRICS), "pca_min_proteins": 20, "min_values_cv": 3}


def settings_with_defaults(settings):
    """The ``qc`` config section with missing keys at their defaults, checked."""
    merged = dict(DEFAULTS)
    merged.update({key: value for key, value in (settings or {}).items() if value is not None})
    unknown = [m for m in merged["outlier_metrics"] if m not in METRICS]
    if unknown:
        raise TearflowError(
            f"config key qc.outlier_metrics: unknown metric(s) {', '.join(map(str, unknown))}; "
            f"expected some of {', '.join(METRICS)}"
        )
    z = merged["outlier_z"]
    if isinstance(z, bool) or not isinstance(z, (int, float)) or z <= 0:
        raise TearflowError(f"config key qc.outlier_z: found {z!r}; expected a number > 0")
    return merged


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


def sample_qc(log2, sheet, settings=None, correlation=None):
    """One row per sample: sheet columns, counts, median, mean correlation, PCs, outlier flag.

    ``correlation`` is :func:`correlation_matrix` of ``log2`` when already computed. The PCs'
    explained variance ratios are in ``table.attrs["explained_variance"]``.
    """
    settings = settings_with_defaults(settings)
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


# --------------------------------------------------------------------------------------- figures


MAX_LABELLED_SAMPLES = 60  # above this many samples: no sample names, summaries instead of boxes
MAX_FIGURE_INCHES = 12.0  # no QC figure grows beyond this, whatever the cohort size
MAX_PCA_LABELS = 10  # outlier names written on the PCA plot (all are in sample_qc.tsv)
TIMEPOINT_COLOURS = ("#4d4d4d", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d")  # not the subgroup palette


def _colours(labels):
    """Timepoint → colour, in order of first appearance (distinct from the subgroup colours)."""
    return {label: TIMEPOINT_COLOURS[i % len(TIMEPOINT_COLOURS)] for i, label in enumerate(dict.fromkeys(labels))}


def _timepoint_legend(axis, colours):
    """The timepoint colours in one row above the axes (never over the data)."""
    import matplotlib.pyplot as plt

    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colours.values()]
    labels = [f"{TIMEPOINT}: {name}" for name in colours]
    axis.legend(
        handles, labels, fontsize=9, loc="lower left", bbox_to_anchor=(0, 1.01), ncol=len(labels), frameon=False
    )


def missingness_figure(samples, proteins):
    """Missing fraction per sample (bars, outliers in red) and per protein (histogram).

    Up to :data:`MAX_LABELLED_SAMPLES` samples the bars are named (outliers' names in red); above,
    the figure keeps a fixed width, drops the names and marks outliers with red triangles.
    """
    import matplotlib.pyplot as plt

    n = len(samples)
    labelled = n <= MAX_LABELLED_SAMPLES
    colours = _colours(samples[TIMEPOINT])
    width = min(MAX_FIGURE_INCHES, max(8.0, 0.25 * n + 5)) if labelled else MAX_FIGURE_INCHES
    figure, axes = plt.subplots(1, 2, figsize=(width, 4.2), gridspec_kw={"width_ratios": [2, 1]})
    x = np.arange(n)
    axes[0].bar(
        x,
        samples["missing_fraction"],
        width=0.8 if labelled else 1.0,
        color=[colours[t] for t in samples[TIMEPOINT]],
        linewidth=0,
    )
    outlier = samples["outlier"].astype(bool).to_numpy()
    if labelled:
        axes[0].set_xticks(x, samples[SAMPLE], rotation=90, fontsize=7)
        for tick, flag in zip(axes[0].get_xticklabels(), outlier):
            tick.set_color("red" if flag else "black")
    else:
        axes[0].set_xticks([])
        axes[0].set_xlabel(f"sample (sheet order; {n} samples)", fontsize=10)
        axes[0].set_xlim(-0.5, n - 0.5)
    if outlier.any():
        top = samples["missing_fraction"].to_numpy(dtype=float)[outlier]
        axes[0].scatter(x[outlier], top + 0.02, marker="v", color="red", s=18, zorder=3, label="outlier")
    axes[0].set_ylabel("missing fraction", fontsize=10)
    axes[0].set_ylim(0, max(float(samples["missing_fraction"].max()), 0.05) * 1.12)
    _timepoint_legend(axes[0], colours)
    axes[1].hist(proteins["missing_fraction"], bins=20, range=(0, 1), color="0.5")
    axes[1].set_xlabel("missing fraction per protein", fontsize=10)
    axes[1].set_ylabel("proteins", fontsize=10)
    figure.tight_layout()
    return figure


def distributions_figure(log2, samples):
    """Each sample's normalized log2 intensities, coloured by timepoint.

    Up to :data:`MAX_LABELLED_SAMPLES` samples: one named box plot per sample. Above: at a fixed
    width, each sample's median (dot) and interquartile range (vertical line), unnamed.
    """
    import matplotlib.pyplot as plt

    n = log2.shape[1]
    colours = _colours(samples[TIMEPOINT])
    colour_list = [colours[t] for t in samples[TIMEPOINT]]
    if n <= MAX_LABELLED_SAMPLES:
        figure, axis = plt.subplots(figsize=(min(MAX_FIGURE_INCHES, max(6.0, 0.28 * n + 2)), 4.2))
        columns = [log2[c].dropna().to_numpy() for c in log2.columns]
        boxes = axis.boxplot(columns, patch_artist=True, showfliers=False, medianprops={"color": "black"})
        for box, colour in zip(boxes["boxes"], colour_list):
            box.set_facecolor(colour)
            box.set_alpha(0.8)
        axis.set_xticks(range(1, n + 1), log2.columns, rotation=90, fontsize=7)
    else:
        figure, axis = plt.subplots(figsize=(MAX_FIGURE_INCHES, 4.2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing sample: NaN, not drawn
            q25, q50, q75 = np.nanpercentile(log2.to_numpy(dtype=float), [25, 50, 75], axis=0)
        x = np.arange(1, n + 1)
        axis.vlines(x, q25, q75, colors=colour_list, linewidth=0.8)
        axis.scatter(x, q50, c=colour_list, s=4, zorder=3)
        axis.set_xticks([])
        axis.set_xlim(0, n + 1)
        axis.set_xlabel(f"sample (sheet order; {n} samples): median (dot) and interquartile range", fontsize=10)
    axis.set_ylabel("normalized log2 intensity", fontsize=10)
    _timepoint_legend(axis, colours)
    figure.tight_layout()
    return figure


def correlation_figure(correlation, samples):
    """Heatmap of the sample–sample correlations, samples ordered by subgroup and timepoint.

    Sample (or block) names are written in their subgroup's colour (:mod:`tearflow.palette`,
    subgroups in sheet order), the same colour the subgroup has in every other figure.

    At most :data:`MAX_FIGURE_INCHES` square. Up to :data:`MAX_LABELLED_SAMPLES` samples every
    sample is named; above, the subgroup · timepoint blocks are outlined and named instead.
    """
    import matplotlib.pyplot as plt

    colours = subgroup_colours(samples[SUBGROUP])
    ordered = samples.sort_values([SUBGROUP, TIMEPOINT, PATIENT], kind="stable")
    order = ordered[SAMPLE].tolist()
    matrix = correlation.loc[order, order]
    n = len(order)
    size = min(MAX_FIGURE_INCHES - 1, max(5.0, 0.22 * n + 2))
    figure, axis = plt.subplots(figsize=(size + 1.2, size))
    image = axis.imshow(matrix.to_numpy(dtype=float), cmap="viridis", interpolation="nearest")
    if n <= MAX_LABELLED_SAMPLES:
        fontsize = 7 if n <= 40 else 6
        axis.set_xticks(range(n), order, rotation=90, fontsize=fontsize)
        axis.set_yticks(range(n), order, fontsize=fontsize)
        tick_groups = ordered[SUBGROUP].tolist()
    else:
        blocks = (ordered[SUBGROUP].astype(str) + " · " + ordered[TIMEPOINT].astype(str)).to_numpy()
        starts = [0] + [i for i in range(1, n) if blocks[i] != blocks[i - 1]]
        ends = starts[1:] + [n]
        for start in starts[1:]:
            axis.axhline(start - 0.5, color="white", linewidth=0.8)
            axis.axvline(start - 0.5, color="white", linewidth=0.8)
        centres = [(a + b - 1) / 2 for a, b in zip(starts, ends)]
        names = [f"{blocks[a]} ({b - a})" for a, b in zip(starts, ends)]
        axis.set_xticks(centres, names, rotation=90, fontsize=9)
        axis.set_yticks(centres, names, fontsize=9)
        tick_groups = [ordered[SUBGROUP].iloc[a] for a in starts]
        axis.set_title(f"{n} samples, grouped by subgroup · timepoint", fontsize=11)
    for ticks in (axis.get_xticklabels(), axis.get_yticklabels()):
        for tick, group in zip(ticks, tick_groups):
            tick.set_color(colours[group])
    figure.colorbar(image, ax=axis, label="Pearson r (log2)", shrink=0.8)
    figure.tight_layout()
    return figure


def pca_figure(samples, explained):
    """PC1 vs PC2: colour = timepoint, marker = subgroup, grey lines join a patient's samples."""
    import matplotlib.pyplot as plt

    colours = _colours(samples[TIMEPOINT])
    markers = dict(zip(dict.fromkeys(samples[SUBGROUP]), "osD^vP*X"))
    figure, axis = plt.subplots(figsize=(6, 5))
    many = len(samples) > MAX_LABELLED_SAMPLES
    for _, visits in samples.groupby(PATIENT):
        if len(visits) > 1:
            axis.plot(visits["pc1"], visits["pc2"], color="0.8", linewidth=0.3 if many else 0.8, zorder=1)
    for (timepoint, subgroup), group in samples.groupby([TIMEPOINT, SUBGROUP], sort=False):
        axis.scatter(
            group["pc1"],
            group["pc2"],
            color=colours[timepoint],
            marker=markers[subgroup],
            label=f"{subgroup} · {timepoint}",
            zorder=2,
            edgecolor="black",
            linewidth=0.2 if many else 0.4,
            s=10 if many else 36,
        )
    flagged = samples[samples["outlier"].astype(bool)]
    if len(flagged) > MAX_PCA_LABELS or many:  # ringed, not named (the names are in sample_qc.tsv)
        axis.scatter(
            flagged["pc1"], flagged["pc2"], s=60, facecolors="none", edgecolors="red", lw=1.0, zorder=3, label="outlier"
        )
        flagged = flagged.iloc[:0]
    for _, row in flagged.iterrows():
        axis.annotate(
            row[SAMPLE], (row["pc1"], row["pc2"]), xytext=(3, 3), textcoords="offset points", color="red", fontsize=8
        )
    labels = [
        f"PC{i + 1}" + (f" ({100 * v:.0f} %)" if np.isfinite(v) else "")
        for i, v in enumerate(list(explained[:2]) + [np.nan] * (2 - len(explained[:2])))
    ]
    axis.set_xlabel(labels[0])
    axis.set_ylabel(labels[1])
    axis.legend(fontsize=8, markerscale=1.5 if many else 1.0)
    figure.tight_layout()
    return figure


def cv_figure(proteins):
    """Distribution of per-protein CVs, overall and per timepoint."""
    import matplotlib.pyplot as plt

    columns = [c for c in proteins.columns if c == "cv" or c.startswith("cv_")]
    data = [proteins[c].dropna().to_numpy() for c in columns]
    figure, axis = plt.subplots(figsize=(max(4.0, 1.3 * len(columns) + 1), 4))
    axis.boxplot(data, showfliers=False)
    axis.set_xticks(range(1, len(columns) + 1), ["all samples" if c == "cv" else c[3:] for c in columns])
    axis.set_ylabel("CV (linear intensities)")
    for i, values in enumerate(data, start=1):
        if values.size:
            axis.text(i, np.median(values), f"{np.median(values):.2f}", ha="center", va="bottom", fontsize=7)
    figure.tight_layout()
    return figure


def main(snakemake):
    from tearflow.samples import read_sample_sheet
    from tearflow.tables import read_tsv, save_figure, write_tsv

    settings = settings_with_defaults(snakemake.params.qc)
    table = read_tsv(snakemake.input.normalized)
    sheet = read_sample_sheet(snakemake.input.samples)
    annotation = table[list(ANNOTATION)]
    log2 = table.drop(columns=list(ANNOTATION)).astype(float)
    correlation = correlation_matrix(log2)
    samples = sample_qc(log2, sheet, settings, correlation)
    proteins = protein_qc(log2, annotation, sheet, settings["min_values_cv"])
    flagged = samples[samples["outlier"]]
    for _, row in flagged.iterrows():
        log.warning("outlier sample %s (kept): %s", row[SAMPLE], row["outlier_reason"])
    log.info("%d of %d samples flagged as outliers", len(flagged), len(samples))
    write_tsv(samples, snakemake.output.sample_qc)
    write_tsv(proteins, snakemake.output.protein_qc)
    explained = np.asarray(samples.attrs["explained_variance"], dtype=float)
    save_figure(missingness_figure(samples, proteins), snakemake.output.missingness)
    save_figure(distributions_figure(log2, samples), snakemake.output.distributions)
    save_figure(correlation_figure(correlation, samples), snakemake.output.correlation)
    save_figure(pca_figure(samples, explained), snakemake.output.pca)
    save_figure(cv_figure(proteins), snakemake.output.cv)


if __name__ == "__main__":
    from tearflow.errors import run_step

    run_step(main, snakemake)  # noqa: F821
