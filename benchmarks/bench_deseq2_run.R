# R DESeq2 side of benchmarks/bench_deseq2.py: DESeq() + results() on one matrix.
# Usage: Rscript bench_deseq2_run.R COUNTS.tsv METADATA.tsv CORES OUT.tsv TIMING.txt
# COUNTS: genes x samples (gene_id first column); METADATA: sample, condition.
# TIMING gets three numbers: DE wall time, start-up (packages + reading) wall time, and DE CPU
# time (user + system, this process and its BiocParallel workers), all in seconds.
args <- commandArgs(trailingOnly = TRUE)
cpu <- function() {
  t <- proc.time()
  sum(t[c("user.self", "sys.self", "user.child", "sys.child")], na.rm = TRUE)
}
t_start <- proc.time()[["elapsed"]]
suppressPackageStartupMessages({
  library(DESeq2)
  library(BiocParallel)
})
counts <- as.matrix(read.delim(args[1], row.names = 1, check.names = FALSE))
meta <- read.delim(args[2], row.names = 1, stringsAsFactors = TRUE)
meta$condition <- relevel(meta$condition, ref = "A")
cores <- as.integer(args[3])
bp <- if (cores > 1) MulticoreParam(cores) else SerialParam()
t_loaded <- proc.time()[["elapsed"]]
c_loaded <- cpu()
dds <- DESeqDataSetFromMatrix(counts, meta, design = ~condition)
dds <- DESeq(dds, parallel = cores > 1, BPPARAM = bp, quiet = TRUE)
res <- results(dds, contrast = c("condition", "B", "A"), parallel = cores > 1, BPPARAM = bp)
t_done <- proc.time()[["elapsed"]]
c_done <- cpu()
out <- data.frame(gene_id = rownames(res), baseMean = res$baseMean,
                  log2FoldChange = res$log2FoldChange, lfcSE = res$lfcSE, stat = res$stat,
                  pvalue = res$pvalue, padj = res$padj,
                  dispersion = mcols(dds)$dispersion)
write.table(out, args[4], sep = "\t", quote = FALSE, row.names = FALSE)
sf <- data.frame(sample = colnames(dds), size_factor = sizeFactors(dds))
write.table(sf, sub("\\.tsv$", ".size_factors.tsv", args[4]), sep = "\t", quote = FALSE,
            row.names = FALSE)
writeLines(sprintf("%.3f", c(t_done - t_loaded, t_loaded - t_start, c_done - c_loaded)), args[5])
