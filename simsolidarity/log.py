"""The package's logging: one logger, ``simsolidarity``, silent until an application shows it.

Every module logs to a child of the ``simsolidarity`` logger (``simsolidarity.running.sweep``, ...):
the start and end of a run or a sweep and the folder written at INFO, each run that failed at
WARNING. As a library should, the package adds only a ``NullHandler``: a script or notebook that
wants the messages configures logging (``logging.basicConfig(level=logging.INFO)``); the
command line shows them on stderr (:func:`log_to_stderr`; ``-v`` for INFO, ``-vv`` for DEBUG).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import Any

#: The name of the package's logger, the parent of every module's.
LOGGER = "simsolidarity"

# Without a handler of its own, a warning would reach Python's last-resort handler and stderr.
logging.getLogger(LOGGER).addHandler(logging.NullHandler())


def get_logger(name: str) -> logging.Logger:
    """The logger of module ``name`` (its ``__name__``), a child of the package's logger."""
    return logging.getLogger(name if name == LOGGER or name.startswith(f"{LOGGER}.") else f"{LOGGER}.{name}")


def level_of(verbose: int = 0, quiet: bool = False) -> int:
    """The level shown for ``-v`` given ``verbose`` times and ``-q``: ERROR when quiet, else WARNING,
    INFO (``-v``) or DEBUG (``-vv``)."""
    if quiet:
        return logging.ERROR
    return (logging.WARNING, logging.INFO)[verbose] if verbose < 2 else logging.DEBUG


@contextlib.contextmanager
def log_to_stderr(level: int, prefix: str = LOGGER) -> Iterator[logging.Handler]:
    """Show the package's messages of ``level`` and above on stderr, one line each, for the block.

    Each line reads ``<prefix>: <level>: <message>``. The logger's level and handlers are as
    before once the block ends, so a program (or a test) may enter it again.
    """
    logger = logging.getLogger(LOGGER)
    handler = logging.StreamHandler(sys.stderr)  # the stderr of now, which a test may have replaced
    handler.setFormatter(_LowerLevelFormatter(f"{prefix}: %(levelname)s: %(message)s"))
    handler.setLevel(level)
    before = logger.level
    logger.addHandler(handler)
    logger.setLevel(min(level, before) if before != logging.NOTSET else level)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before)


@contextlib.contextmanager
def beside_progress_bars(tqdm_class: Any) -> Iterator[None]:
    """For a block that shows ``tqdm_class`` progress bars: the package's messages that a console
    shows are written above the bars (``tqdm.write``), not through them.

    Does nothing when no handler shows them on a console (a library's default: nothing is shown).
    """
    logger = logging.getLogger(LOGGER)
    if not any(_on_console(handler) for handler in logger.handlers):
        yield
        return
    from tqdm.contrib.logging import logging_redirect_tqdm  # only here: most runs show no message

    with logging_redirect_tqdm([logger], tqdm_class=tqdm_class):
        yield


def _on_console(handler: logging.Handler) -> bool:
    return isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stdout, sys.stderr)


class _LowerLevelFormatter(logging.Formatter):
    """Names the level in lower case (``warning``), as the command line's other messages say ``error``."""

    def format(self, record: logging.LogRecord) -> str:
        shown = logging.makeLogRecord(record.__dict__)
        shown.levelname = record.levelname.lower()
        return super().format(shown)
