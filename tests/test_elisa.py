"""Tests of tearflow.elisa: value spellings, analyte/unit normalisation, censoring, paired tests."""

import logging
import math

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, config_section
from scipy import stats

from tearflow import elisa
from tearflow.errors import TearflowError

ANALYTES = REPO / "resources" / "elisa" / "analytes.tsv"
TIMEPOINTS = {"baseline": "baseline", "followup": "week2"}


@pytest.fixture(scope="module")
def analyte_map():
    return elisa.read_analyte_map(ANALYTES)


@pytest.fixture
def sheet():
    rows = []
    for patient, subgroup in [("P1", "A"), ("P2", "A"), ("P3", "A"), ("P4", "B"), ("P5", "B"), ("P6", "B")]:
        for timepoint in ("baseline", "week2"):
            rows.append((f"{patient}_{timepoint}", patient, subgroup, timepoint))
    return pd.DataFrame(rows, columns=["sample", "patient", "subgroup", "timepoint"])


def settings(**changes):
    return config_section("elisa_analysis", **changes)


def write(tmp_path, text, name="elisa.tsv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def values_from(tmp_path, text, analyte_map, sheet, **config):
    path = write(tmp_path, text)
    long = elisa.long_measurements(elisa.read_elisa_table(path), path)
    values = elisa.normalise_values(long, analyte_map, settings(**config), path)
    return elisa.attach_sample_sheet(values, sheet, TIMEPOINTS, path)


# --- value spellings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, status, number",
    [
        ("12.5", "measured", 12.5),
        (" 7 ", "measured", 7.0),
        ("3,2", "measured", 3.2),
        ("1,234.5", "measured", 1234.5),
        ("1.2e3", "measured", 1200.0),
        ("<LLOQ", "below_lloq", None),
        ("< LLOQ", "below_lloq", None),
        ("<lloq", "below_lloq", None),
        ("< 3.2", "below_lloq", 3.2),
        ("<3.2", "below_lloq", 3.2),
        ("ND", "below_lloq", None),
        ("n.d.", "below_lloq", None),
        ("BLQ", "below_lloq", None),
        ("", "below_lloq", None),
        ("   ", "below_lloq", None),
        ("0", "below_lloq", None),
        (">ULOQ", "above_uloq", None),
        ("> ULOQ", "above_uloq", None),
        ("> 5000", "above_uloq", 5000.0),
        ("NA", "not_measured", None),
        ("QNS", "not_measured", None),
    ],
)
def test_parse_value_reads_every_lab_spelling(text, status, number):
    assert elisa.parse_value(text) == (status, number)


def test_blank_can_mean_not_measured():
    assert elisa.parse_value("", blank="not_measured") == ("not_measured", None)


@pytest.mark.parametrize("text", ["abc", "-3", "1,234", "12.5*", "<=3", "<-2", "1.2.3", "< abc"])
def test_parse_value_refuses_what_it_cannot_read(text):
    with pytest.raises(ValueError):
        elisa.parse_value(text)


# --- analytes and units --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, canonical",
    [
        ("IL-6", "IL6"),
        ("IL6", "IL6"),
        ("il 6", "IL6"),
        ("Interleukin-6", "IL6"),
        ("IL-17A", "IL17A"),
        ("IL-17", "IL17A"),
        ("IL-23", "IL23A"),
        ("IL23", "IL23A"),
        ("MUC5AC", "MUC5AC"),
        ("CCL20", "CCL20"),
        ("MIP-3α", "CCL20"),
        ("TNF-α", "TNF"),
        ("IL-1β", "IL1B"),
        ("IL-8", "CXCL8"),
    ],
)
def test_analyte_spellings_map_to_one_name(analyte_map, name, canonical):
    lookup = elisa.analyte_lookup(analyte_map)
    assert elisa.canonical_analyte(name, lookup) == canonical


def test_analyte_map_genes(analyte_map):
    genes = dict(zip(analyte_map["analyte"], analyte_map["gene"]))
    assert genes["IL23A"] == "IL23A" and genes["CXCL8"] == "CXCL8" and genes["IL17A"] == "IL17A"


def test_analyte_map_refuses_a_spelling_claimed_twice(tmp_path):
    path = write(tmp_path, "analyte\tgene\tspellings\nIL6\tIL6\tX-1\nIL8\tCXCL8\tx1\n", "map.tsv")
    with pytest.raises(TearflowError, match="listed for both"):
        elisa.read_analyte_map(path)


@pytest.mark.parametrize(
    "unit, factor",
    [
        ("pg/mL", 1.0),
        ("pg/ml", 1.0),
        ("PG/ML", 1.0),
        ("ng/mL", 1e3),
        ("µg/mL", 1e6),
        ("μg/mL", 1e6),
        ("ug/mL", 1e6),
        ("mcg/mL", 1e6),
        ("ng/L", 1.0),
        ("pg / mL", 1.0),
    ],
)
def test_units_convert_to_pg_per_ml(unit, factor):
    assert elisa.unit_factor(unit) == pytest.approx(factor)


@pytest.mark.parametrize("unit", ["pmol/L", "IU/mL", "U/mL", "%", "mg"])
def test_units_that_cannot_be_converted(unit):
    assert elisa.unit_factor(unit) is None


# --- the long table end to end --------------------------------------------------------------------

LONG = (
    "patient\ttimepoint\tanalyte\tvalue\tunit\tlloq\n"
    "P1\tbaseline\tIL-6\t12.5\tpg/mL\t3.2\n"
    "P1\tweek2\tIL-6\t<LLOQ\tpg/mL\t3.2\n"
    "P2\tbaseline\tIL6\t< 3.2\tpg/ml\t\n"
    "P2\tweek2\tInterleukin-6\tND\tpg/mL\t3.2\n"
    "P3\tbaseline\tIL-6\t\tpg/mL\t3.2\n"
    "P3\tweek2\tIL-6\t>ULOQ\tpg/mL\t3.2\n"
    "P1\tbaseline\tMUC5AC\t6.0\tng/mL\t0.31\n"
    "P1\tweek2\tMUC5AC\t< 0.31\tng/mL\t0.31\n"
)


def test_long_table_censoring_lloq_half(tmp_path, analyte_map, sheet):
    values = values_from(tmp_path, LONG, analyte_map, sheet, uloq={"IL-6": 1000})
    il6 = values[values["analyte"] == "IL6"].set_index(["patient", "timepoint"])
    assert il6.loc[("P1", "baseline"), "value"] == 12.5
    assert il6.loc[("P1", "week2"), "value"] == pytest.approx(1.6)
    assert il6.loc[("P2", "baseline"), "value"] == pytest.approx(1.6)  # '< 3.2' carries the LLOQ
    assert il6.loc[("P2", "week2"), "value"] == pytest.approx(1.6)
    assert il6.loc[("P3", "baseline"), "value"] == pytest.approx(1.6)  # blank
    assert il6.loc[("P3", "week2"), "value"] == 1000  # >ULOQ → ULOQ
    assert il6.loc[("P3", "week2"), "status"] == "above_uloq"
    muc = values[values["analyte"] == "MUC5AC"].set_index("timepoint")
    assert muc.loc["baseline", "value"] == pytest.approx(6000.0)  # ng/mL → pg/mL
    assert muc.loc["week2", "value"] == pytest.approx(155.0)
    assert muc.loc["week2", "lloq"] == pytest.approx(310.0)
    assert set(values["censoring"]) == {"lloq_half"}
    assert set(values["subgroup"]) == {"A"}


def test_censoring_policies(tmp_path, analyte_map, sheet):
    text = "patient\ttimepoint\tanalyte\tvalue\tlloq\nP1\tbaseline\tIL-6\tND\t4\n"
    sqrt2 = values_from(tmp_path, text, analyte_map, sheet, censoring="lloq_sqrt2")
    assert sqrt2["value"].iloc[0] == pytest.approx(4 / math.sqrt(2))
    excluded = values_from(tmp_path, text, analyte_map, sheet, censoring="exclude")
    assert math.isnan(excluded["value"].iloc[0]) and excluded["censoring"].iloc[0] == "exclude"


def test_lloq_from_config_when_the_row_has_none(tmp_path, analyte_map, sheet):
    text = "patient\ttimepoint\tanalyte\tvalue\nP1\tbaseline\tIL-23\t<LLOQ\n"
    values = values_from(tmp_path, text, analyte_map, sheet, lloq={"IL-23": 2.7})
    assert values["value"].iloc[0] == pytest.approx(1.35)
    assert values["analyte"].iloc[0] == "IL23A"


def test_censored_without_any_lloq_names_the_row(tmp_path, analyte_map, sheet):
    text = "patient\ttimepoint\tanalyte\tvalue\nP1\tbaseline\tIL-6\t4\nP1\tweek2\tIL-6\tND\n"
    with pytest.raises(TearflowError, match=r"row 3, column 'value'.*no LLOQ is known"):
        values_from(tmp_path, text, analyte_map, sheet)


def test_wide_table_with_units_in_headers(tmp_path, analyte_map, sheet):
    text = (
        "patient\ttimepoint\tIL-6 (pg/mL)\tMUC5AC [ng/mL]\tnotes\nP1\tBaseline\t10\t2\tok\nP1\tWeek 2\t<3.2\t< 0.31\t\n"
    )
    values = values_from(tmp_path, text, analyte_map, sheet)
    table = values.set_index(["analyte", "timepoint"])["value"]
    assert table[("IL6", "baseline")] == 10 and table[("MUC5AC", "baseline")] == 2000
    assert table[("IL6", "week2")] == pytest.approx(1.6)
    assert table[("MUC5AC", "week2")] == pytest.approx(155.0)


# --- clear errors ---------------------------------------------------------------------------------


def test_unknown_analyte_is_a_clear_error(tmp_path, analyte_map, sheet):
    text = "patient\ttimepoint\tanalyte\tvalue\nP1\tbaseline\tIL-6\t4\nP1\tweek2\tFooKine\t3\n"
    with pytest.raises(TearflowError) as error:
        values_from(tmp_path, text, analyte_map, sheet)
    message = str(error.value)
    assert "elisa.tsv" in message and "row 3" in message and "'analyte'" in message
    assert "FooKine" in message and "expected" in message


def test_unit_that_cannot_be_converted_is_a_clear_error(tmp_path, analyte_map, sheet):
    text = "patient\ttimepoint\tanalyte\tvalue\tunit\nP1\tbaseline\tIL-6\t4\tpmol/L\n"
    with pytest.raises(TearflowError, match=r"row 2, column 'unit'.*'pmol/L'.*expected one of"):
        values_from(tmp_path, text, analyte_map, sheet)


def test_unparseable_value_is_a_clear_error(tmp_path, analyte_map, sheet):
    text = "patient\ttimepoint\tanalyte\tvalue\nP1\tbaseline\tIL-6\t4 pg\n"
    with pytest.raises(TearflowError, match=r"elisa.tsv: row 2, column 'value'.*'4 pg'.*expected"):
        values_from(tmp_path, text, analyte_map, sheet)


def test_patient_not_in_sheet_is_left_out_with_a_note(tmp_path, analyte_map, sheet, caplog):
    # As runs the sheet does not have are: left out, with the rows and the closest sheet ID.
    text = "patient\ttimepoint\tanalyte\tvalue\nP1\tbaseline\tIL-6\t4\nP01\tweek2\tIL-6\t3\n"
    with caplog.at_level(logging.WARNING):
        values = values_from(tmp_path, text, analyte_map, sheet)
    assert values["patient"].tolist() == ["P1"]
    assert "1 patient(s) not in the sample sheet are left out: 'P01' (row(s) 3, did you mean 'P1'?)" in caplog.text


def test_visit_labels_map_to_the_sheet(tmp_path, analyte_map, sheet):
    text = "patient\ttimepoint\tanalyte\tvalue\nP1\tW0\tIL-6\t4\nP1\tW2\tIL-6\t3\n"
    with pytest.raises(TearflowError, match=r"timepoint 'W0' is not a known visit.*elisa_analysis.visits"):
        values_from(tmp_path, text, analyte_map, sheet)
    path = write(tmp_path, text)
    long = elisa.long_measurements(elisa.read_elisa_table(path), path)
    values = elisa.normalise_values(long, analyte_map, settings(), path)
    mapped = elisa.attach_sample_sheet(values, sheet, TIMEPOINTS, path, {"W0": "baseline", "W2": "week2"})
    assert mapped["timepoint"].tolist() == ["baseline", "week2"]


def test_timepoint_not_known_is_a_clear_error(tmp_path, analyte_map, sheet):
    text = "patient\ttimepoint\tanalyte\tvalue\nP1\tmonth3\tIL-6\t4\n"
    with pytest.raises(TearflowError, match=r"row 2, column 'timepoint'.*'month3'.*expected"):
        values_from(tmp_path, text, analyte_map, sheet)


def test_duplicate_measurement_is_a_clear_error(tmp_path, analyte_map, sheet):
    text = "patient\ttimepoint\tanalyte\tvalue\nP1\tbaseline\tIL-6\t4\nP1\tbaseline\tIL6\t5\n"
    with pytest.raises(TearflowError, match=r"rows 2, 3"):
        values_from(tmp_path, text, analyte_map, sheet)


# --- pairs and tests -----------------------------------------------------------------------------


def pairs_for(base, follow, subgroups):
    n = len(base)
    return pd.DataFrame(
        {
            "analyte": "IL6",
            "gene": "IL6",
            "patient": [f"P{i}" for i in range(n)],
            "subgroup": subgroups,
            "baseline": base,
            "followup": follow,
            "baseline_status": "measured",
            "followup_status": "measured",
            "log2_ratio": np.log2(np.asarray(follow) / np.asarray(base)),
        }
    )


def test_patient_changes_pairs_and_drops_missing(tmp_path, analyte_map, sheet):
    values = values_from(tmp_path, LONG, analyte_map, sheet, uloq={"IL-6": 1000}, censoring="exclude")
    pairs = elisa.patient_changes(values, TIMEPOINTS)
    il6 = pairs[pairs["analyte"] == "IL6"]
    assert list(il6["patient"]) == []  # every IL-6 pair has an excluded (censored) value
    values = values_from(tmp_path, LONG, analyte_map, sheet, uloq={"IL-6": 1000})
    pairs = elisa.patient_changes(values, TIMEPOINTS).set_index(["analyte", "patient"])
    assert pairs.loc[("IL6", "P1"), "log2_ratio"] == pytest.approx(math.log2(1.6 / 12.5))
    assert pairs.loc[("IL6", "P2"), "log2_ratio"] == 0.0


def test_values_at_another_sheet_visit_are_kept_but_not_paired(tmp_path, analyte_map, sheet, caplog):
    # week 4 is a visit of the sheet (a patient sampled then too); its ELISA values stay in
    # values.tsv with a warning and never enter a baseline/week-2 pair.
    with_week4 = pd.concat([sheet, pd.DataFrame([("P1_week4", "P1", "A", "week4")], columns=sheet.columns)])
    text = "patient\ttimepoint\tanalyte\tvalue\n" + "".join(
        f"P1\t{visit}\tIL-6\t{value}\n" for visit, value in (("baseline", 10), ("week2", 5), ("Week 4", 40))
    )
    with caplog.at_level(logging.WARNING):
        values = values_from(tmp_path, text, analyte_map, with_week4)
    assert list(values["timepoint"]) == ["baseline", "week2", "week4"]
    assert "1 ELISA value(s) at other visits (week4) are kept in values.tsv but not tested" in caplog.text
    pairs = elisa.patient_changes(values, TIMEPOINTS)
    assert pairs["log2_ratio"].tolist() == [pytest.approx(-1.0)]


def test_paired_tests_match_scipy_and_fill_every_contrast():
    base = [10.0, 20.0, 15.0, 8.0, 30.0, 12.0]
    follow = [5.0, 12.0, 9.0, 6.0, 11.0, 14.0]
    pairs = pairs_for(base, follow, ["A", "A", "A", "B", "B", "B"])
    tests = elisa.paired_tests(
        pairs,
        {"IL6": "IL6", "IL17A": "IL17A"},
        ["A", "B", "all", "interaction"],
        ["A", "B"],
        settings(min_pairs=3),
    )
    assert list(tests.columns[:12]) == [
        "analyte",
        "gene",
        "contrast",
        "n_pairs",
        "median_baseline",
        "median_followup",
        "median_log2_ratio",
        "wilcoxon_p",
        "ttest_p",
        "wilcoxon_fdr",
        "ttest_fdr",
        "censoring",
    ]
    assert len(tests) == 8  # every analyte × contrast, IL17A without data too
    row = tests[(tests["analyte"] == "IL6") & (tests["contrast"] == "all")].iloc[0]
    d = np.log2(np.array(follow) / np.array(base))
    assert row["n_pairs"] == 6
    assert row["wilcoxon_p"] == pytest.approx(stats.wilcoxon(d, method="exact").pvalue)
    assert row["ttest_p"] == pytest.approx(stats.ttest_rel(np.log2(follow), np.log2(base)).pvalue)
    assert row["median_baseline"] == pytest.approx(np.median(base))
    assert row["median_log2_ratio"] == pytest.approx(np.median(d))
    empty = tests[tests["analyte"] == "IL17A"]
    assert (empty["n_pairs"] == 0).all() and empty["wilcoxon_p"].isna().all()
    inter = tests[(tests["analyte"] == "IL6") & (tests["contrast"] == "interaction")].iloc[0]
    assert 0 < inter["wilcoxon_p"] <= 1


def test_too_few_pairs_give_nan_never_zero():
    pairs = pairs_for([10.0, 10.0], [5.0, 5.0], ["A", "A"])
    tests = elisa.paired_tests(pairs, {"IL6": "IL6"}, ["A"], ["A"], settings(min_pairs=2))
    row = tests.iloc[0]
    # two identical ratios: the t statistic is infinite — reported as NaN, not p = 0
    assert math.isnan(row["ttest_p"]) and row["wilcoxon_p"] == pytest.approx(0.5)
    tests = elisa.paired_tests(pairs, {"IL6": "IL6"}, ["A"], ["A"], settings(min_pairs=3))
    assert tests[["wilcoxon_p", "ttest_p", "wilcoxon_fdr"]].isna().all(axis=None)


def test_zero_method_and_exact_max_n_reach_the_wilcoxon():
    """Config ``zero_method`` and ``exact_max_n`` choose the signed-rank test (tearflow.stats tests
    the rule itself): zeros dropped first (wilcox) and the exact null up to exact_max_n pairs."""
    base = [10.0, 10.0, 10.0, 10.0, 10.0, 10.0]
    follow = [10.0, 10.0, 20.0, 10.0 * 2**0.5, 10.0 * 2**-0.2, 10.0 * 2**0.8]  # log2 ratios 0, 0, 1, ...
    pairs = pairs_for(base, follow, ["A"] * 6)
    d = pairs["log2_ratio"].to_numpy()

    def wilcoxon_p(**config):
        return elisa.paired_tests(pairs, {"IL6": "IL6"}, ["A"], ["A"], settings(**config)).iloc[0]["wilcoxon_p"]

    assert wilcoxon_p() == pytest.approx(stats.wilcoxon(d[2:], method="exact").pvalue)
    pratt = stats.wilcoxon(d, zero_method="pratt", method="exact").pvalue
    assert wilcoxon_p(zero_method="pratt") == pytest.approx(pratt)
    assert wilcoxon_p(zero_method="pratt") != pytest.approx(wilcoxon_p())
    asymptotic = stats.wilcoxon(d[2:], method="asymptotic").pvalue
    assert wilcoxon_p(exact_max_n=5) == pytest.approx(asymptotic) != pytest.approx(wilcoxon_p())
    tests = elisa.paired_tests(pairs, {"IL6": "IL6"}, ["A"], ["A"], settings())
    assert tests.iloc[0]["n_nonzero"] == 4


def test_example_table_reads(analyte_map):
    path = REPO / "resources" / "example" / "elisa.tsv"
    long = elisa.long_measurements(elisa.read_elisa_table(path), path)
    values = elisa.normalise_values(long, analyte_map, settings(), path)
    assert set(values["analyte"]) == {"IL6", "IL17A", "MUC5AC", "CCL20", "IL23A"}
    assert values["value"].notna().all()
