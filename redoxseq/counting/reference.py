"""Gene-level read counting with pysam, matching featureCounts (or htseq-count) semantics.

One pass over a BAM/SAM/CRAM file counts every gene under all three strandedness modes at
once (``none``, ``forward``, ``reverse``), so ``strandedness: auto`` costs nothing extra:
the mode is chosen afterwards from the strand evidence (reads that hit exactly one gene)
and the matching count vector is kept.

Pipeline per alignment record (or per fragment = both mates of a pair):

1. *decide*: drop it with a reason (featureCounts' ``Unassigned_*`` categories, checked in
   featureCounts' order: Unmapped, Singleton, MappingQuality, Chimera, Duplicate,
   MultiMapping, Secondary);
2. *assign*: intersect its aligned blocks (CIGAR M/=/X; N and D split blocks, D bases are not
   covered, as in featureCounts) with the exon segments of
   :class:`redoxseq.counting.annotation.GeneIndex`, giving the overlap in bases per gene;
   then NoFeatures / Overlapping_Length / Ambiguity / Assigned;
3. *tally*: add to the gene vector and the summary.

Tables (numpy arrays, not DataFrames, inside a pass):
``counts``: 3 modes x genes, float64 read/fragment counts; ``summary``: 3 modes x
:data:`SUMMARY_CATEGORIES`, int64 reads/fragments.

A fast path (:mod:`redoxseq.counting._counting_fast`, Cython against pysam's htslib) implements the
featureCounts mode with identical results; this module is the reference implementation
and is used when the extension is not built or for htseq-count modes.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from redoxseq.counting.annotation import STRAND_NONE, GeneIndex
from redoxseq.counting.types import (
    AMBIGUOUS,
    ASSIGNED,
    CHIMERA,
    DUPLICATE,
    F_DUP,
    F_MREVERSE,
    F_MUNMAP,
    F_PAIRED,
    F_QCFAIL,
    F_READ2,
    F_REVERSE,
    F_SECONDARY,
    F_SUPP,
    F_UNMAP,
    MAPQ,
    MULTI,
    NOFEATURE,
    OVERLAP_LEN,
    QCFAIL,
    SECONDARY,
    SINGLETON,
    UNMAPPED,
    CountOptions,
    UnitCounts,
    _empty,
)
from redoxseq.errors import InputError

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------
# Reference implementation
# ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Rec:
    """What the counter needs from one alignment record."""

    flag: int
    tid: int
    mapq: int
    nh: int
    blocks: list[tuple[int, int]]
    mtid: int = -1


def _rec(read: Any) -> _Rec:
    flag = read.flag
    nh = read.get_tag("NH") if read.has_tag("NH") else 1
    blocks = read.get_blocks() if not flag & F_UNMAP else []
    return _Rec(
        flag, read.reference_id, read.mapping_quality, int(nh), blocks, read.next_reference_id
    )


def _merge(blocks: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(blocks):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


@dataclass
class _Counter:
    """Accumulates one pass; the ``decide``/``assign``/``tally`` steps of the module doc."""

    index: GeneIndex
    options: CountOptions
    contig_of_tid: list[str | None]
    paired: bool
    result: UnitCounts = field(init=False)

    def __post_init__(self) -> None:
        self.result = _empty(self.index.n_genes, self.paired)
        self._segs = {
            tid: self.index.contigs[name]
            for tid, name in enumerate(self.contig_of_tid)
            if name is not None
        }
        self._seg_lists = {
            tid: (s.start.tolist(), s.end.tolist(), s.ptr.tolist(), s.keys.tolist())
            for tid, s in self._segs.items()
        }
        self._gene_strand = self.index.gene_strand.tolist()

    # decide ------------------------------------------------------------------------
    def _decide(self, r1: _Rec | None, r2: _Rec | None) -> int:
        """Reason (summary category) for not counting, or -1 if the fragment goes on."""
        opt = self.options
        recs = [r for r in (r1, r2) if r is not None]
        mapped = [r for r in recs if not r.flag & F_UNMAP]
        judged = mapped
        if not mapped:
            # a lone unmapped end whose flags say its mate is mapped (the mate was not found,
            # e.g. its HI tag differs): featureCounts judges it from the flags, so it is not
            # Unmapped; it goes on and, having no aligned bases, ends as NoFeatures
            lone = recs[0]
            if not (
                self.paired and len(recs) == 1 and lone.flag & F_PAIRED and not lone.flag & F_MUNMAP
            ):
                return UNMAPPED
            judged = recs
        if opt.drop_qc_failed and any(r.flag & F_QCFAIL for r in recs):
            return QCFAIL
        if any(r.flag & F_SUPP for r in recs):
            return SECONDARY
        # pairs: judged from the flags and mate fields, as featureCounts does, so that a
        # record whose mate is absent from the file is still judged correctly
        if (
            self.paired
            and opt.require_both_mapped
            and any(r.flag & (F_UNMAP | F_MUNMAP) for r in recs)
        ):
            return SINGLETON
        low_mapq = opt.min_mapq > 0 and all(r.mapq < opt.min_mapq for r in judged)
        if low_mapq and len(judged) == 1:
            return MAPQ
        if (
            self.paired
            and opt.skip_chimeric
            and any(
                not r.flag & F_MUNMAP
                and (r.tid != r.mtid or bool(r.flag & F_REVERSE) == bool(r.flag & F_MREVERSE))
                for r in mapped
            )
        ):
            return CHIMERA
        if opt.ignore_duplicates and any(r.flag & F_DUP for r in recs):
            return DUPLICATE
        multi = any(r.nh > 1 or r.flag & F_SECONDARY for r in mapped)
        if multi and opt.multimapping == "none":
            return MULTI
        if low_mapq:  # featureCounts checks MAPQ of pairs after multimapping
            return MAPQ
        if opt.primary_only and any(r.flag & F_SECONDARY for r in recs):
            return SECONDARY
        return -1

    # assign ------------------------------------------------------------------------
    def _overlaps(self, tid: int, blocks: list[tuple[int, int]]) -> dict[int, int]:
        """Overlapping bases per feature key (gene * 3 + strand) on contig ``tid``."""
        lists = self._seg_lists.get(tid)
        if lists is None:
            return {}
        starts, ends, ptr, keys = lists
        ov: dict[int, int] = {}
        for s, e in blocks:
            i = bisect_right(ends, s)
            n = len(starts)
            while i < n and starts[i] < e:
                width = min(e, ends[i]) - max(s, starts[i])
                for j in range(ptr[i], ptr[i + 1]):
                    k = keys[j]
                    ov[k] = ov.get(k, 0) + width
                i += 1
        return ov

    def fragment(self, r1: _Rec | None, r2: _Rec | None) -> None:
        """Decide, assign and tally one read (``r2`` None) or one pair."""
        res = self.result
        reason = self._decide(r1, r2)
        if reason >= 0:
            res.summary[:, reason] += 1
            return
        mapped = [r for r in (r1, r2) if r is not None and not r.flag & F_UNMAP]
        if not mapped:  # a lone unmapped end that passed _decide: no aligned bases
            res.summary[:, NOFEATURE] += 1
            return
        # strand of each end as a fragment strand: read 1 (or a single-end read) as aligned,
        # read 2 flipped; the fragment's strand is that of its first mapped end
        strands = [
            (1 if r.flag & F_REVERSE else 0) ^ (1 if self.paired and r.flag & F_READ2 else 0)
            for r in mapped
        ]
        frag_strand = strands[0]
        ov: dict[int, int] = {}
        by_tid: dict[int, list[tuple[int, int]]] = {}
        for r in mapped:
            by_tid.setdefault(r.tid, []).extend(r.blocks)
        for tid, blocks in by_tid.items():
            for k, v in self._overlaps(tid, _merge(blocks)).items():
                ov[k] = ov.get(k, 0) + v
        # per end: featureCounts checks strand per end, and prefers the genes overlapped by
        # both ends of a fragment (votes)
        own = [self._overlaps(r.tid, _merge(r.blocks)) for r in mapped]
        nh = max(r.nh for r in mapped)
        weight = 1.0 / nh if self.options.multimapping == "fraction" else 1.0
        for m in range(3):
            genes: dict[int, int] = {}
            votes: dict[int, int] = {}
            for k, v in ov.items():
                strand = k % 3
                ok = [m == 0 or strand == STRAND_NONE or (strand == s) == (m == 1) for s in strands]
                n_ok = sum(ok)
                if n_ok == 0:
                    continue
                if n_ok < len(mapped):
                    v = sum(own[i].get(k, 0) for i in range(len(mapped)) if ok[i])
                    if v == 0:
                        continue
                g = k // 3
                genes[g] = max(genes.get(g, 0), v) if g in genes else v
                n_votes = sum(1 for i in range(len(mapped)) if ok[i] and k in own[i])
                votes[g] = max(votes.get(g, 0), n_votes)
            self._tally(m, genes, votes if len(mapped) > 1 else {}, weight, frag_strand)

    def _tally(
        self,
        m: int,
        genes: dict[int, int],
        votes: dict[int, int],
        weight: float,
        frag_strand: int,
    ) -> None:
        res = self.result
        opt = self.options
        if not genes:
            res.summary[m, NOFEATURE] += 1
            return
        passing = {g: v for g, v in genes.items() if v >= opt.min_overlap}
        if not passing:
            res.summary[m, OVERLAP_LEN] += 1
            return
        if len(passing) > 1 and votes and opt.multi_overlap == "ambiguous":
            most = max(votes[g] for g in passing)
            passing = {g: v for g, v in passing.items() if votes[g] == most}
        if len(passing) > 1:
            if opt.multi_overlap == "largest":
                best = max(passing.values())
                top = [g for g, v in passing.items() if v == best]
                if len(top) > 1:
                    res.summary[m, AMBIGUOUS] += 1
                    return
                passing = {top[0]: best}
            elif opt.multi_overlap == "ambiguous":
                res.summary[m, AMBIGUOUS] += 1
                return
        res.summary[m, ASSIGNED] += 1
        share = weight / len(passing) if opt.multimapping == "fraction" else weight
        for g in passing:
            res.counts[m, g] += share
        if m == 0 and len(passing) == 1:
            g = next(iter(passing))
            gs = self._gene_strand[g]
            if gs != STRAND_NONE:
                if gs == frag_strand:
                    res.same_strand += 1
                else:
                    res.opposite_strand += 1


def _pair_key(read: Any) -> tuple[Any, ...]:
    hi = read.get_tag("HI") if read.has_tag("HI") else 0
    if read.flag & F_READ2:
        return (
            read.query_name,
            read.next_reference_id,
            read.next_reference_start,
            read.reference_id,
            read.reference_start,
            hi,
        )
    return (
        read.query_name,
        read.reference_id,
        read.reference_start,
        read.next_reference_id,
        read.next_reference_start,
        hi,
    )


def _iter_reads(handle: Any, region: str | None) -> Iterator[Any]:
    try:
        if region is None:
            yield from handle.fetch(until_eof=True)
        else:
            yield from handle.fetch(region=region)
    except OSError as exc:
        name = handle.filename
        name = name.decode() if isinstance(name, bytes) else name
        raise InputError(
            f"{name}: read error ({exc}); the file is probably truncated or corrupt"
        ) from exc


def count_pass_python(
    handle: Any,
    index: GeneIndex,
    options: CountOptions,
    contig_of_tid: list[str | None],
    paired: bool,
) -> UnitCounts:
    """Reference implementation: one pass over ``handle`` in Python (featureCounts mode).

    Records of a pair are matched by name, positions and HI tag; a record whose mate never
    appears (mate filtered out of the file, or outside a region) is counted as a single-end
    fragment of its pair, as featureCounts does. Memory holds only pairs whose mate is
    still ahead in a coordinate-sorted file.
    """
    counter = _Counter(index, options, contig_of_tid, paired)
    for first, second in _fragments(handle, paired, unpaired_flags=F_SUPP):
        # supplementary pieces never pair and are never counted (see module doc)
        counter.fragment(first, second)
    return counter.result


# ---------------------------------------------------------------------------------------
# htseq-count compatible modes
# ---------------------------------------------------------------------------------------


@dataclass
class _HtseqCounter(_Counter):
    def _decide(self, r1: _Rec | None, r2: _Rec | None) -> int:
        recs = [r for r in (r1, r2) if r is not None]
        if not any(not r.flag & F_UNMAP for r in recs):
            return UNMAPPED
        if any(r.flag & (F_SECONDARY | F_SUPP) for r in recs):
            return -2  # ignored silently by htseq-count, but every read is accounted here
        if self.options.drop_qc_failed and any(r.flag & F_QCFAIL for r in recs):
            return QCFAIL
        if any(r.nh > 1 for r in recs):
            return MULTI
        if any(r.mapq < self.options.min_mapq for r in recs):
            return MAPQ
        return -1

    def fragment(self, r1: _Rec | None, r2: _Rec | None) -> None:
        res = self.result
        reason = self._decide(r1, r2)
        if reason == -2:
            res.summary[:, SECONDARY] += 1
            return
        if reason >= 0:
            res.summary[:, reason] += 1
            return
        ivs: list[tuple[int, int, int, int]] = []  # tid, start, end, strand
        for r, flip in ((r1, False), (r2, True)):
            if r is None or r.flag & F_UNMAP:
                continue
            strand = 1 if r.flag & F_REVERSE else 0
            if flip and self.paired:
                strand = 1 - strand
            ivs.extend((r.tid, s, e, strand) for s, e in r.blocks if e > s)
        mode = self.options.mode
        for m in range(3):
            fs: set[int] | None = None if mode != "union" else set()
            known = True
            for tid, s, e, strand in ivs:
                if tid not in self._seg_lists:
                    known = False
                    break
                for step in self._steps(tid, s, e, m, strand):
                    if mode == "union":
                        assert fs is not None
                        fs |= step
                    elif step or mode == "intersection-strict":
                        fs = set(step) if fs is None else fs & step
            if not known or not fs:
                res.summary[m, NOFEATURE] += 1
            elif len(fs) > 1:
                res.summary[m, AMBIGUOUS] += 1
            else:
                g = next(iter(fs))
                res.summary[m, ASSIGNED] += 1
                res.counts[m, g] += 1
                if m == 0:
                    gs = self._gene_strand[g]
                    frag = ivs[0][3]
                    if gs != STRAND_NONE:
                        if gs == frag:
                            res.same_strand += 1
                        else:
                            res.opposite_strand += 1

    def _steps(self, tid: int, s: int, e: int, m: int, strand: int) -> Iterator[set[int]]:
        starts, ends, ptr, keys = self._seg_lists[tid]
        i = bisect_right(ends, s)
        pos = s
        n = len(starts)
        while pos < e:
            if i < n and starts[i] <= pos:
                genes = set()
                for j in range(ptr[i], ptr[i + 1]):
                    k = keys[j]
                    ks = k % 3
                    if m == 1 and ks != STRAND_NONE and ks != strand:
                        continue
                    if m == 2 and ks != STRAND_NONE and ks == strand:
                        continue
                    genes.add(k // 3)
                yield genes
                pos = ends[i]
                i += 1
            else:
                yield set()
                pos = starts[i] if i < n and starts[i] < e else e


def _run_htseq(handle: Any, counter: _HtseqCounter, paired: bool) -> UnitCounts:
    for first, second in _fragments(handle, paired, unpaired_flags=F_SECONDARY | F_SUPP):
        counter.fragment(first, second)
    return counter.result


def _fragments(
    handle: Any, paired: bool, *, unpaired_flags: int
) -> Iterator[tuple[_Rec | None, _Rec | None]]:
    """Yield (read 1, read 2) of every fragment of ``handle``, in one pass.

    Single-end data, unpaired records and records with any of ``unpaired_flags`` are
    fragments of their own. Mates are matched by name, positions and HI tag; a record whose
    mate never appears (filtered out of the file, or outside a region) is a fragment of its
    pair with the other end missing, as featureCounts counts it. Memory holds only the
    records whose mate is still ahead in a coordinate-sorted file.
    """
    if not paired:
        for read in _iter_reads(handle, None):
            yield _rec(read), None
        return
    pending: dict[tuple[Any, ...], _Rec] = {}
    for read in _iter_reads(handle, None):
        flag = read.flag
        rec = _rec(read)
        if not flag & F_PAIRED or flag & unpaired_flags:
            yield rec, None
            continue
        key = _pair_key(read)
        mate = pending.pop(key, None)
        if mate is None:
            pending[key] = rec
        elif flag & F_READ2:
            yield mate, rec
        else:
            yield rec, mate
    for rec in pending.values():
        yield (None, rec) if rec.flag & F_READ2 else (rec, None)
