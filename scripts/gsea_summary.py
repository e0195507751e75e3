"""Snakemake adapter: NES and FDR of every contrast x gene set in one table (+ skipped sets)."""

from redoxseq.enrichment.gsea import combine_skipped, summarize
from redoxseq.io import read_tsv, write_tsv
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])
keys = [tuple(key) for key in snakemake.params.table_keys]
tables = {
    key: read_tsv(path, index_col=None)
    for key, path in zip(keys, snakemake.input.tables, strict=True)
}
skipped = {
    key: read_tsv(path, index_col=None)
    for key, path in zip(keys, snakemake.input.skipped, strict=True)
}
write_tsv(summarize(tables), snakemake.output.summary, index=False)
write_tsv(combine_skipped(skipped), snakemake.output.skipped, index=False)
