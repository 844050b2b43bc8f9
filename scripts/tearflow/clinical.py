"""Clinical endpoints beside the proteome: read, validate, summarize eyes, test change from baseline.

The clinical table (config key ``clinical``) holds OSDI, tear meniscus height, NIBUT, Schirmer I,
corneal staining and the secondary endpoints at every visit, wide (one column per endpoint) or long
(``endpoint``, ``value``), per patient or per eye. Endpoints, their units, roles and the direction
that counts as improvement come from ``resources/clinical/endpoints.tsv``
(``clinical_analysis.endpoints``); the rows are checked against
``workflow/schemas/clinical.schema.yaml``.

Outputs: ``results/clinical/values.tsv`` (one row per patient × visit × endpoint after the eye
summary, with the change from baseline) and ``results/clinical/endpoint_tests.tsv`` (per endpoint ×
subgroup × visit: median/mean change, paired Wilcoxon signed-rank and paired t, BH within subgroup ×
visit across endpoints, and whether the median change points the better way).
"""

import logging
import re

import numpy as np
import pandas as pd

from tearflow.columns import CHANGE, N_PAIRS, PATIENT, SUBGROUP
from tearflow.contrasts import CONTRAST_ALL
from tearflow.errors import TearflowError
from tearflow.multiple_testing import bh_adjust
from tearflow.nonparametric import one_sample_t_p, wilcoxon_signed_rank_p
from tearflow.samples import subgroup_order
from tearflow.tables import read_user_table

log = logging.getLogger(__name__)

# columns of the clinical input table and of results/clinical/*.tsv
VISIT = "visit"
EYE = "eye"
ENDPOINT = "endpoint"
VALUE = "value"
ROW = "row"
N_EYES = "n_eyes"
BASELINE_VALUE = "baseline_value"
IMPROVEMENT = "improvement"  # change signed so that a positive number is always better

# columns of the endpoint definition table (resources/clinical/endpoints.tsv)
FULL_NAME = "full_name"
UNIT = "unit"
BETTER = "better"  # lower | higher: which direction of change is an improvement
ROLE = "role"  # primary | secondary
ALIASES = "aliases"
DEFINITION_COLUMNS = (ENDPOINT, FULL_NAME, UNIT, BETTER, ROLE, ALIASES)
BETTER_VALUES = ("lower", "higher")
ROLE_VALUES = ("primary", "secondary")

# columns of results/clinical/endpoint_tests.tsv (besides endpoint, subgroup, visit, n_pairs)
MEDIAN_BASELINE = "median_baseline"
MEDIAN_VISIT = "median_visit"
MEDIAN_CHANGE = "median_change"
MEAN_CHANGE = "mean_change"
WILCOXON_P = "wilcoxon_p"
TTEST_P = "ttest_p"
WILCOXON_FDR = "wilcoxon_fdr"
TTEST_FDR = "ttest_fdr"
IMPROVED = "improved"

# columns of results/clinical/summary.tsv (besides endpoint, subgroup, visit)
N_PATIENTS = "n_patients"
MEDIAN = "median"
Q1 = "q1"
Q3 = "q3"
MEAN = "mean"

EYE_SPELLINGS = {"od": "OD", "r": "OD", "re": "OD", "right": "OD",
                 "os": "OS", "l": "OS", "le": "OS", "left": "OS"}  # fmt: skip
EYE_SUMMARIES = ("mean", "worse")
MISSING_CELLS = {"", "NA", "N/A", "NaN", "nan", "na", "n/a", "."}
ID_COLUMNS = (PATIENT, VISIT, EYE, SUBGROUP)
DECIMALS = 10  # eye means and changes are rounded here, so 0.3 − 0.1 is written as 0.2


def spelling_key(name):
    """How a column or endpoint name is compared: case, spaces, '-' and '_' do not matter."""
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


def read_endpoint_definitions(path):
    """The endpoint table: one row per endpoint (index = endpoint) with its spellings checked."""
    table = read_user_table(path, "endpoint table", DEFINITION_COLUMNS)
    table = table[list(DEFINITION_COLUMNS)].apply(lambda column: column.str.strip())
    for column, allowed in ((BETTER, BETTER_VALUES), (ROLE, ROLE_VALUES)):
        wrong = table.index[~table[column].isin(allowed)]
        if len(wrong):
            row = table.loc[wrong[0]]
            raise TearflowError(
                f"endpoint table {path}: endpoint {row[ENDPOINT]!r}, column '{column}': found "
                f"{row[column]!r}; expected one of {', '.join(allowed)}"
            )
    if (table[ENDPOINT] == "").any() or table[ENDPOINT].duplicated().any():
        raise TearflowError(
            f"endpoint table {path}: column '{ENDPOINT}' must name each endpoint once "
            f"(found {', '.join(table[ENDPOINT])})"
        )
    table = table.set_index(ENDPOINT, drop=False)
    endpoint_lookup(table, path)  # refuses one spelling for two endpoints
    return table


def endpoint_lookup(definitions, path="endpoint table"):
    """Map every accepted spelling (see :func:`spelling_key`) to its endpoint name."""
    lookup = {}
    for endpoint, aliases in zip(definitions[ENDPOINT], definitions[ALIASES]):
        for spelling in [endpoint] + [a for a in str(aliases).split(";") if a.strip()]:
            key = spelling_key(spelling)
            if lookup.get(key, endpoint) != endpoint:
                raise TearflowError(
                    f"{path}: spelling {spelling.strip()!r} is given for two endpoints "
                    f"({lookup[key]} and {endpoint}); each spelling must mean one endpoint"
                )
            lookup[key] = endpoint
    return lookup


def read_clinical_table(path):
    """The clinical table as strings, headers and cells stripped, ID columns given their names."""
    try:
        raw = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise TearflowError(f"clinical table {path}: cannot be read as a TSV ({error})") from error
    raw.columns = [str(column).strip() for column in raw.columns]
    named = {}
    for column in raw.columns:
        key = spelling_key(column)
        for name in (PATIENT, VISIT, EYE, SUBGROUP, ENDPOINT, VALUE):
            if key == name:
                named[column] = name
    raw = raw.rename(columns=named)
    if raw.columns.duplicated().any():
        twice = sorted(set(raw.columns[raw.columns.duplicated()]))
        raise TearflowError(f"clinical table {path}: column(s) {', '.join(twice)} appear twice")
    missing = [column for column in (PATIENT, VISIT) if column not in raw.columns]
    if missing:
        raise TearflowError(
            f"clinical table {path}: missing column(s) {', '.join(missing)}; expected "
            f"patient, visit, optional eye, then one column per endpoint (wide) or endpoint, "
            f"value (long) — found {', '.join(raw.columns)}"
        )
    return raw.apply(lambda column: column.str.strip())


def is_long_layout(raw):
    """True for the long layout (``endpoint`` and ``value`` columns), False for the wide one."""
    return ENDPOINT in raw.columns and VALUE in raw.columns


def _number_or_text(cell):
    """A cell as a float when it reads as one; the text otherwise (the schema then names it)."""
    try:
        return float(cell)
    except ValueError:
        return cell


def validate_rows(raw, schema, path, numeric_columns):
    """Check every row against the clinical JSON schema; the error names the row and column.

    Missing cells are left out of the row (they are allowed anywhere but in patient/visit); cells
    of ``numeric_columns`` are offered to the schema as numbers when they read as numbers.
    """
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    for index, record in enumerate(raw.to_dict(orient="records")):
        row = {}
        for column, cell in record.items():
            if column not in (PATIENT, VISIT) and cell in MISSING_CELLS:
                continue
            row[column] = _number_or_text(cell) if column in numeric_columns else cell
        error = next(iter(sorted(validator.iter_errors(row), key=str)), None)
        if error is not None:
            column = ".".join(str(part) for part in error.absolute_path) or "(row)"
            described = error.schema.get("description", "")
            raise TearflowError(
                f"clinical table {path}: row {index + 2}, column '{column}': {error.message}"
                + (f" (expected: {described})" if described else "")
            )


def wide_endpoint_columns(raw, definitions, path, ignore_endpoints=()):
    """Wide layout: {column: endpoint} for every endpoint column. A column that is neither an ID
    column, an endpoint spelling nor listed in ``ignore_endpoints`` is an error naming it."""
    lookup = endpoint_lookup(definitions)
    ignored = {spelling_key(name) for name in ignore_endpoints}
    endpoint_of = {}
    for column in raw.columns:
        if column in ID_COLUMNS or spelling_key(column) in ignored:
            continue
        if spelling_key(column) not in lookup:
            raise TearflowError(
                f"clinical table {path}: column {column!r} is not a known endpoint; expected "
                f"patient, visit, optional eye/subgroup, then endpoints "
                f"({', '.join(definitions[ENDPOINT])} or an accepted spelling from the endpoint "
                "table), or list the column in clinical_analysis.ignore_endpoints"
            )
        endpoint = lookup[spelling_key(column)]
        if endpoint in endpoint_of.values():
            other = next(c for c, e in endpoint_of.items() if e == endpoint)
            raise TearflowError(
                f"clinical table {path}: columns {other!r} and {column!r} both mean endpoint {endpoint}; keep one"
            )
        endpoint_of[column] = endpoint
    if not endpoint_of:
        raise TearflowError(
            f"clinical table {path}: no endpoint columns found; expected at least one of "
            f"{', '.join(definitions[ENDPOINT])}"
        )
    return endpoint_of


def clinical_long(raw, definitions, path, ignore_endpoints=()):
    """One row per measurement: patient, visit, eye, [subgroup], endpoint, value, row.

    Endpoint names (wide: column names; long: the ``endpoint`` column) are mapped to the names of
    the endpoint table through their accepted spellings. ``ignore_endpoints`` are left out; any
    other unknown name is an error. ``eye`` is ``OD``/``OS``, or empty when the table has no eye
    column. ``row`` is the row number in the file (header = row 1). Call :func:`validate_rows`
    first: values are expected to read as numbers.
    """
    ids = [column for column in ID_COLUMNS if column in raw.columns]
    table = raw.copy()
    table[ROW] = np.arange(len(table)) + 2
    if is_long_layout(raw):
        lookup = endpoint_lookup(definitions)
        ignored = {spelling_key(name) for name in ignore_endpoints}
        extra = [c for c in raw.columns if c not in ids + [ENDPOINT, VALUE]]
        if extra:
            log.info("clinical table %s: columns left out of the long layout: %s", path, extra)
        long = table[ids + [ENDPOINT, VALUE, ROW]].copy()
        keys = long[ENDPOINT].map(spelling_key)
        drop = keys.isin(ignored)
        unknown = ~drop & ~keys.isin(lookup)
        if unknown.any():
            first = long[unknown].iloc[0]
            raise TearflowError(
                f"clinical table {path}: row {first[ROW]}, column 'endpoint': unknown endpoint "
                f"{first[ENDPOINT]!r}; expected one of {', '.join(definitions[ENDPOINT])} (or an "
                "accepted spelling from the endpoint table), or list it in "
                "clinical_analysis.ignore_endpoints"
            )
        long = long[~drop].copy()
        long[ENDPOINT] = keys[~drop].map(lookup)
    else:
        endpoint_of = wide_endpoint_columns(raw, definitions, path, ignore_endpoints)
        long = table.melt(id_vars=ids + [ROW], value_vars=list(endpoint_of), var_name=ENDPOINT, value_name=VALUE)
        long[ENDPOINT] = long[ENDPOINT].map(endpoint_of)
    long[VALUE] = [np.nan if cell in MISSING_CELLS else float(cell) for cell in long[VALUE]]
    if EYE in long.columns:
        long[EYE] = [EYE_SPELLINGS.get(str(cell).lower(), "") for cell in long[EYE]]
    else:
        long[EYE] = ""
    if SUBGROUP in long.columns:
        long[SUBGROUP] = long[SUBGROUP].mask(long[SUBGROUP].isin(MISSING_CELLS))
    columns = [PATIENT, VISIT, EYE] + ([SUBGROUP] if SUBGROUP in long.columns else [])
    return long[columns + [ENDPOINT, VALUE, ROW]].reset_index(drop=True)


def visit_order(baseline, visits):
    """The visits to analyse in order, the baseline first (added when the list leaves it out)."""
    ordered = [baseline] + [visit for visit in visits if visit != baseline]
    return list(dict.fromkeys(ordered))


def keep_known_visits(long, visits, ignore_visits, path):
    """Drop the rows of ignored visits (logged); an unknown visit label is an error naming the row."""
    ignored = long[VISIT].isin(ignore_visits)
    if ignored.any():
        log.info(
            "clinical table %s: %d value(s) at ignored visit(s) %s left out",
            path,
            int(ignored.sum()),
            ", ".join(sorted(set(long.loc[ignored, VISIT]))),
        )
    unknown = ~ignored & ~long[VISIT].isin(visits)
    if unknown.any():
        first = long[unknown].iloc[0]
        raise TearflowError(
            f"clinical table {path}: row {first[ROW]}, column 'visit': unknown visit "
            f"{first[VISIT]!r}; expected one of {', '.join(visits)} (clinical_analysis.visits, "
            "baseline from timepoints.baseline) or list it in clinical_analysis.ignore_visits"
        )
    return long[~ignored].reset_index(drop=True)


def check_unique_measurements(long, path):
    """Each patient × visit × eye × endpoint is measured once; a second row is an error."""
    keys = [PATIENT, VISIT, EYE, ENDPOINT]
    twice = long[long.duplicated(keys, keep=False)]
    if len(twice):
        first = twice.iloc[0]
        same = twice[(twice[keys] == first[keys]).all(axis=1)]
        eye = f", eye {first[EYE]}" if first[EYE] else ""
        raise TearflowError(
            f"clinical table {path}: rows {', '.join(str(r) for r in same[ROW])} all give "
            f"{first[ENDPOINT]} for patient {first[PATIENT]!r} at visit {first[VISIT]!r}{eye}; "
            "expected one value per patient, visit, eye and endpoint"
        )
    if (long[EYE] != "").any() and (long[EYE] == "").any():
        first = long[long[EYE] == ""].iloc[0]
        raise TearflowError(
            f"clinical table {path}: row {first[ROW]}, column 'eye' is empty while other rows "
            "name an eye; expected OD/OS (or right/left) in every row, or no eye column"
        )


def summarize_eyes(long, definitions, how="mean"):
    """One value per patient × visit × endpoint: the mean of the eyes, or the worse eye.

    ``worse`` takes the eye whose value is worse by the endpoint's direction of improvement (the
    higher OSDI/staining, the lower Schirmer/TMH/NIBUT). Missing eyes are left out; ``n_eyes``
    counts the eyes behind each value (0 when none was measured: the value is then missing).
    """
    if how not in EYE_SUMMARIES:
        raise TearflowError(
            f"config key 'clinical_analysis.eye_summary': found {how!r}; expected one of {', '.join(EYE_SUMMARIES)}"
        )
    keys = [PATIENT, VISIT, ENDPOINT]
    if how == "mean":
        summary = long.groupby(keys, sort=False)[VALUE].mean()
    else:
        lower_better = long[ENDPOINT].map(definitions[BETTER]) == "lower"
        worst_first = long.assign(_worse=np.where(lower_better, long[VALUE], -long[VALUE]))
        summary = worst_first.groupby(keys, sort=False)["_worse"].max()
        lower = summary.index.get_level_values(ENDPOINT).map(definitions[BETTER]) == "lower"
        summary = pd.Series(np.where(lower, summary, -summary), index=summary.index)
    counts = long.groupby(keys, sort=False)[VALUE].count()
    out = pd.DataFrame({VALUE: summary.round(DECIMALS), N_EYES: counts}).reset_index()
    if SUBGROUP in long.columns:
        given = long.dropna(subset=[SUBGROUP]).drop_duplicates(PATIENT).set_index(PATIENT)
        out[SUBGROUP] = out[PATIENT].map(given[SUBGROUP])  # first subgroup given per patient
    return out


def patient_subgroups(values, sheet, path):
    """Add each patient's subgroup (from the sample sheet; an optional clinical ``subgroup``
    column covers patients without tear samples). Patients with neither are logged and left out."""
    from_sheet = sheet.drop_duplicates(PATIENT).set_index(PATIENT)[SUBGROUP]
    given = values[SUBGROUP] if SUBGROUP in values.columns else pd.Series(np.nan, values.index)
    sheet_subgroup = values[PATIENT].map(from_sheet)
    clash = given.notna() & sheet_subgroup.notna() & (given != sheet_subgroup)
    if clash.any():
        first = values[clash].iloc[0]
        raise TearflowError(
            f"clinical table {path}: patient {first[PATIENT]!r} has subgroup "
            f"{first[SUBGROUP]!r} but {sheet_subgroup[clash].iloc[0]!r} in the sample sheet; "
            "expected the same subgroup in both"
        )
    subgroup = sheet_subgroup.where(sheet_subgroup.notna(), given)
    unknown = sorted(set(values.loc[subgroup.isna(), PATIENT]))
    if unknown:
        log.warning(
            "clinical table %s: patient(s) not in the sample sheet and without a subgroup column, left out: %s",
            path,
            ", ".join(unknown),
        )
    without = sorted(set(from_sheet.index) - set(values[PATIENT]))
    if without:
        log.warning("patient(s) of the sample sheet without clinical values: %s", ", ".join(without))
    out = values.assign(**{SUBGROUP: subgroup})
    return out[subgroup.notna()].reset_index(drop=True)


def changes_from_baseline(values, definitions, baseline, visits, subgroups=()):
    """Add baseline_value, change (visit − baseline) and improvement (change signed so that a
    positive number is better: −change for lower-is-better endpoints). Rows come out ordered by
    subgroup (``subgroups`` first, then as they appear), patient, endpoint (table order) and visit
    (config order)."""
    base = values[values[VISIT] == baseline].set_index([PATIENT, ENDPOINT])[VALUE]
    keyed = pd.MultiIndex.from_frame(values[[PATIENT, ENDPOINT]])
    out = values.copy()
    out[BASELINE_VALUE] = base.reindex(keyed).to_numpy()
    out[CHANGE] = (out[VALUE] - out[BASELINE_VALUE]).round(DECIMALS)
    sign = np.where(out[ENDPOINT].map(definitions[BETTER]) == "lower", -1.0, 1.0)
    out[IMPROVEMENT] = out[CHANGE] * sign + 0.0  # + 0.0 turns -0.0 into 0.0
    ranks = {
        "_subgroup": out[SUBGROUP].map(
            {s: i for i, s in enumerate(dict.fromkeys(list(subgroups) + list(out[SUBGROUP])))}
        ),
        "_endpoint": out[ENDPOINT].map({e: i for i, e in enumerate(definitions[ENDPOINT])}),
        "_visit": out[VISIT].map({v: i for i, v in enumerate(visits)}),
    }
    out = out.assign(**ranks).sort_values(["_subgroup", PATIENT, "_endpoint", "_visit"], kind="stable")
    columns = [PATIENT, SUBGROUP, VISIT, ENDPOINT, VALUE, N_EYES, BASELINE_VALUE, CHANGE, IMPROVEMENT]
    return out[columns].reset_index(drop=True)


def is_improved(median_change, better):
    """True when the median change points the better way (down for ``lower``, up for ``higher``),
    False when it points the other way or is zero, missing (NA) when there is no change."""
    if pd.isna(median_change):
        return pd.NA
    return bool(median_change < 0) if better == "lower" else bool(median_change > 0)


def endpoint_tests(values, definitions, subgroups, baseline, visits, min_pairs=3,
                   wilcoxon_method="auto"):  # fmt: skip
    """Change from baseline per endpoint × subgroup (each, then ``all``) × follow-up visit.

    Columns: endpoint, unit, role, better, subgroup, visit, n_pairs (patients with both values),
    median_baseline, median_visit, median_change, mean_change, wilcoxon_p, ttest_p, wilcoxon_fdr,
    ttest_fdr (Benjamini–Hochberg across endpoints within each subgroup × visit), improved.
    Tests of the visit − baseline changes: Wilcoxon signed-rank with scipy's ``wilcoxon_method``
    (:func:`tearflow.nonparametric.wilcoxon_signed_rank_p`) and paired t
    (:func:`tearflow.nonparametric.one_sample_t_p`); fewer than ``min_pairs`` pairs, all changes zero, or
    no variance → NaN (never p = 0). Visits without any value are left out.
    """
    present = [v for v in visits if v != baseline and v in set(values[VISIT])]
    endpoints = [e for e in definitions[ENDPOINT] if e in set(values[ENDPOINT])]
    paired = values.dropna(subset=[CHANGE])
    rows = []
    for subgroup in list(subgroups) + [CONTRAST_ALL]:
        in_group = paired if subgroup == CONTRAST_ALL else paired[paired[SUBGROUP] == subgroup]
        for visit in present:
            at_visit = in_group[in_group[VISIT] == visit]
            for endpoint in endpoints:
                these = at_visit[at_visit[ENDPOINT] == endpoint]
                wilcoxon_p = wilcoxon_signed_rank_p(these[CHANGE], method=wilcoxon_method, min_n=min_pairs)
                ttest_p = one_sample_t_p(these[CHANGE], min_n=min_pairs)
                median_change = these[CHANGE].median() if len(these) else np.nan
                better = definitions.loc[endpoint, BETTER]
                rows.append(
                    {
                        ENDPOINT: endpoint,
                        UNIT: definitions.loc[endpoint, UNIT],
                        ROLE: definitions.loc[endpoint, ROLE],
                        BETTER: better,
                        SUBGROUP: subgroup,
                        VISIT: visit,
                        N_PAIRS: len(these),
                        MEDIAN_BASELINE: these[BASELINE_VALUE].median() if len(these) else np.nan,
                        MEDIAN_VISIT: these[VALUE].median() if len(these) else np.nan,
                        MEDIAN_CHANGE: median_change,
                        MEAN_CHANGE: these[CHANGE].mean() if len(these) else np.nan,
                        WILCOXON_P: wilcoxon_p,
                        TTEST_P: ttest_p,
                        IMPROVED: is_improved(median_change, better),
                    }
                )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table[WILCOXON_FDR] = np.nan
    table[TTEST_FDR] = np.nan
    for _, family in table.groupby([SUBGROUP, VISIT], sort=False):
        table.loc[family.index, WILCOXON_FDR] = bh_adjust(family[WILCOXON_P].to_numpy())
        table.loc[family.index, TTEST_FDR] = bh_adjust(family[TTEST_P].to_numpy())
    table[IMPROVED] = table[IMPROVED].astype("boolean")
    order = [c for c in table.columns if c != IMPROVED] + [IMPROVED]
    return table[order]


def visit_summary(values, definitions, subgroups, visits):
    """Descriptive values per endpoint × subgroup (each, then ``all``) × visit: n, median,
    quartiles and mean of the patients measured at that visit (what the trajectory figure draws)."""
    rows = []
    endpoints = [e for e in definitions[ENDPOINT] if e in set(values[ENDPOINT])]
    present = [v for v in visits if v in set(values[VISIT])]
    measured = values.dropna(subset=[VALUE])
    for endpoint in endpoints:
        for subgroup in list(subgroups) + [CONTRAST_ALL]:
            for visit in present:
                these = measured[(measured[ENDPOINT] == endpoint) & (measured[VISIT] == visit)]
                if subgroup != CONTRAST_ALL:
                    these = these[these[SUBGROUP] == subgroup]
                numbers = these[VALUE]
                rows.append(
                    {
                        ENDPOINT: endpoint,
                        SUBGROUP: subgroup,
                        VISIT: visit,
                        N_PATIENTS: len(numbers),
                        MEDIAN: numbers.median() if len(numbers) else np.nan,
                        Q1: numbers.quantile(0.25) if len(numbers) else np.nan,
                        Q3: numbers.quantile(0.75) if len(numbers) else np.nan,
                        MEAN: numbers.mean() if len(numbers) else np.nan,
                    }
                )
    return pd.DataFrame(rows, columns=[ENDPOINT, SUBGROUP, VISIT, N_PATIENTS, MEDIAN, Q1, Q3, MEAN])


def load_clinical(path, definitions, schema, settings, baseline):
    """Read, validate and reshape the clinical table: the long table of known visits (checked)."""
    raw = read_clinical_table(path)
    if is_long_layout(raw):
        numeric = {VALUE}
    else:
        numeric = set(wide_endpoint_columns(raw, definitions, path, settings["ignore_endpoints"]))
        raw = raw[[c for c in raw.columns if c in ID_COLUMNS or c in numeric]]
    validate_rows(raw, schema, path, numeric)
    long = clinical_long(raw, definitions, path, settings["ignore_endpoints"])
    visits = visit_order(baseline, settings["visits"])
    long = keep_known_visits(long, visits, settings["ignore_visits"], path)
    check_unique_measurements(long, path)
    return long


def clinical_values(long, definitions, sheet, settings, baseline, path):
    """Per-patient values per visit after the eye summary, with subgroup and change from baseline."""
    values = summarize_eyes(long, definitions, settings["eye_summary"])
    values = patient_subgroups(values, sheet, path)
    visits = visit_order(baseline, settings["visits"])
    return changes_from_baseline(values, definitions, baseline, visits, subgroup_order(sheet))
