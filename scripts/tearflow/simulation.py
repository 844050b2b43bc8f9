"""Simulation of trial-shaped data in which many proteins move one way, to compare normalizations.

Shape of the MSC eye-drop trial: 11 + 5 patients (subgroups NSDE, SSDE), tears at ``baseline`` and
``week2``. A share of proteins (0 %, 20 %, 40 %) rises at week2 by 0.5-1.5 log2 in every patient;
every sample also gets a random loading offset (what normalization must remove) and values below a
sample-specific detection limit go missing (left-censored). For each normalization method the
evaluation reports the bias of the unchanged proteins' mean paired log2 fold change (should be 0)
and, with the moderated paired t of :mod:`tearflow.limma` and BH at 0.05, the false-discovery
proportion and the number of true changes found.

:func:`simulation_table` is the reusable entry point (the benchmark calls it); :func:`hye_table` runs
the same methods on the DIA-NN HYE mixture (human 1:1, yeast, E. coli changing).
"""

import numpy as np
import pandas as pd

from tearflow.columns import GENE, PATIENT, PROTEIN, SAMPLE, SUBGROUP, TIMEPOINT
from tearflow.normalization import normalized_matrix

METHODS = ("none", "median", "quantile", "mode", "trimmed", "reference_set")
SHIFT_FRACTIONS = (0.0, 0.2, 0.4)
SUBGROUPS = {"NSDE": 11, "SSDE": 5}


def simulate_trial(
    shift_fraction,
    seed,
    n_proteins=800,
    subgroups=None,
    shift_range=(0.5, 1.5),
    patient_sd=0.7,
    noise_sd=0.3,
    offset_sd=0.5,
    missing_fraction=0.1,
    n_reference=30,
):
    """One simulated trial.

    Returns ``(log2, annotation, sheet, truth)``: the log2 matrix (proteins × samples, with sample
    offsets and missing values), the ``protein, gene`` table, the sample sheet, and per protein the
    true log2 change at week2 (0 for unchanged) with column ``reference`` marking ``n_reference``
    unchanged proteins a user could list as a reference set.
    """
    rng = np.random.default_rng(seed)
    subgroups = subgroups or SUBGROUPS
    proteins = [f"P{i:05d}" for i in range(n_proteins)]
    level = rng.normal(24.0, 2.0, n_proteins)
    n_shift = int(round(shift_fraction * n_proteins))
    change = np.zeros(n_proteins)
    shifted = rng.choice(n_proteins, n_shift, replace=False)
    change[shifted] = rng.uniform(*shift_range, n_shift)
    unchanged = np.flatnonzero(change == 0)
    reference = np.zeros(n_proteins, dtype=bool)
    reference[rng.choice(unchanged, min(n_reference, len(unchanged)), replace=False)] = True

    rows, columns = [], {}
    for subgroup, n_patients in subgroups.items():
        for number in range(1, n_patients + 1):
            patient = f"{subgroup}{number:02d}"
            own = level + rng.normal(0, patient_sd, n_proteins)
            for timepoint in ("baseline", "week2"):
                sample = f"{patient}_{timepoint}"
                values = own + rng.normal(0, noise_sd, n_proteins) + rng.normal(0, offset_sd)
                if timepoint == "week2":
                    values = values + change
                if missing_fraction > 0:
                    # left-censored: a detection limit near the sample's low quantile, soft edge
                    limit = np.quantile(values, missing_fraction)
                    detect = rng.random(n_proteins) < 1 / (1 + np.exp(-(values - limit) / 0.4))
                    values = np.where(detect, values, np.nan)
                columns[sample] = values
                rows.append({SAMPLE: sample, PATIENT: patient, SUBGROUP: subgroup, TIMEPOINT: timepoint})
    log2 = pd.DataFrame(columns, index=pd.RangeIndex(n_proteins))
    annotation = pd.DataFrame({PROTEIN: proteins, GENE: [f"G{p[1:]}" for p in proteins]})
    truth = pd.DataFrame({PROTEIN: proteins, "change": change, "reference": reference})
    return log2, annotation, pd.DataFrame(rows), truth


def paired_changes(log2, sheet):
    """followup − baseline per patient (proteins × patients)."""
    base = sheet[sheet[TIMEPOINT] == "baseline"].set_index(PATIENT)[SAMPLE]
    follow = sheet[sheet[TIMEPOINT] == "week2"].set_index(PATIENT)[SAMPLE]
    patients = [p for p in base.index if p in follow.index]
    return pd.DataFrame(
        {p: log2[follow[p]].to_numpy() - log2[base[p]].to_numpy() for p in patients},
        index=log2.index,
    )


def moderated_pvalues(changes, min_pairs=3, treat_log2fc=0.0, ebayes_legacy=None):
    """Moderated paired t p-values and their BH adjustment, from :mod:`tearflow.limma`.

    The paired moderated t is limma's one-sample fit on the per-patient differences
    (``lm_fit`` with an intercept-only design, then ``ebayes``; Smyth 2004); ``treat_log2fc`` > 0
    tests |log2fc| > it instead (``limma.treat``), as ``differential.treat_log2fc`` does. Proteins
    with fewer than ``min_pairs`` pairs get NaN. ``ebayes_legacy``: ``ebayes``'s ``legacy``; None,
    limma's current default and the recommended ``differential.ebayes_legacy: auto``, estimates the
    prior with ``fitFDistUnequalDF1`` when missing pairs make the residual df differ.
    """
    from tearflow import limma
    from tearflow.multiple_testing import bh_adjust

    values = changes.to_numpy(dtype=float)
    testable = np.isfinite(values).sum(axis=1) >= min_pairs
    pvalues = np.full(len(values), np.nan)
    fit = limma.ebayes(limma.lm_fit(values[testable], np.ones((values.shape[1], 1))), legacy=ebayes_legacy)
    tested = limma.treat(fit, treat_log2fc)[1] if treat_log2fc > 0 else fit.pvalue
    pvalues[testable] = np.asarray(tested, dtype=float).reshape(-1)
    return pvalues, np.asarray(bh_adjust(pvalues), dtype=float)


def method_settings(method, truth, normalization, reference="patient"):
    """The ``normalization`` config section with ``method`` and ``reference`` set (and, for
    ``reference_set``, the truly unchanged reference proteins)."""
    settings = {**normalization, "method": method, "reference": reference}
    if method == "reference_set":
        settings["reference_proteins"] = list(truth.loc[truth["reference"], PROTEIN])
    return settings


def evaluate(log2, annotation, sheet, truth, method, normalization, reference="patient", fdr=0.05):
    """Bias, FDP and true positives of one method on one simulated trial (``normalization``: the
    config section the other normalization keys come from)."""
    patients = sheet.set_index(SAMPLE)[PATIENT]
    settings = method_settings(method, truth, normalization, reference)
    normalized, _ = normalized_matrix(log2, annotation, settings, patients)
    changes = paired_changes(normalized, sheet)
    log2fc = changes.mean(axis=1, skipna=True).to_numpy()
    changed = truth["change"].to_numpy() != 0
    pvalues, adjusted = moderated_pvalues(changes)
    significant = adjusted <= fdr
    n_significant = int(np.sum(significant))
    false = int(np.sum(significant & ~changed))
    return {
        "method": method,
        "bias_unchanged": float(np.nanmean(log2fc[~changed])),
        "median_unchanged": float(np.nanmedian(log2fc[~changed])),
        "bias_changed": float(np.nanmean(log2fc[changed] - truth["change"].to_numpy()[changed]))
        if changed.any()
        else np.nan,
        "n_significant": n_significant if np.isfinite(adjusted).any() else np.nan,
        "true_positives": n_significant - false if np.isfinite(adjusted).any() else np.nan,
        "fdp": false / n_significant if n_significant else (0.0 if np.isfinite(adjusted).any() else np.nan),
    }


def simulation_table(
    normalization,
    methods=METHODS,
    shift_fractions=SHIFT_FRACTIONS,
    replicates=3,
    seed=20250202,
    reference="patient",
    **simulate,
):
    """Method × shift share: mean over replicates of bias, FDP and true positives.

    Columns: ``method, shift_fraction, replicates, bias_unchanged`` (mean paired log2FC of unchanged
    proteins; ±0.03 is the target), ``max_abs_bias`` (worst replicate), ``median_unchanged``,
    ``bias_changed``, ``n_significant``, ``true_positives``, ``fdp``.
    """
    records = []
    for fraction in shift_fractions:
        for replicate in range(replicates):
            trial_seed = seed + 1000 * replicate + int(round(100 * fraction))
            log2, annotation, sheet, truth = simulate_trial(fraction, trial_seed, **simulate)
            for method in methods:
                record = evaluate(log2, annotation, sheet, truth, method, normalization, reference)
                record["shift_fraction"] = fraction
                records.append(record)
    table = pd.DataFrame(records)
    grouped = table.groupby(["method", "shift_fraction"], sort=False)
    summary = grouped.mean(numeric_only=True)
    summary["max_abs_bias"] = grouped["bias_unchanged"].apply(lambda b: b.abs().max())
    summary["replicates"] = grouped.size()
    summary = summary.reset_index()
    ordered = ["method", "shift_fraction", "replicates", "bias_unchanged", "max_abs_bias"]
    ordered += ["median_unchanged", "bias_changed", "n_significant", "true_positives", "fdp"]
    return summary[ordered]


# --------------------------------------------------------------------------------------- HYE data


def hye_matrix(path):
    """PG.MaxLFQ per run from a DIA-NN long report: (log2 matrix, annotation, species, condition).

    Species come from the protein names (``_HUMAN``, ``_YEAST``, ``_ECOLI``); the condition is the
    ``Condition_X`` part of the run name. Zero quantities are missing.
    """
    report = pd.read_csv(path, sep="\t", usecols=["Run", "Protein.Group", "Protein.Names", "PG.MaxLFQ"])
    wide = report.pivot_table(
        index=["Protein.Group", "Protein.Names"], columns="Run", values="PG.MaxLFQ", aggfunc="first"
    )
    wide = wide[sorted(wide.columns)]
    log2 = np.log2(wide.where(wide > 0)).reset_index(drop=True)
    annotation = pd.DataFrame({PROTEIN: wide.index.get_level_values(0), GENE: wide.index.get_level_values(1)})
    species = annotation[GENE].str.extract(r"_(HUMAN|YEAST|ECOLI)")[0]
    condition = pd.Series(wide.columns, index=wide.columns).str.extract(r"Condition_([A-Za-z0-9]+)")[0]
    return log2, annotation, species, condition


def hye_table(path, normalization, methods=("none", "median", "quantile", "mode", "trimmed"), fdr=0.05,
              treat_log2fc=0.0):  # fmt: skip
    """Per normalization method on the HYE mixture: median log2 ratio (second condition − first) per
    species, and the paired moderated t at BH ``fdr`` — runs paired by replicate number (the i-th run
    of each condition), human proteins (1:1) counted as false discoveries, yeast and E. coli as true.
    ``treat_log2fc`` > 0 tests |log2fc| > it (limma treat) instead of log2fc ≠ 0.
    """
    log2, annotation, species, condition = hye_matrix(path)
    first, second = sorted(condition.unique())[:2]
    first_runs = list(condition.index[condition == first])
    second_runs = list(condition.index[condition == second])
    records = []
    for method in methods:
        normalized, _ = normalized_matrix(log2, annotation, {**normalization, "method": method})
        ratio = normalized.loc[:, condition == second].mean(axis=1) - normalized.loc[:, condition == first].mean(axis=1)
        record = {"method": method, "treat_log2fc": treat_log2fc, "contrast": f"{second}-{first}"}
        for name in ("HUMAN", "YEAST", "ECOLI"):
            record[f"median_{name.lower()}"] = float(ratio[species == name].median())
            record[f"n_{name.lower()}"] = int(ratio[species == name].notna().sum())
        changes = pd.DataFrame(
            normalized[second_runs].to_numpy() - normalized[first_runs].to_numpy(), index=normalized.index
        )
        _, adjusted = moderated_pvalues(changes, min_pairs=len(first_runs), treat_log2fc=treat_log2fc)
        significant = adjusted < fdr
        record["n_significant"] = int(significant.sum())
        record["true_positives"] = int((significant & species.isin(["YEAST", "ECOLI"]).to_numpy()).sum())
        record["fdp"] = float((significant & (species == "HUMAN").to_numpy()).sum() / max(significant.sum(), 1))
        records.append(record)
    return pd.DataFrame(records)
