"""Smoke test of the shipped benchmark (benchmarks/): the seeded cohort generator, the runner's table
on the `tiny` scale (whole DAG, 6 patients x 200 proteins), and the pieces the runner is built from.
No timing assertions: the table's shape and columns are checked, not its numbers."""

import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))

import make_cohort  # noqa: E402
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
