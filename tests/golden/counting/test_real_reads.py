"""Counts on real reads against featureCounts 2.0.3 and htseq-count's shipped outputs.

Fixtures: tests/data/reads/{yeast,degnorm_chr21}/ (PROVENANCE.md there says where they
come from and which command made each reference file).
"""

from pathlib import Path

import pandas as pd
import pytest

from redoxseq.counting.annotation import build_gene_index
from redoxseq.counting.sample import _fast_available, count_bam
from redoxseq.counting.types import MODES, SUMMARY_CATEGORIES, CountOptions

READS = Path(__file__).parents[2] / "data" / "reads"
YEAST = READS / "yeast"
DEGNORM = READS / "degnorm_chr21"
ENGINES = ["python", "fast"] if _fast_available() else ["python"]
HTSEQ_SPECIAL = {
    "__no_feature": "Unassigned_NoFeatures",
    "__ambiguous": "Unassigned_Ambiguity",
    "__too_low_aQual": "Unassigned_MappingQuality",
    "__not_aligned": "Unassigned_Unmapped",
    "__alignment_not_unique": "Unassigned_MultiMapping",
}


def _featurecounts(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    counts = pd.read_csv(path, sep="\t", comment="#", index_col=0).iloc[:, 5:]
    summary = pd.read_csv(f"{path}.summary", sep="\t", index_col=0)
    return counts, summary


@pytest.mark.parametrize("engine", ENGINES)
def test_yeast_single_end_matches_featurecounts(engine):
    index = build_gene_index(YEAST / "Saccharomyces_cerevisiae.SGD1.01.56.gtf.gz")
    result = count_bam(
        YEAST / "yeast_RNASeq_excerpt.bam", index, CountOptions(min_mapq=10), engine=engine
    )
    counts, summary = _featurecounts(YEAST / "featureCounts_s1_Q10.txt")
    forward = MODES.index("forward")
    ours = pd.Series(result.counts[forward], index=index.gene_ids).astype(int)
    pd.testing.assert_series_equal(ours.reindex(counts.index), counts.iloc[:, 0], check_names=False)
    ours_summary = pd.Series(result.summary[forward], index=list(SUMMARY_CATEGORIES))
    for category, value in summary.iloc[:, 0].items():
        assert ours_summary[category] == value, category


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("both_chimera", [False, True])
def test_degnorm_paired_end_fragments_match_featurecounts(both_chimera, engine):
    index = build_gene_index(DEGNORM / "genes_chr21.gtf.gz")
    suffix = "_B_C" if both_chimera else ""
    counts, summary = _featurecounts(DEGNORM / f"featureCounts_pe_fragments_s0{suffix}.txt")
    options = CountOptions(require_both_mapped=both_chimera, skip_chimeric=both_chimera)
    for column, bam in zip(counts.columns, sorted(DEGNORM.glob("*.bam")), strict=True):
        assert Path(column).name == bam.name
        result = count_bam(bam, index, options, engine=engine)
        assert result.paired
        ours = pd.Series(result.counts[0], index=index.gene_ids).astype(int)
        pd.testing.assert_series_equal(
            ours.reindex(counts.index), counts[column], check_names=False
        )
        ours_summary = pd.Series(result.summary[0], index=list(SUMMARY_CATEGORIES))
        for category, value in summary[column].items():
            assert ours_summary[category] == value, (bam.name, category)


@pytest.mark.parametrize(
    ("gtf", "bam", "expected", "mode"),
    [
        # htseq-count -c out.tsv yeast_RNASeq_excerpt.sam ..._multiple_types.gtf.gz
        # (defaults: -m union -s yes -t exon -i gene_id -a 10)
        (
            "Saccharomyces_cerevisiae.SGD1.01.56_multiple_types.gtf.gz",
            "yeast_RNASeq_excerpt.bam",
            "yeast_RNASeq_excerpt_default_type.tsv",
            "union",
        ),
        # htseq-count -m intersection-nonempty --nonunique none --secondary-alignments ignore
        # --supplementary-alignments score yeast_RNASeq_excerpt_withNH.sam ...56.gtf.gz
        (
            "Saccharomyces_cerevisiae.SGD1.01.56.gtf.gz",
            "yeast_RNASeq_excerpt_withNH.bam",
            "yeast_RNASeq_excerpt_withNH_counts_ignore_secondary.tsv",
            "intersection-nonempty",
        ),
    ],
)
def test_htseq_mode_matches_htseq_count_expected_files(gtf, bam, expected, mode):
    index = build_gene_index(YEAST / gtf)
    options = CountOptions(mode=mode, min_mapq=10, paired="no")
    result = count_bam(YEAST / bam, index, options)
    forward = MODES.index("forward")
    table = pd.read_csv(YEAST / expected, sep="\t", header=None, index_col=0).iloc[:, 0]
    genes = [g for g in table.index if not g.startswith("__")]
    ours = pd.Series(result.counts[forward], index=index.gene_ids).astype(int)
    pd.testing.assert_series_equal(ours.reindex(genes), table[genes], check_names=False)
    ours_summary = pd.Series(result.summary[forward], index=list(SUMMARY_CATEGORIES))
    for special, category in HTSEQ_SPECIAL.items():
        assert ours_summary[category] == table[special], special
