"""The package's layers (README, "For developers"): a module imports only from its own layer or the
ones below it; nothing in the package imports Snakemake; each rule's script is an adapter that
imports no other script."""

import ast

import pytest
from conftest import REPO

PACKAGE = REPO / "scripts" / "tearflow"
# lowest first; a module may import from its own layer and any earlier one
LAYERS = [
    {"errors", "atomic", "tables", "columns", "contrasts", "config", "samples", "report_safe"},
    {"readers", "genes", "abundance_import"},
    {"normalization", "imputation", "qc", "dpc", "protein_quant"},
    {"limma", "vooma", "smoothing", "nonparametric", "multiple_testing", "distributions", "r_optim"},
    {"differential"},
    {"genesets", "enrichment", "pathway_scores"},
    {"elisa", "elisa_plates", "clinical"},
    {"correlation", "joins"},
    {"figures"},
    {"simulation"},
]


def layer_of(module):
    top = module.split(".")[0]
    for index, names in enumerate(LAYERS):
        if top in names:
            return index
    raise AssertionError(f"tearflow.{module} is in no layer of the README's table: add it")


def level(index):
    """The matrix and statistics layers count as one for imports: DPC quantification (matrix) uses
    the limma port's variance squeezing (statistics)."""
    return min(index, 2) if index in (2, 3) else index


def tearflow_imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tearflow."):
            yield node.module.removeprefix("tearflow.")
        elif isinstance(node, ast.ImportFrom) and node.module == "tearflow":
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (a.name.removeprefix("tearflow.") for a in node.names if a.name.startswith("tearflow."))


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_a_module_imports_only_its_own_layer_or_lower_ones(path):
    module = path.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")
    mine = level(layer_of(module))
    higher = [name for name in tearflow_imports(path) if level(layer_of(name)) > mine]
    assert not higher, f"tearflow.{module} (layer {mine}) imports from higher layers: {higher}"


def test_the_package_never_imports_snakemake():
    found = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "import snakemake" in path.read_text() or "from snakemake" in path.read_text()
    ]
    assert not found


def test_rule_scripts_import_no_other_script():
    scripts = {path.stem for path in (REPO / "scripts").glob("*.py")}
    problems = []
    for path in (REPO / "scripts").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in getattr(node, "names", [])]
            if isinstance(node, (ast.Import, ast.ImportFrom)) and any(n and n.split(".")[0] in scripts for n in names):
                problems.append(path.name)
    assert not problems


def test_every_rule_has_its_own_script_and_every_script_a_rule():
    import re

    rules_text = "".join(path.read_text() for path in (REPO / "workflow" / "rules").glob("*.smk"))
    used = set(re.findall(r'"\.\./\.\./scripts/(\w+)\.py"', rules_text))
    scripts = {path.stem for path in (REPO / "scripts").glob("*.py")}
    assert used == scripts, (sorted(scripts - used), sorted(used - scripts))
    assert len(re.findall(r'"\.\./\.\./scripts/\w+\.py"', rules_text)) == len(used), "a script serves two rules"
