"""The bundled gene-set library is what its committed build script makes from the public sources."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO, SHARED_DATA

SOURCES = SHARED_DATA / "genesets"


@pytest.mark.skipif(not SOURCES.is_dir(), reason=f"public sources not found at {SOURCES}")
def test_build_script_reproduces_the_bundled_library_byte_for_byte(tmp_path) -> None:
    library = tmp_path / "genesets"
    shutil.copytree(REPO / "resources" / "genesets", library)
    for built in library.glob("*/*.*"):
        if built.parent.name in ("human", "mouse"):
            built.unlink()  # the build must recreate every GMT, manifest and unmapped table
    result = subprocess.run(
        [sys.executable, str(library / "build_genesets.py"), "genesets", "--sources", str(SOURCES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for species in ("human", "mouse"):
        committed = sorted(p.name for p in (REPO / "resources" / "genesets" / species).iterdir())
        rebuilt = sorted(p.name for p in (library / species).iterdir())
        assert rebuilt == committed
        _, mismatch, errors = filecmp.cmpfiles(
            REPO / "resources" / "genesets" / species, library / species, committed, shallow=False
        )
        assert not mismatch and not errors, f"{species}: differs: {mismatch} {errors}"
