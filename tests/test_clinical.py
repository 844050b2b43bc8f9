"""Clinical endpoints: reading both layouts, visits, eyes, direction of improvement, paired tests."""

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, config_section

from tearflow import clinical
from tearflow.errors import TearflowError
from tearflow.multiple_testing import bh_adjust

ENDPOINTS = REPO / "resources" / "clinical" / "endpoints.tsv"
SCHEMA = REPO / "workflow" / "schemas" / "clinical.schema.yaml"
VISITS = ["baseline", "week2", "week4", "month12"]


@pytest.fixture(scope="module")
def definitions():
    return clinical.read_endpoint_definitions(ENDPOINTS)


@pytest.fixture(scope="module")
def schema():
    with open(SCHEMA, encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def settings(**changes):
    return config_section("clinical_analysis", **changes)


def write(tmp_path, text, name="clinical.tsv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def sheet(patients):
    return pd.DataFrame(
        {"sample": [f"{p}_b" for p in patients], "patient": list(patients),
         "subgroup": [p[:4] for p in patients], "timepoint": "baseline"}
    )  # fmt: skip


def load(tmp_path, definitions, schema, text, baseline="baseline", **changes):
    path = write(tmp_path, text)
    return clinical.load_clinical(path, definitions, schema, settings(**changes), baseline)


WIDE_PER_EYE = (
    "Patient\tVisit\tEye\tOSDI score\tSchirmer I\n"
    "NSDE01\tbaseline\tR\t40\t5\n"
    "NSDE01\tbaseline\tL\t40\t9\n"
    "NSDE01\tweek2\tright\t30\t7\n"
    "NSDE01\tweek2\tleft\t30\tNA\n"
)


# --- endpoint definitions ------------------------------------------------------------------------
def test_shipped_endpoints_know_the_direction_of_improvement(definitions):
    assert definitions.loc["OSDI", clinical.BETTER] == "lower"
    assert definitions.loc["CFS", clinical.BETTER] == "lower"
    assert definitions.loc["SIT", clinical.BETTER] == "higher"
    assert definitions.loc["TMH", clinical.BETTER] == "higher"
    assert definitions.loc["NIBUT", clinical.BETTER] == "higher"
    primary = set(definitions.index[definitions[clinical.ROLE] == "primary"])
    assert primary == {"OSDI", "TMH", "NIBUT", "SIT", "CFS"}
    lookup = clinical.endpoint_lookup(definitions)
    assert lookup[clinical.spelling_key("Schirmer I")] == "SIT"
    assert lookup[clinical.spelling_key("nikbut")] == "NIBUT"
    assert lookup[clinical.spelling_key("Meibomian-Score")] == "meibomian_score"


def test_endpoint_table_refuses_an_unknown_direction(tmp_path):
    path = write(
        tmp_path,
        "endpoint\tfull_name\tunit\tbetter\trole\taliases\nOSDI\tOSDI\tscore\tdown\tprimary\t\n",
        "endpoints.tsv",
    )
    with pytest.raises(TearflowError, match=r"endpoint 'OSDI', column 'better'.*'down'"):
        clinical.read_endpoint_definitions(path)


# --- layouts, eyes, values -----------------------------------------------------------------------
def test_wide_per_eye_table_maps_spellings_and_eyes(tmp_path, definitions, schema):
    long = load(tmp_path, definitions, schema, WIDE_PER_EYE)
    assert set(long[clinical.ENDPOINT]) == {"OSDI", "SIT"}
    assert set(long[clinical.EYE]) == {"OD", "OS"}
    missing = long[(long[clinical.VISIT] == "week2") & (long[clinical.EYE] == "OS")
                   & (long[clinical.ENDPOINT] == "SIT")]  # fmt: skip
    assert missing[clinical.VALUE].isna().all()
    assert list(missing[clinical.ROW]) == [5]


def test_long_layout_gives_the_same_values_as_wide(tmp_path, definitions, schema):
    wide = load(tmp_path, definitions, schema, WIDE_PER_EYE)
    long_text = "patient\tvisit\teye\tendpoint\tvalue\n" + "".join(
        f"{row.patient}\t{row.visit}\t{row.eye}\t{row.endpoint}\t{row.value}\n"
        for row in wide.itertuples()
        if not np.isnan(row.value)
    )
    long = load(tmp_path, definitions, schema, long_text)
    keys = [clinical.PATIENT, clinical.VISIT, clinical.EYE, clinical.ENDPOINT]
    merged = wide.dropna(subset=[clinical.VALUE]).merge(long, on=keys, suffixes=("_w", "_l"))
    assert len(merged) == 7
    assert np.allclose(merged["value_w"], merged["value_l"])


def test_eye_summary_mean_and_worse_follow_the_direction(tmp_path, definitions, schema):
    long = load(tmp_path, definitions, schema, WIDE_PER_EYE)
    mean = clinical.summarize_eyes(long, definitions, "mean").set_index([clinical.VISIT, clinical.ENDPOINT])
    worse = clinical.summarize_eyes(long, definitions, "worse").set_index([clinical.VISIT, clinical.ENDPOINT])
    assert mean.loc[("baseline", "SIT"), clinical.VALUE] == 7.0
    assert worse.loc[("baseline", "SIT"), clinical.VALUE] == 5.0  # higher is better: the lower eye
    assert mean.loc[("week2", "SIT"), clinical.VALUE] == 7.0  # one eye missing: the other eye
    assert mean.loc[("week2", "SIT"), clinical.N_EYES] == 1
    two_eyes = long.copy()
    two_eyes.loc[(two_eyes[clinical.ENDPOINT] == "OSDI") & (two_eyes[clinical.EYE] == "OS"),
                 clinical.VALUE] = 50.0  # fmt: skip
    worse = clinical.summarize_eyes(two_eyes, definitions, "worse").set_index([clinical.VISIT, clinical.ENDPOINT])
    assert worse.loc[("week2", "OSDI"), clinical.VALUE] == 50.0  # lower is better: the higher eye


def test_table_without_eye_column_is_one_value_per_patient(tmp_path, definitions, schema):
    long = load(tmp_path, definitions, schema, "patient\tvisit\tOSDI\nA\tbaseline\t10\nA\tweek2\t5\n")
    assert (long[clinical.EYE] == "").all()
    values = clinical.summarize_eyes(long, definitions, "worse")
    assert list(values[clinical.VALUE]) == [10.0, 5.0]


def test_text_in_a_value_cell_names_row_and_column(tmp_path, definitions, schema):
    text = "patient\tvisit\tOSDI\tTMH\nA\tbaseline\t10\t0.2\nA\tweek2\t5\tn.d.\n"
    with pytest.raises(TearflowError, match=r"clinical\.tsv: row 3, column 'TMH'.*n\.d\."):
        load(tmp_path, definitions, schema, text)


def test_unknown_eye_is_refused_by_the_schema(tmp_path, definitions, schema):
    text = "patient\tvisit\teye\tOSDI\nA\tbaseline\tboth\t10\n"
    with pytest.raises(TearflowError, match=r"row 2, column 'eye'"):
        load(tmp_path, definitions, schema, text)


def test_unknown_endpoint_column_is_named_unless_ignored(tmp_path, definitions, schema):
    text = "patient\tvisit\tOSDI\tage\nA\tbaseline\t10\t54\nA\tweek2\t5\t54\n"
    with pytest.raises(TearflowError, match=r"column 'age' is not a known endpoint"):
        load(tmp_path, definitions, schema, text)
    long = load(tmp_path, definitions, schema, text, ignore_endpoints=["age"])
    assert set(long[clinical.ENDPOINT]) == {"OSDI"}


def test_unknown_endpoint_in_long_layout_names_the_row(tmp_path, definitions, schema):
    text = "patient\tvisit\tendpoint\tvalue\nA\tbaseline\tOSDI\t10\nA\tbaseline\tBUT\t3\n"
    with pytest.raises(TearflowError, match=r"row 3, column 'endpoint': unknown endpoint 'BUT'"):
        load(tmp_path, definitions, schema, text)


def test_duplicate_measurement_names_both_rows(tmp_path, definitions, schema):
    text = "patient\tvisit\tOSDI\nA\tbaseline\t10\nA\tbaseline\t12\n"
    with pytest.raises(TearflowError, match=r"rows 2, 3 all give OSDI for patient 'A'"):
        load(tmp_path, definitions, schema, text)


# --- visits --------------------------------------------------------------------------------------
def test_unknown_visit_is_an_error_naming_the_row(tmp_path, definitions, schema):
    text = "patient\tvisit\tOSDI\nA\tbaseline\t10\nA\tweek2\t5\nA\tweek 6\t4\n"
    with pytest.raises(TearflowError, match=r"row 4, column 'visit': unknown visit 'week 6'"):
        load(tmp_path, definitions, schema, text)


def test_ignored_visit_is_left_out(tmp_path, definitions, schema):
    text = "patient\tvisit\tOSDI\nA\tbaseline\t10\nA\tweek2\t5\nA\tscreening\t4\n"
    long = load(tmp_path, definitions, schema, text, ignore_visits=["screening"])
    assert list(long[clinical.VISIT]) == ["baseline", "week2"]


def test_baseline_label_comes_from_the_timepoints():
    assert clinical.visit_order("V0", VISITS) == ["V0", "baseline", "week2", "week4", "month12"]
    assert clinical.visit_order("week2", VISITS) == ["week2", "baseline", "week4", "month12"]
    assert clinical.visit_order("baseline", VISITS) == VISITS


def test_other_baseline_label_accepts_its_rows(tmp_path, definitions, schema):
    text = "patient\tvisit\tOSDI\nA\tV0\t10\nA\tweek2\t5\n"
    long = load(tmp_path, definitions, schema, text, baseline="V0", visits=["week2"])
    assert list(long[clinical.VISIT]) == ["V0", "week2"]


# --- change, improvement, tests ------------------------------------------------------------------
def values_table(definitions, rows, visits=VISITS, patients=None):
    """rows: (patient, visit, endpoint, value) → values after eye summary, subgroups, changes."""
    long = pd.DataFrame(rows, columns=[clinical.PATIENT, clinical.VISIT, clinical.ENDPOINT,
                                       clinical.VALUE])  # fmt: skip
    long[clinical.EYE] = ""
    summarized = clinical.summarize_eyes(long, definitions, "mean")
    people = patients or sorted(set(long[clinical.PATIENT]))
    with_groups = clinical.patient_subgroups(summarized, sheet(people), "clinical.tsv")
    return clinical.changes_from_baseline(with_groups, definitions, "baseline", visits)


def test_improvement_is_signed_by_direction(definitions):
    rows = [("NSDE01", "baseline", "OSDI", 40), ("NSDE01", "week2", "OSDI", 30),
            ("NSDE01", "baseline", "SIT", 8), ("NSDE01", "week2", "SIT", 5)]  # fmt: skip
    values = values_table(definitions, rows).set_index([clinical.VISIT, clinical.ENDPOINT])
    assert values.loc[("week2", "OSDI"), clinical.CHANGE] == -10
    assert values.loc[("week2", "OSDI"), clinical.IMPROVEMENT] == 10  # lower OSDI is better
    assert values.loc[("week2", "SIT"), clinical.CHANGE] == -3
    assert values.loc[("week2", "SIT"), clinical.IMPROVEMENT] == -3  # lower Schirmer is worse
    assert str(values.loc[("baseline", "OSDI"), clinical.IMPROVEMENT]) == "0.0"  # not -0.0


def test_is_improved_reads_the_direction():
    assert clinical.is_improved(-5.0, "lower") is True
    assert clinical.is_improved(-5.0, "higher") is False
    assert clinical.is_improved(2.0, "higher") is True
    assert clinical.is_improved(0.0, "lower") is False
    assert clinical.is_improved(np.nan, "lower") is pd.NA


def test_endpoint_tests_per_subgroup_and_all_with_bh_across_endpoints(definitions):
    rng = np.random.default_rng(7)
    patients = [f"NSDE{i:02d}" for i in range(1, 7)] + [f"SSDE{i:02d}" for i in range(1, 4)]
    rows = []
    for patient in patients:
        for endpoint, base, step in (("OSDI", 40, -8), ("SIT", 6, 2), ("TMH", 0.2, 0.0)):
            rows.append((patient, "baseline", endpoint, base))
            rows.append((patient, "week2", endpoint, base + step + rng.normal(0, 1)))
    values = values_table(definitions, rows)
    tests = clinical.endpoint_tests(values, definitions, ["NSDE", "SSDE"], "baseline", VISITS,
                                    min_pairs=4)  # fmt: skip
    assert list(tests[clinical.VISIT].unique()) == ["week2"]  # visits without data left out
    assert list(tests["subgroup"].unique()) == ["NSDE", "SSDE", "all"]
    indexed = tests.set_index(["subgroup", clinical.ENDPOINT])
    assert indexed.loc[("all", "OSDI"), "n_pairs"] == 9
    assert bool(indexed.loc[("all", "OSDI"), clinical.IMPROVED]) is True
    assert bool(indexed.loc[("all", "SIT"), clinical.IMPROVED]) is True
    assert np.isnan(indexed.loc[("SSDE", "OSDI"), clinical.WILCOXON_P])  # 3 < min_pairs
    assert indexed.loc[("all", "OSDI"), clinical.WILCOXON_P] == pytest.approx(2 / 2**9)
    family = tests[(tests["subgroup"] == "all") & (tests[clinical.VISIT] == "week2")]
    assert np.allclose(family[clinical.WILCOXON_FDR], bh_adjust(family[clinical.WILCOXON_P]))
    assert np.allclose(family[clinical.TTEST_FDR], bh_adjust(family[clinical.TTEST_P]))


def test_wilcoxon_method_and_untestable_endpoints(definitions):
    """``clinical_analysis.wilcoxon_method`` reaches the signed-rank test; an endpoint that did not
    change, or changed by the same amount in everyone, gets NaN rather than p = 0 (the rules
    themselves are tested in test_stats.py)."""
    from scipy import stats

    changes = [-10.0, -6.0, -6.0, -3.0, 2.0, -8.0]  # a tie: auto = exhaustive sign permutation
    rows = []
    for i, change in enumerate(changes):
        patient = f"NSDE{i + 1:02d}"
        rows += [(patient, "baseline", "OSDI", 40.0), (patient, "week2", "OSDI", 40.0 + change)]
        rows += [(patient, "baseline", "SIT", 6.0), (patient, "week2", "SIT", 6.0)]
        rows += [(patient, "baseline", "TMH", 0.2), (patient, "week2", "TMH", 0.3)]
    values = values_table(definitions, rows)

    def row(method, endpoint):
        tests = clinical.endpoint_tests(values, definitions, ["NSDE"], "baseline", VISITS, 3, method)
        return tests.set_index(["subgroup", clinical.ENDPOINT]).loc[("NSDE", endpoint)]

    for method in ("auto", "exact", "asymptotic"):
        expected = stats.wilcoxon(changes, method=stats.PermutationMethod() if method == "auto" else method)
        assert row(method, "OSDI")[clinical.WILCOXON_P] == pytest.approx(expected.pvalue)
        assert row(method, "OSDI")[clinical.TTEST_P] == pytest.approx(stats.ttest_1samp(changes, 0.0).pvalue)
    assert row("auto", "OSDI")[clinical.WILCOXON_P] != pytest.approx(row("asymptotic", "OSDI")[clinical.WILCOXON_P])
    unchanged, shifted = row("auto", "SIT"), row("auto", "TMH")
    assert np.isnan(unchanged[clinical.WILCOXON_P]) and np.isnan(unchanged[clinical.TTEST_P])
    assert shifted[clinical.WILCOXON_P] == pytest.approx(2 / 2**6) and np.isnan(shifted[clinical.TTEST_P])


def test_subgroup_clash_with_the_sheet_is_an_error(definitions):
    values = pd.DataFrame({clinical.PATIENT: ["NSDE01"], "subgroup": ["SSDE"]})
    with pytest.raises(TearflowError, match=r"patient 'NSDE01' has subgroup 'SSDE' but 'NSDE'"):
        clinical.patient_subgroups(values, sheet(["NSDE01"]), "clinical.tsv")


def test_patient_outside_the_sheet_is_left_out(definitions):
    values = pd.DataFrame({clinical.PATIENT: ["NSDE01", "X9"], clinical.VALUE: [1.0, 2.0]})
    kept = clinical.patient_subgroups(values, sheet(["NSDE01"]), "clinical.tsv")
    assert list(kept[clinical.PATIENT]) == ["NSDE01"]


def test_shipped_example_table_loads(definitions, schema):
    path = REPO / "resources" / "example" / "clinical.tsv"
    long = clinical.load_clinical(path, definitions, schema, settings(), "baseline")
    assert set(long[clinical.VISIT]) == set(VISITS)
    assert set(long[clinical.ENDPOINT]) == set(definitions.index)
