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
