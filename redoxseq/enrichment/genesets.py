"""Gene-set library: GMT files, collection manifests, orthologs and gene-ID -> symbol mapping.

The bundled library lives in ``resources/genesets/<species>/<collection>.gmt`` with a
``<collection>.manifest.yaml`` next to each file (source, version, licence, citation, species,
identifier type, gene count and SHA-256 of the GMT). It is built offline from public sources by
``resources/genesets/build_genesets.py``; nothing is downloaded at run time.

Conventions
-----------
- A gene-set collection is a ``dict[str, list[str]]``: set name -> gene symbols, in file order,
  without duplicates. Insertion order is the file order.
- Symbols are case-sensitive. Mouse and human symbols are never converted into each other by a
  case change; only the committed ortholog table maps between species.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from redoxseq.errors import InputError
from redoxseq.io import atomic_open

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
Species = Literal["mouse", "human"]
GeneSets = dict[str, list[str]]

#: Root of the bundled gene-set library (repository checkout layout).
LIBRARY_DIR = Path(__file__).resolve().parents[2] / "resources" / "genesets"

#: Collections shipped for both species.
BUNDLED_COLLECTIONS: tuple[str, ...] = ("nrf2", "ferroptosis", "cell_death", "hallmark")

#: Licences accepted for shipped collections (manifest ``licence`` field of every source).
ALLOWED_LICENCES: frozenset[str] = frozenset({"CC0-1.0", "CC-BY-4.0", "MIT"})

_ENSEMBL_VERSION = re.compile(r"^(ENS[A-Z]*G\d{11})\.\d+$")


# --------------------------------------------------------------------------------------
# GMT I/O
# --------------------------------------------------------------------------------------
def read_gmt(path: PathLike) -> GeneSets:
    """Read a GMT file into ``{set name: [genes]}``.

    Each non-blank line is ``name<TAB>description<TAB>gene1<TAB>gene2...``. Genes are
    stripped of surrounding white space; empty fields are skipped; a gene repeated within a
    set is kept once (first occurrence). Lines starting with ``#`` are comments.

    Parameters
    ----------
    path
        GMT file (plain text, UTF-8).

    Returns
    -------
    dict
        Set name -> list of gene identifiers, in file order.

    Raises
    ------
    InputError
        If the file is missing or empty, a line has fewer than three fields or no gene, a set
        name is empty or repeated. The message names the file and line number.
    """
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{file}: gene-set file not found")
    gene_sets: GeneSets = {}
    with open(file, encoding="utf-8") as handle:
        for lineno, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            name = fields[0].strip()
            if len(fields) < 3:
                raise InputError(
                    f"{file}, line {lineno}: malformed GMT line with {len(fields)} tab-separated "
                    f"field(s) ({_preview(line)!r}); expected "
                    "'name<TAB>description<TAB>gene1<TAB>gene2...'"
                )
            if not name:
                raise InputError(f"{file}, line {lineno}: the gene-set name (first field) is empty")
            genes = list(dict.fromkeys(g.strip() for g in fields[2:] if g.strip()))
            if not genes:
                raise InputError(
                    f"{file}, line {lineno}: gene set {name!r} lists no genes; "
                    "remove the line or add genes after the description field"
                )
            if name in gene_sets:
                raise InputError(
                    f"{file}, line {lineno}: gene set {name!r} appears twice; set names must be "
                    "unique within a file"
                )
            gene_sets[name] = genes
    if not gene_sets:
        raise InputError(f"{file}: no gene sets found (empty file?)")
    return gene_sets


def _preview(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def write_gmt(
    gene_sets: Mapping[str, Iterable[str]],
    path: PathLike,
    descriptions: Mapping[str, str] | None = None,
) -> None:
    """Write gene sets as GMT, atomically, in the mapping's order (LF line endings)."""
    descriptions = descriptions or {}
    with atomic_open(path) as handle:
        for name, genes in gene_sets.items():
            desc = descriptions.get(name, "")
            handle.write("\t".join([name, desc, *genes]) + "\n")


def sha256sum(path: PathLike) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------
# Bundled library and manifests
# --------------------------------------------------------------------------------------
def bundled_gmt_path(
    collection: str, species: Species, library_dir: PathLike | None = None
) -> Path:
    """Path of a bundled collection's GMT file; raises ``InputError`` if it does not exist."""
    root = Path(library_dir) if library_dir is not None else LIBRARY_DIR
    path = root / species / f"{collection}.gmt"
    if not path.is_file():
        available = sorted(p.stem for p in (root / species).glob("*.gmt"))
        raise InputError(
            f"{path}: no bundled gene-set collection {collection!r} for species {species!r}; "
            f"available: {', '.join(available) or 'none'}"
        )
    return path


def manifest_path(gmt_path: PathLike) -> Path:
    """``x/nrf2.gmt`` -> ``x/nrf2.manifest.yaml``."""
    gmt = Path(gmt_path)
    return gmt.with_name(gmt.name.removesuffix(".gmt") + ".manifest.yaml")


def read_manifest(path: PathLike) -> dict[str, Any]:
    """Read a collection manifest (YAML mapping)."""
    import yaml

    file = Path(path)
    if not file.is_file():
        raise InputError(f"{file}: manifest not found")
    with open(file, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise InputError(f"{file}: a manifest must be a YAML mapping")
    return data


def load_bundled(
    collection: str, species: Species, library_dir: PathLike | None = None
) -> GeneSets:
    """Read one bundled collection (``nrf2``, ``ferroptosis``, ``cell_death``, ``hallmark``)."""
    return read_gmt(bundled_gmt_path(collection, species, library_dir))


# --------------------------------------------------------------------------------------
# Orthologs
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrthologMapping:
    """Result of mapping gene sets between species.

    Attributes
    ----------
    gene_sets
        Mapped sets (target-species symbols, order of the source set, duplicates removed).
    unmapped
        Table with one row per (gene set, source gene) without a one-to-one ortholog:
        columns ``gene_set``, ``gene``, ``reason``.
    """

    gene_sets: GeneSets
    unmapped: pd.DataFrame = field(repr=False)


def read_ortholog_table(path: PathLike | None = None) -> pd.DataFrame:
    """Read the committed human-mouse one-to-one ortholog table.

    Returns
    -------
    DataFrame
        One row per one-to-one pair; columns include ``human_symbol``, ``mouse_symbol``,
        ``human_ensembl``, ``mouse_ensembl``, ``evidence``.
    """
    file = (
        Path(path) if path is not None else LIBRARY_DIR / "orthologs" / "human_mouse_one2one.tsv.gz"
    )
    if not file.is_file():
        raise InputError(f"{file}: ortholog table not found")
    table = pd.read_csv(file, sep="\t", dtype=str, keep_default_na=False)
    missing = {"human_symbol", "mouse_symbol"} - set(table.columns)
    if missing:
        raise InputError(f"{file}: ortholog table lacks column(s) {sorted(missing)}")
    return table


def map_orthologs(
    gene_sets: Mapping[str, list[str]],
    orthologs: pd.DataFrame,
    *,
    source: Species,
    target: Species,
    known_no_one2one: Mapping[str, str] | None = None,
) -> OrthologMapping:
    """Map gene sets from ``source`` to ``target`` species through one-to-one orthologs.

    Genes without a one-to-one ortholog in ``orthologs`` are left out and listed in
    :attr:`OrthologMapping.unmapped`; a case change is never used as a mapping.

    Parameters
    ----------
    gene_sets
        Source-species sets.
    orthologs
        Table from :func:`read_ortholog_table` (columns ``human_symbol``, ``mouse_symbol``).
    source, target
        ``"human"`` or ``"mouse"``.
    known_no_one2one
        Optional gene -> reason for genes known to have no one-to-one ortholog (for example
        one-to-many families); used for the ``reason`` column.
    """
    if source == target:
        raise ValueError("source and target species are the same")
    src_col, tgt_col = f"{source}_symbol", f"{target}_symbol"
    lookup = dict(zip(orthologs[src_col], orthologs[tgt_col], strict=True))
    notes = dict(known_no_one2one or {})
    mapped: GeneSets = {}
    rows: list[tuple[str, str, str]] = []
    for name, genes in gene_sets.items():
        out: list[str] = []
        for gene in genes:
            hit = lookup.get(gene)
            if hit:
                out.append(hit)
            else:
                rows.append((name, gene, notes.get(gene, "no one-to-one ortholog in the table")))
        mapped[name] = list(dict.fromkeys(out))
    unmapped = pd.DataFrame(rows, columns=["gene_set", "gene", "reason"])
    return OrthologMapping(gene_sets=mapped, unmapped=unmapped)


# --------------------------------------------------------------------------------------
# Gene IDs -> symbols, and overlap checks
# --------------------------------------------------------------------------------------
def strip_ensembl_version(gene_id: str) -> str:
    """``ENSMUSG00000015839.7`` -> ``ENSMUSG00000015839``; other IDs are returned unchanged."""
    match = _ENSEMBL_VERSION.match(gene_id)
    return match.group(1) if match else gene_id


def id_to_symbol(annotation: pd.DataFrame) -> dict[str, str]:
    """Map gene IDs (with and without Ensembl version suffix) to gene symbols.

    Parameters
    ----------
    annotation
        Table with columns ``gene_id`` and ``gene_name`` (``results/counts/genes.annotation.tsv``
        or a user annotation table). Rows with an empty ``gene_name`` are skipped.

    Returns
    -------
    dict
        gene_id -> symbol; each versioned Ensembl ID is also reachable without its version.
    """
    missing = {"gene_id", "gene_name"} - set(annotation.columns)
    if missing:
        raise InputError(
            f"annotation table lacks column(s) {sorted(missing)}; expected gene_id and gene_name"
        )
    mapping: dict[str, str] = {}
    for gene_id, name in zip(annotation["gene_id"], annotation["gene_name"], strict=True):
        if not isinstance(name, str) or not name.strip() or not isinstance(gene_id, str):
            continue
        mapping[gene_id] = name.strip()
        mapping.setdefault(strip_ensembl_version(gene_id), name.strip())
    return mapping


def check_overlap(
    gene_sets: Mapping[str, list[str]],
    measured: Iterable[str],
    *,
    label: str,
    min_fraction: float = 0.05,
) -> float:
    """Stop when a collection shares almost no genes with the data.

    The fraction is (distinct collection genes found among the measured genes) / (distinct
    collection genes). Below ``min_fraction`` the error shows examples of both sides, which
    usually reveals a wrong species (``GPX4`` vs ``Gpx4``) or ID type (``ENSMUSG...`` vs
    symbols).

    Returns
    -------
    float
        The overlap fraction.
    """
    universe = set(measured)
    set_genes = sorted({g for genes in gene_sets.values() for g in genes})
    if not set_genes:
        raise InputError(f"{label}: the collection holds no genes")
    found = [g for g in set_genes if g in universe]
    fraction = len(found) / len(set_genes)
    if fraction < min_fraction:
        examples_sets = ", ".join(set_genes[:5])
        examples_data = ", ".join(sorted(universe)[:5])
        raise InputError(
            f"{label}: only {len(found)} of {len(set_genes)} gene-set genes "
            f"({fraction:.1%}) are among the {len(universe)} measured genes. "
            f"Gene sets use e.g. [{examples_sets}]; the data uses e.g. [{examples_data}]. "
            "This usually means a wrong species (mouse symbols look like 'Gpx4', human like "
            "'GPX4') or identifier type (Ensembl IDs vs symbols). Use gene sets for the "
            "configured species and symbols, or map IDs to symbols first."
        )
    return fraction


def genes_in_sets(gmt_paths: Sequence[PathLike], names: Sequence[str]) -> set[str]:
    """Union of the genes of the named sets, looked up across several GMT files.

    Raises
    ------
    InputError
        If a name is in none of the files (the message lists a few that are).
    """
    gene_sets: GeneSets = {}
    for path in gmt_paths:
        gene_sets.update(read_gmt(path))
    missing = [name for name in names if name not in gene_sets]
    if missing:
        raise InputError(
            f"gene set(s) {missing} not found in {[str(p) for p in gmt_paths]}; "
            f"available e.g. {sorted(gene_sets)[:5]}"
        )
    return {gene for name in names for gene in gene_sets[name]}


def symbol_coverage(
    collections: Mapping[str, Mapping[str, list[str]]],
    annotation: pd.DataFrame,
    *,
    min_fraction: float,
    source: str,
) -> pd.DataFrame:
    """How many of each collection's genes the data's gene symbols cover; stop if too few.

    Run on the gene annotation before any model is fitted, so that a wrong species or
    identifier type stops the workflow early instead of every enrichment job after the fit.

    Parameters
    ----------
    collections
        Collection name -> gene sets (set name -> symbols).
    annotation
        Genes x columns with ``gene_id`` and ``gene_name`` columns (the counting stage's
        ``genes.annotation.tsv`` or a count matrix's annotation).
    min_fraction
        Smallest accepted share of a collection's distinct genes among the data's symbols
        (``gsea.min_overlap``).
    source
        Where the symbols come from, for messages.

    Returns
    -------
    pandas.DataFrame
        One row per collection: collection, genes (distinct genes of its sets), found, fraction.

    Raises
    ------
    InputError
        For the first collection below ``min_fraction``, with examples of both sides.
    """
    symbols = set(id_to_symbol(annotation).values())
    rows = []
    for name, gene_sets in collections.items():
        fraction = check_overlap(
            {k: list(v) for k, v in gene_sets.items()},
            symbols,
            label=f"{source}: gene symbols vs collection {name!r}",
            min_fraction=min_fraction,
        )
        genes = {g for genes in gene_sets.values() for g in genes}
        rows.append((name, len(genes), len(genes & symbols), round(fraction, 6)))
        logger.info("collection %s: %.1f%% of its genes are measured", name, 100 * fraction)
    return pd.DataFrame(rows, columns=["collection", "genes", "found", "fraction"])


def drop_duplicate_sets(
    collections: Mapping[str, Mapping[str, Sequence[str]]],
) -> tuple[dict[str, GeneSets], list[tuple[str, str, str, str]]]:
    """Keep one copy of each gene set that appears in several places.

    Rule: collections are read in the given (configured) order and each collection's sets in
    file order; a set whose genes (as a set) equal those of a set already kept is dropped
    from the later place. So a set is counted once when collections are analysed together
    (e.g. WikiPathways WP4313 is both ``WP_FERROPTOSIS`` in ``ferroptosis`` and
    ``CELL_DEATH_FERROPTOSIS`` in ``cell_death``; ``HALLMARK_REACTIVE_OXYGEN_SPECIES_PATHWAY``
    is in ``nrf2`` and ``hallmark``).

    Returns
    -------
    (dict, list)
        The collections without the later copies, and one ``(collection, gene_set,
        kept_collection, kept_gene_set)`` per dropped set.
    """
    seen: dict[frozenset[str], tuple[str, str]] = {}
    kept: dict[str, GeneSets] = {}
    dropped: list[tuple[str, str, str, str]] = []
    for collection, sets in collections.items():
        kept[collection] = {}
        for name, genes in sets.items():
            key = frozenset(genes)
            if key in seen:
                dropped.append((collection, name, *seen[key]))
                logger.info(
                    "gene set %s/%s has the same genes as %s/%s; counted once (kept the first)",
                    collection, name, *seen[key],
                )  # fmt: skip
                continue
            seen[key] = (collection, name)
            kept[collection][name] = list(genes)
    return kept, dropped
