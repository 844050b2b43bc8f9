"""tearflow's ``quantify`` step (``scripts/quantify.py``) on a given precursor table, as a fresh process:
the head-to-head side of ``run_benchmark.py`` against R limpa (``limpa_timing.R``).

    python benchmarks/quantify_step.py SCRIPTS PRECURSORS.parquet OUT SETTINGS.json

``SCRIPTS``: the workflow's ``scripts/`` folder (the run's copy); ``PRECURSORS.parquet``: a
precursor x sample table as rule ``import_abundance`` writes it (``results/abundance/precursors.parquet``
or a subset of its proteins); ``OUT``: folder for the step's outputs (protein values, standard errors,
observed counts, per-protein table, curve, detection bins, log); ``SETTINGS.json``: the rule's params,
``{"quantification": {...}, "scale": {"input_is_log2": ...}}``, from the run's config. The step's
``main`` runs with Snakemake's own ``Namedlist`` containers and the logging and error boundary every
step has (``tearflow.errors.run_step``):
Python start-up, imports, reading, DPC fit, quantification and writing, as in the DAG (less the
unpickling of Snakemake's script preamble).
"""

import json
import sys
from pathlib import Path
from types import SimpleNamespace


def main(argv):
    scripts, precursors, out, settings = argv
    sys.path.insert(0, scripts)
    import quantify
    from snakemake.iocontainers import Namedlist

    from tearflow.errors import run_step

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = json.loads(Path(settings).read_text())
    names = ("values", "standard_errors", "observed", "proteins", "curve", "detection")
    snakemake = SimpleNamespace(
        input=Namedlist(fromdict={"precursors": precursors}),
        output=Namedlist(fromdict={name: str(out / f"{name}.tsv") for name in names}),
        params=Namedlist(fromdict=settings),
        log=Namedlist(fromdict={"log": str(out / "quantify.log")}),
    )
    run_step(quantify.main, snakemake)


if __name__ == "__main__":
    main(sys.argv[1:])
