"""Figures of the quality-control step (``qc_*.png``): missingness, distributions, sample
correlation, PCA and protein CV, drawn from the tables the ``qc`` step wrote."""

import warnings

import numpy as np

from tearflow.columns import PATIENT, SAMPLE, SUBGROUP, TIMEPOINT
from tearflow.figures.palette import subgroup_colours

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

    Sample (or block) names are written in their subgroup's colour (:mod:`tearflow.figures.palette`,
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
