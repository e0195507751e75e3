"""Whole-experiment figures.

DE gene counts, UpSet of the gene lists, genes of interest across contrasts, per-sample ssGSEA
scores (heatmap and group plots), and the one-page overview.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colorbar import Colorbar
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Patch

from redoxseq.plots.enrichment import shorten
from redoxseq.plots.heatmaps import annotated_heatmap, zscore_rows
from redoxseq.plots.style import (
    CALLED_COLOUR,
    DIVERGING_CMAP,
    DOUBLE_COLUMN,
    DOWN_COLOUR,
    SINGLE_COLUMN,
    UP_COLOUR,
    empty_figure,
    level_colours,
    require_columns,
    styled,
    text_width,
)

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------
# DE gene counts and UpSet
# ------------------------------------------------------------------------------------------
def call_counts(summaries: pd.DataFrame) -> pd.DataFrame:
    """``n_up``, ``n_down`` and ``n_changed`` per contrast (rows as in ``summaries``).

    A likelihood-ratio-test contrast (``test`` = LRT) calls genes changed with no direction:
    its calls (``n_significant``) are ``n_changed``, and its ``n_up`` / ``n_down`` are 0.
    """
    require_columns(summaries, ["n_up", "n_down"], "DE summaries")
    counts = summaries[["n_up", "n_down"]].fillna(0).astype(float)
    lrt = (
        summaries["test"].fillna("").astype(str).str.upper() == "LRT"
        if "test" in summaries.columns
        else pd.Series(False, index=summaries.index)
    )
    total = (
        summaries["n_significant"].fillna(0).astype(float)
        if "n_significant" in summaries.columns
        else counts["n_up"] + counts["n_down"]
    )
    counts["n_changed"] = total.where(lrt, 0.0).to_numpy()
    counts.loc[lrt.to_numpy(), ["n_up", "n_down"]] = 0.0
    return counts


def _draw_counts(axes: Axes, counts: pd.DataFrame) -> None:
    """Diverging up / down bars; a row with ``n_changed`` > 0 (an LRT) is written, not drawn."""
    positions = np.arange(len(counts))
    up = counts["n_up"].to_numpy(dtype=float)
    down = counts["n_down"].to_numpy(dtype=float)
    changed = (
        counts["n_changed"].to_numpy(dtype=float)
        if "n_changed" in counts.columns
        else np.zeros(len(counts))
    )
    axes.barh(positions, up, color=UP_COLOUR, height=0.7, label="up")
    axes.barh(positions, -down, color=DOWN_COLOUR, height=0.7, label="down")
    span = max(1.0, float(np.nanmax(np.concatenate([up, down]))) if len(up) else 1.0)
    for y, (u, d, c) in enumerate(zip(up, down, changed, strict=True)):
        if c > 0:  # no direction: the count in words on the axis, not a bar on one side
            axes.text(
                0, y, f"{int(c):,} changed (LRT, no direction)", va="center", ha="center",
                fontsize=6, color="black",
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "white",
                      "edgecolor": CALLED_COLOUR, "linewidth": 0.8},
            )  # fmt: skip
            continue
        axes.text(u + span * 0.02, y, f"{int(u):,}", va="center", ha="left", fontsize=6)
        axes.text(-d - span * 0.02, y, f"{int(d):,}", va="center", ha="right", fontsize=6)
    axes.axvline(0, color="black", linewidth=0.5)
    axes.set_xlim(-span * 1.3, span * 1.3)
    axes.set_yticks(positions, labels=list(counts.index))
    axes.invert_yaxis()
    ticks = axes.get_xticks()
    axes.set_xticks(ticks, labels=[f"{abs(int(t)):,}" for t in ticks])
    axes.set_xlim(-span * 1.3, span * 1.3)
    axes.set_xlabel("genes called (down | up)")


@styled
def plot_de_gene_counts(summaries: pd.DataFrame) -> Figure:
    """Up / down bars per contrast (diverging horizontal bars, counts printed).

    Parameters
    ----------
    summaries
        one row per contrast (index: contrast name) with ``n_up``, ``n_down`` and
        optionally ``significance`` (the calling rule, shown next to the name), ``test`` and
        ``n_significant`` (an LRT contrast has no direction: its calls are written in a box
        across the axis, not drawn as up or down; see :func:`call_counts`).
    """
    counts = call_counts(summaries)
    labels = [
        f"{name}\n({summaries.at[name, 'significance']!s})" if "significance" in summaries else name
        for name in counts.index
    ]
    counts.index = labels
    width = SINGLE_COLUMN * 1.5 if max(len(c) for c in summaries.index) > 24 else SINGLE_COLUMN
    figure = Figure(figsize=(width, 0.9 + 0.36 * len(counts)))
    axes = figure.add_subplot()
    _draw_counts(axes, counts)
    axes.set_title("Differentially expressed genes per contrast", loc="left")
    handles = [Patch(color=UP_COLOUR, label="up"), Patch(color=DOWN_COLOUR, label="down")]
    if counts["n_changed"].gt(0).any():
        handles.append(
            Patch(facecolor="white", edgecolor=CALLED_COLOUR, label="changed\n(LRT, no direction)")
        )
    axes.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
    )
    return figure


def called_gene_lists(
    results: Mapping[str, pd.DataFrame], *, lrt: Sequence[str] = ()
) -> dict[str, set[str]]:
    """The genes each contrast called, by their ``significant`` column.

    ``{contrast} up`` and ``{contrast} down`` for each Wald contrast; ``{contrast} changed``
    for each likelihood-ratio-test contrast (``lrt``), which calls no direction.

    Parameters
    ----------
    results
        contrast -> results table (index gene_id, ``significant``: up/down/changed/empty).
    """
    lists: dict[str, set[str]] = {}
    for name, table in results.items():
        calls = table["significant"].fillna("").astype(str)
        kinds = ("changed",) if name in set(lrt) else ("up", "down")
        for kind in kinds:
            lists[f"{name} {kind}"] = {str(g) for g in table.index[calls == kind]}
    return lists


def upset_intersections(sets: Mapping[str, set[str]]) -> pd.DataFrame:
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


@styled
def plot_upset(sets: Mapping[str, set[str]], *, title: str, max_intersections: int = 30) -> Figure:
    """UpSet plot (upsetplot) of gene lists, e.g. each contrast's up and down lists.

    Lists named ``... up`` get the up colour, ``... down`` the down colour and ``... changed``
    (a likelihood-ratio test: no direction) the LRT colour; empty lists are left out (named
    in the title). Intersections by size, at most ``max_intersections``.
    """
    from upsetplot import UpSet, from_contents

    nonempty = {name: genes for name, genes in sets.items() if genes}
    empty = [name for name in sets if name not in nonempty]
    if not nonempty:
        return empty_figure("no gene was called in any contrast")
    with warnings.catch_warnings():
        # upsetplot 0.9 calls a pandas fillna that pandas 2.2 deprecates (FutureWarning)
        warnings.simplefilter("ignore", FutureWarning)
        data = from_contents({name: sorted(genes) for name, genes in nonempty.items()})
    longest = max(len(name) for name in nonempty)
    n_bars = min(max_intersections, len(upset_intersections(nonempty)))
    width = min(DOUBLE_COLUMN, max(SINGLE_COLUMN, 0.055 * longest + 0.2 * n_bars + 1.4))
    figure = Figure(figsize=(width, 1.8 + 0.16 * len(nonempty)))
    FigureCanvasAgg(figure)  # upsetplot measures the set names with the figure's renderer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        upset = UpSet(
            data,
            sort_by="cardinality",
            sort_categories_by="-input",
            max_subset_rank=max_intersections,
            element_size=None,
            intersection_plot_elements=4,
            totals_plot_elements=2,
        )
        for name in nonempty:
            if name.endswith(" up"):
                upset.style_categories(name, bar_facecolor=UP_COLOUR)
            elif name.endswith(" down"):
                upset.style_categories(name, bar_facecolor=DOWN_COLOUR)
            elif name.endswith(" changed"):
                upset.style_categories(name, bar_facecolor=CALLED_COLOUR)
        axes = upset.plot(fig=figure)
    _fit_matrix_dots(figure, axes["matrix"], n_columns=n_bars, n_rows=len(nonempty))
    bars = axes["intersections"]
    for patch in bars.patches:
        height = patch.get_height()
        if height > 0:
            bars.text(
                patch.get_x() + patch.get_width() / 2,
                height,
                f"{int(height)}",
                ha="center",
                va="bottom",
                fontsize=5,
                rotation=90 if n_bars > 15 else 0,
            )
    axes["intersections"].set_ylabel("genes in exactly\nthese lists")
    axes["totals"].set_xlabel("list size")
    _clear_set_names(figure, axes["matrix"], axes["totals"])
    suffix = f"\nempty lists not drawn: {', '.join(empty)}" if empty else ""
    figure.suptitle(title + suffix, x=0.01, ha="left", y=1.02, fontsize=7.5)
    return figure


def _fit_matrix_dots(figure: Figure, matrix: Axes, *, n_columns: int, n_rows: int) -> None:
    """Size the matrix dots to their cells (upsetplot draws 200 pt^2 whatever the cell size).

    A dot's diameter is 70 % of the smaller of the column width and the row height, so that
    neighbouring dots never touch.
    """
    box = matrix.get_position()
    width_pt = box.width * figure.get_figwidth() * 72 / max(n_columns, 1)
    height_pt = box.height * figure.get_figheight() * 72 / max(n_rows, 1)
    diameter = 0.7 * min(width_pt, height_pt)
    for collection in matrix.collections:
        if isinstance(collection, PathCollection):  # the dots
            collection.set_sizes([diameter**2])
        elif isinstance(collection, LineCollection):  # the lines joining a column's dots
            collection.set_linewidth(min(2.0, diameter / 4))


def _clear_set_names(figure: Figure, matrix: Axes, totals: Axes) -> None:
    """Move the totals bars left of the set names when upsetplot under-estimated their width."""
    renderer = (
        FigureCanvasAgg(figure).get_renderer()
        if not isinstance(figure.canvas, FigureCanvasAgg)
        else figure.canvas.get_renderer()
    )
    labels = [t for t in matrix.get_yticklabels() if t.get_text()]
    if not labels:
        return
    left = min(t.get_window_extent(renderer).x0 for t in labels)
    box = totals.get_window_extent(renderer)
    gap = 4.0  # display pixels
    if box.x1 + gap > left:
        shift = (box.x1 + gap - left) / figure.bbox.width
        position = totals.get_position()
        totals.set_position((position.x0 - shift, position.y0, position.width, position.height))


# ------------------------------------------------------------------------------------------
# Genes of interest across contrasts
# ------------------------------------------------------------------------------------------
def genes_of_interest_matrix(
    results: Mapping[str, pd.DataFrame], genes: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """log2FC and call of each gene of interest (rows, in the given order) in each contrast.

    Returns
    -------
    (DataFrame, DataFrame)
        log2 fold changes (genes x contrasts, NaN where not tested) and the calls
        (``up``/``down``/``""``). Symbols matched on ``gene_name``; a symbol shared by several
        genes takes the one with the smallest padj.
    """
    lfc = pd.DataFrame(index=list(dict.fromkeys(genes)), dtype=float)
    calls = pd.DataFrame(index=lfc.index, dtype=object)
    for contrast, table in results.items():
        part = table[table["gene_name"].astype(str).isin(set(lfc.index))]
        part = (
            part.assign(_p=part["padj"].astype(float).fillna(2.0))
            .sort_values(["gene_name", "_p"], kind="mergesort")
            .drop_duplicates("gene_name")
        )
        indexed = part.set_index("gene_name")
        lfc[contrast] = indexed["log2FoldChange"].reindex(lfc.index).astype(float)
        calls[contrast] = (
            indexed["significant"].fillna("").astype(str).reindex(lfc.index).fillna("")
        )
    present = lfc.notna().any(axis=1)
    return lfc[present], calls[present]


def _draw_lfc_matrix(
    axes: Axes, values: pd.DataFrame, marks: pd.DataFrame, *, limit: float, rotation: float = 90
) -> AxesImage:
    image = axes.imshow(
        values.to_numpy(dtype=float), aspect="auto", cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit
    )
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            mark = str(marks.iat[i, j])
            if mark:
                value = float(values.iat[i, j])  # type: ignore[arg-type]
                colour = "white" if np.isfinite(value) and abs(value) > 0.6 * limit else "black"
                axes.text(j, i, mark, ha="center", va="center", fontsize=6, color=colour)
    axes.set_xticks(
        range(values.shape[1]),
        labels=list(values.columns),
        rotation=rotation,
        ha="center" if rotation == 90 else "right",
        rotation_mode="default" if rotation == 90 else "anchor",
    )
    axes.set_yticks(range(values.shape[0]), labels=list(values.index))
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    return image


@styled
def plot_genes_of_interest(
    results: Mapping[str, pd.DataFrame], genes: Sequence[str], *, lrt: Sequence[str] = ()
) -> Figure:
    """Heatmap of the log2FC of each gene of interest in each contrast; ``*`` marks calls.

    Likelihood-ratio-test contrasts (``lrt``) have no fold-change direction and are left out.
    """
    directional = {name: table for name, table in results.items() if name not in set(lrt)}
    lfc, calls = genes_of_interest_matrix(directional, genes)
    if lfc.empty:
        return empty_figure("none of the genes of interest was measured")
    marks = calls.map(lambda c: "*" if c in ("up", "down") else "")
    limit = max(1.0, float(np.nanmax(np.abs(lfc.to_numpy()))))
    longest = max(len(c) for c in lfc.columns)
    figure = Figure(
        figsize=(
            max(SINGLE_COLUMN, 1.4 + 0.3 * lfc.shape[1]),
            1.0 + 0.15 * len(lfc) + 0.045 * longest,
        )
    )
    axes = figure.add_subplot()
    image = _draw_lfc_matrix(axes, lfc, marks, limit=limit)
    bar = figure.colorbar(image, ax=axes, shrink=min(1.0, 3.0 / max(len(lfc), 1) * 2), aspect=15)
    bar.set_label("log2 fold change")
    left_out = [c for c in results if c in set(lrt)]
    note = f"; left out (LRT, no direction): {', '.join(left_out)}" if left_out else ""
    axes.set_title(f"Genes of interest across contrasts\n* called{note}", loc="left")
    return figure


# ------------------------------------------------------------------------------------------
# ssGSEA per-sample scores
# ------------------------------------------------------------------------------------------
def _score_matrix(scores: pd.DataFrame, value: str = "es") -> pd.DataFrame:
    require_columns(scores, ["gene_set", "sample", value], "ssGSEA scores")
    key = scores["gene_set"].astype(str)
    if "collection" in scores.columns:
        pairs = scores[["collection", "gene_set"]].drop_duplicates()
        repeated = set(pairs["gene_set"][pairs["gene_set"].duplicated()])
        key = pd.Series(
            [
                f"{s} [{c}]" if s in repeated else s
                for s, c in zip(scores["gene_set"], scores["collection"], strict=True)
            ],
            index=scores.index,
        )
    table = scores.assign(_set=key)
    order = list(dict.fromkeys(table["_set"]))
    samples = list(dict.fromkeys(table["sample"]))
    return table.pivot(index="_set", columns="sample", values=value).loc[order, samples]


@styled
def plot_ssgsea_heatmap(
    scores: pd.DataFrame,
    samples: pd.DataFrame,
    groups: Mapping[str, str],
    *,
    group_by: Sequence[str],
) -> Figure:
    """Heatmap of per-sample ssGSEA scores (z-scored per set), samples grouped, sets clustered.

    Parameters
    ----------
    scores
        ``results/gsea/ssgsea.scores.tsv``: long table with ``collection``, ``gene_set``,
        ``sample`` and ``es`` (the ssGSEA score).
    groups
        sample -> group label (samples are sorted by group, then by name).
    """
    matrix = _score_matrix(scores)
    order = sorted(matrix.columns, key=lambda s: (str(groups.get(s, "")), str(s)))
    matrix = matrix[order]
    bars = (
        samples.loc[order, list(group_by)]
        if group_by
        else pd.DataFrame({"group": [groups.get(s, s) for s in order]}, index=order)
    )
    return annotated_heatmap(
        zscore_rows(matrix),
        bars,
        title="Per-sample ssGSEA scores (z-score per gene set)",
        colorbar_label="z-score of ssGSEA score",
        width=DOUBLE_COLUMN * (0.8 if len(order) <= 24 else 1.0),
        cluster_columns=False,
        row_labels=[shorten(str(s), 44) for s in matrix.index],
    )


def _comparison_rows(comparison: pd.DataFrame) -> pd.DataFrame:
    """Normalise the group-comparison table to ``label``, ``gene_set``, ``pvalue``, ``fdr``.

    Two layouts are read: one row per pair of groups (``group_a``, ``group_b``) or one row per
    contrast (``contrast``, ``numerator``, ``denominator``).
    """
    require_columns(comparison, ["gene_set", "pvalue", "fdr"], "ssGSEA group comparison")
    if "contrast" in comparison.columns:
        label = comparison["contrast"].astype(str)
    elif {"group_a", "group_b"} <= set(comparison.columns):
        label = comparison["group_a"].astype(str) + " vs " + comparison["group_b"].astype(str)
    elif {"numerator", "denominator"} <= set(comparison.columns):
        label = comparison["numerator"].astype(str) + " vs " + comparison["denominator"].astype(str)
    else:
        label = pd.Series("comparison", index=comparison.index)
    return comparison.assign(label=label)


@styled
def plot_ssgsea_groups(
    scores: pd.DataFrame,
    comparison: pd.DataFrame,
    groups: Mapping[str, str],
    *,
    gene_sets: Sequence[str],
) -> Figure:
    """Per-group box and strip plots of the ssGSEA score of each chosen gene set.

    The p-values and FDRs of the group comparison table are printed under each panel.

    Parameters
    ----------
    scores
        long ssGSEA table (``gene_set``, ``sample``, ``es``).
    comparison
        ``results/gsea/ssgsea.group_comparison.tsv`` (either layout, see
        :func:`_comparison_rows`).
    groups
        sample -> group label.
    gene_sets
        the sets to draw (those absent from ``scores`` are skipped).
    """
    present = [s for s in dict.fromkeys(gene_sets) if s in set(scores["gene_set"])]
    if not present:
        return empty_figure("none of the gene sets of interest was scored by ssGSEA")
    rows = _comparison_rows(comparison)
    labels = sorted(set(groups.values()))
    colours = level_colours(labels)
    n = len(present)
    columns = min(n, 2)
    n_lines = max((int((rows["gene_set"] == s).sum()) for s in present), default=0)
    longest = max(len(g) for g in labels)
    axes_h, axes_w = 1.5, (DOUBLE_COLUMN - 0.9 * columns) / columns if columns > 1 else 2.6
    ticks_h = 0.0075 * 6.5 * longest * 0.6 + 0.12  # labels rotated by 35 degrees
    text_h = 0.1 * n_lines + 0.05
    cell_h = 0.3 + axes_h + ticks_h + text_h
    n_rows = int(np.ceil(n / columns))
    width = 0.9 * columns + axes_w * columns
    height = cell_h * n_rows + 0.3
    figure = Figure(figsize=(width, height))
    rng = np.random.default_rng(0)  # jitter only; fixed so reruns give the same bytes
    table = scores[scores["gene_set"].isin(present)]
    for k, gene_set in enumerate(present):
        row, column = divmod(k, columns)
        x0 = 0.6 + column * (axes_w + 0.9)
        y0 = height - 0.3 - row * cell_h - 0.3 - axes_h
        axes = figure.add_axes((x0 / width, y0 / height, axes_w / width, axes_h / height))
        sub = table[table["gene_set"] == gene_set]
        values = [
            sub.loc[sub["sample"].map(groups) == g, "es"].to_numpy(dtype=float) for g in labels
        ]
        axes.boxplot(
            values,
            positions=range(len(labels)),
            widths=0.55,
            showfliers=False,
            medianprops={"color": "black", "linewidth": 0.8},
            boxprops={"linewidth": 0.6},
            whiskerprops={"linewidth": 0.6},
            capprops={"linewidth": 0.6},
        )
        for i, (g, v) in enumerate(zip(labels, values, strict=True)):
            jitter = rng.uniform(-0.12, 0.12, size=len(v))
            axes.scatter(
                i + jitter, v, s=10, color=colours[g], edgecolors="black", linewidths=0.3, zorder=3
            )
        axes.set_xticks(range(len(labels)), labels=labels, rotation=35, ha="right")
        axes.set_ylabel("ssGSEA score")
        axes.set_title(shorten(gene_set, 44), loc="left")
        tests = rows[rows["gene_set"] == gene_set]
        text = "\n".join(
            f"{r.label}: p = {r.pvalue:.2g}, FDR = {r.fdr:.2g}" for r in tests.itertuples()
        )
        if text:
            figure.text(
                x0 / width, (y0 - ticks_h - 0.05) / height, text, va="top", ha="left", fontsize=5.5
            )
    figure.text(
        0.02,
        1 - 0.08 / height,
        "Per-sample ssGSEA scores by group (tests: the group comparison table)",
        ha="left",
        va="top",
        fontsize=7.5,
    )
    return figure


# ------------------------------------------------------------------------------------------
# One-page overview
# ------------------------------------------------------------------------------------------
def _side_label(colour_bar: Colorbar, text: str) -> None:
    """Label a short colour bar beside its ticks, horizontally.

    A rotated label would run past the ends of a bar only a few rows high, into the panel above.
    """
    colour_bar.set_label(text, rotation=0, ha="left", va="center", labelpad=4)


@styled
def plot_overview(
    summaries: pd.DataFrame,
    gsea: pd.DataFrame,
    results: Mapping[str, pd.DataFrame],
    *,
    gene_sets: Sequence[str],
    genes: Sequence[str],
    lrt: Sequence[str] = (),
    fdr_cutoff: float = 0.05,
) -> Figure:
    """One page for the experiment.

    DE counts per contrast, NES of the gene sets of interest, log2FC of the genes of
    interest, each across contrasts.
    """
    directional = [c for c in summaries.index if c not in set(lrt)]
    lfc, calls = genes_of_interest_matrix(
        {c: results[c] for c in directional if c in results}, genes
    )
    nes_rows = gsea[gsea["gene_set"].isin(set(gene_sets))]
    nes = nes_rows.pivot_table(
        index="gene_set", columns="contrast", values="nes", aggfunc="first"
    ).reindex(
        index=[s for s in dict.fromkeys(gene_sets) if s in set(nes_rows["gene_set"])],
        columns=[c for c in summaries.index if c in set(nes_rows["contrast"])],
    )
    fdr = nes_rows.pivot_table(
        index="gene_set", columns="contrast", values="fdr", aggfunc="first"
    ).reindex_like(nes)
    columns = [str(c) for c in (nes.columns if not nes.empty else lfc.columns)]
    left_out = [c for c in summaries.index if c in set(lrt)]
    # Heights in inches: each panel's title, its axes, and the band under it for its x labels
    # (A: counts and axis name; B and C: the contrast names, rotated).
    # contrast names under B and C, rotated by 40 degrees (at 90 they need twice the height)
    names_band = 0.2 + np.sin(np.radians(40)) * max(
        (text_width(c, 6.5) for c in columns), default=0
    )
    panels = [
        (0.3 * len(summaries) + 0.1, 0.45),
        (0.16 * max(len(nes), 1) + 0.05, names_band),
        (0.14 * max(len(lfc), 1) + 0.05, names_band),
    ]
    title, top_margin, note = 0.3, 0.35, 0.3 if left_out else 0.05
    total = top_margin + sum(title + h + band for h, band in panels) + note
    figure = Figure(figsize=(DOUBLE_COLUMN, total))
    boxes = []
    y = total - top_margin
    for h, band in panels:
        y -= title + h
        boxes.append((y / total, h / total))
        y -= band
    left, width = 0.35, 0.55
    # the heatmaps get ~0.8 in per contrast (at most the bar chart's width): one contrast is
    # one column, not a band across the page
    n_columns = max(len(nes.columns) if not nes.empty else len(lfc.columns), 1)
    heat_width = min(width, max(1.0, 0.8 * n_columns) / DOUBLE_COLUMN)
    counts_axes, nes_axes, gene_axes = (
        figure.add_axes((left, bottom, w, height))
        for (bottom, height), w in zip(boxes, (width, heat_width, heat_width), strict=True)
    )

    def colour_bar_axes(k: int) -> Axes:
        return figure.add_axes((left + heat_width + 0.015, boxes[k][0], 0.015, boxes[k][1]))

    _draw_counts(counts_axes, call_counts(summaries))
    counts_axes.set_title("A  Genes called per contrast (vermillion up, blue down)", loc="left")
    if nes.empty:
        nes_axes.text(
            0.5,
            0.5,
            "no gene set of interest was tested",
            ha="center",
            transform=nes_axes.transAxes,
        )
        nes_axes.set_axis_off()
    else:
        stars = fdr.map(lambda v: "*" if np.isfinite(v) and v < fdr_cutoff else "")
        limit = max(1.0, float(np.nanmax(np.abs(nes.to_numpy()))))
        image = _draw_lfc_matrix(nes_axes, nes, stars, limit=limit, rotation=40)
        _side_label(figure.colorbar(image, cax=colour_bar_axes(1)), "NES")
    nes_axes.set_title(
        f"B  GSEA NES of the gene sets of interest (* FDR < {fdr_cutoff:g})", loc="left"
    )
    if lfc.empty:
        gene_axes.text(
            0.5, 0.5, "no gene of interest was measured", ha="center", transform=gene_axes.transAxes
        )
        gene_axes.set_axis_off()
    else:
        lfc = lfc.reindex(columns=nes.columns if not nes.empty else lfc.columns)
        calls = calls.reindex(columns=lfc.columns).fillna("")
        marks = calls.map(lambda c: "*" if c in ("up", "down") else "")
        limit = max(1.0, float(np.nanmax(np.abs(lfc.to_numpy()))))
        image = _draw_lfc_matrix(gene_axes, lfc, marks, limit=limit, rotation=40)
        _side_label(figure.colorbar(image, cax=colour_bar_axes(2)), "log2 fold\nchange")
    gene_axes.set_title("C  Genes of interest: log2 fold change (* called)", loc="left")
    if left_out:
        figure.text(
            0.01, 0.08 / total, f"B and C leave out {', '.join(left_out)}: a likelihood-ratio "
            "test has no direction (no fold change to colour, not ranked by GSEA).", fontsize=6,
        )  # fmt: skip
    figure.suptitle("Overview of the experiment", x=0.01, ha="left")
    return figure


def summary_figures(
    results: Mapping[str, pd.DataFrame],
    summaries: pd.DataFrame,
    gsea: pd.DataFrame,
    lists: Mapping[str, set[str]],
    *,
    genes_of_interest: Sequence[str],
    gene_sets: Sequence[str],
    lrt: Sequence[str] = (),
) -> dict[str, Figure]:
    """Every cross-contrast figure, keyed by file stem.

    Stems: de_gene_counts, de_genes_upset, genes_of_interest, gsea_nes, overview.
    """
    from redoxseq.plots.enrichment import plot_gsea_nes

    return {
        "de_gene_counts": plot_de_gene_counts(summaries),
        "de_genes_upset": plot_upset(
            lists,
            title="Genes called per contrast and direction"
            + ("\n(changed: a likelihood-ratio test, no direction)" if lrt else ""),
        ),
        "genes_of_interest": plot_genes_of_interest(results, genes_of_interest, lrt=lrt),
        "gsea_nes": plot_gsea_nes(gsea, always=gene_sets, not_ranked=lrt),
        "overview": plot_overview(summaries, gsea, results, gene_sets=gene_sets,
                                  genes=genes_of_interest, lrt=lrt),
    }  # fmt: skip
