"""Fixed costs: counting many small BAMs, one fresh process per BAM (as one job per sample),
redoxseq vs featureCounts at equal threads, measured in the same run.

    .venv/bin/python benchmarks/bench_small_bams.py --threads 2 --repeat 3

Uses the bundled sample experiment (12 paired-end BAMs of ~2 MB, 20-60 k pairs each) and its
GTF. redoxseq counts from the prebuilt gene index (as the workflow's count jobs do); the
featureCounts command is the workflow's settings (-p --countReadPairs -s 2). Prints the wall
time of all 12 processes (median of --repeat rounds) and the ratio, and their CPU time (user +
system of the child processes: the figure to compare on a loaded machine, where wall time
depends on the other jobs). Also reported: the import time of a count job
(``python -X importtime``-free: a process that only imports, as the job does). Every process
gets the environment Snakemake gives a job of ``--threads`` threads (``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS`` and the other BLAS thread variables, as in ``snakemake/shell.py``).
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from snakemake_env import job_environment  # the script's folder is on sys.path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SAMPLE = REPO / "resources" / "sample_experiment"


def _wall(commands: list[list[str]], threads: int) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the children) of running ``commands`` in turn."""
    env = job_environment(threads)
    before = os.times()
    start = time.perf_counter()
    for command in commands:
        subprocess.run(command, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    featurecounts = shutil.which("featureCounts")
    if featurecounts is None:
        raise SystemExit("featureCounts not found (Debian package subread)")
    bams = sorted((SAMPLE / "bams").glob("*.bam"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        gtf = work / "annotation.gtf"
        with gzip.open(SAMPLE / "annotation.gtf.gz", "rb") as src, gtf.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        index = work / "index.pkl"
        subprocess.run(
            [str(BIN / "redoxseq"), "count", "--gtf", str(gtf), "--save-index", str(index),
             "-o", str(work / "x.tsv"), "--strandedness", "reverse", str(bams[0])],
            check=True, capture_output=True,
        )  # fmt: skip
        ours = [
            [str(BIN / "redoxseq"), "count", "--index", str(index), "--threads",
             str(args.threads), "--strandedness", "reverse", "-o", str(work / "r.tsv"), str(b)]
            for b in bams
        ]  # fmt: skip
        theirs = [
            [featurecounts, "-T", str(args.threads), "-p", "--countReadPairs", "-s", "2",
             "-a", str(gtf), "-o", str(work / "f.tsv"), str(b)]
            for b in bams
        ]  # fmt: skip
        imports = [
            [sys.executable, "-c",
             "from redoxseq.lazy import single_thread_blas; single_thread_blas(); "
             "import redoxseq.counting.sample, redoxseq.counting.annotation, redoxseq.cli"]
        ] * len(bams)  # fmt: skip
        rounds: dict[str, list[tuple[float, float]]] = {
            "redoxseq": [],
            "featureCounts": [],
            "imports only": [],
        }
        for _ in range(args.repeat):
            rounds["redoxseq"].append(_wall(ours, args.threads))
            rounds["featureCounts"].append(_wall(theirs, args.threads))
            rounds["imports only"].append(_wall(imports, args.threads))
    ref_wall = statistics.median(w for w, _ in rounds["featureCounts"])
    ref_cpu = statistics.median(c for _, c in rounds["featureCounts"])
    print(f"# {len(bams)} BAMs, one process each, {args.threads} threads, median of {args.repeat}")
    print("| tool | wall s (12 BAMs) | per BAM s | / featureCounts | CPU s | / featureCounts |")
    print("|---|---|---|---|---|---|")
    for name, values in rounds.items():
        wall = statistics.median(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        print(
            f"| {name} | {wall:.2f} | {wall / len(bams):.3f} | {wall / ref_wall:.2f} "
            f"| {cpu:.2f} | {cpu / ref_cpu:.2f} |"
        )


if __name__ == "__main__":
    main()
