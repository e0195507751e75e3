"""Adapter: DE gene counts, UpSet, genes of interest, GSEA NES, one-page overview."""

import pandas as pd

from redoxseq.io import read_tsv, write_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots.contrasts import lrt_contrasts
from redoxseq.plots.style import figure_paths, save_figures
from redoxseq.plots.summary import called_gene_lists, summary_figures, upset_intersections

setup_logging(snakemake.log[0])
params = snakemake.params
results = {c: read_tsv(p) for c, p in zip(params.contrasts, snakemake.input.results, strict=True)}
lrt = lrt_contrasts(read_tsv(snakemake.input.contrasts))
lists = called_gene_lists(results, lrt=lrt)
figures = summary_figures(
    results,
    pd.concat([read_tsv(p) for p in snakemake.input.summaries]),
    read_tsv(snakemake.input.gsea, index_col=None),
    lists,
    genes_of_interest=params.genes_of_interest,
    gene_sets=params.gene_sets,
    lrt=lrt,
)
for name, figure in figures.items():
    save_figures(figure, figure_paths(snakemake.output, name), dpi=params.dpi)
write_tsv(upset_intersections(lists), snakemake.output.intersections, index=False)
