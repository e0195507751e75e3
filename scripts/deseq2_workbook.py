"""Adapter: Excel workbook of the significant genes of every contrast (for bench scientists)."""

from redoxseq.de.workbook import run_workbook
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])

run_workbook(
    results_paths=dict(zip(snakemake.params.contrasts, snakemake.input.results, strict=True)),
    summary_paths=dict(zip(snakemake.params.contrasts, snakemake.input.summaries, strict=True)),
    path=snakemake.output.workbook,
)
