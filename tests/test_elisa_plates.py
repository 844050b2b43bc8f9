"""Tests of scripts/elisa_plates.py: the 4PL fit against a known curve, back-calculation, flags."""

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, config_section

from tearflow import elisa_plates
from tearflow.errors import TearflowError
from tearflow.figures.elisa_plates import standard_curve_figure

CURVE = (0.05, 1.2, 120.0, 2.8)  # a, b, c (pg/mL), d
STANDARDS = [0.0] + [500.0 / 2**i for i in range(8)]


def test_four_pl_values():
    a, b, c, d = CURVE
    assert elisa_plates.four_pl(0.0, *CURVE) == pytest.approx(a)
    assert elisa_plates.four_pl(c, *CURVE) == pytest.approx((a + d) / 2)
    assert elisa_plates.four_pl(1e9, *CURVE) == pytest.approx(d, rel=1e-6)


def test_fit_recovers_a_known_curve():
    x = np.repeat(STANDARDS, 2)
    y = elisa_plates.four_pl(x, *CURVE)
    a, b, c, d, r2 = elisa_plates.fit_four_pl(x, y)
    assert (a, b, c, d) == pytest.approx(CURVE, rel=1e-4)
    assert r2 == pytest.approx(1.0)


def test_fit_with_noise_stays_close():
    rng = np.random.default_rng(1)
    x = np.repeat(STANDARDS, 2)
    y = elisa_plates.four_pl(x, *CURVE) * (1 + rng.normal(0, 0.01, len(x)))
    a, b, c, d, r2 = elisa_plates.fit_four_pl(x, y)
    assert c == pytest.approx(CURVE[2], rel=0.1) and b == pytest.approx(CURVE[1], rel=0.1)
    assert r2 > 0.99


def test_inverse_round_trip_and_outside_is_nan():
    x = np.array([5.0, 50.0, 300.0])
    y = elisa_plates.four_pl(x, *CURVE)
    assert elisa_plates.inverse_four_pl(y, *CURVE) == pytest.approx(x)
    assert np.isnan(elisa_plates.inverse_four_pl([0.01, 3.0], *CURVE)).all()


def test_too_few_standards_refused():
    with pytest.raises(ValueError, match="4PL needs"):
        elisa_plates.fit_four_pl([1, 2, 3], [0.1, 0.2, 0.3])


def plate_table(tmp_path, samples, unit="pg/mL"):
    rows = []
    for x in STANDARDS:
        for _ in range(2):
            kind = "blank" if x == 0 else "standard"
            rows.append(
                ["p1", "A1", "IL-6", kind, elisa_plates.four_pl(x, *CURVE), "" if x == 0 else x, unit, "", "", ""]
            )
    for patient, timepoint, concentrations, dilution in samples:
        for concentration in concentrations:
            rows.append(
                [
                    "p1",
                    "C1",
                    "IL-6",
                    "sample",
                    elisa_plates.four_pl(concentration, *CURVE),
                    "",
                    "",
                    patient,
                    timepoint,
                    dilution,
                ]
            )
    table = pd.DataFrame(rows, columns=list(elisa_plates.PLATE_COLUMNS))
    path = tmp_path / "plates.tsv"
    table.to_csv(path, sep="\t", index=False)
    return path


def test_plate_concentrations_dilution_cv_and_flags(tmp_path):
    path = plate_table(
        tmp_path,
        [
            ("P1", "baseline", [40.0, 40.0], 2),
            ("P1", "week2", [1.0, 1.0], 2),  # below the lowest standard
            ("P2", "baseline", [2000.0, 2000.0], 1),  # above the highest standard
            ("P2", "week2", [20.0, 40.0], 1),  # CV ≈ 47 %
        ],
    )
    table = elisa_plates.read_plates(path)
    concentrations, fits = elisa_plates.plate_concentrations(table, path, cv_max=20)
    by = concentrations.set_index(["patient", "timepoint"])
    assert float(by.loc[("P1", "baseline"), "value"]) == pytest.approx(80.0, rel=1e-3)
    assert by.loc[("P1", "week2"), "value"] == "<LLOQ"
    assert by.loc[("P1", "week2"), "lloq"] == pytest.approx(500 / 2**7 * 2)
    assert by.loc[("P2", "baseline"), "value"] == ">ULOQ"
    assert "outside_curve" in by.loc[("P2", "baseline"), "flag"]
    assert "high_cv" in by.loc[("P2", "week2"), "flag"]
    assert by.loc[("P1", "baseline"), "flag"] == ""
    assert fits.iloc[0]["r_squared"] == pytest.approx(1.0)


def test_plate_concentrations_read_as_an_elisa_table(tmp_path):
    from tearflow import elisa

    path = plate_table(tmp_path, [("P1", "baseline", [40.0, 40.0], 1), ("P1", "week2", [1.0, 1.0], 1)])
    concentrations, _ = elisa_plates.plate_concentrations(elisa_plates.read_plates(path), path)
    out = tmp_path / "conc.tsv"
    concentrations.to_csv(out, sep="\t", index=False)
    long = elisa.long_measurements(elisa.read_elisa_table(out), out)
    analyte_map = elisa.read_analyte_map(REPO / "resources" / "elisa" / "analytes.tsv")
    values = elisa.normalise_values(long, analyte_map, config_section("elisa_analysis"), out)
    assert values["value"].tolist() == pytest.approx([40.0, 500 / 2**7 / 2], rel=1e-3)


def test_bad_well_type_is_a_clear_error(tmp_path):
    path = tmp_path / "plates.tsv"
    path.write_text("plate\tanalyte\ttype\tod\nP\tIL-6\tstd\t0.5\n")
    with pytest.raises(TearflowError, match=r"row 2, column 'type': found 'std'"):
        elisa_plates.read_plates(path)


def test_bad_od_is_a_clear_error(tmp_path):
    path = tmp_path / "plates.tsv"
    path.write_text("plate\tanalyte\ttype\tod\tconcentration\nP\tIL-6\tstandard\thigh\t5\n")
    with pytest.raises(TearflowError, match=r"row 2, column 'od'"):
        elisa_plates.read_plates(path)


def test_example_plates_fit():
    path = REPO / "resources" / "example" / "elisa_plates.tsv"
    concentrations, fits = elisa_plates.plate_concentrations(elisa_plates.read_plates(path), path)
    assert len(fits) == 2 and (fits["r_squared"] > 0.99).all()
    assert set(concentrations["plate"]) == {"plate1", "plate2"}


def test_standard_curve_figure(tmp_path):
    path = plate_table(tmp_path, [("P1", "baseline", [40.0, 40.0], 1)])
    table = elisa_plates.read_plates(path)
    concentrations, fits = elisa_plates.plate_concentrations(table, path)
    figure = standard_curve_figure(table, fits, concentrations, "p1")
    assert len(figure.axes) == 1


# ------------------------------------------------------------------ raw plates inside the workflow

PLATES = "resources/example/elisa_plates.tsv"


def _lab_table_without(workdir, analyte_spelling):
    """The example lab table without one analyte, written next to the config; its path."""
    table = pd.read_csv(workdir / "resources" / "example" / "elisa.tsv", sep="\t", dtype=str, keep_default_na=False)
    path = workdir / "config" / "elisa_lab.tsv"
    table[table["analyte"] != analyte_spelling].to_csv(path, sep="\t", index=False)
    return path


def test_plates_in_the_workflow_fill_in_what_the_lab_table_lacks(tmp_path):
    from workflow_runner import copy_workflow, run_snakemake, write_configfile

    workdir = copy_workflow(tmp_path)
    lab = _lab_table_without(workdir, "IL-6")
    configfile = write_configfile(workdir, {"elisa": str(lab), "elisa_analysis": {"plates": PLATES}})
    targets = [
        "results/elisa/values.tsv",
        "results/elisa/paired_tests.tsv",
        "results/figures/elisa_standard_curve_plate1.png",
        "results/figures/elisa_standard_curve_plate2.png",
    ]
    run_snakemake(workdir, *targets, "--cores", "2", "--configfile", configfile)
    values = pd.read_csv(workdir / "results/elisa/values.tsv", sep="\t")
    sources = values.groupby("analyte")["source_file"].unique().map(list).to_dict()
    assert sources["IL6"] == ["results/elisa/plate_concentrations.tsv"]
    assert all(files == [str(lab)] for analyte, files in sources.items() if analyte != "IL6")
    assert set(sources) == {"IL6", "IL17A", "MUC5AC", "CCL20", "IL23A"}
    tests = pd.read_csv(workdir / "results/elisa/paired_tests.tsv", sep="\t")
    assert tests.loc[tests["analyte"] == "IL6", "n_pairs"].max() >= 3
    for target in targets[2:]:
        assert (workdir / target).stat().st_size > 10_000


def test_a_measurement_in_both_the_lab_table_and_the_plates_is_refused(tmp_path):
    from workflow_runner import copy_workflow, run_snakemake, write_configfile

    workdir = copy_workflow(tmp_path)
    configfile = write_configfile(workdir, {"elisa_analysis": {"plates": PLATES}})
    completed = run_snakemake(
        workdir, "results/elisa/values.tsv", "--cores", "2", "--configfile", configfile, check=False
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0
    assert "IL6 for patient 'NSDE01' at 'baseline' appears 2 times" in output, output[-3000:]
    assert "resources/example/elisa.tsv" in output and "plate_concentrations.tsv" in output
    assert not (workdir / "results/elisa/values.tsv").exists()
