"""Tests of scripts/enrichment.py: ORA p-values, background rule, focus rows, GSEA, offline."""

import importlib
import socket
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, adapter, config_section
from scipy.stats import hypergeom

from tearflow import enrichment  # noqa: E402
from tearflow.enrichment import (  # noqa: E402
    FOCUS_LIBRARY,
    background_genes,
    contrast_enrichment,
    gene_ranking,
    ora,
)
from tearflow.genesets import GeneSetLibrary, read_gmt

GENESETS = REPO / "resources" / "genesets"


def _table(n=200, seed=0, planted=(), shift=-3.0):
    """A differential table: n proteins G0..G{n-1}; planted genes get a strong negative t."""
    rng = np.random.default_rng(seed)
    genes = [f"G{i}" for i in range(n)]
    t = rng.normal(size=n)
    for gene in planted:
        t[genes.index(gene)] += shift
    log2fc = t / 3
    pvalue = np.clip(np.exp(-np.abs(t)), 1e-6, 1)
    table = pd.DataFrame(
        {
            "protein": [f"P{i:04d}" for i in range(n)],
            "gene": genes,
            "log2fc": log2fc,
            "t": t,
            "pvalue": pvalue,
            "fdr": np.minimum(pvalue * 5, 1),
            "n_pairs": 10,
            "mean_log2_abundance": 20.0,
            "significant": np.abs(t) > 2.2,
        }
    )
    return table


def _library(sets, name="lib", focus=False):
    return GeneSetLibrary(
        name,
        {k: [g.upper() for g in v] for k, v in sets.items()},
        {k: f"desc {k}" for k in sets},
        focus,
    )


def test_ora_pvalue_is_hypergeometric_upper_tail():
    background = [f"G{i}" for i in range(100)]
    query = background[:12]
    sets = {"A": background[:8] + background[50:60], "B": background[10:40], "C": background[90:95]}
    result = ora(query, background, sets).set_index("gene_set")
    # A: x = 8 of m = 18, k = 12, N = 100 -> P(X >= 8)
    expected_a = hypergeom.sf(8 - 1, 100, 18, 12)
    expected_b = hypergeom.sf(2 - 1, 100, 30, 12)
    assert result.loc["A", "pvalue"] == pytest.approx(expected_a, rel=1e-9)
    assert result.loc["B", "pvalue"] == pytest.approx(expected_b, rel=1e-9)
    assert (result.loc["A", "overlap"], result.loc["A", "set_size"]) == (8, 18)
    # fold enrichment = (x / k) / (m / N)
    assert result.loc["A", "statistic"] == pytest.approx((8 / 12) / (18 / 100))
    # C has no overlap: gseapy drops it, tearflow reports p = 1
    assert result.loc["C", "pvalue"] == 1.0
    assert result.loc["C", "overlap"] == 0
    assert result.loc["C", "statistic"] == 0.0


def test_ora_background_is_the_tested_proteins_only():
    table = _table(60)
    table.loc[40:, "pvalue"] = np.nan  # not tested in this contrast
    table.loc[5, "gene"] = "G5;ALIAS5"
    background = background_genes(table)
    assert background == {f"G{i}" for i in range(40)} | {"ALIAS5"}
    # a set half inside the tested proteins: set_size counts only the tested half
    sets = {"S": [f"G{i}" for i in range(30, 50)]}
    query = ["G30", "G31", "G32"]
    result = ora(query, background, sets).iloc[0]
    assert result["set_size"] == 10
    assert result["pvalue"] == pytest.approx(hypergeom.sf(3 - 1, len(background), 10, 3))


def test_ora_untestable_gets_nan_not_zero():
    background = [f"G{i}" for i in range(20)]
    result = ora([], background, {"A": background[:5], "B": ["X1", "X2"]}).set_index("gene_set")
    assert result["pvalue"].isna().all()
    result = ora(background[:3], background, {"B": ["X1", "X2"]}).iloc[0]
    assert np.isnan(result["pvalue"]) and result["set_size"] == 0


def test_focus_set_without_overlap_is_reported_in_every_method():
    table = _table(120, planted=["G1", "G2", "G3", "G4", "G5"])
    table.loc[110, ["t", "log2fc", "pvalue", "significant"]] = [5.0, 1.5, 1e-5, True]  # one up
    focus = _library(
        {
            "IL-17 (test)": ["G1", "G2", "G3", "G4", "G5"],
            "Nothing detected": ["ABSENT1", "ABSENT2"],
            "Tiny": ["G100"],
        },
        FOCUS_LIBRARY,
        focus=True,
    )
    other = _library({f"L{i}": [f"G{j}" for j in range(i, i + 10)] for i in range(0, 100, 10)})
    settings = config_section("enrichment", min_set_size=5, max_set_size=500, gsea_permutations=200)
    result, curves = contrast_enrichment(table, [focus, other], settings, seed=1)
    focus_rows = result[result["focus"]]
    assert len(focus_rows) == 3 * 3
    absent = focus_rows[focus_rows["gene_set"] == "Nothing detected"]
    assert set(absent["method"]) == {"ora_up", "ora_down", "gsea"}
    assert absent["pvalue"].isna().all() and (absent["set_size"] == 0).all()
    # a one-gene focus set is below min_set_size but still reported
    assert (focus_rows["gene_set"] == "Tiny").sum() == 3
    assert focus_rows["source"].str.startswith("desc").all()
    # planted down genes: ORA down and GSEA both find the set
    planted = focus_rows[focus_rows["gene_set"] == "IL-17 (test)"].set_index("method")
    assert planted.loc["ora_down", "pvalue"] < 0.001
    assert planted.loc["gsea", "statistic"] < 0 and planted.loc["gsea", "pvalue"] < 0.05
    assert planted.loc["ora_up", "pvalue"] == 1.0
    assert set(curves["gene_set"]) == {"IL-17 (test)", "Tiny"}
    # contract columns, fdr never below the p-value
    assert list(result.columns) == [
        "gene_set",
        "source",
        "method",
        "statistic",
        "pvalue",
        "fdr",
        "genes",
        "set_size",
        "overlap",
        "focus",
        "description",  # added after the contract columns (issue 16)
    ]
    tested = result.dropna(subset=["pvalue"])
    assert (tested["fdr"] >= tested["pvalue"] - 1e-12).all()
    # library sets outside the size limits are not tested
    assert not ((~result["focus"]) & (result["set_size"] < 5)).any()


def test_fdr_is_bh_within_method_and_library():
    table = _table(150, planted=[f"G{i}" for i in range(10)])
    lib = _library({f"L{i}": [f"G{j}" for j in range(i, i + 10)] for i in range(0, 140, 10)})
    result, _ = contrast_enrichment(table, [lib], config_section("enrichment", gsea_permutations=100), seed=3)
    from tearflow.multiple_testing import bh_adjust

    for _, group in result.groupby("method"):
        assert np.allclose(group["fdr"], bh_adjust(group["pvalue"].to_numpy()), equal_nan=True)


def test_thresholds_selection_rule():
    table = _table(50)
    table["significant"] = False
    table.loc[[1, 2], ["fdr", "log2fc"]] = [[0.01, 1.5], [0.01, -0.2]]
    calls = enrichment.direction_calls(
        table, {"ora_selection": "thresholds", "ora_max_fdr": 0.05, "ora_min_abs_log2fc": 0.5}
    )
    assert calls[1] == "up" and calls[2] == ""
    calls = enrichment.direction_calls(table, config_section("enrichment"))
    assert (calls == "").all()


def test_gene_ranking_one_value_per_gene():
    table = pd.DataFrame(
        {
            "protein": ["P1", "P2", "P3"],
            "gene": ["A", "A;B", "c"],
            "t": [1.0, -3.0, 2.0],
            "pvalue": [0.1, 0.01, 0.05],
        }
    )
    ranking = gene_ranking(table)
    assert ranking.to_dict() == {"C": 2.0, "A": -3.0, "B": -3.0}


def test_gsea_is_reproducible():
    table = _table(300, planted=[f"G{i}" for i in range(15)])
    lib = _library({f"L{i}": [f"G{j}" for j in range(i, i + 15)] for i in range(0, 300, 15)})
    first, _ = contrast_enrichment(table, [lib], config_section("enrichment", gsea_permutations=300), seed=7)
    second, _ = contrast_enrichment(table, [lib], config_section("enrichment", gsea_permutations=300), seed=7)
    pd.testing.assert_frame_equal(first, second)


def test_gsea_zero_pvalue_is_floored():
    table = _table(300, planted=[f"G{i}" for i in range(15)], shift=-8)
    lib = _library({"strong": [f"G{i}" for i in range(15)], "other": [f"G{i}" for i in range(100, 130)]})
    result, _ = contrast_enrichment(table, [lib], config_section("enrichment", gsea_permutations=99), seed=7)
    gsea = result[result["method"] == "gsea"].set_index("gene_set")
    assert gsea.loc["strong", "pvalue"] >= 1 / 100


def test_shipped_focus_gmt_matches_its_builder(tmp_path):
    sys.path.insert(0, str(GENESETS))
    sys.dont_write_bytecode, before = True, sys.dont_write_bytecode  # no __pycache__ in resources/
    try:
        builder = importlib.import_module("make_focus_gmt")
    finally:
        sys.path.remove(str(GENESETS))
        sys.dont_write_bytecode = before
    built = builder.focus_gmt_lines()
    shipped = (GENESETS / "th17_il17_focus.gmt").read_text(encoding="utf-8").splitlines()
    assert built == shipped
    focus = read_gmt(GENESETS / "th17_il17_focus.gmt", focus=True)
    assert len(focus.sets) == 6
    assert "IL17RA" in focus.sets["IL-17 signaling (Reactome)"]
    assert all("release" in text or "GO:" in text for text in focus.descriptions.values())


def test_bad_gmt_is_a_user_error(tmp_path):
    from tearflow.errors import TearflowError

    bad = tmp_path / "bad.gmt"
    bad.write_text("only_a_name\n")
    with pytest.raises(TearflowError, match="line 1"):
        read_gmt(bad)


@pytest.fixture
def no_network(monkeypatch):
    """Every attempt to open a connection raises (gseapy must never call the web)."""
    import gseapy  # noqa: F401  (imported before the cut so its module-level imports work)

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    class NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            refuse()

    monkeypatch.setattr(socket, "socket", NoSocket)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_runs_offline_with_shipped_libraries(no_network, tmp_path):
    focus = read_gmt(GENESETS / "th17_il17_focus.gmt", FOCUS_LIBRARY, focus=True)
    reactome = read_gmt(GENESETS / "ReactomePathways_2024-09-18.gmt", "reactome")
    genes = sorted({g for genes in reactome.sets.values() for g in genes})[:600]
    genes += ["IL17RA", "TRAF3IP2", "STAT3", "NFKBIZ", "MAPK1", "MAPK3"]
    genes = list(dict.fromkeys(genes))
    rng = np.random.default_rng(5)
    t = rng.normal(size=len(genes))
    table = pd.DataFrame(
        {
            "protein": [f"P{i}" for i in range(len(genes))],
            "gene": genes,
            "log2fc": t / 2,
            "t": t,
            "pvalue": np.exp(-np.abs(t)),
            "fdr": 0.5,
            "significant": np.abs(t) > 1.5,
        }
    )
    result, _ = contrast_enrichment(
        table, [focus, reactome], config_section("enrichment", gsea_permutations=50), seed=2
    )
    assert set(result["method"]) == {"ora_up", "ora_down", "gsea"}
    assert result["focus"].sum() == 18
    with pytest.raises(AssertionError, match="network"):
        socket.create_connection(("example.org", 80))


def test_network_guard_catches_a_web_lookup(no_network):
    """The guard works: a library *name* (not a file) makes gseapy go to the web and fail here."""
    import gseapy

    with pytest.raises(AssertionError, match="network"):
        gseapy.enrich(gene_list=["IL17A", "IL17F"], gene_sets="KEGG_2016", outdir=None, no_plot=True)


def test_main_writes_the_contract_tables_offline(no_network, tmp_path):
    from types import SimpleNamespace

    from tearflow.tables import read_tsv, write_tsv

    table = _table(150, planted=[f"G{i}" for i in range(8)])
    write_tsv(table, tmp_path / "NSDE.tsv")
    (tmp_path / "focus.gmt").write_text("IL17 test\tsource X id 1 release 2024\tG0\tG1\tG2\tG3\tNOPE\n")
    (tmp_path / "lib.gmt").write_text(
        "".join(f"L{i}\tNA\t" + "\t".join(f"G{j}" for j in range(i, i + 10)) + "\n" for i in range(0, 140, 10))
    )
    snakemake = SimpleNamespace(
        input=SimpleNamespace(
            tables=[str(tmp_path / "NSDE.tsv"), str(tmp_path / "all.tsv")],
            focus=str(tmp_path / "focus.gmt"),
            libraries=[str(tmp_path / "lib.gmt")],
        ),
        output=SimpleNamespace(
            tables=[str(tmp_path / "out_NSDE.tsv"), str(tmp_path / "out_all.tsv")],
            curves=[str(tmp_path / "curves_NSDE.tsv"), str(tmp_path / "curves_all.tsv")],
        ),
        params=SimpleNamespace(
            enrichment=config_section("enrichment", gsea_permutations=100),
            library_names=["mylib"],
            seed=4,
            contrasts=["NSDE", "all"],
        ),
    )
    write_tsv(_table(150, planted=[]), tmp_path / "all.tsv")
    adapter("enrichment").main(snakemake)
    # one job, every contrast: each output is its own contrast's (nothing planted in "all")
    assert not read_tsv(tmp_path / "out_NSDE.tsv").equals(read_tsv(tmp_path / "out_all.tsv"))
    out = read_tsv(tmp_path / "out_NSDE.tsv")
    assert set(out["source"]) == {"source X id 1 release 2024", "mylib"}
    focus = out[out["focus"]].set_index("method")
    assert focus.loc["gsea", "set_size"] == 4 and focus.loc["gsea", "statistic"] < 0
    curves = read_tsv(tmp_path / "curves_NSDE.tsv")
    assert len(curves) == 150 and curves["hit"].sum() == 4


def test_figures_draw_from_the_tables(tmp_path):
    from tearflow.figures.enrichment import dotplot_figure, gsea_focus_figure
    from tearflow.figures.output import save_figure

    png = config_section("figures")
    table = _table(120, planted=["G1", "G2", "G3", "G4", "G5"])
    focus = _library({"IL-17 (test)": ["G1", "G2", "G3", "G4", "G5"], "absent": ["NOPE"]}, FOCUS_LIBRARY, True)
    result, curves = contrast_enrichment(table, [focus], config_section("enrichment", gsea_permutations=50), seed=1)
    save_figure(dotplot_figure(result, "NSDE", 15), tmp_path / "dot.png", png)
    save_figure(gsea_focus_figure(curves, result, "NSDE"), tmp_path / "gsea.png", png)
    assert (tmp_path / "dot.png").stat().st_size > 0 and (tmp_path / "gsea.png").stat().st_size > 0


def test_one_plot_job_draws_every_contrast(tmp_path, monkeypatch):
    """plot_enrichment is one job: contrast c's dot plot and GSEA figure come from contrast c's
    table and curves."""
    from types import SimpleNamespace

    import matplotlib.pyplot as plt

    from tearflow.tables import write_tsv

    focus = _library({"IL-17 (test)": ["G1", "G2", "G3", "G4", "G5"]}, FOCUS_LIBRARY, True)
    contrasts, tables, curve_paths = ["NSDE", "SSDE", "all"], [], []
    for i, (contrast, n) in enumerate(zip(contrasts, (100, 120, 140))):
        result, curves = contrast_enrichment(
            _table(n, planted=["G1", "G2"]), [focus], config_section("enrichment", gsea_permutations=20), i
        )
        tables.append(tmp_path / f"{contrast}.tsv")
        curve_paths.append(tmp_path / f"curves_{contrast}.tsv")
        write_tsv(result, tables[-1])
        write_tsv(curves, curve_paths[-1])
    changes = pd.DataFrame({"protein": ["P1"], "gene": ["G1"], "p1": [0.5], "p2": [-0.2]})
    write_tsv(changes, tmp_path / "changes.tsv")
    sheet = pd.DataFrame(
        {"sample": ["a", "b", "c", "d"], "patient": ["p1", "p1", "p2", "p2"],
         "subgroup": ["NSDE", "NSDE", "SSDE", "SSDE"], "timepoint": ["baseline", "week2"] * 2}
    )  # fmt: skip
    sheet.to_csv(tmp_path / "samples.tsv", sep="\t", index=False)
    (tmp_path / "focus.gmt").write_text("IL-17 (test)\tfocus\tG1\tG2\n")
    step = adapter("plot_enrichment")
    drawn = []
    dotplot, gsea = step.dotplot_figure, step.gsea_focus_figure
    monkeypatch.setattr(step, "dotplot_figure", lambda t, c, top: drawn.append(("dot", c, None)) or dotplot(t, c, top))
    titles = {c: f"{c}, week2 − baseline" for c in ("NSDE", "SSDE")} | {"all": "all patients, week2 − baseline"}
    monkeypatch.setattr(
        step, "gsea_focus_figure", lambda cu, t, c: drawn.append(("gsea", c, len(cu))) or gsea(cu, t, c)
    )
    dotplots = [tmp_path / f"enrichment_dotplot_{c}.png" for c in contrasts]
    gsea_figures = [tmp_path / f"gsea_focus_{c}.png" for c in contrasts]
    step.main(
        SimpleNamespace(
            input=SimpleNamespace(
                tables=tables,
                curves=curve_paths,
                changes=tmp_path / "changes.tsv",
                sheet=tmp_path / "samples.tsv",
                focus=tmp_path / "focus.gmt",
            ),
            output=SimpleNamespace(
                dotplots=dotplots, gsea_focus=gsea_figures, focus_gene_changes=tmp_path / "focus_genes.png"
            ),
            params=SimpleNamespace(
                enrichment=config_section("enrichment", plot_top_sets=5),
                figures=config_section("figures"),
                timepoints={"baseline": "baseline", "followup": "week2"},
                contrasts=contrasts,
            ),
        )
    )
    assert all(f.stat().st_size > 0 for f in dotplots + gsea_figures + [tmp_path / "focus_genes.png"])
    sizes = dict(zip(contrasts, (100, 120, 140)))
    expected = [(kind, titles[c], n) for c in contrasts for kind, n in (("dot", None), ("gsea", sizes[c]))]
    assert drawn == expected
    plt.close("all")


def test_auto_gsea_engine_is_gseapy_for_tear_proteomes_and_numpy_above():
    from tearflow.enrichment import chosen_gsea_engine

    settings = config_section("enrichment", gsea_engine="auto", gsea_auto_max_genes=5000)
    assert chosen_gsea_engine(settings, 2000) == "gseapy"
    assert chosen_gsea_engine(settings, 10000) == "tearflow"
    assert chosen_gsea_engine({**settings, "gsea_engine": "gseapy"}, 10000) == "gseapy"


def test_vectorized_gsea_agrees_with_gseapy_prerank():
    """The numpy engine is gseapy's statistic: same NES (up to permutation noise in the null means)
    and the same calls on a planted set and a null set."""
    table = _table(400, seed=3, planted=[f"G{i}" for i in range(20)])
    sets = {f"L{i}": [f"G{j}" for j in range(i, i + 20)] for i in range(0, 400, 20)}
    results = {}
    for engine in ("gseapy", "tearflow"):
        rows, _ = contrast_enrichment(
            table, [_library(sets)], config_section("enrichment", gsea_permutations=1000, gsea_engine=engine), seed=11
        )
        results[engine] = rows[rows["method"] == "gsea"].set_index("gene_set")
    nes = pd.concat({e: r["statistic"] for e, r in results.items()}, axis=1).dropna()
    assert len(nes) == len(sets)
    assert np.corrcoef(nes["gseapy"], nes["tearflow"])[0, 1] > 0.99
    assert (nes["gseapy"] - nes["tearflow"]).abs().max() < 0.15
    for engine in results:
        assert results[engine].loc["L0", "pvalue"] < 0.01
        assert results[engine].loc["L200", "pvalue"] > 0.01


def test_extra_gmt_from_the_config_is_tested_as_its_own_library(tmp_path):
    from workflow_runner import copy_workflow, run_snakemake, write_configfile

    from tearflow.tables import read_tsv

    workdir = copy_workflow(tmp_path)
    # a user's own sets, outside the workflow folder and given by an absolute path
    gmt = tmp_path / "my_tear_sets.gmt"
    gmt.write_text("Planted IL-17 genes\tmy lab, 2026\tIL17A\tIL17F\tIL17RA\tSTAT3\tMAPK3\tS100A8\tS100A9\tLCN2\n")
    configfile = write_configfile(
        workdir,
        {
            "enrichment": {
                "libraries": {"wikipathways": "resources/genesets/wikipathways-20260410-gmt-Homo_sapiens.gmt"},
                "extra_gmt": [str(gmt)],
            }
        },
    )
    run_snakemake(workdir, "results/enrichment/NSDE.tsv", "--cores", "2", "--configfile", configfile)
    table = read_tsv(workdir / "results/enrichment/NSDE.tsv")
    mine = table[table["source"] == "my_tear_sets"].set_index("method")
    assert set(mine.index) == {"ora_up", "ora_down", "gsea"}
    assert (mine["gene_set"] == "Planted IL-17 genes").all()
    assert mine.loc["ora_down", "fdr"] < 0.05 and mine.loc["gsea", "statistic"] < 0


def test_enrichment_table_ends_with_the_gmt_description():
    from tearflow.enrichment import DESCRIPTION, RESULT_COLUMNS

    table = _table(120, planted=["G1", "G2", "G3", "G4", "G5"])
    inflammation = {"GO:0006954": [f"G{i}" for i in range(1, 9)]}
    go = GeneSetLibrary("go_bp", inflammation, {"GO:0006954": "inflammatory response"}, False)
    bare = GeneSetLibrary("wp", {"IL17 signaling": [f"G{i}" for i in range(3, 12)]}, {"IL17 signaling": ""}, False)
    result, _ = contrast_enrichment(table, [go, bare], config_section("enrichment", gsea_permutations=20), seed=1)
    assert RESULT_COLUMNS[-1] == DESCRIPTION and list(result.columns) == RESULT_COLUMNS
    assert RESULT_COLUMNS[:-1] == [
        "gene_set", "source", "method", "statistic", "pvalue", "fdr", "genes", "set_size", "overlap", "focus"
    ]  # fmt: skip
    described = result.set_index(["gene_set", "method"])[DESCRIPTION]
    assert described[("GO:0006954", "gsea")] == "inflammatory response"
    assert described[("IL17 signaling", "ora_down")] is None  # no description: NA in the file


def test_set_label_names_identifiers_by_their_description():
    from tearflow.figures.enrichment import set_label

    assert set_label("GO:0006954", "inflammatory response") == "inflammatory response (GO:0006954)"
    assert set_label("R-HSA-448424", "Interleukin-17 signaling") == "Interleukin-17 signaling (R-HSA-448424)"
    assert set_label("Interleukin-17 signaling", "R-HSA-448424") == "Interleukin-17 signaling"
    for useless in (None, float("nan"), "", "NA", "http://www.gsea-msigdb.org/gsea/msigdb/GOBP_X"):
        assert set_label("GO:0006954", useless) == "GO:0006954"
    assert set_label("GOBP_INFLAMMATORY_RESPONSE", "http://x") == "GOBP_INFLAMMATORY_RESPONSE"


def _enrichment_rows(rows):
    columns = ["gene_set", "source", "method", "statistic", "pvalue", "fdr", "genes", "set_size", "overlap", "focus",
               "description"]  # fmt: skip
    return pd.DataFrame([dict(zip(columns, row)) for row in rows])


def test_dotplot_shows_the_sets_with_the_smallest_p_named_on_one_shared_fdr_scale():
    import matplotlib.pyplot as plt

    from tearflow.figures.enrichment import dotplot_figure

    table = _enrichment_rows(
        [
            ("IL-17 (focus)", "focus provenance", "ora_up", 2.0, 0.2, 0.2, "G1", 5, 1, True, "focus provenance"),
            # a huge fold enrichment at FDR ≈ 1 must not push out a set with a small p
            ("GO:0000001", "go_bp", "ora_up", 40.0, 0.9, 0.95, "G2", 1, 1, False, "tiny set"),
            ("GO:0006954", "go_bp", "ora_up", 3.0, 1e-4, 1e-3, "G1;G3", 50, 6, False, "inflammatory response"),
            ("GO:0000002", "go_bp", "ora_down", 5.0, 1e-9, 1e-8, "G4", 20, 9, False, "strong set"),
            ("Pathway A", "reactome", "gsea", -1.5, 0.01, 0.04, "G5", 30, 10, False, "R-HSA-1"),
        ]
    )
    figure = dotplot_figure(table, "NSDE, week2 − baseline", top=1)
    panels = [axis for axis in figure.axes if axis.get_title(loc="left")]
    labels = [[t.get_text() for t in axis.get_yticklabels()] for axis in panels]
    assert labels[0] == ["★ IL-17 (focus)", "inflammatory response (GO:0006954)"]
    assert labels[1] == ["strong set (GO:0000002)"] and labels[2] == ["Pathway A"]
    assert "smallest p" in panels[0].get_title(loc="left") and "1 with FDR < 0.05" in panels[0].get_title(loc="left")
    norms = {(axis.collections[0].norm.vmin, axis.collections[0].norm.vmax) for axis in panels}
    assert norms == {(0.0, 8.0)}  # one scale: −log10 of the smallest FDR drawn, 1e-8
    colourbars = [axis for axis in figure.axes if axis not in panels]
    assert len(colourbars) == 1 and "−log10 FDR" in colourbars[0].get_xlabel()
    plt.close("all")
