# ruff: noqa: E501 (GTF lines)
"""Unit tests of redoxseq.annotation: GTF/GFF3/SAF parsing and the segment index."""

import numpy as np
import pytest

from redoxseq.annotation import build_gene_index, gene_table, load_gene_index, save_gene_index
from redoxseq.errors import InputError

GTF = """\
#!comment
c1\tt\tgene\t101\t250\t.\t+\t.\tgene_id "G1";
c1\tt\texon\t101\t200\t.\t+\t.\tgene_id "G1"; transcript_id "T1"; gene_name "One"; gene_biotype "protein_coding";
c1\tt\texon\t151\t250\t.\t+\t.\tgene_id "G1"; transcript_id "T2";
c1\tt\texon\t241\t300\t.\t-\t.\tgene_id "G2"; transcript_id "T3"; gene_name "Two"; gene_type "lncRNA";
c2\tt\texon\t1\t10\t.\t-\t.\tgene_id "G3"; transcript_id "T4";
"""


def test_gtf_gene_table_and_segments(tmp_path):
    path = tmp_path / "a.gtf"
    path.write_text(GTF)
    index = build_gene_index(path)
    table = gene_table(index)
    assert list(table.index) == ["G1", "G2", "G3"]
    assert table.loc["G1"].to_dict() == {
        "gene_name": "One",
        "gene_biotype": "protein_coding",
        "chrom": "c1",
        "start": 101,
        "end": 250,
        "strand": "+",
        "length": 150,
    }
    assert table.loc["G2", "gene_biotype"] == "lncRNA"
    assert table.loc["G2", "length"] == 60
    segs = index.contigs["c1"]
    # [100,240) G1+, [240,250) G1+ and G2-, [250,300) G2-
    assert segs.start.tolist() == [100, 240, 250]
    assert segs.end.tolist() == [240, 250, 300]
    assert [
        sorted(segs.keys[a:b] // 3) for a, b in zip(segs.ptr[:-1], segs.ptr[1:], strict=True)
    ] == [
        [0],
        [0, 1],
        [1],
    ]


def test_missing_gene_id_names_the_line(tmp_path):
    path = tmp_path / "bad.gtf"
    path.write_text(GTF + 'c1\tt\texon\t5\t9\t.\t+\t.\ttranscript_id "T9";\n')
    with pytest.raises(InputError, match=r"line 7.*gene_id"):
        build_gene_index(path)


def test_gff3_exons_resolve_to_genes(tmp_path):
    path = tmp_path / "a.gff3"
    path.write_text(
        "##gff-version 3\n"
        "c1\tt\tgene\t101\t300\t.\t+\t.\tID=gene:G1;Name=One;biotype=protein_coding\n"
        "c1\tt\tmRNA\t101\t300\t.\t+\t.\tID=transcript:T1;Parent=gene:G1\n"
        "c1\tt\texon\t101\t200\t.\t+\t.\tParent=transcript:T1\n"
        "c1\tt\texon\t251\t300\t.\t+\t.\tParent=transcript:T1\n"
    )
    table = gene_table(build_gene_index(path))
    assert table.loc["G1"].to_dict()["length"] == 150
    assert table.loc["G1", "gene_name"] == "One"


def test_index_round_trip(tmp_path):
    path = tmp_path / "a.gtf"
    path.write_text(GTF)
    index = build_gene_index(path)
    save_gene_index(index, tmp_path / "i.pkl")
    again = load_gene_index(tmp_path / "i.pkl")
    assert again.genes.equals(index.genes)
    assert np.array_equal(again.contigs["c1"].keys, index.contigs["c1"].keys)
    with pytest.raises(InputError, match="not found"):
        load_gene_index(tmp_path / "missing.pkl")
