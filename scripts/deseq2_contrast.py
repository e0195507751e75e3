"""Adapter: test one named contrast on the fitted model; write results, gene lists, summary."""

from redoxseq.config import read_sample_sheet
from redoxseq.counting.countmatrix import read_count_table
from redoxseq.de.fit import evaluate_contrast, load_model, resolve_job_contrast
from redoxseq.io import read_gene_annotation, write_tsv
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])

job = snakemake.params.contrast
samples = read_sample_sheet(snakemake.input.samples)
contrast = resolve_job_contrast(samples, job)
tables = evaluate_contrast(
    contrast,
    job["deseq2"],
    model=load_model(snakemake.input.model),
    # a contrast with exclude: is fitted on its own samples
    counts=read_count_table(snakemake.input.counts) if contrast.own_fit else None,
    samples=samples,
    annotation=read_gene_annotation(snakemake.input.annotation),
    threads=snakemake.threads,
)
for name in ("results", "up", "down", "summary"):
    write_tsv(tables[name], snakemake.output[name])
