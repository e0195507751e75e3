"""Adapter: run-wide report pages (contrasts, design, config, versions, GSEA, ssGSEA)."""

from redoxseq.io import read_tsv, write_text
from redoxseq.logs import setup_logging
from redoxseq.plots.tables import run_pages

setup_logging(snakemake.log[0])
inputs = snakemake.input
pages = run_pages(
    contrasts=read_tsv(inputs.contrasts).reset_index(),
    gsea=read_tsv(inputs.gsea, index_col=None),
    gsea_skipped=read_tsv(inputs.gsea_skipped, index_col=None),
    ssgsea=read_tsv(inputs.ssgsea, index_col=None) if hasattr(inputs, "ssgsea") else None,
    preflight=snakemake.params.preflight,
    config=dict(snakemake.params.config),
)
for key, page in pages.items():
    write_text(getattr(snakemake.output, key), page)
