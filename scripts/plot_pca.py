"""Adapter: PCA of the blind VST, coloured by design factors."""

import logging

from redoxseq.config import read_sample_sheet
from redoxseq.io import read_tsv, write_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots.figures import compute_pca, plot_pca, save_figure

setup_logging(snakemake.log[0])
logger = logging.getLogger("plot_pca")

vst = read_tsv(snakemake.input.vst)
samples = read_sample_sheet(snakemake.input.samples)
pca = compute_pca(vst, top_genes=snakemake.params.top_genes)
logger.info("explained variance: %s", pca.explained_variance_ratio.round(4).to_dict())
figure = plot_pca(
    pca,
    samples,
    color_by=snakemake.params.color_by,
    shape_by=snakemake.params.shape_by or None,
)
save_figure(figure, snakemake.output.figure, dpi=snakemake.params.dpi)
table = pca.coordinates.copy()
table.loc["explained_variance_ratio"] = pca.explained_variance_ratio
write_tsv(table.rename_axis("sample"), snakemake.output.coordinates)
