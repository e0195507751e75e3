"""Adapter: volcano, MA, p-value histogram and top-genes heatmap of one contrast."""

from redoxseq.config import read_sample_sheet
from redoxseq.io import read_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots.contrasts import calling_from_summary, contrast_figures
from redoxseq.plots.style import figure_paths, save_figures

setup_logging(snakemake.log[0])
contrast = snakemake.wildcards.contrast
params = snakemake.params
summary = read_tsv(snakemake.input.summary).iloc[0]
figures = contrast_figures(
    read_tsv(snakemake.input.results),
    calling_from_summary(summary, read_tsv(snakemake.input.contrasts), contrast),
    read_tsv(snakemake.input.vst),
    read_sample_sheet(snakemake.input.samples),
    contrast=contrast,
    genes_of_interest=params.genes_of_interest,
    label_top=params.label_top,
    highlight=params.highlight,
    highlight_label=params.highlight_label,
    group_by=params.group_by,
    heatmap_top=params.heatmap_top,
)
for name, figure in figures.items():
    save_figures(figure, figure_paths(snakemake.output, name), dpi=params.dpi)
