"""Adapter: UpSet plot of the up and down gene lists of every contrast."""

from redoxseq.io import read_tsv, write_tsv
from redoxseq.logs import setup_logging
from redoxseq.plots.figures import plot_upset, save_figure, upset_intersections

setup_logging(snakemake.log[0])

gene_lists = {}
for contrast, up, down in zip(
    snakemake.params.contrasts, snakemake.input.up, snakemake.input.down, strict=True
):
    gene_lists[f"{contrast} up"] = set(read_tsv(up).index.astype(str))
    gene_lists[f"{contrast} down"] = set(read_tsv(down).index.astype(str))

figure = plot_upset(gene_lists, title="Genes called per contrast and direction")
save_figure(figure, snakemake.output.figure, dpi=snakemake.params.dpi)
write_tsv(upset_intersections(gene_lists), snakemake.output.intersections, index=False)
