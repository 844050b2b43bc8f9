"""Run the tearflow workflow from tests: copy it into a temporary folder, run Snakemake there in a
subprocess with the project's Python, and read back what it produced.

    workdir = copy_workflow(tmp_path)
    run_snakemake(workdir, "--cores", "2")
    tables = result_tables(workdir)          # {"results/differential/all.tsv": b"...", ...}
    jobs = planned_jobs(workdir)             # {"differential": 3, ...} from a dry run

Snakemake resolves `results/`, `logs/` and `config/config.yaml` against its working directory, so
each copy is a self-contained project: runs in one copy never touch the repository or another copy.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
# The venv's Python (the one with Snakemake and its SLURM plugin); the running one as fallback.
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable

# What a run needs from the repository; everything else (results, logs, .snakemake, .venv,
# tests, benchmarks) stays behind.
WORKFLOW_PARTS = ("workflow", "scripts", "config", "resources", "envs")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".snakemake", "results", "logs")

# State folder of tests/slurm/start_slurm.sh (its slurm.conf is used if /etc/slurm has none).
SLURM_STATE = Path(os.environ.get("TEARFLOW_SLURM_DIR", "/tmp/tearflow-slurm"))

# Output files whose bytes legitimately differ between identical runs (timings).
VOLATILE_PREFIXES = ("results/benchmarks/",)


def copy_workflow(destination, name="tearflow"):
    """Copy the repository's workflow (workflow/, scripts/, config/, resources/, envs/) into
    `destination/name` and return that folder, ready to be Snakemake's working directory.
    File times are kept, so a copy is not "newer" than anything in it."""
    workdir = Path(destination) / name
    workdir.mkdir(parents=True, exist_ok=False)
    for part in WORKFLOW_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, workdir / part, ignore=IGNORED, symlinks=True)
    return workdir


def snakemake_env():
    """Environment for a Snakemake subprocess: the current one, with the venv's bin/ first on
    PATH (jobs on SLURM inherit it through `sbatch --export=ALL`) and SLURM_CONF pointing at the
    test cluster's configuration when the system has none."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(PYTHON).parent}{os.pathsep}{env.get('PATH', '')}"
    test_conf = SLURM_STATE / "etc" / "slurm.conf"
    if "SLURM_CONF" not in env and not Path("/etc/slurm/slurm.conf").exists() and test_conf.exists():
        env["SLURM_CONF"] = str(test_conf)
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def network_namespace_available():
    """True when `unshare --net` can start a process with no network (root, or user namespaces)."""
    try:
        return subprocess.run(["unshare", "--net", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def run_snakemake(workdir, *args, check=True, timeout=1800, offline=False):
    """Run `python -m snakemake --nocolor *args` in `workdir`; return the CompletedProcess (text
    stdout/stderr). With check=True a non-zero exit fails the calling test with the tail of
    Snakemake's output. With offline=True the run gets a network namespace of its own with no
    interface up (`unshare --net`), so any step that reached for the network would fail."""
    command = [PYTHON, "-m", "snakemake", "--nocolor", *map(str, args)]
    if offline:
        command = ["unshare", "--net", *command]
    completed = subprocess.run(
        command,
        cwd=workdir,
        env=snakemake_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and completed.returncode != 0:
        raise AssertionError(
            f"snakemake failed (exit {completed.returncode}) in {workdir}: {' '.join(command)}\n"
            f"--- stdout (tail) ---\n{_tail(completed.stdout)}\n"
            f"--- stderr (tail) ---\n{_tail(completed.stderr)}"
        )
    return completed


def _tail(text, lines=60):
    return "\n".join(text.splitlines()[-lines:])


def result_tables(workdir):
    """{path relative to workdir: bytes} of every TSV under results/, except timing files."""
    workdir = Path(workdir)
    tables = {}
    for path in sorted((workdir / "results").rglob("*.tsv")):
        relative = path.relative_to(workdir).as_posix()
        if not relative.startswith(VOLATILE_PREFIXES):
            tables[relative] = path.read_bytes()
    return tables


def differing_tables(left, right):
    """Sorted paths that are missing from one of two `result_tables` dicts or differ in bytes."""
    return sorted(path for path in set(left) | set(right) if left.get(path) != right.get(path))


def write_configfile(workdir, overrides, name="test_config.yaml"):
    """Write `overrides` (a dict merged by Snakemake over config/config.yaml) to a YAML file in
    `workdir` and return its path, for `--configfile`."""
    path = Path(workdir) / name
    path.write_text(yaml.safe_dump(overrides, sort_keys=False))
    return path


def parse_job_stats(output):
    """{rule: job count} from the "Job stats" table Snakemake prints (dry run or real run);
    {} when there is nothing to be done."""
    counts = {}
    in_table = False
    for line in output.splitlines():
        if line.startswith("Job stats:"):
            in_table = True
            counts = {}
            continue
        if not in_table:
            continue
        match = re.fullmatch(r"(\S+)\s+(\d+)", line.strip())
        if match is None:
            continue  # header and rule lines
        if match.group(1) == "total":
            in_table = False
            continue
        counts[match.group(1)] = int(match.group(2))
    return counts


def planned_jobs(workdir, *args):
    """{rule: number of jobs} a dry run of Snakemake in `workdir` would run (with `args`)."""
    completed = run_snakemake(workdir, "--dry-run", *args)
    output = completed.stdout + completed.stderr
    if "Nothing to be done" in output:
        return {}
    counts = parse_job_stats(output)
    if not counts:
        raise AssertionError(f"no job stats in dry-run output:\n{_tail(output)}")
    return counts


def summary_rows(workdir, *args):
    """One dict per output file of the workflow in `workdir`, from `snakemake --detailed-summary`:
    `output_file`, `rule`, `inputs` (list of paths), `status`, `plan` (e.g. "no update")."""
    completed = run_snakemake(workdir, "--detailed-summary", *args)
    lines = completed.stdout.splitlines()
    header = next((i for i, line in enumerate(lines) if line.startswith("output_file\t")), None)
    if header is None:
        raise AssertionError(f"no summary table in output:\n{_tail(completed.stdout)}")
    columns = lines[header].split("\t")
    rows = []
    for line in lines[header + 1 :]:
        fields = line.split("\t")
        if len(fields) == len(columns):
            row = dict(zip(columns, fields))
            inputs = row.pop("input-file(s)")
            row["inputs"] = [] if inputs in ("", "-") else inputs.split(",")
            rows.append(row)
    return rows


def rule_of_output(workdir, *args):
    """{output path: rule} for every output of the workflow in `workdir`."""
    return {row["output_file"]: row["rule"] for row in summary_rows(workdir, *args)}


_LOCAL_RUNS = {}
OFFLINE_RUNS = set()


def shared_local_run(tmp_path_factory, cores=2):
    """The working directory of one complete local run with `--cores cores`, made once per test
    session and shared by test modules that only read it (comparisons, dry runs). Do not let a
    test change files in it; copy it first. The run has no network when the machine allows it
    (see `OFFLINE_RUNS`): tearflow must never need one."""
    if cores not in _LOCAL_RUNS:
        workdir = copy_workflow(tmp_path_factory.mktemp(f"local_cores{cores}"))
        offline = network_namespace_available()
        run_snakemake(workdir, "--cores", cores, offline=offline)
        if offline:
            OFFLINE_RUNS.add(workdir)
        _LOCAL_RUNS[cores] = workdir
    return _LOCAL_RUNS[cores]


def rule_graph(workdir, *args):
    """{rule: set of rules that use its outputs} from `snakemake --rulegraph`."""
    completed = run_snakemake(workdir, "--rulegraph", *args)
    labels = dict(re.findall(r'^\s*(\d+)\[label = "([^"]+)"', completed.stdout, flags=re.M))
    graph = {label: set() for label in labels.values()}
    for source, target in re.findall(r"^\s*(\d+) -> (\d+)", completed.stdout, flags=re.M):
        graph[labels[source]].add(labels[target])
    return graph


def downstream_rules(graph, rules):
    """The given rules and every rule that (transitively) uses their outputs."""
    found = set()
    pending = list(rules)
    while pending:
        rule = pending.pop()
        if rule not in found:
            found.add(rule)
            pending.extend(graph.get(rule, ()))
    return found
