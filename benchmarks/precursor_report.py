"""Precursor-level reading at scale: a seeded DIA-NN 2.x-style ``report.parquet``, read and pivoted.

Writes a long report shaped like DIA-NN 2's (``Run.Index, Run, Channel, Precursor.Id, ...,
Decoy, Proteotypic, ..., Precursor.Quantity, Precursor.Normalised, ..., Q.Value, PG.Q.Value,
Lib.Q.Value, Lib.PG.Q.Value, PG.MaxLFQ``; strings as plain Parquet strings, floats as float32,
one row group per run) with ``--runs`` runs × ``--precursors`` precursors, each observed in a run
with probability ``--observed`` (abundance-dependent), then times
:func:`tearflow.readers.read_precursors` on it in a fresh process and reports wall time and peak
resident memory::

    .venv/bin/python benchmarks/precursor_report.py --out /tmp/report.parquet            # 1,000 × 100,000
    .venv/bin/python benchmarks/precursor_report.py --out /tmp/small.parquet --runs 50 --precursors 20000
    .venv/bin/python benchmarks/precursor_report.py --out /tmp/report.parquet --read-only  # time again
"""

import argparse
import os
import resource
import subprocess
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AMINO_ACIDS = np.array(list("ACDEFGHIKLMNPQRSTVWY"))


def _peptides(rng, count):
    """``count`` distinct tryptic-looking sequences (10-25 residues ending K/R; the index, in base 20,
    is spelled in residues 1-5 so that no two are equal)."""
    lengths = rng.integers(10, 26, size=count)
    peptides = []
    for number, length in enumerate(lengths):
        digits, value = [], number
        for _ in range(5):
            digits.append(AMINO_ACIDS[value % 20])
            value //= 20
        body = AMINO_ACIDS[rng.integers(0, 20, size=length - 6)]
        peptides.append("".join(digits) + "".join(body) + "KR"[number % 2])
    return peptides


def report_schema():
    """The columns (DIA-NN 2.x order) and Arrow types of the generated reports."""
    import pyarrow as pa

    return pa.schema(
        [
            ("Run.Index", pa.int64()),
            ("Run", pa.string()),
            ("Channel", pa.string()),
            ("Precursor.Id", pa.string()),
            ("Modified.Sequence", pa.string()),
            ("Stripped.Sequence", pa.string()),
            ("Precursor.Charge", pa.int64()),
            ("Decoy", pa.int64()),
            ("Proteotypic", pa.int64()),
            ("Protein.Ids", pa.string()),
            ("Protein.Group", pa.string()),
            ("Protein.Names", pa.string()),
            ("Genes", pa.string()),
            ("RT", pa.float32()),
            ("Precursor.Quantity", pa.float32()),
            ("Precursor.Normalised", pa.float32()),
            ("Q.Value", pa.float32()),
            ("PEP", pa.float32()),
            ("Global.Q.Value", pa.float32()),
            ("Lib.Q.Value", pa.float32()),
            ("PG.Q.Value", pa.float32()),
            ("Global.PG.Q.Value", pa.float32()),
            ("Lib.PG.Q.Value", pa.float32()),
            ("PG.MaxLFQ", pa.float32()),
        ]
    )


def write_report(path, runs, precursors, observed, seed=20250101):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    proteins = max(precursors // 8, 1)
    protein_ids = np.array([f"P{index:05d}" for index in range(proteins)], dtype=object)
    protein_ids[: max(proteins // 100, 1)] = [f"Cont_P{index:05d}" for index in range(max(proteins // 100, 1))]
    gene_names = np.array([f"GENE{index}" for index in range(proteins)], dtype=object)
    protein_of = np.sort(rng.integers(0, proteins, size=precursors))
    charges = rng.integers(2, 5, size=precursors)
    sequences = _peptides(rng, precursors)
    precursor_ids = np.array([f"{s}{c}" for s, c in zip(sequences, charges)], dtype=object)
    proteotypic = (rng.random(precursors) < 0.85).astype(np.int64)
    decoy = np.zeros(precursors, dtype=np.int64)
    abundance = rng.normal(20, 2.5, size=precursors)
    protein_abundance = rng.normal(24, 2, size=proteins)
    detect = 1 / (1 + np.exp(-(abundance - 20 + 4 * (observed - 0.5)) * 1.2))
    schema = report_schema()
    sequences = np.array(sequences, dtype=object)
    groups = protein_ids[protein_of]
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for run in range(runs):
            seen = np.flatnonzero(rng.random(precursors) < detect)
            n = len(seen)
            quantity = np.exp2(abundance[seen] + rng.normal(0, 0.4, size=n)).astype(np.float32)
            qvalue = rng.beta(0.3, 60, size=n).astype(np.float32)
            name = f"20250101_Astral_tear_{run:04d}"
            columns = {
                "Run.Index": np.full(n, run, dtype=np.int64),
                "Run": pa.array([name] * n, pa.string()),
                "Channel": pa.array([""] * n, pa.string()),
                "Precursor.Id": pa.array(precursor_ids[seen], pa.string()),
                "Modified.Sequence": pa.array(sequences[seen], pa.string()),
                "Stripped.Sequence": pa.array(sequences[seen], pa.string()),
                "Precursor.Charge": charges[seen],
                "Decoy": decoy[seen],
                "Proteotypic": proteotypic[seen],
                "Protein.Ids": pa.array(groups[seen], pa.string()),
                "Protein.Group": pa.array(groups[seen], pa.string()),
                "Protein.Names": pa.array(gene_names[protein_of[seen]], pa.string()),
                "Genes": pa.array(gene_names[protein_of[seen]], pa.string()),
                "RT": rng.uniform(1, 30, size=n).astype(np.float32),
                "Precursor.Quantity": quantity,
                "Precursor.Normalised": (quantity * np.float32(1.05)).astype(np.float32),
                "Q.Value": qvalue,
                "PEP": qvalue,
                "Global.Q.Value": qvalue,
                "Lib.Q.Value": (qvalue / 2).astype(np.float32),
                "PG.Q.Value": (qvalue / 3).astype(np.float32),
                "Global.PG.Q.Value": (qvalue / 3).astype(np.float32),
                "Lib.PG.Q.Value": (qvalue / 4).astype(np.float32),
                "PG.MaxLFQ": np.exp2(protein_abundance[protein_of[seen]] + rng.normal(0, 0.1)).astype(np.float32),
            }
            writer.write_table(pa.table(columns, schema=schema))


def time_read(path):
    """Read ``path`` with read_precursors in this process; print time, memory and the shape."""
    sys.path.insert(0, os.path.join(REPO, "scripts"))
    from tearflow.config import load_schema, schema_defaults
    from tearflow.readers import read_precursors

    # the import step's options as the shipped config gives them (the schema's defaults)
    options = schema_defaults(load_schema(os.path.join(REPO, "workflow", "schemas", "config.schema.yaml")))["import"]
    start = time.perf_counter()
    table = read_precursors(path, "auto", options)
    wall = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"read_precursors: {wall:.1f} s wall, peak RSS {peak_mb:.0f} MB; "
        f"{table.rows_read:,} rows -> {len(table.precursors):,} precursors x {len(table.runs)} runs "
        f"({table.removed_count('qvalue_filtered'):,} precursors removed by q-value, "
        f"{table.removed_count('contaminant'):,} contaminant)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="report.parquet to write (and read)")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--precursors", type=int, default=100_000)
    parser.add_argument("--observed", type=float, default=0.5, help="about this share of cells observed")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--read-only", action="store_true", help="time reading an existing --out")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        time_read(args.out)
        return
    if not args.read_only:
        start = time.perf_counter()
        write_report(args.out, args.runs, args.precursors, args.observed, args.seed)
        size = os.path.getsize(args.out) / 1e6
        print(f"wrote {args.out}: {size:.0f} MB in {time.perf_counter() - start:.0f} s")
    # a fresh process, so that peak memory is the reader's alone
    subprocess.run([sys.executable, os.path.abspath(__file__), "--out", args.out, "--in-process"], check=True)


if __name__ == "__main__":
    main()
