# R limpa's side of run_benchmark.py's quantify head-to-head: the detection probability curve and
# DPC protein quantification on the precursor table tearflow's quantify step reads (written as TSV by
# the runner: precursor, protein, gene, then one column per sample; raw intensities, empty = missing),
# with the run's quantification settings:
#   Rscript limpa_timing.R <precursors.tsv> <out folder> <model> <slope start> <iterations> <subset> <robust>
# Reads with data.table::fread, log2-transforms, dpc(y, ...) then dpcQuant(y, protein.id, dpc), and
# writes E.tsv / SE.tsv (protein x sample) and seconds.txt (dpc + dpcQuant alone, elapsed).
suppressPackageStartupMessages({
  library(limpa)
  library(data.table)
})
args <- commandArgs(trailingOnly = TRUE)
out <- args[2]
dir.create(out, showWarnings = FALSE, recursive = TRUE)
table <- fread(args[1], sep = "\t", data.table = FALSE, na.strings = "")
samples <- setdiff(names(table), c("precursor", "protein", "gene"))
y <- log2(as.matrix(table[, samples]))
y[!is.finite(y)] <- NA
rownames(y) <- table$precursor
t <- system.time({
  curve <- dpc(y, model = args[3], dpc.slope.start = as.numeric(args[4]), iterations = as.integer(args[5]),
               subset = as.integer(args[6]), robust = as.logical(args[7]))
  q <- dpcQuant(y, protein.id = table$protein, dpc = curve$dpc, verbose = FALSE)
})[["elapsed"]]
writeLines(format(t, digits = 10), file.path(out, "seconds.txt"))
fwrite(data.frame(protein = rownames(q$E), q$E, check.names = FALSE), file.path(out, "E.tsv"), sep = "\t")
fwrite(data.frame(protein = rownames(q$E), q$other$standard.error, check.names = FALSE),
       file.path(out, "SE.tsv"), sep = "\t")
