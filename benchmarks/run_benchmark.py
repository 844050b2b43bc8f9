"""Run the whole tearflow DAG on generated cohorts and write one table of times and memory.

    .venv/bin/python benchmarks/run_benchmark.py                       # paper, medium, large
    .venv/bin/python benchmarks/run_benchmark.py --scales paper large --cores 2
    .venv/bin/python benchmarks/run_benchmark.py --scales large --set enrichment.gsea_engine=tearflow

For each scale: generate the cohort (``benchmarks/make_cohort.py``, seeded; not timed), copy the
workflow into ``benchmarks/runs/<scale>/tearflow`` (a clean start: no results, no .snakemake),
run ``snakemake --cores N --configfile <cohort>/config.yaml`` there, and collect

- per rule: jobs, wall seconds (sum over the rule's jobs), CPU seconds and peak memory (largest job)
  from the Snakemake ``benchmark:`` files (``results/benchmarks/<rule>[/<wildcards>].tsv``); a rule
  without a benchmark file gets its wall time from Snakemake's log (1 s resolution) and NA memory;
- in total (``TOTAL`` row): the wall time of the whole ``snakemake`` command (start-up, DAG, every
  job, report-free), its CPU seconds (every process it started) and the peak memory of its largest
  process (``getrusage(RUSAGE_CHILDREN).ru_maxrss``, exact, unlike the sampled per-rule values);
- when ``Rscript`` with limma is available: ``benchmarks/limma_timing.R`` on the same difference
  matrix (``results/differential/patient_changes.tsv``), beside the ``differential`` row, and the
  ratio tearflow / limma (wall and CPU; ≤ 1 means tearflow is no slower).

``--set KEY=VALUE`` (dotted key, YAML value; repeatable) changes one config key on top of the
shipped config for the run; the ``config`` column names the changes (``shipped`` when none).

Rows are written to ``--out`` (default ``benchmarks/results.tsv``); rows of (scale, config) pairs not
run this time are kept, so scales can be (re)run one at a time.
"""

import argparse
import math
import re
import resource
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))

import make_cohort  # noqa: E402
from workflow_runner import PYTHON, copy_workflow, snakemake_env  # noqa: E402

DEFAULT_SCALES = ("paper", "medium", "large")
TOTAL = "TOTAL"
SHIPPED = "shipped"  # the `config` value of a run with the shipped config (only the data swapped)
COLUMNS = [
    "scale",
    "samples",
    "patients",
    "proteins",
    "config",
    "rule",
    "jobs",
    "wall_s",
    "cpu_s",
    "max_rss_mb",
    "source",
    "limma_wall_s",
    "limma_cpu_s",
    "ratio_wall_vs_limma",
    "ratio_cpu_vs_limma",
]


# --------------------------------------------------------------------------------------------------
# pure functions
# --------------------------------------------------------------------------------------------------
def read_benchmark_files(folder):
    """{rule: DataFrame of its jobs' benchmark records} from ``folder`` (results/benchmarks):
    ``<rule>.tsv`` or ``<rule>/<wildcards>.tsv``. The rule is the first path component."""
    folder = Path(folder)
    records = {}
    for path in sorted(folder.rglob("*.tsv")):
        relative = path.relative_to(folder)
        rule = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        frame = pd.read_csv(path, sep="\t", na_values=["NA", "-"])
        records.setdefault(rule, []).append(frame)
    return {rule: pd.concat(frames, ignore_index=True) for rule, frames in records.items()}


_STAMP = r"\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]"


def job_times_from_log(text):
    """{rule: [wall seconds per job]} from Snakemake's console log (start and 'Finished jobid'
    timestamps, 1 s resolution)."""
    started = {}
    rule_of = {}
    for match in re.finditer(_STAMP + r"\n(?:local)?rule (\S+):\n(?:.*\n)*?\s+jobid: (\d+)", text):
        stamp, rule, jobid = match.groups()
        started[jobid] = datetime.strptime(stamp, "%a %b %d %H:%M:%S %Y")
        rule_of[jobid] = rule
    times = {}
    for match in re.finditer(_STAMP + r"\nFinished jobid: (\d+) \(Rule: (\S+)\)", text):
        stamp, jobid, rule = match.groups()
        if jobid in started:
            end = datetime.strptime(stamp, "%a %b %d %H:%M:%S %Y")
            times.setdefault(rule, []).append((end - started[jobid]).total_seconds())
    return times


def rule_rows(benchmarks, log_times):
    """One row per rule that ran: jobs, wall_s (sum), cpu_s (sum), max_rss_mb (max), source."""
    rows = []
    for rule in sorted((set(benchmarks) | set(log_times)) - {"all"}):
        if rule in benchmarks:
            frame = benchmarks[rule]
            rows.append(
                {
                    "rule": rule,
                    "jobs": len(frame),
                    "wall_s": float(frame["s"].sum()),
                    "cpu_s": float(frame["cpu_time"].sum()) if "cpu_time" in frame else math.nan,
                    "max_rss_mb": float(frame["max_rss"].max()) if "max_rss" in frame else math.nan,
                    "source": "benchmark",
                }
            )
        else:
            rows.append(
                {
                    "rule": rule,
                    "jobs": len(log_times[rule]),
                    "wall_s": float(sum(log_times[rule])),
                    "cpu_s": math.nan,
                    "max_rss_mb": math.nan,
                    "source": "log",
                }
            )
    return rows


def scale_table(scale, patients, proteins, rows, total, limma=None, config=SHIPPED):
    """The rows of one scale: every rule, then TOTAL; limma beside the ``differential`` row."""
    table = pd.DataFrame(rows + [{"rule": TOTAL, **total}])
    table.insert(0, "scale", scale)
    table.insert(1, "samples", 2 * patients)
    table.insert(2, "patients", patients)
    table.insert(3, "proteins", proteins)
    table.insert(4, "config", config)
    for column in COLUMNS:
        if column not in table.columns:
            table[column] = math.nan
    if limma is not None:
        at = table["rule"] == "differential"
        table.loc[at, "limma_wall_s"] = limma["wall_s"]
        table.loc[at, "limma_cpu_s"] = limma["cpu_s"]
        table.loc[at, "ratio_wall_vs_limma"] = table.loc[at, "wall_s"] / limma["wall_s"]
        table.loc[at, "ratio_cpu_vs_limma"] = table.loc[at, "cpu_s"] / limma["cpu_s"]
    return table[COLUMNS]


def merge_results(previous, new):
    """``previous`` rows of (scale, config) pairs not in ``new``, then ``new`` (scale order: tiny →
    large; a table from before the ``config`` column counts as ``shipped``)."""
    order = {name: i for i, name in enumerate(make_cohort.SCALES)}
    if previous is not None and "config" not in previous.columns:
        previous = previous.assign(config=SHIPPED)[COLUMNS]
    runs = set(zip(new["scale"], new["config"]))
    kept = (
        previous[[pair not in runs for pair in zip(previous["scale"], previous["config"])]]
        if previous is not None
        else None
    )
    merged = pd.concat([kept, new], ignore_index=True) if kept is not None and len(kept) else new
    rank = merged["scale"].map(order).fillna(len(order))
    return merged.assign(_rank=rank).sort_values("_rank", kind="stable").drop(columns="_rank").reset_index(drop=True)


def format_table(table):
    """The table with numbers rounded for reading (seconds 0.01, MB 1, ratios 0.01)."""
    shown = table.copy()
    for column in ("wall_s", "cpu_s", "limma_wall_s", "limma_cpu_s", "ratio_wall_vs_limma", "ratio_cpu_vs_limma"):
        shown[column] = shown[column].astype(float).round(2)
    shown["max_rss_mb"] = shown["max_rss_mb"].astype(float).round(0)
    return shown


def markdown(table):
    """A GitHub markdown rendering of (formatted) rows."""
    shown = format_table(table).astype(object).where(table.notna(), "")
    lines = ["| " + " | ".join(shown.columns) + " |", "|" + "---|" * len(shown.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in shown.itertuples(index=False)]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------------------
def _children_usage():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # Linux: ru_maxrss in KiB


def limma_available():
    """True when ``Rscript`` is on PATH and loads limma."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return False
    check = subprocess.run([rscript, "-e", "library(limma)"], capture_output=True, check=False)
    return check.returncode == 0


def run_limma(workdir, min_pairs=3):
    """Wall and CPU seconds of ``Rscript limma_timing.R`` on the run's difference matrix, or None
    when R/limma is not installed."""
    if not limma_available():
        return None
    rscript = shutil.which("Rscript")
    command = [
        rscript,
        str(HERE / "limma_timing.R"),
        str(workdir / "results" / "differential" / "patient_changes.tsv"),
        str(workdir / "cohort_samples.tsv"),
        str(min_pairs),
        str(workdir / "limma"),
    ]
    cpu_before, _ = _children_usage()
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    cpu = _children_usage()[0] - cpu_before
    compute = re.search(r"limma_compute_s\t([\d.]+)", completed.stdout)
    return {"wall_s": wall, "cpu_s": cpu, "compute_s": float(compute.group(1)) if compute else math.nan}


def parse_settings(pairs):
    """``["enrichment.gsea_engine=tearflow", ...]`` → a nested dict of config changes (values YAML)."""
    import yaml

    changes = {}
    for pair in pairs or []:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise SystemExit(f"--set {pair!r}: expected KEY=VALUE, e.g. enrichment.gsea_engine=tearflow")
        *parents, leaf = key.strip().split(".")
        node = changes
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    return changes


def settings_label(pairs):
    """The ``config`` column: ``shipped``, or the ``--set`` pairs joined by ``; ``."""
    return "; ".join(pairs) if pairs else SHIPPED


def apply_settings(config_path, changes):
    """Merge ``changes`` (nested dict) into the cohort's config overrides file."""
    import yaml

    config = yaml.safe_load(Path(config_path).read_text()) or {}

    def merge(target, update):
        for key, value in update.items():
            if isinstance(value, dict) and isinstance(target.get(key), dict):
                merge(target[key], value)
            else:
                target[key] = value

    merge(config, changes)
    Path(config_path).write_text(yaml.safe_dump(config, sort_keys=False))


def run_scale(scale, runs, cores, seed, patients=None, proteins=None, limma=True, settings=None):
    """Generate, run and measure one scale; return its rows (DataFrame). ``settings``: ``--set``
    pairs applied on top of the shipped config."""
    default_patients, default_proteins = make_cohort.SCALES[scale]
    patients = patients or default_patients
    proteins = proteins or default_proteins
    base = Path(runs) / scale
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    print(f"[{scale}] generating {patients} patients x 2 visits x {proteins} proteins", flush=True)
    config = make_cohort.write_cohort(base / "cohort", patients, proteins, seed)
    if settings:
        apply_settings(config, parse_settings(settings))
        print(f"[{scale}] config changes: {settings_label(settings)}", flush=True)
    workdir = copy_workflow(base)
    shutil.copy(base / "cohort" / "samples.tsv", workdir / "cohort_samples.tsv")

    command = [PYTHON, "-m", "snakemake", "--nocolor", "--cores", str(cores), "--configfile", str(config)]
    print(f"[{scale}] {' '.join(command)}  (in {workdir})", flush=True)
    cpu_before, _ = _children_usage()
    start = time.perf_counter()
    with open(base / "snakemake.log", "w") as log:
        completed = subprocess.run(command, cwd=workdir, env=snakemake_env(), stdout=log, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    cpu_after, peak_mb = _children_usage()
    text = (base / "snakemake.log").read_text()
    if completed.returncode != 0:
        raise SystemExit(f"[{scale}] snakemake failed (exit {completed.returncode}); see {base / 'snakemake.log'}")
    print(f"[{scale}] whole DAG: {wall:.1f} s wall, {cpu_after - cpu_before:.1f} s CPU, {peak_mb:.0f} MB peak")

    rows = rule_rows(read_benchmark_files(workdir / "results" / "benchmarks"), job_times_from_log(text))
    total = {
        "jobs": sum(row["jobs"] for row in rows),
        "wall_s": wall,
        "cpu_s": cpu_after - cpu_before,
        "max_rss_mb": peak_mb,
        "source": "runner",
    }
    limma_times = run_limma(workdir) if limma else None
    if limma_times is not None:
        print(f"[{scale}] limma: {limma_times['wall_s']:.2f} s wall, {limma_times['cpu_s']:.2f} s CPU")
    return scale_table(scale, patients, proteins, rows, total, limma_times, settings_label(settings))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", nargs="+", default=list(DEFAULT_SCALES), choices=sorted(make_cohort.SCALES))
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seed", type=int, default=make_cohort.SEED)
    parser.add_argument("--patients", type=int, help="override every scale's number of patients")
    parser.add_argument("--proteins", type=int, help="override every scale's number of proteins")
    parser.add_argument("--runs", default=str(HERE / "runs"), help="scratch folder (default: benchmarks/runs)")
    parser.add_argument("--out", default=str(HERE / "results.tsv"), help="table (default: benchmarks/results.tsv)")
    parser.add_argument("--no-limma", action="store_true", help="skip the limma comparison")
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change one config key for the run (dotted key, YAML value), e.g. enrichment.gsea_engine=tearflow",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    tables = [
        run_scale(
            scale, args.runs, args.cores, args.seed, args.patients, args.proteins, not args.no_limma, args.settings
        )
        for scale in args.scales
    ]
    new = pd.concat(tables, ignore_index=True)
    out = Path(args.out)
    previous = pd.read_csv(out, sep="\t") if out.exists() else None
    table = merge_results(previous, new)
    out.parent.mkdir(parents=True, exist_ok=True)
    format_table(table).to_csv(out, sep="\t", index=False, na_rep="NA")
    print(markdown(new))
    print(f"table: {out}")


if __name__ == "__main__":
    main()
