"""The installation is complete: the compiled extensions load, the library stays light."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.skipif(
    os.environ.get("REDOXSEQ_NO_COMPILER") == "1",
    reason="REDOXSEQ_NO_COMPILER=1: installed without a C compiler on purpose",
)
def test_compiled_counting_engine_is_installed() -> None:
    """setup.sh installs gcc and the Python headers, so the Cython engine must be built.

    Without it every fast-engine comparison would be skipped and counting would silently be
    several times slower.
    """
    from redoxseq.counting.parallel import load_fast_engine

    assert hasattr(load_fast_engine(), "count_alignment_file")


@pytest.mark.skipif(
    os.environ.get("REDOXSEQ_NO_COMPILER") == "1",
    reason="REDOXSEQ_NO_COMPILER=1: installed without a C compiler on purpose",
)
def test_compiled_dispersion_kernel_is_installed() -> None:
    """Same for the dispersion kernel of the batched DE engine (NumPy fallback: ~2x slower)."""
    from redoxseq.de import inference

    assert inference._dispersion_fast is not None
    assert all(hasattr(inference._dispersion_fast, name) for name in inference._KERNEL_API)
    assert not inference._STALE_KERNEL


@pytest.mark.skipif(
    os.environ.get("REDOXSEQ_NO_COMPILER") == "1",
    reason="REDOXSEQ_NO_COMPILER=1: installed without a C compiler on purpose",
)
def test_compiled_table_formatter_is_installed() -> None:
    """Same for the formatter of numeric tables (Python fallback: ~2x slower writing)."""
    import redoxseq.io

    assert redoxseq.io._tsv_fast is not None


def test_importing_redoxseq_does_not_import_heavy_stage_packages() -> None:
    code = (
        "import sys, redoxseq, redoxseq.config, redoxseq.io, redoxseq.plots.qc, "
        "redoxseq.plots.contrasts, redoxseq.plots.enrichment, redoxseq.plots.summary, "
        "redoxseq.plots.choices, redoxseq.plots.tables, redoxseq.de.design;"
        "print(sorted(m for m in ('pysam', 'pydeseq2', 'gseapy') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
