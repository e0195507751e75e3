# ruff: noqa: E501 (GTF lines)
"""Unit tests of redoxseq.counting.annotation: GTF/GFF3/SAF parsing and the segment index."""

import numpy as np
import pytest

from redoxseq.counting.annotation import (
    build_gene_index,
    gene_table,
    load_gene_index,
    save_gene_index,
)
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


GFF3_LINES = (
    "c1\tt\tgene\t101\t300\t.\t+\t.\tID=gene:G1;Name=One;biotype=protein_coding\n"
    "c1\tt\tmRNA\t101\t300\t.\t+\t.\tID=transcript:T1;Parent=gene:G1\n"
    "c1\tt\texon\t101\t200\t.\t+\t.\tParent=transcript:T1\n"
    "c1\tt\texon\t251\t300\t.\t+\t.\tParent=transcript:T1\n"
)


@pytest.mark.parametrize("header", ["##gff-version 3\n", ""], ids=["with-pragma", "no-pragma"])
def test_gff3_named_gtf_is_read_as_gff3(tmp_path, caplog, header):
    """A GFF3 file with a .gtf name: recognised by its lines, not blamed for lacking gene_id."""
    path = tmp_path / "genes.gtf"
    path.write_text(header + GFF3_LINES)
    with caplog.at_level("WARNING"):
        table = gene_table(build_gene_index(path))
    assert table.loc["G1", "gene_name"] == "One" and table.loc["G1", "length"] == 150
    assert "named like a GTF file but written as GFF3" in caplog.text


def test_gff3_named_gtf_gives_symbols_to_a_count_matrix(tmp_path):
    from redoxseq.counting.countmatrix import gene_annotation_from_gtf

    path = tmp_path / "genes.gtf"
    path.write_text(GFF3_LINES)
    assert gene_annotation_from_gtf(path).loc["G1", "gene_name"] == "One"


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


def _oracle(exons):
    """Per-base brute force: maximal runs of bases with the same non-empty key set."""
    cover: dict[int, set[int]] = {}
    for s, e, k in exons:
        for pos in range(s, e):
            cover.setdefault(pos, set()).add(k)
    segs: list[list] = []
    for pos in sorted(cover):
        keys = sorted(cover[pos])
        if segs and segs[-1][1] == pos and segs[-1][2] == keys:
            segs[-1][1] = pos + 1
        else:
            segs.append([pos, pos + 1, keys])
    return segs


def test_segments_equal_a_per_base_oracle(tmp_path):
    rng = np.random.default_rng(11)
    lines, exons = [], []
    for _ in range(400):
        gene = int(rng.integers(0, 40))
        start = int(rng.integers(1, 3000))
        end = start + int(rng.integers(0, 120))  # some 1-base exons
        strand = "+-."[gene % 3]
        lines.append(f'c1\tt\texon\t{start}\t{end}\t.\t{strand}\t.\tgene_id "g{gene}";\n')
    path = tmp_path / "r.gtf"
    path.write_text("".join(lines))
    index = build_gene_index(path)
    ids = index.gene_ids
    for line in lines:
        cols = line.split("\t")
        gene = ids.index(cols[8].split('"')[1])
        exons.append((int(cols[3]) - 1, int(cols[4]), gene * 3 + "+-.".index(cols[6])))
    segs = index.contigs["c1"]
    got = [
        [int(s), int(e), sorted(int(k) for k in segs.keys[a:b])]
        for s, e, a, b in zip(segs.start, segs.end, segs.ptr[:-1], segs.ptr[1:], strict=True)
    ]
    assert got == _oracle(exons)


def test_bad_line_deep_in_a_gzipped_gtf_is_named(tmp_path, monkeypatch):
    import gzip

    from redoxseq.counting import annotation

    monkeypatch.setattr(annotation, "_CHUNK", 1 << 16)  # many blocks: line numbers carry over
    good = 'c1\tt\texon\t{0}\t{1}\t.\t+\t.\tgene_id "G{2}"; transcript_id "T{2}";\n'
    body = [good.format(10 * i + 1, 10 * i + 5, i) for i in range(120_000)]
    body[98_765] = 'c1\tt\texon\t5\t9\t.\t+\t.\ttranscript_id "T9"; gene_name "X";\n'
    path = tmp_path / "big.gtf.gz"
    with gzip.open(path, "wt") as out:
        out.write("#!genome-build test\n" + "".join(body))
    with pytest.raises(InputError, match=r"big\.gtf\.gz, line 98767: exon line has no gene_id"):
        build_gene_index(path)


def test_unusual_but_valid_gtf_layouts_give_the_same_index(tmp_path):
    plain = tmp_path / "plain.gtf"
    plain.write_text(GTF)
    odd_lines = []
    for line in GTF.splitlines():
        if "\texon\t" in line:
            cols = line.split("\t")
            attrs = [a.strip() for a in cols[8].split(";") if a.strip()]
            cols[8] = "; ".join(attrs[1:] + attrs[:1]) + ";"  # gene_id last
            line = "\t".join(cols)
        odd_lines.append(line + "\r\n")  # Windows line ends
    odd_lines.append('c1\texon\tgene\t1\t400\t.\t+\t.\tgene_id "G1";\r\n')  # source "exon"
    odd = tmp_path / "odd.gtf"
    odd.write_text("".join(odd_lines))
    a, b = build_gene_index(plain), build_gene_index(odd)
    assert a.genes.equals(b.genes)
    for name, segs in a.contigs.items():
        assert np.array_equal(segs.keys, b.contigs[name].keys)
        assert np.array_equal(segs.start, b.contigs[name].start)


@pytest.mark.parametrize("name", ["genes.gtf.gz", "genes.gff3.gz"])
def test_truncated_gzip_annotation_stops_instead_of_losing_genes(tmp_path, name):
    import gzip

    lines = "".join(
        f'c1\tt\texon\t{100 * i + 1}\t{100 * i + 50}\t.\t+\t.\tgene_id "G{i}"; gene_name "N{i}";\n'
        if name.endswith("gtf.gz")
        else f"c1\tt\texon\t{100 * i + 1}\t{100 * i + 50}\t.\t+\t.\tID=e{i};gene_id=G{i}\n"
        for i in range(20000)
    )
    data = gzip.compress(lines.encode())
    path = tmp_path / name
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"truncated"):
        build_gene_index(path)
