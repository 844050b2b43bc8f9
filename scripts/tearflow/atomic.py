"""Temporary files that become outputs by rename, and the clean-up of ones a killed job left.

Every output tearflow writes is first written to ``.tmp-<output name>-<random>`` beside it and then
renamed into place, so a reader never sees half a file. A job killed with SIGKILL (or by a node
failure) cannot clean up after itself; because the temporary carries its output's name, the next
run of the same job — the only writer of that output — can find and remove it safely, even while
other jobs write their own temporaries into the same folder.
"""

import glob
import os
import tempfile

PREFIX = ".tmp-"


def temporary_beside(path, suffix):
    """Create an empty temporary file next to ``path`` and return its path."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=folder, prefix=f"{PREFIX}{os.path.basename(path)}-", suffix=suffix
    )
    os.close(handle)
    return temporary


def remove_stale_temporaries(paths):
    """Remove temporaries an earlier, killed attempt at writing ``paths`` left behind; return them."""
    removed = []
    for path in paths:
        folder = os.path.dirname(os.path.abspath(path))
        pattern = os.path.join(glob.escape(folder), f"{PREFIX}{glob.escape(os.path.basename(path))}-*")
        for stale in glob.glob(pattern):
            try:
                os.remove(stale)
            except FileNotFoundError:
                continue
            removed.append(stale)
    return removed
