"""Adapter: run-wide report pages: contrasts, design pre-flight, configuration, versions,
the GSEA summary and the ssGSEA group comparison."""

import pandas as pd
import yaml

from redoxseq.io import read_tsv, write_text
from redoxseq.logs import setup_logging
from redoxseq.plots.tables import PACKAGES, html_table_page, html_text_page, software_versions

setup_logging(snakemake.log[0])
out = snakemake.output
pages = {
    "contrasts": (
        "Contrasts in plain words",
        "What each log2 fold change means.",
        read_tsv(snakemake.input.contrasts).reset_index(),
        "contrasts.tsv",
    ),
    "gsea": (
        "GSEA prerank, all contrasts",
        "Sorted by FDR; one row per contrast x gene set.",
        read_tsv(snakemake.input.gsea, index_col=None).sort_values(
            ["fdr", "contrast", "gene_set"], kind="mergesort"
        ),
        "gsea_summary.tsv",
    ),
    "versions": (
        "Software versions",
        "Python packages of the environment that wrote the report pages.",
        software_versions(PACKAGES),
        None,
    ),
}
if hasattr(snakemake.input, "ssgsea"):
    table = read_tsv(snakemake.input.ssgsea, index_col=None)
    pages["ssgsea"] = (
        "ssGSEA group comparison",
        "Per-sample scores compared between groups; sorted by p-value.",
        table.sort_values("pvalue", kind="mergesort"),
        "ssgsea.group_comparison.tsv",
    )
else:
    pages["ssgsea"] = (
        "ssGSEA group comparison",
        "ssGSEA is switched off (gsea.ssgsea.collections: []).",
        pd.DataFrame(),
        None,
    )
for key, (title, text, table, name) in pages.items():
    write_text(
        out[key], html_table_page(table, title=title, description=text, top=200, tsv_name=name)
    )
write_text(
    out.design,
    html_text_page(
        "Design pre-flight", "Checked before any job ran.", "\n".join(snakemake.params.preflight)
    ),
)
write_text(
    out.config,
    html_text_page(
        "Resolved configuration",
        "config/config.yaml with every default filled in.",
        yaml.safe_dump(dict(snakemake.params.config), sort_keys=False),
    ),
)
