"""Rule elisa_plates (only with elisa_analysis.plates): each plate's 4PL standard curves and the
sample concentrations read off them (:mod:`tearflow.elisa_plates`); rule
plot_elisa_standard_curves draws the curves."""

import logging

from tearflow.elisa_plates import plate_concentrations, read_plates
from tearflow.errors import run_step
from tearflow.tables import write_tsv

log = logging.getLogger("tearflow.elisa_plates")


def main(snakemake):
    settings = snakemake.params.settings or {}
    cv_max = float(settings.get("plate_cv_max", 20.0) or 20.0)
    path = snakemake.input.plates
    concentrations, fits = plate_concentrations(read_plates(path), path, cv_max)
    log.info("%d standard curves, %d sample concentrations from %s", len(fits), len(concentrations), path)
    for fit in fits.itertuples():
        log.info(
            "plate %s %s: A=%.4g B=%.4g C=%.4g D=%.4g R²=%.4f",
            fit.plate,
            fit.analyte,
            fit.a,
            fit.b,
            fit.c,
            fit.d,
            fit.r_squared,
        )
    write_tsv(fits, snakemake.output.fits)
    write_tsv(concentrations, snakemake.output.concentrations)


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
