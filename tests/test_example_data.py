"""The shipped example data: reproducible from its script, shaped like the trial, with signal."""

import importlib.util
from pathlib import PureWindowsPath

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import REPO, config_section

from tearflow.readers import read_precursors
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
TABLES = ("report.pg_matrix.tsv", "elisa.tsv", "clinical.tsv", "report.parquet", "precursor_truth.tsv")
REPORT = EXAMPLE / "report.parquet"


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


# --- the precursor-level example (DIA-NN 2.x report.parquet) ------------------------------------


@pytest.fixture(scope="module")
def report():
    return pq.read_table(REPORT).to_pandas()


@pytest.fixture(scope="module")
def truth():
    return pd.read_csv(EXAMPLE / "precursor_truth.tsv", sep="\t", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def simulated(generator):
    """The generator's in-memory result (complete values, detection, components)."""
    return generator.example_data(generator.read_tear_summary(TEAR), generator.read_idmap(IDMAP))


def detected_cells(report):
    """Precursor × run: True where the report has a row."""
    return pd.crosstab(report["Precursor.Id"], report["Run"]).astype(bool)


def patient_changes(report, patients):
    """Protein × patient: median over the precursors seen at both visits of log2 Precursor.Normalised
    week2 − baseline."""
    log2 = np.log2(report.pivot(index="Precursor.Id", columns="Run", values="Precursor.Normalised").astype(float))
    group = report.drop_duplicates("Precursor.Id").set_index("Precursor.Id")["Protein.Group"][log2.index]
    change = pd.DataFrame({p: log2[f"{p}_week2"] - log2[f"{p}_baseline"] for p in patients})
    return change.groupby(group).median()


def test_report_is_a_diann2_parquet_of_the_sheets_runs(generator, report, sheet):
    schema = pq.read_schema(REPORT)
    assert list(schema.names) == list(generator.REPORT_COLUMNS)
    assert "File.Name" not in schema.names  # DIA-NN 2.x report.parquet: Run only (the file's stem)
    types = {name: str(schema.field(name).type) for name in schema.names}
    assert types["Precursor.Quantity"] == types["Precursor.Normalised"] == types["PG.MaxLFQ"] == "float"
    for name in ("Q.Value", "PG.Q.Value", "Global.Q.Value", "Lib.Q.Value", "Lib.PG.Q.Value"):
        assert types[name] == "float"
    for name in ("Precursor.Charge", "Decoy", "Proteotypic", "Run.Index"):
        assert types[name] == "int64"
    for name in ("Run", "Precursor.Id", "Protein.Group", "Genes"):
        assert types[name] == "string"
    assert REPORT.stat().st_size < 5_000_000
    assert pq.ParquetFile(REPORT).metadata.num_row_groups > 1
    # runs: the sheet's 35 samples, the pg_matrix's file stems, indexed in sheet order
    assert list(dict.fromkeys(report["Run"])) == list(sheet["sample"])
    assert (report["Run.Index"] == report["Run"].map({s: i for i, s in enumerate(sheet["sample"])})).all()
    assert not report.duplicated(["Run", "Precursor.Id"]).any()
    assert (report["Decoy"] == 0).all() and set(report["Proteotypic"]) == {0, 1} and set(report["Channel"]) == {""}
    # precursor IDs as DIA-NN writes them: modified sequence + charge, carbamidomethyl C
    assert (report["Precursor.Id"] == report["Modified.Sequence"] + report["Precursor.Charge"].astype(str)).all()
    assert (report["Modified.Sequence"].str.replace("(UniMod:4)", "") == report["Stripped.Sequence"]).all()
    assert report["Stripped.Sequence"].str.fullmatch(r"[ACDEFGHILMNPQSTVWY]{6,24}[KR]").all()
    assert set(report["Precursor.Charge"]) == {2, 3}
    assert (report.groupby("Precursor.Id")["Protein.Group"].nunique() == 1).all()
    # precursors per protein from its abundance: 1 to 12, some proteins with a single one
    counts = report.groupby("Protein.Group")["Precursor.Id"].nunique()
    assert counts.min() == 1 and counts.max() == 12 and (counts == 1).sum() >= 30
    # DIA-NN's normalisation: normalised = factor × raw, one factor per run
    ratio = report["Precursor.Normalised"].astype(float) / report["Precursor.Quantity"].astype(float)
    assert np.allclose(ratio, report["Normalisation.Factor"], rtol=1e-5)
    assert (report.groupby("Run")["Normalisation.Factor"].nunique() == 1).all()
    assert (report.groupby(["Run", "Protein.Group"])["PG.MaxLFQ"].nunique() == 1).all()
    # the main report is filtered at 1 % precursor q-value; protein and library q-values are not
    assert (report["Q.Value"] <= 0.01).all() and (report["Global.Q.Value"] <= report["Q.Value"]).all()
    above = (report[["PG.Q.Value", "Lib.Q.Value", "Lib.PG.Q.Value"]] > 0.01).any(axis=1)
    assert 0.005 < above.mean() < 0.03
    for name in ("PG.Q.Value", "Lib.Q.Value", "Lib.PG.Q.Value"):
        assert (report[name] > 0.01).any()


def test_report_has_the_pg_matrix_proteins_and_annotation(report, matrix):
    annotation = ["Protein.Group", "Protein.Ids", "Protein.Names", "Genes"]
    groups = report.drop_duplicates("Protein.Group").set_index("Protein.Group")[annotation[1:]].sort_index()
    expected = matrix.set_index("Protein.Group")[annotation[1:]].sort_index()
    pd.testing.assert_frame_equal(groups.astype(str), expected.astype(str), check_names=False)
    contaminants = sorted(g for g in groups.index if g.startswith("Cont_"))
    assert contaminants == ["Cont_P04264", "Cont_P13645", "Cont_P35527"]
    assert (report.groupby("Protein.Group")["Protein.Ids"].nunique() == 1).all()


def test_tearflow_reads_the_report_and_drops_contaminants_and_failed_qvalues(report):
    table = read_precursors(REPORT, "auto", config_section("import"))
    assert table.format == "diann_report" and table.quantity == "Precursor.Normalised"
    assert (table.rows_read, table.precursors_read, table.groups_read) == (len(report), 2017, 493)
    assert len(table.precursors) == 1949 and len(table.runs) == 35
    assert table.removed["reason"].value_counts().to_dict() == {"qvalue_filtered": 50, "contaminant": 18}
    assert table.observations_removed == {"contaminant": 594, "qvalue_filtered": 512}
    assert table.groups_removed()["reason"].value_counts().to_dict() == {"qvalue_filtered": 15, "contaminant": 3}
    # the same counts from the table itself
    contaminant = report["Protein.Group"].str.startswith("Cont_")
    failed = (report[["Q.Value", "PG.Q.Value", "Lib.Q.Value", "Lib.PG.Q.Value"]] > 0.01).any(axis=1)
    assert contaminant.sum() == 594 and (failed & ~contaminant).sum() == 512
    assert report.loc[contaminant, "Precursor.Id"].nunique() == 18
    kept = set(report.loc[~contaminant & ~failed, "Precursor.Id"])
    assert set(table.precursors["precursor"]) == kept
    assert table.precursors["protein"].nunique() == 475


def test_missing_values_depend_on_intensity(generator, report, simulated):
    detected = detected_cells(report)
    missing = 1 - detected.mean(axis=1)
    assert 0.30 < 1 - detected.to_numpy().mean() < 0.45  # precursor × run cells absent from the report
    level = np.log2(report.groupby("Precursor.Id")["Precursor.Quantity"].median().astype(float))
    quartile = pd.qcut(level, 4, labels=False)
    by_quartile = missing.groupby(quartile[missing.index]).mean()
    assert by_quartile.is_monotonic_decreasing and by_quartile[0] > 0.6 and by_quartile[3] < 0.1
    # the detection probability curve it was drawn from: logistic in the complete log2 intensity
    y = simulated["precursors"]["log2"].ravel()
    d = simulated["precursors"]["detected"].ravel().astype(float)
    x = np.column_stack([np.ones_like(y), y])
    beta = np.zeros(2)
    for _ in range(25):  # logistic regression by Newton's method
        p = 1 / (1 + np.exp(-x @ beta))
        beta += np.linalg.solve(x.T @ (x * (p * (1 - p))[:, None]), x.T @ (d - p))
    assert abs(beta[1] - generator.DPC_SLOPE) < 0.05
    assert abs(-beta[0] / beta[1] - (-generator.DPC_INTERCEPT / generator.DPC_SLOPE)) < 0.2


def test_switched_proteins_are_mostly_missing_at_the_off_visit(generator, report, sheet, truth):
    detected = detected_cells(report)
    precursors = report.drop_duplicates("Precursor.Id").set_index("Precursor.Id")["Genes"][detected.index]
    switched = truth[truth["effect"].str.startswith("switched")]
    assert sorted(switched["gene"]) == sorted(generator.SWITCHED) and 4 <= len(switched) <= 8
    for row in switched.itertuples():
        cells = detected[precursors == row.gene]
        for group in ("NSDE", "SSDE"):
            change = float(getattr(row, f"log2fc_{group}"))
            patients = sheet.loc[sheet["subgroup"] == group, "patient"].unique()
            base = cells[[f"{p}_baseline" for p in patients]].to_numpy().mean()
            week2 = cells[[f"{p}_week2" for p in patients]].to_numpy().mean()
            if change == 0:
                assert abs(week2 - base) < 0.3, (row.gene, group)
                continue
            assert 3 <= abs(change) <= 5
            off, on = (week2, base) if change < 0 else (base, week2)
            assert off < 0.25 and on > 0.55, (row.gene, group, off, on)


def test_precursor_truth_is_the_pg_matrix_truth_plus_the_switches(generator, truth, report, matrix, simulated):
    assert list(truth["protein"]) == sorted(matrix["Protein.Group"])
    assert truth["effect"].value_counts().to_dict() == {
        "": 466, "IL-17": 17, "switched_off": 3, "switched_on": 3, "contaminant": 3, "MUC5AC": 1
    }  # fmt: skip
    catalogue = simulated["catalogue"]
    planted = generator.planted_effects(catalogue, ["NSDE", "SSDE"])
    planted.index = [";".join(sorted(ids)) for ids in catalogue["accessions"]]
    table = truth.set_index("protein")
    for group in ("NSDE", "SSDE"):
        total = table[f"log2fc_{group}"].astype(float)
        not_switched = ~table["effect"].str.startswith("switched")
        assert (total[not_switched] == planted.loc[total.index[not_switched], group]).all()
        il17 = table["effect"] == "IL-17"
        assert set(total[il17]) == {generator.IL17_EFFECT[group]}
        assert total[table["gene"] == "MUC5AC"].item() == generator.MUC5AC_EFFECT[group]
        for gene, change in generator.SWITCHED.items():
            assert total[table["gene"] == gene].item() == change[("NSDE", "SSDE").index(group)]
    counts = report.groupby("Protein.Group")["Precursor.Id"].nunique()
    assert (table["precursors"].astype(int) == counts[table.index]).all()


def test_report_tells_the_pg_matrix_story(report, matrix, sheet, truth, simulated):
    patients = sheet["patient"].unique()
    nsde = sheet.loc[sheet["subgroup"] == "NSDE", "patient"].unique()
    from_precursors = patient_changes(report, patients)
    log2 = log2_by_sample(matrix)
    log2 = log2 - log2.median()
    log2.index = matrix["Protein.Group"]
    from_matrix = pd.DataFrame({p: log2[f"{p}_week2"] - log2[f"{p}_baseline"] for p in patients})
    effect = truth.set_index("protein")["effect"]
    il17, null = effect.index[effect == "IL-17"], effect.index[effect == ""]
    muc5ac = effect.index[effect == "MUC5AC"][0]
    for changes in (from_precursors, from_matrix):
        median = changes[nsde].median(axis=1)
        assert median[il17].dropna().median() < -0.8
        assert median[muc5ac] > 0.5
        assert abs(median[null].dropna().median()) < 0.1
    # the same patients' changes: shared patient effects, residuals, response factors
    pairs = pd.concat([from_precursors.stack(), from_matrix.stack()], axis=1).dropna()
    assert len(pairs) > 3000 and np.corrcoef(pairs[0], pairs[1])[0, 1] > 0.5
    # DIA-NN's per-run normalisation removes most of the simulated loading offset
    factor = report.groupby("Run")["Normalisation.Factor"].first()[list(sheet["sample"])]
    loading = simulated["components"]["loading"]
    assert np.corrcoef(-np.log2(factor.astype(float)), loading)[0, 1] > 0.9


def test_readme_documents_the_precursor_report(generator):
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    assert "`report.parquet`" in readme and "`precursor_truth.tsv`" in readme
    assert f"β1 = {generator.DPC_SLOPE}, β0 = {generator.DPC_INTERCEPT}".replace("-", "−") in readme
    assert f"default_rng([{generator.SEED}, {generator.PRECURSOR_STREAM}])" in readme
    for gene in generator.SWITCHED:
        assert f"`{gene}`" in readme
    assert "**What to expect** (the shipped config: this report" in readme
