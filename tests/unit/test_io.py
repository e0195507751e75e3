"""Atomic writing: nothing half-written is left looking complete."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import redoxseq.io
from redoxseq.errors import InputError
from redoxseq.io import _numeric_table, atomic_open, read_tsv, write_tsv


def test_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path) -> None:
    target = tmp_path / "out.tsv"
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write("partial")
        raise RuntimeError("job killed")
    assert not target.exists()
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write("new but incomplete")
        raise RuntimeError("job killed")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.tsv"], "temporary file left behind"


def test_written_files_get_ordinary_permissions(tmp_path) -> None:
    mask = os.umask(0o022)
    try:
        write_tsv(pd.DataFrame({"a": [1]}), tmp_path / "t.tsv")
    finally:
        os.umask(mask)
    assert (tmp_path / "t.tsv").stat().st_mode & 0o777 == 0o644


def test_round_trip_and_missing_file(tmp_path) -> None:
    table = pd.DataFrame({"x": [1.5, 2.0]}, index=pd.Index(["g1", "g2"], name="gene_id"))
    write_tsv(table, tmp_path / "t.tsv")
    pd.testing.assert_frame_equal(read_tsv(tmp_path / "t.tsv"), table)
    with pytest.raises(InputError, match=r"missing\.tsv: file not found"):
        read_tsv(tmp_path / "missing.tsv")


def _to_csv_bytes(table: pd.DataFrame, path, *, index: bool = True) -> bytes:
    table.to_csv(path, sep="\t", index=index, lineterminator="\n")
    return path.read_bytes()


@pytest.mark.parametrize("formatter", ["orjson", "C", "Python"])
@pytest.mark.parametrize("index", [True, False])
def test_numeric_tables_are_written_in_the_bytes_pandas_writes(
    tmp_path, monkeypatch, index, formatter
) -> None:
    """write_tsv's fast paths for numeric tables give DataFrame.to_csv's bytes exactly."""
    if formatter != "Python" and redoxseq.io._tsv_fast is None:
        pytest.skip("the C table formatter is not built (setup.py)")
    if formatter == "orjson":
        assert redoxseq.io.orjson is not None, "orjson is a dependency (pyproject.toml)"
        # several blocks, the last one short, with and without rows for the C formatter
        monkeypatch.setattr(redoxseq.io, "_SHORTEST_BLOCK_ROWS", 7)
    else:
        monkeypatch.setattr(redoxseq.io, "orjson", None)
    if formatter == "Python":
        monkeypatch.setattr(redoxseq.io, "_tsv_fast", None)
    rng = np.random.default_rng(7)
    values = rng.lognormal(0.0, 8.0, (50, 3)) * rng.choice([-1.0, 1.0], (50, 3))
    values[30:44] = rng.lognormal(0.0, 2.0, (14, 3))  # rows with positional values only
    tricky = [np.nan, np.inf, -np.inf, -0.0, 1e16, 1e15, 1e-5, 1e-4, 5e-324, 1.7976931348623157e308]
    values[: len(tricky), 0] = tricky
    table = pd.DataFrame(values, columns=["a", "b c", 'd"e'])
    table["count"] = rng.integers(-(2**40), 2**40, 50)
    table.index = pd.Index([f"g{i}" for i in range(48)] + ["tab\there", 'quote"d'], name="gene_id")
    cases = {
        "named": table,
        "unnamed index": table.rename_axis(None),
        "integer index": table.reset_index(drop=True),
        "integer columns": table.set_axis(range(4), axis=1),
        "ints only": table[["count"]],
        "floats only": table.drop(columns="count"),
        "one float column": table[["a"]],
        "no rows": table.iloc[:0],
    }
    for name, case in cases.items():
        write_tsv(case, tmp_path / "fast.tsv", index=index)
        assert (tmp_path / "fast.tsv").read_bytes() == _to_csv_bytes(
            case, tmp_path / "pandas.tsv", index=index
        ), name


def test_numeric_fast_path_is_taken_only_for_plain_numeric_tables() -> None:
    table = pd.DataFrame({"x": [1.5, 2.0]}, index=pd.Index(["g1", "g2"], name="gene_id"))
    assert _numeric_table(table)
    assert not _numeric_table(table.assign(flag=[True, False]))
    assert not _numeric_table(table.assign(name=["a", "b"]))
    assert not _numeric_table(table.astype("float32"))
    assert not _numeric_table(table.set_axis(pd.Index([1.5, 2.5]), axis=0))
    two_levels = pd.MultiIndex.from_tuples([("a", "b"), ("a", "c")])
    assert not _numeric_table(table.set_axis(two_levels, axis=0))
