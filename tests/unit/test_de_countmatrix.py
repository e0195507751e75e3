"""User count matrices (featureCounts or plain tables): matching to samples, clear errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from redoxseq.counting.countmatrix import gene_annotation_from_gtf, import_count_matrix
from redoxseq.errors import InputError

SAMPLES = ["ctrl_1", "ctrl_2", "drug_1"]

FEATURECOUNTS = (
    '# Program:featureCounts v2.0.3; Command:"featureCounts" "-a" "genes.gtf"\n'
    "Geneid\tChr\tStart\tEnd\tStrand\tLength\tbams/ctrl_1.bam\tbams/ctrl_2.bam\tbams/drug_1.bam\n"
    "g1\tchr1;chr1\t100;300\t200;400\t+;+\t202\t5\t0\t7\n"
    "g2\tchr2\t10\t50\t-\t41\t1\t2\t3\n"
)

GTF = (
    'chr1\tsrc\tgene\t100\t400\t.\t+\t.\tgene_id "g1"; gene_name "Gpx4"; '
    'gene_biotype "protein_coding";\n'
    'chr1\tsrc\texon\t100\t200\t.\t+\t.\tgene_id "g1"; transcript_id "t1";\n'
    'chr1\tsrc\texon\t150\t250\t.\t+\t.\tgene_id "g1"; transcript_id "t2";\n'
    'chr1\tsrc\texon\t300\t400\t.\t+\t.\tgene_id "g1"; transcript_id "t1";\n'
)


def _write(tmp_path: Path, text: str, name: str = "counts.tsv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_featurecounts_output_is_matched_by_bam_name(tmp_path: Path) -> None:
    counts, annotation = import_count_matrix(_write(tmp_path, FEATURECOUNTS), SAMPLES)
    assert list(counts.columns) == SAMPLES
    assert counts.loc["g1"].tolist() == [5, 0, 7]
    assert str(counts.dtypes.iloc[0]) == "int64"
    assert annotation.loc["g1", ["chrom", "start", "end", "length"]].tolist() == [
        "chr1",
        100,
        400,
        202,
    ]
    assert annotation.loc["g1", "gene_name"] == "g1"  # no GTF: the ID stands in


def test_gene_symbols_from_gtf(tmp_path: Path) -> None:
    gtf = tmp_path / "genes.gtf.gz"
    with gzip.open(gtf, "wt") as handle:
        handle.write(GTF)
    table = gene_annotation_from_gtf(gtf)
    assert table.loc["g1", "gene_name"] == "Gpx4"
    assert table.loc["g1", "length"] == 151 + 101  # union of exons 100-250 and 300-400
    _, annotation = import_count_matrix(_write(tmp_path, FEATURECOUNTS), SAMPLES, gtf=gtf)
    assert annotation.loc["g1", "gene_name"] == "Gpx4"
    assert annotation.loc["g2", "gene_name"] == "g2"


def test_annotation_table_and_plain_csv_matrix(tmp_path: Path) -> None:
    matrix = _write(tmp_path, "gene,drug_1,ctrl_1,ctrl_2,extra\ng1,1,2,3,4\ng2,0,0,0,9\n", "m.csv")
    table = _write(tmp_path, "gene_id\tgene_name\ng1\tNfe2l2\n", "ann.tsv")
    counts, annotation = import_count_matrix(matrix, SAMPLES, annotation_table=table)
    assert list(counts.columns) == SAMPLES  # sample-sheet order; 'extra' dropped
    assert counts.loc["g1"].tolist() == [2, 3, 1]
    assert annotation.loc["g1", "gene_name"] == "Nfe2l2"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("g1\t1\t2.5\t3\n", "count 2.5 for gene 'g1' in sample column 'ctrl_2' is not an integer"),
        ("g1\t1\t-2\t3\n", "negative count -2 for gene 'g1'"),
        ("g1\t1\t\t3\n", "missing count for gene 'g1' in sample column 'ctrl_2'"),
        ("g1\t1\tabc\t3\n", "count 'abc' for gene 'g1'"),
        ("g1\t1\t2\t3\ng1\t4\t5\t6\n", "duplicate gene ID.*g1"),
    ],
)
def test_bad_counts_are_clear_errors(tmp_path: Path, body: str, message: str) -> None:
    path = _write(tmp_path, "gene_id\tctrl_1\tctrl_2\tdrug_1\n" + body)
    with pytest.raises(InputError, match=message):
        import_count_matrix(path, SAMPLES)


def test_sample_missing_from_matrix_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "gene_id\tctrl_1\tctrl_2\ng1\t1\t2\n")
    with pytest.raises(InputError, match="sample\\(s\\) drug_1 of the sample sheet have no column"):
        import_count_matrix(path, SAMPLES)


def test_many_missing_samples_are_listed_in_short(tmp_path: Path) -> None:
    """A sheet of hundreds of samples against the wrong matrix: a readable message."""
    sheet = [f"tumour_{i:03d}" for i in range(300)]
    path = _write(tmp_path, "gene_id\t" + "\t".join(f"TCGA_{i}" for i in range(300)) + "\n")
    with pytest.raises(InputError) as error:
        import_count_matrix(path, sheet)
    message = str(error.value)
    assert "sample(s) tumour_000, tumour_001," in message
    assert "tumour_009, ... (290 more) of the sample sheet have no column" in message
    assert "TCGA_29, ... (270 more). Name the columns" in message
    assert "tumour_299" not in message and len(message) < 1000


def test_annotation_table_with_duplicate_ids_names_them_and_how_many(tmp_path: Path) -> None:
    rows = "".join(f"g{i}\tA{i}\ng{i}\tB{i}\n" for i in range(8))
    table = _write(tmp_path, "gene_id\tgene_name\n" + rows, "ann.tsv")
    with pytest.raises(InputError) as error:
        import_count_matrix(_write(tmp_path, FEATURECOUNTS), SAMPLES, annotation_table=table)
    assert "ann.tsv: 8 duplicate gene_id(s): g0, g1, g2, g3, g4, ... (3 more)" in str(error.value)


def test_annotation_with_other_ids_is_an_error(tmp_path: Path) -> None:
    table = _write(tmp_path, "gene_id\tgene_name\nENSG1\tA\n", "ann.tsv")
    with pytest.raises(InputError, match="none of the count matrix's gene IDs"):
        import_count_matrix(_write(tmp_path, FEATURECOUNTS), SAMPLES, annotation_table=table)


def test_truncated_gzip_matrix_is_an_input_error(tmp_path: Path) -> None:
    rows = "".join(f"g{i}\t{i}\t{i}\t{i}\n" for i in range(50000))
    data = gzip.compress(("gene_id\t" + "\t".join(SAMPLES) + "\n" + rows).encode())
    path = tmp_path / "counts.tsv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated or corrupt"):
        import_count_matrix(path, SAMPLES)
