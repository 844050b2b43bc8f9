"""Rule elisa_values: the lab's ELISA table (and raw-plate concentrations) as values in pg/mL with
their censoring status, joined to the sample sheet's patients and visits (:mod:`tearflow.elisa`)."""

from tearflow.elisa import elisa_values
from tearflow.errors import run_step
from tearflow.samples import read_sample_sheet
from tearflow.tables import write_tsv


def main(snakemake):
    settings = snakemake.params.settings
    sheet = read_sample_sheet(snakemake.input.sheet)
    tables = list(snakemake.input.tables) if "tables" in snakemake.input.keys() else []
    plates = snakemake.input.plates if "plates" in snakemake.input.keys() else None
    names = list(snakemake.params.table_names) if tables else None
    values = elisa_values(tables, plates, snakemake.input.analytes, sheet, snakemake.params.timepoints, settings, names)
    write_tsv(values, snakemake.output.values)


if __name__ == "__main__":
    run_step(main, snakemake)  # noqa: F821
