"""The SLURM profile (profiles/slurm) against a real single-node SLURM started by the tests.

One run of a subset of the workflow on the bundled sample experiment (gene index, 12 count
jobs, the count matrix, the DESeq2 fit and one contrast: 16 jobs) goes through Snakemake's SLURM
executor with the profile; the same targets are also built by a local run. The checks: every job
was a SLURM job that the cluster itself recorded as completed (its job-completion log), each job
asked SLURM for the threads, memory and time that the rule asks for locally, the outputs are the
local run's byte for byte, and a job that fails on the cluster stops the run with its error in
Snakemake's output after the profile's retries, each with more memory and time.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.cluster.slurm import PARTITION, URGENT_PARTITION, SlurmCluster
from tests.cluster.test_profile_config import printed_requests
from tests.conftest import BIN, REPO

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

PROFILE = REPO / "profiles" / "slurm"
CONTRAST = "resistant_vs_sensitive"
TARGETS = ["results/counts/all.counts.tsv", f"results/deseq2/{CONTRAST}.results.tsv"]
BROKEN_SAMPLE = "sensitive_vehicle_1"
SUBMITTED = re.compile(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: (\S+?)\)\.?$")


@dataclass(frozen=True)
class Run:
    """A finished Snakemake run: its working directory and combined output."""

    work: Path
    returncode: int
    output: str
    started: float


@dataclass(frozen=True)
class Started:
    """A Snakemake process that is running."""

    work: Path
    process: subprocess.Popen[bytes]
    output: Path
    time: float


@dataclass(frozen=True)
class Submission:
    """One sbatch submission as Snakemake reported it, and the cluster's record of the job."""

    slurm_id: str
    rule: str
    log: Path
    record: dict[str, str]


def _workdir(root: Path) -> Path:
    """A working directory like a user's clone: a copy of config/, a link to resources/."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "config", root / "config")
    (root / "resources").symlink_to(REPO / "resources")
    return root


def _start(work: Path, *arguments: str, env: dict[str, str] | None = None) -> Started:
    """Start Snakemake in ``work``; its output goes to ``work/../snakemake.out``."""
    command = [
        str(BIN / "snakemake"),
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(work),
        *arguments,
    ]
    output = work.parent / "snakemake.out"
    with output.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
    return Started(work, process, output, time.time())


def _finish(started: Started, timeout: float = 900) -> Run:
    try:
        returncode = started.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        started.process.terminate()  # Snakemake cancels its SLURM jobs on SIGTERM
        returncode = started.process.wait(timeout=120)
    output = started.output.read_text(errors="replace")
    return Run(started.work, returncode, output, started.time)


def _slurm_arguments(cluster: SlurmCluster, profile: Path = PROFILE) -> list[str]:
    return [
        "--workflow-profile",
        str(profile),
        # The test cluster has no accounting database (slurmdbd), so `sacct` cannot report job
        # states; `squeue` can, as the controller keeps finished jobs for MinJobAge=600 s.
        "--slurm-status-command",
        "squeue",
        "--slurm-init-seconds-before-status-checks",
        "2",
        # Keep the SLURM logs of successful jobs too, to check them.
        "--slurm-keep-successful-logs",
        # count_sample asks for 4 threads; sbatch refuses a job that asks for more CPUs than
        # any node has, so cap threads at this node's CPUs (the README says the same).
        "--max-threads",
        str(cluster.cpus),
    ]


def _job_records(cluster: SlurmCluster) -> dict[str, dict[str, str]]:
    """The cluster's job-completion log: JobId -> {field: value}."""
    records = {}
    if cluster.jobcomp.exists():
        for line in cluster.jobcomp.read_text().splitlines():
            fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
            records[fields["JobId"]] = fields
    return records


def _submissions(run: Run, cluster: SlurmCluster) -> list[Submission]:
    """Every SLURM submission in Snakemake's output, with the cluster's record of the job."""
    records = _job_records(cluster)
    submissions = []
    for line in run.output.splitlines():
        match = SUBMITTED.search(line.strip())
        if match:
            slurm_id, log = match.groups()
            rule = next(p for p in Path(log).parts if p.startswith("rule_"))[len("rule_") :]
            submissions.append(Submission(slurm_id, rule, Path(log), records.get(slurm_id, {})))
    return submissions


def _megabytes(tres: str) -> int:
    """Memory of a job from its Tres field (cpu=2,mem=4G,node=1,...) in MB."""
    value = re.search(r"\bmem=(\d+(?:\.\d+)?)([MGT])", tres)
    assert value, tres
    return round(float(value.group(1)) * {"M": 1, "G": 1024, "T": 1024**2}[value.group(2)])


@pytest.fixture(scope="module")
def cluster_runs(
    slurm_cluster: SlurmCluster, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Run]:
    """Two runs through the profile, at the same time (the failing one mostly waits).

    "subset": the subset of the workflow on the sample experiment. "failing": one sample's BAM
    replaced by a file that is not a BAM, so that its count job fails on the cluster.
    """
    subset = _workdir(tmp_path_factory.mktemp("slurm_run") / "work")
    failing = _workdir(tmp_path_factory.mktemp("failing_run") / "work")
    broken = failing / "broken" / f"{BROKEN_SAMPLE}.bam"
    broken.parent.mkdir()
    broken.write_text("this is not a BAM file\n")
    units = (failing / "config" / "units.tsv").read_text().splitlines()
    units = [
        re.sub(r"\t\S+\.bam$", f"\t{broken}", line)
        if line.startswith(f"{BROKEN_SAMPLE}\t")
        else line
        for line in units
    ]
    (failing / "config" / "units.tsv").write_text("\n".join(units) + "\n")
    # The failing run uses the profile as a user adapts it: with slurm_partition set (to a
    # partition whose jobs start first, so that its retries do not queue behind the subset).
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    profile["default-resources"]["slurm_partition"] = URGENT_PARTITION
    adapted = failing.parent / "profile"
    adapted.mkdir()
    (adapted / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    env = slurm_cluster.env
    running = {
        "subset": _start(subset, *_slurm_arguments(slurm_cluster), *TARGETS, env=env),
        "failing": _start(
            failing,
            *_slurm_arguments(slurm_cluster, adapted),
            f"results/counts/{BROKEN_SAMPLE}.counts.tsv",
            env=env,
        ),
    }
    return {name: _finish(started) for name, started in running.items()}


@pytest.fixture(scope="module")
def slurm_run(cluster_runs: dict[str, Run]) -> Run:
    """The subset of the workflow, run on the test cluster through the profile."""
    return cluster_runs["subset"]


@pytest.fixture(scope="module")
def failing_run(cluster_runs: dict[str, Run]) -> Run:
    """A run whose count job for one sample fails on the cluster."""
    return cluster_runs["failing"]


@pytest.fixture(scope="module")
def local_run(slurm_cluster: SlurmCluster, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The same targets built locally (the README's workstation command)."""
    work = _workdir(tmp_path_factory.mktemp("local_run") / "work")
    run = _finish(_start(work, "--cores", str(slurm_cluster.cpus), *TARGETS))
    assert run.returncode == 0, run.output[-5000:]
    return run


def _changed_since(moment: float) -> list[str]:
    """Workflow and library files edited after ``moment`` (a shared working tree changes)."""
    folders = ("redoxseq", "scripts", "workflow", "config")
    return sorted(
        str(path.relative_to(REPO))
        for folder in folders
        for path in (REPO / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.stat().st_mtime > moment
    )


def test_every_job_ran_on_the_cluster(slurm_run: Run, slurm_cluster: SlurmCluster) -> None:
    assert slurm_run.returncode == 0, slurm_run.output[-8000:] + "\n" + slurm_cluster.logs()
    planned = int(re.search(r"^total\s+(\d+)$", slurm_run.output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    submissions = _submissions(slurm_run, slurm_cluster)
    assert len(submissions) == planned, f"{planned} jobs planned, {len(submissions)} submitted"
    assert {s.rule for s in submissions} == {
        "build_gene_index",
        "count_sample",
        "merge_counts",
        "deseq2_fit",
        "deseq2_contrast",
    }
    run_id = re.search(r"SLURM run ID: (\S+)", slurm_run.output).group(1)  # type: ignore[union-attr]
    for submission in submissions:
        record = submission.record
        assert record, f"SLURM has no record of job {submission.slurm_id} ({submission.rule})"
        assert record["JobState"] == "COMPLETED" and record["ExitCode"] == "0:0", record
        assert record["Partition"] == PARTITION and record["Name"] == run_id, record
        # The job's own log (kept by --slurm-keep-successful-logs) shows the rule ran there.
        log = submission.log.read_text()
        assert f"rule {submission.rule}:" in log and "1 of 1 steps (100%) done" in log, log


def test_jobs_ask_slurm_for_the_rules_own_resources(
    slurm_run: Run, local_run: Run, slurm_cluster: SlurmCluster
) -> None:
    """sbatch got the threads, memory and time that each rule asks for in a local run."""
    assert slurm_run.returncode == 0, slurm_run.output[-5000:]
    on_slurm: dict[str, set[tuple[int, int, int]]] = {}
    for submission in _submissions(slurm_run, slurm_cluster):
        record = submission.record
        on_slurm.setdefault(submission.rule, set()).add(
            (int(record["ProcCnt"]), _megabytes(record["Tres"]), int(record["TimeLimit"]))
        )
    assert on_slurm == {
        rule: {tuple(map(int, request)) for request in requests}
        for rule, requests in printed_requests(local_run.output).items()
    }


def test_outputs_equal_a_local_run(slurm_run: Run, local_run: Run, tmp_path: Path) -> None:
    assert slurm_run.returncode == 0, slurm_run.output[-5000:]
    slurm_results = slurm_run.work / "results"
    local_results = local_run.work / "results"
    slurm_files = sorted(
        p.relative_to(slurm_results) for p in slurm_results.rglob("*") if p.is_file()
    )
    local_files = sorted(
        p.relative_to(local_results) for p in local_results.rglob("*") if p.is_file()
    )
    assert slurm_files == local_files
    different = [
        str(path)
        for path in slurm_files
        if (slurm_results / path).read_bytes() != (local_results / path).read_bytes()
    ]
    assert not different, (
        f"differ between the SLURM and the local run: {different}; workflow or library files "
        f"edited since the first run started: {_changed_since(slurm_run.started) or 'none'}"
    )
    # ... and the count matrix is the command-line counter's, byte for byte.
    samples = [
        line.split("\t")[0] for line in (REPO / "config/samples.tsv").read_text().splitlines()[1:]
    ]
    bams = dict(
        line.split("\t")[::2] for line in (REPO / "config/units.tsv").read_text().splitlines()[1:]
    )
    matrix = tmp_path / "counts.tsv"
    result = subprocess.run(
        [
            str(BIN / "redoxseq"),
            "count",
            "--gtf",
            str(REPO / "resources/sample_experiment/annotation.gtf.gz"),
            "-o",
            str(matrix),
            "--names",
            *samples,
            "--",
            *(str(REPO / bams[sample]) for sample in samples),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert matrix.read_bytes() == (slurm_results / "counts" / "all.counts.tsv").read_bytes()


def test_a_failing_job_stops_the_run_with_its_error(
    failing_run: Run, slurm_cluster: SlurmCluster
) -> None:
    output = failing_run.output
    assert failing_run.returncode != 0, output[-5000:]
    assert "Error in rule count_sample" in output, output[-5000:]
    # The library's message, from the job's log on the cluster, is in Snakemake's output.
    assert "cannot be read as BAM/SAM/CRAM" in output, output[-5000:]
    assert f"{BROKEN_SAMPLE}.bam" in output
    failed = [s for s in _submissions(failing_run, slurm_cluster) if s.rule == "count_sample"]
    retries = yaml.safe_load((PROFILE / "config.yaml").read_text())["retries"]
    assert len(failed) == retries + 1, [s.slurm_id for s in failed]
    for attempt, submission in enumerate(failed, start=1):
        record = submission.record
        assert record["JobState"] == "FAILED" and record["ExitCode"] != "0:0", record
        # The partition set in the profile's default-resources is the job's partition.
        assert record["Partition"] == URGENT_PARTITION, record
        assert f"SLURM-job '{submission.slurm_id}' failed" in output
        # Each retry asks for `attempt` times the first request (profile: "* attempt").
        first = failed[0].record
        assert _megabytes(record["Tres"]) == attempt * _megabytes(first["Tres"]), record
        assert int(record["TimeLimit"]) == attempt * int(first["TimeLimit"]), record
        # The SLURM log of a failed job is kept, with the error in it.
        assert "cannot be read as BAM/SAM/CRAM" in submission.log.read_text()
