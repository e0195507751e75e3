"""Excel workbook of the significant genes of every contrast, for bench scientists.

Moved out of :mod:`redoxseq.de.fit` (the model and contrasts); this module only formats
tables the DE stage wrote.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from redoxseq.io import PathLike, atomic_path


def _sheet_names(names: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    used = {"contrasts"}
    for name in names:
        sheet = name[:31]
        i = 2
        while sheet in used:
            suffix = f"_{i}"
            sheet = name[: 31 - len(suffix)] + suffix
            i += 1
        used.add(sheet)
        out[name] = sheet
    return out


def significant_workbook(
    results: Mapping[str, pd.DataFrame], summaries: pd.DataFrame, path: PathLike
) -> None:
    """Excel workbook: a ``contrasts`` overview sheet, then one sheet of significant genes
    (up then down, by padj) per contrast. Sheet names are contrast names cut to 31
    characters (the overview gives the full name). Written atomically, byte-reproducibly.
    """
    sheets = _sheet_names(list(results))
    overview = summaries.copy()
    overview.insert(0, "sheet", [sheets.get(str(name), "") for name in overview.index])
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            overview.to_excel(writer, sheet_name="contrasts")
            for name, table in results.items():
                sig = table.loc[table["significant"] != ""]
                sig = sig.sort_values(
                    ["significant", "padj"], ascending=[False, True], kind="mergesort"
                )
                columns = [c for c in sig.columns if c not in {"padj_na_reason"}]
                sig.loc[:, columns].to_excel(writer, sheet_name=sheets[name])
            book = writer.book
            stamp = pd.Timestamp("2000-01-01").to_pydatetime()
            book.properties.created = stamp
            book.properties.modified = stamp
        _normalize_zip(tmp)


def _normalize_zip(path: Path) -> None:
    """Rewrite a zip file with fixed member timestamps (same content, same bytes)."""
    with zipfile.ZipFile(path) as source:
        members = [(info.filename, source.read(info.filename)) for info in source.infolist()]
    stamp = b"2000-01-01T00:00:00Z"
    members = [
        (name, re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, data))
        if name == "docProps/core.xml"
        else (name, data)
        for name, data in members
    ]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, data)


def run_workbook(
    *, results_paths: Mapping[str, PathLike], summary_paths: Mapping[str, PathLike], path: PathLike
) -> None:
    """Collect per-contrast results and summaries into the Excel workbook at ``path``."""
    results = {
        name: pd.read_csv(
            p,
            sep="\t",
            index_col=0,
            keep_default_na=False,
            na_values=[""],
            float_precision="round_trip",
        )
        for name, p in results_paths.items()
    }
    for table in results.values():
        table["significant"] = table["significant"].fillna("")
    summaries = pd.concat(
        [
            pd.read_csv(p, sep="\t", index_col=0, float_precision="round_trip")
            for p in summary_paths.values()
        ]
    )
    significant_workbook(results, summaries, path)
