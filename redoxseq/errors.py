"""Errors a user can act on.

Every error raised for bad input names the file (and line, column or key), the bad value
and what would be accepted, so a biologist can fix the input without reading code.
"""

from __future__ import annotations


class RedoxseqError(Exception):
    """Base class for errors caused by user input or configuration."""


class InputError(RedoxseqError):
    """An input file (BAM, GTF, sample sheet, count matrix, GMT) is malformed or inconsistent."""


class ConfigError(RedoxseqError):
    """The configuration is invalid or inconsistent with the sample sheet."""
