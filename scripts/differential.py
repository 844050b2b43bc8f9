"""Paired differential abundance: per-patient changes, limma-style moderated t per contrast.

Each patient is their own control: the analysis works on the per-patient differences
d = log2(follow-up) − log2(baseline) (one column per paired patient). Two linear models are fitted
to them with :mod:`tearflow.stats` (limma's lmFit → contrasts.fit → eBayes, Smyth 2004):

- the subgroup fit, design ``~0 + subgroup`` (+ covariates): one coefficient per subgroup = its
  mean change, the residual variance pooled over all subgroups; contrasts: each subgroup and, with
  exactly two subgroups, ``interaction`` = second − first (sheet order);
- the ``all`` fit, design ``~1`` (+ covariates): the mean change over every patient.

Covariates (``differential.covariates``: extra sample-sheet columns) enter both designs, numeric
columns as numbers, others as treatment-coded factors, every covariate column centred on its mean
over the paired patients — so the subgroup coefficients stay the mean changes at the average
covariate profile.

A protein is tested in a contrast when it has at least ``differential.min_pairs`` measured pairs
there (interaction: in each of the two subgroups); it enters a fit (and its variance the empirical
Bayes prior) when it is testable in at least one contrast of that fit. Others keep NaN statistics.
Benjamini–Hochberg runs within each contrast over the tested proteins.
"""

import logging

import numpy as np
import pandas as pd

from tearflow import stats
from tearflow.columns import (
    ANNOTATION,
    CONTRAST_ALL,
    CONTRAST_INTERACTION,
    FDR,
    GENE,
    LOG2FC,
    MEAN_ABUNDANCE,
    N_PAIRS,
    PATIENT,
    PROTEIN,
    PVALUE,
    SIGNIFICANT,
    SUBGROUP,
    T_STAT,
)
from tearflow.errors import TearflowError
from tearflow.samples import (
    BASELINE_SAMPLE,
    FOLLOWUP_SAMPLE,
    paired_samples,
    read_sample_sheet,
    subgroup_order,
)

log = logging.getLogger("tearflow.differential")

CI_LOW = "ci_low"
CI_HIGH = "ci_high"
STANDARD_ERROR = "se"
DF_TOTAL = "df_total"
LODS = "B"
N_PAIRS_MEASURED = "n_pairs_measured"
SHARE_IMPUTED = "share_imputed"

DEFAULTS = {
    "min_pairs": 3,
    "trend": False,
    "robust": False,
    "covariates": [],
    "fdr": 0.05,
    "min_abs_log2fc": 0.0,
    "treat_log2fc": 0.0,
    "volcano_labels": 10,
    "heatmap_max_proteins": 50,
}


# --------------------------------------------------------------------------------------------------
# pure functions
# --------------------------------------------------------------------------------------------------
def settings(section):
    """The ``differential`` config section with defaults filled in, checked (TearflowError if not)."""
    merged = {**DEFAULTS, **(dict(section) if section else {})}
    checks = {
        "min_pairs": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
        "trend": lambda v: isinstance(v, bool),
        "robust": lambda v: isinstance(v, bool),
        "covariates": lambda v: isinstance(v, list) and all(isinstance(c, str) for c in v),
        "fdr": lambda v: isinstance(v, (int, float)) and 0 < v <= 1,
        "min_abs_log2fc": lambda v: isinstance(v, (int, float)) and v >= 0,
        "treat_log2fc": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0,
        "volcano_labels": lambda v: isinstance(v, int) and v >= 0,
        "heatmap_max_proteins": lambda v: isinstance(v, int) and v >= 1,
    }
    for key, ok in checks.items():
        if not ok(merged[key]):
            raise TearflowError(
                f"config differential.{key}: found {merged[key]!r}; expected "
                + {
                    "min_pairs": "an integer >= 1",
                    "trend": "true or false",
                    "robust": "true or false",
                    "covariates": "a list of sample-sheet column names",
                    "fdr": "a number in (0, 1]",
                    "min_abs_log2fc": "a number >= 0",
                    "treat_log2fc": "a number >= 0 (0 = the ordinary moderated t-test)",
                    "volcano_labels": "an integer >= 0",
                    "heatmap_max_proteins": "an integer >= 1",
                }[key]
            )
    return merged


def usable_pairs(pairs, sample_columns, source="abundance table"):
    """Pairs whose two samples are both columns of the abundance table; the others are logged."""
    present = pairs[BASELINE_SAMPLE].isin(sample_columns) & pairs[FOLLOWUP_SAMPLE].isin(sample_columns)
    if not present.all():
        left = pairs.loc[~present, PATIENT]
        log.warning(
            "%d paired patient(s) left out: a sample is not in %s (excluded?): %s",
            len(left),
            source,
            ", ".join(left),
        )
    return pairs[present].reset_index(drop=True)


def order_by_subgroup(pairs, subgroups):
    """Pairs sorted by subgroup (in ``subgroups`` order), sheet order within a subgroup."""
    rank = {name: i for i, name in enumerate(subgroups)}
    key = pairs[SUBGROUP].map(rank)
    return pairs.assign(_rank=key).sort_values("_rank", kind="stable").drop(columns="_rank")


def paired_differences(matrix, pairs):
    """Per-patient changes (follow-up − baseline, log2): proteins × patients (NaN if either missing)."""
    follow = matrix[list(pairs[FOLLOWUP_SAMPLE])].to_numpy(dtype=float)
    base = matrix[list(pairs[BASELINE_SAMPLE])].to_numpy(dtype=float)
    return pd.DataFrame(follow - base, index=matrix.index, columns=list(pairs[PATIENT]))


def measured_pairs(mask, pairs):
    """Proteins × patients: True where both visits were measured (not imputed)."""
    follow = ~mask[list(pairs[FOLLOWUP_SAMPLE])].to_numpy(dtype=bool)
    base = ~mask[list(pairs[BASELINE_SAMPLE])].to_numpy(dtype=bool)
    return pd.DataFrame(follow & base, index=mask.index, columns=list(pairs[PATIENT]))


def mean_log2_abundance(matrix, pairs):
    """Mean of the observed log2 values over both visits of the paired patients (per protein)."""
    samples = list(pairs[BASELINE_SAMPLE]) + list(pairs[FOLLOWUP_SAMPLE])
    values = matrix[samples].to_numpy(dtype=float)
    counts = np.isfinite(values).sum(axis=1)
    sums = np.nansum(values, axis=1)
    return pd.Series(np.where(counts > 0, sums / np.maximum(counts, 1), np.nan), index=matrix.index)


def covariate_columns(pairs, covariates, sheet_path="sample sheet"):
    """Design columns for the covariates: numeric as numbers, others as treatment dummies (sorted
    levels, first dropped); every column centred on its mean over the paired patients."""
    columns = {}
    for name in covariates:
        if name not in pairs.columns:
            raise TearflowError(
                f"config differential.covariates: {sheet_path} has no column {name!r} "
                f"(columns: {', '.join(c for c in pairs.columns if c not in (BASELINE_SAMPLE, FOLLOWUP_SAMPLE))})"
            )
        values = pairs[name].astype(str).str.strip()
        empty = pairs.loc[values.isin(["", "NA", "nan"]), PATIENT]
        if len(empty):
            raise TearflowError(
                f"{sheet_path}: covariate column {name!r} is empty for patient(s) "
                f"{', '.join(empty)}; expected a value for every paired patient"
            )
        numeric = pd.to_numeric(values, errors="coerce")
        if numeric.notna().all():
            columns[name] = numeric.to_numpy(float) - numeric.mean()
        else:
            levels = sorted(values.unique())
            for level in levels[1:]:
                dummy = (values == level).to_numpy(float)
                columns[f"{name}{level}"] = dummy - dummy.mean()
    return pd.DataFrame(columns, index=pairs.index)


def full_rank_design(design, protected):
    """Drop (and log) covariate columns that are constant or linearly dependent on earlier ones.

    Columns in ``protected`` (subgroup indicators, intercept) are never dropped.
    """
    kept = []
    for column in design.columns:
        trial = design[kept + [column]].to_numpy(float)
        if column in protected or np.linalg.matrix_rank(trial) == len(kept) + 1:
            kept.append(column)
        else:
            log.warning(
                "covariate column %r is constant or confounded with the subgroups/other "
                "covariates among the paired patients; left out of the design",
                column,
            )
    return design[kept]


def _empty_statistics(n_proteins):
    nan = np.full(n_proteins, np.nan)
    return {
        LOG2FC: nan.copy(),
        T_STAT: nan.copy(),
        PVALUE: nan.copy(),
        STANDARD_ERROR: nan.copy(),
        CI_LOW: nan.copy(),
        CI_HIGH: nan.copy(),
        DF_TOTAL: nan.copy(),
        LODS: nan.copy(),
    }


def _moderated(y, design, contrasts, names, keep, trend_covariate, trend, robust, treat_log2fc=0.0):
    """Fit ``design`` to the kept proteins, apply ``contrasts``, moderate; NaN-filled full arrays.

    With ``treat_log2fc`` > 0 the p-values test |log2fc| > ``treat_log2fc`` (limma ``treat``); ``t``
    stays the moderated t, the statistic GSEA ranks on.
    """
    n = len(y)
    results = {name: _empty_statistics(n) for name in names}
    if keep.sum() == 0:
        return results
    fit = stats.lm_fit(y[keep], design)
    if contrasts is not None:
        fit = stats.contrasts_fit(fit, contrasts, names)
    if np.nanmax(fit.df_residual) <= 0 or not np.isfinite(fit.sigma).any():
        log.warning("no residual degrees of freedom for %s: statistics left as NA", ", ".join(names))
        return results
    moderated = stats.ebayes(fit, trend=trend_covariate[keep] if trend else None, robust=robust)
    pvalue = stats.treat(moderated, treat_log2fc)[1] if treat_log2fc > 0 else moderated.pvalue
    low, high = moderated.confidence_interval()
    se = moderated.stdev_unscaled * np.sqrt(moderated.s2_post)[:, None]
    for j, name in enumerate(names):
        for column, values in (
            (LOG2FC, moderated.coefficients[:, j]),
            (T_STAT, moderated.t[:, j]),
            (PVALUE, pvalue[:, j]),
            (STANDARD_ERROR, se[:, j]),
            (CI_LOW, low[:, j]),
            (CI_HIGH, high[:, j]),
            (DF_TOTAL, moderated.df_total),
            (LODS, moderated.lods[:, j]),
        ):
            results[name][column][keep] = values
    return results


def differential_statistics(
    differences,
    patient_subgroups,
    subgroups,
    abundance,
    covariates=None,
    min_pairs=3,
    trend=False,
    robust=False,
    measured=None,
    treat_log2fc=0.0,
):
    """Moderated statistics of every contrast, as ``{contrast: DataFrame}`` (rows = proteins).

    ``differences``: proteins × patients (NaN = missing pair); ``patient_subgroups``: subgroup of
    each column; ``subgroups``: subgroup order (interaction = second − first); ``abundance``: mean
    log2 abundance per protein (the ``trend`` covariate); ``covariates``: patients × centred design
    columns (see :func:`covariate_columns`); ``measured``: proteins × patients, True where the pair
    was measured rather than imputed (default: wherever the difference is present);
    ``treat_log2fc`` > 0: p-values (and so fdr) test |log2fc| > ``treat_log2fc`` (limma ``treat``).
    Each DataFrame has log2fc, t, pvalue, fdr (BH within the contrast), se, ci_low, ci_high,
    df_total, B, n_pairs (pairs in the fit) and n_pairs_measured (pairs that count for
    ``min_pairs``). Untested proteins have NaN statistics.
    """
    y = differences.to_numpy(dtype=float)
    n_proteins = len(y)
    observed = np.isfinite(y)
    measured = observed if measured is None else (np.asarray(measured, dtype=bool) & observed)
    patient_subgroups = np.asarray(patient_subgroups)
    present = [g for g in subgroups if (patient_subgroups == g).any()]
    covariates = pd.DataFrame(index=range(y.shape[1])) if covariates is None else covariates.reset_index(drop=True)
    abundance = np.asarray(abundance, dtype=float)

    in_group = {g: patient_subgroups == g for g in present}
    fit_counts = {g: observed[:, in_group[g]].sum(axis=1) for g in present}
    counts = {g: measured[:, in_group[g]].sum(axis=1) for g in present}

    # subgroup fit: ~0 + subgroup (+ covariates), residual variance pooled across subgroups
    indicators = pd.DataFrame({g: in_group[g].astype(float) for g in present})
    design = full_rank_design(pd.concat([indicators, covariates], axis=1), protected=present)
    names = list(present)
    contrasts = np.zeros((design.shape[1], len(present)))
    contrasts[np.arange(len(present)), np.arange(len(present))] = 1.0
    two = len(subgroups) == 2 and len(present) == 2
    if two:
        column = np.zeros((design.shape[1], 1))
        column[0, 0], column[1, 0] = -1.0, 1.0  # second − first (sheet order)
        contrasts = np.hstack([contrasts, column])
        names.append(CONTRAST_INTERACTION)
    testable = {g: counts[g] >= min_pairs for g in present}
    keep = np.zeros(n_proteins, dtype=bool)
    for g in present:
        keep |= testable[g]
    results = _moderated(y, design.to_numpy(float), contrasts, names, keep, abundance, trend, robust, treat_log2fc)
    n_fit = dict(fit_counts)
    n_measured = dict(counts)
    if two:
        first, second = present
        testable[CONTRAST_INTERACTION] = testable[first] & testable[second]
        n_fit[CONTRAST_INTERACTION] = fit_counts[first] + fit_counts[second]
        n_measured[CONTRAST_INTERACTION] = counts[first] + counts[second]

    # all: ~1 (+ covariates), the mean change over every patient
    intercept = pd.DataFrame({"(Intercept)": np.ones(y.shape[1])})
    design_all = full_rank_design(pd.concat([intercept, covariates], axis=1), ["(Intercept)"])
    total = measured.sum(axis=1)
    testable[CONTRAST_ALL] = total >= min_pairs
    n_fit[CONTRAST_ALL] = observed.sum(axis=1)
    n_measured[CONTRAST_ALL] = total
    results.update(
        _moderated(
            y,
            design_all.to_numpy(float),
            None,
            [CONTRAST_ALL],
            testable[CONTRAST_ALL],
            abundance,
            trend,
            robust,
            treat_log2fc,
        )
    )

    tables = {}
    for name, columns in results.items():
        table = pd.DataFrame(columns, index=differences.index)
        untested = ~testable[name]
        table.loc[untested, :] = np.nan
        table[FDR] = stats.bh_adjust(table[PVALUE].to_numpy())
        table[N_PAIRS] = n_fit[name]
        table[N_PAIRS_MEASURED] = n_measured[name]
        tables[name] = table
        log.info(
            "contrast %s: %d of %d proteins tested (>= %d measured pairs)",
            name,
            int((~untested).sum()),
            n_proteins,
            min_pairs,
        )
    return tables


def contrast_table(statistics, annotation, abundance, fdr, min_abs_log2fc, share_imputed=None):
    """The published table of one contrast: contract columns first, then extras; sorted by p-value.

    ``significant`` = fdr < ``fdr`` and |log2fc| ≥ ``min_abs_log2fc`` (False when untested).
    """
    table = pd.DataFrame(
        {
            PROTEIN: annotation[PROTEIN].to_numpy(),
            GENE: annotation[GENE].to_numpy(),
            LOG2FC: statistics[LOG2FC].to_numpy(),
            T_STAT: statistics[T_STAT].to_numpy(),
            PVALUE: statistics[PVALUE].to_numpy(),
            FDR: statistics[FDR].to_numpy(),
            N_PAIRS: statistics[N_PAIRS].to_numpy().astype(int),
            MEAN_ABUNDANCE: np.asarray(abundance, dtype=float),
        }
    )
    with np.errstate(invalid="ignore"):
        table[SIGNIFICANT] = (table[FDR] < fdr) & (table[LOG2FC].abs() >= min_abs_log2fc)
    for column in (STANDARD_ERROR, CI_LOW, CI_HIGH, DF_TOTAL, LODS):
        table[column] = statistics[column].to_numpy()
    if share_imputed is not None:
        table[N_PAIRS_MEASURED] = statistics[N_PAIRS_MEASURED].to_numpy().astype(int)
        table[SHARE_IMPUTED] = np.asarray(share_imputed, dtype=float)
    order = np.lexsort((np.arange(len(table)), table[PVALUE].fillna(np.inf).to_numpy()))
    return table.iloc[order].reset_index(drop=True)


def imputed_share(mask, pairs, patients):
    """Per protein: share of imputed values among both visits of ``patients``."""
    chosen = pairs[pairs[PATIENT].isin(patients)]
    samples = list(chosen[BASELINE_SAMPLE]) + list(chosen[FOLLOWUP_SAMPLE])
    if not samples:
        return np.full(len(mask), np.nan)
    return mask[samples].to_numpy(dtype=bool).mean(axis=1)


def contrast_patients(pairs, name):
    """The patients whose samples make up contrast ``name``."""
    if name in (CONTRAST_ALL, CONTRAST_INTERACTION):
        return list(pairs[PATIENT])
    return list(pairs.loc[pairs[SUBGROUP] == name, PATIENT])


def read_abundance(path, what="abundance table"):
    """An abundance table (protein, gene, one column per sample) with the protein ID as index."""
    from tearflow.tables import read_tsv

    table = read_tsv(path, dtype={PROTEIN: str, GENE: str})
    missing = [c for c in ANNOTATION if c not in table.columns]
    if missing:
        raise TearflowError(f"{what} {path}: missing column(s) {', '.join(missing)}")
    return table


def read_mask(path, columns):
    """The imputation mask (protein, gene, one True/False column per sample)."""
    from tearflow.tables import read_tsv

    mask = read_tsv(path, dtype={PROTEIN: str, GENE: str})
    for column in columns:
        if column not in mask.columns:
            raise TearflowError(f"imputation mask {path}: no column for sample {column!r}")
        values = mask[column]
        if values.dtype != bool:
            values = (
                values.astype(str).str.strip().str.lower().map({"true": True, "false": False, "1": True, "0": False})
            )
            if values.isna().any():
                raise TearflowError(f"imputation mask {path}: column {column!r} holds values other than True/False")
        mask[column] = values.astype(bool)
    return mask


# --------------------------------------------------------------------------------------------------
# Snakemake adapter
# --------------------------------------------------------------------------------------------------
def main(snakemake):
    from tearflow.tables import write_tsv

    config = settings(snakemake.params.differential)
    timepoints = snakemake.params.timepoints
    contrasts = list(snakemake.params.contrasts)
    sheet_path = str(snakemake.input.samples)
    sheet = read_sample_sheet(sheet_path)
    subgroups = subgroup_order(sheet)
    pairs = paired_samples(sheet, timepoints["baseline"], timepoints["followup"])

    matrix_path = str(snakemake.input.matrix)
    matrix = read_abundance(matrix_path)
    pairs = usable_pairs(pairs, matrix.columns, matrix_path)
    pairs = order_by_subgroup(pairs, subgroups).reset_index(drop=True)
    if len(pairs) == 0:
        raise TearflowError(
            f"{sheet_path}: no patient has both a {timepoints['baseline']!r} and a "
            f"{timepoints['followup']!r} sample in {matrix_path}; nothing to compare"
        )
    log.info(
        "%d paired patients: %s", len(pairs), ", ".join(f"{g} {int((pairs[SUBGROUP] == g).sum())}" for g in subgroups)
    )

    mask = None
    measured = None
    if "mask" in snakemake.input.keys():
        mask_path = str(snakemake.input.mask)
        samples = list(pairs[BASELINE_SAMPLE]) + list(pairs[FOLLOWUP_SAMPLE])
        mask = read_mask(mask_path, samples)
        if list(mask[PROTEIN]) != list(matrix[PROTEIN]):
            raise TearflowError(
                f"imputation mask {mask_path}: proteins differ from {matrix_path} "
                "(expected the same rows in the same order)"
            )
        mask = mask.set_index(PROTEIN)
        measured = measured_pairs(mask, pairs).to_numpy()

    values = matrix.set_index(PROTEIN)
    differences = paired_differences(values, pairs)
    abundance = mean_log2_abundance(values, pairs)
    covariates = covariate_columns(pairs, config["covariates"], sheet_path)
    tables = differential_statistics(
        differences,
        pairs[SUBGROUP].to_numpy(),
        subgroups,
        abundance.to_numpy(),
        covariates=covariates,
        min_pairs=config["min_pairs"],
        trend=config["trend"],
        robust=config["robust"],
        measured=measured,
        treat_log2fc=config["treat_log2fc"],
    )
    if config["treat_log2fc"] > 0:
        log.info("p-values test |log2fc| > %g (treat; McCarthy & Smyth 2009)", config["treat_log2fc"])

    annotation = matrix[list(ANNOTATION)]
    outputs = dict(zip(contrasts, snakemake.output.tables))
    for name, path in outputs.items():
        statistics = tables.get(name)
        if statistics is None:
            log.warning("contrast %s: no paired patients; table has NA statistics only", name)
            statistics = pd.DataFrame(_empty_statistics(len(matrix)), index=differences.index)
            statistics[FDR] = np.nan
            statistics[N_PAIRS] = 0
            statistics[N_PAIRS_MEASURED] = 0
        share = None
        if mask is not None:
            share = imputed_share(mask, pairs, contrast_patients(pairs, name))
        table = contrast_table(
            statistics,
            annotation,
            abundance.to_numpy(),
            config["fdr"],
            config["min_abs_log2fc"],
            share,
        )
        write_tsv(table, path)
        log.info(
            "contrast %s: %d significant (fdr < %g, |log2fc| >= %g) -> %s",
            name,
            int(table[SIGNIFICANT].sum()),
            config["fdr"],
            config["min_abs_log2fc"],
            path,
        )

    changes = pd.concat([annotation.reset_index(drop=True), differences.reset_index(drop=True)], axis=1)
    write_tsv(changes, snakemake.output.changes)


if __name__ == "__main__":
    from tearflow.errors import run_step

    run_step(main, snakemake)  # noqa: F821
