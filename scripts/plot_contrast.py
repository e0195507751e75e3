"""Adapter: volcano and MA plots of one contrast at its own calling thresholds."""

import logging

from redoxseq.io import read_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots import plot_ma, plot_volcano, save_figure

setup_logging(snakemake.log[0])
logger = logging.getLogger("plot_contrast")

contrast = snakemake.wildcards.contrast
results = read_tsv(snakemake.input.results)
summary = read_tsv(snakemake.input.summary, index_col=None).iloc[0]
padj_cutoff = float(summary["padj_cutoff"])
lfc_cutoff = float(summary["lfc_cutoff"])
logger.info("%s: padj < %g, |log2FC| > %g", contrast, padj_cutoff, lfc_cutoff)

volcano = plot_volcano(
    results,
    contrast=contrast,
    padj_cutoff=padj_cutoff,
    lfc_cutoff=lfc_cutoff,
    label_top=snakemake.params.label_top,
)
save_figure(volcano, snakemake.output.volcano, dpi=snakemake.params.dpi)
ma = plot_ma(results, contrast=contrast, padj_cutoff=padj_cutoff, lfc_cutoff=lfc_cutoff)
save_figure(ma, snakemake.output.ma, dpi=snakemake.params.dpi)
