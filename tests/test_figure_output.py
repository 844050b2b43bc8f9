"""tearflow.figures.output: every figure in the configured format and resolution, the same bytes on
every run; the workflow names every figure with the configured format's extension."""

import subprocess
import sys

import matplotlib.pyplot as plt
import pytest
from conftest import REPO, config_section
from matplotlib.image import imread
from workflow_runner import copy_workflow, rule_of_output, write_configfile

from tearflow.figures.output import save_figure

DRAW = """
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from tearflow.figures.output import save_figure

figure, axes = plt.subplots(figsize=(3, 2))
axes.imshow(np.arange(12.0).reshape(3, 4), cmap="RdBu_r")
axes.plot([0, 3], [0, 2], label="a line")
axes.set_title("IL-17: week2 − baseline ★")
axes.legend()
save_figure(figure, sys.argv[1], {"format": sys.argv[2], "dpi": 72})
"""


@pytest.mark.parametrize("image_format", ["png", "pdf", "svg"])
def test_a_figure_is_the_same_file_on_every_run(tmp_path, image_format):
    # two separate processes: matplotlib salts SVG ids per process and stamps dates into PDF and SVG
    files = [tmp_path / f"run{i}.{image_format}" for i in (1, 2)]
    for path in files:
        subprocess.run([sys.executable, "-c", DRAW, str(path), image_format], check=True, cwd=REPO)
    first, second = (path.read_bytes() for path in files)
    assert first == second
    assert b"CreationDate" not in first and b"<dc:date>" not in first
    assert first.startswith({"png": b"\x89PNG", "pdf": b"%PDF", "svg": b"<?xml"}[image_format])


def test_dpi_sets_the_png_resolution(tmp_path):
    widths = {}
    for dpi in (50, 100):
        figure, axes = plt.subplots(figsize=(4, 3), layout="constrained")
        axes.plot([0, 1], [0, 1])
        save_figure(figure, tmp_path / f"dpi{dpi}.png", config_section("figures", dpi=dpi))
        widths[dpi] = imread(tmp_path / f"dpi{dpi}.png").shape[1]
    assert widths == {50: 200, 100: 400}


def test_a_path_in_another_format_is_a_bug(tmp_path):
    figure, _ = plt.subplots()
    with pytest.raises(ValueError, match=r"does not end in \.pdf"):
        save_figure(figure, tmp_path / "volcano.png", config_section("figures", format="pdf"))
    assert not list(tmp_path.iterdir())


def test_every_figure_of_the_workflow_takes_the_configured_extension(tmp_path):
    workdir = copy_workflow(tmp_path)
    default = sorted(path for path in rule_of_output(workdir) if path.startswith("results/figures/"))
    assert default and all(path.endswith(".png") for path in default)
    configfile = write_configfile(workdir, {"figures": {"format": "svg", "dpi": 300}})
    svg = sorted(path for path in rule_of_output(workdir, "--configfile", configfile) if "/figures/" in path)
    assert svg == [path.removesuffix(".png") + ".svg" for path in default]
