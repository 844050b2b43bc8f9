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

from tearflow.columns import ANNOTATION, PATIENT, SAMPLE, SUBGROUP, TIMEPOINT
from tearflow.errors import TearflowError

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
    """Pearson correlation of samples over proteins quantified in both (pairwise complete)."""
    return log2.corr(method="pearson", min_periods=min_proteins)


def pca_scores(log2, min_proteins=20, n_components=3):
    """PCA of samples (scikit-learn), proteins centred, not scaled.

    Uses the proteins quantified in every sample; when fewer than ``min_proteins`` are, it uses the
    proteins quantified in at least half the samples with each missing value set to that protein's
    mean (stated in the log). Returns (scores: samples × pc1.., explained variance ratios).
    """
    from sklearn.decomposition import PCA

    complete = log2.dropna()
    if len(complete) < min_proteins:
        complete = log2[log2.notna().mean(axis=1) >= 0.5]
        complete = complete.apply(lambda row: row.fillna(row.mean()), axis=1)
        log.info("PCA: fewer than %d complete proteins; %d proteins mean-filled", min_proteins, len(complete))
    data = complete.T.to_numpy(dtype=float)
    k = min(n_components, data.shape[0] - 1, data.shape[1])
    if k < 1:
        empty = pd.DataFrame(index=log2.columns, columns=["pc1", "pc2"], dtype=float)
        return empty, np.array([np.nan, np.nan])
    model = PCA(n_components=k)
    scores = model.fit_transform(data - data.mean(axis=0))
    table = pd.DataFrame(scores, index=log2.columns, columns=[f"pc{i + 1}" for i in range(k)])
    if k < 2:
        table["pc2"] = np.nan
    return table, model.explained_variance_ratio_


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


def sample_qc(log2, sheet, settings=None):
    """One row per sample: sheet columns, counts, median, mean correlation, PCs, outlier flag.

    The PCs' explained variance ratios are in ``table.attrs["explained_variance"]``.
    """
    settings = settings_with_defaults(settings)
    info = sheet.set_index(SAMPLE).reindex(log2.columns)
    correlation = correlation_matrix(log2)
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


def _colours(labels):
    import matplotlib.pyplot as plt

    palette = plt.get_cmap("tab10")
    return {label: palette(i % 10) for i, label in enumerate(dict.fromkeys(labels))}


def missingness_figure(samples, proteins):
    """Missing fraction per sample (bars, outliers in red) and per protein (histogram)."""
    import matplotlib.pyplot as plt

    colours = _colours(samples[TIMEPOINT])
    figure, axes = plt.subplots(
        1, 2, figsize=(max(8.0, 0.25 * len(samples) + 5), 3.8), gridspec_kw={"width_ratios": [2, 1]}
    )
    axes[0].bar(range(len(samples)), samples["missing_fraction"], color=[colours[t] for t in samples[TIMEPOINT]])
    axes[0].set_xticks(range(len(samples)), samples[SAMPLE], rotation=90, fontsize=7)
    for tick, outlier in zip(axes[0].get_xticklabels(), samples["outlier"]):
        tick.set_color("red" if outlier else "black")
    axes[0].set_ylabel("missing fraction")
    for label, colour in colours.items():
        axes[0].bar([0], [0], color=colour, label=label)
    axes[0].legend(fontsize=7, title=TIMEPOINT, title_fontsize=7)
    axes[1].hist(proteins["missing_fraction"], bins=20, range=(0, 1), color="0.5")
    axes[1].set_xlabel("missing fraction per protein")
    axes[1].set_ylabel("proteins")
    figure.tight_layout()
    return figure


def distributions_figure(log2, samples):
    """Box plots of each sample's normalized log2 intensities, coloured by timepoint."""
    import matplotlib.pyplot as plt

    colours = _colours(samples[TIMEPOINT])
    figure, axis = plt.subplots(figsize=(max(6.0, 0.28 * log2.shape[1] + 2), 4))
    boxes = axis.boxplot([log2[c].dropna().to_numpy() for c in log2.columns], patch_artist=True, showfliers=False)
    for box, timepoint in zip(boxes["boxes"], samples[TIMEPOINT]):
        box.set_facecolor(colours[timepoint])
    axis.set_xticks(range(1, log2.shape[1] + 1), log2.columns, rotation=90, fontsize=7)
    axis.set_ylabel("normalized log2 intensity")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colours.values()]
    axis.legend(handles, list(colours), fontsize=7, title=TIMEPOINT, title_fontsize=7)
    figure.tight_layout()
    return figure


def correlation_figure(correlation, samples):
    """Heatmap of the sample–sample correlations, samples ordered by subgroup and timepoint."""
    import matplotlib.pyplot as plt

    order = samples.sort_values([SUBGROUP, TIMEPOINT, PATIENT], kind="stable")[SAMPLE].tolist()
    matrix = correlation.loc[order, order]
    size = max(5.0, 0.22 * len(order) + 2)
    figure, axis = plt.subplots(figsize=(size + 1, size))
    image = axis.imshow(matrix.to_numpy(dtype=float), cmap="viridis")
    axis.set_xticks(range(len(order)), order, rotation=90, fontsize=6)
    axis.set_yticks(range(len(order)), order, fontsize=6)
    figure.colorbar(image, ax=axis, label="Pearson r (log2)", shrink=0.8)
    figure.tight_layout()
    return figure


def pca_figure(samples, explained):
    """PC1 vs PC2: colour = timepoint, marker = subgroup, grey lines join a patient's samples."""
    import matplotlib.pyplot as plt

    colours = _colours(samples[TIMEPOINT])
    markers = dict(zip(dict.fromkeys(samples[SUBGROUP]), "osD^vP*X"))
    figure, axis = plt.subplots(figsize=(6, 5))
    for _, visits in samples.groupby(PATIENT):
        if len(visits) > 1:
            axis.plot(visits["pc1"], visits["pc2"], color="0.8", linewidth=0.8, zorder=1)
    for (timepoint, subgroup), group in samples.groupby([TIMEPOINT, SUBGROUP], sort=False):
        axis.scatter(
            group["pc1"],
            group["pc2"],
            color=colours[timepoint],
            marker=markers[subgroup],
            label=f"{subgroup} · {timepoint}",
            zorder=2,
            edgecolor="black",
            linewidth=0.4,
        )
    for _, row in samples[samples["outlier"]].iterrows():
        axis.annotate(row[SAMPLE], (row["pc1"], row["pc2"]), color="red", fontsize=7)
    labels = [
        f"PC{i + 1}" + (f" ({100 * v:.0f} %)" if np.isfinite(v) else "")
        for i, v in enumerate(list(explained[:2]) + [np.nan] * (2 - len(explained[:2])))
    ]
    axis.set_xlabel(labels[0])
    axis.set_ylabel(labels[1])
    axis.legend(fontsize=7)
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
    samples = sample_qc(log2, sheet, settings)
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
    save_figure(correlation_figure(correlation_matrix(log2), samples), snakemake.output.correlation)
    save_figure(pca_figure(samples, explained), snakemake.output.pca)
    save_figure(cv_figure(proteins), snakemake.output.cv)


if __name__ == "__main__":
    from tearflow.errors import run_step

    run_step(main, snakemake)  # noqa: F821
