"""Seeded generator of trial-shaped benchmark cohorts for tearflow.

Writes, into one folder, what a user would point tearflow at:

- ``report.pg_matrix.tsv`` — a DIA-NN protein-group matrix (the ``pg_matrix`` layout: ``Protein.Group,
  Protein.Ids, Protein.Names, Genes, First.Protein.Description``, then one column per run named by its
  full Windows raw-file path; missing = empty cell; six significant digits), with a few ``Cont_``
  contaminant groups the import step removes;
- ``samples.tsv`` — the sample sheet (``sample, patient, subgroup, timepoint, batch, age, sex``);
- ``elisa.tsv`` — an ELISA table as a lab returns it (``patient, timepoint, analyte, value, unit, lloq``;
  values below the LLOQ written ``<LLOQ``);
- ``clinical.tsv`` — per-eye clinical endpoints at baseline, week 2, week 4 and month 12, simulated
  by the example's own generator (``clinical_table`` in ``resources/example/make_example_data.py``)
  with the cohort's response factors;
- ``config.yaml`` — the overrides (``samples``, ``proteomics``, ``elisa``, ``clinical``) to merge
  over ``config/config.yaml`` with ``snakemake --configfile``. Everything else stays the default.

Trial shape: two subgroups (``NSDE`` 11/16 of the patients, listed first; ``SSDE`` the rest), every
patient sampled at ``baseline`` and ``week2``. Proteins are real human Swiss-Prot accessions and gene
symbols (the shipped UniProt ID map), so gene-set libraries overlap them as in real data; the
Th17/IL-17 focus-set genes (up to 30) are always included.

Per protein p, patient i, sample s: ``log2 intensity = mu_p + u_pi + o_s + e_ps + effect_pg * r_i``
(effect at ``week2`` only): mu_p ~ N(23, 2.5) clipped to 14..34, patient effect sd 0.5, loading
offset sd 0.2, residual sd 0.3, response factor r_i ~ N(1, 0.3) clipped to 0.2..1.8. Planted
effects: focus-set genes −1.0 (NSDE) / −0.5 (SSDE); 3 % of the other proteins ±0.8 in both.
Missingness is abundance-dependent (left-censored: a value is missing when it falls below a
per-sample detection limit drawn around the 25th percentile of mu, with noise) plus 2 % at random;
every protein keeps at least one value. About 30 % of the matrix is empty.

    .venv/bin/python benchmarks/make_cohort.py --scale paper --out benchmarks/runs/paper/cohort

One numpy generator (``--seed``, default 20250202) drives everything: two runs write the same bytes.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "resources" / "example"))

from make_example_data import clinical_table  # noqa: E402  (one simulation of clinical scores)

IDMAP = REPO / "resources" / "idmap" / "uniprot_human_swissprot_2020-03-13.tsv"
FOCUS_GMT = REPO / "resources" / "genesets" / "th17_il17_focus.gmt"
SEED = 20250202

#: name -> (patients, proteins); every patient has a baseline and a week2 sample.
SCALES = {
    "tiny": (6, 200),
    "paper": (16, 2000),
    "medium": (100, 5000),
    "large": (500, 10000),
}

SUBGROUPS = ("NSDE", "SSDE")
FIRST_SUBGROUP_SHARE = 11 / 16  # the trial's NSDE n=11, SSDE n=5
MIN_SUBGROUP = 3  # patients per subgroup at least (when there are 6 or more)
BASELINE, FOLLOWUP = "baseline", "week2"
RAW_FOLDER = "D:\\tearflow-benchmark\\raw\\"
MAX_FOCUS = 30  # focus-set genes in a cohort (all planted); the trial saw ~17
CONTAMINANTS = (("P04264", "KRT1"), ("P13645", "KRT10"), ("P35527", "KRT9"))

MU_MEAN, MU_SD, MU_RANGE = 23.0, 2.5, (14.0, 34.0)
PATIENT_SD, LOADING_SD, RESIDUAL_SD = 0.5, 0.2, 0.3
RESPONSE_SD, RESPONSE_RANGE = 0.3, (0.2, 1.8)
FOCUS_EFFECT = {"NSDE": -1.0, "SSDE": -0.5}
OTHER_EFFECT, OTHER_SHARE = 0.8, 0.03
DETECTION_QUANTILE, DETECTION_SD, MCAR_SHARE = 0.25, 1.0, 0.02

ELISA = (  # (name as the lab writes it, unit, lloq, baseline log2 mean, change NSDE, change SSDE)
    ("IL-6", "pg/mL", 3.2, 4.0, -1.0, -0.5),
    ("IL-17A", "pg/mL", 1.6, 3.0, -1.1, -0.5),
    ("MUC5AC", "ng/mL", 0.31, 1.5, 1.0, 0.6),
    ("CCL20", "pg/mL", 3.9, 4.5, -0.15, -0.1),
    ("IL-23", "pg/mL", 2.7, 3.5, 0.0, 0.0),
)
ELISA_SD = 0.35


def focus_genes(path=FOCUS_GMT):
    """Every gene symbol of the Th17/IL-17 focus sets (GMT: name, description, genes...)."""
    genes = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        fields = [f for f in line.split("\t")[2:] if f]
        genes.update(fields)
    return genes


def read_idmap(path=IDMAP):
    """Swiss-Prot entries with a gene symbol: accession, entry name, protein name, first gene."""
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    table["gene"] = table["Gene.names"].str.split().str[0].fillna("")
    table = table[table["gene"] != ""].drop_duplicates("gene")
    table["name"] = table["Protein.names"].str.replace(r" \(.*$", "", regex=True)
    return table[["Entry", "Entry.name", "name", "gene"]].reset_index(drop=True)


def choose_proteins(idmap, n_proteins, focus, rng):
    """``n_proteins`` idmap rows: up to ``MAX_FOCUS`` focus-set genes, the rest at random."""
    is_focus = idmap["gene"].isin(focus).to_numpy()
    focus_rows = np.flatnonzero(is_focus)[: max(min(n_proteins // 10, MAX_FOCUS), 1)]
    others = rng.permutation(np.flatnonzero(~is_focus))[: n_proteins - len(focus_rows)]
    chosen = np.sort(np.concatenate([focus_rows, others]))
    return idmap.iloc[chosen].reset_index(drop=True)


def sample_sheet(n_patients, rng):
    """Two visits per patient, NSDE first; age and sex simulated."""
    smallest = min(MIN_SUBGROUP, n_patients // 2)  # differential.min_pairs needs 3 pairs per subgroup
    n_first = max(smallest, min(n_patients - smallest, round(n_patients * FIRST_SUBGROUP_SHARE)))
    width = max(2, len(str(n_patients)))
    rows = []
    for i in range(n_patients):
        subgroup = SUBGROUPS[0] if i < n_first else SUBGROUPS[1]
        number = i + 1 if i < n_first else i - n_first + 1
        patient = f"{subgroup}{number:0{width}d}"
        age = int(rng.normal(50 if subgroup == SUBGROUPS[0] else 58, 8))
        sex = "F" if rng.random() < 0.7 else "M"
        for timepoint in (BASELINE, FOLLOWUP):
            rows.append((f"{patient}_{timepoint}", patient, subgroup, timepoint, "batch1", age, sex))
    return pd.DataFrame(rows, columns=["sample", "patient", "subgroup", "timepoint", "batch", "age", "sex"])


def simulate_log2(proteins, sheet, focus, rng):
    """Proteins × samples log2 intensities (complete) and the per-patient response factors."""
    n_proteins, n_samples = len(proteins), len(sheet)
    patients = sheet["patient"].drop_duplicates().to_numpy()
    patient_index = pd.Index(patients).get_indexer(sheet["patient"])
    subgroup_of = sheet.drop_duplicates("patient").set_index("patient")["subgroup"].reindex(patients).to_numpy()
    response = np.clip(rng.normal(1.0, RESPONSE_SD, len(patients)), *RESPONSE_RANGE)

    mu = np.clip(rng.normal(MU_MEAN, MU_SD, n_proteins), *MU_RANGE)
    patient_effect = rng.normal(0.0, PATIENT_SD, (n_proteins, len(patients)))
    loading = rng.normal(0.0, LOADING_SD, n_samples)
    values = mu[:, None] + patient_effect[:, patient_index] + loading[None, :]
    values += rng.normal(0.0, RESIDUAL_SD, (n_proteins, n_samples))

    is_focus = proteins["gene"].isin(focus).to_numpy()
    other = ~is_focus & (rng.random(n_proteins) < OTHER_SHARE)
    other_sign = np.where(rng.random(n_proteins) < 0.5, -1.0, 1.0)
    followup = (sheet["timepoint"] == FOLLOWUP).to_numpy()
    for subgroup in SUBGROUPS:
        columns = followup & (subgroup_of[patient_index] == subgroup)
        effect = np.where(is_focus, FOCUS_EFFECT[subgroup], np.where(other, OTHER_EFFECT * other_sign, 0.0))
        values[:, columns] += effect[:, None] * response[patient_index[columns]][None, :]
    return values, dict(zip(patients, response)), mu


def apply_missingness(values, mu, rng):
    """Left-censored (per-sample detection limit, noisy) plus a little missing at random; every
    protein keeps its largest value."""
    limit = np.quantile(mu, DETECTION_QUANTILE) + rng.normal(0.0, 0.3, values.shape[1])
    noisy = values + rng.normal(0.0, DETECTION_SD, values.shape)
    missing = (noisy < limit[None, :]) | (rng.random(values.shape) < MCAR_SHARE)
    keep = np.nanargmax(values, axis=1)
    missing[np.arange(len(values)), keep] = False
    return np.where(missing, np.nan, values)


def pg_matrix(proteins, sheet, log2_values, rng):
    """The DIA-NN pg_matrix table: annotation, then one intensity column per run (raw-file path)."""
    contaminant_values = rng.normal(MU_MEAN + 3, 1.0, (len(CONTAMINANTS), log2_values.shape[1]))
    annotation = pd.DataFrame(
        {
            "Protein.Group": list(proteins["Entry"]) + [f"Cont_{a}" for a, _ in CONTAMINANTS],
            "Protein.Ids": list(proteins["Entry"]) + [f"Cont_{a}" for a, _ in CONTAMINANTS],
            "Protein.Names": list(proteins["Entry.name"]) + [f"{g}_HUMAN" for _, g in CONTAMINANTS],
            "Genes": list(proteins["gene"]) + [g for _, g in CONTAMINANTS],
            "First.Protein.Description": list(proteins["name"]) + ["Keratin"] * len(CONTAMINANTS),
        }
    )
    intensities = np.exp2(np.vstack([log2_values, contaminant_values]))
    runs = [f"{RAW_FOLDER}{sample}.raw" for sample in sheet["sample"]]
    quantities = pd.DataFrame(intensities, columns=runs)
    return pd.concat([annotation, quantities], axis=1)


def elisa_table(sheet, response, rng):
    """Long ELISA table; a patient's change = subgroup change × response factor + noise."""
    rows = []
    pairs = sheet.drop_duplicates("patient")[["patient", "subgroup"]].itertuples(index=False)
    for patient, subgroup in pairs:
        for name, unit, lloq, mean, change_first, change_second in ELISA:
            start = rng.normal(mean, 0.8)
            change = (change_first if subgroup == SUBGROUPS[0] else change_second) * response[patient]
            for timepoint, log2_value in ((BASELINE, start), (FOLLOWUP, start + change + rng.normal(0, ELISA_SD))):
                value = 2.0**log2_value
                text = "<LLOQ" if value < lloq else f"{value:.3g}"
                rows.append((patient, timepoint, name, text, unit, lloq))
    return pd.DataFrame(rows, columns=["patient", "timepoint", "analyte", "value", "unit", "lloq"])


def make_cohort(n_patients, n_proteins, seed=SEED):
    """(pg_matrix, sample sheet, ELISA table, clinical table) of one cohort; the same seed gives the
    same tables."""
    if n_patients < 2:
        raise ValueError("a cohort needs at least 2 patients (one per subgroup)")
    rng = np.random.default_rng(seed)
    focus = focus_genes()
    proteins = choose_proteins(read_idmap(), n_proteins, focus, rng)
    sheet = sample_sheet(n_patients, rng)
    values, response, mu = simulate_log2(proteins, sheet, focus, rng)
    values = apply_missingness(values, mu, rng)
    matrix = pg_matrix(proteins, sheet, values, rng)
    elisa = elisa_table(sheet, response, rng)
    clinical = clinical_table(sheet, pd.Series(response), rng)
    return matrix, sheet, elisa, clinical


def overrides(folder):
    """The config overrides that point tearflow at a cohort written to ``folder``."""
    folder = Path(folder)
    return {
        "samples": str(folder / "samples.tsv"),
        "proteomics": [{"path": str(folder / "report.pg_matrix.tsv"), "format": "diann_matrix", "batch": "batch1"}],
        "elisa": str(folder / "elisa.tsv"),
        "clinical": str(folder / "clinical.tsv"),
    }


def write_cohort(folder, n_patients, n_proteins, seed=SEED):
    """Write the cohort's tables and config overrides into ``folder``; return the config path."""
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    matrix, sheet, elisa, clinical = make_cohort(n_patients, n_proteins, seed)
    matrix.to_csv(folder / "report.pg_matrix.tsv", sep="\t", index=False, na_rep="", float_format="%.6g")
    sheet.to_csv(folder / "samples.tsv", sep="\t", index=False)
    elisa.to_csv(folder / "elisa.tsv", sep="\t", index=False)
    clinical.to_csv(folder / "clinical.tsv", sep="\t", index=False)
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump(overrides(folder), sort_keys=False))
    return config


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="paper", help="cohort size (default: paper)")
    parser.add_argument("--patients", type=int, help="override the scale's number of patients")
    parser.add_argument("--proteins", type=int, help="override the scale's number of proteins")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", required=True, help="folder to write the cohort into")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    patients, proteins = SCALES[args.scale]
    config = write_cohort(args.out, args.patients or patients, args.proteins or proteins, args.seed)
    print(config)


if __name__ == "__main__":
    main()
