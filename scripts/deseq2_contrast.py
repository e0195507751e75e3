"""Adapter: test one named contrast on the fitted model; write results, gene lists, summary."""

from redoxseq.de.fit import read_samples, run_contrast
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])

run_contrast(
    name=snakemake.wildcards.contrast,
    model_path=snakemake.input.model,
    counts_path=snakemake.input.counts,
    annotation_path=snakemake.input.annotation,
    samples=read_samples(snakemake.input.samples),
    deseq2_config=snakemake.params.deseq2,
    contrasts_config=snakemake.params.contrasts,
    threads=snakemake.threads,
    outputs={
        "results": snakemake.output.results,
        "up": snakemake.output.up,
        "down": snakemake.output.down,
        "summary": snakemake.output.summary,
    },
)
