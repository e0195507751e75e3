"""Adapter: the data's gene symbols against every gene-set collection, before any fit."""

from redoxseq.enrichment.genesets import read_gmt, symbol_coverage
from redoxseq.io import read_tsv, write_tsv
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])

coverage = symbol_coverage(
    {
        name: read_gmt(path)
        for name, path in zip(snakemake.params.collections, snakemake.input.gmts, strict=True)
    },
    read_tsv(snakemake.input.annotation, index_col=None).astype({"gene_id": str}),
    min_fraction=snakemake.params.min_overlap,
    source=snakemake.input.annotation,
)
write_tsv(coverage, snakemake.output.coverage, index=False)
