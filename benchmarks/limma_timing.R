# limma on the difference matrix tearflow's differential step tests: the same per-patient changes
# (results/differential/patient_changes.tsv), the same designs and contrasts, the same protein
# filter (differential.min_pairs), all tables written to disk — so its time can stand beside the
# `differential` rule's.
#
#   Rscript benchmarks/limma_timing.R <patient_changes.tsv> <samples.tsv> <min_pairs> <out_dir>
#
# Subgroup fit: ~0 + subgroup, contrasts = each subgroup (+ second − first with two subgroups);
# all fit: ~1. lmFit -> (contrasts.fit) -> eBayes -> topTable per contrast. Prints one line
# `limma_compute_s<TAB><seconds>` (reading, fitting and writing; not R's start-up or library load).

suppressPackageStartupMessages(library(limma))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 4) {
  stop("usage: Rscript limma_timing.R <patient_changes.tsv> <samples.tsv> <min_pairs> <out_dir>")
}
changes_path <- args[[1]]
sheet_path <- args[[2]]
min_pairs <- as.integer(args[[3]])
out_dir <- args[[4]]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

started <- proc.time()[["elapsed"]]

changes <- read.delim(changes_path, check.names = FALSE, na.strings = "NA", stringsAsFactors = FALSE)
sheet <- read.delim(sheet_path, colClasses = "character")
patients <- setdiff(colnames(changes), c("protein", "gene"))
y <- as.matrix(changes[, patients, drop = FALSE])
rownames(y) <- changes$protein
subgroup_of <- sheet$subgroup[match(patients, sheet$patient)]
subgroups <- unique(sheet$subgroup)
subgroup <- factor(subgroup_of, levels = subgroups)

write_table <- function(table, name) {
  write.table(table, file.path(out_dir, paste0(name, ".tsv")), sep = "\t", quote = FALSE,
              row.names = TRUE, col.names = NA, na = "NA")
}

observed <- !is.na(y)
per_group <- sapply(subgroups, function(g) rowSums(observed[, subgroup_of == g, drop = FALSE]))
keep <- rowSums(per_group >= min_pairs) > 0
design <- model.matrix(~ 0 + subgroup)
colnames(design) <- subgroups
contrasts <- diag(length(subgroups))
dimnames(contrasts) <- list(subgroups, subgroups)
if (length(subgroups) == 2) {
  contrasts <- cbind(contrasts, interaction = c(-1, 1))
}
fit <- eBayes(contrasts.fit(lmFit(y[keep, , drop = FALSE], design), contrasts))
for (name in colnames(contrasts)) {
  write_table(topTable(fit, coef = name, number = Inf, sort.by = "P", confint = TRUE), name)
}

keep_all <- rowSums(observed) >= min_pairs
fit_all <- eBayes(lmFit(y[keep_all, , drop = FALSE], matrix(1, ncol = 1, nrow = ncol(y))))
write_table(topTable(fit_all, coef = 1, number = Inf, sort.by = "P", confint = TRUE), "all")

cat(sprintf("limma_compute_s\t%.3f\n", proc.time()[["elapsed"]] - started))
