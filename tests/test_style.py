"""The style gates: ruff, ruff format, snakefmt, snakemake --lint and mypy are clean."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import BIN, REPO


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)


def test_ruff_lint_is_clean() -> None:
    result = _run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = _run(str(BIN / "ruff"), "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakefmt_is_clean() -> None:
    result = _run(str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/rules")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_snakemake_lint_is_clean() -> None:
    result = _run(str(BIN / "snakemake"), "--lint", "--cores", "1")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Lints for" not in output, output


@pytest.mark.slow
@pytest.mark.skipif(
    not (REPO / "resources" / "sample_experiment" / "fastq").is_dir(),
    reason="sample FASTQ not written (setup.sh runs python -m redoxseq.simulate --fastq)",
)
def test_snakemake_lint_is_clean_for_fastq_input() -> None:
    """The FASTQ route's rules (align.smk) are in the DAG only with FASTQ units."""
    result = _run(
        str(BIN / "snakemake"), "--lint", "--cores", "1",
        "--configfile", "config/examples/fastq.yaml",
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Lints for" not in output, output


@pytest.mark.slow
def test_mypy_is_clean() -> None:
    result = _run(str(BIN / "mypy"), "redoxseq")
    assert result.returncode == 0, result.stdout + result.stderr
