"""Figures at scale: 48 samples x 20,000 genes (readability and memory, not a test).

Simulates a DE results table, a VST matrix and a dispersion table of that size, draws every
per-contrast and QC figure that scales with genes or samples, saves each as SVG, PDF and PNG,
and prints per figure: wall time, size on disk, size in inches, whether any two volcano labels
overlap, and the peak resident memory of the process. There is no reference tool to compare
with; the numbers are the point (benchmarks/README.md).

    .venv/bin/python benchmarks/bench_figures.py [--genes 20000] [--samples 48]
"""

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from redoxseq.plots.contrasts import Calling, contrast_figures
from redoxseq.plots.labels import overlapping_pairs
from redoxseq.plots.qc import compute_pca, plot_dispersion, plot_pca, plot_sample_distances
from redoxseq.plots.style import DOUBLE_COLUMN, MAX_HEIGHT, save_figure
from redoxseq.plots.summary import plot_ssgsea_heatmap

GOI = ["Gpx4", "Txn1", "Txnrd1", "Hmox1", "Fth1", "Taldo1", "Phgdh", "Mafg", "Slc7a11", "Nqo1"]


def simulate(n_genes: int, n_samples: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    genes = [f"ENSMUSG{i:011d}" for i in range(n_genes)]
    names = [f"Gene{i}" for i in range(n_genes)]
    names[: len(GOI)] = GOI
    lfc = rng.normal(0, 1, n_genes)
    lfc[: len(GOI)] = rng.uniform(1.5, 2.5, len(GOI))
    p = np.clip(10 ** (-np.abs(lfc) * rng.uniform(0.5, 10, n_genes)), 1e-300, 1)
    padj = np.minimum(1, p * n_genes / (np.argsort(np.argsort(p)) + 1))
    calls = np.where(padj < 0.1, np.where(lfc > 0, "up", "down"), "")
    results = pd.DataFrame(
        {"gene_name": names, "baseMean": rng.lognormal(5, 2, n_genes), "log2FoldChange": lfc,
         "log2FoldChange_shrunk": lfc * 0.9, "pvalue": p, "padj": padj, "significant": calls},
        index=genes,
    )  # fmt: skip
    groups = np.repeat(["sensitive", "resistant"], n_samples // 2)
    treatment = np.tile(["vehicle", "sorafenib"], n_samples // 2)
    samples = pd.DataFrame(
        {"cell_line": groups, "treatment": treatment},
        index=[f"{g}_{t}_{i + 1}" for i, (g, t) in enumerate(zip(groups, treatment, strict=True))],
    )
    vst = rng.normal(8, 1, (n_genes, n_samples)) + np.outer(lfc, groups == "resistant") / 2
    vst = pd.DataFrame(vst, index=genes, columns=samples.index)
    trend = 0.02 + 2 / results["baseMean"]
    dispersions = pd.DataFrame(
        {"baseMean": results["baseMean"],
         "dispersion_genewise": trend * rng.lognormal(0, 1, n_genes),
         "dispersion_trend": trend, "dispersion_final": trend * rng.lognormal(0, 0.3, n_genes),
         "dispersion_outlier": False},
    )  # fmt: skip
    return results, vst, samples, dispersions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=48)
    args = parser.parse_args()
    results, vst, samples, dispersions = simulate(args.genes, args.samples)
    out = Path(tempfile.mkdtemp(prefix="bench_figures_"))
    called = int((results["significant"] != "").sum())
    print(f"{args.genes} genes x {args.samples} samples; {called} called")
    start = time.perf_counter()
    figures = contrast_figures(
        results, Calling("padj < 0.1", 0.1, None, 0.0), vst, samples, contrast="c",
        genes_of_interest=GOI, label_top=10, highlight=(), highlight_label="",
        group_by=["cell_line", "treatment"], heatmap_top=50,
    )  # fmt: skip
    figures["sample_distances"] = plot_sample_distances(vst, samples, group_by=["cell_line"])
    figures["pca"] = plot_pca(compute_pca(vst), samples, color_by="cell_line",
                              shape_by="treatment")  # fmt: skip
    figures["dispersion"] = plot_dispersion(dispersions)
    scores = pd.DataFrame(
        [(f"SET_{k}", s, float(v)) for k in range(15) for s, v in
         zip(samples.index, np.random.default_rng(k).normal(0, 1, len(samples)), strict=True)],
        columns=["gene_set", "sample", "es"],
    )  # fmt: skip
    groups = {s: f"{a}_{b}" for s, a, b in samples.itertuples()}
    figures["ssgsea_heatmap"] = plot_ssgsea_heatmap(
        scores, samples, groups, group_by=["cell_line", "treatment"]
    )
    print(f"drawing: {time.perf_counter() - start:.1f} s")
    print(f"{'figure':<20} {'save s':>7} {'svg KB':>8} {'pdf KB':>8} {'png KB':>8}  inches")
    for name, figure in figures.items():
        t0 = time.perf_counter()
        sizes = []
        for ext in ("svg", "pdf", "png"):
            path = out / f"{name}.{ext}"
            save_figure(figure, path, dpi=300)
            sizes.append(path.stat().st_size / 1024)
        width, height = figure.get_size_inches()
        flag = (
            ""
            if width <= DOUBLE_COLUMN + 0.01 and height <= MAX_HEIGHT
            else "  (larger than a page)"
        )
        print(f"{name:<20} {time.perf_counter() - t0:7.1f} {sizes[0]:8.0f} {sizes[1]:8.0f} "
              f"{sizes[2]:8.0f}  {width:.1f} x {height:.1f}{flag}")  # fmt: skip
    labels = [t for t in figures["volcano"].axes[0].texts if t.get_text()]
    shown = {t.get_text() for t in labels}
    print(
        f"volcano: {len(labels)} labels, every gene of interest named: {set(GOI) <= shown}, "
        f"overlapping label pairs: {len(overlapping_pairs(labels, pad=0.0))}"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MB; files in {out}")


if __name__ == "__main__":
    main()
