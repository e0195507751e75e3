"""Adapter: pre-flight, fit the DESeq2 model once, write the model and per-design tables."""

import logging

from redoxseq.de.fit import read_samples, run_fit
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])
logger = logging.getLogger("deseq2_fit")

report = run_fit(
    counts_path=snakemake.input.counts,
    samples=read_samples(snakemake.input.samples),
    deseq2_config=snakemake.params.deseq2,
    contrasts_config=snakemake.params.contrasts,
    threads=snakemake.threads,
    model_path=snakemake.output.model,
    outputs={
        "normalized_counts": snakemake.output.normalized_counts,
        "vst": snakemake.output.vst,
        "vst_blind": snakemake.output.vst_blind,
        "size_factors": snakemake.output.size_factors,
        "dispersions": snakemake.output.dispersions,
        "cooks_outliers": snakemake.output.cooks_outliers,
        "contrasts": snakemake.output.contrasts,
    },
)
for warning in report.warnings:
    logger.warning("%s", warning)
