"""Adapter: volcano, MA, p-value histogram and top-genes heatmap of one contrast."""

from redoxseq.config import read_sample_sheet
from redoxseq.io import read_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots.contrasts import (
    calling_from_summary,
    plot_ma,
    plot_pvalue_histogram,
    plot_top_genes_heatmap,
    plot_volcano,
)
from redoxseq.plots.style import figure_paths, save_figures

setup_logging(snakemake.log[0])
contrast = snakemake.wildcards.contrast
params = snakemake.params
results = read_tsv(snakemake.input.results)
calling = calling_from_summary(
    read_tsv(snakemake.input.summary).iloc[0], read_tsv(snakemake.input.contrasts), contrast
)
genes = params.genes_of_interest
figures = {
    "volcano": plot_volcano(
        results,
        contrast=contrast,
        calling=calling,
        genes_of_interest=genes,
        label_top=params.label_top,
        highlight=params.highlight,
        highlight_label=params.highlight_label,
    ),
    "ma": plot_ma(results, contrast=contrast, calling=calling, genes_of_interest=genes),
    "pvalue_histogram": plot_pvalue_histogram(results, contrast=contrast, test=calling.test),
    "top_genes_heatmap": plot_top_genes_heatmap(
        read_tsv(snakemake.input.vst),
        read_sample_sheet(snakemake.input.samples),
        results,
        contrast=contrast,
        group_by=params.group_by,
        n=params.heatmap_top,
    ),
}
for name, figure in figures.items():
    save_figures(figure, figure_paths(snakemake.output, name), dpi=params.dpi)
