"""Make tearflow's example data from the real human tear proteome (seeded, byte-reproducible).

The proteins, their gene symbols, their abundance distribution and their missingness come from a
real tear-fluid data set (PXD030990, spectral counts of 478 protein groups in 44 runs, re-analysed
by P. Wilmarth). On top of that a clinical trial is simulated: 11 NSDE and 5 SSDE patients with tear
samples at ``baseline`` and ``week2`` (three patients also at ``week4``), patient random effects,
per-sample loading offsets, residual noise and a few planted treatment effects (see
``resources/example/README.md``). Written are a DIA-NN ``pg_matrix``, the sample sheet, an ELISA
table as a lab returns it and a (simulated) per-eye clinical table.

Run from the repository root::

    .venv/bin/python resources/example/make_example_data.py

The functions below are pure (they take and return DataFrames/arrays, randomness only through the
``numpy.random.Generator`` they are given) and are imported by ``tests/test_example_data.py``.
"""

import argparse
import re
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20250202
REPO = Path(__file__).resolve().parents[2]
DEFAULT_TEAR = REPO / "resources" / "example" / "source" / "PXD030990_grouped_protein_summary.xlsx"
DEFAULT_IDMAP = REPO / "resources" / "idmap" / "uniprot_human_swissprot_2020-03-13.tsv"
DEFAULT_OUT = REPO / "resources" / "example"
DEFAULT_SHEET = REPO / "config" / "samples.tsv"

# --- trial design ---------------------------------------------------------------------------------
SUBGROUP_SIZES = {"NSDE": 11, "SSDE": 5}
BASELINE, FOLLOWUP, EXTRA_VISIT = "baseline", "week2", "week4"
EXTRA_VISIT_PATIENTS = ("NSDE03", "NSDE08", "SSDE02")
BATCH = "batch1"
RAW_FOLDER = "D:\\tearflow\\raw\\"

# --- abundance model (log2 scale) -----------------------------------------------------------------
LOG2_INTENSITY_RANGE = (14.0, 32.0)  # the lowest and highest mean spectral count map onto these
PATIENT_SD = 0.5  # patient random effect, per protein and patient
RESIDUAL_SD = 0.3  # residual noise, per protein and sample
LOADING_SD = 0.2  # per-sample loading offset, the same for every protein of a sample
MISSINGNESS_SD = 0.5  # noise on the value that decides which values go missing (0 = hard cut)
MISSINGNESS_POWER = 2.0  # DIA misses less than DDA counting: missing = (runs without counts)^power
RESPONSE_SD = 0.3  # per-patient spread of the treatment response (multiplies every planted effect)

# --- planted effects (log2 fold change week2 vs baseline; week4 = same as week2) ------------------
IL17_FOCUS_GENES = (
    "IL17A",
    "IL17F",
    "IL17RA",
    "TRAF3IP2",
    "IL6",
    "IL1B",
    "IL22",
    "STAT3",
    "MAPK14",
    "MAPK3",
    "CEBPB",
    "NFKBIZ",
    "HSP90AA1",
    "PPP2R1A",
)
IL17_TARGET_GENES = (
    "S100A8",
    "S100A9",
    "LCN2",
)  # classic IL-17 targets in tears, not in focus sets
IL17_EFFECT = {"NSDE": -1.2, "SSDE": -0.6}
MUC5AC_EFFECT = {"NSDE": 1.0, "SSDE": 1.0}
# proteins added to the tear proteome (absent from PXD030990), looked up in the UniProt ID map
ADDED_ACCESSIONS = {
    "IL17A": "Q16552",
    "IL17F": "Q96PD4",
    "IL17RA": "Q96F46",
    "TRAF3IP2": "O43734",
    "IL6": "P05231",
    "IL1B": "P01584",
    "IL22": "Q9GZX6",
    "STAT3": "P40763",
    "MAPK14": "Q16539",
    "MAPK3": "P27361",
    "CEBPB": "P17676",
    "NFKBIZ": "Q9BYH8",
}
ADDED_LOG2_COUNT_RANGE = (2.0, 4.0)  # log2 mean spectral count given to an added protein
# contaminants as DIA-NN users see them (Cont_ prefix from a contaminant FASTA); counts are real
CONTAMINANT_ACCESSIONS = ("P04264", "P13645", "P35527")

# --- ELISA ----------------------------------------------------------------------------------------
# analyte: unit, LLOQ, baseline median, baseline log2 sd, log2 change NSDE, SSDE, decimals
ELISA_ANALYTES = {
    "IL-6": ("pg/mL", 3.2, 14.0, 1.0, -1.0, -0.5, 1),
    "IL-17A": ("pg/mL", 1.6, 5.0, 0.9, -1.1, -0.5, 1),
    "MUC5AC": ("ng/mL", 0.31, 6.0, 0.8, 1.0, 0.6, 2),
    "CCL20": ("pg/mL", 3.9, 35.0, 0.8, -0.15, -0.1, 1),
    "IL-23": ("pg/mL", 2.7, 5.5, 0.9, 0.0, 0.0, 1),
}
ELISA_NOISE_SD = 0.35
ELISA_CENSORED_STYLES = ("<LLOQ", "< {lloq}", "ND")
ELISA_BLANK = ("SSDE04", FOLLOWUP, "IL-23")  # one cell a lab left empty (sample used up)

# --- clinical (simulated) -------------------------------------------------------------------------
CLINICAL_VISITS = (BASELINE, FOLLOWUP, EXTRA_VISIT, "month12")
VISIT_RESPONSE = (0.0, 1.0, 1.1, 0.8)  # fraction of the full improvement at each visit
EYES = ("OD", "OS")
# variable: baseline mean NSDE, SSDE; patient sd; eye sd; visit noise sd; improvement NSDE, SSDE;
# lower bound, upper bound, decimals. Improvement is in the variable's own direction (+ = higher).
CLINICAL_VARIABLES = {
    "OSDI": (45.0, 55.0, 12.0, 0.0, 4.0, -18.0, -7.0, 0.0, 100.0, None),
    "TMH": (0.18, 0.14, 0.04, 0.02, 0.02, 0.04, 0.015, 0.05, 0.60, 2),
    "NIBUT": (5.0, 4.0, 1.5, 0.8, 0.8, 3.5, 1.0, 1.0, 30.0, 1),
    "SIT": (8.0, 4.0, 3.0, 1.5, 1.5, 2.5, 1.0, 0.0, 35.0, 0),
    "CFS": (5.0, 8.0, 2.0, 1.0, 0.8, -2.0, -1.2, 0.0, 15.0, 0),
    "lipid_layer": (55.0, 50.0, 12.0, 5.0, 5.0, 18.0, 5.0, 15.0, 100.0, 0),
    "meibomian_score": (1.8, 2.0, 0.5, 0.3, 0.3, -0.7, -0.3, 0.0, 3.0, 0),
    "redness": (1.9, 2.2, 0.4, 0.15, 0.15, -0.5, -0.25, 0.0, 4.0, 1),
}

PG_ANNOTATION = (
    "Protein.Group",
    "Protein.Ids",
    "Protein.Names",
    "Genes",
    "First.Protein.Description",
)


# --- reading the tear proteome --------------------------------------------------------------------
def split_accession(text):
    """``sp|P31025|LCN1_HUMAN_family`` or ``... (+2)`` → (``P31025``, ``LCN1_HUMAN``)."""
    parts = str(text).strip().split("|")
    if len(parts) < 3:
        raise ValueError(f"not a UniProt accession: {text!r}")
    entry = re.sub(r"(_family)?( \(\+\d+\))?$", "", parts[2].strip())
    return parts[1], entry


def description_name(description):
    """The protein name of a UniProt FASTA description (everything before `` OS=``)."""
    return str(description).split(" OS=")[0].strip()


def description_gene(description):
    """The ``GN=`` gene symbol of a UniProt FASTA description, or ``""``."""
    match = re.search(r"\bGN=(\S+)", str(description))
    return match.group(1) if match else ""


def read_tear_summary(path):
    """The PAW grouped protein summary as a DataFrame (header on the fifth row)."""
    return pd.read_excel(path, header=4)


def count_columns(summary):
    """The 44 per-run total spectral count columns."""
    return [column for column in summary.columns if str(column).startswith("Total_")]


def group_members(identical, lead):
    """Accession/entry pairs of a group of identical proteins (``Identical`` column), lead first."""
    members = [lead]
    for item in str(identical).split("&"):
        if item.strip():
            member = split_accession(item)
            if member not in members:
                members.append(member)
    return members


def tear_proteins(summary, idmap):
    """One row per real tear protein group (contaminants, decoys and empty rows dropped).

    Columns: ``accessions``, ``entries``, ``genes`` (lists, lead protein first), ``description``,
    ``log2_count`` (log2 of the mean spectral count over all runs), ``detected`` (fraction of runs
    with a count above zero), ``source`` (``PXD030990``).
    """
    kept = summary[summary["Filter"].fillna("").astype(str).str.strip() == ""]
    counts = kept[count_columns(summary)].to_numpy(dtype=float)
    gene_of = dict(zip(idmap["Entry"], idmap["gene"], strict=True))
    rows = []
    for (_, row), values in zip(kept.iterrows(), counts, strict=True):
        lead = split_accession(row["Accession"])
        members = group_members(row["Identical"], lead)
        genes = [description_gene(row["Description"])]
        genes += [gene_of.get(accession, "") for accession, _ in members[1:]]
        rows.append(
            {
                "accessions": [accession for accession, _ in members],
                "entries": [entry for _, entry in members],
                "genes": [gene for gene in genes if gene],
                "description": description_name(row["Description"]),
                "log2_count": float(np.log2(values.mean())),
                "detected": float((values > 0).mean()),
                "source": "PXD030990",
            }
        )
    return pd.DataFrame(rows)


def contaminant_proteins(summary, idmap, accessions=CONTAMINANT_ACCESSIONS):
    """Contaminant rows (keratins) with their real counts, accessions prefixed ``Cont_``."""
    info = idmap.set_index("Entry")
    runs = count_columns(summary)
    rows = []
    for accession in accessions:
        hits = summary[summary["Accession"].astype(str).str.contains(f"|{accession}|", regex=False)]
        if hits.empty:
            raise ValueError(f"contaminant {accession} not in the tear summary")
        values = hits.iloc[0][runs].to_numpy(dtype=float)
        rows.append(
            {
                "accessions": [f"Cont_{accession}"],
                "entries": [info.loc[accession, "Entry.name"]],
                "genes": [info.loc[accession, "gene"]],
                "description": uniprot_name(info.loc[accession, "Protein.names"]),
                "log2_count": float(np.log2(values.mean())),
                "detected": float((values > 0).mean()),
                "source": "PXD030990 contaminant",
            }
        )
    return pd.DataFrame(rows)


def read_idmap(path):
    """The UniProt Swiss-Prot ID map with a ``gene`` column (first token of ``Gene.names``)."""
    idmap = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    idmap["gene"] = idmap["Gene.names"].str.split().str[0].fillna("")
    return idmap


def uniprot_name(protein_names):
    """The recommended name of a UniProt ``Protein names`` field (before ``(`` and ``[``)."""
    return re.split(r" [(\[]", str(protein_names))[0].strip()


def detection_like(log2_count, proteins, neighbours=15):
    """Median detected fraction of the ``neighbours`` real proteins closest in abundance."""
    distance = (proteins["log2_count"] - log2_count).abs().to_numpy()
    nearest = np.argsort(distance, kind="stable")[:neighbours]
    return float(np.median(proteins["detected"].to_numpy()[nearest]))


def added_proteins(idmap, proteins, rng, accessions=ADDED_ACCESSIONS):
    """Real human proteins absent from the tear proteome, given a plausible abundance.

    The log2 mean count is drawn from ``ADDED_LOG2_COUNT_RANGE``; the detected fraction is that of
    real tear proteins of the same abundance (:func:`detection_like`).
    """
    info = idmap.set_index("Entry")
    rows = []
    for gene, accession in accessions.items():
        if info.loc[accession, "gene"] != gene:
            raise ValueError(f"{accession} is {info.loc[accession, 'gene']}, expected {gene}")
        log2_count = float(rng.uniform(*ADDED_LOG2_COUNT_RANGE))
        rows.append(
            {
                "accessions": [accession],
                "entries": [info.loc[accession, "Entry.name"]],
                "genes": [gene],
                "description": uniprot_name(info.loc[accession, "Protein.names"]),
                "log2_count": log2_count,
                "detected": detection_like(log2_count, proteins),
                "source": "added (UniProt)",
            }
        )
    return pd.DataFrame(rows)


def protein_catalogue(summary, idmap, rng):
    """Tear proteins + added proteins + contaminants, with ``log2_mean`` on the intensity scale."""
    tear = tear_proteins(summary, idmap)
    added = added_proteins(idmap, tear, rng)
    known = {gene for genes in tear["genes"] for gene in genes}
    clash = sorted(set(added["genes"].str[0]) & known)
    if clash:
        raise ValueError(f"added proteins already in the tear proteome: {clash}")
    catalogue = pd.concat([tear, added, contaminant_proteins(summary, idmap)], ignore_index=True)
    catalogue["log2_mean"] = intensity_scale(catalogue["log2_count"], tear["log2_count"])
    catalogue["gene"] = catalogue["genes"].str[0].fillna("")
    return catalogue


def intensity_scale(log2_count, reference):
    """Map log2 mean spectral counts linearly onto ``LOG2_INTENSITY_RANGE`` (by the reference)."""
    low, high = float(np.min(reference)), float(np.max(reference))
    top, bottom = LOG2_INTENSITY_RANGE[1], LOG2_INTENSITY_RANGE[0]
    return bottom + (np.asarray(log2_count, dtype=float) - low) / (high - low) * (top - bottom)


# --- trial design ---------------------------------------------------------------------------------
def patient_ids(sizes=SUBGROUP_SIZES):
    """Patients with their subgroup, NSDE first: [(``NSDE01``, ``NSDE``), ...]."""
    return [(f"{group}{i:02d}", group) for group, n in sizes.items() for i in range(1, n + 1)]


def sample_sheet(rng, sizes=SUBGROUP_SIZES, extra=EXTRA_VISIT_PATIENTS):
    """The sample sheet: one row per tear sample, baseline and week2 for all, week4 for a few."""
    rows = []
    for patient, group in patient_ids(sizes):
        if group == "SSDE":  # Sjögren's dry eye: older, mostly women
            age, sex = int(rng.integers(45, 73)), "F" if rng.random() < 0.9 else "M"
        else:
            age, sex = int(rng.integers(28, 71)), "F" if rng.random() < 0.65 else "M"
        visits = [BASELINE, FOLLOWUP] + ([EXTRA_VISIT] if patient in extra else [])
        for visit in visits:
            rows.append(
                {
                    "sample": f"{patient}_{visit}",
                    "patient": patient,
                    "subgroup": group,
                    "timepoint": visit,
                    "batch": BATCH,
                    "age": age,
                    "sex": sex,
                }
            )
    return pd.DataFrame(rows)


def patient_responses(sheet, rng):
    """Per-patient treatment response factor (mean 1, sd ``RESPONSE_SD``, kept within 0.2–1.8)."""
    patients = list(dict.fromkeys(sheet["patient"]))
    response = np.clip(rng.normal(1.0, RESPONSE_SD, len(patients)), 0.2, 1.8)
    return pd.Series(response, index=patients, name="response")


def planted_effects(catalogue, subgroups):
    """Planted log2 fold change (full response) per protein × subgroup; zero everywhere else."""
    effects = pd.DataFrame(0.0, index=catalogue.index, columns=list(subgroups))
    il17 = catalogue["gene"].isin(IL17_FOCUS_GENES + IL17_TARGET_GENES)
    muc5ac = catalogue["gene"] == "MUC5AC"
    for group in subgroups:
        effects.loc[il17, group] = IL17_EFFECT[group]
        effects.loc[muc5ac, group] = MUC5AC_EFFECT[group]
    return effects


def trial_components(catalogue, sheet, responses, rng):
    """The random parts of the protein-level model: ``patient_effect`` (protein × patient, in the
    order of ``responses``), ``loading`` (one offset per sample) and ``residual`` (protein × sample).
    """
    n_proteins, n_samples = len(catalogue), len(sheet)
    return {
        "patient_effect": rng.normal(0.0, PATIENT_SD, (n_proteins, len(responses))),
        "loading": rng.normal(0.0, LOADING_SD, n_samples),
        "residual": rng.normal(0.0, RESIDUAL_SD, (n_proteins, n_samples)),
    }


def treatment_change(effects, sheet, responses):
    """Protein × sample log2 change: the subgroup's effect × the patient's response, 0 at baseline."""
    change = np.zeros((len(effects), len(sheet)))
    for j, sample in enumerate(sheet.itertuples(index=False)):
        if sample.timepoint != BASELINE:
            change[:, j] = effects[sample.subgroup].to_numpy() * responses[sample.patient]
    return change


def compose_log2(catalogue, sheet, responses, components):
    """``log2_mean + patient effect + loading offset + residual + planted effect × response``."""
    column = {patient: i for i, patient in enumerate(responses.index)}
    patients = [column[patient] for patient in sheet["patient"]]
    effects = planted_effects(catalogue, list(dict.fromkeys(sheet["subgroup"])))
    return (
        catalogue["log2_mean"].to_numpy()[:, None]
        + components["patient_effect"][:, patients]
        + components["loading"][None, :]
        + components["residual"]
        + treatment_change(effects, sheet, responses)
    )


def simulate_log2(catalogue, sheet, responses, rng):
    """Complete log2 intensities (protein × sample) before missingness.

    ``log2_mean + patient effect + loading offset + residual + planted effect × response`` where
    the planted effect applies to every sample that is not at baseline.
    """
    return compose_log2(catalogue, sheet, responses, trial_components(catalogue, sheet, responses, rng))


def apply_missingness(values, detected, rng):
    """Blank values as a DIA search would: per protein as often as in the real runs, lowest first.

    For each protein the number of missing samples is binomial with the real fraction of runs
    without counts raised to ``MISSINGNESS_POWER`` (DIA completes what DDA spectral counting
    misses; at least one value stays); the values that go missing are the lowest after adding noise
    (sd ``MISSINGNESS_SD``) — missingness depends on abundance across and within proteins.
    """
    n_proteins, n_samples = values.shape
    missing_fraction = (1.0 - np.asarray(detected, dtype=float)) ** MISSINGNESS_POWER
    missing_count = rng.binomial(n_samples, missing_fraction)
    missing_count = np.minimum(missing_count, n_samples - 1)
    noisy = values + rng.normal(0.0, MISSINGNESS_SD, values.shape)
    order = np.argsort(noisy, axis=1, kind="stable")
    result = values.copy()
    for i in range(n_proteins):
        result[i, order[i, : missing_count[i]]] = np.nan
    return result


# --- writing the DIA-NN pg_matrix -----------------------------------------------------------------
def diann_number(value):
    """An intensity as DIA-NN's pg_matrix shows it: six significant digits, empty when missing."""
    if not np.isfinite(value):
        return ""
    return repr(float(f"{value:.6g}"))


def run_name(sample):
    """The run column DIA-NN writes for a sample: its full Windows raw-file path."""
    return f"{RAW_FOLDER}{sample}.raw"


def pg_matrix(catalogue, sheet, log2_values):
    """The DIA-NN ``report.pg_matrix.tsv`` table (all strings), sorted by protein group."""
    annotation = pd.DataFrame(
        {
            "Protein.Group": [";".join(sorted(ids)) for ids in catalogue["accessions"]],
            "Protein.Ids": [";".join(ids) for ids in catalogue["accessions"]],
            "Protein.Names": [";".join(sorted(names)) for names in catalogue["entries"]],
            "Genes": [";".join(sorted(set(genes))) for genes in catalogue["genes"]],
            "First.Protein.Description": catalogue["description"],
        }
    )
    intensities = pd.DataFrame(
        [[diann_number(v) for v in row] for row in np.exp2(log2_values)],
        columns=[run_name(sample) for sample in sheet["sample"]],
    )
    table = pd.concat([annotation, intensities], axis=1)
    return table.sort_values("Protein.Group", kind="stable").reset_index(drop=True)


# --- ELISA ----------------------------------------------------------------------------------------
def il17_protein_change(responses, sheet):
    """Per-patient planted IL-17 protein change (log2, full response × subgroup effect)."""
    subgroup = sheet.drop_duplicates("patient").set_index("patient")["subgroup"]
    return pd.Series(
        [IL17_EFFECT[subgroup[p]] * responses[p] for p in responses.index],
        index=responses.index,
        name="il17_change",
    )


def elisa_values(sheet, responses, rng):
    """ELISA concentrations (numeric, before censoring) at baseline and week2 for every patient.

    A patient's log2 change of an analyte is the subgroup's planted change × the patient's response
    factor (the same factor that scales the planted IL-17 proteins) + noise.
    """
    subgroup = sheet.drop_duplicates("patient").set_index("patient")["subgroup"]
    rows = []
    for analyte, (unit, lloq, median, sd, nsde, ssde, _) in ELISA_ANALYTES.items():
        change = {"NSDE": nsde, "SSDE": ssde}
        for patient in responses.index:
            base = np.log2(median) + rng.normal(0.0, sd)
            delta = change[subgroup[patient]] * responses[patient]
            follow = base + delta + rng.normal(0.0, ELISA_NOISE_SD)
            for visit, level in ((BASELINE, base), (FOLLOWUP, follow)):
                rows.append(
                    {
                        "patient": patient,
                        "timepoint": visit,
                        "analyte": analyte,
                        "value": float(np.exp2(level)),
                        "unit": unit,
                        "lloq": lloq,
                    }
                )
    return pd.DataFrame(rows)


def elisa_as_reported(values):
    """The ELISA table as a lab writes it: rounded values, ``<LLOQ``/``< 3.2``/``ND``, one blank."""
    decimals = {analyte: spec[6] for analyte, spec in ELISA_ANALYTES.items()}
    table = values.copy()
    cells, censored = [], 0
    for row in values.itertuples(index=False):
        if (row.patient, row.timepoint, row.analyte) == ELISA_BLANK:
            cells.append("")
        elif row.value < row.lloq:
            style = ELISA_CENSORED_STYLES[censored % len(ELISA_CENSORED_STYLES)]
            cells.append(style.format(lloq=f"{row.lloq:g}"))
            censored += 1
        else:
            cells.append(f"{row.value:.{decimals[row.analyte]}f}")
    table["value"] = cells
    table["lloq"] = [f"{lloq:g}" for lloq in values["lloq"]]
    return table


# --- clinical (simulated) -------------------------------------------------------------------------
def clinical_table(sheet, responses, rng):
    """Simulated per-eye clinical scores at baseline, week2, week4 and month12 for every patient.

    Each variable: subgroup baseline + patient effect (+ eye effect) + visit noise + improvement ×
    the patient's response factor × the visit's fraction of the full response. OSDI is a
    questionnaire and so the same for both eyes; it is a multiple of 25/12 as the form gives it.
    """
    subgroup = sheet.drop_duplicates("patient").set_index("patient")["subgroup"]
    patients = list(responses.index)
    index = pd.MultiIndex.from_product([patients, CLINICAL_VISITS, EYES])
    table = pd.DataFrame(
        {
            "patient": index.get_level_values(0),
            "visit": index.get_level_values(1),
            "eye": index.get_level_values(2),
        }
    )
    fraction = dict(zip(CLINICAL_VISITS, VISIT_RESPONSE, strict=True))
    for variable, spec in CLINICAL_VARIABLES.items():
        base_nsde, base_ssde, patient_sd, eye_sd, noise_sd, up_nsde, up_ssde, low, high, dec = spec
        base = {"NSDE": base_nsde, "SSDE": base_ssde}
        improvement = {"NSDE": up_nsde, "SSDE": up_ssde}
        level = {p: base[subgroup[p]] + rng.normal(0.0, patient_sd) for p in patients}
        eye = {(p, e): rng.normal(0.0, eye_sd) for p in patients for e in EYES}
        questionnaire = variable == "OSDI"
        column = []
        for patient, visit, side in index:
            if questionnaire and side == "OS":  # one questionnaire per patient and visit
                column.append(column[-1])
                continue
            value = (
                level[patient]
                + eye[(patient, side)]
                + rng.normal(0.0, noise_sd)
                + improvement[subgroup[patient]] * responses[patient] * fraction[visit]
            )
            column.append(float(np.clip(value, low, high)))
        table[variable] = [clinical_number(v, variable, dec) for v in column]
    return table


def clinical_number(value, variable, decimals):
    """Format a clinical value as the form records it (OSDI on its 25/12 grid)."""
    if variable == "OSDI":
        return f"{round(value * 12 / 25) * 25 / 12:.2f}"
    if decimals == 0:
        return str(round(value))
    return f"{value:.{decimals}f}"


# --- everything together --------------------------------------------------------------------------
def example_data(summary, idmap, seed=SEED):
    """All example tables from the tear summary and the ID map; one seeded generator for all."""
    rng = np.random.default_rng(seed)
    sheet = sample_sheet(rng)
    catalogue = protein_catalogue(summary, idmap, rng)
    responses = patient_responses(sheet, rng)
    components = trial_components(catalogue, sheet, responses, rng)
    complete = compose_log2(catalogue, sheet, responses, components)
    observed = apply_missingness(complete, catalogue["detected"], rng)
    elisa = elisa_as_reported(elisa_values(sheet, responses, rng))
    clinical = clinical_table(sheet, responses, rng)
    return {
        "samples": sheet,
        "pg_matrix": pg_matrix(catalogue, sheet, observed),
        "elisa": elisa,
        "clinical": clinical,
        "catalogue": catalogue,
        "responses": responses,
        "components": components,
    }


def write_table(table, path):
    """Write a TSV with ``\\n`` line ends and empty cells for missing values."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as stream:
        table.to_csv(stream, sep="\t", index=False, na_rep="", lineterminator="\n")


def write_example_data(tear_path, idmap_path, out_folder, sheet_path):
    """Generate and write report.pg_matrix.tsv, elisa.tsv, clinical.tsv and the sample sheet."""
    data = example_data(read_tear_summary(tear_path), read_idmap(idmap_path))
    out_folder = Path(out_folder)
    write_table(data["pg_matrix"], out_folder / "report.pg_matrix.tsv")
    write_table(data["elisa"], out_folder / "elisa.tsv")
    write_table(data["clinical"], out_folder / "clinical.tsv")
    write_table(data["samples"], sheet_path)
    return data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tear", default=DEFAULT_TEAR, help="PXD030990 grouped protein summary")
    parser.add_argument("--idmap", default=DEFAULT_IDMAP, help="UniProt Swiss-Prot ID map (TSV)")
    parser.add_argument("--out", default=DEFAULT_OUT, help="folder for the three data tables")
    parser.add_argument("--samples", default=DEFAULT_SHEET, help="where to write the sample sheet")
    args = parser.parse_args(argv)
    write_example_data(args.tear, args.idmap, args.out, args.samples)


if __name__ == "__main__":
    main()
