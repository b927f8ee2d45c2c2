"""``civis_logger``: a logger for code that runs as a Civis Platform job (as civis-python's).

Platform job logs show stdout in black and stderr in red; the logger sends
INFO and below to stdout, WARNING and above to stderr.
"""

import logging
import os
import sys

__all__ = ["civis_logger"]


class _LevelFilter(logging.Filter):
    """Passes records at or below ``level`` (``above=False``) or above it (``above=True``)."""

    def __init__(self, level, above):
        super().__init__()
        self.level = level
        self.above = above

    def filter(self, record):
        return (record.levelno > self.level) == self.above


def civis_logger(name=None, level=None, fmt="%(message)s"):
    """Return a logger for Civis Platform jobs.

    Parameters
    ----------
    name : str, optional
        The logger's name (:func:`logging.getLogger`); ``__name__`` is usual.
    level : int or str, optional
        The logger's level. Default: env ``CIVIS_LOG_LEVEL`` (``DEBUG``,
        ``WARNING`` …), else ``logging.INFO``.
    fmt : str or logging.Formatter, optional
        The format of each line (default ``"%(message)s"``).

    Returns
    -------
    logging.Logger
        With one handler to stdout (INFO and below) and one to stderr
        (above INFO); it does not propagate to the root logger, so lines are
        not written twice.
    """
    logger = logging.getLogger(name)
    logger.setLevel(level if level is not None else (os.getenv("CIVIS_LOG_LEVEL") or logging.INFO))
    logger.propagate = False
    formatter = fmt if isinstance(fmt, logging.Formatter) else logging.Formatter(fmt)
    for stream, above in ((sys.stdout, False), (sys.stderr, True)):
        handler = logging.StreamHandler(stream)
        handler.addFilter(_LevelFilter(logging.INFO, above))
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    return logger
