"""Splitting one BAM over processes gives exactly the counts of one sequential pass."""

import itertools
import logging
import shutil
from pathlib import Path

import numpy as np
import pysam
import pytest

from redoxseq.counting import parallel as counting_parallel
from redoxseq.counting.annotation import build_gene_index
from redoxseq.counting.sample import _fast_available, count_bam, count_sample
from redoxseq.counting.types import CountOptions

pytestmark = pytest.mark.skipif(not _fast_available(), reason="Cython engine not built")

READS = Path(__file__).parents[1] / "data" / "reads"
DEGNORM = READS / "degnorm_chr21"
FUZZ = Path(__file__).parents[1] / "golden" / "counting" / "fuzz"
OPTIONS = [
    CountOptions(paired="yes"),
    CountOptions(paired="yes", require_both_mapped=True, skip_chimeric=True),
    CountOptions(paired="yes", multimapping="fraction", multi_overlap="largest", min_mapq=5),
]


@pytest.fixture(autouse=True)
def split_small_files(request, monkeypatch):
    """The test BAMs are small: split them anyway (the default counts them in one pass)."""
    if request.node.originalname != "test_small_bam_is_counted_in_one_pass":
        monkeypatch.setattr(counting_parallel, "SPLIT_MIN_BYTES", 0)


@pytest.fixture(scope="module")
def chr21_index():
    return build_gene_index(DEGNORM / "genes_chr21.gtf.gz")


@pytest.fixture(scope="module")
def indexed_bam(tmp_path_factory):
    """A real chr21 excerpt (mates outside the window are absent) with a .bai."""
    bam = tmp_path_factory.mktemp("split") / "chr21.bam"
    shutil.copy(DEGNORM / "SRR873822_chr21_9900000-10000000.bam", bam)
    pysam.index(str(bam))
    return bam


def _same(a, b):
    assert np.array_equal(a.summary, b.summary)
    assert np.allclose(a.counts, b.counts, rtol=0, atol=1e-9)
    assert (a.same_strand, a.opposite_strand) == (b.same_strand, b.opposite_strand)


@pytest.mark.parametrize("options", OPTIONS)
def test_split_bam_equals_one_pass(indexed_bam, chr21_index, options, monkeypatch, caplog):
    # ~100 regions on one contig: many pairs straddle a region boundary
    monkeypatch.setattr(counting_parallel, "REGIONS_PER_PROCESS", 50)
    one = count_bam(indexed_bam, chr21_index, options, threads=1)
    with caplog.at_level(logging.INFO, logger="redoxseq.counting.parallel"):
        split = count_bam(indexed_bam, chr21_index, options, threads=2)
    assert "regions on 2 processes" in caplog.text
    _same(one, split)
    _same(one, count_bam(indexed_bam, chr21_index, options, engine="python"))


def test_chimeric_pairs_across_contigs_are_paired_in_the_parent(monkeypatch):
    """fuzz/pe.bam: 3 contigs, mates on other contigs, unplaced reads at the end."""
    index = build_gene_index(FUZZ / "annotation.gtf")
    monkeypatch.setattr(counting_parallel, "REGIONS_PER_PROCESS", 20)
    for options in (*OPTIONS, CountOptions(paired="yes", skip_chimeric=True)):
        _same(
            count_bam(FUZZ / "pe.bam", index, options, threads=1),
            count_bam(FUZZ / "pe.bam", index, options, threads=3),
        )


def test_plan_regions_partition_each_contig(indexed_bam):
    with pysam.AlignmentFile(str(indexed_bam)) as handle:
        regions = counting_parallel.plan_regions(handle, 10)
        tid = handle.get_tid("chr21")
        length = handle.get_reference_length("chr21")
    assert len(regions) >= 5
    assert {r[0] for r in regions} == {tid}
    assert regions[0][1] == 0 and regions[-1][2] > length
    assert all(a[2] == b[1] for a, b in itertools.pairwise(regions))


@pytest.mark.parametrize("layout", ["name-sorted", "unindexed"])
def test_unsorted_or_unindexed_bam_is_streamed(tmp_path, indexed_bam, chr21_index, layout, caplog):
    other = tmp_path / f"{layout}.bam"
    if layout == "name-sorted":
        pysam.sort("-n", "-o", str(other), str(indexed_bam))
    else:
        shutil.copy(indexed_bam, other)
    with caplog.at_level(logging.INFO, logger="redoxseq.counting.parallel"):
        result = count_bam(other, chr21_index, OPTIONS[1], threads=2)
    expected = "sort order 'queryname'" if layout == "name-sorted" else "not indexed"
    assert expected in caplog.text and "samtools index" in caplog.text
    _same(result, count_bam(indexed_bam, chr21_index, OPTIONS[1], threads=1))


def test_fractional_counts_do_not_depend_on_threads(indexed_bam, chr21_index, monkeypatch):
    monkeypatch.setattr(counting_parallel, "REGIONS_PER_PROCESS", 50)
    options = CountOptions(paired="yes", multimapping="fraction")
    one = count_sample("s", [indexed_bam], chr21_index, options, strandedness="none")
    two = count_sample("s", [indexed_bam], chr21_index, options, strandedness="none", threads=2)
    assert one.counts.equals(two.counts)


def test_small_bam_is_counted_in_one_pass(indexed_bam, chr21_index, caplog):
    """Below SPLIT_MIN_BYTES no process pool is started; the counts are the same."""
    assert indexed_bam.stat().st_size < counting_parallel.SPLIT_MIN_BYTES
    with caplog.at_level(logging.INFO, logger="redoxseq.counting.parallel"):
        result = count_bam(indexed_bam, chr21_index, OPTIONS[0], threads=2)
    assert "one pass" in caplog.text and "processes" not in caplog.text
    _same(result, count_bam(indexed_bam, chr21_index, OPTIONS[0], threads=1))
