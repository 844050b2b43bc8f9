"""tearflow used as a Snakemake module from a git host, at a tag: `github("<owner>/tearflow",
path="workflow/Snakefile", tag=...)`, proven offline with Snakemake's `gitfile(...)` on a local
repository.

The repository holds a commit of the workflow tagged `TAG`; its work tree is then emptied, so every
file Snakemake uses (Snakefile, rules, schemas, captions, step scripts, gene sets, the ID map) comes
from the tag's git objects. The tearflow package is installed from the same tag (`pip install
git+file://...@TAG`; from GitHub `pip install git+https://github.com/<owner>/tearflow@TAG`),
into a folder put first on PYTHONPATH for the run. The analysis folder holds
only a three-line Snakefile, a config that names the three required keys, and the user's data.
"""

import shutil
import subprocess

import pytest
from workflow_runner import (
    PYTHON,
    REPO,
    WORKFLOW_PARTS,
    result_tables,
    shared_local_run,
    snakemake_env,
)

TAG = "v0.0.0-test"
# Snakemake 9.27's `code` rerun trigger fails for gitfile() modules only (LocalGitFile.join gets a
# LocalSourceFile: "TypeError: sequence item 1: expected str instance, LocalSourceFile found");
# github() modules join with an f-string and are not affected. The offline stand-in runs without it.
RERUN_TRIGGERS = ("--rerun-triggers", "mtime", "params", "input", "software-env")
# (A second run of a gitfile() module is not "nothing to be done": Snakemake gives a gitfile source no
# modification time — SourceFile.mtime is None; a github() source has its last commit's date — so
# the copies of shipped files it caches for each run look newer than the outputs made from them.)
# What the tag holds besides WORKFLOW_PARTS: what pip needs to build the package.
PACKAGE_PARTS = ("pyproject.toml", "README.md", "LICENSE")


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)


def tagged_repository(folder):
    """A git repository with the workflow committed and tagged TAG, and an empty work tree."""
    repo = folder / "tearflow"
    repo.mkdir()
    for part in WORKFLOW_PARTS:
        shutil.copytree(REPO / part, repo / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    for name in PACKAGE_PARTS:
        shutil.copy2(REPO / name, repo / name)
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("-c", "user.name=tearflow", "-c", "user.email=test@tearflow", "commit", "-q", "-m", "release", cwd=repo)
    git("tag", TAG, cwd=repo)
    for path in repo.iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    return repo


SNAKEFILE = """\
configfile: "config.yaml"


module tearflow:
    snakefile:
        gitfile("{repo}", path="workflow/Snakefile", tag="{tag}")
    config:
        config


use rule * from tearflow
"""

CONFIG = """\
samples: data/samples.tsv
proteomics:
  - path: data/report.parquet
timepoints:
  baseline: baseline
  followup: week2
"""


@pytest.fixture(scope="module")
def git_module_run(tmp_path_factory):
    """(repository, analysis folder, environment) after a complete run of the module at TAG."""
    folder = tmp_path_factory.mktemp("git_module")
    repo = tagged_repository(folder)
    site = folder / "site-packages"
    subprocess.run(
        [PYTHON, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(site),
         f"git+file://{repo}@{TAG}"],
        check=True, capture_output=True, text=True, env=snakemake_env(),
    )  # fmt: skip
    analysis = folder / "analysis"
    (analysis / "data").mkdir(parents=True)
    shutil.copy2(REPO / "config" / "samples.tsv", analysis / "data" / "samples.tsv")
    shutil.copy2(REPO / "resources" / "example" / "report.parquet", analysis / "data" / "report.parquet")
    (analysis / "config.yaml").write_text(CONFIG)
    (analysis / "Snakefile").write_text(SNAKEFILE.format(repo=repo, tag=TAG))
    env = snakemake_env()
    env["PYTHONPATH"] = str(site)  # the package installed from the tag comes first
    completed = subprocess.run(
        [PYTHON, "-m", "snakemake", "--nocolor", "--cores", "2", *RERUN_TRIGGERS],
        cwd=analysis, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-6000:]
    return repo, analysis, env, site


def test_the_package_the_steps_import_is_the_one_installed_from_the_tag(git_module_run):
    _, analysis, env, site = git_module_run
    located = subprocess.run(
        [PYTHON, "-c", "import tearflow; print(tearflow.__file__)"], cwd=analysis, env=env,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert located.stdout.strip().startswith(str(site))


def test_the_files_came_from_the_tag_not_a_checkout(git_module_run):
    repo, _, _, _ = git_module_run
    assert sorted(path.name for path in repo.iterdir()) == [".git"]


def test_a_config_of_the_three_required_keys_gives_the_full_proteome_results(git_module_run, tmp_path_factory):
    """Every proteome output, byte for byte the same as the clone's run of the example (ELISA and
    clinical are off by default, so only they are absent)."""
    _, analysis, _, _ = git_module_run
    from_module = result_tables(analysis)
    from_clone = result_tables(shared_local_run(tmp_path_factory, cores=2))
    steps = ("results/abundance/", "results/qc/", "results/differential/", "results/enrichment/")
    proteome = [path for path in from_clone if path.startswith(steps)]
    assert len(proteome) > 20
    # the import tables record each table by its path as configured
    renamed = {
        path: content.replace(b"data/report.parquet", b"resources/example/report.parquet")
        for path, content in from_module.items()
    }
    differing = [path for path in proteome if renamed.get(path) != from_clone[path]]
    assert not differing, f"differ from the clone's run: {differing}"
    assert not [path for path in from_module if path.startswith(("results/elisa/", "results/clinical/"))]
    figures = sorted(path.name for path in (analysis / "results" / "figures").iterdir())
    assert "volcano_interaction.png" in figures and "qc_pca.png" in figures


def test_the_module_run_makes_its_report(git_module_run):
    _, analysis, env, _ = git_module_run
    report = subprocess.run(
        [PYTHON, "-m", "snakemake", "--nocolor", "--report", "report.html"], cwd=analysis, env=env,
        capture_output=True, text=True,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr[-3000:]
    assert "results/differential/all.tsv" in (analysis / "report.html").read_text(encoding="utf-8")

