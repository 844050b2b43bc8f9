"""ELISA figures: paired before/after lines, ELISA change vs focus-score change, correlation heatmap.

Plots only: every number shown (p, ρ, FDR) is read from the tables the ELISA and join steps wrote.
"""

import logging
import math

import numpy as np
import pandas as pd

from tearflow.columns import SUBGROUP
from tearflow.contrasts import CONTRAST_ALL
from tearflow.correlation import FEATURE_TYPE, GENE_SET_FEATURE, N_PATIENTS, PROTEIN_FEATURE, SAME_GENE_FEATURE
from tearflow.figures.palette import subgroup_colours

log = logging.getLogger(__name__)

CENSORED_STATUSES = ("below_lloq", "above_uloq")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _log_tick_label(value, _position=None):
    """Plain numbers at 1, 2 and 5 × a power of ten on a log axis; no label at the other ticks."""
    if not value > 0:
        return ""
    mantissa = value / 10 ** math.floor(math.log10(value))
    return f"{value:g}" if min(abs(mantissa - m) for m in (1, 2, 5, 10)) < 1e-6 else ""


def _empty_figure(message):
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(5, 2))
    axis.axis("off")
    axis.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    return figure


def paired_figure(changes, tests, subgroups, timepoints):
    """Rows: analytes; columns: subgroups. One line per patient, baseline → follow-up (pg/mL, log
    scale); open markers are censored values; the black line joins the medians."""
    if changes.empty:
        return _empty_figure("no ELISA baseline/follow-up pairs")
    plt = _pyplot()
    from matplotlib.collections import LineCollection
    from matplotlib.ticker import FuncFormatter

    analytes = sorted(changes["analyte"].unique())
    colours = subgroup_colours(subgroups)
    figure, axes = plt.subplots(
        len(analytes),
        len(subgroups),
        squeeze=False,
        figsize=(2.6 * len(subgroups) + 0.8, 2.3 * len(analytes)),
        sharey="row",
    )
    for i, analyte in enumerate(analytes):
        for j, subgroup in enumerate(subgroups):
            axis = axes[i][j]
            mine = changes[(changes["analyte"] == analyte) & (changes[SUBGROUP] == subgroup)]
            # one collection of lines and two scatters per panel (not one artist per patient)
            before = mine["baseline"].to_numpy(dtype=float)
            after = mine["followup"].to_numpy(dtype=float)
            alpha = 0.6 if len(mine) <= 60 else 0.25
            segments = [((0, b), (1, a)) for b, a in zip(before, after)]
            axis.add_collection(LineCollection(segments, colors=colours[subgroup], alpha=alpha, linewidths=1))
            xs = np.r_[np.zeros(len(mine)), np.ones(len(mine))]
            ys = np.r_[before, after]
            censored = np.r_[
                mine["baseline_status"].isin(CENSORED_STATUSES).to_numpy(),
                mine["followup_status"].isin(CENSORED_STATUSES).to_numpy(),
            ]
            size = 16 if len(mine) <= 60 else 6
            axis.scatter(xs[~censored], ys[~censored], s=size, zorder=3, color=colours[subgroup])
            axis.scatter(xs[censored], ys[censored], s=size, zorder=3, facecolor="white", edgecolor=colours[subgroup])
            test = tests[(tests["analyte"] == analyte) & (tests["contrast"] == subgroup)]
            if len(test) and len(mine):
                # the medians the paired test reports (results/elisa/paired_tests.tsv), not recomputed
                axis.plot(
                    [0, 1],
                    [test.iloc[0]["median_baseline"], test.iloc[0]["median_followup"]],
                    color="black",
                    linewidth=2.2,
                    zorder=4,
                )
            label = f"{subgroup}: {analyte}"
            if len(test):
                row = test.iloc[0]
                p = row["wilcoxon_p"]
                label += f"\nn={int(row['n_pairs'])}, Wilcoxon p=" + ("NA" if pd.isna(p) else f"{p:.2g}")
            axis.set_title(label, fontsize=8)
            axis.set_xticks([0, 1], [timepoints["baseline"], timepoints["followup"]])
            axis.set_xlim(-0.3, 1.3)
            axis.set_yscale("log")
            plain = FuncFormatter(_log_tick_label)  # 1, 2, 5, 10, 20, 50 — not 2×10¹
            axis.yaxis.set_major_formatter(plain)
            axis.yaxis.set_minor_formatter(plain)
            axis.tick_params(axis="y", which="both", labelsize=8)
            if j == 0:
                axis.set_ylabel(f"{analyte} (pg/mL)")
    censoring = tests["censoring"].iloc[0] if len(tests) else "?"
    figure.suptitle(
        f"ELISA before/after per patient (open = censored, policy {censoring}; black = medians)", fontsize=9
    )
    figure.tight_layout()
    return figure


def focus_scatter_figure(patients, correlations, subgroups, max_sets=4):
    """ELISA log2 change (y) vs focus-set score change (x); rows: analytes, columns: focus sets."""
    elisa_columns = [c for c in patients.columns if c.startswith("elisa_")]
    score_columns = [c for c in patients.columns if c.startswith("score_")][:max_sets]
    empty = [c for c in score_columns if pd.to_numeric(patients[c], errors="coerce").isna().all()]
    if empty:  # a focus set no patient has a score for: an empty column of panels, said in the log
        log.info("focus-set score columns without any value (not drawn): %s", ", ".join(empty))
        score_columns = [c for c in score_columns if c not in empty]
    if not elisa_columns or not score_columns:
        return _empty_figure("no ELISA changes or no focus-set score changes to compare")
    plt = _pyplot()
    colours = subgroup_colours(subgroups)
    figure, axes = plt.subplots(
        len(elisa_columns),
        len(score_columns),
        squeeze=False,
        figsize=(3.0 * len(score_columns) + 0.6, 2.5 * len(elisa_columns)),
    )
    for i, elisa_column in enumerate(elisa_columns):
        analyte = elisa_column[len("elisa_") :]
        for j, score_column in enumerate(score_columns):
            gene_set = score_column[len("score_") :]
            axis = axes[i][j]
            for subgroup in subgroups:
                mine = patients[patients[SUBGROUP] == subgroup]
                size = 18 if len(patients) <= 60 else 5
                axis.scatter(mine[score_column], mine[elisa_column], s=size, label=subgroup, color=colours[subgroup])
            axis.axhline(0, color="grey", linewidth=0.6)
            axis.axvline(0, color="grey", linewidth=0.6)
            found = correlations[
                (correlations["analyte"] == analyte)
                & (correlations["feature"] == gene_set)
                & (correlations[FEATURE_TYPE] == GENE_SET_FEATURE)
                & (correlations[SUBGROUP] == CONTRAST_ALL)
            ]
            if len(found):
                row = found.iloc[0]
                text = (
                    "ρ=NA" if pd.isna(row["rho"]) else f"ρ={row['rho']:.2f}, p={row['pvalue']:.2g}"
                ) + f", n={int(row[N_PATIENTS])}"
                axis.text(
                    0.02,
                    0.97,
                    text,
                    transform=axis.transAxes,
                    va="top",
                    fontsize=8,
                    zorder=5,
                    bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none", "pad": 1.5},
                )
            if i == 0:
                axis.set_title(gene_set[:40], fontsize=9)
            if i == len(elisa_columns) - 1:
                axis.set_xlabel("focus-set score change", fontsize=9)
            if j == 0:
                axis.set_ylabel(f"{analyte} log2 change", fontsize=9)
    axes[0][0].legend(fontsize=8, loc="lower right", markerscale=1.5)
    figure.suptitle("ELISA change vs Th17/IL-17 focus-set score change (ρ over all patients)", fontsize=9)
    figure.tight_layout()
    return figure


def heatmap_figure(correlations, subgroups, fdr=0.05):
    """Spearman ρ, analytes × features, one panel per group; '*' where BH FDR < ``fdr``."""
    if correlations.empty:
        return _empty_figure("no correlations to show")
    plt = _pyplot()
    groups = [g for g in list(subgroups) + [CONTRAST_ALL] if g in set(correlations[SUBGROUP])]
    group_colours = subgroup_colours(subgroups)  # panel titles; "all" stays black
    labels = correlations.assign(
        label=np.where(
            correlations[FEATURE_TYPE] == SAME_GENE_FEATURE,
            "MS: own gene",
            np.where(
                correlations[FEATURE_TYPE] == PROTEIN_FEATURE,
                "MS: "
                + correlations["feature_gene"].fillna("").astype(str)
                + " "
                + correlations["feature"].astype(str),
                correlations["feature"].astype(str),
            ),
        )
    )
    features = list(dict.fromkeys(labels["label"]))
    analytes = sorted(labels["analyte"].unique())
    figure, axes = plt.subplots(
        1, len(groups), squeeze=False, figsize=(0.5 * len(features) * len(groups) + 2.5, 0.55 * len(analytes) + 3.4)
    )
    image = None
    colours = plt.get_cmap("RdBu_r").copy()
    colours.set_bad("lightgrey")
    for axis, group in zip(axes[0], groups):
        mine = labels[labels[SUBGROUP] == group]
        rho = mine.pivot_table(index="analyte", columns="label", values="rho", aggfunc="first", dropna=False).reindex(
            index=analytes, columns=features
        )
        q = mine.pivot_table(index="analyte", columns="label", values="fdr", aggfunc="first", dropna=False).reindex(
            index=analytes, columns=features
        )
        image = axis.imshow(rho.to_numpy(float), cmap=colours, vmin=-1, vmax=1, aspect="auto")
        for r in range(len(analytes)):
            for c in range(len(features)):
                value = q.iat[r, c]
                if not (value is None or (isinstance(value, float) and math.isnan(value))) and value < fdr:
                    axis.text(c, r, "*", ha="center", va="center", fontsize=10)
        axis.set_xticks(range(len(features)), [f[:30] for f in features], rotation=90, fontsize=8)
        axis.set_yticks(range(len(analytes)), analytes, fontsize=9)
        axis.set_title(group, fontsize=11, color=group_colours.get(group, "black"))
    figure.colorbar(image, ax=list(axes[0]), shrink=0.7, label="Spearman ρ")
    figure.suptitle(
        f"ELISA change vs focus scores and proteins (* BH FDR < {fdr:g}; grey = too few patients)", fontsize=11
    )
    return figure
