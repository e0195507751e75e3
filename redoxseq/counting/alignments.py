"""Opening alignment files (BAM/SAM/CRAM) and matching their contig names to the annotation."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redoxseq.counting.annotation import GeneIndex
from redoxseq.counting.types import (
    F_PAIRED,
    PathLike,
)
from redoxseq.errors import InputError

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------
# Opening files, contig names
# ---------------------------------------------------------------------------------------


def open_alignments(path: PathLike, *, reference: PathLike | None = None, threads: int = 1) -> Any:
    """Open a BAM/SAM/CRAM file with pysam; clear errors for missing files and references.

    Raises
    ------
    InputError
        The file is missing or unreadable, or a CRAM file is given without the reference
        FASTA it needs (``annotation.genome_fasta`` / ``--reference``).
    """
    import pysam

    file = Path(path)
    if not file.exists():
        raise InputError(
            f"{file}: alignment file not found; check the path (the 'bam' column of the units "
            "sheet, config/units.tsv)"
        )
    is_cram = file.suffix.lower() == ".cram"
    if is_cram and not reference:
        raise InputError(
            f"{file}: CRAM files can only be decoded with the reference FASTA they were made "
            "with; set annotation.genome_fasta in the config (or --reference on the command line)"
        )
    if reference and not Path(reference).exists():
        raise InputError(f"{reference}: reference FASTA not found (needed to decode {file})")
    kwargs: dict[str, Any] = {"threads": max(1, threads)}
    if is_cram:
        kwargs["reference_filename"] = str(reference)
    try:
        save = pysam.set_verbosity(0)
        try:
            handle = pysam.AlignmentFile(str(file), "r", check_sq=False, **kwargs)
        finally:
            pysam.set_verbosity(save)
    except (ValueError, OSError) as exc:
        raise InputError(f"{file}: cannot be read as BAM/SAM/CRAM ({exc})") from exc
    return handle


def _auto_alias(name: str) -> list[str]:
    out: list[str] = []
    if name.startswith("chr"):
        out.append(name[3:])
        if name == "chrM":
            out.append("MT")
    else:
        out.append("chr" + name)
        if name == "MT":
            out.append("chrM")
    return out


def resolve_contigs(
    bam_contigs: Sequence[str],
    index: GeneIndex,
    aliases: dict[str, str] | None,
    *,
    bam_name: str = "BAM",
) -> list[str | None]:
    """Map each BAM contig (by tid) to an annotation contig name, or ``None``.

    ``aliases`` maps annotation contig names to BAM contig names (featureCounts ``-A``);
    the special entry ``"*": "auto"`` also adds or strips a ``chr`` prefix (``chrM``/``MT``),
    as featureCounts does by itself.

    Raises
    ------
    InputError
        The BAM and the annotation share no contig name; the message shows examples of each.
    """
    ann = set(index.contigs)
    by_bam: dict[str, str] = {}
    if aliases and aliases.get("*") == "auto":
        for name in ann:
            for alt in _auto_alias(name):
                by_bam.setdefault(alt, name)
    for ann_name, bam_contig in (aliases or {}).items():
        if ann_name != "*":
            by_bam[bam_contig] = ann_name
    out: list[str | None] = []
    for contig in bam_contigs:
        if contig in ann:
            out.append(contig)
        else:
            out.append(by_bam.get(contig))
    if bam_contigs and ann and not any(out):
        raise InputError(
            f"{bam_name} and the annotation {index.source} share no contig name: the BAM has "
            f"{', '.join(list(bam_contigs)[:5])}, the annotation has "
            f"{', '.join(sorted(ann)[:5])}. If they differ only by a 'chr' prefix set "
            "counting.chrom_aliases: auto (command line: --chrom-aliases auto), or give a "
            "two-column file 'annotation_name,bam_name'."
        )
    missing = [c for c, r in zip(bam_contigs, out, strict=True) if r is None]
    if missing and any(out):
        logger.info(
            "%s: %d contigs have no annotated exon (e.g. %s)",
            bam_name,
            len(missing),
            ", ".join(missing[:3]),
        )
    return out


def read_alias_file(path: PathLike) -> dict[str, str]:
    """Read a featureCounts ``-A`` alias file (``annotation_name,bam_name`` per line)."""
    file = Path(path)
    if str(path) == "auto":
        return {"*": "auto"}
    if not file.exists():
        raise InputError(f"{file}: chromosome alias file not found")
    out: dict[str, str] = {}
    for lineno, line in enumerate(file.read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.replace("\t", ",").split(",")]
        if len(parts) < 2:
            raise InputError(
                f"{file}, line {lineno}: expected 'annotation_name,bam_name', got {line!r}"
            )
        out[parts[0]] = parts[1]
    return out


def detect_paired(handle: Any, n: int = 1000) -> bool:
    """True if any of the first ``n`` records carries the paired flag (0x1)."""
    for i, read in enumerate(handle.fetch(until_eof=True)):
        if read.flag & F_PAIRED:
            return True
        if i >= n:
            break
    return False
