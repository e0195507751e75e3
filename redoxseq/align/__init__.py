"""Reads to alignments: FASTQ checks, HISAT2 index inputs, tool command lines and resources.

The FASTQ route of the workflow (``workflow/rules/align.smk``) trims each unit with fastp,
aligns it with HISAT2 and sorts/indexes it with samtools; counting then treats the result
exactly like a BAM given in the units sheet. This package holds the science and the command
construction; the external tools are run by the adapters in ``scripts/``. Importing it is
light (standard library only).
"""
