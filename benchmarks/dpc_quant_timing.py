"""Time tearflow's DPC protein quantification against R limpa ``dpcQuant`` on identical input.

Standalone and seeded. For each size it simulates precursor log2 intensities (proteins with a
geometric number of precursors, mean 6; patients × 2 visits; logit-linear detection, ~30% missing),
times :func:`tearflow.protein_quant.dpc_quant` (and the DPC fit, :func:`tearflow.dpc.detection_curve`),
and, when ``Rscript`` with limpa is available, writes the input once (raw float64 + protein ids) and
times ``dpcQuant`` on it with ``benchmarks/dpc_quant_timing.R``, then compares the estimates.

R's ``dpcQuant`` loops over proteins with ``optim(BFGS)`` on a dense (K·n) × (n + K − 1) design, so at
1,000 samples a protein takes seconds; ``--r-max-proteins`` (default 40 at that size) times R, and
tearflow, on that many randomly chosen proteins of the same data, and the table says so (R needs
~8 s per protein at 1,000 samples, ~37 h for all 16,887).

    R_LIBS=/opt/r-limpa /work/main/.venv/bin/python benchmarks/dpc_quant_timing.py
    /work/main/.venv/bin/python benchmarks/dpc_quant_timing.py --sizes paper --no-r
"""

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "scripts"))

from tearflow import dpc as dpcmod  # noqa: E402
from tearflow import protein_quant  # noqa: E402

#: name → (samples, precursors, proteins R is timed on (None = all))
SIZES = {
    "small": (12, 3_000, None),
    "paper": (32, 30_000, None),
    "large": (1_000, 100_000, 40),
}
DPC_TRUE = (-3.5, 0.7)


def simulate(nsamples, nprecursors, seed):
    """Precursor × sample log2 intensities with NaN for missing, and protein ids (seeded)."""
    rng = np.random.default_rng(seed)
    sizes = []
    total = 0
    while total < nprecursors:
        k = int(min(rng.geometric(1 / 6), 60))
        k = min(k, nprecursors - total)
        sizes.append(k)
        total += k
    sizes = np.array(sizes)
    nprot = len(sizes)
    prot = np.repeat(np.arange(nprot), sizes)
    npat = nsamples // 2
    patient = np.arange(nsamples) % npat
    week2 = (np.arange(nsamples) >= npat).astype(float)
    prot_mean = rng.uniform(3, 11, nprot)
    visit = np.where(rng.uniform(size=nprot) < 0.2, rng.choice([-0.8, 0.8], nprot), 0.0)
    y = np.empty((nprecursors, nsamples))
    step = max(1, 2_000_000 // nsamples)
    for r0 in range(0, nprecursors, step):
        r = slice(r0, min(r0 + step, nprecursors))
        p = prot[r]
        base = prot_mean[p] + rng.normal(0, 0.8, len(p))
        pat = rng.normal(0, 0.3, (len(p), npat))[:, patient]
        block = base[:, None] + pat + visit[p][:, None] * week2 + rng.normal(0, 0.3, (len(p), nsamples))
        detect = rng.uniform(size=block.shape) < 1 / (1 + np.exp(-(DPC_TRUE[0] + DPC_TRUE[1] * block)))
        block[~detect] = np.nan
        y[r] = block
    ids = np.array([f"PROT{i:06d}" for i in range(nprot)])[prot]
    return y, ids


def peak_rss_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def time_python(y, ids, curve):
    t0 = time.perf_counter()
    q = protein_quant.dpc_quant(y, ids, dpc=curve)
    return time.perf_counter() - t0, q


def run_r(y, ids, curve, workdir):
    """Write the input, run dpc_quant_timing.R, return (seconds, protein ids, E) or None."""
    workdir.mkdir(parents=True, exist_ok=True)
    with open(workdir / "y.f64", "wb") as f:
        for j in range(y.shape[1]):
            np.ascontiguousarray(y[:, j]).tofile(f)
    (workdir / "proteins.txt").write_text("\n".join(ids) + "\n")
    (workdir / "meta.txt").write_text(f"{y.shape[0]}\n{y.shape[1]}\n{curve[0]!r}\n{curve[1]!r}\n")
    cmd = ["Rscript", str(HERE / "dpc_quant_timing.R"), str(workdir)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        print(res.stderr[-2000:], file=sys.stderr)
        return None
    seconds = float((workdir / "seconds.txt").read_text())
    rid = (workdir / "E_proteins.txt").read_text().split()
    e = np.fromfile(workdir / "E.f64").reshape(y.shape[1], len(rid)).T
    return seconds, np.array(rid), e


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--seed", type=int, default=20260412)
    ap.add_argument("--no-r", action="store_true", help="time tearflow only")
    ap.add_argument("--r-max-proteins", type=int, default=None, help="override the per-size R protein cap")
    ap.add_argument("--workdir", default=None, help="where R's input is written (default: a temporary folder)")
    args = ap.parse_args()
    have_r = not args.no_r and shutil.which("Rscript") is not None
    workroot = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="dpc_quant_timing_"))
    rows = []
    for name in args.sizes:
        nsamples, nprec, r_cap = SIZES[name]
        if args.r_max_proteins is not None:
            r_cap = args.r_max_proteins
        y, ids = simulate(nsamples, nprec, args.seed)
        nprot = len(np.unique(ids))
        t0 = time.perf_counter()
        curve = dpcmod.detection_curve(y, model="cn")
        t_dpc = time.perf_counter() - t0
        coef = curve.coefficients
        t_py, q = time_python(y, ids, coef)
        print(
            f"{name}: {nsamples} samples x {nprec} precursors, {nprot} proteins, {np.isnan(y).mean():.0%} missing; "
            f"dpc (cn) {t_dpc:.2f} s; dpc_quant {t_py:.2f} s; peak RSS {peak_rss_gb():.2f} GB",
            flush=True,
        )
        row = dict(
            size=name, samples=nsamples, precursors=nprec, proteins=nprot, python_dpc_s=t_dpc, python_quant_s=t_py
        )
        if have_r:
            yr, idr = y, ids
            if r_cap is not None and r_cap < nprot:
                rng = np.random.default_rng(args.seed + 1)
                chosen = rng.choice(np.unique(ids), r_cap, replace=False)
                keep = np.isin(ids, chosen)
                yr, idr = y[keep], ids[keep]
            t_py_r, q_r = time_python(yr, idr, coef)
            out = run_r(yr, idr, coef, workroot / name)
            if out is not None:
                t_r, rid, e_r = out
                idx = {p: i for i, p in enumerate(q_r.proteins)}
                mine = q_r.expression[[idx[p] for p in rid]]
                diff = np.abs(mine - e_r).max(axis=1)
                row.update(
                    r_proteins=len(rid),
                    python_same_input_s=t_py_r,
                    r_quant_s=t_r,
                    speedup=t_r / t_py_r,
                    max_abs_diff=float(diff.max()),
                    share_within_1e3=float(np.mean(diff <= 1e-3)),
                )
                print(
                    f"   R dpcQuant on {len(rid)} proteins: {t_r:.1f} s; tearflow on the same: {t_py_r:.2f} s "
                    f"({t_r / t_py_r:.0f}x); max |dE| {diff.max():.2e}, {np.mean(diff <= 1e-3):.1%} within 1e-3",
                    flush=True,
                )
        rows.append(row)
        del y, q
    print()
    print(
        "| size | samples | precursors | proteins | tearflow dpc (s) | tearflow dpcQuant (s) | R proteins | "
        "tearflow same input (s) | R dpcQuant (s) | speed-up | max abs diff |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        rpart = (
            f"{r['r_proteins']} | {r['python_same_input_s']:.2f} | {r['r_quant_s']:.1f} | {r['speedup']:.0f}x | "
            f"{r['max_abs_diff']:.1e}"
            if "r_quant_s" in r
            else "– | – | – | – | –"
        )
        print(
            f"| {r['size']} | {r['samples']} | {r['precursors']} | {r['proteins']} | {r['python_dpc_s']:.2f} | "
            f"{r['python_quant_s']:.2f} | {rpart} |"
        )
    if not args.workdir:
        shutil.rmtree(workroot, ignore_errors=True)


if __name__ == "__main__":
    main()
