"""Adapter: volcano and MA plots of one contrast at its own calling thresholds."""

import logging

from redoxseq.enrichment.genesets import genes_in_sets
from redoxseq.io import read_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots.figures import plot_ma, plot_volcano, save_figure

setup_logging(snakemake.log[0])
logger = logging.getLogger("plot_contrast")

contrast = snakemake.wildcards.contrast
results = read_tsv(snakemake.input.results)
summary = read_tsv(snakemake.input.summary).iloc[0]


def _cutoff(name):
    value = float(summary[name])
    return value if value == value else None  # NaN: cutoff not used


highlight_sets = snakemake.params.highlight_sets
highlight = genes_in_sets(snakemake.input.gmts, highlight_sets)
logger.info("%s: called at %s", contrast, summary["significance"])
volcano = plot_volcano(
    results,
    contrast=contrast,
    significance=str(summary["significance"]),
    padj_cutoff=_cutoff("padj_cutoff"),
    pvalue_cutoff=_cutoff("pvalue_cutoff"),
    lfc_cutoff=float(summary["log2fc_cutoff"]),
    label_top=snakemake.params.label_top,
    highlight=highlight,
    highlight_label=", ".join(highlight_sets),
)
save_figure(volcano, snakemake.output.volcano, dpi=snakemake.params.dpi)
save_figure(plot_ma(results, contrast=contrast), snakemake.output.ma, dpi=snakemake.params.dpi)
