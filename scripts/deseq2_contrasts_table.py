"""Adapter: every contrast in plain words (coefficients, vector, thresholds, shrinkage)."""

from redoxseq.config import read_sample_sheet
from redoxseq.de.design import preflight
from redoxseq.io import write_tsv
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])

report = preflight(
    read_sample_sheet(snakemake.input.samples),
    snakemake.params.deseq2,
    snakemake.params.contrasts,
)
write_tsv(report.contrasts_table(), snakemake.output.contrasts)
