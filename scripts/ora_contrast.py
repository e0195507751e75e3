"""Snakemake adapter: over-representation of one contrast's up/down genes in one collection."""

from redoxseq.enrichment.genesets import read_gmt
from redoxseq.enrichment.gsea import ora_contrast
from redoxseq.io import read_tsv, write_tsv
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])
table = ora_contrast(
    read_tsv(snakemake.input.results, index_col=None),
    read_tsv(snakemake.input.up, index_col=None),
    read_tsv(snakemake.input.down, index_col=None),
    read_gmt(snakemake.input.gmt),
    min_size=int(snakemake.params.min_size),
    max_size=int(snakemake.params.max_size),
    min_overlap=float(snakemake.params.min_overlap),
    annotation=read_tsv(snakemake.input.annotation, index_col=None),
    label=str(snakemake.input.gmt),
)
write_tsv(table, snakemake.output.table, index=False)
