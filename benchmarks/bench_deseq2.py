"""Benchmark the DE stage: redoxseq BatchedInference vs pyDESeq2 DefaultInference vs R DESeq2.

For each matrix shape (simulated with a fixed seed by ``bench_deseq2_simulate.py``) the engines
run one after the other, each in its own process under ``/usr/bin/time -v``, with the same
number of cores (``--cores``):

- ``batched`` / ``default``: redoxseq's DE stage as the pipeline runs it, with
  ``deseq2.inference`` set to the engine: ``redoxseq.de.fit.fit_model`` (size factors, gene-wise /
  trend / MAP dispersions, LFCs, Cook's distances and refit) then ``contrast_results`` for
  B vs A (Wald test, independent filtering, BH); prefilter off so that R sees the same genes.
  Then one more ``contrast_results`` with apeGLM shrinkage, timed apart (``shrink``; only for
  ``default`` with ``--default-shrink``);
- ``R``: ``DESeq()`` + ``results()`` for the same contrast (``SerialParam`` at 1 core,
  ``MulticoreParam(cores)`` otherwise), DESeq2 as installed (Debian r-bioc-deseq2).

Printed per engine: DE wall and CPU time measured inside the process (after imports and
reading the matrix; R: after ``library()`` and reading), whole-process wall and CPU time and
peak RSS (with ``--repeat N``: each engine runs N times, in fresh processes, and the run with
the median DE wall time is reported, with every run's DE time and the largest peak RSS);
then the ratios and parity figures (batched / default vs R, batched vs default).
Everything is also written to ``WORKDIR/summary.<cores>cores.json``.

``DefaultInference`` on a shape with more than ``--default-max-cells`` genes x samples is not
run whole: it runs on the first ``--default-sample-genes`` genes and its times are scaled
linearly in genes; such rows are labelled ``extrapolated`` (and get no parity figures).

Usage::

    .venv/bin/python benchmarks/bench_deseq2.py --cores 1 \
        --shapes 20000x12,10000x85,60000x200 --workdir /tmp/bench_deseq2
    .venv/bin/python benchmarks/bench_deseq2.py --cores 2 --engines batched,R \
        --shapes 20000x12,10000x85,60000x200 --workdir /tmp/bench_deseq2
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_deseq2_simulate import simulate  # noqa: E402


# ------------------------------------------------------------------------------------------
# worker: one pyDESeq2 run in this process
# ------------------------------------------------------------------------------------------
def worker(args: argparse.Namespace) -> None:
    """Run redoxseq's DE stage (``redoxseq.de.fit``) with one engine; write results and timings.

    The stage runs as the pipeline runs it: ``fit_model`` (pyDESeq2 ``DeseqDataSet`` with
    redoxseq's R-style trend gene selection, size factors, dispersions, LFCs, Cook's distances
    and refit) then ``contrast_results`` for the contrast (Wald test, R-style SEs, independent
    filtering, BH). The prefilter is off so that R sees the same genes. apeGLM shrinkage (not
    run on the R side: apeglm is not installed) is timed apart, on a second contrast object
    that asks for it.
    """
    warnings.simplefilter("ignore")
    # Imported before the clock starts (R's timing also starts after library(DESeq2)).
    import pydeseq2.dds
    import pydeseq2.ds  # noqa: F401

    import redoxseq.de.inference  # noqa: F401
    from redoxseq.de.design import preflight
    from redoxseq.de.fit import contrast_results, fit_model, get_engine

    counts = pd.read_csv(args.counts, sep="\t", index_col=0)  # genes x samples
    if args.n_genes:
        counts = counts.iloc[: args.n_genes]
    samples = pd.read_csv(args.meta, sep="\t", dtype=str).set_index("sample", drop=False)
    contrast = {"B_vs_A": {"factor": "condition", "numerator": "B", "denominator": "A"}}
    deseq2 = {
        "design": "~ condition",
        "reference_levels": {"condition": "A"},
        "prefilter": {"min_count": 0},
        "inference": args.worker,
        "thresholds": {"alpha": 0.05},
    }
    plain = preflight(samples, {**deseq2, "shrink": False}, contrast)
    shrunk = preflight(samples, {**deseq2, "shrink": True}, contrast)
    t0 = time.perf_counter()
    c0 = time.process_time()
    model, _ = fit_model(counts, samples, plain.design, plain.settings, threads=args.cores)
    engine = get_engine(args.worker, args.cores)
    res = contrast_results(model, plain.contrasts["B_vs_A"], engine=engine)["results"]
    t1 = time.perf_counter()
    c1 = time.process_time()
    if args.shrink:
        with_shrink = contrast_results(model, shrunk.contrasts["B_vs_A"], engine=engine)
        res["log2FoldChange_shrunk"] = with_shrink["results"]["log2FoldChange_shrunk"]
        res["lfcSE_shrunk"] = with_shrink["results"]["lfcSE_shrunk"]
    t2 = time.perf_counter()
    res["dispersion"] = pd.Series(model.dispersions, index=model.genes)
    res.index.name = "gene_id"
    res.to_csv(args.out, sep="\t")
    pd.Series(model.size_factors, index=model.samples).to_csv(
        args.out.replace(".tsv", ".size_factors.tsv"), sep="\t"
    )
    Path(args.timing).write_text(
        json.dumps(
            {
                "de_wall": t1 - t0,
                "de_cpu_self": c1 - c0,
                # one more contrast_results call, this one with apeGLM shrinkage
                "shrink_wall": t2 - t1 if args.shrink else float("nan"),
            }
        )
    )


# ------------------------------------------------------------------------------------------
# driver
# ------------------------------------------------------------------------------------------
def _time_v(cmd: list[str]) -> dict[str, float]:
    """Run ``cmd`` under /usr/bin/time -v; return wall, cpu (s) and peak RSS (MB)."""
    proc = subprocess.run(
        ["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed:\n{proc.stderr[-3000:]}")
    err = proc.stderr

    def grab(pattern: str) -> str:
        m = re.search(pattern, err)
        if m is None:
            raise RuntimeError(f"cannot parse /usr/bin/time output for {pattern!r}")
        return m.group(1)

    wall_s = grab(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)")
    parts = [float(x) for x in wall_s.split(":")]
    wall = sum(v * 60**i for i, v in enumerate(reversed(parts)))
    cpu = float(grab(r"User time \(seconds\): (\S+)")) + float(
        grab(r"System time \(seconds\): (\S+)")
    )
    rss = float(grab(r"Maximum resident set size \(kbytes\): (\d+)")) / 1024
    return {"proc_wall": wall, "cpu": cpu, "rss_mb": rss}


def _parity(res: pd.DataFrame, ref: pd.DataFrame) -> dict[str, float]:
    """Parity figures of ``res`` against ``ref`` (R or DefaultInference), on shared genes."""
    from scipy.stats import pearsonr, spearmanr

    genes = res.index.intersection(ref.index)
    a, b = res.loc[genes], ref.loc[genes]
    ok = a["log2FoldChange"].notna() & b["log2FoldChange"].notna()
    okp = a["padj"].notna() & b["padj"].notna()
    sa = set(genes[(a["padj"] < 0.05).to_numpy()])
    sb = set(genes[(b["padj"] < 0.05).to_numpy()])
    union = sa | sb
    return {
        "lfc_pearson": float(pearsonr(a.loc[ok, "log2FoldChange"], b.loc[ok, "log2FoldChange"])[0]),
        "padj_spearman": float(spearmanr(a.loc[okp, "padj"], b.loc[okp, "padj"])[0]),
        "jaccard": len(sa & sb) / len(union) if union else 1.0,
        "n_sig": float(len(sa)),
        "n_sig_ref": float(len(sb)),
    }


def _max_rel(a: pd.Series, b: pd.Series) -> float:
    x, y = a.to_numpy(float), b.to_numpy(float)
    m = np.isfinite(x) & np.isfinite(y)
    if (np.isfinite(x) != np.isfinite(y)).any():
        return float("nan")
    return float(np.max(np.abs(x[m] - y[m]) / np.maximum(np.abs(y[m]), 1e-300)))


def run_shape(n_genes: int, n_samples: int, args: argparse.Namespace) -> tuple[list[dict], dict]:
    """Benchmark the engines on one simulated shape; return timing rows and parity figures."""
    wd = Path(args.workdir)
    wd.mkdir(parents=True, exist_ok=True)
    tag = f"{n_genes}x{n_samples}"
    counts, meta = simulate(n_genes, n_samples, seed=args.seed)
    cpath, mpath = wd / f"{tag}.counts.tsv", wd / f"{tag}.metadata.tsv"
    counts.T.to_csv(cpath, sep="\t", index_label="gene_id")
    meta.to_csv(mpath, sep="\t", index_label="sample")
    del counts
    py = sys.executable
    rows: list[dict] = []
    results: dict[str, pd.DataFrame] = {}
    sizef: dict[str, pd.Series] = {}
    full: dict[str, bool] = {}
    for engine in args.engines.split(","):
        out = str(wd / f"{tag}.{engine}.{args.cores}cores.results.tsv")
        timing = str(wd / f"{tag}.{engine}.{args.cores}cores.timing")
        scale = 1.0
        label = "measured"
        if engine == "R":
            cmd = ["Rscript", str(HERE / "bench_deseq2_run.R"), str(cpath), str(mpath),
                   str(args.cores), out, timing]  # fmt: skip
        else:
            cmd = [py, str(Path(__file__).resolve()), "--worker", engine, "--counts", str(cpath),
                   "--meta", str(mpath), "--cores", str(args.cores), "--out", out,
                   "--timing", timing]  # fmt: skip
            if engine == "batched" or args.default_shrink:
                cmd.append("--shrink")
            if engine == "default" and n_genes * n_samples > args.default_max_cells:
                cmd += ["--n-genes", str(args.default_sample_genes)]
                scale = n_genes / args.default_sample_genes
                label = f"extrapolated (first {args.default_sample_genes} genes x{scale:g})"
        full[engine] = scale == 1.0
        runs = []
        for rep in range(args.repeat):
            print(f"[{tag}, {args.cores} core(s)] running {engine} ({rep + 1}/{args.repeat}) ...",
                  file=sys.stderr, flush=True)  # fmt: skip
            m = _time_v(cmd)
            if engine == "R":
                de_wall, _startup, de_cpu = (float(x) for x in Path(timing).read_text().split())
                shrink = float("nan")
            else:
                tj = json.loads(Path(timing).read_text())
                de_wall, de_cpu, shrink = tj["de_wall"], tj["de_cpu_self"], tj["shrink_wall"]
            runs.append({"de_wall": de_wall, "de_cpu": de_cpu, "shrink": shrink, **m})
        # the median run by DE wall time (each run is a fresh process; the machine is shared)
        med = sorted(runs, key=lambda run: run["de_wall"])[(len(runs) - 1) // 2]
        m = {k: med[k] for k in ("proc_wall", "cpu")}
        m["rss_mb"] = max(run["rss_mb"] for run in runs)
        de_wall, de_cpu, shrink = med["de_wall"], med["de_cpu"], med["shrink"]
        row = {
            "shape": tag,
            "cores": args.cores,
            "engine": engine,
            "de_wall_s": de_wall * scale,
            "de_cpu_s": de_cpu * scale,
            "shrink_wall_s": shrink * scale,
            "proc_wall_s": m["proc_wall"] * scale if scale != 1 else m["proc_wall"],
            "proc_cpu_s": m["cpu"] * scale if scale != 1 else m["cpu"],
            "peak_rss_mb": m["rss_mb"] if scale == 1 else float("nan"),
            "label": label,
            "de_wall_runs_s": [round(run["de_wall"] * scale, 3) for run in runs],
        }
        rows.append(row)
        results[engine] = pd.read_csv(out, sep="\t", index_col=0)
        sf_path = out.replace(".tsv", ".size_factors.tsv")
        sizef[engine] = pd.read_csv(sf_path, sep="\t", index_col=0).iloc[:, 0]
        print(json.dumps(row), flush=True)

    par: dict = {"shape": tag, "cores": args.cores}
    if "R" in results:
        r = results["R"]
        for engine in ("batched", "default"):
            if engine in results and full[engine]:
                par[f"{engine}_vs_R"] = _parity(results[engine], r)
                par[f"{engine}_vs_R"]["sf_maxrel"] = _max_rel(
                    sizef[engine], sizef["R"].loc[sizef[engine].index]
                )
    if "batched" in results and "default" in results:
        b, d = results["batched"], results["default"]
        shared = d.index
        cols = ["log2FoldChange", "lfcSE", "stat", "pvalue", "padj", "dispersion"]
        cols += [c for c in ("log2FoldChange_shrunk", "lfcSE_shrunk") if c in d.columns]
        par["batched_vs_default_maxrel"] = {c: _max_rel(b.loc[shared, c], d[c]) for c in cols}
        if full["default"]:
            sb = set(shared[(b.loc[shared, "padj"] < 0.05).to_numpy()])
            sd = set(shared[(d["padj"] < 0.05).to_numpy()])
            par["batched_vs_default_same_sig_set"] = sb == sd
    print(json.dumps(par), flush=True)
    return rows, par


def main() -> None:
    """Command-line entry point (see module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default="20000x12,10000x85,60000x200")
    ap.add_argument("--engines", default="batched,default,R")
    ap.add_argument("--cores", type=int, default=1)
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per engine and shape (fresh processes); the median is reported",
    )
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--workdir", default="/tmp/bench_deseq2")
    ap.add_argument("--default-max-cells", type=int, default=2_000_000)
    ap.add_argument("--default-sample-genes", type=int, default=3000)
    ap.add_argument("--default-shrink", action="store_true",
                    help="also time DefaultInference's apeGLM shrinkage (slow)")  # fmt: skip
    # worker mode
    ap.add_argument("--worker", choices=["batched", "default"])
    ap.add_argument("--counts")
    ap.add_argument("--meta")
    ap.add_argument("--out")
    ap.add_argument("--timing")
    ap.add_argument("--n-genes", type=int, default=0)
    ap.add_argument("--shrink", action="store_true")
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    rows: list[dict] = []
    parity: list[dict] = []
    for shape in args.shapes.split(","):
        g, s = (int(x) for x in shape.lower().split("x"))
        shape_rows, par = run_shape(g, s, args)
        rows += shape_rows
        parity.append(par)
    table = pd.DataFrame(rows)
    summary = Path(args.workdir) / f"summary.{args.cores}cores.json"
    summary.write_text(json.dumps({"rows": rows, "parity": parity}, indent=1))
    print("\n" + table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print("\nratios X / batched of the DE stage inside the process (wall; CPU in brackets):")
    for shape, grp in table.groupby("shape", sort=False):
        e = grp.set_index("engine")
        bw, bc = e.loc["batched", "de_wall_s"], e.loc["batched", "de_cpu_s"]
        parts = [f"{shape}, {args.cores} core(s):"]
        for other in [x for x in e.index if x != "batched"]:
            parts.append(
                f"{other}/batched {e.loc[other, 'de_wall_s'] / bw:.1f}x "
                f"({e.loc[other, 'de_cpu_s'] / bc:.1f}x) [{e.loc[other, 'label']}]"
            )
        if "R" in e.index:
            rss = e.loc["batched", "peak_rss_mb"] / e.loc["R", "peak_rss_mb"]
            parts.append(f"peak RSS batched/R {rss:.2f}")
        print(parts[0] + " " + "; ".join(parts[1:]))
    print(f"\nall rows and parity figures: {summary}")


if __name__ == "__main__":
    main()
