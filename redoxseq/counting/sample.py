"""Counting one sample: engine dispatch, units summed, strandedness chosen, matrices merged.

The per-sample count job imports this module, the annotation index and the engine, but not
pandas (0.3 s of a job that counts a small BAM in about a second): :class:`SampleCounts`
holds numpy arrays and Python values, :func:`write_sample_counts` writes them with the
csv module, and the pandas views (:attr:`SampleCounts.counts` ...) import pandas when used.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from redoxseq.counting.alignments import (
    detect_paired,
    open_alignments,
    read_alias_file,
    resolve_contigs,
)
from redoxseq.counting.annotation import GeneIndex
from redoxseq.counting.parallel import count_fast, load_fast_engine
from redoxseq.counting.reference import (
    _HtseqCounter,
    _run_htseq,
    count_pass_python,
)
from redoxseq.counting.strandedness import (
    choose_strandedness,
)
from redoxseq.counting.types import (
    ASSIGNED,
    FRACTION_DECIMALS,
    MODES,
    SUMMARY_CATEGORIES,
    CountOptions,
    FixedStrandedness,
    PathLike,
    Strandedness,
    UnitCounts,
    _empty,
)
from redoxseq.errors import ConfigError, InputError
from redoxseq.io import atomic_open, write_rows

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------


def _fast_available() -> bool:
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
        Gene index from :func:`redoxseq.counting.annotation.build_gene_index`.
    options:
        Counting semantics (featureCounts defaults).
    threads:
        With an indexed, coordinate-sorted BAM and the fast engine, the BAM is split into
        regions counted by this many processes (same result as one pass, see
        :func:`redoxseq.counting.parallel.count_fast`); otherwise they become htslib
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
        return count_fast(
            bam, index, opt, contig_of_tid, paired, threads=threads, reference=reference
        )
    with open_alignments(bam, reference=reference, threads=threads) as handle:
        if opt.mode == "featurecounts":
            return count_pass_python(handle, index, opt, contig_of_tid, paired)
        counter = _HtseqCounter(index, opt, contig_of_tid, paired)
        return _run_htseq(handle, counter, paired)


# ---------------------------------------------------------------------------------------
# Samples, units, matrices
# ---------------------------------------------------------------------------------------


#: Columns of the strandedness evidence table after ``sample``.
STRAND_COLUMNS: tuple[str, ...] = (
    "requested",
    "chosen",
    "detected",
    "same_strand",
    "opposite_strand",
    "fraction_forward",
    "assigned_none",
    "assigned_forward",
    "assigned_reverse",
    "reason",
)


@dataclass(frozen=True)
class SampleCounts:
    """Counts of one sample (all its units summed) in the chosen strandedness mode.

    Plain arrays and values (no pandas); :attr:`counts`, :attr:`summary` and
    :attr:`strandedness` are pandas views made on access.

    Attributes
    ----------
    sample:
        Sample name.
    gene_ids:
        Genes in annotation order.
    values:
        Count per gene: int64 (float64 rounded to :data:`FRACTION_DECIMALS` decimals with
        fractional multimapping).
    unit_names:
        The sample's units, in the order of their BAM files.
    unit_summary:
        int64 categories (:data:`SUMMARY_CATEGORIES`) x [sample total, units...]:
        reads/fragments per featureCounts summary category.
    evidence:
        Strandedness evidence, keys :data:`STRAND_COLUMNS`: requested, chosen, detected,
        same_strand, opposite_strand, fraction_forward (nan without evidence), assigned reads
        under each mode (``assigned_none`` ...), reason.
    strandedness_used:
        The mode whose counts are reported.
    """

    sample: str
    gene_ids: Sequence[str]
    values: npt.NDArray[np.int64] | npt.NDArray[np.float64]
    unit_names: tuple[str, ...]
    unit_summary: npt.NDArray[np.int64]
    evidence: dict[str, Any]
    strandedness_used: FixedStrandedness

    @property
    def counts(self) -> pd.Series:
        """Series of :attr:`values` indexed by gene_id, named after the sample."""
        import pandas as pd

        return pd.Series(
            self.values, index=pd.Index(self.gene_ids, name="gene_id"), name=self.sample
        )

    @property
    def summary(self) -> pd.DataFrame:
        """DataFrame categories x [sample, units...] (index ``Status``) of :attr:`unit_summary`."""
        import pandas as pd

        return pd.DataFrame(
            self.unit_summary,
            index=pd.Index(SUMMARY_CATEGORIES, name="Status"),
            columns=[self.sample, *self.unit_names],
        )

    @property
    def strandedness(self) -> pd.DataFrame:
        """One-row DataFrame of :attr:`evidence`, index ``sample``."""
        import pandas as pd

        return pd.DataFrame([{"sample": self.sample, **self.evidence}]).set_index("sample")

    def strand_row(self) -> list[Any]:
        """The strandedness table's row: sample, then :attr:`evidence` in column order."""
        return [self.sample, *(self.evidence[c] for c in STRAND_COLUMNS)]


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
    _check_not_empty(sample, bams, total)
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
    values = total.counts[m]
    counts = (
        # fractional counts rounded to 6 decimals: sums over regions counted in parallel
        # differ from a sequential sum in the last bits, and the output must not depend on
        # the number of threads
        np.round(values, FRACTION_DECIMALS)
        if opt.multimapping == "fraction"
        else np.rint(values).astype(np.int64)
    )
    summary = np.stack([total.summary[m], *(r.summary[m] for r in per_unit)], axis=1)
    evidence: dict[str, Any] = {
        "requested": strandedness,
        "chosen": used,
        "detected": decision.chosen or "unclear",
        "same_strand": int(decision.same_strand),
        "opposite_strand": int(decision.opposite_strand),
        "fraction_forward": round(decision.fraction_forward, 6),
        "assigned_none": int(total.summary[0, ASSIGNED]),
        "assigned_forward": int(total.summary[1, ASSIGNED]),
        "assigned_reverse": int(total.summary[2, ASSIGNED]),
        "reason": decision.reason,
    }
    return SampleCounts(
        sample=sample,
        gene_ids=index.gene_ids,
        values=counts,
        unit_names=tuple(unit_names),
        unit_summary=summary.astype(np.int64),
        evidence=evidence,
        strandedness_used=used,
    )


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
    x units (reads/fragments per unit of the sample). Written without pandas, in the bytes
    :func:`redoxseq.io.write_tsv` gives the pandas views (:attr:`SampleCounts.counts` ...).
    """
    write_rows(
        counts_path,
        ["gene_id", "count"],
        zip(result.gene_ids, result.values.tolist(), strict=True),
    )
    with atomic_open(summary_path) as handle:
        handle.write(f"Status\t{result.sample}\n")
        for cat, value in zip(SUMMARY_CATEGORIES, result.unit_summary[:, 0].tolist(), strict=True):
            handle.write(f"{cat}\t{value}\n")
    write_rows(strandedness_path, ["sample", *STRAND_COLUMNS], [result.strand_row()])
    if units_summary_path is not None:
        write_rows(
            units_summary_path,
            ["Status", *result.unit_names],
            (
                [cat, *row]
                for cat, row in zip(
                    SUMMARY_CATEGORIES, result.unit_summary[:, 1:].tolist(), strict=True
                )
            ),
        )


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


def _check_not_empty(sample: str, bams: Sequence[PathLike], total: UnitCounts) -> None:
    """Stop on a sample whose files hold no reads, or none that reach a gene in any mode."""
    files = ", ".join(str(b) for b in bams)
    n_records = int(total.summary[0].sum())
    if n_records == 0:
        raise InputError(
            f"sample {sample}: its alignment file(s) hold no reads ({files}): an empty or failed "
            "library. Replace the file(s), or remove the sample from the sample sheet "
            "(config/samples.tsv) and its rows from the units sheet (config/units.tsv)"
        )
    if not total.summary[:, ASSIGNED].any():
        top = sorted(
            ((int(v), name) for name, v in zip(SUMMARY_CATEGORIES, total.summary[0], strict=True)),
            reverse=True,
        )[:3]
        reasons = ", ".join(f"{name} {v}" for v, name in top if v)
        raise InputError(
            f"sample {sample}: none of its {n_records} reads/fragments ({files}) is assigned to "
            f"a gene under any strandedness ({reasons}). Check that the annotation "
            "(annotation.gtf) belongs to the genome the reads were aligned to (contig names, "
            "assembly) and that the library is RNA-seq; or remove the sample from the sheets"
        )


def merge_counts(
    counts: Mapping[str, pd.DataFrame],
    summaries: Mapping[str, pd.DataFrame],
    strandedness: Mapping[str, pd.DataFrame],
    *,
    warn_fraction: float = 0.1,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Merge per-sample tables (as written by :func:`write_sample_counts`) into matrices.

    Parameters
    ----------
    counts, summaries, strandedness
        sample -> that sample's counts (genes x [count]), summary (categories x [sample,
        units...]) and strandedness evidence (one row), in sample order.
    warn_fraction
        Near-empty library warning threshold (:func:`check_library_sizes`).

    Returns
    -------
    counts:
        genes x samples integers, index gene_id, samples in the given order.
    summary:
        categories x samples, reads/fragments.
    strandedness:
        samples x evidence columns.
    """
    import pandas as pd

    from redoxseq.counting.countmatrix import check_library_sizes

    matrix = pd.concat({s: table["count"] for s, table in counts.items()}, axis=1)
    matrix.index.name = "gene_id"
    check_library_sizes(matrix, warn_fraction=warn_fraction, source="merged counts")
    summary = pd.concat({s: table.iloc[:, 0] for s, table in summaries.items()}, axis=1)
    summary.index.name = "Status"
    strand = pd.concat(list(strandedness.values()))
    return matrix, summary, strand
