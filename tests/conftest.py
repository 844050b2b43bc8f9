"""Test set-up: matplotlib without a screen, the repository's paths, and the step scripts as modules.

The ``tearflow`` package is installed (editable) by the README's install command; tests import it
like any user would. A rule's adapter script (``scripts/<rule>.py``) is loaded with :func:`adapter`
to call its ``main(snakemake)`` with a stand-in object, without Snakemake.
"""

import importlib.util
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"


def adapter(rule_script):
    """``scripts/<rule_script>.py`` loaded as a module (not run: its ``main`` is only defined)."""
    path = REPO / "scripts" / f"{rule_script}.py"
    spec = importlib.util.spec_from_file_location(f"tearflow_adapter_{rule_script}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONFIG_SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def config_section(section, **overrides):
    """A config section as the workflow passes it to a step: the schema's defaults (the one source
    of them), with ``overrides``."""
    from tearflow.config import load_schema, schema_defaults

    return {**schema_defaults(load_schema(CONFIG_SCHEMA))[section], **overrides}
