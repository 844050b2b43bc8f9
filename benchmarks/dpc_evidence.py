"""DPC quantification evidence (issue 18): the README tables, printed and written to dpc_evidence.md.

    PYTHONPATH=scripts python benchmarks/dpc_evidence.py [--replicates 10] [--out benchmarks/dpc_evidence.md]

Everything runs from the repository: the seeded precursor-level simulations
(``tearflow.simulation.PRECURSOR_SCENARIOS``), the spike-in files in ``tests/fixtures/``, and R limpa
1.3.11's results on the identical inputs, committed in ``tests/fixtures/limpa_evidence/`` (R is not
needed; ``make_fixtures.R`` there made them). ``tests/test_dpc_evidence.py`` asserts the targets on
the same numbers. About 3–4 minutes on two cores.
"""

import argparse
import gzip
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from conftest import FIXTURES, config_section  # noqa: E402

from tearflow import simulation as sim  # noqa: E402
from tearflow.multiple_testing import bh_adjust  # noqa: E402

LIMPA = FIXTURES / "limpa_evidence"
CONTRASTS = ("NSDE", "SSDE", "interaction", "all")
METHOD_LABELS = {
    "dpc": "**tearflow DPC** (cn, `auto` normalization)",
    "limpa": "R limpa 1.3.11",
    "limpa_same_tests": "R limpa 1.3.11, BH over the proteins tearflow tests",
    "min_pairs": "median polish + `min_pairs` 3",
    "left_censored": "median polish + left-censored (workflow: `min_pairs` on measured pairs)",
    "left_censored_all": "median polish + left-censored, every imputed pair counted",
    "dpc_none": "tearflow DPC, no normalization",
    "dpc_trimmed": "tearflow DPC, `trimmed` normalization",
    "dpc_on": "tearflow DPC, model `on`",
    "dpc_trend": "tearflow DPC, `trend: true`",
    "dpc_robust": "tearflow DPC, `robust: true`",
    "dpc_median": "tearflow DPC, `median` normalization",
}
#: DPC variants of the sensitivity analysis: (normalization override, dpc_statistics options)
VARIANTS = {
    "dpc_none": (None, {}),
    "dpc_trimmed": ("trimmed", {}),
    "dpc_on": ("default", {"model": "on"}),
    "dpc_trend": ("default", {"trend": True}),
    "dpc_robust": ("default", {"robust": True}),
    "dpc_median": ("median", {}),
}


def limpa_results(scenario):
    with gzip.open(LIMPA / f"sim_{scenario}.tsv.gz", "rt") as handle:
        return pd.read_csv(handle, sep="\t")


#: replicates of ``switched`` with R results: the first 10 and 30 more (``sim_switched_more.tsv.gz``)
MONTE_CARLO_REPLICATES = range(40)


def switched_limpa_all_replicates():
    """R limpa's results on all :data:`MONTE_CARLO_REPLICATES` replicates of the main scenario."""
    with gzip.open(LIMPA / "sim_switched_more.tsv.gz", "rt") as handle:
        more = pd.read_csv(handle, sep="\t")
    return pd.concat([limpa_results("switched"), more], ignore_index=True)


def monte_carlo_records(normalization):
    """tearflow DPC and limpa on every replicate of the main scenario with R results (40): the
    FDP comparison of the subgroups and the interaction measured past the first 10's noise."""
    return sim.precursor_evidence(
        "switched", MONTE_CARLO_REPLICATES, normalization, limpa=switched_limpa_all_replicates(), methods=("dpc",)
    )


def same_tests_records(normalization):
    """tearflow DPC and limpa on the 40 replicates of the main scenario, limpa's BH taken over only
    the proteins tearflow tests (method ``limpa_same_tests``): limpa also tests proteins never observed
    in a contrast's pairs, to which tearflow gives NaN; this compares the two on the same tests."""
    limpa = switched_limpa_all_replicates()
    records = []
    for replicate in MONTE_CARLO_REPLICATES:
        data = sim.precursor_scenario_trial("switched", replicate)
        ours = sim.method_statistics(data, "dpc", normalization)
        restricted = sim.on_the_same_tests(sim.limpa_tables(limpa[limpa["replicate"] == replicate]), ours)
        for method, tables in (("dpc", ours), ("limpa_same_tests", restricted)):
            records.append(sim.trial_discoveries(data, tables, scenario="switched", replicate=replicate, method=method))
    return pd.concat(records, ignore_index=True)


def variant_normalization(key, normalization):
    if key is None:
        return None
    return normalization if key == "default" else {**normalization, "method": key}


def simulation_records(scenario, replicates, normalization):
    """Every method, limpa and the DPC variants on one scenario: per replicate and contrast."""
    records = [sim.precursor_evidence(scenario, replicates, normalization, limpa=limpa_results(scenario))]
    for name, (norm_key, options) in VARIANTS.items():
        for replicate in replicates:
            data = sim.precursor_scenario_trial(scenario, replicate)
            ids = data.precursors["protein"].to_numpy()
            tables = sim.dpc_statistics(
                data.log2,
                ids,
                data.sheet,
                variant_normalization(norm_key, normalization),
                normalised=data.normalised,
                **options,
            )[0]
            records.append(sim.trial_discoveries(data, tables, scenario=scenario, replicate=replicate, method=name))
    return pd.concat(records, ignore_index=True)


def protein_table_records(scenario, replicates, normalization):
    """Protein-level input (what a pg_matrix gives): the median-polish protein matrix of each
    simulated trial, quantified by row with the DPC (``dpc_quant_by_row``) or tested as it is."""
    records = []
    for replicate in replicates:
        data = sim.precursor_scenario_trial(scenario, replicate)
        proteins, matrix = sim.median_polish_quant(data.log2, data.precursors["protein"].to_numpy())
        tables = {
            "dpc": sim.dpc_statistics(
                matrix, proteins, data.sheet, normalization, by_row=True, normalised=data.normalised
            )[0],
            "min_pairs": sim.summarised_statistics(
                None, None, data.sheet, normalization, protein_matrix=(proteins, matrix)
            ),
            "left_censored": sim.summarised_statistics(
                None,
                None,
                data.sheet,
                normalization,
                "left_censored",
                seed=replicate,
                protein_matrix=(proteins, matrix),
            ),
        }
        for method, contrast_tables in tables.items():
            records.append(
                sim.trial_discoveries(data, contrast_tables, scenario=scenario, replicate=replicate, method=method)
            )
    return pd.concat(records, ignore_index=True)


def effect_size_table(replicates, normalization, contrast="NSDE"):
    """Median estimated / true log2 FC of the changed and the switched proteins each method tests
    (``contrast``), and the share of them it calls at BH 0.05; mean over the replicates."""
    rows = []
    for replicate in replicates:
        data = sim.precursor_scenario_trial("switched", replicate)
        limpa = limpa_results("switched")
        methods = {m: sim.method_statistics(data, m, normalization, seed=replicate) for m in ("dpc", "min_pairs")}
        methods["limpa"] = sim.limpa_tables(limpa[limpa["replicate"] == replicate])
        for method, tables in methods.items():
            table = tables[contrast].merge(data.truth, on="protein")
            true = table[f"change_{contrast}"]
            for kind, chosen in (
                ("changed", table["kind"] == "changed"),
                ("switched", table["kind"].str.startswith("switched")),
            ):
                pick = table[chosen & (true != 0) & table["log2fc"].notna()]
                rows.append(
                    {
                        "method": method,
                        "kind": kind,
                        "tested": len(pick),
                        "ratio": float(np.median(pick["log2fc"] / pick[f"change_{contrast}"])),
                        "called": float((pick["fdr"] < 0.05).mean()),
                    }
                )
    summary = pd.DataFrame(rows).groupby(["method", "kind"], sort=False).mean()
    lines = [
        f"| method | {contrast}, changed: tested / median estimated÷true / called "
        "| switched: tested / estimated÷true / called |",
        "|---|---|---|",
    ]
    for method in ("dpc", "limpa", "min_pairs"):
        parts = [
            f"{summary.loc[(method, k), 'tested']:.1f} / {summary.loc[(method, k), 'ratio']:.2f} / "
            f"{summary.loc[(method, k), 'called']:.2f}"
            for k in ("changed", "switched")
        ]
        lines.append(f"| {METHOD_LABELS[method]} | " + " | ".join(parts) + " |")
    return "\n".join(lines)


def paired_fdp_difference(records, contrast):
    """tearflow DPC − limpa FDP, paired by replicate: (mean, standard error of the mean)."""
    pick = records[records["contrast"] == contrast].pivot_table(index="replicate", columns="method", values="fdp")
    delta = pick["dpc"] - pick["limpa"]
    return float(delta.mean()), float(delta.std(ddof=1) / np.sqrt(len(delta)))


def targets_table(summaries, spikes, uniform, monte_carlo, same_tests):
    """Issue 18's targets, each with its numbers and whether it is met (``monte_carlo``: DPC and
    limpa records on the 40 replicates of the main scenario; ``same_tests``: the same with limpa's BH
    over the proteins tearflow tests)."""
    sw, off = summaries["switched"], summaries["offsets"]
    many = sim.evidence_summary(monte_carlo).set_index(["method", "contrast"])
    same = sim.evidence_summary(same_tests).set_index(["method", "contrast"])
    rows = []

    def add(target, numbers, met):
        rows.append(f"| {target} | {numbers} | {'yes' if met else '**no**'} |")

    def fdp(summary, method, contrast):
        return summary.loc[(method, contrast), "fdp"]

    def tp(summary, method, contrast):
        return summary.loc[(method, contrast), "true_positives"]

    for contrast in ("NSDE", "all"):
        value = fdp(sw, "dpc", contrast)
        add(
            f"simulation: FDP ≤ 5 %, {contrast}",
            f"{value:.3f} (worst {sw.loc[('dpc', contrast), 'max_fdp']:.3f})",
            value <= 0.05,
        )
    for contrast in ("SSDE", "interaction"):
        ours, theirs = fdp(sw, "dpc", contrast), fdp(sw, "limpa", contrast)
        add(f"simulation: FDP no higher than limpa's, {contrast}", f"{ours:.3f} vs {theirs:.3f}", ours <= theirs)
        add(
            f"simulation: FDP ≤ max(5 %, limpa's), {contrast}",
            f"{ours:.3f} vs {max(0.05, theirs):.3f}",
            ours <= max(0.05, theirs),
        )
    for contrast in ("SSDE", "interaction"):
        ours, theirs = fdp(many, "dpc", contrast), fdp(many, "limpa", contrast)
        add(f"simulation, 40 replicates: FDP no higher than limpa's, {contrast}", f"{ours:.4f} vs {theirs:.4f}",
            ours <= theirs)  # fmt: skip
        delta, se = paired_fdp_difference(monte_carlo, contrast)
        add(
            f"simulation, 40 replicates: FDP not above limpa's beyond Monte-Carlo error (paired Δ < 2 SE), {contrast}",
            f"Δ {delta:+.4f} ± {se:.4f} ({delta / se:+.1f} SE)",
            delta <= 2 * se,
        )
    for contrast in ("SSDE", "interaction"):
        ours, theirs = fdp(same, "dpc", contrast), fdp(same, "limpa_same_tests", contrast)
        add(
            f"simulation, 40 replicates: FDP no higher than limpa's on the same tests, {contrast}",
            f"{ours:.4f} vs {theirs:.4f}",
            ours <= theirs,
        )
    for method in ("min_pairs", "left_censored", "left_censored_all"):
        ratios = [tp(sw, "dpc", c) / tp(sw, method, c) for c in CONTRASTS]
        add(
            f"simulation: more true changes than {METHOD_LABELS[method]}",
            "×" + ", ×".join(f"{r:.2f}" for r in ratios) + " (NSDE, SSDE, interaction, all)",
            min(ratios) > 1,
        )
    ratios = [tp(sw, "dpc", c) / tp(sw, "limpa", c) for c in CONTRASTS]
    add("simulation: true changes ≥ 0.98 × limpa's", "×" + ", ×".join(f"{r:.3f}" for r in ratios), min(ratios) >= 0.98)
    met, worst, ks_min = uniform
    add(
        "null: p-values uniform (every contrast)",
        f"shares below 0.001–0.5 within {worst:.2f} of the allowed slack; smallest KS p {ks_min:.2f}",
        met,
    )
    ratios = [tp(off, "dpc", c) / tp(off, "limpa", c) for c in CONTRASTS]
    add("offsets: more true changes than limpa", "×" + ", ×".join(f"{r:.2f}" for r in ratios), min(ratios) > 1)
    for name, group in spikes.groupby("data", sort=False):
        ours = group.set_index("method").loc["dpc"]
        theirs = group.set_index("method").loc["limpa"]
        add(
            f"{name}: background within ±0.03",
            f"{ours['background_median']:+.3f} (limpa {theirs['background_median']:+.3f})",
            abs(ours["background_median"]) <= 0.03,
        )
        add(
            f"{name}: TP ≥ 0.98 × limpa's",
            f"{ours['true_positives']} vs {theirs['true_positives']}",
            ours["true_positives"] >= 0.98 * theirs["true_positives"],
        )
        add(
            f"{name}: FDP ≤ max(5 %, limpa's)",
            f"{ours['fdp']:.3f} vs {max(0.05, theirs['fdp']):.3f}",
            ours["fdp"] <= max(0.05, theirs["fdp"]),
        )
    return "\n".join(["| target | tearflow DPC (mean of replicates) | met |", "|---|---|---|", *rows])


def cell(summary, method, contrast):
    row = summary.loc[(method, contrast)]
    return f"{row['true_positives']:.1f} / {row['fdp']:.3f} ({row['max_fdp']:.3f})"


def simulation_table(summary, methods):
    header = "| method | " + " | ".join(f"{c}: TP / FDP (worst)" for c in CONTRASTS) + " |"
    lines = [header, "|---" * (len(CONTRASTS) + 1) + "|"]
    changed = " | ".join(f"{summary.loc[('dpc', c), 'changed']:.0f}" for c in CONTRASTS)
    lines.append(f"| true changes (tested by DPC) | {changed} |")
    for method in methods:
        if (method, "NSDE") in summary.index:
            lines.append(
                f"| {METHOD_LABELS[method]} | " + " | ".join(cell(summary, method, c) for c in CONTRASTS) + " |"
            )
    return "\n".join(lines)


def bias_table(summary, methods):
    lines = ["| method | " + " | ".join(f"{c}: RMS / worst" for c in CONTRASTS) + " |", "|---" * 5 + "|"]
    for method in methods:
        values = [
            f"{summary.loc[(method, c), 'rms_bias']:.3f} / {summary.loc[(method, c), 'max_abs_bias']:.3f}"
            for c in CONTRASTS
        ]
        lines.append(f"| {METHOD_LABELS[method]} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def paired_difference_table(records):
    """tearflow DPC − limpa per replicate: false discoveries and true positives, mean ± SE."""
    lines = ["| contrast | Δ false per replicate (mean ± SE) | Δ TP per replicate (mean ± SE) | Δ FDP (mean ± SE) |"]
    lines.append("|---|---|---|---|")
    for contrast in CONTRASTS:
        pick = records[records["contrast"] == contrast].pivot_table(
            index="replicate", columns="method", values=["false", "true_positives", "fdp"]
        )
        parts = []
        for column in ("false", "true_positives", "fdp"):
            delta = pick[(column, "dpc")] - pick[(column, "limpa")]
            se = delta.std(ddof=1) / np.sqrt(len(delta))
            digits = 3 if column == "fdp" else 1
            parts.append(f"{delta.mean():+.{digits}f} ± {se:.{digits}f}")
        lines.append(f"| {contrast} | " + " | ".join(parts) + " |")
    return "\n".join(lines)


def null_uniform(pooled):
    """The uniformity check of tests/test_dpc_evidence.py: (met, worst |share − level| / slack, min KS p)."""
    worst, ks_min = 0.0, 1.0
    for parts in pooled.values():
        p = np.concatenate(parts)
        for level in (0.001, 0.01, 0.05, 0.1, 0.5):
            slack = 4 * np.sqrt(level * (1 - level) / len(p)) + 0.1 * level
            worst = max(worst, abs(float(np.mean(p < level)) - level) / slack)
        ks_min = min(ks_min, stats.kstest(np.concatenate([part[::25] for part in parts]), "uniform").pvalue)
    return worst <= 1 and ks_min > 0.001, worst, ks_min


def null_table(pooled, replicates):
    limpa = limpa_results("null")
    limpa = limpa[limpa["replicate"].isin(list(replicates))]
    lines = [
        "| contrast | p-values | share < 0.001 | < 0.01 | < 0.05 | < 0.1 | KS p (every 25th) "
        "| runs with a BH 0.05 call "
        "| limpa: < 0.01 / < 0.05, runs with a call |",
        "|---" * 9 + "|",
    ]
    for contrast in CONTRASTS:
        parts = pooled[contrast]
        p = np.concatenate(parts)
        shares = " | ".join(f"{np.mean(p < level):.4f}" for level in (0.001, 0.01, 0.05, 0.1))
        ks = stats.kstest(np.concatenate([part[::25] for part in parts]), "uniform").pvalue
        calls = sum(bool((np.asarray(bh_adjust(part)) < 0.05).any()) for part in parts)
        theirs = limpa[f"{contrast}_pvalue"].dropna()
        their_calls = sum(
            bool((np.asarray(bh_adjust(group[f"{contrast}_pvalue"].to_numpy())) < 0.05).any())
            for _, group in limpa.groupby("replicate")
        )
        lines.append(
            f"| {contrast} | {len(p)} | {shares} | {ks:.2f} | {calls} of {len(parts)} "
            f"| {np.mean(theirs < 0.01):.4f} / {np.mean(theirs < 0.05):.4f}, {their_calls} of {len(parts)} |"
        )
    return "\n".join(lines)


SPIKE_INS = {
    "hye_precursor": (
        "DIA-NN 1.9 HYE precursors (human 0, yeast −1, E. coli +2)",
        lambda i: sim.hye_precursor_data(FIXTURES / "precursor" / "diann1.9_HYE_AIF_report.tsv", i),
        "HUMAN",
        ("YEAST", "ECOLI"),
        False,
    ),
    "ups1_peptide": (
        "MaxQuant UPS1 peptides, 25 vs 10 fmol (UPS +1.32, yeast 0)",
        lambda i: sim.ups1_peptide_data(FIXTURES / "precursor" / "maxquant_peptides_UPS1_25vs10fmol.txt.gz", i),
        "YEAST",
        ("UPS",),
        False,
    ),
    "hye_protein": (
        "DIA-NN 1.9 HYE protein table, PG.MaxLFQ (DPC by row)",
        lambda i: sim.hye_protein_data(FIXTURES / "formats" / "real" / "diann" / "report_long_diann1.9.tsv"),
        "HUMAN",
        ("YEAST", "ECOLI"),
        True,
    ),
}


def spike_in_rows(normalization):
    records = []
    for name, (label, load, background, _, by_row) in SPIKE_INS.items():
        data = load(config_section("import"))
        ids = data.precursors["protein"].to_numpy()
        methods = {"limpa": sim.limpa_tables(pd.read_csv(LIMPA / f"real_{name}.tsv", sep="\t"), ["all"])}
        methods["dpc"] = sim.dpc_statistics(
            data.log2, ids, data.sheet, normalization, by_row=by_row, normalised=data.normalised
        )[0]
        for variant, (norm_key, options) in VARIANTS.items():
            methods[variant] = sim.dpc_statistics(
                data.log2,
                ids,
                data.sheet,
                variant_normalization(norm_key, normalization),
                by_row=by_row,
                normalised=data.normalised,
                **options,
            )[0]
        methods["min_pairs"] = sim.method_statistics(data, "min_pairs", normalization)
        for method, tables in methods.items():
            record = sim.spike_in_summary(data, tables, background)
            records.append({"data": name, "label": label, "method": method, **record})
    return pd.DataFrame(records)


def spike_in_table(rows):
    lines = [
        "| data | method | background median | other species (median log2 FC) | tested | significant | TP | FDP |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for _, row in rows.iterrows():
        others = ", ".join(f"{k.lower()} {row[f'median_{k.lower()}']:+.2f}" for k in SPIKE_INS[row["data"]][3])
        method = METHOD_LABELS[row["method"]]
        lines.append(
            f"| {row['data']} | {method} | {row['background_median']:+.3f} | {others} | {row['tested']} "
            f"| {row['n_significant']} | {row['true_positives']} | {row['fdp']:.3f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=10, help="per scenario (R results exist for 10)")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "dpc_evidence.md"))
    args = parser.parse_args(argv)
    replicates = range(min(args.replicates, 10))
    normalization = config_section("normalization")
    started = time.time()
    sections = {}
    summaries = {}
    for scenario in ("switched", "offsets"):
        records = simulation_records(scenario, replicates, normalization)
        summary = sim.evidence_summary(records).set_index(["method", "contrast"])
        summaries[scenario] = summary
        methods = ["dpc", "limpa", "min_pairs", "left_censored", "left_censored_all", *VARIANTS]
        sections[f"{scenario}: true positives / FDP"] = simulation_table(summary, methods)
        sections[f"{scenario}: bias of the unchanged proteins"] = bias_table(
            summary, ["dpc", "limpa", "min_pairs", *VARIANTS]
        )
        sections[f"{scenario}: tearflow DPC − limpa, paired by replicate"] = paired_difference_table(
            records[records["method"].isin(["dpc", "limpa"])]
        )
        print(f"[{time.time() - started:.0f} s] {scenario}", flush=True)
    monte_carlo = monte_carlo_records(normalization)
    summary = sim.evidence_summary(monte_carlo).set_index(["method", "contrast"])
    sections["switched, 40 replicates: true positives / FDP"] = simulation_table(summary, ["dpc", "limpa"])
    sections["switched, 40 replicates: tearflow DPC − limpa, paired by replicate"] = paired_difference_table(
        monte_carlo
    )
    same_tests = same_tests_records(normalization)
    sections["switched, 40 replicates: limpa's BH over the proteins tearflow tests"] = simulation_table(
        sim.evidence_summary(same_tests).set_index(["method", "contrast"]), ["dpc", "limpa_same_tests"]
    )
    print(f"[{time.time() - started:.0f} s] switched, 40 replicates", flush=True)
    protein = sim.evidence_summary(protein_table_records("switched", replicates, normalization)).set_index(
        ["method", "contrast"]
    )
    sections["protein-level input (median-polish protein table of the switched scenario)"] = simulation_table(
        protein, ["dpc", "min_pairs", "left_censored"]
    )
    sections["switched: effect sizes (NSDE)"] = effect_size_table(replicates, normalization)
    pooled = sim.null_pvalues(replicates, normalization)
    sections["null: calibration of tearflow's DPC p-values"] = null_table(pooled, replicates)
    print(f"[{time.time() - started:.0f} s] null", flush=True)
    spikes = spike_in_rows(normalization)
    sections["spike-ins, paired by replicate (BH 0.05)"] = spike_in_table(spikes)
    sections = {
        "targets": targets_table(summaries, spikes, null_uniform(pooled), monte_carlo, same_tests),
        **sections,
    }
    print(f"[{time.time() - started:.0f} s] spike-ins", flush=True)
    text = "\n\n".join(f"### {title}\n\n{table}" for title, table in sections.items())
    print(text)
    Path(args.out).write_text(render(text, len(replicates)), encoding="utf-8")
    print("wrote", args.out)


def render(tables, replicates):
    return f"""# DPC quantification: evidence (issue 18)

Made by `benchmarks/dpc_evidence.py` ({replicates} seeded replicates per scenario and 40 of the main one
for the FDP comparison with limpa, ~5 min); the targets
are asserted by `tests/test_dpc_evidence.py`. R limpa's numbers come from
`tests/fixtures/limpa_evidence/` (R 4.2.2, limpa 1.3.11, limma 3.63.2, run once by `make_fixtures.R`
on the identical inputs, which `write_inputs.py` there regenerates without R).

**Simulation** (`tearflow.simulation.simulate_precursor_trial`): 11 NSDE + 5 SSDE patients × baseline,
week 2; 1,000 proteins (level N(20, 2²) log2), 1–10 precursors each (more for abundant proteins; ~4.3
on average) with precursor offsets (sd 1.2), patient effects (sd 0.6), visit-to-visit biological
variation (protein-specific, sd 0.4·√(6/χ²₆)), technical noise (sd 0.3); detection plogis(−15.5 +
0.8 y) plus 2 % at random: ~34 % of precursor values and ~22 % of protein × sample cells missing.
15 % of the proteins change by ±0.5–2 log2 (60 % in both subgroups, 40 % in one, so the interaction
has true changes) and 5 % are switched on or off at week 2 (4–6 log2 lower at one visit, so mostly
undetected there). `switched`: no loading offsets (a search engine's normalised report, limpa's
assumption: `normalization.method: auto` treats it as one); `offsets`: the same with sample loading
offsets of sd 0.3 log2 (raw intensities); `null`: no change.
True positive = a truly changed protein called at BH 0.05 with the right sign; FDP = the rest of the
calls / calls; a protein untested by a method is not called. Cells: mean over the replicates (worst
replicate in brackets).

**Methods**, each as the workflow runs it: tearflow DPC = `detection_curve` (model cn) →
`dpc_quant` → `normalized_matrix` (default `auto`: none for a search engine's normalised values —
`switched`, `null`, the DIA-NN HYE files —, `trimmed` with the patient reference for raw
intensities — `offsets`, MaxQuant UPS1 —, offsets estimated from the protein values of the samples
where the protein was observed, subtracted from every value) → `quantified_differential_statistics`
(default `trend`/`robust` false). R limpa = `dpc` → `dpcQuant` → `dpcDE` on
`~0 + patient + NSDE:week2 + SSDE:week2` (contrasts NSDE, SSDE, SSDE − NSDE) and `~patient + visit`
(all) → `eBayes`, no normalization (limpa has none). Without DPC, the precursors are summarised per
protein by Tukey's median polish (MSstats' default `TMP`; identical to R
`medpolish(na.rm = TRUE)`), normalized (`trimmed`, what `auto` is for measured protein values),
then `differential_statistics` with `min_pairs` 3; left-censored imputation
(`left_censored_imputed`, shift 1.8, width 0.3) as the workflow runs it (imputed values fill pairs,
`min_pairs` still counts measured pairs), and with every imputed pair counted (Perseus' practice).

**Spike-ins**, paired by replicate number (the i-th run of each condition is a patient): the
DIA-NN 1.9 HYE precursor report (`Precursor.Normalised`, A baseline, B follow-up; truth B/A: human
0, yeast −1, E. coli +2), the MaxQuant UPS1 peptides (`Intensity`, 10 fmol baseline, 25 fmol
follow-up; UPS +1.32, yeast 0), both through tearflow's precursor reader with the default filters,
and the protein-level HYE table (PG.MaxLFQ of `report_long_diann1.9.tsv`; DPC by row,
`dpc_quant_by_row` vs `dpcQuantByRow`). Background = the unchanged species.

## Findings

- **DPC finds more**: 16–26 % more true changes than median polish + `min_pairs` 3, 14–46 % more
  than left-censored imputation as the workflow runs it, 5–15 % more than imputation with every
  imputed pair counted, at FDP ≤ 5 % in every contrast (mean). It tests every protein observed once
  in a contrast: switched proteins are called in ~77 % of cases, where `min_pairs` can test fewer
  than half of them.
- **tearflow = limpa where limpa's assumptions hold**: on a search engine's normalised values
  `auto` leaves the DPC estimates as they are, and tearflow's DPC path then reproduces limpa's
  p-values (max |Δlog10 p| < 0.002 on a replicate) and its calls. The one difference is by design:
  limpa also tests proteins never observed in a contrast's pairs (its estimates there come from the
  curve alone), tearflow gives them NaN. With limpa's BH taken over only the proteins tearflow
  tests, the two find the same true and false changes on average over 40 replicates (SSDE FDP
  0.0361 both, interaction 0.0397 vs limpa's 0.0405; they differ by at most one protein, at the
  threshold, in a few replicates); over limpa's own, larger set of tests BH is a little stricter,
  and limpa's FDP is lower by 0.0004 ± 0.0004 (SSDE) and 0.0006 ± 0.0007 (interaction). A second,
  `trimmed`, normalization of normalised values only adds the noise of its estimates (SSDE and
  interaction FDP 0.042 and 0.036 on the first 10 replicates, RMS bias of the unchanged proteins in
  the interaction 0.023 instead of 0.015) and, on the DIA-NN HYE files, moves the background the
  other way (precursors −0.029 instead of +0.006; protein table: one true yeast change lost at FDR
  0.058).
- **Where samples need normalization, tearflow beats limpa**: with loading offsets (sd 0.3) limpa's
  unchanged proteins drift (RMS bias 0.06–0.17) and tearflow finds 8–27 % more true changes, keeping
  the bias at 0.017–0.035 RMS. On the MaxQuant UPS1 peptides (raw intensities) tearflow's yeast
  median is −0.005 (limpa −0.022) and it makes 10 fewer false calls at the same 47 true ones.
- **Null**: tearflow's DPC p-values are uniform in every contrast (slightly conservative: 4.3–4.7 %
  below 0.05), no BH call in any null replicate; limpa's the same.
- **Effect sizes are shrunk** by the DPC model (limpa identical): median estimated/true log2 FC 0.84
  for changed proteins and ~0.4 for switched ones, against ~0.98 for median polish on the proteins it
  can test. `differential.min_abs_log2fc` acts on the shrunk values; say so in the docs.
- **Spike-in FDPs are high for every method** (0.19 HYE, 0.41–0.48 UPS1): with three replicate pairs,
  background proteins with consistent per-protein differences between the two preparations are
  called (the README's HYE note); no setting removes them (`robust: true` adds false calls).

## Not met

- *SSDE and interaction FDP "no higher than limpa's"*, read strictly as a mean over all the proteins
  each method tests: SSDE 0.041 vs 0.040 on the first 10 replicates; over 40, 0.0361 vs 0.0357 and
  0.0397 vs 0.0391 (+1.2 and +0.9 standard errors of the paired difference). The whole difference is
  the proteins tearflow leaves untested (NaN: never observed in the contrast's pairs), which limpa
  tests; on the same tests tearflow's FDP is no higher than limpa's (table "limpa's BH over the
  proteins tearflow tests"). Testing those proteins to close a 0.0004 gap would give p-values to
  proteins with no observation in the contrast, which tearflow does not do.

## Recommendation

- `quantification.method`: **`dpc`** as the default for precursor-level input (DIA-NN report,
  Spectronaut, FragPipe `combined_ion`, MaxQuant evidence/peptides). For protein-level tables keep
  the current path (`min_pairs`) as the default and offer DPC by row as an option: in the simulated
  protein table it finds 18–24 % more but its FDP is 0.050 (`all`) and 0.059 (interaction), and on the
  HYE protein table it finds 7 true changes with 8 false (limpa's calls) where `min_pairs` finds 6
  with 8.
- DPC model: **`cn`** (limpa's default; `on` within Monte-Carlo error everywhere).
- `differential.trend: false`, `robust: false` for the DPC path: the precision weights already carry
  the mean–variance trend (`trend` changes nothing beyond noise); `robust` adds false calls on both
  spike-ins.
- Normalization (`normalization.method: auto`): DPC estimates of a search engine's normalised values
  are left as they are (limpa's model); raw intensities, several tables and measured protein values
  get `trimmed` (patient reference; for DPC values, offsets from the observed cells). `median`
  centring of DPC values is biased (RMS 0.036–0.047, HYE protein table +0.14).

{tables}
"""


if __name__ == "__main__":
    main()
