"""The contrasts tearflow tests, named once, and the files of a job that handles every contrast.

A contrast is each subgroup (its mean follow-up − baseline change), ``all`` (every paired patient)
and, with exactly two subgroups, ``interaction`` (second subgroup's change − first's, sheet order).
"""

from pathlib import Path

CONTRAST_ALL = "all"
CONTRAST_INTERACTION = "interaction"


def contrast_names(subgroups):
    """The contrasts of a study with these subgroups (sheet order), in the order tables list them."""
    subgroups = list(subgroups)
    return subgroups + [CONTRAST_ALL] + ([CONTRAST_INTERACTION] if len(subgroups) == 2 else [])


def by_contrast(contrasts, paths):
    """``{contrast: path}`` for a rule that writes (or reads) one file per contrast in one job.

    Each path's file name must end in its contrast (``volcano_NSDE.png``, ``all.tsv``): the pairing
    is checked, never assumed from list positions alone.
    """
    contrasts, paths = list(contrasts), [str(path) for path in paths]
    if len(contrasts) != len(paths):
        raise ValueError(f"{len(contrasts)} contrasts for {len(paths)} files: {paths}")
    for contrast, path in zip(contrasts, paths):
        stem = Path(path).name.split(".")[0]
        if stem != contrast and not stem.endswith(f"_{contrast}"):
            raise ValueError(f"file {path} does not belong to contrast {contrast!r}")
    return dict(zip(contrasts, paths))
