"""Likelihood-ratio test of a full against a reduced design, batched across genes.

R DESeq2's ``nbinomLRT`` (``DESeq(dds, test = "LRT", reduced = ~ ...)``; Love et al. 2014,
Genome Biol 15:550, "Likelihood ratio test"): both models are fitted to each gene with the
same final dispersions, and ``stat = 2 (log L_full - log L_reduced)`` is compared with a
chi-squared distribution on ``p_full - p_reduced`` degrees of freedom. The full model is the
fitted model (its coefficients); the reduced one is fitted here by the engine's IRLS, for all
genes at once (IRLS floors fitted means at ``min_mu = 0.5`` as R's ``fitBeta`` does), or, for
an intercept-only reduced model, as R does: the log of the mean normalized count. As in R's
``fitNbinomGLMs``, the likelihoods use the unfloored means ``s_j exp(x_j beta)``. Genes whose
Cook's outliers were replaced are tested on the replaced counts, as R's
``refitWithoutOutliers`` does.

Arrays: ``counts`` samples x genes; designs samples x coefficients; ``lfc`` genes x
coefficients (natural log); dispersions per gene.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
from scipy.stats import chi2

if TYPE_CHECKING:
    from pydeseq2.inference import Inference

logger = logging.getLogger(__name__)

__all__ = ["likelihood_ratio_test", "nb_loglik_core"]

MIN_MU = 0.5  # the IRLS floor of fitted means (R fitBeta minmu)
_BLOCK = 1 << 18  # matrix entries per block of genes


def nb_loglik_core(counts: np.ndarray, mu: np.ndarray, dispersions: np.ndarray) -> np.ndarray:
    """Per-gene negative binomial log-likelihood without the terms free of ``mu``.

    ``sum_j r log(r / (r + mu_j)) + y_j log(mu_j / (r + mu_j))`` with ``r = 1 / alpha``:
    the log-gamma terms cancel in a likelihood ratio of two fits to the same counts.
    """
    r = 1.0 / dispersions[None, :]
    return np.asarray((r * np.log(r / (r + mu)) + counts * np.log(mu / (r + mu))).sum(axis=0))


def _means(design: np.ndarray, beta: np.ndarray, size_factors: np.ndarray) -> np.ndarray:
    mu = design @ beta.T
    np.exp(mu, out=mu)
    mu *= size_factors[:, None]
    return mu


def likelihood_ratio_test(
    counts: np.ndarray,
    size_factors: np.ndarray,
    full_design: np.ndarray,
    full_lfc: np.ndarray,
    reduced_design: np.ndarray,
    dispersions: np.ndarray,
    engine: Inference,
    *,
    beta_tol: float = 1e-8,
) -> tuple[np.ndarray, np.ndarray, int]:
    """LRT statistic and p-value per gene (columns of ``counts``) and the degrees of freedom.

    ``full_lfc`` are the full model's coefficients fitted with ``dispersions``. Genes must
    be non-zero (callers give NaN to all-zero genes).
    """
    counts = np.asarray(counts, dtype=float)
    size_factors = np.asarray(size_factors, dtype=float)
    df = int(full_design.shape[1] - reduced_design.shape[1])
    if df <= 0:
        raise ValueError(
            f"the reduced design has {reduced_design.shape[1]} coefficients, the full one "
            f"{full_design.shape[1]}: the reduced design must be nested in and smaller than "
            "the full one"
        )
    if reduced_design.shape[1] == 1 and np.all(reduced_design == 1):
        reduced_beta = np.log((counts / size_factors[:, None]).mean(axis=0))[:, None]
    else:
        reduced_beta, _, _, converged = engine.irls(
            counts=counts,
            size_factors=size_factors,
            design_matrix=reduced_design,
            disp=dispersions,
            min_mu=MIN_MU,
            beta_tol=beta_tol,
        )
        reduced_beta = np.asarray(reduced_beta, dtype=float).reshape(counts.shape[1], -1)
        n_bad = int(np.size(converged) - np.count_nonzero(converged))
        if n_bad:
            logger.info("LRT: %d genes' reduced-model fit did not converge in IRLS", n_bad)
    stat = np.empty(counts.shape[1])
    step = max(1, _BLOCK // max(counts.shape[0], 1))
    for start in range(0, counts.shape[1], step):
        block = slice(start, start + step)
        y, disp = counts[:, block], dispersions[block]
        full = nb_loglik_core(y, _means(full_design, full_lfc[block], size_factors), disp)
        reduced = nb_loglik_core(y, _means(reduced_design, reduced_beta[block], size_factors), disp)
        stat[block] = 2.0 * (full - reduced)
    pvalue = chi2.sf(stat, df)
    return stat, np.asarray(pvalue), df
