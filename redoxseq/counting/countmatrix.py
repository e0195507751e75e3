"""Reading and validating count matrices: the pipeline's own and a user's.

A user who already has counts (featureCounts output, or any genes x samples table of
integers) sets ``counting.count_matrix``; :func:`import_count_matrix` validates it against the
sample sheet and produces the same two tables the counting stage writes:
``all.counts.tsv`` (genes x samples integers, index ``gene_id``) and ``genes.annotation.tsv``
(gene_id, gene_name, gene_biotype, chrom, start, end, strand, length).
"""

from __future__ import annotations

import gzip
import logging
import re
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from redoxseq.counting.annotation import build_gene_index, detect_format, gene_table
from redoxseq.errors import InputError, listing
from redoxseq.io import PathLike

logger = logging.getLogger(__name__)


__all__ = [
    "ANNOTATION_COLUMNS",
    "gene_annotation_from_gtf",
    "import_count_matrix",
    "read_count_table",
    "read_user_matrix",
]

ANNOTATION_COLUMNS = ["gene_name", "gene_biotype", "chrom", "start", "end", "strand", "length"]
_FEATURECOUNTS_COLUMNS = ["Chr", "Start", "End", "Strand", "Length"]
_ALIGNMENT_SUFFIX = re.compile(r"\.(bam|sam|cram)$", re.IGNORECASE)


def _validate_counts(table: pd.DataFrame, path: PathLike) -> pd.DataFrame:
    """Check integers >= 0 without gaps and unique gene IDs; return int64 genes x samples."""
    where = str(path)
    if table.index.hasnans or (table.index.astype(str) == "").any():
        raise InputError(f"{where}: a row has no gene ID (first column is empty)")
    duplicated = table.index[table.index.duplicated()].unique()
    if len(duplicated):
        raise InputError(
            f"{where}: {len(duplicated)} duplicate gene ID(s), e.g. "
            f"{', '.join(map(str, duplicated[:5]))}; gene IDs must be unique (sum or drop the "
            "duplicate rows, or use Ensembl gene IDs rather than symbols)"
        )
    if table.shape[1] == 0:
        raise InputError(f"{where}: no sample columns")
    for column in table.columns:
        values = table[column]
        if values.dtype.kind in "iu":
            # parsed as integers (the usual case): no gaps, text or fractions to look for;
            # the text checks below cost ~1 s per 4 M cells
            numbers = values
            missing = pd.Series(False, index=values.index)
        elif values.dtype.kind == "f":
            numbers = values
            missing = values.isna()
        else:
            numbers = pd.to_numeric(values, errors="coerce")
            missing = values.isna() | (values.astype(str).str.strip() == "")
        if missing.any():
            gene = values.index[missing.to_numpy()][0]
            raise InputError(
                f"{where}: missing count for gene {gene!r} in sample column {column!r} "
                f"({int(missing.sum())} missing in that column); every cell needs a count"
            )
        bad = numbers.isna()
        if bad.any():
            gene = values.index[bad.to_numpy()][0]
            raise InputError(
                f"{where}: count {values[gene]!r} for gene {gene!r} in sample column "
                f"{column!r} is not a number"
            )
        negative = numbers < 0
        if negative.any():
            gene = numbers.index[negative.to_numpy()][0]
            raise InputError(
                f"{where}: negative count {numbers[gene]:g} for gene {gene!r} in sample "
                f"column {column!r}; counts are read numbers >= 0"
            )
        fractional = (numbers % 1) != 0
        if fractional.any():
            gene = numbers.index[fractional.to_numpy()][0]
            raise InputError(
                f"{where}: count {numbers[gene]:g} for gene {gene!r} in sample column "
                f"{column!r} is not an integer ({int(fractional.sum())} such values). DESeq2 "
                "models raw read counts; estimated counts (salmon, kallisto, RSEM) must be "
                "imported with tximport-style rounding, normalized values (TPM, FPKM, CPM) "
                "cannot be used"
            )
        table[column] = numbers.astype(np.int64)
    table.index = table.index.astype(str)
    table.index.name = "gene_id"
    table.columns = table.columns.astype(str)
    return table


def read_count_table(path: PathLike) -> pd.DataFrame:
    """Read the pipeline's ``all.counts.tsv``: genes x samples int64, index ``gene_id``."""
    file = Path(path)
    if not file.exists():
        raise InputError(f"{file}: count matrix not found")
    table = pd.read_csv(file, sep="\t", index_col=0, dtype={0: str})
    return _validate_counts(table, file)


def _match_columns(columns: Sequence[str], samples: Sequence[str], where: str) -> dict[str, str]:
    """Map matrix columns to sample names: exact, else file stem, else unique stem prefix."""
    mapping: dict[str, str] = {}
    wanted = set(samples)
    for column in columns:
        if column in wanted:
            mapping[column] = column
            continue
        stem = _ALIGNMENT_SUFFIX.sub("", Path(column).name)
        if stem in wanted:
            mapping[column] = stem
            continue
        prefixes = [
            s for s in samples if stem.startswith(s) and not stem[len(s) : len(s) + 1].isalnum()
        ]
        if len(prefixes) > 1:
            prefixes = [max(prefixes, key=len)]
        if len(prefixes) == 1:
            mapping[column] = prefixes[0]
    counts: dict[str, list[str]] = {}
    for column, sample in mapping.items():
        counts.setdefault(sample, []).append(column)
    clashes = {s: cols for s, cols in counts.items() if len(cols) > 1}
    if clashes:
        sample, cols = next(iter(clashes.items()))
        raise InputError(
            f"{where}: columns {', '.join(cols)} all match sample {sample!r}; rename the "
            "matrix columns to the sample names of the sample sheet"
        )
    return mapping


def matrix_header(path: PathLike) -> tuple[str, list[str]]:
    """Separator and column names of a count matrix, from its first non-comment line only.

    Cheap enough for ``snakemake -n``: the rest of the file is not read.
    """
    file = Path(path)
    if not file.exists():
        raise InputError(
            f"{file}: count matrix (counting.count_matrix) not found; set counting.count_matrix "
            "in config/config.yaml to the file's path (relative to the working directory)"
        )
    opener = gzip.open if file.suffix == ".gz" else open
    header = ""
    try:
        with opener(file, "rt", encoding="utf-8") as handle:
            for line in handle:
                if not line.startswith("#") and line.strip():
                    header = line.rstrip("\r\n")
                    break
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise InputError(f"{file}: cannot read the count matrix ({error})") from error
    if not header:
        raise InputError(f"{file}: the count matrix is empty")
    sep = "\t" if header.count("\t") >= header.count(",") else ","
    return sep, [column.strip().strip('"') for column in header.split(sep)]


def _sample_columns(columns: Sequence[str], samples: Sequence[str], file: Path) -> dict[str, str]:
    """Matrix column -> sample; every sample of the sheet must have a column."""
    mapping = _match_columns(columns, list(samples), str(file))
    missing = [s for s in samples if s not in mapping.values()]
    if missing:
        raise InputError(
            f"{file}: sample(s) {listing(missing)} of the sample sheet have no column in the "
            f"count matrix; matrix columns: {listing(columns, 30)}. Name the "
            "columns after the sample sheet's sample column (or a BAM file named after it)"
        )
    return mapping


def check_matrix_samples(path: PathLike, samples: Sequence[str]) -> None:
    """Check, from the header alone, that every sample of the sheet has a matrix column.

    Raises
    ------
    InputError
        Naming the samples without a column and the columns the matrix has.
    """
    file = Path(path)
    _, columns = matrix_header(file)
    data = columns[1:]
    if all(column in data for column in _FEATURECOUNTS_COLUMNS):
        data = [column for column in data if column not in _FEATURECOUNTS_COLUMNS]
    _sample_columns(data, samples, file)


def read_user_matrix(path: PathLike, samples: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a user count matrix and match its columns to the sample sheet.

    Accepts featureCounts output (``#`` comment line, ``Geneid Chr Start End Strand Length``
    then one column per BAM: columns are matched to samples by file name) or any table with
    gene IDs in the first column and one integer column per sample (tab- or comma-separated,
    optionally gzipped). Rows whose ID starts with ``__`` (htseq-count's special counters) and
    STAR's ``N_unmapped``-style rows are dropped. Matrix columns not in the sample sheet are
    dropped with a warning.

    Returns
    -------
    counts : genes x samples (sample-sheet order) int64, index gene_id.
    features : gene_id-indexed chrom/start/end/strand/length from featureCounts (else empty).

    Raises
    ------
    InputError
        Missing samples, duplicate gene IDs, non-integer, negative or missing counts.
    """
    file = Path(path)
    sep, _ = matrix_header(file)
    try:
        table = pd.read_csv(file, sep=sep, comment=None, skip_blank_lines=True, dtype={0: str},
                            skiprows=_comment_rows(file))  # fmt: skip
    except (EOFError, OSError, zlib.error, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise InputError(
            f"{file}: cannot read the count matrix ({error}); a truncated or corrupt file "
            "(download or copy it again) or rows with more fields than the header"
        ) from error
    first = str(table.columns[0])
    features = pd.DataFrame()
    if all(column in table.columns for column in _FEATURECOUNTS_COLUMNS):
        table = table.set_index(first)
        features = _featurecounts_features(table.loc[:, _FEATURECOUNTS_COLUMNS])
        table = table.drop(columns=_FEATURECOUNTS_COLUMNS)
    else:
        table = table.set_index(first)
    special = table.index.astype(str).str.startswith("__") | table.index.astype(str).isin(
        ["N_unmapped", "N_multimapping", "N_noFeature", "N_ambiguous"]
    )
    if special.any():
        logger.info("%s: dropped %d summary rows (%s ...)", file, int(special.sum()),
                    table.index[special][0])  # fmt: skip
        table = table.loc[~special]
    mapping = _sample_columns([str(c) for c in table.columns], samples, file)
    extra = [str(c) for c in table.columns if str(c) not in mapping]
    if extra:
        logger.warning(
            "%s: %d column(s) not in the sample sheet are ignored: %s",
            file, len(extra), ", ".join(extra[:10]),
        )  # fmt: skip
    table = table.loc[:, list(mapping)].rename(columns=mapping)
    counts = _validate_counts(table.loc[:, list(samples)].copy(), file)
    return counts, features


def _comment_rows(file: Path) -> list[int]:
    opener = gzip.open if file.suffix == ".gz" else open
    rows: list[int] = []
    with opener(file, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if line.startswith("#"):
                rows.append(number)
            elif line.strip():
                break
    return rows


def _featurecounts_features(table: pd.DataFrame) -> pd.DataFrame:
    """chrom/start/end/strand/length of each gene from featureCounts' ';'-joined exon lists."""

    def first(text: str) -> str:
        return str(text).split(";")[0]

    return pd.DataFrame(
        {
            "chrom": table["Chr"].map(first),
            "start": table["Start"].map(lambda s: min(int(x) for x in str(s).split(";"))),
            "end": table["End"].map(lambda s: max(int(x) for x in str(s).split(";"))),
            "strand": table["Strand"].map(first),
            "length": table["Length"].astype(int),
        },
        index=table.index.astype(str),
    )


_ATTRIBUTE = re.compile(r'(\S+)\s+"([^"]*)"')


def gene_annotation_from_gtf(path: PathLike) -> pd.DataFrame:
    """Gene table from a GTF (plain or gzipped): index gene_id; columns ANNOTATION_COLUMNS.

    gene_name falls back to gene_id, gene_biotype to gene_type or ''. Coordinates are the
    span of the gene's exons (1-based, inclusive); length is the number of bases covered by
    its exons (their union), as featureCounts reports.
    """
    file = Path(path)
    if not file.exists():
        raise InputError(f"{file}: GTF not found")
    if detect_format(file) != "gtf":
        # GFF3 (or SAF), whatever the file name says: the counting stage's parser reads it
        table = gene_table(build_gene_index(file))
        table["gene_name"] = table["gene_name"].where(table["gene_name"] != "", table.index)
        return table.loc[:, ANNOTATION_COLUMNS]
    opener = gzip.open if file.suffix == ".gz" else open
    genes: dict[str, dict[str, object]] = {}
    exons: dict[str, list[tuple[int, int]]] = {}
    with opener(file, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 9:
                raise InputError(f"{file}: line {number} has {len(fields)} columns, a GTF has 9")
            feature = fields[2]
            if feature not in {"gene", "exon"}:
                continue
            attributes = dict(_ATTRIBUTE.findall(fields[8]))
            gene_id = attributes.get("gene_id")
            if gene_id is None:
                raise InputError(f"{file}: line {number} ({feature}) has no gene_id attribute")
            start, end = int(fields[3]), int(fields[4])
            record = genes.setdefault(
                gene_id,
                {"gene_name": "", "gene_biotype": "", "chrom": fields[0], "strand": fields[6],
                 "start": start, "end": end},
            )  # fmt: skip
            if not record["gene_name"]:
                record["gene_name"] = attributes.get("gene_name", "")
            if not record["gene_biotype"]:
                record["gene_biotype"] = attributes.get(
                    "gene_biotype", attributes.get("gene_type", "")
                )
            if feature == "exon":
                exons.setdefault(gene_id, []).append((start, end))
                record["start"] = min(int(record["start"]), start)  # type: ignore[call-overload]
                record["end"] = max(int(record["end"]), end)  # type: ignore[call-overload]
    if not genes:
        raise InputError(f"{file}: no gene or exon records")
    for gene_id, record in genes.items():
        record["length"] = _union_length(exons.get(gene_id, []))
        if not record["gene_name"]:
            record["gene_name"] = gene_id
    table = pd.DataFrame.from_dict(genes, orient="index")
    table.index.name = "gene_id"
    return table.loc[:, ANNOTATION_COLUMNS]


def _union_length(intervals: list[tuple[int, int]]) -> int:
    total, current_start, current_end = 0, None, None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end + 1:
            if current_end is not None and current_start is not None:
                total += current_end - current_start + 1
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None and current_start is not None:
        total += current_end - current_start + 1
    return total


def _annotation_table(path: PathLike) -> pd.DataFrame:
    file = Path(path)
    if not file.exists():
        raise InputError(f"{file}: annotation table not found")
    sep = "," if file.suffix.lower() == ".csv" else "\t"
    table = pd.read_csv(file, sep=sep, dtype=str, keep_default_na=False)
    if "gene_id" not in table.columns:
        raise InputError(
            f"{file}: the annotation table needs a gene_id column (and gene_name); columns: "
            f"{', '.join(table.columns)}"
        )
    if "gene_name" not in table.columns:
        raise InputError(f"{file}: the annotation table has no gene_name column")
    dupes = table["gene_id"][table["gene_id"].duplicated()].unique()
    if len(dupes):
        raise InputError(
            f"{file}: {len(dupes)} duplicate gene_id(s): {listing(dupes, limit=5)}; each gene "
            "must have one row"
        )
    return table.set_index("gene_id")


def check_library_sizes(counts: pd.DataFrame, *, warn_fraction: float, source: str) -> pd.Series:
    """Stop on samples without any counted read; warn on near-empty libraries.

    Parameters
    ----------
    counts
        Genes x samples, non-negative counts.
    warn_fraction
        A sample whose total is below this fraction of the median sample total is logged as
        a warning (a failed or near-empty library skews size factors and dispersions).
    source
        What the counts come from, for the messages (a file name, "the merged counts").

    Returns
    -------
    pandas.Series
        Total counts per sample.

    Raises
    ------
    InputError
        Naming every sample whose column is all zero.
    """
    totals = counts.sum(axis=0)
    empty = [str(s) for s in totals.index[totals <= 0]]
    if empty:
        raise InputError(
            f"{source}: sample(s) {', '.join(empty)} have no counted reads (all-zero column): "
            "an empty or failed library. Remove them from the sample sheet "
            "(config/samples.tsv; their rows from config/units.tsv) and rerun"
        )
    median = float(totals.median())
    for sample, total in totals.items():
        if total < warn_fraction * median:
            logger.warning(
                "%s: sample %s has %d counted reads, %.1f%% of the median sample's %d "
                "(below counting.warn_library_fraction = %g): a near-empty library; check it "
                "in results/counts/all.summary.tsv and the PCA",
                source, sample, int(total), 100 * total / median, int(median), warn_fraction,
            )  # fmt: skip
    return totals


def import_count_matrix(
    matrix_path: PathLike,
    samples: Sequence[str],
    *,
    gtf: PathLike | None = None,
    annotation_table: PathLike | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate a user count matrix and build the gene annotation for it.

    Parameters
    ----------
    matrix_path : featureCounts output or a genes x samples integer table.
    samples : sample names of the sample sheet (the output column order).
    gtf : GTF to take gene_name / gene_biotype / coordinates from (optional).
    annotation_table : TSV/CSV with gene_id, gene_name[, gene_biotype, ...]; wins over the GTF.

    Returns
    -------
    counts : genes x samples int64 (index gene_id).
    annotation : one row per gene of ``counts`` (index gene_id), ANNOTATION_COLUMNS; genes
        without annotation get gene_name = gene_id and empty fields.
    """
    counts, features = read_user_matrix(matrix_path, samples)
    annotation = pd.DataFrame(index=counts.index, columns=ANNOTATION_COLUMNS, dtype=object)
    annotation["gene_name"] = counts.index
    annotation["gene_biotype"] = ""
    if not features.empty:
        annotation.update(features.reindex(counts.index))
    sources = []
    if gtf is not None:
        sources.append((gene_annotation_from_gtf(gtf), str(gtf)))
    if annotation_table is not None:
        sources.append((_annotation_table(annotation_table), str(annotation_table)))
    for table, where in sources:
        known = counts.index.isin(table.index)
        if not known.any():
            raise InputError(
                f"{where}: none of the count matrix's gene IDs (e.g. {counts.index[0]!r}) is in "
                f"this annotation (e.g. {table.index[0]!r}); check that both use the same IDs "
                "(Ensembl versions like '.12' must match)"
            )
        if (~known).any():
            logger.warning("%s: %d of %d genes have no annotation", where, int((~known).sum()),
                           len(known))  # fmt: skip
        columns = [c for c in ANNOTATION_COLUMNS if c in table.columns]
        sub = table.reindex(counts.index).loc[known, columns]
        sub = sub.where(sub.notna() & (sub.astype(str) != ""))
        annotation.update(sub)
    annotation = annotation.astype(object).where(annotation.notna(), "")
    annotation.index.name = "gene_id"
    logger.info("count matrix: %d genes x %d samples", counts.shape[0], counts.shape[1])
    return counts, annotation
