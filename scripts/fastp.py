"""Snakemake adapter: check one FASTQ unit (names, gzip integrity), then trim it with fastp."""

from pathlib import Path

from redoxseq.align.commands import fastp_command
from redoxseq.align.fastq import check_fastq
from redoxseq.align.tools import log_versions, run
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])
log_versions(["fastp"])
unit = f"{snakemake.wildcards.sample}/{snakemake.wildcards.unit}"
fq2 = snakemake.input.get("fq2")
check_fastq(unit, snakemake.input.fq1, fq2)
out = Path(snakemake.output.trimmed)
out.mkdir(parents=True, exist_ok=True)
command = fastp_command(
    snakemake.input.fq1,
    str(out / ("R1.fastq.gz" if fq2 else "reads.fastq.gz")),
    fq2=fq2,
    out2=str(out / "R2.fastq.gz") if fq2 else None,
    json=snakemake.output.json,
    html=snakemake.output.html,
    threads=snakemake.threads,
    title=unit,
    extra=list(snakemake.params.extra),
)
run(command, stderr_log=Path(snakemake.log[0]))
