"""Adapter: blind VST of every sample of the cohort count matrix."""

from redoxseq.cohort.vst import blind_vst
from redoxseq.io import read_tsv, write_tsv
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])
counts = read_tsv(snakemake.input.counts, index_col=0)
write_tsv(blind_vst(counts, threads=int(snakemake.threads)), snakemake.output.vst)
