"""Simulated RNA-seq count matrices for the DE-engine benchmark (fixed seed).

Negative binomial counts with a realistic mean / dispersion relation:
- base means log-normal (median ~20 normalized counts, long right tail, many low genes);
- dispersion = (0.04 + 1.5 / mean) * log-normal scatter (sd 0.5 on the log scale), the
  shape DESeq2's parametric trend fits;
- size factors log-normal (sd 0.25);
- 10% of genes DE between the two conditions with log2 fold changes ~ N(0, 1.5);
- 2% all-zero genes; 1% of genes get one outlier count (x20 + 50) for Cook's distance.

Usage: ``python benchmarks/bench_deseq2_simulate.py N_GENES N_SAMPLES OUT_PREFIX [SEED]``
writes ``OUT_PREFIX.counts.tsv`` (genes x samples, R's orientation) and
``OUT_PREFIX.metadata.tsv`` (sample, condition).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd


def simulate(
    n_genes: int, n_samples: int, seed: int = 20240501
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``counts`` (samples x genes, int) and ``metadata`` (samples x [condition])."""
    rng = np.random.default_rng(seed)
    n_a = n_samples // 2
    condition = np.array(["A"] * n_a + ["B"] * (n_samples - n_a))
    base = np.exp(rng.normal(np.log(20.0), 2.0, n_genes)).clip(0.05, 2e5)
    disp = (0.04 + 1.5 / base) * np.exp(rng.normal(0.0, 0.5, n_genes))
    lfc = np.zeros(n_genes)
    de = rng.random(n_genes) < 0.10
    lfc[de] = rng.normal(0.0, 1.5, de.sum())
    sf = np.exp(rng.normal(0.0, 0.25, n_samples))
    mu = sf[:, None] * base[None, :] * np.where(condition[:, None] == "B", 2.0**lfc, 1.0)
    size = 1.0 / disp
    counts = rng.negative_binomial(size[None, :], size[None, :] / (size[None, :] + mu))
    zero = rng.random(n_genes) < 0.02
    counts[:, zero] = 0
    out_genes = np.flatnonzero((rng.random(n_genes) < 0.01) & ~zero)
    out_samples = rng.integers(0, n_samples, out_genes.size)
    counts[out_samples, out_genes] = counts[out_samples, out_genes] * 20 + 50
    genes = [f"gene{i:05d}" for i in range(n_genes)]
    samples = [f"s{j:03d}" for j in range(n_samples)]
    counts_df = pd.DataFrame(counts.astype(np.int64), index=samples, columns=genes)
    meta = pd.DataFrame({"condition": condition}, index=samples)
    return counts_df, meta


def main(argv: list[str]) -> None:
    """Write a simulated matrix to disk (see module docstring)."""
    n_genes, n_samples, prefix = int(argv[1]), int(argv[2]), argv[3]
    seed = int(argv[4]) if len(argv) > 4 else 20240501
    counts, meta = simulate(n_genes, n_samples, seed)
    counts.T.to_csv(f"{prefix}.counts.tsv", sep="\t", index_label="gene_id")
    meta.to_csv(f"{prefix}.metadata.tsv", sep="\t", index_label="sample")


if __name__ == "__main__":
    main(sys.argv)
