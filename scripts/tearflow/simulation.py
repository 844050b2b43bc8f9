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

Precursor level (issue 18, DPC quantification): :func:`simulate_precursor_trial` simulates the trial's
precursors with intensity-dependent missingness from a detection probability curve, changed and
switched-on/off proteins; :func:`method_statistics` runs each protein-level path as the workflow
would (tearflow's DPC path, median polish + ``min_pairs``, + left-censored imputation);
:func:`precursor_evidence` and :func:`evidence_summary` score them (true positives, FDP at BH 0.05,
bias of the unchanged proteins) against the truth and against R limpa's results;
:func:`hye_precursor_data`, :func:`ups1_peptide_data`, :func:`hye_protein_data` read the spike-in
benchmarks with their truth. ``tests/test_dpc_evidence.py`` and ``benchmarks/dpc_evidence.py`` use them.
"""

import re
import warnings

import numpy as np
import pandas as pd

from tearflow.columns import GENE, PATIENT, PRECURSOR, PROTEIN, SAMPLE, SUBGROUP, TIMEPOINT
from tearflow.normalization import normalized_matrix
from tearflow.readers.base import normalised_by_search_engine

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


# ------------------------------------------------------------------------- precursor-level trial

#: the contrasts of the paired trial and how their truth follows from the subgroup changes
TRIAL_CONTRASTS = ("NSDE", "SSDE", "interaction", "all")


class PairedPrecursorData:
    """Precursor-level data of a paired design with the truth: what :func:`simulate_precursor_trial`
    and the spike-in readers (:func:`hye_precursor_data`, :func:`ups1_peptide_data`) return.

    ``log2``: precursors × samples (NaN = not detected), columns in ``sheet`` order; ``precursors``:
    ``precursor, protein`` per row; ``sheet``: ``sample, patient, subgroup, timepoint`` (each
    patient's baseline then follow-up, subgroup by subgroup; simulation: also ``loading_offset``, the
    true sample offset); ``truth``: per protein (sorted by id)
    ``protein``, ``change_<subgroup>`` (the true follow-up − baseline log2 change in every patient of
    the subgroup; NaN where unknown) and descriptive columns (simulation: ``kind`` — unchanged,
    changed, switched_on, switched_off —, ``level``, ``n_precursors``; spike-ins: ``species``).
    ``normalised``: whether the values are ones a search engine normalised across runs (what the
    import summary records and ``normalization.method: auto`` decides by; a simulation without
    loading offsets stands for such a report).
    """

    def __init__(self, log2, precursors, sheet, truth, normalised=False):
        self.log2, self.precursors, self.sheet, self.truth = log2, precursors, sheet, truth
        self.normalised = bool(normalised)

    @property
    def samples(self):
        return list(self.sheet[SAMPLE])

    @property
    def subgroups(self):
        return list(dict.fromkeys(self.sheet[SUBGROUP]))

    def true_change(self, contrast):
        """The true log2 change of every protein (``truth`` order) in ``contrast``: a subgroup's change,
        ``interaction`` = second − first subgroup, ``all`` = the mean change over all patients."""
        changes = {g: self.truth[f"change_{g}"].to_numpy() for g in self.subgroups}
        if contrast in changes:
            return changes[contrast]
        if contrast == "interaction":
            first, second = self.subgroups
            return changes[second] - changes[first]
        counts = self.sheet.drop_duplicates(PATIENT)[SUBGROUP].value_counts()
        return sum(counts[g] * changes[g] for g in changes) / counts.sum()

    def missing_share(self):
        return float(np.isnan(self.log2).mean())


def simulate_precursor_trial(
    seed,
    n_proteins=1000,
    changed_fraction=0.15,
    switched_fraction=0.05,
    null=False,
    subgroups=None,
    subgroup_specific=0.4,
    change_range=(0.5, 2.0),
    switch_range=(4.0, 6.0),
    level_mean=20.0,
    level_sd=2.0,
    precursor_sd=1.2,
    patient_sd=0.6,
    biological_sd=0.4,
    biological_df=6,
    technical_sd=0.3,
    offset_sd=0.0,
    dpc=(-15.5, 0.8),
    random_missing=0.02,
):
    """A seeded precursor-level simulation of the trial (11 NSDE + 5 SSDE patients × baseline, week2).

    Per protein p: a mean log2 intensity ``level`` ~ N(level_mean, level_sd²) and 1-10 precursors,
    more for abundant proteins (1 + Binomial(9, plogis((level − level_mean − 1)/1.5))), each with an
    offset ~ N(0, precursor_sd²) (ionisation). A precursor's complete log2 intensity in sample j of
    patient i is level + offset + u_pi + e_pj + change + o_j + ε: u ~ N(0, patient_sd²) the patient's
    own level (shared by both visits), e ~ N(0, τ_p²) the visit-to-visit biological variation with
    τ_p² = biological_sd² · d/χ²_d (d = ``biological_df``: proteins differ in variability), o_j ~
    N(0, offset_sd²) the sample's loading offset (what normalization must remove), ε ~
    N(0, technical_sd²) per precursor.

    Changes at week2 (``changed_fraction`` of the proteins): ±U(``change_range``) log2, the same in
    both subgroups, or (share ``subgroup_specific``) in one subgroup only, so the interaction has
    true changes. Switched proteins (``switched_fraction``): present at one visit and ``switch_range``
    log2 lower at the other (switched on: low at baseline; off: low at week2), so they are mostly
    undetected there; in both subgroups or (share ``subgroup_specific``) one. ``null``: no change.

    Missingness: a value is detected with probability plogis(β0 + β1 y) (the detection probability
    curve, ``dpc`` = (β0, β1), on the intensity including the loading offset) and independently of
    it lost at random with probability ``random_missing``; with the defaults ~35 % of the values are
    missing. Precursors never detected and proteins without a detected precursor are dropped (a
    search engine reports neither).
    """
    rng = np.random.default_rng(seed)
    subgroups = subgroups or SUBGROUPS
    patients, patient_subgroup = [], []
    for subgroup, n_patients in subgroups.items():
        for number in range(1, n_patients + 1):
            patients.append(f"{subgroup}{number:02d}")
            patient_subgroup.append(subgroup)
    n_patients = len(patients)
    sheet = pd.DataFrame(
        [
            {SAMPLE: f"{p}_{t}", PATIENT: p, SUBGROUP: g, TIMEPOINT: t}
            for p, g in zip(patients, patient_subgroup)
            for t in ("baseline", "week2")
        ]
    )
    patient_of = np.repeat(np.arange(n_patients), 2)
    followup = np.tile([False, True], n_patients)
    subgroup_of = np.asarray(patient_subgroup)[patient_of]
    in_group = {g: subgroup_of == g for g in subgroups}

    level = rng.normal(level_mean, level_sd, n_proteins)
    n_precursors = 1 + rng.binomial(9, 1 / (1 + np.exp(-(level - level_mean - 1) / 1.5)))
    tau = biological_sd * np.sqrt(biological_df / rng.chisquare(biological_df, n_proteins))

    kind = np.full(n_proteins, "unchanged", dtype=object)
    change = {g: np.zeros(n_proteins) for g in subgroups}
    shift = np.zeros((n_proteins, len(sheet)))  # what is added to the complete protein level
    if not null:
        n_changed = int(round(changed_fraction * n_proteins))
        n_switched = int(round(switched_fraction * n_proteins))
        chosen = rng.permutation(n_proteins)
        changed, switched = chosen[:n_changed], chosen[n_changed : n_changed + n_switched]
        groups = list(subgroups)

        def affected(count):
            """Per protein: the subgroups it changes in (both, or one in share subgroup_specific)."""
            specific = rng.random(count) < subgroup_specific
            one = rng.integers(0, len(groups), count)
            return [[groups[k]] if s else groups for s, k in zip(specific, one)]

        sizes = rng.uniform(*change_range, n_changed) * rng.choice([-1.0, 1.0], n_changed)
        for p, size, where in zip(changed, sizes, affected(n_changed)):
            kind[p] = "changed"
            for g in where:
                change[g][p] = size
                shift[p, in_group[g] & followup] += size
        drops = rng.uniform(*switch_range, n_switched)
        on = rng.random(n_switched) < 0.5
        for p, drop, up, where in zip(switched, drops, on, affected(n_switched)):
            kind[p] = "switched_on" if up else "switched_off"
            for g in where:
                change[g][p] = drop if up else -drop
                low = in_group[g] & (~followup if up else followup)
                shift[p, low] -= drop

    protein_level = (
        level[:, None]
        + rng.normal(0, patient_sd, (n_proteins, n_patients))[:, patient_of]
        + rng.normal(0, 1, (n_proteins, len(sheet))) * tau[:, None]
        + shift
    )
    loading = rng.normal(0, offset_sd, len(sheet))
    protein_level += loading[None, :]
    sheet["loading_offset"] = loading
    protein_of = np.repeat(np.arange(n_proteins), n_precursors)
    n_rows = len(protein_of)
    y = (
        protein_level[protein_of]
        + rng.normal(0, precursor_sd, n_rows)[:, None]
        + rng.normal(0, technical_sd, (n_rows, len(sheet)))
    )
    b0, b1 = dpc
    detected = rng.random(y.shape) < 1 / (1 + np.exp(-(b0 + b1 * y)))
    detected &= rng.random(y.shape) >= random_missing
    y = np.where(detected, y, np.nan)

    kept = detected.any(axis=1)
    y, protein_of = y[kept], protein_of[kept]
    ids = np.array([f"PROT{i:05d}" for i in range(n_proteins)])
    present = np.unique(protein_of)
    counts = np.bincount(protein_of, minlength=n_proteins)
    precursors = pd.DataFrame(
        {
            PRECURSOR: [f"{ids[p]}_{k}" for p, k in zip(protein_of, _rank_within(protein_of))],
            PROTEIN: ids[protein_of],
        }
    )
    truth = pd.DataFrame(
        {
            PROTEIN: ids[present],
            "kind": kind[present],
            **{f"change_{g}": change[g][present] for g in subgroups},
            "level": level[present],
            "n_precursors": counts[present],
        }
    )
    # no loading offsets: what a search engine's normalised report looks like
    return PairedPrecursorData(y, precursors, sheet, truth.reset_index(drop=True), normalised=offset_sd == 0)


def _rank_within(groups):
    """0, 1, 2, … within each run of equal consecutive values."""
    groups = np.asarray(groups)
    starts = np.r_[0, np.flatnonzero(groups[1:] != groups[:-1]) + 1]
    lengths = np.diff(np.r_[starts, len(groups)])
    return np.arange(len(groups)) - np.repeat(starts, lengths)


# ------------------------------------------------------- methods on precursor data, as the workflow runs them

#: the protein-level methods compared on precursor data (:func:`method_statistics`)
QUANTIFICATION_METHODS = ("dpc", "min_pairs", "left_censored", "left_censored_all")


def trial_pairs(sheet, baseline="baseline", followup="week2"):
    """(patients, their subgroups, baseline samples, follow-up samples, subgroup order) of a sheet
    (``sample, patient, subgroup, timepoint``), patients grouped by subgroup in sheet order."""
    subgroups = list(dict.fromkeys(sheet[SUBGROUP]))
    first = sheet.drop_duplicates(PATIENT).set_index(PATIENT)[SUBGROUP]
    by_visit = sheet.set_index([PATIENT, TIMEPOINT])[SAMPLE]
    patients = [p for g in subgroups for p in first.index[first == g]]
    base = [by_visit[(p, baseline)] for p in patients]
    follow = [by_visit[(p, followup)] for p in patients]
    return patients, [first[p] for p in patients], base, follow, subgroups


def median_polish_quant(log2, protein_ids, max_iterations=10, eps=0.01):
    """Protein × sample log2 values by Tukey's median polish of each protein's precursors (MSstats'
    default summary, ``summaryMethod = "TMP"``; R ``medpolish(na.rm = TRUE)`` step for step: overall
    + sample effect, NaN where no precursor was observed). No model of the missing values.

    Returns (sorted protein ids, protein × sample array). Vectorized over proteins: the precursors
    of each protein are stacked into a proteins × (most precursors) × samples array padded with NaN.
    """
    y = np.asarray(log2, dtype=float)
    proteins, index = np.unique(np.asarray(protein_ids), return_inverse=True)
    counts = np.bincount(index)
    order = np.argsort(index, kind="stable")
    slot = np.empty(len(index), dtype=int)
    slot[order] = np.arange(len(index)) - np.repeat(np.r_[0, np.cumsum(counts)[:-1]], counts)
    cube = np.full((len(proteins), counts.max(), y.shape[1]), np.nan)
    cube[index, slot] = y
    z = cube
    n = len(proteins)
    overall = np.zeros(n)
    row = np.zeros(cube.shape[:2])
    row[np.arange(cube.shape[1])[None, :] >= counts[:, None]] = np.nan  # padding: no precursor
    column = np.zeros((n, y.shape[1]))
    old = np.zeros(n)
    active = np.ones(n, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: padding, unobserved samples
        for _ in range(max_iterations):
            a = active
            r_delta = np.nanmedian(z[a], axis=2)
            z[a] -= r_delta[:, :, None]
            row[a] += r_delta
            delta = np.nanmedian(column[a], axis=1)
            column[a] -= delta[:, None]
            overall[a] += delta
            c_delta = np.nanmedian(z[a], axis=1)
            z[a] -= c_delta[:, None, :]
            column[a] += c_delta
            delta = np.nanmedian(row[a], axis=1)
            row[a] -= delta[:, None]
            overall[a] += delta
            new = np.nansum(np.abs(z[a]), axis=(1, 2))
            done = (new == 0) | (np.abs(new - old[a]) < eps * new)
            old[a] = new
            active[np.flatnonzero(a)[done]] = False
            if not active.any():
                break
    return proteins, overall[:, None] + column


def _normalize(matrix, samples, sheet, normalization, observed=None, normalised=False):
    """``normalized_matrix`` of a protein × sample array (``normalization``: the config section); with
    ``observed`` (DPC estimates: a complete, model-based matrix) the offsets come from the observed
    cells only and are subtracted from every cell. ``normalised``: whether a search engine normalised
    the input (for ``auto``). Returns (normalized array, offsets per sample)."""
    frame = pd.DataFrame(np.asarray(matrix, dtype=float), columns=samples)
    annotation = pd.DataFrame({PROTEIN: [f"row{i}" for i in range(len(frame))], GENE: ""})
    patients = sheet.set_index(SAMPLE)[PATIENT]
    normalized, table = normalized_matrix(frame, annotation, normalization, patients, [normalised], observed=observed)
    return normalized.to_numpy(), table["offset"].to_numpy()


def _as_tables(statistics, proteins, contrasts=None):
    """{contrast: DataFrame(protein, log2fc, pvalue, fdr)} from the differential module's arrays."""
    names = contrasts or list(statistics)
    return {
        name: pd.DataFrame(
            {
                PROTEIN: proteins,
                "log2fc": statistics[name]["log2fc"],
                "pvalue": statistics[name]["pvalue"],
                "fdr": statistics[name]["fdr"],
            }
        )
        for name in names
        if name in statistics
    }


def dpc_statistics(log2, protein_ids, sheet, normalization, model="cn", trend=False, robust=False,
                   baseline="baseline", followup="week2", by_row=False, normalised=False):  # fmt: skip
    """tearflow's DPC path: ``detection_curve(model)`` → ``dpc_quant`` (``dpc_quant_by_row`` with
    ``by_row``: one row per protein) → normalization (``normalization``: the config section, or None
    for none; ``normalised``: whether a search engine normalised the input, for ``auto``) →
    ``quantified_differential_statistics``. The sample offsets are estimated from the
    protein values of the samples where the protein was observed (model-based values of unobserved
    ones would pull them toward the DPC's prior) and subtracted from every protein value. Returns
    ({contrast: table}, the quantification)."""
    from tearflow.differential import quantified_differential_statistics
    from tearflow.dpc import detection_curve
    from tearflow.protein_quant import dpc_quant, dpc_quant_by_row

    y = np.asarray(log2, dtype=float)
    curve = detection_curve(y, model=model)
    if by_row:
        quant = dpc_quant_by_row(y, dpc=curve)
        quant.proteins = np.asarray(protein_ids)
    else:
        quant = dpc_quant(y, protein_ids, dpc=curve)
    patients, patient_subgroups, base, follow, subgroups = trial_pairs(sheet, baseline, followup)
    samples = list(sheet[SAMPLE])
    expression = quant.expression
    if normalization is not None:
        expression, _ = _normalize(
            expression, samples, sheet, normalization, observed=quant.n_observed > 0, normalised=normalised
        )
    column = {s: j for j, s in enumerate(samples)}
    b, f = [column[s] for s in base], [column[s] for s in follow]
    statistics = quantified_differential_statistics(
        expression[:, b], expression[:, f],
        quant.standard_error[:, b], quant.standard_error[:, f],
        quant.n_observed[:, b] > 0, quant.n_observed[:, f] > 0,
        patient_subgroups, subgroups, trend=trend, robust=robust,
    )  # fmt: skip
    quant.curve = curve
    return _as_tables(statistics, quant.proteins), quant


def summarised_statistics(log2, protein_ids, sheet, normalization, imputation="none", seed=0, shift=1.8, width=0.3,
                          min_pairs=3, baseline="baseline", followup="week2", protein_matrix=None):  # fmt: skip
    """The workflow on a protein matrix without a DPC: precursors summarised by
    :func:`median_polish_quant` (or ``protein_matrix`` = (ids, array) given) → normalization →
    ``imputation``: "none" (``differential_statistics`` with ``min_pairs`` measured pairs),
    "left_censored" (``left_censored_imputed`` with ``shift``, ``width``, ``seed``; as the workflow
    runs it, ``min_pairs`` counts measured pairs, imputed pairs only fill in) or "left_censored_all"
    (the same imputation, every imputed pair counted: Perseus' practice). Measured protein values:
    ``auto`` normalization is ``trimmed`` whatever the search engine did. Returns {contrast: table}."""
    from tearflow.differential import differential_statistics
    from tearflow.imputation import left_censored_imputed

    if protein_matrix is None:
        proteins, matrix = median_polish_quant(log2, protein_ids)
    else:
        proteins, matrix = protein_matrix
    samples = list(sheet[SAMPLE])
    patients, patient_subgroups, base, follow, subgroups = trial_pairs(sheet, baseline, followup)
    normalized = matrix if normalization is None else _normalize(matrix, samples, sheet, normalization)[0]
    frame = pd.DataFrame(normalized, columns=samples)
    measured = frame[follow].notna().to_numpy() & frame[base].notna().to_numpy()
    abundance = frame[base + follow].mean(axis=1).to_numpy()
    if imputation != "none":
        frame = left_censored_imputed(frame, shift, width, seed)
    differences = frame[follow].to_numpy() - frame[base].to_numpy()
    statistics = differential_statistics(
        differences, patient_subgroups, subgroups, abundance, min_pairs=min_pairs,
        measured=measured if imputation == "left_censored" else None,
    )  # fmt: skip
    return _as_tables(statistics, proteins)


def method_statistics(data, method, normalization, seed=0, **options):
    """{contrast: table} of one of :data:`QUANTIFICATION_METHODS` on a :class:`PairedPrecursorData`."""
    ids = data.precursors[PROTEIN].to_numpy()
    if method == "dpc":
        return dpc_statistics(data.log2, ids, data.sheet, normalization, normalised=data.normalised, **options)[0]
    imputation = {"min_pairs": "none"}.get(method, method)
    return summarised_statistics(data.log2, ids, data.sheet, normalization, imputation, seed=seed, **options)


def discoveries(table, truth, fdr=0.05):
    """Discoveries at BH ``fdr`` (fdr < ``fdr``, as ``differential.fdr``) of one contrast's table
    against the true changes ``truth`` (Series protein → true log2 change; proteins of unknown truth,
    NaN, are left out of every count): ``tested``, ``changed``,
    ``n_significant``, ``true_positives`` (truly changed, log2fc of the true sign), ``false`` (unchanged,
    or the wrong sign), ``fdp`` and ``median_unchanged`` (median log2fc of the truly unchanged proteins:
    the bias normalization must remove)."""
    true = truth.reindex(table[PROTEIN]).to_numpy()
    known = ~np.isnan(true)
    with np.errstate(invalid="ignore"):
        significant = (table["fdr"] < fdr).to_numpy() & known
    right = (true != 0) & (np.sign(table["log2fc"].to_numpy()) == np.sign(true))
    n = int(significant.sum())
    tp = int((significant & right).sum())
    unchanged = (true == 0) & table["log2fc"].notna().to_numpy()
    return {
        "tested": int((table["pvalue"].notna() & known).sum()),
        "changed": int((known & (true != 0)).sum()),
        "n_significant": n,
        "true_positives": tp,
        "false": n - tp,
        "fdp": (n - tp) / n if n else 0.0,
        "median_unchanged": float(np.median(table["log2fc"].to_numpy()[unchanged])) if unchanged.any() else np.nan,
    }


def trial_discoveries(data, tables, fdr=0.05, **labels):
    """:func:`discoveries` of every contrast of a :class:`PairedPrecursorData` (``tables``: {contrast: table}),
    one row each; ``labels`` (e.g. ``scenario``, ``replicate``, ``method``) lead every row."""
    records = []
    for contrast, table in tables.items():
        truth = pd.Series(data.true_change(contrast), index=data.truth[PROTEIN])
        records.append({**labels, "contrast": contrast, **discoveries(table, truth, fdr)})
    return pd.DataFrame(records)


# ------------------------------------------------------------ scenarios and spike-in data for the evidence

#: precursor-level scenarios of the DPC evidence (tests/test_dpc_evidence.py, benchmarks/dpc_evidence.py):
#: keyword arguments of :func:`simulate_precursor_trial` (defaults: 1,000 proteins, 15 % changed, 5 %
#: switched on or off, no loading offsets — DIA-NN-normalised-like input, limpa's assumption)
PRECURSOR_SCENARIOS = {
    "switched": {},
    "offsets": {"offset_sd": 0.3},
    "null": {"null": True},
}
PRECURSOR_SEED = 20250718


def precursor_trial_seed(scenario, replicate):
    """The seed of replicate ``replicate`` (0, 1, …) of a :data:`PRECURSOR_SCENARIOS` scenario."""
    return PRECURSOR_SEED + 1000 * list(PRECURSOR_SCENARIOS).index(scenario) + replicate


def precursor_scenario_trial(scenario, replicate):
    """Replicate ``replicate`` of a :data:`PRECURSOR_SCENARIOS` scenario."""
    return simulate_precursor_trial(precursor_trial_seed(scenario, replicate), **PRECURSOR_SCENARIOS[scenario])


def replicate_pairs(runs, baseline_pattern, followup_pattern, subgroup):
    """The sheet of a spike-in experiment paired by replicate: the i-th run (by the replicate number
    the regex patterns capture) of the baseline condition and of the follow-up condition are patient
    ``rep<i>`` (``subgroup``)."""
    rows = []
    for timepoint, pattern in (("baseline", baseline_pattern), ("week2", followup_pattern)):
        for run in runs:
            found = re.search(pattern, run)
            if found:
                rows.append({SAMPLE: run, PATIENT: f"rep{int(found.group(1))}", TIMEPOINT: timepoint})
    sheet = pd.DataFrame(rows)
    sheet[SUBGROUP] = subgroup
    sheet = sheet.sort_values([PATIENT, TIMEPOINT], kind="stable").reset_index(drop=True)
    return sheet[[SAMPLE, PATIENT, SUBGROUP, TIMEPOINT]]


def _paired_data(table, sheet, species, change_by_species, subgroup, normalised):
    """:class:`PairedPrecursorData` from a reader's precursor table: log2 of the sheet's runs, the
    truth from each protein's species (NaN where the species is unknown or mixed)."""
    intensities = table[list(sheet[SAMPLE])].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log2 = np.log2(np.where(intensities > 0, intensities, np.nan))
    seen = ~np.isnan(log2).all(axis=1)
    precursors = table.loc[seen, [PRECURSOR, PROTEIN]].reset_index(drop=True)
    proteins = np.unique(precursors[PROTEIN])
    kinds = species.reindex(proteins).to_numpy()
    truth = pd.DataFrame(
        {
            PROTEIN: proteins,
            "species": kinds,
            f"change_{subgroup}": [change_by_species.get(k, np.nan) for k in kinds],
        }
    )
    return PairedPrecursorData(log2[seen], precursors, sheet, truth, normalised)


def _single_species(names, pattern):
    """Per protein group: its one species (the ``pattern`` groups found in its names), or NaN."""
    found = names.fillna("").str.findall(pattern).map(lambda s: s[0] if len(set(s)) == 1 else np.nan)
    return found


#: true log2(B/A) of the HYE mixture (DIA-NN 1.9 AIF benchmark: A/B human 1, yeast 2, E. coli 1/4)
HYE_CHANGE = {"HUMAN": 0.0, "YEAST": -1.0, "ECOLI": 2.0}
#: true log2(25 fmol / 10 fmol) of the UPS1 spike-in in a yeast background
UPS1_CHANGE = {"UPS": float(np.log2(25 / 10)), "YEAST": 0.0}


def hye_precursor_data(path, options):
    """The DIA-NN 1.9 HYE precursor report (``Precursor.Normalised``, tearflow's reader with the
    ``import`` config ``options``), condition A as baseline and B as follow-up, paired by replicate
    number; truth log2(B/A) human 0, yeast −1, E. coli +2 (species from ``Protein.Names``)."""
    from tearflow.readers import read_precursors

    table = read_precursors(str(path), "auto", options)
    sheet = replicate_pairs(table.runs, r"Condition_A_.*_(\d+)$", r"Condition_B_.*_(\d+)$", "HYE")
    names = pd.read_csv(path, sep="\t", usecols=["Protein.Group", "Protein.Names"]).drop_duplicates("Protein.Group")
    species = pd.Series(
        _single_species(names["Protein.Names"], r"_(HUMAN|YEAST|ECOLI)\b").to_numpy(), index=names["Protein.Group"]
    )
    normalised = normalised_by_search_engine(table.format, table.quantity)
    return _paired_data(table.precursors, sheet, species, HYE_CHANGE, "HYE", normalised)


def ups1_peptide_data(path, options):
    """MaxQuant UPS1 peptides (25 fmol runs ``C_R<i>`` vs 10 fmol ``D_R<i>`` in yeast; tearflow's
    reader with the ``import`` config ``options``), 10 fmol as baseline, paired by replicate number;
    truth log2(25/10) = 1.32 for UPS1 proteins (``upsedyp`` in the id), 0 for yeast."""
    from tearflow.readers import read_precursors

    table = read_precursors(str(path), "auto", options)
    sheet = replicate_pairs(table.runs, r"^D_R(\d+)$", r"^C_R(\d+)$", "UPS1")
    proteins = pd.Series(table.precursors[PROTEIN].unique())
    species = np.where(
        proteins.str.contains("upsedyp"), "UPS", np.where(proteins.str.contains("_YEAST"), "YEAST", None)
    )
    species = pd.Series(species, index=proteins.to_numpy())
    normalised = normalised_by_search_engine(table.format, table.quantity)
    return _paired_data(table.precursors, sheet, species, UPS1_CHANGE, "UPS1", normalised)


def hye_protein_data(path):
    """The protein-level HYE table (``PG.MaxLFQ`` of a DIA-NN 1.9 long report, :func:`hye_matrix`) as
    :class:`PairedPrecursorData` with one row per protein (for ``dpc_quant_by_row``); pairing and
    truth as :func:`hye_precursor_data`."""
    log2, annotation, species, _ = hye_matrix(path)
    sheet = replicate_pairs(list(log2.columns), r"Condition_A_.*_(\d+)$", r"Condition_B_.*_(\d+)$", "HYE")
    table = pd.DataFrame({PRECURSOR: annotation[PROTEIN], PROTEIN: annotation[PROTEIN]})
    table = pd.concat([table, np.exp2(log2)], axis=1)
    species = pd.Series(species.to_numpy(), index=annotation[PROTEIN])
    normalised = normalised_by_search_engine("diann_report", "PG.MaxLFQ")
    return _paired_data(table, sheet, species, HYE_CHANGE, "HYE", normalised)


def limpa_tables(frame, contrasts=TRIAL_CONTRASTS):
    """{contrast: table} from R limpa's results as make_fixtures.R writes them (one replicate:
    ``protein, <contrast>_logfc, <contrast>_pvalue``), BH over the proteins limpa tested."""
    from tearflow.multiple_testing import bh_adjust

    tables = {}
    for contrast in contrasts:
        if f"{contrast}_pvalue" not in frame:
            continue
        pvalue = frame[f"{contrast}_pvalue"].to_numpy(dtype=float)
        tables[contrast] = pd.DataFrame(
            {
                PROTEIN: frame[PROTEIN].to_numpy(),
                "log2fc": frame[f"{contrast}_logfc"].to_numpy(dtype=float),
                "pvalue": pvalue,
                "fdr": np.asarray(bh_adjust(pvalue), dtype=float),
            }
        )
    return tables


def on_the_same_tests(tables, reference):
    """{contrast: table} of ``tables`` (e.g. R limpa's) kept to the proteins ``reference`` (e.g.
    tearflow's) gives a p-value in that contrast, BH taken again over them: the two methods compared
    on the same tests (limpa also tests proteins never observed in a contrast's pairs, tearflow leaves
    them NaN)."""
    from tearflow.multiple_testing import bh_adjust

    restricted = {}
    for contrast, table in tables.items():
        tested = reference[contrast].loc[reference[contrast]["pvalue"].notna(), PROTEIN]
        table = table[table[PROTEIN].isin(tested)].copy()
        table["fdr"] = np.asarray(bh_adjust(table["pvalue"].to_numpy()), dtype=float)
        restricted[contrast] = table
    return restricted


def precursor_evidence(scenario, replicates, normalization, limpa=None, methods=QUANTIFICATION_METHODS, fdr=0.05,
                       **options):  # fmt: skip
    """Discoveries (:func:`discoveries`) per replicate, method and contrast of a
    :data:`PRECURSOR_SCENARIOS` scenario: columns ``scenario, replicate, method, contrast, tested,
    changed, n_significant, true_positives, false, fdp``. ``limpa``: R limpa's results of the scenario
    (make_fixtures.R's ``sim_<scenario>.tsv.gz``), added as method ``limpa``; ``options`` go to the
    DPC method (``model``, ``trend``, ``robust``)."""
    records = []
    for replicate in replicates:
        data = precursor_scenario_trial(scenario, replicate)
        tables = {}
        for method in methods:
            extra = options if method == "dpc" else {}
            tables[method] = method_statistics(data, method, normalization, seed=replicate, **extra)
        if limpa is not None:
            tables["limpa"] = limpa_tables(limpa[limpa["replicate"] == replicate])
        for method, contrast_tables in tables.items():
            records.append(
                trial_discoveries(data, contrast_tables, fdr, scenario=scenario, replicate=replicate, method=method)
            )
    return pd.concat(records, ignore_index=True)


def evidence_summary(records):
    """Per scenario, method and contrast over the replicates: ``replicates``, mean ``n_significant``,
    ``true_positives``, ``fdp`` and ``median_unchanged``, the worst replicate's FDP (``max_fdp``),
    fewest true positives (``min_true_positives``) and largest |median_unchanged| (``max_abs_bias``),
    and the root mean square of ``median_unchanged`` (``rms_bias``: the typical replicate's bias)."""
    grouped = records.groupby(["scenario", "method", "contrast"], sort=False)
    columns = ["tested", "changed", "n_significant", "true_positives", "fdp", "median_unchanged"]
    summary = grouped[columns].mean()
    summary["max_fdp"] = grouped["fdp"].max()
    summary["min_true_positives"] = grouped["true_positives"].min()
    summary["max_abs_bias"] = grouped["median_unchanged"].apply(lambda b: b.abs().max())
    summary["rms_bias"] = grouped["median_unchanged"].apply(lambda b: float(np.sqrt(np.mean(b**2))))
    summary["replicates"] = grouped.size()
    return summary.reset_index()


def null_pvalues(replicates, normalization, scenario="null", **options):
    """{contrast: p-values of tearflow's DPC path pooled over the replicates} of a scenario without
    true changes (every protein tested in each replicate, in protein order)."""
    pooled = {}
    for replicate in replicates:
        data = precursor_scenario_trial(scenario, replicate)
        for contrast, table in method_statistics(data, "dpc", normalization, **options).items():
            pooled.setdefault(contrast, []).append(table["pvalue"].dropna().to_numpy())
    return {contrast: parts for contrast, parts in pooled.items()}


def spike_in_summary(data, tables, background, fdr=0.05, contrast="all"):
    """One method on a spike-in :class:`PairedPrecursorData`: :func:`discoveries` of ``contrast`` and
    the median log2 fold change of each species (``median_<species>``; ``background``: the species
    that does not change, reported again as ``background_median``)."""
    table = tables[contrast]
    truth = pd.Series(data.true_change(contrast), index=data.truth[PROTEIN])
    record = discoveries(table, truth, fdr)
    species = data.truth.set_index(PROTEIN)["species"].reindex(table[PROTEIN]).to_numpy()
    for name in pd.unique(data.truth["species"].dropna()):
        record[f"median_{name.lower()}"] = float(np.nanmedian(table["log2fc"].to_numpy()[species == name]))
    record["background_median"] = record[f"median_{background.lower()}"]
    return record
