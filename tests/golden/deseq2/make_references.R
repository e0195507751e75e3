# R DESeq2 reference outputs for the redoxseq differential-expression golden tests.
#
# Run from the repository root (DESeq2 1.38.3, Debian r-bioc-deseq2; NOISeq 2.42.0 for the
# Marioni data):
#   Rscript tests/golden/deseq2/make_references.R                      # every fixture
#   Rscript tests/golden/deseq2/make_references.R sample_experiment    # only the named ones
# Writes tests/golden/deseq2/<fixture>/r_*.tsv and exports the Marioni count matrix to
# tests/data/counts/marioni2008/. The sample experiment's count matrix is made first by
# tests/golden/deseq2/make_sample_experiment_counts.py (featureCounts). Each fixture is fitted
# with DESeq() defaults (parametric trend, Cook's replacement with minReplicatesForReplace = 7)
# after the DESeq2 vignette's prefilter, which redoxseq applies by default: keep genes with >= 10 reads in >= the size of
# the smallest group of samples sharing all design factor levels. results() use independent
# filtering on and alpha = 0.05 (interaction_sim, marioni2008) or the pipeline's default
# alpha = 0.1 (sample_experiment; its "_alpha005" contrasts repeat the test at alpha = 0.05).
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

args <- commandArgs(trailingOnly = TRUE)
wanted <- function(fixture) length(args) == 0 || fixture %in% args

reference <- function(counts, samples, design, refs, contrasts, outdir, alpha = 0.05) {
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
  all_results <- list()
  for (name in names(contrasts)) {
    res <- do.call(results, c(list(dds), modifyList(list(alpha = alpha), contrasts[[name]])))
    write_tsv(as.data.frame(res), file.path(outdir, paste0("r_results.", name, ".tsv.gz")))
    all_results[[name]] <- res
  }
  write_tsv(assay(varianceStabilizingTransformation(dds, blind = TRUE)),
            file.path(outdir, "r_vst_blind.tsv.gz"))
  write_tsv(assay(varianceStabilizingTransformation(dds, blind = FALSE)),
            file.path(outdir, "r_vst.tsv.gz"))
  writeLines(c(paste("DESeq2", packageVersion("DESeq2")), R.version.string,
               paste("genes after prefilter:", sum(keep), "of", nrow(counts)),
               paste("smallest group:", smallest)),
             file.path(outdir, "r_versions.txt"))
  invisible(list(dds = dds, results = all_results))
}

# --- 1. simulated 2 x 2 interaction design --------------------------------------------------
if (wanted("interaction_sim")) {
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
}

# --- 2. Marioni et al. 2008 (real): kidney vs liver, two sequencing runs --------------------
if (wanted("marioni2008")) {
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
}

# --- 3. the bundled sample experiment (resources/sample_experiment/), pipeline defaults ---------
# Counts: featureCounts -p --countReadPairs -s 2 -t exon -g gene_id on the 12 BAMs
# (tests/golden/deseq2/make_sample_experiment_counts.py). The four default contrasts of
# config/config.yaml at the pipeline's default alpha = 0.1, then again at alpha = 0.05.
if (wanted("sample_experiment")) {
se <- "tests/data/counts/sample_experiment"
counts <- as.matrix(read.delim(gzfile(file.path(se, "counts.tsv.gz")), row.names = 1,
                               check.names = FALSE))
samples <- read.delim(file.path(se, "samples.tsv"), row.names = 1, stringsAsFactors = FALSE)
stopifnot(identical(colnames(counts), rownames(samples)))
default_contrasts <- list(
  resistant_vs_sensitive = list(name = "cell_line_resistant_vs_sensitive"),
  sorafenib_vs_vehicle_in_sensitive = list(name = "treatment_sorafenib_vs_vehicle"),
  # not a single coefficient: main effect + interaction
  sorafenib_vs_vehicle_in_resistant = list(contrast = list(c(
    "treatment_sorafenib_vs_vehicle", "cell_lineresistant.treatmentsorafenib"))),
  sorafenib_response_resistant_vs_sensitive = list(name = "cell_lineresistant.treatmentsorafenib")
)
at_005 <- lapply(default_contrasts, function(x) c(x, list(alpha = 0.05)))
names(at_005) <- paste0(names(default_contrasts), "_alpha005")
out <- "tests/golden/deseq2/sample_experiment"
fit <- reference(
  counts, samples, ~ cell_line + treatment + cell_line:treatment,
  list(cell_line = "sensitive", treatment = "vehicle"),
  c(default_contrasts, at_005),
  out,
  alpha = 0.1
)
# Independent filtering of every contrast: the rejection curve, R's lowess fit of it and the
# baseMean threshold chosen (metadata of results()).
filtering <- do.call(rbind, lapply(names(fit$results), function(name) {
  meta <- metadata(fit$results[[name]])
  data.frame(contrast = name, theta = meta$filterNumRej$theta,
             num_rej = meta$filterNumRej$numRej, lowess = meta$lo.fit$y,
             filter_theta = meta$filterTheta, filter_threshold = unname(meta$filterThreshold))
}))
gz <- gzfile(file.path(out, "r_independent_filtering.tsv.gz"), "w")
write.table(filtering, gz, sep = "\t", quote = FALSE, row.names = FALSE)
close(gz)
# The blind VST refits the trend with design ~ 1. On this experiment the parametric fit fails
# (negative extra-Poisson coefficient) and DESeq2 substitutes a local regression (locfit),
# which pyDESeq2 does not have (it falls back to the mean, as redoxseq): record which trend R
# used and also write R's blind VST with fitType = "mean".
blind <- fit$dds
design(blind) <- ~ 1
blind <- estimateDispersionsGeneEst(blind, quiet = TRUE)
note <- character()
blind <- withCallingHandlers(estimateDispersionsFit(blind, quiet = FALSE),
                             message = function(m) {
                               note <<- c(note, conditionMessage(m))
                               invokeRestart("muffleMessage")
                             })
write(paste("blind VST dispersion trend (fitType = 'parametric' requested):",
            attr(dispersionFunction(blind), "fitType")),
      file.path(out, "r_versions.txt"), append = TRUE)
write_tsv(assay(varianceStabilizingTransformation(fit$dds, blind = TRUE, fitType = "mean")),
          file.path(out, "r_vst_blind_mean.tsv.gz"))
}

# --- 4. R's lowess on random curves (redoxseq ports it for independent filtering) --------------
# Curves with ties, unsorted x, outliers, points closer than lowess' delta, several spans.
if (wanted("lowess")) {
set.seed(20261121)
curves <- do.call(rbind, lapply(1:12, function(k) {
  n <- c(3, 5, 12, 50, 50, 80)[(k - 1) %% 6 + 1]
  x <- if (k %% 3 == 0) seq(0, 1, length.out = n) else runif(n)
  if (k %% 4 == 0) x <- round(x, 1)                      # ties
  if (k == 5) x <- c(x[1:40], x[40] + (1:10) * 1e-4)     # closer than delta
  y <- 100 * sin(3 * x) + rnorm(n, sd = 10) + (runif(n) < 0.1) * 200
  if (k %% 2 == 0) y <- round(y)
  f <- c(1 / 5, 2 / 3, 1 / 2)[(k - 1) %% 3 + 1]
  fit <- numeric(n)
  fit[order(x)] <- lowess(x, y, f = f)$y                  # back to the order of x
  data.frame(curve = k, f = f, x = x, y = y, lowess = fit)
}))
curves[] <- lapply(curves, function(v) if (is.double(v)) sprintf("%.17g", v) else v)
dir.create("tests/golden/deseq2/lowess", showWarnings = FALSE)
gz <- gzfile("tests/golden/deseq2/lowess/r_lowess.tsv.gz", "w")
write.table(curves, gz, sep = "\t", quote = FALSE, row.names = FALSE)
close(gz)
}
