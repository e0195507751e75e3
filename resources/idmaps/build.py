"""Build the bundled gene identifier tables (Ensembl gene, Entrez gene, symbol) per species.

Source: MSigDB 2023.1 gene identifier maps (msigdbr R package data; MSigDB CC BY 4.0, msigdbr
MIT), as listed in the shared data README. Run from the repository root with the folder that
holds them:

    python resources/idmaps/build.py ../shared/data/genesets/id_mapping

Writes ``resources/idmaps/<species>/gene_ids.tsv.gz`` (columns ensembl_gene, entrez_gene,
symbol; one row per distinct triple, sorted; gzip without a time stamp, so the same source gives
the same bytes; Ensembl IDs of another species, which MSigDB's mouse map carries, are
dropped) and ``resources/idmaps/<species>/manifest.yaml`` (source file and checksum,
licence, row counts, checksum of the table).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import logging
from pathlib import Path

import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
# Ensembl gene IDs of the species itself; MSigDB's mouse map also lists human ENSG IDs (its
# mouse genes were derived through orthologs), which must not map a human matrix to mouse.
ENSEMBL_PREFIX = {"human": "ENSG0", "mouse": "ENSMUSG0"}
SOURCES = {
    "human": (
        "msigdb_2023.1.Hs_human_gene_id_map.tsv",
        {"ensembl_gene": "ensembl_gene", "entrez_gene": "entrez_gene", "gene_symbol": "symbol"},
    ),
    "mouse": (
        "msigdb_2023.1.Mm_mouse_gene_id_map.tsv",
        {
            "mouse_ensembl_gene": "ensembl_gene",
            "mouse_entrez_gene": "entrez_gene",
            "mouse_gene_symbol": "symbol",
        },
    ),
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(source_dir: Path, species: str) -> dict[str, object]:
    name, columns = SOURCES[species]
    source = source_dir / name
    table = pd.read_csv(source, sep="\t", dtype=str, usecols=list(columns)).rename(columns=columns)
    table = table[["ensembl_gene", "entrez_gene", "symbol"]].fillna("")
    foreign = ~table["ensembl_gene"].str.startswith(ENSEMBL_PREFIX[species])
    n_foreign = int((foreign & (table["ensembl_gene"] != "")).sum())
    table.loc[foreign, "ensembl_gene"] = ""
    table = table[table["symbol"] != ""].drop_duplicates().sort_values(list(table.columns))
    out = HERE / species / "gene_ids.tsv.gz"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = table.to_csv(sep="\t", index=False, lineterminator="\n").encode()
    with open(out, "wb") as raw, gzip.GzipFile("", "wb", 9, raw, mtime=0) as handle:
        handle.write(text)
    manifest = {
        "species": species,
        "table": out.name,
        "sha256": _sha256(out),
        "columns": {
            "ensembl_gene": "Ensembl gene ID without version suffix ('' if none)",
            "entrez_gene": "NCBI Entrez gene ID ('' if none)",
            "symbol": "HGNC (human) or MGI (mouse) gene symbol, as the gene sets use",
        },
        "n_rows": len(table),
        "n_symbols": int(table["symbol"].nunique()),
        "n_ensembl": int(table.loc[table["ensembl_gene"] != "", "ensembl_gene"].nunique()),
        "n_entrez": int(table.loc[table["entrez_gene"] != "", "entrez_gene"].nunique()),
        "source": {
            "file": name,
            "sha256": _sha256(source),
            "origin": "MSigDB 2023.1 gene identifier map, via the msigdbr R package data",
            "licences": ["CC-BY-4.0 (MSigDB)", "MIT (msigdbr)"],
        },
        "ensembl_ids_of_other_species_dropped": n_foreign,
        "built_by": "resources/idmaps/build.py",
    }
    (HERE / species / "manifest.yaml").write_text(
        yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8"
    )
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source_dir", type=Path, help="e.g. ../shared/data/genesets/id_mapping")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for species in SOURCES:
        manifest = build(args.source_dir, species)
        logging.info("%s: %s rows, %s symbols", species, manifest["n_rows"], manifest["n_symbols"])


if __name__ == "__main__":
    main()
