"""Heatmaps with hierarchical clustering and sample-group colour bars (shared layout)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist

from redoxseq.plots.style import DIVERGING_CMAP, level_colours, sample_label_points, text_width


def zscore_rows(values: pd.DataFrame) -> pd.DataFrame:
    """Per-row z-scores (rows with no spread become 0), same shape and labels."""
    array = values.to_numpy(dtype=float)
    spread = array.std(axis=1, ddof=1, keepdims=True) if array.shape[1] > 1 else np.ones((1, 1))
    centred = array - array.mean(axis=1, keepdims=True)
    safe = np.where(spread > 0, spread, 1.0)
    return pd.DataFrame(centred / safe, index=values.index, columns=values.columns)


def group_bars(
    samples: pd.DataFrame, columns: Sequence[str] | pd.Index, group_by: Sequence[str]
) -> pd.DataFrame:
    """The group-bar table of a heatmap: ``group_by`` columns of the sample sheet, by sample.

    Parameters
    ----------
    samples
        sample sheet indexed by sample.
    columns
        the heatmap's samples, in its column order.
    group_by
        sample-sheet columns drawn as bars; none: a table with no column (no bars).
    """
    if not group_by:
        return pd.DataFrame(index=list(columns))
    return samples.loc[list(columns), list(group_by)]


def cluster_order(matrix: np.ndarray, *, metric: str = "euclidean") -> tuple[list[int], object]:
    """Leaf order of average-linkage clustering of the rows of ``matrix`` (and the linkage).

    Fewer than 3 rows are returned in their order (nothing to cluster).
    """
    if matrix.shape[0] < 3:
        return list(range(matrix.shape[0])), None
    distances = pdist(matrix, metric=metric)
    distances = np.nan_to_num(distances, nan=0.0)
    linkage = hierarchy.linkage(distances, method="average")
    return [int(i) for i in hierarchy.leaves_list(linkage)], linkage


def _draw_dendrogram(axes, linkage, orientation: str) -> None:  # type: ignore[no-untyped-def]
    hierarchy.dendrogram(
        linkage,
        ax=axes,
        orientation=orientation,
        no_labels=True,
        color_threshold=0,
        above_threshold_color="#555555",
    )
    axes.set_axis_off()


def annotated_heatmap(
    values: pd.DataFrame,
    groups: pd.DataFrame,
    *,
    title: str,
    colorbar_label: str,
    width: float,
    cluster_rows: bool = True,
    cluster_columns: bool = True,
    row_labels: Sequence[str] | None = None,
    cmap: str = DIVERGING_CMAP,
    limits: tuple[float, float] | None = (-2.5, 2.5),
    row_height: float = 0.11,
    metric: str = "euclidean",
    row_noun: str = "rows",
) -> Figure:
    """Heatmap of ``values`` (rows x samples) with group bars above the columns.

    Parameters
    ----------
    values
        rows (genes, gene sets or samples) x samples; already scaled (e.g. z-scores).
    groups
        samples x factors (sample-sheet columns); one colour bar per factor, legends to the
        right, outside the data.
    cluster_rows, cluster_columns
        reorder by average-linkage clustering (Euclidean distance) and draw the dendrogram;
        unclustered columns keep the order given (e.g. samples sorted by group).
    row_labels
        labels of the rows, in the order of ``values`` (default: the index).
    limits
        colour-scale limits (None: the data range).
    row_noun
        what the rows are, for the axis label that replaces their names when there are
        more than 80 (e.g. "samples").
    """
    array = values.to_numpy(dtype=float)
    labels = list(row_labels) if row_labels is not None else [str(i) for i in values.index]
    row_order, row_link = (
        cluster_order(array, metric=metric) if cluster_rows else (list(range(len(array))), None)
    )
    col_order, col_link = (
        cluster_order(array.T, metric=metric)
        if cluster_columns
        else (list(range(array.shape[1])), None)
    )
    shown = array[np.ix_(row_order, col_order)]
    samples = [values.columns[i] for i in col_order]
    factors = list(groups.columns)
    n_rows = len(row_order)
    show_row_labels = n_rows <= 80
    row_font = 6 if n_rows <= 40 else 5
    # Layout in inches, left to right: row dendrogram, heatmap, row labels, colour bar, legend.
    labels_w = (
        max((text_width(labels[i], row_font) for i in row_order), default=0.1) + 0.1
        if show_row_labels
        else 0.3
    )
    levels = [str(v) for f in factors for v in groups[f].astype(str).unique()] + factors
    legend_w = max((text_width(t, 6) for t in levels), default=0) + 0.45 if factors else 0.0
    dendro_w = 0.45 if row_link is not None else 0.05
    colourbar_w, gap = 0.1, 0.12
    heat_w = max(1.2, width - dendro_w - labels_w - colourbar_w - legend_w - 3 * gap - 0.1)
    width = dendro_w + heat_w + labels_w + colourbar_w + legend_w + 3 * gap + 0.1
    heat_h = max(1.0, row_height * n_rows) if show_row_labels else 3.5
    dendro_h = 0.4 if col_link is not None else 0.0
    bar_h = 0.1 * len(factors)
    # sample names at a size that fits one column each, or the count when none fits
    col_font = sample_label_points(len(samples), heat_w)
    sample_h = (
        max(text_width(str(s), min(col_font, 6.0)) for s in samples) + 0.1
        if col_font is not None
        else 0.2
    )
    title_h = 0.35
    height = title_h + dendro_h + bar_h + 0.04 + heat_h + sample_h + 0.05
    figure = Figure(figsize=(width, height))

    def box(x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
        return (x / width, y / height, w / width, h / height)

    heat_x, heat_y = dendro_w, sample_h
    heat = figure.add_axes(box(heat_x, heat_y, heat_w, heat_h))
    bars = figure.add_axes(box(heat_x, heat_y + heat_h + 0.04, heat_w, max(bar_h, 0.01)))
    if col_link is not None:
        top = figure.add_axes(box(heat_x, heat_y + heat_h + 0.04 + bar_h, heat_w, dendro_h))
        _draw_dendrogram(top, col_link, "top")
    sheet = groups.reindex(samples)
    legend_handles: list[Patch] = []
    bar_rows = []
    used = 0
    for factor in factors:
        colours = level_colours(sorted(set(sheet[factor].astype(str))), offset=used)
        used += len(colours)
        bar_rows.append([matplotlib_rgb(colours[str(v)]) for v in sheet[factor].astype(str)])
        legend_handles.append(Patch(color="none", label=str(factor)))
        legend_handles += [Patch(color=c, label=level) for level, c in colours.items()]
    if bar_rows:
        bars.imshow(np.array(bar_rows), aspect="auto", interpolation="nearest")
        bars.set_yticks(range(len(factors)), labels=factors, fontsize=5.5)
    else:
        bars.set_yticks([])
    bars.set_xticks([])
    bars.tick_params(length=0, pad=1)
    for spine in bars.spines.values():
        spine.set_visible(False)
    if limits is not None:
        vmin, vmax = limits
    else:
        vmin, vmax = float(np.nanmin(shown)), float(np.nanmax(shown))
    image = heat.imshow(shown, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax)
    if col_font is not None:
        heat.set_xticks(
            range(len(samples)),
            labels=[str(s) for s in samples],
            rotation=90,
            fontsize=min(col_font, 6.0),
        )
    else:
        heat.set_xticks([])
        heat.set_xlabel(f"{len(samples)} samples (groups: bars above)", fontsize=6)
    if show_row_labels:
        heat.set_yticks(range(n_rows), labels=[labels[i] for i in row_order], fontsize=row_font)
        heat.yaxis.tick_right()
    else:
        heat.set_yticks([])
        # on the right, where the row names would be: the left holds the dendrogram
        heat.yaxis.set_label_position("right")
        heat.set_ylabel(f"{n_rows} {row_noun}", fontsize=6)
    heat.tick_params(length=0, pad=1.5)
    for spine in heat.spines.values():
        spine.set_visible(False)
    if row_link is not None:
        side = figure.add_axes(box(0.02, heat_y, dendro_w - 0.04, heat_h))
        _draw_dendrogram(side, row_link, "left")
        side.invert_yaxis()
    bar_x = heat_x + heat_w + labels_w + gap
    bar_height = min(heat_h, 1.4)
    colour_axes = figure.add_axes(box(bar_x, heat_y + heat_h - bar_height, colourbar_w, bar_height))
    colourbar = figure.colorbar(image, cax=colour_axes)
    colourbar.set_label(colorbar_label, fontsize=6)
    colour_axes.tick_params(labelsize=5.5)
    if legend_handles:
        legend = figure.legend(
            handles=legend_handles,
            loc="upper left",
            bbox_to_anchor=(
                (bar_x + colourbar_w + gap + 0.25) / width,
                (heat_y + heat_h + bar_h + dendro_h) / height,
            ),
            fontsize=5.5,
            handlelength=1.0,
            handleheight=0.8,
            borderaxespad=0,
        )
        for text in legend.get_texts():
            if text.get_text() in factors:
                text.set_fontweight("bold")
    figure.text(0.02 / width * 4, 1 - 0.1 / height, title, ha="left", va="top", fontsize=7.5)
    return figure


def matplotlib_rgb(colour: str) -> tuple[float, float, float]:
    """Hex colour -> RGB floats."""
    from matplotlib.colors import to_rgb

    return to_rgb(colour)
