"""Blind variance-stabilising transform of a cohort (DESeq2 ``vst(blind = TRUE)`` analogue).

A cohort has no design: the VST uses an intercept-only model, size factors by median of
ratios (or ``poscounts`` when every gene has a zero somewhere, as in large cohorts), the
dispersion-mean trend fitted to all genes, and DESeq2's closed-form transform of that trend.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import pandas as pd

from redoxseq.errors import InputError

logger = logging.getLogger(__name__)

SizeFactorType = Literal["ratio", "poscounts"]


def blind_vst(
    counts: pd.DataFrame,
    *,
    threads: int = 1,
    size_factors: SizeFactorType | None = None,
) -> pd.DataFrame:
    """VST (log2 scale) of every sample with an intercept-only design.

    Parameters
    ----------
    counts
        genes x samples, non-negative integers (index: gene IDs).
    threads
        Cores of the dispersion fit (results do not depend on it).
    size_factors
        ``ratio`` (DESeq2 default) or ``poscounts``; None = ``ratio`` unless no gene is
        non-zero in every sample, then ``poscounts`` (DESeq2's advice for sparse data).

    Returns
    -------
    DataFrame
        genes x samples VST values; genes with zero counts in every sample are dropped.
    """
    from redoxseq.de.fit import _dds_class, _limited_threads, get_engine

    if counts.shape[1] < 3:
        raise InputError(f"cohort: {counts.shape[1]} sample(s); a cohort VST needs at least 3")
    values = counts.to_numpy()
    if (values < 0).any():
        raise InputError("cohort: the count matrix has negative values")
    kept = counts.loc[values.sum(axis=1) > 0]
    if size_factors is None:
        size_factors = "ratio" if (kept.to_numpy() > 0).all(axis=1).any() else "poscounts"
    logger.info(
        "cohort VST: %d genes x %d samples (%d all-zero genes dropped), size factors %s",
        kept.shape[0],
        kept.shape[1],
        counts.shape[0] - kept.shape[0],
        size_factors,
    )
    samples = pd.DataFrame({"intercept": 1.0}, index=pd.Index(kept.columns.astype(str)))
    matrix = kept.T.astype(np.int64)
    matrix.index = samples.index
    with _limited_threads(threads):
        dds = _dds_class()(
            counts=matrix,
            metadata=samples,
            design=samples[["intercept"]],
            size_factors_fit_type=size_factors,
            inference=get_engine("batched", threads),
            quiet=True,
        )
        dds.vst(use_design=False)
    return pd.DataFrame(
        np.asarray(dds.layers["vst_counts"]).T,
        index=pd.Index(kept.index.astype(str), name="gene_id"),
        columns=kept.columns,
    )
