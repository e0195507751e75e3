"""Fixed costs of a DE job: where a ``deseq2_fit`` process spends its time, phase by phase.

    .venv/bin/python benchmarks/bench_de_job.py --sizes 20000x12 20000x48 20000x200 --repeat 3
    .venv/bin/python benchmarks/bench_de_job.py --before /path/to/older/checkout ...

Each run is a fresh process doing what ``scripts/deseq2_fit.py`` does (design ``~ condition``,
the pipeline's default fit settings, 1 thread) on a simulated matrix
(``bench_deseq2_simulate.py``, fixed seed), timing its phases with the process's CPU clock:
imports (redoxseq's modules, then pyDESeq2 and the batched engine, which the fit would import
on first use), reading the count table, the fit (size factors, dispersions, LFCs, Cook's, the
two VSTs), saving the model and writing the tables. The parent also takes the whole process's
CPU time (user + system) from the operating system, start-up included. Each process gets the
environment Snakemake gives a 1-thread ``script:`` job (``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS`` and the other BLAS thread variables set to 1, as in
``snakemake/shell.py``): without them NumPy's and SciPy's OpenBLAS start a thread pool each
and a job pays ~0.25 s more CPU than it does in the workflow. The same run also times the
**floor** that pyDESeq2 sets: a process that imports ``pydeseq2.dds`` and ``pydeseq2.ds``
(with ``pyplot`` deferred, as the job does) and nothing else; what is left for a job to
spend is its process CPU minus this floor. Medians of
``--repeat`` runs; with ``--before``, runs of the two checkouts alternate, so that a change in
machine load hits both. ``--before`` must be a checkout with its compiled extensions built
(``./setup.sh`` or ``pip install -e .``); its modules are put first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_deseq2_simulate import simulate  # noqa: E402
from snakemake_env import job_environment  # noqa: E402

# The job, timed phase by phase (CPU seconds of this process).
_JOB = """
import json, sys, time
clock = time.process_time
marks = {"start": clock()}
from redoxseq.counting.countmatrix import read_count_table
from redoxseq.de.design import fit_settings
from redoxseq.de.fit import fit_design
from redoxseq.io import write_tsv
marks["imports: redoxseq"] = clock()
import pydeseq2.dds, pydeseq2.ds, redoxseq.de.inference
marks["imports: pyDESeq2 and the engine"] = clock()
import pandas as pd
counts = read_count_table(sys.argv[1])
samples = pd.read_csv(sys.argv[2], sep="\\t", index_col=0)
marks["read"] = clock()
settings = fit_settings({"design": "~ condition", "reference_levels": {"condition": "A"}})
model, tables, warnings = fit_design(counts, samples, settings, threads=1)
marks["fit"] = clock()
model.save(sys.argv[3] + "/model.npz")
marks["save model"] = clock()
for name, table in tables.items():
    write_tsv(table, f"{sys.argv[3]}/{name}.tsv")
marks["write tables"] = clock()
names = list(marks)
print(json.dumps({b: marks[b] - marks[a] for a, b in zip(names, names[1:])}))
"""

# The floor: pyDESeq2's module-level imports, with pyplot deferred as redoxseq.de does.
_FLOOR = """
from redoxseq.lazy import defer_import
defer_import("matplotlib.pyplot")
import pydeseq2.dds, pydeseq2.ds
"""

_FLOOR_ROW = "floor: pyDESeq2's imports (CPU)"

PHASES = (
    "imports: redoxseq",
    "imports: pyDESeq2 and the engine",
    "read",
    "fit",
    "save model",
    "write tables",
)


def _process(checkout: Path, code: str, *args: Path) -> tuple[str, float, float]:
    """Run ``code`` in a fresh process in ``checkout``: its output, CPU and wall seconds."""
    env = {**job_environment(1), "PYTHONPATH": str(checkout)}
    before = os.times()
    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True, text=True, check=True, env=env, cwd=checkout,
    )  # fmt: skip
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return run.stdout, cpu, wall


def _run(checkout: Path, counts: Path, meta: Path, out: Path) -> dict[str, float]:
    """One fresh job process in ``checkout``, then the floor; phases and CPU seconds."""
    stdout, cpu, wall = _process(checkout, _JOB, counts, meta, out)
    phases = json.loads(stdout.strip().splitlines()[-1])
    phases["process CPU"] = cpu
    phases["process wall"] = wall
    phases[_FLOOR_ROW] = _process(checkout, _FLOOR)[1]
    return phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["20000x12", "20000x48", "20000x200"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", type=Path, help="an older checkout to compare against")
    args = parser.parse_args()
    checkouts = {"this checkout": REPO}
    if args.before:
        checkouts = {"before": args.before.resolve(), "after": REPO}
    print(f"load average at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for size in args.sizes:
            n_genes, n_samples = (int(x) for x in size.split("x"))
            counts_df, meta_df = simulate(n_genes, n_samples)
            counts = work / f"{size}.counts.tsv"
            meta = work / f"{size}.metadata.tsv"
            counts_df.T.to_csv(counts, sep="\t", index_label="gene_id")
            meta_df.to_csv(meta, sep="\t", index_label="sample")
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in checkouts}
            for _ in range(args.repeat):
                for name, checkout in checkouts.items():
                    out = work / name.replace(" ", "_")
                    out.mkdir(exist_ok=True)
                    runs[name].append(_run(checkout, counts, meta, out))
            print(f"\n{size} ({n_genes} genes x {n_samples} samples), median of {args.repeat}:")
            header = ["phase", *checkouts]
            print("| " + " | ".join(header) + " |")
            print("|" + "---|" * len(header))
            for phase in (*PHASES, "process CPU", "process wall", _FLOOR_ROW):
                cells = [f"{statistics.median(r[phase] for r in runs[n]):.2f}" for n in checkouts]
                print(f"| {phase} | " + " | ".join(cells) + " |")
            shares = [
                statistics.median(r["fit"] / r["process CPU"] for r in runs[n]) for n in checkouts
            ]
            print("| fit / process CPU | " + " | ".join(f"{s:.0%}" for s in shares) + " |")
            above = [
                statistics.median(r["fit"] / (r["process CPU"] - r[_FLOOR_ROW]) for r in runs[n])
                for n in checkouts
            ]
            print("| fit / (process CPU - floor) | " + " | ".join(f"{s:.0%}" for s in above) + " |")
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
