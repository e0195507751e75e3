"""Snakemake adapter: align one trimmed unit with HISAT2, sort and index it with samtools."""

from pathlib import Path

from redoxseq.align.commands import (
    hisat2_command,
    samtools_index_command,
    samtools_sort_command,
    sort_mem_per_thread_mb,
)
from redoxseq.align.tools import log_versions, run, run_pipe
from redoxseq.io import atomic_path
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])
log_versions(["hisat2", "samtools"])
log = Path(snakemake.log[0])
trimmed = Path(snakemake.input.trimmed)
paired = (trimmed / "R1.fastq.gz").exists()
reads = (
    [trimmed / "R1.fastq.gz", trimmed / "R2.fastq.gz"] if paired else [trimmed / "reads.fastq.gz"]
)
align = hisat2_command(
    snakemake.params.index,
    [str(path) for path in reads],
    threads=snakemake.threads,
    summary=snakemake.output.summary,
    sample=snakemake.wildcards.sample,
    unit=snakemake.wildcards.unit,
    strandedness=snakemake.params.strandedness,
    extra=list(snakemake.params.extra),
)
with atomic_path(snakemake.output.bam) as tmp:
    sort = samtools_sort_command(
        str(tmp),
        threads=snakemake.threads,
        mem_per_thread_mb=sort_mem_per_thread_mb(),
        tmp_prefix=f"{tmp}.sort",
    )
    run_pipe(align, sort, stderr_log=log)
run(samtools_index_command(snakemake.output.bam, threads=snakemake.threads), stderr_log=log)
