"""Shared types of the counting stage: options, per-unit counts, summary categories, flags."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from redoxseq.errors import ConfigError

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
