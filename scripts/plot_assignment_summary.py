"""Adapter: stacked bars of read-assignment categories per sample."""

from redoxseq.io import read_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots.figures import plot_assignment_summary, save_figure

setup_logging(snakemake.log[0])

summary = read_tsv(snakemake.input.summary)
figure = plot_assignment_summary(summary)
save_figure(figure, snakemake.output.figure, dpi=snakemake.params.dpi)
