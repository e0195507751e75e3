# R DESeq2 dispersion-trend references (parametric with R's fallback, local, mean).
#
# Run from the repository root (DESeq2 1.38.3, Debian r-bioc-deseq2; locfit 1.5-9.7):
#   Rscript tests/golden/deseq2/trend/make_trend_references.R
# For each case: the genes R uses for the trend (useForFit: gene-wise dispersion > 100 x
# minDisp), their baseMean and R's gene-wise dispersion, the trend R fitted (fitType used,
# after R's own fallback) evaluated at those genes, and the trend on a grid of means that
# reaches 20x beyond the genes' range on both sides (extrapolation). redoxseq's trend is fitted
# to R's gene-wise dispersions, so these references test the trend alone.
suppressPackageStartupMessages({
  library(DESeq2)
})

read_counts <- function(dir) {
  as.matrix(read.delim(gzfile(file.path(dir, "counts.tsv.gz")), row.names = 1,
                       check.names = FALSE))
}
prefiltered <- function(counts, samples, factors) {
  smallest <- min(table(do.call(paste, samples[factors])))
  counts[rowSums(counts >= 10) >= smallest, ]
}

trend_case <- function(name, counts, samples, design, fitType, out) {
  dds <- DESeqDataSetFromMatrix(counts, samples, design)
  dds <- estimateSizeFactors(dds)
  dds <- estimateDispersionsGeneEst(dds, quiet = TRUE)
  note <- character()
  dds <- withCallingHandlers(estimateDispersionsFit(dds, fitType = fitType, quiet = FALSE),
                             message = function(m) {
                               note <<- c(note, conditionMessage(m))
                               invokeRestart("muffleMessage")
                             })
  used <- attr(dispersionFunction(dds), "fitType")
  nz <- !mcols(dds)$allZero
  use <- nz & mcols(dds)$dispGeneEst > 100 * 1e-8
  genes <- data.frame(gene_id = rownames(dds)[use],
                      baseMean = sprintf("%.17g", mcols(dds)$baseMean[use]),
                      dispersion_genewise = sprintf("%.17g", mcols(dds)$dispGeneEst[use]),
                      dispersion_trend = sprintf("%.17g", mcols(dds)$dispFit[use]))
  gz <- gzfile(file.path(out, paste0("r_trend.", name, ".tsv.gz")), "w")
  write.table(genes, gz, sep = "\t", quote = FALSE, row.names = FALSE)
  close(gz)
  m <- mcols(dds)$baseMean[use]
  grid <- exp(seq(log(min(m) / 20), log(max(m) * 20), length.out = 400))
  gz <- gzfile(file.path(out, paste0("r_trend_grid.", name, ".tsv.gz")), "w")
  write.table(data.frame(mean = sprintf("%.17g", grid),
                         dispersion_trend = sprintf("%.17g", dispersionFunction(dds)(grid))),
              gz, sep = "\t", quote = FALSE, row.names = FALSE)
  close(gz)
  data.frame(case = name, fit_type_requested = fitType, fit_type_used = used,
             genes_used = sum(use), fallback_message = length(note) > 0)
}

out <- "tests/golden/deseq2/trend"
se <- "tests/data/counts/sample_experiment"
se_counts <- read_counts(se)
se_samples <- read.delim(file.path(se, "samples.tsv"), row.names = 1, stringsAsFactors = FALSE)
se_design <- ~ cell_line + treatment + cell_line:treatment
mar <- "tests/data/counts/marioni2008"
mar_counts <- read_counts(mar)
mar_samples <- read.delim(file.path(mar, "samples.tsv"), row.names = 1, stringsAsFactors = FALSE)
sim <- "tests/data/counts/interaction_sim"
sim_counts <- read_counts(sim)
sim_samples <- read.delim(file.path(sim, "samples.tsv"), row.names = 1, stringsAsFactors = FALSE)

cases <- rbind(
  # the blind VST's trend of the golden sample-experiment fit: R's parametric fit fails
  trend_case("sample_experiment_blind_prefiltered",
             prefiltered(se_counts, se_samples, c("cell_line", "treatment")), se_samples, ~ 1,
             "parametric", out),
  trend_case("sample_experiment_local", se_counts, se_samples, se_design, "local", out),
  trend_case("sample_experiment_parametric", se_counts, se_samples, se_design, "parametric", out),
  trend_case("sample_experiment_mean", se_counts, se_samples, se_design, "mean", out),
  # real liver vs kidney, no prefilter: with ~ tissue R's parametric fit fails (falls back to
  # local); with ~ run + tissue it succeeds
  trend_case("marioni2008_tissue_parametric", mar_counts, mar_samples, ~ tissue, "parametric",
             out),
  trend_case("marioni2008_parametric", mar_counts, mar_samples, ~ run + tissue, "parametric", out),
  trend_case("interaction_sim_local", sim_counts, sim_samples,
             ~ cell_line + treatment + cell_line:treatment, "local", out)
)
write.table(cases, file.path(out, "r_trend_cases.tsv"), sep = "\t", quote = FALSE,
            row.names = FALSE)
writeLines(c(paste("DESeq2", packageVersion("DESeq2")), paste("locfit", packageVersion("locfit")),
             R.version.string), file.path(out, "r_versions.txt"))
