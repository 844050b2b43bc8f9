"""Figure of DPC quantification: the detection probability curve with the observed detection rates
(what limpa's ``plotDPC`` shows, binned), drawn from the tables rule quantify wrote."""

import numpy as np


def detection_curve_figure(bins, curve):
    """Observed share of samples in which precursors were detected, per bin of their (complete-data)
    mean log2 intensity (point area ~ precursors in the bin), and the fitted curve
    P(detected) = logistic(intercept + slope · log2 intensity). ``bins``: results/qc/dpc_detection.tsv;
    ``curve``: the one row of results/qc/dpc.tsv."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
    x = bins["mean_log2_intensity"].to_numpy(dtype=float)
    counts = bins["n_rows"].to_numpy(dtype=float)
    axis.scatter(x, bins["detected_fraction"], s=12 + 120 * counts / max(counts.max(), 1), color="tab:blue",
                 alpha=0.7, label="observed (per intensity bin)", zorder=3)  # fmt: skip
    low, high = float(bins["bin_left"].min()), float(bins["bin_right"].max())
    grid = np.linspace(low, high, 200)
    intercept, slope = float(curve["intercept"]), float(curve["slope"])
    axis.plot(grid, 1 / (1 + np.exp(-(intercept + slope * grid))), color="tab:red",
              label=f"fitted ({curve['model']}): β0 = {intercept:.2f}, β1 = {slope:.3f}")  # fmt: skip
    axis.set_ylim(-0.02, 1.02)
    axis.set_xlabel("log2 intensity (complete-data mean)")
    axis.set_ylabel("detection probability")
    rows, samples = int(curve["n_rows"]), int(curve["n_samples"])
    axis.set_title(f"Detection probability curve: {rows} rows × {samples} samples, "
                   f"{100 * float(curve['share_missing']):.1f} % missing", fontsize=10)  # fmt: skip
    axis.legend(fontsize=8, loc="lower right")
    return figure
