"""Enrichment figures: GSEA running-sum plots, ORA dot plots, the NES summary across contrasts."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from redoxseq.errors import InputError
from redoxseq.plots.style import (
    DIVERGING_CMAP,
    DOUBLE_COLUMN,
    DOWN_COLOUR,
    OKABE_ITO,
    SEQUENTIAL_CMAP,
    SINGLE_COLUMN,
    UP_COLOUR,
    empty_figure,
    require_columns,
    styled,
)

logger = logging.getLogger(__name__)


ORA_DIRECTIONS = ("up", "down", "changed")  # changed: the one list of an LRT


def shorten(name: str, width: int = 48) -> str:
    """A gene-set name cut to ``width`` characters with an ellipsis (for axis labels)."""
    return name if len(name) <= width else name[: width - 1] + "…"


def running_sum(ranking: pd.Series, genes: Sequence[str], *, weight: float = 1.0) -> np.ndarray:
    """Running enrichment score of a gene set along a ranked list (Subramanian et al. 2005).

    Parameters
    ----------
    ranking
        symbol -> metric, sorted by decreasing metric (as GSEA prerank ranks genes).
    genes
        the set's symbols; those absent from the ranking are ignored.
    weight
        exponent of the metric at hits (1: the weighted statistic GSEA and fgsea use).

    Returns
    -------
    numpy.ndarray
        The running sum after each position; its extreme value is the enrichment score.
    """
    hits = ranking.index.isin(set(genes))
    n_hits = int(hits.sum())
    if n_hits == 0 or n_hits == len(ranking):
        raise InputError(f"running sum: {n_hits} of {len(ranking)} ranked genes are in the set")
    magnitude = np.abs(ranking.to_numpy(dtype=float)) ** weight
    hit_sum = magnitude[hits].sum()
    step = np.where(
        hits, magnitude / hit_sum if hit_sum > 0 else 1.0 / n_hits, -1.0 / (len(ranking) - n_hits)
    )
    return np.cumsum(step)


def ranked_genes(
    results: pd.DataFrame, annotation: pd.DataFrame | None, *, metric: str = "stat"
) -> pd.Series:
    """The ranked gene list GSEA prerank used for a contrast (same symbols, metric and ties).

    Parameters
    ----------
    results
        the contrast's results table with a ``gene_id`` column.
    annotation
        gene_id -> gene_name table filling symbols the results lack (as the GSEA job does).
    """
    from redoxseq.enrichment.gsea import _with_symbols, ranking_from_results, sort_ranking

    ranking = ranking_from_results(_with_symbols(results, annotation), metric)  # type: ignore[arg-type]
    ordered, _ = sort_ranking(ranking)
    return ordered


@styled
def plot_running_sum(
    ranking: pd.Series,
    genes: Sequence[str],
    *,
    gene_set: str,
    contrast: str,
    nes: float | None = None,
    fdr: float | None = None,
    metric: str = "stat",
) -> Figure:
    """GSEA enrichment plot: running sum, positions of the set's genes, the ranking metric.

    Parameters
    ----------
    ranking
        symbol -> metric, sorted by decreasing metric.
    nes, fdr
        the set's NES and FDR from the GSEA table (shown in the title when given).
    """
    scores = running_sum(ranking, genes)
    positions = np.arange(len(ranking))
    hits = np.flatnonzero(ranking.index.isin(set(genes)))
    peak = int(np.argmax(np.abs(scores)))
    figure = Figure(figsize=(SINGLE_COLUMN, 2.9))
    grid = figure.add_gridspec(3, 1, height_ratios=[2.2, 0.45, 1.0], hspace=0.08)
    top = figure.add_subplot(grid[0])
    colour = UP_COLOUR if scores[peak] > 0 else DOWN_COLOUR
    top.plot(positions, scores, color=OKABE_ITO["green"], linewidth=1.0)
    top.axhline(0, color="black", linewidth=0.4)
    top.axvline(peak, color=colour, linestyle="--", linewidth=0.6)
    top.set_ylabel("running\nenrichment score")
    top.tick_params(labelbottom=False)
    title = f"{shorten(gene_set, 44)}\n{contrast}"
    stats = []
    if nes is not None and np.isfinite(nes):
        stats.append(f"NES {nes:.2f}")
    if fdr is not None and np.isfinite(fdr):
        stats.append(f"FDR {fdr:.2g}")
    stats.append(f"{len(hits)} genes")
    top.set_title(title + "  (" + ", ".join(stats) + ")", loc="left", fontsize=6.5)
    ticks = figure.add_subplot(grid[1], sharex=top)
    ticks.vlines(hits, 0, 1, color="black", linewidth=0.4)
    ticks.set_yticks([])
    ticks.tick_params(labelbottom=False)
    for spine in ("left", "top", "right"):
        ticks.spines[spine].set_visible(False)
    bottom = figure.add_subplot(grid[2], sharex=top)
    values = ranking.to_numpy(dtype=float)
    bottom.fill_between(
        positions, values, 0, where=values >= 0, color=UP_COLOUR, linewidth=0, rasterized=True
    )
    bottom.fill_between(
        positions, values, 0, where=values < 0, color=DOWN_COLOUR, linewidth=0, rasterized=True
    )
    bottom.set_ylabel(f"ranking\nmetric ({metric})")
    bottom.set_xlabel("rank in the ordered gene list")
    bottom.set_xlim(0, len(ranking) - 1)
    figure.align_ylabels([top, bottom])
    return figure


def skip_reason(skipped: pd.DataFrame, gene_set: str) -> str | None:
    """Why GSEA prerank did not test ``gene_set`` (its ``.gsea.skipped.tsv``), or None.

    Parameters
    ----------
    skipped
        the prerank job's skipped table: one row per set not tested, with ``gene_set`` and
        ``reason`` (e.g. too few genes measured, or a likelihood-ratio test, which is not
        ranked).
    """
    if skipped.empty or "gene_set" not in skipped.columns:
        return None
    rows = skipped[skipped["gene_set"].astype(str) == gene_set]
    if rows.empty:
        return None
    return str(rows["reason"].iloc[0]) if "reason" in rows.columns else "not tested"


@styled
def plot_gsea_not_tested(gene_set: str, *, contrast: str, reason: str) -> Figure:
    """A running-sum slot that says why there is no curve (the set was not tested by GSEA)."""
    import textwrap

    figure = Figure(figsize=(SINGLE_COLUMN, 1.3))
    figure.text(0.03, 0.92, f"{shorten(gene_set, 44)}\n{contrast}", va="top", fontsize=6.5)
    reason = reason.strip().rstrip(".")
    body = "GSEA did not test this set.\n" + textwrap.fill(
        reason[:1].upper() + reason[1:] + ".", width=62
    )
    figure.text(0.03, 0.62, body, va="top", fontsize=6.5, color="#444444")
    return figure


def running_sum_figure(
    results: pd.DataFrame,
    annotation: pd.DataFrame | None,
    gsea: pd.DataFrame,
    skipped: pd.DataFrame,
    genes: Sequence[str],
    *,
    gene_set: str,
    contrast: str,
    metric: str = "stat",
) -> Figure:
    """The running-sum plot of one gene set in one contrast, or why there is none.

    Parameters
    ----------
    results
        the contrast's DE results (a ``gene_id`` column); ranked as GSEA prerank ranked them.
    gsea, skipped
        the prerank tables of the set's collection (``gene_set``, ``nes``, ``fdr``; and
        ``gene_set``, ``reason``). A set in ``skipped`` (e.g. every set of a
        likelihood-ratio test, which has no direction to rank by) gets a figure that says why.
    genes
        the set's symbols.
    """
    reason = skip_reason(skipped, gene_set)
    if reason is not None:
        return plot_gsea_not_tested(gene_set, contrast=contrast, reason=reason)
    rows = gsea[gsea["gene_set"].astype(str) == gene_set]
    return plot_running_sum(
        ranked_genes(results, annotation, metric=metric),
        genes,
        gene_set=gene_set,
        contrast=contrast,
        nes=float(rows["nes"].iloc[0]) if len(rows) else None,
        fdr=float(rows["fdr"].iloc[0]) if len(rows) else None,
        metric=metric,
    )


#: sets at this FDR or above are drawn faded on the ORA dot plot
ORA_FDR = 0.05


@styled
def plot_ora(table: pd.DataFrame, *, contrast: str, top: int = 10) -> Figure:
    """Dot plot of over-representation of the up and down lists (one panel each).

    A likelihood-ratio test has one list, its ``changed`` genes (no direction): one panel.

    Parameters
    ----------
    table
        ORA results of the contrast, all collections: one row per direction x gene set with
        ``direction`` (up/down, or changed for an LRT), ``gene_set``, ``overlap``, ``n_list``,
        ``pvalue``, ``fdr``.
        Each panel shows the ``top`` sets with the smallest p-value (ties by name); x is the
        gene ratio (overlap / list size), size the overlap, colour -log10 FDR; sets with
        FDR >= ``ORA_FDR`` are faded and the panel title counts the others.
    """
    require_columns(
        table, ["direction", "gene_set", "overlap", "n_list", "pvalue", "fdr"], f"ORA {contrast}"
    )
    directions = [d for d in ORA_DIRECTIONS if d in set(table["direction"])]
    usable = table[table["overlap"] > 0]
    if usable.empty or not directions:
        lists = " or ".join(directions) if directions else "up or down"
        return empty_figure(f"{contrast}: no gene set overlaps the {lists} genes")
    chosen = {}
    for direction in directions:
        part = usable[usable["direction"] == direction]
        part = (
            part.assign(_name=part["gene_set"].astype(str))
            .sort_values(["pvalue", "_name"], kind="mergesort")
            .drop_duplicates("gene_set")
            .head(top)
        )
        chosen[direction] = part
    n_rows = sum(max(len(part), 1) for part in chosen.values())
    height = 0.9 + 0.17 * n_rows + 0.55 * len(directions)
    figure = Figure(figsize=(DOUBLE_COLUMN * 0.72, height))
    fdr_all = pd.concat(chosen.values())["fdr"].astype(float).clip(lower=1e-10)
    norm = Normalize(vmin=0, vmax=max(2.0, float(-np.log10(fdr_all).max())))
    axes_list = figure.subplots(
        len(directions),
        1,
        squeeze=False,
        gridspec_kw={"height_ratios": [max(len(chosen[d]), 1) for d in directions]},
    )[:, 0]
    max_overlap = max(1, int(pd.concat(chosen.values())["overlap"].max()))
    points = None
    for axes, direction in zip(axes_list, directions, strict=True):
        part = chosen[direction].iloc[::-1]
        if part.empty:
            axes.text(0.5, 0.5, "no overlap", ha="center", transform=axes.transAxes)
            axes.set_axis_off()
            continue
        ratio = part["overlap"] / part["n_list"].where(part["n_list"] > 0, 1)
        significant = (part["fdr"].astype(float) < ORA_FDR).to_numpy()
        points = axes.scatter(
            ratio,
            np.arange(len(part)),
            s=8 + 60 * part["overlap"] / max_overlap,
            c=-np.log10(part["fdr"].astype(float).clip(lower=1e-10)),
            cmap=SEQUENTIAL_CMAP,
            norm=norm,
            edgecolors=["black" if hit else "#BBBBBB" for hit in significant],
            linewidths=0.3,
            alpha=np.where(significant, 1.0, 0.35),
        )
        axes.set_yticks(
            np.arange(len(part)), labels=[shorten(str(s), 48) for s in part["gene_set"]]
        )
        axes.set_ylim(-0.7, len(part) - 0.3)
        axes.set_xlabel("gene ratio (overlap / list size)")
        n_hits = int(significant.sum())
        hits = f"{n_hits} set{'s' if n_hits > 1 else ''}" if n_hits else "no set"
        n_list = int(part["n_list"].iloc[0])
        what = (
            "changed genes (LRT, no direction; "
            if direction == "changed"
            else f"{direction} genes ("
        )
        axes.set_title(f"{what}n = {n_list}): {hits} at FDR < {ORA_FDR:g}", loc="left")
        axes.margins(x=0.25)
        axes.grid(axis="x", alpha=0.3, linewidth=0.4)
    figure.suptitle(f"{contrast}: over-representation", x=0.01, ha="left")
    figure.subplots_adjust(
        hspace=0.7 / max(0.17 * n_rows / len(directions), 0.3),
        left=0.5,
        right=0.82,
        top=1 - 0.4 / height,
        bottom=0.35 / height,
    )
    if points is not None:
        cax = figure.add_axes((0.86, 1 - 1.6 / height, 0.015, 1.1 / height))
        bar = figure.colorbar(points, cax=cax)
        bar.set_label("-log10 FDR", fontsize=6)
        sizes = sorted({1, max(1, max_overlap // 2), max_overlap})
        handles = [
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                color="#777777",
                markersize=np.sqrt(8 + 60 * s / max_overlap),
                label=str(s),
            )
            for s in sizes
        ]
        figure.legend(
            handles=handles,
            title="overlap",
            loc="upper left",
            bbox_to_anchor=(0.84, 1 - 1.9 / height),
        )
    return figure


def _with_collection_names(summary: pd.DataFrame) -> pd.DataFrame:
    if "collection" not in summary.columns:
        return summary
    # A set bundled in two collections has a different FDR in each: name the collection.
    pairs = summary[["collection", "gene_set"]].drop_duplicates()
    repeated = set(pairs["gene_set"][pairs["gene_set"].duplicated()])
    return summary.assign(
        gene_set=[
            f"{name} [{collection}]" if name in repeated else name
            for name, collection in zip(summary["gene_set"], summary["collection"], strict=True)
        ]
    )


@styled
def plot_gsea_nes(
    summary: pd.DataFrame,
    *,
    fdr_cutoff: float = 0.05,
    top: int = 30,
    always: Sequence[str] = (),
    not_ranked: Sequence[str] = (),
) -> Figure:
    """Dot plot of normalised enrichment scores: gene sets x contrasts.

    Parameters
    ----------
    summary
        long table with ``contrast``, ``gene_set``, ``nes``, ``fdr`` and optionally
        ``collection``. Colour is the NES; size grows with -log10 FDR; filled dots have
        FDR < cutoff. Shown: the ``always`` sets (e.g. the gene sets of interest) and the
        ``top`` sets with the smallest FDR in any contrast.
    not_ranked
        contrasts GSEA did not rank (likelihood-ratio tests: no direction), named in the title.
    """
    require_columns(summary, ["contrast", "gene_set", "nes", "fdr"], "GSEA summary")
    summary = _with_collection_names(summary)
    if summary.empty:
        return empty_figure("no gene set passed the size filters")
    best = summary.groupby("gene_set")["fdr"].min().sort_values(kind="mergesort")
    forced = [s for s in dict.fromkeys(always) if s in best.index]
    terms = forced + sorted(
        [t for t in best.index if t not in forced][: max(0, top - len(forced))],
        key=lambda term: (best[term], term),
    )
    contrasts = list(dict.fromkeys(summary["contrast"]))
    table = summary[summary["gene_set"].isin(terms)]
    longest = max(len(shorten(str(t))) for t in terms)
    width = min(DOUBLE_COLUMN, 1.6 + 0.045 * longest + 0.32 * len(contrasts))
    figure = Figure(
        figsize=(width, 1.7 + 0.14 * len(terms) + 0.035 * max(len(c) for c in contrasts))
    )
    axes = figure.add_subplot()
    x = table["contrast"].map({c: i for i, c in enumerate(contrasts)})
    y = table["gene_set"].map({t: i for i, t in enumerate(terms)})
    fdr = table["fdr"].astype(float).clip(lower=1e-4)
    size = 6 + 14 * -np.log10(fdr)
    limit = max(1.0, float(np.nanmax(np.abs(table["nes"])))) if len(table) else 1.0
    filled = table["fdr"] < fdr_cutoff
    points = axes.scatter(
        x[filled],
        y[filled],
        s=size[filled],
        c=table.loc[filled, "nes"],
        cmap=DIVERGING_CMAP,
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
        cmap=DIVERGING_CMAP,
        vmin=-limit,
        vmax=limit,
        alpha=0.4,
        linewidths=0,
    )
    axes.set_xticks(range(len(contrasts)), labels=contrasts, rotation=90)
    axes.set_yticks(range(len(terms)), labels=[shorten(str(t)) for t in terms])
    for label in axes.get_yticklabels()[: len(forced)]:
        label.set_fontweight("bold")
    axes.set_xlim(-0.6, len(contrasts) - 0.4)
    axes.set_ylim(-0.6, len(terms) - 0.4)
    axes.invert_yaxis()
    axes.grid(alpha=0.25, linewidth=0.4)
    title = "GSEA: NES per contrast (bold: gene sets of interest)"
    if not_ranked:
        title += f"\nnot ranked (LRT, no direction): {', '.join(not_ranked)}"
    axes.set_title(title, loc="left")
    colourbar = figure.colorbar(
        points, ax=axes, shrink=0.35, anchor=(0.0, 1.0), pad=0.03, aspect=12
    )
    colourbar.set_label("NES")
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            color="#777777",
            markeredgecolor="black",
            markeredgewidth=0.4,
            markersize=float(np.sqrt(6 + 14 * -np.log10(v))),
            label=f"{v:g}",
        )
        for v in (0.05, 0.001, 1e-4)
    ]
    handles.append(
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            color="#777777",
            alpha=0.4,
            markersize=3,
            label=f"FDR ≥ {fdr_cutoff:g} (faded)",
        )
    )
    figure.legend(
        handles=handles,
        title="FDR",
        loc="lower left",
        bbox_to_anchor=(0.80, 0.05),
        labelspacing=0.9,
    )
    return figure
