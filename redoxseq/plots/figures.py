"""Figures: PCA, volcano, MA, read-assignment summary and GSEA summary.

Every function takes in-memory tables and returns a matplotlib ``Figure`` built with the
object-oriented API; the caller saves it with :func:`save_figure`, which strips run-specific
metadata so the same inputs give the same bytes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from redoxseq.errors import InputError
from redoxseq.io import atomic_path

logger = logging.getLogger(__name__)

UP_COLOUR = "#b2182b"
DOWN_COLOUR = "#2166ac"
NS_COLOUR = "#bdbdbd"
HIGHLIGHT_COLOUR = "#e08214"
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")
_PALETTE = (
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#666666",
    "#1f78b4",
    "#b15928",
)


def save_figure(figure: Figure, path: str | os.PathLike[str], *, dpi: int = 200) -> None:
    """Save ``figure`` atomically, without timestamps, so reruns give identical files.

    The format comes from the file extension (svg, png or pdf).
    """
    target = Path(path)
    fmt = target.suffix.lstrip(".").lower()
    metadata: dict[str, str | None]
    if fmt == "svg":
        metadata = {"Date": None, "Creator": "redoxseq"}
    elif fmt == "pdf":
        metadata = {"CreationDate": None, "ModDate": None, "Creator": "redoxseq"}
    else:
        metadata = {"Software": "redoxseq"}
    with (
        matplotlib.rc_context({"svg.hashsalt": "redoxseq", "svg.fonttype": "none"}),
        atomic_path(target) as tmp,
    ):
        figure.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata, bbox_inches="tight")


def _require_columns(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {missing}; present: {list(table.columns)}")


@dataclass(frozen=True)
class PcaResult:
    """Principal components of the samples.

    Attributes
    ----------
    coordinates
        samples x components (PC1, PC2, ...), the projected sample coordinates.
    explained_variance_ratio
        fraction of the variance of the selected genes explained by each component.
    genes_used
        the most variable genes the PCA was computed on.
    """

    coordinates: pd.DataFrame
    explained_variance_ratio: pd.Series
    genes_used: pd.Index


def compute_pca(expression: pd.DataFrame, *, top_genes: int = 500) -> PcaResult:
    """PCA of samples on the ``top_genes`` most variable genes, as DESeq2's ``plotPCA``.

    Parameters
    ----------
    expression
        genes x samples, variance-stabilised expression (log2-like scale).
    top_genes
        number of genes with the largest variance across samples to keep.

    Returns
    -------
    PcaResult
        Component signs are fixed so that the largest absolute loading of each component
        is positive, making the picture independent of the SVD implementation.
    """
    if expression.shape[1] < 2:
        raise InputError(f"PCA needs at least 2 samples; got {expression.shape[1]}")
    variances = expression.var(axis=1, ddof=1)
    # Stable order on ties: by variance descending, then by gene id.
    order = sorted(range(len(variances)), key=lambda i: (-variances.iloc[i], variances.index[i]))
    selected = expression.iloc[order[: min(top_genes, len(order))]]
    matrix = selected.to_numpy(dtype=float).T  # samples x genes
    centred = matrix - matrix.mean(axis=0)
    u, singular, vt = np.linalg.svd(centred, full_matrices=False)
    for k in range(vt.shape[0]):
        if vt[k, np.argmax(np.abs(vt[k]))] < 0:
            vt[k] *= -1
            u[:, k] *= -1
    scores = u * singular
    n_components = min(scores.shape[1], matrix.shape[0])
    names = [f"PC{k + 1}" for k in range(n_components)]
    variance = singular[:n_components] ** 2
    total = variance.sum()
    ratio = variance / total if total > 0 else np.zeros_like(variance)
    return PcaResult(
        coordinates=pd.DataFrame(scores[:, :n_components], index=expression.columns, columns=names),
        explained_variance_ratio=pd.Series(ratio, index=names),
        genes_used=selected.index,
    )


def _level_map(values: pd.Series, styles: Sequence[str]) -> dict[str, str]:
    levels = list(dict.fromkeys(values.astype(str)))
    return {level: styles[i % len(styles)] for i, level in enumerate(levels)}


def plot_pca(
    pca: PcaResult,
    samples: pd.DataFrame,
    *,
    color_by: str,
    shape_by: str | None = None,
    title: str = "PCA of variance-stabilised counts",
) -> Figure:
    """Scatter of PC1 vs PC2, coloured (and optionally shaped) by sample-sheet columns.

    Parameters
    ----------
    pca
        result of :func:`compute_pca`.
    samples
        sample sheet indexed by sample, holding the ``color_by`` / ``shape_by`` columns.
    """
    for column in (color_by, shape_by):
        if column and column not in samples.columns:
            raise InputError(
                f"PCA: sample-sheet column {column!r} not found; columns: {list(samples.columns)}"
            )
    coords = pca.coordinates
    sheet = samples.loc[coords.index]
    colours = _level_map(sheet[color_by], _PALETTE)
    shapes = _level_map(sheet[shape_by], _MARKERS) if shape_by else {}
    figure = Figure(figsize=(6.0, 4.8))
    axes = figure.add_subplot()
    for sample, row in coords.iterrows():
        colour = colours[str(sheet.at[sample, color_by])]
        marker = shapes[str(sheet.at[sample, shape_by])] if shape_by else "o"
        axes.scatter(
            row["PC1"],
            row.get("PC2", 0.0),
            c=colour,
            marker=marker,
            s=60,
            edgecolors="black",
            linewidths=0.5,
        )
    ratio = pca.explained_variance_ratio
    axes.set_xlabel(f"PC1 ({ratio.iloc[0]:.0%} of variance)")
    if len(ratio) > 1:
        axes.set_ylabel(f"PC2 ({ratio.iloc[1]:.0%} of variance)")
    axes.set_title(f"{title}\n({len(pca.genes_used)} most variable genes)", fontsize=10)
    handles = [
        Line2D([], [], marker="o", linestyle="", color=colour, label=f"{color_by}: {level}")
        for level, colour in colours.items()
    ]
    handles += [
        Line2D([], [], marker=marker, linestyle="", color="black", label=f"{shape_by}: {level}")
        for level, marker in shapes.items()
    ]
    axes.legend(handles=handles, fontsize=8, frameon=False, loc="best")
    axes.grid(alpha=0.3)
    return figure


def _significance_classes(results: pd.DataFrame) -> pd.Series:
    """``up`` / ``down`` / ``ns`` per gene, from the DE stage's own ``significant`` column."""
    calls = results["significant"].fillna("").astype(str)
    return calls.where(calls.isin(["up", "down"]), "ns")


def plot_volcano(
    results: pd.DataFrame,
    *,
    contrast: str,
    significance: str,
    padj_cutoff: float | None,
    pvalue_cutoff: float | None,
    lfc_cutoff: float,
    label_top: int = 15,
    highlight: Collection[str] = (),
    highlight_label: str = "highlighted genes",
) -> Figure:
    """Volcano plot: log2 fold change against -log10 adjusted p-value (or p-value).

    Parameters
    ----------
    results
        one row per gene with columns ``gene_name``, ``log2FoldChange``, ``pvalue``, ``padj``
        and ``significant`` (``up``, ``down`` or empty: the contrast's calls). Genes with
        padj NA (independent filtering, Cook's outliers) are not drawn.
    significance
        the contrast's calling rule in words, shown in the title.
    padj_cutoff, pvalue_cutoff, lfc_cutoff
        the numeric cutoffs (None when not used). When the calls use a p-value cutoff the
        y axis shows -log10 p-value, otherwise -log10 adjusted p-value.
    highlight
        gene symbols drawn in a separate colour (e.g. NRF2 targets).
    """
    _require_columns(
        results,
        ["gene_name", "log2FoldChange", "pvalue", "padj", "significant"],
        f"volcano {contrast}",
    )
    on_pvalue = pvalue_cutoff is not None
    y_column = "pvalue" if on_pvalue else "padj"
    tested = results.dropna(subset=["padj", "log2FoldChange"])
    floor = np.nextafter(0, 1)
    y = -np.log10(tested[y_column].clip(lower=floor))
    classes = _significance_classes(tested)
    figure = Figure(figsize=(6.0, 5.0))
    axes = figure.add_subplot()
    counts = classes.value_counts()
    for name, colour in (("ns", NS_COLOUR), ("down", DOWN_COLOUR), ("up", UP_COLOUR)):
        mask = classes == name
        axes.scatter(
            tested.loc[mask, "log2FoldChange"],
            y[mask],
            s=6,
            c=colour,
            label=f"{name} ({int(counts.get(name, 0))})",
            rasterized=True,
            linewidths=0,
        )
    names = tested["gene_name"].astype(str)
    highlighted = names.isin(set(highlight))
    if highlighted.any():
        axes.scatter(
            tested.loc[highlighted, "log2FoldChange"],
            y[highlighted],
            s=18,
            facecolors="none",
            edgecolors=HIGHLIGHT_COLOUR,
            linewidths=0.9,
            label=f"{highlight_label} ({int(highlighted.sum())})",
        )
    y_cutoff = pvalue_cutoff if on_pvalue else padj_cutoff
    if y_cutoff is not None and np.isfinite(y_cutoff) and y_cutoff > 0:
        axes.axhline(-np.log10(y_cutoff), color="black", linestyle="--", linewidth=0.6)
    if lfc_cutoff > 0:
        for x in (-lfc_cutoff, lfc_cutoff):
            axes.axvline(x, color="black", linestyle="--", linewidth=0.6)
    significant = tested[classes != "ns"]
    # Label the most significant genes; ties broken by |log2FC| then gene id, for stable output.
    ranking = pd.DataFrame(
        {
            "p": significant[y_column].to_numpy(dtype=float),
            "neg_abs_lfc": -significant["log2FoldChange"].abs().to_numpy(dtype=float),
            "gene": significant.index.astype(str),
        },
        index=significant.index,
    ).sort_values(["p", "neg_abs_lfc", "gene"], kind="mergesort")
    for gene in ranking.index[:label_top]:
        axes.annotate(
            str(tested.at[gene, "gene_name"]),
            (tested.at[gene, "log2FoldChange"], y[gene]),
            fontsize=6,
            xytext=(2, 2),
            textcoords="offset points",
        )
    axes.set_xlabel("log2 fold change")
    axes.set_ylabel("-log10 p-value" if on_pvalue else "-log10 adjusted p-value")
    axes.set_title(f"{contrast}\ncalled: {significance}", fontsize=9)
    axes.legend(fontsize=7, frameon=False, loc="upper left")
    return figure


def plot_ma(results: pd.DataFrame, *, contrast: str) -> Figure:
    """MA plot: log2 fold change against mean of normalised counts (log scale).

    Parameters
    ----------
    results
        one row per gene with ``baseMean``, ``log2FoldChange`` and ``significant`` (the
        contrast's calls); when a ``log2FoldChange_shrunk`` column with values is present, a
        second panel shows the shrunken fold changes.
    """
    _require_columns(results, ["baseMean", "log2FoldChange", "significant"], f"MA {contrast}")
    shrunk_available = (
        "log2FoldChange_shrunk" in results.columns
        and results["log2FoldChange_shrunk"].notna().any()
    )
    columns = (
        ["log2FoldChange", "log2FoldChange_shrunk"] if shrunk_available else ["log2FoldChange"]
    )
    figure = Figure(figsize=(5.5 * len(columns), 4.5))
    expressed = results[results["baseMean"] > 0]
    classes = _significance_classes(expressed)
    for k, column in enumerate(columns):
        axes = figure.add_subplot(1, len(columns), k + 1)
        for name, colour in (("ns", NS_COLOUR), ("down", DOWN_COLOUR), ("up", UP_COLOUR)):
            mask = (classes == name) & expressed[column].notna()
            axes.scatter(
                expressed.loc[mask, "baseMean"],
                expressed.loc[mask, column],
                s=5,
                c=colour,
                rasterized=True,
                linewidths=0,
                label=name,
            )
        axes.set_xscale("log")
        axes.axhline(0, color="black", linewidth=0.6)
        axes.set_xlabel("mean of normalised counts")
        axes.set_ylabel("shrunken log2 fold change" if k else "log2 fold change")
        axes.set_title(f"{contrast}{' (apeGLM shrinkage)' if k else ''}", fontsize=10)
        axes.legend(fontsize=7, frameon=False)
    return figure


def plot_assignment_summary(summary: pd.DataFrame) -> Figure:
    """Stacked bars of read assignment categories per sample (featureCounts categories).

    Parameters
    ----------
    summary
        categories x samples, read (or fragment) counts, as featureCounts' ``.summary``.
    """
    nonzero = summary.loc[summary.sum(axis=1) > 0]
    fractions = nonzero / nonzero.sum(axis=0)
    figure = Figure(figsize=(max(6.0, 0.5 * summary.shape[1] + 3), 4.5))
    axes = figure.add_subplot()
    bottom = np.zeros(fractions.shape[1])
    positions = np.arange(fractions.shape[1])
    for k, (category, row) in enumerate(fractions.iterrows()):
        colour = "#4d9221" if category == "Assigned" else _PALETTE[k % len(_PALETTE)]
        axes.bar(positions, row.to_numpy(), bottom=bottom, label=str(category), color=colour)
        bottom += row.to_numpy()
    axes.set_xticks(positions, labels=list(fractions.columns), rotation=60, ha="right", fontsize=7)
    axes.set_ylabel("fraction of reads / fragments")
    axes.set_title("Read assignment per sample", fontsize=10)
    axes.legend(fontsize=7, frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left")
    return figure


def plot_gsea_summary(summary: pd.DataFrame, *, fdr_cutoff: float = 0.05, top: int = 30) -> Figure:
    """Dot plot of normalised enrichment scores: gene sets x contrasts.

    Parameters
    ----------
    summary
        long table with columns ``contrast``, ``gene_set``, ``nes``, ``fdr`` and optionally
        ``collection`` (a set found in several collections is shown once per collection).
        Colour is the NES; dot size grows with -log10 FDR; filled dots have FDR < cutoff.
        The ``top`` gene sets with the smallest FDR in any contrast are shown.
    """
    _require_columns(summary, ["contrast", "gene_set", "nes", "fdr"], "GSEA summary")
    if "collection" in summary.columns:
        # A set bundled in two collections (e.g. the ROS hallmark in nrf2 and hallmark) has a
        # different FDR in each: keep the rows apart by naming the collection.
        pairs = summary[["collection", "gene_set"]].drop_duplicates()
        repeated = set(pairs["gene_set"][pairs["gene_set"].duplicated()])
        summary = summary.assign(
            gene_set=[
                f"{name} [{collection}]" if name in repeated else name
                for name, collection in zip(summary["gene_set"], summary["collection"], strict=True)
            ]
        )
    if summary.empty:
        figure = Figure(figsize=(6, 2))
        figure.text(0.5, 0.5, "no gene set passed the size filters", ha="center")
        return figure
    best = summary.groupby("gene_set")["fdr"].min().sort_values(kind="mergesort")
    terms = sorted(best.index[:top], key=lambda term: (best[term], term))
    contrasts = list(dict.fromkeys(summary["contrast"]))
    table = summary[summary["gene_set"].isin(terms)]
    figure = Figure(figsize=(2.0 + 1.1 * len(contrasts), 1.2 + 0.28 * len(terms)))
    axes = figure.add_subplot()
    x = table["contrast"].map({c: i for i, c in enumerate(contrasts)})
    y = table["gene_set"].map({t: i for i, t in enumerate(terms)})
    fdr = table["fdr"].clip(lower=1e-4)
    size = 15 + 40 * -np.log10(fdr)
    limit = float(np.nanmax(np.abs(table["nes"]))) if len(table) else 1.0
    filled = table["fdr"] < fdr_cutoff
    points = axes.scatter(
        x[filled],
        y[filled],
        s=size[filled],
        c=table.loc[filled, "nes"],
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        edgecolors="black",
        linewidths=0.4,
    )
    axes.scatter(
        x[~filled],
        y[~filled],
        s=size[~filled],
        c=table.loc[~filled, "nes"],
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        alpha=0.35,
        linewidths=0,
    )
    axes.set_xticks(range(len(contrasts)), labels=contrasts, rotation=45, ha="right", fontsize=7)
    axes.set_yticks(range(len(terms)), labels=[str(t)[:60] for t in terms], fontsize=7)
    axes.set_xlim(-0.5, len(contrasts) - 0.5)
    axes.set_ylim(-0.5, len(terms) - 0.5)
    axes.invert_yaxis()
    colourbar = figure.colorbar(points, ax=axes, shrink=0.6)
    colourbar.set_label("NES")
    axes.set_title(f"GSEA: NES (filled: FDR < {fdr_cutoff:g}; size: -log10 FDR)", fontsize=9)
    return figure


def plot_heatmap(
    expression: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    genes: Sequence[str],
    gene_names: pd.Series,
    group_by: Sequence[str],
    title: str,
) -> Figure:
    """Heatmap of per-gene z-scores of variance-stabilised expression.

    Parameters
    ----------
    expression
        genes x samples, VST (log2-like scale).
    samples
        sample sheet indexed by sample; columns ``group_by`` order the samples.
    genes
        gene IDs to show, in row order (IDs absent from ``expression`` are skipped).
    gene_names
        gene ID -> symbol, for the row labels.
    """
    present = [gene for gene in genes if gene in expression.index]
    if not present:
        raise InputError(f"heatmap {title!r}: none of the {len(genes)} genes is in the VST table")
    sheet = samples.loc[expression.columns]
    order = sheet.sort_values(list(group_by), kind="mergesort").index if group_by else sheet.index
    values = expression.loc[present, order].to_numpy(dtype=float)
    spread = values.std(axis=1, ddof=1, keepdims=True)
    z = (values - values.mean(axis=1, keepdims=True)) / np.where(spread > 0, spread, 1.0)
    figure = Figure(figsize=(2.5 + 0.35 * len(order), 1.5 + 0.16 * len(present)))
    axes = figure.add_subplot()
    image = axes.imshow(
        z, aspect="auto", cmap="RdBu_r", vmin=-2.5, vmax=2.5, interpolation="nearest"
    )
    axes.set_xticks(range(len(order)), labels=list(order), rotation=60, ha="right", fontsize=7)
    labels = [str(gene_names.get(gene, gene)) for gene in present]
    axes.set_yticks(range(len(present)), labels=labels, fontsize=6)
    axes.set_title(title, fontsize=10)
    colourbar = figure.colorbar(image, ax=axes, shrink=0.5)
    colourbar.set_label("z-score of VST")
    return figure


def upset_intersections(sets: dict[str, set[str]]) -> pd.DataFrame:
    """Exclusive intersections of named sets, as in an UpSet plot.

    Returns
    -------
    pandas.DataFrame
        One row per non-empty combination: one boolean column per set (membership) and
        ``size`` (elements in exactly those sets). Sorted by size descending, then by the
        combination, so the order is stable.
    """
    names = list(sets)
    membership: dict[tuple[bool, ...], int] = {}
    for element in sorted(set().union(*sets.values())) if sets else []:
        key = tuple(element in sets[name] for name in names)
        membership[key] = membership.get(key, 0) + 1
    rows = [dict(zip(names, key, strict=True), size=size) for key, size in membership.items()]
    table = pd.DataFrame(rows, columns=[*names, "size"])
    if table.empty:
        return table
    table["_key"] = ["".join("1" if v else "0" for v in key) for key in membership]
    table = table.sort_values(["size", "_key"], ascending=[False, False], kind="mergesort")
    return table.drop(columns="_key").reset_index(drop=True)


def plot_upset(sets: dict[str, set[str]], *, title: str, max_intersections: int = 30) -> Figure:
    """UpSet plot: sizes of the exclusive intersections of gene lists (e.g. up/down lists)."""
    table = upset_intersections(sets).head(max_intersections)
    names = list(sets)
    figure = Figure(figsize=(max(6.0, 0.35 * len(table) + 3.5), 2.5 + 0.3 * len(names)))
    grid = figure.add_gridspec(
        2,
        2,
        height_ratios=[2.2, 0.25 * len(names) + 0.5],
        width_ratios=[1.2, max(len(table), 1) * 0.35],
        hspace=0.05,
        wspace=0.05,
    )
    bars = figure.add_subplot(grid[0, 1])
    matrix = figure.add_subplot(grid[1, 1], sharex=bars)
    totals = figure.add_subplot(grid[1, 0])
    positions = np.arange(len(table))
    bars.bar(positions, table["size"] if len(table) else [], color="#404040")
    for x, size in zip(positions, table["size"] if len(table) else [], strict=True):
        bars.text(float(x), size, str(int(size)), ha="center", va="bottom", fontsize=6)
    bars.set_ylabel("genes in exactly\nthese lists", fontsize=8)
    bars.set_title(title, fontsize=10)
    bars.tick_params(labelbottom=False)
    for y, name in enumerate(names):
        members = table[name].to_numpy(dtype=bool) if len(table) else np.array([], dtype=bool)
        matrix.scatter(
            positions, np.full(len(table), y), s=25, c=np.where(members, "#202020", "#d9d9d9")
        )
    for x in positions:
        used = [y for y, name in enumerate(names) if table.iloc[x][name]]
        if len(used) > 1:
            matrix.plot([x, x], [min(used), max(used)], color="#202020", linewidth=1.2)
    matrix.set_yticks(range(len(names)), labels=names, fontsize=7)
    matrix.set_xticks([])
    matrix.set_ylim(-0.5, len(names) - 0.5)
    matrix.invert_yaxis()
    sizes = [len(sets[name]) for name in names]
    totals.barh(range(len(names)), sizes, color="#808080")
    totals.set_ylim(-0.5, len(names) - 0.5)
    totals.invert_yaxis()
    totals.invert_xaxis()
    totals.set_yticks([])
    totals.set_xlabel("list size", fontsize=7)
    return figure


def top_significant_genes(results: dict[str, pd.DataFrame], *, per_contrast: int) -> list[str]:
    """Union of each contrast's ``per_contrast`` most significant called genes.

    Parameters
    ----------
    results
        contrast name -> results table (index gene_id; columns ``padj``, ``significant``).

    Returns
    -------
    list of str
        Gene IDs, in order of first appearance (contrast order, then padj, then gene id).
    """
    chosen: dict[str, None] = {}
    for table in results.values():
        called = table[table["significant"].isin(["up", "down"])]
        ranked = called.assign(_gene=called.index.astype(str)).sort_values(
            ["padj", "_gene"], kind="mergesort"
        )
        chosen.update(dict.fromkeys(ranked.index[:per_contrast]))
    return list(chosen)
