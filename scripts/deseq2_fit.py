"""Adapter: fit the main DESeq2 design once; write the model and the per-design tables."""

import logging

from redoxseq.config import read_sample_sheet
from redoxseq.counting.countmatrix import read_count_table
from redoxseq.de.fit import fit_design
from redoxseq.io import write_tsv
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])
logger = logging.getLogger("deseq2_fit")

model, tables, warnings = fit_design(
    read_count_table(snakemake.input.counts),
    read_sample_sheet(snakemake.input.samples),
    snakemake.params.settings,
    threads=snakemake.threads,
)
for warning in warnings:
    logger.warning("%s", warning)
model.save(snakemake.output.model)
for name, table in tables.items():
    write_tsv(table, snakemake.output[name])
