"""Gene identifiers to symbols with the bundled ID tables (resources/idmaps/<species>/).

Count matrices arrive with Ensembl gene IDs (with or without a version suffix), Entrez IDs or
symbols; the gene sets use symbols. This module recognises the identifier type, maps it to
symbols with the species' table (MSigDB 2023.1 maps, CC BY 4.0; built by
``resources/idmaps/build.py``) and reports the share of genes mapped. Pure functions on
in-memory tables, except :func:`read_id_table`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from redoxseq.errors import InputError

logger = logging.getLogger(__name__)

IdType = Literal["ensembl", "entrez", "symbol"]
_ENSEMBL = re.compile(r"^ENS[A-Z]*G\d{6,}(\.\d+)?$")
_VERSION = re.compile(r"\.\d+$")
_PREFIXES = {"ENSG": "human", "ENSMUSG": "mouse"}


@dataclass(frozen=True)
class IdMapping:
    """Outcome of mapping a matrix's gene IDs to symbols.

    Attributes
    ----------
    id_type
        ``ensembl``, ``entrez`` or ``symbol``: what most IDs look like.
    genes, mapped
        Number of IDs, and of those with a symbol in the table.
    species
        Species of the table used.
    examples_unmapped
        Up to five IDs without a symbol.
    """

    id_type: IdType
    genes: int
    mapped: int
    species: str
    examples_unmapped: tuple[str, ...]

    @property
    def share(self) -> float:
        """Fraction of IDs mapped to a symbol (0 for an empty list)."""
        return self.mapped / self.genes if self.genes else 0.0

    def describe(self) -> str:
        """One sentence for logs and the report."""
        return (
            f"{self.mapped} of {self.genes} gene IDs ({100 * self.share:.1f}%, {self.id_type} "
            f"IDs) mapped to {self.species} gene symbols"
        )


def read_id_table(path: str | Path) -> pd.DataFrame:
    """Read a bundled ID table: columns ensembl_gene, entrez_gene, symbol (strings)."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{file}: gene ID table not found")
    return pd.read_csv(file, sep="\t", dtype=str, keep_default_na=False)


def id_type(ids: list[str]) -> IdType:
    """What most IDs look like: Ensembl gene IDs, Entrez (all digits) or else symbols."""
    sample = [str(i) for i in ids[:5000]]
    if not sample:
        return "symbol"
    ensembl = sum(bool(_ENSEMBL.match(i)) for i in sample)
    entrez = sum(i.isdigit() for i in sample)
    if ensembl >= len(sample) / 2:
        return "ensembl"
    if entrez >= len(sample) / 2:
        return "entrez"
    return "symbol"


def guess_species(ids: list[str]) -> str | None:
    """Species named by Ensembl prefixes (ENSG: human, ENSMUSG: mouse), else None."""
    counts: dict[str, int] = {}
    for i in ids[:5000]:
        match = re.match(r"^(ENS[A-Z]*G)\d", str(i))
        if match:
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    if not counts:
        return None
    prefix = max(counts, key=lambda k: counts[k])
    return _PREFIXES.get(prefix, f"another species (prefix {prefix})")


def map_to_symbols(
    ids: list[str], table: pd.DataFrame, species: str
) -> tuple[pd.Series, IdMapping]:
    """Symbol of each ID ('' where unknown) and the mapping summary.

    Ensembl IDs match without their version suffix; an ID with several symbols takes the first
    in the table's (sorted) order.
    """
    kind = id_type(ids)
    keys = pd.Index([str(i) for i in ids])
    if kind == "ensembl":
        lookup = table[table["ensembl_gene"] != ""].drop_duplicates("ensembl_gene")
        mapping = pd.Series(lookup["symbol"].to_numpy(), index=lookup["ensembl_gene"])
        query = keys.str.replace(_VERSION, "", regex=True)
    elif kind == "entrez":
        lookup = table[table["entrez_gene"] != ""].drop_duplicates("entrez_gene")
        mapping = pd.Series(lookup["symbol"].to_numpy(), index=lookup["entrez_gene"])
        query = keys
    else:
        symbols = pd.Index(table["symbol"].unique())
        mapping = pd.Series(symbols, index=symbols)
        query = keys
    symbols_found = pd.Series(mapping.reindex(query).fillna("").to_numpy(), index=keys)
    unmapped = [i for i, s in zip(keys, symbols_found, strict=True) if not s][:5]
    report = IdMapping(
        id_type=kind,
        genes=len(keys),
        mapped=int((symbols_found != "").sum()),
        species=species,
        examples_unmapped=tuple(unmapped),
    )
    return symbols_found, report


def check_mapping(report: IdMapping, ids: list[str], minimum: float, where: str) -> None:
    """Stop when fewer than ``minimum`` of the IDs map, naming what the IDs look like.

    Raises
    ------
    InputError
        With the ID type found, examples, the share mapped, and the fix (species, an
        annotation table or a GTF).
    """
    if report.share >= minimum:
        return
    guessed = guess_species(ids)
    hint = (
        f"; they look like {guessed} Ensembl IDs" if guessed and guessed != report.species else ""
    )
    raise InputError(
        f"{where}: only {report.describe()} (need at least {100 * minimum:.0f}%, "
        f"counting.min_id_mapping); found {report.id_type} IDs such as "
        f"{', '.join(map(str, ids[:3]))}{hint}. Set `species` to the matrix's species, or give "
        "counting.count_matrix_annotation (gene_id, gene_name) or annotation.gtf"
    )


def annotate_symbols(
    annotation: pd.DataFrame, table: pd.DataFrame, species: str
) -> tuple[pd.DataFrame, IdMapping]:
    """Set ``gene_name`` of a gene annotation (index gene_id) from the bundled ID table.

    Genes whose ID does not map keep their ID as gene_name. Returns a new table and the
    mapping summary (also logged).
    """
    symbols, report = map_to_symbols([str(i) for i in annotation.index], table, species)
    out = annotation.copy()
    mapped = symbols.to_numpy() != ""
    out.loc[mapped, "gene_name"] = symbols.to_numpy()[mapped]
    logger.info("gene identifiers: %s", report.describe())
    if report.examples_unmapped:
        logger.info(
            "gene identifiers without a symbol, e.g.: %s", ", ".join(report.examples_unmapped)
        )
    return out, report


def mapping_summary(annotation: pd.DataFrame, source: str, species: str) -> pd.DataFrame:
    """One-row table: genes, genes with a symbol (gene_name other than the ID), share, source.

    Written to results/counts/id_mapping.tsv and shown in the report.
    """
    ids = [str(i) for i in annotation.index]
    named = int((annotation["gene_name"].astype(str).to_numpy() != pd.Index(ids).to_numpy()).sum())
    return pd.DataFrame(
        [
            {
                "species": species,
                "id_type": id_type(ids),
                "genes": len(ids),
                "with_symbol": named,
                "share_with_symbol": round(named / len(ids), 4) if ids else 0.0,
                "symbols_from": source,
            }
        ]
    )
