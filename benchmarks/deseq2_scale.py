"""Scale check of the DE stage: a simulated 60,000-gene x 200-sample matrix on 2 threads.

Prints wall time, CPU time and peak RSS of the fit (size factors, dispersions, coefficients,
Cook's, VST blind + design-aware) and of one contrast with apeGLM shrinkage. No R run (R
DESeq2 on this size takes far longer than the time budget on this machine).

    .venv/bin/python benchmarks/deseq2_scale.py [n_genes] [n_samples] [engine]
"""

import logging
import resource
import sys
import time

import numpy as np
import pandas as pd

from redoxseq.de.design import preflight
from redoxseq.de.fit import contrast_results, design_outputs, fit_model, get_engine


def main() -> None:
    n_genes = int(sys.argv[1]) if len(sys.argv) > 1 else 60_000
    n_samples = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    engine = sys.argv[3] if len(sys.argv) > 3 else "batched"
    logging.basicConfig(level=logging.INFO)
    rng = np.random.default_rng(7)
    groups = np.array(["A", "B"])[np.arange(n_samples) % 2]
    batch = np.array(["b1", "b2", "b3", "b4"])[np.arange(n_samples) // 2 % 4]
    samples = pd.DataFrame(
        {"condition": groups, "batch": batch},
        index=pd.Index([f"s{i:03d}" for i in range(n_samples)], name="sample"),
    )
    base = np.exp(rng.normal(3.0, 2.2, n_genes))
    effect = np.where(rng.random(n_genes) < 0.1, rng.normal(0, 1, n_genes), 0.0)
    mu = (
        base[None, :]
        * np.exp(np.outer(groups == "B", effect))
        * rng.uniform(0.5, 2, n_samples)[:, None]
    )
    size = 1 / (0.05 + 1 / base)
    counts = pd.DataFrame(
        rng.negative_binomial(size, size / (size + mu)).T,
        index=pd.Index([f"G{i:06d}" for i in range(n_genes)], name="gene_id"),
        columns=samples.index,
    )
    report = preflight(
        samples,
        {
            "design": "~ batch + condition",
            "reference_levels": {"condition": "A", "batch": "b1"},
            "inference": engine,
        },
        {"B_vs_A": {"factor": "condition", "numerator": "B", "denominator": "A"}},
    )
    wall, cpu = time.perf_counter(), time.process_time()
    model, dds = fit_model(
        counts, samples, report.design, report.settings, threads=2, keep_dds=True
    )
    tables = design_outputs(model, dds)
    fit_wall, fit_cpu = time.perf_counter() - wall, time.process_time() - cpu
    del dds
    wall, cpu = time.perf_counter(), time.process_time()
    result = contrast_results(model, report.contrasts["B_vs_A"], engine=get_engine(engine, 2))
    con_wall, con_cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"matrix {n_genes} x {n_samples}, engine {engine}, 2 threads")
    print(f"genes after prefilter: {len(model.genes)}; vst shape {tables['vst'].shape}")
    print(f"fit + per-design tables: wall {fit_wall:.1f} s, cpu (main process) {fit_cpu:.1f} s")
    print(f"one contrast + apeGLM: wall {con_wall:.1f} s, cpu {con_cpu:.1f} s")
    print(f"peak RSS main process {peak:.0f} MiB, largest child {children:.0f} MiB")
    print(f"significant: {(result['results']['significant'] != '').sum()}")


if __name__ == "__main__":
    main()
