"""Where a schema comes from: a file, a dict, the bundle, the caches or ``/endpoints``.

:func:`load_api_spec_with_info` is the entry point the client uses. With a
``local_api_spec`` (a file or a dict) that schema is used. Otherwise, given
the client's transport, the live schema is resolved in this order:

1. the in-memory cache (a bounded dict shared by the clients
   of a process, keyed by base URL, API version and a fingerprint of the key);
2. the disk cache (:class:`~civis_dyn.spec._cache.DiskCache`), one entry per
   base URL, API version and key, used with no request while younger than the
   TTL (:func:`spec_ttl`);
3. a stale entry is revalidated with a conditional ``GET {base}endpoints``
   (``If-None-Match`` / ``If-Modified-Since``): 304 renews it, 200 replaces it;
4. with nothing cached, ``GET {base}endpoints`` (with the client's retries);
5. when the API cannot be reached (no connection, timeout, 5xx or 429 after
   retries, a body that is not a schema), a stale entry if there is one, else
   the schema bundled with the package, with one warning saying which and how
   old.

``force_refresh=True`` skips 1 and 2 and downloads unconditionally. A client
with no API key cannot download: it uses the bundled schema, silently.

Models are shared within a process (keyed by the schema's sha256, or by the
identity of a dict), so every client built from the same schema shares its
synthesized classes. The preprocessed index is kept on disk under the schema's
sha256 (:class:`~civis_dyn.spec._cache.CachedIndex`), and a schema file's
sha256 under a stamp of the file (device, inode, size, times): a warm start
from an unchanged file neither reads, hashes nor parses it, and reads only the
index parts of the resources it uses, so its cost does not grow with the
schema. The model does not keep a file's bytes: it reads them again (checking
their sha256) if the whole document is ever needed.

The API key never reaches this module's caches: callers pass
:func:`key_fingerprint` of it, and cache file names are a hash of that.
"""

import dataclasses
import os
import sys
import threading
import time
from pathlib import Path

from .._files import write_atomically
from .._limits import BodyTooLarge, read_capped, schema_setting
from .._limits import max_schema_bytes as schema_limit
from .._pipeline import key_fingerprint  # noqa: F401  (re-exported, see __all__)
from .._errors import (
    ArgumentTypeError,
    ArgumentValueError,
    CivisAPIError,
    CivisConnectionError,
    InvalidResponseError,
    SpecError,
)
from .._version import __version__
from ._cache import DiskCache, index_entry_name, schema_entry_name, sha256_hex, warn
from ._model import ApiSpec, SpecInfo

__all__ = [
    "bundled_spec_path",
    "cache_api_spec",
    "clear_memory_cache",
    "key_fingerprint",
    "load_api_spec",
    "load_api_spec_with_info",
    "spec_ttl",
]

BUNDLE_NAME = "civis_api_spec.json"
ENDPOINTS_PATH = "endpoints"
SUPPORTED_API_VERSIONS = ("1.0",)
TTL_ENV = "CIVIS_DYN_SPEC_TTL"
INTERACTIVE_TTL = 15 * 60.0      # seconds, like civis-python in an interactive session
BATCH_TTL = 24 * 3600.0          # seconds, otherwise
FALLBACK_REUSE = 300.0           # seconds a fallback schema is reused before trying the API again
CLOCK_SKEW = 300.0               # an entry dated up to this far in the future still counts as fresh
_MEMORY_SIZE = 32

_MODELS_SIZE = 16
_MODELS = {}                     # sha256 or ("dict", id) -> ApiSpec, least recently used first
_MODELS_LOCK = threading.Lock()
# live schemas, (base URL, api_version, key fingerprint) -> _Remembered, least recently
# stored first (at most _MEMORY_SIZE); each is checked against its own fetch time and the
# current TTL when read
_LIVE = {}
_LIVE_LOCK = threading.Lock()
_FETCH_LOCKS = {}                # same keys -> Lock: one download per key at a time
_FETCH_LOCKS_LOCK = threading.Lock()


# -- small public helpers -------------------------------------------------



def is_interactive():
    """True in an interactive session (the REPL, ``python -i``, IPython, Jupyter)."""
    if hasattr(sys, "ps1") or sys.flags.interactive:
        return True
    ipython = sys.modules.get("IPython")
    try:
        return ipython is not None and ipython.get_ipython() is not None
    except Exception:  # an unusual IPython: assume a script
        return False


def spec_ttl(ttl=None):
    """Return how many seconds a downloaded schema is used before revalidation.

    Parameters
    ----------
    ttl : float, optional
        An explicit TTL. Default: env ``CIVIS_DYN_SPEC_TTL`` (seconds), else
        15 minutes in an interactive session and 24 hours otherwise.

    Raises
    ------
    ValueError
        When the TTL (or the environment variable) is not a number >= 0.
    """
    where = "ttl"
    if ttl is None:
        text = os.environ.get(TTL_ENV, "").strip()
        if not text:
            return INTERACTIVE_TTL if is_interactive() else BATCH_TTL
        where = TTL_ENV
        try:
            ttl = float(text)
        except ValueError:
            raise ArgumentValueError(f"{TTL_ENV} must be a number of seconds >= 0, not {text!r}") from None
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not ttl >= 0:
        raise ArgumentValueError(f"{where} must be a number of seconds >= 0, not {ttl!r}")
    return float(ttl)


def clear_memory_cache():
    """Forget every schema and model cached in this process (tests, long sessions)."""
    with _LIVE_LOCK:
        _LIVE.clear()
    with _MODELS_LOCK:
        _MODELS.clear()


def bundled_spec_path():
    """Path of the schema shipped with the package (``.json``, else ``.json.gz``)."""
    import importlib.resources

    folder = importlib.resources.files("civis_dyn.schemas")
    plain = folder.joinpath(BUNDLE_NAME)
    if not plain.is_file():
        packed = folder.joinpath(BUNDLE_NAME + ".gz")
        if packed.is_file():
            return packed
    return plain


# -- models ---------------------------------------------------------------
def _remember(key, make):
    with _MODELS_LOCK:
        spec = _MODELS.pop(key, None)
        if spec is not None:
            _MODELS[key] = spec  # most recently used last
            return spec
    spec = make()
    with _MODELS_LOCK:
        spec = _MODELS.setdefault(key, spec)
        while len(_MODELS) > _MODELS_SIZE:
            del _MODELS[next(iter(_MODELS))]
        return spec


def spec_from_bytes(raw, *, source, location=None, fetched_at=None, cache=None, sha256=None):
    """Model a schema from its bytes, reusing a process-wide model or a cached index.

    Parameters
    ----------
    raw : bytes
        The schema's JSON.
    source, location, fetched_at
        Recorded in the model's :class:`SpecInfo`.
    cache : DiskCache, optional
        Where the preprocessed index is kept (default: the user cache).
    sha256 : str, optional
        The hash of ``raw`` when already known.

    Raises
    ------
    SpecError
        When the schema is malformed: the index is built (or read) before
        returning, so a bad schema fails here rather than later.
    """
    if sha256 is None:
        sha256 = sha256_hex(raw)
    return _model(sha256, source=source, location=location, fetched_at=fetched_at,
                  disk=cache if cache is not None else DiskCache(), raw=raw)


def _model(sha256, *, source, location, fetched_at, disk, raw=None, loader=None):
    """The process-wide model of the schema with hash ``sha256``.

    Warm (the disk cache has its index): nothing of the schema is read here.
    Cold: ``raw`` (else ``loader()``) is parsed, checked, and its index and
    slices written. With a ``loader`` the model keeps no bytes.
    """
    def make():
        spec = ApiSpec(raw=raw, source=source, location=location, fetched_at=fetched_at,
                       sha256=sha256, loader=loader)
        cached = disk.open_index(sha256, rebuild=lambda: _rebuilt_index(spec, disk))
        if cached is not None:  # warm: the index and slices of the resources used
            spec._index = cached
            spec.use_slices(cached.slice)
            spec.forget_bytes()
            return spec
        try:
            disk.write_index(sha256, spec.index, spec.slices())  # parses and validates
        except RecursionError:
            raise SpecError(f"{location or source}: the schema is nested too deeply "
                            f"to be used") from None
        spec.forget_bytes()
        return spec

    return _remember(sha256, make)


def _rebuilt_index(spec, disk):
    """The index built from the schema itself (a cached one proved damaged), written anew."""
    index = spec.build_index()
    disk.write_index(spec.sha256, index, spec.slices())
    return index


def read_schema_file(path, limit=None):
    """The bytes of a schema file (decompressed for ``.gz``), at most ``limit`` of them."""
    limit = schema_limit(limit)
    packed = str(path).endswith(".gz")
    try:
        if packed:
            import gzip

            opened = gzip.open(path, "rb")
        else:
            opened = open(path, "rb")
        with opened as f:
            return read_capped(f, limit, f"the schema at {path}", schema_setting())
    except BodyTooLarge as exc:
        raise SpecError(str(exc)) from None
    except OSError as exc:
        raise SpecError(f"cannot read the schema at {path}: {exc.strerror or exc}") from None
    except EOFError as exc:
        raise SpecError(f"cannot read the schema at {path}: {exc}") from None


def _reader(path, limit, sha256):
    """``loader()`` of a schema file: its bytes again, refused if they changed since."""
    def load():
        raw = read_schema_file(path, limit)
        if sha256_hex(raw) != sha256:
            raise SpecError(f"the schema at {path} changed while a client built from it was in "
                            f"use; build a new client to use the new schema")
        return raw

    return load


def _load_file(path, source, cache, limit=None):
    limit = schema_limit(limit)
    disk = cache if cache is not None else DiskCache(max_schema_bytes=limit)
    where = os.path.abspath(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise SpecError(f"cannot read the schema at {path}: {exc.strerror or exc}") from None
    sha256 = disk.known_digest(where, info)
    if sha256 is not None:  # an unchanged file, hashed before: not read again
        size = disk.decoded_size(where, info) if str(path).endswith(".gz") else info.st_size
        if size is None or size > limit:
            raise SpecError(str(BodyTooLarge(f"the schema at {path}", limit, schema_setting())))
        raw = None
    else:
        raw = read_schema_file(path, limit)
        sha256 = sha256_hex(raw)
    spec = _model(sha256, source=source, location=str(path), fetched_at=None, disk=disk, raw=raw,
                  loader=_reader(path, limit, sha256))
    if raw is not None:
        disk.remember_digest(where, info, sha256, len(raw))
    return spec, SpecInfo(source, str(path), None, sha256)


def _load_dict(document):
    def make():
        spec = ApiSpec.from_dict(document)
        try:
            spec.index  # validate now: never a half-built client
        except RecursionError:
            raise SpecError("the schema dict is nested too deeply to be used") from None
        return spec

    # keyed by identity; the cached model keeps the dict alive, so the id stays unique
    return _remember(("dict", id(document)), make)


def load_api_spec(local_api_spec=None, *, cache=None, **live):
    """Return the :class:`ApiSpec` for a client (see :func:`load_api_spec_with_info`)."""
    return load_api_spec_with_info(local_api_spec, cache=cache, **live)[0]


def load_api_spec_with_info(local_api_spec=None, *, transport=None, api_version="1.0",
                            force_refresh=False, key_fingerprint=None, ttl=None, cache=None,
                            clock=time.time, max_schema_bytes=None):
    """Return the schema model for a client and where it came from.

    Parameters
    ----------
    local_api_spec : str, PathLike, dict or None
        A schema file or a parsed schema; None for the live schema (with a
        ``transport``) or the bundled one (without).
    transport : civis_dyn._pipeline.SyncDriver, optional
        The client's request driver: ``GET endpoints`` goes through its
        ``request`` method, with its retries.
    api_version : str
        The API version; only ``"1.0"`` is served.
    force_refresh : bool
        Skip the memory and disk caches and download the schema.
    key_fingerprint : str or None
        :func:`key_fingerprint` of the API key the transport sends (never the
        key). None: no key, so the bundled schema is used.
    ttl : float, optional
        Seconds a downloaded schema is used before revalidation (see :func:`spec_ttl`).
    cache : DiskCache, optional
        The disk cache (default: the user cache directory).
    clock : callable
        Wall-clock time (injected by tests).
    max_schema_bytes : int, optional
        Largest schema accepted, decoded (default: env
        ``CIVIS_DYN_MAX_SCHEMA_BYTES``, else 64 MiB; see :mod:`civis_dyn._limits`).

    Returns
    -------
    (ApiSpec, SpecInfo or None)
        The model, and this load's :class:`SpecInfo` (None for a dict: the
        model's own ``info`` applies, computed on demand).

    Raises
    ------
    SpecError
        When the schema is missing or malformed.
    ValueError
        For an unknown ``api_version`` or a bad TTL.
    CivisAPIError
        When the API refuses the download (e.g. 401 for a bad key).
    CivisConnectionError
        When the API is unreachable and nothing is cached or bundled.
    """
    limit = schema_limit(max_schema_bytes)
    if cache is None and max_schema_bytes is not None:  # entries are read against this limit
        cache = DiskCache(max_schema_bytes=limit)
    if isinstance(local_api_spec, dict):
        return _load_dict(local_api_spec), None
    if local_api_spec is not None:
        if not isinstance(local_api_spec, (str, os.PathLike)):
            raise ArgumentTypeError(f"local_api_spec must be a path or a dict, "
                            f"not {type(local_api_spec).__name__}")
        return _load_file(os.fspath(local_api_spec), "file", cache, limit)
    if transport is None or not key_fingerprint:
        return _load_bundle(cache)
    if api_version not in SUPPORTED_API_VERSIONS:
        raise ArgumentValueError(f"API specification for api_version {api_version!r} cannot be found "
                         f"(available: {', '.join(SUPPORTED_API_VERSIONS)})")
    return _LiveLoad(transport, api_version, key_fingerprint, spec_ttl(ttl), cache, clock,
                     limit).run(force_refresh)


def _load_bundle(cache):
    path = bundled_spec_path()
    if not path.is_file():
        raise SpecError(f"the schema bundled with civis_dyn is missing ({path}); "
                        f"pass local_api_spec= or an API key to download the live schema")
    return _load_file(path, "bundle", cache)


# -- the live schema --------------------------------------------------------
class _Remembered:
    """A live schema held in memory."""

    __slots__ = ("spec", "info", "checked_at", "fallback")

    def __init__(self, spec, info, checked_at, fallback):
        self.spec = spec
        self.info = info
        self.checked_at = checked_at  # when the API last confirmed it, or the fallback was chosen
        self.fallback = fallback


def _fresh(age, ttl):
    """True for an age within the TTL (a clock that went far back makes it stale)."""
    return -CLOCK_SKEW <= age < ttl


def _memory_get(key, now, ttl):
    with _LIVE_LOCK:
        held = _LIVE.get(key)
    if held is None:
        return None
    limit = min(ttl, FALLBACK_REUSE) if held.fallback else ttl
    if not _fresh(now - held.checked_at, limit):
        return None
    if held.fallback:
        return held.spec, held.info
    info = held.info
    return held.spec, SpecInfo("memory", info.location, info.fetched_at, info.sha256)


def _memory_put(key, spec, info, checked_at, fallback=False):
    with _LIVE_LOCK:
        _LIVE.pop(key, None)
        _LIVE[key] = _Remembered(spec, info, checked_at, fallback)
        while len(_LIVE) > _MEMORY_SIZE:
            del _LIVE[next(iter(_LIVE))]


def _fetch_lock(key):
    with _FETCH_LOCKS_LOCK:
        return _FETCH_LOCKS.setdefault(key, threading.Lock())


def _fallback_reason(exc):
    """Why a download failed, when the failure calls for a fallback; else None."""
    if isinstance(exc, (CivisConnectionError, InvalidResponseError, SpecError)):
        return f"{type(exc).__name__}: {exc}"
    if isinstance(exc, CivisAPIError) and (exc.status_code >= 500 or exc.status_code == 429):
        return f"HTTP {exc}"
    return None


def describe_age(seconds):
    """``seconds`` as a short human duration (``"3 h"``, ``"2 days"``)."""
    seconds = max(0.0, seconds)
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


SPEC_RETRY_SECONDS = 10.0


def download_schema(transport, api_version, clock, conditional=None, limit=None):
    """``GET endpoints``: a new :class:`CachedSchema`, or ``conditional`` renewed on 304.

    ``limit`` bounds the decoded schema (see :func:`civis_dyn._limits.max_schema_bytes`).

    Raises
    ------
    InvalidResponseError
        When the answer is neither 200 nor (for a conditional request) 304.
    SpecError
        When the schema is larger than ``limit``.
    CivisAPIError, CivisConnectionError
        From the transport.
    """
    headers = conditional.validators() if conditional is not None else {}
    # a fallback (a stale entry or the bundle) always exists: retry briefly, then use it
    policy = transport.retry_policy
    policy = dataclasses.replace(policy, max_elapsed=min(policy.max_elapsed, SPEC_RETRY_SECONDS))
    limit = schema_limit(limit)
    response = transport.request("GET", ENDPOINTS_PATH, headers=headers or None, retries=policy,
                                 max_bytes=limit)
    if len(response.content) > limit:
        raise SpecError(str(BodyTooLarge("the schema", limit, schema_setting())))
    now = clock()
    status = response.status_code
    if status == 304 and headers:
        return conditional.renewed(now)
    if status != 200:
        raise InvalidResponseError(status, f"expected the schema, got HTTP {status}", response,
                                   "GET", "/" + ENDPOINTS_PATH)
    from ._entry import CachedSchema

    return CachedSchema.from_download(
        response.content, fetched_at=now, etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"), base_url=transport.base_url,
        api_version=api_version)


class _LiveLoad:
    """One resolution of the live schema for a base URL, API version and key."""

    def __init__(self, transport, api_version, fingerprint, ttl, cache, clock, limit=None):
        self.limit = limit
        self.transport = transport
        self.api_version = api_version
        self.ttl = ttl
        self.clock = clock
        self.disk = cache if cache is not None else DiskCache()
        self.key = (transport.base_url, api_version, fingerprint)
        self.name = schema_entry_name(transport.base_url, api_version, fingerprint)
        self.url = transport.url(ENDPOINTS_PATH)

    def run(self, force_refresh):
        if not force_refresh:
            hit = _memory_get(self.key, self.clock(), self.ttl)
            if hit is not None:
                return hit
        with _fetch_lock(self.key):
            if not force_refresh:  # another thread may have fetched it meanwhile
                hit = _memory_get(self.key, self.clock(), self.ttl)
                if hit is not None:
                    return hit
            return self._resolve(force_refresh)

    def _model(self, entry, source):
        return _model(entry.sha256, source=source, location=self.url,
                      fetched_at=entry.fetched_at, disk=self.disk, raw=entry.raw,
                      loader=entry.loader)

    def _cached(self):
        """The disk entry and its model, or (None, None); a corrupt entry is removed.

        An entry unchanged since it was last checked is read by its header alone.
        """
        entry = self.disk.read_schema(self.name, lazy=True)
        if entry is None:
            return None, None
        try:
            return entry, self._model(entry, "disk-cache")
        except SpecError as exc:
            self.disk.discard_corrupt(self.name, exc)
            return None, None

    def _keep(self, entry, spec, source, location):
        info = SpecInfo(source, location, entry.fetched_at, entry.sha256)
        _memory_put(self.key, spec, info, entry.fetched_at)
        return spec, info

    def _resolve(self, force_refresh):
        entry, spec = self._cached()
        fresh = entry is not None and _fresh(self.clock() - entry.fetched_at, self.ttl)
        if fresh and not force_refresh:
            return self._keep(entry, spec, "disk-cache", str(self.disk.path(self.name)))
        conditional = None if force_refresh else entry
        try:
            fetched = download_schema(self.transport, self.api_version, self.clock, conditional,
                                self.limit)
            unchanged = entry is not None and fetched.sha256 == entry.sha256
            fetched_spec = spec if unchanged else self._model(fetched, "download")
        except (CivisAPIError, CivisConnectionError, SpecError) as exc:
            reason = _fallback_reason(exc)
            if reason is None:
                raise
            return self._fall_back(reason, exc, entry, spec)
        if self.disk.write_schema(self.name, fetched):
            if entry is not None and not unchanged:
                self.disk.remove(index_entry_name(entry.sha256))  # the old schema's index
            self.disk.prune()
        if conditional is not None and fetched.raw is conditional.raw:  # 304 Not Modified
            return self._keep(fetched, fetched_spec, "disk-cache", str(self.disk.path(self.name)))
        return self._keep(fetched, fetched_spec, "download", self.url)

    def _fall_back(self, reason, exc, entry, spec):
        now = self.clock()
        if entry is not None:
            warn(f"could not refresh the API schema from {self.url} ({reason}); using the "
                 f"cached copy downloaded {describe_age(now - entry.fetched_at)} ago")
            info = SpecInfo("stale-cache", str(self.disk.path(self.name)), entry.fetched_at,
                            entry.sha256)
            _memory_put(self.key, spec, info, now, fallback=True)
            return spec, info
        try:
            spec, info = _load_bundle(self.disk)
        except SpecError:
            exc.add_note("civis_dyn: no cached or bundled schema to fall back on")
            raise exc from None
        path = Path(info.location)
        try:
            import datetime

            dated = datetime.datetime.fromtimestamp(path.stat().st_mtime).date().isoformat()
            age = f", file dated {dated}"
        except OSError:
            age = ""
        warn(f"could not download the API schema from {self.url} ({reason}); using the schema "
             f"bundled with civis_dyn {__version__}{age}, which may be out of date")
        _memory_put(self.key, spec, info, now, fallback=True)
        return spec, info


# -- writing the live schema --------------------------------------------------



def cache_api_spec(path=None, api_key=None, api_version="1.0"):
    """Download the live API schema and save it.

    Parameters
    ----------
    path : str or PathLike, optional
        A file to write the schema to (atomically, mode 0600), exactly as the
        API serves it; use it later with ``APIClient(local_api_spec=path)``.
        Default: refresh the disk cache entry that :class:`APIClient` reads
        (``$CIVIS_DYN_CACHE_DIR``, else ``$XDG_CACHE_HOME/civis_dyn``, else
        ``~/.cache/civis_dyn``).
    api_key : str, optional
        Default: env ``CIVIS_API_KEY``. The API's URL comes from env
        ``CIVIS_API_ENDPOINT`` (default ``https://api.civisanalytics.com/``).
    api_version : str
        Only ``"1.0"``.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    MissingAPIKeyError
        Without a key.
    SpecError
        When the API's answer is not a usable schema.
    CivisAPIError, CivisConnectionError
        When the download fails.
    OSError
        When the file (or the cache) cannot be written.
    """
    if api_version not in SUPPORTED_API_VERSIONS:
        raise ArgumentValueError(f"cache_api_spec: API specification for api_version {api_version!r} "
                         f"cannot be found (available: {', '.join(SUPPORTED_API_VERSIONS)})")
    from .._config import ClientConfig
    from .._pipeline import SyncDriver

    config = ClientConfig.resolve(api_key=api_key, api_version=api_version)
    key = config.api_key
    transport = SyncDriver.from_config(config)
    try:
        fetched = download_schema(transport, api_version, time.time)
        disk = DiskCache()
        url = transport.url(ENDPOINTS_PATH)
        spec = spec_from_bytes(fetched.raw, source="download", location=url,
                               fetched_at=fetched.fetched_at, cache=disk, sha256=fetched.sha256)
        if path is not None:
            write_atomically(path, fetched.raw)
            return Path(path)
        fingerprint = key_fingerprint(key)
        name = schema_entry_name(transport.base_url, api_version, fingerprint)
        if not disk.write_schema(name, fetched):
            raise OSError(f"cache_api_spec: cannot write the schema cache in {disk.directory}")
        disk.prune()
        info = SpecInfo("download", url, fetched.fetched_at, fetched.sha256)
        _memory_put((transport.base_url, api_version, fingerprint), spec, info, fetched.fetched_at)
        return disk.path(name)
    finally:
        transport.close()
