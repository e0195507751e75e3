"""Adapter: DE gene counts, UpSet, genes of interest, GSEA NES, one-page overview."""

import pandas as pd

from redoxseq.io import read_tsv, write_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots.contrasts import lrt_contrasts
from redoxseq.plots.style import figure_paths, save_figures
from redoxseq.plots.summary import summary_figures, upset_intersections

setup_logging(snakemake.log[0])
params = snakemake.params
names = params.contrasts
lists = {}
for name, up, down in zip(names, snakemake.input.up, snakemake.input.down, strict=True):
    lists |= {f"{name} up": set(read_tsv(up).index), f"{name} down": set(read_tsv(down).index)}
figures = summary_figures(
    {c: read_tsv(p) for c, p in zip(names, snakemake.input.results, strict=True)},
    pd.concat([read_tsv(p) for p in snakemake.input.summaries]),
    read_tsv(snakemake.input.gsea, index_col=None),
    lists,
    genes_of_interest=params.genes_of_interest,
    gene_sets=params.gene_sets,
    lrt=lrt_contrasts(read_tsv(snakemake.input.contrasts)),
)
for name, figure in figures.items():
    save_figures(figure, figure_paths(snakemake.output, name), dpi=params.dpi)
write_tsv(upset_intersections(lists), snakemake.output.intersections, index=False)
