"""Per-sample gene-set scores of a cohort.

Two methods give the same numbers (up to floating-point summation order):

- ``fast``: the vectorised exact ssGSEA of :mod:`redoxseq.enrichment.ssgsea` (one sort per
  sample, three sparse products for all sets; seconds for 60 sets x 20,000 genes x 2,000
  samples);
- ``gseapy``: gseapy's own ``ssgsea`` (one set and sample at a time), kept as the reference.

Scores are gseapy's ssGSEA enrichment scores (``score``, unnormalised) and the same divided by
the range of all scores of the collection (``nes``, gseapy's normalisation).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from redoxseq.errors import InputError

logger = logging.getLogger(__name__)

ScoreMethod = Literal["fast", "gseapy"]

#: Long score table, one row per collection x gene set x sample.
SCORE_COLUMNS: tuple[str, ...] = (
    "collection",
    "gene_set",
    "n_genes",
    "n_measured",
    "sample",
    "score",
    "nes",
)
#: Sets not scored, with the reason.
SKIPPED_COLUMNS: tuple[str, ...] = ("collection", "gene_set", "n_genes", "n_measured", "reason")


def _measured_sets(
    gene_sets: Mapping[str, Sequence[str]],
    genes: pd.Index,
    collection: str,
    min_size: int,
    max_size: int,
) -> tuple[dict[str, list[str]], list[tuple[str, str, int, int, str]], dict[str, int]]:
    present = set(genes)
    kept: dict[str, list[str]] = {}
    skipped: list[tuple[str, str, int, int, str]] = []
    sizes: dict[str, int] = {}
    for name, members in gene_sets.items():
        distinct = list(dict.fromkeys(str(g) for g in members))
        hits = [g for g in distinct if g in present]
        sizes[name] = len(distinct)
        if len(hits) < min_size:
            reason = f"fewer than min_size={min_size} measured"
        elif len(hits) > max_size:
            reason = f"more than max_size={max_size} measured"
        elif len(hits) >= len(genes):
            reason = "contains every measured gene"
        else:
            kept[name] = hits
            continue
        skipped.append((collection, name, len(distinct), len(hits), reason))
    return kept, skipped, sizes


def score_cohort(
    expression: pd.DataFrame,
    collections: Mapping[str, Mapping[str, Sequence[str]]],
    *,
    method: ScoreMethod = "fast",
    min_size: int = 5,
    max_size: int = 500,
    weight: float = 0.25,
    threads: int = 1,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SsGSEA score of every set of every collection in every sample.

    Parameters
    ----------
    expression
        genes x samples, index = unique gene symbols (the symbols of the gene sets), values
        VST (log2 scale). Genes are ranked within each sample.
    collections
        collection name -> {set name: genes}.
    method
        ``fast`` (vectorised, exact) or ``gseapy`` (reference).
    min_size, max_size
        A set is scored when this many of its genes are measured.
    weight
        ssGSEA rank-weight exponent (gseapy default 0.25).
    threads
        Threads (same numbers for any value).
    seed
        Passed to gseapy (unused by ssGSEA without permutations; kept explicit).

    Returns
    -------
    (scores, skipped)
        ``scores``: long table :data:`SCORE_COLUMNS`, ordered by collection, set (input
        order), sample (column order). ``skipped``: :data:`SKIPPED_COLUMNS`.
    """
    if not expression.index.is_unique:
        raise InputError("cohort scores: the expression matrix has duplicated gene symbols")
    if expression.isna().to_numpy().any():
        raise InputError("cohort scores: the expression matrix has missing values")
    genes = pd.Index(expression.index.astype(str))
    samples = [str(s) for s in expression.columns]
    frames: list[pd.DataFrame] = []
    skipped_rows: list[tuple[str, str, int, int, str]] = []
    for collection, gene_sets in collections.items():
        kept, skipped, sizes = _measured_sets(gene_sets, genes, collection, min_size, max_size)
        skipped_rows += skipped
        if not kept:
            logger.warning("cohort scores: no set of collection %s could be scored", collection)
            continue
        names = list(kept)
        if method == "fast":
            from redoxseq.enrichment.ssgsea import membership_matrix, normalise_es, ssgsea_es

            _, positions = membership_matrix(kept, list(genes))
            es = ssgsea_es(
                expression.to_numpy(dtype=float), positions, weight=weight, threads=threads
            )
            nes = normalise_es(es)
        elif method == "gseapy":
            from redoxseq.enrichment.gsea import ssgsea_scores

            table = ssgsea_scores(
                pd.DataFrame(expression.to_numpy(dtype=float), index=genes, columns=samples),
                {collection: kept},
                seed=seed,
                threads=threads,
                min_size=1,
                max_size=len(genes),
                weight=weight,
            )
            wide = table.pivot(index="gene_set", columns="sample", values="es")
            es = wide.loc[names, samples].to_numpy()
            wide_nes = table.pivot(index="gene_set", columns="sample", values="nes")
            nes = wide_nes.loc[names, samples].to_numpy()
        else:
            raise InputError(f"cohort.score_method: {method!r} is not 'fast' or 'gseapy'")
        n_sets, n_samples = es.shape
        frames.append(
            pd.DataFrame(
                {
                    "collection": collection,
                    "gene_set": np.repeat(names, n_samples),
                    "n_genes": np.repeat([sizes[n] for n in names], n_samples),
                    "n_measured": np.repeat([len(kept[n]) for n in names], n_samples),
                    "sample": np.tile(samples, n_sets),
                    "score": es.ravel(),
                    "nes": nes.ravel(),
                }
            )
        )
        logger.info(
            "cohort scores: %s, %d sets x %d samples (%s)", collection, n_sets, n_samples, method
        )
    scores = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=list(SCORE_COLUMNS))
    )
    return scores, pd.DataFrame(skipped_rows, columns=list(SKIPPED_COLUMNS))


def score_matrix(scores: pd.DataFrame, value: str = "score") -> pd.DataFrame:
    """Wide samples x gene sets table of a long score table (columns in first-seen order).

    A set name scored in two collections becomes ``collection:set`` in both.
    """
    pairs = scores[["collection", "gene_set"]].drop_duplicates()
    clash = set(pairs.loc[pairs["gene_set"].duplicated(), "gene_set"])
    if clash:
        scores = scores.assign(
            gene_set=[
                f"{c}:{g}" if g in clash else g
                for c, g in zip(scores["collection"], scores["gene_set"], strict=True)
            ]
        )
    wide = scores.pivot(index="sample", columns="gene_set", values=value)
    sets = list(dict.fromkeys(scores["gene_set"]))
    samples = list(dict.fromkeys(scores["sample"]))
    return wide.loc[samples, sets]


def symbol_expression(vst: pd.DataFrame, annotation: pd.DataFrame | None) -> pd.DataFrame:
    """VST re-indexed by gene symbol (genes x samples; one gene per symbol, highest mean).

    ``annotation`` is a ``gene_id``/``gene_name`` table (None: the index holds symbols).
    """
    from redoxseq.enrichment.genesets import id_to_symbol
    from redoxseq.enrichment.gsea import collapse_expression

    mapping = id_to_symbol(annotation) if annotation is not None else None
    return collapse_expression(vst, mapping)
