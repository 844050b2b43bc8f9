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


def contrast_change(contrast, subgroups, timepoints):
    """What a contrast's log2 fold change measures, in words for figures: the follow-up − baseline
    change (``week2 − baseline``) for each subgroup and ``all``; for ``interaction`` the second
    subgroup's change minus the first's (``(SSDE − NSDE) change``)."""
    change = f"{timepoints['followup']} − {timepoints['baseline']}"
    if contrast == CONTRAST_INTERACTION:
        first, second = list(subgroups)[:2]
        return f"({second} − {first}) change"
    return change


def contrast_axis_label(contrast, subgroups, timepoints):
    """The axis label of a contrast's log2 fold change: ``log2 fold change (week2 − baseline)``;
    for ``interaction`` ``(SSDE − NSDE) change, log2 (change = week2 − baseline)``."""
    change = f"{timepoints['followup']} − {timepoints['baseline']}"
    if contrast == CONTRAST_INTERACTION:
        return f"{contrast_change(contrast, subgroups, timepoints)}, log2 (change = {change})"
    return f"log2 fold change ({change})"


def contrast_title(contrast, subgroups, timepoints):
    """A contrast named with what it measures: ``NSDE, week2 − baseline``, ``all patients, week2 −
    baseline``, ``interaction, (SSDE − NSDE) change``."""
    name = "all patients" if contrast == CONTRAST_ALL else contrast
    return f"{name}, {contrast_change(contrast, subgroups, timepoints)}"
