"""Correlations between cohort features (genes, scores), overall and per stratum.

Spearman and Pearson coefficients of feature pairs across samples, with two-sided p-values
from the t distribution with n - 2 degrees of freedom (the test of ``scipy.stats.pearsonr``
and ``spearmanr``; R ``cor.test``'s asymptotic test for Spearman) and Benjamini-Hochberg FDR
within each method x stratum. All pairs of a stratum come from one matrix product, so all
pairs of 100 features take milliseconds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from redoxseq.errors import InputError

logger = logging.getLogger(__name__)

Method = Literal["spearman", "pearson"]

#: Name of the stratum holding every sample.
ALL_SAMPLES = "all"

#: Long correlation table, one row per stratum x method x pair.
CORRELATION_COLUMNS: tuple[str, ...] = (
    "stratum",
    "method",
    "feature_a",
    "feature_b",
    "n",
    "r",
    "pvalue",
    "fdr",
)
#: Per-stratum distribution of each feature.
DISTRIBUTION_COLUMNS: tuple[str, ...] = (
    "feature",
    "stratum",
    "n",
    "mean",
    "sd",
    "min",
    "q25",
    "median",
    "q75",
    "max",
)
#: Difference between strata of each feature (Kruskal-Wallis).
STRATA_TEST_COLUMNS: tuple[str, ...] = ("feature", "n_strata", "n", "statistic", "pvalue", "fdr")


def benjamini_hochberg(pvalues: np.ndarray) -> np.ndarray:
    """BH-adjusted p-values (R ``p.adjust(method = "BH")``); NaN stays NaN."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    values = p[ok]
    order = np.argsort(values, kind="stable")[::-1]
    scaled = values[order] * m / np.arange(m, 0, -1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(scaled))
    result = np.empty(m)
    result[order] = adjusted
    out[ok] = result
    return out


def _rank_columns(values: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return np.asarray(rankdata(values, method="average", axis=0), dtype=float)


def correlation_matrix(values: np.ndarray, method: Method) -> np.ndarray:
    """Features x features coefficients of a samples x features matrix (no missing values).

    A constant feature gives NaN with every other feature.
    """
    data = _rank_columns(values) if method == "spearman" else np.asarray(values, dtype=float)
    centred = data - data.mean(axis=0)
    norms = np.sqrt((centred * centred).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = centred / norms
        r = scaled.T @ scaled
    r = np.clip(r, -1.0, 1.0)
    r[:, norms == 0] = np.nan
    r[norms == 0, :] = np.nan
    return np.asarray(r)


def correlation_pvalues(r: np.ndarray, n: int) -> np.ndarray:
    """Two-sided p-values of coefficients ``r`` from ``n`` samples (t test, n - 2 df)."""
    from scipy.stats import t as student_t

    r = np.asarray(r, dtype=float)
    if n < 3:
        return np.full(r.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = r * np.sqrt((n - 2) / np.maximum(1.0 - r * r, 0.0))
    return np.asarray(2.0 * student_t.sf(np.abs(tstat), n - 2))


def resolve_pairs(
    features: Sequence[str], pairs: Sequence[Sequence[str]] | None
) -> list[tuple[str, str]]:
    """Pairs to test: the given ones (checked), or every unordered pair of ``features``."""
    known = list(features)
    if not pairs:
        return [(a, b) for i, a in enumerate(known) for b in known[i + 1 :]]
    out: list[tuple[str, str]] = []
    for pair in pairs:
        if len(pair) != 2:
            raise InputError(f"cohort.pairs: {list(pair)} is not a pair of two features")
        a, b = str(pair[0]), str(pair[1])
        for name in (a, b):
            if name not in known:
                raise InputError(
                    f"cohort.pairs: {name!r} is neither a measured gene of cohort.genes nor a "
                    f"scored gene set; known features: {', '.join(known[:20])}"
                )
        out.append((a, b))
    return out


def correlate(
    features: pd.DataFrame,
    pairs: Sequence[tuple[str, str]],
    *,
    strata: pd.Series | None = None,
    methods: Sequence[Method] = ("spearman", "pearson"),
    min_samples: int = 10,
) -> pd.DataFrame:
    """Correlation of each pair, over all samples and within each stratum.

    Parameters
    ----------
    features
        samples x features (VST of genes, scores), no missing values.
    pairs
        (feature_a, feature_b) to report.
    strata
        sample -> stratum label (None: only the ``all`` stratum). Strata with fewer than
        ``min_samples`` samples are not tested (logged).
    methods
        ``spearman`` and/or ``pearson``.

    Returns
    -------
    DataFrame
        :data:`CORRELATION_COLUMNS`; stratum ``all`` first, then strata in sorted order;
        FDR over the pairs of one method and stratum.
    """
    if features.isna().to_numpy().any():
        raise InputError("cohort correlations: the feature table has missing values")
    columns = {name: i for i, name in enumerate(features.columns)}
    ia = np.array([columns[a] for a, _ in pairs], dtype=np.int64)
    ib = np.array([columns[b] for _, b in pairs], dtype=np.int64)
    groups: list[tuple[str, pd.Index]] = [(ALL_SAMPLES, features.index)]
    if strata is not None:
        labels = strata.reindex(features.index).astype(str)
        for level in sorted(labels.unique()):
            members = labels.index[labels == level]
            if len(members) < min_samples:
                logger.warning(
                    "cohort: stratum %r has %d samples (< min_samples %d); not correlated",
                    level,
                    len(members),
                    min_samples,
                )
                continue
            groups.append((level, members))
    frames = []
    for stratum, members in groups:
        values = features.loc[members].to_numpy(dtype=float)
        n = values.shape[0]
        for method in methods:
            r = correlation_matrix(values, method)[ia, ib] if len(pairs) else np.zeros(0)
            p = correlation_pvalues(r, n)
            frames.append(
                pd.DataFrame(
                    {
                        "stratum": stratum,
                        "method": method,
                        "feature_a": [a for a, _ in pairs],
                        "feature_b": [b for _, b in pairs],
                        "n": n,
                        "r": r,
                        "pvalue": p,
                        "fdr": benjamini_hochberg(p),
                    }
                )
            )
    if not frames:
        return pd.DataFrame(columns=list(CORRELATION_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(CORRELATION_COLUMNS)]


def distributions(features: pd.DataFrame, strata: pd.Series | None) -> pd.DataFrame:
    """Summary of each feature in all samples and per stratum (:data:`DISTRIBUTION_COLUMNS`)."""
    labels = (
        pd.Series(ALL_SAMPLES, index=features.index)
        if strata is None
        else strata.reindex(features.index).astype(str)
    )
    rows = []
    for feature in features.columns:
        column = features[feature]
        parts = [(ALL_SAMPLES, column)]
        if strata is not None:
            parts += [(level, column[labels == level]) for level in sorted(labels.unique())]
        for stratum, values in parts:
            v = values.to_numpy(dtype=float)
            q = np.quantile(v, [0.0, 0.25, 0.5, 0.75, 1.0])
            sd = float(np.std(v, ddof=1)) if len(v) > 1 else float("nan")
            rows.append((feature, stratum, len(v), float(v.mean()), sd, *map(float, q)))
    return pd.DataFrame(rows, columns=list(DISTRIBUTION_COLUMNS))


def strata_tests(features: pd.DataFrame, strata: pd.Series) -> pd.DataFrame:
    """Kruskal-Wallis test of each feature across strata, BH FDR over features."""
    from scipy.stats import kruskal

    labels = strata.reindex(features.index).astype(str)
    levels = sorted(labels.unique())
    rows = []
    for feature in features.columns:
        groups = [features.loc[labels == level, feature].to_numpy(float) for level in levels]
        groups = [g for g in groups if len(g)]
        if len(groups) < 2 or np.ptp(features[feature].to_numpy(float)) == 0:
            stat, p = float("nan"), float("nan")
        else:
            result = kruskal(*groups)
            stat, p = float(result.statistic), float(result.pvalue)
        rows.append((feature, len(groups), int(sum(len(g) for g in groups)), stat, p))
    table = pd.DataFrame(rows, columns=list(STRATA_TEST_COLUMNS[:-1]))
    table["fdr"] = benjamini_hochberg(table["pvalue"].to_numpy())
    return table


def feature_table(
    expression: pd.DataFrame,
    genes: Sequence[str],
    scores: pd.DataFrame,
    score_names: Sequence[str],
) -> pd.DataFrame:
    """Samples x features: the VST of ``genes``, then the scores of ``score_names``.

    Parameters
    ----------
    expression
        genes x samples VST, index = gene symbols.
    genes
        Symbols to include (each must be measured).
    scores
        samples x gene sets (:func:`redoxseq.cohort.scoring.score_matrix`).
    score_names
        Sets to include; ``["all"]`` = every scored set. A named set that was not scored
        (too few measured genes) is an error.
    """
    missing = [g for g in genes if g not in expression.index]
    if missing:
        raise InputError(
            f"cohort.genes: {missing} not measured (after dropping all-zero genes and mapping "
            f"gene IDs to symbols); e.g. {', '.join(map(str, expression.index[:5]))}"
        )
    names = list(scores.columns) if list(score_names) == ["all"] else list(score_names)
    unscored = [s for s in names if s not in scores.columns]
    if unscored:
        raise InputError(
            f"cohort.scores: {unscored} were not scored (see results/cohort/scores.skipped.tsv:"
            " too few of their genes measured?)"
        )
    clash = sorted(set(genes) & set(names))
    if clash:
        raise InputError(f"cohort: {clash} is both a gene and a gene-set name; rename the set")
    samples = [str(s) for s in expression.columns]
    table = expression.loc[list(genes), samples].T.astype(float)
    if names:
        table = pd.concat([table, scores.loc[samples, names].astype(float)], axis=1)
    table.index = pd.Index(samples, name="sample")
    table.columns = pd.Index([str(c) for c in table.columns], name="feature")
    return table


def cohort_tables(
    features: pd.DataFrame,
    pairs: Sequence[Sequence[str]] | None,
    *,
    strata: pd.Series | None,
    methods: Sequence[Method],
    min_stratum_size: int,
) -> dict[str, pd.DataFrame]:
    """Correlations, per-stratum distributions and (with strata) Kruskal-Wallis tests.

    Returns
    -------
    dict
        ``correlations`` (:data:`CORRELATION_COLUMNS`), ``distributions``
        (:data:`DISTRIBUTION_COLUMNS`) and, when ``strata`` is given, ``strata_tests``
        (:data:`STRATA_TEST_COLUMNS`).
    """
    resolved = resolve_pairs(list(features.columns), pairs)
    out = {
        "correlations": correlate(
            features, resolved, strata=strata, methods=methods, min_samples=min_stratum_size
        ),
        "distributions": distributions(features, strata),
    }
    if strata is not None:
        out["strata_tests"] = strata_tests(features, strata)
    return out
