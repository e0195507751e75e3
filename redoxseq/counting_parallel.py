"""Driver of the fast (Cython) counting engine, :mod:`redoxseq._counting_fast`.

The engine reads records with htslib directly; pysam opens the file, so CRAM references and
htslib decompression threads (``threads``) are handled by pysam. The result is a
:class:`redoxseq.counting.UnitCounts`, identical to the reference implementation's.
"""

from __future__ import annotations

import ctypes
import logging
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from redoxseq.annotation import GeneIndex
from redoxseq.counting import (
    SUMMARY_CATEGORIES,
    CountOptions,
    PathLike,
    UnitCounts,
    open_alignments,
)
from redoxseq.errors import InputError

logger = logging.getLogger(__name__)

_MULTI = {"none": 0, "all": 1, "fraction": 2}
_OVERLAP = {"ambiguous": 0, "largest": 1, "all": 2}


def flat_segments(
    index: GeneIndex, contig_of_tid: list[str | None]
) -> tuple[npt.NDArray[np.int64], ...]:
    """Concatenate the segments of the BAM's contigs in tid order.

    Returns start, end, ptr (CSR into keys), keys, and per-tid [lo, hi) segment ranges.
    """
    starts: list[npt.NDArray[np.int64]] = []
    ends: list[npt.NDArray[np.int64]] = []
    ptrs: list[npt.NDArray[np.int64]] = []
    keys: list[npt.NDArray[np.int32]] = []
    lo = np.zeros(len(contig_of_tid), dtype=np.int64)
    hi = np.zeros(len(contig_of_tid), dtype=np.int64)
    n_seg = 0
    n_key = 0
    for tid, name in enumerate(contig_of_tid):
        lo[tid] = n_seg
        if name is not None and name in index.contigs:
            segs = index.contigs[name]
            starts.append(segs.start)
            ends.append(segs.end)
            ptrs.append(segs.ptr[:-1] + n_key)
            keys.append(segs.keys)
            n_seg += len(segs.start)
            n_key += len(segs.keys)
        hi[tid] = n_seg
    ptr = np.concatenate([*ptrs, np.array([n_key], dtype=np.int64)]).astype(np.int64)
    return (
        np.concatenate(starts).astype(np.int64) if starts else np.zeros(0, np.int64),
        np.concatenate(ends).astype(np.int64) if ends else np.zeros(0, np.int64),
        ptr,
        np.concatenate(keys).astype(np.int32) if keys else np.zeros(0, np.int32),
        lo,
        hi,
    )


def load_fast_engine() -> ModuleType:
    """Import the Cython engine, making pysam's htslib symbols visible to it first.

    The extension is compiled against pysam's headers but not linked to pysam's shared
    libraries (their build-time paths do not survive pip's isolated builds). Python loads
    extension modules with local symbol scope, so the already-loaded ``libchtslib`` is
    promoted to global scope here; the extension's htslib symbols then resolve against the
    pysam the process actually uses.
    """
    import pysam.libchtslib

    ctypes.CDLL(pysam.libchtslib.__file__, mode=os.RTLD_NOW | os.RTLD_GLOBAL | os.RTLD_NOLOAD)
    import redoxseq._counting_fast as engine

    return engine


def count_fast(
    bam: PathLike,
    index: GeneIndex,
    options: CountOptions,
    contig_of_tid: list[str | None],
    paired: bool,
    *,
    threads: int = 1,
    reference: PathLike | None = None,
) -> UnitCounts:
    """Count one alignment file with the Cython engine (featureCounts mode only)."""
    _counting_fast = load_fast_engine()

    opts: dict[str, Any] = {
        "paired": int(paired),
        "require_both": int(options.require_both_mapped),
        "skip_chimeric": int(options.skip_chimeric),
        "multimapping": _MULTI[options.multimapping],
        "primary_only": int(options.primary_only),
        "min_mapq": options.min_mapq,
        "min_overlap": options.min_overlap,
        "multi_overlap": _OVERLAP[options.multi_overlap],
        "ignore_dup": int(options.ignore_duplicates),
        "drop_qc": int(options.drop_qc_failed),
    }
    start, end, ptr, keys, lo, hi = flat_segments(index, contig_of_tid)
    gene_strand = np.ascontiguousarray(index.gene_strand, dtype=np.int8)
    with open_alignments(bam, reference=reference, threads=threads) as handle:
        sort_order = handle.header.to_dict().get("HD", {}).get("SO", "")
        try:
            counts, summary, same, opposite, n_records = _counting_fast.count_alignment_file(
                handle,
                opts,
                start,
                end,
                ptr,
                keys,
                lo,
                hi,
                gene_strand,
                index.n_genes,
                sort_order == "coordinate",
            )
        except OSError as exc:
            raise InputError(
                f"{Path(bam)}: read error after the last good record ({exc}); the file is "
                "probably truncated or corrupt: re-create it (samtools quickcheck finds this)"
            ) from exc
    assert summary.shape[1] == len(SUMMARY_CATEGORIES)
    logger.info("%s: %d records", bam, n_records)
    return UnitCounts(
        counts=counts,
        summary=summary,
        same_strand=int(same),
        opposite_strand=int(opposite),
        paired=paired,
    )
