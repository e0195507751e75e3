"""How the workflow grows with samples: 12 / 48 / 96-sample simulated experiments, DE at 400.

For each size, ``python -m redoxseq.simulate --replicates N/4`` makes the experiment (cached in
--workdir), then in a fresh working directory (config/ copied, resources/sample_experiment ->
the simulated experiment) the script times:

* the DAG: ``snakemake -n`` (parse, config and sheet checks, DAG), wall seconds;
* the whole default workflow at ``--cores 2``: wall seconds;
* peak memory and wall time per rule from the rules' ``benchmark:`` files (max over jobs;
  rules without a ``benchmark:`` directive are not measured).

The DE stage at 400 samples runs from the simulated fragment counts (``simulate_counts``, no
BAMs) through ``counting.count_matrix``: the import, the fit and every contrast.

    nice -n 10 .venv/bin/python benchmarks/bench_scale.py --sizes 12 48 96 --de-size 400 \
        --workdir /tmp/rq/scale
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _simulate(size: int, workdir: Path) -> Path:
    out = workdir / f"sim{size}"
    if (out / "README.md").is_file():
        return out
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "redoxseq.simulate",
            "--replicates",
            str(size // 4),
            "--outdir",
            str(out),
        ],
        check=True,
        cwd=REPO,
    )
    print(f"# simulated {size} samples in {time.perf_counter() - start:.0f} s", flush=True)
    return out


def _workdir(root: Path, name: str, experiment: Path) -> Path:
    work = root / name
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(REPO / "config", work / "config")
    # the simulated experiment's own sheets (its units point into resources/sample_experiment)
    shutil.copy(experiment / "samples.tsv", work / "config" / "samples.tsv")
    shutil.copy(experiment / "units.tsv", work / "config" / "units.tsv")
    (work / "resources").mkdir(parents=True)
    (work / "resources" / "genesets").symlink_to(REPO / "resources" / "genesets")
    (work / "resources" / "sample_experiment").symlink_to(experiment)
    return work


def _snakemake(work: Path, *args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [
            str(BIN / "snakemake"),
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(work),
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit((done.stdout + done.stderr)[-4000:])
    return time.perf_counter() - start


def _per_rule(work: Path) -> pd.DataFrame:
    rows = []
    for path in sorted((work / "benchmarks" / "rules").glob("*/*.tsv")):
        table = pd.read_csv(path, sep="\t")
        rows.append(
            {
                "rule": path.parent.name,
                "s": float(table["s"].max()),
                "max_rss": float(table["max_rss"].max()),
            }
        )
    if not rows:
        return pd.DataFrame(columns=["jobs", "max_s", "sum_s", "max_rss_mb"])
    frame = pd.DataFrame(rows)
    return frame.groupby("rule").agg(
        jobs=("s", "size"), max_s=("s", "max"), sum_s=("s", "sum"), max_rss_mb=("max_rss", "max")
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="*", default=[12, 48, 96])
    parser.add_argument("--de-size", type=int, default=400)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/redoxseq-scale"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    summary = []
    for size in args.sizes:
        experiment = _simulate(size, args.workdir)
        work = _workdir(args.workdir, f"run{size}", experiment)
        dag = _snakemake(work, "-n", "--quiet")
        total = _snakemake(work, "--cores", str(args.cores))
        rules = _per_rule(work)
        assert rules.loc["count_sample", "jobs"] == size, rules
        summary.append({"samples": size, "dag_s": dag, "wall_s": total})
        print(
            f"## {size} samples: snakemake -n {dag:.1f} s, "
            f"workflow {total:.0f} s at {args.cores} cores "
            f"(load average {os.getloadavg()[1]:.1f} over the last 5 min)",
            flush=True,
        )
        print(rules.round(2).to_markdown(), flush=True)
    if args.de_size:
        from redoxseq.io import write_tsv
        from redoxseq.sim.experiment import SimulationParams, sample_table, simulate_counts

        work = args.workdir / f"de{args.de_size}"
        if work.exists():
            shutil.rmtree(work)
        params = replace(SimulationParams(), replicates=args.de_size // 4)
        _, counts = simulate_counts(params=params)
        (work / "data").mkdir(parents=True)
        write_tsv(counts, work / "data" / "counts.tsv")
        write_tsv(sample_table(params.replicates), work / "data" / "samples.tsv", index=False)
        shutil.copytree(REPO / "config", work / "config")
        (work / "resources").mkdir()
        (work / "resources" / "genesets").symlink_to(REPO / "resources" / "genesets")
        (work / "resources" / "sample_experiment").symlink_to(
            REPO / "resources" / "sample_experiment"
        )
        config = [
            "--config",
            "samples=data/samples.tsv",
            "counting={'count_matrix': 'data/counts.tsv'}",
        ]
        dag = _snakemake(work, "-n", "--quiet", *config)
        # the target before --config: --config takes every word after it as a setting
        total = _snakemake(
            work, "results/deseq2/significant_genes.xlsx", "--cores", str(args.cores), *config
        )
        rules = _per_rule(work)
        print(
            f"## DE stage, {args.de_size} samples x {counts.shape[0]} genes: "
            f"snakemake -n {dag:.1f} s, "
            f"import + fit + contrasts + workbook {total:.0f} s at {args.cores} cores",
            flush=True,
        )
        print(rules.round(2).to_markdown(), flush=True)
    table = pd.DataFrame(summary)
    if not table.empty:
        # growth per sample relative to the smallest experiment: 1.0 = linear, < 1 = sublinear
        first = table.iloc[0]
        per_sample = table["samples"] / first["samples"]
        table["dag_growth_per_sample"] = table["dag_s"] / first["dag_s"] / per_sample
        table["wall_growth_per_sample"] = table["wall_s"] / first["wall_s"] / per_sample
    print(table.round(2).to_markdown(index=False))


if __name__ == "__main__":
    main()
