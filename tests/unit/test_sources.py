"""The library files each job declares as inputs cover what its adapter really imports."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from redoxseq.sources import library_sources
from tests.conftest import REPO

SCRIPTS = sorted((REPO / "scripts").glob("*.py"))
RULE_FILES = sorted((REPO / "workflow" / "rules").glob("*.smk"))


def _imported_at_runtime(script: Path) -> set[str]:
    """Library files loaded when the adapter's own imports run (in a fresh interpreter)."""
    tree = ast.parse(script.read_text())
    imports = [
        ast.unparse(node)
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom) and "redoxseq" in ast.unparse(node)
    ]
    code = "\n".join(
        [
            *imports,
            "import json, sys",
            "print(json.dumps(sorted(getattr(m, '__file__', None) or '' for n, m in "
            "sys.modules.items() if n == 'redoxseq' or n.startswith('redoxseq.'))))",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    files = set()
    for name in json.loads(done.stdout):
        path = Path(name)
        if path.suffix == ".so":  # a compiled kernel: its declared source is the .pyx
            path = path.with_name(path.name.split(".")[0] + ".pyx")
        files.add(os.path.relpath(path, REPO))
    return files


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_declared_sources_cover_the_adapters_imports(script: Path, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    declared = set(library_sources(script.relative_to(REPO), REPO))
    assert all(not Path(p).is_absolute() and p.startswith("redoxseq/") for p in declared)
    missing = _imported_at_runtime(script) - declared
    assert not missing, f"{script.name} imports {sorted(missing)} but does not declare them"


def test_every_script_rule_declares_its_own_adapters_sources() -> None:
    for rule_file in RULE_FILES:
        text = rule_file.read_text()
        for block in re.split(r"(?m)^(?=\s*rule \w+:)", text):
            script = re.search(r'script:\s*\n\s*"\.\./\.\./(scripts/\w+\.py)"', block)
            if not script:
                continue
            declared = re.findall(r'get_library_sources\("(scripts/\w+\.py)"\)', block)
            assert declared == [script.group(1)], (rule_file.name, block[:80])


def test_sources_are_relative_to_the_working_directory(tmp_path: Path, monkeypatch) -> None:
    """From the project folder the paths are the same strings wherever the folder is."""
    monkeypatch.chdir(REPO)
    here = library_sources("scripts/deseq2_fit.py", REPO)
    assert "redoxseq/de/inference.py" in here
    assert "redoxseq/de/_dispersion_fast.pyx" in here
    assert "redoxseq/counting/reference.py" not in here
