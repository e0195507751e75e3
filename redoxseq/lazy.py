"""Modules a job's process loads only if it uses them.

pyDESeq2 imports matplotlib's ``pyplot`` at the top of ``pydeseq2.utils`` for its plotting
helpers, which redoxseq never calls; a DE job would pay ~0.16 s of CPU for it
(benchmarks/README.md, "Fixed costs of a DE job"). :func:`defer_import` registers such a
module with the standard library's :class:`importlib.util.LazyLoader`: the name is bound at
import time and the module's code runs at its first attribute access, so code that does use
``pyplot`` in the same process (the figure modules, a test session) gets the real module.
:func:`single_thread_blas` keeps NumPy's OpenBLAS from starting a thread pool in a job that
does no linear algebra (a count job).
"""

from __future__ import annotations

import importlib.util
import os
import sys


def defer_import(name: str) -> None:
    """Make ``import name`` bind a module whose code runs at its first attribute access.

    A module already imported, or one that is not installed, is left alone.
    """
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


def single_thread_blas() -> None:
    """Keep NumPy's OpenBLAS to one thread in a process that does no linear algebra.

    Snakemake sets ``OPENBLAS_NUM_THREADS`` to a job's threads, and NumPy's bundled OpenBLAS
    starts that many threads when NumPy is imported, which then spin: ~0.1 s of CPU for a
    2-thread count job, whose threads are htslib's and its worker processes'
    (benchmarks/README.md, "Fixed costs of small count jobs"). Call it before NumPy is
    imported; afterwards it does nothing, so that a process already using BLAS keeps its
    threads. Child processes inherit the setting.
    """
    if "numpy" not in sys.modules:
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
