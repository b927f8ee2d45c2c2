"""The on-disk cache: schemas and their preprocessed indexes.

Files live under the user cache directory (``$CIVIS_DYN_CACHE_DIR``, else
``$XDG_CACHE_HOME/civis_dyn``, else ``~/.cache/civis_dyn``), in a directory
created 0700, each file created 0600 and written atomically (a temporary file
in the same directory, then :func:`os.replace`), so concurrent writers never
leave a torn file. A cache that cannot be created or written degrades to
no cache, with one warning. File names never contain secrets.
"""

import os
import tempfile
import warnings
from pathlib import Path

__all__ = ["DiskCache", "default_cache_dir"]


def default_cache_dir():
    """Return the cache directory this process should use."""
    explicit = os.environ.get("CIVIS_DYN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "civis_dyn"


class DiskCache:
    """A directory of small files written atomically.

    Parameters
    ----------
    directory : str or PathLike, optional
        Default :func:`default_cache_dir`.
    """

    def __init__(self, directory=None):
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self._warned = False
        self._usable = None

    def __repr__(self):
        return f"DiskCache({str(self.directory)!r})"

    def _warn(self, message):
        if not self._warned:
            self._warned = True
            warnings.warn(f"civis_dyn cache: {message}", RuntimeWarning, stacklevel=4)

    def _ensure_dir(self):
        if self._usable is None:
            try:
                self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                self._usable = os.access(self.directory, os.W_OK | os.X_OK)
                if not self._usable:
                    self._warn(f"{self.directory} is not writable; caching in memory only")
            except OSError as exc:
                self._usable = False
                self._warn(f"cannot create {self.directory} ({exc.strerror}); caching in memory only")
        return self._usable

    def path(self, name):
        """The path of entry ``name``."""
        return self.directory / name

    def read(self, name):
        """Return the bytes of entry ``name``, or None when absent or unreadable."""
        try:
            with open(self.directory / name, "rb") as f:
                return f.read()
        except OSError:
            return None

    def write(self, name, data):
        """Write entry ``name`` atomically; return True on success."""
        if not self._ensure_dir():
            return False
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.directory)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.directory / name)
            return True
        except OSError as exc:
            self._warn(f"cannot write {name} in {self.directory} ({exc.strerror}); "
                       f"continuing without it")
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
            return False

    def remove(self, name):
        """Remove entry ``name`` if present."""
        try:
            os.unlink(self.directory / name)
        except OSError:
            pass
