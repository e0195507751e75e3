"""Snakemake adapter: GSEA prerank of one contrast on one gene-set collection."""

from redoxseq.enrichment.genesets import read_gmt
from redoxseq.enrichment.gsea import gsea_contrast
from redoxseq.io import read_tsv, write_tsv
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])
outcome = gsea_contrast(
    read_tsv(snakemake.input.results, index_col=None),
    read_gmt(snakemake.input.gmt),
    seed=int(snakemake.params.seed),
    metric=snakemake.params.metric,
    threads=int(snakemake.threads),
    min_size=int(snakemake.params.min_size),
    max_size=int(snakemake.params.max_size),
    permutations=int(snakemake.params.permutations),
    eps=float(snakemake.params.eps),
    min_overlap=float(snakemake.params.min_overlap),
    annotation=read_tsv(snakemake.input.annotation, index_col=None),
    label=str(snakemake.input.gmt),
)
write_tsv(outcome.results, snakemake.output.table, index=False)
write_tsv(outcome.skipped, snakemake.output.skipped, index=False)
