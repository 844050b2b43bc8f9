"""Join the ELISA results with the mass-spec proteome and the Th17/IL-17 focus-set scores.

Three tables (``results/joined/``):

- ``analytes.tsv``: per analyte × contrast, the ELISA paired test beside the mass-spec protein of the
  same gene (log2fc, fdr, n_pairs — or a note that it was not detected) and the focus sets'
  enrichment in that contrast;
- ``patients.tsv``: per patient, the subgroup, each analyte's log2 change (``elisa_<analyte>``), the
  focus-set score changes (``score_<gene set>``) and the mass-spec changes of the analyte genes
  (``ms_<gene>``);
- ``correlations.tsv``: Spearman ρ between each analyte's change and each focus-set score change,
  each of the top changed proteins and the analyte's own protein, per subgroup and over all patients
  (:func:`elisa_correlations`, by :mod:`tearflow.correlation`).

The clinical join (:func:`clinical_correlations`, ``results/clinical/correlations.tsv``) sets each
patient's clinical change against the same kinds of tear change, by the same procedure.
"""

import logging
import math

import numpy as np
import pandas as pd

from tearflow.clinical import ENDPOINT, VISIT
from tearflow.columns import (
    CHANGE,
    CONTRAST,
    ELISA_PREFIX,
    FDR,
    GENE,
    GENE_SET,
    GENES,
    LOG2FC,
    METHOD,
    N_PAIRS,
    PATIENT,
    PROTEIN,
    PVALUE,
    STATISTIC,
    SUBGROUP,
)
from tearflow.correlation import (
    ELISA_FEATURE,
    GENE_SET_FEATURE,
    SAME_GENE_FEATURE,
    correlations,
    feature_table,
    top_protein_features,
    wide_column_features,
)
from tearflow.genesets import split_genes

log = logging.getLogger(__name__)

ANALYTE = "analyte"
CLINICAL_MEASURE = "clinical_measure"  # improvement | change
LOG2_RATIO = "log2_ratio"
FOCUS = "focus"
MS_NOT_DETECTED = "not detected by mass spec"
SCORE_PREFIX = "score_"
MS_PREFIX = "ms_"


def _tokens(gene):
    """Upper-case symbols of a gene cell; ``,`` separates symbols as ``;`` does."""
    return set(split_genes(gene.replace(",", ";") if isinstance(gene, str) else gene))


def proteins_of_gene(table, gene):
    """Rows of a protein table (differential or patient changes) whose gene field names ``gene``."""
    target = str(gene).upper()
    return table[table[GENE].map(lambda field: target in _tokens(field))]


def pick_protein(differential, gene):
    """(row or None, note): the protein group of ``gene`` with most pairs, then lowest p."""
    rows = proteins_of_gene(differential, gene)
    if rows.empty:
        return None, MS_NOT_DETECTED
    ordered = rows.assign(_n=rows[N_PAIRS].fillna(0), _p=rows[PVALUE].fillna(2.0))
    ordered = ordered.sort_values(["_n", "_p", PROTEIN], ascending=[False, True, True])
    best = ordered.iloc[0]
    if len(rows) == 1:
        note = "detected"
    else:
        others = ", ".join(ordered[PROTEIN].iloc[1:])
        note = f"{len(rows)} protein groups; shown the one with most pairs (others: {others})"
    if pd.isna(best[LOG2FC]):
        note = (
            f"detected, not tested (too few pairs); {note}"
            if len(rows) > 1
            else ("detected, not tested (too few pairs)")
        )
    return best, note


def focus_rows(enrichment):
    """The focus-set rows of an enrichment table (``focus`` read as bool whatever its spelling)."""
    if enrichment is None or enrichment.empty or FOCUS not in enrichment.columns:
        return pd.DataFrame(columns=[GENE_SET, METHOD, STATISTIC, PVALUE, FDR, GENES])
    flag = enrichment[FOCUS].astype(str).str.strip().str.lower().isin(["true", "1", "yes"])
    return enrichment[flag]


def joined_analytes(tests, differential, enrichment):
    """analytes.tsv: one row per row of ``paired_tests`` (analyte × contrast), joined.

    ``differential`` and ``enrichment`` map contrast → table (a missing contrast gives notes/NaN).
    The focus columns show the focus-set result with the lowest FDR in that contrast, a summary of
    all focus-set results (``set|method|statistic|fdr``) and the focus sets whose genes column
    (overlap or leading edge) contains the analyte's gene.
    """
    rows = []
    for _, test in tests.iterrows():
        contrast = test[CONTRAST]
        row = {
            ANALYTE: test[ANALYTE],
            GENE: test[GENE],
            CONTRAST: contrast,
            "elisa_n_pairs": test[N_PAIRS],
            "elisa_median_log2_ratio": test["median_log2_ratio"],
            "elisa_wilcoxon_p": test["wilcoxon_p"],
            "elisa_wilcoxon_fdr": test["wilcoxon_fdr"],
            "elisa_ttest_p": test["ttest_p"],
            "elisa_ttest_fdr": test["ttest_fdr"],
            "censoring": test["censoring"],
        }
        table = differential.get(contrast)
        if table is None:
            protein, note = None, f"no mass-spec result for contrast {contrast!r}"
        else:
            protein, note = pick_protein(table, test[GENE])
        row.update(
            {
                "ms_protein": None if protein is None else protein[PROTEIN],
                "ms_log2fc": math.nan if protein is None else protein[LOG2FC],
                "ms_pvalue": math.nan if protein is None else protein[PVALUE],
                "ms_fdr": math.nan if protein is None else protein[FDR],
                "ms_n_pairs": math.nan if protein is None else protein[N_PAIRS],
                "ms_note": note,
            }
        )
        elisa_sign, ms_sign = np.sign(row["elisa_median_log2_ratio"]), np.sign(row["ms_log2fc"])
        row["direction_agrees"] = (
            None
            if np.isnan(elisa_sign) or np.isnan(ms_sign) or elisa_sign == 0 or ms_sign == 0
            else bool(elisa_sign == ms_sign)
        )
        focus = focus_rows(enrichment.get(contrast))
        if focus.empty:
            row.update(
                {
                    "focus_set": None,
                    "focus_method": None,
                    "focus_statistic": math.nan,
                    "focus_fdr": math.nan,
                    "focus_sets_with_gene": None,
                    "focus_summary": "no focus-set result in this contrast",
                }
            )
        else:
            ranked = focus.assign(_fdr=focus[FDR].fillna(2.0), _p=focus[PVALUE].fillna(2.0))
            best = ranked.sort_values(["_fdr", "_p", GENE_SET, METHOD]).iloc[0]
            with_gene = sorted(
                {r[GENE_SET] for _, r in focus.iterrows() if str(test[GENE]).upper() in _tokens(r.get(GENES))}
            )
            row.update(
                {
                    "focus_set": best[GENE_SET],
                    "focus_method": best[METHOD],
                    "focus_statistic": best[STATISTIC],
                    "focus_fdr": best[FDR],
                    "focus_sets_with_gene": ";".join(with_gene) or None,
                    "focus_summary": "; ".join(
                        f"{r[GENE_SET]}|{r[METHOD]}|{r[STATISTIC]:.3g}|{r[FDR]:.3g}" for _, r in focus.iterrows()
                    ),
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)


def ms_patient_changes(ms_changes, genes):
    """{gene: Series over patients} — per analyte gene, the protein with most measured changes."""
    patients = [column for column in ms_changes.columns if column not in (PROTEIN, GENE)]
    out = {}
    for gene in genes:
        rows = proteins_of_gene(ms_changes, gene)
        if rows.empty:
            continue
        counts = rows[patients].notna().sum(axis=1)
        best = rows.loc[counts.sort_values(ascending=False, kind="mergesort").index[0]]
        out[gene] = pd.Series(best[patients].to_numpy(float), index=patients)
    return out


def joined_patients(elisa_changes, scores, ms_changes, sheet_pairs, analyte_genes, focus_sets, subgroups):
    """patients.tsv: per paired patient, subgroup, ELISA, focus-score and analyte-gene MS changes."""
    elisa_wide = elisa_changes.pivot_table(index=PATIENT, columns=ANALYTE, values=LOG2_RATIO, aggfunc="first")
    table = sheet_pairs[[PATIENT, SUBGROUP]].drop_duplicates().set_index(PATIENT)
    for analyte in analyte_genes:
        table[ELISA_PREFIX + analyte] = (
            elisa_wide[analyte] if analyte in elisa_wide.columns else pd.Series(dtype=float)
        ).reindex(table.index)
    focus_scores = scores[scores[GENE_SET].isin(focus_sets)]
    score_wide = focus_scores.pivot_table(index=PATIENT, columns=GENE_SET, values=CHANGE, aggfunc="first")
    for gene_set in focus_sets:
        column = score_wide[gene_set] if gene_set in score_wide.columns else pd.Series(dtype=float)
        table[SCORE_PREFIX + gene_set] = column.reindex(table.index)
    ms = ms_patient_changes(ms_changes, sorted(set(analyte_genes.values())))
    for gene in dict.fromkeys(analyte_genes.values()):
        table[MS_PREFIX + gene] = ms[gene].reindex(table.index) if gene in ms else math.nan
    order = {subgroup: i for i, subgroup in enumerate(subgroups)}
    table = table.reset_index()
    table = table.sort_values([SUBGROUP, PATIENT], key=lambda s: s.map(order) if s.name == SUBGROUP else s)
    return table.reset_index(drop=True)


def elisa_correlations(patients, analyte_genes, differential_all, ms_changes, subgroups, settings, seed):
    """correlations.tsv: each analyte's log2 change (``elisa_<analyte>`` of the joined patients
    table) against the focus-set score changes, the ``correlation.top_proteins`` proteins that
    changed most in ``all`` and the analyte's own protein (``same_gene``); columns ``analyte, gene``
    then :data:`tearflow.correlation.CORRELATION_COLUMNS`."""
    outcomes = pd.concat(
        [
            pd.DataFrame(
                {ANALYTE: analyte, GENE: gene, PATIENT: patients[PATIENT], "value": patients[ELISA_PREFIX + analyte]}
            )
            for analyte, gene in analyte_genes.items()
        ],
        ignore_index=True,
    ) if analyte_genes else pd.DataFrame(columns=[ANALYTE, GENE, PATIENT, "value"])  # fmt: skip
    own_protein = [
        feature_table(SAME_GENE_FEATURE, gene, gene, patients[PATIENT], patients[MS_PREFIX + gene], for_outcome=analyte)
        for analyte, gene in analyte_genes.items()
        if MS_PREFIX + gene in patients.columns
    ]
    features = pd.concat(
        [
            wide_column_features(patients, SCORE_PREFIX, GENE_SET_FEATURE),
            top_protein_features(differential_all, ms_changes, settings["top_proteins"]),
            *own_protein,
        ],
        ignore_index=True,
    )
    subgroup_of = dict(zip(patients[PATIENT], patients[SUBGROUP]))
    return correlations(outcomes, [ANALYTE, GENE], features, subgroup_of, subgroups, settings, seed)


def clinical_correlations(values, clinical_settings, score_changes, differential_all, patient_changes,
                          joined_patients, settings, seed):  # fmt: skip
    """results/clinical/correlations.tsv: each endpoint's clinical measure at each of
    ``clinical_analysis.correlate_visits`` (``improvement``: change signed so that positive is
    better, or the raw ``change``) against the focus-set score changes, the ELISA changes (when
    ELISA is on: ``joined_patients``) and the top changed proteins; one BH family per subgroup ×
    visit × feature type. A patient's subgroup is the clinical table's."""
    measure = clinical_settings["correlate_with"]
    visits = clinical_settings["correlate_visits"]
    absent = [visit for visit in visits if visit not in set(values[VISIT])]
    if absent:
        log.warning("no clinical values at visit(s) %s; nothing to correlate there", absent)
    chosen = values[values[VISIT].isin(visits)].dropna(subset=[measure])
    outcomes = chosen[[ENDPOINT, VISIT, PATIENT]].assign(**{CLINICAL_MEASURE: measure, "value": chosen[measure]})
    scores = [
        feature_table(GENE_SET_FEATURE, name, None, rows[PATIENT], rows[CHANGE])
        for name, rows in score_changes.groupby(GENE_SET, sort=False)
    ]
    elisa = [] if joined_patients is None else [wide_column_features(joined_patients, ELISA_PREFIX, ELISA_FEATURE)]
    features = pd.concat(
        [*scores, *elisa, top_protein_features(differential_all, patient_changes, settings["top_proteins"])],
        ignore_index=True,
    )
    subgroup_of = dict(zip(values[PATIENT].astype(str), values[SUBGROUP]))
    subgroups = list(dict.fromkeys(values[SUBGROUP]))
    return correlations(
        outcomes, [ENDPOINT, VISIT, CLINICAL_MEASURE], features, subgroup_of, subgroups, settings, seed, visit_key=VISIT
    )
