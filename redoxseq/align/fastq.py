"""FASTQ integrity checks run before trimming: record syntax, mate names, truncated gzip.

fastp and HISAT2 do not compare the names of mates, and a gzip file cut short in a transfer
often decompresses to a plausible prefix; both silently produce wrong counts downstream. The
checks here read every record once (at gzip speed) and stop with an error naming the unit,
the file and the record.
"""

from __future__ import annotations

import gzip
import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from redoxseq.errors import InputError

logger = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class FastqStats:
    """What one unit's FASTQ check found.

    Attributes
    ----------
    reads
        Records per file (pairs for paired-end units).
    paired
        Whether the unit has a second file.
    max_length
        Longest read seen, in bases.
    """

    reads: int
    paired: bool
    max_length: int


def _open(path: Path) -> IO[bytes]:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == _GZIP_MAGIC:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def mate_name(header: bytes) -> bytes:
    """Read name of a FASTQ header line as mates share it.

    Drops the leading ``@``, everything after the first whitespace (Illumina's ``1:N:0:...``
    comment) and a trailing ``/1`` or ``/2``.
    """
    name = header[1:].split(maxsplit=1)[0] if header[1:].strip() else b""
    if name.endswith((b"/1", b"/2")):
        name = name[:-2]
    return name


def _records(handle: IO[bytes], path: Path, unit: str) -> Iterator[tuple[bytes, int]]:
    """Yield (mate name, read length) of each record; raise InputError on bad syntax."""
    number = 0
    try:
        while True:
            header = handle.readline()
            if not header:
                return
            number += 1
            seq = handle.readline().rstrip(b"\r\n")
            plus = handle.readline()
            qual = handle.readline().rstrip(b"\r\n")
            if not header.startswith(b"@") or not plus.startswith(b"+"):
                raise InputError(
                    f"unit {unit}: {path}: record {number} (line {4 * number - 3}) is not a "
                    f"FASTQ record (header {header[:40]!r}); expected '@name', sequence, '+', "
                    "qualities on four lines"
                )
            if len(seq) != len(qual):
                raise InputError(
                    f"unit {unit}: {path}: record {number} ({header.strip()[:40]!r}) has "
                    f"{len(seq)} bases but {len(qual)} qualities; the file is truncated or "
                    "corrupt"
                )
            yield mate_name(header), len(seq)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(
            f"unit {unit}: {path}: the gzip stream ends or breaks after record {number} "
            f"({exc}); the file is truncated or corrupt: copy it again from the source and "
            "compare its checksum"
        ) from None


def check_fastq(unit: str, fq1: str | Path, fq2: str | Path | None = None) -> FastqStats:
    """Read a unit's FASTQ file(s) once; stop on truncation, bad records or unpaired mates.

    Parameters
    ----------
    unit
        ``sample/unit`` label used in error messages.
    fq1, fq2
        Read 1 (or the only file) and read 2 of a paired-end unit; plain or gzipped.

    Returns
    -------
    FastqStats
        Number of records (pairs), whether paired, and the longest read.

    Raises
    ------
    InputError
        Naming the unit, the file and the record: a truncated or corrupt gzip file, a record
        that is not four FASTQ lines, mates whose names differ, or files with different
        numbers of records.
    """
    first = Path(fq1)
    second = Path(fq2) if fq2 else None
    for path in (first, second):
        if path is not None and not path.is_file():
            raise InputError(f"unit {unit}: FASTQ file {path} not found")
    reads = 0
    longest = 0
    with _open(first) as h1:
        if second is None:
            for _name, length in _records(h1, first, unit):
                reads += 1
                longest = max(longest, length)
        else:
            with _open(second) as h2:
                it1 = _records(h1, first, unit)
                it2 = _records(h2, second, unit)
                while True:
                    r1 = next(it1, None)
                    r2 = next(it2, None)
                    if r1 is None or r2 is None:
                        if r1 is not None or r2 is not None:
                            short = second if r2 is None else first
                            raise InputError(
                                f"unit {unit}: {short} ends after {reads} records while its "
                                "mate file has more; the two files of a pair must hold the "
                                "same reads in the same order (truncated file?)"
                            )
                        break
                    reads += 1
                    if r1[0] != r2[0]:
                        raise InputError(
                            f"unit {unit}: mates differ at record {reads}: "
                            f"{r1[0].decode(errors='replace')!r} in {first} but "
                            f"{r2[0].decode(errors='replace')!r} in {second}; fq1 and fq2 "
                            "must list the same reads in the same order (files from two "
                            "different runs, or one of them re-sorted?)"
                        )
                    longest = max(longest, r1[1], r2[1])
    if reads == 0:
        raise InputError(f"unit {unit}: {first} holds no reads")
    logger.info(
        "unit %s: %d %s checked (longest read %d bases)",
        unit,
        reads,
        "pairs" if second else "reads",
        longest,
    )
    return FastqStats(reads=reads, paired=second is not None, max_length=longest)
