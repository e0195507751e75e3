"""Adapter: cohort figures (pair scatters, correlation and score heatmaps, distributions)."""

from redoxseq.cohort.scoring import score_matrix
from redoxseq.config import read_sample_sheet
from redoxseq.io import read_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots.cohort import (
    plot_correlation_heatmap,
    plot_distributions,
    plot_pair_scatter,
    plot_score_heatmap,
)
from redoxseq.plots.style import figure_paths, save_figures

setup_logging(snakemake.log[0])
features = read_tsv(snakemake.input.features, index_col=0)
correlations = read_tsv(snakemake.input.correlations, index_col=None)
column = snakemake.params.stratify_by
strata = read_sample_sheet(snakemake.input.samples)[column] if column else None
method = snakemake.params.method
scores = score_matrix(read_tsv(snakemake.input.scores, index_col=None))
figures = {
    "scatter": plot_pair_scatter(
        features, correlations, strata, method=method, score_names=list(scores.columns)
    ),
    "correlation_heatmap": plot_correlation_heatmap(correlations, method=method),
    "scores_heatmap": plot_score_heatmap(
        scores,
        strata,
        max_samples=int(snakemake.params.heatmap_max_samples),
    ),
    "score_distributions": plot_distributions(features, strata, score_names=list(scores.columns)),
}
for name, figure in figures.items():
    save_figures(figure, figure_paths(snakemake.output, name), dpi=int(snakemake.params.dpi))
