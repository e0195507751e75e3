"""The environment Snakemake gives a job, for benchmarks that run a job's process by hand."""

from __future__ import annotations

import os

# Snakemake sets these to the job's threads for `shell:` and `script:` jobs
# (snakemake/shell.py), so that BLAS and OpenMP libraries do not start a thread per core.
BLAS_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "GOTO_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def job_environment(threads: int) -> dict[str, str]:
    """This process's environment as Snakemake passes it to a job of ``threads`` threads."""
    return {**os.environ, **dict.fromkeys(BLAS_THREAD_VARIABLES, str(threads))}
