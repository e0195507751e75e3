"""Command lines of the alignment tools and the resources their jobs ask for.

Commands are argument lists (never shell strings), so that user paths with spaces or shell
characters are passed as they are. Resource estimates turn input sizes into ``mem_mb`` and
``runtime`` (minutes) for the scheduler; the figures behind them are in config/README.md
("Alignment").
"""

from __future__ import annotations

import sys
from typing import Literal

Strandedness = Literal["auto", "none", "forward", "reverse"]

# Versions are asked of each tool with these arguments (the run record does the same).
VERSION_COMMANDS: dict[str, list[str]] = {
    "fastp": ["fastp", "--version"],
    "hisat2": ["hisat2", "--version"],
    "hisat2-build": ["hisat2-build", "--version"],
    "samtools": ["samtools", "--version"],
    "multiqc": [sys.executable, "-m", "multiqc", "--version"],
}
# MultiQC runs with the job's Python (its package is a dependency of redoxseq), so that it
# is found whether or not the environment's bin/ is on PATH.
MULTIQC = [sys.executable, "-m", "multiqc"]


def fastp_command(
    fq1: str,
    out1: str,
    *,
    json: str,
    html: str,
    threads: int,
    title: str,
    fq2: str | None = None,
    out2: str | None = None,
    extra: list[str] | None = None,
) -> list[str]:
    """Command of fastp adapter and quality trimming of one unit (single- or paired-end).

    fastp's defaults: paired-end units are adapter-trimmed by mate overlap (insert shorter
    than the reads), single-end units by adapter sequence auto-detection. Sequence detection
    is not switched on for pairs (``--detect_adapter_for_pe``): on the sample experiment it
    took stretches of highly expressed transcripts for adapters and cut 20-40% of the reads of
    such genes to < 15 bases. Give known adapters with ``alignment.fastp_extra``
    (``--adapter_sequence``, ``--adapter_sequence_r2``).
    """
    command = ["fastp", "--in1", fq1, "--out1", out1]
    if fq2 is not None:
        if out2 is None:
            raise ValueError("a paired-end unit needs out2")
        command += ["--in2", fq2, "--out2", out2]
    command += ["--json", json, "--html", html, "--report_title", title]
    command += ["--thread", str(max(1, threads))]
    return command + list(extra or [])


def hisat2_strandness(strandedness: Strandedness, paired: bool) -> str | None:
    """HISAT2 ``--rna-strandness`` for a library: RF/FR (paired), R/F (single), None if unknown.

    ``reverse`` (dUTP, read 1 antisense) is RF or R; ``forward`` FR or F; ``none`` and
    ``auto`` (not yet detected: detection runs on the aligned reads) give no hint.
    """
    if strandedness == "reverse":
        return "RF" if paired else "R"
    if strandedness == "forward":
        return "FR" if paired else "F"
    return None


def hisat2_command(
    index: str,
    reads: list[str],
    *,
    threads: int,
    summary: str,
    sample: str,
    unit: str,
    strandedness: Strandedness = "auto",
    extra: list[str] | None = None,
) -> list[str]:
    """HISAT2 spliced alignment of one unit to SAM on standard output.

    ``--reorder`` keeps the input order whatever the thread count, so that the sorted BAM
    and every count are the same for any ``threads``. The read group carries sample and unit.
    """
    if len(reads) not in (1, 2):
        raise ValueError(f"a unit has one or two FASTQ files, got {len(reads)}")
    command = ["hisat2", "-x", index]
    if len(reads) == 2:
        command += ["-1", reads[0], "-2", reads[1]]
    else:
        command += ["-U", reads[0]]
    hint = hisat2_strandness(strandedness, paired=len(reads) == 2)
    if hint is not None:
        command += ["--rna-strandness", hint]
    command += ["--threads", str(max(1, threads)), "--reorder"]
    command += ["--new-summary", "--summary-file", summary]
    command += ["--rg-id", f"{sample}.{unit}", "--rg", f"SM:{sample}", "--rg", f"LB:{sample}"]
    command += ["--rg", "PL:ILLUMINA", "--rg", f"PU:{unit}"]
    return command + list(extra or [])


def samtools_sort_command(
    output: str, *, threads: int, mem_per_thread_mb: int, tmp_prefix: str
) -> list[str]:
    """Command of a samtools coordinate sort of SAM on standard input into ``output`` (BAM)."""
    return [
        "samtools",
        "sort",
        "-@",
        str(max(0, threads - 1)),
        "-m",
        f"{max(64, mem_per_thread_mb)}M",
        "-T",
        tmp_prefix,
        "--no-PG",
        "-o",
        output,
        "-",
    ]


def samtools_index_command(bam: str, *, threads: int) -> list[str]:
    """Command of samtools index (``.bai``) of a coordinate-sorted BAM."""
    return ["samtools", "index", "-@", str(max(0, threads - 1)), bam]


def hisat2_build_command(
    fasta: str,
    prefix: str,
    *,
    threads: int,
    splice_sites: str | None = None,
    exons: str | None = None,
) -> list[str]:
    """hisat2-build of a genome FASTA (uncompressed), with known splice sites and exons."""
    command = ["hisat2-build", "-p", str(max(1, threads)), "--seed", "0"]
    if splice_sites:
        command += ["--ss", splice_sites]
    if exons:
        command += ["--exon", exons]
    return [*command, fasta, prefix]


# --- resources ------------------------------------------------------------------------------
# HISAT2 manual (2.2.1): building an index of a human-sized genome needs about 8 GB without
# splice sites/exons and about 160-200 GB with them (graph index); the finished index of the
# human genome is about 4.4 GB (genome only) and aligning needs about that much memory plus
# buffers. Estimates scale those figures linearly with the genome size.
HUMAN_GENOME_BASES = 3_100_000_000
_BUILD_MB_PLAIN = 8_000
_BUILD_MB_ANNOTATED = 200_000


def hisat2_build_mem_mb(genome_bases: int, *, annotated: bool) -> int:
    """Memory (MB) to build a HISAT2 index: the manual's human figure scaled by genome size."""
    per_base = (_BUILD_MB_ANNOTATED if annotated else _BUILD_MB_PLAIN) / HUMAN_GENOME_BASES
    return max(2_000, int(genome_bases * per_base * 1.2))


def hisat2_build_runtime_min(genome_bases: int, *, annotated: bool, threads: int) -> int:
    """Wall time (minutes) to build an index, scaled by genome size and threads.

    About 1 h (genome only) or 2 h (with splice sites and exons) per human genome at 8 threads.
    """
    hours_per_human = 2.0 if annotated else 1.0
    scale = genome_bases / HUMAN_GENOME_BASES * 8 / max(1, min(threads, 8))
    return max(10, int(60 * hours_per_human * scale * 1.5))


def hisat2_align_mem_mb(index_mb: float, *, threads: int) -> int:
    """Memory (MB) of an alignment job: the index, HISAT2's per-thread buffers, samtools sort."""
    return int(max(2_000, 1.2 * index_mb + 200 * threads + sort_mem_per_thread_mb() * threads))


def sort_mem_per_thread_mb() -> int:
    """Memory samtools sort may use per thread (``-m``), MB."""
    return 768


def align_runtime_min(reads_mb: float, *, threads: int) -> int:
    """Wall time (minutes) of trimming or aligning a unit from its gzipped FASTQ size.

    HISAT2 aligns about 100 million read pairs per hour on 8 threads; a gzipped pair is
    about 60 bytes; doubled for safety.
    """
    pairs = reads_mb * 1e6 / 60
    hours = pairs / 100e6 * 8 / max(1, min(threads, 16))
    return max(10, int(120 * hours))


def align_threads(reads_mb: float, max_threads: int) -> int:
    """Threads for an alignment job: 1 up to 50 MB of FASTQ, then 1 more per 50 MB."""
    return max(1, min(max_threads, 1 + int(reads_mb // 50)))


def multiqc_command(inputs: list[str], *, outdir: str, filename: str) -> list[str]:
    """MultiQC over the given QC files only (no directory search), offline, overwriting.

    The parsed data go to ``<outdir>/<filename stem>_data``.
    """
    return [
        *MULTIQC,
        "--force",
        "--no-version-check",
        "--no-ai",
        "--title",
        "redoxseq",
        "--outdir",
        outdir,
        "--filename",
        filename,
        *inputs,
    ]
