"""Command line: ``redoxseq count`` (gene-level read counting outside Snakemake).

Example::

    redoxseq count --gtf genes.gtf.gz --strandedness auto --threads 4 -o counts.tsv a.bam b.bam

writes ``counts.tsv`` (genes x BAMs, integer counts, index gene_id), ``counts.tsv.summary``
(featureCounts' summary layout, categories x BAMs), ``counts.tsv.strandedness.tsv`` (strand
evidence per BAM) and ``counts.tsv.annotation.tsv`` (gene_name, gene_biotype, ...).
Each BAM is treated as its own sample, named after its file (``--names`` overrides).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from redoxseq.errors import RedoxseqError

logger = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="redoxseq", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    count = sub.add_parser(
        "count",
        help="count reads per gene (featureCounts semantics by default)",
        description="Count reads per gene from BAM/SAM/CRAM files with featureCounts' rules.",
    )
    count.add_argument("bams", nargs="+", metavar="BAM", help="BAM, SAM or CRAM files")
    ann = count.add_mutually_exclusive_group(required=True)
    ann.add_argument("--gtf", help="annotation: GTF (plain/.gz), GFF3 or SAF")
    ann.add_argument("--index", help="gene index written by 'redoxseq count --save-index'")
    count.add_argument("-o", "--output", required=True, help="count matrix (TSV)")
    count.add_argument(
        "--strandedness", default="auto", choices=["auto", "none", "forward", "reverse"]
    )
    count.add_argument("--paired", default="auto", choices=["auto", "yes", "no"])
    count.add_argument(
        "--threads",
        type=int,
        default=1,
        help="processes over regions of a coordinate-sorted, indexed BAM (same counts as one "
        "pass); other BAMs: htslib decompression threads",
    )
    count.add_argument("--names", nargs="+", help="sample names, one per BAM")
    count.add_argument("--reference", help="reference FASTA (needed for CRAM)")
    count.add_argument("--min-mapq", type=int, default=0, help="featureCounts -Q")
    count.add_argument("--min-overlap", type=int, default=1, help="featureCounts --minOverlap")
    count.add_argument(
        "--multimapping",
        default="none",
        choices=["none", "all", "fraction"],
        help="NH>1 reads: none (default), all (-M), fraction (-M --fraction)",
    )
    count.add_argument(
        "--multi-overlap",
        default="ambiguous",
        choices=["ambiguous", "largest", "all"],
        help="reads on several genes: ambiguous (default), largest (--largestOverlap), all (-O)",
    )
    count.add_argument("--both-mapped", action="store_true", help="featureCounts -B")
    count.add_argument("--skip-chimeric", action="store_true", help="featureCounts -C")
    count.add_argument("--ignore-dup", action="store_true", help="featureCounts --ignoreDup")
    count.add_argument("--primary", action="store_true", help="featureCounts --primary")
    count.add_argument(
        "--keep-qc-failed",
        action="store_true",
        help="count reads flagged 0x200 (featureCounts does)",
    )
    count.add_argument(
        "--mode",
        default="featurecounts",
        choices=["featurecounts", "union", "intersection-strict", "intersection-nonempty"],
        help="featurecounts (default) or an htseq-count overlap mode",
    )
    count.add_argument("--chrom-aliases", help="'auto' or a file 'annotation_name,bam_name'")
    count.add_argument("--engine", default="auto", choices=["auto", "fast", "python"])
    count.add_argument("--save-index", help="also write the parsed annotation index here")
    count.add_argument("-v", "--verbose", action="store_true")
    return parser


def _count(args: argparse.Namespace) -> None:
    # no pandas here: its import would cost a small BAM's count about 0.3 s; and no
    # OpenBLAS threads, which counting does not use
    from redoxseq.lazy import single_thread_blas

    single_thread_blas()
    import numpy as np

    from redoxseq.counting.alignments import read_alias_file
    from redoxseq.counting.annotation import (
        build_gene_index,
        load_gene_index,
        save_gene_index,
        write_gene_table,
    )
    from redoxseq.counting.sample import STRAND_COLUMNS, count_sample
    from redoxseq.counting.types import SUMMARY_CATEGORIES, CountOptions
    from redoxseq.io import write_rows

    start = time.perf_counter()
    index = build_gene_index(args.gtf) if args.gtf else load_gene_index(args.index)
    logger.info("annotation loaded in %.2f s", time.perf_counter() - start)
    if args.save_index:
        save_gene_index(index, args.save_index)
    options = CountOptions(
        paired=args.paired,
        require_both_mapped=args.both_mapped,
        skip_chimeric=args.skip_chimeric,
        multimapping=args.multimapping,
        primary_only=args.primary,
        min_mapq=args.min_mapq,
        min_overlap=args.min_overlap,
        multi_overlap=args.multi_overlap,
        ignore_duplicates=args.ignore_dup,
        drop_qc_failed=not args.keep_qc_failed,
        mode=args.mode,
        chrom_aliases=read_alias_file(args.chrom_aliases) if args.chrom_aliases else None,
    )
    names = args.names or [Path(b).name.rsplit(".", 1)[0] for b in args.bams]
    if len(names) != len(args.bams):
        raise RedoxseqError(f"--names gives {len(names)} names for {len(args.bams)} BAM files")
    results = [
        count_sample(
            name,
            [bam],
            index,
            options,
            strandedness=args.strandedness,
            threads=args.threads,
            reference=args.reference,
            engine=args.engine,
        )
        for name, bam in zip(names, args.bams, strict=True)
    ]
    matrix = np.stack([r.values for r in results], axis=1).tolist()
    write_rows(
        args.output,
        ["gene_id", *names],
        ([gene, *row] for gene, row in zip(index.gene_ids, matrix, strict=True)),
    )
    summary = np.stack([r.unit_summary[:, 0] for r in results], axis=1).tolist()
    write_rows(
        f"{args.output}.summary",
        ["Status", *names],
        ([cat, *row] for cat, row in zip(SUMMARY_CATEGORIES, summary, strict=True)),
    )
    write_rows(
        f"{args.output}.strandedness.tsv",
        ["sample", *STRAND_COLUMNS],
        [r.strand_row() for r in results],
    )
    write_gene_table(index, f"{args.output}.annotation.tsv")
    for r in results:
        logger.info(
            "%s: strandedness %s, %d assigned",
            r.sample,
            r.strandedness_used,
            int(r.unit_summary[0, 0]),  # row 0: Assigned
        )
    logger.info("done in %.2f s", time.perf_counter() - start)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``redoxseq`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    from redoxseq.logs import setup_logging

    setup_logging(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        if args.command == "count":
            _count(args)
    except RedoxseqError as error:
        logger.error("%s", error)
        sys.stderr.write(f"redoxseq {args.command}: error: {error}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
