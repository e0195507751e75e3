"""Rerun semantics on a finished run: Snakemake plans exactly what a change makes stale.

Each test copies the finished project (files, mtimes and Snakemake's metadata, as ``mv`` or
``cp -a`` keep them), changes one thing, and reads the plan of ``snakemake -n``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import run_snakemake

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

COUNTING = {"build_gene_index", "count_sample", "merge_counts", "plot_assignment_summary"}


def _copy(project: Path, target: Path) -> Path:
    """The project copied with its metadata and modification times (like ``cp -a``)."""
    shutil.copytree(project, target, symlinks=True)
    return target


def _plan(project: Path, *arguments: str) -> set[tuple[str, str]]:
    """(rule, wildcards) of every job ``snakemake -n`` plans."""
    done = run_snakemake(project, "-n", "--cores", "2", *arguments)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    jobs = set()
    for block in re.split(r"\n\s*\n", done.stdout + "\n" + done.stderr):
        rule = re.search(r"^(?:local)?rule (\w+):", block, re.M)
        if rule:
            wildcards = re.search(r"^\s+wildcards: (.*)$", block, re.M)
            jobs.add((rule.group(1), wildcards.group(1) if wildcards else ""))
    return jobs


def _contrast_of(wildcards: str) -> str | None:
    """The contrast wildcard of a job (None for a job of a sample, unit ...)."""
    values = dict(item.split("=", 1) for item in wildcards.split(", ") if "=" in item)
    return values.get("contrast")


def _rules(jobs: set[tuple[str, str]]) -> set[str]:
    return {rule for rule, _ in jobs}


def _edit_config(project: Path, edit) -> None:
    path = project / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text())
    edit(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def test_moved_project_plans_nothing(finished_project: Path, tmp_path: Path) -> None:
    moved = _copy(finished_project, tmp_path / "archive" / "moved_project")
    assert _plan(moved) == set()


def test_one_contrast_cutoff_replans_only_that_contrast(
    finished_project: Path, tmp_path: Path
) -> None:
    project = _copy(finished_project, tmp_path / "project")
    _edit_config(project, lambda c: c["contrasts"]["resistant_vs_sensitive"].update(alpha=0.05))
    jobs = _plan(project)
    per_contrast = {(r, w) for r, w in jobs if w}
    assert per_contrast, jobs
    assert all(_contrast_of(w) == "resistant_vs_sensitive" for _, w in per_contrast), per_contrast
    assert ("deseq2_contrast", "contrast=resistant_vs_sensitive") in jobs
    assert "deseq2_fit" not in _rules(jobs)
    assert not COUNTING & _rules(jobs)
    # jobs without a contrast wildcard read every contrast (summaries, workbook, report pages)
    assert not {"deseq2_contrast"} & {r for r, w in jobs if not w}


def test_added_contrast_plans_only_its_jobs_and_the_summaries(
    finished_project: Path, tmp_path: Path
) -> None:
    project = _copy(finished_project, tmp_path / "project")
    new = {"factor": "treatment", "numerator": "sorafenib", "denominator": "vehicle"}
    _edit_config(project, lambda c: c["contrasts"].update(sorafenib_vs_vehicle=new))
    jobs = _plan(project)
    per_contrast = {(r, w) for r, w in jobs if w}
    assert per_contrast and all(_contrast_of(w) == "sorafenib_vs_vehicle" for _, w in per_contrast)
    assert ("deseq2_contrast", "contrast=sorafenib_vs_vehicle") in jobs
    assert "deseq2_fit" not in _rules(jobs)
    assert not COUNTING & _rules(jobs)


def test_editing_the_de_engine_replans_the_fit_not_counting(
    finished_project: Path, tmp_path: Path
) -> None:
    project = _copy(finished_project, tmp_path / "project")
    engine = project / "redoxseq" / "de" / "inference.py"
    engine.write_text(engine.read_text() + "\n# edited\n")
    jobs = _plan(project)
    assert {"deseq2_fit", "deseq2_contrast"} <= _rules(jobs)
    assert not COUNTING & _rules(jobs)


def test_editing_the_dispersion_kernel_source_replans_the_fit(
    finished_project: Path, tmp_path: Path
) -> None:
    project = _copy(finished_project, tmp_path / "project")
    kernel = project / "redoxseq" / "de" / "_dispersion_fast.pyx"
    kernel.write_text(kernel.read_text() + "\n# edited\n")
    assert "deseq2_fit" in _rules(_plan(project))


def test_editing_counting_replans_counting(finished_project: Path, tmp_path: Path) -> None:
    project = _copy(finished_project, tmp_path / "project")
    module = project / "redoxseq" / "counting" / "reference.py"
    module.write_text(module.read_text() + "\n# edited\n")
    assert {"count_sample", "merge_counts"} <= _rules(_plan(project))


def test_input_error_in_a_job_is_one_line_on_the_console_and_in_its_log(
    finished_project: Path, tmp_path: Path
) -> None:
    """A truncated BAM: the job's log and the console say so in one line, no traceback."""
    project = _copy(finished_project, tmp_path / "project")
    units = (project / "config" / "units.tsv").read_text().splitlines()
    sample, unit, bam = units[1].split("\t")
    truncated = tmp_path / "truncated.bam"
    data = (project / bam).read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    units[1] = "\t".join([sample, unit, str(truncated)])
    (project / "config" / "units.tsv").write_text("\n".join(units) + "\n")
    done = run_snakemake(project, "--cores", "1", f"results/counts/{sample}.counts.tsv")
    assert done.returncode != 0
    console = done.stdout + done.stderr
    log = (project / "logs" / "count_sample" / f"{sample}.log").read_text()
    for text in (console, log):
        assert "truncated" in text and str(truncated) in text, text[-3000:]
        assert "Traceback" not in text, text[-3000:]
    assert not (project / "results" / "counts" / f"{sample}.counts.tsv").exists()


def test_run_record_hashes_the_inputs(finished_project: Path) -> None:
    import hashlib
    import json

    record = json.loads((finished_project / "results" / "run_record.json").read_text())
    reads = record["inputs"]["reads"]
    assert len(reads) == 12
    for path, entry in list(reads.items()) + list(record["inputs"]["sheets"].items()):
        digest = hashlib.sha256((finished_project / path).read_bytes()).hexdigest()
        assert entry["sha256"] == digest, path
    assert record["seeds"] == {"seed": 20261121}
    assert record["config"]["contrasts"]["resistant_vs_sensitive"]["numerator"] == "resistant"
    assert "pydeseq2" in record["software"]["packages"]
    assert record["run"]["command_line"].startswith("snakemake")


def _record(project: Path) -> dict:
    import json

    return json.loads((project / "results" / "run_record.json").read_text())


def _record_only(project: Path) -> None:
    done = run_snakemake(
        project, "--cores", "1", "--forcerun", "run_record", "--allowed-rules", "run_record",
        "--", "results/run_record.json",
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]


def test_run_record_is_the_same_apart_from_times_and_follows_its_inputs(
    finished_project: Path, tmp_path: Path
) -> None:
    """Written again elsewhere: same bytes apart from times; an edited input: a new hash."""
    import json

    first = _record(finished_project)
    project = _copy(finished_project, tmp_path / "elsewhere")
    _record_only(project)
    again = _record(project)
    for record in (first, again):
        for key in ("started", "finished", "command_line"):
            record["run"][key] = None
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)

    sheet = project / "config" / "samples.tsv"
    sheet.write_text(sheet.read_text() + "# reviewed by the lab\n")
    _record_only(project)
    edited = _record(project)["inputs"]
    assert (
        edited["sheets"]["config/samples.tsv"]["sha256"]
        != (first["inputs"]["sheets"]["config/samples.tsv"]["sha256"])
    )
    assert edited["reads"] == first["inputs"]["reads"]
