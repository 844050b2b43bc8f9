"""Run the whole tearflow DAG on generated cohorts and write one table of times and memory.

    .venv/bin/python benchmarks/run_benchmark.py                       # paper, medium, large
    .venv/bin/python benchmarks/run_benchmark.py --scales paper large --cores 2
    .venv/bin/python benchmarks/run_benchmark.py --scales large --set enrichment.gsea_engine=tearflow
    R_LIBS=/opt/r-limpa .venv/bin/python benchmarks/run_benchmark.py --scales precursor_paper precursor_large

For each scale: generate the cohort (``benchmarks/make_cohort.py``, seeded; not timed), copy the
workflow into ``benchmarks/runs/<scale>/tearflow`` (a clean start: no results, no .snakemake),
run ``snakemake --cores N --configfile <cohort>/config.yaml`` there, and collect

- per rule: jobs, wall seconds (sum over the rule's jobs), CPU seconds and peak memory (largest job)
  from the Snakemake ``benchmark:`` files (``results/benchmarks/<rule>[/<wildcards>].tsv``); a rule
  without a benchmark file gets its wall time from Snakemake's log (1 s resolution) and NA memory;
- in total (``TOTAL`` row): the wall time of the whole ``snakemake`` command (start-up, DAG, every
  job, report-free), its CPU seconds (every process it started) and the peak memory of its largest
  process (``getrusage(RUSAGE_CHILDREN).ru_maxrss``, exact, unlike the sampled per-rule values);
- head to head on the ``differential`` row (unless ``--no-limma``): tearflow's
  differential step (the very script Snakemake ran, kept with ``--skip-script-cleanup``: Python
  start-up, imports, reading, fitting, writing) and ``benchmarks/limma_timing.R`` on the same
  difference matrix (``results/differential/patient_changes.tsv``; R start-up, loading limma,
  reading, fitting, writing), each a fresh process started by this runner with the one-thread
  environment Snakemake gives a job (``OMP_NUM_THREADS=1``, ``OPENBLAS_NUM_THREADS=1``, ...), in turns
  ``--repeats`` times (default 5; the machine's noise hits both alike): the median wall and CPU
  seconds of each (``step_*``, ``limma_*``) and their ratio tearflow / limma (≤ 1 means tearflow
  is no slower); without ``Rscript`` and limma only the step is timed. A Snakemake ``benchmark:``
  record samples a process every ~0.5 s and misses most of a sub-second step's CPU and memory, so
  the ratio does not use it.

Precursor-level scales (``precursor_paper``, ``precursor_large``; ``benchmarks/precursor_cohort.py``)
feed the DAG a DIA-NN 2.x ``report.parquet``, so the shipped ``quantification.method: auto`` runs DPC
quantification (rule ``quantify``). Their ``quantify`` row gets a head-to-head with R limpa (unless
``--no-limma``; needs ``Rscript`` loading limpa and data.table, e.g. ``R_LIBS=/opt/r-limpa``):
``benchmarks/quantify_step.py`` (``scripts/quantify.py``'s main with the run's settings) and
``benchmarks/limpa_timing.R`` (``dpc`` + ``dpcQuant``) on the precursor table the step read, each a
fresh one-thread process, in turns ``--limpa-repeats`` times (default 3): medians ``step_*``,
``limpa_*``, ratio tearflow / limpa, and ``limpa_proteins``: every protein up to 200 samples, else
20 randomly chosen ones (``--limpa-proteins``; R needs ~20 CPU s per protein at 1,000 samples).

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
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))

import make_cohort  # noqa: E402
import precursor_cohort  # noqa: E402
from workflow_runner import PYTHON, copy_workflow, snakemake_env  # noqa: E402

DEFAULT_SCALES = ("paper", "medium", "large")
#: every scale: name -> (patients, proteins, precursors); precursors None for a protein-level cohort
SCALES = {
    **{name: (patients, proteins, None) for name, (patients, proteins) in make_cohort.SCALES.items()},
    **precursor_cohort.SCALES,
}
#: limpa head-to-head: every protein up to this many samples, else a random subset (R's dpcQuant
#: needs seconds per protein at 1,000 samples)
LIMPA_ALL_PROTEINS_UP_TO = 200
LIMPA_SUBSET = 20
TOTAL = "TOTAL"
SHIPPED = "shipped"  # the `config` value of a run with the shipped config (only the data swapped)
COLUMNS = [
    "scale",
    "samples",
    "patients",
    "proteins",
    "precursors",
    "config",
    "rule",
    "jobs",
    "wall_s",
    "cpu_s",
    "max_rss_mb",
    "source",
    "step_wall_s",
    "step_cpu_s",
    "limma_wall_s",
    "limma_cpu_s",
    "ratio_wall_vs_limma",
    "ratio_cpu_vs_limma",
    "limpa_proteins",
    "limpa_wall_s",
    "limpa_cpu_s",
    "ratio_wall_vs_limpa",
    "ratio_cpu_vs_limpa",
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


def _peak_rss(frame):
    """The largest sampled max_rss of a rule's jobs, NaN when none was sampled: Snakemake records 0
    (or "-") for a job that ends before its first memory sample, which is "not measured", not 0 MB."""
    if "max_rss" not in frame:
        return math.nan
    sampled = pd.to_numeric(frame["max_rss"], errors="coerce")
    sampled = sampled[sampled > 0]
    return float(sampled.max()) if len(sampled) else math.nan


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
                    "max_rss_mb": _peak_rss(frame),
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


def scale_table(scale, patients, proteins, rows, total, head_to_head=None, config=SHIPPED, precursors=None, limpa=None):
    """The rows of one scale: every rule, then TOTAL; the step-versus-limma times
    (``{"step": {"wall_s", "cpu_s"}, "limma": {...}}``) beside the ``differential`` row, the
    quantify-step-versus-limpa times (``{"step": ..., "limpa": ..., "proteins": n}``) beside the
    ``quantify`` row."""
    table = pd.DataFrame(rows + [{"rule": TOTAL, **total}])
    table.insert(0, "scale", scale)
    table.insert(1, "samples", 2 * patients)
    table.insert(2, "patients", patients)
    table.insert(3, "proteins", proteins)
    table.insert(4, "precursors", math.nan if precursors is None else precursors)
    table.insert(5, "config", config)
    for column in COLUMNS:
        if column not in table.columns:
            table[column] = math.nan
    if head_to_head is not None:
        at = table["rule"] == "differential"
        step, limma = head_to_head["step"], head_to_head["limma"]
        for measure in ("wall_s", "cpu_s"):
            table.loc[at, f"step_{measure}"] = step[measure]
            if limma is not None:
                table.loc[at, f"limma_{measure}"] = limma[measure]
                table.loc[at, f"ratio_{measure[:-2]}_vs_limma"] = step[measure] / limma[measure]
    if limpa is not None:
        at = table["rule"] == "quantify"
        table.loc[at, "limpa_proteins"] = limpa["proteins"]
        for measure in ("wall_s", "cpu_s"):
            table.loc[at, f"step_{measure}"] = limpa["step"][measure]
            if limpa["limpa"] is not None:
                table.loc[at, f"limpa_{measure}"] = limpa["limpa"][measure]
                table.loc[at, f"ratio_{measure[:-2]}_vs_limpa"] = limpa["step"][measure] / limpa["limpa"][measure]
    return table[COLUMNS]


def merge_results(previous, new):
    """``previous`` rows of (scale, config) pairs not in ``new``, then ``new`` (scale order: tiny →
    large; a table from before the ``config`` column counts as ``shipped``)."""
    order = {name: i for i, name in enumerate(SCALES)}
    if previous is not None and "config" not in previous.columns:
        previous = previous.assign(config=SHIPPED)
    if previous is not None:
        previous = previous.reindex(columns=COLUMNS)  # a table from before a column was added
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
    """The table with numbers rounded for reading (seconds 0.01, MB 1 (0.01 below 1 MB), ratios 0.01;
    ratios to limpa, far below 0.01, 0.0001)."""
    shown = table.copy()
    for column in COLUMNS[COLUMNS.index("wall_s") :]:
        if column in ("max_rss_mb", "source"):
            continue
        shown[column] = shown[column].astype(float).round(4 if column.endswith("_vs_limpa") else 2)
    # MB to 1, except below 1 MB (a job sampled only as it started), where Snakemake's own 0.01 is
    # kept: rounding it to 0 would read as "used no memory"
    memory = shown["max_rss_mb"].astype(float)
    shown["max_rss_mb"] = memory.round(0).where(memory >= 1, memory.round(2))
    for column in ("precursors", "limpa_proteins"):
        shown[column] = shown[column].astype("Int64")
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


def _r_loads(*packages):
    """True when ``Rscript`` is on PATH and loads every one of ``packages``."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return False
    code = "; ".join(f"library({package})" for package in packages)
    return subprocess.run([rscript, "-e", code], capture_output=True, check=False).returncode == 0


def limma_available():
    """True when ``Rscript`` is on PATH and loads limma."""
    return _r_loads("limma")


#: what Snakemake sets for a job's process (snakemake/shell.py; every tearflow rule has 1 thread)
ONE_THREAD = {
    name: "1"
    for name in (
        "OMP_NUM_THREADS",
        "GOTO_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
    )
}


def _timed(command, cwd):
    """Wall and CPU seconds of one run of ``command`` (a fresh process in a one-thread job's
    environment, as Snakemake starts the step; output discarded)."""
    cpu_before, _ = _children_usage()
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env={**snakemake_env(), **ONE_THREAD}, capture_output=True, check=True)
    return time.perf_counter() - start, _children_usage()[0] - cpu_before


def differential_step_script(workdir, config):
    """The differential step exactly as Snakemake runs it (its script with Snakemake's preamble),
    kept by rerunning the step once with ``--skip-script-cleanup`` (not timed)."""
    command = [PYTHON, "-m", "snakemake", "--nocolor", "--cores", "1", "--configfile", str(config)]
    command += ["--forcerun", "differential", "--until", "differential", "--skip-script-cleanup"]
    subprocess.run(command, cwd=workdir, env=snakemake_env(), capture_output=True, check=True)
    scripts = sorted((workdir / ".snakemake" / "scripts").glob("*.differential.py"), key=lambda p: p.stat().st_mtime)
    if not scripts:
        raise SystemExit(f"no differential step script kept under {workdir / '.snakemake' / 'scripts'}")
    return scripts[-1]


def run_head_to_head(workdir, config, repeats=5, min_pairs=3):
    """tearflow's differential step and limma on the same difference matrix, each a fresh process,
    in turns ``repeats`` times: ``{"step": {"wall_s", "cpu_s"}, "limma": {...}}`` (medians);
    ``"limma"`` is None when R/limma is not installed (the step is still timed)."""
    commands = {"step": [PYTHON, str(differential_step_script(workdir, config))]}
    if limma_available():
        commands["limma"] = [
            shutil.which("Rscript"),
            str(HERE / "limma_timing.R"),
            str(workdir / "results" / "differential" / "patient_changes.tsv"),
            str(workdir / "cohort_samples.tsv"),
            str(min_pairs),
            str(workdir / "limma"),
        ]
    times = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            times[name].append(_timed(command, workdir))
    medians = {
        name: {"wall_s": statistics.median(w for w, _ in runs), "cpu_s": statistics.median(c for _, c in runs)}
        for name, runs in times.items()
    }
    return {"step": medians["step"], "limma": medians.get("limma")}


def limpa_available():
    """True when ``Rscript`` is on PATH and loads limpa and data.table (e.g. ``R_LIBS=/opt/r-limpa``)."""
    return _r_loads("limpa", "data.table")


def run_settings(workdir, config):
    """The quantify step's params as rule ``quantify`` gives them (``workflow/rules/quantify.smk``): the
    shipped config, the cohort's overrides over it, the schema's defaults filled in
    (``tearflow.config.with_defaults``)."""
    import yaml

    from tearflow.config import load_schema, with_defaults

    merged = yaml.safe_load((workdir / "config" / "config.yaml").read_text()) or {}
    merged.update(yaml.safe_load(Path(config).read_text()) or {})
    filled = with_defaults(merged, load_schema(workdir / "workflow" / "schemas" / "config.schema.yaml"))
    return {
        "quantification": filled["quantification"],
        "scale": {"input_is_log2": filled["normalization"]["input_is_log2"]},
    }


def limpa_input(workdir, folder, max_proteins, seed):
    """The precursor table the quantify step read (``results/abundance/precursors.parquet``), or its
    precursors of ``max_proteins`` randomly chosen proteins (seeded), as parquet for tearflow and TSV
    for R (same values); returns (parquet path, TSV path, proteins used, proteins in all)."""
    table = pd.read_parquet(workdir / "results" / "abundance" / "precursors.parquet")
    proteins = pd.unique(table["protein"])
    chosen = proteins
    if max_proteins is not None and max_proteins < len(proteins):
        rng = np.random.default_rng(seed)
        chosen = set(rng.choice(proteins, max_proteins, replace=False))
        table = table[table["protein"].isin(chosen)].reset_index(drop=True)
    folder.mkdir(parents=True, exist_ok=True)
    parquet = folder / "precursors.parquet"
    table.to_parquet(parquet, index=False)
    tsv = folder / "precursors.tsv"
    table.to_csv(tsv, sep="\t", index=False, na_rep="")
    return parquet, tsv, len(chosen), len(proteins)


def run_limpa_head_to_head(workdir, config, repeats=3, max_proteins=None, seed=make_cohort.SEED):
    """tearflow's quantify step (``quantify_step.py``: ``scripts/quantify.py``'s main with the run's
    settings) and R limpa ``dpc`` + ``dpcQuant`` (``limpa_timing.R``) on the same precursors, each a
    fresh process in a one-thread job's environment, in turns ``repeats`` times: ``{"step": {"wall_s",
    "cpu_s"}, "limpa": {...} or None, "proteins": n, "of": N, "max_abs_diff": ...}`` (medians; all
    proteins, or ``max_proteins`` chosen at random)."""
    import json

    folder = workdir / "limpa"
    parquet, tsv, used, of = limpa_input(workdir, folder, max_proteins, seed)
    settings = run_settings(workdir, config)
    (folder / "settings.json").write_text(json.dumps(settings))
    q = settings["quantification"]
    commands = {
        "step": [
            PYTHON,
            str(HERE / "quantify_step.py"),
            str(workdir / "scripts"),
            str(parquet),
            str(folder / "tearflow"),
            str(folder / "settings.json"),
        ]
    }
    if limpa_available():
        commands["limpa"] = [
            shutil.which("Rscript"),
            str(HERE / "limpa_timing.R"),
            str(tsv),
            str(folder / "R"),
            q["dpc_model"],
            str(q["dpc_slope_start"]),
            str(q["dpc_iterations"]),
            str(q["dpc_subset"]),
            str(q["dpc_robust"]).upper(),
        ]
    times = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            times[name].append(_timed(command, workdir))
    medians = {
        name: {"wall_s": statistics.median(w for w, _ in runs), "cpu_s": statistics.median(c for _, c in runs)}
        for name, runs in times.items()
    }
    result = {"step": medians["step"], "limpa": medians.get("limpa"), "proteins": used, "of": of}
    if "limpa" in medians:
        mine = pd.read_csv(folder / "tearflow" / "values.tsv", sep="\t").set_index("protein")
        theirs = pd.read_csv(folder / "R" / "E.tsv", sep="\t").set_index("protein")
        samples = [c for c in theirs.columns if c in mine.columns]
        difference = (mine.loc[theirs.index, samples] - theirs[samples]).abs().to_numpy()
        result["max_abs_diff"] = float(difference.max())
        result["r_dpcquant_s"] = float((folder / "R" / "seconds.txt").read_text())
    return result


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


def run_scale(
    scale,
    runs,
    cores,
    seed,
    patients=None,
    proteins=None,
    limma=True,
    settings=None,
    repeats=5,
    precursors=None,
    limpa_repeats=3,
    limpa_proteins=None,
):
    """Generate, run and measure one scale; return its rows (DataFrame). ``settings``: ``--set``
    pairs applied on top of the shipped config. A precursor-level scale also times the quantify
    step against R limpa (``limpa_repeats`` turns, on ``limpa_proteins`` random proteins or, by
    default, every protein up to ``LIMPA_ALL_PROTEINS_UP_TO`` samples and ``LIMPA_SUBSET`` above)."""
    default_patients, default_proteins, default_precursors = SCALES[scale]
    patients = patients or default_patients
    proteins = proteins or default_proteins
    precursors = (precursors or default_precursors) if default_precursors is not None else None
    base = Path(runs) / scale
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    if precursors is None:
        print(f"[{scale}] generating {patients} patients x 2 visits x {proteins} proteins", flush=True)
        config = make_cohort.write_cohort(base / "cohort", patients, proteins, seed)
    else:
        print(f"[{scale}] generating {patients} patients x 2 visits x {precursors} precursors of {proteins} proteins")
        config = precursor_cohort.write_cohort(base / "cohort", patients, proteins, precursors, seed)
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
    head_to_head = run_head_to_head(workdir, config, repeats) if limma else None
    if head_to_head is not None:
        for name, label in (("step", "differential step"), ("limma", "limma")):
            times = head_to_head[name]
            if times is None:
                print(f"[{scale}] limma: not timed (Rscript with limma not installed)")
                continue
            print(f"[{scale}] {label}: {times['wall_s']:.2f} s wall, {times['cpu_s']:.2f} s CPU (median of {repeats})")
    limpa = None
    if limma and any(row["rule"] == "quantify" for row in rows):
        if limpa_proteins is None and 2 * patients > LIMPA_ALL_PROTEINS_UP_TO:
            limpa_proteins = LIMPA_SUBSET
        limpa = run_limpa_head_to_head(workdir, config, limpa_repeats, limpa_proteins, seed)
        subset = "all" if limpa["proteins"] == limpa["of"] else f"{limpa['proteins']} random"
        print(f"[{scale}] quantify head to head on {subset} of {limpa['of']} proteins (median of {limpa_repeats}):")
        for name, label in (("step", "quantify step"), ("limpa", "limpa dpc + dpcQuant")):
            times = limpa[name]
            if times is None:
                print(f"[{scale}] limpa: not timed (Rscript with limpa and data.table not installed)")
                continue
            print(f"[{scale}] {label}: {times['wall_s']:.2f} s wall, {times['cpu_s']:.2f} s CPU")
        if limpa["limpa"] is not None:
            print(
                f"[{scale}] limpa/tearflow wall {limpa['limpa']['wall_s'] / limpa['step']['wall_s']:.1f}x; "
                f"R dpc + dpcQuant alone {limpa['r_dpcquant_s']:.1f} s; "
                f"max |tearflow - limpa| protein log2 {limpa['max_abs_diff']:.1e}"
            )
    return scale_table(
        scale, patients, proteins, rows, total, head_to_head, settings_label(settings), precursors, limpa
    )


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", nargs="+", default=list(DEFAULT_SCALES), choices=list(SCALES))
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seed", type=int, default=make_cohort.SEED)
    parser.add_argument("--patients", type=int, help="override every scale's number of patients")
    parser.add_argument("--proteins", type=int, help="override every scale's number of proteins")
    parser.add_argument("--precursors", type=int, help="override every precursor scale's number of precursors")
    parser.add_argument("--runs", default=str(HERE / "runs"), help="scratch folder (default: benchmarks/runs)")
    parser.add_argument("--out", default=str(HERE / "results.tsv"), help="table (default: benchmarks/results.tsv)")
    parser.add_argument("--no-limma", action="store_true", help="skip the limma and limpa comparisons")
    parser.add_argument("--limpa-repeats", type=int, default=3, help="runs of the quantify step and of limpa, each")
    parser.add_argument(
        "--limpa-proteins",
        type=int,
        help=f"time both on this many random proteins (default: all up to {LIMPA_ALL_PROTEINS_UP_TO} samples, "
        f"else {LIMPA_SUBSET})",
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="runs of the differential step and of limma, each (median)"
    )
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
            scale,
            args.runs,
            args.cores,
            args.seed,
            args.patients,
            args.proteins,
            not args.no_limma,
            args.settings,
            args.repeats,
            args.precursors,
            args.limpa_repeats,
            args.limpa_proteins,
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
