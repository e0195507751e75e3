"""Snakemake adapter: known splice sites and exons of the GTF, for hisat2-build."""

import gzip
import logging

from redoxseq.align.reference import exons, format_intervals, splice_sites
from redoxseq.io import atomic_open
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])
gtf = str(snakemake.input.gtf)
opener = gzip.open if gtf.endswith(".gz") else open
with opener(gtf, "rt", encoding="utf-8") as handle:
    lines = handle.readlines()
sites = splice_sites(lines)
merged = exons(lines)
with atomic_open(snakemake.output.splice_sites) as out:
    out.write(format_intervals(sites))
with atomic_open(snakemake.output.exons) as out:
    out.write(format_intervals(merged))
logging.getLogger("hisat2_index_annotation").info(
    "%s: %d splice sites, %d exons", gtf, len(sites), len(merged)
)
