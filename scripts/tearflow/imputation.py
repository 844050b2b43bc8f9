"""Optional imputation of the normalized log2 matrix, with every imputed cell flagged.

The statistics run on the unimputed matrix by default (``imputation.method: none``); this step
exists for analyses that need a complete matrix (PCA, clustering, some figures) and for sensitivity
checks. Methods:

``left_censored``
    Perseus-style down-shifted normal, per sample: missing values are drawn from
    N(mean − shift·sd, (width·sd)²) of that sample's observed log2 values (Tyanova et al. 2016,
    Nat Methods 13:731) — for values missing because they fell below the detection limit.
``knn``
    scikit-learn ``KNNImputer``: a missing value is the mean of the same sample in the
    ``knn_neighbors`` proteins with the most similar profiles (nan-Euclidean distance across samples;
    Troyanskaya et al. 2001) — for values missing at random.
"""

import logging

import numpy as np
import pandas as pd

from tearflow.columns import SAMPLE
from tearflow.errors import TearflowError

log = logging.getLogger(__name__)

METHODS = ("none", "left_censored", "knn")


def left_censored_imputed(log2, shift=1.8, width=0.3, seed=0):
    """Missing values drawn per sample from N(mean − shift·sd, (width·sd)²) of its observed values."""
    rng = np.random.default_rng(seed)
    result = log2.copy()
    for sample in log2.columns:
        observed = log2[sample].dropna()
        missing = log2[sample].isna().to_numpy()
        if not missing.any():
            continue
        if len(observed) < 2:
            raise TearflowError(
                f"imputation.method left_censored: sample {sample} has {len(observed)} quantified "
                "protein(s); expected at least 2 to estimate its distribution"
            )
        mean, sd = observed.mean(), observed.std(ddof=1)
        result.loc[missing, sample] = rng.normal(mean - shift * sd, width * sd, int(missing.sum()))
    return result


def knn_imputed(log2, neighbors=5):
    """Missing values from the ``neighbors`` most similar proteins (scikit-learn ``KNNImputer``).

    Proteins are the observations and samples the features; a protein with no observed value keeps
    NaN (nothing to measure its similarity with).
    """
    from sklearn.impute import KNNImputer

    result = log2.copy()
    usable = log2.notna().any(axis=1).to_numpy()
    if usable.sum() == 0:
        return result
    empty = log2.columns[log2.notna().sum(axis=0) == 0]
    if len(empty):
        raise TearflowError(
            f"imputation.method knn: sample(s) {', '.join(empty)} have no quantified protein; "
            "expected at least one (exclude them with normalization.exclude_samples)"
        )
    imputer = KNNImputer(n_neighbors=int(neighbors), keep_empty_features=True)
    result.loc[usable, :] = imputer.fit_transform(log2.loc[usable].to_numpy())
    return result


def imputed_matrix(log2, settings, seed):
    """(imputed matrix, mask of imputed cells) for ``settings["method"]``."""
    method = settings["method"]
    if method == "left_censored":
        imputed = left_censored_imputed(log2, settings["shift"], settings["width"], seed)
    elif method == "knn":
        imputed = knn_imputed(log2, settings["knn_neighbors"])
    else:
        imputed = log2.copy()
    mask = log2.isna() & imputed.notna()
    return imputed, mask


def imputation_summary(log2, mask, method):
    """Per sample and overall: ``sample, method, n_values, n_missing, n_imputed, share_imputed``."""
    n_values = pd.Series(len(log2), index=log2.columns)
    table = pd.DataFrame(
        {
            SAMPLE: list(log2.columns) + ["all"],
            "method": method,
            "n_values": list(n_values) + [int(n_values.sum())],
            "n_missing": list(log2.isna().sum()) + [int(log2.isna().sum().sum())],
            "n_imputed": list(mask.sum()) + [int(mask.sum().sum())],
        }
    )
    table["share_imputed"] = table["n_imputed"] / table["n_values"].where(table["n_values"] > 0)
    return table
