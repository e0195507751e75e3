# R DESeq2 reference outputs for the redoxseq differential-expression golden tests.
#
# Run from the repository root (DESeq2 1.38.3, Debian r-bioc-deseq2; NOISeq 2.42.0 for the
# Marioni data):
#   Rscript tests/golden/deseq2/make_references.R
# Writes tests/golden/deseq2/<fixture>/r_*.tsv and exports the Marioni count matrix to
# tests/data/counts/marioni2008/. Each fixture is fitted with DESeq() defaults (parametric
# trend, Cook's replacement with minReplicatesForReplace = 7) after the DESeq2 vignette's
# prefilter, which redoxseq applies by default: keep genes with >= 10 reads in >= the size of
# the smallest group of samples sharing all design factor levels. results() use alpha = 0.05
# and independent filtering on.
suppressPackageStartupMessages({
  library(DESeq2)
})

write_tsv <- function(df, path, first = "gene_id") {
  out <- data.frame(df, check.names = FALSE)
  out <- cbind(setNames(data.frame(rownames(df)), first), out)
  if (is.character(path) && grepl("[.]gz$", path)) {
    path <- gzfile(path, "w")
    on.exit(close(path))
  }
  write.table(out, path, sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")
}

reference <- function(counts, samples, design, refs, contrasts, outdir) {
  dir.create(outdir, showWarnings = FALSE, recursive = TRUE)
  for (f in names(refs)) samples[[f]] <- relevel(factor(samples[[f]]), ref = refs[[f]])
  factors <- intersect(all.vars(design), names(refs))
  smallest <- min(table(do.call(paste, samples[factors])))
  keep <- rowSums(counts >= 10) >= smallest
  dds <- DESeqDataSetFromMatrix(counts[keep, ], samples, design)
  dds <- DESeq(dds, quiet = TRUE)
  write_tsv(data.frame(size_factor = sizeFactors(dds)), file.path(outdir, "r_size_factors.tsv"),
            first = "sample")
  write_tsv(data.frame(baseMean = rowData(dds)$baseMean,
                       dispersion_genewise = rowData(dds)$dispGeneEst,
                       dispersion_trend = rowData(dds)$dispFit,
                       dispersion_map = rowData(dds)$dispMAP,
                       dispersion_final = dispersions(dds),
                       row.names = rownames(dds)),
            file.path(outdir, "r_dispersions.tsv.gz"))
  write_tsv(as.data.frame(model.matrix(design, samples)), file.path(outdir, "r_design_matrix.tsv"),
            first = "sample")
  writeLines(resultsNames(dds), file.path(outdir, "r_results_names.txt"))
  for (name in names(contrasts)) {
    args <- c(list(dds, alpha = 0.05), contrasts[[name]])
    res <- do.call(results, args)
    write_tsv(as.data.frame(res), file.path(outdir, paste0("r_results.", name, ".tsv.gz")))
  }
  write_tsv(assay(varianceStabilizingTransformation(dds, blind = TRUE)),
            file.path(outdir, "r_vst_blind.tsv.gz"))
  write_tsv(assay(varianceStabilizingTransformation(dds, blind = FALSE)),
            file.path(outdir, "r_vst.tsv.gz"))
  writeLines(c(paste("DESeq2", packageVersion("DESeq2")), R.version.string,
               paste("genes after prefilter:", sum(keep), "of", nrow(counts)),
               paste("smallest group:", smallest)),
             file.path(outdir, "r_versions.txt"))
}

# --- 1. simulated 2 x 2 interaction design --------------------------------------------------
sim <- "tests/data/counts/interaction_sim"
counts <- as.matrix(read.delim(gzfile(file.path(sim, "counts.tsv.gz")), row.names = 1,
                               check.names = FALSE))
samples <- read.delim(file.path(sim, "samples.tsv"), row.names = 1, stringsAsFactors = FALSE)
reference(
  counts, samples, ~ cell_line + treatment + cell_line:treatment,
  list(cell_line = "sensitive", treatment = "vehicle"),
  list(
    resistant_vs_sensitive = list(name = "cell_line_resistant_vs_sensitive"),
    sorafenib_vs_vehicle_in_sensitive = list(name = "treatment_sorafenib_vs_vehicle"),
    # not a single coefficient: main effect + interaction
    sorafenib_vs_vehicle_in_resistant = list(contrast = list(c(
      "treatment_sorafenib_vs_vehicle", "cell_lineresistant.treatmentsorafenib"))),
    sorafenib_response_resistant_vs_sensitive = list(
      name = "cell_lineresistant.treatmentsorafenib"),
    # lfcThreshold test: |log2FC| > 1 (greaterAbs) on the resistant effect
    resistant_vs_sensitive_greaterAbs1 = list(
      name = "cell_line_resistant_vs_sensitive", lfcThreshold = 1, altHypothesis = "greaterAbs")
  ),
  "tests/golden/deseq2/interaction_sim"
)

# --- 2. Marioni et al. 2008 (real): kidney vs liver, two sequencing runs --------------------
data(Marioni, package = "NOISeq")
out <- "tests/data/counts/marioni2008"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
marioni <- data.frame(sample = colnames(mycounts),
                      tissue = as.character(myfactors$Tissue),
                      run = sub("^(R[0-9]).*", "\\1", colnames(mycounts)))
write.table(marioni, file.path(out, "samples.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
write_tsv(as.data.frame(mycounts), file.path(out, "counts.tsv.gz"))
m_samples <- marioni[, -1]
rownames(m_samples) <- marioni$sample
reference(
  as.matrix(mycounts), m_samples, ~ run + tissue, list(run = "R1", tissue = "Kidney"),
  list(liver_vs_kidney = list(name = "tissue_Liver_vs_Kidney")),
  "tests/golden/deseq2/marioni2008"
)
