"""Cohort config errors stop `snakemake -n` with a message naming the key and the fix."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import BIN, REPO

pytestmark = [pytest.mark.slow]


def _dry_run(tmp_path: Path, **cohort: object) -> subprocess.CompletedProcess[str]:
    shutil.copytree(REPO / "config", tmp_path / "config")
    (tmp_path / "resources").symlink_to(REPO / "resources")
    example = yaml.safe_load((REPO / "config/examples/cohort.yaml").read_text())
    example["cohort"].update(cohort)
    (tmp_path / "config" / "bad.yaml").write_text(yaml.safe_dump(example))
    return subprocess.run(
        [
            str(BIN / "snakemake"),
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(tmp_path),
            "-n",
            "--configfile",
            str(tmp_path / "config" / "bad.yaml"),
            "--replace-workflow-config",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("cohort", "message"),
    [
        ({"stratify_by": "tumour_type"}, "cohort.stratify_by: 'tumour_type' is not a column"),
        ({"scores": ["NOT_A_SET"]}, "cohort.scores: ['NOT_A_SET'] not in the collections"),
        ({"collections": ["kegg"]}, "cohort.collections: 'kegg' is neither bundled"),
        ({"pairs": [["RPS4Y1", "XIST"]]}, "cohort.pairs: 'XIST'"),
        ({"methods": ["kendall"]}, "kendall"),
    ],
)
def test_bad_cohort_config_stops_before_any_job(tmp_path, cohort, message) -> None:
    result = _dry_run(tmp_path, **cohort)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert message in output, output[-3000:]
    assert "Traceback" not in output
