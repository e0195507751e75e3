"""A finished run of the default workflow in a copy of the project, shared by the e2e tests.

The copy holds what a user's clone holds (Snakefile, config, workflow, scripts, envs,
profiles, the library's sources) with ``resources/`` linked, and Snakemake runs inside it as
the README's first command does, so paths are those of a real project folder (the rerun
tests move it).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO

PROJECT_PARTS = ("Snakefile", "config", "workflow", "scripts", "envs", "profiles", "redoxseq")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.so", "*.c", ".mypy_cache")


def make_project(folder: Path) -> Path:
    """A fresh project folder: the workflow's files copied, ``resources`` linked."""
    folder.mkdir(parents=True)
    for part in PROJECT_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, folder / part, ignore=_IGNORE)
        else:
            shutil.copy2(source, folder / part)
    (folder / "resources").symlink_to(REPO / "resources")
    return folder


def input_digests(project: Path) -> dict[str, str]:
    """SHA-256 of every input file of the project: its config and the sample experiment."""
    folders = [project / "config", project / "resources" / "sample_experiment"]
    return {
        str(path.relative_to(project)): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in folders
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def run_snakemake(
    project: Path, *arguments: str, timeout: int = 1800
) -> subprocess.CompletedProcess[str]:
    """Run Snakemake inside ``project`` (its Snakefile, its working directory)."""
    return subprocess.run(
        [str(BIN / "snakemake"), *arguments],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def finished_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder in which the default workflow ran to completion, report included."""
    project = make_project(tmp_path_factory.mktemp("e2e") / "project")
    (project.parent / "inputs.sha256.json").write_text(json.dumps(input_digests(project)))
    result = run_snakemake(project, "--cores", "2")
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    report = run_snakemake(project, "--report", "results/report.html")
    assert report.returncode == 0, (report.stdout + report.stderr)[-6000:]
    return project
