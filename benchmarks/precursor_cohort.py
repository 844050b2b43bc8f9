"""Seeded precursor-level benchmark cohorts: a DIA-NN 2.x ``report.parquet`` plus the sample sheet,
ELISA and clinical tables of a :mod:`make_cohort` cohort.

The protein level is :mod:`make_cohort`'s trial (real Swiss-Prot accessions and gene symbols, two
subgroups, every patient at ``baseline`` and ``week2``, planted focus-set and random effects scaled
by each patient's response factor; ``make_cohort.simulate_log2`` before its missingness). Each
protein is then measured through its precursors, as DIA-NN 2.x reports them:

- precursors per protein: 1 + a multinomial share of the rest, weighted by abundance
  (``exp(0.3 (mu - 23))``: abundant proteins show more precursors), exactly ``precursors`` in all;
- precursor log2 quantity = protein log2 + precursor offset N(-1.5, 1) + noise N(0, 0.25) per run;
- detection (abundance-dependent missingness): Bernoulli(logistic(-17.6 + 0.8 x log2 quantity)),
  50 % detection at log2 22; a precursor detected nowhere is kept in its highest run; ~35 %
  of the precursor x run cells are missing;
- q-values below 0.01 except the match-between-runs library q-value (``Lib.Q.Value`` 0.011-0.04)
  of 5 % of the precursors seen in at most 3 runs, which the import step removes; 3 ``Cont_``
  contaminant groups (8 precursors each), which it removes too.

The report has DIA-NN 2.x's column layout (``precursor_report.report_schema``; plain strings, float32,
zstd, one row group per run); ``Run`` is the sample name. ``config.yaml`` points ``samples``,
``proteomics`` (the report, format auto), ``elisa`` and ``clinical`` at the cohort, so the shipped
config's ``quantification.method: auto`` quantifies proteins with DPC (rule ``quantify``).

    .venv/bin/python benchmarks/precursor_cohort.py --scale precursor_paper --out /tmp/cohort

One numpy generator (``--seed``) drives everything: two runs write the same tables.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_cohort  # noqa: E402
import precursor_report  # noqa: E402

#: name -> (patients, proteins, precursors); every patient has a baseline and a week2 sample.
SCALES = {
    "precursor_tiny": (6, 150, 1_500),
    "precursor_paper": (16, 2_000, 30_000),
    "precursor_large": (500, 10_000, 100_000),
}
REPORT = "report.parquet"
OFFSET_MEAN, OFFSET_SD, NOISE_SD = -1.5, 1.0, 0.25
COUNT_WEIGHT = 0.3  # precursors per protein ~ exp(COUNT_WEIGHT * (mu - 23))
DPC_INTERCEPT, DPC_SLOPE = -17.6, 0.8
WEAK_LIBRARY_SHARE, WEAK_RUNS = 0.05, 3
CONTAMINANT_PRECURSORS = 8


def precursor_counts(mu, total, rng):
    """Precursors per protein: 1 each, the rest shared out by abundance weights; sums to ``total``."""
    if total < len(mu):
        raise ValueError(f"{total} precursors cannot cover {len(mu)} proteins")
    weights = np.exp(COUNT_WEIGHT * (np.asarray(mu) - make_cohort.MU_MEAN))
    return 1 + rng.multinomial(total - len(mu), weights / weights.sum())


def detection_probability(log2):
    return 1.0 / (1.0 + np.exp(-(DPC_INTERCEPT + DPC_SLOPE * log2)))


def simulate(n_patients, n_proteins, n_precursors, seed=make_cohort.SEED):
    """The cohort as arrays: sheet, ELISA, clinical, the precursor library (protein index per
    precursor, ids, sequences, charges) and the complete precursor x sample log2 quantities with
    their detection mask."""
    rng = np.random.default_rng(seed)
    focus = make_cohort.focus_genes()
    proteins = make_cohort.choose_proteins(make_cohort.read_idmap(), n_proteins, focus, rng)
    sheet = make_cohort.sample_sheet(n_patients, rng)
    protein_log2, response, mu = make_cohort.simulate_log2(proteins, sheet, focus, rng)
    counts = precursor_counts(mu, n_precursors, rng)
    protein_of = np.repeat(np.arange(n_proteins), counts)
    offsets = rng.normal(OFFSET_MEAN, OFFSET_SD, n_precursors)
    log2 = protein_log2[protein_of] + offsets[:, None]
    log2 += rng.normal(0.0, NOISE_SD, log2.shape)
    detected = rng.random(log2.shape) < detection_probability(log2)
    never = np.flatnonzero(~detected.any(axis=1))
    detected[never, np.argmax(log2[never], axis=1)] = True
    weak = (detected.sum(axis=1) <= WEAK_RUNS) & (rng.random(n_precursors) < WEAK_LIBRARY_SHARE)
    elisa = make_cohort.elisa_table(sheet, response, rng)
    import pandas as pd

    clinical = make_cohort.clinical_table(sheet, pd.Series(response), rng)
    return {
        "proteins": proteins,
        "sheet": sheet,
        "elisa": elisa,
        "clinical": clinical,
        "protein_of": protein_of,
        "log2": log2,
        "detected": detected,
        "weak": weak,
        "rng": rng,
    }


def write_report(path, cohort):
    """The DIA-NN 2.x report.parquet: one row group per run, rows in library order within a run."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = cohort["rng"]
    proteins, sheet = cohort["proteins"], cohort["sheet"]
    protein_of, log2, detected = cohort["protein_of"], cohort["log2"], cohort["detected"]
    n_precursors = len(protein_of)
    n_contaminant = len(make_cohort.CONTAMINANTS) * CONTAMINANT_PRECURSORS
    sequences = precursor_report._peptides(rng, n_precursors + n_contaminant)
    charges = rng.choice([2, 2, 2, 3], size=n_precursors + n_contaminant)
    ids = pa.array([f"{s}{c}" for s, c in zip(sequences, charges)], pa.string())
    sequences = pa.array(sequences, pa.string())
    contaminant_of = np.repeat(np.arange(len(make_cohort.CONTAMINANTS)), CONTAMINANT_PRECURSORS)
    group = list(proteins["Entry"]) + [f"Cont_{a}" for a, _ in make_cohort.CONTAMINANTS]
    names = list(proteins["Entry.name"]) + [f"{g}_HUMAN" for _, g in make_cohort.CONTAMINANTS]
    genes = list(proteins["gene"]) + [g for _, g in make_cohort.CONTAMINANTS]
    owner = np.concatenate([protein_of, len(proteins) + contaminant_of])
    group, names, genes = (pa.array(np.asarray(v, dtype=object)[owner], pa.string()) for v in (group, names, genes))
    proteotypic = (rng.random(n_precursors + n_contaminant) < 0.97).astype(np.int64)
    rt_library = rng.uniform(2.0, 28.0, n_precursors + n_contaminant)
    global_q = (0.004 * rng.beta(0.5, 4.0, n_precursors + n_contaminant)).astype(np.float32)
    library_q = global_q.copy()
    weak = np.concatenate([cohort["weak"], np.zeros(n_contaminant, bool)])
    library_q[weak] = rng.uniform(0.011, 0.04, int(weak.sum()))
    protein_q = (0.002 * rng.beta(0.5, 4.0, len(proteins) + len(make_cohort.CONTAMINANTS))).astype(np.float32)[owner]
    schema = precursor_report.report_schema()
    contaminant_log2 = rng.normal(make_cohort.MU_MEAN + 1.5, 1.0, (n_contaminant, log2.shape[1]))
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for run, sample in enumerate(sheet["sample"]):
            seen = np.concatenate([np.flatnonzero(detected[:, run]), n_precursors + np.arange(n_contaminant)])
            n = len(seen)
            value = np.concatenate([log2[detected[:, run], run], contaminant_log2[:, run]])
            quantity = np.exp2(value).astype(np.float32)
            take = pa.array(seen)
            score = DPC_INTERCEPT + DPC_SLOPE * value
            row_q = (0.01 / (1.0 + np.exp(1.0 + 0.9 * score + rng.normal(0.0, 0.5, n)))).astype(np.float32)
            columns = {
                "Run.Index": np.full(n, run, dtype=np.int64),
                "Run": pa.array([sample] * n, pa.string()),
                "Channel": pa.array([""] * n, pa.string()),
                "Precursor.Id": ids.take(take),
                "Modified.Sequence": sequences.take(take),
                "Stripped.Sequence": sequences.take(take),
                "Precursor.Charge": charges[seen],
                "Decoy": np.zeros(n, dtype=np.int64),
                "Proteotypic": proteotypic[seen],
                "Protein.Ids": group.take(take),
                "Protein.Group": group.take(take),
                "Protein.Names": names.take(take),
                "Genes": genes.take(take),
                "RT": (rt_library[seen] + rng.normal(0.0, 0.05, n)).astype(np.float32),
                "Precursor.Quantity": quantity,
                "Precursor.Normalised": quantity,
                "Q.Value": row_q,
                "PEP": (row_q * 2).astype(np.float32),
                "Global.Q.Value": global_q[seen],
                "Lib.Q.Value": library_q[seen],
                "PG.Q.Value": protein_q[seen],
                "Global.PG.Q.Value": protein_q[seen],
                "Lib.PG.Q.Value": protein_q[seen],
                "PG.MaxLFQ": quantity,
            }
            writer.write_table(pa.table(columns, schema=schema))


def overrides(folder):
    """The config overrides that point tearflow at a precursor cohort written to ``folder``."""
    folder = Path(folder)
    return {
        "samples": str(folder / "samples.tsv"),
        "proteomics": [{"path": str(folder / REPORT), "batch": "batch1"}],
        "elisa": str(folder / "elisa.tsv"),
        "clinical": str(folder / "clinical.tsv"),
    }


def write_cohort(folder, n_patients, n_proteins, n_precursors, seed=make_cohort.SEED):
    """Write the report, sheet, ELISA and clinical tables and the config overrides into ``folder``;
    return the config path."""
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    cohort = simulate(n_patients, n_proteins, n_precursors, seed)
    write_report(folder / REPORT, cohort)
    cohort["sheet"].to_csv(folder / "samples.tsv", sep="\t", index=False)
    cohort["elisa"].to_csv(folder / "elisa.tsv", sep="\t", index=False)
    cohort["clinical"].to_csv(folder / "clinical.tsv", sep="\t", index=False)
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump(overrides(folder), sort_keys=False))
    return config


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="precursor_paper")
    parser.add_argument("--seed", type=int, default=make_cohort.SEED)
    parser.add_argument("--out", required=True, help="folder to write the cohort into")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    print(write_cohort(args.out, *SCALES[args.scale], args.seed))


if __name__ == "__main__":
    main()
