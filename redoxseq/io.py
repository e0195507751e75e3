"""File formats: the one place where tables are read from and written to disk.

All writers are atomic: they write to a temporary file in the destination folder and
rename it into place, so an interrupted job never leaves a half-written file that looks
complete.

pandas is imported by the functions that take or return DataFrames, not by the module:
a per-sample count job writes its tables with :func:`write_rows` and never loads pandas
(about 0.3 s of its start-up, benchmarks/README.md, "Fixed costs of small count jobs").
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from redoxseq.errors import InputError

try:  # the C formatter of numeric tables (setup.py); without it, the same bytes from Python
    from redoxseq import _tsv_fast
except ImportError:  # pragma: no cover - depends on the build
    _tsv_fast = None  # type: ignore[assignment]

# Rows of float cells formatted by orjson at a time (bounds the memory of the text).
_SHORTEST_BLOCK_ROWS = 4096
# Floats outside [1e-4, 1e16) in magnitude (and 0) are where repr writes an exponent
# ("1e-05", "1e+16") and orjson does not ("0.00001", "1e16"); such rows, and rows with NaN or
# infinity (orjson's "null"), are formatted by the C formatter instead.
_POSITIONAL_RANGE = (1e-4, 1e16)

try:  # shortest float digits ~10x faster than repr (write_tsv); optional: same bytes without
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` on success.

    On any exception the temporary file is removed and ``path`` is left untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates the file private (0600); give it the permissions a plain open() would.
    tmp.chmod(0o666 & ~_current_umask())
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_open(path: PathLike, mode: str = "w") -> Iterator[IO[str]]:
    """Open a text file for writing atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, mode, encoding="utf-8", newline="\n") as handle:
        yield handle


def write_tsv(table: pd.DataFrame, path: PathLike, *, index: bool = True) -> None:
    """Write ``table`` as a tab-separated file with a header, atomically.

    Floats are written in pandas' shortest round-trip form, so the same numbers always
    give the same bytes. Numeric tables (every column float64 or int64 under a flat,
    string or integer index: count matrices, normalized counts, VSTs, scores) are written
    in the bytes ``DataFrame.to_csv`` writes, float digits by orjson where its text is
    ``repr``'s and by a C formatter otherwise (``redoxseq._tsv_fast``, the call behind
    ``repr(float)``), or by :func:`write_rows` without them: about 10x / 5x / 1.5x faster than
    ``to_csv`` (benchmarks/README.md, "Fixed costs of a DE job").
    """
    if _numeric_table(table):
        header = ([table.index.name or ""] if index else []) + [str(c) for c in table.columns]
        body = _formatted_rows(table) if index or table.shape[1] > 1 else None
        if body is not None:
            with atomic_open(path) as handle:
                csv.writer(handle, delimiter="\t", lineterminator="\n").writerow(header)
                if index:
                    names = (_csv_field(str(name)) for name in table.index.tolist())
                    handle.writelines(
                        f"{name}\t{row}\n" for name, row in zip(names, body, strict=True)
                    )
                else:
                    handle.writelines(f"{row}\n" for row in body)
            return
        columns = [_column_cells(table.iloc[:, k]) for k in range(table.shape[1])]
        if index:
            columns.insert(0, table.index.tolist())
        write_rows(path, header, zip(*columns, strict=True), cells=False)
        return
    with atomic_open(path) as handle:
        table.to_csv(handle, sep="\t", index=index, lineterminator="\n")


def _numeric_table(table: pd.DataFrame) -> bool:
    """Whether :func:`write_tsv` may write ``table`` without ``to_csv`` (see there)."""
    import numpy as np

    flat = table.index.nlevels == 1 and table.columns.nlevels == 1
    index_kind = table.index.dtype.kind
    return bool(
        flat
        and table.shape[1] > 0
        and (index_kind in "iu" or (index_kind == "O" and table.index.map(type).isin([str]).all()))
        and all(dtype in (np.dtype("float64"), np.dtype("int64")) for dtype in table.dtypes)
    )


def _formatted_rows(table: pd.DataFrame) -> list[str] | None:
    """A numeric table's rows, cells joined by tabs, by the C formatter.

    None when the formatter is not built or the table mixes float and integer columns.
    """
    import numpy as np

    if _tsv_fast is None:
        return None
    kinds = {dtype.kind for dtype in table.dtypes}
    if kinds == {"f"}:
        return _float_rows(np.ascontiguousarray(table.to_numpy(dtype=np.float64)))
    if kinds == {"i"}:
        return _tsv_fast.int_rows(np.ascontiguousarray(table.to_numpy(dtype=np.int64)))
    return None


def _float_rows(values: np.ndarray) -> list[str]:
    """Rows of a float matrix, cells joined by tabs, in ``repr``'s bytes (NaN empty).

    The shortest round-trip digits come from orjson's Ryu-style formatter, ~10x faster than
    ``repr``'s (benchmarks/README.md, "Fixed costs of a DE job"); it writes the same digits,
    and the same text for magnitudes in ``[1e-4, 1e16)`` and zero. Rows holding a value
    outside that range, NaN or infinity go through the C formatter (``repr`` itself), so every
    row has the bytes of ``DataFrame.to_csv`` (tested).
    """
    import numpy as np

    assert _tsv_fast is not None
    if orjson is None or values.size == 0:
        return _tsv_fast.float_rows(values)
    rows: list[str] = []
    low, high = _POSITIONAL_RANGE
    for start in range(0, values.shape[0], _SHORTEST_BLOCK_ROWS):
        block = values[start : start + _SHORTEST_BLOCK_ROWS]
        text = orjson.dumps(block, option=orjson.OPT_SERIALIZE_NUMPY)
        # b'[[a,b],[c,d]]' -> "a\tb", "c\td"
        block_rows = text[2:-2].replace(b",", b"\t").decode("ascii").split("]\t[")
        magnitude = np.abs(block)
        with np.errstate(invalid="ignore"):
            other = ~(((magnitude >= low) & (magnitude < high)) | (magnitude == 0))
        redo = np.flatnonzero(other.any(axis=1))
        if redo.size:
            for i, row in zip(redo.tolist(), _tsv_fast.float_rows(block[redo]), strict=True):
                block_rows[i] = row
        rows.extend(block_rows)
    return rows


def _csv_field(text: str) -> str:
    """``text`` as the csv module writes a field (tab-delimited, minimal quoting)."""
    if any(char in text for char in '\t"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _column_cells(column: pd.Series) -> list[object]:
    """A numeric column's cells as Python numbers, NaN as the empty field."""
    values = column.tolist()
    if column.dtype.kind == "f" and column.isna().any():
        return [v if v == v else "" for v in values]
    return values


def _cell(value: object) -> object:
    """A value as ``DataFrame.to_csv`` writes it: NaN and None empty, floats shortest."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value


def write_rows(
    path: PathLike,
    header: Sequence[object],
    rows: Iterable[Sequence[object]],
    *,
    cells: bool = True,
) -> None:
    """Write a header and rows as a tab-separated file, atomically, without pandas.

    The bytes are those :func:`write_tsv` writes for the same table (the csv module with
    ``DataFrame.to_csv``'s dialect: minimal quoting, LF line ends; NaN and None as empty
    fields; Python floats and ints in their shortest form). Pass numbers as Python ``int`` /
    ``float`` (``ndarray.tolist()``), not numpy scalars. ``cells=False`` skips the NaN /
    None check of every value, for rows that hold none.
    """
    with atomic_open(path) as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(([_cell(v) for v in row] for row in rows) if cells else rows)


def read_tsv(path: PathLike, *, index_col: int | str | None = 0) -> pd.DataFrame:
    """Read a tab-separated table with a header; a missing file gets a clear error."""
    import pandas as pd

    file = Path(path)
    if not file.exists():
        raise InputError(f"{file}: file not found")
    try:
        return pd.read_csv(file, sep="\t", index_col=index_col, float_precision="round_trip")
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{file}: the file is empty; expected a tab-separated table") from exc


def read_gene_annotation(path: PathLike) -> pd.DataFrame:
    """Read a gene annotation table (tab-separated, ``gene_id`` column): genes x columns.

    Returns strings indexed by gene_id (``gene_name``, biotype, location, ...).
    """
    import pandas as pd

    file = Path(path)
    if not file.exists():
        raise InputError(f"{file}: gene annotation table not found")
    table = pd.read_csv(file, sep="\t", dtype=str, keep_default_na=False)
    if "gene_id" not in table.columns:
        raise InputError(
            f"{file}: no gene_id column; columns: {', '.join(table.columns)}; the table needs "
            "a header with gene_id (and gene_name for symbols)"
        )
    return table.set_index("gene_id")


def write_json(data: Mapping[str, Any], path: PathLike) -> None:
    """Write ``data`` as indented JSON with sorted keys, atomically (same data, same bytes)."""
    with atomic_open(path) as handle:
        json.dump(data, handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.write("\n")


def write_text(path: PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_open(path) as handle:
        handle.write(text)
