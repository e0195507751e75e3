"""Snakemake adapter: one MultiQC report over fastp, HISAT2 and the counting summaries."""

from pathlib import Path

from redoxseq.align.commands import multiqc_command
from redoxseq.align.tools import log_versions, run
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])
log_versions(["multiqc"])
report = Path(snakemake.output.report)
inputs = [*snakemake.input.fastp, *snakemake.input.hisat2, *snakemake.input.counts]
command = multiqc_command(inputs, outdir=str(report.parent), filename=report.name)
run(command, stderr_log=Path(snakemake.log[0]))
