"""The documents that ship with the workflow agree with it.

- Every key of ``config/config.yaml`` and of ``workflow/schemas/config.schema.yaml`` is explained in
  ``config/README.md`` (which the Snakemake workflow catalog shows as the configuration section).
- The version is written once, in ``CITATION.cff``; ``CHANGELOG.md``'s newest release and any
  release tag shown in the docs match it.
- ``CITATION.cff`` has the structure of CFF 1.2.0, and ``.snakemake-workflow-catalog.yml`` the one
  the catalog reads.

A key counts as explained when ``config/README.md`` names it in a code span: its dotted path anywhere
(``timepoints.baseline``), or the bare key inside the part of the README about its parent — the
section whose heading names the parent (``## `enrichment` ...``) or the table row whose first cell
does. A code span of the form ``{path, format, batch}`` names each of its items.
"""

import re

import pytest
import yaml
from conftest import REPO

CONFIG = REPO / "config" / "config.yaml"
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
CONFIG_README = REPO / "config" / "README.md"
CITATION = REPO / "CITATION.cff"
CHANGELOG = REPO / "CHANGELOG.md"
CATALOG = REPO / ".snakemake-workflow-catalog.yml"

HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
SEMVER = r"\d+\.\d+\.\d+"


# --- which keys exist -------------------------------------------------------------------------


def schema_key_paths(schema, prefix=()):
    """Key paths (tuples) of every property the JSON schema declares, depth first; the items of an
    array of objects are reached as ``(..., "proteomics", "[]", "path")``."""
    paths = []
    for name, sub in (schema.get("properties") or {}).items():
        path = prefix + (name,)
        paths.append(path)
        paths += schema_key_paths(sub, path)
        items = sub.get("items")
        if isinstance(items, dict):
            paths += schema_key_paths(items, path + ("[]",))
    return paths


def _schema_at(schema, path):
    """The sub-schema that describes the value at key path `path`, or None when it is undeclared."""
    for part in path:
        if schema is None:
            return None
        if part == "[]":
            schema = schema.get("items") if isinstance(schema.get("items"), dict) else None
        else:
            schema = (schema.get("properties") or {}).get(part)
    return schema


def _free_form(schema):
    """True when the schema says a mapping's keys are the user's names (``libraries: {name: path}``),
    not configuration keys: no `properties`, and `additionalProperties` or `patternProperties` given
    as a schema."""
    if not isinstance(schema, dict) or schema.get("properties"):
        return False
    return isinstance(schema.get("additionalProperties"), dict) or bool(schema.get("patternProperties"))


def config_key_paths(value, schema, prefix=()):
    """Key paths (tuples) of every mapping key in a config value, depth first; mappings the schema
    declares free-form are not entered (their keys are names, not settings)."""
    paths = []
    if isinstance(value, dict):
        if prefix and _free_form(_schema_at(schema, prefix)):
            return paths
        for name, sub in value.items():
            path = prefix + (str(name),)
            paths.append(path)
            paths += config_key_paths(sub, schema, path)
    elif isinstance(value, list):
        for item in value:
            paths += config_key_paths(item, schema, prefix + ("[]",))
    return paths


def dotted(path):
    """``("proteomics", "[]", "path")`` → ``proteomics[].path``."""
    return ".".join(path).replace(".[]", "[]")


# --- what the README explains ----------------------------------------------------------------


def _spans_name(span, key):
    """Whether one code span names `key` (a dotted path or a bare key): it starts with the key
    (``ora_max_fdr``, ``elisa: null``; ``timepoints.baseline`` names ``timepoints`` too) or is a
    brace list holding it."""
    span = span.strip()
    if re.match(rf"{re.escape(key)}(?![\w\[])", span):
        return True
    brace = re.fullmatch(r"\{(.*)\}", span)
    return brace is not None and key in [item.strip() for item in brace.group(1).split(",")]


def _mentions(text, key):
    return any(_spans_name(span, key) for span in CODE_SPAN.findall(text))


def parent_scope(readme, parent):
    """The README text about config key `parent` (a dotted path): every section whose heading names
    it in a code span (down to the next heading of the same or a higher level) and every table row
    whose first cell does."""
    lines = readme.splitlines()
    chunks = []
    for i, line in enumerate(lines):
        heading = HEADING.match(line)
        if heading and _mentions(heading.group(2), parent):
            level = len(heading.group(1))
            end = next(
                (
                    j
                    for j in range(i + 1, len(lines))
                    if HEADING.match(lines[j]) and len(HEADING.match(lines[j]).group(1)) <= level
                ),
                len(lines),
            )
            chunks.append("\n".join(lines[i:end]))
        elif line.lstrip().startswith("|"):
            cells = line.strip().strip("|").split("|")
            if cells and _mentions(cells[0], parent):
                chunks.append(line)
    return "\n".join(chunks)


def is_explained(readme, path):
    """Whether the README explains the key at `path` (see the module docstring)."""
    if _mentions(readme, dotted(path)):
        return True
    names = [part for part in path if part != "[]"]
    if len(names) == 1:
        return False
    parents = [dotted(path[:i]) for i in range(len(path) - 1, 0, -1) if path[i - 1] != "[]"]
    return any(_mentions(parent_scope(readme, parent), names[-1]) for parent in parents)


def unexplained_keys(readme, config, schema):
    """Dotted key paths of config.yaml and the schema that the README does not explain, sorted."""
    paths = set(config_key_paths(config, schema)) | set(schema_key_paths(schema))
    return sorted(dotted(path) for path in paths if not is_explained(readme, path))


def test_every_config_and_schema_key_is_explained_in_config_readme():
    readme = CONFIG_README.read_text(encoding="utf-8")
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    missing = unexplained_keys(readme, config, schema)
    assert not missing, (
        f"config/README.md does not explain these keys of config/config.yaml or "
        f"workflow/schemas/config.schema.yaml: {missing}. Add each to the table of its section "
        f"(a row starting with the key in backticks). A mapping whose keys are the user's own names "
        f"(library names, table columns) is declared in the schema with `additionalProperties: {{...}}` "
        f"and no `properties`; its keys are then not counted."
    )


SMALL_README = """\
# Config

| key | default | meaning |
|---|---|---|
| `samples` | `config/samples.tsv` | the sheet |
| `proteomics` | example | tables: `{path, format}` |
| `timepoints.baseline` | `baseline` | first visit |

## `enrichment` (pathways)

| key | default | meaning |
|---|---|---|
| `min_set_size` | `5` | smallest set |

## `differential`

Nothing about its keys; the `enrichment` section's keys do not count here.
"""


def test_checker_finds_a_key_missing_from_the_readme():
    config = {
        "samples": "x.tsv",
        "proteomics": [{"path": "a.tsv", "format": "auto", "batch": "b1"}],
        "timepoints": {"baseline": "bl", "followup": "w2"},
        "enrichment": {"min_set_size": 5, "libraries": {"reactome": "r.gmt"}},
        "differential": {"min_pairs": 3},
        "seed": 1,
    }
    schema = {
        "properties": {
            "enrichment": {"properties": {"libraries": {"type": "object", "additionalProperties": {"type": "string"}}}},
            "qc": {"properties": {"max_missing": {"type": "number"}}},
        }
    }
    assert unexplained_keys(SMALL_README, config, schema) == [
        "differential.min_pairs",
        "enrichment.libraries",
        "proteomics[].batch",
        "qc",
        "qc.max_missing",
        "seed",
        "timepoints.followup",
    ]


def test_checker_does_not_enter_free_form_mappings_but_does_enter_undeclared_ones():
    config = {"enrichment": {"libraries": {"reactome": "r.gmt"}}}
    declared = {
        "properties": {
            "enrichment": {"properties": {"libraries": {"type": "object", "additionalProperties": {"type": "string"}}}}
        }
    }
    assert ("enrichment", "libraries", "reactome") not in config_key_paths(config, declared)
    assert ("enrichment", "libraries", "reactome") in config_key_paths(config, {"properties": {}})


# --- version, changelog, citation, catalog -----------------------------------------------------


def citation():
    return yaml.safe_load(CITATION.read_text(encoding="utf-8"))


def changelog_releases(text):
    """Version numbers of the ``## <version>`` (or ``## [<version>]``) headings, newest first."""
    return re.findall(rf"^##\s+\[?({SEMVER})\]?", text, flags=re.MULTILINE)


def test_version_is_written_once_and_the_changelog_and_docs_follow_it():
    version = str(citation()["version"])
    assert re.fullmatch(SEMVER, version), f"CITATION.cff version '{version}' is not MAJOR.MINOR.PATCH"
    releases = changelog_releases(CHANGELOG.read_text(encoding="utf-8"))
    assert releases, "CHANGELOG.md has no '## <version>' heading"
    assert releases[0] == version, (
        f"CHANGELOG.md's newest release is {releases[0]} but CITATION.cff says version {version}"
    )
    assert len(releases) == len(set(releases)), f"CHANGELOG.md lists a version twice: {releases}"
    assert not (REPO / "VERSION").exists(), "the version lives in CITATION.cff only; remove VERSION"
    docs = [REPO / "README.md", REPO / "config" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    for doc in docs:
        if doc.exists():
            for tag in re.findall(rf"(?:--tag\s+|TAG=|tag=\"|tearflow-)v?({SEMVER})", doc.read_text(encoding="utf-8")):
                assert tag == version, f"{doc.relative_to(REPO)} deploys tag v{tag}; CITATION.cff says {version}"


def test_changelog_heading_parser():
    assert changelog_releases("# Changelog\n\n## [0.2.0] - 2026-01-01\n\n## 0.1.0\n") == ["0.2.0", "0.1.0"]


def _person_or_entity(author):
    return bool(author.get("family-names") or author.get("name"))


def test_citation_has_the_cff_1_2_0_structure_and_cites_the_trial():
    cff = citation()
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title"):
        assert isinstance(cff.get(key), str) and cff[key].strip(), f"CITATION.cff needs a non-empty '{key}'"
    assert cff.get("type", "software") in ("software", "dataset")
    assert cff["authors"] and all(_person_or_entity(author) for author in cff["authors"])
    works = list(cff.get("references", [])) + ([cff["preferred-citation"]] if "preferred-citation" in cff else [])
    for work in works:
        assert {"type", "title", "authors"} <= set(work), f"a CITATION.cff reference lacks type/title/authors: {work}"
        assert all(_person_or_entity(author) for author in work["authors"])
    trial = [work for work in works if work.get("doi") == "10.1186/s13287-025-04292-8"]
    assert len(trial) == 1, "CITATION.cff must cite the trial paper (doi 10.1186/s13287-025-04292-8) once"
    assert trial[0]["type"] == "article"
    assert trial[0]["journal"] == "Stem Cell Research & Therapy"
    assert (trial[0]["volume"], trial[0]["start"], trial[0]["year"]) == (16, 202, 2025)
    assert [author["family-names"] for author in trial[0]["authors"]] == [
        "Zhang",
        "Chen",
        "Liang",
        "Feng",
        "Jiang",
        "Chen",
        "Tang",
        "Chu",
        "Wang",
        "Hu",
    ]


def test_catalog_file_has_the_standardized_usage_section():
    usage = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))["usage"]
    assert set(usage) <= {"mandatory-flags", "software-stack-deployment", "report"}
    assert usage["report"] is True
    stack = usage["software-stack-deployment"]
    assert set(stack) <= {"conda", "apptainer", "apptainer+conda", "singularity", "singularity+conda"}
    assert any(stack.values()), "the catalog needs at least one software deployment method"
    if stack.get("conda"):
        rules = "\n".join(path.read_text() for path in (REPO / "workflow" / "rules").glob("*.smk"))
        assert "conda:" in rules, "the catalog says conda works, but no rule declares a conda env"
    flags = usage["mandatory-flags"]
    assert isinstance(flags.get("desc"), str)
    assert isinstance(flags.get("flags"), str | list)


@pytest.mark.parametrize(
    "required",
    [REPO / "workflow" / "Snakefile", CONFIG_README, CATALOG],
    ids=lambda path: path.relative_to(REPO).as_posix(),
)
def test_catalog_standardized_usage_files_exist(required):
    assert required.is_file()


# --- documented defaults ----------------------------------------------------------------------

DEFAULT_ROW = re.compile(r"^\|\s*`([^`|]+)`\s*\|\s*`([^`|]+)`\s*\|")


def documented_defaults(readme_text):
    """``(key path, documented default)`` of every table row whose first two cells are code spans
    (``| `fdr` | `0.05` | ...``); the key path is prefixed with the config section whose heading
    names it (``## `differential` ...``). Rows under other headings are top-level keys."""
    section = ()
    rows = []
    for line in readme_text.splitlines():
        heading = HEADING.match(line)
        if heading:
            spans = CODE_SPAN.findall(heading.group(2))
            section = (spans[0],) if spans and "/" not in spans[0] else ()
            continue
        row = DEFAULT_ROW.match(line)
        if row:
            rows.append((section + tuple(row.group(1).split(".")), row.group(2)))
    return rows


def test_documented_defaults_are_the_schema_defaults():
    """config/README.md's key tables are checked against the schema, the one source of defaults."""
    from tearflow.config import load_schema, schema_defaults

    config = schema_defaults(load_schema(SCHEMA))
    compared = 0
    wrong = []
    for path, documented in documented_defaults(CONFIG_README.read_text(encoding="utf-8")):
        value = config
        for part in path:
            if not isinstance(value, dict) or part not in value:
                break
            value = value[part]
        else:
            compared += 1
            if yaml.safe_load(documented) != value:
                wrong.append(f"{'.'.join(path)}: README says {documented}, the schema's default is {value!r}")
    assert not wrong, "\n".join(wrong)
    documented = {path for path, _ in documented_defaults(CONFIG_README.read_text(encoding="utf-8"))}
    undocumented = [".".join(path) for path in default_paths(config, load_schema(SCHEMA)) if path not in documented]
    assert not undocumented, f"config/README.md gives no default for: {undocumented}"
    assert compared >= 80, f"only {compared} documented defaults were compared: is the parser right?"


def default_paths(defaults, schema, prefix=()):
    """Key paths of every default; a mapping whose keys are the user's own (`libraries`, `lloq`, the
    q-value filters: no `properties` in the schema) is one default, not a section."""
    for key, value in defaults.items():
        path = prefix + (key,)
        sub = (schema.get("properties") or {}).get(key) or {}
        if isinstance(value, dict) and value and sub.get("properties"):
            yield from default_paths(value, sub, path)
        else:
            yield path


def test_defaults_checker_catches_a_wrong_default():
    text = "## `differential` (x)\n\n| key | default | meaning |\n|---|---|---|\n| `fdr` | `0.1` | x |\n"
    assert documented_defaults(text) == [(("differential", "fdr"), "0.1")]
