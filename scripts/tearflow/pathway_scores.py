"""Per-sample scores of the Th17 / IL-17 focus sets and their per-patient change.

Score: a rank-based single-sample score computed from that sample alone (the unidirectional
singscore of Foroutan et al. 2018, BMC Bioinformatics 19:404). In each sample the detected proteins
are ranked by log2 abundance (1 = lowest, average ranks for ties; missing values are left out); a
set's score is the mean rank of its detected proteins, scaled between the smallest and largest mean
rank ``n`` proteins could have among ``N`` detected ones and centred:

    score = (mean_rank - (n + 1) / 2) / ((2N - n + 1) / 2 - (n + 1) / 2) - 0.5

so it lies in [-0.5, 0.5]: +0.5 = the set's proteins are the most abundant of that sample, 0 = in the
middle, -0.5 = the least abundant. Because it uses only that sample's own values it does not change
when samples or sets are added to the run (gseapy's ssGSEA NES, and z-scores across samples, do),
and per-sample normalisation (a shift of the log2 values) leaves it unchanged. A set's proteins are
those whose gene symbol (``;``-separated groups: any of them) is in the set. With fewer than
``score_min_genes`` detected set proteins in a sample the score is NaN.

Change per patient = follow-up score − baseline score (``timepoints`` of the config).
"""

import logging

import numpy as np
import pandas as pd

from tearflow.columns import CHANGE, GENE, GENE_SET, PATIENT, SAMPLE, SUBGROUP, TIMEPOINT
from tearflow.errors import TearflowError
from tearflow.genesets import set_membership

log = logging.getLogger(__name__)

SCORE = "score"
SCORE_COLUMNS = [GENE_SET, SAMPLE, PATIENT, SUBGROUP, TIMEPOINT, SCORE]
CHANGE_COLUMNS = [GENE_SET, PATIENT, SUBGROUP, CHANGE]


def single_sample_scores(abundance, membership, min_genes):
    """Scores (sets × samples) from a proteins × samples log2 matrix and a proteins × sets mask.

    Vectorised over samples and sets; see the module docstring for the formula.
    """
    values = np.asarray(abundance, dtype=float)
    mask = np.asarray(membership, dtype=float)  # proteins × sets
    ranks = pd.DataFrame(values).rank(axis=0, method="average", na_option="keep").to_numpy()
    detected = ~np.isnan(ranks)
    n_detected = detected.sum(axis=0).astype(float)  # N per sample
    rank_sum = mask.T @ np.nan_to_num(ranks, nan=0.0)  # sets × samples
    n_in_set = mask.T @ detected.astype(float)  # n per set and sample
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_rank = rank_sum / n_in_set
        low = (n_in_set + 1) / 2
        high = (2 * n_detected[None, :] - n_in_set + 1) / 2
        score = (mean_rank - low) / (high - low) - 0.5
    usable = (n_in_set >= max(int(min_genes), 1)) & (n_in_set < n_detected[None, :])
    return np.where(usable, score, np.nan)


def sample_scores(abundance_table, sheet, gene_sets, min_genes):
    """Long table gene_set, sample, patient, subgroup, timepoint, score for the sheet's samples."""
    samples = [s for s in sheet[SAMPLE] if s in abundance_table.columns]
    missing = [s for s in sheet[SAMPLE] if s not in abundance_table.columns]
    if missing:
        log.info(
            "%d sheet sample(s) not in the abundance table (excluded?): %s",
            len(missing),
            ", ".join(missing),
        )
    if not samples:
        raise TearflowError(
            "abundance table: none of the sample sheet's samples is a column; expected columns "
            f"named like the sheet's 'sample' values (e.g. {sheet[SAMPLE].iloc[0]!r})"
        )
    membership = set_membership(abundance_table[GENE].tolist(), gene_sets)
    matrix = abundance_table[samples].apply(pd.to_numeric, errors="coerce").to_numpy()
    scores = single_sample_scores(matrix, membership.to_numpy(), min_genes)
    wide = pd.DataFrame(scores, index=list(gene_sets), columns=samples)
    long = wide.rename_axis(GENE_SET).reset_index().melt(id_vars=GENE_SET, var_name=SAMPLE, value_name=SCORE)
    info = sheet.set_index(SAMPLE)[[PATIENT, SUBGROUP, TIMEPOINT]]
    long = long.join(info, on=SAMPLE)
    return long[SCORE_COLUMNS].reset_index(drop=True)


def score_changes(scores, pairs):
    """Per set and paired patient: follow-up − baseline score (``pairs`` from paired_samples)."""
    from tearflow.samples import BASELINE_SAMPLE, FOLLOWUP_SAMPLE

    wide = scores.pivot(index=SAMPLE, columns=GENE_SET, values=SCORE)
    rows = []
    for gene_set in dict.fromkeys(scores[GENE_SET]):
        for _, pair in pairs.iterrows():
            base = wide[gene_set].get(pair[BASELINE_SAMPLE], np.nan)
            follow = wide[gene_set].get(pair[FOLLOWUP_SAMPLE], np.nan)
            rows.append((gene_set, pair[PATIENT], pair[SUBGROUP], follow - base))
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)
