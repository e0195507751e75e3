"""Adapter: results/run_record.json, the inputs (SHA-256), config, software and seeds of a run."""

import os
from datetime import UTC, datetime
from pathlib import Path

from redoxseq.io import write_json
from redoxseq.logs import setup_logging
from redoxseq.provenance import run_record

setup_logging(snakemake.log[0])

record = run_record(
    inputs={kind: list(snakemake.input[kind]) for kind in snakemake.params.input_kinds},
    config=snakemake.params.config,
    seeds=snakemake.params.seeds,
    tools=snakemake.params.tools,
    # the workflow folder, for its git commit (not a param: it changes when the folder moves)
    workflow_dir=Path(snakemake.scriptdir).parent,
    # set by the workflow when Snakemake started (common.smk); not params, so that a new
    # invocation alone does not rerun this job
    command_line=os.environ.get("REDOXSEQ_COMMAND_LINE", "unknown"),
    started=os.environ.get("REDOXSEQ_RUN_STARTED", "unknown"),
    finished=datetime.now(UTC).isoformat(timespec="seconds"),
    threads=snakemake.threads,
)
write_json(record, snakemake.output.record)
