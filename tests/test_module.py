"""tearflow used as a Snakemake module, the way `snakedeploy deploy-workflow` deploys it.

An empty analysis folder gets `config/` (copied from the workflow's by snakedeploy) and a
`workflow/Snakefile` that declares `module tearflow: snakefile: <the workflow's Snakefile>;
config: config` and `use rule * from tearflow`. Running Snakemake there must run the shipped
example to the end, with the same tables (byte for byte) as a run from the clone, without writing
anything into the workflow's own folder, and make the report.

snakedeploy 0.17's local-path provider writes the module path relative to the new folder
(`"workflow/Snakefile"`, i.e. the deployed Snakefile itself), which does not resolve; the test keeps
everything snakedeploy wrote and only points that line at the workflow's Snakefile.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from workflow_runner import (
    PYTHON,
    copy_workflow,
    differing_tables,
    planned_jobs,
    result_tables,
    run_snakemake,
    shared_local_run,
    snakemake_env,
)

MODULE_NAME = "tearflow"
# Written by snakedeploy's template: `snakefile:` on one line, the declaration on the next.
SNAKEFILE_DECLARATION = re.compile(r"(snakefile:\s*\n\s*)(\S.*)\n")


def snakedeploy_command():
    """`snakedeploy` next to the venv's Python (it is pinned in requirements.txt)."""
    found = Path(PYTHON).parent / "snakedeploy"
    return str(found) if found.exists() else shutil.which("snakedeploy")


def deploy_as_module(source, analysis):
    """Deploy the workflow folder `source` into the new folder `analysis` with `snakedeploy
    deploy-workflow` and point the module declaration at `source`'s Snakefile. Returns the text of
    the deployed `workflow/Snakefile`."""
    command = snakedeploy_command()
    if command is None:
        pytest.fail("snakedeploy is not installed (it is pinned in requirements.txt)")
    subprocess.run(
        [command, "deploy-workflow", str(source), str(analysis), "--name", MODULE_NAME, "--branch", "main"],
        check=True,
        capture_output=True,
        text=True,
        env=snakemake_env(),
    )
    snakefile = analysis / "workflow" / "Snakefile"
    text = snakefile.read_text()
    declared = SNAKEFILE_DECLARATION.search(text)
    assert declared, f"no `snakefile:` declaration in the Snakefile snakedeploy wrote:\n{text}"
    module_snakefile = (source / "workflow" / "Snakefile").resolve()
    text = text[: declared.start(2)] + f'"{module_snakefile}"' + text[declared.end(2) :]
    snakefile.write_text(text)
    return text


def first_difference(path, left, right):
    """One line saying where two versions of a table first differ (or which run lacks it)."""
    if left is None or right is None:
        return f"{path}: only in the {'module' if left is None else 'clone'} run"
    left_lines, right_lines = left.decode().splitlines(), right.decode().splitlines()
    for number, (a, b) in enumerate(zip(left_lines, right_lines), 1):
        if a != b:
            return f"{path} line {number}:\n  clone:  {a[:300]}\n  module: {b[:300]}"
    return f"{path}: {len(left_lines)} lines from the clone, {len(right_lines)} from the module"


@pytest.fixture(scope="module")
def clone_run(tmp_path_factory):
    return shared_local_run(tmp_path_factory, cores=2)


@pytest.fixture(scope="module")
def module_run(tmp_path_factory):
    """(workflow source folder, analysis folder) after a complete run of the deployed module."""
    source = copy_workflow(tmp_path_factory.mktemp("module_source"))
    analysis = tmp_path_factory.mktemp("module_analysis") / "analysis"
    deploy_as_module(source, analysis)
    run_snakemake(analysis, "--cores", "2")
    return source, analysis


def test_deployed_folder_holds_only_config_and_the_module_snakefile(module_run):
    _, analysis = module_run
    deployed = sorted(
        path.relative_to(analysis).as_posix()
        for path in analysis.rglob("*")
        if path.is_file() and path.relative_to(analysis).parts[0] not in {"results", "logs", ".snakemake"}
    )
    assert "workflow/Snakefile" in deployed
    assert "config/config.yaml" in deployed and "config/samples.tsv" in deployed
    assert not [path for path in deployed if path.startswith(("scripts/", "resources/", "workflow/rules/"))]
    snakefile = (analysis / "workflow" / "Snakefile").read_text()
    assert f"module {MODULE_NAME}:" in snakefile
    assert f"use rule * from {MODULE_NAME}" in snakefile
    assert re.search(r"config:\s*\n\s*config\b", snakefile)


def test_module_run_writes_the_same_tables_as_a_run_from_the_clone(module_run, clone_run):
    _, analysis = module_run
    from_clone = result_tables(clone_run)
    from_module = result_tables(analysis)
    assert from_clone, "the run from the clone wrote no tables"
    main_outputs = [
        "results/abundance/quantified.tsv",
        "results/abundance/normalized.tsv",
        "results/qc/sample_qc.tsv",
        "results/differential/all.tsv",
        "results/differential/interaction.tsv",
        "results/differential/patient_changes.tsv",
        "results/enrichment/all.tsv",
        "results/enrichment/sample_scores.tsv",
        "results/elisa/paired_tests.tsv",
        "results/joined/analytes.tsv",
    ]
    missing = [path for path in main_outputs if path not in from_module]
    assert not missing, f"the module run did not write {missing}"
    differing = differing_tables(from_clone, from_module)
    assert differing == [], "tables differ between the clone run and the module run:\n" + "\n".join(
        first_difference(path, from_clone.get(path), from_module.get(path)) for path in differing
    )


def test_module_run_draws_the_same_figures(module_run, clone_run):
    _, analysis = module_run

    def figures(workdir):
        return sorted(path.name for path in (workdir / "results" / "figures").glob("*.png"))

    assert figures(clone_run), "the run from the clone drew no figures"
    assert figures(analysis) == figures(clone_run)
    for name in figures(analysis):
        assert (analysis / "results" / "figures" / name).stat().st_size > 0, name


def test_module_run_writes_nothing_into_the_workflow_folder(module_run):
    source, _ = module_run
    written = [
        path.relative_to(source).as_posix()
        for path in source.rglob("*")
        if path.relative_to(source).parts[0] in {"results", "logs", ".snakemake", "benchmarks"}
    ]
    assert written == []


def test_module_run_is_complete(module_run):
    _, analysis = module_run
    assert planned_jobs(analysis) == {}


def test_module_run_makes_the_report(module_run):
    _, analysis = module_run
    run_snakemake(analysis, "--report", "results/report.html")
    html = (analysis / "results" / "report.html").read_text(encoding="utf-8")
    assert "tearflow analysed" in html, "the workflow description (workflow/report/workflow.rst) is missing"
    assert "results/differential/all.tsv" in html
    assert "results/figures/volcano_all.png" in html
