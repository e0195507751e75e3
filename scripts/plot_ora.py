"""Adapter: dot plot of the over-representation results of one contrast (all collections)."""

import pandas as pd

from redoxseq.io import read_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots.enrichment import plot_ora
from redoxseq.plots.style import figure_paths, save_figures

setup_logging(snakemake.log[0])
tables = [
    read_tsv(path, index_col=None).assign(collection=collection)
    for collection, path in zip(snakemake.params.collections, snakemake.input.tables, strict=True)
]
figure = plot_ora(pd.concat(tables, ignore_index=True), contrast=snakemake.wildcards.contrast)
save_figures(figure, figure_paths(snakemake.output), dpi=snakemake.params.dpi)
