#!/usr/bin/env Rscript
# Build resources/cohort_example/ from DEGreport's humanGender data set (Debian package
# r-bioc-degreport 1.34.0+dfsg-1, file /usr/lib/R/site-library/DEGreport/data/humanGender.rda;
# MIT licence) and the MSigDB 2023.1 human gene ID map (CC BY 4.0; ../shared/data/genesets/
# id_mapping/msigdb_2023.1.Hs_human_gene_id_map.tsv).
#
# Usage (from the repository root):
#   Rscript resources/cohort_example/build_cohort_example.R \
#     <path/to/humanGender.rda> ../shared/data/genesets/id_mapping/msigdb_2023.1.Hs_human_gene_id_map.tsv \
#     resources/cohort_example
# The .rda can be taken from the .deb without installing it:
#   apt-get download r-bioc-degreport && dpkg -x r-bioc-degreport_*.deb x
suppressMessages(library(SummarizedExperiment))
args <- commandArgs(trailingOnly = TRUE)
stopifnot(length(args) == 3)
rda <- args[1]; idmap <- args[2]; outdir <- args[3]
load(rda)  # humanGender: SummarizedExperiment, 10,101 genes x 85 samples
counts <- assay(humanGender)
storage.mode(counts) <- "integer"
info <- as.data.frame(colData(humanGender))
samples <- data.frame(sample = colnames(counts), sex = tolower(as.character(info$group)),
                      library_size = as.integer(info$lib.size))
# Counts: gene_id then samples, tab-separated, gzip (deterministic: no timestamp in the header).
tsv <- file.path(outdir, "counts.tsv")
write.table(data.frame(gene_id = rownames(counts), counts, check.names = FALSE), tsv,
            sep = "\t", quote = FALSE, row.names = FALSE)
system2("gzip", c("-n", "-9", "-f", tsv))
write.table(samples, file.path(outdir, "samples.tsv"), sep = "\t", quote = FALSE,
            row.names = FALSE)
# Gene symbols: the MSigDB map, one symbol per Ensembl ID (the first in the map's order).
map <- read.delim(idmap, stringsAsFactors = FALSE)
map <- map[map$ensembl_gene %in% rownames(counts), c("ensembl_gene", "gene_symbol")]
map <- map[!duplicated(map$ensembl_gene), ]
annotation <- data.frame(gene_id = rownames(counts), stringsAsFactors = FALSE)
annotation$gene_name <- map$gene_symbol[match(annotation$gene_id, map$ensembl_gene)]
annotation$gene_name[is.na(annotation$gene_name)] <- ""
write.table(annotation, file.path(outdir, "genes.tsv"), sep = "\t", quote = FALSE,
            row.names = FALSE)
cat(sprintf("%d genes x %d samples (%s); %d genes with a symbol\n", nrow(counts), ncol(counts),
            paste(names(table(samples$sex)), table(samples$sex), collapse = ", "),
            sum(annotation$gene_name != "")))
