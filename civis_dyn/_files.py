"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

import os
import tempfile
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(path, data, *, mode=0o600):
    """Write ``data`` to ``path`` through a temporary file in the same directory.

    The temporary file is flushed and synced, given ``mode``, then renamed over
    ``path`` with :func:`os.replace`, so concurrent writers never leave a torn
    file. On failure the temporary file is removed and the error re-raised.

    Parameters
    ----------
    path : str or PathLike
    data : bytes
    mode : int, optional
        Permissions of the written file (default 0600: private).

    Raises
    ------
    OSError
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
