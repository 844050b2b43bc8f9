"""The sample sheet and the baseline/follow-up pairs built from it — one place for both.

The sheet (``config/samples.tsv``) has one row per mass-spec sample: ``sample`` (the run/column name
in the abundance table), ``patient``, ``subgroup``, ``timepoint``, optionally ``batch`` and any
covariate columns. ``workflow/schemas/samples.schema.yaml`` describes it; ``common.smk`` validates it
before any rule runs, and the scripts read it again with :func:`read_sample_sheet` — the differential
step with :func:`read_sheet_rows` and pairs them with :func:`pair_records` (no pandas there).
"""

import logging
import re
from collections import Counter

from tearflow.columns import PATIENT, SAMPLE, SHEET_REQUIRED, SUBGROUP, TIMEPOINT
from tearflow.errors import TearflowError
from tearflow.tables import read_text_rows

log = logging.getLogger(__name__)

BASELINE_SAMPLE = "baseline_sample"
FOLLOWUP_SAMPLE = "followup_sample"


def read_sheet_rows(path):
    """The sample sheet's rows as dicts of strings (IDs such as ``007`` keep their zeros), with the
    file line of each: ``[(line, row)]``. Read without pandas (the differential step uses it).
    Every required cell must be filled; an error names the file, the line and the column."""
    _columns, rows = read_text_rows(path, "sample sheet", SHEET_REQUIRED)
    if not rows:
        raise TearflowError(f"sample sheet {path}: no sample rows below the header; expected one row per sample")
    for number, row in rows:
        for column in SHEET_REQUIRED:
            if not row[column]:
                raise TearflowError(f"sample sheet {path}: line {number}, column '{column}' is empty")
    return rows


def read_sample_sheet(path):
    """The sample sheet as a DataFrame of strings indexed by file line (``line``)."""
    import pandas as pd

    rows = read_sheet_rows(path)
    sheet = pd.DataFrame([row for _, row in rows], dtype=str)
    sheet.index = pd.Index([number for number, _ in rows], name="line")
    return sheet


def visit_key(label):
    """A visit label without case, spaces, '-' and '_': "Week 2", "week_2" and "week2" are one visit."""
    return re.sub(r"[\s\-_]+", "", str(label).lower())


def subgroup_order(sheet):
    """Subgroups in the order they first appear in the sheet (the interaction is second − first).

    ``sheet``: the DataFrame :func:`read_sample_sheet` returns, or its rows as dicts.
    """
    column = [row[SUBGROUP] for row in sheet] if isinstance(sheet, list) else sheet[SUBGROUP]
    return list(dict.fromkeys(column))


def pair_records(rows, baseline, followup):
    """One dict per patient with both visits: patient, subgroup, baseline_sample, followup_sample,
    then the sheet's extra columns (covariates, batch) from the baseline row. ``rows``: the sheet's
    rows as dicts (``sheet.to_dict("records")``), in sheet order; patients in baseline-row order.

    Samples at other visits are left out (logged). Patients with only one of the two visits are
    logged and counted, not an error. Plain Python, so that the differential step need not import
    pandas; :func:`paired_samples` gives the same as a DataFrame.
    """
    other = Counter(row[TIMEPOINT] for row in rows if row[TIMEPOINT] not in (baseline, followup))
    if other:
        log.info(
            "left out of the paired contrasts (timepoint not %r or %r): %s",
            baseline,
            followup,
            ", ".join(f"{label} ({count} samples)" for label, count in sorted(other.items())),
        )
    visits = [row for row in rows if row[TIMEPOINT] in (baseline, followup)]
    seen = Counter((row[PATIENT], row[TIMEPOINT]) for row in visits)
    twice = [row for row in visits if seen[row[PATIENT], row[TIMEPOINT]] > 1]
    if twice:
        first = twice[0]
        raise TearflowError(
            f"sample sheet: patient {first[PATIENT]!r} has more than one sample at timepoint "
            f"{first[TIMEPOINT]!r} ({', '.join(row[SAMPLE] for row in twice if row[PATIENT] == first[PATIENT])}); "
            "expected one sample per patient and visit"
        )
    base = {row[PATIENT]: row for row in visits if row[TIMEPOINT] == baseline}
    follow = {row[PATIENT]: row for row in visits if row[TIMEPOINT] == followup}
    unpaired = sorted(set(base) ^ set(follow))
    if unpaired:
        log.warning(
            "%d patient(s) have only one of %r/%r and are left out of the paired contrasts: %s",
            len(unpaired),
            baseline,
            followup,
            ", ".join(unpaired),
        )
    extra = [column for column in (rows[0] if rows else {}) if column not in (SAMPLE, PATIENT, SUBGROUP, TIMEPOINT)]
    return [
        {
            PATIENT: patient,
            SUBGROUP: row[SUBGROUP],
            BASELINE_SAMPLE: row[SAMPLE],
            FOLLOWUP_SAMPLE: follow[patient][SAMPLE],
            **{column: row[column] for column in extra},
        }
        for patient, row in base.items()
        if patient in follow
    ]


def paired_samples(sheet, baseline, followup):
    """:func:`pair_records` of the sheet DataFrame, as a DataFrame (one row per paired patient)."""
    import pandas as pd

    extra = [column for column in sheet.columns if column not in (SAMPLE, PATIENT, SUBGROUP, TIMEPOINT)]
    columns = [PATIENT, SUBGROUP, BASELINE_SAMPLE, FOLLOWUP_SAMPLE, *extra]
    return pd.DataFrame(pair_records(sheet.to_dict("records"), baseline, followup), columns=columns)
