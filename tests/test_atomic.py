"""A step stopped half-way (SIGTERM from Snakemake or scancel, SIGKILL) leaves no half-written file."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import REPO

from tearflow.atomic import remove_stale_temporaries, temporary_beside

# A step whose table is being written when the test stops it: ``to_csv`` writes a first line,
# says so with a marker file, then waits to be stopped.
SLOW_STEP = textwrap.dedent(
    """
    import sys, time
    from types import SimpleNamespace
    sys.path.insert(0, {scripts!r})
    from tearflow.errors import run_step
    from tearflow.tables import write_tsv

    class SlowTable:
        def items(self):  # no columns for write_tsv to look into
            return iter(())

        def to_csv(self, stream, **options):
            stream.write("protein\\tvalue\\n")
            stream.flush()
            open({ready!r}, "w").close()
            time.sleep(120)

    def main(snakemake):
        if {slow!r}:
            write_tsv(SlowTable(), snakemake.output[0])
        else:
            import pandas as pd
            write_tsv(pd.DataFrame({{"protein": ["P1"], "value": [1.0]}}), snakemake.output[0])

    run_step(main, SimpleNamespace(output=[{output!r}], log=[{log!r}]))
    """
)


def start_step(tmp_path, slow):
    script = tmp_path / ("slow.py" if slow else "quick.py")
    script.write_text(
        SLOW_STEP.format(
            scripts=str(REPO / "scripts"),
            ready=str(tmp_path / "ready"),
            slow=slow,
            output=str(tmp_path / "out" / "table.tsv"),
            log=str(tmp_path / "step.log"),
        )
    )
    return subprocess.Popen([sys.executable, str(script)])


def wait_until_writing(tmp_path, process):
    deadline = time.monotonic() + 60
    while not (tmp_path / "ready").exists():
        assert process.poll() is None, "the step ended before it started writing"
        assert time.monotonic() < deadline, "the step never started writing"
        time.sleep(0.05)


def temporaries(tmp_path):
    return sorted(path.name for path in (tmp_path / "out").glob(".tmp-*"))


def test_sigterm_during_a_write_removes_the_temporary(tmp_path):
    process = start_step(tmp_path, slow=True)
    wait_until_writing(tmp_path, process)
    assert len(temporaries(tmp_path)) == 1
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    assert temporaries(tmp_path) == []
    assert not (tmp_path / "out" / "table.tsv").exists()


def test_temporary_left_by_sigkill_is_removed_when_the_step_runs_again(tmp_path):
    process = start_step(tmp_path, slow=True)
    wait_until_writing(tmp_path, process)
    process.kill()
    process.wait(timeout=60)
    assert len(temporaries(tmp_path)) == 1, "SIGKILL cannot be cleaned up after by the killed step"

    rerun = start_step(tmp_path, slow=False)
    assert rerun.wait(timeout=120) == 0
    assert temporaries(tmp_path) == []
    assert (tmp_path / "out" / "table.tsv").read_text() == "protein\tvalue\nP1\t1\n"  # 7 significant digits
    assert "left by an interrupted earlier run" in (tmp_path / "step.log").read_text()


def test_only_the_named_outputs_temporaries_are_removed(tmp_path):
    # Other jobs write into the same folder at the same time: their temporaries must survive.
    mine = temporary_beside(tmp_path / "differential" / "all.tsv", ".tsv")
    neighbours = [
        temporary_beside(tmp_path / "differential" / "all.tsv.bak", ".tsv"),
        temporary_beside(tmp_path / "differential" / "NSDE.tsv", ".tsv"),
        temporary_beside(tmp_path / "other" / "all.tsv", ".tsv"),
    ]
    assert remove_stale_temporaries([tmp_path / "differential" / "all.tsv"]) == [mine]
    assert all(os.path.exists(path) for path in neighbours)


@pytest.mark.parametrize("name", ["a[1].tsv", "star*.tsv", "q?.png"])
def test_output_names_with_glob_characters_are_matched_literally(tmp_path, name):
    mine = temporary_beside(tmp_path / name, ".tsv")
    other = temporary_beside(tmp_path / "a1.tsv", ".tsv")
    assert remove_stale_temporaries([tmp_path / name]) == [mine]
    assert os.path.exists(other)


WRITE_EVERY_KIND = textwrap.dedent(
    """
    import os, sys
    os.umask({umask})
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    from tearflow.figures.output import save_figure
    from tearflow.tables import write_columns, write_parquet, write_tsv

    out = {out!r}
    write_tsv(pd.DataFrame({{"protein": ["P1"], "value": [1.0]}}), os.path.join(out, "table.tsv"))
    write_columns({{"protein": ["P1"], "value": [1.0]}}, os.path.join(out, "columns.tsv"))
    write_parquet(pd.DataFrame({{"protein": ["P1"], "value": [1.0]}}), os.path.join(out, "matrix.parquet"))
    save_figure(plt.figure(), os.path.join(out, "figure.png"), {{"format": "png", "dpi": 72}})
    """
)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664)])
def test_outputs_follow_the_umask(tmp_path, umask, mode):
    """Colleagues in a shared project folder read the outputs: every writer gives the mode a plain
    open would (666 less the umask), not mkstemp's owner-only 600."""
    out = tmp_path / "out"
    out.mkdir()
    script = tmp_path / "write.py"
    script.write_text(WRITE_EVERY_KIND.format(umask=oct(umask), out=str(out)))
    subprocess.run([sys.executable, str(script)], check=True)
    modes = {path.name: path.stat().st_mode & 0o777 for path in out.iterdir()}
    assert modes == dict.fromkeys(["table.tsv", "columns.tsv", "matrix.parquet", "figure.png"], mode)


def test_a_workflow_run_under_umask_002_writes_group_writable_outputs(tmp_path):
    from workflow_runner import PYTHON, copy_workflow, snakemake_env

    workdir = copy_workflow(tmp_path)
    command = f"umask 002 && exec {PYTHON} -m snakemake --nocolor --cores 1 results/qc/import_summary.tsv"
    subprocess.run(["sh", "-c", command], cwd=workdir, env=snakemake_env(), check=True, capture_output=True)
    written = (
        "results/abundance/precursors.parquet",
        "results/qc/import_summary.tsv",
        "results/abundance/sample_runs.tsv",
    )
    for path in written:
        assert (workdir / path).stat().st_mode & 0o777 == 0o664, path
