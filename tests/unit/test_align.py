"""FASTQ route library: FASTQ integrity checks, HISAT2 index inputs, tool command lines."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from redoxseq.align.commands import (
    align_threads,
    fastp_command,
    hisat2_build_mem_mb,
    hisat2_command,
    hisat2_strandness,
)
from redoxseq.align.fastq import check_fastq, mate_name
from redoxseq.align.reference import exons, format_intervals, splice_sites
from redoxseq.config import load_samples, load_schema, load_units
from redoxseq.errors import ConfigError, InputError
from tests.conftest import REPO

SCHEMAS = REPO / "workflow" / "schemas"


def _fastq(path: Path, names: list[str], mate: int, *, gz: bool = True) -> Path:
    text = "".join(f"@{n} {mate}:N:0:1\nACGTACGTAC\n+\nIIIIIIIIII\n" for n in names)
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def test_mate_name_drops_comment_and_mate_suffix() -> None:
    assert mate_name(b"@r1/1\n") == mate_name(b"@r1/2\n") == b"r1"
    assert mate_name(b"@A:1:B 1:N:0:ACGT\n") == b"A:1:B"


def test_a_good_pair_is_counted(tmp_path) -> None:
    names = [f"r{i}" for i in range(5)]
    stats = check_fastq(
        "s/1",
        _fastq(tmp_path / "a_1.fq.gz", names, 1),
        _fastq(tmp_path / "a_2.fq", names, 2, gz=False),
    )
    assert (stats.reads, stats.paired, stats.max_length) == (5, True, 10)


def test_mismatched_mate_names_name_the_unit_both_files_and_the_record(tmp_path) -> None:
    fq1 = _fastq(tmp_path / "a_1.fq.gz", ["r1", "r2", "r3"], 1)
    fq2 = _fastq(tmp_path / "b_2.fq.gz", ["r1", "x2", "r3"], 2)
    with pytest.raises(InputError) as error:
        check_fastq("s1/lane1", fq1, fq2)
    message = str(error.value)
    assert "s1/lane1" in message and str(fq1) in message and str(fq2) in message
    assert "record 2" in message and "'x2'" in message


def test_truncated_gzip_names_the_unit_and_file(tmp_path) -> None:
    whole = _fastq(tmp_path / "whole.fq.gz", [f"r{i}" for i in range(2000)], 1).read_bytes()
    cut = tmp_path / "cut.fq.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match=r"unit s/1: .*cut\.fq\.gz.*truncated"):
        check_fastq("s/1", cut)


def test_files_of_different_length_are_reported(tmp_path) -> None:
    fq1 = _fastq(tmp_path / "a_1.fq.gz", ["r1", "r2", "r3"], 1)
    fq2 = _fastq(tmp_path / "a_2.fq.gz", ["r1", "r2"], 2)
    with pytest.raises(InputError, match=r"a_2\.fq\.gz ends after 2 records"):
        check_fastq("s/1", fq1, fq2)


def test_record_with_fewer_qualities_than_bases(tmp_path) -> None:
    bad = tmp_path / "bad.fq"
    bad.write_text("@r1\nACGT\n+\nII\n")
    with pytest.raises(InputError, match=r"bad\.fq: record 1 .* 4 bases but 2 qualities"):
        check_fastq("s/1", bad)


GTF = (
    # two-exon transcript on +: exons 101-200 and 301-400; a second isoform skips to 501-600
    'c1\tt\texon\t101\t200\t.\t+\t.\tgene_id "g1"; transcript_id "t1";\n'
    'c1\tt\texon\t301\t400\t.\t+\t.\tgene_id "g1"; transcript_id "t1";\n'
    'c1\tt\texon\t101\t200\t.\t+\t.\tgene_id "g1"; transcript_id "t2";\n'
    'c1\tt\texon\t501\t600\t.\t+\t.\tgene_id "g1"; transcript_id "t2";\n'
    # exons 3 bases apart are one exon for HISAT2 (gap <= 5)
    'c2\tt\texon\t10\t20\t.\t-\t.\tgene_id "g2"; transcript_id "t3";\n'
    'c2\tt\texon\t24\t40\t.\t-\t.\tgene_id "g2"; transcript_id "t3";\n'
    'c2\tt\tgene\t10\t40\t.\t-\t.\tgene_id "g2";\n'
)


def test_splice_sites_are_last_and_first_exon_bases_zero_based() -> None:
    sites = splice_sites(GTF.splitlines())
    # 1-based exon end 200 -> 0-based 199; next exon start 301 -> 0-based 300
    assert sites == [("c1", 199, 300, "+"), ("c1", 199, 500, "+")]
    assert format_intervals(sites).splitlines()[0] == "c1\t199\t300\t+"


def test_exons_are_merged_across_transcripts_zero_based() -> None:
    assert exons(GTF.splitlines()) == [
        ("c1", 100, 199, "+"),
        ("c1", 300, 399, "+"),
        ("c1", 500, 599, "+"),
        ("c2", 9, 39, "-"),
    ]


def test_strandedness_hint_follows_hisat2_conventions() -> None:
    assert hisat2_strandness("reverse", paired=True) == "RF"
    assert hisat2_strandness("reverse", paired=False) == "R"
    assert hisat2_strandness("forward", paired=True) == "FR"
    assert hisat2_strandness("auto", paired=True) is None
    assert hisat2_strandness("none", paired=False) is None


def test_commands_keep_user_paths_as_single_arguments() -> None:
    odd = "my reads/$(rm -rf x);.fq.gz"
    command = hisat2_command(
        "idx/g",
        [odd, "b.fq.gz"],
        threads=3,
        summary="s.txt",
        sample="S",
        unit="u",
        strandedness="reverse",
    )
    assert odd in command and command[command.index("-1") + 1] == odd
    assert command[command.index("--threads") + 1] == "3"
    assert "--reorder" in command and command[command.index("--rna-strandness") + 1] == "RF"
    trim = fastp_command(odd, "o.fq.gz", json="j", html="h", threads=2, title="S/u")
    assert odd in trim and "--in2" not in trim


def test_resources_grow_with_the_input() -> None:
    assert align_threads(10, 8) == 1 and align_threads(1000, 8) == 8
    human = hisat2_build_mem_mb(3_100_000_000, annotated=True)
    assert human > 160_000 > hisat2_build_mem_mb(3_100_000_000, annotated=False) > 8_000


@pytest.fixture()
def two_samples(tmp_path):
    return load_samples(
        _write(tmp_path / "s.tsv", "sample\tcell_line\nA\tx\nB\ty\n"),
        load_schema(SCHEMAS / "samples.schema.yaml"),
    )


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_units_sheet_takes_fastq_pairs(tmp_path, two_samples) -> None:
    for name in ("a_1.fq.gz", "a_2.fq.gz", "b.fastq"):
        (tmp_path / name).write_text("")
    sheet = _write(
        tmp_path / "u.tsv",
        f"sample\tunit\tfq1\tfq2\nA\t1\t{tmp_path}/a_1.fq.gz\t{tmp_path}/a_2.fq.gz\n"
        f"B\t1\t{tmp_path}/b.fastq\t\n",
    )
    units = load_units(sheet, load_schema(SCHEMAS / "units.schema.yaml"), two_samples)
    assert units.loc[("A", "1"), "fq2"].endswith("a_2.fq.gz")
    assert units.loc[("B", "1"), "fq2"] == "" and units.loc[("B", "1"), "bam"] == ""


def test_fastq_for_a_sample_that_lists_a_bam_names_unit_and_file(tmp_path, two_samples) -> None:
    (tmp_path / "a.fq.gz").write_text("")
    sheet = _write(
        tmp_path / "u.tsv",
        f"sample\tunit\tbam\tfq1\nA\tl1\ta.bam\t\nA\tl2\t\t{tmp_path}/a.fq.gz\nB\tl1\tb.bam\t\n",
    )
    with pytest.raises(ConfigError) as error:
        load_units(sheet, load_schema(SCHEMAS / "units.schema.yaml"), two_samples)
    message = str(error.value)
    assert "sample A" in message and "unit l2" in message and "a.fq.gz" in message
    assert "a.bam" in message


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("A\tl1\ta.bam\tx.fq.gz\t", "lists both a BAM"),
        ("A\tl1\t\t\tx_2.fq.gz", "fq2 .* without fq1"),
        ("A\tl1\t\t\t", "neither bam nor fq1"),
        ("A\tl1\t\tmissing.fq.gz\t", "fq1 file missing.fq.gz not found"),
    ],
)
def test_bad_fastq_rows_name_line_sample_and_unit(tmp_path, two_samples, row, expected) -> None:
    sheet = _write(tmp_path / "u.tsv", f"sample\tunit\tbam\tfq1\tfq2\n{row}\nB\tl1\tb.bam\t\t\n")
    with pytest.raises(ConfigError, match=rf"line 2 \(sample A, unit l1\): .*{expected}"):
        load_units(sheet, load_schema(SCHEMAS / "units.schema.yaml"), two_samples)


@pytest.mark.slow
def test_dry_run_stops_on_a_fastq_unit_of_a_sample_with_a_bam(tmp_path) -> None:
    import shutil
    import subprocess

    from tests.conftest import BIN

    work = tmp_path / "work"
    shutil.copytree(REPO / "config", work / "config")
    (work / "resources").symlink_to(REPO / "resources")
    fastq = tmp_path / "extra_R1.fastq.gz"
    fastq.write_bytes(gzip.compress(b"@r\nACGT\n+\nIIII\n"))
    units = (
        (work / "config" / "units.tsv")
        .read_text(encoding="utf-8")
        .replace("sample\tunit\tbam\n", "sample\tunit\tbam\tfq1\n")
    )
    units = units.rstrip("\n").replace(".bam\n", ".bam\t\n") + "\t\n"
    units += f"sensitive_vehicle_1\tlane2\t\t{fastq}\n"
    (work / "config" / "units.tsv").write_text(units, encoding="utf-8")
    result = subprocess.run(
        [str(BIN / "snakemake"), "-n", "--snakefile", str(REPO / "Snakefile"),
         "--directory", str(work), "--cores", "1"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "sample sensitive_vehicle_1: unit lane2 lists FASTQ" in output and str(fastq) in output
