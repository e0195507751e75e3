"""Adapter: GSEA running-sum (enrichment) plot of one gene set in one contrast."""

from redoxseq.enrichment.genesets import read_gmt
from redoxseq.io import read_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots.enrichment import plot_running_sum, ranked_genes
from redoxseq.plots.style import figure_paths, save_figures

setup_logging(snakemake.log[0])
gene_set = snakemake.wildcards.gene_set
ranking = ranked_genes(
    read_tsv(snakemake.input.results, index_col=None),
    read_tsv(snakemake.input.annotation, index_col=None),
    metric=snakemake.params.metric,
)
gsea = read_tsv(snakemake.input.gsea, index_col=None).set_index("gene_set")
row = gsea.loc[gene_set] if gene_set in gsea.index else None
figure = plot_running_sum(
    ranking,
    read_gmt(snakemake.input.gmt)[gene_set],
    gene_set=gene_set,
    contrast=snakemake.wildcards.contrast,
    nes=None if row is None else float(row["nes"]),
    fdr=None if row is None else float(row["fdr"]),
    metric=snakemake.params.metric,
)
save_figures(figure, figure_paths(snakemake.output), dpi=snakemake.params.dpi)
