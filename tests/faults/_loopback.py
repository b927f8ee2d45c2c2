"""A raw-socket HTTP/1.1 server on 127.0.0.1 that misbehaves exactly as told.

``http.server`` always finishes what it starts; fault tests need to stop
anywhere: reset the connection before any byte of the answer, send the headers
and half the body then hang up, hold the answer until the client gives up,
answer broken JSON or an HTML page. :class:`LoopbackAPI` serves a tiny stateful
"things" API (the routes of the standard mini schema, ``scaffold.schemas``) and takes, per
method and path, a plan of *actions* for the next matching requests:

``None``
    Answer normally.
``int`` or ``(int, {header: value})``
    Answer that status with a JSON ``errorDescription`` (and the headers).
``"reset"``
    Read the request, then reset the connection (RST) without answering.
``"close_mid_body"`` / ``"reset_mid_body"``
    Send the status line, the headers (with the full ``Content-Length``) and
    half of the body, then close cleanly (FIN) or reset (RST).
``"hold"``
    Send nothing until the client closes the connection (its read timeout).
``"truncate"``
    Answer 200 with only the first half of the JSON (a matching length).
``"html"``
    Answer 502 with an HTML page, as a proxy in front of the API would.

Like a real API behind a load balancer, the server *acts* (creates, updates,
deletes) before misbehaving, except for 401, 429 and 503, which are answered
before the request reaches the application. Counting what it did shows whether
a retry duplicated an action.
"""

import json
import re
import socket
import struct
import threading
from collections import deque
from urllib.parse import parse_qsl, urlsplit

__all__ = ["LoopbackAPI", "Request"]

NOT_ACTED_STATUSES = frozenset({401, 429, 503})
REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 302: "Found",
           400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}
HTML_PAGE = (b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
             b"<body><h1>502 Bad Gateway</h1><p>The upstream server is unavailable.</p>"
             b"<hr><address>nginx</address></body></html>")
FILLER = b'{"id": 1, "state": "cancelled", "note": "an answer long enough to cut"}'
_THING = re.compile(r"^/things/(\d+)$")
_RUN = re.compile(r"^/things/(\d+)/runs/(\d+)$")


class Request:
    """One request as the server read it (``target`` may be absolute: proxy form)."""

    __slots__ = ("method", "target", "path", "query", "headers", "body")

    def __init__(self, method, target, headers, body):
        self.method = method
        self.target = target
        parts = urlsplit(target)
        self.path = parts.path
        self.query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body) if self.body else None

    def __repr__(self):
        return f"<Request {self.method} {self.target}>"


class LoopbackAPI:
    """The server. Use as a context manager; it listens on an ephemeral port.

    Parameters
    ----------
    api_key : str
        The only key accepted (``Authorization: Bearer <key>``); others get 401.
    items : int
        Things in the store at start (ids 1..items), for lists and pages.
    """

    def __init__(self, api_key, items=7):
        self.api_key = api_key
        self._lock = threading.Lock()
        self._plans = {}              # (method, path, page) -> deque of actions
        self._redirects = {}          # path -> Location
        self.requests = []            # every Request read, in order
        self.connections = 0
        self.faults_injected = 0
        self.things = {i: {"id": i, "name": f"thing {i}", "fromTemplateId": 0}
                       for i in range(1, items + 1)}
        self.creations = []           # names created by POST /things/, in order
        self.patches = []             # (id, body) applied by PATCH /things/{id}
        self.puts = []
        self.deletions = []
        self.schema = None            # bytes served at GET /endpoints, when set
        self._next_id = items + 1
        self._stopping = threading.Event()
        self._sockets = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._accept_loop, daemon=True,
                                        name="loopback-api")
        self._thread.start()

    # -- control ---------------------------------------------------------------
    @property
    def url(self):
        """``http://127.0.0.1:<port>/``."""
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/"

    @property
    def proxy_url(self):
        """The same server, used as an HTTP proxy (it accepts absolute targets)."""
        return self.url.rstrip("/")

    def plan(self, method, path, *actions, page=None):
        """Queue ``actions`` for the next ``method path`` requests (of page ``page``)."""
        with self._lock:
            self._plans.setdefault((method, path, page), deque()).extend(actions)

    def redirect(self, path, location):
        """Answer every request for ``path`` with ``302 Location: location``."""
        with self._lock:
            self._redirects[path] = location

    def count(self, method=None, path=None):
        """Requests read so far, optionally of one method and path."""
        with self._lock:
            return sum(1 for r in self.requests
                       if (method is None or r.method == method) and (path is None or r.path == path))

    def close(self):
        """Stop accepting, unblock held answers and close every connection."""
        self._stopping.set()
        try:
            _shutdown(self._listener)   # wakes the blocked accept() (close alone does not)
            self._listener.close()
        finally:
            with self._lock:
                sockets = list(self._sockets)
            for sock in sockets:
                _shutdown(sock)
            self._thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- serving ---------------------------------------------------------------
    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._sockets.add(sock)
            threading.Thread(target=self._serve_connection, args=(sock,), daemon=True).start()

    def _serve_connection(self, sock):
        reader = sock.makefile("rb")
        try:
            while not self._stopping.is_set():
                request = _read_request(reader)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                    action = self._next_action(request)
                keep_open = self._answer(sock, request, action)
                if not keep_open or request.headers.get("connection", "").lower() == "close":
                    return
        except OSError:
            return
        finally:
            reader.close()
            with self._lock:
                self._sockets.discard(sock)
            sock.close()

    def _next_action(self, request):
        for page in (request.query.get("page_num"), None):
            queue = self._plans.get((request.method, request.path, page))
            if queue:
                action = queue.popleft()
                if action is not None:
                    self.faults_injected += 1
                return action
        return None

    def _answer(self, sock, request, action):
        """Answer one request; return False when the connection must end."""
        status, headers = None, {}
        if isinstance(action, int):
            status = action
        elif isinstance(action, tuple):
            status, headers = action
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            _send(sock, 401, {"errorDescription": "Invalid API key"})
            return True
        if status in NOT_ACTED_STATUSES:
            _send(sock, status, {"errorDescription": f"status {status}"}, headers)
            return True
        with self._lock:
            location = self._redirects.get(request.path)
        if location is not None:
            _send(sock, 302, b"", {"Location": location})
            return True
        code, body, extra = self._act(request)      # the application acts
        if status is not None:
            _send(sock, status, {"errorDescription": f"status {status}"}, headers)
            return True
        if action is None:
            _send(sock, code, body, extra)
            return True
        data = _encode(body)
        if action == "reset":
            _reset(sock)
            return False
        if action in ("close_mid_body", "reset_mid_body"):
            data = data or FILLER
            sock.sendall(_head(code if code != 204 else 200, len(data), extra) + data[: len(data) // 2])
            if action == "reset_mid_body":
                _reset(sock)
            else:
                sock.shutdown(socket.SHUT_WR)
            return False
        if action == "hold":
            self._wait_for_client_to_leave(sock)
            return False
        if action == "truncate":
            data = data or FILLER
            _send(sock, 200, data[: len(data) // 2], extra)
            return True
        if action == "html":
            _send(sock, 502, HTML_PAGE, {"Content-Type": "text/html"})
            return True
        raise ValueError(f"unknown action {action!r}")

    def _wait_for_client_to_leave(self, sock):
        """Block until the client closes (its read timeout fired) or the server stops."""
        sock.settimeout(30)
        try:
            while sock.recv(4096):
                pass
        except OSError:
            pass

    # -- the application -------------------------------------------------------
    def _act(self, request):
        """Apply a request to the store; return ``(status, body, headers)``."""
        method, path = request.method, request.path
        with self._lock:
            if path == "/endpoints" and method == "GET" and self.schema is not None:
                return 200, self.schema, {}
            if path == "/things/" and method == "GET":
                return self._list(request)
            if path == "/things/" and method == "POST":
                body = request.json() or {}
                thing = {"id": self._next_id, "name": body.get("name"),
                         "fromTemplateId": body.get("fromTemplateId")}
                self._next_id += 1
                self.things[thing["id"]] = thing
                self.creations.append(thing["name"])
                return 200, thing, {}
            match = _THING.match(path)
            if match:
                thing = self.things.get(int(match.group(1)))
                if thing is None:
                    return 404, {"errorDescription": "The requested resource could not be found"}, {}
                if method == "GET":
                    return 200, thing, {}
                if method in ("PUT", "PATCH"):
                    body = request.json() or {}
                    (self.puts if method == "PUT" else self.patches).append((thing["id"], body))
                    thing.update(body)
                    return 200, thing, {}
            match = _RUN.match(path)
            if match and method == "DELETE":
                self.deletions.append((int(match.group(1)), int(match.group(2))))
                return 204, b"", {}
        return 404, {"errorDescription": "not found"}, {}

    def _list(self, request):
        limit = int(request.query.get("limit", 3))
        page = int(request.query.get("page_num", 1))
        items = sorted(self.things.values(), key=lambda t: t["id"])
        pages = -(-len(items) // limit)
        return 200, items[(page - 1) * limit: page * limit], {
            "X-Pagination-Total-Pages": str(pages), "X-Pagination-Per-Page": str(limit)}


# -- wire helpers ------------------------------------------------------------------
def _read_request(reader):
    line = reader.readline(65537)
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers = {}
    while True:
        line = reader.readline(65537)
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    body = reader.read(length) if length else b""
    return Request(method, target, headers, body)


def _encode(body):
    if isinstance(body, bytes):
        return body
    return json.dumps(body).encode()


def _head(status, length, headers):
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}",
             f"Content-Length: {length}"]
    if not any(k.lower() == "content-type" for k in headers):
        lines.append("Content-Type: application/json")
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _send(sock, status, body, headers=None):
    data = _encode(body)
    sock.sendall(_head(status, len(data), headers or {}) + data)


def _reset(sock):
    """Close with RST (SO_LINGER 0): the peer gets ECONNRESET, not a clean end."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _shutdown(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
