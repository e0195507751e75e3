"""Adapter: GSEA running-sum (enrichment) plot of one gene set in one contrast."""

from redoxseq.enrichment.genesets import read_gmt
from redoxseq.io import read_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots.enrichment import running_sum_figure
from redoxseq.plots.style import figure_paths, save_figures

setup_logging(snakemake.log[0])
gene_set = snakemake.wildcards.gene_set
figure = running_sum_figure(
    read_tsv(snakemake.input.results, index_col=None),
    read_tsv(snakemake.input.annotation, index_col=None),
    read_tsv(snakemake.input.gsea, index_col=None),
    read_tsv(snakemake.input.skipped, index_col=None),
    read_gmt(snakemake.input.gmt)[gene_set],
    gene_set=gene_set,
    contrast=snakemake.wildcards.contrast,
    metric=snakemake.params.metric,
)
save_figures(figure, figure_paths(snakemake.output), dpi=snakemake.params.dpi)
