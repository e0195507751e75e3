"""Adapter: per-sample ssGSEA scores of the chosen collections on the cohort VST."""

from redoxseq.cohort.scoring import score_cohort, symbol_expression
from redoxseq.enrichment.genesets import read_gmt
from redoxseq.io import read_tsv, write_tsv
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])
expression = symbol_expression(
    read_tsv(snakemake.input.vst, index_col=0),
    read_tsv(snakemake.input.annotation, index_col=None),
)
collections = {name: read_gmt(snakemake.input[name]) for name in snakemake.params.collections}
scores, skipped = score_cohort(
    expression,
    collections,
    method=snakemake.params.method,
    min_size=int(snakemake.params.min_size),
    max_size=int(snakemake.params.max_size),
    threads=int(snakemake.threads),
    seed=int(snakemake.params.seed),
)
write_tsv(scores, snakemake.output.scores, index=False)
write_tsv(skipped, snakemake.output.skipped, index=False)
