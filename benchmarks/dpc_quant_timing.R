# R limpa dpcQuant on the input written by dpc_quant_timing.py (one folder):
#   y.f64         precursor x sample log2 intensities, raw little-endian float64, column-major, NaN missing
#   proteins.txt  one protein id per precursor
#   meta.txt      rows, samples, DPC intercept, DPC slope
# Writes seconds.txt (elapsed seconds of dpcQuant alone), E.f64 (protein x sample, column-major) and
# E_proteins.txt (its row names).
#   R_LIBS=/opt/r-limpa Rscript dpc_quant_timing.R <folder>
suppressPackageStartupMessages(library(limpa))
dir <- commandArgs(trailingOnly = TRUE)[1]
meta <- as.numeric(readLines(file.path(dir, "meta.txt")))
nrow <- meta[1]; ncol <- meta[2]; dpc <- c(beta0 = meta[3], beta1 = meta[4])
y <- matrix(readBin(file.path(dir, "y.f64"), "double", n = nrow * ncol, endian = "little"), nrow, ncol)
colnames(y) <- paste0("S", seq_len(ncol))
protein <- readLines(file.path(dir, "proteins.txt"))
t <- system.time(q <- dpcQuant(y, protein.id = protein, dpc = dpc, verbose = FALSE))[["elapsed"]]
writeLines(format(t, digits = 10), file.path(dir, "seconds.txt"))
writeBin(as.vector(q$E), file.path(dir, "E.f64"), endian = "little")
writeLines(rownames(q$E), file.path(dir, "E_proteins.txt"))
