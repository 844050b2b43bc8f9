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


def current_umask():
    """The process's file-creation mask (os.umask can only be read by setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def temporary_beside(path, suffix):
    """Create an empty temporary file next to ``path`` and return its path.

    ``mkstemp`` creates it readable by its owner only (mode 600), and a rename keeps the mode; it gets
    the mode a plain ``open`` would give (666 less the umask), so an output colleagues in a shared
    project folder can read stays readable after the rename.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=folder, prefix=f"{PREFIX}{os.path.basename(path)}-", suffix=suffix
    )
    os.fchmod(handle, 0o666 & ~current_umask())
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
