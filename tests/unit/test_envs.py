"""The per-stage conda environments pin the same version ranges as pyproject.toml."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml

from tests.conftest import REPO

CONDA_NAME = {"matplotlib-base": "matplotlib"}


def _normalise(spec: str) -> str:
    return ",".join(part.strip() for part in spec.replace(" ", "").split(","))


def _pyproject_pins() -> dict[str, str]:
    with open(REPO / "pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)
    pins = {}
    for requirement in project["project"]["dependencies"]:
        name, spec = re.match(r"([A-Za-z0-9_.-]+)(.*)", requirement).groups()
        pins[name.lower()] = _normalise(spec)
    return pins


ENV_FILES = sorted((REPO / "envs").glob("*.yaml"))


def test_there_is_one_environment_per_stage() -> None:
    assert {path.stem for path in ENV_FILES} >= {"count", "deseq2", "gsea", "plots"}


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda path: path.name)
def test_environment_pins_match_pyproject(env_file) -> None:
    pins = _pyproject_pins()
    environment = yaml.safe_load(env_file.read_text(encoding="utf-8"))
    assert environment["channels"][:2] == ["conda-forge", "bioconda"]
    checked = 0
    for entry in environment["dependencies"]:
        if not isinstance(entry, str):
            continue
        name, spec = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)", entry).groups()
        name = CONDA_NAME.get(name, name).lower()
        if name in pins:
            assert _normalise(spec) == pins[name], (
                f"{env_file.name}: {entry} vs pyproject {pins[name]}"
            )
            checked += 1
    assert checked >= 2, f"{env_file.name} pins too few of the project's dependencies"
