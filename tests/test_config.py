"""The up-front checks of the config and the sample sheet (common.smk runs them before any rule)."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from tearflow.config import (
    MOVED_KEYS,
    check_config,
    check_sample_sheet,
    check_sheet_references,
    check_sheet_schema,
    schema_defaults,
    unknown_keys,
    validated_config,
    with_defaults,
)
from tearflow.errors import TearflowError

REPO = Path(__file__).resolve().parents[1]
TIMEPOINTS = {"baseline": "baseline", "followup": "week2"}


@pytest.fixture(scope="module")
def config_schema():
    return yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())


@pytest.fixture(scope="module")
def shipped_config():
    return yaml.safe_load((REPO / "config/config.yaml").read_text())


def sheet(rows):
    return pd.DataFrame(rows, columns=["sample", "patient", "subgroup", "timepoint"])


def as_read(table):
    """Index a sheet by file line, as `read_sample_sheet` does (the header is line 1)."""
    return table.set_axis(range(2, len(table) + 2))


def trial_sheet(n_a=3, n_b=3):
    rows = []
    for group, n in (("A", n_a), ("B", n_b)):
        for i in range(n):
            for visit in ("baseline", "week2"):
                rows.append((f"{group}{i}_{visit}", f"{group}{i}", group, visit))
    return as_read(sheet(rows))


def test_shipped_config_is_valid(config_schema, shipped_config):
    check_config(shipped_config, config_schema)


def test_misspelt_key_suggests_the_closest(config_schema, shipped_config):
    config = dict(shipped_config)
    config["timepionts"] = config.pop("timepoints")
    assert ("timepionts", "timepoints") in unknown_keys(config, config_schema)
    with pytest.raises(TearflowError, match="unknown key 'timepionts' — did you mean 'timepoints'"):
        check_config(config, config_schema)


def test_wrong_value_names_the_key(config_schema, shipped_config):
    config = {**shipped_config, "differential": {"min_pairs": 1}}
    with pytest.raises(TearflowError, match=r"key 'differential.min_pairs'"):
        check_config(config, config_schema)


def test_list_items_are_named_with_their_index_and_say_what_is_expected(config_schema, shipped_config):
    config = {**shipped_config, "proteomics": ["data/report.parquet"]}
    with pytest.raises(TearflowError, match=r"key 'proteomics\[0\]': .* Expected: one table as a mapping: path"):
        check_config(config, config_schema)
    config = {**shipped_config, "proteomics": [{"path": "a.tsv"}, {"path": "b.tsv", "format": "diann"}]}
    with pytest.raises(TearflowError, match=r"key 'proteomics\[1\]\.format': 'diann' is not one of"):
        check_config(config, config_schema)


def test_valid_sheet_gives_no_notes():
    assert check_sample_sheet(trial_sheet(), "s.tsv", TIMEPOINTS, 3) == []


def test_duplicate_sample_names_the_rows():
    table = trial_sheet()
    table.loc[3, "sample"] = table.loc[2, "sample"]
    with pytest.raises(TearflowError, match=r"sample 'A0_baseline' is listed more than once \(lines \[2, 3\]\)"):
        check_sample_sheet(table, "s.tsv", TIMEPOINTS, 3)


def test_two_samples_for_one_patient_and_visit():
    table = trial_sheet()
    table.loc[3, "timepoint"] = "baseline"
    with pytest.raises(TearflowError, match="patient 'A0' has 2 samples at timepoint 'baseline'"):
        check_sample_sheet(table, "s.tsv", TIMEPOINTS, 2)


def test_missing_followup_label_is_an_error():
    with pytest.raises(TearflowError, match=r"no sample has timepoint 'month1' \(config key timepoints.followup\)"):
        check_sample_sheet(trial_sheet(), "s.tsv", {"baseline": "baseline", "followup": "month1"}, 3)


def test_a_mistyped_visit_label_is_noted_with_the_label_it_resembles():
    table = trial_sheet()
    table.loc[3, "timepoint"] = "Week 2"
    table = as_read(pd.concat([table, sheet([("A0_w4", "A0", "A", "week4")])]))
    notes = " ".join(check_sample_sheet(table, "s.tsv", TIMEPOINTS, 2))
    assert "Week 2 (1; is it 'week2' mistyped?)" in notes
    assert "week4 (1)" in notes  # another visit, not a typo


def test_other_visits_and_unpaired_patients_are_notes():
    table = as_read(
        pd.concat([trial_sheet(), sheet([("A0_w4", "A0", "A", "week4"), ("A9_bl", "A9", "A", "baseline")])])
    )
    notes = check_sample_sheet(table, "s.tsv", TIMEPOINTS, 3)
    assert any("week4 (1)" in note for note in notes)
    assert any("A9" in note and "only one" in note for note in notes)


def test_too_small_subgroup_is_a_note_and_too_few_patients_in_all_an_error():
    notes = check_sample_sheet(trial_sheet(n_b=1), "s.tsv", TIMEPOINTS, 3)
    assert any(
        "subgroup 'B' has 1 patient(s)" in note and "'B' and 'interaction' are written with NA statistics" in note
        for note in notes
    )
    with pytest.raises(TearflowError, match="2 patient.*needs at least 3.*every contrast would be empty"):
        check_sample_sheet(trial_sheet(n_a=1, n_b=1), "s.tsv", TIMEPOINTS, 3)


def test_the_same_label_for_both_visits_is_its_own_error():
    with pytest.raises(TearflowError, match="timepoints.baseline and timepoints.followup are both 'week2'"):
        check_sample_sheet(trial_sheet(), "s.tsv", {"baseline": "week2", "followup": "week2"}, 3)


def test_patient_in_two_subgroups():
    table = trial_sheet()
    table.loc[3, "subgroup"] = "B"
    with pytest.raises(TearflowError, match="patient 'A0' is in more than one subgroup"):
        check_sample_sheet(table, "s.tsv", TIMEPOINTS, 3)


def test_sheet_schema_names_row_and_column():
    schema = yaml.safe_load((REPO / "workflow/schemas/samples.schema.yaml").read_text())
    table = trial_sheet()
    table.loc[4, "patient"] = ""
    with pytest.raises(TearflowError, match=r"line 4, column 'patient'"):
        check_sheet_schema(table, schema, "s.tsv")


def test_excluded_sample_must_exist():
    config = {"normalization": {"exclude_samples": ["A0_baseline", "nope"]}}
    with pytest.raises(TearflowError, match=r"normalization.exclude_samples': 'nope' not in the sample sheet"):
        check_sheet_references(config, trial_sheet(), "s.tsv")


def test_covariate_must_be_a_sheet_column():
    table = trial_sheet().assign(age="50")
    check_sheet_references({"differential": {"covariates": ["age"]}}, table, "s.tsv")
    with pytest.raises(TearflowError, match=r"'sex' is not a covariate column .* expected one of: age"):
        check_sheet_references({"differential": {"covariates": ["sex"]}}, table, "s.tsv")


def test_normalization_reference_must_be_a_mode_or_a_sample():
    check_sheet_references({"normalization": {"reference": "A0_baseline"}}, trial_sheet(), "s.tsv")
    with pytest.raises(TearflowError, match="normalization.reference': 'A9'"):
        check_sheet_references({"normalization": {"reference": "A9"}}, trial_sheet(), "s.tsv")


@pytest.mark.parametrize("subgroup", ["all", "interaction", "<b>SSDE</b>"])
def test_subgroup_names_that_would_clash_are_refused(subgroup):
    schema = yaml.safe_load((REPO / "workflow/schemas/samples.schema.yaml").read_text())
    table = trial_sheet()
    table.loc[2, "subgroup"] = subgroup
    with pytest.raises(TearflowError, match=r"line 2, column 'subgroup'"):
        check_sheet_schema(table, schema, "s.tsv")


@pytest.mark.parametrize(
    "section, key, value",
    [
        ("normalization", "method", "loess"),
        ("normalization", "input_is_log2", "maybe"),
        ("qc", "outlier_metrics", ["bogus"]),
        ("qc", "outlier_z", -1),
        ("imputation", "method", "mice"),
        ("imputation", "shift", "x"),
        ("imputation", "knn_neighbors", 0),
        ("differential", "min_pairs", 0),
        ("differential", "fdr", 5),
        ("differential", "treat_log2fc", -0.5),
        ("enrichment", "gsea_engine", "fast"),
        ("elisa_analysis", "censoring", "drop"),
        ("elisa_analysis", "zero_method", "none"),
        ("elisa_analysis", "blank", "zero"),
        ("clinical_analysis", "eye_summary", "best"),
        ("clinical_analysis", "wilcoxon_method", "fast"),
        ("clinical_analysis", "correlate_with", "value"),
        ("correlation", "min_patients", 2),
        ("import", "decimal", "dot"),
        ("import", "diann_precursor_qvalue_filters", [0.01]),
        ("import", "spectronaut_precursor_qvalue_filters", {"EG.Qvalue": "low"}),
        ("import", "maxquant_precursor_filters", {"PEP": True}),
        ("import", "maxquant_precursor_protein", "Razor"),
        ("import", "precursor_proteotypic_only", "yes"),
    ],
)
def test_the_schema_refuses_a_bad_value_naming_the_key(config_schema, shipped_config, section, key, value):
    """Allowed values live in the schema only: every step trusts its validated section."""
    config = {**shipped_config, section: {key: value}}
    with pytest.raises(TearflowError, match=rf"key '{section}\.{key}"):
        validated_config(config, config_schema)


def test_validation_fills_every_default_and_a_config_of_the_three_required_keys_is_enough(config_schema):
    minimal = {"samples": "s.tsv", "proteomics": [{"path": "t.tsv"}], "timepoints": {"baseline": "b", "followup": "f"}}
    filled = validated_config(minimal, config_schema)
    assert filled["proteomics"] == [{"path": "t.tsv", "format": "auto", "batch": None}]
    assert filled["differential"]["min_pairs"] == 3 and filled["elisa"] is None and filled["clinical"] is None
    assert filled == with_defaults(filled, config_schema)  # nothing left to fill
    assert minimal == {
        "samples": "s.tsv",
        "proteomics": [{"path": "t.tsv"}],
        "timepoints": {"baseline": "b", "followup": "f"},
    }


def test_an_empty_section_is_all_defaults(config_schema, shipped_config):
    filled = validated_config({**shipped_config, "qc": None}, config_schema)
    assert filled["qc"] == schema_defaults(config_schema)["qc"]


def test_every_schema_key_has_a_default_or_is_required(config_schema):
    required = set(config_schema["required"])
    for key, sub in config_schema["properties"].items():
        assert key in required or "default" in sub, key
        for inner, inner_schema in (sub.get("properties") or {}).items():
            if sub.get("type") == "object" and key not in required:
                assert "default" in inner_schema, f"{key}.{inner}"


@pytest.mark.parametrize("old, new", sorted(MOVED_KEYS.items()))
def test_a_moved_key_names_its_new_place(config_schema, shipped_config, old, new):
    section, key = old.split(".")
    with pytest.raises(TearflowError, match=rf"key '{old}' is now '{new}'"):
        validated_config({**shipped_config, section: {key: 5}}, config_schema)
