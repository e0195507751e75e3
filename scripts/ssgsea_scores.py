"""Snakemake adapter: ssGSEA scores per sample and their comparison for each contrast."""

from redoxseq.enrichment.genesets import read_gmt
from redoxseq.enrichment.gsea import expressed_genes, score_samples
from redoxseq.io import read_tsv, write_tsv
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])
expression_filter = dict(snakemake.params.expression_filter)
expressed = expressed_genes(
    read_tsv(snakemake.input.counts, index_col=0),
    min_count=int(expression_filter["min_count"]),
    min_samples=int(expression_filter["min_samples"]),
)
collections = {name: read_gmt(snakemake.input[name]) for name in snakemake.params.collections}
scores, comparison = score_samples(
    read_tsv(snakemake.input.expression, index_col=0),
    collections,
    dict(snakemake.params.comparisons),
    seed=int(snakemake.params.seed),
    threads=int(snakemake.threads),
    min_size=int(snakemake.params.min_size),
    max_size=int(snakemake.params.max_size),
    min_overlap=float(snakemake.params.min_overlap),
    annotation=read_tsv(snakemake.input.annotation, index_col=None),
    expressed=expressed,
)
write_tsv(scores, snakemake.output.scores, index=False)
write_tsv(comparison, snakemake.output.comparison, index=False)
