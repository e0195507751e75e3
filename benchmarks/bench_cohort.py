"""Cohort-scale scoring and correlations vs gseapy's ssGSEA and SciPy, in one run.

Each variant runs in a fresh process (peak RSS is its own); inputs are simulated with a fixed
seed: a VST-like genes x samples matrix (log-normal levels, a block of unexpressed genes tied
at the same value, as in a real VST), gene sets of 15-300 genes.

    .venv/bin/python benchmarks/bench_cohort.py --genes 20000 --samples 2000 --sets 60 \
        --reference-samples 2000 --scores 100 --threads 2

Prints a table: wall and CPU seconds, peak RSS, and the ratio to the reference measured in the
same run; and the largest difference between our scores and gseapy's (same samples).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd


def _expression(genes: int, samples: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    level = rng.normal(7.0, 2.5, size=genes)[:, None]
    values = level + rng.normal(0.0, 0.6, size=(genes, samples))
    values[: genes // 20] = 3.1  # unexpressed genes: tied VST floor
    return pd.DataFrame(
        values,
        index=[f"GENE{i:05d}" for i in range(genes)],
        columns=[f"S{j:04d}" for j in range(samples)],
    )


def _sets(genes: list[str], n: int, seed: int) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    return {
        f"SET_{k:03d}": [
            str(g) for g in rng.choice(genes, int(rng.integers(15, 301)), replace=False)
        ]
        for k in range(n)
    }


def _finish(start_wall: float, start_cpu: float, extra: dict) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out = {
        "wall": time.perf_counter() - start_wall,
        "cpu": time.process_time() - start_cpu,
        "rss_mb": usage.ru_maxrss / 1024,
    } | extra
    print(json.dumps(out))


def run_variant(args: argparse.Namespace) -> None:
    expression = _expression(args.genes, args.samples, args.seed)
    sets = _sets(list(expression.index), args.sets, args.seed + 1)
    if args.variant in {"fast", "gseapy"}:
        from redoxseq.cohort.scoring import score_cohort

        subset = (
            expression.iloc[:, : args.reference_samples] if args.variant == "gseapy" else expression
        )
        if args.variant == "gseapy":
            import gseapy  # noqa: F401  (import not timed)
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        scores, _ = score_cohort(
            subset,
            {"bench": sets},
            method=args.variant,
            min_size=1,
            max_size=10**6,
            threads=args.threads,
        )
        elapsed = {"samples": subset.shape[1]}
        _finish(start_wall, start_cpu, elapsed)
        scores.to_parquet(args.output) if args.output.endswith(".parquet") else scores.to_csv(
            args.output, sep="\t", index=False
        )
        return
    # correlations of `--scores` score-like features over all samples
    rng = np.random.default_rng(args.seed + 2)
    latent = rng.normal(size=(args.samples, 5))
    features = pd.DataFrame(
        latent @ rng.normal(size=(5, args.scores)) + rng.normal(size=(args.samples, args.scores)),
        index=expression.columns,
        columns=[f"SCORE_{k:03d}" for k in range(args.scores)],
    )
    del expression
    strata = pd.Series(np.where(np.arange(args.samples) % 3 == 0, "a", "b"), index=features.index)
    pairs = [(a, b) for i, a in enumerate(features.columns) for b in features.columns[i + 1 :]]
    from scipy import stats  # imported before timing in both variants

    if args.variant == "correlate":
        from redoxseq.cohort.correlations import correlate

        start_wall, start_cpu = time.perf_counter(), time.process_time()
        table = correlate(features, pairs, strata=strata, methods=["spearman", "pearson"])
        _finish(start_wall, start_cpu, {"pairs": len(pairs), "strata": 3})
    else:  # scipy: the same numbers pair by pair
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        rows = []
        for stratum, members in [("all", features.index)] + [
            (level, strata.index[strata == level]) for level in ["a", "b"]
        ]:
            sub = features.loc[members]
            for method, func in [("spearman", stats.spearmanr), ("pearson", stats.pearsonr)]:
                for a, b in pairs:
                    r, p = func(sub[a], sub[b])
                    rows.append((stratum, method, a, b, float(r), float(p)))
        table = pd.DataFrame(
            rows, columns=["stratum", "method", "feature_a", "feature_b", "r", "pvalue"]
        )
        _finish(start_wall, start_cpu, {"pairs": len(pairs), "strata": 3})
    table.to_csv(args.output, sep="\t", index=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--genes", type=int, default=20000)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--sets", type=int, default=60)
    parser.add_argument("--reference-samples", type=int, default=2000)
    parser.add_argument("--scores", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--variant", choices=["fast", "gseapy", "correlate", "scipy"])
    parser.add_argument("--output", default="")
    args = parser.parse_args()
    if args.variant:
        run_variant(args)
        return
    import tempfile
    from pathlib import Path

    common = [
        f"--genes={args.genes}",
        f"--samples={args.samples}",
        f"--sets={args.sets}",
        f"--reference-samples={args.reference_samples}",
        f"--scores={args.scores}",
        f"--threads={args.threads}",
        f"--seed={args.seed}",
    ]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in ["fast", "gseapy", "correlate", "scipy"]:
            out = str(Path(tmp) / f"{variant}.tsv")
            done = subprocess.run(
                [sys.executable, __file__, f"--variant={variant}", f"--output={out}", *common],
                capture_output=True,
                text=True,
                check=True,
            )
            results[variant] = json.loads(done.stdout.strip().splitlines()[-1])
            results[variant]["table"] = pd.read_csv(out, sep="\t")
    fast, ref = results["fast"], results["gseapy"]
    n_ref = ref["samples"]
    merged = ref["table"].merge(
        fast["table"], on=["collection", "gene_set", "sample"], suffixes=("_ref", "")
    )
    diff = (merged["score"] - merged["score_ref"]).abs()
    rel = diff / merged["score_ref"].abs().clip(lower=1e-12)
    per_sample_fast = fast["wall"] / fast["samples"]
    per_sample_ref = ref["wall"] / n_ref
    print(
        f"# scoring: {args.sets} sets x {args.genes} genes; fast on {fast['samples']} samples, "
        f"gseapy on {n_ref}; {args.threads} threads"
    )
    print(
        "| variant | samples | wall s | CPU s | peak RSS MB | wall per 1000 samples "
        "| ratio (wall per sample) |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, res in [
        ("redoxseq fast (exact vectorised)", fast),
        ("gseapy ssgsea (reference)", ref),
    ]:
        per = res["wall"] / res["samples"]
        print(
            f"| {name} | {res['samples']} | {res['wall']:.2f} | {res['cpu']:.2f} "
            f"| {res['rss_mb']:.0f} | {1000 * per:.2f} | {per / per_sample_ref:.4f} |"
        )
    print(
        f"# equal scores: {len(merged)} set x sample scores compared; "
        f"max |diff| {diff.max():.3g}, max relative {rel.max():.3g}; "
        f"speed-up {per_sample_ref / per_sample_fast:.0f} x"
    )
    cor, sci = results["correlate"], results["scipy"]
    m = cor["table"].merge(
        sci["table"], on=["stratum", "method", "feature_a", "feature_b"], suffixes=("", "_ref")
    )
    print(
        f"# correlations: {args.scores} scores, {cor['pairs']} pairs x 2 methods x 3 strata "
        f"(all + 2), {args.samples} samples"
    )
    print("| variant | wall s | CPU s | peak RSS MB | ratio |")
    print("|---|---|---|---|---|")
    print(
        f"| redoxseq correlate (matrix form, p-values, FDR) | {cor['wall']:.2f} "
        f"| {cor['cpu']:.2f} | {cor['rss_mb']:.0f} | {cor['wall'] / sci['wall']:.4f} |"
    )
    print(
        f"| scipy pearsonr/spearmanr per pair (reference) | {sci['wall']:.2f} | {sci['cpu']:.2f} | "
        f"{sci['rss_mb']:.0f} | 1 |"
    )
    p_rel = (m["pvalue"] - m["pvalue_ref"]).abs() / m["pvalue_ref"].clip(lower=1e-300)
    print(
        f"# equal: max |r diff| {(m['r'] - m['r_ref']).abs().max():.3g}, "
        f"max relative p diff {p_rel.max():.3g}"
    )


if __name__ == "__main__":
    main()
