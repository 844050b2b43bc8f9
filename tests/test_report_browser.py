"""The Snakemake report as a user sees it, in headless Chromium.

`snakemake --report results/report.html` writes one self-contained HTML file: a small React app with
every result embedded as a data URI. These tests open it in Chromium (see tests/browser.py) and check
that it loads without a script error, that every view a user can open (categories, result info,
statistics, rule graph) renders without one, that every reported figure shows when its eye button is
clicked (decoded, non-zero natural size), and — on a variant of the example whose follow-up visit
label and one protein's gene are the HTML `<b>x</b>` — that such names appear as text, never as
markup.

Without Chromium the tests are skipped on a developer's machine and fail when `CI` is set.
"""

import csv
import io
import shutil

import pytest
import yaml
from browser import BrowserError, Chromium, require_chromium
from workflow_runner import copy_workflow, run_snakemake, shared_local_run

REPORT = "results/report.html"

APP_READY = (
    "typeof app !== 'undefined' && typeof results !== 'undefined'"
    " && document.querySelector('#loading-screen').style.display === 'none'"
)

# Click the eye button of every row of the results table on screen; for each click that shows an
# image, wait until it is decoded and return its natural size. Returns
# [{path, width, height} | {path, error}] (path = the result the click selected).
CLICK_EVERY_FIGURE = """
(async () => {
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const shown = [];
  const count = document.querySelectorAll('#app tbody a[iconname="eye"][href="#"]').length;
  for (let i = 0; i < count; i++) {
    const button = document.querySelectorAll('#app tbody a[iconname="eye"][href="#"]')[i];
    button.click();
    await pause(50);
    const path = app.state.resultPath;
    const uri = results[path].data_uri;
    if (!results[path].mime_type.startsWith('image/')) continue;
    let image = null;
    for (let t = 0; t < 200 && !image; t++) {
      image = [...document.images].find((im) => im.src === uri && im.complete) || null;
      if (!image) await pause(50);
    }
    if (!image) { shown.push({path, error: 'the image never appeared'}); continue; }
    try {
      await image.decode();
      shown.push({path, width: image.naturalWidth, height: image.naturalHeight});
    } catch (error) {
      shown.push({path, error: String(error)});
    }
  }
  return shown;
})()
"""


def make_report(workdir):
    run_snakemake(workdir, "--report", REPORT)
    return workdir / REPORT


def open_report(browser, report):
    page = browser.open(report.resolve().as_uri())
    page.wait_for(APP_READY)
    page.settle(0.5)
    return page


def result_views(page):
    """(category, subcategory) pairs of the report's results menu."""
    return page.evaluate("Object.entries(categories).flatMap(([c, subs]) => Object.keys(subs).map((s) => [c, s]))")


def show_results_table(page, category, subcategory):
    """Click through the menu as a user does: back to the main menu (it has no results table),
    the category, and — when the category has several — the subcategory."""
    page.evaluate("app.setView({navbarMode: 'menu'})")
    page.wait_for("document.querySelectorAll('#app tbody tr').length === 0")
    page.evaluate(f"app.showCategory({category!r})")
    if page.evaluate("app.state.navbarMode") == "category":
        page.evaluate(
            f"app.setView({{navbarMode: 'subcategory', category: {category!r}, subcategory: {subcategory!r}}})"
        )
    page.wait_for("document.querySelectorAll('#app tbody tr').length > 0")


# Show one image result the way its eye button does, wait until it is decoded; its natural size.
SHOW_FIGURE = """
(async (path) => {
  const uri = results[path].data_uri;
  app.setView({content: 'img', contentPath: uri, resultPath: path});
  for (let t = 0; t < 200; t++) {
    const image = [...document.images].find((im) => im.src === uri && im.complete);
    if (image) {
      try { await image.decode(); } catch (error) { return {path, error: String(error)}; }
      return {path, width: image.naturalWidth, height: image.naturalHeight};
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {path, error: 'the image never appeared'};
})
"""


@pytest.fixture(scope="module")
def chromium_executable():
    return require_chromium()


@pytest.fixture(scope="module")
def example_report(tmp_path_factory):
    """The report of the shipped example, made in a copy of the session's shared run (the shared
    folder itself stays untouched)."""
    run = shared_local_run(tmp_path_factory, cores=2)
    workdir = tmp_path_factory.mktemp("report") / "run"
    shutil.copytree(run, workdir, symlinks=True)
    return make_report(workdir)


@pytest.fixture(scope="module")
def example_page(chromium_executable, example_report):
    with Chromium(chromium_executable, timeout=60) as browser:
        yield open_report(browser, example_report)


def test_report_loads_without_script_errors(example_page):
    assert example_page.errors == []
    assert example_page.evaluate("Object.keys(results).length") > 0
    assert "tearflow analysed" in example_page.evaluate("document.body.innerText")


def test_every_view_renders_without_script_errors(example_page):
    page = example_page
    paths = page.evaluate("Object.keys(results)")
    for category, subcategory in result_views(page):
        show_results_table(page, category, subcategory)
    for path in paths:
        page.evaluate(f"app.showResultInfo({path!r})")
        page.wait_for("document.querySelector('#app').innerText.length > 0")
    for view in ("stats", "rulegraph"):
        page.evaluate(f"app.setView({{content: {view!r}}})")
        page.settle(0.5)
    page.evaluate("app.showReportInfo()")
    page.settle(0.5)
    assert page.errors == []


def test_every_reported_figure_shows(example_page, example_report):
    page = example_page
    images = set(page.evaluate("Object.keys(results).filter((p) => results[p].mime_type.startsWith('image/'))"))
    assert "results/figures/volcano_all.png" in images
    drawn = {path.relative_to(example_report.parents[1]).as_posix() for path in example_report.parent.rglob("*.png")}
    assert drawn - images == set(), "figures drawn but not in the report (wrap them in report())"

    shown = []
    for category, subcategory in result_views(page):
        show_results_table(page, category, subcategory)
        shown += page.evaluate(CLICK_EVERY_FIGURE, timeout=120)
    clicked = {entry["path"] for entry in shown}
    assert clicked, "no figure could be opened with its eye button"
    # Figures behind a label toggle (one of two variants on screen) are opened the way the button
    # does once the toggle is switched.
    for path in sorted(images - clicked):
        shown.append(page.evaluate(f"{SHOW_FIGURE}({path!r})"))
    broken = [entry for entry in shown if "error" in entry or not (entry["width"] > 0 and entry["height"] > 0)]
    assert broken == []
    assert {entry["path"] for entry in shown} == images
    assert page.errors == []


# --- names holding HTML and scripts --------------------------------------------------------------

# A name that ends Snakemake's <script> block of report data and starts one of its own, and one that
# runs a script when rendered as HTML (no "/": it is also a sample, matched to a column header).
SCRIPT_NAME = "</script><script>window.__pwned = 1</script>"
MARKUP_NAME = '<img src="x" onerror="window.__pwned = 2"><b>x</b>'


def _hostile_name_variant(destination):
    """A copy of the example whose names come from a hostile sheet: the follow-up visit label
    (sheet and config), one patient and one protein's gene are SCRIPT_NAME, one sample (sheet and
    table column) is MARKUP_NAME. The protein-level table, ELISA off and a lighter enrichment keep
    it quick."""
    workdir = copy_workflow(destination)
    table = workdir / "resources" / "example" / "report.pg_matrix.tsv"
    lines = table.read_text().splitlines(keepends=True)
    header = lines[0].rstrip("\n").split("\t")
    genes = header.index("Genes")
    # The first protein quantified in every run, so it is tested and shows in every table.
    row = next(i for i, line in enumerate(lines[1:], 1) if all(line.rstrip("\n").split("\t")[len(header) - 1 :]))
    fields = lines[row].rstrip("\n").split("\t")
    fields[genes] = SCRIPT_NAME
    lines[row] = "\t".join(fields) + "\n"
    renamed_sample = "NSDE02_baseline"
    column = next(i for i, name in enumerate(header) if name.endswith(f"\\{renamed_sample}.raw"))
    header[column] = MARKUP_NAME
    lines[0] = "\t".join(header) + "\n"
    table.write_text("".join(lines))

    config_path = workdir / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    followup = config["timepoints"]["followup"]
    sheet = workdir / "config" / "samples.tsv"
    sheet_lines = sheet.read_text().splitlines()
    names = sheet_lines[0].split("\t")
    sample, patient, timepoint = (names.index(name) for name in ("sample", "patient", "timepoint"))
    relabelled = [sheet_lines[0]]
    for line in sheet_lines[1:]:
        fields = line.split("\t")
        if fields[timepoint] == followup:
            fields[timepoint] = SCRIPT_NAME
        if fields[patient] == "NSDE01":
            fields[patient] = SCRIPT_NAME
        if fields[sample] == renamed_sample:
            fields[sample] = MARKUP_NAME
        relabelled.append("\t".join(fields))
    sheet.write_text("\n".join(relabelled) + "\n")

    config["proteomics"] = [{"path": "resources/example/report.pg_matrix.tsv"}]
    config["timepoints"]["followup"] = SCRIPT_NAME
    config["elisa"] = None
    config["enrichment"] = {
        "libraries": {"wikipathways": "resources/genesets/wikipathways-20260410-gmt-Homo_sapiens.gmt"},
        "gsea_permutations": 100,
    }
    config_path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return workdir


@pytest.fixture(scope="module")
def hostile_name_report(chromium_executable, tmp_path_factory):
    workdir = _hostile_name_variant(tmp_path_factory.mktemp("hostile_names"))
    run_snakemake(workdir, "--cores", "2")
    return make_report(workdir)


def test_hostile_names_never_run_as_script_or_markup(chromium_executable, hostile_name_report):
    html = hostile_name_report.read_text(encoding="utf-8")
    assert SCRIPT_NAME not in html and "onerror=" not in html, "a hostile name reached the report's HTML as is"
    with Chromium(chromium_executable, timeout=60) as browser:
        page = open_report(browser, hostile_name_report)
        assert page.evaluate("typeof window.__pwned") == "undefined"
        for category, subcategory in result_views(page):
            show_results_table(page, category, subcategory)
        for path in page.evaluate("Object.keys(results)"):
            page.evaluate(f"app.showResultInfo({path!r})")
            page.wait_for("document.querySelector('#app').innerText.length > 0")
        for view in ("stats", "rulegraph"):
            page.evaluate(f"app.setView({{content: {view!r}}})")
            page.settle(0.5)
        page.evaluate("app.showReportInfo()")
        page.settle(0.5)
        assert page.evaluate("typeof window.__pwned") == "undefined", "a name from the sheet ran as a script"
        injected = page.evaluate(
            "document.querySelectorAll('img[src=\"x\"]').length"
            " + [...document.querySelectorAll('b')].filter((b) => b.textContent === 'x').length"
        )
        assert injected == 0, "a name holding HTML was rendered as markup"
        # The follow-up label is in the job parameters (the timepoints section), escaped as text.
        params = page.evaluate("results['results/differential/all.tsv'].job_properties.params")
        assert "\\u003c/script\\u003e\\u003cscript\\u003ewindow.__pwned = 1" in params
        # The protein's gene and the sample are in the tables a user downloads from the report, as text.
        table = page.evaluate(
            "fetch(results['results/differential/all.tsv'].data_uri).then((response) => response.text())"
        )
        assert f"\t{SCRIPT_NAME}\t" in table
        sample_qc = page.evaluate(
            "fetch(results['results/qc/sample_qc.tsv'].data_uri).then((response) => response.text())"
        )
        assert MARKUP_NAME in [row[0] for row in csv.reader(io.StringIO(sample_qc), delimiter="\t")]
        assert page.errors == []


def test_a_page_with_a_script_error_is_caught(chromium_executable, tmp_path):
    """The checks above can fail: a broken script and a broken image are reported."""
    page_file = tmp_path / "broken.html"
    page_file.write_text(
        "<html><body><img src='data:image/png;base64,AAAA'><script>undefinedFunction()</script></body></html>"
    )
    with Chromium(chromium_executable, timeout=30) as browser:
        page = browser.open(page_file.as_uri())
        page.settle(0.3)
        assert any("undefinedFunction" in error for error in page.errors)
        with pytest.raises(BrowserError):
            page.evaluate("document.images[0].decode()")
