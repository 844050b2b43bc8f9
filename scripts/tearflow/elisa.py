"""ELISA tear cytokines: read lab tables as labs write them, censor, and test paired changes.

A lab table is *long* (one row per measurement: ``patient, timepoint, analyte, value`` and optionally
``unit, lloq, uloq, plate``) or *wide* (``patient, timepoint`` and one column per analyte, the unit in
the header as ``IL-6 (pg/mL)``). Values are read as written: numbers (``12.5``, ``3,2``), censored
below the lower limit of quantification (``<LLOQ``, ``< 3.2``, ``ND``, ``BLQ``, a blank cell, ``0``),
censored above the upper limit (``>ULOQ``, ``> 5000``) or not measured (``NA``, ``QNS``). Analyte names
are mapped to one canonical name and gene symbol (``resources/elisa/analytes.tsv``), units converted
to pg/mL, censored values replaced by the configured policy, and each patient's baseline/follow-up
pair tested per analyte and contrast (Wilcoxon signed-rank, paired t on the log2 scale, BH).
"""

import logging
import math
import re
import unicodedata

import numpy as np
import pandas as pd

from tearflow.columns import CONTRAST, GENE, N_PAIRS, PATIENT, SUBGROUP, TIMEPOINT
from tearflow.contrasts import CONTRAST_ALL, CONTRAST_INTERACTION
from tearflow.errors import TearflowError
from tearflow.multiple_testing import bh_adjust
from tearflow.nonparametric import (
    ZERO_TOL,
    one_sample_t_p,
    two_group_p,
    wilcoxon_signed_rank_p,
)
from tearflow.samples import visit_key

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# column names of the ELISA tables (results/elisa/*.tsv)
ANALYTE = "analyte"
VALUE = "value"
UNIT = "unit"
LLOQ = "lloq"
ULOQ = "uloq"
PLATE = "plate"
REPORTED = "reported"
REPORTED_UNIT = "reported_unit"
STATUS = "status"
SOURCE_ROW = "source_row"
SOURCE_COLUMN = "source_column"
SOURCE_FILE = "source_file"
CENSORING = "censoring"
BASELINE = "baseline"
FOLLOWUP = "followup"
BASELINE_STATUS = "baseline_status"
FOLLOWUP_STATUS = "followup_status"
LOG2_RATIO = "log2_ratio"
MEDIAN_BASELINE = "median_baseline"
MEDIAN_FOLLOWUP = "median_followup"
MEDIAN_LOG2_RATIO = "median_log2_ratio"
WILCOXON_P = "wilcoxon_p"
TTEST_P = "ttest_p"
WILCOXON_FDR = "wilcoxon_fdr"
TTEST_FDR = "ttest_fdr"
N_NONZERO = "n_nonzero"
N_CENSORED = "n_censored"
TEST = "test"
PAIRED_TEST_COLUMNS = [
    ANALYTE,
    GENE,
    CONTRAST,
    N_PAIRS,
    MEDIAN_BASELINE,
    MEDIAN_FOLLOWUP,
    MEDIAN_LOG2_RATIO,
    WILCOXON_P,
    TTEST_P,
    WILCOXON_FDR,
    TTEST_FDR,
    CENSORING,
    N_NONZERO,
    N_CENSORED,
    TEST,
]

# value status
MEASURED = "measured"
BELOW_LLOQ = "below_lloq"
ABOVE_ULOQ = "above_uloq"
NOT_MEASURED = "not_measured"

CENSORING_POLICIES = ("lloq_half", "lloq_sqrt2", "exclude")


# ---------------------------------------------------------------------------------------------
# analyte names


_GREEK = {"α": "a", "β": "b", "γ": "g", "δ": "d", "κ": "k", "µ": "u", "μ": "u"}


def name_key(text):
    """A spelling reduced for matching: lower case, Greek letters as Latin, no punctuation/space."""
    text = unicodedata.normalize("NFKC", str(text)).strip().lower()
    text = "".join(_GREEK.get(char, char) for char in text)
    return re.sub(r"[\s\-_./()\[\]{}',]+", "", text)


def read_analyte_map(path):
    """Read ``analytes.tsv`` (analyte, gene, spellings, note); check it maps each spelling once."""
    from tearflow.tables import read_user_table

    table = read_user_table(path, "analyte map", (ANALYTE, GENE))
    if "spellings" not in table.columns:
        table["spellings"] = ""
    table = table.apply(lambda column: column.str.strip())
    empty = table.index[(table[ANALYTE] == "") | (table[GENE] == "")]
    if len(empty):
        raise TearflowError(
            f"analyte map {path}: data row {int(empty[0]) + 1} has an empty analyte or gene; "
            "expected a canonical name and a gene symbol on every row"
        )
    analyte_lookup(table, path)
    return table


def analyte_lookup(analyte_map, path="analyte map"):
    """{spelling key: canonical analyte}; a key claimed by two analytes is an error."""
    lookup = {}
    for _, row in analyte_map.iterrows():
        spellings = [row[ANALYTE], row[GENE]] + [
            spelling for spelling in str(row.get("spellings", "")).split(";") if spelling.strip()
        ]
        for spelling in spellings:
            key = name_key(spelling)
            if key in lookup and lookup[key] != row[ANALYTE]:
                raise TearflowError(
                    f"analyte map {path}: spelling {spelling!r} is listed for both "
                    f"{lookup[key]!r} and {row[ANALYTE]!r}; expected each spelling once"
                )
            lookup[key] = row[ANALYTE]
    return lookup


def canonical_analyte(name, lookup):
    """The canonical analyte for a spelling, or None when the map does not know it."""
    return lookup.get(name_key(name))


# ---------------------------------------------------------------------------------------------
# units

# factor that turns one unit into pg/mL, keyed by the reduced unit spelling
_UNIT_FACTORS = {
    "fg/ml": 1e-3,
    "pg/ml": 1.0,
    "ng/l": 1.0,
    "pg/ul": 1e3,
    "ng/ml": 1e3,
    "ug/l": 1e3,
    "ng/ul": 1e6,
    "ug/ml": 1e6,
    "mg/l": 1e6,
    "mg/ml": 1e9,
    "g/l": 1e9,
}
_UNIT_SYNONYMS = {"mcg": "ug", "µg": "ug", "μg": "ug", "μl": "ul", "µl": "ul"}


def unit_factor(unit):
    """Factor from ``unit`` to pg/mL (case-insensitive; µ/μ/mcg/u alike), or None if unknown."""
    text = unicodedata.normalize("NFKC", str(unit)).strip().lower()
    for old, new in _UNIT_SYNONYMS.items():
        text = text.replace(old, new)
    text = re.sub(r"\s+", "", text).replace("per", "/")
    text = text.replace("µ", "u").replace("μ", "u")
    return _UNIT_FACTORS.get(text)


def known_units():
    """The units :func:`unit_factor` converts, for messages."""
    return "pg/mL, ng/mL, µg/mL (ug/mL, mcg/mL), mg/mL, fg/mL, ng/L, µg/L, mg/L, g/L, pg/µL, ng/µL"


# ---------------------------------------------------------------------------------------------
# values as labs write them

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_LOW_WORDS = {
    "nd",
    "notdetected",
    "notdetectable",
    "blq",
    "bql",
    "bloq",
    "belowlloq",
    "belowloq",
    "belowlod",
    "belowdetection",
    "belowdetectionlimit",
    "belowrange",
    "lloq",
    "<",
    "<lloq",
    "<loq",
    "<lod",
    "<lld",
    "<dl",
    "<ll",
    "<range",
    "<curve",
    "<blq",
    "<detectionlimit",
    "undetectable",
    "undetected",
    "oor<",
}
_HIGH_WORDS = {
    ">",
    ">uloq",
    ">uql",
    ">loq",
    ">range",
    ">curve",
    ">ul",
    "aql",
    "aboveuloq",
    "aboverange",
    "abovecurve",
    "uloq",
    "oor>",
}
_MISSING_WORDS = {"na", "n/a", "nan", "qns", "notmeasured", "nottested", "nosample", "missing"}
VALUE_SPELLINGS = (
    "a number (12.5, 1.2e3, 3,2), '<LLOQ', '< 3.2', 'ND', 'BLQ', blank, '>ULOQ', '> 5000', "
    "or 'NA'/'QNS' for not measured"
)


def parse_number(text):
    """A non-negative number as labs write it (``3.2``, ``3,2``, ``1,234.5``, ``1.2e3``).

    A lone comma is read as a decimal comma; ``1,234`` (comma then exactly three digits, no dot) is
    ambiguous (1234 or 1.234) and refused. Raises ValueError when ``text`` is not such a number.
    """
    text = text.strip().replace(" ", "").replace("\u00a0", "")
    if "," in text:
        if "." in text:
            if not re.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})+\.\d*", text):
                raise ValueError(f"mixed ',' and '.' in {text!r}")
            text = text.replace(",", "")
        elif re.fullmatch(r"[+-]?\d{1,3},\d{3}", text):
            raise ValueError(f"{text!r} is ambiguous (thousands separator or decimal comma?)")
        elif text.count(",") == 1:
            text = text.replace(",", ".")
        else:
            raise ValueError(f"several commas in {text!r}")
    if not re.fullmatch(_NUMBER, text):
        raise ValueError(f"{text!r} is not a number")
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text!r} is not finite")
    return number


def parse_value(text, blank=BELOW_LLOQ):
    """(status, number) for one cell: ``measured``/``below_lloq``/``above_uloq``/``not_measured``.

    ``number`` is the measured value, the limit written with a ``<``/``>`` sign, or None. A zero is
    below the LLOQ (it has no logarithm); a blank cell has status ``blank`` (config
    ``elisa_analysis.blank``). Raises ValueError for anything else (negative numbers too).
    """
    raw = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    compact = unicodedata.normalize("NFKC", raw).strip().lower()
    compact = re.sub(r"\s+", "", compact).replace("≤", "<").replace("≥", ">")
    if compact == "":
        return blank, None
    if compact in _MISSING_WORDS:
        return NOT_MEASURED, None
    if compact in _LOW_WORDS or compact.replace(".", "") in _LOW_WORDS:
        return BELOW_LLOQ, None
    if compact in _HIGH_WORDS:
        return ABOVE_ULOQ, None
    if compact[:1] in "<>" and compact[1:2] != "=":
        number = parse_number(compact[1:])
        if number <= 0:
            raise ValueError(f"limit {raw!r} is not positive")
        return (BELOW_LLOQ if compact[0] == "<" else ABOVE_ULOQ), number
    number = parse_number(compact)
    if number < 0:
        raise ValueError(f"{raw!r} is negative")
    if number == 0:
        return BELOW_LLOQ, None
    return MEASURED, number


# ---------------------------------------------------------------------------------------------
# reading the table

_HEADER_ALIASES = {
    PATIENT: {"patient", "patientid", "subject", "subjectid", "participant", "participantid"},
    TIMEPOINT: {"timepoint", "visit", "time", "timepointlabel"},
    ANALYTE: {"analyte", "cytokine", "marker", "target"},
    VALUE: {"value", "concentration", "conc", "result", "measurement"},
    UNIT: {"unit", "units"},
    LLOQ: {"lloq", "lod", "loq", "lowerlimit"},
    ULOQ: {"uloq", "upperlimit"},
    PLATE: {"plate", "plateid", "run"},
}
# columns a wide table may carry besides analytes; they are ignored
_WIDE_IGNORED = {
    "sample",
    "sampleid",
    "subgroup",
    "group",
    "batch",
    "notes",
    "note",
    "comment",
    "comments",
    "date",
    "dilution",
    "well",
}


def _header_role(header):
    key = name_key(header)
    for role, aliases in _HEADER_ALIASES.items():
        if key in aliases:
            return role
    return None


def read_elisa_table(path):
    """The lab table as strings, header cells stripped (TSV, CSV or Excel by extension)."""
    path = str(path)
    try:
        if path.lower().endswith((".xlsx", ".xls")):
            table = pd.read_excel(path, dtype=str, keep_default_na=False)
        else:
            sep = "," if path.lower().endswith(".csv") else "\t"
            options = {"sep": sep, "dtype": str, "keep_default_na": False, "comment": "#", "skip_blank_lines": True}
            try:
                table = pd.read_csv(path, encoding="utf-8-sig", **options)
            except UnicodeDecodeError:
                # lab exports from Windows software are often Latin-1 (µg/mL)
                log.warning("ELISA table %s is not UTF-8; read as Latin-1", path)
                table = pd.read_csv(path, encoding="latin-1", **options)
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise TearflowError(f"ELISA table {path}: cannot be read ({error})") from error
    table.columns = [str(column).strip() for column in table.columns]
    return table.fillna("")


def _split_header_unit(header):
    """``IL-6 (pg/mL)`` → (``IL-6``, ``pg/mL``); a header without a bracketed unit → (header, None)."""
    found = re.fullmatch(r"(.*?)\s*[\(\[]\s*([^\)\]]+?)\s*[\)\]]\s*", header)
    if found and unit_factor(found.group(2)) is not None:
        return found.group(1), found.group(2)
    if found and "/" in found.group(2):
        return found.group(1), found.group(2)  # a unit we cannot convert: refused later, by name
    return header, None


def long_measurements(table, path):
    """One row per measurement: patient, timepoint, analyte (as written), reported, unit, lloq,
    uloq, plate, source_row, source_column — from a long or a wide lab table."""
    roles = {column: _header_role(column) for column in table.columns}
    by_role = {}
    for column, role in roles.items():
        if role is not None:
            if role in by_role:
                raise TearflowError(
                    f"ELISA table {path}: columns {by_role[role]!r} and {column!r} both read as '{role}'; expected one"
                )
            by_role[role] = column
    for role in (PATIENT, TIMEPOINT):
        if role not in by_role:
            raise TearflowError(
                f"ELISA table {path}: no '{role}' column (found {', '.join(table.columns)}); "
                "expected patient, timepoint and either analyte + value (long) or one column per "
                "analyte (wide)"
            )
    rows = pd.Series(np.arange(len(table)) + 2, index=table.index)  # header + 1-based numbering
    if ANALYTE in by_role or VALUE in by_role:
        for role in (ANALYTE, VALUE):
            if role not in by_role:
                raise TearflowError(
                    f"ELISA table {path}: long table without a '{role}' column (found "
                    f"{', '.join(table.columns)}); expected patient, timepoint, analyte, value"
                )
        long = pd.DataFrame(
            {
                PATIENT: table[by_role[PATIENT]].str.strip(),
                TIMEPOINT: table[by_role[TIMEPOINT]].str.strip(),
                ANALYTE: table[by_role[ANALYTE]].str.strip(),
                REPORTED: table[by_role[VALUE]],
                UNIT: table[by_role[UNIT]].str.strip() if UNIT in by_role else "",
                LLOQ: table[by_role[LLOQ]] if LLOQ in by_role else "",
                ULOQ: table[by_role[ULOQ]] if ULOQ in by_role else "",
                PLATE: table[by_role[PLATE]].str.strip() if PLATE in by_role else "",
                SOURCE_ROW: rows,
                SOURCE_COLUMN: by_role[VALUE],
            }
        )
    else:
        analyte_columns = [
            column for column, role in roles.items() if role is None and name_key(column) not in _WIDE_IGNORED
        ]
        if not analyte_columns:
            raise TearflowError(
                f"ELISA table {path}: no analyte columns (found {', '.join(table.columns)}); "
                "expected a long table (analyte, value) or one column per analyte"
            )
        parts = []
        for column in analyte_columns:
            name, unit = _split_header_unit(column)
            parts.append(
                pd.DataFrame(
                    {
                        PATIENT: table[by_role[PATIENT]].str.strip(),
                        TIMEPOINT: table[by_role[TIMEPOINT]].str.strip(),
                        ANALYTE: name,
                        REPORTED: table[column],
                        UNIT: unit or "",
                        LLOQ: "",
                        ULOQ: "",
                        PLATE: table[by_role[PLATE]].str.strip() if PLATE in by_role else "",
                        SOURCE_ROW: rows,
                        SOURCE_COLUMN: column,
                    }
                )
            )
        long = pd.concat(parts, ignore_index=True)
    # a row with no patient, timepoint or analyte and no value is a spacer line, not data
    empty = (long[[PATIENT, TIMEPOINT, ANALYTE]] == "").all(axis=1) & (long[REPORTED].str.strip() == "")
    long = long[~empty].reset_index(drop=True)
    for role in (PATIENT, TIMEPOINT, ANALYTE):
        blank = long[long[role] == ""]
        if len(blank):
            first = blank.iloc[0]
            column = by_role.get(role, role)
            raise TearflowError(
                f"ELISA table {path}: row {first[SOURCE_ROW]}, column '{column}': found an empty "
                f"cell; expected a {role}"
            )
    return long


# ---------------------------------------------------------------------------------------------
# normalising analytes, units and values


def _where(path, row, column):
    return f"ELISA table {path}: row {row}, column '{column}'"


def _limit_from_config(analyte, limits, lookup, key):
    """A per-analyte default limit from ``elisa_analysis.lloq``/``uloq`` (pg/mL), keyed by any spelling."""
    for name, limit in limits.items():
        if canonical_analyte(name, lookup) == analyte:
            try:
                return float(limit)
            except (TypeError, ValueError):
                raise TearflowError(
                    f"config key 'elisa_analysis.{key}.{name}': found {limit!r}; expected a number in pg/mL"
                ) from None
    return None


def check_config_limits(settings, lookup, analytes_path):
    """Every analyte named under ``elisa_analysis.lloq``/``uloq`` must be known to the map."""
    for key in ("lloq", "uloq"):
        for name in settings[key]:
            if canonical_analyte(name, lookup) is None:
                raise TearflowError(
                    f"config key 'elisa_analysis.{key}.{name}': analyte {name!r} is not in the "
                    f"analyte map {analytes_path}; expected one of its analytes or spellings"
                )


def censored_value(lloq, policy):
    """The value a below-LLOQ measurement takes under ``policy`` (NaN for ``exclude``)."""
    if policy == "lloq_half":
        return lloq / 2.0
    if policy == "lloq_sqrt2":
        return lloq / math.sqrt(2.0)
    return math.nan


def normalise_values(long, analyte_map, settings, path, analytes_path="analyte map"):
    """Canonical analyte + gene, values in pg/mL, censoring applied; one row per measurement.

    Columns: patient, timepoint, analyte, gene, value (pg/mL after the censoring policy; NaN when
    excluded or not measured), status, reported, reported_unit, lloq, uloq (pg/mL), plate,
    source_row, censoring. Raises :class:`TearflowError` naming file, row and column for an unknown
    analyte, an unconvertible unit, an unparseable value or a censored value without a limit.
    """
    lookup = analyte_lookup(analyte_map, analytes_path)
    genes = dict(zip(analyte_map[ANALYTE], analyte_map[GENE]))
    policy = settings["censoring"]
    default_unit = settings["default_unit"]
    if unit_factor(default_unit) is None:
        raise TearflowError(
            f"config key 'elisa_analysis.default_unit': found {default_unit!r}; expected one of {known_units()}"
        )
    check_config_limits(settings, lookup, analytes_path)
    records = []
    for _, row in long.iterrows():
        where_row = row[SOURCE_ROW]
        analyte = canonical_analyte(row[ANALYTE], lookup)
        if analyte is None:
            column = ANALYTE if row[SOURCE_COLUMN] != row[ANALYTE] else row[SOURCE_COLUMN]
            raise TearflowError(
                f"{_where(path, where_row, column)}: unknown analyte {row[ANALYTE]!r}; expected "
                f"an analyte or spelling of {analytes_path} (e.g. IL-6, IL-17A, IL-23, CCL20, "
                "MUC5AC) — add a row there, or point elisa_analysis.analytes at your own map"
            )
        unit = row[UNIT] or default_unit
        factor = unit_factor(unit)
        if factor is None:
            raise TearflowError(
                f"{_where(path, where_row, UNIT if row[UNIT] else row[SOURCE_COLUMN])}: unit "
                f"{unit!r} cannot be converted to pg/mL; expected one of {known_units()} "
                "(molar and activity units need the lab's conversion first)"
            )
        try:
            status, number = parse_value(row[REPORTED], settings["blank"])
        except ValueError as error:
            raise TearflowError(
                f"{_where(path, where_row, row[SOURCE_COLUMN])}: cannot read value "
                f"{row[REPORTED]!r} ({error}); expected {VALUE_SPELLINGS}"
            ) from None
        limits = {}
        for key in (LLOQ, ULOQ):
            text = str(row[key]).strip()
            if text == "":
                limits[key] = None
                continue
            try:
                limits[key] = parse_number(text) * factor
            except ValueError:
                raise TearflowError(
                    f"{_where(path, where_row, key)}: found {text!r}; expected a number in the "
                    f"row's unit ({unit}) or an empty cell"
                ) from None
        lloq, uloq = limits[LLOQ], limits[ULOQ]
        value = math.nan
        if status == MEASURED:
            value = number * factor
        elif status == BELOW_LLOQ:
            if number is not None:
                lloq = number * factor
            if lloq is None:
                lloq = _limit_from_config(analyte, settings["lloq"], lookup, "lloq")
            if lloq is None:
                raise TearflowError(
                    f"{_where(path, where_row, row[SOURCE_COLUMN])}: {analyte} value "
                    f"{row[REPORTED]!r} is below the LLOQ but no LLOQ is known; expected a number "
                    "after '<' (e.g. '< 3.2'), an 'lloq' column, or "
                    f"'elisa_analysis.lloq: {{{analyte}: <pg/mL>}}' in the config"
                )
            value = censored_value(lloq, policy)
        elif status == ABOVE_ULOQ:
            if number is not None:
                uloq = number * factor
            if uloq is None:
                uloq = _limit_from_config(analyte, settings["uloq"], lookup, "uloq")
            if uloq is None:
                raise TearflowError(
                    f"{_where(path, where_row, row[SOURCE_COLUMN])}: {analyte} value "
                    f"{row[REPORTED]!r} is above the ULOQ but no ULOQ is known; expected a number "
                    "after '>' (e.g. '> 5000'), a 'uloq' column, or "
                    f"'elisa_analysis.uloq: {{{analyte}: <pg/mL>}}' in the config"
                )
            value = uloq
        if lloq is None:
            lloq = _limit_from_config(analyte, settings["lloq"], lookup, "lloq")
        if uloq is None:
            uloq = _limit_from_config(analyte, settings["uloq"], lookup, "uloq")
        records.append(
            {
                PATIENT: row[PATIENT],
                TIMEPOINT: row[TIMEPOINT],
                ANALYTE: analyte,
                GENE: genes[analyte],
                VALUE: value,
                STATUS: status,
                REPORTED: row[REPORTED],
                REPORTED_UNIT: unit,
                LLOQ: math.nan if lloq is None else lloq,
                ULOQ: math.nan if uloq is None else uloq,
                PLATE: row[PLATE],
                SOURCE_FILE: str(path),
                SOURCE_ROW: where_row,
                CENSORING: policy,
            }
        )
    values = pd.DataFrame.from_records(
        records,
        columns=[
            PATIENT,
            TIMEPOINT,
            ANALYTE,
            GENE,
            VALUE,
            STATUS,
            REPORTED,
            REPORTED_UNIT,
            LLOQ,
            ULOQ,
            PLATE,
            SOURCE_FILE,
            SOURCE_ROW,
            CENSORING,
        ],
    )
    return values


def attach_sample_sheet(values, sheet, timepoints, path, visit_labels=None):
    """Add each patient's subgroup and map timepoint spellings to the sheet's labels.

    ``visit_labels`` (config ``elisa_analysis.visits``) maps the ELISA table's own visit labels to
    the sheet's (``{"W0": "baseline"}``); otherwise timepoints match ignoring case, spaces, '-' and
    '_' ("Week 2" = "week2"). A patient the sheet does not have is left out with a note (as runs the
    sheet does not have are). Errors: a timepoint label that is neither a sheet label nor a configured
    one; one patient/timepoint/analyte measured twice. Measurements at a known visit other than
    baseline/follow-up are kept in values.tsv and left out of the tests.
    """
    import difflib

    patients = dict(zip(sheet[PATIENT], sheet[SUBGROUP]))
    labels = list(dict.fromkeys(list(timepoints.values()) + list(sheet[TIMEPOINT])))
    by_key = {visit_key(label): label for label in labels}
    values = values.copy()
    if visit_labels:
        values[TIMEPOINT] = values[TIMEPOINT].map(lambda label: visit_labels.get(label, label))
    unknown = values[~values[PATIENT].isin(patients)]
    if len(unknown):
        described = []
        for patient, rows in unknown.groupby(PATIENT, sort=True)[SOURCE_ROW]:
            close = difflib.get_close_matches(patient, list(patients), n=1)
            hint = f", did you mean {close[0]!r}?" if close else ""
            described.append(f"{patient!r} (row(s) {', '.join(str(row) for row in list(rows)[:5])}{hint})")
        log.warning(
            "ELISA table %s: %d patient(s) not in the sample sheet are left out: %s",
            path,
            len(described),
            "; ".join(described),
        )
        values = values[values[PATIENT].isin(patients)].copy()
    mapped = values[TIMEPOINT].map(lambda label: by_key.get(visit_key(label)))
    unknown = values[mapped.isna()]
    if len(unknown):
        first = unknown.iloc[0]
        raise TearflowError(
            f"ELISA table {path}: row {first[SOURCE_ROW]}, column 'timepoint': timepoint "
            f"{first[TIMEPOINT]!r} is not a known visit; expected one of {', '.join(labels)} (or map the "
            "ELISA table's labels to the sheet's with elisa_analysis.visits)"
        )
    values[TIMEPOINT] = mapped
    values.insert(1, SUBGROUP, values[PATIENT].map(patients))
    twice = values[values.duplicated([PATIENT, TIMEPOINT, ANALYTE], keep=False)]
    if len(twice):
        first = twice.iloc[0]
        same = twice[
            (twice[PATIENT] == first[PATIENT])
            & (twice[TIMEPOINT] == first[TIMEPOINT])
            & (twice[ANALYTE] == first[ANALYTE])
        ]
        files = list(dict.fromkeys(same[SOURCE_FILE])) if SOURCE_FILE in same else [path]
        if len(files) > 1:
            where = "rows " + ", ".join(f"{f}:{r}" for f, r in zip(same[SOURCE_FILE], same[SOURCE_ROW]))
        else:
            where = f"ELISA table {files[0]}: rows {', '.join(str(r) for r in same[SOURCE_ROW])}"
        raise TearflowError(
            f"{where}: "
            f"{first[ANALYTE]} for patient {first[PATIENT]!r} at {first[TIMEPOINT]!r} appears "
            f"{len(same)} times; expected one value per patient, visit and analyte (average "
            "duplicate wells before, or give raw plates via elisa_analysis.plates)"
        )
    other = values[~values[TIMEPOINT].isin([timepoints["baseline"], timepoints["followup"]])]
    if len(other):
        log.warning(
            "%d ELISA value(s) at other visits (%s) are kept in values.tsv but not tested",
            len(other),
            ", ".join(sorted(set(other[TIMEPOINT]))),
        )
    return values


# ---------------------------------------------------------------------------------------------
# pairs and tests


def patient_changes(values, timepoints):
    """Per analyte × patient with both visits valued: baseline, followup (pg/mL), log2_ratio.

    Pairs with a missing (not measured or excluded) value at either visit are left out.
    """
    base = values[values[TIMEPOINT] == timepoints["baseline"]]
    follow = values[values[TIMEPOINT] == timepoints["followup"]]
    keys = [ANALYTE, GENE, PATIENT, SUBGROUP]
    pairs = base[keys + [VALUE, STATUS]].merge(
        follow[[ANALYTE, PATIENT, VALUE, STATUS]], on=[ANALYTE, PATIENT], suffixes=("_b", "_f")
    )
    pairs = pairs.rename(
        columns={
            "value_b": BASELINE,
            "value_f": FOLLOWUP,
            "status_b": BASELINE_STATUS,
            "status_f": FOLLOWUP_STATUS,
        }
    )
    pairs = pairs[pairs[BASELINE].notna() & pairs[FOLLOWUP].notna()].copy()
    pairs[LOG2_RATIO] = np.log2(pairs[FOLLOWUP].astype(float) / pairs[BASELINE].astype(float))
    columns = keys + [BASELINE, FOLLOWUP, BASELINE_STATUS, FOLLOWUP_STATUS, LOG2_RATIO]
    return pairs[columns].sort_values([ANALYTE, SUBGROUP, PATIENT]).reset_index(drop=True)


def paired_tests(pairs, analyte_genes, contrasts, subgroups, settings):
    """One row per analyte × contrast (``PAIRED_TEST_COLUMNS``), BH within each contrast.

    Subgroup contrasts and ``all``: Wilcoxon signed-rank (``zero_method``, exact up to
    ``exact_max_n`` pairs; :func:`tearflow.nonparametric.wilcoxon_signed_rank_p`) and paired t
    (:func:`tearflow.nonparametric.one_sample_t_p`) on log2(follow-up/baseline). ``interaction`` (two
    subgroups): Mann–Whitney and Welch t on the log2 ratios, second − first subgroup
    (:func:`tearflow.nonparametric.two_group_p`); ``median_log2_ratio`` is the difference of the subgroup
    medians. Fewer than ``min_pairs`` pairs (per subgroup for the interaction), no non-zero ratio or
    no variance → NaN p-values, never 0.
    """
    min_pairs = int(settings["min_pairs"])
    exact_max_n = int(settings["exact_max_n"])
    rows = []
    for analyte, gene in analyte_genes.items():
        mine = pairs[pairs[ANALYTE] == analyte]
        for contrast in contrasts:
            row = {ANALYTE: analyte, GENE: gene, CONTRAST: contrast, CENSORING: settings["censoring"]}
            if contrast == CONTRAST_INTERACTION:
                if len(subgroups) != 2:
                    raise TearflowError(f"contrast 'interaction' needs exactly two subgroups (found {subgroups})")
                first = mine[mine[SUBGROUP] == subgroups[0]][LOG2_RATIO].to_numpy(float)
                second = mine[mine[SUBGROUP] == subgroups[1]][LOG2_RATIO].to_numpy(float)
                used = mine[mine[SUBGROUP].isin(subgroups)]
                row.update(
                    {
                        N_PAIRS: len(first) + len(second),
                        MEDIAN_BASELINE: math.nan,
                        MEDIAN_FOLLOWUP: math.nan,
                        MEDIAN_LOG2_RATIO: (
                            float(np.median(second) - np.median(first)) if len(first) and len(second) else math.nan
                        ),
                        N_NONZERO: int(np.sum(np.abs(used[LOG2_RATIO]) > ZERO_TOL)),
                        TEST: "mann_whitney;welch_t",
                    }
                )
                row[WILCOXON_P], row[TTEST_P] = two_group_p(first, second, exact_max_n, min_n=min_pairs)
            else:
                used = mine if contrast == CONTRAST_ALL else mine[mine[SUBGROUP] == contrast]
                d = used[LOG2_RATIO].to_numpy(float)
                row.update(
                    {
                        N_PAIRS: len(d),
                        MEDIAN_BASELINE: float(np.median(used[BASELINE])) if len(d) else math.nan,
                        MEDIAN_FOLLOWUP: float(np.median(used[FOLLOWUP])) if len(d) else math.nan,
                        MEDIAN_LOG2_RATIO: float(np.median(d)) if len(d) else math.nan,
                        N_NONZERO: int(np.sum(np.abs(d) > ZERO_TOL)),
                        TEST: "wilcoxon_signed_rank;paired_t_log2",
                        WILCOXON_P: wilcoxon_signed_rank_p(
                            d, settings["zero_method"], exact_max_n=exact_max_n, min_n=min_pairs
                        ),
                        TTEST_P: one_sample_t_p(d, min_n=min_pairs),
                    }
                )
            censored = (used[BASELINE_STATUS] != MEASURED) | (used[FOLLOWUP_STATUS] != MEASURED)
            row[N_CENSORED] = int(censored.sum())
            rows.append(row)
    table = pd.DataFrame(rows, columns=[c for c in PAIRED_TEST_COLUMNS if c not in (WILCOXON_FDR, TTEST_FDR)])
    table[WILCOXON_FDR] = math.nan
    table[TTEST_FDR] = math.nan
    for contrast in contrasts:
        mask = table[CONTRAST] == contrast
        for p_column, fdr_column in ((WILCOXON_P, WILCOXON_FDR), (TTEST_P, TTEST_FDR)):
            table.loc[mask, fdr_column] = np.asarray(bh_adjust(table.loc[mask, p_column].to_numpy(float)), dtype=float)
    return table[PAIRED_TEST_COLUMNS]


# ---------------------------------------------------------------------------------------------
# Snakemake adapters


def elisa_values(table_paths, plate_path, analytes_path, sheet, timepoints, settings, table_names=None):
    """values.tsv from the lab table(s) and/or the plate concentrations (all steps above).

    ``table_names``: how the config names each lab table (default: its path); ``source_file``
    records that name, so the table does not depend on where tearflow is installed.
    """
    analyte_map = read_analyte_map(analytes_path)
    paths = list(table_paths) + ([plate_path] if plate_path else [])
    names = list(table_names or table_paths) + ([plate_path] if plate_path else [])
    parts = []
    for path, name in zip(paths, names):
        long = long_measurements(read_elisa_table(path), path)
        values = normalise_values(long, analyte_map, settings, path, analytes_path)
        values = attach_sample_sheet(values, sheet, timepoints, path, settings["visits"])
        values[SOURCE_FILE] = str(name)
        parts.append(values)
    values = pd.concat(parts, ignore_index=True)
    if len(parts) > 1:  # the same measurement in two inputs (lab table and plates)
        values = attach_sample_sheet(values.drop(columns=[SUBGROUP]), sheet, timepoints, "inputs", settings["visits"])
    counts = values[STATUS].value_counts()
    log.info(
        "%d ELISA values, %d analytes, %d patients; status: %s; censoring policy %s",
        len(values),
        values[ANALYTE].nunique(),
        values[PATIENT].nunique(),
        ", ".join(f"{status} {count}" for status, count in counts.items()),
        settings["censoring"],
    )
    return values
