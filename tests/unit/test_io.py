"""Atomic writing: nothing half-written is left looking complete."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from redoxseq.errors import InputError
from redoxseq.io import atomic_open, read_tsv, write_tsv


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
