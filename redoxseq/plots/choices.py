"""What the figures emphasise: genes and gene sets of interest, resolved from the config.

Resolved once, when the workflow is parsed, so that a wrong name stops ``snakemake -n`` with
the config key and the accepted values, and each plotting job receives plain symbol lists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from redoxseq.errors import ConfigError

SET_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class PlotChoices:
    """Genes and gene sets the figures emphasise.

    Attributes
    ----------
    genes_of_interest
        symbols of the analysed species, in config order (gene sets expanded in place).
    highlight
        symbols of ``plots.highlight_gene_sets`` (ringed on volcano plots).
    highlight_label
        the highlighted sets' names, for the legend.
    gene_sets
        gene sets of interest (running-sum plots, overview), in config order.
    gene_set_collections
        gene set -> collection holding it (first in collection order).
    notes
        what was mapped or dropped, in words, for the log.
    """

    genes_of_interest: list[str]
    highlight: list[str]
    highlight_label: str
    gene_sets: list[str]
    gene_set_collections: dict[str, str]
    notes: list[str] = field(default_factory=list)


def _collections(gmts: Mapping[str, str]) -> dict[str, dict[str, list[str]]]:
    from redoxseq.enrichment.genesets import read_gmt

    return {name: dict(read_gmt(path)) for name, path in gmts.items()}


def _find(name: str, collections: Mapping[str, Mapping[str, list[str]]]) -> str | None:
    for collection, sets in collections.items():
        if name in sets:
            return collection
    return None


def resolve_plot_choices(
    plots: Mapping[str, Any], species: str, gmts: Mapping[str, str]
) -> PlotChoices:
    """Resolve ``plots.genes_of_interest``, ``gene_sets_of_interest``, ``highlight_gene_sets``.

    Parameters
    ----------
    plots
        the validated ``plots`` config section.
    species
        the analysed species (``mouse`` or ``human``).
    gmts
        collection name -> GMT path (the collections GSEA runs).

    Raises
    ------
    ConfigError
        A gene set of interest (or highlighted set) is in no collection, or its name is not
        letters, digits and underscores (it becomes part of a file name).
    """
    collections = _collections(gmts)
    notes: list[str] = []
    known = sorted({name for sets in collections.values() for name in sets})
    gene_sets: list[str] = []
    owners: dict[str, str] = {}
    for key in ("gene_sets_of_interest", "highlight_gene_sets"):
        for name in plots.get(key, []):
            owner = _find(name, collections)
            if owner is None:
                raise ConfigError(
                    f"config plots.{key}: gene set {name!r} is in none of the collections "
                    f"{sorted(collections)}; e.g. {known[:6]}"
                )
            if key == "gene_sets_of_interest":
                if not SET_NAME.match(name):
                    raise ConfigError(
                        f"config plots.gene_sets_of_interest: {name!r} must be letters, digits "
                        "and underscores (it names the running-sum figure files)"
                    )
                gene_sets.append(name)
                owners[name] = owner
    source = str(plots.get("genes_of_interest_species") or species)
    mapping: dict[str, str] | None = None
    if source != species:
        from redoxseq.enrichment.genesets import read_ortholog_table

        table = read_ortholog_table()
        mapping = dict(zip(table[f"{source}_symbol"], table[f"{species}_symbol"], strict=True))
    genes: list[str] = []
    unmapped: list[str] = []
    for item in plots.get("genes_of_interest", []):
        owner = _find(item, collections)
        if owner is not None:
            genes.extend(collections[owner][item])
            notes.append(
                f"gene of interest {item!r}: the {len(collections[owner][item])} genes "
                f"of that set ({owner})"
            )
        elif mapping is not None:
            if mapping.get(item):
                genes.append(mapping[item])
                if mapping[item] != item:
                    notes.append(f"gene of interest {item} ({source}) -> {mapping[item]}")
            else:
                unmapped.append(item)
        else:
            genes.append(item)
    if unmapped:
        notes.append(
            f"genes of interest without a one-to-one {source}-{species} ortholog (not shown): "
            + ", ".join(unmapped)
        )
    highlight_sets = list(plots.get("highlight_gene_sets", []))
    highlight = sorted(
        {g for name in highlight_sets for g in collections[str(_find(name, collections))][name]}
    )
    return PlotChoices(
        genes_of_interest=list(dict.fromkeys(genes)),
        highlight=highlight,
        highlight_label=", ".join(highlight_sets),
        gene_sets=list(dict.fromkeys(gene_sets)),
        gene_set_collections=owners,
        notes=notes,
    )
