"""scripts/differential.py (and its figures): the pipeline functions against the limma fixtures,
the table contract, filtering, covariates, imputed input, and the Snakemake adapters."""

from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import REPO, adapter, config_section

from tearflow import differential as diff
from tearflow.columns import FDR, GENE, LOG2FC, N_PAIRS, PROTEIN, PVALUE, SIGNIFICANT, T_STAT
from tearflow.errors import TearflowError
from tearflow.figures import differential as plots
from tearflow.multiple_testing import bh_adjust
from tearflow.tables import read_tsv

DIFFERENTIAL_STEP = adapter("differential")

FIXTURES = REPO / "tests" / "fixtures" / "limma"
CONTRACT = [PROTEIN, GENE, LOG2FC, T_STAT, PVALUE, FDR, N_PAIRS, "mean_log2_abundance", SIGNIFICANT]


def fixture(case, suffix):
    return pd.read_csv(FIXTURES / f"{case}_{suffix}.tsv", sep="\t", dtype={"sex": str})


def frames(tables, proteins):
    """``differential_statistics``' ``{contrast: {column: array}}`` as DataFrames indexed by protein."""
    return {name: pd.DataFrame(columns, index=list(proteins)) for name, columns in tables.items()}


def sample_matrix(matrix):
    """A test DataFrame (protein, gene, samples) as the step's SampleMatrix."""
    samples = [c for c in matrix.columns if c not in (PROTEIN, GENE)]
    return diff.SampleMatrix(
        list(matrix[PROTEIN]), list(matrix[GENE]), samples, matrix[samples].to_numpy(dtype=float)
    )


@pytest.mark.parametrize("case", ["missing", "unequal_covariates", "missing_covariates"])
@pytest.mark.parametrize("variant", ["default", "trend", "robust"])
@pytest.mark.parametrize("treat_log2fc", [0.0, 0.5])
def test_differential_statistics_equal_limma(case, variant, treat_log2fc):
    """The whole step (design building, filters, both fits, BH) reproduces the R pipeline; with
    ``treat_log2fc`` the p-values and FDR are limma treat's and t stays eBayes' moderated t."""
    data = fixture(case, "input")
    patients = fixture(case, "patients").astype(str)
    covariate_names = [c for c in patients.columns if c not in ("patient", "subgroup")]
    covariates = diff.covariate_columns(patients.to_dict("records"), covariate_names)
    expected_design = fixture(case, "design_subgroups").iloc[:, 2:]
    design = np.column_stack(list(covariates.values())) if covariates else np.empty((len(patients), 0))
    assert list(covariates) == list(expected_design.columns)
    np.testing.assert_allclose(design, expected_design.to_numpy(float), atol=1e-12)
    subgroups = list(dict.fromkeys(patients["subgroup"]))
    tables = diff.differential_statistics(
        data[list(patients["patient"])].to_numpy(),
        patients["subgroup"].to_numpy(),
        subgroups,
        data["mean_log2_abundance"].to_numpy(),
        covariates=covariates,
        min_pairs=3,
        trend=variant == "trend",
        robust=variant == "robust",
        treat_log2fc=treat_log2fc,
        # the fixtures come from limma 3.54, i.e. the classic fitFDist even where missing pairs make
        # the df differ; limma >= 3.61's default (None) is tested in tests/test_limma_unequal_df.py
        ebayes_legacy=True,
    )
    tables = frames(tables, data["protein"])
    reference = fixture(case, "limma")
    reference = reference[reference["variant"] == variant].copy()
    if treat_log2fc:
        assert treat_log2fc == 0.5, "make_fixtures.R runs treat at lfc = 0.5"
        reference["pvalue"] = reference["treat_pvalue"]
        for name in reference["contrast"].unique():
            rows = reference["contrast"] == name
            reference.loc[rows, "fdr"] = bh_adjust(reference.loc[rows, "pvalue"].to_numpy())
    assert set(tables) == set(reference["contrast"])
    for name, table in tables.items():
        ref = reference[reference["contrast"] == name].set_index("protein").loc[table.index]
        assert table[N_PAIRS].tolist() == ref["n_pairs"].tolist()
        for ours, theirs in (
            (LOG2FC, "log2fc"),
            (T_STAT, "t"),
            (PVALUE, "pvalue"),
            (FDR, "fdr"),
            ("df_total", "df_total"),
            ("B", "lods"),
        ):
            a, b = table[ours].to_numpy(float), ref[theirs].to_numpy(float)
            assert np.array_equal(np.isnan(a), np.isnan(b)), f"{name}/{ours}: NaN pattern"
            np.testing.assert_allclose(
                a[~np.isnan(b)], b[~np.isnan(b)], rtol=1e-6, atol=1e-6, err_msg=f"{case}/{variant}/{name}/{ours}"
            )


def small_study(n_proteins=40, seed=0, missing=0.1):
    """A sheet and a log2 matrix: 5 + 3 patients, baseline/week2, first 5 proteins up by 3."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(8):
        for tp in ("baseline", "week2"):
            rows.append(
                {
                    "sample": f"s{i}_{tp}",
                    "patient": f"p{i}",
                    "subgroup": "A" if i < 5 else "B",
                    "timepoint": tp,
                    "age": str(30 + 4 * i),
                    "sex": "FM"[i % 2],
                }
            )
    sheet = pd.DataFrame(rows)
    values = {}
    base = rng.uniform(18, 28, n_proteins)
    for sample in sheet["sample"]:
        v = base + rng.normal(0, 0.3, n_proteins)
        if sample.endswith("week2"):
            v[:5] += 3
        v[rng.uniform(size=n_proteins) < missing] = np.nan
        values[sample] = v
    matrix = pd.DataFrame(
        {PROTEIN: [f"P{i}" for i in range(n_proteins)], GENE: [f"G{i}" for i in range(n_proteins)], **values}
    )
    return sheet, matrix


def test_untested_proteins_keep_nan_and_their_n_pairs():
    sheet, matrix = small_study(missing=0)
    values = matrix.set_index(PROTEIN)
    values.loc["P7", ["s5_week2", "s6_week2"]] = np.nan  # only one B pair left
    values.loc["P8", values.columns != GENE] = np.nan
    values.loc["P8", ["s0_baseline", "s0_week2"]] = [20.0, 21.0]  # one pair overall
    from tearflow.samples import pair_records

    pairs = pair_records(sheet.to_dict("records"), "baseline", "week2")
    d = diff.paired_differences(sample_matrix(values.reset_index()), pairs)
    tables = diff.differential_statistics(
        d, [pair["subgroup"] for pair in pairs], ["A", "B"], np.full(len(d), 20.0), min_pairs=3
    )
    tables = frames(tables, values.index)
    assert tables["B"].loc["P7", N_PAIRS] == 1 and np.isnan(tables["B"].loc["P7", PVALUE])
    assert np.isnan(tables["interaction"].loc["P7", T_STAT])
    assert not np.isnan(tables["A"].loc["P7", PVALUE])
    for name in ("A", "B", "all", "interaction"):
        assert np.isnan(tables[name].loc["P8", PVALUE]) and np.isnan(tables[name].loc["P8", FDR])
    assert tables["all"].loc["P8", N_PAIRS] == 1
    assert (tables["all"][PVALUE].dropna() > 0).all()
    up = tables["all"].loc[[f"P{i}" for i in range(5)]]
    assert (up[FDR] < 0.05).all() and (up[LOG2FC] > 2).all()


def test_contrast_table_contract_and_significance():
    stats_table = {
        column: np.asarray(values, dtype=float)
        for column, values in {
            LOG2FC: [1.0, -0.2, np.nan],
            T_STAT: [5.0, -3.0, np.nan],
            PVALUE: [0.001, 0.01, np.nan],
            FDR: [0.003, 0.015, np.nan],
            N_PAIRS: [8, 8, 1],
            "se": [0.2, 0.1, np.nan],
            "ci_low": [0.5, -0.4, np.nan],
            "ci_high": [1.5, 0.0, np.nan],
            "df_total": [20, 20, np.nan],
            "B": [3.0, 1.0, np.nan],
            "n_pairs_measured": [8, 7, 1],
        }.items()
    }
    table = diff.contrast_table(
        stats_table,
        ["a", "b", "c"],
        ["A", None, "C"],
        [20.0, 21.0, 22.0],
        fdr=0.05,
        min_abs_log2fc=0.5,
        share_imputed=[0.0, 0.25, 0.5],
    )
    assert list(table)[: len(CONTRACT)] == CONTRACT
    assert table[SIGNIFICANT].tolist() == [True, False, False]
    assert table[PROTEIN].tolist() == ["a", "b", "c"]
    assert "share_imputed" in table


def test_contrast_table_sorts_by_p_value_untested_last():
    statistics = diff.untested_contrast(4)
    statistics[PVALUE][:] = [0.5, np.nan, 0.01, 0.5]
    statistics[FDR][:] = [0.5, np.nan, 0.04, 0.5]
    statistics[LOG2FC][:] = [0.1, np.nan, 1.0, 0.2]
    table = diff.contrast_table(statistics, ["p", "q", "r", "s"], ["P", "Q", "R", "S"], [1.0] * 4, 0.05, 0)
    assert table[PROTEIN].tolist() == ["r", "p", "s", "q"]  # ties keep input order; untested last
    assert table[SIGNIFICANT].tolist() == [True, False, False, False]


def test_covariates_numeric_and_factor_and_errors():
    pairs = pd.DataFrame(
        {
            "patient": ["a", "b", "c", "d"],
            "age": ["30", "40", "50", "60"],
            "site": ["x", "y", "x", "z"],
            "blank": ["1", "", "2", "3"],
            "code": ["1_0", "2", "3", "4"],
        }
    ).to_dict("records")
    columns = diff.covariate_columns(pairs, ["age", "site", "code"])
    assert list(columns) == ["age", "sitey", "sitez", "code2", "code3", "code4"]  # 1_0 is not a number
    np.testing.assert_allclose(columns["age"], [-15, -5, 5, 15])
    np.testing.assert_allclose([values.sum() for values in columns.values()], 0, atol=1e-12)
    with pytest.raises(TearflowError, match="no column 'height'"):
        diff.covariate_columns(pairs, ["height"])
    with pytest.raises(TearflowError, match="'blank' is empty for patient"):
        diff.covariate_columns(pairs, ["blank"])
    design = {"A": np.array([1, 1, 0, 0.0]), "B": np.array([0, 0, 1, 1.0]), "dup": np.array([-0.5, -0.5, 0.5, 0.5])}
    assert list(diff.full_rank_design(design, ["A", "B"])) == ["A", "B"]


def fake_snakemake(tmp_path, sheet, matrix, contrasts, imputed=False, config=None):
    sheet_path, matrix_path = tmp_path / "samples.tsv", tmp_path / "matrix.tsv"
    sheet.to_csv(sheet_path, sep="\t", index=False)
    matrix.to_csv(matrix_path, sep="\t", index=False, na_rep="NA")
    inputs = {"matrix": str(matrix_path), "samples": str(sheet_path)}
    if imputed:
        mask = matrix.copy()
        samples = [c for c in matrix.columns if c not in (PROTEIN, GENE)]
        mask[samples] = matrix[samples].isna()
        mask.loc[:, samples] = mask[samples].astype(bool)
        filled = matrix.copy()
        filled[samples] = matrix[samples].fillna(15.0)
        filled.to_csv(matrix_path, sep="\t", index=False, na_rep="NA")
        mask_path = tmp_path / "mask.tsv"
        mask.to_csv(mask_path, sep="\t", index=False)
        inputs["mask"] = str(mask_path)

    class Named(SimpleNamespace):
        def keys(self):
            return self.__dict__.keys()

    out = tmp_path / "out"
    return SimpleNamespace(
        input=Named(**inputs),
        output=SimpleNamespace(
            tables=[str(out / f"{c}.tsv") for c in contrasts], changes=str(out / "patient_changes.tsv")
        ),
        params=SimpleNamespace(
            differential=config_section("differential", **(config or {})),
            timepoints={"baseline": "baseline", "followup": "week2"},
            contrasts=contrasts,
        ),
        log=[str(tmp_path / "log.txt")],
    )


def test_main_writes_tables_and_patient_changes(tmp_path):
    sheet, matrix = small_study()
    contrasts = ["A", "B", "all", "interaction"]
    snakemake = fake_snakemake(
        tmp_path, sheet, matrix, contrasts, config={"min_pairs": 3, "covariates": ["age", "sex"], "trend": True}
    )
    DIFFERENTIAL_STEP.main(snakemake)
    for path in snakemake.output.tables:
        table = read_tsv(path)
        assert list(table.columns[: len(CONTRACT)]) == CONTRACT
        assert len(table) == len(matrix)
    changes = read_tsv(snakemake.output.changes, dtype=str)
    assert list(changes.columns) == [PROTEIN, GENE] + [f"p{i}" for i in range(8)]
    row = matrix.iloc[0]
    assert float(changes.loc[0, "p0"]) == pytest.approx(row["s0_week2"] - row["s0_baseline"]) or (
        np.isnan(row["s0_week2"] - row["s0_baseline"])
    )


def test_main_treat_threshold_raises_p_values_and_keeps_t(tmp_path):
    sheet, matrix = small_study()
    tables = {}
    for treat_log2fc in (0.0, 1.0):
        folder = tmp_path / str(treat_log2fc)
        folder.mkdir()
        snakemake = fake_snakemake(folder, sheet, matrix, ["all"], config={"treat_log2fc": treat_log2fc})
        DIFFERENTIAL_STEP.main(snakemake)
        tables[treat_log2fc] = read_tsv(snakemake.output.tables[0]).set_index(PROTEIN).sort_index()
    plain, treated = tables[0.0], tables[1.0]
    tested = plain[PVALUE].notna()
    np.testing.assert_allclose(treated[T_STAT], plain[T_STAT])
    assert (treated.loc[tested, PVALUE] >= plain.loc[tested, PVALUE]).all()
    assert treated[PVALUE].isna().equals(plain[PVALUE].isna())
    # the five proteins up by 3 log2 still pass a 1-log2 threshold; none of the unchanged ones does
    assert treated[SIGNIFICANT].sum() >= 1
    assert not treated.loc[treated[LOG2FC].abs() < 1, SIGNIFICANT].any()


def test_main_with_imputed_input_counts_measured_pairs(tmp_path):
    sheet, matrix = small_study(missing=0.3, seed=4)
    snakemake = fake_snakemake(tmp_path, sheet, matrix, ["A", "B", "all", "interaction"], imputed=True)
    DIFFERENTIAL_STEP.main(snakemake)
    table = read_tsv(snakemake.output.tables[2])
    assert {"share_imputed", "n_pairs_measured"} <= set(table.columns)
    assert (table[N_PAIRS] == 8).all()  # imputed pairs are in the fit
    untested = table["n_pairs_measured"] < 3
    assert table.loc[untested, PVALUE].isna().all()
    assert table["share_imputed"].between(0, 1).all() and table["share_imputed"].max() > 0


def test_main_reports_missing_covariate_column(tmp_path):
    sheet, matrix = small_study()
    snakemake = fake_snakemake(
        tmp_path, sheet, matrix, ["A", "B", "all", "interaction"], config={"covariates": ["bmi"]}
    )
    with pytest.raises(TearflowError, match="differential.covariates.*'bmi'"):
        DIFFERENTIAL_STEP.main(snakemake)


def test_figures_are_drawn(tmp_path):
    from tearflow.figures.output import save_figure

    png = config_section("figures")
    sheet, matrix = small_study()
    snakemake = fake_snakemake(tmp_path, sheet, matrix, ["A", "B", "all", "interaction"])
    DIFFERENTIAL_STEP.main(snakemake)
    gmt = tmp_path / "focus.gmt"
    gmt.write_text("IL17\tfocus set\tG1\tG30\n")
    focus = plots.focus_genes_from_gmt(gmt)
    assert focus == {"G1", "G30"}
    table = read_tsv(snakemake.output.tables[2], dtype={PROTEIN: str, GENE: str})
    labelled = table.loc[plots.volcano_labels(table, focus, 3), GENE].tolist()
    assert labelled[:3] == table.nsmallest(3, PVALUE)[GENE].tolist() and "G30" in labelled
    volcano = plots.volcano_figure(table, "all patients", "log2 fold change", focus, 10, 0.05, 0.0)
    save_figure(volcano, tmp_path / "volcano.png", png)
    tables = [read_tsv(p, dtype={PROTEIN: str, GENE: str}) for p in snakemake.output.tables]
    proteins = plots.significant_proteins(tables, 50)
    assert set(proteins) >= {f"P{i}" for i in range(5)}
    changes = read_tsv(snakemake.output.changes, dtype={PROTEIN: str, GENE: str})
    subgroups = {f"p{i}": "A" if i < 5 else "B" for i in range(8)}
    heatmap = plots.heatmap_figure(changes, subgroups, proteins, ["A", "B"], "significant", "week2 − baseline")
    save_figure(heatmap, tmp_path / "heatmap.png", png)
    empty = plots.heatmap_figure(changes, subgroups, [], ["A", "B"], "no protein significant", "week2 − baseline")
    save_figure(empty, tmp_path / "empty.png", png)
    assert (tmp_path / "volcano.png").stat().st_size > 0 and (tmp_path / "heatmap.png").exists()
    bad = tmp_path / "bad.gmt"
    bad.write_text("onlyname\n")
    with pytest.raises(TearflowError, match="line 1"):
        plots.focus_genes_from_gmt(bad)


def test_one_plot_job_draws_every_contrast_in_order(tmp_path, monkeypatch):
    """plot_differential is one job for all contrasts: each volcano shows its own contrast's table."""
    import matplotlib.pyplot as plt

    sheet, matrix = small_study()
    contrasts = ["A", "B", "all", "interaction"]
    snakemake = fake_snakemake(tmp_path, sheet, matrix, contrasts)
    DIFFERENTIAL_STEP.main(snakemake)
    gmt = tmp_path / "focus.gmt"
    gmt.write_text("IL17\tfocus set\tG1\tG30\n")

    class Named(SimpleNamespace):
        def keys(self):
            return self.__dict__.keys()

    volcanoes = [str(tmp_path / "figures" / f"volcano_{c}.png") for c in contrasts]
    plot_job = SimpleNamespace(
        input=Named(
            tables=snakemake.output.tables,
            changes=snakemake.output.changes,
            samples=str(tmp_path / "samples.tsv"),
            focus_gmt=str(gmt),
        ),
        output=SimpleNamespace(volcanoes=volcanoes, heatmap=str(tmp_path / "figures" / "heatmap.png")),
        params=SimpleNamespace(
            differential=config_section("differential"),
            figures=config_section("figures"),
            contrasts=contrasts,
            timepoints={"baseline": "baseline", "followup": "week2"},
        ),
    )
    step = adapter("plot_differential")
    titles = []
    original = step.volcano_figure

    def recording(table, *args):
        figure = original(table, *args)
        titles.append((len(table), figure.axes[0].get_title(), figure.axes[0].get_xlabel()))
        return figure

    monkeypatch.setattr(step, "volcano_figure", recording)
    step.main(plot_job)
    assert [title.split(":")[0] for _, title, _ in titles] == [
        "A, week2 − baseline",
        "B, week2 − baseline",
        "all patients, week2 − baseline",
        "interaction, (B − A) change",  # the subgroups' difference, not a week2 − baseline change
    ]
    assert [label for _, _, label in titles] == ["log2 fold change (week2 − baseline)"] * 3 + [
        "(B − A) change, log2 (change = week2 − baseline)"
    ]
    for (rows, _, _), path in zip(titles, snakemake.output.tables):
        assert rows == len(read_tsv(path))
    assert all(Path(f).stat().st_size > 0 for f in volcanoes + [plot_job.output.heatmap])
    plot_job.params.contrasts = contrasts[:3]  # lists of different lengths: a bug, not a silent skip
    with pytest.raises(ValueError, match="3 contrasts for 4 files"):
        step.main(plot_job)
    plot_job.params.contrasts = ["B", "A", "all", "interaction"]  # files of other contrasts: refused
    with pytest.raises(ValueError, match="does not belong to contrast 'B'"):
        step.main(plot_job)
    plt.close("all")


def test_volcano_focus_genes_match_any_member_of_a_protein_group():
    import pandas as pd

    from tearflow.figures.differential import has_focus_gene

    genes = pd.Series(["S100A8;S100A9", "ALB", None, "il6"])
    assert has_focus_gene(genes, {"S100A9", "IL6"}).tolist() == [True, False, False, True]


def _patient_changes(n_patients, rows):
    """patient_changes-shaped table: {gene: one value per patient} (None = no pair)."""
    patients = [f"p{i}" for i in range(n_patients)]
    table = pd.DataFrame(
        [[f"P_{gene}", gene, *values] for gene, values in rows.items()], columns=[PROTEIN, GENE, *patients]
    )
    return table, {p: "A" if i < n_patients // 2 + 1 else "B" for i, p in enumerate(patients)}


def test_heatmap_is_a_clustermap_that_clusters_measured_changes_and_greys_missing_ones():
    up, down, flat = [2.0] * 8, [-2.0] * 8, [0.1, -0.1] * 4
    rows = {
        "UP1": up, "DOWN1": down, "FLAT1": flat, "UP2": [2.1] * 8, "DOWN2": [-2.1] * 8, "FLAT2": flat[::-1],
        # measured in 2 of 8 patients, both +2: with a missing change taken as 0 it would join the
        # flat proteins; taken as its own mean it joins the increased ones
        "SPARSE_UP": [2.0, 2.0, None, None, None, None, None, None],
    }  # fmt: skip
    changes, subgroups = _patient_changes(8, rows)
    grid = plots.significant_clustermap(
        changes, subgroups, list(changes[PROTEIN]), ["A", "B"], "title", "week2 − baseline"
    )
    from scipy.cluster.hierarchy import fcluster

    three = dict(zip(changes[GENE], fcluster(grid.dendrogram_row.linkage, 3, "maxclust")))
    kind = {gene: gene.rstrip("12").removeprefix("SPARSE_") for gene in three}
    kinds = {name: {three[gene] for gene in three if kind[gene] == name} for name in ("UP", "DOWN", "FLAT")}
    assert all(len(found) == 1 for found in kinds.values()) and len(set.union(*kinds.values())) == 3, three
    cells = grid.ax_heatmap.collections[0].get_array()
    shown_missing = np.ma.getmaskarray(cells).reshape(len(rows), 8)
    expected_missing = changes.iloc[grid.dendrogram_row.reordered_ind, 2:].isna().to_numpy()
    assert (shown_missing == expected_missing).all() and expected_missing.sum() == 6
    assert [t.get_text() for t in grid.ax_heatmap.get_xticklabels()] == [f"p{i}" for i in range(8)]
    plt.close("all")


def test_heatmap_of_a_large_cohort_names_no_patient_and_of_no_protein_says_so():
    changes, subgroups = _patient_changes(61, {"G1": [1.0] * 61, "G2": [-1.0] * 60 + [None]})
    grid = plots.significant_clustermap(changes, subgroups, ["P_G1", "P_G2"], ["A", "B"], "t", "c")
    assert not [t for t in grid.ax_heatmap.get_xticklabels() if t.get_text()]
    assert grid.ax_heatmap.get_xlabel() == "61 patients" and grid.figure.get_size_inches()[0] < 26
    one = plots.significant_clustermap(changes, subgroups, ["P_G1"], ["A", "B"], "t", "c")
    assert one.dendrogram_row is None  # a single protein is not clustered
    assert plots.significant_clustermap(changes, subgroups, [], ["A", "B"], "t", "c") is None
    empty = plots.heatmap_figure(changes, subgroups, [], ["A", "B"], "no protein significant (FDR < 0.05)", "c")
    assert [t.get_text() for t in empty.axes[0].texts] == ["no protein significant (FDR < 0.05)"]
    plt.close("all")


def test_step_imports_neither_pandas_nor_scipy():
    """Issue 8: the differential step's fresh process must not pay for pandas (~0.2 s) or scipy
    (~0.13 s for scipy.special alone); either would put it behind R/limma at paper scale."""
    import subprocess
    import sys

    code = (
        "import sys, runpy; runpy.run_path('scripts/differential.py'); import tearflow.tables; "
        "print(sorted(m for m in ('pandas', 'scipy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
