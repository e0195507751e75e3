"""Adapter: report pages of one contrast: its results (called genes first) and ORA tables."""

import pandas as pd

from redoxseq.io import read_tsv, write_text
from redoxseq.logs import setup_logging
from redoxseq.plots.tables import RESULT_COLUMNS, html_table_page, ora_table, top_results

setup_logging(snakemake.log[0])
contrast = snakemake.wildcards.contrast
results = read_tsv(snakemake.input.results)
page = html_table_page(
    top_results(results, columns=RESULT_COLUMNS),
    title=f"{contrast}: differential expression",
    description="Called genes first (by adjusted p-value), then the others. log2FoldChange is "
    "the unshrunk estimate; log2FoldChange_shrunk the apeGLM estimate where it applies.",
    tsv_name=f"{contrast}.results.tsv",
    full_table=results.reset_index(),
)
write_text(snakemake.output.results, page)
tables = [
    read_tsv(path, index_col=None).assign(collection=collection)
    for collection, path in zip(snakemake.params.collections, snakemake.input.ora, strict=True)
]
page = html_table_page(
    ora_table(pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()),
    title=f"{contrast}: over-representation of the up and down genes",
    description="Hypergeometric test of each gene set against the tested genes (background); "
    "FDR by Benjamini-Hochberg within each collection and direction. Sorted by p-value.",
    tsv_name=f"{contrast}.ora.tsv",
)
write_text(snakemake.output.ora, page)
