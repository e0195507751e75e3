"""The library source files a workflow adapter runs, for declaring them as job inputs.

Snakemake reruns a job when one of its declared inputs changes. Declaring every module an
adapter imports (directly or through other library modules) and the Cython sources of the
compiled kernels they load makes an edit of the science rerun exactly the jobs that run it.
Paths are returned relative to the project folder, so that a moved project reruns nothing.
"""

from __future__ import annotations

import ast
import os
from functools import cache
from pathlib import Path

PACKAGE = "redoxseq"


def _module_file(root: Path, module: str) -> Path | None:
    """File of a ``redoxseq`` module below ``root``: ``.py``, package ``__init__`` or ``.pyx``."""
    parts = module.split(".")
    base = root.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py", base.with_suffix(".pyx")):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(file: Path) -> set[str]:
    """Every ``redoxseq`` module a source file imports, at top level or inside functions."""
    if file.suffix == ".pyx":
        return set()
    tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != PACKAGE:
                continue
            found.add(node.module)
            # ``from redoxseq.de import inference`` imports the submodule
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@cache
def _closure(root: Path, file: Path) -> frozenset[Path]:
    """Library files reachable from ``file`` through imports (parents' ``__init__`` included)."""
    seen: set[Path] = set()
    stack = [file]
    while stack:
        current = stack.pop()
        for module in _imported_modules(current):
            parts = module.split(".")
            # importing a.b.c runs a/__init__, a/b/__init__ and a/b/c
            for depth in range(1, len(parts) + 1):
                target = _module_file(root, ".".join(parts[:depth]))
                if target is not None and target not in seen:
                    seen.add(target)
                    stack.append(target)
    seen.discard(file)
    return frozenset(seen)


def library_sources(script: str | os.PathLike[str], project: str | os.PathLike[str]) -> list[str]:
    """Library files that ``script`` runs, relative to the current directory, sorted.

    Parameters
    ----------
    script:
        Adapter (or library module) path, relative to ``project`` or absolute.
    project:
        Folder that holds the ``redoxseq`` package (the workflow's base directory).

    Returns
    -------
    list of str
        ``.py`` files and the ``.pyx`` sources of compiled modules, as paths relative to the
        working directory (the project folder in a normal run), so that they are the same
        strings wherever the project folder is.
    """
    root = Path(project).resolve()
    file = (root / script).resolve()
    closure = _closure(root, file)
    return sorted(os.path.relpath(path) for path in closure)
