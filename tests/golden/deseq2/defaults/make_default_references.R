# R DESeq2 references at R's own defaults: no prefilter, DESeq() defaults (parametric trend
# with R's fallback to local, Cook's replacement), results() with alpha = 0.1 (R's default and
# the pipeline's) and independent filtering; Wald tests and likelihood-ratio tests.
#
# Run from the repository root (DESeq2 1.38.3, Debian r-bioc-deseq2):
#   Rscript tests/golden/deseq2/defaults/make_default_references.R
# Writes tests/golden/deseq2/defaults/<case>/r_results.<test>.tsv.gz, r_dispersions.tsv.gz
# (gene-wise estimates and their iterations, trend, final dispersions of the Wald fit) and
# r_versions.txt (with the fitType R ended up using). The four-group matrix is made by
# tests/golden/deseq2/simulate_four_group.py.
suppressPackageStartupMessages({
  library(DESeq2)
})

read_fixture <- function(dir) {
  counts <- as.matrix(read.delim(gzfile(file.path(dir, "counts.tsv.gz")), row.names = 1,
                                 check.names = FALSE))
  samples <- read.delim(file.path(dir, "samples.tsv"), row.names = 1, stringsAsFactors = FALSE)
  stopifnot(identical(colnames(counts), rownames(samples)))
  list(counts = counts, samples = samples)
}

write_results <- function(res, path) {
  out <- as.data.frame(res)
  out[] <- lapply(out, function(v) ifelse(is.na(v), "NA", sprintf("%.17g", v)))
  out <- cbind(gene_id = rownames(res), out)
  gz <- gzfile(path, "w")
  write.table(out, gz, sep = "\t", quote = FALSE, row.names = FALSE)
  close(gz)
}

run_case <- function(name, fixture, design, refs, wald = list(), lrt = list()) {
  out <- file.path("tests/golden/deseq2/defaults", name)
  dir.create(out, showWarnings = FALSE, recursive = TRUE)
  samples <- fixture$samples
  for (f in names(refs)) samples[[f]] <- relevel(factor(samples[[f]]), ref = refs[[f]])
  dds <- DESeqDataSetFromMatrix(fixture$counts, samples, design)
  note <- character()
  fit <- withCallingHandlers(DESeq(dds, quiet = FALSE), message = function(m) {
    note <<- c(note, conditionMessage(m))
    invokeRestart("muffleMessage")
  })
  trend <- attr(dispersionFunction(fit), "fitType")
  m <- mcols(fit)
  disp <- data.frame(baseMean = m$baseMean, dispGeneEst = m$dispGeneEst,
                     dispGeneIter = m$dispGeneIter, dispFit = m$dispFit,
                     dispersion = m$dispersion, row.names = rownames(fit))
  write_results(disp, file.path(out, "r_dispersions.tsv.gz"))
  for (contrast in names(wald)) {
    res <- do.call(results, c(list(fit, alpha = 0.1), wald[[contrast]]))
    write_results(res, file.path(out, paste0("r_results.", contrast, ".tsv.gz")))
  }
  for (test in names(lrt)) {
    lfit <- DESeq(dds, test = "LRT", reduced = lrt[[test]], quiet = TRUE)
    res <- results(lfit, alpha = 0.1)
    write_results(res, file.path(out, paste0("r_results.", test, ".tsv.gz")))
    writeLines(c(mcols(res)$description[2], deparse(lrt[[test]])),
               file.path(out, paste0("r_lrt.", test, ".txt")))
  }
  writeLines(c(paste("DESeq2", packageVersion("DESeq2")), R.version.string,
               paste("design:", deparse(design)), paste("genes:", nrow(dds)),
               paste("dispersion trend used (fitType = 'parametric' requested):", trend)),
             file.path(out, "r_versions.txt"))
}

interaction <- ~ cell_line + treatment + cell_line:treatment
refs <- list(cell_line = "sensitive", treatment = "vehicle")
four <- list(
  resistant_vs_sensitive = list(name = "cell_line_resistant_vs_sensitive"),
  sorafenib_vs_vehicle_in_sensitive = list(name = "treatment_sorafenib_vs_vehicle"),
  sorafenib_vs_vehicle_in_resistant = list(contrast = list(c(
    "treatment_sorafenib_vs_vehicle", "cell_lineresistant.treatmentsorafenib"))),
  sorafenib_response_resistant_vs_sensitive = list(name = "cell_lineresistant.treatmentsorafenib")
)
run_case("sample_experiment", read_fixture("tests/data/counts/sample_experiment"), interaction,
         refs, wald = four, lrt = list(lrt_interaction = ~ cell_line + treatment))
run_case("interaction_sim", read_fixture("tests/data/counts/interaction_sim"), interaction, refs,
         wald = four, lrt = list(lrt_interaction = ~ cell_line + treatment))
marioni <- read_fixture("tests/data/counts/marioni2008")
run_case("marioni2008_tissue", marioni, ~ tissue, list(tissue = "Kidney"),
         wald = list(liver_vs_kidney = list(name = "tissue_Liver_vs_Kidney")))
run_case("marioni2008", marioni, ~ run + tissue, list(run = "R1", tissue = "Kidney"),
         wald = list(liver_vs_kidney = list(name = "tissue_Liver_vs_Kidney")),
         lrt = list(lrt_tissue = ~ run))
run_case("four_group", read_fixture("tests/data/counts/four_group"), ~ group,
         list(group = "control"),
         wald = list(drugA_vs_control = list(name = "group_drugA_vs_control"),
                     combination_vs_control = list(name = "group_combination_vs_control")),
         lrt = list(lrt_any_group = ~ 1))
