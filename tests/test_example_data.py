"""The shipped example data: reproducible from its script, shaped like the trial, with signal."""

import importlib.util
from pathlib import PureWindowsPath

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from tearflow.samples import paired_samples, read_sample_sheet

EXAMPLE = REPO / "resources" / "example"
SHEET = REPO / "config" / "samples.tsv"
TEAR = EXAMPLE / "source" / "PXD030990_grouped_protein_summary.xlsx"
IDMAP = REPO / "resources" / "idmap" / "uniprot_human_swissprot_2020-03-13.tsv"
GENESETS = REPO / "resources" / "genesets"
FOCUS_SETS = {
    "ReactomePathways_2024-09-18.gmt": ["Interleukin-17 signaling"],
    "wikipathways-20260410-gmt-Homo_sapiens.gmt": [
        "IL17 signaling",
        "Th17 cell differentiation pathway",
    ],
    "GO_BP_human.gmt": ["GO:0097400", "GO:0072539", "GO:0072538"],
}
TABLES = ("report.pg_matrix.tsv", "elisa.tsv", "clinical.tsv")


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "make_example_data", EXAMPLE / "make_example_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator():
    return load_generator()


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory, generator):
    folder = tmp_path_factory.mktemp("example")
    generator.main(
        ["--tear", str(TEAR), "--idmap", str(IDMAP), "--out", str(folder), "--samples",
         str(folder / "samples.tsv")]
    )  # fmt: skip
    return folder


@pytest.fixture(scope="module")
def matrix():
    return pd.read_csv(EXAMPLE / "report.pg_matrix.tsv", sep="\t", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def sheet():
    return read_sample_sheet(SHEET)


def focus_genes():
    genes = {}
    for file, names in FOCUS_SETS.items():
        for line in (GENESETS / file).read_text(encoding="utf-8").splitlines():
            fields = line.split("\t")
            if fields[0] in names:
                genes[fields[0]] = set(fields[2:])
    assert sorted(genes) == sorted(n for names in FOCUS_SETS.values() for n in names)
    return genes


def run_columns(matrix):
    return [column for column in matrix.columns if column.startswith("D:\\")]


def log2_by_sample(matrix):
    values = matrix[run_columns(matrix)].replace("", np.nan).astype(float)
    values.columns = [PureWindowsPath(column).stem for column in values.columns]
    values.index = matrix["Genes"]
    return np.log2(values)


@pytest.mark.parametrize("name", TABLES)
def test_generator_reproduces_shipped_tables_byte_for_byte(regenerated, name):
    assert (regenerated / name).read_bytes() == (EXAMPLE / name).read_bytes()


def test_generator_reproduces_shipped_sample_sheet(regenerated):
    assert (regenerated / "samples.tsv").read_bytes() == SHEET.read_bytes()


def test_sample_sheet_has_the_trial_shape(sheet):
    assert list(sheet.columns) == [
        "sample", "patient", "subgroup", "timepoint", "batch", "age", "sex"
    ]  # fmt: skip
    patients = sheet.drop_duplicates("patient")
    assert patients["subgroup"].value_counts().to_dict() == {"NSDE": 11, "SSDE": 5}
    assert list(dict.fromkeys(sheet["subgroup"])) == ["NSDE", "SSDE"]
    assert list(patients["patient"]) == [f"NSDE{i:02d}" for i in range(1, 12)] + [
        f"SSDE{i:02d}" for i in range(1, 6)
    ]
    assert sheet["timepoint"].value_counts().to_dict() == {"baseline": 16, "week2": 16, "week4": 3}
    assert (sheet["sample"] == sheet["patient"] + "_" + sheet["timepoint"]).all()
    assert set(sheet["sex"]) <= {"F", "M"}
    assert sheet["age"].astype(int).between(18, 90).all()
    pairs = paired_samples(sheet, "baseline", "week2")
    assert len(pairs) == 16


def test_run_columns_are_diann_raw_paths_matching_the_sheet(matrix, sheet):
    assert list(matrix.columns[:5]) == [
        "Protein.Group", "Protein.Ids", "Protein.Names", "Genes", "First.Protein.Description"
    ]  # fmt: skip
    runs = run_columns(matrix)
    assert len(runs) == len(matrix.columns) - 5
    assert all(run.startswith("D:\\tearflow\\raw\\") and run.endswith(".raw") for run in runs)
    assert [PureWindowsPath(run).stem for run in runs] == list(sheet["sample"])


def test_matrix_looks_like_diann_output(matrix):
    groups = list(matrix["Protein.Group"])
    assert groups == sorted(groups) and len(set(groups)) == len(groups)
    contaminants = matrix[matrix["Protein.Group"].str.startswith("Cont_")]
    assert 2 <= len(contaminants) <= 3
    assert 1 <= (matrix["Genes"] == "").sum() <= 2
    values = matrix[run_columns(matrix)]
    assert (values == "").to_numpy().any()  # missing = empty cell
    numbers = values.replace("", np.nan).astype(float)
    log2 = np.log2(numbers.stack())
    assert 13.5 < log2.min() and log2.max() < 34
    assert numbers.notna().any(axis=1).all()  # DIA-NN does not write all-empty rows


def test_planted_genes_are_in_the_table_and_in_the_focus_sets(generator, matrix):
    in_table = {gene for genes in matrix["Genes"] for gene in genes.split(";") if gene}
    planted = set(generator.IL17_FOCUS_GENES) | set(generator.IL17_TARGET_GENES) | {"MUC5AC"}
    assert planted <= in_table
    assert 10 <= len(generator.IL17_FOCUS_GENES) <= 15
    members = set().union(*focus_genes().values())
    assert set(generator.IL17_FOCUS_GENES) <= members
    assert "P98088" in set(matrix["Protein.Group"])


def test_planted_genes_are_in_the_shipped_focus_gmt(generator):
    focus_gmt = REPO / "resources" / "genesets" / "th17_il17_focus.gmt"
    if not focus_gmt.exists():
        pytest.skip("resources/genesets/th17_il17_focus.gmt not shipped yet")
    members = set()
    for line in focus_gmt.read_text(encoding="utf-8").splitlines():
        members.update(line.split("\t")[2:])
    assert set(generator.IL17_FOCUS_GENES) <= members


def test_planted_effect_is_in_the_data_and_nothing_else_moves(generator, matrix, sheet):
    log2 = log2_by_sample(matrix)
    log2 = log2 - log2.median()  # the per-sample loading offset
    nsde = sheet.loc[sheet["subgroup"] == "NSDE", "patient"].unique()
    change = pd.DataFrame({p: log2[f"{p}_week2"] - log2[f"{p}_baseline"] for p in nsde})
    median_change = change.median(axis=1)
    planted = median_change[median_change.index.isin(generator.IL17_FOCUS_GENES)]
    others = median_change[~median_change.index.isin(
        generator.IL17_FOCUS_GENES + generator.IL17_TARGET_GENES + ("MUC5AC",)
    )]  # fmt: skip
    assert planted.dropna().median() < -0.8
    assert median_change["MUC5AC"] > 0.5
    assert abs(others.dropna().median()) < 0.1


def test_elisa_table_is_written_as_a_lab_writes_it():
    elisa = pd.read_csv(EXAMPLE / "elisa.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert list(elisa.columns) == ["patient", "timepoint", "analyte", "value", "unit", "lloq"]
    assert len(elisa) == 16 * 2 * 5
    assert set(elisa["analyte"]) == {"IL-6", "IL-17A", "MUC5AC", "CCL20", "IL-23"}
    assert set(elisa["timepoint"]) == {"baseline", "week2"}
    units = elisa.drop_duplicates("analyte").set_index("analyte")["unit"]
    assert units["MUC5AC"] == "ng/mL" and set(units.drop("MUC5AC")) == {"pg/mL"}
    text = elisa["value"]
    assert (text == "").sum() == 1
    assert {"<LLOQ", "ND"} <= set(text)
    assert text.str.match(r"^< \d").any()
    numeric = pd.to_numeric(text, errors="coerce")
    assert numeric.notna().sum() > 130


def test_clinical_table_has_every_patient_visit_and_eye():
    clinical = pd.read_csv(EXAMPLE / "clinical.tsv", sep="\t")
    assert len(clinical) == 16 * 4 * 2
    assert set(clinical["visit"]) == {"baseline", "week2", "week4", "month12"}
    assert set(clinical["eye"]) == {"OD", "OS"}
    assert clinical["OSDI"].between(0, 100).all() and clinical["CFS"].between(0, 15).all()
    osdi = clinical.pivot_table(index=["patient", "visit"], columns="eye", values="OSDI")
    assert (osdi["OD"] == osdi["OS"]).all()  # a questionnaire: one answer per patient and visit
    mean = clinical.groupby("visit")["OSDI"].mean()
    assert mean["week2"] < mean["baseline"] - 5


def test_readme_documents_seed_and_every_planted_gene(generator):
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    assert str(generator.SEED) in readme
    for gene in generator.IL17_FOCUS_GENES + generator.IL17_TARGET_GENES + ("MUC5AC",):
        assert f"`{gene}`" in readme
    for accession in generator.ADDED_ACCESSIONS.values():
        assert accession in readme
    assert "make_example_data.py" in readme and "MIT" in readme
