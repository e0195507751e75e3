"""Running the external tools of the FASTQ route: versions logged, failures made readable.

Commands are argument lists run without a shell. A tool that fails raises
:class:`ToolError` with its command and the tail of its standard error, so the job log says
what went wrong without a Python traceback to read through.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
from collections.abc import Sequence
from pathlib import Path

from redoxseq.align.commands import VERSION_COMMANDS
from redoxseq.errors import RedoxseqError

logger = logging.getLogger(__name__)


class ToolError(RedoxseqError):
    """An external tool (fastp, HISAT2, samtools, MultiQC) exited with an error."""


def tool_version(tool: str) -> str:
    """First line of ``<tool> --version`` (the version as the tool reports it)."""
    command = VERSION_COMMANDS[tool]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            check=False,
            timeout=60,
            encoding="utf-8",
            errors="replace",
        )
    except FileNotFoundError:
        return "not installed"
    text = (done.stdout or done.stderr).strip().splitlines()
    # hisat2 prints the path of its binary first: keep the line with the version number.
    for line in text:
        if "version" in line.lower() or line.startswith(tool):
            return line.strip()
    return text[0].strip() if text else "unknown"


def log_versions(tools: Sequence[str]) -> dict[str, str]:
    """Log the version of each tool (for the job log and the run record); return them."""
    versions = {tool: tool_version(tool) for tool in tools}
    for tool, version in versions.items():
        logger.info("tool version: %s: %s", tool, version)
    return versions


def _tail(path: Path, lines: int = 20) -> str:
    text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return "\n".join(text[-lines:])


def run(command: Sequence[str], *, stderr_log: Path) -> None:
    """Run one command; its standard error goes to ``stderr_log`` (appended to the job log)."""
    logger.info("running: %s", shlex.join(command))
    with open(stderr_log, "ab") as err:
        done = subprocess.run(list(command), stderr=err, check=False)
    if done.returncode != 0:
        raise ToolError(
            f"{command[0]} failed (exit code {done.returncode}): {shlex.join(command)}\n"
            f"{_tail(stderr_log)}"
        )


def run_pipe(producer: Sequence[str], consumer: Sequence[str], *, stderr_log: Path) -> None:
    """Run ``producer | consumer`` (e.g. hisat2 | samtools sort) without a shell."""
    logger.info("running: %s | %s", shlex.join(producer), shlex.join(consumer))
    with open(stderr_log, "ab") as err:
        first = subprocess.Popen(list(producer), stdout=subprocess.PIPE, stderr=err)
        assert first.stdout is not None
        second = subprocess.Popen(list(consumer), stdin=first.stdout, stderr=err)
        first.stdout.close()
        second_code = second.wait()
        first_code = first.wait()
    for command, code in ((producer, first_code), (consumer, second_code)):
        if code != 0:
            raise ToolError(
                f"{command[0]} failed (exit code {code}): {shlex.join(command)}\n"
                f"{_tail(stderr_log)}"
            )
