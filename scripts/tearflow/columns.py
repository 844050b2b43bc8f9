"""Column names of tearflow's tables, defined once.

The sample sheet, the abundance matrices and the result tables all use these names; a step that
reads another step's table refers to the constant, never to a string literal.
"""

# sample sheet (config/samples.tsv)
SAMPLE = "sample"
PATIENT = "patient"
SUBGROUP = "subgroup"
TIMEPOINT = "timepoint"
BATCH = "batch"
SHEET_REQUIRED = (SAMPLE, PATIENT, SUBGROUP, TIMEPOINT)

# a per-patient change: follow-up − baseline (log2 for abundances and scores, endpoint units for
# clinical values)
CHANGE = "change"

# protein annotation columns that lead every abundance matrix (then one column per sample)
PROTEIN = "protein"
GENE = "gene"
ANNOTATION = (PROTEIN, GENE)
# precursor-level tables (tearflow.readers.precursors): the precursor ID leads, then protein, gene
PRECURSOR = "precursor"

# differential tables (results/differential/{contrast}.tsv)
CONTRAST = "contrast"
LOG2FC = "log2fc"
T_STAT = "t"
PVALUE = "pvalue"
FDR = "fdr"
N_PAIRS = "n_pairs"
MEAN_ABUNDANCE = "mean_log2_abundance"
SIGNIFICANT = "significant"

# enrichment tables (results/enrichment/{contrast}.tsv)
GENE_SET = "gene_set"
METHOD = "method"
STATISTIC = "statistic"
GENES = "genes"
SOURCE = "source"

# joined per-patient table (results/joined/patients.tsv): one log2-change column per ELISA analyte
ELISA_PREFIX = "elisa_"
