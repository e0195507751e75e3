"""Figures of one contrast: volcano, MA, p-value histogram, top-genes heatmap.

Each takes the contrast's results table (``results/deseq2/{contrast}.results.tsv``: one row
per gene, index gene_id, columns ``gene_name``, ``baseMean``, ``log2FoldChange``,
``log2FoldChange_shrunk``, ``pvalue``, ``padj``, ``significant``) and returns a Figure.
Likelihood-ratio-test contrasts (``test == "LRT"``) have no direction: their genes are
drawn as called / not called, never as up / down.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from redoxseq.plots.heatmaps import annotated_heatmap, group_bars, zscore_rows
from redoxseq.plots.labels import Label, place_labels
from redoxseq.plots.style import (
    CALLED_COLOUR,
    DOUBLE_COLUMN,
    DOWN_COLOUR,
    HIGHLIGHT_COLOUR,
    INTEREST_COLOUR,
    NS_COLOUR,
    OKABE_ITO,
    SINGLE_COLUMN,
    UP_COLOUR,
    empty_figure,
    require_columns,
    styled,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Calling:
    """How a contrast's genes were called (from its summary row).

    Attributes
    ----------
    significance
        the rule in words, e.g. ``padj < 0.1``.
    padj_cutoff, pvalue_cutoff
        numeric cutoffs; ``None`` when not used (the calls use one of them).
    lfc_cutoff
        |log2FC| cutoff (0: none).
    test
        ``Wald`` or ``LRT`` (no direction).
    lfc_coefficient
        for an LRT, the model coefficient its log2FC column reports (the design's last, as
        in R's LRT results); empty otherwise.
    """

    significance: str
    padj_cutoff: float | None
    pvalue_cutoff: float | None
    lfc_cutoff: float = 0.0
    test: str = "Wald"
    lfc_coefficient: str = ""

    @property
    def directional(self) -> bool:
        """True unless the test is a likelihood-ratio test (which makes no direction claim)."""
        return self.test.upper() != "LRT"

    @property
    def test_words(self) -> str:
        """The test in words, for axis labels and titles."""
        return "Wald test" if self.directional else "likelihood-ratio test"

    def lfc_label(self, what: str = "log2 fold change") -> str:
        """Axis label of the log2FC column: for an LRT, which coefficient it is (no direction).

        An LRT's log2FC is one coefficient of the full model (R reports the last); its padj
        says that some dropped coefficient is not 0, in no particular direction.
        """
        if self.directional:
            return what
        coefficient = self.lfc_coefficient or "the design's last coefficient"
        return f"{what} of {coefficient}\n(as R reports an LRT; the test has no direction)"


def significance_classes(results: pd.DataFrame, *, directional: bool = True) -> pd.Series:
    """``up`` / ``down`` / ``ns`` per gene (``called`` / ``ns`` when not directional)."""
    calls = results["significant"].fillna("").astype(str).str.strip()
    if not directional:
        return calls.where(calls.isin(["", "ns", "False", "false"]), "called").where(
            ~calls.isin(["", "ns", "False", "false"]), "ns"
        )
    return calls.where(calls.isin(["up", "down"]), "ns")


def _class_styles(directional: bool) -> list[tuple[str, str, str]]:
    if directional:
        return [
            ("ns", NS_COLOUR, "not called"),
            ("down", DOWN_COLOUR, "down"),
            ("up", UP_COLOUR, "up"),
        ]
    return [("ns", NS_COLOUR, "not called"), ("called", CALLED_COLOUR, "called (LRT)")]


def _draw_classes(
    axes: Axes,
    x: pd.Series,
    y: pd.Series,
    classes: pd.Series,
    directional: bool,
    *,
    called_size: float,
) -> list[Line2D]:
    """Scatter the genes of each call class (rasterised); a legend handle per class with its count.

    Not-called genes are drawn first and smaller (3 pt^2), called ones ``called_size`` on top.
    """
    counts = classes.value_counts()
    handles = []
    for name, colour, label in _class_styles(directional):
        mask = classes == name
        axes.scatter(
            x[mask],
            y[mask],
            s=3 if name == "ns" else called_size,
            c=colour,
            rasterized=True,
            linewidths=0,
            zorder=1 if name == "ns" else 2,
        )
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markersize=3,
                color=colour,
                label=f"{label} ({int(counts.get(name, 0)):,})",
            )
        )
    return handles


def _draw_rings(
    axes: Axes,
    x: pd.Series,
    y: pd.Series,
    *,
    colour: str,
    size: float,
    linewidth: float,
    zorder: int,
    label: str,
) -> Line2D:
    """Ring the given points (open circles, vector) and return their legend handle."""
    axes.scatter(
        x, y, s=size, facecolors="none", edgecolors=colour, linewidths=linewidth, zorder=zorder
    )
    return Line2D(
        [],
        [],
        marker="o",
        linestyle="",
        markersize=4,
        markerfacecolor="none",
        markeredgecolor=colour,
        label=label,
    )


def _ring_genes_of_interest(
    axes: Axes,
    x: pd.Series,
    y: pd.Series,
    names: pd.Series,
    genes_of_interest: Sequence[str],
    handles: list[Line2D],
) -> tuple[list[str], pd.Series]:
    """Ring the genes of interest among the drawn genes (black) and add their legend handle.

    Returns
    -------
    (list of str, pandas.Series)
        The genes of interest without repeats (in the given order) and, per drawn gene, whether
        it is one of them.
    """
    wanted = list(dict.fromkeys(genes_of_interest))
    interest = names.isin(set(wanted))
    if interest.any():
        handles.append(
            _draw_rings(
                axes, x[interest], y[interest], colour=INTEREST_COLOUR, size=14, linewidth=0.7,
                zorder=4, label=f"genes of interest ({int(interest.sum())}; bold: called)",
            )
        )  # fmt: skip
    return wanted, interest


def _legend_below(figure: Figure, handles: list[Line2D], *, top: float) -> None:
    """The figure's legend in two columns under the axes, its top at ``top`` (figure fraction)."""
    figure.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.02, top),
        ncol=2,
        handletextpad=0.2,
        columnspacing=0.8,
    )


def _symbols(results: pd.DataFrame) -> pd.Series:
    names = (
        results["gene_name"]
        if "gene_name" in results.columns
        else pd.Series(results.index, index=results.index)
    )
    names = names.astype(object).where(names.notna() & (names.astype(str) != ""), results.index)
    return names.astype(str)


def _top_genes(table: pd.DataFrame, classes: pd.Series, y_column: str, n: int) -> list[str]:
    called = table[classes != "ns"]
    ranking = pd.DataFrame(
        {
            "p": called[y_column].to_numpy(dtype=float),
            "neg_abs_lfc": -called["log2FoldChange"].abs().to_numpy(dtype=float),
            "gene": called.index.astype(str),
        },
        index=called.index,
    ).sort_values(["p", "neg_abs_lfc", "gene"], kind="mergesort")
    return list(ranking.index[:n])


def _points_along(
    axes: Axes,
    *,
    horizontal: Sequence[float] = (),
    vertical: Sequence[float] = (),
    per_line: int = 150,
) -> tuple[np.ndarray, np.ndarray]:
    """Points spread along reference lines across the axes' limits (data coordinates).

    Given to the label placement as points to avoid, so that no label is set across a cutoff
    or zero line (evenly spaced on the axis's own scale: log-spaced on a log axis).
    """

    def spread(low: float, high: float, scale: str) -> np.ndarray:
        if scale == "log":
            return np.geomspace(low, high, per_line)
        return np.linspace(low, high, per_line)

    xs = [spread(*axes.get_xlim(), axes.get_xscale()) for _ in horizontal]
    ys = [np.full(per_line, value) for value in horizontal]
    for value in vertical:
        xs.append(np.full(per_line, value))
        ys.append(spread(*axes.get_ylim(), axes.get_yscale()))
    if not xs:
        return np.empty(0), np.empty(0)
    return np.concatenate(xs), np.concatenate(ys)


@styled
def plot_volcano(
    results: pd.DataFrame,
    *,
    contrast: str,
    calling: Calling,
    genes_of_interest: Sequence[str] = (),
    label_top: int = 10,
    highlight: Collection[str] = (),
    highlight_label: str = "highlighted gene sets",
) -> Figure:
    """Volcano plot: log2 fold change against -log10 adjusted p-value (or p-value).

    Every gene of interest present among the tested genes is labelled (called ones in bold,
    with a black ring), plus the ``label_top`` most significant called genes; labels never
    overlap (see :func:`redoxseq.plots.labels.place_labels`). Dashed lines mark the padj (or
    p-value) cutoff and, when it is above 0, the |log2FC| cutoff. Genes with padj NA
    (independent filtering, Cook's outliers) are not drawn; genes of interest among them are
    named under the plot.

    Parameters
    ----------
    results
        the contrast's results table (see the module docstring).
    genes_of_interest
        symbols to label whenever present.
    highlight
        symbols drawn with an orange ring (e.g. the genes of the NRF2 core set).
    """
    require_columns(
        results,
        ["gene_name", "log2FoldChange", "pvalue", "padj", "significant"],
        f"volcano {contrast}",
    )
    on_pvalue = calling.pvalue_cutoff is not None
    y_column = "pvalue" if on_pvalue else "padj"
    tested = results.dropna(subset=["padj", "log2FoldChange"])
    floor = np.nextafter(0, 1)
    y = pd.Series(-np.log10(tested[y_column].astype(float).clip(lower=floor)), index=tested.index)
    x = tested["log2FoldChange"].astype(float)
    classes = significance_classes(tested, directional=calling.directional)
    names = _symbols(tested)
    figure = Figure(figsize=(SINGLE_COLUMN * 1.25, 3.6))
    axes = figure.add_axes(
        (0.14, 0.30, 0.82, 0.58) if calling.directional else (0.14, 0.33, 0.82, 0.55)
    )
    handles = _draw_classes(axes, x, y, classes, calling.directional, called_size=4)
    highlighted = names.isin(set(highlight))
    if highlighted.any():
        handles.append(
            _draw_rings(
                axes, x[highlighted], y[highlighted], colour=HIGHLIGHT_COLOUR, size=12,
                linewidth=0.6, zorder=3, label=f"{highlight_label} ({int(highlighted.sum())})",
            )
        )  # fmt: skip
    wanted, interest = _ring_genes_of_interest(axes, x, y, names, genes_of_interest, handles)
    y_cutoff = calling.pvalue_cutoff if on_pvalue else calling.padj_cutoff
    if y_cutoff is not None and np.isfinite(y_cutoff) and y_cutoff > 0:
        axes.axhline(-np.log10(y_cutoff), color="black", linestyle="--", linewidth=0.5, zorder=0)
    if calling.lfc_cutoff > 0:
        for cut in (-calling.lfc_cutoff, calling.lfc_cutoff):
            axes.axvline(cut, color="black", linestyle="--", linewidth=0.5, zorder=0)
    labels = [
        Label(
            names[gene], float(x[gene]), float(y[gene]), required=True, bold=classes[gene] != "ns"
        )
        for gene in tested.index[interest]
    ]
    # Order the required labels by gene-of-interest order, for a stable drawing order.
    rank = {symbol: k for k, symbol in enumerate(wanted)}
    labels.sort(key=lambda label: (rank.get(label.text, len(rank)), label.text))
    for gene in _top_genes(tested, classes, y_column, label_top):
        if not interest[gene]:
            labels.append(Label(names[gene], float(x[gene]), float(y[gene]), bold=False))
    limit = float(np.nanmax(np.abs(x))) if len(x) else 1.0
    axes.set_xlim(-limit * 1.12, limit * 1.12)
    axes.set_ylim(0, (float(np.nanmax(y)) if len(y) else 1.0) * 1.08 + 0.5)
    near = y.sort_values(ascending=False, kind="mergesort").index[:400]
    horizontal = [-np.log10(y_cutoff)] if y_cutoff is not None and 0 < y_cutoff < 1 else []
    vertical = [-calling.lfc_cutoff, calling.lfc_cutoff] if calling.lfc_cutoff > 0 else []
    cutoff_lines = _points_along(axes, horizontal=horizontal, vertical=vertical)
    place_labels(
        axes, labels, avoid_x=np.concatenate([x[near].to_numpy(), cutoff_lines[0]]),
        avoid_y=np.concatenate([y[near].to_numpy(), cutoff_lines[1]]),
        lines=[("h", float(v)) for v in horizontal] + [("v", float(v)) for v in vertical],
    )  # fmt: skip
    axes.set_xlabel(calling.lfc_label())
    axes.set_ylabel("-log10 p-value" if on_pvalue else "-log10 adjusted p-value")
    test = "" if calling.directional else f" ({calling.test_words})"
    axes.set_title(f"{contrast}{test}\ncalled: {calling.significance}", loc="left")
    missing = [g for g in wanted if g in set(_symbols(results)) and g not in set(names)]
    note = f"Not tested (padj NA): {', '.join(missing)}" if missing else ""
    absent = [g for g in wanted if g not in set(_symbols(results))]
    if absent:
        shown = ", ".join(absent[:12])
        note += ("; " if note else "") + f"not in the results (absent or prefiltered): {shown}"
        note += " ..." if len(absent) > 12 else ""
    _legend_below(figure, handles, top=0.17)
    if note:
        figure.text(0.02, 0.005, note, fontsize=5.5, va="bottom", wrap=True)
    return figure


@styled
def plot_ma(
    results: pd.DataFrame,
    *,
    contrast: str,
    calling: Calling,
    genes_of_interest: Sequence[str] = (),
) -> Figure:
    """MA plot: (shrunken, where available) log2 fold change against mean of normalised counts.

    The shrunken fold change (apeGLM) is drawn when the contrast has one; genes of interest are
    labelled. Genes with baseMean 0 are not drawn.
    """
    require_columns(results, ["baseMean", "log2FoldChange", "significant"], f"MA {contrast}")
    shrunk = (
        "log2FoldChange_shrunk" in results.columns
        and results["log2FoldChange_shrunk"].notna().any()
    )
    column = "log2FoldChange_shrunk" if shrunk else "log2FoldChange"
    expressed = results[(results["baseMean"] > 0) & results[column].notna()]
    classes = significance_classes(expressed, directional=calling.directional)
    x = expressed["baseMean"].astype(float)
    y = expressed[column].astype(float)
    figure = Figure(figsize=(SINGLE_COLUMN * 1.25, 3.2))
    axes = figure.add_axes((0.14, 0.27, 0.82, 0.62))
    handles = _draw_classes(axes, x, y, classes, calling.directional, called_size=3)
    names = _symbols(expressed)
    _, interest = _ring_genes_of_interest(axes, x, y, names, genes_of_interest, handles)
    axes.set_xscale("log")
    axes.axhline(0, color="black", linewidth=0.5)
    if calling.lfc_cutoff > 0:
        for cut in (-calling.lfc_cutoff, calling.lfc_cutoff):
            axes.axhline(cut, color="black", linestyle="--", linewidth=0.5)
    labels = [
        Label(names[g], float(x[g]), float(y[g]), required=True, bold=classes[g] != "ns")
        for g in expressed.index[interest]
    ]
    labels.sort(key=lambda label: label.text)
    # Labels are placed in log-x display space by adjustText itself, off the called points
    # (the dense clouds where genes of interest usually sit; at most the 400 largest changes).
    called = classes[classes != "ns"].index
    near = y[called].abs().sort_values(ascending=False, kind="mergesort").index[:400]
    cuts = [-calling.lfc_cutoff, calling.lfc_cutoff] if calling.lfc_cutoff > 0 else []
    lines_x, lines_y = _points_along(axes, horizontal=[0.0, *cuts])
    place_labels(
        axes, labels, avoid_x=np.concatenate([x[near].to_numpy(), lines_x]),
        avoid_y=np.concatenate([y[near].to_numpy(), lines_y]),
        lines=[("h", float(v)) for v in (0.0, *cuts)],
    )  # fmt: skip
    axes.set_xlabel("mean of normalised counts")
    if calling.directional:
        axes.set_ylabel("shrunken log2 fold change (apeGLM)" if shrunk else "log2 fold change")
        axes.set_title(f"{contrast}: MA plot", loc="left")
    else:  # the coefficient's name is too long for a vertical label: it goes in the title
        axes.set_ylabel("log2 fold change (no direction tested)")
        coefficient = calling.lfc_coefficient or "the design's last coefficient"
        axes.set_title(
            f"{contrast}: MA plot ({calling.test_words})\nlog2 fold change of {coefficient}",
            loc="left",
        )
    _legend_below(figure, handles, top=0.13)
    return figure


@styled
def plot_pvalue_histogram(
    results: pd.DataFrame, *, contrast: str, test: str = "Wald test"
) -> Figure:
    """Histogram of raw p-values (bins of 0.05), tested genes and those filtered out stacked.

    A flat histogram with a peak near 0 is the healthy shape; a peak near 1 or a hump in the
    middle points to a mis-specified model. Genes with a p-value but padj NA were removed by
    independent filtering (low mean count) and are shown separately.
    """
    require_columns(results, ["pvalue", "padj"], f"p-value histogram {contrast}")
    p = results["pvalue"].astype(float)
    has_p = p.notna()
    tested = has_p & results["padj"].notna()
    filtered = has_p & results["padj"].isna()
    bins = [k / 20 for k in range(21)]
    figure = Figure(figsize=(SINGLE_COLUMN, 2.3))
    axes = figure.add_subplot()
    axes.hist(
        [p[tested].to_numpy(), p[filtered].to_numpy()],
        bins=bins,
        stacked=True,
        color=[OKABE_ITO["blue"], NS_COLOUR],
        label=[f"tested ({int(tested.sum()):,})", f"filtered, low mean ({int(filtered.sum()):,})"],
        edgecolor="white",
        linewidth=0.3,
    )
    axes.set_xlim(0, 1)
    axes.set_xlabel(f"p-value ({test})")
    axes.set_ylabel("genes")
    axes.set_title(f"{contrast}: p-value distribution", loc="left")
    axes.legend(loc="upper left", bbox_to_anchor=(0.0, -0.25), ncol=2)
    return figure


def top_called_genes(results: pd.DataFrame, *, n: int = 50) -> tuple[list[str], bool]:
    """The ``n`` called genes with the smallest padj (ties: larger |log2FC|, then gene id).

    Returns
    -------
    (list of gene IDs, bool)
        The genes, and True when they were called; when no gene was called, the ``n`` genes
        with the smallest padj and False.
    """
    calls = results["significant"].fillna("").astype(str).str.strip()
    called = results[~calls.isin(["", "ns", "False", "false"])]
    pool, were_called = (called, True) if len(called) else (results.dropna(subset=["padj"]), False)
    ranking = pd.DataFrame(
        {
            "padj": pool["padj"].astype(float).to_numpy(),
            "neg_abs": -pool["log2FoldChange"].abs().astype(float).fillna(0).to_numpy()
            if "log2FoldChange" in pool.columns
            else np.zeros(len(pool)),
            "gene": pool.index.astype(str),
        },
        index=pool.index,
    ).sort_values(["padj", "neg_abs", "gene"], kind="mergesort")
    return [str(g) for g in ranking.index[:n]], were_called


@styled
def plot_top_genes_heatmap(
    expression: pd.DataFrame,
    samples: pd.DataFrame,
    results: pd.DataFrame,
    *,
    contrast: str,
    group_by: Sequence[str],
    n: int = 50,
) -> Figure:
    """Clustered heatmap of the contrast's top called genes: z-scored VST, group bars.

    Parameters
    ----------
    expression
        genes x samples, VST (log2-like scale).
    samples
        sample sheet indexed by sample; ``group_by`` columns give the group bars.
    results
        the contrast's results table (gene IDs as index; ``gene_name`` labels the rows).
    """
    genes, were_called = top_called_genes(results, n=n)
    genes = [g for g in genes if g in expression.index]
    if len(genes) < 2:
        return empty_figure(f"{contrast}: fewer than 2 genes to show")
    values = zscore_rows(expression.loc[genes])
    names = _symbols(results)
    what = "called" if were_called else "smallest-padj (none called)"
    groups = group_bars(samples, expression.columns, group_by)
    return annotated_heatmap(
        values,
        groups,
        title=f"{contrast}: top {len(genes)} {what} genes",
        colorbar_label="z-score of VST",
        width=DOUBLE_COLUMN * 0.75 if expression.shape[1] <= 24 else DOUBLE_COLUMN,
        row_labels=[names.get(g, g) for g in genes],
    )


def _cutoff(value: object) -> float | None:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return None if pd.isna(number) else float(number)


def lrt_contrasts(contrasts: pd.DataFrame) -> list[str]:
    """Names of the likelihood-ratio-test contrasts (``test`` column; none when absent).

    Parameters
    ----------
    contrasts
        ``results/deseq2/contrasts.tsv`` indexed by contrast name.
    """
    if "test" not in contrasts.columns:
        return []
    tests = contrasts["test"].fillna("").astype(str).str.upper()
    return [str(name) for name in contrasts.index[tests == "LRT"]]


def calling_from_summary(summary: pd.Series, contrasts: pd.DataFrame, contrast: str) -> Calling:
    """The :class:`Calling` of a contrast from its summary row and the contrasts table.

    For an LRT, ``coefficients`` of the contrasts table names the coefficient its log2FC is.
    """
    lrt = contrast in set(lrt_contrasts(contrasts))
    lfc = _cutoff(summary.get("log2fc_cutoff"))
    coefficient = ""
    if lrt and "coefficients" in contrasts.columns:
        value = contrasts["coefficients"].fillna("").astype(str).get(contrast, "")
        coefficient = str(value)
    return Calling(
        significance=str(summary.get("significance", "")),
        padj_cutoff=_cutoff(summary.get("padj_cutoff")),
        pvalue_cutoff=_cutoff(summary.get("pvalue_cutoff")),
        lfc_cutoff=lfc or 0.0,
        test="LRT" if lrt else "Wald",
        lfc_coefficient=coefficient,
    )


def contrast_figures(
    results: pd.DataFrame,
    calling: Calling,
    expression: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    contrast: str,
    genes_of_interest: Sequence[str],
    label_top: int,
    highlight: Collection[str],
    highlight_label: str,
    group_by: Sequence[str],
    heatmap_top: int,
) -> dict[str, Figure]:
    """Every figure of one contrast, keyed by file stem.

    Stems: volcano, ma, pvalue_histogram, top_genes_heatmap; ``expression`` is the
    design-aware VST (genes x samples).
    """
    return {
        "volcano": plot_volcano(
            results, contrast=contrast, calling=calling, genes_of_interest=genes_of_interest,
            label_top=label_top, highlight=highlight, highlight_label=highlight_label,
        ),
        "ma": plot_ma(results, contrast=contrast, calling=calling,
                      genes_of_interest=genes_of_interest),
        "pvalue_histogram": plot_pvalue_histogram(results, contrast=contrast,
                                                   test=calling.test_words),
        "top_genes_heatmap": plot_top_genes_heatmap(
            expression, samples, results, contrast=contrast, group_by=group_by, n=heatmap_top
        ),
    }  # fmt: skip
