"""Make annotation.tsv (gene_id, gene_name) for the Marioni 2008 count matrix.

Symbols come from MSigDB 2023.1's human gene-ID map (CC BY 4.0), shared at
``../shared/data/genesets/id_mapping/msigdb_2023.1.Hs_human_gene_id_map.tsv``. Run from the
repository root:

    python tests/data/counts/marioni2008/make_annotation.py \\
        ../shared/data/genesets/id_mapping/msigdb_2023.1.Hs_human_gene_id_map.tsv

Genes of the matrix without a symbol in the map get an empty gene_name. An Ensembl ID with
several symbols keeps the alphabetically first, so a rerun gives the same bytes.
"""

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent

mapping = pd.read_csv(sys.argv[1], sep="\t", dtype=str)
mapping = mapping.dropna(subset=["ensembl_gene", "gene_symbol"]).sort_values(
    ["ensembl_gene", "gene_symbol"], kind="mergesort"
)
symbol = mapping.drop_duplicates("ensembl_gene").set_index("ensembl_gene")["gene_symbol"]
genes = pd.read_csv(HERE / "counts.tsv.gz", sep="\t", usecols=["gene_id"], dtype=str)["gene_id"]
table = pd.DataFrame({"gene_id": genes, "gene_name": genes.map(symbol).fillna("")})
table.to_csv(HERE / "annotation.tsv", sep="\t", index=False, lineterminator="\n")
print(f"{(table['gene_name'] != '').sum()} of {len(table)} genes have a symbol")
