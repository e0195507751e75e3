"""Snakemake adapter: merge per-sample counts into the genes x samples matrix."""

from redoxseq.counting.sample import merge_counts
from redoxseq.io import read_tsv, write_tsv
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])
samples = list(snakemake.params.samples)


def _tables(paths):
    return {s: read_tsv(p) for s, p in zip(samples, paths, strict=True)}


counts, summary, strandedness = merge_counts(
    _tables(snakemake.input.counts),
    _tables(snakemake.input.summaries),
    _tables(snakemake.input.strandedness),
    warn_fraction=snakemake.params.warn_library_fraction,
)
write_tsv(counts, snakemake.output.counts)
write_tsv(summary, snakemake.output.summary)
write_tsv(strandedness, snakemake.output.strandedness)
