"""Adapter: per-sample ssGSEA scores: heatmap (samples grouped) and per-group plots."""

from redoxseq.config import read_sample_sheet
from redoxseq.io import read_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots.style import figure_paths, save_figures
from redoxseq.plots.summary import plot_ssgsea_groups, plot_ssgsea_heatmap

setup_logging(snakemake.log[0])
params = snakemake.params
scores = read_tsv(snakemake.input.scores, index_col=None)
groups = params.groups
figure = plot_ssgsea_heatmap(
    scores, read_sample_sheet(snakemake.input.samples), groups, group_by=params.group_by
)
save_figures(figure, figure_paths(snakemake.output, "ssgsea_heatmap"), dpi=params.dpi)
figure = plot_ssgsea_groups(
    scores,
    read_tsv(snakemake.input.comparison, index_col=None),
    groups,
    gene_sets=params.gene_sets,
)
save_figures(figure, figure_paths(snakemake.output, "ssgsea_groups"), dpi=params.dpi)
