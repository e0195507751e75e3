"""Gene annotation: parse a GTF / GFF3 / SAF file once into a compact gene/exon index.

The index is what the read counter (:mod:`redoxseq.counting`) queries. Exons are the
features and ``gene_id`` the meta-feature, as in featureCounts' default GTF mode. For each
contig the exons are flattened into a sorted partition of *segments*: maximal intervals in
which the set of genes whose exons cover every base is constant. A read's overlap with a
gene is then the number of its aligned bases that fall in segments carrying that gene
(the union of the gene's exons, so overlapping exons of two transcripts are not counted
twice, exactly as featureCounts does).

Coordinates: GTF/GFF3/SAF are 1-based, closed; the index is 0-based, half-open (as pysam).

Only :mod:`numpy` is imported; pysam is not needed here, and pandas only by
:func:`gene_table` (and :attr:`GeneIndex.genes`): a count job that loads a saved index never
loads pandas (benchmarks/README.md, "Fixed costs of small count jobs").
"""

from __future__ import annotations

import gzip
import io
import logging
import pickle
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from redoxseq.errors import InputError
from redoxseq.io import PathLike, atomic_path, write_rows

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)


AnnotationFormat = Literal["auto", "gtf", "gff3", "saf"]

#: Version of the pickled index layout; bumped when :class:`GeneIndex` changes.
#: 2: the gene table as tuples and numpy arrays (1 held a pandas DataFrame).
INDEX_FORMAT_VERSION = 2

#: Gene strand codes stored in :attr:`GeneIndex.gene_strand`.
STRAND_PLUS, STRAND_MINUS, STRAND_NONE = 0, 1, 2
_STRAND_CODE = {"+": STRAND_PLUS, "-": STRAND_MINUS, ".": STRAND_NONE, "*": STRAND_NONE}

GENE_TABLE_COLUMNS = ["gene_name", "gene_biotype", "chrom", "start", "end", "strand", "length"]

_GTF_ATTR = {
    key: re.compile(rf'(?:^|;)\s*{key}\s+"?([^";]*)"?')
    for key in ("gene_id", "gene_name", "gene_biotype", "gene_type")
}


_GTF_VALUE = {key: re.compile(rf'{key}\s+"?([^";]*)"?') for key in _GTF_ATTR}


@dataclass(frozen=True)
class ContigSegments:
    """Flattened exon partition of one contig.

    Attributes
    ----------
    start, end:
        Segment bounds, 0-based half-open, sorted, non-overlapping (int64, length n_seg).
    ptr:
        CSR offsets into ``keys`` (int64, length n_seg + 1): segment ``i`` carries the
        feature keys ``keys[ptr[i]:ptr[i+1]]`` (sorted, at least one).
    keys:
        Feature keys (int32) ``gene * 3 + strand``: ``gene`` indexes
        :attr:`GeneIndex.gene_ids`, ``strand`` is the exon's strand code (0 ``+``, 1 ``-``,
        2 unknown). Strand is kept per exon because featureCounts checks strandedness per
        exon.
    """

    start: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]
    ptr: npt.NDArray[np.int64]
    keys: npt.NDArray[np.int32]


@dataclass(frozen=True)
class GeneIndex:
    """Compact gene/exon index built from one annotation file.

    Genes are in order of first appearance in the annotation; the per-gene attributes are
    plain tuples and numpy arrays (no pandas: loading an index stays cheap), and
    :attr:`genes` / :func:`gene_table` make the DataFrame from them.

    Attributes
    ----------
    gene_ids:
        Gene identifiers.
    gene_names, gene_biotypes:
        Per gene, empty string where the annotation has none.
    gene_chroms:
        Contig of the gene's first exon.
    gene_start, gene_end:
        int64, 1-based closed, over the gene's exons on that contig (start 0, end 0 for a
        gene without bases).
    gene_length:
        int64, bases covered by the union of the gene's exons (featureCounts' ``Length``).
    gene_strand:
        int8 per gene: 0 ``+``, 1 ``-``, 2 unknown (compatible with either strand).
    contigs:
        Segments per contig name, as named in the annotation.
    source:
        Path of the annotation the index was built from (for messages).
    """

    gene_ids: tuple[str, ...]
    gene_names: tuple[str, ...]
    gene_biotypes: tuple[str, ...]
    gene_chroms: tuple[str, ...]
    gene_start: npt.NDArray[np.int64]
    gene_end: npt.NDArray[np.int64]
    gene_length: npt.NDArray[np.int64]
    gene_strand: npt.NDArray[np.int8]
    contigs: dict[str, ContigSegments]
    source: str = ""
    version: int = field(default=INDEX_FORMAT_VERSION)

    @property
    def n_genes(self) -> int:
        """Number of genes."""
        return len(self.gene_ids)

    @property
    def genes(self) -> pd.DataFrame:
        """The gene table (made on each call; imports pandas): see :func:`gene_table`."""
        return gene_table(self)

    def gene_rows(self) -> Iterator[tuple[str, str, str, str, int, int, str, int]]:
        """Rows (gene_id, *GENE_TABLE_COLUMNS) of the gene table, as Python values."""
        strand_text = ("+", "-", ".")
        return zip(
            self.gene_ids,
            self.gene_names,
            self.gene_biotypes,
            self.gene_chroms,
            self.gene_start.tolist(),
            self.gene_end.tolist(),
            (strand_text[s] for s in self.gene_strand.tolist()),
            self.gene_length.tolist(),
            strict=True,
        )


class _GzipText(io.TextIOWrapper):
    """Text of a gzip file whose truncation or corruption is an :class:`InputError`."""

    def __init__(self, path: Path) -> None:
        self._path = path
        super().__init__(gzip.open(path, "rb"), encoding="utf-8", errors="replace")  # noqa: SIM115

    def __next__(self) -> str:  # type: ignore[override]
        try:
            return super().__next__()
        except (EOFError, gzip.BadGzipFile, zlib.error) as error:
            raise InputError(
                f"{self._path}: truncated or corrupt gzip file ({error}); download or copy the "
                "annotation again"
            ) from error


def _open_text(path: Path) -> IO[str]:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return _GzipText(path)
    return open(path, encoding="utf-8", errors="replace")


#: Lines read to recognise an annotation's format by its content.
_SNIFF_LINES = 200


def _sniff_format(path: Path) -> AnnotationFormat | None:
    """The format the first feature lines are written in, or None if they do not say.

    GFF3 announces itself with ``##gff-version 3`` or writes attributes as ``key=value``
    separated by ``;``; GTF writes ``key "value";``; SAF has five tab-separated columns
    (GeneID, Chr, Start, End, Strand).
    """
    with _open_text(path) as handle:
        for number, line in enumerate(handle):
            if number >= _SNIFF_LINES:
                break
            if line.startswith("##gff-version"):
                return "gff3" if line.split()[1:2] and line.split()[1].startswith("3") else None
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) == 5 and cols[0] in ("GeneID", "Geneid"):
                return "saf"
            if len(cols) >= 9:
                attributes = cols[8].strip()
                if re.match(r'^[^\s;=]+\s+"', attributes):
                    return "gtf"
                if re.match(r"^[^\s;=]+=", attributes):
                    return "gff3"
    return None


def detect_format(path: Path) -> AnnotationFormat:
    """Annotation format from the file's content, else from its name (``.gff3``, ``.saf``)."""
    name = path.name.lower().removesuffix(".gz")
    by_name: AnnotationFormat = "gtf"
    if name.endswith((".gff3", ".gff")):
        by_name = "gff3"
    elif name.endswith(".saf"):
        by_name = "saf"
    by_content = _sniff_format(path)
    if by_content is not None and by_content != by_name:
        logger.warning(
            "%s: named like a %s file but written as %s (recognised from its lines); "
            "reading it as %s",
            path, by_name.upper(), by_content.upper(), by_content.upper(),
        )  # fmt: skip
        return by_content
    return by_name


# (chrom, start0, end, strand, gene_id)
_Exon = tuple[str, int, int, str, str]

#: Bytes of decompressed annotation parsed at a time by the fast GTF reader.
_CHUNK = 1 << 24

#: Contig codes and positions share one int64 in the segment sweep: code << _POS_BITS | pos.
_POS_BITS = 40


class _NotAFeatureError(Exception):
    """A line that mentions the feature type but is not a feature line of that type."""


@dataclass
class _Columns:
    """Feature columns of an annotation, one entry per feature line (exon), file order.

    chrom and gene are int64 codes into ``chroms`` and ``genes`` (names in order of first
    appearance); start0 is 0-based, end exclusive (int64); strand is ``S1``: ``+``, ``-``,
    anything else unknown.
    """

    chrom: npt.NDArray[np.int64]
    start0: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]
    strand: npt.NDArray[np.bytes_]
    gene: npt.NDArray[np.int64]
    chroms: list[str]
    genes: list[str]


def _gtf_line(
    path: Path, lineno: int, line: str, feature_type: str, attributes: dict[str, dict[str, str]]
) -> _Exon:
    """Parse one GTF line exactly (raises :class:`_NotAFeatureError` for other lines)."""
    cols = line.rstrip("\n\r").split("\t")
    if len(cols) < 9 or cols[2] != feature_type:
        raise _NotAFeatureError
    attr = cols[8]
    match = _GTF_ATTR["gene_id"].search(attr)
    if match is None or not match.group(1):
        raise InputError(
            f"{path}, line {lineno}: {feature_type} line has no gene_id attribute "
            f"(attributes: {attr[:120]!r}); every {feature_type} line needs "
            'gene_id "..." (featureCounts -g gene_id): fix or remove the line'
        )
    gene_id = match.group(1)
    try:
        start, end = int(cols[3]), int(cols[4])
    except ValueError as exc:
        raise InputError(
            f"{path}, line {lineno}: start/end {cols[3]!r}/{cols[4]!r} are not integers "
            "(columns 4 and 5 of a GTF line)"
        ) from exc
    if gene_id not in attributes:
        attributes[gene_id] = _gene_attributes(attr)
    return cols[0], start - 1, end, cols[6], gene_id


def _gene_attributes(attr: str) -> dict[str, str]:
    """gene_name, gene_biotype and gene_type of a GTF attribute column (those present)."""
    info: dict[str, str] = {}
    for key in ("gene_name", "gene_biotype", "gene_type"):
        for found in _GTF_VALUE[key].finditer(attr):
            # the key must start an attribute (not end another name, e.g. havana_gene_name)
            if found.start() == 0 or attr[found.start() - 1] in "; ":
                info[key] = found.group(1)
                break
    return info


def _decompressed_blocks(path: Path) -> Iterator[bytes]:
    """Yield the file's bytes (gunzipped if needed) in blocks ending with a newline.

    Multi-member gzip and bgzip aware; blocks are about :data:`_CHUNK` bytes.
    """
    with open(path, "rb") as raw:
        gz = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        rest = b""
        decomp = zlib.decompressobj(wbits=31)
        in_member = False  # a gzip member started and not yet finished
        while True:
            block = raw.read(_CHUNK // 8 if gz else _CHUNK)
            if not block:
                break
            if gz:
                parts = [rest]
                while block:
                    try:
                        parts.append(decomp.decompress(block))
                    except zlib.error as error:
                        raise InputError(
                            f"{path}: corrupt gzip data ({error}); download or compress the "
                            "annotation again"
                        ) from error
                    in_member = not decomp.eof
                    if decomp.eof:
                        block = decomp.unused_data
                        decomp = zlib.decompressobj(wbits=31)
                    else:
                        block = b""
                data = b"".join(parts)
            else:
                data = rest + block
            cut = data.rfind(b"\n") + 1
            if len(data) < _CHUNK or not cut:
                rest = data
                continue
            yield data[:cut]
            rest = data[cut:]
        if in_member:
            raise InputError(
                f"{path}: the gzip file ends in the middle of its data (truncated: an "
                "interrupted download or copy); download or copy the annotation again"
            )
        if rest:
            yield rest if rest.endswith(b"\n") else rest + b"\n"


def _read_gtf(path: Path, feature_type: str) -> tuple[_Columns, dict[str, dict[str, str]]]:
    """Fast GTF reader (about 1 s per million feature lines).

    In each block of the decompressed file, the candidate lines are found with a substring
    test and split with one compiled regex over all of them; a block where the regex does not
    fit every candidate (a missing gene_id, odd columns, a source column equal to the
    feature type) is re-read with the exact line parser, which names the bad line.
    """
    needle = f"\t{feature_type}\t".encode()
    head = (
        rb"\n([^\t\n]*)\t[^\t\n]*\t"
        + re.escape(feature_type.encode())
        + rb"\t([0-9]+)\t([0-9]+)\t[^\t\n]*\t([^\t\n])\t[^\t\n]*\t[ ]*"
    )
    tail = rb'gene_id[ ]+"?([^";\r\n]+)'  # the rest of the line is skipped by the search
    # gene_id first (Ensembl, GENCODE, RefSeq, gffread), then anywhere among the attributes
    patterns = [re.compile(head + tail), re.compile(head + rb"(?:[^\n]*?;[ ]*)?" + tail)]
    chrom: list[npt.NDArray[np.int64]] = [np.zeros(0, np.int64)]
    start: list[npt.NDArray[np.int64]] = [np.zeros(0, np.int64)]
    end: list[npt.NDArray[np.int64]] = [np.zeros(0, np.int64)]
    strand: list[npt.NDArray[np.bytes_]] = [np.zeros(0, "S1")]
    gene: list[npt.NDArray[np.int64]] = [np.zeros(0, np.int64)]
    chrom_code: dict[bytes, int] = {}  # names -> codes: one object per name, not per line
    gene_code: dict[bytes, int] = {}
    first_line_of: dict[bytes, bytes] = {}  # gene_id -> its first feature line
    lines_before = 0
    for block in _decompressed_blocks(path):
        lines = block.split(b"\n")
        hits = [ln for ln in lines if needle in ln and ln[:1] != b"#"]
        if hits:
            text = b"\n" + b"\n".join(hits)
            for pattern in patterns:
                found = pattern.findall(text)
                if len(found) == len(hits):
                    break
            else:
                found, hits = _exact_block(path, feature_type, lines_before + 1, lines)
            if found:
                columns = tuple(zip(*found, strict=True))
                n = len(found)
                chrom.append(
                    np.fromiter((_code(chrom_code, c) for c in columns[0]), np.int64, count=n)
                )
                start.append(np.array(columns[1]).astype(np.int64) - 1)
                end.append(np.array(columns[2]).astype(np.int64))
                strand.append(np.array(columns[3], dtype="S1"))
                gene.append(
                    np.fromiter((_code(gene_code, g) for g in columns[4]), np.int64, count=n)
                )
                # reversed: the first line of each gene is written last and kept
                for gid, line in dict(zip(columns[4][::-1], hits[::-1], strict=True)).items():
                    first_line_of.setdefault(gid, line)
        lines_before += len(lines) - 1
    out = _Columns(
        chrom=np.concatenate(chrom),
        start0=np.concatenate(start),
        end=np.concatenate(end),
        strand=np.concatenate(strand),
        gene=np.concatenate(gene),
        chroms=[_text(c) for c in chrom_code],
        genes=[_text(g) for g in gene_code],
    )
    attributes = {
        gid.decode("utf-8", "replace"): _gene_attributes(
            line.decode("utf-8", "replace").split("\t", 8)[-1]
        )
        for gid, line in first_line_of.items()
    }
    return out, attributes


def _exact_block(
    path: Path, feature_type: str, first_line: int, lines: list[bytes]
) -> tuple[list[tuple[bytes, ...]], list[bytes]]:
    """Parse the feature lines of one block line by line (raises on the first bad line)."""
    found: list[tuple[bytes, ...]] = []
    hits: list[bytes] = []
    unused: dict[str, dict[str, str]] = {}
    for offset, raw in enumerate(lines):
        line = raw.decode("utf-8", "replace")
        if line.startswith("#") or f"\t{feature_type}\t" not in line:
            continue
        try:
            chrom, start0, end, strand, gene_id = _gtf_line(
                path, first_line + offset, line, feature_type, unused
            )
        except _NotAFeatureError:
            continue
        found.append(
            (
                chrom.encode(),
                str(start0 + 1).encode(),
                str(end).encode(),
                strand.encode() if strand in ("+", "-") else b".",
                gene_id.encode(),
            )
        )
        hits.append(raw)
    return found, hits


def _gff3_attrs(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.strip().strip(";").split(";"):
        if "=" in part:
            key, value = part.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def _iter_gff3(
    path: Path, feature_type: str, attributes: dict[str, dict[str, str]]
) -> Iterator[_Exon]:
    parent_of: dict[str, str] = {}
    gene_info: dict[str, dict[str, str]] = {}
    exons: list[tuple[int, str, int, int, str, str]] = []
    with _open_text(path) as handle:
        for lineno, line in enumerate(handle, start=1):
            if line.startswith("##FASTA"):
                break
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n\r").split("\t")
            if len(cols) < 9:
                continue
            attrs = _gff3_attrs(cols[8])
            if cols[2] == feature_type:
                parent = attrs.get("Parent", attrs.get("gene_id", ""))
                if not parent:
                    raise InputError(
                        f"{path}, line {lineno}: {feature_type} line has neither Parent nor "
                        "gene_id attribute; cannot assign it to a gene: add Parent=<transcript "
                        "or gene ID> or remove the line"
                    )
                try:
                    start, end = int(cols[3]), int(cols[4])
                except ValueError as exc:
                    raise InputError(
                        f"{path}, line {lineno}: start/end {cols[3]!r}/{cols[4]!r} are not "
                        "integers (columns 4 and 5 of a GFF3 line)"
                    ) from exc
                exons.append((lineno, cols[0], start - 1, end, cols[6], parent.split(",")[0]))
            elif "ID" in attrs:
                ident = attrs["ID"]
                if "Parent" in attrs:
                    parent_of[ident] = attrs["Parent"].split(",")[0]
                else:
                    name = attrs.get("gene_id", ident.removeprefix("gene:"))
                    gene_info[ident] = {
                        "gene_id": name,
                        "gene_name": attrs.get("Name", attrs.get("gene_name", "")),
                        "gene_biotype": attrs.get("biotype", attrs.get("gene_biotype", "")),
                        "gene_type": attrs.get("gene_type", ""),
                    }
    for lineno, chrom, start0, end, strand, parent in exons:
        node = parent
        for _ in range(10):
            if node in gene_info or node not in parent_of:
                break
            node = parent_of[node]
        info = gene_info.get(node, {"gene_id": node.removeprefix("gene:")})
        gene_id = info["gene_id"]
        if not gene_id:
            raise InputError(f"{path}, line {lineno}: cannot resolve the gene of this exon")
        if gene_id not in attributes:
            attributes[gene_id] = {k: v for k, v in info.items() if k != "gene_id" and v}
        yield chrom, start0, end, strand, gene_id


def _iter_saf(path: Path, attributes: dict[str, dict[str, str]]) -> Iterator[_Exon]:
    with _open_text(path) as handle:
        for lineno, line in enumerate(handle, start=1):
            cols = line.rstrip("\n\r").split("\t")
            if len(cols) < 5 or line.startswith("#") or cols[0].lower() == "geneid":
                continue
            try:
                start, end = int(cols[2]), int(cols[3])
            except ValueError as exc:
                raise InputError(
                    f"{path}, line {lineno}: SAF start/end {cols[2]!r}/{cols[3]!r} are not "
                    "integers (expected columns GeneID, Chr, Start, End, Strand)"
                ) from exc
            attributes.setdefault(cols[0], {})
            yield cols[1], start - 1, end, cols[4], cols[0]


def _code(codes: dict[bytes, int], name: bytes) -> int:
    code = codes.get(name)
    if code is None:
        code = codes[name] = len(codes)
    return code


def _columns_from(features: Iterator[_Exon]) -> _Columns:
    rows = list(features)
    n = len(rows)
    chrom_code: dict[str, int] = {}  # names -> codes in order of first appearance
    gene_code: dict[str, int] = {}
    return _Columns(
        chrom=np.fromiter(
            (chrom_code.setdefault(r[0], len(chrom_code)) for r in rows), np.int64, count=n
        ),
        start0=np.fromiter((r[1] for r in rows), dtype=np.int64, count=n),
        end=np.fromiter((r[2] for r in rows), dtype=np.int64, count=n),
        strand=np.fromiter(
            (r[3].encode() if r[3] in ("+", "-") else b"." for r in rows), dtype="S1", count=n
        ),
        gene=np.fromiter(
            (gene_code.setdefault(r[4], len(gene_code)) for r in rows), np.int64, count=n
        ),
        chroms=list(chrom_code),
        genes=list(gene_code),
    )


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def build_gene_index(
    annotation: PathLike,
    *,
    feature_type: str = "exon",
    fmt: AnnotationFormat = "auto",
) -> GeneIndex:
    """Parse an annotation file into a :class:`GeneIndex`.

    Parameters
    ----------
    annotation:
        GTF (plain or gzipped), GFF3 (exons attached to genes through ``Parent``) or
        featureCounts SAF (GeneID, Chr, Start, End, Strand).
    feature_type:
        Third-column feature type used as counting feature (``exon``).
    fmt:
        ``auto`` guesses from the file name (``.gff``/``.gff3`` -> GFF3, ``.saf`` -> SAF,
        otherwise GTF).

    Raises
    ------
    InputError
        Missing file, a feature line without ``gene_id`` (with its line number), or no
        feature of ``feature_type`` at all.
    """
    path = Path(annotation)
    if not path.exists():
        raise InputError(f"{path}: annotation file not found (check annotation.gtf)")
    kind = detect_format(path) if fmt == "auto" else fmt
    attributes: dict[str, dict[str, str]] = {}
    if kind == "gtf":
        columns, attributes = _read_gtf(path, feature_type)
    elif kind == "gff3":
        columns = _columns_from(_iter_gff3(path, feature_type, attributes))
    else:
        columns = _columns_from(_iter_saf(path, attributes))
    n_features = len(columns.gene)
    if n_features == 0:
        raise InputError(
            f"{path}: no '{feature_type}' features found; check the annotation format "
            f"({kind}) and the feature type"
        )
    index = _index_from_columns(columns, attributes, str(path))
    logger.info(
        "%s: %d %s features, %d genes on %d contigs",
        path,
        n_features,
        feature_type,
        index.n_genes,
        len(index.contigs),
    )
    return index


def _index_from_columns(
    cols: _Columns, attributes: dict[str, dict[str, str]], source: str
) -> GeneIndex:
    """Vectorised core of :func:`build_gene_index` (numpy sorts, no per-exon Python)."""
    gene_code, chrom_code = cols.gene, cols.chrom
    ids, chroms = cols.genes, cols.chroms
    n_genes = len(ids)
    strand = np.full(len(gene_code), STRAND_NONE, dtype=np.int64)
    strand[cols.strand == b"+"] = STRAND_PLUS
    strand[cols.strand == b"-"] = STRAND_MINUS
    order = np.argsort(gene_code, kind="stable")
    first = order[np.r_[0, np.flatnonzero(np.diff(gene_code[order])) + 1]]
    first_strand = strand[first]
    mixed = np.bincount(gene_code, weights=strand != first_strand[gene_code], minlength=n_genes)
    gene_strand = np.where(mixed > 0, STRAND_NONE, first_strand).astype(np.int8)
    home = chrom_code[first]

    keep = cols.end > cols.start0
    keys = (gene_code * 3 + strand)[keep]
    cc = chrom_code[keep].astype(np.int64)
    seg_start, seg_end, seg_chrom, ptr, seg_keys = _flatten(
        cc, cols.start0[keep], cols.end[keep], keys, 3 * n_genes
    )
    # gene length: bases of segments carrying the gene (union of its exons, all contigs)
    seg_of_key = np.repeat(np.arange(len(seg_start)), np.diff(ptr))
    pairs = _unique(seg_of_key * n_genes + seg_keys // 3)
    pair_seg, pair_gene = pairs // n_genes, pairs % n_genes
    glen = np.bincount(
        pair_gene, weights=(seg_end - seg_start)[pair_seg], minlength=n_genes
    ).astype(np.int64)
    # gene start/end: over its exons on its home contig (the contig of its first exon)
    genes_kept = gene_code[keep]
    on_home = cc == home[genes_kept]
    gstart = np.full(n_genes, np.iinfo(np.int64).max, dtype=np.int64)
    gend = np.zeros(n_genes, dtype=np.int64)
    np.minimum.at(gstart, genes_kept[on_home], cols.start0[keep][on_home])
    np.maximum.at(gend, genes_kept[on_home], cols.end[keep][on_home])
    gstart[gstart == np.iinfo(np.int64).max] = -1  # no bases: start 0 in the table

    contigs: dict[str, ContigSegments] = {}
    bounds = np.searchsorted(seg_chrom, np.arange(len(chroms) + 1))
    first_seen = np.unique(cc, return_index=True)[1]
    for code in cc[np.sort(first_seen)].tolist():  # contigs in order of appearance
        lo, hi = bounds[code], bounds[code + 1]
        contigs[chroms[code]] = ContigSegments(
            start=seg_start[lo:hi],
            end=seg_end[lo:hi],
            ptr=ptr[lo : hi + 1] - ptr[lo],
            keys=seg_keys[ptr[lo] : ptr[hi]],
        )
    none: dict[str, str] = {}
    return GeneIndex(
        gene_ids=tuple(ids),
        gene_names=tuple(attributes.get(g, none).get("gene_name", "") for g in ids),
        gene_biotypes=tuple(
            attributes.get(g, none).get(
                "gene_biotype", attributes.get(g, none).get("gene_type", "")
            )
            for g in ids
        ),
        gene_chroms=tuple(chroms[c] for c in home.tolist()),
        gene_start=gstart + 1,
        gene_end=gend,
        gene_length=glen,
        gene_strand=gene_strand,
        contigs=contigs,
        source=source,
    )


def _unique(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Sorted unique values (a plain sort: faster than numpy 2's hash-based ``np.unique``)."""
    ordered = np.sort(values)
    if len(ordered) == 0:
        return ordered
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def _flatten(
    chrom: npt.NDArray[np.int64],
    start0: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
    keys: npt.NDArray[np.int64],
    n_keys: int,
) -> tuple[
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int32],
]:
    """Partition the exons into maximal segments with a constant set of feature keys.

    Every exon boundary cuts its contig into elementary intervals; each exon is expanded
    into the intervals it covers, (interval, key) pairs are made unique, and neighbouring
    intervals with equal key sets are merged. Returns segment start, end (0-based
    half-open), contig code, CSR ``ptr`` and ``keys`` (int32, sorted within a segment),
    ordered by contig code and position.
    """
    if len(start0) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32)
    s = (chrom << _POS_BITS) | start0
    e = (chrom << _POS_BITS) | end
    cuts = _unique(np.concatenate([s, e]))
    lo = np.searchsorted(cuts, s)
    width = np.searchsorted(cuts, e) - lo
    offsets = np.cumsum(width) - width
    exon = np.repeat(np.arange(len(s)), width)
    interval = lo[exon] + np.arange(len(exon)) - offsets[exon]
    pair = _unique(interval * n_keys + keys[exon])
    iv, key = pair // n_keys, pair % n_keys
    head = np.r_[0, np.flatnonzero(np.diff(iv)) + 1]  # first pair of each present interval
    present = iv[head]
    size = np.diff(np.r_[head, len(iv)])
    # an interval continues the previous segment if adjacent with an equal key set
    cont = np.zeros(len(present), dtype=bool)
    cont[1:] = (present[1:] == present[:-1] + 1) & (size[1:] == size[:-1])
    member = np.repeat(np.arange(len(present)), size)
    cand = cont[member]
    shift = np.repeat(np.r_[0, size[:-1]], size)
    differs = np.zeros(len(key), dtype=bool)
    idx = np.flatnonzero(cand)
    differs[idx] = key[idx] != key[idx - shift[idx]]
    cont &= np.bincount(member, weights=differs, minlength=len(present)) == 0
    new = np.flatnonzero(~cont)
    last = np.r_[new[1:], len(present)] - 1
    seg_lo = cuts[present[new]]
    seg_hi = cuts[present[last] + 1]
    mask = (1 << _POS_BITS) - 1
    seg_keys = key[~cont[member]].astype(np.int32)
    ptr = np.r_[0, np.cumsum(size[new])].astype(np.int64)
    return seg_lo & mask, seg_hi & mask, seg_lo >> _POS_BITS, ptr, seg_keys


def save_gene_index(index: GeneIndex, path: PathLike) -> None:
    """Write ``index`` to ``path`` (pickle, atomically)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        pickle.dump(index, handle, protocol=pickle.HIGHEST_PROTOCOL)


def load_gene_index(path: PathLike) -> GeneIndex:
    """Load an index written by :func:`save_gene_index`, or build one from a GTF/GFF3/SAF.

    Raises
    ------
    InputError
        Missing file, or an index written by another version of redoxseq.
    """
    file = Path(path)
    if not file.exists():
        raise InputError(f"{file}: gene index / annotation file not found")
    with open(file, "rb") as handle:
        head = handle.read(2)
    if head[:1] != b"\x80":
        return build_gene_index(file)
    with open(file, "rb") as handle:
        index = pickle.load(handle)
    # vars(): the version the file holds, not the class default of a field it lacks
    version = vars(index).get("version") if isinstance(index, GeneIndex) else None
    if version != INDEX_FORMAT_VERSION:
        raise InputError(
            f"{file}: a gene index of another redoxseq version (index format {version}, this "
            f"version reads {INDEX_FORMAT_VERSION}); rebuild it from the annotation (delete the "
            "file and rerun the workflow, or 'redoxseq count --gtf ... --save-index')"
        )
    return index


def gene_table(index: GeneIndex) -> pd.DataFrame:
    """Gene annotation table: genes x GENE_TABLE_COLUMNS, index ``gene_id``.

    Columns gene_name, gene_biotype, chrom, start, end, strand, length; coordinates
    1-based closed, length in bases. Imports pandas (:func:`write_gene_table` does not).
    """
    import pandas as pd

    strand_text = np.array(["+", "-", "."])[index.gene_strand]
    return pd.DataFrame(
        {
            "gene_name": list(index.gene_names),
            "gene_biotype": list(index.gene_biotypes),
            "chrom": list(index.gene_chroms),
            "start": index.gene_start,
            "end": index.gene_end,
            "strand": strand_text,
            "length": index.gene_length,
        },
        index=pd.Index(list(index.gene_ids), name="gene_id"),
    )[GENE_TABLE_COLUMNS]


def write_gene_table(index: GeneIndex, path: PathLike) -> None:
    """Write :func:`gene_table` as TSV (the bytes of ``write_tsv(gene_table(index))``).

    Without pandas: the command line writes it next to the counts.
    """
    write_rows(path, ["gene_id", *GENE_TABLE_COLUMNS], index.gene_rows())
