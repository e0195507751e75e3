"""Errors a user can act on.

Every error raised for bad input names the file (and line, column or key), the bad value
and what would be accepted, so a biologist can fix the input without reading code.
"""

from __future__ import annotations

from collections.abc import Iterable


class RedoxseqError(Exception):
    """Base class for errors caused by user input or configuration."""


class InputError(RedoxseqError):
    """An input file (BAM, GTF, sample sheet, count matrix, GMT) is malformed or inconsistent."""


class ConfigError(RedoxseqError):
    """The configuration is invalid or inconsistent with the sample sheet."""


def listing(values: Iterable[object], limit: int = 10) -> str:
    """``values`` joined by commas for an error message, at most ``limit`` of them.

    A longer list ends with how many were left out (``"a, b, ... (198 more)"``), so that a
    message about hundreds of samples stays readable.
    """
    items = [str(value) for value in values]
    if len(items) <= limit:
        return ", ".join(items)
    return f"{', '.join(items[:limit])}, ... ({len(items) - limit} more)"
