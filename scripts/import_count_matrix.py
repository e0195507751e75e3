"""Adapter: validate a user count matrix; write the counting stage's two tables from it."""

from redoxseq.counting.countmatrix import import_count_matrix
from redoxseq.de.fit import read_samples
from redoxseq.io import write_tsv
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])

samples = read_samples(snakemake.input.samples)
counts, annotation = import_count_matrix(
    snakemake.input.matrix,
    list(samples.index),
    gtf=snakemake.input.get("gtf") or None,
    annotation_table=snakemake.input.get("annotation_table") or None,
)
write_tsv(counts, snakemake.output.counts)
write_tsv(annotation, snakemake.output.annotation)
