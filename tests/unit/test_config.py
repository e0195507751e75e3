"""Configuration and sample-sheet validation: clear errors before any job runs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from redoxseq.config import load_samples, load_schema, load_units, validate_config
from redoxseq.errors import ConfigError
from tests.conftest import BIN, REPO

SCHEMAS = REPO / "workflow" / "schemas"


@pytest.fixture(scope="module")
def config_schema() -> dict:
    return load_schema(SCHEMAS / "config.schema.yaml")


@pytest.fixture(scope="module")
def shipped_config() -> dict:
    with open(REPO / "config" / "config.yaml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_shipped_config_is_valid_and_defaults_are_filled(config_schema, shipped_config) -> None:
    minimal = {"annotation": {"gtf": "genes.gtf"}}
    filled = validate_config(minimal, config_schema)
    assert filled["samples"] == "config/samples.tsv"
    assert filled["counting"]["strandedness"] == "auto"
    assert filled["plots"]["dpi"] == 300
    assert minimal == {"annotation": {"gtf": "genes.gtf"}}, "the input config must not change"
    validate_config(shipped_config, config_schema)


def test_every_shipped_key_is_commented() -> None:
    """Each top-level and section-level key of config.yaml is explained by a comment.

    The comment is the line right above the key, or a comment above a group of sibling keys
    that names the key.
    """
    lines = (REPO / "config" / "config.yaml").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        indent = len(line) - len(line.lstrip(" "))
        stripped = line.strip()
        if indent > 2 or not stripped or stripped.startswith(("#", "- ")) or ":" not in stripped:
            continue
        key = stripped.split(":")[0]
        previous = lines[number - 1].strip() if number else ""
        documented = previous.startswith("#") or "#" in stripped
        back = number - 1
        while not documented and back >= 0 and lines[back].strip():
            earlier = lines[back]
            if len(earlier) - len(earlier.lstrip(" ")) < indent:
                break
            documented = earlier.strip().startswith("#") and key in earlier
            back -= 1
        assert documented, f"config/config.yaml line {number + 1} ({stripped!r}) has no comment"


def test_unknown_key_names_the_key_and_allowed_keys(config_schema) -> None:
    bad = {"annotation": {"gtf": "genes.gtf"}, "countng": {}}
    with pytest.raises(ConfigError) as error:
        validate_config(bad, config_schema, source="config.yaml")
    message = str(error.value)
    assert "countng" in message and "config.yaml" in message and "counting" in message


def test_wrong_enum_value_lists_allowed_values(config_schema) -> None:
    bad = {"annotation": {"gtf": "genes.gtf"}, "counting": {"strandedness": "reversed"}}
    with pytest.raises(ConfigError) as error:
        validate_config(bad, config_schema)
    message = str(error.value)
    assert "counting.strandedness" in message and "'reversed'" in message
    assert "reverse" in message and "forward" in message


def test_wrong_type_names_key_and_value(config_schema) -> None:
    bad = {"annotation": {"gtf": "genes.gtf"}, "seed": "forty-two"}
    with pytest.raises(ConfigError, match=r"seed.*'forty-two'.*integer"):
        validate_config(bad, config_schema)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_sheet_missing_column_value_names_the_line(tmp_path) -> None:
    schema = load_schema(SCHEMAS / "samples.schema.yaml")
    sheet = _write(tmp_path / "samples.tsv", "sample\tcell_line\nA\tsensitive\n\tresistant\n")
    with pytest.raises(ConfigError, match=r"samples.tsv, line 3: empty value.*sample"):
        load_samples(sheet, schema)


def test_sample_sheet_without_sample_column(tmp_path) -> None:
    schema = load_schema(SCHEMAS / "samples.schema.yaml")
    sheet = _write(tmp_path / "samples.tsv", "name\tcell_line\nA\tsensitive\n")
    with pytest.raises(ConfigError, match=r"missing required column.*sample.*header has"):
        load_samples(sheet, schema)


def test_duplicate_sample_names_both_lines(tmp_path) -> None:
    schema = load_schema(SCHEMAS / "samples.schema.yaml")
    sheet = _write(tmp_path / "s.tsv", "sample\tcell_line\nA\tx\nB\ty\nA\tz\n")
    with pytest.raises(ConfigError, match=r"duplicate sample.*'A' on lines \[2, 4\]"):
        load_samples(sheet, schema)


def test_bad_sample_name_and_strandedness_values(tmp_path) -> None:
    schema = load_schema(SCHEMAS / "samples.schema.yaml")
    sheet = _write(tmp_path / "s.tsv", "sample\tstrandedness\nA/1\tnone\nB\tsideways\n")
    with pytest.raises(ConfigError) as error:
        load_samples(sheet, schema)
    message = str(error.value)
    assert "line 2" in message and "'A/1'" in message
    assert "line 3" in message and "'sideways'" in message and "reverse" in message


def test_units_must_match_the_sample_sheet(tmp_path) -> None:
    samples = load_samples(
        _write(tmp_path / "s.tsv", "sample\tcell_line\nA\tx\nB\ty\n"),
        load_schema(SCHEMAS / "samples.schema.yaml"),
    )
    unit_schema = load_schema(SCHEMAS / "units.schema.yaml")
    unknown = _write(
        tmp_path / "u1.tsv", "sample\tunit\tbam\nA\tl1\ta.bam\nB\tl1\tb.bam\nC\tl1\tc.bam\n"
    )
    with pytest.raises(ConfigError, match=r"\['C'\] are not in the sample sheet"):
        load_units(unknown, unit_schema, samples)
    orphan = _write(tmp_path / "u2.tsv", "sample\tunit\tbam\nA\tl1\ta.bam\n")
    with pytest.raises(ConfigError, match=r"\['B'\] of the sample sheet have no unit"):
        load_units(orphan, unit_schema, samples)
    not_bam = _write(tmp_path / "u3.tsv", "sample\tunit\tbam\nA\tl1\ta.fastq\nB\tl1\tb.bam\n")
    with pytest.raises(ConfigError, match=r"u3.tsv, line 2.*a.fastq"):
        load_units(not_bam, unit_schema, samples)
    good = _write(
        tmp_path / "u4.tsv", "sample\tunit\tbam\nA\tl1\ta.bam\nA\tl2\ta2.bam\nB\tl1\tb.bam\n"
    )
    units = load_units(good, unit_schema, samples)
    assert list(units.loc["A", "bam"]) == ["a.bam", "a2.bam"]


def _workdir_with(
    tmp_path: Path, config_edit: dict | None = None, samples_text: str | None = None
) -> Path:
    """A working directory holding a copy of config/ (edited) and links to the resources."""
    work = tmp_path / "work"
    shutil.copytree(REPO / "config", work / "config")
    (work / "resources").symlink_to(REPO / "resources")
    if config_edit is not None:
        path = work / "config" / "config.yaml"
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        config.update(config_edit)
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
    if samples_text is not None:
        (work / "config" / "samples.tsv").write_text(samples_text, encoding="utf-8")
    return work


def _dry_run(work: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(BIN / "snakemake"),
            "-n",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(work),
            "--cores",
            "1",
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.slow
def test_config_errors_stop_snakemake_before_any_job(tmp_path) -> None:
    bad_key = _dry_run(_workdir_with(tmp_path, {"sead": 1}))
    assert bad_key.returncode != 0
    assert "sead" in bad_key.stderr + bad_key.stdout
    assert not (tmp_path / "work" / "results").exists()


@pytest.mark.slow
def test_duplicate_sample_stops_snakemake(tmp_path) -> None:
    sheet = (REPO / "config" / "samples.tsv").read_text(encoding="utf-8")
    last = sheet.strip().splitlines()[-1]
    result = _dry_run(_workdir_with(tmp_path, samples_text=sheet + last + "\n"))
    assert result.returncode != 0
    assert "duplicate sample" in result.stderr + result.stdout


@pytest.mark.slow
def test_contrast_level_that_no_sample_has_stops_snakemake(tmp_path) -> None:
    contrasts = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))[
        "contrasts"
    ]
    contrasts["resistant_vs_sensitive"]["numerator"] = "resistent"
    result = _dry_run(_workdir_with(tmp_path, {"contrasts": contrasts}))
    output = result.stderr + result.stdout
    assert result.returncode != 0
    assert "resistent" in output and "resistant_vs_sensitive" in output
    assert "sensitive" in output  # the levels that exist are listed
    assert not (tmp_path / "work" / "results").exists()


@pytest.mark.slow
def test_cram_unit_without_genome_fasta_stops_snakemake(tmp_path) -> None:
    annotation = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["annotation"]
    work = _workdir_with(tmp_path, {"annotation": {**annotation, "genome_fasta": ""}})
    units = (work / "config" / "units.tsv").read_text().splitlines()
    sample, unit, _ = units[2].split("\t")
    units[2] = f"{sample}\t{unit}\treads/{sample}.cram"
    (work / "config" / "units.tsv").write_text("\n".join(units) + "\n")
    result = _dry_run(work)
    output = result.stderr + result.stdout
    assert result.returncode != 0
    assert f"unit {unit!r} of sample {sample!r} is a CRAM file" in output
    assert "annotation.genome_fasta" in output and "Traceback" not in output


@pytest.mark.slow
def test_count_matrix_without_a_sample_column_stops_snakemake(tmp_path) -> None:
    work = _workdir_with(tmp_path)
    samples = (work / "config" / "samples.tsv").read_text().splitlines()
    names = [line.split("\t")[0] for line in samples[1:] if line and not line.startswith("#")]
    matrix = work / "counts.tsv"
    matrix.write_text(
        "gene_id\t" + "\t".join(names[:-1]) + "\n" + "g1\t" + "\t".join(["5"] * (len(names) - 1))
        + "\n"
    )  # fmt: skip
    counting = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["counting"]
    config = work / "config" / "config.yaml"
    edited = yaml.safe_load(config.read_text())
    edited["counting"] = {**counting, "count_matrix": "counts.tsv"}
    config.write_text(yaml.safe_dump(edited))
    result = _dry_run(work)
    output = result.stderr + result.stdout
    assert result.returncode != 0
    assert f"sample(s) {names[-1]} of the sample sheet have no column" in output
    assert "counts.tsv" in output and "Traceback" not in output
