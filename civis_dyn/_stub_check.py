"""Whether installed type stubs describe the schema in use; which schema :mod:`civis_dyn.types` uses.

Every :class:`~civis_dyn.APIClient` calls :func:`note_spec_in_use` once
built. It records the client's schema (for :mod:`civis_dyn.types`) and, once
per schema model and process, looks for stubs written by ``civis-dyn stubs``
(``civis_dyn-stubs/schema.sha256`` on ``sys.path``,
``typings/civis_dyn/schema.sha256`` in the working directory): when they
describe another schema, one warning names the command that refreshes them.
It reads only those small files, so it costs a few ``stat`` calls. The stubs
themselves are written by :mod:`civis_dyn._stubs`.
"""

import os
import sys
import threading
from pathlib import Path

__all__ = ["SHA_FILE", "STUBS_PACKAGE", "check_installed_stubs", "installed_stubs",
           "note_spec_in_use", "spec_in_use"]

STUBS_PACKAGE = "civis_dyn-stubs"
SHA_FILE = "schema.sha256"

_IN_USE = {"spec": None}
_WARNED = set()
_WARN_LOCK = threading.Lock()


def spec_in_use():
    """The schema of the most recently built client, else the one ``APIClient()`` would use."""
    spec = _IN_USE["spec"]
    if spec is None:
        from ._client import APIClient

        spec = APIClient().meta.spec     # note_spec_in_use records it
    return spec


def installed_stubs():
    """Stubs that type checkers would find: ``[(directory, sha256, refresh command)]``.

    Looks for ``civis_dyn-stubs/schema.sha256`` on ``sys.path`` (site-packages)
    and ``typings/civis_dyn/schema.sha256`` in the working directory. Reads
    only those small files.
    """
    found = []
    seen = set()
    candidates = [(Path(entry or ".") / STUBS_PACKAGE, "civis-dyn stubs --install")
                  for entry in sys.path]
    candidates.append((Path("typings") / "civis_dyn", "civis-dyn stubs"))
    for directory, command in candidates:
        sha_file = directory / SHA_FILE
        try:
            text = sha_file.read_text(encoding="ascii").split()
        except (OSError, UnicodeDecodeError):
            continue
        key = os.path.realpath(directory)
        if not text or key in seen:
            continue
        seen.add(key)
        if command.endswith("--install") and not _in_site_packages(directory):
            command = f"civis-dyn stubs --out {directory.parent}"
        found.append((directory, text[0], command))
    return found


def _in_site_packages(directory):
    """True for ``.../site-packages/civis_dyn-stubs`` (no sysconfig: this runs in every client)."""
    return directory.parent.name in ("site-packages", "dist-packages")


def check_installed_stubs(spec):
    """Warn (once per stub directory and process) when installed stubs describe another schema.

    Parameters
    ----------
    spec : civis_dyn.spec.ApiSpec or str
        The schema in use, or its sha256 (computed only when stubs are found).

    Returns
    -------
    list
        The ``(directory, sha256, command)`` of the stale stubs found.
    """
    stubs = installed_stubs()
    if not stubs:
        return []
    sha = spec if isinstance(spec, str) else spec.sha256
    stale = [s for s in stubs if s[1] != sha]
    for directory, theirs, command in stale:
        with _WARN_LOCK:
            if str(directory) in _WARNED:
                continue
            _WARNED.add(str(directory))
        from .spec._cache import warn

        warn(f"the type stubs in {directory} describe schema {theirs[:12]}, but this client uses "
             f"schema {sha[:12]}; refresh them with `{command}`", UserWarning)
    return stale


def note_spec_in_use(spec):
    """Called by :class:`~civis_dyn.APIClient` once built: record ``spec``, check the stubs.

    Cheap: a few ``stat`` calls; the schema's hash is read only when stubs are installed.
    """
    _IN_USE["spec"] = spec

    def check():
        try:
            check_installed_stubs(spec)
        except Exception:   # a check must never break a client  # noqa: BLE001
            pass
        return True

    spec.derived(("stubs_checked",), check)  # once per schema model and process
