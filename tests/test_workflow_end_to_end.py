"""The whole DAG on the shipped example, run once in a temporary copy: the output contract of every
step, the planted effects recovered (resources/example/README.md), and nothing left to do after."""

import re
import shutil
from pathlib import Path

import pytest
from workflow_runner import (
    OFFLINE_RUNS,
    copy_workflow,
    network_namespace_available,
    parse_job_stats,
    planned_jobs,
    run_snakemake,
    shared_local_run,
    write_configfile,
)

from tearflow.tables import read_tsv

REPO = Path(__file__).resolve().parents[1]

CONTRASTS = ["NSDE", "SSDE", "all", "interaction"]
PLANTED_FOCUS_GENES = [
    "IL17A", "IL17F", "IL17RA", "TRAF3IP2", "IL6", "IL1B", "IL22", "STAT3", "MAPK14", "MAPK3",
    "CEBPB", "NFKBIZ", "HSP90AA1", "PPP2R1A",
]  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return shared_local_run(tmp_path_factory)


def test_the_whole_run_needed_no_network(run):
    # gseapy fetches a library by name from the web; tearflow must only ever hand it files.
    if not network_namespace_available():
        pytest.skip("`unshare --net` is not permitted here, so the run could not be cut off the network")
    assert run in OFFLINE_RUNS


def columns_of(run, relative):
    return list(read_tsv(run / relative, nrows=0).columns)


def test_abundance_tables_keep_the_contract(run):
    sheet = read_tsv(run / "config/samples.tsv", dtype=str)
    normalized = read_tsv(run / "results/abundance/normalized.tsv")
    assert list(normalized.columns[:2]) == ["protein", "gene"]
    assert list(normalized.columns[2:]) == sheet["sample"].tolist()
    assert not normalized["protein"].str.startswith("Cont_").any()
    # The example is a precursor report: DPC quantification estimates every value (with its
    # standard error), and which protein values had no observed precursor is kept beside them.
    assert not normalized.iloc[:, 2:].isna().any().any()
    observed = read_tsv(run / "results/abundance/quantified_observed.tsv")
    assert list(observed.columns) == list(normalized.columns)
    assert (observed.iloc[:, 2:] == 0).any().any(), "values without any observed precursor are recorded"
    standard_errors = read_tsv(run / "results/abundance/quantified_se.tsv")
    assert (standard_errors.iloc[:, 2:] > 0).all().all()


@pytest.mark.parametrize("contrast", CONTRASTS)
def test_differential_tables_keep_the_contract(run, contrast):
    table = read_tsv(run / f"results/differential/{contrast}.tsv")
    for column in ["protein", "gene", "log2fc", "t", "pvalue", "fdr", "n_pairs"]:
        assert column in table.columns
    untested = table["pvalue"].isna()
    assert (table.loc[~untested, "pvalue"] > 0).all()
    assert table.loc[untested, "t"].isna().all()


def test_planted_changes_are_found_where_planted(run):
    nsde = read_tsv(run / "results/differential/NSDE.tsv").set_index("gene")
    found = nsde.loc[nsde.index.intersection(PLANTED_FOCUS_GENES)]
    assert (found["fdr"] < 0.05).sum() >= 10
    assert (found.loc[found["fdr"] < 0.05, "log2fc"] < 0).all()
    assert nsde.loc["MUC5AC", "log2fc"] > 0.5 and nsde.loc["MUC5AC", "fdr"] < 0.05
    # resources/example/precursor_truth.tsv: proteins with no planted or switched change
    truth = read_tsv(REPO / "resources/example/precursor_truth.tsv", keep_default_na=False)
    unchanged = set(truth.loc[(truth["log2fc_NSDE"] == 0) & (truth["log2fc_SSDE"] == 0), "protein"])
    by_protein = read_tsv(run / "results/differential/NSDE.tsv").set_index("protein")
    assert (by_protein.loc[by_protein.index.intersection(unchanged), "fdr"] < 0.05).sum() <= 3


def test_planted_effect_is_stronger_in_nsde_than_in_ssde(run):
    # resources/example/README.md: IL-17 proteins −1.2 log2 in NSDE, −0.6 in SSDE
    changes = {
        contrast: read_tsv(run / f"results/differential/{contrast}.tsv").set_index("gene")
        for contrast in ("NSDE", "SSDE", "interaction")
    }
    genes = changes["NSDE"].index.intersection(PLANTED_FOCUS_GENES)
    nsde = changes["NSDE"].loc[genes, "log2fc"].mean()
    ssde = changes["SSDE"].loc[genes, "log2fc"].mean()
    assert nsde < ssde < 0
    assert changes["interaction"].loc[genes, "log2fc"].mean() > 0  # SSDE − NSDE: a smaller fall


def test_focus_sets_enriched_in_nsde_down(run):
    table = read_tsv(run / "results/enrichment/NSDE.tsv")
    for column in ["gene_set", "method", "statistic", "pvalue", "fdr", "genes"]:
        assert column in table.columns
    focus_down = table[table["focus"].astype(str).eq("True") & table["method"].eq("ora_down")]
    assert (focus_down["fdr"] < 0.05).sum() >= 3
    focus_up = table[table["focus"].astype(str).eq("True") & table["method"].eq("ora_up")]
    assert not (focus_up["fdr"] < 0.05).any()


def test_elisa_and_joined_tables_exist(run):
    analytes = {"IL6", "IL17A", "MUC5AC", "CCL20", "IL23A"}
    tests = read_tsv(run / "results/elisa/paired_tests.tsv")
    assert set(tests["analyte"]) == analytes
    assert len(tests) == len(analytes) * len(CONTRASTS)  # one row per analyte × contrast
    assert len(read_tsv(run / "results/joined/analytes.tsv")) == len(analytes) * len(CONTRASTS)
    assert len(read_tsv(run / "results/joined/correlations.tsv")) > 0
    patients = read_tsv(run / "results/joined/patients.tsv")
    assert len(patients) == 16  # every paired patient of the example
    assert {f"elisa_{analyte}" for analyte in analytes} <= set(patients.columns)
    assert any(column.startswith("score_") for column in patients.columns)
    assert any(column.startswith("ms_") for column in patients.columns)


def test_elisa_values_below_lloq_become_half_the_lloq(run):
    # The example writes below-LLOQ cells as "<LLOQ", "< 3.2" and "ND" (censoring: lloq_half).
    values = read_tsv(run / "results/elisa/values.tsv")
    censored = values[values["status"] == "below_lloq"]
    assert {"<LLOQ", "< 3.2", "ND"} <= set(censored["reported"])
    assert (censored["value"] == censored["lloq"] / 2).all()
    assert (values.loc[values["status"] == "measured", "value"] >= 0).all()


def test_clinical_tables_and_figures_exist(run):
    for name, columns in {
        "values": ["patient", "subgroup", "visit", "endpoint", "value", "change"],
        "summary": [],
        "endpoint_tests": ["endpoint", "wilcoxon_fdr", "ttest_fdr", "improved"],
        "correlations": ["endpoint", "visit", "feature", "rho", "pvalue", "fdr"],
    }.items():
        table = read_tsv(run / f"results/clinical/{name}.tsv")
        assert len(table) > 0, name
        assert set(columns) <= set(table.columns), name
    for figure in ("clinical_trajectories", "clinical_correlation_heatmap"):
        assert (run / f"results/figures/{figure}.png").stat().st_size > 10_000


def test_optional_inputs_set_to_null_plan_none_of_their_steps(tmp_path):
    workdir = copy_workflow(tmp_path)
    everything = planned_jobs(workdir)
    optional_steps = ("elisa", "clinical", "join_results", "plot_elisa", "plot_clinical")
    optional = {rule for rule in everything if rule.startswith(optional_steps)}
    assert {"elisa_values", "clinical_endpoints", "clinical_correlations", "join_results"} <= optional
    configfile = write_configfile(workdir, {"elisa": None, "clinical": None})
    without = planned_jobs(workdir, "--configfile", configfile)
    assert not optional & set(without), sorted(optional & set(without))
    assert set(without) == set(everything) - optional


def test_normalization_auto_follows_the_quantity_the_report_gives(run, tmp_path):
    """The shipped report's Precursor.Normalised is DIA-NN-normalised: `auto` leaves the DPC estimates
    as they are (limpa's model). Its Precursor.Quantity carries each sample's loading: `auto` then
    normalizes, with offsets estimated from the observed values, which agree with the run's own
    DIA-NN-style normalisation factors (the model-based values of proteins unobserved at both visits
    of a patient would pin every offset at zero)."""
    import numpy as np
    import pandas as pd

    shipped = read_tsv(run / "results/qc/normalization.tsv")
    assert set(shipped["method"]) == {"none"} and (shipped["offset"] == 0).all()
    summary = read_tsv(run / "results/qc/import_summary.tsv")
    assert list(summary["quantity"]) == ["Precursor.Normalised"]
    workdir = copy_workflow(tmp_path)
    configfile = write_configfile(workdir, {"import": {"diann_precursor_quantity": "Precursor.Quantity"}})
    run_snakemake(workdir, "results/qc/normalization.tsv", "--cores", 2, "--configfile", configfile)
    offsets = read_tsv(workdir / "results/qc/normalization.tsv").set_index("sample")
    assert set(offsets["method"]) == {"trimmed"}
    report = pd.read_parquet(workdir / "resources/example/report.parquet", columns=["Run", "Normalisation.Factor"])
    factors = report.drop_duplicates("Run").set_index("Run")["Normalisation.Factor"].reindex(offsets.index)
    expected = -np.log2(factors.astype(float))
    expected -= expected.mean()
    assert np.corrcoef(expected, offsets["offset"])[0, 1] > 0.9
    assert np.sqrt(np.mean((expected - offsets["offset"]) ** 2)) < 0.1  # the loading offsets have sd 0.2


def test_second_run_has_nothing_to_do(run):
    assert planned_jobs(run) == {}


# what docutils prints for a caption it cannot parse cleanly: "<string>:1: (WARNING/2) Inline strong ..."
DOCUTILS_PROBLEM = re.compile(r"\((?:WARNING|ERROR|SEVERE)/\d\)")


def docutils_problems(completed):
    return [line for line in (completed.stdout + completed.stderr).splitlines() if DOCUTILS_PROBLEM.search(line)]


def test_report_is_written_and_every_caption_parses(run, tmp_path):
    report = tmp_path / "report.html"
    completed = run_snakemake(run, "--report", report)
    assert report.stat().st_size > 100_000
    assert not docutils_problems(completed)
    assert "NSDE, SSDE, all, interaction" in report.read_text(encoding="utf-8")  # the captions' contrast list


def test_pdf_figures_are_reproducible_and_reported(run, tmp_path):
    """figures.format: pdf: only the plot steps rerun; every figure gets the extension, a rerun writes
    the same bytes, and the report embeds the PDFs with captions that parse (SVG and PNG: the same
    code path, byte-compared across processes in tests/test_figure_output.py)."""
    workdir = tmp_path / "pdf"
    shutil.copytree(run, workdir, symlinks=True)
    configfile = write_configfile(workdir, {"figures": {"format": "pdf", "dpi": 100}})
    completed = run_snakemake(workdir, "--cores", 2, "--configfile", configfile)
    ran = parse_job_stats(completed.stdout + completed.stderr)
    assert ran and all(rule.startswith("plot_") or rule == "all" for rule in ran), ran
    figures = {path.name: path.read_bytes() for path in (workdir / "results" / "figures").glob("*.pdf")}
    assert len(figures) == len(list((run / "results" / "figures").glob("*.png")))
    assert all(content.startswith(b"%PDF") for content in figures.values())
    run_snakemake(workdir, "--cores", 2, "--configfile", configfile, "--forcerun", "plot_differential")
    again = {path.name: path.read_bytes() for path in (workdir / "results" / "figures").glob("*.pdf")}
    assert [name for name in figures if again[name] != figures[name]] == []
    report = workdir / "report.html"
    completed = run_snakemake(workdir, "--report", report, "--configfile", configfile)
    assert not docutils_problems(completed)
    assert "volcano_interaction.pdf" in report.read_text(encoding="utf-8")


def test_snakemake_lint_finds_nothing(tmp_path):
    # The catalog's standard: every rule has a log, no absolute paths, no mixed rules and code.
    completed = run_snakemake(copy_workflow(tmp_path), "--lint")
    output = completed.stdout + completed.stderr
    assert "Congratulations, your workflow is in a good condition!" in output, output[-4000:]
