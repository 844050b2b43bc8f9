"""The one error type a user can cause, and the boundary that turns it into a readable message.

Raise :class:`TearflowError` for anything the *input* got wrong (a file, a row, a column, a config
key): the message must name the file, the row or column or key, what was found and what was expected.
Any other exception is a bug in tearflow and keeps its traceback.
"""

import logging
import os
import signal
import sys
from contextlib import contextmanager

from tearflow.atomic import remove_stale_temporaries


class TearflowError(Exception):
    """A problem with the user's input or configuration, reported as one readable message."""


LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def configure_logging(log_path=None):
    """Send tearflow's log records to ``log_path`` (the rule's ``log:``) and to stderr."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root.addHandler(stream)
    if log_path:
        os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
        to_file = logging.FileHandler(log_path, mode="w", encoding="utf-8")
        to_file.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(to_file)
    logging.captureWarnings(True)


class _ConsoleNotes(logging.Handler):
    def emit(self, record):
        print(f"tearflow note: {record.getMessage()}", file=sys.stderr)


@contextmanager
def notes_to_console():
    """Within the block, tearflow's warnings are printed as ``tearflow note: ...`` lines (for the
    checks ``common.smk`` runs before any rule: Snakemake shows no log records of a Snakefile)."""
    logger = logging.getLogger("tearflow")
    handler = _ConsoleNotes(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _remove_outputs(paths):
    for path in paths:
        if os.path.isfile(path):
            os.remove(path)


def _exit_on_terminate(signum, frame):
    # Snakemake (and SLURM's scancel) stop a job with SIGTERM, whose default action ends the
    # process without unwinding; raising instead lets every write in progress remove its temporary.
    raise SystemExit(128 + signum)


def run_step(main, snakemake):
    """Run a step script's ``main(snakemake)`` with logging and the user-error boundary.

    A :class:`TearflowError` is logged once (console and the rule's log), the step's outputs are
    removed so nothing half-written looks finished, and the process exits with status 1. SIGTERM
    ends the step as an exception, so half-written temporaries are removed on the way out; ones a
    SIGKILL left behind are removed when the step runs again.
    """
    log_path = snakemake.log[0] if len(snakemake.log) else None
    configure_logging(log_path)
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    outputs = [str(path) for path in snakemake.output]
    for stale in remove_stale_temporaries(outputs):
        logging.getLogger("tearflow").info("removed %s, left by an interrupted earlier run", stale)
    try:
        main(snakemake)
    except TearflowError as error:
        logging.getLogger("tearflow").error("%s", error)
        _remove_outputs(outputs)
        sys.exit(1)
