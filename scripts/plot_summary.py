"""Adapter: figures across contrasts: DE gene counts, UpSet, genes of interest, GSEA NES,
and the one-page overview."""

import pandas as pd

from redoxseq.io import read_tsv, write_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots.contrasts import lrt_contrasts
from redoxseq.plots.enrichment import plot_gsea_nes
from redoxseq.plots.style import figure_paths, save_figures
from redoxseq.plots.summary import (
    plot_de_gene_counts,
    plot_genes_of_interest,
    plot_overview,
    plot_upset,
    upset_intersections,
)

setup_logging(snakemake.log[0])
params = snakemake.params
names = params.contrasts
results = {c: read_tsv(p) for c, p in zip(names, snakemake.input.results, strict=True)}
summaries = pd.concat([read_tsv(p) for p in snakemake.input.summaries])
lrt = lrt_contrasts(read_tsv(snakemake.input.contrasts))
gsea = read_tsv(snakemake.input.gsea, index_col=None)
lists = {}
for name, up, down in zip(names, snakemake.input.up, snakemake.input.down, strict=True):
    lists[f"{name} up"] = set(read_tsv(up).index.astype(str))
    lists[f"{name} down"] = set(read_tsv(down).index.astype(str))
figures = {
    "de_gene_counts": plot_de_gene_counts(summaries),
    "de_genes_upset": plot_upset(lists, title="Genes called per contrast and direction"),
    "genes_of_interest": plot_genes_of_interest(results, params.genes_of_interest, lrt=lrt),
    "gsea_nes": plot_gsea_nes(gsea, always=params.gene_sets),
    "overview": plot_overview(
        summaries,
        gsea,
        results,
        gene_sets=params.gene_sets,
        genes=params.genes_of_interest,
        lrt=lrt,
    ),
}
for name, figure in figures.items():
    save_figures(figure, figure_paths(snakemake.output, name), dpi=params.dpi)
write_tsv(upset_intersections(lists), snakemake.output.intersections, index=False)
