"""Warnings attributed to the user's line, not to civis_dyn's own frames."""

import sys
import warnings

__all__ = ["warn_user"]


def _inside_package(frame):
    name = frame.f_globals.get("__name__", "")
    return name == "civis_dyn" or name.startswith("civis_dyn.")


def warn_user(message, category=FutureWarning):
    """Warn with ``message``, attributed to the first calling frame outside civis_dyn.

    ``warnings.warn(..., stacklevel=N)`` with a fixed ``N`` points at the
    wrong line as soon as a call goes through one more of our frames (a
    convenience, a property, the mock); walking the stack does not.
    """
    frame = sys._getframe(1)
    level = 2  # stacklevel 2 is the frame that called warn_user
    while frame is not None and _inside_package(frame):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
