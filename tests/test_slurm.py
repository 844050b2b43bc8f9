"""The example workflow gives the same tables run locally with 1 or 2 cores and submitted through a
real SLURM scheduler (tests/slurm/start_slurm.sh brings up a one-node cluster; without one the
SLURM test is skipped on a developer's machine and fails in CI); every step sent to the cluster
sizes its memory and wall time from its inputs."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from workflow_runner import (
    REPO,
    SLURM_STATE,
    copy_workflow,
    differing_tables,
    parse_job_stats,
    result_tables,
    run_snakemake,
    shared_local_run,
    snakemake_env,
)

# On the test cluster there is no accounting database: job states come from squeue, and the first
# status check comes early so the test does not idle.
TEST_CLUSTER_ARGS = (
    "--workflow-profile",
    "workflow/profiles/slurm",
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--slurm-keep-successful-logs",
    "--jobs",
    "2",
    "--retries",
    "0",
    "--latency-wait",
    "10",
)


def slurm_answers():
    try:
        completed = subprocess.run(
            ["sinfo", "-h", "-o", "%T"],
            env=snakemake_env(),
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return completed.returncode == 0 and bool(completed.stdout.strip())


def require_slurm():
    """Skip without a cluster on a developer's machine; fail in CI (`CI` set), which starts one
    (tests/slurm/start_slurm.sh), so that the cluster test cannot pass there by not running."""
    if slurm_answers():
        return
    if os.environ.get("CI"):
        pytest.fail("no SLURM cluster answers `sinfo` in CI; .ci/run starts one with tests/slurm/start_slurm.sh")
    pytest.skip("no SLURM cluster answers `sinfo`")


def local_rules(workdir):
    """Names of rules marked `localrule: True` or listed in a `localrules:` directive."""
    names = set()
    for path in (Path(workdir) / "workflow").rglob("*.smk"):
        text = path.read_text()
        for match in re.finditer(r"^rule\s+(\w+)\s*:(.*?)(?=^\S|\Z)", text, flags=re.M | re.S):
            if re.search(r"^\s+localrule:\s*True", match.group(2), flags=re.M):
                names.add(match.group(1))
        for match in re.finditer(r"^localrules:\s*(.+)$", text, flags=re.M):
            names.update(name.strip() for name in match.group(1).split(",") if name.strip())
    snakefile = Path(workdir) / "workflow" / "Snakefile"
    for match in re.finditer(r"^localrules:\s*(.+)$", snakefile.read_text(), flags=re.M):
        names.update(name.strip() for name in match.group(1).split(",") if name.strip())
    return names


def finished_slurm_jobs():
    """{job id: state} of finished jobs from the test cluster's job-completion log, if any."""
    log = SLURM_STATE / "jobcomp.log"
    if not log.exists():
        return {}
    states = {}
    for line in log.read_text().splitlines():
        job = re.search(r"\bJobId=(\d+)", line)
        state = re.search(r"\bJobState=(\S+)", line)
        if job and state:
            states[job.group(1)] = state.group(1)
    return states


def load_resource_helpers():
    """The functions of workflow/rules/resources.smk (plain Python, no Snakemake directives)."""
    namespace = {}
    path = REPO / "workflow" / "rules" / "resources.smk"
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace


class FakeInput(list):
    """Stands in for a job's `input`: a list of paths with Snakemake's `size_mb`."""

    @property
    def size_mb(self):
        return sum(Path(path).stat().st_size for path in self) / 1024**2


def test_resources_grow_with_input_size_and_attempt(tmp_path):
    helpers = load_resource_helpers()
    small, large = tmp_path / "small.tsv", tmp_path / "large.tsv"
    small.write_bytes(b"x" * 1024**2)  # 1 MB
    large.write_bytes(b"x" * 10 * 1024**2)  # 10 MB
    mem = helpers["mem_mb_for"](base_mb=1000, per_input_mb=20)
    assert mem(None, FakeInput([small]), 1) == 1020
    assert mem(None, FakeInput([small, large]), 1) == 1220
    assert mem(None, FakeInput([small]), 2) == 2040
    assert helpers["mem_mb_for"](1000, 20, max_mb=1500)(None, FakeInput([large]), 3) == 1500
    runtime = helpers["runtime_for"](base_min=10, per_input_mb=0.5)
    assert runtime(None, FakeInput([large]), 1) == 15
    assert runtime(None, FakeInput([large]), 2) == 30


def rule_blocks(workdir=REPO):
    """{rule name: its text} of every rule in workflow/rules/*.smk."""
    blocks = {}
    for path in sorted((Path(workdir) / "workflow" / "rules").glob("*.smk")):
        parts = re.split(r"^rule (\w+):\n", path.read_text(), flags=re.M)
        blocks.update(zip(parts[1::2], parts[2::2]))
    return blocks


def test_every_step_sent_to_the_cluster_sizes_its_memory_and_time_from_its_inputs():
    blocks = rule_blocks()
    local = local_rules(REPO)
    submitted = {name: text for name, text in blocks.items() if name not in local}
    assert len(submitted) >= 10 and len(local) >= 1
    unsized = [
        name
        for name, text in submitted.items()
        if "mem_mb=mem_mb_for(" not in text or "runtime=runtime_for(" not in text
    ]
    assert not unsized, f"rules with fixed or no mem_mb/runtime: {unsized}"


@pytest.fixture(scope="module")
def local_cores2(tmp_path_factory):
    return shared_local_run(tmp_path_factory, cores=2)


def test_cores_1_and_cores_2_give_identical_tables(tmp_path_factory, local_cores2):
    cores1 = result_tables(shared_local_run(tmp_path_factory, cores=1))
    cores2 = result_tables(local_cores2)
    assert "results/abundance/quantified.tsv" in cores2
    assert differing_tables(cores1, cores2) == []


def test_slurm_run_goes_through_the_scheduler_and_matches_the_local_run(tmp_path, local_cores2):
    require_slurm()
    workdir = copy_workflow(tmp_path)
    completed = run_snakemake(workdir, *TEST_CLUSTER_ARGS)
    jobs = parse_job_stats(completed.stdout + completed.stderr)
    submitted_rules = set(jobs) - {"all"} - local_rules(workdir)
    assert submitted_rules, f"no job of the run was meant for SLURM: {jobs}"

    # Every non-local job left its SLURM log .snakemake/slurm_logs/rule_<rule>/<wildcards>/<id>.log
    slurm_logs = list((workdir / ".snakemake" / "slurm_logs").rglob("*.log"))
    logged = {}
    for path in slurm_logs:
        rule = next(part[len("rule_") :] for part in path.parts if part.startswith("rule_"))
        logged.setdefault(rule, []).append(path.stem)
    assert set(logged) == submitted_rules
    assert {rule: len(ids) for rule, ids in logged.items()} == {rule: jobs[rule] for rule in submitted_rules}

    # ... and SLURM itself recorded each of those job ids as completed.
    finished = finished_slurm_jobs()
    if (SLURM_STATE / "etc" / "slurm.conf").exists():
        assert finished, f"the test cluster keeps {SLURM_STATE / 'jobcomp.log'}, but it lists no finished job"
    if finished:
        job_ids = [job_id for ids in logged.values() for job_id in ids]
        assert {job_id: finished.get(job_id) for job_id in job_ids} == dict.fromkeys(job_ids, "COMPLETED")

    slurm_tables = result_tables(workdir)
    assert "results/abundance/quantified.tsv" in slurm_tables
    assert differing_tables(slurm_tables, result_tables(local_cores2)) == []
