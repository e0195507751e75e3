"""Self-contained HTML pages that show a table in the report.

The top rows as a sortable table (click a header), the full table attached as a TSV download,
a short description.

Snakemake's report shows an HTML result in a frame; these pages need nothing from outside
(inline style and script, the TSV as a data: URL), so the report stays a single file.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence

import pandas as pd

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:14px;margin:16px;
color:#222}
h1{font-size:18px;margin:0 0 6px}
p.note{max-width:70em;color:#444;margin:4px 0 10px}
table{border-collapse:collapse;font-size:13px}
th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;white-space:nowrap}
th{background:#f3f3f3;position:sticky;top:0;cursor:pointer;user-select:none}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr:hover td{background:#fafafa}
a.download{display:inline-block;margin:6px 0 10px;padding:4px 10px;border:1px solid #888;
border-radius:4px;text-decoration:none;color:#222;background:#f7f7f7}
pre{background:#f7f7f7;padding:10px;max-width:100em;white-space:pre-wrap;font-size:13px}
"""

_SCRIPT = """
document.querySelectorAll('table.sortable th').forEach(function(th, col){
  th.addEventListener('click', function(){
    var body = th.closest('table').tBodies[0];
    var rows = Array.from(body.rows);
    var asc = th.dataset.order !== 'asc';
    th.dataset.order = asc ? 'asc' : 'desc';
    rows.sort(function(a, b){
      var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
      var nx = parseFloat(x), ny = parseFloat(y);
      var r = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y));
      return asc ? r : -r;
    });
    rows.forEach(function(r){ body.appendChild(r); });
  });
});
"""


def _cell(value: object) -> tuple[str, str, bool]:
    """(shown text, sort key, numeric?) of one cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "", "", False
    if isinstance(value, bool):
        return str(value), str(value), False
    if isinstance(value, int):
        return f"{value:,}", str(value), True
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
            return f"{value:.3g}", repr(value), True
        return f"{value:.4g}", repr(value), True
    text = str(value)
    return text, text, False


def html_table_page(
    table: pd.DataFrame,
    *,
    title: str,
    description: str,
    top: int | None = 50,
    tsv_name: str | None = None,
    full_table: pd.DataFrame | None = None,
) -> str:
    """An HTML page with ``table``'s first ``top`` rows and the full table as a TSV download.

    Parameters
    ----------
    table
        rows to show (already in the order wanted; the index is not shown, reset it first).
    tsv_name
        file name offered for the download (default: no download link).
    full_table
        the table attached as TSV (default: ``table``).
    """
    shown = table if top is None else table.head(top)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    rows = []
    for record in shown.itertuples(index=False):
        cells = []
        for value in record:
            text, key, numeric = _cell(value.item() if hasattr(value, "item") else value)
            cls = ' class="num"' if numeric else ""
            cells.append(f'<td{cls} data-v="{html.escape(key)}">{html.escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    parts = [f"<h1>{html.escape(title)}</h1>", f'<p class="note">{html.escape(description)}</p>']
    full = table if full_table is None else full_table
    if tsv_name:
        payload = base64.b64encode(full.to_csv(sep="\t", index=False).encode()).decode()
        parts.append(
            f'<a class="download" download="{html.escape(tsv_name)}" '
            f'href="data:text/tab-separated-values;base64,{payload}">'
            f"Download the full table ({len(full):,} rows): {html.escape(tsv_name)}</a>"
        )
    if top is not None and len(table) > top:
        parts.append(
            f'<p class="note">Showing the first {top} of {len(table):,} rows; '
            "click a column header to sort.</p>"
        )
    parts.append(
        f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}'
        "</tbody></table>"
    )
    return _page(title, "\n".join(parts))


def html_text_page(title: str, description: str, text: str) -> str:
    """An HTML page showing preformatted text (a log excerpt, YAML, a version list)."""
    body = (
        f'<h1>{html.escape(title)}</h1><p class="note">{html.escape(description)}</p>'
        f"<pre>{html.escape(text)}</pre>"
    )
    return _page(title, body)


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}<script>{_SCRIPT}</script></body></html>\n"
    )


def software_versions(packages: Sequence[str]) -> pd.DataFrame:
    """Installed version of each Python package (``not installed`` when absent)."""
    from importlib import metadata

    rows = []
    for name in packages:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed in this environment"
        rows.append((name, version))
    return pd.DataFrame(rows, columns=["package", "version"])


def top_results(results: pd.DataFrame, *, columns: Sequence[str]) -> pd.DataFrame:
    """A contrast's results sorted for reading: called genes first, then by padj, gene id.

    Called: ``significant`` is up, down or (a likelihood-ratio test) changed.

    ``results`` is indexed by gene_id; the returned table has ``gene_id`` as a column and only
    the ``columns`` present, gene symbol first.
    """
    table = results.reset_index()
    called = (
        table["significant"].fillna("").astype(str).isin(["up", "down", "changed"])
        if ("significant" in table.columns)
        else pd.Series(False, index=table.index)
    )
    table = table.assign(_called=~called, _gene=table[table.columns[0]].astype(str))
    sort = ["_called", "padj", "_gene"] if "padj" in table.columns else ["_called", "_gene"]
    table = table.sort_values(sort, kind="mergesort")
    keep = [c for c in columns if c in table.columns]
    return table[keep]


RESULT_COLUMNS = (
    "gene_name",
    "gene_id",
    "significant",
    "log2FoldChange",
    "log2FoldChange_shrunk",
    "padj",
    "pvalue",
    "baseMean",
    "stat",
    "lfcSE",
)
PACKAGES = (
    "redoxseq",
    "snakemake",
    "pydeseq2",
    "gseapy",
    "pysam",
    "numpy",
    "scipy",
    "pandas",
    "matplotlib",
    "adjustText",
    "upsetplot",
    "openpyxl",
)


def ora_table(table: pd.DataFrame) -> pd.DataFrame:
    """ORA rows of one contrast sorted by p-value (ties: direction, gene set), for reading."""
    if table.empty:
        return table
    columns = [
        "direction",
        "collection",
        "gene_set",
        "overlap",
        "set_size",
        "n_list",
        "odds_ratio",
        "pvalue",
        "fdr",
        "genes",
    ]
    keep = [c for c in columns if c in table.columns]
    return table.sort_values(["pvalue", "direction", "gene_set"], kind="mergesort")[keep]


def not_ranked(gsea: pd.DataFrame, skipped: pd.DataFrame | None) -> dict[str, str]:
    """Contrasts with skipped sets but no GSEA row, with the (first) reason, in table order.

    Parameters
    ----------
    gsea
        ``results/gsea/summary.tsv`` (``contrast`` column).
    skipped
        ``results/gsea/skipped.tsv`` (``contrast``, ``reason``); None: no contrast.
    """
    if skipped is None or skipped.empty or "contrast" not in skipped.columns:
        return {}
    ranked = set(gsea["contrast"].astype(str)) if "contrast" in gsea.columns else set()
    out: dict[str, str] = {}
    for row in skipped.itertuples(index=False):
        name = str(row.contrast)
        if name not in ranked and name not in out:
            out[name] = str(getattr(row, "reason", "not tested"))
    return out


def run_pages(
    *,
    contrasts: pd.DataFrame,
    gsea: pd.DataFrame,
    ssgsea: pd.DataFrame | None,
    preflight: Sequence[str],
    config: dict[str, object],
    gsea_skipped: pd.DataFrame | None = None,
) -> dict[str, str]:
    """The run-wide report pages (HTML text of each).

    Keys: ``contrasts``, ``design``, ``config``, ``versions``, ``gsea``, ``ssgsea``.

    Parameters
    ----------
    contrasts
        ``results/deseq2/contrasts.tsv`` (contrast as a column).
    gsea
        ``results/gsea/summary.tsv``.
    gsea_skipped
        ``results/gsea/skipped.tsv``: contrasts none of whose sets was tested (e.g. a
        likelihood-ratio test, not ranked) are named on the GSEA page with the reason.
    ssgsea
        ``results/gsea/ssgsea.group_comparison.tsv`` (None when ssGSEA is off).
    preflight
        the design pre-flight lines; ``config`` the resolved configuration.
    """
    import yaml

    gsea_note = (
        "One row per contrast x gene set, by FDR (Benjamini-Hochberg within a contrast "
        "and collection)."
    )
    for contrast, reason in not_ranked(gsea, gsea_skipped).items():
        gsea_note += f" {contrast}: no rows, {reason}."
    pages = {
        "contrasts": html_table_page(
            contrasts, title="Contrasts in plain words", description="What each log2 fold "
            "change means, and how each contrast was tested and called.", top=None,
            tsv_name="contrasts.tsv"),
        "gsea": html_table_page(
            gsea.sort_values(["fdr", "contrast", "gene_set"], kind="mergesort"),
            title="GSEA prerank, all contrasts", description=gsea_note, top=200,
            tsv_name="gsea_summary.tsv"),
        "versions": html_table_page(
            software_versions(PACKAGES), title="Software versions", description="Python "
            "packages of the environment that wrote the report pages.", top=None),
        "design": html_text_page("Design pre-flight", "Checked before any job ran.",
                                 "\n".join(preflight)),
        "config": html_text_page("Resolved configuration", "config/config.yaml and --config "
                                 "overrides with every default filled in.",
                                 yaml.safe_dump(config, sort_keys=False)),
    }  # fmt: skip
    if ssgsea is None:
        pages["ssgsea"] = html_text_page("ssGSEA group comparison", "ssGSEA is switched off "
                                         "(gsea.ssgsea.collections: []).", "")  # fmt: skip
    else:
        pages["ssgsea"] = html_table_page(
            ssgsea.sort_values("pvalue", kind="mergesort"), title="ssGSEA group comparison",
            description="Per-sample scores compared between groups, by p-value.", top=200,
            tsv_name="ssgsea.group_comparison.tsv")  # fmt: skip
    return pages


def contrast_pages(results: pd.DataFrame, ora: pd.DataFrame, *, contrast: str) -> dict[str, str]:
    """The report pages of one contrast: its results (called genes first) and its ORA.

    Keys ``results`` and ``ora``. A likelihood-ratio test (``test`` column = LRT) is described
    as one: its stat is the LRT statistic, its log2FC one model coefficient, its ORA list the
    changed genes (no direction).

    Parameters
    ----------
    results
        the contrast's results table (index gene_id).
    ora
        its ORA rows, every collection (``collection`` column).
    """
    lrt = "test" in results.columns and bool((results["test"].astype(str) == "LRT").any())
    if lrt:
        what = (
            "A likelihood-ratio test: significant = changed (no direction); stat is the LRT "
            "statistic, pvalue and padj are the LRT's, and log2FoldChange is the model's last "
            "coefficient (as R reports an LRT; see the contrasts page), not a direction of the "
            "test."
        )
        lists = "changed genes (likelihood-ratio test, no direction)"
    else:
        what = (
            "log2FoldChange is the unshrunk estimate; log2FoldChange_shrunk the apeGLM "
            "estimate where it applies."
        )
        lists = "up and down genes"
    results_page = html_table_page(
        top_results(results, columns=RESULT_COLUMNS),
        title=f"{contrast}: differential expression",
        description=f"Called genes first (by adjusted p-value), then the others. {what}",
        tsv_name=f"{contrast}.results.tsv",
        full_table=results.reset_index(),
    )
    ora_page = html_table_page(
        ora_table(ora),
        title=f"{contrast}: over-representation of the {lists}",
        description="Hypergeometric test of each gene set against the tested genes "
        "(background); FDR by Benjamini-Hochberg within each collection and direction. Sorted "
        "by p-value.",
        tsv_name=f"{contrast}.ora.tsv",
    )
    return {"results": results_page, "ora": ora_page}
