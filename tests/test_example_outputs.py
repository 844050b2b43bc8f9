"""Every table of the shipped example is byte-for-byte the golden one (tests/fixtures/example_outputs).

A refactoring must leave them untouched; a deliberate change of results regenerates the archive
(`tests/fixtures/example_outputs/regenerate.py`) in the same commit."""

import tarfile

from conftest import REPO
from workflow_runner import result_tables, shared_local_run

ARCHIVE = REPO / "tests" / "fixtures" / "example_outputs" / "tables.tar.gz"


def golden_tables():
    with tarfile.open(ARCHIVE, "r:gz") as archive:
        return {
            member.name: archive.extractfile(member).read() for member in archive.getmembers() if member.isfile()
        }


def test_example_tables_are_the_golden_ones(tmp_path_factory):
    produced = result_tables(shared_local_run(tmp_path_factory, cores=2))
    golden = golden_tables()
    assert sorted(produced) == sorted(golden), "the example writes other tables than the golden run"
    differing = [name for name in golden if produced[name] != golden[name]]
    assert not differing, f"tables differ from the golden run: {differing}"


def test_what_the_example_readme_promises_is_what_the_run_finds(tmp_path_factory):
    """resources/example/README.md tells a new user what the default run finds (tested proteins,
    true changes found, false positives per contrast, against precursor_truth.tsv); hold it to that."""
    import re

    import pandas as pd

    run = shared_local_run(tmp_path_factory, cores=2)
    readme = (REPO / "resources" / "example" / "README.md").read_text(encoding="utf-8")
    promised = {
        contrast: tuple(int(n) for n in numbers)
        for contrast, *numbers in re.findall(r"^\| (\w+) \| (\d+) / (\d+) / (\d+)\b", readme, flags=re.M)
    }
    truth = pd.read_csv(REPO / "resources" / "example" / "precursor_truth.tsv", sep="\t", keep_default_na=False)
    change = {subgroup: truth[f"log2fc_{subgroup}"] != 0 for subgroup in ("NSDE", "SSDE")}
    changed = {
        "NSDE": change["NSDE"],
        "SSDE": change["SSDE"],
        "all": change["NSDE"] | change["SSDE"],
        "interaction": truth["log2fc_NSDE"] != truth["log2fc_SSDE"],
    }
    assert sorted(promised) == sorted(changed)
    for contrast, is_changed in changed.items():
        table = pd.read_csv(run / "results" / "differential" / f"{contrast}.tsv", sep="\t")
        true_proteins = set(truth.loc[is_changed, "protein"])
        called = table.loc[table["fdr"] < 0.05, "protein"]
        found = (
            int(table["pvalue"].notna().sum()),
            int(called.isin(true_proteins).sum()),
            int((~called.isin(true_proteins)).sum()),
        )
        assert found == promised[contrast], f"{contrast}: the run finds {found}, the README says {promised[contrast]}"
