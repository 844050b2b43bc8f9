"""Figures of the normalization step: intensity distributions before/after, and each sample's
log-ratio density with the offset every method estimates (``normalization_*.png``).

The offsets come from the normalize step's table; the densities drawn here are a display of the
log2 matrix (kernel density of each sample's log-ratios), not a reported statistic.
"""

import warnings

import numpy as np

from tearflow.normalization import (
    kde_density,
    log_ratios,
    reference_profile,
    silverman_bandwidth,
    within_patient_ratios,
)

# --------------------------------------------------------------------------------------- figures


MAX_LABELLED_SAMPLES = 60  # above this many samples figures drop per-sample names and boxes
MAX_DENSITY_PANELS = 24  # the offsets figure draws at most this many samples


def _summary_lines(axis, matrix):
    """Per-sample median (line) and interquartile range (band), samples in column order."""
    values = matrix.to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing sample gives NaN quietly
        q25, q50, q75 = np.nanpercentile(values, [25, 50, 75], axis=0)
    x = np.arange(1, values.shape[1] + 1)
    axis.fill_between(x, q25, q75, color="tab:blue", alpha=0.25, linewidth=0, label="interquartile range")
    axis.plot(x, q50, color="tab:blue", linewidth=0.8, label="median")
    axis.set_xlim(0.5, values.shape[1] + 0.5)


def distributions_figure(before, after, method):
    """Each sample's log2 intensities before and after normalization.

    Up to :data:`MAX_LABELLED_SAMPLES` samples: one box plot per sample, named. Above: a fixed-width
    summary — each sample's median (line) and interquartile range (band), in sheet order, unnamed.
    """
    import matplotlib.pyplot as plt

    n = before.shape[1]
    summary = n > MAX_LABELLED_SAMPLES
    width = 10.0 if summary else max(6.0, 0.28 * n + 2)
    figure, axes = plt.subplots(2, 1, figsize=(width, 7), sharex=True)
    for axis, matrix, title in ((axes[0], before, "log2, before"), (axes[1], after, f"after: {method}")):
        if summary:
            _summary_lines(axis, matrix)
        else:
            axis.boxplot([matrix[column].dropna().to_numpy() for column in matrix.columns], showfliers=False)
        axis.set_ylabel("log2 intensity", fontsize=10)
        axis.set_title(title, fontsize=11)
    if summary:
        axes[0].legend(fontsize=9, loc="lower right")
        axes[1].set_xlabel(f"sample (sheet order; {n} samples, names not shown)", fontsize=10)
    else:
        axes[1].set_xticks(range(1, n + 1), before.columns, rotation=90, fontsize=8)
    figure.tight_layout()
    return figure


def shown_samples(marks, limit=MAX_DENSITY_PANELS):
    """The ``limit`` samples whose marks lie furthest from zero (largest |mark| over methods), in
    their original order; every sample when there are at most ``limit``."""
    if len(marks) <= limit:
        return list(marks.index)
    extreme = marks.abs().max(axis=1).fillna(0.0).to_numpy()
    chosen = np.sort(np.argsort(-extreme, kind="stable")[:limit])
    return list(marks.index[chosen])


def offsets_figure(log2, offsets, reference="patient", bandwidth="silverman", chosen=None, patients=None, ncols=4):
    """Each sample's log-ratio density against the reference with every method's offset marked.

    With ``reference: patient`` a sample of a patient with several samples is drawn against its
    patient's mean profile and each method's offset minus the patient's mean offset is marked (the
    part that matters for paired changes); other samples are drawn against the per-protein median
    (or the reference sample) with the offset plus the mean median log-ratio, so each line sits where
    that method puts the sample's "no change" point. At most :data:`MAX_DENSITY_PANELS` samples are
    drawn — those with the most extreme marks — and the title says how many of how many.
    """
    import matplotlib.pyplot as plt

    ratios = log_ratios(log2, reference_profile(log2, reference))
    marks = offsets + ratios.median().mean()
    if reference == "patient" and patients is not None:
        patients = patients.reindex(log2.columns)
        within = within_patient_ratios(log2, patients)
        paired = within.columns[within.notna().any(axis=0)]
        ratios[paired] = within[paired]
        patient_mean = offsets.groupby(patients.to_numpy()).transform("mean")
        marks.loc[paired] = (offsets - patient_mean.to_numpy()).loc[paired]
    total = ratios.shape[1]
    shown = shown_samples(marks.reindex(ratios.columns))
    ratios = ratios[shown]
    n = len(shown)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    figure, axes = plt.subplots(nrows, ncols, figsize=(3.0 * ncols, 2.2 * nrows + 0.6), squeeze=False, sharex=True)
    colours = {"median": "tab:blue", "mode": "tab:red", "trimmed": "tab:green"}
    colours["reference_set"] = "tab:purple"
    finite = ratios.to_numpy()[np.isfinite(ratios.to_numpy())]
    low, high = np.percentile(finite, [1, 99]) if finite.size else (-1, 1)
    grid = np.linspace(low - 0.5, high + 0.5, 400)
    for index, sample in enumerate(ratios.columns):
        axis = axes[index // ncols][index % ncols]
        values = ratios[sample].dropna().to_numpy()
        width = silverman_bandwidth(values) if bandwidth in (None, "silverman") else float(bandwidth)
        if values.size >= 3 and width > 0:
            axis.fill_between(grid, kde_density(values, grid, width), color="0.85")
        for method in offsets.columns:
            style = "-" if method == chosen else "--"
            axis.axvline(
                marks.loc[sample, method],
                color=colours.get(method, "black"),
                linestyle=style,
                linewidth=1.2,
                label=method,
            )
        axis.set_title(sample, fontsize=9)
        axis.tick_params(labelsize=8)
    for index in range(n, nrows * ncols):
        axes[index // ncols][index % ncols].axis("off")
    handles, labels = axes[0][0].get_legend_handles_labels()
    title = f"{n} of {total} samples shown (largest offsets)" if n < total else f"all {total} samples"
    figure.suptitle(title, fontsize=11)
    figure.legend(
        handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.965), ncol=len(labels), fontsize=9, frameon=False
    )
    figure.supxlabel(f"log2 ratio to the reference ({reference})", fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 0.93))
    return figure
