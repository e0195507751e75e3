"""The SLURM profile's per-rule requests equal the rules' own resources (no cluster needed).

profiles/slurm/config.yaml repeats each rule's mem_mb and runtime as `<value> * attempt`, so
that a retried job gets more. At the first attempt they must be what the rule itself asks for:
two dry runs of the whole workflow, with the profile and without any profile, print the same
memory and time for every job of every rule that the profile names.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import BIN, REPO

pytestmark = [pytest.mark.slow]

PROFILE = REPO / "profiles" / "slurm"


def printed_requests(output: str) -> dict[str, set[tuple[str, str, str]]]:
    """rule -> {(threads, mem_mb, runtime)} of every job in Snakemake's printed job details.

    A run prints "localrule NAME:" (local) or "rule NAME:" (remote, dry run) and then the job's
    details; a job without a "threads:" line has one thread, one without mem_mb or runtime
    gets ""; "<TBD>" is a value that depends on files not yet made.
    """
    requests: dict[str, set[tuple[str, str, str]]] = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", output)[1:]:
        rule = re.match(r"(?:local)?rule (\w+):", block).group(1)  # type: ignore[union-attr]
        threads = re.search(r"^\s+threads: (\d+)$", block, re.MULTILINE)
        resources = re.search(r"^\s+resources: (.*)$", block, re.MULTILINE)
        assert resources, block
        values = dict(item.split("=", 1) for item in resources.group(1).split(", "))
        requests.setdefault(rule, set()).add(
            (
                threads.group(1) if threads else "1",
                values.get("mem_mb", ""),
                values.get("runtime", ""),
            )
        )
    return requests


def _dry_run(work: Path, *arguments: str) -> str:
    result = subprocess.run(
        [
            str(BIN / "snakemake"),
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(work),
            "--dry-run",
            "--forceall",
            *arguments,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    return result.stdout + result.stderr


def test_profile_requests_equal_the_rules_own_at_first_attempt(tmp_path: Path) -> None:
    shutil.copytree(REPO / "config", tmp_path / "config")
    (tmp_path / "resources").symlink_to(REPO / "resources")
    with_profile = printed_requests(_dry_run(tmp_path, "--workflow-profile", str(PROFILE)))
    rules_own = printed_requests(_dry_run(tmp_path, "--workflow-profile", "none", "--cores", "1"))
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    named = set(profile["set-resources"])
    # Every rule the profile names exists (a renamed rule would silently lose its requests) ...
    # (import_count_matrix runs only when counting.count_matrix is set)
    assert named - {"import_count_matrix"} <= set(rules_own), named - set(rules_own)
    compared = 0
    for rule in sorted(named & set(rules_own)):
        # ... and asks for the rule's own memory and time (threads: the rules' own, untouched).
        mine = {(mem_mb, runtime) for _, mem_mb, runtime in with_profile[rule]}
        own = {(mem_mb, runtime) for _, mem_mb, runtime in rules_own[rule]}
        assert mine == own, f"rule {rule}: profile {mine}, rule {own}"
        compared += 1
    assert compared >= 8
    # Rules without their own resources get the profile's defaults, which SLURM needs.
    assert {"mem_mb", "runtime"} <= set(profile["default-resources"])
    assert "threads" not in profile and "set-threads" not in profile
