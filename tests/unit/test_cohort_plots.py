"""Cohort figures: drawn from the stage's tables; the score heatmap switches to its summary form."""

from __future__ import annotations

import numpy as np
import pandas as pd

from redoxseq.cohort.correlations import correlate, resolve_pairs
from redoxseq.plots.cohort import (
    plot_correlation_heatmap,
    plot_distributions,
    plot_pair_scatter,
    plot_score_heatmap,
)
from redoxseq.plots.style import save_figure


def _tables(n: int) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    rng = np.random.default_rng(0)
    samples = [f"s{i}" for i in range(n)]
    strata = pd.Series(np.where(np.arange(n) % 2 == 0, "tumour", "normal"), index=samples)
    x = rng.normal(size=n)
    features = pd.DataFrame(
        {"GENE_A": x, "GENE_B": x + rng.normal(size=n), "SET_1": rng.normal(size=n)},
        index=samples,
    )
    correlations = correlate(features, resolve_pairs(list(features.columns), None), strata=strata)
    return features, strata, correlations


def test_figures_are_written(tmp_path) -> None:
    features, strata, correlations = _tables(40)
    figures = {
        "scatter": plot_pair_scatter(features, correlations, strata, score_names=["SET_1"]),
        "heatmap": plot_correlation_heatmap(correlations),
        "scores": plot_score_heatmap(features[["SET_1", "GENE_A"]], strata),
        "distributions": plot_distributions(features, strata, score_names=["SET_1"]),
    }
    for name, figure in figures.items():
        path = tmp_path / f"{name}.png"
        save_figure(figure, path, dpi=72)
        assert path.stat().st_size > 1000
    # one scatter panel per pair, titled with the overall coefficient
    titles = [a.get_title() for a in figures["scatter"].axes if a.get_title()]
    assert len(titles) == 3 and all("FDR" in t for t in titles)


def test_score_heatmap_summary_form_above_max_samples() -> None:
    features, strata, _ = _tables(200)
    full = plot_score_heatmap(features, strata, max_samples=300)
    summary = plot_score_heatmap(features, strata, max_samples=150)
    full_image = full.axes[1].get_images()[0].get_array()
    summary_image = summary.axes[1].get_images()[0].get_array()
    assert full_image.shape == (3, 200)
    assert summary_image.shape == (3, 2)  # one column per stratum
    labels = [t.get_text() for t in summary.axes[1].get_xticklabels()]
    assert labels == ["normal\n(n=100)", "tumour\n(n=100)"]


def test_scatter_axes_keep_the_data_range_when_the_fit_line_leaves_it() -> None:
    # two separated clusters (as a Y-linked score against an X-linked gene across the sexes):
    # the least-squares line runs far below the lower cluster at the right-hand edge
    samples = [f"s{i}" for i in range(40)]
    sex = pd.Series(["female"] * 20 + ["male"] * 20, index=samples)
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(10.2, 10.8, 20), rng.uniform(10.9, 11.6, 20)])
    y = np.concatenate([rng.uniform(0, 1500, 20), np.full(20, -5000.0)])
    features = pd.DataFrame({"GENE_X": x, "SET_Y": y}, index=samples)
    correlations = correlate(features, resolve_pairs(list(features.columns), None), strata=sex)
    figure = plot_pair_scatter(features, correlations, sex, score_names=["SET_Y"])
    axes = next(a for a in figure.axes if a.get_title())
    line = axes.get_lines()[0].get_ydata()
    assert line.min() < y.min() - 0.2 * np.ptp(y)  # the case: the line leaves the data
    low, high = axes.get_ylim()
    margin = 0.1 * np.ptp(y)  # matplotlib's default 5 % margins, with room to spare
    assert y.min() - margin <= low <= y.min() and y.max() <= high <= y.max() + margin
