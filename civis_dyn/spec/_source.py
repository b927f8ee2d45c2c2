"""Where a schema comes from: a file, a dict, the bundle, the caches or ``/endpoints``.

:func:`load_api_spec` is the one entry point the client uses. Models are
shared within a process (keyed by the schema's sha256, or by the identity of a
dict), so that every client built from the same schema shares its synthesized
classes. For files, the preprocessed index is kept in the disk cache under the
schema's sha256, so a warm start reads and hashes the file but does not parse it.
"""

import importlib.resources
import json
import os
import threading

import cachetools

from .._errors import SpecError
from ._cache import DiskCache
from ._model import ApiSpec

__all__ = ["bundled_spec_path", "load_api_spec"]

_MODELS = cachetools.LRUCache(maxsize=16)   # sha256 or ("dict", id) -> ApiSpec
_MODELS_LOCK = threading.Lock()
_INDEX_VERSION = 1
BUNDLE_NAME = "civis_api_spec.json"


def bundled_spec_path():
    """Path of the schema shipped with the package."""
    return importlib.resources.files("civis_dyn.schemas").joinpath(BUNDLE_NAME)


def _remember(key, make):
    with _MODELS_LOCK:
        spec = _MODELS.get(key)
    if spec is not None:
        return spec
    spec = make()
    with _MODELS_LOCK:
        return _MODELS.setdefault(key, spec)


def _index_name(sha256):
    return f"index-v{_INDEX_VERSION}-{sha256}.json"


def spec_from_bytes(raw, *, source, location=None, fetched_at=None, cache=None):
    """Model a schema from its bytes, reusing a process-wide model or a cached index.

    The index is validated (built) before returning, so a malformed schema
    raises :class:`SpecError` here rather than later.
    """
    probe = ApiSpec.from_bytes(raw, source=source, location=location, fetched_at=fetched_at)

    def make():
        disk = cache if cache is not None else DiskCache()
        cached = disk.read(_index_name(probe.sha256))
        if cached is not None:
            try:
                probe._index = json.loads(cached)
            except ValueError:
                disk.remove(_index_name(probe.sha256))
        if probe._index is None:
            index = probe.index  # parses and validates
            disk.write(_index_name(probe.sha256),
                       json.dumps(index, separators=(",", ":")).encode())
        return probe

    spec = _remember(probe.sha256, make)
    return spec


def load_api_spec(local_api_spec=None, *, cache=None, **live):
    """Return the :class:`ApiSpec` for a client.

    Parameters
    ----------
    local_api_spec : str, PathLike, dict or None
        A schema file, a parsed schema, or None for the bundled schema.
    cache : DiskCache, optional
        Where preprocessed indexes are kept.

    Raises
    ------
    SpecError
        When the schema is missing or malformed.
    """
    if isinstance(local_api_spec, dict):
        document = local_api_spec

        def make():
            spec = ApiSpec.from_dict(document)
            spec.index  # validate now: never a half-built client
            return spec

        # keyed by identity; the cached model keeps the dict alive, so the id stays unique
        return _remember(("dict", id(document)), make)
    if local_api_spec is None:
        path = bundled_spec_path()
        source = "bundle"
    elif isinstance(local_api_spec, (str, os.PathLike)):
        path = os.fspath(local_api_spec)
        source = "file"
    else:
        raise TypeError(f"local_api_spec must be a path or a dict, not {type(local_api_spec).__name__}")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise SpecError(f"cannot read the schema at {path}: {exc.strerror}") from None
    return spec_from_bytes(raw, source=source, location=str(path), cache=cache)
