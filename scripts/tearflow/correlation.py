"""Spearman correlations of per-patient changes: one procedure for the ELISA and the clinical joins.

An *outcome* is something measured per patient (an ELISA analyte's log2 change; a clinical
endpoint's change or improvement at a visit); a *feature* is a per-patient tear change (a focus-set
score, one of the proteins that changed most in the ``all`` contrast, the analyte's own protein, an
ELISA analyte). Every outcome is correlated with every feature, in each subgroup and in ``all``:

- Spearman's ρ over the patients with both values, with a two-sided permutation p
  (:func:`tearflow.nonparametric.spearman_permutation`: exact when n! ≤ ``permutations``, else
  ``permutations`` seeded random orderings, p never 0); fewer than ``min_patients`` patients
  → ρ and p NaN, never p = 0;
- Benjamini–Hochberg within each family: subgroup × outcome visit (where outcomes have visits) ×
  feature type, across outcomes and features.

The ``correlation`` config section sets ``min_patients``, ``top_proteins``, ``permutations`` and
``fdr`` (the mark in the heatmaps) for both joins.
"""

import numpy as np
import pandas as pd

from tearflow.columns import CHANGE, FDR, GENE, PATIENT, PROTEIN, PVALUE, SUBGROUP
from tearflow.contrasts import CONTRAST_ALL
from tearflow.multiple_testing import bh_adjust

FEATURE_TYPE = "feature_type"
FEATURE = "feature"
FEATURE_GENE = "feature_gene"
N_PATIENTS = "n_patients"
RHO = "rho"
#: a feature that applies to one outcome only (the analyte's own protein); "": to every outcome
FOR_OUTCOME = "for_outcome"
EVERY_OUTCOME = ""
#: the columns every correlation table ends with, after its outcome columns
CORRELATION_COLUMNS = [FEATURE_TYPE, FEATURE, FEATURE_GENE, SUBGROUP, N_PATIENTS, RHO, PVALUE, FDR]
#: the columns of a long feature table
FEATURE_COLUMNS = [FEATURE_TYPE, FEATURE, FEATURE_GENE, FOR_OUTCOME, PATIENT, CHANGE]

GENE_SET_FEATURE = "gene_set"
PROTEIN_FEATURE = "protein"
SAME_GENE_FEATURE = "same_gene"
ELISA_FEATURE = "elisa"


def spearman(x, y, min_patients, permutations, rng):
    """(ρ, p, n) over the patients where both ``x`` and ``y`` are known; (NaN, NaN, n) when fewer
    than ``min_patients`` (at least 3) or either is constant."""
    from tearflow.nonparametric import spearman_permutation

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    both = ~np.isnan(x) & ~np.isnan(y)
    n = int(both.sum())
    if n < max(int(min_patients), 3):
        return np.nan, np.nan, n
    rho, pvalue = spearman_permutation(x[both], y[both], int(permutations), rng)
    return float(rho), float(pvalue), n


def feature_table(feature_type, feature, feature_gene, patients, changes, for_outcome=EVERY_OUTCOME):
    """One feature in the long layout of :data:`FEATURE_COLUMNS`."""
    return pd.DataFrame(
        {
            FEATURE_TYPE: feature_type,
            FEATURE: feature,
            FEATURE_GENE: feature_gene,
            FOR_OUTCOME: for_outcome,
            PATIENT: pd.Series(patients, dtype=str).to_numpy(),
            CHANGE: pd.to_numeric(pd.Series(changes), errors="coerce").to_numpy(dtype=float),
        }
    )


def wide_column_features(wide, prefix, feature_type, genes=None, for_outcome=None):
    """Features from a per-patient wide table's ``<prefix><name>`` columns (the joined patients
    table): one feature per column, named ``<name>``; ``genes`` / ``for_outcome`` map a name to its
    gene and to the one outcome it applies to."""
    genes, for_outcome = genes or {}, for_outcome or {}
    parts = [
        feature_table(
            feature_type,
            column[len(prefix) :],
            genes.get(column[len(prefix) :]),
            wide[PATIENT],
            wide[column],
            for_outcome.get(column[len(prefix) :], EVERY_OUTCOME),
        )
        for column in wide.columns
        if str(column).startswith(prefix)
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=FEATURE_COLUMNS)


def top_protein_features(differential_all, patient_changes, count):
    """The per-patient changes of the ``count`` proteins with the smallest p-value in the ``all``
    contrast, as features (ties keep the differential table's order; untested proteins never)."""
    columns = pd.DataFrame(columns=FEATURE_COLUMNS)
    if differential_all is None or count <= 0:
        return columns
    tested = differential_all.dropna(subset=[PVALUE]).sort_values(PVALUE, kind="stable")
    changes = patient_changes.assign(**{PROTEIN: patient_changes[PROTEIN].astype(str)}).drop_duplicates(PROTEIN)
    measured = set(changes[PROTEIN])
    chosen = [protein for protein in tested[PROTEIN].astype(str) if protein in measured][: int(count)]
    patients = [column for column in changes.columns if column not in (PROTEIN, GENE)]
    indexed = changes.set_index(PROTEIN)
    parts = [
        feature_table(PROTEIN_FEATURE, protein, indexed.loc[protein, GENE], patients, indexed.loc[protein, patients])
        for protein in chosen
    ]
    return pd.concat(parts, ignore_index=True) if parts else columns


def correlations(outcomes, outcome_keys, features, subgroup_of, subgroups, settings, seed, visit_key=None):
    """Every outcome × feature Spearman correlation in each subgroup and ``all``.

    ``outcomes``: long table with the ``outcome_keys`` columns, ``patient`` and ``value``;
    ``features``: long table of :data:`FEATURE_COLUMNS`; ``subgroup_of``: {patient: subgroup};
    ``settings``: the ``correlation`` config section; ``visit_key``: the outcome column that is a
    visit (one BH family per visit), if any. Returns the outcome columns then
    :data:`CORRELATION_COLUMNS`, one row per group × outcome × feature (in that order).
    """
    columns = list(outcome_keys) + CORRELATION_COLUMNS
    if outcomes.empty or features.empty:
        return pd.DataFrame(columns=columns)
    rng = np.random.default_rng(seed)
    outcome_wide = outcomes.pivot_table(index=PATIENT, columns=list(outcome_keys), values="value", aggfunc="first")
    identity = [FEATURE_TYPE, FEATURE, FOR_OUTCOME]
    keys = features[[FEATURE_TYPE, FEATURE, FEATURE_GENE, FOR_OUTCOME]].drop_duplicates(identity)
    feature_wide = features.pivot_table(
        index=PATIENT, columns=identity, values=CHANGE, aggfunc="first", dropna=False
    )
    patients = [p for p in outcome_wide.index if p in set(feature_wide.index)]
    outcome_list = list(dict.fromkeys(outcomes[list(outcome_keys)].itertuples(index=False, name=None)))
    rows = []
    for group in list(subgroups) + [CONTRAST_ALL]:
        members = [p for p in patients if group == CONTRAST_ALL or subgroup_of.get(p) == group]
        x_table = outcome_wide.reindex(members)
        y_table = feature_wide.reindex(members)
        for outcome in outcome_list:
            x = x_table[outcome if len(outcome) > 1 else outcome[0]].to_numpy(dtype=float)
            for feature_type, feature, feature_gene, for_outcome in keys.itertuples(index=False, name=None):
                if for_outcome != EVERY_OUTCOME and for_outcome != outcome[0]:
                    continue
                y = y_table[(feature_type, feature, for_outcome)].to_numpy(dtype=float)
                rho, pvalue, n = spearman(x, y, settings["min_patients"], settings["permutations"], rng)
                rows.append((*outcome, feature_type, feature, feature_gene, group, n, rho, pvalue, np.nan))
    table = pd.DataFrame(rows, columns=columns)
    family = [SUBGROUP] + ([visit_key] if visit_key else []) + [FEATURE_TYPE]
    for _, members in table.groupby(family, sort=False):
        table.loc[members.index, FDR] = bh_adjust(members[PVALUE].to_numpy(dtype=float))
    return table
