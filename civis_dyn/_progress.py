"""Progress bars for long work: full pagination, waits for runs, file transfers.

A bar is shown only when all of these hold:

* ``tqdm`` is installed (``pip install 'civis-dyn[notebook]'``); it is imported on first use;
* the caller did not pass ``progress=False``;
* the environment variable ``CIVIS_DYN_PROGRESS`` is not ``0``, ``false``, ``no`` or ``off``;
* output goes to a terminal or a Jupyter kernel (``progress=True`` skips this check).

Otherwise :func:`progress_bar` returns a bar that does nothing, so callers never branch.
"""

import os
import sys

__all__ = ["progress_bar", "progress_enabled"]

_OFF = frozenset({"0", "false", "no", "off"})


class _NoBar:
    """The bar used when progress is off: every method does nothing."""

    n = 0
    total = None

    def update(self, n=1):
        self.n += n

    def set_description_str(self, text):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _interactive():
    stream = sys.stderr
    if getattr(stream, "isatty", None) and stream.isatty():
        return True
    return "ipykernel" in sys.modules


def progress_enabled(progress=None):
    """Whether a bar would be shown for this ``progress`` argument (None: decide)."""
    if progress is False:
        return False
    if os.environ.get("CIVIS_DYN_PROGRESS", "").strip().lower() in _OFF:
        return False
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return progress is True or _interactive()


def progress_bar(total=None, desc=None, unit="it", progress=None, unit_scale=False):
    """Return a ``tqdm.auto`` bar, or one that does nothing when progress is off.

    Parameters
    ----------
    total : int, optional
        The count at which the work is complete, when known.
    desc : str, optional
        A short label shown before the bar.
    unit : str, optional
        What is counted ("item", "B", ...).
    progress : bool, optional
        False turns the bar off; True shows it even outside a terminal or notebook;
        None (default) decides as the module docstring says.
    unit_scale : bool, optional
        Scale large counts (use for bytes).
    """
    if not progress_enabled(progress):
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit_scale, leave=False,
                file=sys.stderr)
