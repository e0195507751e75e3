"""Gene annotation: parse a GTF / GFF3 / SAF file once into a compact gene/exon index.

The index is what the read counter (:mod:`redoxseq.counting`) queries. Exons are the
features and ``gene_id`` the meta-feature, as in featureCounts' default GTF mode. For each
contig the exons are flattened into a sorted partition of *segments*: maximal intervals in
which the set of genes whose exons cover every base is constant. A read's overlap with a
gene is then the number of its aligned bases that fall in segments carrying that gene
(the union of the gene's exons, so overlapping exons of two transcripts are not counted
twice, exactly as featureCounts does).

Coordinates: GTF/GFF3/SAF are 1-based, closed; the index is 0-based, half-open (as pysam).

Only :mod:`numpy` and :mod:`pandas` are imported; pysam is not needed here.
"""

from __future__ import annotations

import gzip
import logging
import os
import pickle
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from redoxseq.errors import InputError
from redoxseq.io import atomic_path

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
AnnotationFormat = Literal["auto", "gtf", "gff3", "saf"]

#: Version of the pickled index layout; bumped when :class:`GeneIndex` changes.
INDEX_FORMAT_VERSION = 1

#: Gene strand codes stored in :attr:`GeneIndex.gene_strand`.
STRAND_PLUS, STRAND_MINUS, STRAND_NONE = 0, 1, 2
_STRAND_CODE = {"+": STRAND_PLUS, "-": STRAND_MINUS, ".": STRAND_NONE, "*": STRAND_NONE}

GENE_TABLE_COLUMNS = ["gene_name", "gene_biotype", "chrom", "start", "end", "strand", "length"]

_GTF_ATTR = {
    key: re.compile(rf'(?:^|;)\s*{key}\s+"?([^";]*)"?')
    for key in ("gene_id", "gene_name", "gene_biotype", "gene_type")
}


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
        Feature keys (int32) ``gene * 3 + strand``: ``gene`` indexes :attr:`GeneIndex.genes`
        rows, ``strand`` is the exon's strand code (0 ``+``, 1 ``-``, 2 unknown). Strand is
        kept per exon because featureCounts checks strandedness per exon.
    """

    start: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]
    ptr: npt.NDArray[np.int64]
    keys: npt.NDArray[np.int32]


@dataclass(frozen=True)
class GeneIndex:
    """Compact gene/exon index built from one annotation file.

    Attributes
    ----------
    genes:
        Gene table, one row per gene in order of first appearance in the annotation, index
        ``gene_id``; columns gene_name, gene_biotype (empty string where the annotation has
        none), chrom (contig of the first exon), start, end (1-based, closed, over all exons
        on that contig), strand (``+``, ``-`` or ``.``), length (bases covered by the union of
        the gene's exons, featureCounts' ``Length``).
    gene_strand:
        int8 per gene: 0 ``+``, 1 ``-``, 2 unknown (compatible with either strand).
    contigs:
        Segments per contig name, as named in the annotation.
    source:
        Path of the annotation the index was built from (for messages).
    """

    genes: pd.DataFrame
    gene_strand: npt.NDArray[np.int8]
    contigs: dict[str, ContigSegments]
    source: str = ""
    version: int = field(default=INDEX_FORMAT_VERSION)

    @property
    def n_genes(self) -> int:
        """Number of genes (rows of :attr:`genes`)."""
        return len(self.genes)

    @property
    def gene_ids(self) -> list[str]:
        """Gene identifiers in index order."""
        return [str(g) for g in self.genes.index]


def _open_text(path: Path) -> IO[str]:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _detect_format(path: Path) -> AnnotationFormat:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".gff3", ".gff")):
        return "gff3"
    if name.endswith(".saf"):
        return "saf"
    return "gtf"


# (chrom, start0, end, strand, gene_id)
_Exon = tuple[str, int, int, str, str]


def _iter_gtf(
    path: Path, feature_type: str, attributes: dict[str, dict[str, str]]
) -> Iterator[_Exon]:
    needle = f"\t{feature_type}\t"
    with _open_text(path) as handle:
        for lineno, line in enumerate(handle, start=1):
            if line.startswith("#") or needle not in line:
                continue
            cols = line.rstrip("\n\r").split("\t")
            if len(cols) < 9 or cols[2] != feature_type:
                continue
            attr = cols[8]
            match = _GTF_ATTR["gene_id"].search(attr)
            if match is None or not match.group(1):
                raise InputError(
                    f"{path}, line {lineno}: {feature_type} line has no gene_id attribute "
                    f"(attributes: {attr[:120]!r}); every {feature_type} line needs "
                    'gene_id "..."'
                )
            gene_id = match.group(1)
            try:
                start, end = int(cols[3]), int(cols[4])
            except ValueError as exc:
                raise InputError(
                    f"{path}, line {lineno}: start/end {cols[3]!r}/{cols[4]!r} are not integers"
                ) from exc
            if gene_id not in attributes:
                info: dict[str, str] = {}
                for key in ("gene_name", "gene_biotype", "gene_type"):
                    found = _GTF_ATTR[key].search(attr)
                    if found is not None:
                        info[key] = found.group(1)
                attributes[gene_id] = info
            yield cols[0], start - 1, end, cols[6], gene_id


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
                        "gene_id attribute; cannot assign it to a gene"
                    )
                exons.append(
                    (lineno, cols[0], int(cols[3]) - 1, int(cols[4]), cols[6], parent.split(",")[0])
                )
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
        raise InputError(f"{path}: annotation file not found")
    kind = _detect_format(path) if fmt == "auto" else fmt
    attributes: dict[str, dict[str, str]] = {}
    if kind == "gtf":
        source: Iterator[_Exon] = _iter_gtf(path, feature_type, attributes)
    elif kind == "gff3":
        source = _iter_gff3(path, feature_type, attributes)
    else:
        source = _iter_saf(path, attributes)

    gene_number: dict[str, int] = {}
    strands: dict[str, str] = {}
    per_contig: dict[str, list[tuple[int, int, int]]] = {}
    first_chrom: dict[str, str] = {}
    n_features = 0
    for chrom, start0, end, strand, gene_id in source:
        n_features += 1
        gidx = gene_number.setdefault(gene_id, len(gene_number))
        if gene_id not in strands:
            strands[gene_id] = strand
            first_chrom[gene_id] = chrom
        elif strands[gene_id] != strand:
            strands[gene_id] = "."
        if end > start0:
            key = gidx * 3 + _STRAND_CODE.get(strand, STRAND_NONE)
            per_contig.setdefault(chrom, []).append((start0, end, key))
    if n_features == 0:
        raise InputError(
            f"{path}: no '{feature_type}' features found; check the annotation format "
            f"({kind}) and the feature type"
        )

    n_genes = len(gene_number)
    gstart = np.full(n_genes, np.iinfo(np.int64).max, dtype=np.int64)
    gend = np.zeros(n_genes, dtype=np.int64)
    glen = np.zeros(n_genes, dtype=np.int64)
    contigs: dict[str, ContigSegments] = {}
    chrom_code = {chrom: code for code, chrom in enumerate(per_contig)}
    home_chrom = np.array([chrom_code.get(first_chrom[g], -1) for g in gene_number], dtype=np.int64)
    for chrom, exons in per_contig.items():
        segs = _flatten(sorted(set(exons)))
        contigs[chrom] = segs
        starts, ends, ptr = segs.start, segs.end, segs.ptr
        seg_of = np.repeat(np.arange(len(starts)), np.diff(ptr))
        pairs = np.unique(np.stack([seg_of, segs.keys // 3]), axis=1)
        seg_of, genes = pairs[0], pairs[1]
        np.add.at(glen, genes, (ends - starts)[seg_of])
        home = home_chrom[genes] == chrom_code[chrom]
        np.minimum.at(gstart, genes[home], starts[seg_of][home])
        np.maximum.at(gend, genes[home], ends[seg_of][home])

    ids = list(gene_number)
    table = pd.DataFrame(
        {
            "gene_name": [attributes.get(g, {}).get("gene_name", "") for g in ids],
            "gene_biotype": [
                attributes.get(g, {}).get(
                    "gene_biotype", attributes.get(g, {}).get("gene_type", "")
                )
                for g in ids
            ],
            "chrom": [first_chrom[g] for g in ids],
            "start": gstart + 1,
            "end": gend,
            "strand": [strands[g] if strands[g] in ("+", "-") else "." for g in ids],
            "length": glen,
        },
        index=pd.Index(ids, name="gene_id"),
    )
    gene_strand = np.array([_STRAND_CODE.get(strands[g], STRAND_NONE) for g in ids], dtype=np.int8)
    logger.info(
        "%s: %d %s features, %d genes on %d contigs",
        path,
        n_features,
        feature_type,
        n_genes,
        len(contigs),
    )
    return GeneIndex(genes=table, gene_strand=gene_strand, contigs=contigs, source=str(path))


def _flatten(exons: list[tuple[int, int, int]]) -> ContigSegments:
    """Sweep sorted (start0, end, key) exons into constant-key-set segments."""
    events: list[tuple[int, int, int]] = []
    for start0, end, gidx in exons:
        events.append((start0, 1, gidx))
        events.append((end, -1, gidx))
    events.sort()
    active: dict[int, int] = {}
    seg_start: list[int] = []
    seg_end: list[int] = []
    ptr: list[int] = [0]
    genes: list[int] = []
    prev_pos = 0
    prev_set: tuple[int, ...] = ()
    i, n = 0, len(events)
    while i < n:
        pos = events[i][0]
        if active and pos > prev_pos:
            current = tuple(sorted(active))
            if seg_end and seg_end[-1] == prev_pos and prev_set == current:
                seg_end[-1] = pos
            else:
                seg_start.append(prev_pos)
                seg_end.append(pos)
                genes.extend(current)
                ptr.append(len(genes))
                prev_set = current
        while i < n and events[i][0] == pos:
            _, delta, gidx = events[i]
            left = active.get(gidx, 0) + delta
            if left:
                active[gidx] = left
            else:
                active.pop(gidx, None)
            i += 1
        prev_pos = pos
    return ContigSegments(
        start=np.asarray(seg_start, dtype=np.int64),
        end=np.asarray(seg_end, dtype=np.int64),
        ptr=np.asarray(ptr, dtype=np.int64),
        keys=np.asarray(genes, dtype=np.int32),
    )


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
    if not isinstance(index, GeneIndex) or index.version != INDEX_FORMAT_VERSION:
        raise InputError(f"{file}: not a gene index of this redoxseq version; rebuild it")
    return index


def gene_table(index: GeneIndex) -> pd.DataFrame:
    """Gene annotation table (genes x [gene_name, gene_biotype, chrom, start, end, strand,
    length]), index ``gene_id``; coordinates 1-based closed, length in bases."""
    return index.genes.loc[:, GENE_TABLE_COLUMNS].copy()
