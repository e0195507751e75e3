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
   covered, as in featureCounts) with the exon segments of :class:`redoxseq.annotation.GeneIndex`,
   giving the overlap in bases per gene; then NoFeatures / Overlapping_Length / Ambiguity /
   Assigned;
3. *tally*: add to the gene vector and the summary.

Tables (numpy arrays, not DataFrames, inside a pass):
``counts``: 3 modes x genes, float64 read/fragment counts; ``summary``: 3 modes x
:data:`SUMMARY_CATEGORIES`, int64 reads/fragments.

A fast path (:mod:`redoxseq._counting_fast`, Cython against pysam's htslib) implements the
featureCounts mode with identical results; this module is the reference implementation
and is used when the extension is not built or for htseq-count modes.
"""

from __future__ import annotations

import logging
import os
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from redoxseq.annotation import STRAND_NONE, GeneIndex
from redoxseq.errors import ConfigError, InputError

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
Strandedness = Literal["auto", "none", "forward", "reverse"]
FixedStrandedness = Literal["none", "forward", "reverse"]
Paired = Literal["auto", "yes", "no"]
Multimapping = Literal["none", "all", "fraction"]
MultiOverlap = Literal["ambiguous", "largest", "all"]
CountMode = Literal["featurecounts", "union", "intersection-strict", "intersection-nonempty"]

#: Strandedness modes in the order of the rows of every per-mode array.
MODES: tuple[FixedStrandedness, ...] = ("none", "forward", "reverse")

#: featureCounts' ``.summary`` categories in its order, plus Unassigned_QCFailed
#: (records flagged 0x200, which featureCounts counts and redoxseq drops by default).
SUMMARY_CATEGORIES: tuple[str, ...] = (
    "Assigned",
    "Unassigned_Unmapped",
    "Unassigned_Read_Type",
    "Unassigned_Singleton",
    "Unassigned_MappingQuality",
    "Unassigned_Chimera",
    "Unassigned_FragmentLength",
    "Unassigned_Duplicate",
    "Unassigned_MultiMapping",
    "Unassigned_Secondary",
    "Unassigned_NonSplit",
    "Unassigned_NoFeatures",
    "Unassigned_Overlapping_Length",
    "Unassigned_Ambiguity",
    "Unassigned_QCFailed",
)
_CAT = {name: i for i, name in enumerate(SUMMARY_CATEGORIES)}
ASSIGNED = _CAT["Assigned"]
UNMAPPED = _CAT["Unassigned_Unmapped"]
SINGLETON = _CAT["Unassigned_Singleton"]
MAPQ = _CAT["Unassigned_MappingQuality"]
CHIMERA = _CAT["Unassigned_Chimera"]
DUPLICATE = _CAT["Unassigned_Duplicate"]
MULTI = _CAT["Unassigned_MultiMapping"]
SECONDARY = _CAT["Unassigned_Secondary"]
NOFEATURE = _CAT["Unassigned_NoFeatures"]
OVERLAP_LEN = _CAT["Unassigned_Overlapping_Length"]
AMBIGUOUS = _CAT["Unassigned_Ambiguity"]
QCFAIL = _CAT["Unassigned_QCFailed"]

#: htseq-count's special counters, for the htseq-compatible modes.
HTSEQ_SPECIAL = {
    NOFEATURE: "__no_feature",
    AMBIGUOUS: "__ambiguous",
    MAPQ: "__too_low_aQual",
    UNMAPPED: "__not_aligned",
    MULTI: "__alignment_not_unique",
}

F_PAIRED, F_UNMAP, F_MUNMAP, F_REVERSE, F_MREVERSE = 0x1, 0x4, 0x8, 0x10, 0x20
F_READ1, F_READ2, F_SECONDARY, F_QCFAIL, F_DUP, F_SUPP = 0x40, 0x80, 0x100, 0x200, 0x400, 0x800


@dataclass(frozen=True)
class CountOptions:
    """Counting semantics; the defaults are featureCounts' defaults (``-t exon -g gene_id``).

    Attributes
    ----------
    paired:
        ``auto`` (paired if the first records carry flag 0x1), ``yes`` (count fragments,
        featureCounts ``-p --countReadPairs``) or ``no`` (count every record as a read).
    require_both_mapped:
        featureCounts ``-B``: a pair with one end unmapped is Unassigned_Singleton.
    skip_chimeric:
        featureCounts ``-C``: a pair whose mates map to different contigs is Unassigned_Chimera.
    multimapping:
        ``none`` (records with NH > 1, or flagged secondary, are Unassigned_MultiMapping),
        ``all`` (featureCounts ``-M``: every alignment counts 1) or ``fraction``
        (``-M --fraction``: every alignment counts 1/NH).
    primary_only:
        featureCounts ``--primary``: secondary alignments are Unassigned_Secondary.
    min_mapq:
        featureCounts ``-Q``: records (pairs: both ends) below this MAPQ are not counted.
    min_overlap:
        featureCounts ``--minOverlap``: bases a read/fragment must share with a gene.
    multi_overlap:
        A read overlapping exons of several genes: ``ambiguous`` (not counted, default),
        ``largest`` (featureCounts ``--largestOverlap``: the gene with most overlapping
        bases; a tie stays ambiguous) or ``all`` (featureCounts ``-O``: every gene).
    ignore_duplicates:
        featureCounts ``--ignoreDup``: records flagged 0x400 are Unassigned_Duplicate.
    drop_qc_failed:
        Records flagged 0x200 are Unassigned_QCFailed (featureCounts counts them).
    mode:
        ``featurecounts`` or an htseq-count overlap mode (``union``,
        ``intersection-strict``, ``intersection-nonempty``; htseq-count ``--nonunique none``,
        secondary and supplementary alignments ignored). htseq-count modes use
        ``min_mapq`` as ``-a`` (htseq-count's default is 10; set it explicitly).
    chrom_aliases:
        Contig-name mapping annotation -> BAM, or ``None``. See :func:`resolve_contigs`.
    auto_min_fraction, auto_unstranded_max, auto_min_reads:
        Thresholds of ``strandedness: auto`` (see :func:`choose_strandedness`).
    """

    paired: Paired = "auto"
    require_both_mapped: bool = False
    skip_chimeric: bool = False
    multimapping: Multimapping = "none"
    primary_only: bool = False
    min_mapq: int = 0
    min_overlap: int = 1
    multi_overlap: MultiOverlap = "ambiguous"
    ignore_duplicates: bool = False
    drop_qc_failed: bool = True
    mode: CountMode = "featurecounts"
    chrom_aliases: dict[str, str] | None = None
    auto_min_fraction: float = 0.8
    auto_unstranded_max: float = 0.6
    auto_min_reads: int = 100

    def __post_init__(self) -> None:
        checks: list[tuple[str, object, Sequence[object]]] = [
            ("paired", self.paired, ("auto", "yes", "no")),
            ("multimapping", self.multimapping, ("none", "all", "fraction")),
            ("multi_overlap", self.multi_overlap, ("ambiguous", "largest", "all")),
            ("mode", self.mode, ("featurecounts", *_HTSEQ_MODES)),
        ]
        for key, value, allowed in checks:
            if value not in allowed:
                raise ConfigError(
                    f"counting.{key}: {value!r} is not one of {', '.join(map(str, allowed))}"
                )
        if not 0.5 < self.auto_min_fraction <= 1.0:
            raise ConfigError("counting.auto_min_fraction must be in (0.5, 1]")
        if not 0.5 <= self.auto_unstranded_max < self.auto_min_fraction:
            raise ConfigError("counting.auto_unstranded_max must be in [0.5, auto_min_fraction)")


_HTSEQ_MODES = ("union", "intersection-strict", "intersection-nonempty")

#: Decimals kept of fractional counts (``multimapping: fraction``).
FRACTION_DECIMALS = 6


@dataclass
class UnitCounts:
    """Result of counting one BAM (a sequencing unit) under all three strandedness modes.

    Attributes
    ----------
    counts:
        3 x genes float64 (rows :data:`MODES`); integers unless fractional counting.
    summary:
        3 x categories int64 (columns :data:`SUMMARY_CATEGORIES`), reads or fragments.
    same_strand, opposite_strand:
        Strand evidence: reads/fragments assigned to exactly one stranded gene (in mode
        ``none``) whose strand equals / is opposite to that gene's strand.
    paired:
        Whether fragments (pairs) were counted.
    """

    counts: npt.NDArray[np.float64]
    summary: npt.NDArray[np.int64]
    same_strand: int = 0
    opposite_strand: int = 0
    paired: bool = False

    def __iadd__(self, other: UnitCounts) -> UnitCounts:
        self.counts += other.counts
        self.summary += other.summary
        self.same_strand += other.same_strand
        self.opposite_strand += other.opposite_strand
        return self


def _empty(n_genes: int, paired: bool) -> UnitCounts:
    return UnitCounts(
        counts=np.zeros((3, n_genes), dtype=np.float64),
        summary=np.zeros((3, len(SUMMARY_CATEGORIES)), dtype=np.int64),
        paired=paired,
    )


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


# ---------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------


def _fast_available() -> bool:
    from redoxseq.counting_parallel import load_fast_engine

    try:
        load_fast_engine()
    except (ImportError, OSError) as error:
        logger.warning(
            "the compiled counting engine is not available (%s); counting with the pure-Python "
            "engine, which gives the same counts more slowly. Reinstall redoxseq with a C "
            "compiler and the Python headers (Debian: gcc python3-dev) to build it.",
            error,
        )
        return False
    return True


def count_bam(
    bam: PathLike,
    index: GeneIndex,
    options: CountOptions | None = None,
    *,
    threads: int = 1,
    reference: PathLike | None = None,
    engine: Literal["auto", "fast", "python"] = "auto",
) -> UnitCounts:
    """Count one BAM/SAM/CRAM file against ``index`` under all three strandedness modes.

    Parameters
    ----------
    bam:
        Alignment file (any sort order; pairs are matched by name and position).
    index:
        Gene index from :func:`redoxseq.annotation.build_gene_index`.
    options:
        Counting semantics (featureCounts defaults).
    threads:
        With an indexed, coordinate-sorted BAM and the fast engine, the BAM is split into
        regions counted by this many processes (same result as one pass, see
        :func:`redoxseq.counting_parallel.count_fast`); otherwise they become htslib
        decompression threads.
    reference:
        FASTA for CRAM decoding.
    engine:
        ``fast`` (Cython; featureCounts mode only), ``python`` (reference) or ``auto``.
    """
    opt = options or CountOptions()
    with open_alignments(bam, reference=reference, threads=threads) as handle:
        contig_of_tid = resolve_contigs(
            list(handle.references), index, opt.chrom_aliases, bam_name=str(bam)
        )
        paired = detect_paired(handle) if opt.paired == "auto" else opt.paired == "yes"
    use_fast = opt.mode == "featurecounts" and engine != "python" and _fast_available()
    if engine == "fast" and not use_fast:
        raise ConfigError("the fast counting engine is not built (or not for htseq modes)")
    if use_fast:
        from redoxseq import counting_parallel

        return counting_parallel.count_fast(
            bam, index, opt, contig_of_tid, paired, threads=threads, reference=reference
        )
    with open_alignments(bam, reference=reference, threads=threads) as handle:
        if opt.mode == "featurecounts":
            return count_pass_python(handle, index, opt, contig_of_tid, paired)
        counter = _HtseqCounter(index, opt, contig_of_tid, paired)
        return _run_htseq(handle, counter, paired)


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


# ---------------------------------------------------------------------------------------
# Strandedness
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StrandDecision:
    """Strand evidence of one sample and the mode chosen from it."""

    same_strand: int
    opposite_strand: int
    chosen: FixedStrandedness | None
    reason: str

    @property
    def informative(self) -> int:
        """Reads/fragments assigned to exactly one stranded gene."""
        return self.same_strand + self.opposite_strand

    @property
    def fraction_forward(self) -> float:
        """Fraction of informative reads on the gene's strand (nan if none)."""
        return self.same_strand / self.informative if self.informative else float("nan")


def choose_strandedness(same: int, opposite: int, options: CountOptions) -> StrandDecision:
    """Pick ``forward``/``reverse``/``none`` from strand evidence, or none at all.

    ``forward`` if the fraction of informative reads on the gene's strand is at least
    ``auto_min_fraction`` (0.8), ``reverse`` if the fraction on the opposite strand is, and
    ``none`` if both fractions are at most ``auto_unstranded_max`` (0.6). Anything else
    (for example 70/30), or fewer than ``auto_min_reads`` informative reads, chooses nothing.
    """
    total = same + opposite
    if total < options.auto_min_reads:
        return StrandDecision(
            same,
            opposite,
            None,
            f"only {total} reads hit exactly one gene (auto_min_reads = {options.auto_min_reads})",
        )
    fwd = same / total
    rev = opposite / total
    if fwd >= options.auto_min_fraction:
        return StrandDecision(
            same, opposite, "forward", f"{fwd:.3f} >= {options.auto_min_fraction}"
        )
    if rev >= options.auto_min_fraction:
        return StrandDecision(
            same, opposite, "reverse", f"{rev:.3f} >= {options.auto_min_fraction}"
        )
    if max(fwd, rev) <= options.auto_unstranded_max:
        return StrandDecision(
            same,
            opposite,
            "none",
            f"both fractions <= {options.auto_unstranded_max}",
        )
    return StrandDecision(
        same,
        opposite,
        None,
        f"forward fraction {fwd:.3f} fits no mode (forward/reverse need >= "
        f"{options.auto_min_fraction}, unstranded needs both <= {options.auto_unstranded_max})",
    )


# ---------------------------------------------------------------------------------------
# Samples, units, matrices
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleCounts:
    """Counts of one sample (all its units summed) in the chosen strandedness mode.

    Attributes
    ----------
    sample:
        Sample name.
    counts:
        Series indexed by gene_id (genes in annotation order): integer counts (float only
        with fractional multimapping).
    summary:
        DataFrame categories x [sample, unit columns...]: reads/fragments per featureCounts
        summary category; the first column is the sample total, then one column per unit.
    strandedness:
        One-row DataFrame: sample, requested, chosen, same_strand, opposite_strand,
        fraction_forward, plus assigned reads under each mode (``assigned_none`` ...).
    strandedness_used:
        The mode whose counts are reported.
    """

    sample: str
    counts: pd.Series
    summary: pd.DataFrame
    strandedness: pd.DataFrame
    strandedness_used: FixedStrandedness


def count_sample(
    sample: str,
    bams: Sequence[PathLike],
    index: GeneIndex,
    options: CountOptions | None = None,
    *,
    strandedness: Strandedness = "auto",
    units: Sequence[str] | None = None,
    threads: int = 1,
    reference: PathLike | None = None,
    engine: Literal["auto", "fast", "python"] = "auto",
) -> SampleCounts:
    """Count every unit (BAM) of ``sample``, sum them, and choose the strandedness.

    Raises
    ------
    InputError
        A BAM is missing or unreadable, or ``strandedness`` is ``auto`` and the evidence
        fits no mode (the message shows the evidence and how to set the mode).
    """
    opt = options or CountOptions()
    if strandedness not in ("auto", *MODES):
        raise ConfigError(
            f"sample {sample}: strandedness {strandedness!r} is not one of auto, none, "
            "forward, reverse"
        )
    if not bams:
        raise InputError(f"sample {sample}: no BAM file listed in the units sheet")
    unit_names = list(units) if units is not None else [Path(b).name for b in bams]
    for bam in bams:
        if not Path(bam).exists():
            raise InputError(
                f"sample {sample}: BAM file {bam} not found (working directory "
                f"{Path.cwd()}); fix the 'bam' column of this sample's rows in the units sheet "
                "(config/units.tsv), relative paths are relative to the working directory"
            )
    per_unit: list[UnitCounts] = []
    for bam in bams:
        logger.info("sample %s: counting %s", sample, bam)
        per_unit.append(
            count_bam(bam, index, opt, threads=threads, reference=reference, engine=engine)
        )
    total = _empty(index.n_genes, per_unit[0].paired)
    for unit in per_unit:
        total += unit
    decision = choose_strandedness(total.same_strand, total.opposite_strand, opt)
    if strandedness == "auto":
        if decision.chosen is None:
            raise InputError(
                f"sample {sample}: strandedness 'auto' cannot decide: {decision.reason}. "
                f"Evidence: {decision.same_strand} reads/fragments on the gene's strand, "
                f"{decision.opposite_strand} on the opposite strand (fraction forward "
                f"{decision.fraction_forward:.3f}); assigned under none/forward/reverse: "
                f"{', '.join(str(int(x)) for x in total.summary[:, ASSIGNED])}. "
                "Set the strandedness column of this sample (or counting.strandedness) to "
                "none, forward or reverse."
            )
        used: FixedStrandedness = decision.chosen
    else:
        used = strandedness
        if decision.chosen is not None and decision.chosen != used:
            logger.warning(
                "sample %s: strandedness set to %s but the reads look %s (%d same / %d "
                "opposite strand)",
                sample,
                used,
                decision.chosen,
                decision.same_strand,
                decision.opposite_strand,
            )
    m = MODES.index(used)
    ids = pd.Index(index.gene_ids, name="gene_id")
    values = total.counts[m]
    counts = (
        # fractional counts rounded to 6 decimals: sums over regions counted in parallel
        # differ from a sequential sum in the last bits, and the output must not depend on
        # the number of threads
        pd.Series(np.round(values, FRACTION_DECIMALS), index=ids, name=sample)
        if opt.multimapping == "fraction"
        else pd.Series(np.rint(values).astype(np.int64), index=ids, name=sample)
    )
    summary = pd.DataFrame(
        {
            sample: total.summary[m],
            **{u: r.summary[m] for u, r in zip(unit_names, per_unit, strict=True)},
        },
        index=pd.Index(SUMMARY_CATEGORIES, name="Status"),
    )
    strand_table = pd.DataFrame(
        [
            {
                "sample": sample,
                "requested": strandedness,
                "chosen": used,
                "detected": decision.chosen or "unclear",
                "same_strand": decision.same_strand,
                "opposite_strand": decision.opposite_strand,
                "fraction_forward": round(decision.fraction_forward, 6),
                "assigned_none": int(total.summary[0, ASSIGNED]),
                "assigned_forward": int(total.summary[1, ASSIGNED]),
                "assigned_reverse": int(total.summary[2, ASSIGNED]),
                "reason": decision.reason,
            }
        ]
    ).set_index("sample")
    return SampleCounts(sample, counts, summary, strand_table, used)


def write_sample_counts(
    result: SampleCounts,
    counts_path: PathLike,
    summary_path: PathLike,
    strandedness_path: PathLike,
    units_summary_path: PathLike | None = None,
) -> None:
    """Write one sample's counts, featureCounts-style summary and strand evidence.

    ``counts_path``: gene_id, count. ``summary_path``: featureCounts' layout (header
    ``Status<TAB><sample>``, one row per category) so MultiQC's featureCounts module reads
    it. ``strandedness_path``: the one-row evidence table. ``units_summary_path``: categories
    x units (reads/fragments per unit of the sample).
    """
    from redoxseq.io import atomic_open, write_tsv

    table = result.counts.rename("count").to_frame()
    write_tsv(table, counts_path)
    with atomic_open(summary_path) as handle:
        handle.write(f"Status\t{result.sample}\n")
        for cat, value in result.summary[result.sample].items():
            handle.write(f"{cat}\t{int(value)}\n")
    write_tsv(result.strandedness, strandedness_path)
    if units_summary_path is not None:
        write_tsv(result.summary.iloc[:, 1:], units_summary_path)


def options_from_config(counting: dict[str, Any]) -> CountOptions:
    """Build :class:`CountOptions` from the ``counting:`` section of the config.

    Keys absent from ``counting`` keep featureCounts' defaults; ``chrom_aliases`` is ``""``
    (none), ``auto`` or the path of an ``annotation_name,bam_name`` file.
    """
    names = {f for f in CountOptions.__dataclass_fields__ if f != "chrom_aliases"}
    kwargs: dict[str, Any] = {k: v for k, v in counting.items() if k in names}
    aliases = counting.get("chrom_aliases") or ""
    if aliases:
        kwargs["chrom_aliases"] = read_alias_file(aliases)
    return CountOptions(**kwargs)


def merge_counts(
    counts_files: dict[str, PathLike],
    summary_files: dict[str, PathLike],
    strandedness_files: dict[str, PathLike],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Merge per-sample outputs into matrices.

    Returns
    -------
    counts:
        genes x samples integers, index gene_id, samples in the given order.
    summary:
        categories x samples, reads/fragments.
    strandedness:
        samples x evidence columns.
    """
    from redoxseq.io import read_tsv

    counts = pd.concat({s: read_tsv(p)["count"] for s, p in counts_files.items()}, axis=1)
    counts.index.name = "gene_id"
    summary = pd.concat({s: read_tsv(p).iloc[:, 0] for s, p in summary_files.items()}, axis=1)
    summary.index.name = "Status"
    strand = pd.concat([read_tsv(p) for p in strandedness_files.values()])
    return counts, summary, strand
