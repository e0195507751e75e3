"""Snakemake adapter: count all units (BAMs) of one sample and write its tables."""

from redoxseq.lazy import single_thread_blas

single_thread_blas()  # before NumPy: counting does no linear algebra

from redoxseq.counting.annotation import load_gene_index  # noqa: E402
from redoxseq.counting.sample import (  # noqa: E402
    count_sample,
    options_from_config,
    write_sample_counts,
)
from redoxseq.logs import setup_logging  # noqa: E402

setup_logging(snakemake.log[0])
result = count_sample(
    snakemake.wildcards.sample,
    list(snakemake.input.bams),
    load_gene_index(snakemake.input.index),
    options_from_config(dict(snakemake.params.counting)),
    strandedness=snakemake.params.strandedness,
    units=list(snakemake.params.units),
    threads=snakemake.threads,
    reference=snakemake.params.reference or None,
)
write_sample_counts(
    result,
    snakemake.output.counts,
    snakemake.output.summary,
    snakemake.output.strandedness,
    snakemake.output.units_summary,
)
