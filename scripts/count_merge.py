"""Snakemake adapter: merge per-sample counts into the genes x samples matrix."""

from redoxseq.counting.sample import merge_counts
from redoxseq.io import write_tsv
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])
samples = list(snakemake.params.samples)
counts, summary, strandedness = merge_counts(
    dict(zip(samples, snakemake.input.counts, strict=True)),
    dict(zip(samples, snakemake.input.summaries, strict=True)),
    dict(zip(samples, snakemake.input.strandedness, strict=True)),
)
write_tsv(counts, snakemake.output.counts)
write_tsv(summary, snakemake.output.summary)
write_tsv(strandedness, snakemake.output.strandedness)
