"""The run record: which inputs (by checksum), settings, software and seeds made a result.

:func:`run_record` builds a plain dictionary (JSON-ready, keys sorted when written) from
objects the adapter gathers; nothing here reads the workflow's configuration files.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

from redoxseq.errors import InputError

logger = logging.getLogger(__name__)

#: Python distributions whose versions are recorded (those installed).
PACKAGES: tuple[str, ...] = (
    "redoxseq", "snakemake", "pydeseq2", "anndata", "scikit-learn", "gseapy", "pysam",
    "numpy", "scipy", "pandas", "matplotlib", "openpyxl", "jsonschema", "PyYAML",
    "upsetplot", "adjustText", "multiqc", "snakemake-executor-plugin-slurm",
)  # fmt: skip

#: Bytes read at a time when hashing.
_BLOCK = 1 << 20


def sha256_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, as 64 hex digits."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{file}: input file not found while writing the run record")
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def hash_files(paths: Sequence[str], *, threads: int = 1) -> dict[str, dict[str, Any]]:
    """Path -> {sha256, bytes} for every file (hashed on ``threads`` threads), sorted by path."""
    unique = sorted(dict.fromkeys(str(p) for p in paths))
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        digests = list(pool.map(sha256_file, unique))
    return {
        path: {"sha256": digest, "bytes": Path(path).stat().st_size}
        for path, digest in zip(unique, digests, strict=True)
    }


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str]:
    """Installed version of each distribution in ``names`` (absent ones are left out)."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return dict(sorted(versions.items()))


def tool_version(command: str) -> str | None:
    """First line a command-line tool prints for ``--version`` (None if not on PATH)."""
    if shutil.which(command) is None:
        return None
    try:
        done = subprocess.run(
            [command, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        logger.warning("could not ask %s for its version: %s", command, error)
        return None
    lines = [ln.strip() for ln in (done.stdout + done.stderr).splitlines() if ln.strip()]
    return lines[0] if lines else None


def git_commit(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Commit of the workflow's git checkout and whether tracked files were modified."""
    if shutil.which("git") is None:
        return None

    def _git(*args: str) -> str | None:
        done = subprocess.run(
            ["git", "-C", str(folder), *args], capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else None

    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return None
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "modified": bool(status)}


def run_record(
    *,
    inputs: Mapping[str, Sequence[str]],
    config: Mapping[str, Any],
    seeds: Mapping[str, int],
    tools: Sequence[str],
    workflow_dir: str | os.PathLike[str],
    command_line: str,
    started: str,
    finished: str,
    threads: int = 1,
) -> dict[str, Any]:
    """Everything needed to say how this run's results were made.

    Parameters
    ----------
    inputs
        Input kind (``samples``, ``units``, ``reads``, ``annotation``, ``gene_sets`` ...) ->
        paths relative to the working directory.
    config
        The resolved configuration (defaults filled in).
    seeds
        Name -> seed of every random choice.
    tools
        External command-line tools the run used (versions asked with ``--version``).
    workflow_dir
        The workflow's folder (for its git commit).
    command_line, started, finished
        How Snakemake was started and when (UTC, ISO 8601); the only fields that differ
        between two runs of the same inputs and configuration.
    threads
        Threads for hashing the inputs.

    Returns
    -------
    dict
        ``inputs`` (kind -> path -> sha256 and size), ``config``, ``seeds``, ``software``
        (redoxseq version and git commit, Python, packages, tools), ``run``.
    """
    from redoxseq import __version__

    hashed = {kind: hash_files(paths, threads=threads) for kind, paths in inputs.items()}
    return {
        "format": "redoxseq run record 1",
        "inputs": hashed,
        "config": dict(config),
        "seeds": dict(seeds),
        "software": {
            "redoxseq": {"version": __version__, "git": git_commit(workflow_dir)},
            "python": {
                "version": platform.python_version(),
                "implementation": sys.implementation.name,
            },
            "packages": package_versions(),
            "tools": {tool: tool_version(tool) for tool in sorted(tools)},
        },
        "run": {
            "command_line": command_line,
            "started": started,
            "finished": finished,
            "platform": platform.system(),
        },
    }
