"""Job grouping on SLURM: many small counting jobs submitted as a few group jobs.

profiles/slurm/README.md documents `groups` + `group-components` (Snakemake job grouping) for
cohorts with hundreds of small count jobs. Here the profile is adapted as the README says
(the commented lines of profiles/slurm/config.yaml switched on) and the counting stage of the
sample experiment runs on the real single-node test cluster: the twelve count_sample jobs must
go to SLURM as two group jobs of six, each recorded by the cluster as completed and asking for
no more CPUs than the node has, and the count matrix must equal a local run's byte for byte.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.cluster.slurm import SlurmCluster
from tests.cluster.test_slurm_profile import (
    PROFILE,
    Run,
    _finish,
    _job_records,
    _slurm_arguments,
    _start,
    _workdir,
)

pytestmark = [pytest.mark.slow]

SUBMITTED = re.compile(r"Job \S+ has been submitted with SLURM jobid (\d+) \(log: (\S+?)\)\.?$")
TARGET = "results/counts/all.counts.tsv"
PER_GROUP = 6


def grouped_profile(folder: Path) -> Path:
    """profiles/slurm with its commented grouping lines switched on (as the README says)."""
    text = (PROFILE / "config.yaml").read_text()
    start, end = "# --- job grouping (uncomment) ---", "# --- end job grouping ---"
    assert start in text and end in text, "profiles/slurm/config.yaml lost its grouping block"
    head, rest = text.split(start, 1)
    block, tail = rest.split(end, 1)
    setting = re.compile(r"^# (groups|group-components):$|^#   \w+: \S+$")
    lines = [line[2:] if setting.match(line) else line for line in block.splitlines()]
    profile = yaml.safe_load(head + "\n".join(lines) + tail)
    assert profile["groups"] == {"count_sample": "counting"}, profile.get("groups")
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return folder


@pytest.fixture(scope="module")
def grouped_runs(
    slurm_cluster: SlurmCluster, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Run]:
    """The counting stage through the grouped profile, and the same locally (at once)."""
    root = tmp_path_factory.mktemp("grouped")
    profile = grouped_profile(root / "profile")
    grouped = _workdir(root / "slurm" / "work")
    local = _workdir(root / "local" / "work")
    started = {
        # --cores caps each group job: parallel members beyond it run in series inside it
        "slurm": _start(
            grouped,
            *_slurm_arguments(slurm_cluster, profile),
            "--cores",
            str(slurm_cluster.cpus),
            TARGET,
            env=slurm_cluster.env,
        ),
        "local": _start(local, "--cores", str(slurm_cluster.cpus), TARGET),
    }
    return {name: _finish(run) for name, run in started.items()}


def test_count_jobs_go_to_slurm_as_group_jobs(
    grouped_runs: dict[str, Run], slurm_cluster: SlurmCluster
) -> None:
    run = grouped_runs["slurm"]
    assert run.returncode == 0, run.output[-8000:] + "\n" + slurm_cluster.logs()
    submitted = [SUBMITTED.search(line.strip()) for line in run.output.splitlines()]
    jobs = [(m.group(1), m.group(2)) for m in submitted if m]
    groups = [(slurm_id, log) for slurm_id, log in jobs if "group_counting" in log]
    singles = [log for _, log in jobs if "group_counting" not in log]
    samples = len((REPO_SAMPLES).read_text().splitlines()) - 1
    assert len(groups) == -(-samples // PER_GROUP), jobs  # 12 samples -> 2 group jobs
    assert sorted(Path(log).parts[-2] for log in singles) == [
        "rule_build_gene_index",
        "rule_merge_counts",
    ], singles
    records = _job_records(slurm_cluster)
    counted: set[str] = set()
    for slurm_id, log in groups:
        record = records.get(slurm_id)
        assert record, f"SLURM has no record of group job {slurm_id}"
        assert record["JobState"] == "COMPLETED" and record["ExitCode"] == "0:0", record
        assert int(record["ProcCnt"]) <= slurm_cluster.cpus, record
        counted |= set(re.findall(r"wildcards: sample=(\S+)", Path(log).read_text()))
    assert len(counted) == samples  # every sample counted inside one of the group jobs


def test_grouped_counts_equal_a_local_run(grouped_runs: dict[str, Run]) -> None:
    slurm, local = grouped_runs["slurm"], grouped_runs["local"]
    assert slurm.returncode == 0 and local.returncode == 0, local.output[-3000:]
    for name in ["all.counts.tsv", "all.summary.tsv", "all.strandedness.tsv"]:
        ours = (slurm.work / "results" / "counts" / name).read_bytes()
        assert ours == (local.work / "results" / "counts" / name).read_bytes(), name


REPO_SAMPLES = PROFILE.parents[1] / "config" / "samples.tsv"
