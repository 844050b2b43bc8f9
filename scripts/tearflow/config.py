"""The config and the sample sheet, read and checked once, before any rule.

The config's JSON schema (``workflow/schemas/config.schema.yaml``) is the one source of every key's
default and allowed values: :func:`validated_config` refuses unknown, moved and invalid keys and
fills in every default, so each step receives its whole section and repeats no default or check.

``workflow/rules/common.smk`` calls :func:`validated_config` and :func:`check_sample_sheet`; every
problem is a :class:`~tearflow.errors.TearflowError` whose message names the key, file, row or
column, what was found and what was expected. Problems that still leave usable data (a patient with
one visit, samples at another visit) are returned as notes for the log instead.
"""

import copy
import difflib

import jsonschema
import yaml

from tearflow.columns import PATIENT, SAMPLE, SUBGROUP, TIMEPOINT
from tearflow.errors import TearflowError
from tearflow.samples import visit_key

#: keys of earlier releases → where they live now (a config naming one stops with both names)
MOVED_KEYS = {
    "elisa_analysis.top_proteins": "correlation.top_proteins",
    "elisa_analysis.correlation_min_n": "correlation.min_patients",
    "elisa_analysis.correlation_permutations": "correlation.permutations",
    "elisa_analysis.fdr": "correlation.fdr",
    "clinical_analysis.top_proteins": "correlation.top_proteins",
    "clinical_analysis.min_correlation_patients": "correlation.min_patients",
    "clinical_analysis.correlation_permutations": "correlation.permutations",
    "clinical_analysis.fdr": "correlation.fdr",
}


def load_schema(path):
    """A JSON schema written as YAML."""
    with open(path, encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def schema_defaults(schema):
    """The config made of every default the schema declares (what an empty config becomes)."""
    return with_defaults({}, schema)


def with_defaults(config, schema):
    """A deep copy of ``config`` with every key it leaves out set to the schema's default.

    Sections (objects with a ``default``) are created when missing and filled key by key; a section
    written as an empty YAML key (``None``) counts as empty; items of an array of objects (the
    ``proteomics`` tables) get their own defaults.
    """
    filled = copy.deepcopy(config)
    _fill_defaults(filled, schema)
    return filled


def _fill_defaults(instance, schema):
    if isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for item in instance:
            _fill_defaults(item, schema["items"])
        return
    if not isinstance(instance, dict) or schema.get("type") != "object":
        return
    for key, sub in (schema.get("properties") or {}).items():
        if instance.get(key, ...) is None and sub.get("type") == "object":
            instance[key] = {}
        if key not in instance and "default" in sub:
            instance[key] = copy.deepcopy(sub["default"])
        if key in instance:
            _fill_defaults(instance[key], sub)


def moved_keys(config):
    """(old key, new key) for every key of an earlier release the config still uses."""
    found = []
    for old, new in MOVED_KEYS.items():
        section, key = old.split(".")
        if isinstance(config.get(section), dict) and key in config[section]:
            found.append((old, new))
    return found


def validated_config(config, schema, config_name="config"):
    """``config`` checked against ``schema`` (:func:`check_config`) with every default filled in."""
    moved = moved_keys(config)
    if moved:
        raise TearflowError(
            f"{config_name}: "
            + "; ".join(f"key '{old}' is now '{new}'" for old, new in moved)
            + " (one `correlation:` section serves the ELISA and clinical joins); rename it in your config"
        )
    filled = with_defaults(config, schema)
    check_config(filled, schema, config_name)
    return filled


def unknown_keys(config, schema, prefix=""):
    """Config keys the schema does not know, each with the closest valid key (or None)."""
    found = []
    if not isinstance(config, dict) or schema.get("type") != "object":
        return found
    properties = schema.get("properties", {})
    open_ended = schema.get("additionalProperties", True) is not False
    for key, value in config.items():
        where = f"{prefix}{key}"
        if key in properties:
            found.extend(unknown_keys(value, properties[key], prefix=f"{where}."))
        elif not open_ended:
            close = difflib.get_close_matches(str(key), list(properties), n=1, cutoff=0.6)
            found.append((where, f"{prefix}{close[0]}" if close else None))
    return found


def check_config(config, schema, config_name="config"):
    """Raise on misspelt keys (with a suggestion) and on values the JSON schema refuses."""
    unknown = unknown_keys(config, schema)
    if unknown:
        lines = []
        for key, suggestion in unknown:
            hint = f" — did you mean '{suggestion}'?" if suggestion else ""
            lines.append(f"unknown key '{key}'{hint}")
        raise TearflowError(
            f"{config_name}: " + "; ".join(lines) + " (every key is listed in config/README.md)"
        )
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda error: list(error.absolute_path))
    if errors:
        error = errors[0]
        # proteomics[0].format: list items as the README and the other messages name them
        key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
        key = key.lstrip(".") or "(top level)"
        described = error.schema.get("description", "")
        expected = f" Expected: {described}" if described else ""
        raise TearflowError(
            f"{config_name}: key '{key}': {error.message}.{expected}"
        )


def check_sample_sheet(sheet, path, timepoints, min_patients):
    """Check the sheet's logic (the schema checks its shape); return notes for the log.

    Errors: the same label for baseline and follow-up; duplicate sample names; a patient with two
    samples at the same visit; a patient in two subgroups; a baseline or follow-up label that no
    sample carries, or fewer than ``min_patients`` paired patients in all (every contrast would be
    empty). Notes: samples at other visits; patients with only one of the two visits (left out of
    the paired contrasts); a subgroup with fewer paired patients than ``min_patients`` (its table and
    the interaction's are written with NA statistics; the other contrasts run).
    """
    notes = []
    if timepoints["baseline"] == timepoints["followup"]:
        raise TearflowError(
            f"config keys timepoints.baseline and timepoints.followup are both {timepoints['baseline']!r}; "
            "expected two different visit labels of the sample sheet (each patient's pair is their "
            "baseline and follow-up sample)"
        )

    def row_of(index):
        return int(index)  # the sheet is indexed by file line

    duplicated = sheet[sheet[SAMPLE].duplicated(keep=False)]
    if len(duplicated):
        name = duplicated[SAMPLE].iloc[0]
        rows = [row_of(i) for i in duplicated.index[duplicated[SAMPLE] == name]]
        raise TearflowError(
            f"sample sheet {path}: sample '{name}' is listed more than once (lines {rows}); "
            "expected each sample name once"
        )
    twice = sheet[sheet.duplicated([PATIENT, TIMEPOINT], keep=False)]
    if len(twice):
        first = twice.iloc[0]
        same = twice[(twice[PATIENT] == first[PATIENT]) & (twice[TIMEPOINT] == first[TIMEPOINT])]
        raise TearflowError(
            f"sample sheet {path}: patient '{first[PATIENT]}' has {len(same)} samples at timepoint "
            f"'{first[TIMEPOINT]}' (lines {[row_of(i) for i in same.index]}: "
            f"{', '.join(same[SAMPLE])}); expected one sample per patient and timepoint"
        )
    groups_per_patient = sheet.groupby(PATIENT)[SUBGROUP].nunique()
    if (groups_per_patient > 1).any():
        patient = groups_per_patient[groups_per_patient > 1].index[0]
        labels = sorted(sheet.loc[sheet[PATIENT] == patient, SUBGROUP].unique())
        raise TearflowError(
            f"sample sheet {path}: patient '{patient}' is in more than one subgroup ({', '.join(labels)}); "
            "expected one subgroup per patient"
        )
    labels = set(sheet[TIMEPOINT])
    for role in ("baseline", "followup"):
        label = timepoints[role]
        if label not in labels:
            raise TearflowError(
                f"sample sheet {path}: no sample has timepoint '{label}' (config key "
                f"timepoints.{role}), so the paired contrast would be empty; the sheet's timepoints "
                f"are: {', '.join(sorted(labels))}"
            )
    other = sorted(labels - {timepoints["baseline"], timepoints["followup"]})
    if other:
        counts = sheet[TIMEPOINT].value_counts()

        def described(label):
            # Week 4 is a visit of its own; "Week2" or "week 2" is the follow-up label mistyped.
            same = [t for t in (timepoints["baseline"], timepoints["followup"]) if visit_key(t) == visit_key(label)]
            hint = f"; is it '{same[0]}' mistyped?" if same else ""
            return f"{label} ({counts[label]}{hint})"

        notes.append(
            "samples at other visits are left out of the paired contrasts: " + ", ".join(map(described, other))
        )
    visits = sheet[sheet[TIMEPOINT].isin([timepoints["baseline"], timepoints["followup"]])]
    per_patient = visits.groupby(PATIENT)[TIMEPOINT].nunique()
    single = sorted(per_patient.index[per_patient < 2])
    if single:
        notes.append(
            f"{len(single)} patient(s) have only one of the two visits and are left out of the "
            f"paired contrasts: {', '.join(single)}"
        )
    paired = per_patient.index[per_patient == 2]
    subgroup_of = sheet.drop_duplicates(PATIENT).set_index(PATIENT)[SUBGROUP]
    paired_counts = subgroup_of[paired].value_counts()
    both_visits = f"both '{timepoints['baseline']}' and '{timepoints['followup']}' samples"
    if len(paired) < min_patients:
        raise TearflowError(
            f"sample sheet {path}: {len(paired)} patient(s) have {both_visits}; the paired model needs "
            f"at least {min_patients} (config key differential.min_pairs), so every contrast would be empty"
        )
    subgroups = list(dict.fromkeys(sheet[SUBGROUP]))
    for subgroup in subgroups:
        count = int(paired_counts.get(subgroup, 0))
        if count < min_patients:
            untested = f"'{subgroup}'" + (" and 'interaction'" if len(subgroups) == 2 else "")
            notes.append(
                f"subgroup '{subgroup}' has {count} patient(s) with {both_visits}, fewer than "
                f"differential.min_pairs ({min_patients}): the tables of {untested} are written with NA "
                "statistics; the other contrasts run"
            )
    return notes


def check_sheet_schema(sheet, schema, path):
    """Validate every row of the sample sheet against its JSON schema; name the row and column."""
    validator = jsonschema.Draft202012Validator(schema)
    for line, row in zip(sheet.index, sheet.to_dict(orient="records")):
        error = next(iter(sorted(validator.iter_errors(row), key=str)), None)
        if error is not None:
            column = ".".join(str(part) for part in error.absolute_path) or "(row)"
            described = error.schema.get("description", "")
            raise TearflowError(
                f"sample sheet {path}: line {line}, column '{column}': {error.message}"
                + (f" (expected: {described})" if described else "")
            )


def check_sheet_references(config, sheet, path):
    """Config keys that name samples or sheet columns must name ones the sheet has."""
    known = set(sheet[SAMPLE])
    excluded = (config.get("normalization") or {}).get("exclude_samples") or []
    unknown = [name for name in excluded if name not in known]
    if unknown:
        raise TearflowError(
            f"config key 'normalization.exclude_samples': {', '.join(map(repr, unknown))} not in the "
            f"sample sheet {path}; expected sample names from its 'sample' column"
        )
    reference = (config.get("normalization") or {}).get("reference", "patient")
    if reference not in ("patient", "median") and reference not in known:
        raise TearflowError(
            f"config key 'normalization.reference': {reference!r} is neither 'patient', 'median' nor a "
            f"sample of the sample sheet {path}"
        )
    covariates = (config.get("differential") or {}).get("covariates") or []
    reserved = {SAMPLE, PATIENT, SUBGROUP, TIMEPOINT}
    for name in covariates:
        if name in reserved or name not in sheet.columns:
            extra = [column for column in sheet.columns if column not in reserved]
            raise TearflowError(
                f"config key 'differential.covariates': '{name}' is not a covariate column of the "
                f"sample sheet {path}; expected one of: {', '.join(extra) or '(the sheet has no extra columns)'}"
            )
