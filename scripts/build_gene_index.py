"""Snakemake adapter: parse the GTF once into the gene index and the gene annotation table."""

from redoxseq.counting.annotation import build_gene_index, save_gene_index, write_gene_table
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])
index = build_gene_index(snakemake.input.gtf)
save_gene_index(index, snakemake.output.index)
write_gene_table(index, snakemake.output.annotation)
