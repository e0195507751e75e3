"""Adapter: dot plot of NES and FDR for every contrast x gene set."""

from redoxseq.io import read_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots.figures import plot_gsea_summary, save_figure

setup_logging(snakemake.log[0])

summary = read_tsv(snakemake.input.summary, index_col=None)
figure = plot_gsea_summary(summary)
save_figure(figure, snakemake.output.figure, dpi=snakemake.params.dpi)
