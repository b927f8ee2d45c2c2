"""An embedded, stateful fake of the Civis API, generated from a Swagger 2.0 schema.

>>> from civis_dyn.testing import LocalCivisAPI
>>> with LocalCivisAPI() as api:                              # doctest: +SKIP
...     client = api.client()
...     job = client.scripts.post_containers(name="x", docker_image_name="img")
...     run = client.scripts.post_containers_runs(job.id)

Design
------
* **HTTP**: the standard library's :class:`~http.server.ThreadingHTTPServer`
  on 127.0.0.1 (one daemon thread per connection), HTTP/1.1 keep-alive, every
  answer written with one ``send`` and an exact ``Content-Length`` so clients
  reuse one connection.  The serving loop runs in a daemon thread;
  :meth:`LocalCivisAPI.stop` shuts it down, closes the open keep-alive
  connections and joins it.
* **Behaviour** comes from the schema, see :mod:`._store`: routing
  (:mod:`._schema`), CRUD of collections, lists with filters and pagination
  headers, runs whose state is computed from an injectable clock at read time
  (no timers), logs, outputs, shares, projects, archive, ``/endpoints``.
* **Concurrency**: one lock around the store; the lock is never held while
  sleeping for injected latency or slow answers, nor while writing to the
  socket.  Fault settings (:mod:`._faults`) and the request log have their own
  small locks.
* **Auth**: ``Authorization: Bearer <key>``, or Basic auth with the key as the
  user name.  The key is never logged nor echoed.

Every answer carries ``X-RateLimit-Limit`` and ``X-RateLimit-Remaining`` (the
limit less the requests of the current minute; never enforced).
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import gzip
import hashlib
import hmac
import json
import logging
import secrets
import socket
import threading
import time
from collections import Counter, deque
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qs, parse_qsl, urlsplit

from requests.structures import CaseInsensitiveDict

from .._http import SECRET_HEADERS
from ..spec._source import bundled_spec_path
from ._faults import (CUT_FILLER, CUTS, TRICKLE_DELAY, Fault, Faults, normalize_path, hold_connection,
                      reset_connection, trickle)
from ._faults import ANSWERS
from . import _persist
from ._blobs import BLOB_PREFIX, BlobStore, serve_blob
from ._data import DataFeatures
from ._schema import Router
from ._sql import SqlEngine
from ._store import ApiError, Store

__all__ = ["Fault", "Faults", "LocalCivisAPI", "RequestRecord", "serve"]

log = logging.getLogger("civis_dyn.testing.local_api")

_MAX_BODY = 64 * 1024 * 1024
_JSON = "application/json; charset=utf-8"
_HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
              b"<body><h1>502 Bad Gateway</h1><p>The server returned an invalid or "
              b"incomplete response.</p></body></html>\n")
_REASONS = {s.value: s.phrase for s in HTTPStatus}


class RequestRecord(NamedTuple):
    """One request seen by the server.

    ``path`` has no query string and no trailing slash; ``query`` maps each
    query parameter to its last value; ``status`` is None when the connection
    was dropped without an answer.  ``auth`` says which credential came with
    the request, never the credential itself: the ``Authorization`` scheme
    and the first 12 hex digits of the SHA-256 of the credential as sent
    (compare with :meth:`auth_of`), or None when there was no such header.
    ``host`` is the ``Host`` header (through a proxy: the API's host).
    ``headers`` holds the other request headers (e.g. ``If-None-Match``),
    by case-insensitive name; ``Authorization``, ``Proxy-Authorization`` and ``Cookie`` are
    never kept.
    """

    method: str
    path: str
    query: dict
    status: int | None
    auth: str | None = None
    host: str | None = None
    headers: CaseInsensitiveDict | None = None

    @staticmethod
    def auth_of(credential: str, scheme: str = "Bearer") -> str:
        """The :attr:`auth` of a request that sent ``Authorization: <scheme> <credential>``."""
        digest = hashlib.sha256(credential.encode("latin-1", "replace")).hexdigest()
        return f"{scheme.capitalize()} sha256:{digest[:12]}"


def _load_spec(spec):
    """Return ``(parsed, raw_bytes, mtime or None)`` for any accepted ``spec``."""
    if spec is None:
        spec = Path(str(bundled_spec_path()))
        if not spec.is_file():
            raise FileNotFoundError(f"no bundled schema was found at {spec}; pass spec=")
    if isinstance(spec, dict):
        return spec, json.dumps(spec, separators=(",", ":")).encode(), None
    if isinstance(spec, (bytes, bytearray)):
        raw = bytes(spec)
        return json.loads(raw), raw, None
    path = Path(spec)
    raw = path.read_bytes()
    if path.suffix == ".gz" or raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return json.loads(raw), raw, path.stat().st_mtime


class _Headers(dict):
    """Request headers by lower-case name (``get`` ignores case)."""

    def get(self, name, default=None):
        return dict.get(self, name.lower(), default)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address, api):
        self.api = api
        self.conns: set = set()
        self.conn_lock = threading.Lock()
        self.accepted = 0
        super().__init__(address, _Handler)

    def process_request(self, request, client_address):
        with self.conn_lock:
            self.accepted += 1
            self.conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.conn_lock:
            self.conns.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        log.debug("error while serving a connection", exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "LocalCivisAPI/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 300  # seconds an idle keep-alive connection is kept

    def log_message(self, format, *args):  # noqa: A002 - silenced; see the module logger
        pass

    def handle_one_request(self):
        """Read one request and answer it.

        A lean replacement of the base class's parser (which builds an
        ``email.message.Message`` per request): this is the per-request hot
        path.  Same rules: request line, at most 100 header lines of at most
        64 KiB, keep-alive by default in HTTP/1.1, ``Expect: 100-continue``.
        """
        self.command, self.path, self.request_version = None, "", "HTTP/1.1"
        self.close_connection = True
        try:
            line = self.rfile.readline(65537)
            while line in (b"\r\n", b"\n"):  # tolerate blank lines between requests
                line = self.rfile.readline(65537)
            if not line:
                return
            self.raw_requestline = line
            if len(line) > 65536:
                return self.send_error(414, "Request-URI Too Long")
            parts = line.decode("latin-1").split()
            if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                return self.send_error(400, f"Bad request line {line[:80]!r}")
            self.command, self.path, self.request_version = parts
            headers = _Headers()
            while True:
                raw = self.rfile.readline(65537)
                if raw in (b"\r\n", b"\n", b""):
                    break
                if len(raw) > 65536 or len(headers) >= 100:
                    return self.send_error(431, "Request Header Fields Too Large")
                name, sep, value = raw.decode("latin-1").partition(":")
                if not sep:
                    return self.send_error(400, "Malformed header line")
                name = name.strip().lower()
                value = value.strip()
                headers[name] = f"{headers[name]}, {value}" if name in headers else value
            self.headers = headers
            conn = headers.get("connection", "").lower()
            if self.request_version == "HTTP/1.0":
                self.close_connection = "keep-alive" not in conn
            else:
                self.close_connection = "close" in conn
                if headers.get("expect", "").lower() == "100-continue":
                    self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.server.api.serve_exchange(self)
        except TimeoutError:
            self.close_connection = True
        except OSError:  # the client went away
            self.close_connection = True

    def send_error(self, code, message=None, explain=None):
        """Answer malformed requests (bad request line, huge headers) in JSON too."""
        self.close_connection = True
        err = ApiError(code, "bad_request" if code < 500 else "internal_error",
                       message or _REASONS.get(code, "Error"))
        try:
            self.server.api.write_answer(self, code, json.dumps(err.body()).encode(), {}, _JSON)
        except OSError:
            pass


class LocalCivisAPI:
    """A local, in-memory Civis API serving real HTTP on 127.0.0.1.

    Parameters
    ----------
    spec : dict, bytes, str or path-like, optional
        The Swagger 2.0 schema: parsed, raw JSON bytes, or a file (``.json``
        or ``.json.gz``).  Defaults to the schema bundled with civis_dyn.
    api_key : str, optional
        The key clients must send; random (``secrets.token_urlsafe``) by default.
    port : int
        TCP port; 0 picks a free one.
    run_delays : tuple of float
        Seconds a new run stays ``queued``, then ``running``.  Changeable
        while running through :attr:`run_delays`.
    clock : callable, optional
        Returns seconds (any origin; ``time.monotonic`` by default).  Run
        states depend only on it, so a test can advance a fake clock instead
        of sleeping.
    faults : Faults, optional
        Initial fault settings (a fresh :class:`Faults` by default), also at
        :attr:`faults` for changes while running.
    request_log_size : int
        How many :class:`RequestRecord` entries :attr:`requests` keeps
        (:meth:`count` stays exact beyond it).
    rate_limit : int
        Value of ``X-RateLimit-Limit``.
    url_ttl : float
        Seconds of ``clock`` the file upload and download URLs it hands out
        stay valid.
    data_dir : str or path-like, optional
        Keep the state across restarts in this directory: file contents and
        SQL databases as they change, every other object when the server
        stops (:meth:`save`); a new server on the same directory starts from
        it.  In memory (and a temporary directory for file contents) by default.

    Attributes
    ----------
    url : str
        ``http://127.0.0.1:PORT/``.
    api_key : str
        The key clients must send.
    spec : dict
        The parsed schema; ``spec_bytes`` is what ``GET /endpoints`` serves
        (with :attr:`etag` and :attr:`last_modified`; see :meth:`publish_spec`).
    faults : Faults
        Fault injection, changeable while serving.
    requests : list of RequestRecord
        ``(method, path, query, status)`` of every request, oldest first.
    connections : int
        TCP connections accepted so far.
    creations : dict
        Objects created per POST route template.

    Notes
    -----
    Runs (and workflow executions, builds, deployments) are ``queued`` for
    ``run_delays[0]`` seconds of ``clock``, then ``running`` for
    ``run_delays[1]``, then ``succeeded`` — or ``failed``, with an ``error``,
    when the job's ``name`` contains ``"fail"`` (any case), or a truthy
    ``"fail"`` key is in the job's ``arguments`` or ``input``, or in the body
    of the request that starts the run (or its ``arguments`` or ``input``); a
    string value becomes the ``error``.  Service, notebook and studio
    deployments stay ``running`` until deleted.

    Examples
    --------
    >>> with LocalCivisAPI(spec=my_spec) as api:                    # doctest: +SKIP
    ...     api.faults.script("GET", "/jobs/{id}", [503, 503, None])
    ...     api.faults.script("POST", "/scripts/containers", ["drop"])
    ...     api.faults.random(0.1, actions=(429, 502, "truncate"), seed=1)
    ...     api.faults.latency = 0.02
    ...     ...
    ...     assert api.created("/scripts/containers") == 1
    """

    def __init__(self, spec=None, api_key=None, port=0, *, run_delays=(0.05, 0.1),
                 clock=None, faults=None, request_log_size=100_000, rate_limit=1000,
                 url_ttl=3600.0, data_dir=None):
        self.spec, self.spec_bytes, mtime = _load_spec(spec)
        self.api_key = api_key or secrets.token_urlsafe(32)
        self._port = port
        self.clock = clock or time.monotonic
        self.faults = faults if faults is not None else Faults()
        self._store = Store(self.spec, self.clock, run_delays)
        self.data_dir = Path(data_dir) if data_dir is not None else None
        files = sql = None
        if self.data_dir is not None:
            files, sql = self.data_dir / "files", self.data_dir / "sql"
            sql.mkdir(parents=True, exist_ok=True)
        self._store.data = DataFeatures(self._store, BlobStore(self.clock, files, url_ttl),
                                        SqlEngine(sql), lambda: self.url)
        if self.data_dir is not None:
            _persist.load(self._store, self.data_dir)
        self._lock = threading.RLock()
        self._set_validators(mtime if mtime is not None else time.time())
        self._log = deque(maxlen=request_log_size)
        self._counts: Counter = Counter()
        self._log_lock = threading.Lock()
        self.rate_limit = rate_limit
        self._window = (0, 0)
        self._date = (0, "")
        self._httpd = None
        self._thread = None
        self._stopping = threading.Event()

    # -- life cycle ------------------------------------------------------------
    def start(self) -> LocalCivisAPI:
        """Bind the port and serve in a daemon thread; return self."""
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _Server(("127.0.0.1", self._port), self)
        self._port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"LocalCivisAPI:{self._port}", daemon=True)
        self._thread.start()
        log.info("local Civis API serving at %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving: end the loop, close open connections, join the thread."""
        httpd = self._httpd
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        with httpd.conn_lock:
            conns = list(httpd.conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()
        self._thread.join(5)
        self._httpd = self._thread = None
        if self.data_dir is not None:
            self.save()
        log.info("local Civis API on port %s stopped", self._port)

    def save(self) -> None:
        """Write the state to ``data_dir`` now (done by :meth:`stop` too)."""
        if self.data_dir is None:
            raise ValueError("LocalCivisAPI.save() needs a data_dir")
        with self._lock:
            _persist.save(self._store, self.data_dir)

    def __enter__(self) -> LocalCivisAPI:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self):
        state = self.url if self._httpd is not None else "stopped"
        return f"<LocalCivisAPI {state}>"

    # -- the key and the schema ------------------------------------------------
    @property
    def api_key(self) -> str:
        """The key clients must send; setting it changes the key from the next request on."""
        return self._api_key

    @api_key.setter
    def api_key(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("LocalCivisAPI.api_key must be a non-empty string")
        self._api_key, self._key = value, value.encode()

    @property
    def etag(self) -> str:
        """The ``ETag`` of the schema ``GET /endpoints`` serves now."""
        return self._validators[0]

    @property
    def last_modified(self) -> str:
        """The ``Last-Modified`` of the schema ``GET /endpoints`` serves now."""
        return self._validators[2]

    def publish_spec(self, spec) -> None:
        """Serve another schema from now on, as a deploy of the API would.

        ``GET /endpoints`` answers with it (a new ``ETag`` and
        ``Last-Modified``) and requests are routed by it; the objects stored
        so far are kept.

        Parameters
        ----------
        spec : dict, bytes, str or path-like
            As for the constructor.
        """
        parsed, raw, _ = _load_spec(spec)
        with self._lock:
            self._store.publish(parsed)
            self.spec, self.spec_bytes = parsed, raw
            self._set_validators(time.time())

    def _set_validators(self, modified: float) -> None:
        modified = int(modified)
        etag = '"' + hashlib.sha256(self.spec_bytes).hexdigest() + '"'
        self._validators = (etag, modified, email.utils.formatdate(modified, usegmt=True))

    # -- public helpers --------------------------------------------------------
    @property
    def port(self) -> int:
        """The TCP port (0 until started when none was given)."""
        return self._port

    @property
    def store(self):
        """The objects, runs and data the local API holds (its :class:`Store`)."""
        return self._store

    @property
    def url(self) -> str:
        """Base URL with a trailing slash, e.g. ``http://127.0.0.1:8123/``."""
        return f"http://127.0.0.1:{self._port}/"

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        return self._httpd.accepted if self._httpd is not None else 0

    @property
    def run_delays(self) -> tuple:
        """Seconds new runs stay queued, then running (existing runs keep theirs)."""
        return self._store.run_delays

    @run_delays.setter
    def run_delays(self, value) -> None:
        queued, running = value
        with self._lock:
            self._store.run_delays = (float(queued), float(running))

    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of the request log, oldest first."""
        with self._log_lock:
            return list(self._log)

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """Number of requests, optionally of one method and/or one path.

        ``path`` is a concrete path (``/jobs/1``) or a schema template
        (``/jobs/{id}``); trailing slashes do not matter.
        """
        method = method.upper() if method else None
        path = normalize_path(path) if path else None
        with self._log_lock:
            return sum(n for (m, p, t), n in self._counts.items()
                       if (method is None or m == method)
                       and (path is None or p == path or t == path))

    @property
    def creations(self) -> dict[str, int]:
        """Objects created per POST route template (``{"/scripts/containers": 2}``)."""
        with self._lock:
            return dict(self._store.creations)

    def created(self, path: str) -> int:
        """Objects created through one POST route (a template or a concrete path)."""
        key = normalize_path(path)
        if "{" not in key:
            try:
                key = self._store.match("POST", Router.split(key))[0].key
            except ApiError:
                pass
        with self._lock:
            return self._store.creations.get(key, 0)

    def seed(self, path: str, data: dict | None = None) -> dict:
        """Store an object without a request (e.g. in a collection that has no POST).

        Parameters
        ----------
        path : str
            A collection path: ``/databases``, ``/scripts/containers/3/runs``.
        data : dict, optional
            Its fields (camelCase); may include ``id``.

        Returns
        -------
        dict
            The stored fields, with ``id``, ``createdAt`` and the like.
        """
        with self._lock:
            return dict(self._store.seed(path, data))

    def client(self, *, in_process=False, **kwargs):
        """A ``civis_dyn.APIClient`` talking to this API.

        Parameters
        ----------
        in_process : bool
            False (default): over HTTP to the running server. True: through
            :meth:`transport`, with no sockets (the server need not run).
        **kwargs
            Passed on to ``APIClient``.
        """
        import civis_dyn

        if in_process:
            kwargs.setdefault("transport", self.transport())
            base_url = self.url if self._httpd is not None else "http://local-civis-api.invalid/"
        else:
            base_url = self.url
        return civis_dyn.APIClient(api_key=self.api_key, local_api_spec=self.spec,
                                   base_url=base_url, **kwargs)

    def transport(self):
        """A :class:`civis_dyn.Transport` that hands requests to this API in process (no sockets).

        Everything but the socket is the server's: routing, the store, the key
        check, injected faults and the request log. Use it as
        ``APIClient(transport=api.transport(), ...)``, or :meth:`client` with
        ``in_process=True``.
        """
        from ._inprocess import InProcessTransport

        return InProcessTransport(self, _Handler.server_version, _Headers)

    # -- request handling ----------------------------------------------------
    def serve_exchange(self, h: _Handler) -> None:
        method = h.command
        target = h.path
        if not target.startswith("/"):
            parts = urlsplit(target)
            target = parts.path + ("?" + parts.query if parts.query else "")
        raw_path, _, qs = target.partition("?")
        if raw_path.startswith(BLOB_PREFIX):
            return self._serve_storage(h, method, raw_path, qs)
        segs = Router.split(raw_path)
        path = "/" + "/".join(segs)
        route = params = error = None
        try:
            route, params = self._store.match(method, segs)
        except ApiError as e:
            error = e
        except ValueError:  # e.g. an id of 5,000 digits: answer, never drop the connection
            error = ApiError(400, "bad_request", "A path parameter is not a valid value")
        endpoints = segs == ["endpoints"] or (route is not None and route.plan[0] == "endpoints")
        template = route.key if route is not None else None
        fault = self.faults.pick(method, path, template)
        if fault is not None and fault.kind == "drop":
            self._record(method, path, qs, None, template, h)
            h.close_connection = True
            return
        if not self._authorized(h):  # before reading the body: keyless bodies are never held
            h.close_connection = True  # the body is left unread
            return self._answer_error(h, method, path, qs, template, ApiError(
                401, "unauthorized", "Missing or invalid API key: send 'Authorization: "
                "Bearer <key>'", {"WWW-Authenticate": 'Bearer realm="Civis API"'}))
        try:
            body = self._read_body(h)
        except ValueError as e:
            h.close_connection = True
            return self._answer_error(h, method, path, qs, template,
                                      ApiError(400, "bad_request", str(e)))
        self.faults.wait_gathered(method, path, template)
        latency = self.faults.latency
        if latency > 0:
            self._stopping.wait(latency)
        if fault is not None:
            if fault.kind in ANSWERS and not fault.handled:
                return self._answer_fault(h, method, path, qs, template, fault)
            if fault.kind == "slow":
                self._stopping.wait(fault.delay if fault.delay is not None
                                    else self.faults.read_delay)
        if endpoints and method == "GET":
            status, payload, headers, ctype = self._endpoints(h)
        elif error is not None:
            return self._answer_error(h, method, path, qs, template, error)
        else:
            query = parse_qs(qs, keep_blank_values=True) if qs else {}
            try:
                with self._lock:
                    reply = self._store.handle(route, params, query, body)
                    payload = (b"" if reply.body is None else
                               json.dumps(reply.body, separators=(",", ":")).encode())
            except ApiError as e:
                return self._answer_error(h, method, path, qs, template, e)
            except Exception:  # a bug: answer 500 rather than drop the connection
                log.exception("error handling %s %s", method, path)
                return self._answer_error(h, method, path, qs, template, ApiError(
                    500, "internal_error", "The local API failed to handle this request"))
            status, headers = reply.status, reply.headers or {}
            ctype = _JSON if reply.body is not None else "text/plain; charset=utf-8"
        if fault is not None and fault.kind in ANSWERS:   # handled: the effect stays
            return self._answer_fault(h, method, path, qs, template, fault)
        self._record(method, path, qs, status, template, h)
        kind = fault.kind if fault is not None else None
        if kind in CUTS and not payload:   # an empty answer cannot be cut: cut a stand-in
            payload, ctype = CUT_FILLER, _JSON
        if kind == "truncate":
            payload = payload[:len(payload) // 2]
        elif kind in ("drop_body", "reset_body"):
            h.close_connection = True
            self.write_answer(h, status, payload, headers, ctype, cut=len(payload) // 2)
            return reset_connection(h.connection) if kind == "reset_body" else None
        elif kind in ("reset", "hold"):
            h.close_connection = True
            if kind == "hold":
                return hold_connection(h.connection, self._stopping)
            return reset_connection(h.connection)
        pace = (TRICKLE_DELAY if fault.delay is None else fault.delay) if kind == "trickle" else None
        self.write_answer(h, status, payload, headers, ctype, pace=pace)

    def _serve_storage(self, h, method, path, qs) -> None:
        """A file upload or download URL (presigned: no API key); see :mod:`._blobs`."""
        fault = self.faults.pick(method, path, None)
        if fault is not None and fault.kind in ("drop", "status"):
            self._record(method, path, qs, fault.status, None)
            h.close_connection = True
            if fault.kind == "status":
                self.write_answer(h, fault.status, b"<Error><Code>InternalError</Code><Message>"
                            b"Injected fault</Message></Error>", {}, "application/xml")
            return
        status, _ = serve_blob(self, h, method, path, qs)
        self._record(method, path, qs, status, None)

    def _read_body(self, h) -> bytes:
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks, size = [], 0
            while True:
                line = h.rfile.readline(1024)
                try:
                    n = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise ValueError("malformed chunked request body") from None
                if n < 0:  # read(-1) would read to the end, past the size limit
                    raise ValueError("malformed chunked request body")
                if n == 0:
                    while h.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                size += n
                if size > _MAX_BODY:
                    raise ValueError("request body too large")
                chunks.append(h.rfile.read(n))
                h.rfile.readline(1024)
        length = h.headers.get("Content-Length")
        if not length:
            return b""
        try:
            n = int(length)
        except ValueError:
            raise ValueError("invalid Content-Length") from None
        if n < 0 or n > _MAX_BODY:
            raise ValueError("invalid Content-Length")
        return h.rfile.read(n) if n else b""

    def _authorized(self, h) -> bool:
        header = h.headers.get("Authorization") or ""
        scheme, _, cred = header.strip().partition(" ")
        scheme = scheme.lower()
        cred = cred.strip()
        if scheme == "bearer":
            return hmac.compare_digest(cred.encode(), self._key)
        if scheme == "basic":
            try:
                decoded = base64.b64decode(cred, validate=True)
            except (binascii.Error, ValueError):
                return False
            user = decoded.partition(b":")[0]
            return hmac.compare_digest(user, self._key)
        return False

    def _endpoints(self, h):
        with self._lock:   # one schema's bytes and validators, even while one is published
            body = self.spec_bytes
            etag, modified, last_modified = self._validators
        headers = {"ETag": etag, "Last-Modified": last_modified, "Cache-Control": "no-cache"}
        inm = h.headers.get("If-None-Match")
        if inm:
            tags = [t.strip() for t in inm.split(",")]
            if "*" in tags or any(t.removeprefix("W/") == etag for t in tags):
                return 304, b"", headers, _JSON
        else:
            ims = h.headers.get("If-Modified-Since")
            if ims:
                try:
                    when = email.utils.parsedate_to_datetime(ims)
                except (TypeError, ValueError):
                    when = None
                if when is not None:
                    if when.tzinfo is None:
                        when = when.replace(tzinfo=timezone.utc)
                    if modified <= when.timestamp():
                        return 304, b"", headers, _JSON
        return 200, body, headers, _JSON

    def _answer_error(self, h, method, path, qs, template, err: ApiError) -> None:
        self._record(method, path, qs, err.status, template, h)
        self.write_answer(h, err.status, json.dumps(err.body()).encode(), err.headers, _JSON)

    def _answer_fault(self, h, method, path, qs, template, fault: Fault) -> None:
        if fault.kind == "answer":
            status = fault.status or 200
            headers = {k: v for k, v in fault.headers
                       if k.lower() not in ("content-type", "content-length")}
            ctype = next((v for k, v in fault.headers if k.lower() == "content-type"), _JSON)
            self._record(method, path, qs, status, template, h)
            return self.write_answer(h, status, fault.body, headers, ctype)
        if fault.kind == "html":
            status = fault.status or 502
            self._record(method, path, qs, status, template, h)
            return self.write_answer(h, status, _HTML_PAGE, {}, "text/html; charset=utf-8")
        status = fault.status
        headers = {}
        retry_after = fault.retry_after
        if retry_after is None and status == 429:
            retry_after = self.faults.retry_after
        if retry_after is not None:
            headers["Retry-After"] = _retry_after(retry_after, fault.http_date)
        error = {429: "rate_limited"}.get(status, "server_error" if status >= 500 else "error")
        err = ApiError(status, error, f"Injected fault: {status} {_REASONS.get(status, '')}"
                       .strip(), headers)
        self._answer_error(h, method, path, qs, template, err)

    def _record(self, method, path, qs, status, template, h=None) -> None:
        record = RequestRecord(method, path, dict(parse_qsl(qs, keep_blank_values=True))
                               if qs else {}, status, *_credential_host_headers(h))
        with self._log_lock:
            self._log.append(record)
            self._counts[(method, path, template)] += 1

    def write_answer(self, h, status, payload: bytes, headers: dict, ctype: str, cut=None,
               pace=None) -> None:
        now = time.time()
        second = int(now)
        with self._log_lock:
            if self._date[0] != second:
                self._date = (second, email.utils.formatdate(second, usegmt=True))
            minute = second // 60
            window, used = self._window
            used = used + 1 if window == minute else 1
            self._window = (minute, used)
            date = self._date[1]
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}",
                 f"Server: {h.server_version}", f"Date: {date}",
                 f"X-RateLimit-Limit: {self.rate_limit}",
                 f"X-RateLimit-Remaining: {max(0, self.rate_limit - used)}"]
        for name, value in headers.items():
            lines.append(f"{name}: {value}")
        bodyless = status in (204, 304) or status < 200
        if not bodyless:
            lines.append(f"Content-Type: {ctype}")
            lines.append(f"Content-Length: {len(payload)}")
        if h.close_connection:
            lines.append("Connection: close")
        elif h.request_version == "HTTP/1.0":
            lines.append("Connection: keep-alive")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if bodyless or h.command == "HEAD":
            payload = b""
        if cut is not None:
            payload = payload[:cut]
        try:
            if pace is not None:   # a "trickle" fault
                trickle(h.wfile.write, head + payload, pace, self._stopping)
            else:
                h.wfile.write(head + payload)
            if cut is not None:
                h.wfile.flush()
        except OSError:
            h.close_connection = True
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s -> %s", h.command, h.path.partition("?")[0], status)


def _credential_host_headers(h) -> tuple:
    """The :attr:`RequestRecord.auth`, ``host`` and ``headers`` of the request ``h`` handles."""
    if h is None:
        return None, None, None
    scheme, _, credential = (h.headers.get("Authorization") or "").strip().partition(" ")
    headers = CaseInsensitiveDict(
        (k, v) for k, v in h.headers.items() if k.lower() not in SECRET_HEADERS)
    return (RequestRecord.auth_of(credential, scheme) if scheme else None,
            h.headers.get("Host"), headers)


def _retry_after(value, http_date: bool) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return email.utils.format_datetime(value.astimezone(timezone.utc), usegmt=True)
    if isinstance(value, str):
        return value
    if http_date:
        return email.utils.formatdate(time.time() + float(value), usegmt=True)
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def serve(port: int = 0, spec=None, api_key=None, data_dir=None) -> None:
    """Serve a :class:`LocalCivisAPI` until interrupted (``civis-dyn serve``).

    Prints the URL and the API key, then blocks until KeyboardInterrupt.

    Parameters
    ----------
    port : int
        TCP port on 127.0.0.1; 0 picks a free one.
    spec : str or path-like, optional
        Schema file; the bundled schema by default.
    api_key : str, optional
        The key clients must send; random by default.
    data_dir : str or path-like, optional
        Keep the state across restarts here (see :class:`LocalCivisAPI`).
    """
    api = LocalCivisAPI(spec=spec, api_key=api_key, port=port, data_dir=data_dir)
    try:
        api.start()
        print(f"Local Civis API serving at {api.url.rstrip('/')}", flush=True)
        print(f"API key: {api.api_key}", flush=True)
        print("Press Ctrl+C to stop.", flush=True)
        while api._thread is not None and api._thread.is_alive():
            api._thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        api.stop()

