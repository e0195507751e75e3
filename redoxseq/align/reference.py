"""HISAT2 index inputs from a GTF: known splice sites and exons.

The same tables as HISAT2's ``hisat2_extract_splice_sites.py`` and ``hisat2_extract_exons.py``
(which Debian's ``hisat2`` package does not ship): per transcript, exons sorted and merged
where the gap between them is at most 5 bases; a splice site is the last base of one exon and
the first base of the next, 0-based; exons of all transcripts are merged where they overlap.
Rows are ``chrom, left, right, strand``, sorted, written tab-separated without a header.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

Interval = tuple[str, int, int, str]


def _transcripts(gtf_lines: Iterable[str]) -> dict[str, tuple[str, str, list[list[int]]]]:
    """Exons (1-based, inclusive) of each transcript, from the GTF's exon lines."""
    transcripts: dict[str, tuple[str, str, list[list[int]]]] = {}
    for raw in gtf_lines:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != 9 or fields[2] != "exon":
            continue
        left, right = int(fields[3]), int(fields[4])
        if left >= right:
            continue
        attributes: dict[str, str] = {}
        for item in fields[8].split(";"):
            key, _, value = item.strip().partition(" ")
            if key:
                attributes[key] = value.strip('"')
        transcript = attributes.get("transcript_id")
        if "gene_id" not in attributes or transcript is None:
            continue
        if transcript not in transcripts:
            transcripts[transcript] = (fields[0], fields[6], [])
        transcripts[transcript][2].append([left, right])
    for _chrom, _strand, exons in transcripts.values():
        exons.sort()
        merged = [exons[0]]
        for exon in exons[1:]:
            if exon[0] - merged[-1][1] <= 5:
                merged[-1][1] = max(merged[-1][1], exon[1])
            else:
                merged.append(exon)
        exons[:] = merged
    return transcripts


def splice_sites(gtf_lines: Iterable[str]) -> list[Interval]:
    """Known splice junctions for ``hisat2-build --ss``: (chrom, left, right, strand), 0-based.

    ``left`` is the last base of the upstream exon, ``right`` the first base of the downstream
    exon (genome order); each junction once, sorted.
    """
    junctions: set[Interval] = set()
    for chrom, strand, exons in _transcripts(gtf_lines).values():
        for upstream, downstream in itertools.pairwise(exons):
            junctions.add((chrom, upstream[1] - 1, downstream[0] - 1, strand))
    return sorted(junctions)


def exons(gtf_lines: Iterable[str]) -> list[Interval]:
    """Exons for ``hisat2-build --exon``: overlapping exons of all transcripts merged, 0-based."""
    every = sorted(
        {
            (chrom, left, right, strand)
            for chrom, strand, intervals in _transcripts(gtf_lines).values()
            for left, right in intervals
        }
    )
    merged: list[Interval] = []
    for chrom, left, right, strand in every:
        if merged and merged[-1][0] == chrom and left <= merged[-1][2]:
            prev = merged[-1]
            if right > prev[2]:
                keep = prev[3] if prev[3] in "+-" else strand
                merged[-1] = (chrom, prev[1], right, keep)
            continue
        merged.append((chrom, left, right, strand))
    return [(chrom, left - 1, right - 1, strand) for chrom, left, right, strand in merged]


def format_intervals(rows: Iterable[Interval]) -> str:
    """Tab-separated text of (chrom, left, right, strand) rows, one per line."""
    return "".join(f"{chrom}\t{left}\t{right}\t{strand}\n" for chrom, left, right, strand in rows)
