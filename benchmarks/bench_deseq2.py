"""Benchmark the DE stage: redoxseq BatchedInference vs pyDESeq2 DefaultInference vs R DESeq2.

For each matrix shape (simulated with a fixed seed by ``bench_deseq2_simulate.py``) the three
engines run one after the other, each in its own process under ``/usr/bin/time -v``, with the
same number of cores:

- ``batched``: ``DeseqDataSet(..., inference=BatchedInference)``; ``deseq2()``; one
  ``DeseqStats`` contrast (B vs A) with ``summary()``; then ``lfc_shrink`` (timed apart);
- ``default``: the same with pyDESeq2's ``DefaultInference``;
- ``R``: ``DESeq()`` + ``results()`` for the same contrast (``BPPARAM`` with equal cores),
  DESeq2 as installed (Debian r-bioc-deseq2).

Printed per engine: DE wall time measured inside the process (after reading the matrix),
process wall time (including interpreter start-up and reading), CPU time (user+sys), peak RSS;
then the ratios and parity figures (batched vs default, batched/default vs R).

``DefaultInference`` on a shape with more than ``--default-max-cells`` genes x samples is not
run whole: it runs on the first ``--default-sample-genes`` genes and its times are scaled
linearly in genes; such rows are labelled ``extrapolated``.

Usage::

    .venv/bin/python benchmarks/bench_deseq2.py --cores 1 \
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
    """Run the pyDESeq2 DE stage with one engine; write results and timings."""
    warnings.simplefilter("ignore")
    from pydeseq2.dds import DeseqDataSet
    from pydeseq2.ds import DeseqStats

    from redoxseq.inference import get_inference

    counts = pd.read_csv(args.counts, sep="\t", index_col=0)
    if args.n_genes:
        counts = counts.iloc[: args.n_genes]
    counts = counts.T
    meta = pd.read_csv(args.meta, sep="\t", index_col=0)
    inf = get_inference(args.worker, args.cores)
    t0 = time.perf_counter()
    c0 = time.process_time()
    dds = DeseqDataSet(counts=counts, metadata=meta, design="~condition", inference=inf, quiet=True)
    dds.deseq2()
    ds = DeseqStats(dds, contrast=["condition", "B", "A"], inference=inf, quiet=True)
    ds.summary()
    t1 = time.perf_counter()
    res = ds.results_df.copy()
    ds.lfc_shrink(coeff="condition[T.B]")
    t2 = time.perf_counter()
    res["log2FoldChange_shrunk"] = ds.results_df["log2FoldChange"]
    res["lfcSE_shrunk"] = ds.results_df["lfcSE"]
    res["dispersion"] = dds.var["dispersions"]
    res.index.name = "gene_id"
    res.to_csv(args.out, sep="\t")
    pd.Series(dds.obs["size_factors"]).to_csv(
        args.out.replace(".tsv", ".size_factors.tsv"), sep="\t"
    )
    Path(args.timing).write_text(
        json.dumps(
            {"de_wall": t1 - t0, "shrink_wall": t2 - t1, "de_cpu_self": time.process_time() - c0}
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


def run_shape(n_genes: int, n_samples: int, args: argparse.Namespace) -> list[dict]:
    """Benchmark the three engines on one simulated shape; return printed rows."""
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
    for engine in ["batched", "default", "R"]:
        out = str(wd / f"{tag}.{engine}.results.tsv")
        timing = str(wd / f"{tag}.{engine}.timing")
        scale = 1.0
        label = "measured"
        if engine == "R":
            cmd = ["Rscript", str(HERE / "bench_deseq2_run.R"), str(cpath), str(mpath),
                   str(args.cores), out, timing]  # fmt: skip
        else:
            cmd = [py, str(Path(__file__).resolve()), "--worker", engine, "--counts", str(cpath),
                   "--meta", str(mpath), "--cores", str(args.cores), "--out", out,
                   "--timing", timing]  # fmt: skip
            if engine == "default" and n_genes * n_samples > args.default_max_cells:
                cmd += ["--n-genes", str(args.default_sample_genes)]
                scale = n_genes / args.default_sample_genes
                label = f"extrapolated (first {args.default_sample_genes} genes x{scale:g})"
        print(f"[{tag}] running {engine} ...", file=sys.stderr, flush=True)
        m = _time_v(cmd)
        if engine == "R":
            de_wall, _startup = (float(x) for x in Path(timing).read_text().split())
            shrink = float("nan")
        else:
            tj = json.loads(Path(timing).read_text())
            de_wall, shrink = tj["de_wall"], tj["shrink_wall"]
        row = {
            "shape": tag,
            "engine": engine,
            "de_wall_s": de_wall * scale,
            "shrink_wall_s": shrink * scale,
            "proc_wall_s": m["proc_wall"] * scale if scale != 1 else m["proc_wall"],
            "cpu_s": m["cpu"] * scale if scale != 1 else m["cpu"],
            "peak_rss_mb": m["rss_mb"] if scale == 1 else float("nan"),
            "label": label,
        }
        rows.append(row)
        res = pd.read_csv(out, sep="\t", index_col=0)
        results[engine] = res
        sf_path = out.replace(".tsv", ".size_factors.tsv")
        sizef[engine] = pd.read_csv(sf_path, sep="\t", index_col=0).iloc[:, 0]
        print(json.dumps(row), flush=True)

    b, d, r = results["batched"], results["default"], results["R"]
    par = {
        "shape": tag,
        "sf_maxrel_batched_vs_R": _max_rel(
            sizef["batched"], sizef["R"].loc[sizef["batched"].index]
        ),
        "batched_vs_R": _parity(b, r),
        "default_vs_R": _parity(d, r),
    }
    shared = d.index
    par["batched_vs_default_maxrel"] = {
        col: _max_rel(b.loc[shared, col], d[col])
        for col in [
            "log2FoldChange",
            "lfcSE",
            "stat",
            "pvalue",
            "padj",
            "dispersion",
            "log2FoldChange_shrunk",
            "lfcSE_shrunk",
        ]
    }
    sb = set(shared[(b.loc[shared, "padj"] < 0.05).to_numpy()])
    sd = set(shared[(d["padj"] < 0.05).to_numpy()])
    par["batched_vs_default_same_sig_set"] = sb == sd
    print(json.dumps(par), flush=True)
    return rows


def main() -> None:
    """Command-line entry point (see module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default="20000x12,10000x85,60000x200")
    ap.add_argument("--cores", type=int, default=1)
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--workdir", default="/tmp/bench_deseq2")
    ap.add_argument("--default-max-cells", type=int, default=2_000_000)
    ap.add_argument("--default-sample-genes", type=int, default=3000)
    # worker mode
    ap.add_argument("--worker", choices=["batched", "default"])
    ap.add_argument("--counts")
    ap.add_argument("--meta")
    ap.add_argument("--out")
    ap.add_argument("--timing")
    ap.add_argument("--n-genes", type=int, default=0)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    rows: list[dict] = []
    for shape in args.shapes.split(","):
        g, s = (int(x) for x in shape.lower().split("x"))
        rows += run_shape(g, s, args)
    table = pd.DataFrame(rows)
    print("\n" + table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print("\nratios (R or default / batched), DE wall inside the process; R also incl. start-up:")
    for shape, grp in table.groupby("shape", sort=False):
        e = grp.set_index("engine")
        bt = e.loc["batched", "de_wall_s"]
        print(
            f"{shape}: R/batched {e.loc['R', 'de_wall_s'] / bt:.1f}x "
            f"(process wall {e.loc['R', 'proc_wall_s'] / e.loc['batched', 'proc_wall_s']:.1f}x), "
            f"default/batched {e.loc['default', 'de_wall_s'] / bt:.1f}x "
            f"[{e.loc['default', 'label']}], "
            f"peak RSS batched/R {e.loc['batched', 'peak_rss_mb'] / e.loc['R', 'peak_rss_mb']:.2f}"
        )


if __name__ == "__main__":
    main()
