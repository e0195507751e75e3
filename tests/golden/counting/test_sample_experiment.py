"""redoxseq's counts of the bundled sample experiment against featureCounts 2.0.3.

Golden made by ``sample_experiment/make_golden.py`` (featureCounts ``-p --countReadPairs
-s 2 -t exon -g gene_id``). redoxseq runs with its defaults (``strandedness: auto``,
``paired: auto``), as the workflow does: it must pick ``reverse`` and give identical gene
counts and summary categories.
"""

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from redoxseq.counting import parallel as counting_parallel
from redoxseq.counting.annotation import build_gene_index
from redoxseq.counting.sample import _fast_available, count_bam, count_sample
from redoxseq.counting.types import MODES, SUMMARY_CATEGORIES, CountOptions

ROOT = Path(__file__).parents[3]
EXPERIMENT = ROOT / "resources" / "sample_experiment"
GOLDEN = Path(__file__).parent / "sample_experiment"
#: summary categories defined as in featureCounts (Unassigned_QCFailed is redoxseq's own)
SHARED = [c for c in SUMMARY_CATEGORIES if c != "Unassigned_QCFailed"]

NEEDS_EXPERIMENT = pytest.mark.skipif(
    not (EXPERIMENT / "units.tsv").exists(), reason="sample experiment not generated"
)


def _recorded_inputs() -> dict[str, str]:
    lines = (GOLDEN / "VERSION").read_text().splitlines()
    start = lines.index("inputs (sha256, path):") + 1
    return {path: digest for digest, path in (line.split("\t") for line in lines[start:])}


@pytest.fixture(scope="module")
def golden():
    for path, digest in _recorded_inputs().items():
        actual = hashlib.sha256((EXPERIMENT / path).read_bytes()).hexdigest()
        assert actual == digest, (
            f"resources/sample_experiment/{path} changed since the featureCounts golden was "
            "made: run tests/golden/counting/sample_experiment/make_golden.py (needs "
            "featureCounts) and commit the new golden"
        )
    counts = pd.read_csv(GOLDEN / "featureCounts.counts.tsv.gz", sep="\t", index_col=0)
    summary = pd.read_csv(GOLDEN / "featureCounts.summary.tsv", sep="\t", index_col=0)
    units = pd.read_csv(EXPERIMENT / "units.tsv", sep="\t", dtype=str)
    return counts, summary, units, build_gene_index(EXPERIMENT / "annotation.gtf.gz")


def _check(result, counts, summary):
    sample = result.sample
    assert result.strandedness_used == "reverse"
    ours = result.counts.reindex(counts.index)
    assert ours.notna().all() and len(result.counts) == len(counts)
    diff = ours != counts[sample]
    assert not diff.any(), f"{sample}: {int(diff.sum())} genes differ, e.g. {ours[diff].head()}"
    expected = summary[sample].reindex(SHARED).astype("int64")
    assert result.summary[sample][SHARED].equals(expected), sample


@NEEDS_EXPERIMENT
@pytest.mark.skipif(not _fast_available(), reason="Cython engine not built")
def test_every_sample_matches_featurecounts(golden, monkeypatch):
    counts, summary, units, index = golden
    # split over 2 processes into many regions (the workflow's path with threads > 1)
    monkeypatch.setattr(counting_parallel, "REGIONS_PER_PROCESS", 8)
    for sample, bam in zip(units["sample"], units["bam"], strict=True):
        result = count_sample(sample, [ROOT / bam], index, threads=2)
        _check(result, counts, summary)


@NEEDS_EXPERIMENT
def test_reference_engine_matches_featurecounts(golden):
    counts, summary, units, index = golden
    sample, bam = units.iloc[0]["sample"], units.iloc[0]["bam"]
    _check(count_sample(sample, [ROOT / bam], index, engine="python"), counts, summary)


OPTIONS = {
    "-s 2": CountOptions(),
    "-s 2 -Q 10": CountOptions(min_mapq=10),
    "-s 2 -B": CountOptions(require_both_mapped=True),
    "-s 2 -C": CountOptions(skip_chimeric=True),
    "-s 2 -M": CountOptions(multimapping="all"),
    "-s 2 --primary": CountOptions(primary_only=True),
}


@pytest.mark.parametrize("engine", ["python", "fast"] if _fast_available() else ["python"])
def test_lone_unmapped_ends_are_judged_by_their_flags(engine):
    """An unmapped end whose mate is never found (HI differs) is NoFeatures, not Unmapped."""
    expected = pd.read_csv(GOLDEN / "lone_unmapped.summary.tsv", sep="\t", index_col=0)
    index = build_gene_index(GOLDEN / "annotation.gtf.gz")
    assert list(expected.columns) == list(OPTIONS)
    for args, options in OPTIONS.items():
        result = count_bam(GOLDEN / "lone_unmapped.bam", index, options, engine=engine)
        ours = pd.Series(result.summary[MODES.index("reverse")], index=SUMMARY_CATEGORIES)
        assert ours[SHARED].equals(expected[args].reindex(SHARED).astype("int64")), args
