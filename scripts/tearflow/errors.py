"""The one error type a user can cause, and the boundary that turns it into a readable message.

Raise :class:`TearflowError` for anything the *input* got wrong (a file, a row, a column, a config
key): the message must name the file, the row or column or key, what was found and what was expected.
Any other exception is a bug in tearflow and keeps its traceback.
"""

import logging
import os
import sys


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


def _remove_outputs(paths):
    for path in paths:
        if os.path.isfile(path):
            os.remove(path)


def run_step(main, snakemake):
    """Run a step script's ``main(snakemake)`` with logging and the user-error boundary.

    A :class:`TearflowError` is logged once (console and the rule's log), the step's outputs are
    removed so nothing half-written looks finished, and the process exits with status 1.
    """
    log_path = snakemake.log[0] if len(snakemake.log) else None
    configure_logging(log_path)
    try:
        main(snakemake)
    except TearflowError as error:
        logging.getLogger("tearflow").error("%s", error)
        _remove_outputs([str(path) for path in snakemake.output])
        sys.exit(1)
