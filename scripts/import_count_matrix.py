"""Adapter: validate a user count matrix; write the counting stage's two tables from it."""

from redoxseq.config import read_sample_sheet
from redoxseq.counting.countmatrix import check_library_sizes, import_count_matrix
from redoxseq.idmap import annotate_symbols, mapping_summary, read_id_table
from redoxseq.io import write_tsv
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])

samples = read_sample_sheet(snakemake.input.samples)
counts, annotation = import_count_matrix(
    snakemake.input.matrix,
    list(samples.index),
    gtf=snakemake.input.get("gtf") or None,
    annotation_table=snakemake.input.get("annotation_table") or None,
)
check_library_sizes(
    counts,
    warn_fraction=snakemake.params.warn_library_fraction,
    source=snakemake.input.matrix,
)
# Neither GTF nor annotation table: the bundled ID table of the species gives the symbols.
source = snakemake.input.get("annotation_table") or snakemake.input.get("gtf")
if snakemake.input.get("id_table"):
    table = read_id_table(snakemake.input.id_table)
    annotation, _ = annotate_symbols(annotation, table, snakemake.params.species)
    source = f"bundled ID table {snakemake.input.id_table} (MSigDB 2023.1, CC BY 4.0)"
summary = mapping_summary(annotation, str(source), snakemake.params.species)
write_tsv(summary, snakemake.output.id_mapping, index=False)
write_tsv(counts, snakemake.output.counts)
write_tsv(annotation, snakemake.output.annotation)
