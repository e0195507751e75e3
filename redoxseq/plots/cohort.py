"""Figures of the cohort stage.

Feature-pair scatters, correlation heatmap, score heatmap, per-stratum distributions.

Each function takes in-memory tables and returns a matplotlib ``Figure`` (object-oriented
API), sized for a journal page (3.5 in one column, 7 in two columns); save it with
:func:`redoxseq.plots.style.save_figure`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Literal

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

logger = logging.getLogger(__name__)

_PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")
_ALL_COLOUR = "#4d4d4d"
#: Most pairs drawn as scatters / heatmap rows (the strongest overall |r| first).
MAX_SCATTER_PAIRS = 12
MAX_HEATMAP_PAIRS = 60
_SYMBOL = {"spearman": "\u03c1", "pearson": "r"}


def _stratum_colours(levels: Sequence[str]) -> dict[str, str]:
    return {level: _PALETTE[i % len(_PALETTE)] for i, level in enumerate(levels)}


def _format_p(p: float) -> str:
    if not np.isfinite(p):
        return "NA"
    if p < 1e-300:
        return "< 1e-300"
    if p < 0.001:
        mantissa, exponent = f"{p:.1e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return f"{p:.3f}"


def _empty(text: str, width: float = 3.5) -> Figure:
    figure = Figure(figsize=(width, 1.2))
    axes = figure.add_subplot()
    axes.axis("off")
    axes.text(0.5, 0.5, text, ha="center", va="center", fontsize=8, wrap=True)
    return figure


def _top_pairs(correlations: pd.DataFrame, method: str, limit: int) -> list[tuple[str, str]]:
    overall = correlations[(correlations["stratum"] == "all") & (correlations["method"] == method)]
    order = overall.assign(strength=overall["r"].abs()).sort_values(
        ["strength", "feature_a", "feature_b"], ascending=[False, True, True], na_position="last"
    )
    pairs = list(zip(order["feature_a"], order["feature_b"], strict=True))
    if len(pairs) > limit:
        logger.info("cohort figures: %d pairs; showing the %d strongest", len(pairs), limit)
    return pairs[:limit]


def plot_pair_scatter(
    features: pd.DataFrame,
    correlations: pd.DataFrame,
    strata: pd.Series | None,
    *,
    method: str = "spearman",
    max_pairs: int = MAX_SCATTER_PAIRS,
    score_names: Sequence[str] = (),
) -> Figure:
    """One panel per feature pair: samples coloured by stratum, least-squares line, statistics.

    Parameters
    ----------
    features
        samples x features (VST of genes, scores).
    correlations
        :func:`redoxseq.cohort.correlations.correlate` output; the panel title shows the
        overall coefficient of ``method`` with its p-value and FDR.
    strata
        sample -> stratum (None: one colour).
    score_names
        Features that are gene-set scores (axis unit "ssGSEA"; others "VST").
    """
    pairs = _top_pairs(correlations, method, max_pairs)
    if not pairs:
        return _empty("No feature pairs to correlate (cohort.genes and cohort.scores empty).")
    ncols = min(3, len(pairs))
    nrows = math.ceil(len(pairs) / ncols)
    width = 7.0 if ncols > 1 else 3.0
    figure = Figure(figsize=(width, 2.25 * nrows + 0.35), layout="constrained")
    grid = figure.subplots(nrows, ncols, squeeze=False)
    labels = (
        strata.reindex(features.index).astype(str)
        if strata is not None
        else pd.Series("all", index=features.index)
    )
    levels = sorted(labels.unique())
    colours = _stratum_colours(levels) if strata is not None else {"all": _ALL_COLOUR}
    overall = correlations[(correlations["stratum"] == "all") & (correlations["method"] == method)]
    stats = overall.set_index(["feature_a", "feature_b"])
    for k, (a, b) in enumerate(pairs):
        axes = grid[k // ncols][k % ncols]
        for level in levels:
            members = labels.index[labels == level]
            axes.scatter(
                features.loc[members, a],
                features.loc[members, b],
                s=7,
                alpha=0.75,
                color=colours[level],
                linewidths=0,
                label=level,
            )
        x = features[a].to_numpy(float)
        y = features[b].to_numpy(float)
        if np.ptp(x) > 0:
            slope, intercept = np.polyfit(x, y, 1)
            span = np.array([x.min(), x.max()])
            # the axes keep the data's limits: where the line leaves them it is clipped, as a
            # line through two separated clusters would otherwise stretch the axis far past both
            data_limits = axes.get_ylim()
            axes.plot(span, intercept + slope * span, color="black", linewidth=0.9)
            axes.set_ylim(data_limits)
        r, p, q, n = (float(v) for v in stats.loc[(a, b), ["r", "pvalue", "fdr", "n"]].to_numpy())
        axes.set_title(
            f"{_SYMBOL.get(method, method)} = {r:.2f}, p = {_format_p(p)}\n"
            f"FDR = {_format_p(q)}, n = {int(n)}",
            fontsize=7,
        )
        axes.set_xlabel(_unit_label(a, score_names), fontsize=7)
        axes.set_ylabel(_unit_label(b, score_names), fontsize=7)
        axes.tick_params(labelsize=6)
    for k in range(len(pairs), nrows * ncols):
        grid[k // ncols][k % ncols].axis("off")
    if strata is not None:
        _strata_legend(figure, levels, colours, marker="o", loc="outside lower center")
    return figure


def _strata_legend(
    figure: Figure,
    levels: list[str],
    colours: dict[str, str],
    *,
    marker: str,
    loc: Literal["outside lower center", "outside upper center"],
) -> None:
    """One legend entry per stratum (up to 6 a row), outside the axes of a constrained figure."""
    handles = [
        Line2D([], [], marker=marker, linestyle="", color=colours[level], label=level)
        for level in levels
    ]
    figure.legend(handles=handles, loc=loc, ncols=min(len(levels), 6), fontsize=7, frameon=False)


def _short(name: str, limit: int = 34) -> str:
    """Long gene-set names shortened for axis labels (full names are in the tables)."""
    text = name.replace("HALLMARK_", "").replace("_", " ")
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _unit_label(name: str, score_names: Sequence[str]) -> str:
    return f"{_short(name, 30)} ({'ssGSEA' if name in score_names else 'VST'})"


def plot_correlation_heatmap(
    correlations: pd.DataFrame,
    *,
    method: str = "spearman",
    max_pairs: int = MAX_HEATMAP_PAIRS,
    fdr: float = 0.05,
) -> Figure:
    """Strata (columns) x feature pairs (rows) heatmap of coefficients; ``*`` where FDR < fdr."""
    pairs = _top_pairs(correlations, method, max_pairs)
    if not pairs:
        return _empty("No feature pairs to correlate.")
    table = correlations[correlations["method"] == method]
    strata = list(dict.fromkeys(table["stratum"]))
    lookup = {
        (str(a), str(b), str(s)): (float(r), float(q))
        for a, b, s, r, q in zip(
            table["feature_a"],
            table["feature_b"],
            table["stratum"],
            table["r"],
            table["fdr"],
            strict=True,
        )
    }
    values = np.full((len(pairs), len(strata)), np.nan)
    significant = np.zeros_like(values, dtype=bool)
    for i, (a, b) in enumerate(pairs):
        for j, stratum in enumerate(strata):
            if (a, b, stratum) in lookup:
                values[i, j], q_value = lookup[(a, b, stratum)]
                significant[i, j] = q_value < fdr
    height = 0.9 + 0.2 * len(pairs)
    width = 2.6 + 0.55 * len(strata)
    figure = Figure(figsize=(min(width, 7.0), height), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(values, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -1.0, 1.0), aspect="auto")
    for i in range(len(pairs)):
        for j in range(len(strata)):
            if np.isfinite(values[i, j]):
                text = f"{values[i, j]:.2f}" + ("*" if significant[i, j] else "")
                colour = "white" if abs(values[i, j]) > 0.6 else "black"
                axes.text(j, i, text, ha="center", va="center", fontsize=6, color=colour)
    axes.set_xticks(range(len(strata)), strata, fontsize=7)
    axes.set_yticks(
        range(len(pairs)), [f"{_short(a, 22)} \u2013 {_short(b, 22)}" for a, b in pairs], fontsize=6
    )
    axes.tick_params(length=0)
    axes.set_xlabel("stratum", fontsize=7)
    bar = figure.colorbar(image, ax=axes, shrink=min(1.0, 3.0 / height), pad=0.02)
    bar.set_label(f"{method} {_SYMBOL.get(method, '')}  (* FDR < {fdr:g})", fontsize=7)
    bar.ax.tick_params(labelsize=6)
    return figure


def plot_score_heatmap(
    scores: pd.DataFrame,
    strata: pd.Series | None,
    *,
    max_samples: int = 150,
) -> Figure:
    """Gene sets (rows) x samples heatmap of z-scored scores, samples grouped by stratum.

    Above ``max_samples`` samples the columns become per-stratum means of the z-scores (the
    summary form; individual scores are in results/cohort/scores.tsv).

    Parameters
    ----------
    scores
        samples x gene sets (:func:`redoxseq.cohort.scoring.score_matrix`).
    """
    if scores.empty:
        return _empty("No gene set was scored.")
    sd = scores.std(axis=0, ddof=1).replace(0.0, np.nan)
    z = ((scores - scores.mean(axis=0)) / sd).fillna(0.0)
    labels = (
        strata.reindex(scores.index).astype(str)
        if strata is not None
        else pd.Series("all", index=scores.index)
    )
    levels = sorted(labels.unique())
    order = [s for level in levels for s in labels.index[labels == level]]
    summary = len(order) > max_samples
    if summary:
        matrix = pd.DataFrame(
            {
                f"{level}\n(n={int((labels == level).sum())})": z.loc[labels == level].mean()
                for level in levels
            }
        ).to_numpy()
        columns = [f"{level}\n(n={int((labels == level).sum())})" for level in levels]
    else:
        matrix = z.loc[order].T.to_numpy()
        columns = order
    n_sets = scores.shape[1]
    height = 1.2 + 0.11 * n_sets
    width = 7.0 if not summary else 2.8 + 0.5 * len(levels)
    figure = Figure(figsize=(width, height), layout="constrained")
    ratios = [1, 18] if strata is not None and not summary else [0.001, 18]
    axes_bar, axes = figure.subplots(
        2, 1, height_ratios=ratios, sharex=True, gridspec_kw={"hspace": 0.01}
    )
    limit = float(np.nanmax(np.abs(matrix))) if matrix.size else 1.0
    limit = max(limit, 1e-9)
    image = axes.imshow(
        matrix,
        cmap="RdBu_r",
        norm=TwoSlopeNorm(0.0, -min(limit, 3.0), min(limit, 3.0)),
        aspect="auto",
        interpolation="nearest",
    )
    axes.set_yticks(range(n_sets), [_short(c, 40) for c in scores.columns], fontsize=5)
    if summary:
        axes.set_xticks(range(len(columns)), columns, fontsize=7)
        axes.set_xlabel(f"{len(order)} samples, mean z-score per stratum", fontsize=7)
    else:
        axes.set_xticks([])
        axes.set_xlabel(
            f"{len(order)} samples" + (" (grouped by stratum)" if strata is not None else ""),
            fontsize=7,
        )
    axes_bar.axis("off")
    if strata is not None and not summary:
        colours = _stratum_colours(levels)
        codes = np.array([[levels.index(labels[s]) for s in order]])
        from matplotlib.colors import ListedColormap

        axes_bar.imshow(
            codes,
            cmap=ListedColormap([colours[level] for level in levels]),
            aspect="auto",
            interpolation="nearest",
            vmin=0,
            vmax=max(1, len(levels) - 1) if len(levels) > 1 else 1,
        )
        _strata_legend(figure, levels, colours, marker="s", loc="outside upper center")
    bar = figure.colorbar(image, ax=axes, shrink=min(1.0, 2.5 / height), pad=0.01)
    bar.set_label("score, z across samples", fontsize=7)
    bar.ax.tick_params(labelsize=6)
    return figure


def plot_distributions(
    features: pd.DataFrame,
    strata: pd.Series | None,
    *,
    max_features: int = 12,
    score_names: Sequence[str] = (),
) -> Figure:
    """Per-stratum box plots (with the samples as points) of each feature.

    ``score_names``: features that are gene-set scores (y unit "ssGSEA score", else "VST").
    """
    if features.empty:
        return _empty("No features to show.")
    names = list(features.columns)[:max_features]
    labels = (
        strata.reindex(features.index).astype(str)
        if strata is not None
        else pd.Series("all", index=features.index)
    )
    levels = sorted(labels.unique())
    colours = _stratum_colours(levels) if strata is not None else {"all": _ALL_COLOUR}
    ncols = min(4, len(names))
    nrows = math.ceil(len(names) / ncols)
    figure = Figure(figsize=(7.0, 1.9 * nrows + 0.2), layout="constrained")
    grid = figure.subplots(nrows, ncols, squeeze=False)
    for k, name in enumerate(names):
        axes = grid[k // ncols][k % ncols]
        groups = [features.loc[labels == level, name].to_numpy(float) for level in levels]
        axes.boxplot(
            groups,
            positions=range(len(levels)),
            widths=0.6,
            showfliers=False,
            medianprops={"color": "black"},
        )
        for i, values in enumerate(groups):
            # deterministic spread: a point's offset depends on its rank within the group
            offsets = ((np.argsort(np.argsort(values)) % 9) - 4) * 0.045
            axes.scatter(
                i + offsets, values, s=4, color=colours[levels[i]], alpha=0.7, linewidths=0
            )
        axes.set_xticks(
            range(len(levels)), levels, fontsize=6, rotation=30 if len(levels) > 3 else 0
        )
        axes.set_title(_short(name, 30), fontsize=7)
        axes.set_ylabel("ssGSEA score" if name in score_names else "VST (log2)", fontsize=6)
        axes.tick_params(labelsize=6)
    for k in range(len(names), nrows * ncols):
        grid[k // ncols][k % ncols].axis("off")
    if len(features.columns) > max_features:
        logger.info(
            "cohort figures: %d features; the first %d shown", len(features.columns), max_features
        )
    return figure
