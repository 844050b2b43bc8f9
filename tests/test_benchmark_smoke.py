"""Smoke test of the shipped benchmark (benchmarks/): the seeded cohort generator, the runner's table
on the `tiny` scale (whole DAG, 6 patients x 200 proteins), and the pieces the runner is built from.
No timing assertions: the table's shape and columns are checked, not its numbers."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))

import make_cohort  # noqa: E402
import precursor_cohort  # noqa: E402
import run_benchmark  # noqa: E402


def test_cohort_is_seeded_trial_shaped_and_diann_formatted(tmp_path):
    matrix, sheet, elisa, clinical = make_cohort.make_cohort(6, 200, seed=5)
    again, _, _, _ = make_cohort.make_cohort(6, 200, seed=5)
    other, _, _, _ = make_cohort.make_cohort(6, 200, seed=6)
    pd.testing.assert_frame_equal(matrix, again)
    assert not matrix.equals(other)
    # DIA-NN pg_matrix layout: annotation, then one column per run named by its raw-file path
    assert list(matrix.columns[:5]) == [
        "Protein.Group",
        "Protein.Ids",
        "Protein.Names",
        "Genes",
        "First.Protein.Description",
    ]
    runs = matrix.columns[5:]
    assert [c.rsplit("\\", 1)[-1].removesuffix(".raw") for c in runs] == list(sheet["sample"])
    assert len(matrix) == 200 + len(make_cohort.CONTAMINANTS)
    assert matrix["Protein.Group"].is_unique
    # two subgroups, two visits per patient
    assert list(dict.fromkeys(sheet["subgroup"])) == list(make_cohort.SUBGROUPS)
    visits = sheet.groupby("patient")["timepoint"].apply(lambda values: tuple(sorted(values)))
    assert set(visits) == {("baseline", "week2")}
    # missing values like real data: some, not most; every protein keeps a value
    values = matrix[runs].to_numpy(float)
    assert 0.1 < np.isnan(values).mean() < 0.5
    assert np.isfinite(values).any(axis=1).all()
    assert set(elisa["patient"]) == set(sheet["patient"])
    assert set(clinical["patient"]) == set(sheet["patient"])
    assert set(clinical["visit"]) == {"baseline", "week2", "week4", "month12"}
    config = make_cohort.write_cohort(tmp_path / "cohort", 6, 200, seed=5)
    assert (tmp_path / "cohort" / "report.pg_matrix.tsv").exists() and config.exists()


@pytest.mark.parametrize("scale", sorted(make_cohort.SCALES))
def test_scales_match_the_issue(scale):
    patients, proteins = make_cohort.SCALES[scale]
    assert patients >= 2 and proteins >= 100
    assert make_cohort.SCALES["large"] == (500, 10000)
    assert make_cohort.SCALES["paper"] == (16, 2000)


def test_job_times_from_log_pairs_start_and_finish():
    log = (
        "[Thu Nov 26 15:33:19 2026]\nlocalrule import_abundance:\n    input: a\n    jobid: 1\n"
        "[Thu Nov 26 15:33:20 2026]\nrule plot_volcano:\n    wildcards: contrast=all\n    jobid: 7\n"
        "[Thu Nov 26 15:33:25 2026]\nFinished jobid: 1 (Rule: import_abundance)\n"
        "[Thu Nov 26 15:33:29 2026]\nFinished jobid: 7 (Rule: plot_volcano)\n"
    )
    assert run_benchmark.job_times_from_log(log) == {"import_abundance": [6.0], "plot_volcano": [9.0]}


def test_rule_rows_sum_wall_and_take_peak_memory():
    frame = pd.DataFrame({"s": [1.0, 2.5], "cpu_time": [0.5, 1.0], "max_rss": [100.0, 300.0]})
    rows = run_benchmark.rule_rows({"enrichment": frame}, {"plot_x": [3.0, 4.0], "all": [0.0]})
    assert [row["rule"] for row in rows] == ["enrichment", "plot_x"]  # the `all` target is no job
    assert rows[0] == {
        "rule": "enrichment",
        "jobs": 2,
        "wall_s": 3.5,
        "cpu_s": 1.5,
        "max_rss_mb": 300.0,
        "source": "benchmark",
    }
    assert (rows[1]["jobs"], rows[1]["wall_s"], rows[1]["source"]) == (2, 7.0, "log")
    assert np.isnan(rows[1]["cpu_s"]) and np.isnan(rows[1]["max_rss_mb"])


def test_a_job_ended_before_its_first_memory_sample_is_not_zero_mb():
    frame = pd.DataFrame({"s": [0.1, 0.2, 0.3], "cpu_time": [0.0, 0.1, 0.2], "max_rss": [0.0, "-", 50.0]})
    assert run_benchmark.rule_rows({"qc": frame}, {})[0]["max_rss_mb"] == 50.0
    unsampled = pd.DataFrame({"s": [0.1], "cpu_time": [0.0], "max_rss": [0.0]})
    assert np.isnan(run_benchmark.rule_rows({"qc": unsampled}, {})[0]["max_rss_mb"])


def test_memory_below_one_mb_is_not_rounded_to_zero_in_the_written_table():
    rows = [
        {"rule": "differential", "jobs": 1, "wall_s": 0.2, "cpu_s": 0.0, "max_rss_mb": 0.56, "source": "benchmark"},
        {"rule": "enrichment", "jobs": 1, "wall_s": 2.0, "cpu_s": 2.0, "max_rss_mb": 270.4, "source": "benchmark"},
    ]
    total = {"jobs": 2, "wall_s": 2.5, "cpu_s": 2.1, "max_rss_mb": 300.0, "source": "runner"}
    table = run_benchmark.scale_table("tiny", 6, 200, rows, total, None, "shipped")
    shown = run_benchmark.format_table(table).set_index("rule")["max_rss_mb"]
    assert shown["differential"] == 0.56 and shown["enrichment"] == 270


def test_limma_ratio_sits_beside_the_differential_row_and_merge_keeps_other_scales():
    rows = [{"rule": "differential", "jobs": 1, "wall_s": 2.0, "cpu_s": 1.0, "max_rss_mb": 150.0, "source": "b"}]
    total = {"jobs": 1, "wall_s": 10.0, "cpu_s": 8.0, "max_rss_mb": 200.0, "source": "runner"}
    head_to_head = {"step": {"wall_s": 1.0, "cpu_s": 1.5}, "limma": {"wall_s": 4.0, "cpu_s": 2.0}}
    table = run_benchmark.scale_table("paper", 16, 2000, rows, total, head_to_head)
    assert list(table.columns) == run_benchmark.COLUMNS
    assert list(table["rule"]) == ["differential", run_benchmark.TOTAL]
    # the ratio is the runner's own step timing over limma's, not the benchmark record's wall_s
    assert table.loc[0, "ratio_wall_vs_limma"] == 0.25 and table.loc[0, "ratio_cpu_vs_limma"] == 0.75
    assert np.isnan(table.loc[1, "limma_wall_s"])
    without_r = run_benchmark.scale_table("paper", 16, 2000, rows, total, {**head_to_head, "limma": None})
    assert without_r.loc[0, "step_wall_s"] == 1.0 and np.isnan(without_r.loc[0, "ratio_wall_vs_limma"])
    old = run_benchmark.scale_table("large", 500, 10000, rows, total)
    merged = run_benchmark.merge_results(old, table)
    assert list(merged["scale"]) == ["paper", "paper", "large", "large"]


def test_fast_enrichment_scores_equal_the_full_running_sum():
    """The GSEA speed-up (scores from the hit ranks only) gives the running-sum maximum deviation."""
    from tearflow import enrichment

    rng = np.random.default_rng(3)
    n = 300
    weights = np.abs(np.sort(rng.normal(size=n))[::-1])
    for k in (1, 5, 40):
        hits = np.array([np.sort(rng.choice(n, k, replace=False)) for _ in range(20)])
        es, peak = enrichment.enrichment_scores(hits, weights, n)
        for row, expected_peak in zip(range(len(hits)), peak):
            hit = np.zeros(n, dtype=bool)
            hit[hits[row]] = True
            running = np.cumsum(np.where(hit, weights / weights[hit].sum(), -1.0 / (n - k)))
            high, low = running.max(), running.min()
            expected = high if abs(high) > abs(low) else low
            assert es[row] == pytest.approx(expected, abs=1e-12)
            at = running.argmax() if expected >= 0 else running.argmin() + 1
            assert hits[row][expected_peak] == at


def test_runner_writes_the_table_on_the_tiny_scale(tmp_path):
    out = tmp_path / "results.tsv"
    run_benchmark.main(["--scales", "tiny", "--runs", str(tmp_path / "runs"), "--out", str(out)])
    table = pd.read_csv(out, sep="\t")
    assert list(table.columns) == run_benchmark.COLUMNS
    assert set(table["scale"]) == {"tiny"}
    assert (table["samples"] == 12).all() and (table["proteins"] == 200).all()
    rules = set(table["rule"])
    assert {"import_abundance", "normalize", "differential", "enrichment", run_benchmark.TOTAL} <= rules
    total = table[table["rule"] == run_benchmark.TOTAL].iloc[0]
    assert total["wall_s"] > 0 and total["max_rss_mb"] > 0
    assert total["jobs"] == table.loc[table["rule"] != run_benchmark.TOTAL, "jobs"].sum()
    # a rule's memory is either sampled (> 0) or NaN: a job shorter than the first sample has none
    memory = table.loc[table["source"] == "benchmark", "max_rss_mb"]
    assert (memory.isna() | (memory > 0)).all()
    # the step is timed head to head with or without R; limma and the ratio only with R/limma
    assert table.loc[table["step_wall_s"].notna(), "rule"].tolist() == ["differential"]
    if run_benchmark.limma_available():
        assert table.loc[table["limma_wall_s"].notna(), "rule"].tolist() == ["differential"]
        assert table["ratio_wall_vs_limma"].notna().sum() == 1
    else:
        assert table["limma_wall_s"].isna().all() and table["ratio_wall_vs_limma"].isna().all()


def test_config_changes_are_merged_into_the_cohort_config_and_labelled(tmp_path):
    config = make_cohort.write_cohort(tmp_path / "cohort", 6, 200, seed=5)
    pairs = ["enrichment.gsea_engine=tearflow", "enrichment.gsea_permutations=100"]
    run_benchmark.apply_settings(config, run_benchmark.parse_settings(pairs))
    import yaml

    merged = yaml.safe_load(config.read_text())
    assert merged["enrichment"] == {"gsea_engine": "tearflow", "gsea_permutations": 100}
    assert "samples" in merged  # the cohort's own overrides are kept
    assert run_benchmark.settings_label([]) == run_benchmark.SHIPPED
    with pytest.raises(SystemExit):
        run_benchmark.parse_settings(["no-equals-sign"])
    # a run with changed config sits beside the shipped run of the same scale, not over it
    rows = [{"rule": "differential", "jobs": 1, "wall_s": 2.0, "cpu_s": 1.0, "max_rss_mb": 150.0, "source": "b"}]
    total = {"jobs": 1, "wall_s": 10.0, "cpu_s": 8.0, "max_rss_mb": 200.0, "source": "runner"}
    shipped = run_benchmark.scale_table("large", 500, 10000, rows, total)
    changed = run_benchmark.scale_table(
        "large", 500, 10000, rows, total, config=run_benchmark.settings_label(pairs[:1])
    )
    merged = run_benchmark.merge_results(shipped, changed)
    assert list(merged["config"]) == ["shipped", "shipped", pairs[0], pairs[0]]
    old_layout = shipped.drop(columns="config")  # a results.tsv written before the column existed
    assert list(run_benchmark.merge_results(old_layout, changed)["config"]) == [
        "shipped",
        "shipped",
        pairs[0],
        pairs[0],
    ]


# --------------------------------------------------------------------------------------------------
# precursor-level scales (DIA-NN 2.x report.parquet; the DAG quantifies proteins with DPC)
# --------------------------------------------------------------------------------------------------
def test_precursor_scales_match_the_issue():
    assert run_benchmark.SCALES["precursor_paper"] == (16, 2000, 30_000)
    assert run_benchmark.SCALES["precursor_large"] == (500, 10_000, 100_000)
    assert run_benchmark.SCALES["paper"] == (16, 2000, None)
    assert set(run_benchmark.SCALES) == set(make_cohort.SCALES) | set(precursor_cohort.SCALES)


def test_precursor_cohort_is_seeded_trial_shaped_and_diann_2_formatted(tmp_path):
    import pyarrow.parquet as pq

    config = precursor_cohort.write_cohort(tmp_path / "a", 6, 150, 1500, seed=5)
    precursor_cohort.write_cohort(tmp_path / "b", 6, 150, 1500, seed=5)
    report = tmp_path / "a" / precursor_cohort.REPORT
    assert report.read_bytes() == (tmp_path / "b" / precursor_cohort.REPORT).read_bytes()
    import yaml

    overrides = yaml.safe_load(config.read_text())
    assert overrides["proteomics"] == [{"path": str(report), "batch": "batch1"}]
    sheet = pd.read_csv(tmp_path / "a" / "samples.tsv", sep="\t")
    assert list(dict.fromkeys(sheet["subgroup"])) == list(make_cohort.SUBGROUPS)
    assert set(sheet.groupby("patient")["timepoint"].apply(lambda v: tuple(sorted(v)))) == {("baseline", "week2")}
    table = pq.read_table(report)
    assert table.schema.names[:4] == ["Run.Index", "Run", "Channel", "Precursor.Id"]
    assert pq.ParquetFile(report).metadata.num_row_groups == len(sheet)  # one row group per run
    frame = table.select(["Run", "Precursor.Id", "Protein.Group"]).to_pandas()
    assert set(frame["Run"]) == set(sheet["sample"])
    contaminants = len(make_cohort.CONTAMINANTS) * precursor_cohort.CONTAMINANT_PRECURSORS
    assert frame["Precursor.Id"].nunique() == 1500 + contaminants
    assert frame["Protein.Group"].nunique() == 150 + len(make_cohort.CONTAMINANTS)
    # abundance-dependent missingness: some, not most
    missing = 1 - len(frame) / (frame["Precursor.Id"].nunique() * len(sheet))
    assert 0.2 < missing < 0.5


def test_quantify_head_to_head_on_the_tiny_precursor_scale(tmp_path):
    """Import the tiny precursor cohort with the workflow, then time the quantify step (and R limpa
    when installed) on a random subset of its proteins: the quantify row gets the times and ratio."""
    from workflow_runner import copy_workflow, run_snakemake

    config = precursor_cohort.write_cohort(tmp_path / "cohort", *precursor_cohort.SCALES["precursor_tiny"])
    workdir = copy_workflow(tmp_path)
    run_snakemake(workdir, "--cores", "2", "--configfile", str(config), "--until", "import_abundance")
    result = run_benchmark.run_limpa_head_to_head(workdir, config, repeats=1, max_proteins=40)
    assert (result["proteins"], result["of"]) == (40, 150)
    assert result["step"]["wall_s"] > 0
    values = pd.read_csv(workdir / "limpa" / "tearflow" / "values.tsv", sep="\t")
    assert len(values) == 40
    rows = [{"rule": "quantify", "jobs": 1, "wall_s": 2.0, "cpu_s": 1.0, "max_rss_mb": 150.0, "source": "b"}]
    total = {"jobs": 1, "wall_s": 10.0, "cpu_s": 8.0, "max_rss_mb": 200.0, "source": "runner"}
    table = run_benchmark.scale_table("precursor_tiny", 6, 150, rows, total, precursors=1500, limpa=result)
    assert list(table.columns) == run_benchmark.COLUMNS
    assert table.loc[0, "limpa_proteins"] == 40 and table.loc[0, "precursors"] == 1500
    assert table.loc[0, "step_wall_s"] == result["step"]["wall_s"]
    if run_benchmark.limpa_available():
        assert result["max_abs_diff"] < 0.05  # the same estimates as limpa, to its BFGS tolerance
        assert table.loc[0, "ratio_wall_vs_limpa"] == result["step"]["wall_s"] / result["limpa"]["wall_s"]
    else:
        assert result["limpa"] is None and np.isnan(table.loc[0, "ratio_wall_vs_limpa"])


def test_precursor_report_benchmark_writes_and_reads_a_small_report(tmp_path):
    """``precursor_report.py`` end to end at a small size: the report it writes is read by the
    workflow's reader with the shipped import settings, every run present."""
    out = tmp_path / "report.parquet"
    command = [sys.executable, str(REPO / "benchmarks" / "precursor_report.py"), "--out", str(out)]
    completed = subprocess.run(
        [*command, "--runs", "4", "--precursors", "300"], capture_output=True, text=True, check=True
    )
    assert "read_precursors:" in completed.stdout
    assert " x 4 runs" in completed.stdout, completed.stdout
