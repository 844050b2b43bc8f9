"""Do the patients whose tears changed most get better? Clinical change against tear change.

Per patient, the clinical change from baseline at ``clinical_analysis.correlate_visits`` (default
week 2 and week 4; from ``results/clinical/values.tsv``) is set against three kinds of tear change
between ``timepoints.baseline`` and ``timepoints.followup``:

- ``gene_set``: focus gene-set score changes (``results/enrichment/score_changes.tsv``);
- ``protein``: the ``clinical_analysis.top_proteins`` proteins with the smallest p-values in
  ``results/differential/all.tsv``, per-patient log2 changes from
  ``results/differential/patient_changes.tsv``;
- ``elisa``: log2(follow-up / baseline) of each ELISA analyte, as the ELISA step computed it
  (``elisa_<analyte>`` columns of ``results/joined/patients.tsv``), when ELISA is configured.

Spearman's rank correlation per endpoint × visit × feature, in each subgroup and in ``all`` (permutation
p-values, ``clinical_analysis.correlation_permutations``, seeded by ``seed``),
Benjamini–Hochberg within subgroup × visit × feature type (across endpoints and features)
→ ``results/clinical/correlations.tsv``.
"""

import logging

import numpy as np
import pandas as pd

from tearflow.clinical import CHANGE, ENDPOINT, IMPROVEMENT, N_PATIENTS, VISIT
from tearflow.columns import ELISA_PREFIX, FDR, GENE, GENE_SET, PATIENT, PROTEIN, PVALUE, SUBGROUP
from tearflow.contrasts import CONTRAST_ALL
from tearflow.errors import TearflowError
from tearflow.multiple_testing import bh_adjust
from tearflow.nonparametric import spearman_permutation

log = logging.getLogger(__name__)

# columns of results/clinical/correlations.tsv
CLINICAL_MEASURE = "clinical_measure"  # improvement | change
FEATURE_TYPE = "feature_type"  # gene_set | protein | elisa
FEATURE = "feature"
RHO = "rho"
FEATURE_TYPES = ("gene_set", "elisa", "protein")
CORRELATE_WITH = (IMPROVEMENT, CHANGE)

# columns of the inputs made by other steps
SCORE_CHANGE = "change"  # results/enrichment/score_changes.tsv


def require_columns(table, columns, path):
    """Raise when ``table`` (read from ``path``) lacks any of ``columns``."""
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise TearflowError(
            f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(columns)} "
            f"(found {', '.join(map(str, table.columns))})"
        )


def clinical_measures(values, visits, measure=IMPROVEMENT):
    """Per patient × endpoint × visit the clinical number to correlate: ``improvement`` (change
    signed so that positive is better) or the raw ``change`` (visit − baseline); long table
    patient, subgroup, endpoint, visit, clinical. Visits not in the table are logged."""
    if measure not in CORRELATE_WITH:
        raise TearflowError(
            f"config key 'clinical_analysis.correlate_with': found {measure!r}; expected one of "
            f"{', '.join(CORRELATE_WITH)}"
        )
    absent = [visit for visit in visits if visit not in set(values[VISIT])]
    if absent:
        log.warning("no clinical values at visit(s) %s; nothing to correlate there", absent)
    chosen = values[values[VISIT].isin(visits)].dropna(subset=[measure])
    out = chosen[[PATIENT, SUBGROUP, ENDPOINT, VISIT, measure]].rename(columns={measure: "clinical"})
    return out.reset_index(drop=True)


def gene_set_features(score_changes):
    """Focus gene-set score changes as features: feature_type, feature, gene, patient, change."""
    return pd.DataFrame(
        {
            FEATURE_TYPE: "gene_set",
            FEATURE: score_changes[GENE_SET].astype(str),
            GENE: pd.NA,
            PATIENT: score_changes[PATIENT].astype(str),
            CHANGE: pd.to_numeric(score_changes[SCORE_CHANGE], errors="coerce"),
        }
    )


def top_protein_features(differential, patient_changes, top_n=20):
    """Per-patient log2 changes of the ``top_n`` proteins with the smallest p-values as features.

    Proteins without a p-value are never chosen; ties keep the differential table's order. The
    patient columns of ``patient_changes`` are every column after ``protein`` and ``gene``.
    """
    tested = differential.dropna(subset=[PVALUE])
    top = tested.sort_values(PVALUE, kind="stable").head(int(top_n))[PROTEIN].astype(str)
    changes = patient_changes.assign(**{PROTEIN: patient_changes[PROTEIN].astype(str)})
    changes = changes[changes[PROTEIN].isin(set(top))].drop_duplicates(PROTEIN)
    patients = [column for column in changes.columns if column not in (PROTEIN, GENE)]
    long = changes.melt(id_vars=[PROTEIN, GENE], value_vars=patients, var_name=PATIENT, value_name=CHANGE)
    rank = {protein: i for i, protein in enumerate(top)}
    long = long.assign(_rank=long[PROTEIN].map(rank)).sort_values(["_rank", PATIENT], kind="stable")
    return pd.DataFrame(
        {
            FEATURE_TYPE: "protein",
            FEATURE: long[PROTEIN].to_numpy(),
            GENE: long[GENE].to_numpy(),
            PATIENT: long[PATIENT].astype(str).to_numpy(),
            CHANGE: pd.to_numeric(long[CHANGE], errors="coerce").to_numpy(),
        }
    )


def elisa_features(joined_patients):
    """ELISA log2(follow-up / baseline) per patient × analyte as features, from the ELISA step's
    ``results/joined/patients.tsv`` (one ``elisa_<analyte>`` column per analyte)."""
    analytes = [c for c in joined_patients.columns if str(c).startswith(ELISA_PREFIX)]
    long = joined_patients.melt(id_vars=[PATIENT], value_vars=analytes, var_name=FEATURE, value_name=CHANGE)
    return pd.DataFrame(
        {
            FEATURE_TYPE: "elisa",
            FEATURE: long[FEATURE].str[len(ELISA_PREFIX) :].to_numpy(),
            GENE: pd.NA,
            PATIENT: long[PATIENT].astype(str).to_numpy(),
            CHANGE: pd.to_numeric(long[CHANGE], errors="coerce").to_numpy(),
        }
    )


def spearman(x, y, min_n=5, permutations=9999, rng=None):
    """Spearman's rho over the complete pairs of ``x`` and ``y`` with a two-sided permutation p
    (:func:`tearflow.nonparametric.spearman_permutation`: exact over all n! pairings when n! ≤
    ``permutations`` and n ≤ 9, else ``permutations`` random pairings, p never 0).

    Fewer than ``min_n`` complete pairs (at least 3), or a constant vector → (NaN, NaN, n).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    both = ~np.isnan(x) & ~np.isnan(y)
    n = int(both.sum())
    if n < max(int(min_n), 3):
        return np.nan, np.nan, n
    rho, pvalue = spearman_permutation(x[both], y[both], int(permutations), rng)
    return float(rho), float(pvalue), n


def clinical_correlations(clinical, features, subgroups, min_patients=5, measure=IMPROVEMENT,
                          permutations=9999, seed=None):  # fmt: skip
    """Spearman between every clinical endpoint × visit and every feature, per subgroup and ``all``.

    Columns: endpoint, visit, clinical_measure, feature_type, feature, gene, subgroup, n_patients,
    rho, pvalue, fdr (BH within subgroup × visit × feature type). A patient's subgroup is the one of
    the clinical table; patients in only one of the two tables are left out of that pair.
    """
    columns = [ENDPOINT, VISIT, CLINICAL_MEASURE, FEATURE_TYPE, FEATURE, GENE, SUBGROUP,
               N_PATIENTS, RHO, PVALUE, FDR]  # fmt: skip
    if clinical.empty or features.empty:
        return pd.DataFrame(columns=columns)
    clinical_wide = clinical.pivot_table(index=PATIENT, columns=[ENDPOINT, VISIT], values="clinical", aggfunc="first")
    feature_keys = features[[FEATURE_TYPE, FEATURE]].drop_duplicates()
    feature_wide = features.pivot_table(
        index=PATIENT, columns=[FEATURE_TYPE, FEATURE], values=CHANGE, aggfunc="first",
        dropna=False,
    )  # fmt: skip
    genes = features.drop_duplicates([FEATURE_TYPE, FEATURE]).set_index([FEATURE_TYPE, FEATURE])[GENE]
    patients = sorted(set(clinical_wide.index) & set(feature_wide.index))
    subgroup_of = clinical.drop_duplicates(PATIENT).set_index(PATIENT)[SUBGROUP]
    endpoint_visits = list(dict.fromkeys(zip(clinical[ENDPOINT], clinical[VISIT])))
    rng = np.random.default_rng(seed)
    rows = []
    for subgroup in list(subgroups) + [CONTRAST_ALL]:
        members = [p for p in patients if subgroup == CONTRAST_ALL or subgroup_of[p] == subgroup]
        for endpoint, visit in endpoint_visits:
            x = clinical_wide.reindex(members)[(endpoint, visit)].to_numpy(dtype=float)
            for feature_type, feature in feature_keys.itertuples(index=False):
                y = feature_wide.reindex(members)[(feature_type, feature)].to_numpy(dtype=float)
                rho, pvalue, n = spearman(x, y, min_patients, permutations, rng)
                rows.append(
                    {
                        ENDPOINT: endpoint,
                        VISIT: visit,
                        CLINICAL_MEASURE: measure,
                        FEATURE_TYPE: feature_type,
                        FEATURE: feature,
                        GENE: genes[(feature_type, feature)],
                        SUBGROUP: subgroup,
                        N_PATIENTS: n,
                        RHO: rho,
                        PVALUE: pvalue,
                    }
                )
    table = pd.DataFrame(rows)
    table[FDR] = np.nan
    for _, family in table.groupby([SUBGROUP, VISIT, FEATURE_TYPE], sort=False):
        table.loc[family.index, FDR] = bh_adjust(family[PVALUE].to_numpy())
    return table[columns]


def molecular_features(score_changes, differential, patient_changes, joined_patients, settings):
    """All tear-change features in one long table (gene sets, then ELISA, then proteins)."""
    parts = [gene_set_features(score_changes)]
    if joined_patients is not None:
        parts.append(elisa_features(joined_patients))
    parts.append(top_protein_features(differential, patient_changes, settings["top_proteins"]))
    parts = [part for part in parts if not part.empty]
    if not parts:
        return pd.DataFrame(columns=[FEATURE_TYPE, FEATURE, GENE, PATIENT, CHANGE])
    return pd.concat(parts, ignore_index=True)
