"""Unit tests of redoxseq.counting: strandedness auto, units, errors, command line."""

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest

from redoxseq.cli import main
from redoxseq.counting.annotation import build_gene_index
from redoxseq.counting.sample import (
    _fast_available,
    count_bam,
    count_sample,
    merge_counts,
    options_from_config,
    write_sample_counts,
)
from redoxseq.counting.strandedness import choose_strandedness
from redoxseq.counting.types import CountOptions
from redoxseq.errors import ConfigError, InputError
from redoxseq.io import read_tsv

READS = Path(__file__).parents[1] / "data" / "reads"
YEAST = READS / "yeast"
GTF = YEAST / "Saccharomyces_cerevisiae.SGD1.01.56.gtf.gz"
BAM = YEAST / "yeast_RNASeq_excerpt.bam"


@pytest.fixture(scope="module")
def index():
    return build_gene_index(GTF)


def _flipped(src: Path, dst: Path, fraction: float, seed: int = 7) -> Path:
    """Copy of a forward-stranded BAM with the strand of ``fraction`` of the reads flipped."""
    rng = np.random.default_rng(seed)
    with (
        pysam.AlignmentFile(str(src)) as inp,
        pysam.AlignmentFile(str(dst), "wb", template=inp) as out,
    ):
        for read in inp.fetch(until_eof=True):
            if not read.is_unmapped and rng.random() < fraction:
                read.is_reverse = not read.is_reverse
            out.write(read)
    return dst


@pytest.mark.parametrize(
    ("fraction", "expected"), [(0.0, "forward"), (1.0, "reverse"), (0.5, "none")]
)
def test_auto_strandedness_picks_the_library_type(tmp_path, index, fraction, expected):
    bam = _flipped(BAM, tmp_path / "x.bam", fraction)
    result = count_sample("s", [bam], index, CountOptions(min_mapq=10))
    assert result.strandedness_used == expected
    assert result.strandedness.loc["s", "chosen"] == expected


def test_auto_strandedness_refuses_an_unclear_library(tmp_path, index):
    bam = _flipped(BAM, tmp_path / "x.bam", 0.3)
    with pytest.raises(InputError, match="cannot decide") as error:
        count_sample("s", [bam], index, CountOptions(min_mapq=10))
    assert "fraction forward 0.698" in str(error.value)
    # the user may set the mode by hand
    result = count_sample("s", [bam], index, CountOptions(min_mapq=10), strandedness="forward")
    assert result.strandedness_used == "forward"


def test_choose_strandedness_thresholds():
    opt = CountOptions()
    assert choose_strandedness(800, 200, opt).chosen == "forward"
    assert choose_strandedness(200, 800, opt).chosen == "reverse"
    assert choose_strandedness(550, 450, opt).chosen == "none"
    assert choose_strandedness(600, 400, opt).chosen == "none"
    assert choose_strandedness(650, 350, opt).chosen is None
    assert choose_strandedness(10, 0, opt).chosen is None  # too few reads


def test_units_are_summed_and_summaries_kept(tmp_path, index):
    single = count_sample("s", [BAM], index, CountOptions(min_mapq=10))
    double = count_sample("s", [BAM, BAM], index, CountOptions(min_mapq=10), units=["a", "b"])
    assert (double.counts == 2 * single.counts).all()
    assert list(double.summary.columns) == ["s", "a", "b"]
    assert (double.summary["a"] == single.summary["s"]).all()
    # every read accounted for: the categories add up to the 24,999 records of a unit
    assert double.summary["a"].sum() == 24999
    paths = [tmp_path / n for n in ("c.tsv", "c.tsv.summary", "st.tsv", "u.tsv")]
    write_sample_counts(double, *paths)
    assert paths[1].read_text().splitlines()[0] == "Status\ts"
    counts, summary, _strand = merge_counts(
        {"s": read_tsv(paths[0])}, {"s": read_tsv(paths[1])}, {"s": read_tsv(paths[2])}
    )
    assert counts["s"].sum() == double.counts.sum()
    assert summary.loc["Assigned", "s"] == double.summary.loc["Assigned", "s"]


@pytest.mark.skipif(not _fast_available(), reason="Cython engine not built")
def test_fast_engine_equals_reference(index):
    for options in (CountOptions(min_mapq=10), CountOptions(multimapping="fraction")):
        fast = count_bam(BAM, index, options, engine="fast")
        ref = count_bam(BAM, index, options, engine="python")
        assert np.array_equal(fast.counts, ref.counts)
        assert np.array_equal(fast.summary, ref.summary)
        assert (fast.same_strand, fast.opposite_strand) == (ref.same_strand, ref.opposite_strand)


def test_missing_bam_is_named(index):
    with pytest.raises(InputError, match=r"missing\.bam not found"):
        count_sample("s", ["missing.bam"], index)


def test_contig_names_without_overlap_show_examples_and_aliases(tmp_path):
    gtf = tmp_path / "chr.gtf.gz"
    with gzip.open(GTF, "rt") as inp, gzip.open(gtf, "wt") as out:
        for line in inp:
            out.write(line if line.startswith("#") else "chr" + line)
    index = build_gene_index(gtf)
    with pytest.raises(InputError, match="share no contig name") as error:
        count_bam(BAM, index)
    assert "chrI" in str(error.value) and "chrom_aliases" in str(error.value)
    aliased = count_bam(BAM, index, CountOptions(chrom_aliases={"*": "auto"}, min_mapq=10))
    plain = count_bam(BAM, build_gene_index(GTF), CountOptions(min_mapq=10))
    assert np.array_equal(aliased.counts, plain.counts)


def test_cram_without_reference_is_refused(tmp_path, index):
    cram = tmp_path / "x.cram"
    cram.write_bytes(b"CRAM")
    with pytest.raises(InputError, match="reference FASTA"):
        count_bam(cram, index)


@pytest.mark.parametrize("engine", ["python", "fast"] if _fast_available() else ["python"])
def test_truncated_bam_is_reported(tmp_path, index, engine):
    data = BAM.read_bytes()
    bad = tmp_path / "truncated.bam"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated"):
        count_bam(bad, index, engine=engine)


def test_options_from_config_rejects_bad_values():
    assert options_from_config({"strandedness": "auto", "min_mapq": 10}).min_mapq == 10
    with pytest.raises(ConfigError, match="multimapping"):
        options_from_config({"multimapping": "random"})


def test_command_line_writes_matrix_summary_and_evidence(tmp_path):
    out = tmp_path / "counts.tsv"
    status = main(
        [
            "count",
            "--gtf",
            str(GTF),
            "--min-mapq",
            "10",
            "-o",
            str(out),
            str(BAM),
            str(BAM),
            "--names",
            "a",
            "b",
        ]
    )
    assert status == 0
    counts = pd.read_csv(out, sep="\t", index_col=0)
    assert list(counts.columns) == ["a", "b"]
    assert counts["a"].sum() == 22159  # featureCounts -s 1 -Q 10 on the same reads
    summary = pd.read_csv(f"{out}.summary", sep="\t", index_col=0)
    assert summary.loc["Assigned", "b"] == 22159
    strand = pd.read_csv(f"{out}.strandedness.tsv", sep="\t", index_col=0)
    assert list(strand["chosen"]) == ["forward", "forward"]
    assert main(["count", "--gtf", str(GTF), "-o", str(out), "nope.bam"]) == 2


def test_empty_bam_stops_naming_the_sample_and_file(tmp_path, index):
    import pysam

    empty = tmp_path / "empty.bam"
    with pysam.AlignmentFile(str(BAM)) as source:
        header = source.header
    with pysam.AlignmentFile(str(empty), "wb", header=header):
        pass
    with pytest.raises(InputError, match=r"sample s1: .*hold no reads \(.*empty\.bam\)"):
        count_sample("s1", [empty], index, CountOptions())


def test_merge_stops_on_all_zero_sample_and_warns_on_near_empty(caplog):
    genes = pd.Index(["g1", "g2"], name="gene_id")
    table = {
        "a": pd.DataFrame({"count": [500, 500]}, index=genes),
        "b": pd.DataFrame({"count": [480, 520]}, index=genes),
        "c": pd.DataFrame({"count": [10, 20]}, index=genes),
    }
    summary = {s: pd.DataFrame({s: [1]}, index=["Assigned"]) for s in table}
    strand = {s: pd.DataFrame({"sample": [s]}) for s in table}
    with caplog.at_level("WARNING"):
        merge_counts(table, summary, strand, warn_fraction=0.1)
    assert "sample c has 30 counted reads, 3.0% of the median" in caplog.text
    table["b"] = pd.DataFrame({"count": [0, 0]}, index=genes)
    with pytest.raises(InputError, match="sample\\(s\\) b have no counted reads"):
        merge_counts(table, summary, strand, warn_fraction=0.1)
