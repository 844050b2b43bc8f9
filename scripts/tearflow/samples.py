"""The sample sheet and the baseline/follow-up pairs built from it — one place for both.

The sheet (``config/samples.tsv``) has one row per mass-spec sample: ``sample`` (the run/column name
in the abundance table), ``patient``, ``subgroup``, ``timepoint``, optionally ``batch`` and any
covariate columns. ``workflow/schemas/samples.schema.yaml`` describes it; ``common.smk`` validates it
before any rule runs, and the scripts read it again with :func:`read_sample_sheet`.
"""

import logging
import re

import pandas as pd

from tearflow.columns import PATIENT, SAMPLE, SHEET_REQUIRED, SUBGROUP, TIMEPOINT
from tearflow.errors import TearflowError
from tearflow.tables import read_text_table

log = logging.getLogger(__name__)

BASELINE_SAMPLE = "baseline_sample"
FOLLOWUP_SAMPLE = "followup_sample"


def read_sample_sheet(path):
    """Read the sample sheet as strings (IDs such as ``007`` keep their zeros)."""
    sheet = read_text_table(path, "sample sheet", SHEET_REQUIRED)
    if sheet.empty:
        raise TearflowError(f"sample sheet {path}: no sample rows below the header; expected one row per sample")
    for column in SHEET_REQUIRED:
        sheet[column] = sheet[column].str.strip()
        empty = sheet.index[sheet[column] == ""]
        if len(empty):
            row = int(empty[0]) + 2  # +1 for the header line, +1 for 1-based numbering
            raise TearflowError(f"sample sheet {path}: row {row}, column '{column}' is empty")
    return sheet


def visit_key(label):
    """A visit label without case, spaces, '-' and '_': "Week 2", "week_2" and "week2" are one visit."""
    return re.sub(r"[\s\-_]+", "", str(label).lower())


def subgroup_order(sheet):
    """Subgroups in the order they first appear in the sheet (the interaction is second − first)."""
    return list(dict.fromkeys(sheet[SUBGROUP]))


def paired_samples(sheet, baseline, followup):
    """One row per patient with both visits: patient, subgroup, baseline_sample, followup_sample.

    Samples at other visits are left out (logged). Patients with only one of the two visits are
    logged and counted, not an error. Extra sheet columns (covariates, batch) are carried over from
    the baseline row.
    """
    other = sheet[~sheet[TIMEPOINT].isin([baseline, followup])]
    if len(other):
        counts = other[TIMEPOINT].value_counts().sort_index()
        log.info(
            "left out of the paired contrasts (timepoint not %r or %r): %s",
            baseline,
            followup,
            ", ".join(f"{label} ({count} samples)" for label, count in counts.items()),
        )
    visits = sheet[sheet[TIMEPOINT].isin([baseline, followup])]
    twice = visits[visits.duplicated([PATIENT, TIMEPOINT], keep=False)]
    if len(twice):
        first = twice.iloc[0]
        raise TearflowError(
            f"sample sheet: patient {first[PATIENT]!r} has more than one sample at timepoint "
            f"{first[TIMEPOINT]!r} ({', '.join(twice[twice[PATIENT] == first[PATIENT]][SAMPLE])}); "
            "expected one sample per patient and visit"
        )
    base = visits[visits[TIMEPOINT] == baseline].set_index(PATIENT)
    follow = visits[visits[TIMEPOINT] == followup].set_index(PATIENT)
    complete = [patient for patient in base.index.unique() if patient in follow.index]
    unpaired = sorted(set(base.index) ^ set(follow.index))
    if unpaired:
        log.warning(
            "%d patient(s) have only one of %r/%r and are left out of the paired contrasts: %s",
            len(unpaired),
            baseline,
            followup,
            ", ".join(unpaired),
        )
    extra = [c for c in sheet.columns if c not in (SAMPLE, PATIENT, SUBGROUP, TIMEPOINT)]
    pairs = pd.DataFrame(
        {
            PATIENT: complete,
            SUBGROUP: [base.loc[p, SUBGROUP] for p in complete],
            BASELINE_SAMPLE: [base.loc[p, SAMPLE] for p in complete],
            FOLLOWUP_SAMPLE: [follow.loc[p, SAMPLE] for p in complete],
        }
    )
    for column in extra:
        pairs[column] = [base.loc[p, column] for p in complete]
    return pairs
