"""Excel workbook of the significant genes of every contrast, for bench scientists.

Moved out of :mod:`redoxseq.de.fit` (the model and contrasts); this module only formats
tables the DE stage wrote.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from redoxseq.io import PathLike, atomic_path

SHEET_LIMIT = 31  # Excel's limit on sheet names
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
RESERVED_SHEETS = ("index", "legend")

# Plain-language headers, in the order the columns appear (gene symbol first); columns not
# listed keep their name and follow. ``mean_norm_<group>`` columns are named by their group.
HEADERS: dict[str, tuple[str, str]] = {
    "gene_name": ("gene symbol", "gene symbol from the annotation (GTF gene_name)"),
    "gene_id": ("gene ID", "gene identifier of the annotation (e.g. Ensembl)"),
    "significant": (
        "direction",
        "up or down (changed for a likelihood-ratio test, which has no direction): called at "
        "the contrast's rule (index sheet)",
    ),
    "log2FoldChange": ("log2 fold change", "log2 of numerator / denominator (DESeq2 MLE)"),
    "log2FoldChange_shrunk": (
        "log2 fold change (shrunken)",
        "apeGLM-shrunken log2 fold change (empty where the contrast is not one coefficient)",
    ),
    "padj": ("adjusted p-value", "Benjamini-Hochberg adjusted p-value (FDR)"),
    "pvalue": ("p-value", "raw p-value of the test"),
    "baseMean": ("mean normalised count", "mean of the size-factor-normalised counts"),
    "stat": ("test statistic", "Wald statistic (or LRT statistic for LRT contrasts)"),
    "lfcSE": ("standard error of log2 fold change", "standard error of the log2 fold change"),
    "lfcSE_shrunk": ("standard error (shrunken)", "posterior SD of the shrunken log2 FC"),
}
_FORMATS = {
    "log2FoldChange": "0.00",
    "log2FoldChange_shrunk": "0.00",
    "lfcSE": "0.000",
    "lfcSE_shrunk": "0.000",
    "stat": "0.00",
    "baseMean": "#,##0.0",
    "pvalue": "0.00E+00",
    "padj": "0.00E+00",
}


def sheet_names(names: list[str]) -> dict[str, str]:
    r"""Excel sheet name of each contrast: the name itself when it fits, else shortened.

    Rule (also written on the workbook's index sheet): characters Excel forbids in sheet names
    (``[ ] : * ? / \``) become ``_``; a name longer than 31 characters is cut to its first
    26 characters, then ``~`` and the first 4 hex digits of the SHA-1 of the full name are
    appended (31 characters). Should two names still collide (or hit ``index``/``legend``),
    the cut is shortened and more hex digits are used, so every sheet name is unique.
    """
    import hashlib

    out: dict[str, str] = {}
    used = set(RESERVED_SHEETS)
    for name in names:
        clean = _FORBIDDEN.sub("_", name)
        digest = hashlib.sha1(name.encode("utf-8")).hexdigest()
        sheet = clean if len(clean) <= SHEET_LIMIT else clean[:26] + "~" + digest[:4]
        width = 4
        while sheet.lower() in used:
            width += 1
            sheet = clean[: SHEET_LIMIT - 1 - width] + "~" + digest[:width]
        used.add(sheet.lower())
        out[name] = sheet
    return out


def _plain(column: str) -> str:
    if column in HEADERS:
        return HEADERS[column][0]
    if column.startswith("mean_norm_"):
        return f"mean normalised count, {column.removeprefix('mean_norm_')}"
    return column


def _significant_sheet(table: pd.DataFrame) -> pd.DataFrame:
    """Called genes, up then down, by adjusted p-value; gene symbol first, plain headers."""
    sig = table.loc[table["significant"].fillna("").astype(str) != ""].copy()
    sig = sig.sort_values(["significant", "padj"], ascending=[False, True], kind="mergesort")
    sig = sig.reset_index()
    first = [c for c in HEADERS if c in sig.columns]
    rest = [c for c in sig.columns if c not in first and c != "padj_na_reason"]
    return sig[first + rest]


def _format_sheet(sheet: Any, columns: list[str]) -> None:
    """Frozen header (and first column), autofilter, widths, number formats."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet.freeze_panes = "B2"
    if sheet.max_row >= 1 and sheet.max_column >= 1:
        sheet.auto_filter.ref = sheet.dimensions
    for k, column in enumerate(columns, start=1):
        letter = get_column_letter(k)
        header = sheet.cell(row=1, column=k)
        header.font = Font(bold=True)
        header.alignment = Alignment(wrap_text=True, vertical="top")
        fmt = _FORMATS.get(column)
        if column.startswith("mean_norm_"):
            fmt = "#,##0.0"
        longest = len(str(header.value or ""))
        for row in range(2, sheet.max_row + 1):
            cell = sheet.cell(row=row, column=k)
            if fmt:
                cell.number_format = fmt
            if row <= 200:
                longest = max(longest, len(str(cell.value)) if fmt is None else 10)
        sheet.column_dimensions[letter].width = min(max(9, longest + 2), 45)


def significant_workbook(
    results: Mapping[str, pd.DataFrame], summaries: pd.DataFrame, path: PathLike
) -> None:
    """Excel workbook for bench scientists.

    Sheets: ``index`` (one row per contrast: full name, sheet name, what the fold change
    means, the calling rule, up/down counts; the sheet-name rule), ``legend`` (what each
    column means), then one sheet per contrast with its called genes (up then down, by
    adjusted p-value), gene symbol first, plain headers, frozen header row and first column,
    autofilter, column widths and number formats. Written atomically and byte-reproducibly.

    Parameters
    ----------
    results
        contrast -> results table (index gene_id; the DE stage's columns).
    summaries
        one row per contrast (index: contrast) with ``description``, ``significance``,
        ``n_up``, ``n_down``, ``n_significant``, ``test`` where available (an LRT contrast's
        up/down cells are left empty: its genes are counted as called).
    """
    sheets = sheet_names(list(results))
    index_rows = []
    for name in results:
        row = summaries.loc[name] if name in summaries.index else pd.Series(dtype=object)
        index_rows.append(
            {
                "contrast": name,
                "sheet": sheets[name],
                "meaning": row.get("description", ""),
                "called at": row.get("significance", ""),
                # a likelihood-ratio test calls genes changed, with no direction
                "genes called": row.get("n_significant", ""),
                "genes up": ""
                if str(row.get("test", "")).upper() == "LRT"
                else row.get("n_up", ""),
                "genes down": ""
                if str(row.get("test", "")).upper() == "LRT"
                else row.get("n_down", ""),
            }
        )
    index = pd.DataFrame(index_rows)
    tables = {name: _significant_sheet(table) for name, table in results.items()}
    seen: dict[str, str] = {}
    for table in tables.values():
        for column in table.columns:
            if column not in seen:
                seen[column] = (
                    HEADERS[column][1]
                    if column in HEADERS
                    else f"mean normalised count of group {column.removeprefix('mean_norm_')}"
                    if column.startswith("mean_norm_")
                    else column
                )
    legend = pd.DataFrame({"column": [_plain(c) for c in seen], "meaning": list(seen.values())})
    rule = (
        f"Sheet names: a contrast name of up to {SHEET_LIMIT} characters is used as is (the "
        "characters [ ] : * ? / \\ become _); a longer name is cut to 26 characters followed "
        "by ~ and the first 4 hex digits of the SHA-1 of the full name (more digits if two "
        "names would collide). The 'contrast' column gives the full name."
    )
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            index.to_excel(writer, sheet_name="index", index=False)
            note_row = len(index) + 3
            pd.DataFrame({"": [rule]}).to_excel(
                writer, sheet_name="index", index=False, header=False, startrow=note_row
            )
            legend.to_excel(writer, sheet_name="legend", index=False)
            for name, table in tables.items():
                table.rename(columns=_plain).to_excel(writer, sheet_name=sheets[name], index=False)
            book = writer.book
            _format_sheet(book["index"], list(index.columns))
            book["index"].auto_filter.ref = f"A1:F{len(index) + 1}"
            _format_sheet(book["legend"], list(legend.columns))
            for name, table in tables.items():
                _format_sheet(book[sheets[name]], list(table.columns))
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
