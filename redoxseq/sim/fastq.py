"""FASTQ files of the simulated sample experiment: the reads of its BAMs, as sequenced.

Each sample's BAM holds every simulated fragment once as a primary pair (mapped, singleton or
unmapped), so the sequenced reads are recovered exactly: the primary record of each mate,
reverse-complemented back when it was aligned to the reverse strand. Read 1 and read 2 go to
``fastq/<sample>_R1.fastq.gz`` and ``_R2.fastq.gz`` in fragment order (the names in the BAM),
with a constant base quality (the simulation has no sequencing errors) and gzip headers
without a time stamp: the bytes depend only on the BAMs, which depend only on the seed.

``python -m redoxseq.simulate --fastq`` writes them next to the BAMs (they are not committed,
to keep the repository small); ``setup.sh`` runs it once.
"""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import pandas as pd

from redoxseq.io import atomic_path, write_tsv

logger = logging.getLogger(__name__)

QUALITY = "I"  # Phred 40
FASTQ_PATH_IN_UNITS = "resources/sample_experiment/fastq/{sample}_R{mate}.fastq.gz"
_COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")


def _reads(bam: Path) -> list[tuple[int, str, str]]:
    """(fragment rank, read 1, read 2) of every fragment of a simulated BAM, in rank order."""
    import pysam

    mates: dict[str, list[str]] = {}
    with pysam.AlignmentFile(str(bam), "rb", check_sq=False) as handle:
        for record in handle.fetch(until_eof=True):
            if record.is_secondary or record.is_supplementary:
                continue
            seq = record.query_sequence or ""
            if record.is_reverse:
                seq = seq.translate(_COMPLEMENT)[::-1]
            pair = mates.setdefault(record.query_name or "", ["", ""])
            pair[0 if record.is_read1 else 1] = seq
    rows = [(int(name, 16), r1, r2) for name, (r1, r2) in mates.items()]
    missing = [rank for rank, r1, r2 in rows if not r1 or not r2]
    if missing:
        raise ValueError(f"{bam}: {len(missing)} fragments lack a primary mate record")
    return sorted(rows)


def _write(path: Path, reads: list[tuple[int, str, str]], mate: int, sample: str) -> None:
    lines = []
    for rank, r1, r2 in reads:
        seq = r1 if mate == 1 else r2
        lines.append(f"@{sample}.{rank:x} {mate}:N:0:1\n{seq}\n+\n{QUALITY * len(seq)}\n")
    data = "".join(lines).encode("ascii")
    with (
        atomic_path(path) as tmp,
        open(tmp, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as out,
    ):
        out.write(data)


def write_fastq(outdir: str | Path, samples: list[str]) -> pd.DataFrame:
    """Write paired gzipped FASTQ of each sample's BAM in ``outdir/bams``; return the units.

    Parameters
    ----------
    outdir
        Sample-experiment folder holding ``bams/<sample>.bam``.
    samples
        Sample names, in sheet order.

    Returns
    -------
    pandas.DataFrame
        The units sheet of the FASTQ route (``sample, unit, fq1, fq2``), also written to
        ``outdir/units_fastq.tsv``.
    """
    out = Path(outdir)
    for sample in samples:
        reads = _reads(out / "bams" / f"{sample}.bam")
        for mate in (1, 2):
            _write(out / "fastq" / f"{sample}_R{mate}.fastq.gz", reads, mate, sample)
        logger.info("%s: %d read pairs written as FASTQ", sample, len(reads))
    units = pd.DataFrame(
        {
            "sample": samples,
            "unit": "1",
            "fq1": [FASTQ_PATH_IN_UNITS.format(sample=s, mate=1) for s in samples],
            "fq2": [FASTQ_PATH_IN_UNITS.format(sample=s, mate=2) for s in samples],
        }
    )
    write_tsv(units, out / "units_fastq.tsv", index=False)
    return units
