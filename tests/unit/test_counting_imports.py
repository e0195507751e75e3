"""The per-sample count job runs without pandas, and writes the bytes pandas would write.

A count job of a small BAM spends about a second counting; importing pandas would add 0.3 s
to each, and NumPy's OpenBLAS thread pool ~0.1 s (benchmarks/README.md, "Fixed costs of
small count jobs"). The job's tables are written with the csv module; these tests hold them to
the bytes of :func:`redoxseq.io.write_tsv` on the pandas views.
"""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from redoxseq.counting.annotation import (
    build_gene_index,
    gene_table,
    load_gene_index,
    save_gene_index,
    write_gene_table,
)
from redoxseq.counting.sample import SampleCounts, count_sample, write_sample_counts
from redoxseq.counting.types import SUMMARY_CATEGORIES, CountOptions
from redoxseq.errors import InputError
from redoxseq.io import write_tsv

REPO = Path(__file__).parents[2]
YEAST = REPO / "tests" / "data" / "reads" / "yeast"
GTF = YEAST / "Saccharomyces_cerevisiae.SGD1.01.56.gtf.gz"
BAM = YEAST / "yeast_RNASeq_excerpt.bam"
BAM_NH = YEAST / "yeast_RNASeq_excerpt_withNH.bam"

# runs scripts/count_sample.py as Snakemake would (a `snakemake` object in its globals)
_RUN_JOB = """
import json, runpy, sys
from types import SimpleNamespace as NS
args = json.loads(sys.argv[1])
job = NS(
    wildcards=NS(sample="s"),
    input=NS(bams=[args["bam"]], index=args["index"]),
    output=NS(**args["outputs"]),
    params=NS(counting={"min_mapq": 10}, strandedness="auto", units=["u1"], reference=""),
    threads=2,
    log=[args["log"]],
)
runpy.run_path(args["script"], init_globals={"snakemake": job})
from threadpoolctl import threadpool_info
blas = sorted({pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"})
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("pandas", "scipy"))))
print(json.dumps(blas))
"""


@pytest.fixture(scope="module")
def index():
    return build_gene_index(GTF)


@pytest.fixture(scope="module")
def saved_index(index, tmp_path_factory):
    path = tmp_path_factory.mktemp("index") / "gene_index.pkl"
    save_gene_index(index, path)
    return path


def _fresh_python(code: str, *args: str) -> str:
    # as Snakemake runs a 2-thread job: BLAS thread variables set to the job's threads
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_importing_the_count_modules_leaves_pandas_out():
    script = (REPO / "scripts" / "count_sample.py").read_text()
    modules = [
        line.split()[1] for line in script.splitlines() if line.startswith(("from ", "import "))
    ]
    assert "redoxseq.counting.sample" in modules  # the parse found the script's imports
    code = "import sys\n" + "\n".join(f"import {m}" for m in modules)
    code += "\nprint('pandas' in sys.modules)"
    assert _fresh_python(code).strip() == "False"


def test_the_count_job_runs_without_pandas(tmp_path, saved_index, index):
    outputs = {
        "counts": str(tmp_path / "s.counts.tsv"),
        "summary": str(tmp_path / "s.counts.tsv.summary"),
        "strandedness": str(tmp_path / "s.strandedness.tsv"),
        "units_summary": str(tmp_path / "s.units.summary.tsv"),
    }
    args = {
        "bam": str(BAM),
        "index": str(saved_index),
        "outputs": outputs,
        "log": str(tmp_path / "s.log"),
        "script": str(REPO / "scripts" / "count_sample.py"),
    }
    *_, modules, blas = _fresh_python(_RUN_JOB, json.dumps(args)).splitlines()
    assert json.loads(modules) == []  # neither pandas nor scipy
    assert json.loads(blas) == [1]  # NumPy's OpenBLAS started no thread pool
    # the job's tables are those of the same count in this process
    here = count_sample("s", [BAM], index, CountOptions(min_mapq=10), units=["u1"], threads=2)
    expected = [tmp_path / f"expected{i}" for i in range(4)]
    write_sample_counts(here, *expected)
    for ours, theirs in zip(outputs.values(), expected, strict=True):
        assert Path(ours).read_bytes() == theirs.read_bytes(), ours


def test_the_command_line_counts_from_an_index_without_pandas(tmp_path, saved_index):
    out = tmp_path / "c.tsv"
    code = (
        "import sys\nfrom redoxseq.cli import main\n"
        "status = main(sys.argv[1:])\nfrom threadpoolctl import threadpool_info\n"
        "blas = {p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas'}\n"
        "print(status, 'pandas' in sys.modules, *blas)"
    )
    argv = ["count", "--index", str(saved_index), "--min-mapq", "10", "-o", str(out), str(BAM)]
    assert _fresh_python(code, *argv).split() == ["0", "False", "1"]
    assert out.read_text().splitlines()[0] == "gene_id\tyeast_RNASeq_excerpt"


def _pandas_tables(result: SampleCounts, folder: Path) -> list[Path]:
    """The four tables as pandas would write them (the writer before pandas was dropped)."""
    paths = [folder / f"pandas{i}" for i in range(4)]
    write_tsv(result.counts.rename("count").to_frame(), paths[0])
    with paths[1].open("w") as handle:
        handle.write(f"Status\t{result.sample}\n")
        for cat, value in result.summary[result.sample].items():
            handle.write(f"{cat}\t{int(value)}\n")
    write_tsv(result.strandedness, paths[2])
    write_tsv(result.summary.iloc[:, 1:], paths[3])
    return paths


@pytest.mark.parametrize("multimapping", ["none", "fraction"])
def test_sample_tables_are_the_bytes_pandas_writes(tmp_path, index, multimapping):
    result = count_sample(
        "s", [BAM_NH, BAM], index, CountOptions(multimapping=multimapping), units=["a", "b"]
    )
    ours = [tmp_path / f"ours{i}" for i in range(4)]
    write_sample_counts(result, *ours)
    for mine, theirs in zip(ours, _pandas_tables(result, tmp_path), strict=True):
        assert mine.read_bytes() == theirs.read_bytes(), mine.name


def test_awkward_values_are_written_as_pandas_writes_them(tmp_path):
    """Fractions, tiny and huge floats, NaN evidence, names that need quoting."""
    values = np.round(
        np.array([1 / 3, 2 / 3, 1e-6, 0.0, 12345678.5, 1e17, 7.0, 0.1 + 0.2]), 6
    ).astype(np.float64)
    genes = (*(f"g{i}" for i in range(len(values) - 2)), 'g"quoted"', "g\twith tab")
    units = ("lane 1", 'lane"2')
    summary = np.arange(len(SUMMARY_CATEGORIES) * 3, dtype=np.int64).reshape(-1, 3)
    result = SampleCounts(
        sample="s;1",
        gene_ids=genes,
        values=values,
        unit_names=units,
        unit_summary=summary,
        evidence={
            "requested": "none",
            "chosen": "none",
            "detected": "unclear",
            "same_strand": 0,
            "opposite_strand": 0,
            "fraction_forward": float("nan"),
            "assigned_none": 5,
            "assigned_forward": 0,
            "assigned_reverse": 0,
            "reason": 'only 0 reads hit exactly one gene (auto_min_reads = "100")',
        },
        strandedness_used="none",
    )
    ours = [tmp_path / f"ours{i}" for i in range(4)]
    write_sample_counts(result, *ours)
    for mine, theirs in zip(ours, _pandas_tables(result, tmp_path), strict=True):
        assert mine.read_bytes() == theirs.read_bytes(), mine.name


def test_gene_table_writer_is_the_bytes_pandas_writes(tmp_path, index):
    write_gene_table(index, tmp_path / "ours.tsv")
    write_tsv(gene_table(index), tmp_path / "pandas.tsv")
    ours = (tmp_path / "ours.tsv").read_bytes()
    assert ours == (tmp_path / "pandas.tsv").read_bytes()
    assert b"\t\t" in ours  # genes without a name or biotype are in the comparison


def test_an_index_of_the_former_format_asks_to_be_rebuilt(tmp_path, index):
    old = dataclasses.replace(index, version=1)
    save_gene_index(old, tmp_path / "old.pkl")
    with pytest.raises(InputError, match=r"old\.pkl: a gene index of another .*format 1.*rebuild"):
        load_gene_index(tmp_path / "old.pkl")
