"""Driver of the fast (Cython) counting engine, :mod:`redoxseq.counting._counting_fast`.

The engine reads records with htslib directly; pysam opens the file, so CRAM references and
htslib decompression threads (``threads``) are handled by pysam. The result is a
:class:`redoxseq.counting.types.UnitCounts`, identical to the reference implementation's.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from redoxseq.counting.alignments import open_alignments
from redoxseq.counting.annotation import GeneIndex
from redoxseq.counting.types import SUMMARY_CATEGORIES, CountOptions, PathLike, UnitCounts
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
    import redoxseq.counting._counting_fast as engine

    return engine


#: Regions per process when a BAM is split (load balance against per-region overhead).
REGIONS_PER_PROCESS = 4
#: Smaller files are counted in one pass (with decompression threads): starting the process
#: pool costs ~0.25 s, more than counting a few-MB BAM takes (benchmarks/README.md, "Fixed
#: costs"). Counts are identical either way.
SPLIT_MIN_BYTES = 16 * 2**20

Region = tuple[int, int, int]

# the engine's arguments in a worker process (set once by the pool initializer)
_WORKER: dict[str, Any] = {}


def _engine_options(options: CountOptions, paired: bool) -> dict[str, Any]:
    return {
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


def plan_regions(handle: Any, n_regions: int) -> list[Region]:
    """Split an indexed BAM into about ``n_regions`` regions of similar record counts.

    Returns (tid, start, end) tuples, 0-based half-open, that partition every contig holding
    records, plus (-1, 0, 0) for the unplaced unmapped reads at the end of the file.
    """
    stats = handle.get_index_statistics()
    total = sum(s.total for s in stats) or 1
    per_region = max(1, total // max(1, n_regions))
    regions: list[Region] = []
    for s in stats:
        if s.total == 0:
            continue
        tid = handle.get_tid(s.contig)
        length = handle.get_reference_length(s.contig)
        pieces = max(1, min(-(-s.total // per_region), length // 10_000 or 1))
        cuts = [length * i // pieces for i in range(pieces)] + [length + (1 << 30)]
        regions.extend((tid, cuts[i], cuts[i + 1]) for i in range(pieces))
    if handle.nocoordinate:
        regions.append((-1, 0, 0))
    return regions


def _init_worker(
    bam: str, reference: str | None, opts: dict[str, Any], arrays: tuple[Any, ...], n_genes: int
) -> None:
    _WORKER.update(bam=bam, reference=reference, opts=opts, arrays=arrays, n_genes=n_genes)


def _count_region(region: Region) -> tuple[Any, ...]:
    engine = load_fast_engine()
    w = _WORKER
    with open_alignments(w["bam"], reference=w["reference"], threads=1) as handle:
        try:
            return engine.count_alignment_file(
                handle, w["opts"], *w["arrays"], w["n_genes"], True, region
            )
        except OSError as exc:
            raise InputError(_truncated(w["bam"], exc)) from exc


def _truncated(bam: PathLike, exc: BaseException) -> str:
    return (
        f"{Path(bam)}: read error after the last good record ({exc}); the file is probably "
        "truncated or corrupt: re-create it (samtools quickcheck finds this)"
    )


def _file_size(path: PathLike) -> int:
    """Size of a local file in bytes; a URL or a stream counts as large."""
    try:
        return Path(path).stat().st_size
    except OSError:
        return SPLIT_MIN_BYTES


def count_fast(
    bam: PathLike,
    index: GeneIndex,
    options: CountOptions,
    contig_of_tid: list[str | None],
    paired: bool,
    *,
    threads: int = 1,
    reference: PathLike | None = None,
    regions_per_process: int | None = None,
) -> UnitCounts:
    """Count one alignment file with the Cython engine (featureCounts mode only).

    With ``threads`` > 1 and a coordinate-sorted, indexed file of at least
    :data:`SPLIT_MIN_BYTES`, the file is split into
    regions counted by ``threads`` processes; paired records whose mate lies in another
    region come back to this process and are paired (or counted as single ends) here, so the
    result is identical to one sequential pass. Otherwise one sequential pass with ``threads``
    htslib decompression threads. ``regions_per_process`` defaults to
    :data:`REGIONS_PER_PROCESS`.
    """
    engine = load_fast_engine()
    opts = _engine_options(options, paired)
    start, end, ptr, keys, lo, hi = flat_segments(index, contig_of_tid)
    gene_strand = np.ascontiguousarray(index.gene_strand, dtype=np.int8)
    arrays = (start, end, ptr, keys, lo, hi, gene_strand)
    with open_alignments(bam, reference=reference, threads=threads) as handle:
        sort_order = handle.header.to_dict().get("HD", {}).get("SO", "")
        indexed = handle.has_index() if hasattr(handle, "has_index") else False
        regions: list[Region] = []
        small = _file_size(bam) < SPLIT_MIN_BYTES
        if threads > 1 and small:
            logger.info(
                "%s: smaller than %d MiB; counting in one pass with %d decompression threads",
                bam,
                SPLIT_MIN_BYTES // 2**20,
                threads,
            )
        elif threads > 1 and sort_order == "coordinate" and indexed:
            regions = plan_regions(handle, threads * (regions_per_process or REGIONS_PER_PROCESS))
        elif threads > 1:
            logger.info(
                "%s: %s; counting in one pass with %d decompression threads (a "
                "coordinate-sorted BAM with an index, samtools sort + samtools index, is split "
                "over %d processes)",
                bam,
                "not indexed" if sort_order == "coordinate" else f"sort order {sort_order!r}",
                threads,
                threads,
            )
        if len(regions) < 2:
            try:
                counts, summary, same, opposite, n_records, _ = engine.count_alignment_file(
                    handle, opts, *arrays, index.n_genes, sort_order == "coordinate"
                )
            except OSError as exc:
                raise InputError(_truncated(bam, exc)) from exc
            return _result(counts, summary, same, opposite, paired, bam, n_records)
    counts = np.zeros((3, index.n_genes), dtype=np.float64)
    summary = np.zeros((3, len(SUMMARY_CATEGORIES)), dtype=np.int64)
    same = opposite = n_records = 0
    leftovers: list[dict[bytes, bytes]] = []
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with context.Pool(
        processes=min(threads, len(regions)),
        initializer=_init_worker,
        initargs=(str(bam), str(reference) if reference else None, opts, arrays, index.n_genes),
    ) as pool:
        # results in region order: sums (fractional counts) do not depend on timing
        for part in pool.imap(_count_region, regions):
            counts += part[0]
            summary += part[1]
            same += part[2]
            opposite += part[3]
            n_records += part[4]
            leftovers.append(part[5])
    n_left = sum(len(x) for x in leftovers)
    rest = engine.count_leftovers(opts, *arrays, index.n_genes, leftovers)
    counts += rest[0]
    summary += rest[1]
    logger.info(
        "%s: %d regions on %d processes; %d records with the mate in another region",
        bam,
        len(regions),
        min(threads, len(regions)),
        n_left,
    )
    return _result(counts, summary, same + rest[2], opposite + rest[3], paired, bam, n_records)


def _result(
    counts: npt.NDArray[np.float64],
    summary: npt.NDArray[np.int64],
    same: int,
    opposite: int,
    paired: bool,
    bam: PathLike,
    n_records: int,
) -> UnitCounts:
    assert summary.shape[1] == len(SUMMARY_CATEGORIES)
    logger.info("%s: %d records", bam, n_records)
    return UnitCounts(
        counts=counts,
        summary=summary,
        same_strand=int(same),
        opposite_strand=int(opposite),
        paired=paired,
    )
