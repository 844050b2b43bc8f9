# Read and check the config and the sample sheet once, before any rule runs, and give the rule
# files what they share: the sheet, the subgroups and contrasts, and how a config path is resolved.

import logging
import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")

# The workflow's own folder (the one holding workflow/, scripts/, resources/), wherever it is
# deployed; shipped files are reached from here, never from the working directory.
WORKFLOW_ROOT = Path(
    workflow.current_basedir.get_path_or_uri(secret_free=True)
).parents[1]
sys.path.insert(0, str(WORKFLOW_ROOT / "scripts"))

import yaml  # noqa: E402

from tearflow.columns import CONTRAST_ALL, CONTRAST_INTERACTION  # noqa: E402
from tearflow.config_checks import (  # noqa: E402
    check_config,
    check_sample_sheet,
    check_sheet_references,
    check_sheet_schema,
)
from tearflow.errors import TearflowError  # noqa: E402
from tearflow.samples import read_sample_sheet, subgroup_order  # noqa: E402


def resolve_input(path):
    """The file a config path means: as given (absolute, or relative to the working directory);
    a relative path that does not exist there falls back to the workflow's own folder, so the
    shipped example data and gene sets are found when tearflow runs as a deployed module.
    """
    if path is None:
        return None
    given = Path(str(path)).expanduser()
    if given.is_absolute() or given.exists():
        return str(given)
    shipped = WORKFLOW_ROOT / given
    if shipped.exists():
        return str(shipped)
    raise TearflowError(
        f"file not found: '{path}' (looked in the working directory {Path.cwd()} and in the "
        f"workflow folder {WORKFLOW_ROOT}); check the path in your config"
    )


def _config_paths(config):
    """(config key, path) of every input file the config names, optional ones only when set."""
    named = [("samples", config["samples"])]
    named += [
        (f"proteomics[{i}].path", table["path"])
        for i, table in enumerate(config["proteomics"])
    ]
    for key in ("fasta", "gene_map", "elisa", "clinical"):
        if config.get(key) is not None:
            named.append((key, config[key]))
    return named


def _load_schema(name):
    with open(
        WORKFLOW_ROOT / "workflow" / "schemas" / name, encoding="utf-8"
    ) as stream:
        return yaml.safe_load(stream)


def _check_inputs(config):
    check_config(config, _load_schema("config.schema.yaml"))
    for key, path in _config_paths(config):
        try:
            resolve_input(path)
        except TearflowError as error:
            raise TearflowError(f"config key '{key}': {error}") from None
    sheet_path = resolve_input(config["samples"])
    sheet = read_sample_sheet(sheet_path)
    check_sheet_schema(sheet, _load_schema("samples.schema.yaml"), sheet_path)
    notes = check_sample_sheet(
        sheet, sheet_path, config["timepoints"], config["differential"]["min_pairs"]
    )
    check_sheet_references(config, sheet, sheet_path)
    for note in notes:
        logging.getLogger("tearflow").info("%s", note)
    return sheet_path, sheet


try:
    SAMPLE_SHEET, SAMPLES = _check_inputs(config)
except TearflowError as error:
    sys.exit(f"tearflow: {error}")

SUBGROUPS = subgroup_order(SAMPLES)
CONTRASTS = (
    SUBGROUPS + [CONTRAST_ALL] + ([CONTRAST_INTERACTION] if len(SUBGROUPS) == 2 else [])
)
ELISA_ENABLED = config.get("elisa") is not None
CLINICAL_ENABLED = config.get("clinical") is not None


wildcard_constraints:
    contrast="|".join(CONTRASTS),


def all_targets():
    """Every final output of the workflow, step by step (each rule file lists its own)."""
    return (
        import_targets()
        + normalize_targets()
        + differential_targets()
        + enrichment_targets()
        + elisa_targets()
        + clinical_targets()
    )
