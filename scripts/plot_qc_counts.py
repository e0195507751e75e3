"""Adapter: library sizes (with size factors), read assignment and strandedness figures."""

from redoxseq.config import read_sample_sheet
from redoxseq.io import read_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots.qc import plot_library_sizes, plot_read_assignment, plot_strandedness
from redoxseq.plots.style import figure_paths, save_figures

setup_logging(snakemake.log[0])
dpi = snakemake.params.dpi

samples = read_sample_sheet(snakemake.input.samples)
group_by = snakemake.params.group_by
figure = plot_library_sizes(
    read_tsv(snakemake.input.counts),
    samples,
    size_factors=read_tsv(snakemake.input.size_factors)["size_factor"],
    group_by=group_by,
)
save_figures(figure, figure_paths(snakemake.output, "library_sizes"), dpi=dpi)
if hasattr(snakemake.input, "summary"):
    figure = plot_read_assignment(read_tsv(snakemake.input.summary), samples, group_by=group_by)
    save_figures(figure, figure_paths(snakemake.output, "read_assignment"), dpi=dpi)
    figure = plot_strandedness(read_tsv(snakemake.input.strandedness), samples, group_by=group_by)
    save_figures(figure, figure_paths(snakemake.output, "strandedness"), dpi=dpi)
