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
