"""Adapter: heatmap of the most significant genes of every contrast."""

from redoxseq.config import read_sample_sheet
from redoxseq.io import read_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots.figures import plot_heatmap, save_figure, top_significant_genes

setup_logging(snakemake.log[0])

results = {
    contrast: read_tsv(path)
    for contrast, path in zip(snakemake.params.contrasts, snakemake.input.results, strict=True)
}
genes = top_significant_genes(results, per_contrast=snakemake.params.per_contrast)
names = next(iter(results.values()))["gene_name"] if results else None
figure = plot_heatmap(
    read_tsv(snakemake.input.vst),
    read_sample_sheet(snakemake.input.samples),
    genes=genes,
    gene_names=names,
    group_by=snakemake.params.group_by,
    title="Most significant genes of each contrast",
)
save_figure(figure, snakemake.output.figure, dpi=snakemake.params.dpi)
