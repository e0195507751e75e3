"""Adapter: report pages of one contrast: its results (called genes first) and ORA tables."""

import pandas as pd

from redoxseq.io import read_tsv, write_text
from redoxseq.logs import setup_logging
from redoxseq.plots.tables import contrast_pages

setup_logging(snakemake.log[0])
tables = [
    read_tsv(path, index_col=None).assign(collection=collection)
    for collection, path in zip(snakemake.params.collections, snakemake.input.ora, strict=True)
]
pages = contrast_pages(
    read_tsv(snakemake.input.results),
    pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(),
    contrast=snakemake.wildcards.contrast,
)
write_text(snakemake.output.results, pages["results"])
write_text(snakemake.output.ora, pages["ora"])
