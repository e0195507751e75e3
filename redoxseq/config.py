"""Configuration and sample-sheet validation.

Everything here runs when Snakemake parses the workflow, before any job starts, so a bad
key, a wrong type, a malformed sample sheet or a contrast naming a level no sample has
stops the run at once with a message that names the file, key or row and what is allowed.
"""

from __future__ import annotations

import copy
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import yaml

from redoxseq.errors import ConfigError

logger = logging.getLogger(__name__)

SAMPLE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
"""Sample and unit names become file names and wildcards: letters, digits, ``_ . -``."""


def _format_path(path: Any) -> str:
    parts = [str(part) for part in path]
    return ".".join(parts) if parts else "(top level)"


def _describe_error(error: jsonschema.ValidationError, source: str) -> str:
    """Turn a jsonschema error into one sentence a user can act on."""
    key = _format_path(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = (
            sorted(set(error.instance) - set(allowed))
            if isinstance(error.instance, Mapping)
            else []
        )
        hint = f"allowed keys here: {', '.join(allowed)}" if allowed else ""
        patterns = schema.get("patternProperties")
        if patterns:
            hint = f"keys must match {', '.join(patterns)}"
        return f"{source}: unknown key(s) {extra} under '{key}'; {hint}"
    description = schema.get("description", "")
    what = f"{source}: key '{key}' has value {error.instance!r}: {error.message}"
    if "enum" in schema:
        what += f"; allowed values: {schema['enum']}"
    if description:
        what += f" ({description})"
    return what


def _fill_defaults(instance: Any, schema: Mapping[str, Any]) -> None:
    """Fill missing keys that have a ``default`` in ``schema``, recursively, in place."""
    if not isinstance(instance, dict):
        return
    for name, sub in schema.get("properties", {}).items():
        if name not in instance and "default" in sub:
            instance[name] = copy.deepcopy(sub["default"])
        if name in instance:
            _fill_defaults(instance[name], sub)
    pattern_props = schema.get("patternProperties", {})
    for name, value in instance.items():
        for pattern, sub in pattern_props.items():
            if re.search(pattern, name):
                _fill_defaults(value, sub)
    additional = schema.get("additionalProperties")
    if isinstance(additional, Mapping):
        for name, value in instance.items():
            if name not in schema.get("properties", {}):
                _fill_defaults(value, additional)


def load_schema(path: str | Path) -> dict[str, Any]:
    """Read a JSON schema written as YAML."""
    with open(path, encoding="utf-8") as handle:
        schema = yaml.safe_load(handle)
    if not isinstance(schema, dict):
        raise ConfigError(f"{path}: not a schema (expected a mapping at the top level)")
    return schema


def validate_config(
    config: Mapping[str, Any], schema: Mapping[str, Any], *, source: str = "config"
) -> dict[str, Any]:
    """Validate ``config`` against ``schema`` and return a copy with defaults filled in.

    Parameters
    ----------
    config
        The parsed configuration (``config`` in the Snakefile).
    schema
        JSON schema (draft 2020-12) as a mapping.
    source
        Name of the file the configuration came from, used in error messages.

    Raises
    ------
    ConfigError
        Listing every violation, one per line, each naming the key and what is allowed.
    """
    filled = copy.deepcopy(dict(config))
    _fill_defaults(filled, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(filled), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [_describe_error(error, source) for error in errors]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    return filled


def _read_sheet(path: str | Path, what: str) -> pd.DataFrame:
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"{what} {file} not found; set its path in config/config.yaml")
    try:
        table = pd.read_csv(file, sep="\t", dtype=str, comment="#", skip_blank_lines=True)
    except pd.errors.EmptyDataError as exc:
        raise ConfigError(f"{file}: the {what} is empty; it needs a header row") from exc
    except pd.errors.ParserError as exc:
        raise ConfigError(
            f"{file}: cannot parse the {what} as a tab-separated table ({exc}); "
            "check that columns are separated by tabs and every row has the same number of fields"
        ) from exc
    table.columns = [str(column).strip() for column in table.columns]
    return table


def _validate_rows(table: pd.DataFrame, schema: Mapping[str, Any], file: str) -> None:
    """Validate each row of a sheet against a row schema; name the row on failure."""
    required = list(schema.get("required", []))
    missing_columns = [column for column in required if column not in table.columns]
    if missing_columns:
        raise ConfigError(
            f"{file}: missing required column(s) {missing_columns}; the header has "
            f"{list(table.columns)}"
        )
    validator = jsonschema.Draft202012Validator(schema)
    problems: list[str] = []
    for position, (_, row) in enumerate(table.iterrows()):
        record = {key: value for key, value in row.items() if isinstance(value, str)}
        line = position + 2  # header is line 1
        empty = [column for column in required if column not in record]
        if empty:
            problems.append(f"{file}, line {line}: empty value in required column(s) {empty}")
            continue
        for error in validator.iter_errors(record):
            problems.append(f"{file}, line {line}: {_describe_error(error, 'column')}")
    if problems:
        raise ConfigError("invalid sheet:\n  " + "\n  ".join(problems))


def load_samples(path: str | Path, schema: Mapping[str, Any]) -> pd.DataFrame:
    """Read and validate the sample sheet.

    Returns
    -------
    pandas.DataFrame
        One row per sample, indexed by ``sample`` (str); all columns are strings, empty
        cells are NaN.
    """
    table = _read_sheet(path, "sample sheet")
    _validate_rows(table, schema, str(path))
    duplicated = table["sample"][table["sample"].duplicated()].unique().tolist()
    if duplicated:
        lines = [
            f"{sample!r} on lines {[i + 2 for i in table.index[table['sample'] == sample]]}"
            for sample in duplicated
        ]
        raise ConfigError(
            f"{path}: duplicate sample name(s): {'; '.join(lines)}. Each sample appears once; "
            "put several sequencing runs of one sample in the units sheet instead"
        )
    return table.set_index("sample", drop=False)


# --- alignment: units given as FASTQ ------------------------------------------------------


def _check_unit_reads(table: pd.DataFrame, file: str) -> pd.DataFrame:
    """Each unit gives a BAM or FASTQ (not both); a sample's units are all BAM or all FASTQ.

    Returns the table with ``bam``, ``fq1`` and ``fq2`` columns, empty strings where unset.
    """
    table = table.copy()
    for column in ("bam", "fq1", "fq2"):
        if column not in table.columns:
            table[column] = ""
        table[column] = table[column].fillna("").astype(str).str.strip()
    problems: list[str] = []
    for position, record in enumerate(table.to_dict("records")):
        row = {key: str(value) for key, value in record.items()}
        bam, fq1, fq2 = row["bam"], row["fq1"], row["fq2"]
        where = f"{file}, line {position + 2} (sample {row['sample']}, unit {row['unit']})"
        if bam and (fq1 or fq2):
            problems.append(
                f"{where}: lists both a BAM ({bam}) and FASTQ ({fq1 or fq2}); a unit is "
                "either aligned reads (bam) or reads to align (fq1, fq2): keep one"
            )
        elif fq2 and not fq1:
            problems.append(f"{where}: fq2 ({fq2}) without fq1; put read 1 in fq1")
        elif not bam and not fq1:
            problems.append(f"{where}: neither bam nor fq1 is given; give one of them")
        elif fq1 and fq1 == fq2:
            problems.append(f"{where}: fq1 and fq2 are the same file ({fq1})")
        else:
            for column in ("fq1", "fq2"):
                value = row[column]
                if value and not Path(value).is_file():
                    problems.append(f"{where}: {column} file {value} not found")
    for sample, rows in table.groupby("sample", sort=False):
        bams = rows[rows["bam"] != ""]
        fastqs = rows[(rows["bam"] == "") & (rows["fq1"] != "")]
        if not bams.empty and not fastqs.empty:
            fq_unit, fq_file = fastqs["unit"].iloc[0], fastqs["fq1"].iloc[0]
            bam_unit, bam_file = bams["unit"].iloc[0], bams["bam"].iloc[0]
            problems.append(
                f"{file}: sample {sample}: unit {fq_unit} lists FASTQ {fq_file} but unit "
                f"{bam_unit} lists BAM {bam_file}; a sample's units are all BAM or all "
                "FASTQ (the BAM may hold the same reads, counted twice): align the FASTQ "
                "yourself or list the sample's FASTQ units only"
            )
    if problems:
        raise ConfigError("invalid units sheet:\n  " + "\n  ".join(problems))
    return table


def load_units(path: str | Path, schema: Mapping[str, Any], samples: pd.DataFrame) -> pd.DataFrame:
    """Read and validate the units sheet against the sample sheet.

    Returns
    -------
    pandas.DataFrame
        One row per sequencing unit, indexed by (``sample``, ``unit``), with columns ``bam``,
        ``fq1`` and ``fq2`` (empty string where not given).
    """
    table = _read_sheet(path, "units sheet")
    _validate_rows(table, schema, str(path))
    table = _check_unit_reads(table, str(path))
    duplicated = table[table.duplicated(["sample", "unit"], keep=False)]
    if not duplicated.empty:
        pairs = sorted(set(zip(duplicated["sample"], duplicated["unit"], strict=True)))
        raise ConfigError(
            f"{path}: duplicate (sample, unit) pair(s): {pairs}; units must be unique"
        )
    unknown = sorted(set(table["sample"]) - set(samples.index))
    if unknown:
        raise ConfigError(
            f"{path}: sample(s) {unknown} are not in the sample sheet; known samples: "
            f"{sorted(samples.index)[:10]}"
        )
    without_units = sorted(set(samples.index) - set(table["sample"]))
    if without_units:
        raise ConfigError(
            f"{path}: sample(s) {without_units} of the sample sheet have no unit (no BAM or "
            "FASTQ); add a row per BAM file or FASTQ (pair), or remove the sample from the "
            "sample sheet"
        )
    return table.set_index(["sample", "unit"], drop=False).sort_index()


def check_cram_reference(units: pd.DataFrame, genome_fasta: str, path: str | Path) -> None:
    """CRAM units need the reference genome (``annotation.genome_fasta``) to be decoded.

    Raises
    ------
    ConfigError
        Naming the first CRAM unit (sample, unit, file) when no FASTA is configured.
    """
    if genome_fasta or "bam" not in units.columns:
        return
    for row in units.itertuples(index=False):
        sample, unit, file = str(row.sample), str(row.unit), row.bam
        if isinstance(file, str) and file.lower().endswith(".cram"):
            raise ConfigError(
                f"{path}: unit {unit!r} of sample {sample!r} is a CRAM file ({file}); decoding "
                "CRAM needs the reference genome the reads were aligned to: set "
                "annotation.genome_fasta in config/config.yaml to that FASTA"
            )


def read_sample_sheet(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read an already validated sample sheet: samples x columns, strings, indexed by sample.

    The workflow validated the sheet at parse time (:func:`load_samples`); jobs only read it.
    """
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"{file}: sample sheet not found")
    table = pd.read_csv(file, sep="\t", dtype=str, comment="#", skip_blank_lines=True)
    if "sample" not in table.columns:
        raise ConfigError(f"{file}: no 'sample' column; columns: {', '.join(table.columns)}")
    return table.set_index("sample", drop=False)
