"""The on-disk cache: downloaded schemas and preprocessed indexes.

Files live under the user cache directory (``$CIVIS_DYN_CACHE_DIR``, else
``$XDG_CACHE_HOME/civis_dyn``, else ``~/.cache/civis_dyn``), in a directory
created 0700, each file created 0600 and written atomically (a temporary file
in the same directory, then :func:`os.replace`), so concurrent writers never
leave a torn file: a reader sees the old file or the new one.

Two kinds of entries:

``schema-v1-<id>.json``
    A downloaded schema (:class:`CachedSchema`): one header line of JSON (the
    schema's sha256 and size, ``ETag``, ``Last-Modified``, fetch time, base
    URL and API version), then the schema's bytes exactly as served. ``<id>``
    is a hash of the base URL, the API version and the API key's fingerprint,
    so each key gets its own entry and neither the key nor its fingerprint
    appears in any name or content.
``index-v3-<sha256>.bin``
    The preprocessed index of a schema (see :attr:`ApiSpec.index`) and its
    per-resource slices, keyed by the schema's sha256 (:class:`CachedIndex`):
    a header line naming the resources, a fixed-width table (offset, length
    and CRC-32 of each resource's methods and of its slice), then the parts.
    A warm start reads the header and, for each resource it touches, one
    record and two parts: its cost does not grow with the schema.
``stamp-v1-<id>.json``
    What a schema file (``local_api_spec``, the bundle) was when it was last
    hashed: its device, inode, size, modification and change times, and its
    sha256. A file that still matches is not read again to learn its hash
    (as ``git`` trusts an unchanged stat; a file changed less than
    :data:`RACY_SECONDS` before it was hashed gets no stamp, so an edit in the
    same clock tick is never missed). ``<id>`` is a checksum of the path.

An entry that fails its checks (truncated, not JSON, wrong hash) is reported
once with a warning, removed and treated as absent. A directory that cannot be
created or written degrades to no disk cache, with one warning per process.

Trust. A cached index decides which verb and path a method sends, so the cache
is used only when nobody else can write it: the directory (after following a
symlink to it) must be owned by this user and writable by nobody else, and its
parent must not let others rename it (writable by others only with the sticky
bit, as ``/tmp``). Otherwise the process warns once and runs without a disk
cache. Entries are opened without following symlinks and without blocking
(``O_NOFOLLOW | O_NONBLOCK``), used only when they are regular files owned by
this user and writable by nobody else, and read with a size bound (the schema
limit of :mod:`civis_dyn._limits`, plus the header). Files derived from a
schema are checked against it: an index is keyed by the schema's sha256, and
every entry must be what the naming rules give for its verb and path (a
rewritten verb or path is refused, when the resource is first used: the index
is then rebuilt from the schema); each part carries a CRC-32 against
corruption, and a slice must hold only its own resource's paths. Without
a home directory (no ``HOME`` and no passwd entry) there is no default cache
directory: the client runs without one.
Each download prunes the directory (:meth:`DiskCache.prune`): the most recently
used entries of each kind are kept, so short-lived test servers on random ports
do not fill the disk.
"""

import bisect
import json
import os
import stat
import sys
import threading
import time
import warnings
import zlib
from collections.abc import Mapping
from pathlib import Path

from .._files import write_atomically
from .._limits import BodyTooLarge, read_capped, schema_setting
from .._limits import max_schema_bytes as schema_limit
from ._naming import method_name, object_name, path_escape, resource_name

__all__ = ["CachedIndex", "CachedSchema", "DiskCache", "default_cache_dir", "schema_entry_name",
           "warn"]

SCHEMA_FORMAT = "civis_dyn.schema/1"
INDEX_FORMAT = "civis_dyn.index/3"
STAMP_FORMAT = "civis_dyn.stamp/1"
_MAX_INDEX_HEADER = 16 << 20  # bytes of the index header line (the resource names)
_MAX_STAMP = 1 << 16
_RECORD = 57                  # bytes of one table record: 10+10+8+10+10+8 hex digits and \n
RACY_SECONDS = 2.0            # a file modified this recently is hashed again next time
_MAX_HEADER = 1 << 20    # bytes allowed on top of the schema limit for an entry's header
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0))
KEEP_SCHEMAS = 16        # schema entries kept by prune (about 2.4 MB each for the real API)
KEEP_INDEXES = 32        # index entries kept by prune (about 2 MB each for the real API)
KEEP_STAMPS = 64         # stamps of schema files kept by prune (about 300 bytes each)
ORPHAN_AGE = 3600.0      # seconds after which a leftover temporary file is removed
_HTTP_VERBS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})
_WARNED = set()          # (directory, problem) already reported in this process
_WARNED_LOCK = threading.Lock()


def __getattr__(name):
    if name == "CachedSchema":  # defined in spec._entry: only the live schema needs it
        from ._entry import CachedSchema

        return CachedSchema
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def default_cache_dir():
    """Return the cache directory this process should use, or None without a home directory."""
    explicit = os.environ.get("CIVIS_DYN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "civis_dyn"
    try:
        home = Path.home()
    except (RuntimeError, KeyError, OSError):  # no HOME and no passwd entry
        return None
    if not home.is_absolute():
        return None
    return home / ".cache" / "civis_dyn"


def _owner_problem(info, what):
    """Why a directory or file with ``os.stat`` ``info`` cannot be trusted, or None."""
    if not hasattr(os, "geteuid"):
        return None  # no POSIX ownership (Windows): the user's profile is private
    if info.st_uid != os.geteuid():
        return f"{what} is owned by another user (uid {info.st_uid})"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"{what} is writable by other users (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


def warn(message, category=RuntimeWarning):
    """Warn with ``message``, attributed to the first caller outside civis_dyn."""
    frame = sys._getframe(1)
    level = 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("civis_dyn"):
        frame = frame.f_back
        level += 1
    warnings.warn(f"civis_dyn: {message}", category, stacklevel=level)


def schema_entry_name(base_url, api_version, key_fingerprint):
    """The file name of the cached schema for one base URL, API version and key.

    Parameters
    ----------
    base_url, api_version : str
    key_fingerprint : str
        A hash of the API key (never the key itself); hashed again here.
    """
    identity = "\n".join((base_url, api_version, key_fingerprint or "")).encode()
    return f"schema-v1-{sha256_hex(identity)[:40]}.json"


def index_entry_name(sha256):
    """The file name of the preprocessed index (and slices) of the schema with hash ``sha256``."""
    return f"index-v3-{sha256}.bin"


def stamp_entry_name(path):
    """The file name of the stamp of the schema file at ``path`` (absolute)."""
    data = os.fsencode(path)
    return f"stamp-v1-{zlib.crc32(data):08x}{zlib.adler32(data):08x}.json"


def _stamp_of(path, info):
    """What a stamp records of the file at ``path`` with ``os.stat`` result ``info``."""
    return {"path": path, "dev": info.st_dev, "ino": info.st_ino, "size": info.st_size,
            "mtime_ns": info.st_mtime_ns, "ctime_ns": info.st_ctime_ns}


def sha256_hex(data):
    """The SHA-256 of ``data`` as hex (hashlib imported on first use)."""
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _valid_index(index):
    """True when ``index`` has the shape of :attr:`ApiSpec.index` and follows the naming rules.

    Each entry's resource and method name must be what the naming rules give
    for its verb and path (a ``get_*`` name may stand for a ``list_*`` GET,
    which then names it as its preferred alias), so a rewritten verb or path
    (``things.get`` sending DELETE) is refused.
    """
    if not isinstance(index, dict):
        return False
    for resource, methods in index.items():
        if not isinstance(methods, dict):
            return False
        for name, entry in methods.items():
            if not (isinstance(entry, list) and len(entry) == 3 and entry[0] in _HTTP_VERBS
                    and isinstance(entry[1], str)
                    and (entry[2] is None or isinstance(entry[2], str))):
                return False
            verb, path, alias_of = entry
            if resource_name(path) != resource or path_escape(path) is not None:
                return False
            derived = method_name(verb, path)
            if name == derived:
                if alias_of is not None and not (derived.startswith("list")
                                                 and alias_of == object_name(derived)):
                    return False
            elif not (verb == "get" and alias_of is None and derived.startswith("list")
                      and name == object_name(derived)):
                return False
    return True


class DiskCache:
    """A directory of small files written atomically, used only when nobody else can write it.

    Parameters
    ----------
    directory : str or PathLike, optional
        Default :func:`default_cache_dir` (None there: no disk cache).
    max_schema_bytes : int, optional
        The schema size limit entries are read against (default: see
        :func:`civis_dyn._limits.max_schema_bytes`): a client's own limit.
    """

    def __init__(self, directory=None, *, max_schema_bytes=None):
        if directory is None:
            directory = default_cache_dir()
        self.directory = Path(directory) if directory is not None else None
        self.max_schema_bytes = schema_limit(max_schema_bytes)
        self._usable = None

    def __repr__(self):
        return f"DiskCache({str(self.directory)!r})"

    def _warn_once(self, problem, message):
        key = (str(self.directory), problem)
        with _WARNED_LOCK:
            if key in _WARNED:
                return
            _WARNED.add(key)
        warn(f"cache: {message}")

    def _trust_problem(self):
        """Why the (existing) directory cannot be trusted, or None."""
        info = os.stat(self.directory)
        if not stat.S_ISDIR(info.st_mode):
            return f"{self.directory} is not a directory"
        problem = _owner_problem(info, str(self.directory))
        if problem is not None:
            return problem
        parent = Path(os.path.realpath(self.directory)).parent
        parent_info = os.stat(parent)
        if (hasattr(os, "geteuid") and parent_info.st_mode & stat.S_IWOTH
                and not parent_info.st_mode & stat.S_ISVTX):
            return (f"its parent {parent} is writable by other users without the sticky bit "
                    f"(others could replace the cache)")
        return None

    def _ensure_dir(self):
        if self._usable is None:
            if self.directory is None:
                self._usable = False
                self._warn_once("no-home", "no home directory (HOME is unset and this user has "
                                           "no passwd entry) and no CIVIS_DYN_CACHE_DIR; "
                                           "caching in memory only")
                return False
            try:
                self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                problem = self._trust_problem()
                if problem is not None:
                    self._usable = False
                    self._warn_once("untrusted", f"not using the cache directory: {problem}; "
                                                 f"caching in memory only (use a private "
                                                 f"directory, mode 0700, or set "
                                                 f"CIVIS_DYN_CACHE_DIR to one)")
                    return False
                self._usable = os.access(self.directory, os.W_OK | os.X_OK)
                if not self._usable:
                    self._warn_once("unwritable", f"{self.directory} is not writable; "
                                                  f"caching in memory only")
            except OSError as exc:
                self._usable = False
                self._warn_once("unwritable", f"cannot create {self.directory} ({exc.strerror}); "
                                              f"caching in memory only")
        return self._usable

    def path(self, name):
        """The path of entry ``name``."""
        if self.directory is None:
            return Path(name)
        return self.directory / name

    def open(self, name):
        """Open entry ``name`` for reading: a binary file object, or None.

        None when the cache is not usable, the entry is absent, or it is not a
        regular file owned by this user and writable by nobody else (a symlink,
        FIFO or device is never opened for reading: it is reported and removed).
        """
        if not self._ensure_dir():
            return None
        try:
            fd = os.open(self.directory / name, _OPEN_FLAGS)
        except FileNotFoundError:
            return None
        except OSError:
            if os.path.islink(self.directory / name):
                self.discard_corrupt(name, "a symbolic link")
            return None
        try:
            info = os.fstat(fd)
            problem = (None if stat.S_ISREG(info.st_mode) else "not a regular file") or \
                _owner_problem(info, "the file")
        except OSError:
            problem = "cannot be examined"
        if problem is not None:
            os.close(fd)
            self.discard_corrupt(name, problem)
            return None
        return os.fdopen(fd, "rb")

    def read(self, name, limit=None):
        """Return the bytes of entry ``name``, or None when absent, unreadable or untrusted.

        Parameters
        ----------
        limit : int, optional
            Most bytes read (default: the schema limit plus 1 MiB of header);
            a larger entry is reported, removed and read as None.
        """
        limit = limit if limit is not None else self.max_schema_bytes + _MAX_HEADER
        f = self.open(name)
        if f is None:
            return None
        try:
            with f:
                return read_capped(f, limit, f"the cached entry {name}", schema_setting())
        except BodyTooLarge as exc:
            self.discard_corrupt(name, str(exc))
            return None
        except OSError:
            return None

    def write(self, name, data):
        """Write entry ``name`` atomically (0600); return True on success."""
        if not self._ensure_dir():
            return False
        try:
            write_atomically(self.directory / name, data)
            return True
        except OSError as exc:
            self._usable = False
            self._warn_once("unwritable", f"cannot write {name} in {self.directory} "
                                          f"({exc.strerror}); caching in memory only")
            return False

    def remove(self, name):
        """Remove entry ``name`` if present."""
        if self.directory is None:
            return
        try:
            os.unlink(self.directory / name)
        except OSError:
            pass

    def discard_corrupt(self, name, reason):
        """Warn that entry ``name`` is corrupt, and remove it."""
        warn(f"cache: the cached entry {self.directory / name} is corrupt ({reason}); "
             f"removed it and fetching it again")
        self.remove(name)

    # -- downloaded schemas -------------------------------------------------
    def read_schema(self, name, lazy=False):
        """Return the :class:`CachedSchema` in entry ``name``, or None.

        A corrupt entry is reported (one warning), removed, and read as None.

        Parameters
        ----------
        lazy : bool
            When the entry file matches the stamp made the last time it was
            read and checked, read only its header: the entry's ``raw`` is
            then None and its :meth:`~CachedSchema.bytes` reads the schema
            again (checking its sha256). Otherwise the entry is read whole,
            checked, and stamped.
        """
        from ._entry import CachedSchema

        if not lazy:
            data = self.read(name)
            info = where = None
        else:
            f = self.open(name)
            if f is None:
                return None
            where = os.path.abspath(self.path(name))
            try:
                with f:
                    info = os.fstat(f.fileno())
                    digest = self.known_digest(where, info)
                    if digest is not None:
                        head = f.readline(_MAX_HEADER)
                        try:
                            return CachedSchema.from_header(
                                head.rstrip(b"\n"), info.st_size - len(head), digest,
                                self._schema_loader(name, digest))
                        except ValueError:
                            f.seek(0)  # read and check it whole
                    limit = self.max_schema_bytes + _MAX_HEADER
                    data = read_capped(f, limit, f"the cached entry {name}", schema_setting())
            except BodyTooLarge as exc:
                self.discard_corrupt(name, str(exc))
                return None
            except OSError:
                return None
        if data is None:
            return None
        try:
            entry = CachedSchema.from_bytes(data)
        except ValueError as exc:
            self.discard_corrupt(name, exc)
            return None
        if lazy and entry is not None:
            self.remember_digest(where, info, entry.sha256, len(entry.raw))
        return entry

    def _schema_loader(self, name, sha256):
        """``loader()`` of a lazily read entry: its schema bytes, refused if they changed."""
        def load():
            entry = self.read_schema(name)
            if entry is None or entry.sha256 != sha256:
                from .._errors import SpecError

                raise SpecError(f"the cached schema {self.path(name)} changed while a client "
                                f"built from it was in use; build a new client")
            return entry.raw

        return load

    def write_schema(self, name, entry):
        """Store a :class:`CachedSchema` as entry ``name``; return True on success."""
        return self.write(name, entry.to_bytes())

    # -- preprocessed indexes and slices -------------------------------------------
    def write_index(self, sha256, index, slices=None):
        """Store the index (and slices) of the schema with hash ``sha256``; True on success.

        Parameters
        ----------
        index : dict
            :attr:`ApiSpec.index`: ``{resource: {method: [verb, path, alias_of]}}``.
        slices : dict, optional
            ``{resource: JSON bytes}`` (:meth:`ApiSpec.slices`); a resource
            without one is read from the schema itself.
        """
        names = sorted(index)
        records, parts, offset = [], [], 0
        for name in names:
            methods = json.dumps(index[name], separators=(",", ":")).encode()
            part = (slices or {}).get(name) or b""
            records.append(f"{offset:010x}{len(methods):010x}{zlib.crc32(methods):08x}"
                           f"{offset + len(methods):010x}{len(part):010x}{zlib.crc32(part):08x}\n")
            parts += (methods, part)
            offset += len(methods) + len(part)
        # the names joined by "/", which no path segment (so no resource name) holds
        header = json.dumps({"format": INDEX_FORMAT, "schema_sha256": sha256,
                             "resources": "/".join(names)}, separators=(",", ":")).encode() + b"\n"
        return self.write(index_entry_name(sha256),
                          header + "".join(records).encode() + b"".join(parts))

    def open_index(self, sha256, rebuild=None):
        """Return the :class:`CachedIndex` of the schema with hash ``sha256``, or None.

        Reads only the header line (the resource names). A damaged header is
        reported (one warning), removed and read as None.

        Parameters
        ----------
        rebuild : callable, optional
            ``rebuild()`` returns the index built from the schema itself; the
            :class:`CachedIndex` uses it when a part proves damaged or rewritten.
        """
        name = index_entry_name(sha256)
        f = self.open(name)
        if f is None:
            return None
        try:
            with f:
                line = f.readline(_MAX_INDEX_HEADER)
                size = os.fstat(f.fileno()).st_size
            header = json.loads(line)
            names = header.get("resources") if isinstance(header, dict) else None
            if (header.get("format") != INDEX_FORMAT or header.get("schema_sha256") != sha256
                    or not isinstance(names, str) or not line.endswith(b"\n")):
                raise ValueError
            names = names.split("/") if names else []
            if "" in names or size < len(line) + len(names) * _RECORD:
                raise ValueError
        except (OSError, ValueError, UnicodeDecodeError, RecursionError, AttributeError):
            self.discard_corrupt(name, "not an index of this schema")
            return None
        try:
            os.utime(self.path(name))  # recently used: kept by prune
        except OSError:
            pass
        try:
            return CachedIndex(self, sha256, names, len(line), rebuild)
        except ValueError:
            self.discard_corrupt(name, "not an index of this schema")
            return None

    def read_index(self, sha256):
        """Return the whole cached index of the schema with hash ``sha256`` as a dict, or None.

        Every resource's part is read and checked; a damaged or rewritten one
        is reported (one warning), the entry removed, and None returned.
        """
        index = self.open_index(sha256)
        if index is None:
            return None
        return index.as_dict()

    def read_slice(self, sha256, resource):
        """Return the decoded slice of ``resource``, or None when it is not cached (or damaged)."""
        index = self.open_index(sha256)
        return None if index is None else index.slice(resource)

    # -- stamps of schema files -----------------------------------------------
    def known_digest(self, path, info):
        """The sha256 of the schema file at ``path`` when its stamp matches ``info``, else None.

        Parameters
        ----------
        path : str
            The file's absolute path.
        info : os.stat_result
            The file as it is now (``os.stat`` or ``os.fstat``).
        """
        data = self.read(stamp_entry_name(path), _MAX_STAMP)
        if data is None:
            return None
        try:
            stamp = json.loads(data)
            if not isinstance(stamp, dict) or stamp.get("format") != STAMP_FORMAT:
                raise ValueError
        except (ValueError, UnicodeDecodeError, RecursionError):
            self.discard_corrupt(stamp_entry_name(path), "not a stamp")
            return None
        if any(stamp.get(k) != v for k, v in _stamp_of(path, info).items()):
            return None
        digest = stamp.get("sha256")
        if not (isinstance(digest, str) and len(digest) == 64):
            return None
        return digest

    def decoded_size(self, path, info):
        """The decoded size a matching stamp of ``path`` records (for ``.gz`` files), or None."""
        data = self.read(stamp_entry_name(path), _MAX_STAMP)
        try:
            stamp = json.loads(data) if data is not None else None
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None
        if not isinstance(stamp, dict) or any(stamp.get(k) != v
                                              for k, v in _stamp_of(path, info).items()):
            return None
        size = stamp.get("decoded_size")
        return size if isinstance(size, int) else None

    def remember_digest(self, path, info, sha256, decoded_size, now=None):
        """Record that the file at ``path``, as ``info`` describes it, hashes to ``sha256``.

        Nothing is recorded for a file modified less than :data:`RACY_SECONDS`
        ago: a write in the same clock tick could leave its times unchanged.
        Returns True when the stamp was written.
        """
        now = time.time() if now is None else now
        if now - max(info.st_mtime_ns, info.st_ctime_ns) / 1e9 < RACY_SECONDS:
            return False
        stamp = {"format": STAMP_FORMAT, **_stamp_of(path, info), "sha256": sha256,
                 "decoded_size": decoded_size}
        return self.write(stamp_entry_name(path), json.dumps(stamp).encode())

    # -- housekeeping --------------------------------------------------------
    def prune(self, keep_schemas=None, keep_indexes=None, now=None):
        """Bound the directory's size; return the names removed.

        Keeps the ``keep_schemas`` (default :data:`KEEP_SCHEMAS`) schema
        entries and ``keep_indexes`` (:data:`KEEP_INDEXES`) index entries most
        recently written or used, removes entries of older formats and
        temporary files left by writers that died more than an hour ago.
        Files it does not recognise are left alone.
        """
        keep_schemas = KEEP_SCHEMAS if keep_schemas is None else keep_schemas
        keep_indexes = KEEP_INDEXES if keep_indexes is None else keep_indexes
        now = time.time() if now is None else now
        if not self._ensure_dir():
            return []
        try:
            listing = list(os.scandir(self.directory))
        except OSError:
            return []
        kinds = {"schema-v1-": [], "index-v3-": [], "stamp-v1-": []}
        doomed = []
        for item in listing:
            name = item.name
            try:
                mtime = item.stat(follow_symlinks=False).st_mtime
            except OSError:
                continue
            if name.startswith(".") and name.endswith(".tmp"):
                if now - mtime > ORPHAN_AGE:
                    doomed.append(name)
            elif name.startswith(("index-v1-", "index-v2-", "slices-v1-")):
                doomed.append(name)  # the formats before INDEX_FORMAT
            elif name.endswith((".json", ".bin")):
                for prefix, found in kinds.items():
                    if name.startswith(prefix):
                        found.append((mtime, name))
        limits = ((kinds["schema-v1-"], keep_schemas), (kinds["index-v3-"], keep_indexes),
                  (kinds["stamp-v1-"], KEEP_STAMPS))
        for found, keep in limits:
            found.sort(reverse=True)
            doomed.extend(name for _, name in found[keep:])
        for name in doomed:
            self.remove(name)
        return doomed


class _Damaged(Exception):
    """A part of a cached index failed its checks (the message says how)."""


class CachedIndex(Mapping):
    """A schema's index as the disk cache holds it, read one resource at a time.

    A read-only mapping ``{resource: {method: [verb, path, alias_of]}}``, like
    :attr:`ApiSpec.index`: the resource names come from the entry's header;
    each resource's methods are read, checked against the naming rules and
    kept on first use, so building a client costs the same for any schema
    size. When a part proves damaged or rewritten, the entry is reported once
    and removed, and from then on the index built from the schema itself
    (``rebuild()``) answers instead.

    Made by :meth:`DiskCache.open_index`.
    """

    def __init__(self, cache, sha256, names, header_size, rebuild=None):
        """``names``: the resources in the table's order, which is sorted.

        An unsorted list (a damaged header) shows when a listed name is not
        found by bisection: the entry is then treated as damaged.
        """
        self._cache = cache
        self._name = index_entry_name(sha256)
        self._names = names
        # looked up by bisection: no per-resource work when a client is built
        self._table = header_size
        self._data = header_size + len(names) * _RECORD
        self._methods = {}
        self._rebuild = rebuild
        self._fallback = None
        self._lock = threading.Lock()

    def __repr__(self):
        return f"<CachedIndex {self._name}: {len(self._names)} resources>"

    # -- the mapping -----------------------------------------------------------
    def __getitem__(self, resource):
        if self._fallback is not None:
            return self._fallback[resource]
        try:
            return self._methods[resource]
        except KeyError:
            pass
        try:
            position = self._position(resource)  # KeyError: not a resource of this schema
            methods = json.loads(self._part(position, 0))
            if not _valid_index({resource: methods}):
                raise _Damaged("not an index of this schema")
        except (_Damaged, ValueError, UnicodeDecodeError, RecursionError) as exc:
            return self._fall_back(exc)[resource]
        with self._lock:
            return self._methods.setdefault(resource, methods)

    iterates_sorted = True  # (ApiSpec.resources need not sort)

    def __iter__(self):
        return iter(self._names if self._fallback is None else sorted(self._fallback))

    def __len__(self):
        return len(self._names if self._fallback is None else self._fallback)

    def __contains__(self, resource):
        if self._fallback is not None:
            return resource in self._fallback
        try:
            return self._position(resource, None) is not None
        except _Damaged as exc:
            return resource in self._fall_back(exc)

    def as_dict(self):
        """Every resource's methods, read and checked: a plain dict, or None when damaged."""
        try:
            out = {}
            for position, resource in enumerate(self._names):
                methods = json.loads(self._part(position, 0))
                if not _valid_index({resource: methods}):
                    raise _Damaged("not an index of this schema")
                out[resource] = methods
            return out
        except (_Damaged, ValueError, UnicodeDecodeError, RecursionError) as exc:
            self._cache.discard_corrupt(self._name, str(exc) or type(exc).__name__)
            return None

    def _position(self, resource, *default):
        """Where ``resource`` is in the table (KeyError, or ``default``, when absent)."""
        position = bisect.bisect_left(self._names, resource)
        if position < len(self._names) and self._names[position] == resource:
            return position
        if resource in self._names:  # listed, yet not where sorting puts it
            raise _Damaged("resource names not sorted")
        if default:
            return default[0]
        raise KeyError(resource)

    # -- slices -------------------------------------------------------------------
    def slice(self, resource):
        """The decoded slice of ``resource`` (``{"paths", "definitions"}``), or None.

        None when it is not cached, or when the entry is gone or damaged (then
        reported once and removed): the caller reads the schema itself.
        """
        if self._fallback is not None:
            return None
        try:
            position = self._position(resource, None)
            if position is None:
                return None
            data = self._part(position, 1)
            if not data:
                return None
            part = json.loads(data)
            paths = part.get("paths") if isinstance(part, dict) else None
            if not isinstance(paths, dict) or any(resource_name(p) != resource for p in paths):
                raise _Damaged(f"not the slice of {resource!r}")
            return part
        except _Gone:
            return None
        except (_Damaged, ValueError, UnicodeDecodeError, RecursionError, AttributeError) as exc:
            self._cache.discard_corrupt(self._name, str(exc) or type(exc).__name__)
            return None

    # -- reading ----------------------------------------------------------------
    def _part(self, position, which):
        """The bytes of part ``which`` (0: methods, 1: slice) of the resource at ``position``."""
        f = self._cache.open(self._name)
        if f is None:
            raise _Gone(self._name)
        with f:
            f.seek(self._table + position * _RECORD)
            record = f.read(_RECORD)
            if len(record) != _RECORD or record[-1:] != b"\n":
                raise _Damaged("truncated")
            try:
                fields = record[:-1].decode("ascii")
                start = 28 * which
                offset = int(fields[start:start + 10], 16)
                length = int(fields[start + 10:start + 20], 16)
                crc = int(fields[start + 20:start + 28], 16)
            except (UnicodeDecodeError, ValueError):
                raise _Damaged("a damaged table") from None
            if length > self._cache.max_schema_bytes:
                raise _Damaged("bad part bounds")
            f.seek(self._data + offset)
            data = f.read(length)
        if len(data) != length or zlib.crc32(data) != crc:
            raise _Damaged("checksum mismatch")
        return data

    def _fall_back(self, exc):
        """Report the damaged entry and answer from the schema's own index from now on."""
        with self._lock:
            if self._fallback is not None:
                return self._fallback
            if not isinstance(exc, _Gone):
                self._cache.discard_corrupt(self._name, str(exc) or type(exc).__name__)
            if self._rebuild is None:
                raise KeyError(self._name)
            self._fallback = self._rebuild()
            return self._fallback


class _Gone(_Damaged):
    """The entry disappeared (pruned by another process): not a corruption."""
