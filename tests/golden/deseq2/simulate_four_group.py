"""Simulate the four-group fixture: tests/data/counts/four_group/.

Negative binomial counts, 3,000 genes x 16 samples: group control / drugA / drugB /
combination, 4 replicates each, design ``~ group`` (the LRT test of any difference among the
four groups is ``reduced: "~ 1"``). About 8 % of genes change with drug A, 8 % with drug B,
and the combination is additive on the log scale plus a synergy term in 4 % of genes; a
DESeq2-like dispersion-mean trend (0.04 + 1.5/mean, log-normal scatter sd 0.3) and size
factors in [0.5, 1.8]. Seeded: rerunning gives the same bytes.

Run from the repository root:  .venv/bin/python tests/golden/deseq2/simulate_four_group.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261204
OUT = Path("tests/data/counts/four_group")
GROUPS = ("control", "drugA", "drugB", "combination")


def main() -> None:
    rng = np.random.default_rng(SEED)
    n_genes, n_rep = 3000, 4
    samples = [f"{group}_{rep}" for group in GROUPS for rep in range(1, n_rep + 1)]
    group = np.repeat(np.arange(len(GROUPS)), n_rep)
    base = np.exp(rng.normal(3.5, 2.0, n_genes))
    dispersion = (0.04 + 1.5 / base) * np.exp(rng.normal(0.0, 0.3, n_genes))
    drug_a = np.where(rng.random(n_genes) < 0.08, rng.normal(0, 1.5, n_genes), 0.0)
    drug_b = np.where(rng.random(n_genes) < 0.08, rng.normal(0, 1.5, n_genes), 0.0)
    synergy = np.where(rng.random(n_genes) < 0.04, rng.normal(0, 1.5, n_genes), 0.0)
    log_effect = np.stack([np.zeros(n_genes), drug_a, drug_b, drug_a + drug_b + synergy])
    size_factors = rng.uniform(0.5, 1.8, len(samples))
    mu = base[None, :] * np.exp(log_effect[group]) * size_factors[:, None]
    r = 1.0 / dispersion
    counts = rng.negative_binomial(r[None, :], r[None, :] / (r[None, :] + mu))
    genes = [f"G{i:05d}" for i in range(1, n_genes + 1)]
    OUT.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(counts.T, index=pd.Index(genes, name="gene_id"), columns=samples)
    table.to_csv(OUT / "counts.tsv.gz", sep="\t", compression={"method": "gzip", "mtime": 0})
    pd.DataFrame(
        {"sample": samples, "group": [GROUPS[g] for g in group],
         "replicate": [s.split("_")[1] for s in samples]}
    ).to_csv(OUT / "samples.tsv", sep="\t", index=False)  # fmt: skip
    truth = pd.DataFrame(
        {"drugA": drug_a, "drugB": drug_b, "synergy": synergy, "dispersion": dispersion},
        index=pd.Index(genes, name="gene_id"),
    )
    truth.to_csv(OUT / "truth.tsv.gz", sep="\t", compression={"method": "gzip", "mtime": 0})


if __name__ == "__main__":
    main()
