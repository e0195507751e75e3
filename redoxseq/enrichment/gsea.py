"""Gene-set enrichment: GSEA prerank, per-sample ssGSEA scores, over-representation, summaries.

All computations run gseapy offline on gene sets that :mod:`redoxseq.enrichment.genesets`
parsed (a dict, never a library name gseapy could download) with an explicit seed and thread count.

Determinism
-----------
- The ranking is sorted here, not by gseapy: metric descending, ties broken by gene symbol
  ascending (Python string order). The number of tied genes is logged. gseapy receives the
  sorted list with ``ascending=None`` so it keeps this order.
- Gene symbols are replaced by position codes (``G0000001`` ...) before they reach gseapy and
  decoded afterwards, so gseapy's case heuristics (it upper-cases mixed-case rankings when the
  sets look upper-case) can never map mouse genes to human sets by a case change.
- Gene sets are intersected with the ranking and ordered by rank before the call.
- With a fixed ``seed``, gseapy's fgsea port (multilevel) and ssGSEA gave byte-identical
  tables across runs, processes with different ``PYTHONHASHSEED`` and 1 vs 2 threads; nothing
  is rounded (tested in ``tests/unit/test_enrichment.py``).
- Output tables are sorted by a total order (p-value, then |NES| descending, then set name).

gseapy is imported inside the functions, so importing this module stays light.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from redoxseq.errors import InputError, listing

logger = logging.getLogger(__name__)

RankMetric = Literal["stat", "log2FoldChange_shrunk", "signed_log10_pvalue"]

#: Columns of a prerank result table, in order.
PRERANK_COLUMNS: tuple[str, ...] = (
    "gene_set",
    "set_size",
    "n_measured",
    "es",
    "nes",
    "pvalue",
    "fdr",
    "log2err",
    "leading_edge_size",
    "leading_edge",
)

#: Columns of the skipped-sets table (sets not tested, with the reason).
SKIPPED_COLUMNS: tuple[str, ...] = ("gene_set", "set_size", "n_measured", "reason")


@dataclass(frozen=True)
class PrerankOutcome:
    """Prerank results and the sets that were not tested.

    Attributes
    ----------
    results
        One row per tested gene set, columns :data:`PRERANK_COLUMNS`.
    skipped
        One row per set left out (too few / too many measured genes), columns
        :data:`SKIPPED_COLUMNS`.
    n_tied
        Number of genes whose ranking value equals another gene's value.
    """

    results: pd.DataFrame
    skipped: pd.DataFrame
    n_tied: int


# --------------------------------------------------------------------------------------
# Ranking
# --------------------------------------------------------------------------------------
def sort_ranking(ranking: pd.Series) -> tuple[pd.Series, int]:
    """Sort a ranking by value (descending), ties by gene name (ascending).

    Parameters
    ----------
    ranking
        Index: unique gene symbols; values: finite ranking metric (NaN entries are dropped and
        counted in the log).

    Returns
    -------
    (Series, int)
        The sorted ranking and the number of tied genes (genes sharing their value with at
        least one other gene).
    """
    if not ranking.index.is_unique:
        dups = ranking.index[ranking.index.duplicated()].unique()
        raise InputError(
            f"the ranking has {len(dups)} duplicated gene name(s) ({listing(dups, limit=5)}); "
            "collapse them first "
            "(see redoxseq.enrichment.gsea.ranking_from_results)"
        )
    values = pd.to_numeric(ranking, errors="coerce").astype(float)
    n_na = int(values.isna().sum())
    if n_na:
        logger.info("ranking: %d gene(s) without a value were left out", n_na)
        values = values.dropna()
    if not np.isfinite(values.to_numpy()).all():
        bad = values.index[~np.isfinite(values.to_numpy())]
        raise InputError(
            f"the ranking has {len(bad)} infinite value(s), for {listing(bad, limit=5)}; "
            "rank by a finite statistic"
        )
    names = np.asarray(values.index.astype(str), dtype=object)
    order = np.lexsort((names, -values.to_numpy()))
    ordered = pd.Series(values.to_numpy()[order], index=pd.Index(names[order], name="gene"))
    n_tied = int(ordered.duplicated(keep=False).sum())
    return ordered, n_tied


def ranking_from_results(
    results: pd.DataFrame,
    metric: RankMetric = "stat",
    *,
    symbol_column: str = "gene_name",
    id_column: str = "gene_id",
) -> pd.Series:
    """Build a per-gene ranking from a DESeq2 results table.

    Parameters
    ----------
    results
        ``results/deseq2/{contrast}.results.tsv``: one row per gene with ``gene_id``,
        ``gene_name``, ``stat``, ``pvalue``, ``log2FoldChange``, ``log2FoldChange_shrunk``.
    metric
        ``stat`` (Wald statistic, default), ``log2FoldChange_shrunk`` or
        ``signed_log10_pvalue`` = sign(log2FoldChange) * -log10(pvalue); a p-value of exactly
        0 is replaced by the smallest positive double (2.2e-308) before the logarithm.

    Returns
    -------
    Series
        Index: gene symbols (unique); values: the metric. Genes without a symbol or a metric
        value are dropped. Duplicate symbols are collapsed by keeping the gene with the largest
        absolute metric, ties broken by the smaller ``gene_id`` (string order); the number of
        collapsed genes is logged.
    """
    needed = {symbol_column, id_column}
    if metric == "signed_log10_pvalue":
        needed |= {"pvalue", "log2FoldChange"}
    else:
        needed.add(metric)
    missing = needed - set(results.columns)
    if missing:
        raise InputError(
            f"DE results lack column(s) {sorted(missing)} needed for ranking metric {metric!r}"
        )
    if metric == "signed_log10_pvalue":
        p = pd.to_numeric(results["pvalue"], errors="coerce").astype(float)
        p = p.where(p > 0, np.finfo(float).tiny)
        lfc = pd.to_numeric(results["log2FoldChange"], errors="coerce").astype(float)
        value = pd.Series(np.sign(lfc) * -np.log10(p), index=results.index)
    else:
        value = pd.to_numeric(results[metric], errors="coerce").astype(float)
    table = pd.DataFrame(
        {
            "gene_id": results[id_column].astype(str).to_numpy(),
            "symbol": results[symbol_column].to_numpy(),
            "value": value.to_numpy(),
        }
    )
    table = table[table["symbol"].notna() & (table["symbol"].astype(str).str.strip() != "")]
    table = table[np.isfinite(table["value"].to_numpy())]
    table = table.assign(symbol=table["symbol"].astype(str).str.strip(), abs=table["value"].abs())
    table = table.sort_values(["symbol", "abs", "gene_id"], ascending=[True, False, True])
    n_before = len(table)
    table = table.drop_duplicates("symbol", keep="first")
    if n_before > len(table):
        logger.info(
            "ranking: %d gene(s) shared a symbol with another gene; kept the one with the "
            "largest |%s| per symbol",
            n_before - len(table),
            metric,
        )
    return pd.Series(table["value"].to_numpy(), index=pd.Index(table["symbol"], name="gene"))


# --------------------------------------------------------------------------------------
# GSEA prerank
# --------------------------------------------------------------------------------------
def _prepare_sets(
    gene_sets: Mapping[str, Sequence[str]],
    position: Mapping[str, int],
    min_size: int,
    max_size: int,
) -> tuple[dict[str, list[int]], pd.DataFrame, dict[str, tuple[int, int]]]:
    """Intersect sets with the ranking; split into tested (positions) and skipped."""
    tested: dict[str, list[int]] = {}
    sizes: dict[str, tuple[int, int]] = {}
    skipped_rows: list[tuple[str, int, int, str]] = []
    n_genes = len(position)
    for name, genes in gene_sets.items():
        distinct = list(dict.fromkeys(genes))
        hits = sorted({position[g] for g in distinct if g in position})
        sizes[name] = (len(distinct), len(hits))
        if len(hits) < min_size:
            reason = "no measured genes" if not hits else f"fewer than min_size={min_size} measured"
            skipped_rows.append((name, len(distinct), len(hits), reason))
        elif len(hits) > max_size:
            skipped_rows.append(
                (name, len(distinct), len(hits), f"more than max_size={max_size} measured")
            )
        elif len(hits) >= n_genes:
            skipped_rows.append((name, len(distinct), len(hits), "contains every ranked gene"))
        else:
            tested[name] = hits
    skipped = pd.DataFrame(skipped_rows, columns=list(SKIPPED_COLUMNS))
    return tested, skipped, sizes


def _code(i: int) -> str:
    return f"G{i:07d}"


def prerank(
    ranking: pd.Series,
    gene_sets: Mapping[str, Sequence[str]],
    *,
    seed: int,
    threads: int = 1,
    min_size: int = 15,
    max_size: int = 500,
    permutations: int = 1000,
    sample_size: int = 101,
    eps: float = 1e-10,
    weight: float = 1.0,
) -> PrerankOutcome:
    """GSEA prerank (gseapy, ``method="multilevel"``: fgsea's adaptive multilevel p-values).

    Parameters
    ----------
    ranking
        Index: unique gene symbols; values: ranking metric (larger = more up in the contrast's
        numerator). Any order; sorted here (see module docstring for the tie rule).
    gene_sets
        Set name -> gene symbols, same species and identifier type as ``ranking``.
    seed
        Random seed (explicit; from config).
    threads
        Worker threads for gseapy.
    min_size, max_size
        Allowed number of set genes among the ranked genes; other sets are skipped and listed
        in :attr:`PrerankOutcome.skipped`.
    permutations
        Permutations per set used by the multilevel method to normalise ES into NES.
    sample_size, eps
        fgsea multilevel parameters: sample size per level (gseapy default 101); p-values below
        ``eps`` are reported as ``eps`` (a bound, with ``log2err`` NaN). gseapy's default
        1e-50 costs ~10 s per extremely enriched set; 1e-10 is ample for FDR decisions and
        keeps a collection at about a second.
    weight
        GSEA weight exponent p (1 = classic weighted GSEA).

    Returns
    -------
    PrerankOutcome
        ``results``: one row per tested set, columns :data:`PRERANK_COLUMNS`; ``pvalue`` is the
        multilevel nominal p-value, ``fdr`` the Benjamini-Hochberg adjusted p-value over the
        tested sets of this call; ``leading_edge`` lists the leading-edge genes (``;``-joined)
        in ranking order. Rows sorted by p-value, then |NES| descending, then set name.
    """
    import gseapy

    ordered, n_tied = sort_ranking(ranking)
    if len(ordered) < 2:
        raise InputError("the ranking holds fewer than two genes; nothing to test")
    if n_tied:
        logger.warning(
            "ranking: %d of %d genes share their value with another gene; ties are broken by "
            "gene symbol (ascending)",
            n_tied,
            len(ordered),
        )
    symbols = ordered.index.to_list()
    position = {g: i for i, g in enumerate(symbols)}
    tested, skipped, sizes = _prepare_sets(gene_sets, position, min_size, max_size)
    logger.info(
        "prerank: %d ranked genes, %d tied; %d of %d gene sets tested (measured genes %d-%d)",
        len(ordered),
        n_tied,
        len(tested),
        len(tested) + len(skipped),
        min_size,
        max_size,
    )
    for row in skipped.itertuples(index=False):
        logger.info("gene set %s not tested: %s", row.gene_set, row.reason)
    if not tested:
        logger.warning("no gene set passed the size limits [%d, %d]", min_size, max_size)
        return PrerankOutcome(_empty_results(), skipped, n_tied)

    coded_rank = pd.Series(ordered.to_numpy(), index=[_code(i) for i in range(len(symbols))])
    coded_sets = {name: [_code(i) for i in hits] for name, hits in tested.items()}
    pre = gseapy.prerank(
        rnk=coded_rank,
        gene_sets=coded_sets,
        method="multilevel",
        outdir=None,
        min_size=1,
        max_size=len(symbols),
        permutation_num=permutations,
        sample_size=sample_size,
        eps=eps,
        weight=weight,
        ascending=None,
        threads=threads,
        seed=seed,
        no_plot=True,
        verbose=False,
    )
    raw = pre.res2d.rename(columns={"NOM p-val": "pval", "FDR q-val": "fdr"})
    rows = []
    for rec in raw.itertuples(index=False):
        name = str(rec.Term)
        lead_codes = [c for c in str(rec.Lead_genes).split(";") if c]
        lead = [symbols[int(c[1:])] for c in lead_codes]
        set_size, n_measured = sizes[name]
        rows.append(
            {
                "gene_set": name,
                "set_size": set_size,
                "n_measured": n_measured,
                "es": float(rec.ES),
                "nes": float(rec.NES),
                "pvalue": float(rec.pval),
                "fdr": float(rec.fdr),
                "log2err": float(rec.log2err),
                "leading_edge_size": len(lead),
                "leading_edge": ";".join(lead),
            }
        )
    results = pd.DataFrame(rows, columns=list(PRERANK_COLUMNS))
    results = _sort_results(results)
    return PrerankOutcome(results, skipped, n_tied)


def _empty_results() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in PRERANK_COLUMNS})


def _sort_results(results: pd.DataFrame) -> pd.DataFrame:
    key = results.assign(_absnes=-results["nes"].abs())
    order = key.sort_values(["pvalue", "_absnes", "gene_set"], kind="mergesort").index
    return results.loc[order].reset_index(drop=True)


def run_prerank(
    ranking: pd.Series,
    gene_sets: dict[str, list[str]],
    *,
    seed: int,
    threads: int = 1,
    min_size: int = 15,
    max_size: int = 500,
    permutations: int = 1000,
    eps: float = 1e-10,
) -> pd.DataFrame:
    """GSEA prerank; returns only the results table (see :func:`prerank`)."""
    return prerank(
        ranking,
        gene_sets,
        seed=seed,
        threads=threads,
        min_size=min_size,
        max_size=max_size,
        permutations=permutations,
        eps=eps,
    ).results


# --------------------------------------------------------------------------------------
# Symbols for DE results and expression matrices
# --------------------------------------------------------------------------------------
def attach_symbols(
    results: pd.DataFrame, id_to_name: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Fill the ``gene_name`` column of a per-gene table from an ID -> symbol mapping.

    Rule: a non-empty ``gene_name`` already in ``results`` wins; otherwise the symbol of
    ``gene_id`` in ``id_to_name`` (Ensembl version suffixes ignored, see
    :func:`redoxseq.enrichment.genesets.id_to_symbol`); otherwise, when no mapping is given, the
    ``gene_id`` itself (count matrices indexed by symbols). Genes left without a symbol keep an
    empty name and are not ranked.

    Parameters
    ----------
    results
        One row per gene with a ``gene_id`` column (and optionally ``gene_name``).
    id_to_name
        gene_id -> symbol, or None.
    """
    from redoxseq.enrichment.genesets import strip_ensembl_version

    if "gene_id" not in results.columns:
        raise InputError("the table has no gene_id column")
    out = results.copy()
    ids = out["gene_id"].astype(str)
    have = (
        out["gene_name"].astype("string").str.strip().fillna("")
        if "gene_name" in out.columns
        else pd.Series("", index=out.index, dtype="string")
    )
    if id_to_name is not None:
        lookup = [id_to_name.get(i) or id_to_name.get(strip_ensembl_version(i)) or "" for i in ids]
        fill = pd.Series(lookup, index=out.index, dtype="string")
    else:
        fill = ids.astype("string")
    out["gene_name"] = have.where(have != "", fill).astype(object)
    return out


def collapse_expression(
    expression: pd.DataFrame, id_to_name: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Re-index an expression matrix (genes x samples) by gene symbol.

    Genes without a symbol are dropped. When several genes share a symbol, the one with the
    highest mean expression across samples is kept (ties: smaller gene ID).

    Parameters
    ----------
    expression
        genes x samples (index: gene IDs; values: VST or normalised counts).
    id_to_name
        gene_id -> symbol; None when the index already holds symbols.
    """
    table = attach_symbols(pd.DataFrame({"gene_id": expression.index.astype(str)}), id_to_name)
    names = table["gene_name"].to_numpy()
    frame = expression.copy()
    frame.index = pd.Index(expression.index.astype(str), name="gene_id")
    order = pd.DataFrame(
        {"gene_id": frame.index, "symbol": names, "mean": frame.mean(axis=1).to_numpy()}
    )
    order = order[order["symbol"].astype(str) != ""]
    order = order.sort_values(["symbol", "mean", "gene_id"], ascending=[True, False, True])
    n_dup = int(order["symbol"].duplicated().sum())
    if n_dup:
        logger.info(
            "expression: %d gene(s) shared a symbol; kept the highest mean per symbol", n_dup
        )
    order = order.drop_duplicates("symbol", keep="first")
    out = frame.loc[order["gene_id"].to_numpy()]
    out.index = pd.Index(order["symbol"].to_numpy(), name="gene")
    return out


# --------------------------------------------------------------------------------------
# Per-contrast GSEA entry point
# --------------------------------------------------------------------------------------
def gsea_contrast(
    results: pd.DataFrame,
    gene_sets: Mapping[str, Sequence[str]],
    *,
    seed: int,
    metric: RankMetric = "stat",
    threads: int = 1,
    min_size: int = 5,
    max_size: int = 500,
    permutations: int = 1000,
    eps: float = 1e-10,
    min_overlap: float = 0.05,
    annotation: pd.DataFrame | None = None,
    label: str = "gene sets",
) -> PrerankOutcome:
    """Rank one contrast's DE results and run GSEA prerank on one collection.

    Parameters
    ----------
    results
        DESeq2 results (one row per gene; see :func:`ranking_from_results`).
    gene_sets
        The collection (set name -> symbols).
    annotation
        Optional ``gene_id``/``gene_name`` table used where ``results`` lacks a symbol
        (see :func:`attach_symbols`).
    label
        Name of the collection's file, used in error messages.

    Raises
    ------
    InputError
        When fewer than ``min_overlap`` of the collection's genes are measured (wrong species
        or identifier type).
    """
    from redoxseq.enrichment.genesets import check_overlap

    if is_lrt(results):
        reason = (
            "not ranked: a likelihood-ratio test (test = LRT) says that a gene changes, not in "
            "which direction; read the ORA of its changed genes and the per-sample ssGSEA scores"
        )
        logger.warning("%s: GSEA prerank skipped: %s", label, reason)
        skipped = pd.DataFrame(
            [(name, len(set(genes)), 0, reason) for name, genes in gene_sets.items()],
            columns=list(SKIPPED_COLUMNS),
        )
        return PrerankOutcome(results=_empty_results(), skipped=skipped, n_tied=0)
    results = _with_symbols(results, annotation)
    ranking = ranking_from_results(results, metric)
    logger.info("%s: ranking metric %s over %d genes with a symbol", label, metric, len(ranking))
    fraction = check_overlap(
        {k: list(v) for k, v in gene_sets.items()},
        ranking.index,
        label=label,
        min_fraction=min_overlap,
    )
    logger.info("%s: %.1f%% of the collection's genes are measured", label, 100 * fraction)
    outcome = prerank(
        ranking,
        gene_sets,
        seed=seed,
        threads=threads,
        min_size=min_size,
        max_size=max_size,
        permutations=permutations,
        eps=eps,
    )
    for row in outcome.skipped.itertuples(index=False):
        if row.n_measured == 0:
            logger.warning("%s: gene set %s has no measured gene; dropped", label, row.gene_set)
    return outcome


def is_lrt(results: pd.DataFrame) -> bool:
    """Whether DE results come from a likelihood-ratio test (their ``test`` column)."""
    return "test" in results.columns and bool((results["test"].astype(str) == "LRT").any())


def _with_symbols(table: pd.DataFrame, annotation: pd.DataFrame | None) -> pd.DataFrame:
    from redoxseq.enrichment.genesets import id_to_symbol

    mapping = id_to_symbol(annotation) if annotation is not None else None
    return attach_symbols(table, mapping)


# --------------------------------------------------------------------------------------
# Over-representation (ORA)
# --------------------------------------------------------------------------------------
ORA_COLUMNS: tuple[str, ...] = (
    "direction",
    "gene_set",
    "set_size",
    "n_list",
    "n_background",
    "overlap",
    "odds_ratio",
    "pvalue",
    "fdr",
    "genes",
)


def _bh(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (same as R's p.adjust(method="BH"))."""
    p = np.asarray(pvalues, dtype=float)
    n = p.size
    if n == 0:
        return p
    order = np.argsort(p, kind="mergesort")
    ranked = p[order] * n / np.arange(1, n + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def ora(
    gene_lists: Mapping[str, Sequence[str]],
    gene_sets: Mapping[str, Sequence[str]],
    background: Sequence[str],
    *,
    min_size: int = 5,
    max_size: int = 500,
) -> pd.DataFrame:
    """Over-representation of gene lists (e.g. ``{"up": [...], "down": [...]}``) in gene sets.

    One-sided hypergeometric test from ``gseapy.enrich`` (offline; gene sets given as a dict)
    against ``background``, the genes actually tested. Set sizes are counted within the
    background; sets with fewer than ``min_size`` or more than ``max_size`` background genes
    are not tested. ``fdr``: Benjamini-Hochberg over all tested sets of one direction (sets
    without any overlap count with p = 1, gseapy leaves them out).

    Returns
    -------
    DataFrame
        One row per (direction, tested set), columns :data:`ORA_COLUMNS`; ``genes`` lists the
        overlap (``;``-joined) in the order of the gene list. Sorted by direction (input
        order), p-value, set name.
    """
    import gseapy

    universe = list(dict.fromkeys(str(g) for g in background))
    code = {g: _code(i) for i, g in enumerate(universe)}
    tested = {}
    for name, genes in gene_sets.items():
        members = sorted({code[g] for g in genes if g in code})
        if min_size <= len(members) <= max_size:
            tested[name] = members
    frames = []
    for direction, genes in gene_lists.items():
        listed = [g for g in dict.fromkeys(str(x) for x in genes) if g in code]
        rows = []
        pvals: dict[str, float] = {}
        odds: dict[str, float] = {}
        if listed and tested:
            res = gseapy.enrich(
                gene_list=[code[g] for g in listed],
                gene_sets=tested,
                background=[code[g] for g in universe],
                outdir=None,
                cutoff=1.0,
                no_plot=True,
                verbose=False,
            ).res2d
            if res is None:  # gseapy returns nothing when no set overlaps the list
                res = pd.DataFrame(columns=["Term", "P-value", "Odds Ratio"])
            pvals = dict(zip(res["Term"].astype(str), res["P-value"].astype(float), strict=True))
            odds = dict(zip(res["Term"].astype(str), res["Odds Ratio"].astype(float), strict=True))
        listed_codes = {code[g]: g for g in listed}
        for name, members in tested.items():
            member_set = set(members)
            hits = [g for c, g in listed_codes.items() if c in member_set]
            rows.append(
                {
                    "direction": direction,
                    "gene_set": name,
                    "set_size": len(members),
                    "n_list": len(listed),
                    "n_background": len(universe),
                    "overlap": len(hits),
                    "odds_ratio": odds.get(name, 0.0 if not hits else np.nan),
                    "pvalue": pvals.get(name, 1.0),
                    "genes": ";".join(hits),
                }
            )
        table = pd.DataFrame(rows, columns=[c for c in ORA_COLUMNS if c != "fdr"])
        table.insert(8, "fdr", _bh(table["pvalue"].to_numpy()) if len(table) else [])
        table = table.sort_values(["pvalue", "gene_set"], kind="mergesort")
        frames.append(table)
    if not frames:
        return pd.DataFrame(columns=list(ORA_COLUMNS))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------------------
# ssGSEA per-sample scores and group comparison
# --------------------------------------------------------------------------------------
SSGSEA_COLUMNS: tuple[str, ...] = ("collection", "gene_set", "n_measured", "sample", "es", "nes")


def ssgsea_scores(
    expression: pd.DataFrame,
    collections: Mapping[str, Mapping[str, Sequence[str]]],
    *,
    seed: int,
    threads: int = 1,
    min_size: int = 5,
    max_size: int = 500,
    weight: float = 0.25,
) -> pd.DataFrame:
    """Single-sample GSEA scores (gseapy ``ssgsea``, Barbie et al. 2009) per sample and set.

    Parameters
    ----------
    expression
        genes x samples, index = gene symbols (unique), values = VST (log2 scale) or
        normalised counts. Genes are ranked within each sample (``sample_norm_method="rank"``).
    collections
        collection name -> gene sets.
    weight
        ssGSEA weight exponent (gseapy default 0.25).

    Returns
    -------
    DataFrame
        Long table, columns :data:`SSGSEA_COLUMNS`: ``es`` = unnormalised ssGSEA enrichment
        score; ``nes`` = es divided by the range of es over all sets and samples of the same
        collection (gseapy's normalisation; comparable within a collection only). Sorted by
        collection (input order), set (collection order), sample (column order).
    """
    import gseapy

    if not expression.index.is_unique:
        raise InputError("expression matrix has duplicated gene symbols; collapse them first")
    symbols = [str(g) for g in expression.index]
    code = {g: _code(i) for i, g in enumerate(symbols)}
    coded = pd.DataFrame(
        expression.to_numpy(dtype=float),
        index=[code[g] for g in symbols],
        columns=expression.columns,
    )
    samples = [str(s) for s in expression.columns]
    frames = []
    for collection, gene_sets in collections.items():
        measured = {}
        for name, genes in gene_sets.items():
            hits = sorted({code[g] for g in genes if g in code})
            if min_size <= len(hits) <= max_size:
                measured[name] = hits
            else:
                logger.warning(
                    "ssGSEA %s: gene set %s has %d measured genes (limits %d-%d); not scored",
                    collection,
                    name,
                    len(hits),
                    min_size,
                    max_size,
                )
        if not measured:
            continue
        res = gseapy.ssgsea(
            data=coded,
            gene_sets=measured,
            outdir=None,
            sample_norm_method="rank",
            correl_norm_type="rank",
            min_size=1,
            max_size=len(symbols),
            permutation_num=0,
            weight=weight,
            threads=threads,
            seed=seed,
            no_plot=True,
            verbose=False,
        ).res2d
        res = res.assign(Name=res["Name"].astype(str), Term=res["Term"].astype(str))
        res = res.set_index(["Term", "Name"])
        for name, hits in measured.items():
            for sample in samples:
                es = float(res.loc[(name, sample), "ES"])
                nes = float(res.loc[(name, sample), "NES"])
                frames.append((collection, name, len(hits), sample, es, nes))
    return pd.DataFrame(frames, columns=list(SSGSEA_COLUMNS))


GROUP_COLUMNS: tuple[str, ...] = (
    "collection",
    "gene_set",
    "group_a",
    "group_b",
    "n_a",
    "n_b",
    "mean_a",
    "mean_b",
    "difference",
    "t",
    "pvalue",
    "fdr",
)


#: Columns of the ssGSEA comparison table (one row per two-group contrast x gene set).
CONTRAST_COMPARISON_COLUMNS: tuple[str, ...] = (
    "contrast",
    "collection",
    "gene_set",
    "numerator",
    "denominator",
    "n_numerator",
    "n_denominator",
    "mean_numerator",
    "mean_denominator",
    "difference",
    "statistic",
    "pvalue",
    "fdr",
)


def compare_contrasts(
    scores: pd.DataFrame, comparisons: Mapping[str, Mapping[str, Any]]
) -> pd.DataFrame:
    """Compare ssGSEA scores as each configured contrast does: numerator minus denominator.

    Parameters
    ----------
    scores
        Output of :func:`ssgsea_scores` (one row per collection x set x sample).
    comparisons
        contrast name -> ``{"numerator", "denominator", "numerator_samples",
        "denominator_samples"}`` (``redoxseq.de.design.Contrast.two_groups``: the two groups
        within the contrast's ``at`` levels), or ``{"skip": reason}`` for a contrast that is
        not a two-group comparison (interaction / ``difference``, ``combine``, ``vector``,
        LRT): such contrasts have no rows (the reason is logged).

    Returns
    -------
    DataFrame
        Columns :data:`CONTRAST_COMPARISON_COLUMNS`, one row per two-group contrast x gene set
        (contrasts in the given order, sets in the order of ``scores``): ``difference =
        mean_numerator - mean_denominator``; ``statistic``: Welch's t (``scipy.stats.
        ttest_ind(equal_var=False)``, numerator first), NaN with fewer than 2 samples in a
        group; ``fdr``: Benjamini-Hochberg within each contrast x collection.
    """
    from scipy import stats

    rows = []
    keys = scores[["collection", "gene_set"]].drop_duplicates().itertuples(index=False)
    pairs = [(str(c), str(g)) for c, g in keys]
    es = {
        key: sub.set_index("sample")["es"].astype(float)
        for key, sub in scores.groupby(["collection", "gene_set"], sort=False)
    }
    for contrast, spec in comparisons.items():
        if "skip" in spec:
            logger.info("ssGSEA comparison: %s skipped: %s", contrast, spec["skip"])
            continue
        for collection, gene_set in pairs:
            values = es[(collection, gene_set)]
            xa = values.reindex(list(spec["numerator_samples"])).dropna().to_numpy()
            xb = values.reindex(list(spec["denominator_samples"])).dropna().to_numpy()
            t = p = math.nan
            if len(xa) >= 2 and len(xb) >= 2:
                test = stats.ttest_ind(xa, xb, equal_var=False)
                t, p = float(test.statistic), float(test.pvalue)
            ma = float(xa.mean()) if len(xa) else math.nan
            mb = float(xb.mean()) if len(xb) else math.nan
            rows.append(
                (contrast, collection, gene_set, str(spec["numerator"]),
                 str(spec["denominator"]), len(xa), len(xb), ma, mb, ma - mb, t, p)
            )  # fmt: skip
    out = pd.DataFrame(rows, columns=list(CONTRAST_COMPARISON_COLUMNS[:-1]))
    fdr = np.full(len(out), np.nan)
    for _, index in out.groupby(["contrast", "collection"], sort=False).groups.items():
        pos = out.index.get_indexer(index)
        pvals = out["pvalue"].to_numpy(dtype=float)[pos]
        ok = ~np.isnan(pvals)
        fdr[pos[ok]] = _bh(pvals[ok])
    out["fdr"] = fdr
    return out


def compare_groups(scores: pd.DataFrame, groups: Mapping[str, str]) -> pd.DataFrame:
    """Compare ssGSEA scores between sample groups (every pair of groups, per gene set).

    Welch's t-test on ``es`` (``scipy.stats.ttest_ind(equal_var=False)``);
    ``difference = mean_a - mean_b``; ``fdr``: Benjamini-Hochberg over all rows of the table.
    Groups are compared in sorted order (group_a < group_b).

    Parameters
    ----------
    scores
        Output of :func:`ssgsea_scores`.
    groups
        sample -> group label (e.g. ``resistant_vehicle``); samples without a group are ignored.
    """
    from scipy import stats

    table = scores[scores["sample"].isin(list(groups))].copy()
    table["group"] = table["sample"].map(dict(groups))
    labels = sorted(set(table["group"]))
    rows = []
    for (collection, gene_set), sub in table.groupby(["collection", "gene_set"], sort=False):
        by_group = {g: sub.loc[sub["group"] == g, "es"].to_numpy(dtype=float) for g in labels}
        for i, a in enumerate(labels):
            for b in labels[i + 1 :]:
                xa, xb = by_group[a], by_group[b]
                if len(xa) >= 2 and len(xb) >= 2:
                    test = stats.ttest_ind(xa, xb, equal_var=False)
                    t, p = float(test.statistic), float(test.pvalue)
                else:
                    t, p = float("nan"), float("nan")
                rows.append(
                    (
                        collection,
                        gene_set,
                        a,
                        b,
                        len(xa),
                        len(xb),
                        float(xa.mean()) if len(xa) else float("nan"),
                        float(xb.mean()) if len(xb) else float("nan"),
                        (float(xa.mean() - xb.mean()) if len(xa) and len(xb) else float("nan")),
                        t,
                        p,
                    )
                )
    out = pd.DataFrame(rows, columns=[c for c in GROUP_COLUMNS if c != "fdr"])
    pvals = out["pvalue"].to_numpy(dtype=float)
    fdr = np.full(pvals.shape, np.nan)
    ok = ~np.isnan(pvals)
    fdr[ok] = _bh(pvals[ok])
    out["fdr"] = fdr
    return out


# --------------------------------------------------------------------------------------
# Cross-contrast summary
# --------------------------------------------------------------------------------------
SUMMARY_COLUMNS: tuple[str, ...] = (
    "contrast",
    "collection",
    "gene_set",
    "n_measured",
    "nes",
    "pvalue",
    "fdr",
    "leading_edge_size",
)


def summarize(tables: Mapping[tuple[str, str], pd.DataFrame]) -> pd.DataFrame:
    """One table with NES and FDR for every contrast x gene set.

    Parameters
    ----------
    tables
        (contrast, collection) -> prerank results (:data:`PRERANK_COLUMNS`).

    Returns
    -------
    DataFrame
        Long table, columns :data:`SUMMARY_COLUMNS`, sorted by collection and gene set (first
        appearance), then contrast (input order). Sets not tested in a contrast are absent.
    """
    frames = []
    for (contrast, collection), table in tables.items():
        if table.empty:
            continue
        part = table[[c for c in SUMMARY_COLUMNS if c in table.columns]].copy()
        part.insert(0, "collection", collection)
        part.insert(0, "contrast", contrast)
        frames.append(part[list(SUMMARY_COLUMNS)])
    if not frames:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    out = pd.concat(frames, ignore_index=True)
    contrast_order = {c: i for i, c in enumerate(dict.fromkeys(k[0] for k in tables))}
    coll_order = {c: i for i, c in enumerate(dict.fromkeys(k[1] for k in tables))}
    set_order = {s: i for i, s in enumerate(dict.fromkeys(out["gene_set"]))}
    key = pd.DataFrame(
        {
            "c": out["collection"].map(coll_order),
            "s": out["gene_set"].map(set_order),
            "k": out["contrast"].map(contrast_order),
        }
    )
    order = key.sort_values(["c", "s", "k"], kind="mergesort").index
    return out.loc[order].reset_index(drop=True)


def ora_contrast(
    results: pd.DataFrame,
    up: pd.DataFrame,
    down: pd.DataFrame,
    gene_sets: Mapping[str, Sequence[str]],
    *,
    min_size: int = 5,
    max_size: int = 500,
    min_overlap: float = 0.05,
    annotation: pd.DataFrame | None = None,
    label: str = "gene sets",
) -> pd.DataFrame:
    """ORA of one contrast's up and down lists against the genes actually tested.

    For a likelihood-ratio test (``test`` = ``LRT``: no direction) the one list is its
    ``changed`` genes (direction ``changed``).

    The background is every gene of ``results`` with a non-missing ``padj`` (genes removed by
    independent filtering or outlier handling were not tested), mapped to symbols.

    Parameters
    ----------
    results, up, down
        DESeq2 results of the contrast and its significant up / down genes (``gene_id`` column,
        optional ``gene_name``).
    """
    from redoxseq.enrichment.genesets import check_overlap

    res = _with_symbols(results, annotation)
    if "padj" not in res.columns:
        raise InputError("DE results lack the padj column needed for the ORA background")
    tested = res[pd.to_numeric(res["padj"], errors="coerce").notna()]
    background = [g for g in dict.fromkeys(tested["gene_name"].astype(str)) if g]
    check_overlap(
        {k: list(v) for k, v in gene_sets.items()},
        background,
        label=label,
        min_fraction=min_overlap,
    )
    if is_lrt(res):  # no direction: one list of the genes the LRT calls changed
        changed = res[res.get("significant", pd.Series("", index=res.index)) == "changed"]
        lists = {"changed": [g for g in changed["gene_name"].astype(str) if g]}
    else:
        lists = {
            direction: [g for g in _with_symbols(table, annotation)["gene_name"].astype(str) if g]
            for direction, table in (("up", up), ("down", down))
        }
    return ora(lists, gene_sets, background, min_size=min_size, max_size=max_size)


def expressed_genes(counts: pd.DataFrame, *, min_count: int, min_samples: int) -> pd.Index:
    """Genes with at least ``min_count`` reads in at least ``min_samples`` samples.

    The expressed-gene filter of the ssGSEA input: genes that are not expressed tie at the
    bottom of every sample's ranking, and how many of them there are shifts every set's
    score (GSVA's and ssGSEA's authors filter them first). ``min_count: 0`` keeps every gene.

    Parameters
    ----------
    counts
        genes x samples, raw read counts.
    min_count
        Reads a gene needs in a sample to count as expressed there.
    min_samples
        Samples in which a gene must be expressed.

    Returns
    -------
    pandas.Index
        The IDs of the expressed genes, in the order of ``counts``.
    """
    if min_count <= 0:
        return counts.index
    keep = (counts >= min_count).sum(axis=1) >= min_samples
    logger.info(
        "ssGSEA input: %d of %d genes have >= %d reads in >= %d samples",
        int(keep.sum()), len(keep), min_count, min_samples,
    )  # fmt: skip
    if not keep.any():
        raise InputError(
            f"gsea.ssgsea.min_count: no gene has >= {min_count} reads in >= {min_samples} "
            "samples; lower gsea.ssgsea.min_count (0 scores every gene)"
        )
    return counts.index[keep.to_numpy()]


def score_samples(
    expression: pd.DataFrame,
    collections: Mapping[str, Mapping[str, Sequence[str]]],
    comparisons: Mapping[str, Mapping[str, Any]],
    *,
    seed: int,
    threads: int = 1,
    min_size: int = 5,
    max_size: int = 500,
    min_overlap: float = 0.05,
    annotation: pd.DataFrame | None = None,
    expressed: pd.Index | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score samples with ssGSEA and compare the scores for each contrast.

    A gene set with the same genes as one in an earlier collection is scored once
    (:func:`redoxseq.enrichment.genesets.drop_duplicate_sets`).

    Parameters
    ----------
    expression
        genes x samples (index: gene IDs or symbols; VST or normalised counts).
    collections
        collection name -> gene sets.
    comparisons
        contrast -> its two groups or ``{"skip": reason}`` (:func:`compare_contrasts`).
    annotation
        Optional ``gene_id``/``gene_name`` table to map the index to symbols.
    expressed
        Optional gene IDs to score (:func:`expressed_genes`); the other genes of
        ``expression`` are left out before ranking.

    Returns
    -------
    (DataFrame, DataFrame)
        Scores (:func:`ssgsea_scores`) and their comparison (:func:`compare_contrasts`).
    """
    from redoxseq.enrichment.genesets import check_overlap, drop_duplicate_sets, id_to_symbol

    collections, _ = drop_duplicate_sets(collections)  # a set scored in two collections: once
    mapping = id_to_symbol(annotation) if annotation is not None else None
    if expressed is not None:
        expression = expression.loc[expression.index.isin(expressed)]
    matrix = collapse_expression(expression, mapping)
    for name, gene_sets in collections.items():
        check_overlap(
            {k: list(v) for k, v in gene_sets.items()},
            matrix.index,
            label=name,
            min_fraction=min_overlap,
        )
    scores = ssgsea_scores(
        matrix, collections, seed=seed, threads=threads, min_size=min_size, max_size=max_size
    )
    return scores, compare_contrasts(scores, comparisons)


def combine_skipped(tables: Mapping[tuple[str, str], pd.DataFrame]) -> pd.DataFrame:
    """Gene sets not tested, for every contrast x collection, in one table.

    Parameters
    ----------
    tables
        (contrast, collection) -> skipped table (:data:`SKIPPED_COLUMNS`).

    Returns
    -------
    DataFrame
        Columns ``contrast``, ``collection`` and :data:`SKIPPED_COLUMNS`, in input order.
    """
    columns = ["contrast", "collection", *SKIPPED_COLUMNS]
    frames = [
        table.assign(contrast=contrast, collection=collection)[columns]
        for (contrast, collection), table in tables.items()
        if not table.empty
    ]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)
