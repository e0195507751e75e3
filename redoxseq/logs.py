"""Logging set-up shared by the workflow adapters and the command line.

:func:`setup_logging` sends every record to the job's log file (the file Snakemake tells the
user to read) and to standard error, and routes an exception that ends the process through
the same handlers, as pypsa-eur's scripts do: an input error (:class:`redoxseq.errors.
RedoxseqError`) ends the job with its one message and no traceback; anything else is a bug
and keeps its traceback, in the log as well.
"""

from __future__ import annotations

import logging
import os
import sys
from types import TracebackType

from redoxseq.errors import RedoxseqError

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

logger = logging.getLogger("redoxseq")

# Libraries whose INFO records are their own working notes: fontTools logs ~40 lines for every
# font it subsets into a PDF (a contrast's figures wrote ~580), which buried the job's own
# records. Their warnings and errors still reach the log.
_QUIET_LIBRARIES = ("fontTools", "matplotlib", "PIL")


def _log_uncaught(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    """``sys.excepthook``: the error into the log; no traceback for an input error."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, traceback)
        return
    if isinstance(error, RedoxseqError):
        logger.error("%s", error)
    else:
        logger.error(
            "unexpected error (a bug in redoxseq or a dependency; please report it with this "
            "log): %s: %s",
            kind.__name__,
            error,
            exc_info=(kind, error, traceback),
        )
    for handler in logging.getLogger().handlers:
        handler.flush()


def setup_logging(
    log_file: str | os.PathLike[str] | None = None, level: int = logging.INFO
) -> None:
    """Send log records and the exception that ends the process to ``log_file`` and stderr.

    Parameters
    ----------
    log_file
        The job's log file (overwritten); None logs to standard error only.
    level
        Lowest level recorded.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file, mode="w", encoding="utf-8"))
    logging.basicConfig(level=level, format=_FORMAT, handlers=handlers, force=True)
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
