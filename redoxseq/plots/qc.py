"""Quality-control figures.

Library sizes, read assignment, strandedness, sample distances, PCA (with scree plot) and
dispersion estimates.

Every function takes in-memory tables and returns a matplotlib ``Figure`` (object-oriented
API); the adapters in ``scripts/`` save them with :func:`redoxseq.plots.style.save_figure`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from redoxseq.errors import InputError
from redoxseq.plots.heatmaps import annotated_heatmap, group_bars
from redoxseq.plots.style import (
    CATEGORICAL,
    DOUBLE_COLUMN,
    OKABE_ITO,
    SEQUENTIAL_CMAP,
    SINGLE_COLUMN,
    level_colours,
    level_markers,
    require_columns,
    sample_label_points,
    styled,
    text_width,
)

logger = logging.getLogger(__name__)


def _width_for(n_samples: int) -> float:
    return SINGLE_COLUMN if n_samples <= 12 else DOUBLE_COLUMN


def _bar_axis_length(width: float) -> float:
    """Approximate data-axis length (inches) of a bar chart ``width`` wide, legend outside."""
    return max(width - 2.2, 1.0)


def _names_height(names: Sequence[str], points: float | None) -> float:
    """Height (inches) of rotated sample names at ``points`` (0.15: the count line instead)."""
    if points is None:
        return 0.15
    return max(text_width(str(name), points) for name in names) + 0.05


def _label_samples(
    axes: Axes, positions: np.ndarray, names: Sequence[str], points: float | None, what: str
) -> None:
    """One rotated name per bar, or, when names cannot fit, the count on the axis label."""
    if points is None:
        axes.set_xticks([])
        axes.set_xlabel(f"{len(names)} {what}")
        return
    axes.set_xticks(positions, labels=list(names), rotation=90, fontsize=points)


#: most runs of consecutive same-group samples that are named under a bar chart
MAX_GROUP_RUNS = 12


def _label_sample_groups(axes: Axes, groups: Sequence[str] | None) -> None:
    """Where sample names do not fit, bracket runs of same-group samples and name the group.

    ``groups`` holds each bar's group in bar order. Nothing is drawn when there are no groups,
    more than :data:`MAX_GROUP_RUNS` runs (an interleaved sheet) or a name wider than its run.
    """
    if not groups:
        return
    runs: list[tuple[str, int, int]] = []
    for position, group in enumerate(groups):
        if runs and runs[-1][0] == group:
            runs[-1] = (group, runs[-1][1], position)
        else:
            runs.append((group, position, position))
    if len(runs) < 2 or len(runs) > MAX_GROUP_RUNS:
        return
    figure = axes.get_figure(root=True)
    assert isinstance(figure, Figure)
    width_in = axes.get_position().width * figure.get_figwidth()
    inches_per_bar = width_in / max(len(groups), 1)
    points = 6.0
    if any(text_width(g, points) > (last - first + 1) * inches_per_bar for g, first, last in runs):
        return
    transform = axes.get_xaxis_transform()
    for group, first, last in runs:
        axes.plot(
            [first - 0.35, last + 0.35], [-0.06, -0.06], color="black", linewidth=0.6,
            transform=transform, clip_on=False,
        )  # fmt: skip
        axes.text(
            (first + last) / 2, -0.08, group, transform=transform, ha="center", va="top",
            fontsize=points,
        )  # fmt: skip
    axes.xaxis.labelpad = 24


def _millions(value: float, _position: int) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.3g}M"
    return f"{value / 1e3:.3g}k" if value >= 1e3 else f"{value:.0f}"


def _bar_groups(
    samples: pd.DataFrame | None, group_by: list[str] | None, names: Sequence[str]
) -> list[str] | None:
    """Each bar's group (``group_by`` columns of the sheet), or None without a full sheet."""
    if samples is None or not group_by or not set(names) <= set(samples.index.astype(str)):
        return None
    sheet = samples.set_axis(samples.index.astype(str))
    return [str(g) for g in _group_key(sheet.loc[list(names)], group_by)]


def _group_key(samples: pd.DataFrame, factors: list[str]) -> pd.Series:
    if not factors:
        return pd.Series(samples.index.astype(str), index=samples.index)
    return samples[factors].astype(str).agg(" ".join, axis=1)


@styled
def plot_library_sizes(
    counts: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    size_factors: pd.Series | None = None,
    group_by: list[str] | None = None,
) -> Figure:
    """Bars of the counted reads (fragments) per sample, coloured by group.

    Parameters
    ----------
    counts
        genes x samples, counts.
    samples
        sample sheet indexed by sample; ``group_by`` columns give the colours.
    size_factors
        sample -> DESeq2 size factor; shown as a second panel when given.
    """
    totals = counts.sum(axis=0).astype(float)
    order = list(totals.index)
    groups = _group_key(samples.loc[order], list(group_by or []))
    colours = level_colours(groups)
    panels = 2 if size_factors is not None else 1
    width = _width_for(len(order))
    label_points = sample_label_points(len(order), _bar_axis_length(width))
    names_h = _names_height(order, label_points)
    figure = Figure(figsize=(width, 1.0 + 0.9 * panels + names_h))
    axes_list = figure.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]
    positions = np.arange(len(order))
    bar_colours = [colours[groups[s]] for s in order]
    axes = axes_list[0]
    axes.bar(positions, totals.to_numpy(), color=bar_colours, width=0.8)
    axes.yaxis.set_major_formatter(FuncFormatter(_millions))
    axes.set_ylabel("counted reads")
    axes.set_title("Library sizes (reads assigned to genes)", loc="left")
    if size_factors is not None:
        factors = size_factors.reindex(order).astype(float)
        axes_list[1].bar(positions, factors.to_numpy(), color=bar_colours, width=0.8)
        axes_list[1].axhline(1.0, color="black", linewidth=0.5, linestyle=":")
        axes_list[1].set_ylabel("size factor")
    _label_samples(axes_list[-1], positions, order, label_points, "samples, in sheet order")
    if label_points is None and group_by:
        _label_sample_groups(axes_list[-1], [str(groups[s]) for s in order])
    handles = [
        Line2D([], [], marker="s", linestyle="", color=c, label=g) for g, c in colours.items()
    ]
    if len(colours) > 1:
        figure.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.0, 0.95),
            title=" / ".join(group_by or []) or None,
        )
    figure.align_ylabels(list(axes_list))
    return figure


@styled
def plot_read_assignment(
    summary: pd.DataFrame,
    samples: pd.DataFrame | None = None,
    *,
    group_by: list[str] | None = None,
) -> Figure:
    """Stacked bars of read assignment categories per sample, with the read totals.

    Parameters
    ----------
    summary
        categories x samples, read (or fragment) counts, as featureCounts' ``.summary``.
        Categories with no reads in any sample are left out.
    samples, group_by
        The sample sheet and its grouping columns: where sample names do not fit (about 80
        samples), runs of same-group samples are bracketed and named under the bars.
    """
    nonzero = summary.loc[summary.sum(axis=1) > 0]
    if nonzero.empty:
        raise InputError("read assignment summary: every category is 0 in every sample")
    totals = nonzero.sum(axis=0).astype(float)
    fractions = nonzero / totals.where(totals > 0, 1.0)
    # Assigned first, then the other categories by total size.
    others = (
        nonzero.drop(index="Assigned", errors="ignore")
        .sum(axis=1)
        .sort_values(ascending=False, kind="mergesort")
    )
    categories = (["Assigned"] if "Assigned" in fractions.index else []) + list(others.index)
    width = _width_for(summary.shape[1])
    names = [str(s) for s in summary.columns]
    label_points = sample_label_points(len(names), _bar_axis_length(width))
    figure = Figure(figsize=(width, 2.6 + _names_height(names, label_points)))
    axes = figure.add_subplot()
    positions = np.arange(fractions.shape[1])
    bottom = np.zeros(fractions.shape[1])
    palette = [OKABE_ITO["green"], *[c for c in CATEGORICAL if c != OKABE_ITO["green"]]]
    for k, category in enumerate(categories):
        row = fractions.loc[category].to_numpy(dtype=float)
        label = str(category).replace("Unassigned_", "unassigned: ")
        axes.bar(positions, row, bottom=bottom, label=label, color=palette[k % len(palette)])
        bottom += row
    rotate = 90 if len(positions) > 12 else 0
    if label_points is not None:  # totals fit above the bars when the names fit below them
        for x, total in zip(positions, totals, strict=True):
            axes.text(
                float(x),
                1.01,
                _millions(float(total), 0),
                ha="center",
                va="bottom",
                fontsize=min(5.0, label_points),
                rotation=rotate,
            )
    _label_samples(axes, positions, names, label_points, "samples, in sheet order")
    if label_points is None:
        _label_sample_groups(axes, _bar_groups(samples, group_by, names))
    axes.set_ylim(0, 1.0)
    axes.set_ylabel("fraction of reads (fragments)")
    where = "above each bar" if label_points is not None else "in the read assignment table"
    title = f"Read assignment per sample (totals {where})"
    axes.set_title(title, loc="left", pad=20 if rotate and label_points is not None else 10)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return figure


@styled
def plot_strandedness(
    table: pd.DataFrame,
    samples: pd.DataFrame | None = None,
    *,
    group_by: list[str] | None = None,
) -> Figure:
    """Fraction of gene-assigned reads on the gene's strand, per sample, with the call.

    Parameters
    ----------
    table
        ``results/counts/all.strandedness.tsv``: one row per sample with ``fraction_forward``
        (reads on the gene's strand / reads informative about strand), ``chosen`` and
        ``detected``. Forward libraries sit near 1, reverse (dUTP) near 0, unstranded near 0.5.
    samples, group_by
        As in :func:`plot_read_assignment`.
    """
    require_columns(table, ["fraction_forward", "chosen"], "strandedness table")
    order = list(table.index)
    values = pd.to_numeric(table["fraction_forward"], errors="coerce").to_numpy(dtype=float)
    calls = table["chosen"].astype(str)
    colours = level_colours(sorted(set(calls)))
    width = _width_for(len(order))
    names = [str(s) for s in order]
    label_points = sample_label_points(len(names), _bar_axis_length(width))
    figure = Figure(figsize=(width, 2.3 + _names_height(names, label_points)))
    axes = figure.add_subplot()
    positions = np.arange(len(order))
    axes.vlines(positions, 0, values, color="#999999", linewidth=0.6)
    axes.scatter(
        positions,
        values,
        c=[colours[c] for c in calls],
        s=22,
        edgecolors="black",
        linewidths=0.4,
        zorder=3,
    )
    for y, text in ((0.8, "forward"), (0.5, "unstranded"), (0.2, "reverse")):
        axes.axhline(y, color="#777777", linewidth=0.5, linestyle=":")
        axes.text(len(order) - 0.4, y, text, fontsize=5.5, va="bottom", ha="right", color="#555555")
    axes.set_ylim(-0.03, 1.03)
    axes.set_xlim(-0.6, len(order) - 0.4)
    _label_samples(axes, positions, names, label_points, "samples, in sheet order")
    if label_points is None:
        _label_sample_groups(axes, _bar_groups(samples, group_by, names))
    axes.set_ylabel("fraction of reads on the\ngene's strand")
    axes.set_title("Library strandedness per sample", loc="left")
    handles = [
        Line2D([], [], marker="s", linestyle="", color=c, label=k) for k, c in colours.items()
    ]
    axes.legend(handles=handles, title="counted as", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return figure


@styled
def plot_sample_distances(
    expression: pd.DataFrame, samples: pd.DataFrame, *, group_by: list[str]
) -> Figure:
    """Clustered heatmap of Euclidean distances between samples (VST), with group bars.

    Parameters
    ----------
    expression
        genes x samples, variance-stabilised expression (blind VST, as DESeq2's vignette).
    samples
        sample sheet indexed by sample; ``group_by`` columns draw the colour bars.
    """
    matrix = expression.to_numpy(dtype=float).T
    squared = (matrix**2).sum(axis=1)
    distances = np.sqrt(
        np.clip(squared[:, None] + squared[None, :] - 2 * matrix @ matrix.T, 0, None)
    )
    np.fill_diagonal(distances, 0.0)
    table = pd.DataFrame(distances, index=expression.columns, columns=expression.columns)
    groups = group_bars(samples, expression.columns, group_by)
    return annotated_heatmap(
        table,
        groups,
        title="Sample-to-sample distances (blind VST)",
        colorbar_label="Euclidean distance",
        width=_width_for(len(table)) if len(table) > 12 else SINGLE_COLUMN * 1.45,
        cmap=SEQUENTIAL_CMAP + "_r",
        limits=(0.0, float(distances.max()) or 1.0),
        row_height=0.11 if len(table) <= 24 else 0.075,
        row_noun="samples",
    )


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


@styled
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
    colours = level_colours(sheet[color_by])
    shapes = level_markers(sheet[shape_by]) if shape_by else {}
    figure = Figure(figsize=(SINGLE_COLUMN * 1.35, 2.6))
    axes = figure.add_subplot()
    y = coords["PC2"] if "PC2" in coords.columns else pd.Series(0.0, index=coords.index)
    for sample in coords.index:
        axes.scatter(
            float(coords.at[sample, "PC1"]),  # type: ignore[arg-type]
            y[sample],
            c=colours[str(sheet.at[sample, color_by])],
            marker=shapes[str(sheet.at[sample, shape_by])] if shape_by else "o",
            s=28,
            edgecolors="black",
            linewidths=0.4,
            zorder=3,
        )
    ratio = pca.explained_variance_ratio
    axes.set_xlabel(f"PC1: {ratio.iloc[0]:.0%} of variance")
    axes.set_ylabel(f"PC2: {ratio.iloc[1]:.0%} of variance" if len(ratio) > 1 else "PC2")
    axes.set_title(f"{title}\n{len(pca.genes_used)} most variable genes", loc="left")
    handles = [Line2D([], [], linestyle="", label=color_by, color="none")]
    handles += [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            color=c,
            markeredgecolor="black",
            markeredgewidth=0.4,
            label=level,
        )
        for level, c in colours.items()
    ]
    if shape_by:
        handles += [Line2D([], [], linestyle="", label=shape_by, color="none")]
        handles += [
            Line2D([], [], marker=m, linestyle="", color="#777777", label=level)
            for level, m in shapes.items()
        ]
    legend = axes.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), handletextpad=0.3
    )
    for text in legend.get_texts():
        if text.get_text() in (color_by, shape_by):
            text.set_fontweight("bold")
    axes.grid(alpha=0.25, linewidth=0.4)
    axes.margins(0.12)
    return figure


@styled
def plot_pca_scree(pca: PcaResult, *, max_components: int = 10) -> Figure:
    """Bars of the variance explained by each principal component, with the cumulative line."""
    ratio = pca.explained_variance_ratio.iloc[:max_components]
    figure = Figure(figsize=(SINGLE_COLUMN, 2.0))
    axes = figure.add_subplot()
    positions = np.arange(len(ratio))
    axes.bar(
        positions, ratio.to_numpy() * 100, color=OKABE_ITO["blue"], width=0.7, label="per component"
    )
    axes.plot(
        positions,
        ratio.cumsum().to_numpy() * 100,
        color=OKABE_ITO["vermillion"],
        marker="o",
        markersize=2.5,
        label="cumulative",
    )
    axes.set_xticks(positions, labels=list(ratio.index), rotation=90 if len(ratio) > 8 else 0)
    axes.set_ylim(0, 105)
    axes.set_ylabel("% of variance")
    axes.set_title(f"PCA scree ({len(pca.genes_used)} most variable genes)", loc="left")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return figure


@styled
def plot_dispersion(dispersions: pd.DataFrame) -> Figure:
    """Dispersion estimates against mean of normalised counts, as DESeq2's ``plotDispEsts``.

    Parameters
    ----------
    dispersions
        ``results/deseq2/dispersions.tsv``: one row per gene with ``baseMean``,
        ``dispersion_genewise``, ``dispersion_trend``, ``dispersion_final`` and
        ``dispersion_outlier`` (True: gene-wise estimate kept, drawn circled).
    """
    require_columns(
        dispersions,
        ["baseMean", "dispersion_genewise", "dispersion_trend", "dispersion_final"],
        "dispersions table",
    )
    table = dispersions[dispersions["baseMean"] > 0]
    figure = Figure(figsize=(SINGLE_COLUMN * 1.35, 2.6))
    axes = figure.add_subplot()
    final = table["dispersion_final"].astype(float)
    # Gene-wise estimates at DESeq2's lower bound (1e-8) would squash the informative range:
    # they are drawn as triangles on the bottom edge instead.
    positive = final[final > 0]
    floor = max(1e-8, 0.2 * float(np.nanpercentile(positive, 1))) if len(positive) else 1e-8
    raw = table["dispersion_genewise"].astype(float)
    low = raw < floor
    axes.scatter(
        table.loc[~low, "baseMean"],
        raw[~low],
        s=2,
        c="#222222",
        linewidths=0,
        rasterized=True,
        label="gene-wise",
    )
    if low.any():
        axes.scatter(
            table.loc[low, "baseMean"],
            np.full(int(low.sum()), floor),
            s=5,
            marker="v",
            c="#222222",
            linewidths=0,
            rasterized=True,
            label=f"gene-wise below {floor:.0e} ({int(low.sum())})",
        )
    axes.scatter(
        table["baseMean"],
        final,
        s=2,
        c=OKABE_ITO["sky_blue"],
        linewidths=0,
        rasterized=True,
        label="final (shrunk)",
    )
    if "dispersion_outlier" in table.columns:
        outlier = table["dispersion_outlier"].astype(str).str.lower() == "true"
        if outlier.any():
            axes.scatter(
                table.loc[outlier, "baseMean"],
                final[outlier],
                s=9,
                facecolors="none",
                edgecolors=OKABE_ITO["sky_blue"],
                linewidths=0.5,
                label="outlier (gene-wise kept)",
            )
    trend = table.sort_values("baseMean", kind="mergesort")
    axes.plot(
        trend["baseMean"],
        trend["dispersion_trend"],
        color=OKABE_ITO["vermillion"],
        linewidth=1.0,
        label="fitted trend",
    )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_ylim(bottom=floor * 0.8)
    axes.set_xlabel("mean of normalised counts")
    axes.set_ylabel("dispersion")
    axes.set_title(f"Dispersion estimates ({len(table)} genes)", loc="left")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), markerscale=2.5)
    return figure
