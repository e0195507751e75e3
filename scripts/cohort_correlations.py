"""Adapter: correlations of the chosen genes and scores, overall and per stratum."""

from redoxseq.cohort.correlations import cohort_tables, feature_table
from redoxseq.cohort.scoring import score_matrix, symbol_expression
from redoxseq.config import read_sample_sheet
from redoxseq.io import read_tsv, write_tsv
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])
expression = symbol_expression(
    read_tsv(snakemake.input.vst, index_col=0),
    read_tsv(snakemake.input.annotation, index_col=None),
)
features = feature_table(
    expression,
    list(snakemake.params.genes),
    score_matrix(read_tsv(snakemake.input.scores, index_col=None)),
    list(snakemake.params.scores),
)
column = snakemake.params.stratify_by
tables = cohort_tables(
    features,
    [list(pair) for pair in snakemake.params.pairs],
    strata=read_sample_sheet(snakemake.input.samples)[column] if column else None,
    methods=list(snakemake.params.methods),
    min_stratum_size=int(snakemake.params.min_stratum_size),
)
write_tsv(features, snakemake.output.features)
for name, table in tables.items():
    write_tsv(table, snakemake.output[name], index=False)
