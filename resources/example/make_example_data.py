"""Make tearflow's example data from the real human tear proteome (seeded, byte-reproducible).

The proteins, their gene symbols, their abundance distribution and their missingness come from a
real tear-fluid data set (PXD030990, spectral counts of 478 protein groups in 44 runs, re-analysed
by P. Wilmarth). On top of that a clinical trial is simulated: 11 NSDE and 5 SSDE patients with tear
samples at ``baseline`` and ``week2`` (three patients also at ``week4``), patient random effects,
per-sample loading offsets, residual noise and a few planted treatment effects (see
``resources/example/README.md``). Written are a DIA-NN ``pg_matrix``, the sample sheet, an ELISA
table as a lab returns it, a (simulated) per-eye clinical table, and a DIA-NN 2.x precursor report
(``report.parquet``) of the same trial with six proteins switched on or off, and its truth table
(``precursor_truth.tsv``).

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

# --- precursor-level report (DIA-NN 2.x report.parquet), same trial as the pg_matrix ---------------
PRECURSOR_STREAM = 2  # the report's randomness: np.random.default_rng([SEED, PRECURSOR_STREAM])
MAX_PRECURSORS = 12  # precursors of a protein: 1 + binomial(MAX - 1, abundance fraction ^ power)
PRECURSOR_COUNT_POWER = 1.2
PRECURSOR_OFFSET_SD = 1.0  # precursor-specific log2 offset from its protein's level (ionisation)
PRECURSOR_NOISE_SD = 0.25  # per precursor and run
# detection probability curve (limpa): P(detected) = logistic(DPC_INTERCEPT + DPC_SLOPE * log2 intensity)
DPC_SLOPE = 0.8
DPC_INTERCEPT = -16.0  # 50 % detection at log2 intensity 20
# proteins a treatment switches off or on (log2 change × the patient's response, week2 and week4);
# on top of the planted effects above, in the precursor-level report only (the pg_matrix predates them)
SWITCHED = {
    "CHI3L2": (-4.5, -4.5),  # (NSDE, SSDE)
    "PLA2G2A": (-4.5, -4.5),
    "ORM2": (-4.5, 0.0),
    "CD55": (4.5, 4.5),
    "THBS1": (5.0, 5.0),
    "AQP5": (4.5, 0.0),
}
# peptides: residue frequencies (UniProtKB/Swiss-Prot, %), monoisotopic residue masses; trypsin cuts
# after K/R, so K and R only end a peptide; C is carbamidomethylated (UniMod:4), DIA-NN's default
AMINO_ACIDS = {
    "A": (8.25, 71.03711), "R": (5.53, 156.10111), "N": (4.06, 114.04293), "D": (5.45, 115.02694),
    "C": (1.37, 103.00919), "Q": (3.93, 128.05858), "E": (6.75, 129.04259), "G": (7.07, 57.02146),
    "H": (2.27, 137.05891), "I": (5.96, 113.08406), "L": (9.66, 113.08406), "K": (5.84, 128.09496),
    "M": (2.42, 131.04049), "F": (3.86, 147.06841), "P": (4.70, 97.05276), "S": (6.56, 87.03203),
    "T": (5.34, 101.04768), "W": (1.08, 186.07931), "Y": (2.92, 163.06333), "V": (6.87, 99.06841),
}  # fmt: skip
CARBAMIDOMETHYL = 57.021464
WATER, PROTON = 18.010565, 1.007276
PEPTIDE_LENGTH = (7, 25)  # 7 + Poisson(4), capped
CHARGE_STATES = (((2,), 0.70), ((2, 3), 0.25), ((3,), 0.05))
GRADIENT_MINUTES = (2.0, 28.0)  # library retention times; per-run shift sd 0.15 min, noise sd 0.02
# q-values: DIA-NN 2 filters its main report at 1 % precursor q-value, so Q.Value <= 0.01 on every row;
# run-specific protein q-values (PG.Q.Value) and the match-between-runs library q-values (Lib.*) are
# not filtered and exceed 0.01 for a few weak identifications, which an import must drop
WEAK_LIBRARY_SHARE = 0.15  # precursors detected in <= 3 runs: this share has Lib.Q.Value 0.011-0.04
WEAK_PROTEIN_SHARE = 0.25  # protein seen by one weak precursor in a run: this share, PG.Q.Value 0.011-0.05
REPORT_COLUMNS = {  # DIA-NN 2.x report.parquet columns (a subset, in DIA-NN's order) and their types
    "Run.Index": "int64", "Run": "string", "Channel": "string", "Precursor.Id": "string",
    "Modified.Sequence": "string", "Stripped.Sequence": "string", "Precursor.Charge": "int64",
    "Precursor.Lib.Index": "int64", "Decoy": "int64", "Proteotypic": "int64", "Precursor.Mz": "float32",
    "Protein.Ids": "string", "Protein.Group": "string", "Protein.Names": "string", "Genes": "string",
    "RT": "float32", "Precursor.Quantity": "float32", "Precursor.Normalised": "float32",
    "Normalisation.Factor": "float32", "PG.MaxLFQ": "float32", "Q.Value": "float32",
    "Global.Q.Value": "float32", "Lib.Q.Value": "float32", "PG.Q.Value": "float32",
    "Global.PG.Q.Value": "float32", "Lib.PG.Q.Value": "float32",
}  # fmt: skip
REPORT_ROW_GROUP = 10_000

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


# --- precursor-level report (DIA-NN 2.x report.parquet) -------------------------------------------
def switched_effects(catalogue, subgroups, switched=SWITCHED):
    """Log2 change (full response) of the proteins a treatment switches on or off; zero elsewhere."""
    effects = pd.DataFrame(0.0, index=catalogue.index, columns=list(subgroups))
    for gene, change in switched.items():
        rows = catalogue.index[catalogue["gene"] == gene]
        if len(rows) != 1:
            raise ValueError(f"switched gene {gene} is in {len(rows)} catalogue rows, expected 1")
        effects.loc[rows[0]] = [change[list(SUBGROUP_SIZES).index(group)] for group in subgroups]
    return effects


def precursor_counts(log2_mean, rng):
    """Precursors per protein: 1 + binomial(MAX_PRECURSORS - 1, f^PRECURSOR_COUNT_POWER), f = the
    protein's place on the intensity scale (0 at the lowest, 1 at the highest)."""
    low, high = LOG2_INTENSITY_RANGE
    fraction = np.clip((np.asarray(log2_mean, dtype=float) - low) / (high - low), 0.0, 1.0)
    return 1 + rng.binomial(MAX_PRECURSORS - 1, fraction**PRECURSOR_COUNT_POWER)


def tryptic_peptide(rng, taken):
    """A made-up tryptic peptide not in ``taken``: residues drawn by their frequency, K or R last."""
    inner = [aa for aa in AMINO_ACIDS if aa not in "KR"]
    weights = np.array([AMINO_ACIDS[aa][0] for aa in inner])
    weights = weights / weights.sum()
    while True:
        length = min(PEPTIDE_LENGTH[0] + int(rng.poisson(4)), PEPTIDE_LENGTH[1])
        body = "".join(np.asarray(inner)[rng.choice(len(inner), size=length - 1, p=weights)])
        peptide = body + ("K" if rng.random() < 0.5 else "R")
        if peptide not in taken:
            taken.add(peptide)
            return peptide


def modified_sequence(peptide):
    """DIA-NN's ``Modified.Sequence``: carbamidomethyl cysteines written ``C(UniMod:4)``."""
    return peptide.replace("C", "C(UniMod:4)")


def precursor_mz(peptide, charge):
    """Monoisotopic m/z of the peptide (carbamidomethyl C) at ``charge``."""
    mass = sum(AMINO_ACIDS[aa][1] for aa in peptide) + WATER + CARBAMIDOMETHYL * peptide.count("C")
    return (mass + charge * PROTON) / charge


def precursor_library(catalogue, rng):
    """One row per precursor, in library order (protein groups sorted as in the pg_matrix).

    Columns: ``protein`` (catalogue row), ``Precursor.Id`` (modified sequence + charge),
    ``Modified.Sequence``, ``Stripped.Sequence``, ``Precursor.Charge``, ``Precursor.Mz``,
    ``Proteotypic`` (0 when the group holds several proteins: its peptides are shared), ``rt``
    (library retention time, min) and ``offset`` (the precursor's log2 offset from its protein).
    """
    groups = [";".join(sorted(ids)) for ids in catalogue["accessions"]]
    order = sorted(range(len(catalogue)), key=lambda i: groups[i])
    counts = precursor_counts(catalogue["log2_mean"], rng)
    charge_sets = [charges for charges, _ in CHARGE_STATES]
    charge_p = [p for _, p in CHARGE_STATES]
    taken, rows = set(), []
    for protein in order:
        precursors = []
        while len(precursors) < counts[protein]:
            peptide = tryptic_peptide(rng, taken)
            rt = float(rng.uniform(*GRADIENT_MINUTES))
            for charge in charge_sets[rng.choice(len(charge_sets), p=charge_p)]:
                if len(precursors) < counts[protein]:
                    precursors.append((peptide, charge, rt))
        for peptide, charge, rt in precursors:
            modified = modified_sequence(peptide)
            rows.append(
                {
                    "protein": protein,
                    "Precursor.Id": f"{modified}{charge}",
                    "Modified.Sequence": modified,
                    "Stripped.Sequence": peptide,
                    "Precursor.Charge": charge,
                    "Precursor.Mz": precursor_mz(peptide, charge),
                    "Proteotypic": int(len(catalogue.at[protein, "accessions"]) == 1),
                    "rt": rt,
                }
            )
    library = pd.DataFrame(rows)
    library["offset"] = rng.normal(0.0, PRECURSOR_OFFSET_SD, len(library))
    return library


def detection_probability(log2_intensity):
    """The detection probability curve: logistic(DPC_INTERCEPT + DPC_SLOPE × log2 intensity)."""
    return 1.0 / (1.0 + np.exp(-(DPC_INTERCEPT + DPC_SLOPE * np.asarray(log2_intensity))))


def precursor_log2(library, protein_log2, rng):
    """Complete precursor × sample log2 intensities: protein level + precursor offset + noise."""
    protein = library["protein"].to_numpy()
    noise = rng.normal(0.0, PRECURSOR_NOISE_SD, (len(library), protein_log2.shape[1]))
    return protein_log2[protein] + library["offset"].to_numpy()[:, None] + noise


def detected_precursors(log2_values, rng):
    """Which precursor × sample values are detected: Bernoulli(detection probability curve).

    A precursor detected in no run would not be in a report at all; it is kept as detected in the
    run where its intensity is highest (so every precursor of the library is in the report).
    """
    detected = rng.random(log2_values.shape) < detection_probability(log2_values)
    never = ~detected.any(axis=1)
    detected[never, np.argmax(log2_values[never], axis=1)] = True
    return detected


def normalisation_factors(log2_quantity, detected):
    """DIA-NN-style global normalisation: per run, 2^-(median log2 ratio to the precursor's mean over
    runs), from the precursors detected in every run (normalised = factor × quantity)."""
    complete = detected.all(axis=1)
    values = log2_quantity[complete]
    shift = np.median(values - values.mean(axis=1, keepdims=True), axis=0)
    return np.exp2(-shift)


def maxlfq_like(log2_normalised, detected, protein):
    """Protein × run ``PG.MaxLFQ`` (log2): per protein and run, the median over its detected precursors
    of (normalised log2 − that precursor's mean over its detected runs), plus log2 of the sum of the
    precursors' mean levels — relative levels from precursor ratios, on a summed-precursor scale."""
    values = np.where(detected, log2_normalised, np.nan)
    means = np.nanmean(values, axis=1)
    result = np.full((protein.max() + 1, values.shape[1]), np.nan)
    for p in np.unique(protein):
        rows = protein == p
        ratios = values[rows] - means[rows, None]
        seen = detected[rows].any(axis=0)
        result[p, seen] = np.nanmedian(ratios[:, seen], axis=0) + np.log2(np.exp2(means[rows]).sum())
    return result


def precursor_qvalues(library, log2_values, detected, rng):
    """Q.Value per row, Global.Q.Value / Lib.Q.Value per precursor, PG.Q.Value per protein and run,
    Global.PG.Q.Value / Lib.PG.Q.Value per protein (see the q-value constants)."""
    score = DPC_INTERCEPT + DPC_SLOPE * log2_values  # logit of detection: weak values, larger q
    row_q = 0.01 / (1.0 + np.exp(1.0 + 0.9 * score + rng.normal(0.0, 0.5, score.shape)))
    row_q = np.where(detected, row_q, np.nan)
    global_q = np.nanmin(row_q, axis=1)
    weak = (detected.sum(axis=1) <= 3) & (rng.random(len(library)) < WEAK_LIBRARY_SHARE)
    lib_q = np.where(weak, rng.uniform(0.011, 0.04, len(library)), global_q)
    protein = library["protein"].to_numpy()
    n_proteins = protein.max() + 1
    pg_q = np.full((n_proteins, log2_values.shape[1]), np.nan)
    seen = np.zeros(pg_q.shape, dtype=int)
    np.add.at(seen, protein, detected.astype(int))
    np.fmin.at(pg_q, protein, row_q)
    weak_score = np.full(pg_q.shape, np.inf)
    np.fmin.at(weak_score, protein, np.where(detected, score, np.inf))
    weak_protein = (seen == 1) & (weak_score < 0.0) & (rng.random(pg_q.shape) < WEAK_PROTEIN_SHARE)
    pg_q = np.where(weak_protein, rng.uniform(0.011, 0.05, pg_q.shape), pg_q)
    lib_pg_q = np.full(n_proteins, np.inf)
    np.minimum.at(lib_pg_q, protein, lib_q)
    global_pg_q = np.full(n_proteins, np.inf)
    np.minimum.at(global_pg_q, protein, global_q)
    return {
        "Q.Value": row_q,
        "Global.Q.Value": global_q,
        "Lib.Q.Value": lib_q,
        "PG.Q.Value": pg_q,
        "Global.PG.Q.Value": global_pg_q,
        "Lib.PG.Q.Value": lib_pg_q,
    }


def precursor_example(catalogue, sheet, responses, components, rng):
    """The precursor-level example: the report (DIA-NN 2.x columns, one row per detected precursor
    and run) and the truth per protein, from the same trial as the pg_matrix (``components``)."""
    subgroups = list(dict.fromkeys(sheet["subgroup"]))
    switched = switched_effects(catalogue, subgroups)
    protein_log2 = compose_log2(catalogue, sheet, responses, components) + treatment_change(switched, sheet, responses)
    library = precursor_library(catalogue, rng)
    log2_values = precursor_log2(library, protein_log2, rng)
    detected = detected_precursors(log2_values, rng)
    rt_shift = rng.normal(0.0, 0.15, len(sheet))
    rt = library["rt"].to_numpy()[:, None] + rt_shift[None, :] + rng.normal(0.0, 0.02, log2_values.shape)
    quantity = np.exp2(log2_values).astype(np.float32)
    factors = normalisation_factors(np.log2(quantity.astype(float)), detected)
    normalised = (quantity.astype(float) * factors[None, :]).astype(np.float32)
    protein = library["protein"].to_numpy()
    pg_maxlfq = maxlfq_like(np.log2(normalised.astype(float)), detected, protein)
    qvalues = precursor_qvalues(library, log2_values, detected, rng)
    report = diann_report(catalogue, sheet, library, detected, quantity, normalised, factors, pg_maxlfq, rt, qvalues)
    truth = precursor_truth(catalogue, library, planted_effects(catalogue, subgroups), switched)
    return {"report": report, "truth": truth, "log2": log2_values, "detected": detected, "library": library}


def diann_report(catalogue, sheet, library, detected, quantity, normalised, factors, pg_maxlfq, rt, qvalues):
    """The DIA-NN 2.x ``report.parquet`` table: one row per detected precursor and run, rows by run
    then library index, columns and types as :data:`REPORT_COLUMNS`."""
    precursor, run = np.nonzero(detected.T)[::-1]  # run-major order, library order within a run
    protein = library["protein"].to_numpy()[precursor]
    group = np.array([";".join(sorted(ids)) for ids in catalogue["accessions"]], dtype=object)
    ids = np.array([";".join(ids) for ids in catalogue["accessions"]], dtype=object)
    names = np.array([";".join(sorted(n)) for n in catalogue["entries"]], dtype=object)
    genes = np.array([";".join(sorted(set(g))) for g in catalogue["genes"]], dtype=object)
    runs = sheet["sample"].to_numpy(dtype=object)
    columns = {
        "Run.Index": run,
        "Run": runs[run],
        "Channel": np.full(len(run), "", dtype=object),
        "Precursor.Id": library["Precursor.Id"].to_numpy(dtype=object)[precursor],
        "Modified.Sequence": library["Modified.Sequence"].to_numpy(dtype=object)[precursor],
        "Stripped.Sequence": library["Stripped.Sequence"].to_numpy(dtype=object)[precursor],
        "Precursor.Charge": library["Precursor.Charge"].to_numpy()[precursor],
        "Precursor.Lib.Index": precursor,
        "Decoy": np.zeros(len(run), dtype=np.int64),
        "Proteotypic": library["Proteotypic"].to_numpy()[precursor],
        "Precursor.Mz": library["Precursor.Mz"].to_numpy()[precursor],
        "Protein.Ids": ids[protein],
        "Protein.Group": group[protein],
        "Protein.Names": names[protein],
        "Genes": genes[protein],
        "RT": rt[precursor, run],
        "Precursor.Quantity": quantity[precursor, run],
        "Precursor.Normalised": normalised[precursor, run],
        "Normalisation.Factor": factors[run],
        "PG.MaxLFQ": np.exp2(pg_maxlfq[protein, run]),
        "Q.Value": qvalues["Q.Value"][precursor, run],
        "Global.Q.Value": qvalues["Global.Q.Value"][precursor],
        "Lib.Q.Value": qvalues["Lib.Q.Value"][precursor],
        "PG.Q.Value": qvalues["PG.Q.Value"][protein, run],
        "Global.PG.Q.Value": qvalues["Global.PG.Q.Value"][protein],
        "Lib.PG.Q.Value": qvalues["Lib.PG.Q.Value"][protein],
    }
    report = pd.DataFrame(columns)
    types = {name: (str if kind == "string" else kind) for name, kind in REPORT_COLUMNS.items()}
    return report[list(REPORT_COLUMNS)].astype(types)


def precursor_truth(catalogue, library, planted, switched):
    """Per protein: group, gene, log2 mean, precursors, effect class and the full-response log2
    change per subgroup in the precursor report (planted + switched; the pg_matrix has the planted)."""
    kind = np.full(len(catalogue), "", dtype=object)
    kind[catalogue["gene"].isin(IL17_FOCUS_GENES + IL17_TARGET_GENES).to_numpy()] = "IL-17"
    kind[(catalogue["gene"] == "MUC5AC").to_numpy()] = "MUC5AC"
    kind[(switched < 0).any(axis=1).to_numpy()] = "switched_off"
    kind[(switched > 0).any(axis=1).to_numpy()] = "switched_on"
    kind[catalogue["source"].str.contains("contaminant").to_numpy()] = "contaminant"
    total = planted + switched
    truth = pd.DataFrame(
        {
            "protein": [";".join(sorted(ids)) for ids in catalogue["accessions"]],
            "gene": [";".join(sorted(set(genes))) for genes in catalogue["genes"]],
            "log2_mean": [f"{v:.3f}" for v in catalogue["log2_mean"]],
            "precursors": np.bincount(library["protein"], minlength=len(catalogue)),
            "effect": kind,
        }
    )
    for group in total.columns:
        truth[f"log2fc_{group}"] = [f"{v:g}" for v in total[group]]
    return truth.sort_values("protein", kind="stable").reset_index(drop=True)


def write_parquet(table, path):
    """Write the report with pyarrow: explicit schema, no pandas metadata, zstd, fixed row groups."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds = {"string": pa.string(), "int64": pa.int64(), "float32": pa.float32()}
    schema = pa.schema([(name, kinds[kind]) for name, kind in REPORT_COLUMNS.items()])
    arrow = pa.Table.from_pandas(table, schema=schema, preserve_index=False).replace_schema_metadata(None)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        arrow,
        path,
        row_group_size=REPORT_ROW_GROUP,
        compression="zstd",
        compression_level=9,
        use_dictionary=True,
        write_statistics=True,
        store_schema=False,
    )


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
    # a pg_matrix is DIA-NN-normalised: the loading offsets stay in the raw quantities only (the
    # precursor report's Precursor.Quantity), as in a real DIA-NN run
    observed = observed + np.log2(normalisation_factors(observed, ~np.isnan(observed)))[None, :]
    elisa = elisa_as_reported(elisa_values(sheet, responses, rng))
    clinical = clinical_table(sheet, responses, rng)
    # the precursor report: its own stream, so the tables above keep their draws
    precursors = precursor_example(
        catalogue, sheet, responses, components, np.random.default_rng([seed, PRECURSOR_STREAM])
    )
    return {
        "samples": sheet,
        "pg_matrix": pg_matrix(catalogue, sheet, observed),
        "elisa": elisa,
        "clinical": clinical,
        "report": precursors["report"],
        "precursor_truth": precursors["truth"],
        "precursors": precursors,
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
    """Write report.pg_matrix.tsv, elisa.tsv, clinical.tsv, report.parquet, precursor_truth.tsv and the sheet."""
    data = example_data(read_tear_summary(tear_path), read_idmap(idmap_path))
    out_folder = Path(out_folder)
    write_table(data["pg_matrix"], out_folder / "report.pg_matrix.tsv")
    write_table(data["elisa"], out_folder / "elisa.tsv")
    write_table(data["clinical"], out_folder / "clinical.tsv")
    write_parquet(data["report"], out_folder / "report.parquet")
    write_table(data["precursor_truth"], out_folder / "precursor_truth.tsv")
    write_table(data["samples"], sheet_path)
    return data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tear", default=DEFAULT_TEAR, help="PXD030990 grouped protein summary")
    parser.add_argument("--idmap", default=DEFAULT_IDMAP, help="UniProt Swiss-Prot ID map (TSV)")
    parser.add_argument("--out", default=DEFAULT_OUT, help="folder for the data tables")
    parser.add_argument("--samples", default=DEFAULT_SHEET, help="where to write the sample sheet")
    args = parser.parse_args(argv)
    write_example_data(args.tear, args.idmap, args.out, args.samples)


if __name__ == "__main__":
    main()
