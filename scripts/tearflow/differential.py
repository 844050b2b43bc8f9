"""Paired differential abundance: per-patient changes, limma-style moderated t per contrast.

Each patient is their own control: the analysis works on the per-patient differences
d = log2(follow-up) − log2(baseline) (one column per paired patient). Two linear models are fitted
to them with :mod:`tearflow.limma` (limma's lmFit → contrasts.fit → eBayes, Smyth 2004):

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

The step imports numpy but not pandas (issue 8: pandas alone costs ~0.2 s, more than the fit at
paper scale, and the step is benchmarked against R/limma): matrices are numpy arrays, the sample
sheet arrives as row dicts (``params.sheet``, as ``common.smk`` read and checked it), tables are
read with :func:`tearflow.tables.read_matrix` and written with :func:`tearflow.tables.write_columns`.
"""

import logging
from dataclasses import dataclass

import numpy as np

from tearflow import limma
from tearflow.columns import (
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
from tearflow.contrasts import CONTRAST_ALL, CONTRAST_INTERACTION
from tearflow.errors import TearflowError
from tearflow.multiple_testing import bh_adjust
from tearflow.samples import BASELINE_SAMPLE, FOLLOWUP_SAMPLE, pair_records, subgroup_order

log = logging.getLogger("tearflow.differential")

CI_LOW = "ci_low"
CI_HIGH = "ci_high"
STANDARD_ERROR = "se"
DF_TOTAL = "df_total"
LODS = "B"
N_PAIRS_MEASURED = "n_pairs_measured"
#: pairs with both visits observed (at least one precursor each), DPC quantification
N_PAIRS_OBSERVED = "n_pairs_observed"
#: precursors the protein was quantified from, DPC quantification
N_PRECURSORS = "n_precursors"
SHARE_IMPUTED = "share_imputed"
#: the statistics columns of every contrast, in the order the published table gives them
STATISTICS = (LOG2FC, T_STAT, PVALUE, STANDARD_ERROR, CI_LOW, CI_HIGH, DF_TOTAL, LODS)


@dataclass
class SampleMatrix:
    """Proteins × samples values (log2 abundance, or the imputation mask) with their labels."""

    proteins: list
    genes: list
    samples: list
    values: np.ndarray

    def columns(self, samples):
        """The values of ``samples`` (proteins × len(samples)), in that order."""
        position = {sample: i for i, sample in enumerate(self.samples)}
        return self.values[:, [position[sample] for sample in samples]]


@dataclass
class Quantified:
    """What DPC quantification adds to the protein matrix: each value's standard error, whether any
    precursor was observed in the sample (proteins × samples, as :class:`SampleMatrix`), and each
    protein's number of precursors."""

    standard_errors: SampleMatrix
    observed: SampleMatrix
    n_precursors: np.ndarray
    proteins: list

    def check(self, matrix, matrix_path, samples):
        """The quantification covers ``matrix``: the same proteins in the same order, every sample."""
        if list(self.proteins) != list(matrix.proteins):
            raise TearflowError(
                f"DPC precursor counts: proteins differ from {matrix_path} (expected the same rows in the same order)"
            )
        for what, table in (("standard errors", self.standard_errors), ("observed precursors", self.observed)):
            if table.proteins != matrix.proteins:
                raise TearflowError(
                    f"DPC {what}: proteins differ from {matrix_path} (expected the same rows in the same order)"
                )
            missing = [sample for sample in samples if sample not in table.samples]
            if missing:
                raise TearflowError(f"DPC {what}: no column for sample {missing[0]!r} of {matrix_path}")


#: ``differential.ebayes_legacy`` → limma ``eBayes(legacy = )``: ``auto`` is limma ≥ 3.61's default
#: (the classic ``fitFDist`` when every protein has the same residual df, ``fitFDistUnequalDF1``,
#: Smyth & Chen, when they differ); ``true`` always the classic estimator (limma < 3.61);
#: ``false`` always ``fitFDistUnequalDF1``
EBAYES_LEGACY = {"auto": None, True: True, False: False}


def _contrast_tables(results, testable, n_fit, counts, rule):
    """{contrast: columns} from each contrast's moderated statistics: NaN for every protein it could
    not test (never p = 0), BH FDR over the tested ones, ``n_pairs`` and the ``counts`` columns
    ({column: per-contrast arrays}); logs how many were tested under ``rule``."""
    tables = {}
    for name, columns in results.items():
        untested = ~testable[name]
        for values in columns.values():
            values[untested] = np.nan
        columns[FDR] = bh_adjust(columns[PVALUE])
        columns[N_PAIRS] = n_fit[name]
        for column, per_contrast in counts.items():
            columns[column] = per_contrast[name]
        tables[name] = columns
        log.info("contrast %s: %d of %d proteins tested (%s)", name, int((~untested).sum()), len(untested), rule)
    return tables


def usable_pairs(pairs, sample_columns, source="abundance table"):
    """Pairs whose two samples are both columns of the abundance table; the others are logged."""
    present = set(sample_columns)
    kept = [pair for pair in pairs if pair[BASELINE_SAMPLE] in present and pair[FOLLOWUP_SAMPLE] in present]
    if len(kept) < len(pairs):
        left = [pair[PATIENT] for pair in pairs if pair not in kept]
        log.warning(
            "%d paired patient(s) left out: a sample is not in %s (excluded?): %s",
            len(left),
            source,
            ", ".join(left),
        )
    return kept


def order_by_subgroup(pairs, subgroups):
    """Pairs sorted by subgroup (in ``subgroups`` order), sheet order within a subgroup."""
    rank = {name: i for i, name in enumerate(subgroups)}
    return sorted(pairs, key=lambda pair: rank[pair[SUBGROUP]])


def baseline_samples(pairs):
    return [pair[BASELINE_SAMPLE] for pair in pairs]


def followup_samples(pairs):
    return [pair[FOLLOWUP_SAMPLE] for pair in pairs]


def paired_differences(matrix, pairs):
    """Per-patient changes (follow-up − baseline, log2): proteins × patients (NaN if either missing)."""
    return matrix.columns(followup_samples(pairs)) - matrix.columns(baseline_samples(pairs))


def measured_pairs(mask, pairs):
    """Proteins × patients: True where both visits were measured (not imputed)."""
    return ~mask.columns(followup_samples(pairs)) & ~mask.columns(baseline_samples(pairs))


def mean_log2_abundance(matrix, pairs):
    """Mean of the observed log2 values over both visits of the paired patients (per protein)."""
    values = matrix.columns(baseline_samples(pairs) + followup_samples(pairs))
    counts = np.isfinite(values).sum(axis=1)
    sums = np.nansum(values, axis=1)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _as_number(text):
    """``text`` as a float, or None: what ``pandas.to_numeric`` accepts (no ``1_000``)."""
    if "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def covariate_columns(pairs, covariates, sheet_path="sample sheet"):
    """Design columns for the covariates, ``{name: values over the pairs}``: numeric as numbers,
    others as treatment dummies (sorted levels, first dropped); every column centred on its mean
    over the paired patients."""
    columns = {}
    available = list(pairs[0]) if pairs else []
    for name in covariates:
        if name not in available:
            raise TearflowError(
                f"config differential.covariates: {sheet_path} has no column {name!r} "
                f"(columns: {', '.join(c for c in available if c not in (BASELINE_SAMPLE, FOLLOWUP_SAMPLE))})"
            )
        values = [str(pair[name]).strip() for pair in pairs]
        empty = [pair[PATIENT] for pair, value in zip(pairs, values) if value in ("", "NA", "nan")]
        if empty:
            raise TearflowError(
                f"{sheet_path}: covariate column {name!r} is empty for patient(s) "
                f"{', '.join(empty)}; expected a value for every paired patient"
            )
        numbers = [_as_number(value) for value in values]
        if all(number is not None for number in numbers):
            numeric = np.array(numbers, dtype=float)
            columns[name] = numeric - numeric.mean()
        else:
            levels = sorted(set(values))
            for level in levels[1:]:
                dummy = np.array([value == level for value in values], dtype=float)
                columns[f"{name}{level}"] = dummy - dummy.mean()
    return columns


def full_rank_design(columns, protected):
    """``columns`` (``{name: values}``) without the covariate columns that are constant or linearly
    dependent on earlier ones (each logged). Columns in ``protected`` (subgroup indicators,
    intercept) are never dropped."""
    kept = {}
    for name, values in columns.items():
        trial = np.column_stack([*kept.values(), values])
        if name in protected or np.linalg.matrix_rank(trial) == len(kept) + 1:
            kept[name] = values
        else:
            log.warning(
                "covariate column %r is constant or confounded with the subgroups/other "
                "covariates among the paired patients; left out of the design",
                name,
            )
    return kept


def _empty_statistics(n_proteins):
    return {column: np.full(n_proteins, np.nan) for column in STATISTICS}


def _moderated(y, design, contrasts, names, keep, trend_covariate, trend, robust, treat_log2fc=0.0, legacy=None):
    """Fit ``design`` to the kept proteins (ordinary least squares), then :func:`_moderated_fit`."""
    if keep.sum() == 0:
        return {name: _empty_statistics(len(y)) for name in names}
    fit = limma.lm_fit(y[keep], design)
    return _moderated_fit(fit, contrasts, names, keep, trend_covariate, trend, robust, treat_log2fc, legacy)


def _moderated_fit(fit, contrasts, names, keep, trend_covariate, trend, robust, treat_log2fc=0.0, legacy=None):
    """Apply ``contrasts`` to the fit of the kept proteins and moderate; NaN-filled full arrays.

    With ``treat_log2fc`` > 0 the p-values test |log2fc| > ``treat_log2fc`` (limma ``treat``); ``t``
    stays the moderated t, the statistic GSEA ranks on. ``legacy``: :func:`tearflow.limma.ebayes`'s.
    ``trend_covariate``: over every protein (``keep`` selects the fitted ones).
    """
    n = len(keep)
    results = {name: _empty_statistics(n) for name in names}
    if keep.sum() == 0:
        return results
    if contrasts is not None:
        fit = limma.contrasts_fit(fit, contrasts, names)
    if np.nanmax(fit.df_residual) <= 0 or not np.isfinite(fit.sigma).any():
        log.warning("no residual degrees of freedom for %s: statistics left as NA", ", ".join(names))
        return results
    moderated = limma.ebayes(fit, trend=trend_covariate[keep] if trend else None, robust=robust, legacy=legacy)
    pvalue = limma.treat(moderated, treat_log2fc)[1] if treat_log2fc > 0 else moderated.pvalue
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
    ebayes_legacy=None,
):
    """Moderated statistics of every contrast, as ``{contrast: {column: array over the proteins}}``.

    ``differences``: proteins × patients array (NaN = missing pair); ``patient_subgroups``: subgroup
    of each column; ``subgroups``: subgroup order (interaction = second − first); ``abundance``: mean
    log2 abundance per protein (the ``trend`` covariate); ``covariates``: ``{name: centred values
    over the patients}`` (see :func:`covariate_columns`); ``measured``: proteins × patients, True
    where the pair was measured rather than imputed (default: wherever the difference is present);
    ``treat_log2fc`` > 0: p-values (and so fdr) test |log2fc| > ``treat_log2fc`` (limma ``treat``);
    ``ebayes_legacy``: the prior's estimator, :func:`tearflow.limma.ebayes`'s ``legacy`` (None, limma's
    default: ``fitFDistUnequalDF1`` when the residual df differ, as they do with missing pairs; True:
    the classic ``fitFDist``, tearflow's results before; see :func:`ebayes_legacy`). Each contrast
    has log2fc, t, pvalue, se, ci_low, ci_high, df_total, B, fdr (BH within the contrast), n_pairs
    (pairs in the fit) and n_pairs_measured (pairs that count for ``min_pairs``). Untested proteins
    have NaN statistics.
    """
    y = np.asarray(differences, dtype=float)
    n_proteins = len(y)
    observed = np.isfinite(y)
    measured = observed if measured is None else (np.asarray(measured, dtype=bool) & observed)
    patient_subgroups = np.asarray(patient_subgroups)
    covariates = covariates or {}
    abundance = np.asarray(abundance, dtype=float)

    # subgroup fit: ~0 + subgroup (+ covariates), residual variance pooled across subgroups
    present, design, _columns, contrasts, names = _subgroup_design(patient_subgroups, subgroups, covariates)
    in_group = {g: patient_subgroups == g for g in present}
    fit_counts = {g: observed[:, in_group[g]].sum(axis=1) for g in present}
    counts = {g: measured[:, in_group[g]].sum(axis=1) for g in present}
    testable = {g: counts[g] >= min_pairs for g in present}
    keep = np.zeros(n_proteins, dtype=bool)
    for g in present:
        keep |= testable[g]
    results = _moderated(y, design, contrasts, names, keep, abundance, trend, robust, treat_log2fc, ebayes_legacy)
    n_fit = dict(fit_counts)
    n_measured = dict(counts)
    if CONTRAST_INTERACTION in names:
        first, second = present
        testable[CONTRAST_INTERACTION] = testable[first] & testable[second]
        n_fit[CONTRAST_INTERACTION] = fit_counts[first] + fit_counts[second]
        n_measured[CONTRAST_INTERACTION] = counts[first] + counts[second]

    # all: ~1 (+ covariates), the mean change over every patient
    design_all = full_rank_design({"(Intercept)": np.ones(y.shape[1]), **covariates}, ["(Intercept)"])
    total = measured.sum(axis=1)
    testable[CONTRAST_ALL] = total >= min_pairs
    n_fit[CONTRAST_ALL] = observed.sum(axis=1)
    n_measured[CONTRAST_ALL] = total
    results.update(
        _moderated(
            y,
            np.column_stack(list(design_all.values())),
            None,
            [CONTRAST_ALL],
            testable[CONTRAST_ALL],
            abundance,
            trend,
            robust,
            treat_log2fc,
            ebayes_legacy,
        )
    )

    return _contrast_tables(
        results, testable, n_fit, {N_PAIRS_MEASURED: n_measured}, f">= {min_pairs} measured pairs"
    )


def _subgroup_design(patient_subgroups, subgroups, covariates):
    """The subgroup fit's design (``~0 + subgroup`` + covariates), its contrasts (each subgroup and,
    with two subgroups, second − first) and their names, for the subgroups that have patients."""
    patient_subgroups = np.asarray(patient_subgroups)
    present = [g for g in subgroups if (patient_subgroups == g).any()]
    indicators = {g: (patient_subgroups == g).astype(float) for g in present}
    design = full_rank_design({**indicators, **covariates}, protected=present)
    names = list(present)
    contrasts = np.zeros((len(design), len(present)))
    contrasts[np.arange(len(present)), np.arange(len(present))] = 1.0
    if len(subgroups) == 2 and len(present) == 2:
        column = np.zeros((len(design), 1))
        column[0, 0], column[1, 0] = -1.0, 1.0  # second − first (sheet order)
        contrasts = np.hstack([contrasts, column])
        names.append(CONTRAST_INTERACTION)
    return present, np.column_stack(list(design.values())), list(design), contrasts, names


def quantified_differential_statistics(
    baseline,
    followup,
    se_baseline,
    se_followup,
    observed_baseline,
    observed_followup,
    patient_subgroups,
    subgroups,
    covariates=None,
    trend=False,
    robust=False,
    treat_log2fc=0.0,
    ebayes_legacy=None,
    min_patients=1,
):
    """Moderated statistics of every contrast for DPC-quantified proteins, with precision weights.

    Inputs are proteins × patients: the complete log2 values of the baseline and follow-up samples
    (limpa ``dpcQuant``, normalized), their standard errors, and whether any precursor of the
    protein was observed in the sample. Each fit is limpa's ``dpcDE`` → limma ``contrasts.fit`` →
    ``eBayes`` on the paired sample-level design (``~0 + patient + subgroup:visit`` + covariates),
    computed exactly on the per-patient differences (:func:`tearflow.vooma.paired_vooma_fit`: vooma
    weights from a lowess trend of √σ against the mean log-intensity and log SE, the residual df of
    proteins whose samples in a group are all imputed reduced as limpa does); the subgroup contrasts
    and the interaction come from one fit, ``all`` from its own (``~1`` + covariates).

    Every protein observed at least once in a contrast's pairs is tested (interaction: in each of the
    two subgroups) when the contrast has at least ``min_patients`` paired patients (the config's
    ``differential.min_pairs``; interaction: each subgroup); others have NaN statistics. Returns
    ``{contrast: {column: array}}`` as
    :func:`differential_statistics`, with ``n_pairs`` (pairs in the fit: every pair of the contrast,
    the matrix is complete) and ``n_pairs_observed`` (pairs with both visits observed).
    """
    from tearflow.vooma import paired_vooma_fit

    baseline, followup = np.asarray(baseline, dtype=float), np.asarray(followup, dtype=float)
    observed_baseline = np.asarray(observed_baseline, dtype=bool)
    observed_followup = np.asarray(observed_followup, dtype=bool)
    n_proteins = len(baseline)
    patient_subgroups = np.asarray(patient_subgroups)
    covariates = covariates or {}
    seen = observed_baseline | observed_followup
    both = observed_baseline & observed_followup
    everyone = np.ones(n_proteins, dtype=bool)
    present, design, columns, contrasts, names = _subgroup_design(patient_subgroups, subgroups, covariates)

    def moderated(difference_design, design_names, contrast_matrix, contrast_names):
        weighted = paired_vooma_fit(
            baseline, followup, se_baseline, se_followup, ~observed_baseline, ~observed_followup,
            difference_design, names=design_names,
        )  # fmt: skip
        fit = weighted.fit
        return _moderated_fit(
            fit, contrast_matrix, contrast_names, everyone, fit.amean, trend, robust, treat_log2fc, ebayes_legacy
        )

    results = moderated(design, columns, contrasts, names)
    in_group = {g: patient_subgroups == g for g in present}
    enough = {g: int(in_group[g].sum()) >= min_patients for g in present}
    testable = {g: seen[:, in_group[g]].any(axis=1) & enough[g] for g in present}
    n_fit = {g: np.full(n_proteins, int(in_group[g].sum())) for g in present}
    n_observed = {g: both[:, in_group[g]].sum(axis=1) for g in present}
    if CONTRAST_INTERACTION in names:
        first, second = present
        testable[CONTRAST_INTERACTION] = testable[first] & testable[second]
        n_fit[CONTRAST_INTERACTION] = n_fit[first] + n_fit[second]
        n_observed[CONTRAST_INTERACTION] = n_observed[first] + n_observed[second]

    all_design = full_rank_design({"(Intercept)": np.ones(baseline.shape[1]), **covariates}, ["(Intercept)"])
    results.update(moderated(np.column_stack(list(all_design.values())), list(all_design), None, [CONTRAST_ALL]))
    testable[CONTRAST_ALL] = seen.any(axis=1) & (baseline.shape[1] >= min_patients)
    n_fit[CONTRAST_ALL] = np.full(n_proteins, baseline.shape[1])
    n_observed[CONTRAST_ALL] = both.sum(axis=1)

    return _contrast_tables(
        results,
        testable,
        n_fit,
        {N_PAIRS_OBSERVED: n_observed},
        "observed at least once in its pairs; precision weights",
    )


def untestable_contrasts(patient_subgroups, subgroups, min_patients):
    """The contrasts with fewer than ``min_patients`` paired patients (interaction: in either
    subgroup): no protein can be tested in them."""
    counts = {g: list(patient_subgroups).count(g) for g in subgroups}
    small = [g for g in subgroups if counts[g] < min_patients]
    if len(subgroups) == 2 and small:
        small.append(CONTRAST_INTERACTION)
    if len(patient_subgroups) < min_patients:
        small.append(CONTRAST_ALL)
    return small


def untested_contrast(n_proteins):
    """The statistics of a contrast without paired patients: NA everywhere, no pairs."""
    return {
        **_empty_statistics(n_proteins),
        FDR: np.full(n_proteins, np.nan),
        N_PAIRS: np.zeros(n_proteins, dtype=int),
        N_PAIRS_MEASURED: np.zeros(n_proteins, dtype=int),
    }


def contrast_table(statistics, proteins, genes, abundance, fdr, min_abs_log2fc, share_imputed=None, n_precursors=None):
    """The published table of one contrast, ``{column: array}``: contract columns first, then
    extras; rows sorted by p-value (untested last, input order within ties).

    ``significant`` = fdr < ``fdr`` and |log2fc| ≥ ``min_abs_log2fc`` (False when untested).
    """
    with np.errstate(invalid="ignore"):
        significant = (statistics[FDR] < fdr) & (np.abs(statistics[LOG2FC]) >= min_abs_log2fc)
    table = {
        PROTEIN: np.asarray(proteins, dtype=object),
        GENE: np.asarray(genes, dtype=object),
        LOG2FC: statistics[LOG2FC],
        T_STAT: statistics[T_STAT],
        PVALUE: statistics[PVALUE],
        FDR: statistics[FDR],
        N_PAIRS: np.asarray(statistics[N_PAIRS]).astype(int),
        MEAN_ABUNDANCE: np.asarray(abundance, dtype=float),
        SIGNIFICANT: significant,
    }
    for column in (STANDARD_ERROR, CI_LOW, CI_HIGH, DF_TOTAL, LODS):
        table[column] = statistics[column]
    if share_imputed is not None:
        table[N_PAIRS_MEASURED] = np.asarray(statistics[N_PAIRS_MEASURED]).astype(int)
        table[SHARE_IMPUTED] = np.asarray(share_imputed, dtype=float)
    if n_precursors is not None:
        table[N_PAIRS_OBSERVED] = np.asarray(statistics[N_PAIRS_OBSERVED]).astype(int)
        table[N_PRECURSORS] = np.asarray(n_precursors).astype(int)
    pvalue = np.where(np.isnan(statistics[PVALUE]), np.inf, statistics[PVALUE])
    order = np.lexsort((np.arange(len(pvalue)), pvalue))
    return {column: np.asarray(values)[order] for column, values in table.items()}


def imputed_share(mask, pairs, patients):
    """Per protein: share of imputed values among both visits of ``patients``."""
    patients = set(patients)
    chosen = [pair for pair in pairs if pair[PATIENT] in patients]
    if not chosen:
        return np.full(len(mask.values), np.nan)
    return mask.columns(baseline_samples(chosen) + followup_samples(chosen)).mean(axis=1)


def contrast_patients(pairs, name):
    """The patients whose samples make up contrast ``name``."""
    if name in (CONTRAST_ALL, CONTRAST_INTERACTION):
        return [pair[PATIENT] for pair in pairs]
    return [pair[PATIENT] for pair in pairs if pair[SUBGROUP] == name]


def read_sample_matrix(path, what, kind=float):
    """A proteins × samples table tearflow wrote (protein, gene, one column per sample)."""
    from tearflow.tables import read_matrix

    labels, samples, values = read_matrix(path, (PROTEIN, GENE), what, kind)
    return SampleMatrix(labels[PROTEIN], labels[GENE], samples, values)


def check_mask(mask, matrix, mask_path, matrix_path, samples):
    """The imputation mask covers the matrix: the same proteins in the same order, every sample."""
    if mask.proteins != matrix.proteins:
        raise TearflowError(
            f"imputation mask {mask_path}: proteins differ from {matrix_path} "
            "(expected the same rows in the same order)"
        )
    missing = [sample for sample in samples if sample not in mask.samples]
    if missing:
        raise TearflowError(f"imputation mask {mask_path}: no column for sample {missing[0]!r}")


# --------------------------------------------------------------------------------------------------
# Snakemake adapter


def contrast_tables(matrix, sheet, timepoints, contrasts, settings, mask=None, sheet_path="sample sheet",
                    matrix_path="abundance table", mask_path="imputation mask", quantified=None):  # fmt: skip
    """The differential step on one abundance matrix: ``({contrast: published table}, patient
    changes)``, both as ``{column: array}``.

    ``matrix``/``mask``: :class:`SampleMatrix` (log2 abundance; True where imputed); ``sheet``: the
    sample sheet as row dicts; ``settings``: the ``differential`` config section. ``quantified``:
    for DPC-quantified proteins, :class:`Quantified` (standard errors, observed samples, precursor
    counts): the contrasts are then tested with precision weights
    (:func:`quantified_differential_statistics`). A contrast without paired patients gets a table of
    NA statistics.
    """
    subgroups = subgroup_order(sheet)
    pairs = pair_records(sheet, timepoints["baseline"], timepoints["followup"])
    pairs = order_by_subgroup(usable_pairs(pairs, matrix.samples, matrix_path), subgroups)
    if not pairs:
        raise TearflowError(
            f"{sheet_path}: no patient has both a {timepoints['baseline']!r} and a "
            f"{timepoints['followup']!r} sample in {matrix_path}; nothing to compare"
        )
    patient_subgroups = [pair[SUBGROUP] for pair in pairs]
    log.info(
        "%d paired patients: %s",
        len(pairs),
        ", ".join(f"{g} {patient_subgroups.count(g)}" for g in subgroups),
    )
    measured = None
    if mask is not None:
        check_mask(mask, matrix, mask_path, matrix_path, baseline_samples(pairs) + followup_samples(pairs))
        measured = measured_pairs(mask, pairs)
    differences = paired_differences(matrix, pairs)
    abundance = mean_log2_abundance(matrix, pairs)
    legacy = EBAYES_LEGACY[settings["ebayes_legacy"]]
    log.info(
        "empirical Bayes prior: %s",
        {
            None: "limma's default (fitFDistUnequalDF1 where the residual df differ, else fitFDist)",
            True: "classic fitFDist (limma legacy = TRUE)",
            False: "fitFDistUnequalDF1",
        }[legacy],
    )
    covariates = covariate_columns(pairs, settings["covariates"], sheet_path)
    if quantified is None:
        statistics = differential_statistics(
            differences,
            patient_subgroups,
            subgroups,
            abundance,
            covariates=covariates,
            min_pairs=settings["min_pairs"],
            trend=settings["trend"],
            robust=settings["robust"],
            measured=measured,
            treat_log2fc=settings["treat_log2fc"],
            ebayes_legacy=legacy,
        )
    else:
        quantified.check(matrix, matrix_path, baseline_samples(pairs) + followup_samples(pairs))
        statistics = quantified_differential_statistics(
            matrix.columns(baseline_samples(pairs)),
            matrix.columns(followup_samples(pairs)),
            quantified.standard_errors.columns(baseline_samples(pairs)),
            quantified.standard_errors.columns(followup_samples(pairs)),
            quantified.observed.columns(baseline_samples(pairs)),
            quantified.observed.columns(followup_samples(pairs)),
            patient_subgroups,
            subgroups,
            covariates=covariates,
            trend=settings["trend"],
            robust=settings["robust"],
            treat_log2fc=settings["treat_log2fc"],
            ebayes_legacy=legacy,
            min_patients=settings["min_pairs"],
        )
    for name in untestable_contrasts(patient_subgroups, subgroups, settings["min_pairs"]):
        log.warning(
            "contrast %s: fewer than %d paired patients (differential.min_pairs); its table has NA statistics",
            name,
            settings["min_pairs"],
        )
    if settings["treat_log2fc"] > 0:
        log.info("p-values test |log2fc| > %g (treat; McCarthy & Smyth 2009)", settings["treat_log2fc"])
    tables = {}
    for name in contrasts:
        contrast = statistics.get(name)
        if contrast is None:
            log.warning("contrast %s: no paired patients; table has NA statistics only", name)
            contrast = untested_contrast(len(matrix.proteins))
        share = None if mask is None else imputed_share(mask, pairs, contrast_patients(pairs, name))
        tables[name] = contrast_table(
            contrast, matrix.proteins, matrix.genes, abundance, settings["fdr"], settings["min_abs_log2fc"], share,
            n_precursors=None if quantified is None else quantified.n_precursors,
        )  # fmt: skip
        log.info(
            "contrast %s: %d significant (fdr < %g, |log2fc| >= %g)",
            name,
            int(tables[name][SIGNIFICANT].sum()),
            settings["fdr"],
            settings["min_abs_log2fc"],
        )
    changes = {PROTEIN: matrix.proteins, GENE: matrix.genes}
    changes.update({pair[PATIENT]: differences[:, j] for j, pair in enumerate(pairs)})
    return tables, changes
