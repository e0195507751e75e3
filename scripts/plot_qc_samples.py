"""Adapter: sample distances, PCA with its scree plot (blind VST), dispersion estimates."""

import logging

from redoxseq.config import read_sample_sheet
from redoxseq.io import read_tsv, write_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots.qc import (
    compute_pca,
    plot_dispersion,
    plot_pca,
    plot_pca_scree,
    plot_sample_distances,
)
from redoxseq.plots.style import figure_paths, save_figures

setup_logging(snakemake.log[0])
logger = logging.getLogger("plot_qc_samples")
dpi = snakemake.params.dpi
vst = read_tsv(snakemake.input.vst)
samples = read_sample_sheet(snakemake.input.samples)

figure = plot_sample_distances(vst, samples, group_by=snakemake.params.group_by)
save_figures(figure, figure_paths(snakemake.output, "sample_distances"), dpi=dpi)
pca = compute_pca(vst, top_genes=snakemake.params.top_genes)
logger.info("explained variance: %s", pca.explained_variance_ratio.round(4).to_dict())
shape_by = snakemake.params.shape_by or None
figure = plot_pca(pca, samples, color_by=snakemake.params.color_by, shape_by=shape_by)
save_figures(figure, figure_paths(snakemake.output, "pca"), dpi=dpi)
save_figures(plot_pca_scree(pca), figure_paths(snakemake.output, "pca_scree"), dpi=dpi)
table = pca.coordinates.copy()
table.loc["explained_variance_ratio"] = pca.explained_variance_ratio
write_tsv(table.rename_axis("sample"), snakemake.output.coordinates)
figure = plot_dispersion(read_tsv(snakemake.input.dispersions))
save_figures(figure, figure_paths(snakemake.output, "dispersion"), dpi=dpi)
