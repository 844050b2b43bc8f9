"""scripts/tearflow/palette.py: one colour per subgroup, and every figure that colours subgroups
(QC, heatmaps, ELISA, clinical) uses it, so a subgroup has the same colour everywhere."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from tearflow.columns import GENE, PATIENT, PROTEIN, SAMPLE, SUBGROUP, TIMEPOINT
from tearflow.figures.palette import SUBGROUP_COLOURS, subgroup_colours

matplotlib.use("Agg")

# Listed in sheet order, on purpose not alphabetical: the colours must follow the sheet.
SHEET_ORDER = ["SSDE", "NSDE"]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_colours_follow_the_given_order_and_ignore_repeats():
    colours = subgroup_colours(["SSDE", "NSDE", "SSDE", "NSDE"])
    assert list(colours) == ["SSDE", "NSDE"]
    assert colours == {"SSDE": SUBGROUP_COLOURS[0], "NSDE": SUBGROUP_COLOURS[1]}


def test_distinct_colours_up_to_the_palette_size_then_repeats():
    names = [f"g{i}" for i in range(len(SUBGROUP_COLOURS) + 2)]
    colours = subgroup_colours(names)
    assert len({colours[n] for n in names[: len(SUBGROUP_COLOURS)]}) == len(SUBGROUP_COLOURS)
    assert colours[names[-2]] == colours[names[0]] and colours[names[-1]] == colours[names[1]]
    assert subgroup_colours([]) == {}
    assert subgroup_colours(pd.Series(["B", "A"])) == {"B": SUBGROUP_COLOURS[0], "A": SUBGROUP_COLOURS[1]}


def test_the_palette_is_defined_once():
    from tearflow.figures import clinical as plot_clinical
    from tearflow.figures import elisa_results as plot_elisa

    for module in (plot_clinical, plot_elisa):
        assert not hasattr(module, "SUBGROUP_COLOURS")
        assert not hasattr(module, "_subgroup_colours")


def expected():
    return {name: to_hex(colour) for name, colour in subgroup_colours(SHEET_ORDER).items()}


def test_elisa_paired_lines_use_the_palette():
    from tearflow.figures.elisa_results import paired_figure

    changes = pd.DataFrame(
        {
            "analyte": "IL17A",
            PATIENT: ["n1", "n2", "s1", "s2"],
            SUBGROUP: ["NSDE", "NSDE", "SSDE", "SSDE"],
            "baseline": [5.0, 6.0, 7.0, 8.0],
            "followup": [4.0, 3.0, 6.0, 9.0],
            "baseline_status": "measured",
            "followup_status": "measured",
        }
    )
    tests = pd.DataFrame(columns=["analyte", "contrast", "censoring"])
    figure = paired_figure(changes, tests, SHEET_ORDER, {"baseline": "baseline", "followup": "week2"})
    for axis, subgroup in zip(figure.axes, SHEET_ORDER):
        (lines,) = axis.collections[:1]
        assert to_hex(lines.get_edgecolor()[0]) == expected()[subgroup]


def test_clinical_trajectories_take_sheet_colours_even_when_a_subgroup_is_missing():
    """The clinical table has only NSDE patients: NSDE keeps its sheet colour (the second one)."""
    from conftest import REPO

    from tearflow import clinical
    from tearflow.figures import clinical as plot_clinical

    definitions = clinical.read_endpoint_definitions(REPO / "resources/clinical/endpoints.tsv")
    values = pd.DataFrame(
        [("n1", v, "OSDI", 40.0 - 5 * i) for i, v in enumerate(["baseline", "week2"])],
        columns=[PATIENT, "visit", "endpoint", "value"],
    ).assign(**{SUBGROUP: "NSDE"})
    summary = clinical.visit_summary(values, definitions, ["NSDE"], ["baseline", "week2"])
    figure = plot_clinical.trajectory_figure(values, summary, definitions, ["baseline", "week2"], SHEET_ORDER)
    colours = {to_hex(line.get_color()) for line in figure.axes[0].get_lines()}
    assert colours == {expected()["NSDE"]}


def test_qc_correlation_names_samples_in_their_subgroup_colour():
    from tearflow import qc
    from tearflow.figures import qc as qc_figures

    rng = np.random.default_rng(0)
    names = ["s1_b", "s1_w", "n1_b", "n1_w"]
    samples = pd.DataFrame(
        {
            SAMPLE: names,
            PATIENT: ["s1", "s1", "n1", "n1"],
            SUBGROUP: ["SSDE", "SSDE", "NSDE", "NSDE"],  # sheet order; the figure sorts NSDE first
            TIMEPOINT: ["baseline", "week2"] * 2,
        }
    )
    log2 = pd.DataFrame(rng.normal(20, 1, (50, 4)), columns=names)
    figure = qc_figures.correlation_figure(qc.correlation_matrix(log2), samples)
    subgroup_of = dict(zip(samples[SAMPLE], samples[SUBGROUP]))
    ticks = figure.axes[0].get_yticklabels() + figure.axes[0].get_xticklabels()
    assert ticks and all(to_hex(t.get_color()) == expected()[subgroup_of[t.get_text()]] for t in ticks)


def test_differential_and_focus_heatmaps_name_subgroups_in_the_same_colours():
    from tearflow.figures import differential as plot_differential
    from tearflow.figures import enrichment as plot_enrichment

    changes = pd.DataFrame({PROTEIN: ["P1"], GENE: ["IL17A"], "n1": [1.0], "s1": [-1.0]})
    patients = {"n1": "NSDE", "s1": "SSDE"}
    grid = plot_differential.significant_clustermap(changes, patients, ["P1"], SHEET_ORDER, "t", "week2 − baseline")
    legend = grid.ax_col_dendrogram.get_legend()
    named = {t.get_text(): to_hex(h.get_facecolor()) for t, h in zip(legend.get_texts(), legend.legend_handles)}
    assert named == expected()
    bar = grid.ax_col_colors.collections[0]  # the patients' subgroup bar, in sheet order of subgroups
    assert [to_hex(bar.cmap(bar.norm(v))) for v in bar.get_array().ravel()] == [expected()[g] for g in SHEET_ORDER]
    matrix = pd.DataFrame({"s1": [-1.0], "n1": [1.0]}, index=["IL17A (1)"])
    figure = plot_enrichment.focus_gene_figure(matrix, pd.Series({"s1": "SSDE", "n1": "NSDE"}), SHEET_ORDER)
    assert {t.get_text(): to_hex(t.get_color()) for t in figure.axes[0].texts} == expected()
