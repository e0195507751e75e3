"""Tests for the deterministic sample-experiment simulator (redoxseq.sim.experiment)."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest

from redoxseq.sim.experiment import (
    DEFAULT_OUTDIR,
    DEFAULT_SEED,
    SimulationParams,
    SimulationResult,
    sample_table,
    simulate_experiment,
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    out = tmp_path_factory.mktemp("tiny")
    return simulate_experiment(out, seed=DEFAULT_SEED, params=SimulationParams.tiny())


def _records(bam: Path) -> list[pysam.AlignedSegment]:
    with pysam.AlignmentFile(str(bam), "rb") as handle:
        return list(handle.fetch(until_eof=True))


def test_bams_sorted_indexed_and_headers_clean(tiny: SimulationResult) -> None:
    for sample in tiny.read_categories.index:
        bam = tiny.outdir / "bams" / f"{sample}.bam"
        assert Path(str(bam) + ".bai").exists()
        with pysam.AlignmentFile(str(bam), "rb") as handle:
            header = handle.header.to_dict()
            assert header["HD"]["SO"] == "coordinate"
            assert "PG" not in header
            # the index answers region queries with every placed record
            placed = sum(handle.count(contig=c) for c in handle.references)
        records = _records(bam)
        keys = [
            (r.reference_id if r.reference_id >= 0 else 1 << 30, r.reference_start) for r in records
        ]
        assert keys == sorted(keys)
        assert placed == sum(1 for r in records if r.reference_id >= 0)


def test_flags_nh_and_mates_consistent(tiny: SimulationResult) -> None:
    bam = tiny.outdir / "bams" / "sensitive_vehicle_1.bam"
    by_name: dict[str, list[pysam.AlignedSegment]] = {}
    for r in _records(bam):
        assert r.is_paired
        by_name.setdefault(r.query_name or "", []).append(r)
        if not r.is_unmapped:
            nh = r.get_tag("NH")
            assert r.mapping_quality == {1: 255, 2: 3, 3: 1, 4: 1}.get(nh, 0)
            assert 1 <= r.get_tag("HI") <= nh
            assert r.is_secondary == (r.get_tag("HI") > 1)
    for records in by_name.values():
        primaries = [r for r in records if not r.is_secondary]
        assert sorted((r.is_read1, r.is_read2) for r in primaries) == [(False, True), (True, False)]
        mapped = [r for r in records if not r.is_unmapped]
        if mapped:
            nh = mapped[0].get_tag("NH")
            assert len(mapped) == 2 * nh or (nh == 1 and len(mapped) == 1)
        for r in records:
            if r.is_unmapped or r.mate_is_unmapped:
                continue
            mate = [
                m
                for m in records
                if m.is_read1 != r.is_read1
                and not m.is_unmapped
                and m.get_tag("HI") == r.get_tag("HI")
            ]
            assert len(mate) == 1
            assert r.next_reference_start == mate[0].reference_start
            assert r.mate_is_reverse == mate[0].is_reverse
            assert r.template_length == -mate[0].template_length
            assert r.is_proper_pair


def test_reverse_stranded_and_spliced(tiny: SimulationResult) -> None:
    """Read 1 is antisense to the gene it came from (dUTP); spliced reads exist."""
    genes: dict[str, list[tuple[int, int, str]]] = {}
    gtf = pd.read_csv(tiny.outdir / "annotation.gtf.gz", sep="\t", comment="#", header=None)
    gene_rows = gtf[gtf[2] == "gene"]
    for row in gene_rows.itertuples():
        genes.setdefault(str(row[1]), []).append((row[4] - 1, row[5], row[7]))
    agree = disagree = spliced = 0
    for r in _records(tiny.outdir / "bams" / "resistant_vehicle_1.bam"):
        if r.is_unmapped or r.is_secondary or r.get_tag("NH") != 1:
            continue
        spliced += any(op == 3 for op, _ in r.cigartuples or [])
        hits = [g for g in genes[str(r.reference_name)] if g[0] <= r.reference_start < g[1]]
        if len(hits) != 1:
            continue
        strand = hits[0][2]
        read_strand = "-" if r.is_reverse else "+"
        antisense = read_strand != strand
        if r.is_read1 == antisense:
            agree += 1
        else:
            disagree += 1
    assert spliced > 0
    # intergenic reads (either strand) may sit near genes; the bulk must be dUTP-stranded
    assert agree > 20 * max(disagree, 1) or disagree == 0


def test_every_read_category_present(tiny: SimulationResult) -> None:
    totals = tiny.read_categories.sum()
    for category in (
        "exonic_unique",
        "exonic_multimapper",
        "intronic",
        "intergenic",
        "singleton",
        "unmapped_pair",
        "duplicate",
    ):
        assert totals[category] > 0, category
    flags = [r.flag for r in _records(tiny.outdir / "bams" / "sensitive_sorafenib_2.bam")]
    assert any(f & 0x400 for f in flags)
    assert any(f & 0x100 for f in flags)
    assert any(f & 0x4 and f & 0x8 for f in flags)
    assert any(f & 0x4 and not f & 0x8 for f in flags)


def test_truth_matches_group_means(tiny: SimulationResult) -> None:
    """True lfc = differences of log2 group means of the expected counts; zeros are exact."""
    truth = tiny.truth.set_index("gene_id")
    counts = tiny.fragment_counts
    assert list(truth.index) == list(counts.index)
    inter = truth["lfc_sorafenib_response_resistant_vs_sensitive"]
    diff = (
        truth["lfc_sorafenib_vs_vehicle_in_resistant"]
        - truth["lfc_sorafenib_vs_vehicle_in_sensitive"]
    )
    assert np.allclose(inter, diff, atol=1e-6)
    unchanged = truth["category"] == "unchanged"
    lfc_cols = [c for c in truth.columns if c.startswith("lfc_")]
    assert (truth.loc[unchanged, lfc_cols] == 0).all().all()
    nrf2 = truth["category"] == "nrf2_target"
    assert (truth.loc[nrf2, "lfc_resistant_vs_sensitive"] >= math.log2(3)).all()
    assert (truth.loc[truth["category"] == "pseudogene", "base_mean"] == 0).all()
    written = pd.read_csv(tiny.outdir / "truth.tsv", sep="\t", index_col=0)
    pd.testing.assert_frame_equal(written, truth, check_exact=False)


def test_other_seed_gives_other_reads(tiny: SimulationResult, tmp_path: Path) -> None:
    other = simulate_experiment(tmp_path, seed=DEFAULT_SEED + 1, params=SimulationParams.tiny())
    name = "bams/sensitive_vehicle_1.bam"
    assert _sha(other.outdir / name) != _sha(tiny.outdir / name)
    again = simulate_experiment(
        tmp_path / "again", seed=DEFAULT_SEED, params=SimulationParams.tiny()
    )
    for path in tiny.files:
        rel = path.relative_to(tiny.outdir)
        assert _sha(again.outdir / rel) == _sha(path), rel


@pytest.mark.slow
def test_committed_sample_experiment_is_reproduced(tmp_path: Path) -> None:
    """Regenerating with the default seed gives the committed files byte for byte."""
    result = simulate_experiment(tmp_path, seed=DEFAULT_SEED)
    generated = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {
        p.relative_to(DEFAULT_OUTDIR).as_posix()
        for p in DEFAULT_OUTDIR.rglob("*")
        if p.is_file() and p.relative_to(DEFAULT_OUTDIR).parts[0] not in ("source", "fastq")
    }
    # The FASTQ of the sample experiment are written on demand from the BAMs
    # (python -m redoxseq.simulate --fastq; not committed), with their units sheet.
    from redoxseq.sim.fastq import write_fastq

    write_fastq(tmp_path, list(sample_table()["sample"]))
    generated = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert {g for g in generated if not g.startswith("fastq/")} == committed
    for rel in sorted(generated):
        if (DEFAULT_OUTDIR / rel).exists():  # fastq/ exists where setup.sh wrote it
            assert _sha(tmp_path / rel) == _sha(DEFAULT_OUTDIR / rel), rel
    on_demand = {g for g in generated if g.startswith("fastq/") or g == "units_fastq.tsv"}
    assert len(result.files) == len(generated - on_demand)
