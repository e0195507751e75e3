"""Simulate the 2 x 2 interaction fixture: tests/data/counts/interaction_sim/.

Negative binomial counts, 2,000 genes x 12 samples (cell_line sensitive/resistant x
treatment vehicle/sorafenib x 3 replicates), design ~ cell_line * treatment with ~10 % of genes
changed per main effect and ~5 % with an interaction, a DESeq2-like dispersion-mean trend
(0.05 + 1/mean) and size factors in [0.6, 1.6]. Seeded: rerunning gives the same bytes.

Run from the repository root:  .venv/bin/python tests/golden/deseq2/simulate_interaction.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261121
OUT = Path("tests/data/counts/interaction_sim")


def main() -> None:
    rng = np.random.default_rng(SEED)
    n_genes = 2000
    samples = [
        f"{cell}_{treatment}_{rep}"
        for cell in ("sensitive", "resistant")
        for treatment in ("vehicle", "sorafenib")
        for rep in (1, 2, 3)
    ]
    sheet = pd.DataFrame(
        {
            "sample": samples,
            "cell_line": [s.split("_")[0] for s in samples],
            "treatment": [s.split("_")[1] for s in samples],
            "replicate": [s.split("_")[2] for s in samples],
        }
    )
    base = np.exp(rng.normal(4.0, 2.0, n_genes))
    dispersion = 0.05 + 1.0 / base
    effects = np.vstack(
        [
            np.log(base),
            np.where(rng.random(n_genes) < 0.10, rng.normal(0, 2, n_genes), 0.0),
            np.where(rng.random(n_genes) < 0.10, rng.normal(0, 2, n_genes), 0.0),
            np.where(rng.random(n_genes) < 0.05, rng.normal(0, 2, n_genes), 0.0),
        ]
    )
    resistant = (sheet["cell_line"] == "resistant").to_numpy(float)
    sorafenib = (sheet["treatment"] == "sorafenib").to_numpy(float)
    design = np.column_stack([np.ones(len(samples)), resistant, sorafenib, resistant * sorafenib])
    size_factors = rng.uniform(0.6, 1.6, len(samples))
    mu = np.exp(design @ effects) * size_factors[:, None]
    size = 1.0 / dispersion
    counts = rng.negative_binomial(size, size / (size + mu))
    table = pd.DataFrame(
        counts.T,
        index=pd.Index([f"G{i:05d}" for i in range(n_genes)], name="gene_id"),
        columns=samples,
    )
    OUT.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT / "counts.tsv.gz", sep="\t", compression={"method": "gzip", "mtime": 0})
    sheet.to_csv(OUT / "samples.tsv", sep="\t", index=False)
    truth = pd.DataFrame(
        effects.T / np.log(2),
        index=table.index,
        columns=["log2_base", "cell_line", "treatment", "interaction"],
    )
    truth.to_csv(OUT / "truth.tsv", sep="\t")


if __name__ == "__main__":
    main()
